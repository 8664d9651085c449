/**
 * Data sources for GANs, by spec: `fashion-mnist` and `mnist` (pixels scaled to
 * [−1, 1] for a tanh generator, as the DCGAN tutorial does), `toy:<name>[:N]` (2D
 * points, shape [1, 1, 2]) and `ising:<dir>[:T]` (±1 spins of one temperature of a
 * genphys Ising data set, shape [L, L, 1] or [1, L, 1]). Node-only (files).
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { DATASET_NAMES, loadImageDataset, type DatasetName, type Split } from '../data/datasets.js';
import { isToySpec, loadToy, type ToyModes, type ToyName } from '../data/toys.js';
import { loadIsingDataset, type IsingManifest, type IsingManifestEntry } from '../physics/dataset.js';
import type { GanData } from './train.js';

/** What kind of data a spec names. */
export type GanDataKind = 'image' | 'toy' | 'ising';

/** A GAN data set with what the evaluation needs to know about it. */
export interface GanDataset extends GanData {
  readonly kind: GanDataKind;
  /** The spec it was loaded from. */
  readonly spec: string;
  /** For messages and fingerprints, e.g. `fashion-mnist/train`. */
  readonly name: string;
  /** Shape of one example `[rows, cols, channels]`. */
  readonly shape: readonly [number, number, number];
  /** Toys: which one, and the true modes of the mixtures. */
  readonly toy?: { readonly name: ToyName; readonly modes?: ToyModes };
  /** Ising: the lattice and the Monte Carlo observables of the chosen temperature. */
  readonly ising?: { readonly manifest: IsingManifest; readonly entry: IsingManifestEntry; readonly N: number };
}

/** Options of {@link loadGanData}. */
export interface GanDataOptions {
  /** Stream for toy points (a fixed split of the run's seed, so a resume draws the same). */
  readonly rng: Rng;
  /** Use only the first n examples. */
  readonly limit?: number;
  /** Image data set directory override. */
  readonly dir?: string;
  /** Image split (default train). */
  readonly split?: Split;
  /** The flag that gave the spec, for messages (default --data). */
  readonly flag?: string;
}

const SPECS = 'fashion-mnist, mnist, toy:<name>[:N] or ising:<dir>[:T]';

/** Pixels 0…255 → [−1, 1]: x/127.5 − 1. */
export function pixelsToSigned(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 127.5 - 1;
  return out;
}

/** Parse `ising:<dir>[:T]` (the last `:`-field is T when it is a number). */
export function parseIsingSpec(spec: string, flag = '--data'): { dir: string; T?: number } {
  const rest = spec.slice('ising:'.length);
  if (rest === '') throw new UsageError(`${flag} '${spec}': expected ising:<dir>[:T]`);
  const i = rest.lastIndexOf(':');
  if (i > 0 && /^[0-9.eE+-]+$/.test(rest.slice(i + 1))) {
    const T = Number(rest.slice(i + 1));
    if (!(T > 0 && Number.isFinite(T))) throw new UsageError(`${flag} '${spec}': temperature must be a positive number, got '${rest.slice(i + 1)}'`);
    return { dir: rest.slice(0, i), T };
  }
  return { dir: rest };
}

/**
 * Check that `spec` is a data spec this module knows (without loading anything).
 * @throws UsageError naming the flag and the accepted forms
 */
export function checkGanDataSpec(spec: string, flag = '--data'): GanDataKind {
  if ((DATASET_NAMES as readonly string[]).includes(spec)) return 'image';
  if (isToySpec(spec)) return 'toy';
  if (spec.startsWith('ising:')) {
    parseIsingSpec(spec, flag);
    return 'ising';
  }
  throw new UsageError(`${flag}: unknown data spec '${spec}'; expected ${SPECS}`);
}

/**
 * Load the data set a spec names.
 * @throws UsageError for a bad spec or temperature; DataFormatError/DownloadError from the loaders
 */
export function loadGanData(spec: string, opts: GanDataOptions): GanDataset {
  const flag = opts.flag ?? '--data';
  const kind = checkGanDataSpec(spec, flag);
  const limit = opts.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new UsageError(`--limit: need a positive integer, got ${limit}`);
  const cut = (n: number) => Math.min(n, limit ?? n);
  if (kind === 'image') {
    const split = opts.split ?? 'train';
    const ds = loadImageDataset(spec as DatasetName, split, opts.dir !== undefined ? { dir: opts.dir } : {});
    const n = cut(ds.n);
    const dim = ds.rows * ds.cols;
    return { kind, spec, name: `${spec}/${split}`, n, dim, x: pixelsToSigned(ds.pixels.subarray(0, n * dim)), shape: [ds.rows, ds.cols, 1] };
  }
  if (kind === 'toy') {
    const t = loadToy(spec, opts.rng, { source: flag });
    const n = cut(t.samples.n);
    return {
      kind,
      spec,
      name: spec,
      n,
      dim: 2,
      x: t.samples.data.slice(0, 2 * n),
      shape: [1, 1, 2],
      toy: { name: t.name, ...(t.modes ? { modes: t.modes } : {}) },
    };
  }
  const { dir, T } = parseIsingSpec(spec, flag);
  const ds = loadIsingDataset(dir);
  const temps = ds.temperatures.map((t) => t.T);
  let idx: number;
  if (T === undefined) {
    if (temps.length !== 1) throw new UsageError(`${flag} '${spec}': the data set holds ${temps.length} temperatures (${temps.join(', ')}); pick one with ising:<dir>:<T>`);
    idx = 0;
  } else {
    idx = temps.findIndex((t) => Math.abs(t - T) <= 1e-9 * Math.max(1, T));
    if (idx < 0) throw new UsageError(`${flag} '${spec}': no temperature ${T} in ${dir}; it holds ${temps.join(', ')}`);
  }
  const tt = ds.temperatures[idx]!;
  const n = cut(tt.n);
  const L = ds.manifest.L;
  const shape: [number, number, number] = ds.manifest.geometry === 'square' ? [L, L, 1] : [1, L, 1];
  const x = new Float32Array(n * ds.N);
  for (let i = 0; i < x.length; i++) x[i] = tt.spins[i]!;
  return { kind, spec, name: `ising-L${L}-T${tt.T}`, n, dim: ds.N, x, shape, ising: { manifest: ds.manifest, entry: ds.manifest.temperatures[idx]!, N: ds.N } };
}
