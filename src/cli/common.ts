/**
 * Shared command-line plumbing: typed option parsers that reject bad values
 * with one-line messages, global options, progress bars, run directories.
 * No modelling logic lives here (or anywhere in src/cli).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { RunEvent, RunListener } from '../run/events.js';
import { UsageError } from '../core/errors.js';
import cliProgress from 'cli-progress';

/** Options every command accepts (set on the root program). */
export interface GlobalOptions {
  /** Seed for every random stream of the run. */
  readonly seed: number;
  /** Forced tensor backend ('auto' lets the engine choose). */
  readonly backend: 'auto' | 'native' | 'wasm' | 'cpu';
  /** Output directory or file prefix for the command's artifacts, if given. */
  readonly out: string | undefined;
  /** Suppress progress bars and chatter. */
  readonly quiet: boolean;
}

/** Read the global options from any (sub)command. */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  return {
    seed: o.seed ?? 0,
    backend: o.backend ?? 'auto',
    out: o.out,
    quiet: o.quiet ?? false,
  };
}

/** Parser for an integer option in [min, max]. */
export function intArg(min: number, max: number = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v: string) => {
    if (!/^[-+]?\d+$/.test(v.trim())) throw new InvalidArgumentError(`expected an integer, got '${v}'.`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}, got ${n}.`);
    return n;
  };
}

/** Parser for a float option in [min, max] (bounds inclusive unless `open`). */
export function floatArg(
  min: number = -Infinity,
  max: number = Infinity,
  open: { min?: boolean; max?: boolean } = {},
): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${v}'.`);
    const lowOk = open.min ? n > min : n >= min;
    const highOk = open.max ? n < max : n <= max;
    if (!lowOk || !highOk) {
      const lo = open.min ? `> ${min}` : `≥ ${min}`;
      const hi = open.max ? `< ${max}` : `≤ ${max}`;
      throw new InvalidArgumentError(`must be ${lo} and ${hi}, got ${n}.`);
    }
    return n;
  };
}

/** Parser for one of a fixed set of strings. */
export function choiceArg<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${v}'.`);
    return v as T;
  };
}

/** A progress reporter: a bar on a TTY, silent otherwise. */
/** A duration in words: 42 s, 3.5 min, 12.1 h. */
export function formatDuration(s: number): string {
  return s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** The global options that take a value: the words after them are not the command. */
export const GLOBAL_VALUE_OPTIONS: ReadonlySet<string> = new Set(['--seed', '--backend', '--out']);

export interface Progress {
  /** Advance by `n` (default 1) and optionally update the trailing status text. */
  tick(n?: number, status?: string): void;
  /** Advance to `done` units in all (for callbacks that report a running total). */
  to(done: number): void;
  /** Finish and remove the bar. */
  stop(): void;
}

/**
 * A progress bar for work of `total` units, drawn on stderr only when stderr is a
 * TTY and not `quiet` (so logs and pipes stay clean).
 */
export function progress(total: number, label: string, quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY) return { tick() {}, to() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted} {status}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { status: '' });
  let value = 0;
  return {
    tick(n = 1, status = '') {
      value += n;
      bar.update(value, { status });
    },
    to(done) {
      value = done;
      bar.update(value);
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * Accept an old flag spelling with a one-line deprecation note on stderr: returns the
 * value of the new option, or of the old one when only that was given.
 */
export function deprecated<T>(newValue: T | undefined, oldValue: T | undefined, oldFlag: string, newFlag: string): T | undefined {
  if (oldValue === undefined) return newValue;
  if (newValue !== undefined) throw new UsageError(`${oldFlag} is the old spelling of ${newFlag}; give only ${newFlag}`);
  process.stderr.write(`genphys: note: ${oldFlag} is deprecated here; use ${newFlag}\n`);
  return oldValue;
}

/** Printer that respects --quiet. */
export function logger(quiet: boolean): (msg: string) => void {
  return quiet ? () => {} : (msg: string) => process.stdout.write(msg + '\n');
}

/**
 * The flags the user typed (not defaults), as flag → [config path, value], for the run
 * layer's resume check. `map` gives each option key its flag name and config path.
 */
export function givenFlags(
  cmd: Command,
  flags: Readonly<Record<string, unknown>>,
  map: Readonly<Record<string, readonly [flag: string, path: string]>>,
): Record<string, readonly [string, unknown]> {
  const out: Record<string, readonly [string, unknown]> = {};
  for (const [key, [flag, path]] of Object.entries(map)) {
    if (cmd.getOptionValueSource(key) === 'cli') out[flag] = [path, flags[key]];
  }
  return out;
}

const fmtMetric = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(Math.abs(v) >= 100 ? 2 : 4));

/**
 * Render run events for a terminal: a live bar on stderr (TTY only) with the latest
 * loss, one persistent line per epoch printed above the bar, and notes for checkpoints
 * on interrupt. With `quiet` nothing is printed; when stderr is not a TTY only the
 * epoch lines are.
 */
export function runRenderer(label: string, quiet: boolean, pick?: (m: Readonly<Record<string, number>>) => string, opts: { json?: boolean } = {}): { listener: RunListener; stop(): void } {
  // --json: one JSON object per line on stdout for every event but the per-batch ones.
  if (opts.json) return { listener: (e: RunEvent) => void (e.type !== 'batch' && process.stdout.write(JSON.stringify({ command: label, ...e }) + '\n')), stop() {} };
  // Warnings reach stderr even with --quiet.
  const warn = (e: RunEvent) => {
    if (e.type === 'warning') process.stderr.write(`genphys: warning: epoch ${e.epoch}: ${e.message}\n`);
  };
  if (quiet) return { listener: warn, stop() {} };
  const tty = process.stderr.isTTY === true;
  let multi: cliProgress.MultiBar | null = null;
  let bar: cliProgress.SingleBar | null = null;
  let total = 0;
  const line = (msg: string) => {
    if (multi) multi.log(msg + '\n');
    else process.stdout.write(msg + '\n');
  };
  const listener = (e: RunEvent) => {
    if (e.type === 'start') {
      total = e.epochs * e.batchesPerEpoch;
      line(`${label}: ${e.resumed ? `resuming at epoch ${e.epoch} (step ${e.step})` : 'starting'} in ${e.dir}, ${e.epochs} epochs of ${e.batchesPerEpoch} batches`);
      if (tty && e.epoch < e.epochs) {
        multi = new cliProgress.MultiBar(
          { format: `${label} [{bar}] {percentage}% | epoch {epoch}/{epochs} | eta {eta_formatted} {status}`, stream: process.stderr, clearOnComplete: true, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar = multi.create(total, e.epoch * e.batchesPerEpoch, { epoch: e.epoch + 1, epochs: e.epochs, status: '' });
      }
    } else if (e.type === 'batch') {
      bar?.update((e.epoch - 1) * e.batchesPerEpoch + e.batch, { epoch: e.epoch, status: e.loss !== undefined ? `loss ${fmtMetric(e.loss)}` : '' });
    } else if (e.type === 'epoch') {
      const text = pick ? pick(e.metrics) : Object.entries(e.metrics).filter(([k]) => k !== 'epoch' && k !== 'step').map(([k, v]) => `${k} ${fmtMetric(v)}`).join('  ');
      line(`epoch ${e.epoch}  ${text}`);
    } else if (e.type === 'warning') {
      if (multi) multi.log(`genphys: warning: epoch ${e.epoch}: ${e.message}\n`);
      else warn(e);
    } else if (e.type === 'end') {
      finish();
      bar = null;
    }
  };
  // MultiBar.log buffers lines until the next redraw, and stop() clears the bar without
  // drawing again: redraw first, or the last epochs' lines are lost.
  const finish = () => {
    if (multi) {
      multi.update();
      multi.stop();
    }
    multi = null;
  };
  return { listener, stop: finish };
}
