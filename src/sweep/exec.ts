/**
 * Running one sweep job as a child process (node-only): `node <bin.js> <command words>
 * --flag value … --out <runDir> [--resume]`, always as an argument vector, never a
 * shell string. Shared by the local pool and the queue worker.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';
import { SWEEP_COMMANDS, jobArgv, type SweepJob } from './spec.js';
import type { JobFailure, JobResult, SweepStore } from './store.js';

/** Exit codes of the run layer's contract. */
export const EXIT = Object.freeze({ done: 0, error: 1, usage: 2, interrupted: 130 });

/** How a job attempt ended. */
export type JobOutcome =
  | { readonly status: 'done'; readonly result: JobResult }
  | { readonly status: 'skipped'; readonly result: JobResult }
  | { readonly status: 'interrupted'; readonly exitCode: number | null }
  | { readonly status: 'failed'; readonly failure: JobFailure };

/** Options of {@link runJob}. */
export interface RunJobOptions {
  readonly store: SweepStore;
  /** Path of the genphys CLI entry (default: the package's bundled `dist/cli-bundle/genphys.js`). */
  readonly bin?: string;
  /** Aborting sends SIGINT (the command saves a checkpoint and exits 130), then SIGKILL after `graceMs`. */
  readonly signal?: AbortSignal;
  /** Milliseconds between SIGINT and SIGKILL on abort (default 30 000). */
  readonly graceMs?: number;
  /** Name of this worker in results and events (default `host:pid`). */
  readonly worker?: string;
  /** Attempt number, for the event log and failures (default 1). */
  readonly attempt?: number;
  /**
   * BLAS threads for the job (`GENPHYS_THREADS`), so that N concurrent jobs share the
   * cores instead of each starting a thread per core and spinning against the others.
   * Ignored when the caller's environment already sets `GENPHYS_THREADS` or
   * `OPENBLAS_NUM_THREADS`. Default: the job inherits the environment as it is.
   */
  readonly threads?: number;
}

/** BLAS threads per job when `jobs` run at once on `cores` cores: ⌊cores / jobs⌋, at least 1. */
export function threadsPerJob(cores: number, jobs: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, jobs)));
}

/** The environment of a job's process: the caller's, plus the thread count unless the caller set one. */
export function jobEnv(base: NodeJS.ProcessEnv, threads: number | undefined): NodeJS.ProcessEnv {
  if (threads === undefined || (base.GENPHYS_THREADS ?? '') !== '' || (base.OPENBLAS_NUM_THREADS ?? '') !== '') return base;
  return { ...base, GENPHYS_THREADS: String(threads) };
}

/** The default `host:pid` worker name. */
export function workerName(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * The CLI entry to spawn: the bundled `dist/cli-bundle/genphys.js` (≈ 0.1 s less start-up per
 * job than the unbundled `dist/cli/bin.js`, BENCHMARKS.md "Sweeps"), else `dist/cli/bin.js`;
 * next to this module when built, else the package's.
 */
export function defaultBin(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const base of [join(here, '..'), join(here, '..', '..', 'dist')]) {
    for (const entry of [join('cli-bundle', 'genphys.js'), join('cli', 'bin.js')]) if (existsSync(join(base, entry))) return join(base, entry);
  }
  return join(here, '..', '..', 'dist', 'cli', 'bin.js');
}

/** Last non-empty line of a log file, read from its tail. */
function lastLine(path: string, from: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(from, size - 4096);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return lines.at(-1) ?? '';
  } finally {
    closeSync(fd);
  }
}

/**
 * A process left running by a worker that died on this host (kill -9 kills the worker,
 * not its child) would keep writing into the run directory the retry resumes. Kill it
 * when the marker names a live process on this host whose command line holds the run dir.
 */
async function killOrphan(job: SweepJob, store: SweepStore): Promise<void> {
  const m = await store.readRunning(job.id);
  if (!m || m.host !== hostname() || m.pid === process.pid) return;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${m.pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (!cmdline.includes(store.runDir(job.id))) return;
  try {
    process.kill(m.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${m.pid}`); i++) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Run one job unless its run directory already holds `result.json` (then 'skipped').
 * Resumes (`--resume`) when the run directory has a checkpoint and the command supports
 * it; a run directory without one is cleared first so the command starts clean. On exit
 * 0 writes `result.json` with the job, timing and the final metrics line.
 */
export async function runJob(job: SweepJob, opts: RunJobOptions): Promise<JobOutcome> {
  const { store } = opts;
  const worker = opts.worker ?? workerName();
  const attempt = opts.attempt ?? 1;
  const prior = await store.readResult(job.id);
  if (prior) return { status: 'skipped', result: prior };
  const cmd = SWEEP_COMMANDS[job.command];
  if (!cmd) {
    const failure: JobFailure = { id: job.id, exitCode: EXIT.usage, signal: null, error: `'${job.command}' is not a sweep command`, finished: new Date().toISOString(), worker, attempts: attempt };
    return { status: 'failed', failure };
  }
  await killOrphan(job, store);
  const runDir = store.runDir(job.id);
  const canResume = cmd.resumable && (await store.hasCheckpoint(job.id));
  if (!canResume && existsSync(runDir)) await store.clearRun(job.id);
  const argv = [opts.bin ?? defaultBin(), ...jobArgv(job, runDir, canResume)];
  const logPath = store.logPath(job.id);
  mkdirSync(dirname(logPath), { recursive: true });
  const logFd = openSync(logPath, 'a');
  const logStart = fstatSync(logFd).size;
  const started = new Date();
  await store.logEvent({ event: 'start', id: job.id, worker, attempt, resume: canResume });
  let exitCode: number | null;
  let signal: string | null;
  try {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', logFd, logFd], env: jobEnv(process.env, opts.threads) });
    await store.writeRunning({ id: job.id, worker, host: hostname(), pid: child.pid ?? -1, started: started.toISOString() });
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.graceMs ?? 30_000);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    [exitCode, signal] = await new Promise<[number | null, string | null]>((res) => {
      child.once('error', (err) => {
        process.stderr.write(`genphys sweep: cannot start ${argv[0]}: ${err.message}\n`);
        res([null, 'spawn-error']);
      });
      child.once('exit', (code, sig) => res([code, sig]));
    });
    clearTimeout(killTimer);
    opts.signal?.removeEventListener('abort', onAbort);
  } finally {
    closeSync(logFd);
    await store.clearRunning(job.id);
  }
  const finished = new Date();
  const seconds = (finished.getTime() - started.getTime()) / 1000;
  // A command that exits 0 after our SIGINT may have stopped early without saying so;
  // count it as interrupted (a resume of a finished run is cheap) rather than done.
  const aborted = opts.signal?.aborted === true;
  if (exitCode === EXIT.done && !aborted) {
    const result: JobResult = {
      id: job.id,
      command: job.command,
      flags: job.flags,
      axes: job.axes,
      exitCode: 0,
      started: started.toISOString(),
      finished: finished.toISOString(),
      seconds,
      resumed: canResume,
      worker,
      metrics: await store.finalMetrics(job.id),
      genphysVersion: VERSION,
    };
    await store.writeResult(result);
    await store.clearFailure(job.id);
    await store.logEvent({ event: 'done', id: job.id, worker, attempt, seconds });
    return { status: 'done', result };
  }
  const interrupted = exitCode === EXIT.interrupted || (aborted && (exitCode === EXIT.done || signal !== null));
  await store.logEvent({ event: interrupted ? 'interrupted' : 'fail', id: job.id, worker, attempt, exitCode, signal, seconds });
  if (interrupted) return { status: 'interrupted', exitCode };
  const error = lastLine(logPath, logStart) || (signal ? `killed by ${signal}` : `exit code ${exitCode}`);
  return { status: 'failed', failure: { id: job.id, exitCode, signal, error, finished: finished.toISOString(), worker, attempts: attempt } };
}
