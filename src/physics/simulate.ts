/**
 * High-level Monte Carlo runs: many independent chains at one or several
 * temperatures, pooled into observables with error bars, autocorrelation times,
 * G(r), and the stored configurations.
 */
import type { Rng } from '../core/rng.js';
import { UsageError } from '../core/errors.js';
import { runChainJobs, type ChainJob, type ChainOutput, type PoolOptions } from './chains.js';
import { isingModel, type IsingGeometry } from './lattice.js';
import { thermoEstimates, type ThermoEstimates } from './observables.js';
import { checkTemperature, parseAlgorithm, type IsingAlgorithm } from './samplers.js';

/** The Monte Carlo data flags `ising sample`, `ising rbm` and `ising diffusion` share. */
export interface IsingDataSettings {
  readonly L: number;
  readonly temps: readonly number[];
  /** Configurations kept per temperature. */
  readonly n: number;
  readonly algo: IsingAlgorithm;
  readonly sweepsBetween: number;
  readonly burnIn: number;
  /** Independent chains per temperature. */
  readonly chains: number;
  /** Worker threads (default: all cores). */
  readonly workers?: number;
}

/** Options of a Monte Carlo run (per temperature). */
export interface SimulationOptions {
  /** Linear size (L ≥ 2). */
  readonly L: number;
  /** 'square' (default) or 'chain'. */
  readonly geometry?: IsingGeometry;
  /** Coupling (default 1). */
  readonly J?: number;
  /** Field (default 0). */
  readonly h?: number;
  /** Sampler. */
  readonly algorithm: IsingAlgorithm;
  /** Independent chains per temperature (default 4). */
  readonly chains?: number;
  /** Burn-in sweeps per chain (default 1000). */
  readonly burnIn?: number;
  /** Measured sweeps per chain. */
  readonly sweeps: number;
  /** Store a configuration every this many sweeps (default 0: none). */
  readonly sampleEvery?: number;
  /** Measure G(r) every this many sweeps (default 0: not at all). */
  readonly correlationEvery?: number;
}

/** Result of a run at one temperature. */
export interface SimulationResult {
  /** Temperature. */
  readonly T: number;
  /** Linear size. */
  readonly L: number;
  /** Spins. */
  readonly N: number;
  /** Sampler used. */
  readonly algorithm: IsingAlgorithm;
  /** Observables with errors and autocorrelation times (in sweeps). */
  readonly thermo: ThermoEstimates;
  /** G(r) for r = 0 … ⌊L/2⌋ (empty when not measured). */
  readonly correlation: Float64Array;
  /** Stored configurations of all chains, chain by chain (nSamples × N). */
  readonly samples: Int8Array;
  /** Number of stored configurations. */
  readonly nSamples: number;
  /** Single-spin updates (Wolff: spins flipped) summed over chains. */
  readonly updates: number;
  /** Wolff clusters summed over chains. */
  readonly clusters: number;
  /** Chain-seconds (summed over chains; wall time is less with workers). */
  readonly chainSeconds: number;
}

function validate(opts: SimulationOptions): void {
  isingModel({ L: opts.L, geometry: opts.geometry ?? 'square', J: opts.J ?? 1, h: opts.h ?? 0 });
  parseAlgorithm(opts.algorithm);
  for (const [k, v] of [['chains', opts.chains ?? 4], ['burnIn', opts.burnIn ?? 1000], ['sweeps', opts.sweeps], ['sampleEvery', opts.sampleEvery ?? 0], ['correlationEvery', opts.correlationEvery ?? 0]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new UsageError(`${k} must be a non-negative integer, got ${v}`);
  }
  if ((opts.chains ?? 4) < 1 || opts.sweeps < 1) throw new UsageError('need at least one chain and one measured sweep');
  if (opts.algorithm === 'wolff' && (opts.h ?? 0) !== 0) throw new UsageError(`--algo wolff: the Wolff cluster algorithm needs h = 0, got h = ${opts.h}`);
}

function combine(T: number, opts: SimulationOptions, outs: readonly ChainOutput[]): SimulationResult {
  const model = isingModel({ L: opts.L, geometry: opts.geometry ?? 'square', J: opts.J ?? 1, h: opts.h ?? 0 });
  const N = model.N;
  const thermo = thermoEstimates(T, N, outs.map((o) => o.e), outs.map((o) => o.m));
  const nSamples = outs.reduce((s, o) => s + o.nSamples, 0);
  const samples = new Int8Array(nSamples * N);
  let off = 0;
  for (const o of outs) {
    samples.set(o.samples, off);
    off += o.samples.length;
  }
  const gCount = outs.reduce((s, o) => s + o.gCount, 0);
  const R = Math.floor(opts.L / 2);
  const correlation = new Float64Array(gCount > 0 ? R + 1 : 0);
  if (gCount > 0) for (const o of outs) for (let r = 0; r <= R; r++) correlation[r]! += o.gSum[r]! / gCount;
  return {
    T,
    L: opts.L,
    N,
    algorithm: opts.algorithm,
    thermo,
    correlation,
    samples,
    nSamples,
    updates: outs.reduce((s, o) => s + o.updates, 0),
    clusters: outs.reduce((s, o) => s + o.clusters, 0),
    chainSeconds: outs.reduce((s, o) => s + o.seconds, 0),
  };
}

function jobsFor(T: number, opts: SimulationOptions, parent: Rng): ChainJob[] {
  const chains = opts.chains ?? 4;
  return Array.from({ length: chains }, (_, c) => ({
    spec: {
      L: opts.L,
      geometry: opts.geometry ?? 'square',
      J: opts.J ?? 1,
      h: opts.h ?? 0,
      T,
      algorithm: opts.algorithm,
      burnIn: opts.burnIn ?? 1000,
      sweeps: opts.sweeps,
      sampleEvery: opts.sampleEvery ?? 0,
      correlationEvery: opts.correlationEvery ?? 0,
    },
    rng: parent.split(c).getState(),
  }));
}

/** Total sweeps a run will perform (for progress bars). */
export function totalSweeps(opts: SimulationOptions, temperatures = 1): number {
  return temperatures * (opts.chains ?? 4) * ((opts.burnIn ?? 1000) + opts.sweeps);
}

/**
 * Monte Carlo at one temperature: chain c is seeded with `rng.split(c)`.
 * `rng` is not advanced.
 */
export async function simulate(T: number, opts: SimulationOptions, rng: Rng, pool: PoolOptions = {}): Promise<SimulationResult> {
  checkTemperature(T);
  validate(opts);
  const outs = await runChainJobs(jobsFor(T, opts, rng), pool);
  return combine(T, opts, outs);
}

/**
 * Monte Carlo at several temperatures, all chains in one worker pool: chain c at
 * temperature index t is seeded with `rng.split(t).split(c)`. `rng` is not advanced.
 */
export async function simulateTemperatures(temps: readonly number[], opts: SimulationOptions, rng: Rng, pool: PoolOptions = {}): Promise<SimulationResult[]> {
  temps.forEach(checkTemperature);
  validate(opts);
  const chains = opts.chains ?? 4;
  const jobs = temps.flatMap((T, t) => jobsFor(T, opts, rng.split(t)));
  const outs = await runChainJobs(jobs, pool);
  return temps.map((T, t) => combine(T, opts, outs.slice(t * chains, (t + 1) * chains)));
}

/** The run with its stored samples cut to the first `n` configurations (a view, no copy). */
export function trimSamples(r: SimulationResult, n: number): SimulationResult {
  const k = Math.min(n, r.nSamples);
  return { ...r, nSamples: k, samples: r.samples.subarray(0, k * r.N) };
}
