/**
 * Seeded shuffles, train/validation splits and mini-batch iteration.
 *
 * Batches are gathered row by row from the dataset into one buffer that is reused
 * for every batch of an epoch: memory per epoch is one batch, not one dataset copy.
 */
import type { Rng } from '../core/rng.js';

/** A seeded random permutation of 0 … n−1 (new array). */
export function shuffledIndices(n: number, rng: Rng): Uint32Array {
  checkCount(n, 'shuffledIndices: n');
  return rng.permutation(n);
}

/** A shuffled copy of `indices` (the input is not modified). */
export function shuffled(indices: Uint32Array, rng: Rng): Uint32Array {
  return rng.shuffleInPlace(indices.slice());
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

/**
 * Split 0 … n−1 at random into training and validation indices.
 * `round(n · valFraction)` indices go to validation; both lists are returned
 * sorted ascending (order is re-randomised by the batch iterator anyway).
 *
 * @param n - dataset size
 * @param valFraction - fraction in [0, 1) held out for validation
 * @param rng - seeded generator
 */
export function trainValSplit(n: number, valFraction: number, rng: Rng): { train: Uint32Array; val: Uint32Array } {
  checkCount(n, 'trainValSplit: n');
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`trainValSplit: valFraction must be in [0, 1), got ${valFraction}`);
  const perm = rng.permutation(n);
  const nVal = Math.round(n * valFraction);
  const val = perm.slice(0, nVal).sort();
  const train = perm.slice(nVal).sort();
  return { train, val };
}

/** One mini-batch. All arrays are views into buffers reused for the next batch. */
export interface Batch {
  /** Rows of the batch, `size × dim` row-major. Reused: copy it to keep it. */
  readonly x: Float32Array;
  /** Labels of the rows, when labels were given. Reused like `x`. */
  readonly labels: Uint8Array | undefined;
  /** Dataset row indices in this batch (a view into the epoch's order). */
  readonly indices: Uint32Array;
  /** Rows in this batch (equals batchSize except maybe for the last one). */
  readonly size: number;
  /** Batch number within the epoch, from 0. */
  readonly index: number;
}

/** Options of {@link iterateBatches}. */
export interface BatchOptions {
  /** Rows per batch (positive integer). */
  readonly batchSize: number;
  /** Rows to use, in this order unless shuffled. Default: all rows 0 … n−1. */
  readonly indices?: Uint32Array;
  /** Shuffle the rows with this generator (one permutation per call). Default: no shuffle. */
  readonly shuffle?: Rng;
  /** Skip a last batch smaller than `batchSize`. Default false. */
  readonly dropLast?: boolean;
  /** Per-row labels to gather alongside the rows. */
  readonly labels?: Uint8Array;
}

/** Number of batches {@link iterateBatches} will yield. */
export function batchCount(rows: number, batchSize: number, dropLast: boolean = false): number {
  return dropLast ? Math.floor(rows / batchSize) : Math.ceil(rows / batchSize);
}

/**
 * Iterate over one epoch of mini-batches of a row-major dataset.
 *
 * The yielded `x` and `labels` are views into buffers allocated once per call
 * and overwritten by the next batch; copy them (`x.slice()`) to keep a batch
 * beyond the next iteration. The dataset itself is never copied or modified.
 *
 * @param data - `n × dim` row-major values
 * @param dim - values per row
 * @param opts - batch size, row subset, shuffling, last-batch policy, labels
 */
export function* iterateBatches(data: Float32Array, dim: number, opts: BatchOptions): Generator<Batch, void, undefined> {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`iterateBatches: dim must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0) throw new RangeError(`iterateBatches: data length ${data.length} is not a multiple of dim ${dim}`);
  const n = data.length / dim;
  const bs = opts.batchSize;
  if (!Number.isInteger(bs) || bs < 1) throw new RangeError(`iterateBatches: batchSize must be a positive integer, got ${bs}`);
  const labels = opts.labels;
  if (labels !== undefined && labels.length !== n) throw new RangeError(`iterateBatches: ${labels.length} labels for ${n} rows`);
  let order: Uint32Array;
  if (opts.indices !== undefined) {
    for (let i = 0; i < opts.indices.length; i++) {
      if (opts.indices[i]! >= n) throw new RangeError(`iterateBatches: index ${opts.indices[i]} out of range for ${n} rows`);
    }
    order = opts.shuffle ? shuffled(opts.indices, opts.shuffle) : opts.indices;
  } else {
    order = opts.shuffle ? opts.shuffle.permutation(n) : Uint32Array.from({ length: n }, (_, i) => i);
  }
  const rows = order.length;
  const nb = batchCount(rows, bs, opts.dropLast ?? false);
  const xBuf = new Float32Array(Math.min(bs, rows) * dim);
  const yBuf = labels !== undefined ? new Uint8Array(Math.min(bs, rows)) : undefined;
  for (let b = 0; b < nb; b++) {
    const start = b * bs;
    const size = Math.min(bs, rows - start);
    for (let r = 0; r < size; r++) {
      const src = order[start + r]!;
      xBuf.set(data.subarray(src * dim, src * dim + dim), r * dim);
      if (yBuf !== undefined) yBuf[r] = labels![src]!;
    }
    yield {
      x: size * dim === xBuf.length ? xBuf : xBuf.subarray(0, size * dim),
      labels: yBuf === undefined ? undefined : size === yBuf.length ? yBuf : yBuf.subarray(0, size),
      indices: order.subarray(start, start + size),
      size,
      index: b,
    };
  }
}
