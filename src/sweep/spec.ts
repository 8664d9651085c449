/**
 * Sweep specifications: a command, base flags, and axes (a grid, paired "zip" axes,
 * random draws) that expand to a deterministic list of jobs, each identified by a
 * content hash. Browser-safe: no node imports, so the lab can preview a sweep.
 */
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { VERSION } from '../version.js';
import { sha256Hex } from './sha256.js';

/** A flag value as it appears on the command line (`false` means "flag absent"). */
export type FlagValue = string | number | boolean;

/** Flags by their command-line name without the dashes, e.g. `{ hidden: 16, 'weight-decay': 0.001 }`. */
export type Flags = Readonly<Record<string, FlagValue>>;

/** A distribution for one random-search axis. */
export type Distribution =
  | { readonly uniform: readonly [number, number] }
  | { readonly 'log-uniform': readonly [number, number] }
  | { readonly 'int-uniform': readonly [number, number] }
  | { readonly choice: readonly FlagValue[] };

/** Random search: `count` draws of every axis from a generator seeded with `seed`. */
export interface RandomSpec {
  readonly count: number;
  readonly seed: number;
  readonly axes: Readonly<Record<string, Distribution>>;
}

/** A validated sweep specification. */
export interface SweepSpec {
  /** One of {@link SWEEP_COMMANDS}, e.g. `'rbm train'`. */
  readonly command: string;
  /** Flags every job gets. */
  readonly base: Flags;
  /** Cartesian-product axes (the first key varies slowest). */
  readonly grid: Readonly<Record<string, readonly FlagValue[]>>;
  /** Axes that vary together: the i-th job takes the i-th value of each (equal lengths). */
  readonly zip: Readonly<Record<string, readonly FlagValue[]>>;
  /** Random-search axes, crossed with the grid and the zip. */
  readonly random: RandomSpec | null;
}

/** One unit of work: a command and its fully resolved flags. */
export interface SweepJob {
  /** SHA-256 (hex) of the command, the canonical JSON of `flags`, and the genphys version. */
  readonly id: string;
  /** Position in the expanded sweep (0-based), for display only. */
  readonly index: number;
  readonly command: string;
  /** Every flag the job passes (base and axes), `false` booleans dropped. */
  readonly flags: Flags;
  /** Only the values that came from an axis, for reports. */
  readonly axes: Flags;
}

/** How the worker treats each command a sweep may run. */
export interface SweepCommand {
  /** The command takes `--resume` to continue a run directory from its checkpoint. */
  readonly resumable: boolean;
}

/** The commands a sweep may run (an allow-list: a spec cannot name anything else). */
export const SWEEP_COMMANDS: Readonly<Record<string, SweepCommand>> = Object.freeze({
  'rbm train': { resumable: true },
  'vae train': { resumable: true },
  'ising sample': { resumable: false },
  'ising rbm': { resumable: false },
});

/** Flags the worker sets itself, so a spec may not. */
const RESERVED = new Set(['out', 'resume', 'help', 'version']);
const FLAG_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const TOP_KEYS = new Set(['command', 'base', 'grid', 'zip', 'random']);
const DISTRIBUTIONS = ['uniform', 'log-uniform', 'int-uniform', 'choice'] as const;

function fail(where: string, path: string, problem: string): never {
  throw new UsageError(`${where}: ${path}: ${problem}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function checkValue(where: string, path: string, v: unknown): FlagValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(where, path, `must be a finite number, got ${v}`);
    return v;
  }
  return fail(where, path, `must be a string, number or boolean, got ${typeName(v)}`);
}

function checkFlagName(where: string, path: string, name: string): void {
  if (!FLAG_NAME.test(name)) fail(where, path, `'${name}' is not a flag name (kebab-case without dashes in front, e.g. 'weight-decay')`);
  if (RESERVED.has(name)) fail(where, path, `'--${name}' is set by the sweep runner, not by the spec`);
}

function checkAxes(where: string, key: 'grid' | 'zip', v: unknown): Record<string, FlagValue[]> {
  if (v === undefined) return {};
  if (!isRecord(v)) fail(where, key, `must be an object of axis name → list of values, got ${typeName(v)}`);
  const out: Record<string, FlagValue[]> = {};
  for (const [name, values] of Object.entries(v)) {
    const path = `${key}.${name}`;
    checkFlagName(where, path, name);
    if (!Array.isArray(values)) fail(where, path, `must be a list of values, got ${typeName(values)}`);
    if (values.length === 0) fail(where, path, 'is an empty axis (give at least one value)');
    const seen = new Set<string>();
    out[name] = values.map((x, i) => {
      const val = checkValue(where, `${path}[${i}]`, x);
      const k = JSON.stringify(val);
      if (seen.has(k)) fail(where, `${path}[${i}]`, `repeats the value ${k}`);
      seen.add(k);
      return val;
    });
  }
  return out;
}

function checkInt(where: string, path: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(where, path, `must be an integer, got ${typeName(v) === 'a number' ? v : typeName(v)}`);
  if (v < min) fail(where, path, `must be ≥ ${min}, got ${v}`);
  return v;
}

function checkPair(where: string, path: string, v: unknown, kind: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number' || typeof v[1] !== 'number' || !Number.isFinite(v[0]) || !Number.isFinite(v[1]))
    fail(where, path, `must be [low, high] with two finite numbers`);
  const [lo, hi] = v as [number, number];
  if (!(lo <= hi)) fail(where, path, `needs low ≤ high, got [${lo}, ${hi}]`);
  if (kind === 'log-uniform' && !(lo > 0)) fail(where, path, `needs 0 < low for a log-uniform axis, got ${lo}`);
  if (kind === 'int-uniform' && !(Number.isInteger(lo) && Number.isInteger(hi))) fail(where, path, `needs integer bounds, got [${lo}, ${hi}]`);
  return [lo, hi];
}

function checkRandom(where: string, v: unknown): RandomSpec | null {
  // null is what a parsed spec holds, so a spec read back from sweep.json parses again.
  if (v === undefined || v === null) return null;
  if (!isRecord(v)) fail(where, 'random', `must be an object {count, seed, axes}, got ${typeName(v)}`);
  for (const k of Object.keys(v)) if (!['count', 'seed', 'axes'].includes(k)) fail(where, `random.${k}`, 'unknown key (expected count, seed, axes)');
  const count = checkInt(where, 'random.count', v.count, 1);
  const seed = checkInt(where, 'random.seed', v.seed, 0);
  if (!isRecord(v.axes)) fail(where, 'random.axes', `must be an object of axis name → distribution, got ${typeName(v.axes)}`);
  if (Object.keys(v.axes).length === 0) fail(where, 'random.axes', 'is empty (give at least one axis)');
  const axes: Record<string, Distribution> = {};
  for (const [name, d] of Object.entries(v.axes)) {
    const path = `random.axes.${name}`;
    checkFlagName(where, path, name);
    if (!isRecord(d) || Object.keys(d).length !== 1) fail(where, path, `must be one of {"uniform": [a, b]}, {"log-uniform": [a, b]}, {"int-uniform": [a, b]}, {"choice": [...]}`);
    const kind = Object.keys(d)[0]!;
    if (!(DISTRIBUTIONS as readonly string[]).includes(kind)) fail(where, `${path}.${kind}`, `unknown distribution (expected ${DISTRIBUTIONS.join(', ')})`);
    if (kind === 'choice') {
      const c = d.choice;
      if (!Array.isArray(c) || c.length === 0) fail(where, `${path}.choice`, 'must be a non-empty list of values');
      axes[name] = { choice: c.map((x, i) => checkValue(where, `${path}.choice[${i}]`, x)) };
    } else {
      axes[name] = { [kind]: checkPair(where, `${path}.${kind}`, d[kind], kind) } as unknown as Distribution;
    }
  }
  return { count, seed, axes };
}

/**
 * Validate a parsed sweep spec (e.g. `JSON.parse` of a spec file) and return a fresh,
 * normalised copy (the input is not modified). Every problem is a one-line
 * {@link UsageError} naming the key path, prefixed with `where` (a file name, say).
 */
export function parseSweepSpec(value: unknown, where: string = 'sweep spec'): SweepSpec {
  if (!isRecord(value)) fail(where, '(top level)', `must be a JSON object, got ${typeName(value)}`);
  for (const k of Object.keys(value)) if (!TOP_KEYS.has(k)) fail(where, k, `unknown key (expected ${[...TOP_KEYS].join(', ')})`);
  const command = value.command;
  if (typeof command !== 'string') fail(where, 'command', `must be a string, got ${typeName(command)}`);
  const words = command.trim().split(/\s+/).join(' ');
  if (!Object.hasOwn(SWEEP_COMMANDS, words)) fail(where, 'command', `'${command}' is not a sweep command (allowed: ${Object.keys(SWEEP_COMMANDS).join(', ')})`);
  const base: Record<string, FlagValue> = {};
  if (value.base !== undefined) {
    if (!isRecord(value.base)) fail(where, 'base', `must be an object of flag → value, got ${typeName(value.base)}`);
    for (const [k, v] of Object.entries(value.base)) {
      checkFlagName(where, `base.${k}`, k);
      base[k] = checkValue(where, `base.${k}`, v);
    }
  }
  const grid = checkAxes(where, 'grid', value.grid);
  const zip = checkAxes(where, 'zip', value.zip);
  const zipLengths = Object.entries(zip);
  if (zipLengths.length > 0) {
    const [k0, v0] = zipLengths[0]!;
    for (const [k, v] of zipLengths) if (v.length !== v0.length) fail(where, `zip.${k}`, `has ${v.length} values but zip.${k0} has ${v0.length} (zip axes need equal lengths)`);
  }
  const random = checkRandom(where, value.random);
  // A flag set in two places would silently shadow one of them.
  const owner = new Map<string, string>(Object.keys(base).map((k) => [k, 'base']));
  const sections: Array<[string, string[]]> = [
    ['grid', Object.keys(grid)],
    ['zip', Object.keys(zip)],
    ['random.axes', Object.keys(random?.axes ?? {})],
  ];
  for (const [section, keys] of sections) {
    for (const k of keys) {
      const prev = owner.get(k);
      if (prev) fail(where, `${section}.${k}`, `is also set in ${prev}`);
      owner.set(k, section);
    }
  }
  return { command: words, base, grid, zip, random };
}

/** JSON with object keys sorted at every level, so equal values give equal strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The job id: SHA-256 hex of `[command, canonical flags, version]`. */
export function jobId(command: string, flags: Flags, version: string = VERSION): string {
  return sha256Hex(`[${JSON.stringify(command)},${canonicalJson(flags)},${JSON.stringify(version)}]`);
}

/** The sweep id: SHA-256 hex of its sorted job ids (order-free, so a reordered spec is the same sweep). */
export function sweepId(jobs: readonly SweepJob[]): string {
  return sha256Hex(jobs.map((j) => j.id).sort().join('\n'));
}

function drawValue(d: Distribution, rng: Rng): FlagValue {
  if ('uniform' in d) return d.uniform[0] + (d.uniform[1] - d.uniform[0]) * rng.uniform();
  if ('log-uniform' in d) {
    // Log-uniform draws spread trials evenly over orders of magnitude (Bergstra & Bengio 2012, JMLR 13:281).
    const [a, b] = d['log-uniform'];
    return Math.exp(Math.log(a) + (Math.log(b) - Math.log(a)) * rng.uniform());
  }
  if ('int-uniform' in d) return d['int-uniform'][0] + rng.int(d['int-uniform'][1] - d['int-uniform'][0] + 1);
  return d.choice[rng.int(d.choice.length)]!;
}

/**
 * Expand a spec into its jobs, deterministically: grid points (first axis slowest) ×
 * zip positions × random draws (fastest). Random draws come from `Rng(random.seed)`,
 * axis by axis in spec order, so the same spec always gives the same jobs. Jobs that
 * resolve to the same flags (possible with random choices) appear once.
 */
export function expandSweep(spec: SweepSpec): SweepJob[] {
  const factors: Array<Array<Record<string, FlagValue>>> = [];
  for (const [name, values] of Object.entries(spec.grid)) factors.push(values.map((v) => ({ [name]: v })));
  const zipKeys = Object.keys(spec.zip);
  if (zipKeys.length > 0) {
    const n = spec.zip[zipKeys[0]!]!.length;
    factors.push(Array.from({ length: n }, (_, i) => Object.fromEntries(zipKeys.map((k) => [k, spec.zip[k]![i]!]))));
  }
  if (spec.random) {
    const rng = new Rng(spec.random.seed);
    const draws: Array<Record<string, FlagValue>> = [];
    for (let i = 0; i < spec.random.count; i++) {
      const d: Record<string, FlagValue> = {};
      for (const [name, dist] of Object.entries(spec.random.axes)) d[name] = drawValue(dist, rng);
      draws.push(d);
    }
    factors.push(draws);
  }
  let points: Array<Record<string, FlagValue>> = [{}];
  for (const f of factors) points = points.flatMap((p) => f.map((q) => ({ ...p, ...q })));
  const jobs: SweepJob[] = [];
  const seen = new Set<string>();
  for (const axes of points) {
    const flags: Record<string, FlagValue> = {};
    for (const [k, v] of Object.entries({ ...spec.base, ...axes })) if (v !== false) flags[k] = v;
    const id = jobId(spec.command, flags);
    if (seen.has(id)) continue;
    seen.add(id);
    jobs.push(Object.freeze({ id, index: jobs.length, command: spec.command, flags: Object.freeze(flags), axes: Object.freeze({ ...axes }) }));
  }
  return jobs;
}

/**
 * The argument vector after `node bin.js` for one job: command words, `--flag value`
 * pairs (a `true` boolean is a bare `--flag`), `--out runDir`, and `--resume` when asked.
 */
export function jobArgv(job: SweepJob, runDir: string, resume: boolean): string[] {
  const argv = job.command.split(' ');
  for (const [k, v] of Object.entries(job.flags)) {
    if (v === true) argv.push(`--${k}`);
    else if (v !== false) argv.push(`--${k}`, String(v));
  }
  argv.push('--out', runDir);
  if (resume) argv.push('--resume');
  return argv;
}
