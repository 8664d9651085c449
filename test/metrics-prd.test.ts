import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import { knnRadii2, precisionRecall, samples, type Samples } from '../src/metrics/index.js';

function uniform1d(rng: Rng, n: number, lo: number, hi: number): Samples {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.uniform();
  return samples(a, 1);
}

function gauss2d(rng: Rng, n: number, mx: number, s: number): Samples {
  const a = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    a[2 * i] = mx + s * rng.normal();
    a[2 * i + 1] = s * rng.normal();
  }
  return samples(a, 2);
}

/** The definition, written out naively: k-th smallest distance by a full sort, then membership in any ball. */
function naive(real: Samples, fake: Samples, k: number): [number, number] {
  const d = real.d;
  const dist = (a: Samples, i: number, b: Samples, j: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (a.data[i * d + c]! - b.data[j * d + c]!) ** 2;
    return Math.sqrt(s);
  };
  const radii = (s: Samples): number[] =>
    Array.from({ length: s.n }, (_, i) =>
      Array.from({ length: s.n }, (_, j) => (j === i ? Infinity : dist(s, i, s, j))).sort((a, b) => a - b)[k - 1]!,
    );
  const rr = radii(real);
  const rf = radii(fake);
  const inside = (q: Samples, ref: Samples, r: number[]): number =>
    Array.from({ length: q.n }, (_, i) => r.some((rj, j) => dist(q, i, ref, j) <= rj)).filter(Boolean).length / q.n;
  return [inside(fake, real, rr), inside(real, fake, rf)];
}

describe('precisionRecall (k-NN manifolds)', () => {
  it('agrees with a naive implementation of the definition', () => {
    const rng = new Rng(30);
    const real = gauss2d(rng, 60, 0, 1);
    const fake = gauss2d(rng, 45, 0.7, 0.6);
    for (const k of [1, 3, 5]) {
      const r = precisionRecall(real, fake, { k });
      const [p, q] = naive(real, fake, k);
      expect(r.precision).toBe(p);
      expect(r.recall).toBe(q);
    }
    // Squared radii against a sorted brute force.
    const r2 = knnRadii2(real, 3);
    for (const i of [0, 17, 59]) {
      const ds = Array.from({ length: 60 }, (_, j) => (j === i ? Infinity : (real.data[2 * i]! - real.data[2 * j]!) ** 2 + (real.data[2 * i + 1]! - real.data[2 * j + 1]!) ** 2));
      ds.sort((a, b) => a - b);
      expect(r2[i]!).toBe(ds[2]!);
    }
  });

  it('gives exactly 1 and 1 for identical sets, and near 1 for two draws of one distribution', () => {
    const rng = new Rng(31);
    const real = gauss2d(rng, 1000, 0, 1);
    expect(precisionRecall(real, real)).toEqual({ precision: 1, recall: 1, k: 3 });
    // Not exactly 1: a fresh point can fall in a gap of the k-NN balls, mostly in the sparse tails.
    // Observed 0.97–0.99 here; 0.9 leaves a margin of over 10 binomial SEs (√(0.03·0.97/1000) ≈ 0.005).
    const r = precisionRecall(real, gauss2d(rng, 1000, 0, 1));
    expect(r.precision).toBeGreaterThan(0.9);
    expect(r.recall).toBeGreaterThan(0.9);
  });

  it('has the computable values for shifted and narrowed uniforms in 1D', () => {
    // The k-NN balls of a uniform sample cover its support's interior up to small gaps, a fraction c(k)
    // that for a Poisson process in 1D depends on k only (it is scale-free), not on the density. So
    // with real ~ U[0, 1], and edge overhangs ≈ k/n = 0.0015 aside:
    //  fake ~ U[0.5, 1.5]:   precision = P(fake ∈ [0, 1])·c = c/2, recall = P(real ∈ [0.5, 1.5])·c = c/2;
    //  fake ~ U[0.25, 0.75]: precision = c, recall = c/2;
    // and c itself is what two draws of U[0, 1] give. Tolerance: 4 binomial SEs, 4·√(0.25/2000) ≈ 0.045,
    // plus the overhang.
    const rng = new Rng(32);
    const n = 2000;
    const tol = 4 * Math.sqrt(0.25 / n) + 0.0015;
    const real = uniform1d(rng, n, 0, 1);
    const same = precisionRecall(real, uniform1d(rng, n, 0, 1));
    const c = 0.5 * (same.precision + same.recall);
    expect(c).toBeGreaterThan(0.95);
    expect(c).toBeLessThan(1);
    const shifted = precisionRecall(real, uniform1d(rng, n, 0.5, 1.5));
    expect(Math.abs(shifted.precision - c / 2)).toBeLessThan(tol);
    expect(Math.abs(shifted.recall - c / 2)).toBeLessThan(tol);
    const narrow = precisionRecall(real, uniform1d(rng, n, 0.25, 0.75));
    expect(Math.abs(narrow.precision - c)).toBeLessThan(4 * Math.sqrt((c * (1 - c)) / n));
    expect(Math.abs(narrow.recall - c / 2)).toBeLessThan(tol);
  });

  it('rejects a set no larger than k', () => {
    const rng = new Rng(33);
    expect(() => precisionRecall(gauss2d(rng, 3, 0, 1), gauss2d(rng, 10, 0, 1))).toThrow(UsageError);
    expect(() => precisionRecall(gauss2d(rng, 10, 0, 1), gauss2d(rng, 10, 0, 1), { k: 0 })).toThrow(/k must be/);
  });
});
