/**
 * The one sample-matrix type every metric takes: n rows of d features, row-major.
 */
import { ShapeError } from '../core/errors.js';

/** A row-major [n, d] matrix of samples (row i is `data[i·d … i·d + d)`). */
export interface Samples {
  /** Row-major values, length n·d (entries past n·d are ignored). */
  readonly data: Float32Array | Float64Array;
  /** Number of rows (samples). */
  readonly n: number;
  /** Number of columns (features). */
  readonly d: number;
}

/**
 * Wrap a flat row-major array as {@link Samples} with `d` columns; the row count
 * is inferred. The array is shared, not copied (metrics never write to it).
 */
export function samples(data: Float32Array | Float64Array, d: number): Samples {
  if (!(Number.isInteger(d) && d >= 1)) throw new ShapeError(`samples: d must be an integer ≥ 1, got ${d}`);
  const n = data.length / d;
  if (!Number.isInteger(n)) throw new ShapeError(`samples: ${data.length} values is not a multiple of d = ${d}`);
  return { data, n, d };
}

/** Throws a one-line {@link ShapeError} unless `s` is a well-formed matrix with at least `minRows` rows. */
export function checkSamples(what: string, s: Samples, minRows: number = 1): void {
  if (!(Number.isInteger(s.n) && Number.isInteger(s.d) && s.d >= 1 && s.n >= 0)) throw new ShapeError(`${what}: bad shape [${s.n}, ${s.d}]`);
  if (s.data.length < s.n * s.d) throw new ShapeError(`${what}: shape [${s.n}, ${s.d}] needs ${s.n * s.d} values, data has ${s.data.length}`);
  if (s.n < minRows) throw new ShapeError(`${what}: needs at least ${minRows} rows, got ${s.n}`);
}

/** Throws a {@link ShapeError} unless `a` and `b` have the same number of columns. */
export function checkSameWidth(what: string, a: Samples, b: Samples): void {
  if (a.d !== b.d) throw new ShapeError(`${what}: the two sample sets have ${a.d} and ${b.d} columns`);
}

/** Squared Euclidean distance between row i of `a` and row j of `b` (float64 accumulation). */
export function sqDist(a: Samples, i: number, b: Samples, j: number): number {
  const d = a.d;
  const ad = a.data;
  const bd = b.data;
  const oa = i * d;
  const ob = j * d;
  let s = 0;
  for (let k = 0; k < d; k++) {
    const t = ad[oa + k]! - bd[ob + k]!;
    s += t * t;
  }
  return s;
}

/** Dot product of row i of `a` and row j of `b` (float64 accumulation). */
export function dotRows(a: Samples, i: number, b: Samples, j: number): number {
  const d = a.d;
  const ad = a.data;
  const bd = b.data;
  const oa = i * d;
  const ob = j * d;
  let s = 0;
  for (let k = 0; k < d; k++) s += ad[oa + k]! * bd[ob + k]!;
  return s;
}

/** The rows `idx` of `s` as a new float64 matrix (a copy; `s` is untouched). */
export function selectRows(s: Samples, idx: ArrayLike<number>): Samples {
  const d = s.d;
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!;
    if (!(i >= 0 && i < s.n)) throw new ShapeError(`selectRows: row ${i} out of range [0, ${s.n})`);
    for (let k = 0; k < d; k++) out[r * d + k] = s.data[i * d + k]!;
  }
  return { data: out, n: idx.length, d };
}

/** Rows of `a` followed by the rows of `b`, as a new float64 matrix. */
export function concatRows(a: Samples, b: Samples): Samples {
  checkSameWidth('concatRows', a, b);
  const d = a.d;
  const out = new Float64Array((a.n + b.n) * d);
  out.set(a.data.subarray(0, a.n * d), 0);
  out.set(b.data.subarray(0, b.n * d), a.n * d);
  return { data: out, n: a.n + b.n, d };
}
