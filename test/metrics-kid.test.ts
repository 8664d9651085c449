import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import { kid, mmd2Unbiased, polynomialKernel, samples, type Samples } from '../src/metrics/index.js';

function normal1d(rng: Rng, n: number, mu: number, s: number): Samples {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = mu + s * rng.normal();
  return samples(a, 1);
}

/*
 * Closed form in d = 1: k(x, y) = (xy + 1)³ = x³y³ + 3x²y² + 3xy + 1, so for independent X ~ P, Y ~ Q,
 * E k(X, Y) = m₃(P)m₃(Q) + 3m₂(P)m₂(Q) + 3m₁(P)m₁(Q) + 1 with raw moments m_j, and
 * MMD² = (m₃(P) − m₃(Q))² + 3(m₂(P) − m₂(Q))² + 3(m₁(P) − m₁(Q))².
 * For N(μ, s²): m₁ = μ, m₂ = μ² + s², m₃ = μ³ + 3μs².
 */
function kidClosedForm(mu: number, s: number): number {
  const m1 = mu;
  const m2 = mu * mu + s * s;
  const m3 = mu ** 3 + 3 * mu * s * s;
  return m3 ** 2 + 3 * (m2 - 1) ** 2 + 3 * m1 ** 2;
}

function meanSd(v: number[]): [number, number] {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return [m, Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1))];
}

describe('kid', () => {
  it('is unbiased for the cubic-kernel closed form, ≈ 0 for one distribution and > 0 for two', () => {
    const rng = new Rng(10);
    const R = 20;
    const same: number[] = [];
    const diff: number[] = [];
    for (let r = 0; r < R; r++) {
      const real = normal1d(rng, 600, 0, 1);
      same.push(kid(real, normal1d(rng, 600, 0, 1), { rng, subsetSize: 200, subsets: 20 }).mean);
      diff.push(kid(real, normal1d(rng, 600, 0.4, 0.8), { rng, subsetSize: 200, subsets: 20 }).mean);
    }
    // Each replicate's subset mean is an unbiased estimate; 4-sigma tolerance on the mean of 20 replicates.
    const [ms, sds] = meanSd(same);
    expect(Math.abs(ms)).toBeLessThan((4 * sds) / Math.sqrt(R));
    const truth = kidClosedForm(0.4, 0.8);
    const [md, sdd] = meanSd(diff);
    expect(Math.abs(md - truth)).toBeLessThan((4 * sdd) / Math.sqrt(R));
    expect(truth).toBeGreaterThan((10 * sdd) / Math.sqrt(R));
    expect(Math.min(...diff)).toBeGreaterThan(0);
  });

  it('reports the mean and sample std of per-subset MMD²_u with (xᵀy/d + 1)³, reproducibly', () => {
    const rng = new Rng(11);
    const a = new Float32Array(4 * 50);
    const b = new Float32Array(4 * 60);
    rng.fillNormal(a);
    rng.fillNormal(b);
    const real = samples(a, 4);
    const fake = samples(b, 4);
    const r1 = kid(real, fake, { rng: new Rng(3), subsetSize: 30, subsets: 7 });
    const r2 = kid(real, fake, { rng: new Rng(3), subsetSize: 30, subsets: 7 });
    expect(r1).toEqual(r2);
    expect(r1.values.length).toBe(7);
    const [m, sd] = meanSd(Array.from(r1.values));
    expect(r1.mean).toBeAllClose(m, { rtol: 1e-12 });
    expect(r1.std).toBeAllClose(sd, { rtol: 1e-12 });
    // Full-size subsets are the whole sets: one value, the plain MMD²_u with γ = 1/4.
    const full = kid(real, fake, { rng, subsetSize: 50, subsets: 1 });
    const k = polynomialKernel({ gamma: 0.25, coef0: 1, degree: 3 });
    expect(full.values[0]!).not.toBe(mmd2Unbiased(real, fake, k).value); // fake has 60 rows: a subset of 50 was drawn
    const sq = kid(real, samples(b.subarray(0, 200), 4), { rng, subsetSize: 50, subsets: 1 });
    expect(sq.values[0]!).toBeAllClose(mmd2Unbiased(real, samples(b.subarray(0, 200), 4), k).value, { rtol: 1e-12 });
    expect(polynomialKernel().k(samples(new Float64Array([1, 2]), 2), 0, samples(new Float64Array([3, -1]), 2), 0)).toBeAllClose((1 / 2 + 1) ** 3);
  });

  it('rejects a subset larger than the data', () => {
    const rng = new Rng(12);
    const x = normal1d(rng, 20, 0, 1);
    expect(() => kid(x, x, { rng, subsetSize: 21 })).toThrow(UsageError);
    expect(() => kid(x, x, { rng, subsetSize: 21 })).toThrow(/subsetSize 21/);
    expect(() => kid(x, x, { rng, subsets: 0 })).toThrow(/subsets/);
  });
});
