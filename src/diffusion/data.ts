/**
 * Training data for diffusion models, scaled to [−1, 1] as Ho et al. 2020 §3.3
 * assume: grey-level images (p/127.5 − 1), 2D toys (as drawn), and Ising spins
 * (±1 already). A spec names the source:
 *
 *   fashion-mnist | mnist | toy:<name>[:N] | ising:<dir>[:T]
 *
 * Node-only (reads files).
 */
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { DATASET_NAMES, loadImageDataset, type DatasetName } from '../data/datasets.js';
import { loadToy, parseToySpec, toyModes, type ToyModes, type ToyName } from '../data/toys.js';
import { loadIsingDataset, type IsingManifestEntry } from '../physics/dataset.js';
import type { DiffusionData } from './train.js';

/** A loaded data set with what the run needs to know about it. */
export interface DiffusionDataset extends DiffusionData {
  /** 'image' (fashion-mnist, mnist), 'toy' or 'ising'. */
  readonly kind: 'image' | 'toy' | 'ising';
  /** The spec it came from. */
  readonly spec: string;
  /** Image shape [rows, cols, channels] (images and Ising lattices); null for toys. */
  readonly shape: readonly [number, number, number] | null;
  /** Toys: the name and, for mixtures, the true modes. */
  readonly toy?: { readonly name: ToyName; readonly modes?: ToyModes };
  /** Ising: lattice size, temperature and the Monte Carlo reference observables. */
  readonly ising?: { readonly L: number; readonly T: number; readonly J: number; readonly reference: IsingManifestEntry['observables'] };
}

/** Options of {@link loadDiffusionData}. */
export interface DiffusionDataOptions {
  /** Use only the first `limit` examples (images, Ising). */
  readonly limit?: number;
  /** Data set directory override for images. */
  readonly dir?: string;
  /** Seed of toy sampling. */
  readonly seed?: number;
  /** Split for images (default train). */
  readonly split?: 'train' | 'test';
  /** Flag to name in errors (default --data). */
  readonly flag?: string;
}

/**
 * Load a data spec as values in [−1, 1].
 * @throws UsageError (one line, naming the flag) on a bad spec; the loaders' errors for missing or bad files
 */
export function loadDiffusionData(spec: string, opts: DiffusionDataOptions = {}): DiffusionDataset {
  const flag = opts.flag ?? '--data';
  const limit = opts.limit;
  if ((DATASET_NAMES as readonly string[]).includes(spec)) {
    const ds = loadImageDataset(spec as DatasetName, opts.split ?? 'train', opts.dir !== undefined ? { dir: opts.dir } : {});
    const n = Math.min(ds.n, limit ?? ds.n);
    const dim = ds.rows * ds.cols;
    const x = new Float32Array(n * dim);
    for (let i = 0; i < x.length; i++) x[i] = ds.pixels[i]! / 127.5 - 1;
    return { kind: 'image', spec, n, dim, x, shape: [ds.rows, ds.cols, 1] };
  }
  if (spec.startsWith('toy:')) {
    const t = parseToySpec(spec, flag);
    const d = loadToy(spec, new Rng(opts.seed ?? 0).split(11), { source: flag });
    const modes = toyModes(t.name);
    return { kind: 'toy', spec, n: d.samples.n, dim: 2, x: d.samples.data, shape: null, toy: { name: t.name, ...(modes ? { modes } : {}) } };
  }
  if (spec.startsWith('ising:')) {
    const rest = spec.slice('ising:'.length);
    const m = /^(.*?)(?::([0-9.eE+-]+))?$/.exec(rest);
    const dir = m?.[1] ?? '';
    if (dir === '') throw new UsageError(`${flag} '${spec}': expected ising:<dir>[:T]`);
    const ds = loadIsingDataset(dir);
    if (ds.manifest.geometry !== 'square') throw new UsageError(`${flag} '${spec}': diffusion needs a square-lattice data set, ${dir} holds a chain`);
    let idx = 0;
    if (m?.[2] !== undefined) {
      const T = Number(m[2]);
      idx = ds.temperatures.findIndex((e) => Math.abs(e.T - T) < 1e-9 * Math.max(1, T));
      if (!Number.isFinite(T) || idx < 0) throw new UsageError(`${flag} '${spec}': no temperature ${m[2]} in ${dir} (it has ${ds.temperatures.map((e) => e.T).join(', ')})`);
    } else if (ds.temperatures.length > 1) {
      throw new UsageError(`${flag} '${spec}': ${dir} holds ${ds.temperatures.length} temperatures (${ds.temperatures.map((e) => e.T).join(', ')}); pick one with ising:${dir}:<T>`);
    }
    const e = ds.temperatures[idx]!;
    const L = ds.manifest.L;
    const N = ds.N;
    const n = Math.min(e.n, limit ?? e.n);
    const x = new Float32Array(n * N);
    for (let i = 0; i < x.length; i++) x[i] = e.spins[i]!;
    return { kind: 'ising', spec, n, dim: N, x, shape: [L, L, 1], ising: { L, T: e.T, J: ds.manifest.J, reference: ds.manifest.temperatures[idx]!.observables } };
  }
  throw new UsageError(`${flag} '${spec}': expected fashion-mnist, mnist, toy:<name>[:N] or ising:<dir>[:T]`);
}
