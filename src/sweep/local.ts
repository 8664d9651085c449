/**
 * The local pool (node-only): run a sweep's jobs as child processes, N at a time, on
 * this machine, into a shared-directory store. Jobs with a `result.json` are skipped,
 * so running the same sweep again only does what is missing.
 */
import { cpus } from 'node:os';
import { VERSION } from '../version.js';
import { runJob, threadsPerJob, type JobOutcome } from './exec.js';
import { writeReport, type SweepSummary } from './report.js';
import { writeSweepOutputs } from './gather.js';
import { expandSweep, sweepId, type SweepJob, type SweepSpec } from './spec.js';
import { DirStore } from './store-fs.js';
import type { SweepStore } from './store.js';

/** Counts of a sweep's jobs by state. */
export interface SweepCounts {
  readonly total: number;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  readonly waiting: number;
}

/** A progress event: the counts after a job started or ended, and which job. */
export interface SweepProgress extends SweepCounts {
  readonly event: 'start' | 'done' | 'skipped' | 'failed' | 'interrupted';
  readonly job: SweepJob;
}

/** Options of {@link runSweepLocal}. */
export interface LocalSweepOptions {
  /** Sweep root directory (one run directory per job id). */
  readonly out: string;
  /** Concurrent child processes (default: the number of CPUs). */
  readonly workers?: number;
  /** Abort: running jobs get SIGINT (they checkpoint), no new job starts. */
  readonly signal?: AbortSignal;
  /** Called after every change of state. */
  readonly onProgress?: (p: SweepProgress) => void;
  /** The genphys CLI entry to spawn (default: the package's bundled `dist/cli-bundle/genphys.js`). */
  readonly bin?: string;
  /** A store other than the directory `out`. */
  readonly store?: SweepStore;
}

/** Write the manifest of `spec` to `store` and return the sweep's jobs and id. */
export async function writeManifest(spec: SweepSpec, store: SweepStore): Promise<{ sweepId: string; jobs: SweepJob[] }> {
  const jobs = expandSweep(spec);
  const id = sweepId(jobs);
  const prev = await store.readManifest();
  // Keep the original creation time when the same sweep is started again.
  const created = prev?.sweepId === id ? prev.created : new Date().toISOString();
  await store.writeManifest({ sweepId: id, spec, jobs, created, genphysVersion: VERSION });
  return { sweepId: id, jobs };
}

/**
 * Run every job of `spec` with at most `workers` child processes at a time. Resolves
 * when all jobs have ended (or, after an abort, when the running ones have stopped),
 * after writing `summary.json`, `report.csv` and `report.md` into the store.
 */
export async function runSweepLocal(spec: SweepSpec, opts: LocalSweepOptions): Promise<SweepSummary> {
  const store = opts.store ?? new DirStore(opts.out);
  const workers = opts.workers ?? cpus().length;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const { sweepId: id, jobs } = await writeManifest(spec, store);
  const queue = [...jobs];
  const threads = threadsPerJob(cpus().length, Math.min(workers, jobs.length));
  let running = 0;
  let done = 0;
  let failed = 0;
  const emit = (event: SweepProgress['event'], job: SweepJob) =>
    opts.onProgress?.({ event, job, total: jobs.length, done, running, failed, waiting: queue.length });
  const outcomes = new Map<string, JobOutcome>();
  const lane = async (): Promise<void> => {
    while (queue.length > 0 && !opts.signal?.aborted) {
      const job = queue.shift()!;
      running++;
      emit('start', job);
      let outcome: JobOutcome;
      try {
        outcome = await runJob(job, { store, threads, ...(opts.bin ? { bin: opts.bin } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      } finally {
        running--;
      }
      outcomes.set(job.id, outcome);
      if (outcome.status === 'done' || outcome.status === 'skipped') done++;
      else if (outcome.status === 'failed') {
        failed++;
        await store.writeFailure(outcome.failure);
      }
      emit(outcome.status, job);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, jobs.length) }, lane));
  return store instanceof DirStore ? writeSweepOutputs(store, { sweepId: id, jobs }) : writeReport(store, { sweepId: id, jobs });
}
