/**
 * The `ising sample` run: Monte Carlo at several temperatures written as an Ising
 * dataset (one .npy per temperature + manifest.json), on the run layer: the directory is
 * checked before the simulation, an existing dataset is never replaced without `force`,
 * and an interrupted simulation writes nothing. Node-only (files, worker threads).
 */
import { InterruptedError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { prepareRun } from '../run/run-dir.js';
import { VERSION } from '../version.js';
import { defaultWorkers } from './chains.js';
import { writeIsingDataset, type IsingManifest } from './dataset.js';
import { kaufmanSquare } from './exact.js';
import type { IsingGeometry } from './lattice.js';
import { simulateTemperatures, totalSweeps, trimSamples, type IsingDataSettings, type SimulationResult } from './simulate.js';

/** Settings of `ising sample` (its flags). */
export interface IsingSampleSettings extends IsingDataSettings {
  readonly J: number;
  readonly h: number;
  readonly geometry: IsingGeometry;
}

/** Options of {@link runIsingSample}. */
export interface IsingSampleRunOptions {
  readonly dir: string;
  readonly seed: number;
  readonly settings: IsingSampleSettings;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  /** Progress: called once with the total sweeps, then with each advance. */
  readonly onProgress?: (e: { total?: number; advance?: number }) => void;
}

/** What {@link runIsingSample} returns. */
export interface IsingSampleRunResult {
  readonly results: readonly SimulationResult[];
  readonly manifest: IsingManifest;
  /** Whether Kaufman's exact e and C apply (square lattice, h = 0, J > 0). */
  readonly exact: boolean;
}

/**
 * Simulate and write the dataset.
 * @throws RunError before anything runs when the directory is taken; InterruptedError
 *   (nothing written) when the signal aborts the simulation
 */
export async function runIsingSample(opts: IsingSampleRunOptions): Promise<IsingSampleRunResult> {
  const o = opts.settings;
  const prepared = prepareRun({ dir: opts.dir, command: 'ising sample', ...(opts.force ? { force: true } : {}) });
  const simOpts = {
    L: o.L,
    geometry: o.geometry,
    J: o.J,
    h: o.h,
    algorithm: o.algo,
    chains: o.chains,
    burnIn: o.burnIn,
    sweeps: Math.ceil(o.n / o.chains) * o.sweepsBetween,
    sampleEvery: o.sweepsBetween,
    correlationEvery: o.sweepsBetween,
  };
  opts.onProgress?.({ total: totalSweeps(simOpts, o.temps.length) });
  const results = (
    await simulateTemperatures(o.temps, simOpts, new Rng(opts.seed), {
      workers: o.workers ?? defaultWorkers(o.temps.length * o.chains),
      onProgress: (s) => opts.onProgress?.({ advance: s }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    })
  ).map((r) => trimSamples(r, o.n));
  if (opts.signal?.aborted) throw new InterruptedError(`interrupted; nothing was written to ${opts.dir}`);
  prepared.commit({ command: 'ising sample', seed: opts.seed, ...o });
  const exact = o.geometry === 'square' && o.h === 0 && o.J > 0;
  const manifest = writeIsingDataset(
    opts.dir,
    results,
    { geometry: o.geometry, L: o.L, J: o.J, h: o.h, algorithm: o.algo, seed: opts.seed, chains: o.chains, burnIn: o.burnIn, sweepsBetween: o.sweepsBetween, createdBy: `genphys ${VERSION}` },
    exact
      ? (T) => {
          const k = kaufmanSquare(o.L, T, o.J);
          return { energy: k.energy, specificHeat: k.specificHeat };
        }
      : undefined,
  );
  return { results, manifest, exact };
}
