/**
 * Shared command-line plumbing: typed option parsers that reject bad values
 * with one-line messages, global options, progress bars, run directories.
 * No modelling logic lives here (or anywhere in src/cli).
 */
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';

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
export interface Progress {
  /** Advance by `n` (default 1) and optionally update the trailing status text. */
  tick(n?: number, status?: string): void;
  /** Finish and remove the bar. */
  stop(): void;
}

/**
 * A progress bar for work of `total` units, drawn on stderr only when stderr is a
 * TTY and not `quiet` (so logs and pipes stay clean).
 */
export function progress(total: number, label: string, quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY) return { tick() {}, stop() {} };
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
    stop() {
      bar.stop();
    },
  };
}

/** Printer that respects --quiet. */
export function logger(quiet: boolean): (msg: string) => void {
  return quiet ? () => {} : (msg: string) => process.stdout.write(msg + '\n');
}

/**
 * Create a run directory and save the resolved configuration in it as
 * `config.json`; prints the configuration unless quiet. Returns the directory.
 */
export function startRun(dir: string, config: Record<string, unknown>, quiet: boolean): string {
  mkdirSync(dir, { recursive: true });
  writeJsonAtomic(join(dir, 'config.json'), config);
  if (!quiet) process.stdout.write(`config: ${JSON.stringify(config)}\n`);
  return dir;
}
