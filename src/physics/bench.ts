/**
 * Sampler throughput: Metropolis spin flips per second and Wolff clusters per
 * second on independent chains spread over worker threads.
 */
import type { Rng } from '../core/rng.js';
import { runChainJobs } from './chains.js';
import type { IsingAlgorithm } from './samplers.js';

/** One throughput measurement. */
export interface SamplerBenchResult {
  /** Sampler. */
  readonly algorithm: IsingAlgorithm;
  /** Linear size. */
  readonly L: number;
  /** Temperature. */
  readonly T: number;
  /** Worker threads (0: this thread). */
  readonly workers: number;
  /** Chains run (one per worker, or 1 in-thread). */
  readonly chains: number;
  /** Sweeps per chain. */
  readonly sweeps: number;
  /** Wall-clock seconds for all chains (worker start-up included). */
  readonly seconds: number;
  /** Attempted single-spin updates per second (Metropolis, heat-bath) or spins flipped per second (Wolff). */
  readonly updatesPerSecond: number;
  /** Wolff clusters per second (0 for local samplers). */
  readonly clustersPerSecond: number;
  /** Mean Wolff cluster size (0 for local samplers). */
  readonly meanClusterSize: number;
}

/**
 * Time `sweeps` sweeps on each of `max(workers, 1)` independent chains run in
 * parallel (cold start, no burn-in). Rates divide every update (Wolff's calibration
 * clusters included) by the wall time, worker start-up included.
 */
export async function benchSampler(
  algorithm: IsingAlgorithm,
  L: number,
  T: number,
  sweeps: number,
  workers: number,
  rng: Rng,
): Promise<SamplerBenchResult> {
  const chains = Math.max(1, workers);
  const jobs = Array.from({ length: chains }, (_, c) => ({
    spec: { L, J: 1, h: 0, T, algorithm, burnIn: 0, sweeps, sampleEvery: 0, correlationEvery: 0 },
    rng: rng.split(c).getState(),
  }));
  const t0 = performance.now();
  const outs = await runChainJobs(jobs, { workers });
  const seconds = (performance.now() - t0) / 1000;
  const updates = outs.reduce((s, o) => s + o.updates, 0);
  const clusters = outs.reduce((s, o) => s + o.clusters, 0);
  return {
    algorithm,
    L,
    T,
    workers,
    chains,
    sweeps,
    seconds,
    updatesPerSecond: updates / seconds,
    clustersPerSecond: clusters / seconds,
    meanClusterSize: clusters > 0 ? updates / clusters : 0,
  };
}
