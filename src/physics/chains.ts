/**
 * Independent Monte Carlo chains, run in this thread or on a pool of worker
 * threads. Each chain is seeded from its own split of the caller's {@link Rng},
 * so results do not depend on how many workers run them, or in which order.
 */
import { InterruptedError } from '../core/errors.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Rng, type RngState } from '../core/rng.js';
import { correlationFunction, isingModel, type IsingGeometry } from './lattice.js';
import { IsingChain, type IsingAlgorithm } from './samplers.js';

/** Everything one chain needs (plain data, so it can cross a thread boundary). */
export interface ChainSpec {
  /** Linear size. */
  readonly L: number;
  /** Geometry (default square). */
  readonly geometry?: IsingGeometry;
  /** Coupling J. */
  readonly J: number;
  /** Field h. */
  readonly h: number;
  /** Temperature. */
  readonly T: number;
  /** Sampler. */
  readonly algorithm: IsingAlgorithm;
  /** Sweeps discarded before measuring. */
  readonly burnIn: number;
  /** Sweeps measured (e and m recorded after each). */
  readonly sweeps: number;
  /** Store a configuration every this many measured sweeps (0: store none). */
  readonly sampleEvery: number;
  /** Accumulate G(r) every this many measured sweeps (0: not at all). */
  readonly correlationEvery: number;
}

/** One chain's job: its spec and the state of its own generator. */
export interface ChainJob {
  /** What to run. */
  readonly spec: ChainSpec;
  /** Generator state for this chain (already split from the parent). */
  readonly rng: RngState;
}

/** What a chain returns. */
export interface ChainOutput {
  /** Energy per site after each measured sweep. */
  readonly e: Float64Array;
  /** Signed magnetisation per site after each measured sweep. */
  readonly m: Float64Array;
  /** Stored configurations, back to back (nSamples × N, ±1). */
  readonly samples: Int8Array;
  /** Number of stored configurations. */
  readonly nSamples: number;
  /** Σ over measurements of G(r), r = 0 … ⌊L/2⌋. */
  readonly gSum: Float64Array;
  /** Number of G(r) measurements. */
  readonly gCount: number;
  /** Single-spin updates (or spins flipped by clusters). */
  readonly updates: number;
  /** Wolff clusters built (0 for local samplers). */
  readonly clusters: number;
  /** Wall-clock seconds spent. */
  readonly seconds: number;
}

/**
 * Run one chain: cold start (all +1), `burnIn` sweeps, then `sweeps` measured
 * sweeps. At h = 0 a global spin flip with probability ½ precedes each stored
 * configuration — an exact symmetry move of the Boltzmann distribution that gives
 * stored samples both signs of m even where single-spin dynamics cannot tunnel.
 */
export function runChain(job: ChainJob, onProgress?: (sweeps: number) => void): ChainOutput {
  const t0 = performance.now();
  const sp = job.spec;
  const model = isingModel({ L: sp.L, geometry: sp.geometry ?? 'square', J: sp.J, h: sp.h });
  const rng = Rng.fromState(job.rng);
  const chain = new IsingChain(model, sp.algorithm, sp.T);
  // Calibrate Wolff's clusters per sweep after a short equilibration, before burn-in.
  if (sp.algorithm === 'wolff') {
    chain.calibrateWolff(rng, 50);
    chain.calibrateWolff(rng, 200);
  }
  const N = model.N;
  const report = Math.max(1, Math.floor((sp.burnIn + sp.sweeps) / 20));
  let sinceReport = 0;
  const tick = () => {
    if (onProgress && ++sinceReport >= report) {
      onProgress(sinceReport);
      sinceReport = 0;
    }
  };
  for (let t = 0; t < sp.burnIn; t++) {
    chain.sweep(rng);
    tick();
  }
  const e = new Float64Array(sp.sweeps);
  const m = new Float64Array(sp.sweeps);
  const nSamples = sp.sampleEvery > 0 ? Math.floor(sp.sweeps / sp.sampleEvery) : 0;
  const samples = new Int8Array(nSamples * N);
  const R = Math.floor(model.L / 2);
  const gSum = new Float64Array(R + 1);
  let gCount = 0;
  let k = 0;
  for (let t = 0; t < sp.sweeps; t++) {
    chain.sweep(rng);
    if (sp.sampleEvery > 0 && (t + 1) % sp.sampleEvery === 0 && k < nSamples) {
      if (sp.h === 0 && rng.nextU32() & 1) {
        const s = chain.spins;
        for (let i = 0; i < N; i++) s[i] = -s[i]!;
        chain.magnetisation = -chain.magnetisation;
      }
      samples.set(chain.spins, k * N);
      k++;
    }
    if (sp.correlationEvery > 0 && (t + 1) % sp.correlationEvery === 0) {
      const g = correlationFunction(model, chain.spins, 1);
      for (let r = 0; r <= R; r++) gSum[r]! += g[r]!;
      gCount++;
    }
    e[t] = chain.energyPerSite();
    m[t] = chain.magnetisation / N;
    tick();
  }
  if (onProgress && sinceReport > 0) onProgress(sinceReport);
  return { e, m, samples, nSamples, gSum, gCount, updates: chain.updates, clusters: chain.clusters, seconds: (performance.now() - t0) / 1000 };
}

/** Below this many spin updates in total, the default is to run in this thread (workers cost ~50 ms to start). */
export const SMALL_JOB_UPDATES = 2_000_000;

/** Total single-spin updates a set of jobs will attempt (for choosing in-thread vs workers). */
export function jobWork(jobs: readonly ChainJob[]): number {
  return jobs.reduce((s, j) => s + (j.spec.geometry === 'chain' ? j.spec.L : j.spec.L * j.spec.L) * (j.spec.burnIn + j.spec.sweeps), 0);
}

/** Options for {@link runChainJobs}. */
export interface PoolOptions {
  /** Worker threads: 0 runs in this thread; default min(jobs, available cores), or 0 for small jobs. */
  readonly workers?: number;
  /** Called with the number of sweeps just completed (for progress bars). */
  readonly onProgress?: (sweeps: number) => void;
  /** Aborting stops the simulation with an InterruptedError (no partial result). */
  readonly signal?: AbortSignal;
}

/** URL of the compiled worker script (works from src/physics/*.ts and dist/physics/*.js alike). */
export const CHAIN_WORKER_URL = new URL('../../dist/physics/chain-worker.js', import.meta.url);

/** Whether the compiled worker script exists (it does after `npm run build`). */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(CHAIN_WORKER_URL));
}

/** Default number of workers for `jobs` jobs: the machine's cores, at most one per job. */
export function defaultWorkers(jobs: number): number {
  return Math.max(1, Math.min(jobs, availableParallelism()));
}

/**
 * Deal `tasks` to a pool of `workers` worker threads running the script at `url`
 * (each thread handles one task at a time). The script answers a task message
 * `{ index, task }` with `{ type: 'progress', amount }` messages and finally
 * `{ type: 'done', index, out }` or `{ type: 'error', message }`. Returns outputs in
 * task order.
 */
export async function runWorkerPool<T, R>(
  url: URL,
  tasks: readonly T[],
  workers: number,
  onProgress?: (amount: number) => void,
  abort?: { readonly signal: AbortSignal; readonly mode: 'drain' | 'terminate' },
): Promise<R[]> {
  const results: R[] = new Array<R>(tasks.length);
  let next = 0;
  const pool: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(workers, tasks.length) }, () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(url);
          pool.push(w);
          let current = -1;
          // 'terminate': stop at once (the results are discarded); 'drain': finish the tasks running, start no more.
          if (abort?.mode === 'terminate') abort.signal.addEventListener('abort', () => reject(new InterruptedError('interrupted')), { once: true });
          const feed = () => {
            if (next >= tasks.length || abort?.signal.aborted) {
              resolve();
              return;
            }
            current = next++;
            w.postMessage({ index: current, task: tasks[current] });
          };
          w.on('message', (msg: { type: 'progress'; amount: number } | { type: 'done'; index: number; out: R } | { type: 'error'; message: string }) => {
            if (msg.type === 'progress') onProgress?.(msg.amount);
            else if (msg.type === 'done') {
              results[msg.index] = msg.out;
              feed();
            } else reject(new Error(`worker failed on task ${current}: ${msg.message}`));
          });
          w.on('error', reject);
          feed();
        }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return results;
}

/**
 * Run chain jobs and return their outputs in job order. With `workers` ≥ 1 (and the
 * compiled worker script present) jobs are dealt to a pool of worker threads;
 * otherwise they run here. The outputs are identical either way.
 */
export async function runChainJobs(jobs: readonly ChainJob[], opts: PoolOptions = {}): Promise<ChainOutput[]> {
  const nWorkers = Math.min(opts.workers ?? (jobWork(jobs) < SMALL_JOB_UPDATES ? 0 : defaultWorkers(jobs.length)), jobs.length);
  if (nWorkers <= 0 || !workersAvailable()) {
    const out: ChainOutput[] = [];
    for (const j of jobs) {
      if (opts.signal?.aborted) throw new InterruptedError('interrupted during Monte Carlo');
      out.push(runChain(j, opts.onProgress));
      // Yield so progress bars and signals get a chance between chains.
      await new Promise((r) => setImmediate(r));
    }
    return out;
  }
  if (opts.signal?.aborted) throw new InterruptedError('interrupted during Monte Carlo');
  return runWorkerPool<ChainJob, ChainOutput>(CHAIN_WORKER_URL, jobs, nWorkers, opts.onProgress, opts.signal ? { signal: opts.signal, mode: 'terminate' } : undefined);
}
