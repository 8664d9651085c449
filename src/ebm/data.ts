/**
 * Training data for the energy models, named by a short spec string:
 * `fashion-mnist`, `mnist`, `bars-and-stripes:<n>`, `spins:<file>` (a text spin file, or a
 * `.npy` of ±1 or 0/1 spins of shape [n, …], e.g. one temperature of an Ising dataset).
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { binarizeDynamic, binarizeStatic, loadImageDataset, readSpinText, toUnitFloat, type DatasetName } from '../data/index.js';
import { loadSpinConfigurations, type SpinConfigurations } from '../data/spins.js';
import { DATA_SPEC_FORMS, parseDataSpec } from '../data/spec.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { barsAndStripesPatterns } from './bars-and-stripes.js';

/** How grey images become binary: fixed threshold 0.5, a fresh Bernoulli draw per epoch, or kept grey. */
export type Binarization = 'static' | 'dynamic' | 'none';

/** A loaded data set for an energy model. */
export interface EbmData {
  /** The spec it was loaded from. */
  readonly spec: string;
  /** Values per example. */
  readonly nVisible: number;
  /** Training rows (for 'dynamic' binarisation, the grey intensities: call {@link EbmData.epochData}). */
  readonly train: Float32Array;
  /** Held-out rows (binarised once, reproducibly), or null when the source has none. */
  readonly test: Float32Array | null;
  /** Unit convention of the values: {0,1} (or grey in [0,1]) or ±1 spins. */
  readonly units: '01' | 'pm1';
  /** Image shape for grids, when the rows are images. */
  readonly image: { readonly height: number; readonly width: number } | null;
  /** The training rows for one epoch (a fresh binarisation when dynamic). */
  epochData(rng: Rng): Float32Array;
}

/** Options of {@link loadEbmData}. */
export interface LoadEbmDataOptions {
  /** Binarisation of grey images (default 'static'). */
  readonly binarize?: Binarization;
  /** Use only the first `limit` training rows (default all). */
  readonly limit?: number;
  /** Dataset directory override for image data. */
  readonly dir?: string;
  /** Random stream for the fixed dynamic binarisation of the test split. */
  readonly rng?: Rng;
}

function binarise(x: Float32Array, mode: Binarization, rng: Rng | undefined): Float32Array {
  if (mode === 'static') return binarizeStatic(x);
  if (mode === 'dynamic') {
    if (!rng) throw new UsageError('dynamic binarisation needs a random stream');
    return binarizeDynamic(x, rng);
  }
  return x;
}

/**
 * Load a data set by spec. Image sets give 784-pixel rows (train split for
 * training, test split held out); bars-and-stripes gives its 2^(n+1) − 2
 * distinct patterns; spin files are used as written (0/1 or ±1).
 */
export function loadEbmData(spec: string, opts: LoadEbmDataOptions = {}): EbmData {
  const mode = opts.binarize ?? 'static';
  const cut = (x: Float32Array, nv: number) => (opts.limit && opts.limit * nv < x.length ? x.subarray(0, opts.limit * nv) : x);
  if (spec === 'fashion-mnist' || spec === 'mnist') {
    const name = spec as DatasetName;
    const tr = loadImageDataset(name, 'train', opts.dir ? { dir: opts.dir } : {});
    const te = loadImageDataset(name, 'test', opts.dir ? { dir: opts.dir } : {});
    const nv = tr.rows * tr.cols;
    const grey = cut(toUnitFloat(tr.pixels), nv);
    const train = mode === 'dynamic' ? grey : binarise(grey, mode, undefined);
    const test = binarise(toUnitFloat(te.pixels), mode, opts.rng);
    return {
      spec,
      nVisible: nv,
      train,
      test,
      units: '01',
      image: { height: tr.rows, width: tr.cols },
      epochData: (rng) => (mode === 'dynamic' ? binarizeDynamic(grey, rng) : train),
    };
  }
  const bas = /^bars-and-stripes:(\d+)$/.exec(spec);
  if (bas) {
    const n = Number(bas[1]);
    if (n < 2 || n > 6) throw new UsageError(`--data ${spec}: bars-and-stripes size must be 2 … 6`);
    const pats = barsAndStripesPatterns(n);
    return { spec, nVisible: n * n, train: pats, test: pats, units: '01', image: { height: n, width: n }, epochData: () => pats };
  }
  const spins = /^spins:(.+)$/.exec(spec);
  if (spins) {
    const d = spins[1]!.endsWith('.npy') ? fromConfigurations(loadSpinConfigurations(spins[1]!)) : readSpinText(spins[1]!);
    const train = cut(d.data, d.dim);
    const L = Math.round(Math.sqrt(d.dim));
    return {
      spec,
      nVisible: d.dim,
      train,
      test: null,
      units: d.convention,
      image: L * L === d.dim ? { height: L, width: L } : null,
      epochData: () => train,
    };
  }
  const parsed = parseDataSpec(spec, '--data', ['fashion-mnist', 'mnist', 'bars-and-stripes', 'spins', 'ising']);
  if (parsed.kind === 'ising') {
    // One RBM models one temperature: ising:DIR:T picks that temperature's .npy from the manifest.
    const mpath = join(parsed.dir, 'manifest.json');
    let temps: Array<{ T: number; file: string }>;
    try {
      temps = (JSON.parse(readFileSync(mpath, 'utf8')) as { temperatures: Array<{ T: number; file: string }> }).temperatures;
      if (!Array.isArray(temps)) throw new Error('no temperatures');
    } catch (err) {
      throw new UsageError(`--data ${spec}: ${mpath} is not a readable Ising dataset manifest (${(err as Error).message.split('\n')[0]})`);
    }
    const list = temps.map((t) => t.T.toFixed(4)).join(', ');
    if (parsed.T === null) throw new UsageError(`--data ${spec}: an RBM models one temperature; add :T, one of ${list}`);
    const hit = temps.find((t) => Math.abs(t.T - parsed.T!) < 5e-5);
    if (!hit) throw new UsageError(`--data ${spec}: no temperature ${parsed.T} in ${mpath} (it has ${list})`);
    return loadEbmData(`spins:${join(parsed.dir, hit.file)}`, opts);
  }
  throw new UsageError(`--data '${spec}': expected ${DATA_SPEC_FORMS}`);
}

/** ±1 configurations (e.g. one temperature's `.npy` of an Ising dataset) as float rows. */
function fromConfigurations(c: SpinConfigurations): { data: Float32Array; dim: number; convention: 'pm1' } {
  return { data: Float32Array.from(c.spins), dim: c.dim, convention: 'pm1' };
}
