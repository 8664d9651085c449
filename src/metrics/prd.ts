/**
 * Improved precision and recall by k-nearest-neighbour manifolds.
 */
import { UsageError } from '../core/errors.js';
import { checkSameWidth, checkSamples, sqDist, type Samples } from './samples.js';

/** Options of {@link precisionRecall}. */
export interface PrecisionRecallOptions {
  /** Neighbourhood size k (default 3, the paper's choice). */
  readonly k?: number;
}

/** Result of {@link precisionRecall}. */
export interface PrecisionRecallResult {
  /** Fraction of generated samples inside the real manifold. */
  readonly precision: number;
  /** Fraction of real samples inside the generated manifold. */
  readonly recall: number;
  /** The k used. */
  readonly k: number;
}

/**
 * Squared distance from each row of `s` to its k-th nearest other row
 * (the radius² of its k-NN ball). O(n² d) time, O(n + k) memory.
 */
export function knnRadii2(s: Samples, k: number): Float64Array {
  if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`knnRadii2: k must be an integer ≥ 1, got ${k}`);
  if (s.n <= k) throw new UsageError(`knnRadii2: needs more than k = ${k} rows, got ${s.n}`);
  const out = new Float64Array(s.n);
  const best = new Float64Array(k);
  for (let i = 0; i < s.n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < s.n; j++) {
      if (j === i) continue;
      const v = sqDist(s, i, s, j);
      if (v >= best[k - 1]!) continue;
      // Insertion into the sorted k smallest.
      let p = k - 1;
      while (p > 0 && best[p - 1]! > v) {
        best[p] = best[p - 1]!;
        p--;
      }
      best[p] = v;
    }
    out[i] = best[k - 1]!;
  }
  return out;
}

/** Fraction of rows of `q` inside at least one ball (centre a row of `ref`, radius² `r2`). */
function coverage(q: Samples, ref: Samples, r2: Float64Array): number {
  let inside = 0;
  for (let i = 0; i < q.n; i++) {
    for (let j = 0; j < ref.n; j++) {
      if (sqDist(q, i, ref, j) <= r2[j]!) {
        inside++;
        break;
      }
    }
  }
  return inside / q.n;
}

/**
 * Precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila, NeurIPS
 * 2019, eqs. 1–2): each set's manifold is the union of balls around its points
 * reaching their k-th nearest neighbour in the same set; precision is the
 * fraction of `fake` inside the real manifold, recall the fraction of `real`
 * inside the fake one. O((m + n)² d) time.
 */
export function precisionRecall(real: Samples, fake: Samples, opts: PrecisionRecallOptions = {}): PrecisionRecallResult {
  const k = opts.k ?? 3;
  checkSamples('precisionRecall real', real, 1);
  checkSamples('precisionRecall fake', fake, 1);
  checkSameWidth('precisionRecall', real, fake);
  const rReal = knnRadii2(real, k);
  const rFake = knnRadii2(fake, k);
  return { precision: coverage(fake, real, rReal), recall: coverage(real, fake, rFake), k };
}
