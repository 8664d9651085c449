/**
 * The run directory: `config.json` (the fully resolved configuration), `metrics.jsonl`
 * (one JSON line per epoch), checkpoints (`checkpoint.json` + its weights) and
 * artifacts (grids, curves, tables).
 *
 * Opening is two-phase. {@link prepareRun} checks everything — the path, whether a run
 * is already there, and on resume that the stored run is of the same command and that
 * no flag the user gave conflicts with it — and writes nothing. The caller then does
 * its own checks (data, model) and calls {@link PreparedRun.commit}, which is the first
 * write. An existing run is touched only with `resume` or `force`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { cleanCheckpointDir } from '../io/checkpoint.js';
import { checkOutputDir } from './paths.js';

/** File names inside a run directory. */
export const RUN_FILES = { config: 'config.json', metrics: 'metrics.jsonl', checkpoint: 'checkpoint' } as const;

/** What to open. */
export interface RunSpec {
  /** The run directory. */
  readonly dir: string;
  /** The command that trains it, e.g. 'rbm train'; a resume must be of the same command. */
  readonly command: string;
  /** Continue the run in `dir`. */
  readonly resume?: boolean;
  /** Replace the run in `dir`. */
  readonly force?: boolean;
  /** Flag that named the directory, for messages (default '--out'). */
  readonly flag?: string;
}

/** A stored configuration read back for a resume. */
export type StoredConfig = Readonly<Record<string, unknown>>;

/** Read and validate `<dir>/config.json` (a JSON object with a `command`). */
export function readRunConfig(dir: string): StoredConfig {
  const p = join(dir, RUN_FILES.config);
  if (!existsSync(p)) throw new RunError(`${dir}: not a run directory (no config.json)`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw new RunError(`${p}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new RunError(`${p}: expected a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`);
  return doc as StoredConfig;
}

/** Value at a dotted path of a nested object (undefined when absent). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const show = (v: unknown): string => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Flags the user gave on a resume that disagree with the stored run: each is an error
 * naming the flag and both values.
 * @param given - flag → [dotted path in the config, the value the flag resolves to]
 * @throws RunError on the first conflict
 */
export function checkResumeFlags(dir: string, stored: StoredConfig, given: Readonly<Record<string, readonly [string, unknown]>>): void {
  for (const [flag, [path, value]] of Object.entries(given)) {
    const was = getPath(stored, path);
    if (JSON.stringify(was) !== JSON.stringify(value)) {
      throw new RunError(`--resume: ${flag} ${show(value)} conflicts with the run in ${dir}, which was started with ${flag} ${show(was)}; drop the flag or train into a new --out`);
    }
  }
}

/** A run whose checks passed; nothing has been written yet. */
export interface PreparedRun {
  readonly dir: string;
  readonly resumed: boolean;
  /** The stored configuration (resume only). */
  readonly stored: StoredConfig | null;
  /**
   * Create (or, with force, replace) the directory and write `config`; on resume, clean
   * what killed saves left behind, write `config` (the stored one, updated) and cut
   * `metrics.jsonl` back to the checkpoint's epoch.
   */
  commit(config: Readonly<Record<string, unknown>>, checkpointEpoch?: number): RunDir;
}

/**
 * Check that `spec.dir` can be used as asked. Writes nothing.
 * @throws RunError (one line) when the path is bad, when a run exists and neither
 *   resume nor force was given, when resume finds no run or a run of another command,
 *   or when force would delete a directory that is not a genphys run
 */
export function prepareRun(spec: RunSpec): PreparedRun {
  const flag = spec.flag ?? '--out';
  if (spec.resume && spec.force) throw new RunError('--resume and --force cannot be combined');
  const dir = checkOutputDir(spec.dir, flag);
  const exists = existsSync(dir);
  // Temporary files of an atomic write killed half-way (`.<file>.<pid>.<time>.tmp`) do not make a directory a run:
  // a kill between mkdir and the first config.json must not leave a directory nothing can start in.
  const entries = exists ? readdirSync(dir).filter((f) => !/^\..+\.\d+\.\d+\.tmp$/.test(f)) : [];
  let stored: StoredConfig | null = null;
  if (spec.resume) {
    if (!exists) throw new RunError(`--resume: ${spec.dir} does not exist`);
    stored = readRunConfig(spec.dir);
    if (stored.command !== spec.command) throw new RunError(`--resume: ${spec.dir} is a '${show(stored.command)}' run, not '${spec.command}'`);
  } else if (entries.length > 0) {
    if (!spec.force) throw new RunError(`${flag}: ${spec.dir} already exists and is not empty; pass --resume to continue the run in it or --force to replace it`);
    if (!entries.includes(RUN_FILES.config) && !entries.includes('manifest.json')) throw new RunError(`--force: ${spec.dir} is not a genphys run directory (no config.json); refusing to delete it`);
  }
  return {
    dir: spec.dir,
    resumed: spec.resume === true,
    stored,
    commit(config, checkpointEpoch) {
      if (!spec.resume && entries.length > 0) rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      cleanCheckpointDir(dir);
      const run = new RunDir(spec.dir);
      if (spec.resume) {
        cleanCheckpointDir(dir);
        run.truncateMetrics(checkpointEpoch ?? Infinity);
      }
      writeJsonAtomic(join(dir, RUN_FILES.config), config);
      return run;
    },
  };
}

/** An open run directory. */
export class RunDir {
  constructor(readonly dir: string) {}

  /** Path of an artifact or file in the run. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Append one epoch's metrics as a JSON line. */
  appendMetrics(row: Readonly<Record<string, unknown>>): void {
    appendFileSync(this.path(RUN_FILES.metrics), JSON.stringify(row) + '\n');
  }

  /** The metrics lines so far (a torn last line, from a kill mid-append, is dropped). */
  readMetrics(): Record<string, unknown>[] {
    const p = this.path(RUN_FILES.metrics);
    if (!existsSync(p)) return [];
    const out: Record<string, unknown>[] = [];
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // torn line
      }
    }
    return out;
  }

  /** Keep only metrics of epochs ≤ `epoch` (what a resume from that checkpoint redoes is dropped). */
  truncateMetrics(epoch: number): void {
    const p = this.path(RUN_FILES.metrics);
    if (!existsSync(p)) return;
    const keep = this.readMetrics().filter((r) => typeof r.epoch === 'number' && r.epoch <= epoch);
    writeFileAtomic(p, keep.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

/**
 * Add an evaluation to `<dir>/eval.json` under `<method> <ISO date>`, keeping every earlier
 * one (an AIS result is never wiped by a later exact or IWAE evaluation).
 * @param result - must name its `method`; JSON-serialisable
 * @returns the key used
 * @throws RunError when an existing eval.json is not an object of evaluations
 */
export function recordEvaluation(dir: string, result: Readonly<Record<string, unknown>> & { readonly method: string }, date = new Date()): string {
  const p = join(dir, 'eval.json');
  let doc: Record<string, unknown> = {};
  if (existsSync(p)) {
    try {
      const d = JSON.parse(readFileSync(p, 'utf8')) as unknown;
      if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new Error('not an object');
      doc = d as Record<string, unknown>;
    } catch (err) {
      throw new RunError(`${p}: not a JSON object of earlier evaluations (${(err as Error).message.split('\n')[0]}); move it aside to start a new one`);
    }
  }
  let key = `${result.method} ${date.toISOString()}`;
  for (let k = 2; Object.prototype.hasOwnProperty.call(doc, key); k++) key = `${result.method} ${date.toISOString()} #${k}`;
  writeJsonAtomic(p, { ...doc, [key]: { ...result, date: date.toISOString() } });
  return key;
}

/** The evaluations stored in `<dir>/eval.json`, oldest first (empty when there are none). */
export function readEvaluations(dir: string): Array<{ key: string; result: Record<string, unknown> }> {
  const p = join(dir, 'eval.json');
  if (!existsSync(p)) return [];
  const d = JSON.parse(readFileSync(p, 'utf8')) as Record<string, Record<string, unknown>>;
  return Object.entries(d).map(([key, result]) => ({ key, result }));
}
