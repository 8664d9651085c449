/**
 * Ising datasets on disk, readable from Python with nothing but NumPy:
 *
 *   <dir>/manifest.json             what, how, and measured statistics (see {@link IsingManifest})
 *   <dir>/ising-L8-T2.2692.npy      int8 ±1, shape [n, L, L] (chain: [n, L]), C order
 *
 *   >>> import json, numpy as np
 *   >>> m = json.load(open('data/ising-L8/manifest.json'))
 *   >>> x = np.load('data/ising-L8/' + m['temperatures'][0]['file'])   # (n, 8, 8) int8
 *
 * Also: temperature-list parsing for the CLI, and a loader that accepts a dataset
 * directory, a single .npy file or a spin text file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataFormatError, UsageError } from '../core/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readNpy, writeNpy } from '../io/npy.js';
import type { IsingGeometry } from './lattice.js';
import type { Estimate } from './observables.js';
import type { SimulationResult } from './simulate.js';
import type { IsingAlgorithm } from './samplers.js';

/** Human-readable description of the format, stored in every manifest. */
export const ISING_DATASET_FORMAT =
  'One NumPy .npy file per temperature (format 1.0, dtype int8 "|i1", C order) holding n configurations of ±1 spins, ' +
  'shape [n, L, L] for the square lattice (row-major sites, periodic boundaries) or [n, L] for the chain. ' +
  'E = −J Σ_<ij> s_i s_j − h Σ_i s_i over nearest-neighbour bonds. Samples are stored every sweepsBetween sweeps after burnIn sweeps, ' +
  'chain by chain (for Wolff a sweep is a fixed number of clusters, about N flipped spins); tau values are integrated autocorrelation times in sweeps (Sokal windowing). Observables are per site: ' +
  'energy e, |m|, C = β²N(⟨e²⟩−⟨e⟩²), χ = βN(⟨m²⟩−⟨|m|⟩²), Binder U = 1 − ⟨m⁴⟩/(3⟨m²⟩²), from every sweep of every chain.';

/** One temperature of a dataset. */
export interface IsingManifestEntry {
  /** Temperature. */
  readonly T: number;
  /** File name relative to the dataset directory. */
  readonly file: string;
  /** Configurations in the file. */
  readonly n: number;
  /** τ_int of |m| in sweeps. */
  readonly tauAbsMagnetisation: number;
  /** τ_int of e in sweeps. */
  readonly tauEnergy: number;
  /** Monte Carlo observables (per site) with one-standard-error bars. */
  readonly observables: {
    readonly energy: Estimate;
    readonly absMagnetisation: Estimate;
    readonly specificHeat: Estimate;
    readonly susceptibility: Estimate;
    readonly binder: Estimate;
  };
  /** Spin–spin correlation G(r), r = 0 … ⌊L/2⌋, averaged over stored configurations' times. */
  readonly correlation: readonly number[];
  /** Exact values from Kaufman's formula (square lattice, h = 0), when available. */
  readonly exact?: { readonly energy: number; readonly specificHeat: number };
}

/** The manifest.json of a dataset. */
export interface IsingManifest {
  /** Always 'genphys-ising-dataset'. */
  readonly format: 'genphys-ising-dataset';
  /** Format version (1). */
  readonly version: 1;
  /** Prose description of the files. */
  readonly description: string;
  /** Lattice geometry. */
  readonly geometry: IsingGeometry;
  /** Linear size. */
  readonly L: number;
  /** Coupling. */
  readonly J: number;
  /** Field. */
  readonly h: number;
  /** Sampler. */
  readonly algorithm: IsingAlgorithm;
  /** Root seed. */
  readonly seed: number;
  /** Independent chains per temperature. */
  readonly chains: number;
  /** Burn-in sweeps per chain. */
  readonly burnIn: number;
  /** Sweeps between stored configurations. */
  readonly sweepsBetween: number;
  /** Per-temperature entries. */
  readonly temperatures: readonly IsingManifestEntry[];
  /** genphys version that wrote it. */
  readonly createdBy: string;
}

/**
 * Parse a temperature list: `a:b:n` (n evenly spaced values from a to b inclusive)
 * or a comma-separated list `1.5,2.269,3`. All values must be finite and > 0.
 * @throws UsageError naming `flag`
 */
export function parseTemperatures(spec: string, flag = '--temps'): number[] {
  const s = spec.trim();
  let temps: number[];
  if (s.includes(':')) {
    const parts = s.split(':');
    if (parts.length !== 3) throw new UsageError(`${flag}: expected 'start:stop:count' or a comma list, got '${spec}'`);
    const [a, b, n] = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
    if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isInteger(n) || n! < 1) {
      throw new UsageError(`${flag}: expected 'start:stop:count' with numbers and an integer count ≥ 1, got '${spec}'`);
    }
    temps = n === 1 ? [a!] : Array.from({ length: n! }, (_, i) => a! + ((b! - a!) * i) / (n! - 1));
  } else {
    temps = s.split(',').map((p) => (p.trim() === '' ? NaN : Number(p)));
    if (temps.some((t) => !Number.isFinite(t))) throw new UsageError(`${flag}: expected 'start:stop:count' or a comma list of numbers, got '${spec}'`);
  }
  for (const t of temps) if (!(t > 0)) throw new UsageError(`${flag}: temperatures must be > 0, got ${t}`);
  // Round away float noise from the linear spacing (e.g. 2.1500000000000004).
  return temps.map((t) => Number(t.toPrecision(12)));
}

/** File name used for temperature T. */
export function temperatureFileName(L: number, T: number): string {
  return `ising-L${L}-T${T.toFixed(4)}.npy`;
}

/** Settings recorded in the manifest alongside the results. */
export interface DatasetMeta {
  readonly geometry: IsingGeometry;
  readonly L: number;
  readonly J: number;
  readonly h: number;
  readonly algorithm: IsingAlgorithm;
  readonly seed: number;
  readonly chains: number;
  readonly burnIn: number;
  readonly sweepsBetween: number;
  readonly createdBy: string;
}

/**
 * Write one .npy per temperature and the manifest (atomically, manifest last).
 * `exact` optionally supplies Kaufman's values per temperature.
 */
export function writeIsingDataset(
  dir: string,
  results: readonly SimulationResult[],
  meta: DatasetMeta,
  exact?: (T: number) => { energy: number; specificHeat: number } | undefined,
): IsingManifest {
  const entries: IsingManifestEntry[] = [];
  for (const r of results) {
    const file = temperatureFileName(meta.L, r.T);
    const shape = meta.geometry === 'square' ? [r.nSamples, meta.L, meta.L] : [r.nSamples, meta.L];
    writeNpy(join(dir, file), r.samples, shape);
    const th = r.thermo;
    const ex = exact?.(r.T);
    entries.push({
      T: r.T,
      file,
      n: r.nSamples,
      tauAbsMagnetisation: th.tauAbsMagnetisation.tau,
      tauEnergy: th.tauEnergy.tau,
      observables: {
        energy: th.energy,
        absMagnetisation: th.absMagnetisation,
        specificHeat: th.specificHeat,
        susceptibility: th.susceptibility,
        binder: th.binder,
      },
      correlation: Array.from(r.correlation),
      ...(ex ? { exact: ex } : {}),
    });
  }
  const manifest: IsingManifest = {
    format: 'genphys-ising-dataset',
    version: 1,
    description: ISING_DATASET_FORMAT,
    ...meta,
    temperatures: entries,
  };
  writeJsonAtomic(join(dir, 'manifest.json'), manifest);
  return manifest;
}

/** A loaded dataset: the manifest and the configurations per temperature. */
export interface IsingDataset {
  /** The validated manifest. */
  readonly manifest: IsingManifest;
  /** Directory it was loaded from. */
  readonly dir: string;
  /** Spins per configuration. */
  readonly N: number;
  /** Per temperature: T and n × N spins (±1), in manifest order. */
  readonly temperatures: readonly { readonly T: number; readonly n: number; readonly spins: Int8Array }[];
}

function need(cond: unknown, file: string, problem: string): asserts cond {
  if (!cond) throw new DataFormatError(file, problem);
}

/**
 * Load and validate a dataset directory written by {@link writeIsingDataset}:
 * manifest fields, each file's dtype (int8), shape ([n, L, L] or [n, L], n as in the
 * manifest) and values (±1 only).
 * @throws DataFormatError with a one-line message naming the offending file
 */
export function loadIsingDataset(dir: string): IsingDataset {
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) throw new DataFormatError(mpath, 'missing (not a genphys Ising dataset directory)');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(mpath, 'utf8'));
  } catch (err) {
    throw new DataFormatError(mpath, `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const m = raw as Partial<IsingManifest>;
  need(m && typeof m === 'object' && m.format === 'genphys-ising-dataset', mpath, "not a genphys Ising manifest (format field is not 'genphys-ising-dataset')");
  need(m.version === 1, mpath, `unsupported version ${String(m.version)}`);
  need(Number.isInteger(m.L) && m.L! >= 2, mpath, `L must be an integer ≥ 2, got ${String(m.L)}`);
  need(m.geometry === 'square' || m.geometry === 'chain', mpath, `geometry must be 'square' or 'chain', got ${String(m.geometry)}`);
  need(Array.isArray(m.temperatures) && m.temperatures.length > 0, mpath, 'temperatures must be a non-empty list');
  const L = m.L!;
  const N = m.geometry === 'square' ? L * L : L;
  const temps: { T: number; n: number; spins: Int8Array }[] = [];
  for (const [i, e] of m.temperatures!.entries()) {
    need(e && typeof e.T === 'number' && e.T > 0, mpath, `temperatures[${i}].T must be a number > 0`);
    need(typeof e.file === 'string' && e.file.length > 0 && basename(e.file) === e.file, mpath, `temperatures[${i}].file must be a plain file name`);
    need(Number.isInteger(e.n) && e.n >= 0, mpath, `temperatures[${i}].n must be a non-negative integer`);
    const fpath = join(dir, e.file);
    const arr = readNpy(fpath);
    need(arr.descr === '|i1', fpath, `dtype ${arr.descr}, expected int8 (|i1)`);
    const want = m.geometry === 'square' ? [e.n, L, L] : [e.n, L];
    need(arr.shape.length === want.length && arr.shape.every((d, k) => d === want[k]), fpath, `shape [${arr.shape.join(', ')}], expected [${want.join(', ')}] from the manifest`);
    const spins = arr.data as Int8Array;
    for (let k = 0; k < spins.length; k++) {
      const v = spins[k]!;
      if (v !== 1 && v !== -1) throw new DataFormatError(fpath, `value ${v} at flat index ${k} is not a spin (expected −1 or +1)`);
    }
    temps.push({ T: e.T, n: e.n, spins });
  }
  return { manifest: m as IsingManifest, dir, N, temperatures: temps };
}

export { loadSpinConfigurations, type SpinConfigurations } from '../data/spins.js';

/**
 * At most n of the rows of `spins` (rows × N), evenly spaced through it (row ⌊k·rows/n⌋ for
 * k = 0 … n − 1); `spins` itself when n ≥ rows. Datasets store their chains one after the
 * other, so an evenly spaced subset draws on every chain.
 */
export function evenlySpacedRows(spins: Int8Array, N: number, n: number): Int8Array {
  const rows = spins.length / N;
  if (n >= rows) return spins;
  const out = new Int8Array(n * N);
  for (let k = 0; k < n; k++) {
    const r = Math.floor((k * rows) / n);
    out.set(spins.subarray(r * N, (r + 1) * N), k * N);
  }
  return out;
}
