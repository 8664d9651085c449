/**
 * The shared-directory sweep store (node-only): every job's run directory is
 * `<root>/<jobId>`, so any machine that mounts the same file system can resume it.
 * Bookkeeping that must not sit inside a run directory (which the command may refuse
 * to start in) lives in `<root>/.sweep/`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataFormatError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { parseSweepSpec, type SweepSpec } from './spec.js';
import type { JobFailure, JobResult, RunningMarker, SweepManifest, SweepStore } from './store.js';

/** File names inside a run directory that count as a resumable checkpoint. */
export const CHECKPOINT_FILES: readonly string[] = ['checkpoint.json', 'checkpoint.safetensors'];

const ID = /^[0-9a-f]{64}$/;

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new DataFormatError(path, `invalid JSON (${(err as Error).message})`);
  }
}

/** Read and validate a JSON sweep spec file; errors name the file and the key path. */
export function readSweepSpec(path: string): SweepSpec {
  if (!existsSync(path)) throw new DataFormatError(path, 'no such file');
  const value = readJson<unknown>(path);
  return parseSweepSpec(value, path);
}

/** A {@link SweepStore} on a (possibly network-mounted) directory. */
export class DirStore implements SweepStore {
  /** Absolute root directory of the sweep. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  private dir(id: string): string {
    // Ids become path components; anything but a hash could escape the root.
    if (!ID.test(id)) throw new DataFormatError(this.root, `'${id}' is not a job id (64 hex digits)`);
    return join(this.root, id);
  }

  private meta(id: string, suffix: string): string {
    this.dir(id);
    return join(this.root, '.sweep', `${id}.${suffix}`);
  }

  runDir(id: string): string {
    return this.dir(id);
  }

  async hasCheckpoint(id: string): Promise<boolean> {
    const d = this.dir(id);
    return CHECKPOINT_FILES.some((f) => existsSync(join(d, f)));
  }

  async clearRun(id: string): Promise<void> {
    rmSync(this.dir(id), { recursive: true, force: true });
  }

  async readResult(id: string): Promise<JobResult | null> {
    return readJson<JobResult>(join(this.dir(id), 'result.json'));
  }

  async writeResult(result: JobResult): Promise<void> {
    writeJsonAtomic(join(this.dir(result.id), 'result.json'), result);
  }

  async readFailure(id: string): Promise<JobFailure | null> {
    return readJson<JobFailure>(this.meta(id, 'failed.json'));
  }

  async writeFailure(failure: JobFailure): Promise<void> {
    writeJsonAtomic(this.meta(failure.id, 'failed.json'), failure);
  }

  async clearFailure(id: string): Promise<void> {
    rmSync(this.meta(id, 'failed.json'), { force: true });
  }

  async readRunning(id: string): Promise<RunningMarker | null> {
    return readJson<RunningMarker>(this.meta(id, 'running.json'));
  }

  async writeRunning(marker: RunningMarker): Promise<void> {
    writeJsonAtomic(this.meta(marker.id, 'running.json'), marker);
  }

  async clearRunning(id: string): Promise<void> {
    rmSync(this.meta(id, 'running.json'), { force: true });
  }

  async finalMetrics(id: string): Promise<Record<string, unknown> | null> {
    const p = join(this.dir(id), 'metrics.jsonl');
    if (!existsSync(p)) return null;
    const lines = readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '');
    // A line cut short by a crash is not the final metrics; take the last complete one.
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const v = JSON.parse(lines[i]!) as unknown;
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        continue;
      }
    }
    return null;
  }

  async readManifest(): Promise<SweepManifest | null> {
    return readJson<SweepManifest>(join(this.root, 'sweep.json'));
  }

  async writeManifest(manifest: SweepManifest): Promise<void> {
    writeJsonAtomic(join(this.root, 'sweep.json'), manifest);
  }

  async writeArtifact(name: string, text: string): Promise<void> {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new DataFormatError(name, 'not a plain file name for a sweep artifact');
    writeFileAtomic(join(this.root, name), text);
  }

  async logEvent(event: Record<string, unknown>): Promise<void> {
    mkdirSync(this.root, { recursive: true });
    // One short write with O_APPEND: lines from several workers do not interleave.
    appendFileSync(join(this.root, 'events.jsonl'), JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n');
  }

  logPath(id: string): string {
    return this.meta(id, 'log');
  }
}
