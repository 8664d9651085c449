/**
 * Data sources for VAEs: image data sets from `src/data` scaled to [0, 1], and
 * Ising spin configurations mapped from ±1 to {0, 1}.
 */
import { loadImageDataset, type DatasetName } from '../data/datasets.js';
import { toUnitFloat } from '../data/binarize.js';
import type { VaeData } from './train.js';

/** A VAE data set with its image shape and label names. */
export interface VaeDataset extends VaeData {
  /** Image shape [rows, cols, channels]. */
  readonly shape: readonly [number, number, number];
  /** Label names (classes), when labels are categorical. */
  readonly classNames?: readonly string[];
  /** Human-readable name for messages and checkpoints, e.g. "fashion-mnist/train". */
  readonly name: string;
}

/**
 * Load a split of Fashion-MNIST or MNIST as unit floats (optionally only the first
 * `limit` images).
 */
export function loadVaeImages(name: DatasetName, split: 'train' | 'test', opts: { dir?: string; limit?: number } = {}): VaeDataset {
  const ds = loadImageDataset(name, split, opts.dir !== undefined ? { dir: opts.dir } : {});
  const n = Math.min(ds.n, opts.limit ?? ds.n);
  const dim = ds.rows * ds.cols;
  return {
    name: `${name}/${split}`,
    n,
    dim,
    x: toUnitFloat(ds.pixels.subarray(0, n * dim)),
    labels: ds.labels.subarray(0, n),
    shape: [ds.rows, ds.cols, 1],
    classNames: ds.classNames,
  };
}

/** Map ±1 (or 0/1) spins to {0, 1} floats: s ↦ (s + 1)/2 for ±1 data. */
export function spinsToUnit(spins: ArrayLike<number>): Float32Array {
  const out = new Float32Array(spins.length);
  for (let i = 0; i < spins.length; i++) out[i] = spins[i]! > 0 ? 1 : 0;
  return out;
}
