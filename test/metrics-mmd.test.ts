import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { chiSquareTest } from '../src/core/stats.js';
import { ShapeError, UsageError } from '../src/core/errors.js';
import {
  gaussianKernel,
  meanSqDistance,
  meanSqDistanceKernel,
  medianBandwidth,
  mmd,
  mmd2Unbiased,
  mmdBaseline,
  mmdPermutationTest,
  mmdReport,
  samples,
  type Samples,
} from '../src/metrics/index.js';

/** n rows of N(mu, s² I_d). */
function gauss(rng: Rng, n: number, d: number, mu: readonly number[], s: number): Samples {
  const a = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) a[i * d + k] = (mu[k] ?? 0) + s * rng.normal();
  return samples(a, d);
}

/*
 * Closed form. For X ~ N(μ_a, a²I_d), Y ~ N(μ_b, b²I_d) independent, Z = X − Y ~ N(δ, τ²I_d)
 * with δ = μ_a − μ_b, τ² = a² + b². Per coordinate,
 *   E exp(−Z_k²/(2σ²)) = ∫ N(z; δ_k, τ²) exp(−z²/(2σ²)) dz = √(σ²/(σ²+τ²)) · exp(−δ_k²/(2(σ²+τ²)))
 * (completing the square: the product of the two Gaussians in z integrates to a Gaussian in δ_k of
 * variance σ² + τ², times √(2πσ²)). The coordinates factorise, so
 *   E k(X, Y) = (σ²/(σ²+τ²))^{d/2} · exp(−‖δ‖²/(2(σ²+τ²))),
 * and MMD² = E k(X,X') + E k(Y,Y') − 2 E k(X,Y) with τ² = 2a², 2b² and a² + b² respectively.
 */
function ek(d: number, sigma: number, tau2: number, delta2: number): number {
  const s2 = sigma * sigma;
  return (s2 / (s2 + tau2)) ** (d / 2) * Math.exp(-delta2 / (2 * (s2 + tau2)));
}
function mmd2Gauss(d: number, sigma: number, a: number, b: number, delta2: number): number {
  return ek(d, sigma, 2 * a * a, 0) + ek(d, sigma, 2 * b * b, 0) - 2 * ek(d, sigma, a * a + b * b, delta2);
}

function meanSd(v: number[]): [number, number] {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
  return [m, sd];
}

describe('mmd2Unbiased', () => {
  it('equals the brute-force U-statistic on a small case', () => {
    const rng = new Rng(1);
    const x = gauss(rng, 5, 3, [0, 0, 0], 1);
    const y = gauss(rng, 7, 3, [0.5, 0, 0], 1);
    const k = gaussianKernel(1.3);
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) if (i !== j) xx += k.k(x, i, x, j);
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) if (i !== j) yy += k.k(y, i, y, j);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 7; j++) xy += k.k(x, i, y, j);
    const expected = xx / 20 + yy / 42 - (2 * xy) / 35;
    expect(mmd2Unbiased(x, y, k).value).toBeAllClose(expected, { rtol: 1e-12 });
    // The jackknife SE against its definition: recompute every leave-one-out estimate.
    const drop = (s: Samples, r: number): Samples => {
      const a = new Float64Array((s.n - 1) * s.d);
      for (let i = 0, o = 0; i < s.n; i++) if (i !== r) for (let c = 0; c < s.d; c++) a[o++] = s.data[i * s.d + c]!;
      return samples(a, s.d);
    };
    const jk = (vals: number[]): number => {
      const m = vals.reduce((s, v) => s + v, 0) / vals.length;
      return ((vals.length - 1) / vals.length) * vals.reduce((s, v) => s + (v - m) ** 2, 0);
    };
    const ux = Array.from({ length: 5 }, (_, i) => mmd2Unbiased(drop(x, i), y, k).value);
    const uy = Array.from({ length: 7 }, (_, j) => mmd2Unbiased(x, drop(y, j), k).value);
    expect(mmd2Unbiased(x, y, k).se).toBeAllClose(Math.sqrt(jk(ux) + jk(uy)), { rtol: 1e-9 });
  });

  it('is unbiased for the closed form of two Gaussians (unequal m, n) and its SE matches the spread', () => {
    // N(0, I₂) vs N((0.6, 0), 1.2² I₂), σ = 1.5; 150 independent draws of m = 80, n = 120.
    const d = 2;
    const sigma = 1.5;
    const truth = mmd2Gauss(d, sigma, 1, 1.2, 0.36);
    const k = gaussianKernel(sigma);
    const rng = new Rng(2);
    const vals: number[] = [];
    const ses: number[] = [];
    for (let r = 0; r < 150; r++) {
      const e = mmd2Unbiased(gauss(rng, 80, d, [0, 0], 1), gauss(rng, 120, d, [0.6, 0], 1.2), k);
      vals.push(e.value);
      ses.push(e.se);
    }
    const [m, sd] = meanSd(vals);
    // Unbiased: the mean of 150 draws is within 4 of its standard errors (sd/√150) of the closed form.
    expect(Math.abs(m - truth)).toBeLessThan((4 * sd) / Math.sqrt(150));
    expect(truth).toBeGreaterThan(10 * (sd / Math.sqrt(150))); // the check has power
    // Away from the null the jackknife is first-order correct: mean SE / empirical sd ≈ 1. With 150
    // draws the sd itself has relative SE 1/√(2·149) ≈ 6 %, so ±25 % is 4 sigma.
    const ratio = meanSd(ses)[0] / sd;
    expect(ratio).toBeGreaterThan(0.75);
    expect(ratio).toBeLessThan(1.25);
  });

  it('has mean ≈ 0 when P = Q, and its SE is the predicted √2 too large', () => {
    const k = gaussianKernel(1);
    const rng = new Rng(3);
    const vals: number[] = [];
    const ses: number[] = [];
    const R = 300;
    for (let r = 0; r < R; r++) {
      const e = mmd2Unbiased(gauss(rng, 50, 3, [], 1), gauss(rng, 50, 3, [], 1), k);
      vals.push(e.value);
      ses.push(e.se);
    }
    const [m, sd] = meanSd(vals);
    // 4-sigma tolerance on the mean of 300 draws.
    expect(Math.abs(m)).toBeLessThan((4 * sd) / Math.sqrt(R));
    expect(vals.some((v) => v < 0)).toBe(true); // unbiased estimates straddle 0
    // Under P = Q the statistic is degenerate; the jackknife doubles each second-order variance
    // component (Efron–Stein; worked out in mmd2Unbiased's TSDoc), so mean SE / sd ≈ √2 (≈ 1.43
    // for n = 50). The sd of 300 draws has relative SE ≈ 4 %; ±20 % is 5 sigma.
    const ratio = meanSd(ses)[0] / sd;
    expect(ratio).toBeGreaterThan(Math.SQRT2 * 0.8);
    expect(ratio).toBeLessThan(Math.SQRT2 * 1.2);
  });

  it('rejects too few rows and mismatched widths without touching the inputs', () => {
    const x = samples(new Float64Array([0, 1, 2, 3, 4, 5]), 2);
    const copy = Float64Array.from(x.data);
    expect(() => mmd2Unbiased(samples(new Float64Array(4), 2), x, gaussianKernel(1))).toThrow(ShapeError);
    expect(() => mmd2Unbiased(x, samples(new Float64Array(9), 3), gaussianKernel(1))).toThrow(/columns/);
    mmd2Unbiased(x, x, gaussianKernel(1));
    expect(Array.from(x.data)).toEqual(Array.from(copy));
    expect(() => gaussianKernel(0)).toThrow(UsageError);
  });
});

describe('bandwidths', () => {
  it('median heuristic on a hand case and meanSqDistance against brute force', () => {
    // Pooled 1D points 0, 1, 3: distances 1, 3, 2 → median 2.
    expect(medianBandwidth(samples(new Float64Array([0, 1]), 1), samples(new Float64Array([3]), 1))).toBe(2);
    // Four points 0, 1 | 3, 7: distances 1, 3, 7, 2, 6, 4 → median (3 + 4)/2 of the distances (not √ of the median d²).
    expect(medianBandwidth(samples(new Float64Array([0, 1]), 1), samples(new Float64Array([3, 7]), 1))).toBe(3.5);
    const rng = new Rng(4);
    const x = gauss(rng, 30, 4, [1, 2], 1);
    const y = gauss(rng, 20, 4, [0], 2);
    const all = [...Array(30).keys()].map((i) => Array.from(x.data.subarray(4 * i, 4 * i + 4)));
    for (let i = 0; i < 20; i++) all.push(Array.from(y.data.subarray(4 * i, 4 * i + 4)));
    let s = 0;
    for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) if (i !== j) s += all[i]!.reduce((t, v, c) => t + (v - all[j]![c]!) ** 2, 0);
    expect(meanSqDistance(x, y)).toBeAllClose(s / (50 * 49), { rtol: 1e-12 });
    expect(meanSqDistanceKernel(x, y, 0.5).sigma).toBeAllClose(0.5 * Math.sqrt(s / (50 * 49)), { rtol: 1e-12 });
    // Subsampling a large pool keeps the estimate close (N(0, I₁): median |z − z'| = √2 · 0.6745).
    const big = gauss(rng, 6000, 1, [], 1);
    expect(medianBandwidth(big, big, { maxPoints: 800 })).toBeAllClose(Math.SQRT2 * 0.6744897501960817, { rtol: 0.08 });
  });
});

describe('permutation test', () => {
  it('gives p-values uniform under the null and tiny under a shift', () => {
    const k = gaussianKernel(1);
    const rng = new Rng(5);
    const bins = new Array<number>(10).fill(0);
    const R = 300;
    for (let r = 0; r < R; r++) {
      const t = mmdPermutationTest(gauss(rng, 15, 2, [], 1), gauss(rng, 15, 2, [], 1), k, { rng, permutations: 99 });
      // p ∈ {1/100, …, 1}; under exchangeability each decile (k/100 for k in 10j+1 … 10j+10) has probability 0.1.
      bins[Math.min(9, Math.ceil(t.pValue * 10 - 1e-9) - 1)]!++;
    }
    const chi = chiSquareTest(bins, new Array(10).fill(0.1));
    expect(chi.pValue).toBeGreaterThan(1e-3);
    const alt = mmdPermutationTest(gauss(rng, 40, 2, [], 1), gauss(rng, 40, 2, [1.5, 0], 1), k, { rng, permutations: 199 });
    expect(alt.pValue).toBe(1 / 200);
  });

  it('computes the same statistic as mmd2Unbiased and is reproducible', () => {
    const rng = new Rng(6);
    const x = gauss(rng, 25, 3, [], 1);
    const y = gauss(rng, 35, 3, [0.3], 1);
    const k = gaussianKernel(2);
    const a = mmdPermutationTest(x, y, k, { rng: new Rng(7), permutations: 50 });
    const b = mmdPermutationTest(x, y, k, { rng: new Rng(7), permutations: 50 });
    expect(a.statistic).toBeAllClose(mmd2Unbiased(x, y, k).value, { rtol: 1e-10 });
    expect(a).toEqual(b);
    expect(() => mmdPermutationTest(x, y, k, { rng, permutations: 0 })).toThrow(/permutations/);
  });
});

describe('mmd report', () => {
  it('reports √max(MMD², 0), a same-kernel baseline and a p-value', () => {
    const rng = new Rng(8);
    const real = gauss(rng, 200, 2, [], 1);
    const fake = gauss(rng, 200, 2, [0.8, 0], 1);
    const rep = mmdReport(real, fake, { rng: new Rng(1), permutations: 99 });
    const sigma = medianBandwidth(real, fake);
    expect(rep.kernel).toBe(gaussianKernel(sigma).name);
    expect(rep.mmd2).toBeAllClose(mmd2Unbiased(real, fake, gaussianKernel(sigma)).value, { rtol: 1e-12 });
    expect(rep.mmd).toBeAllClose(Math.sqrt(rep.mmd2));
    expect(rep.baseline!.kernel).toBe(rep.kernel);
    expect(rep.baseline!.m + rep.baseline!.n).toBe(200);
    expect(rep.baseline!.mmd2).toBeLessThan(rep.mmd2 - 4 * rep.se);
    expect(rep.pValue).toBe(0.01);
    expect(mmdReport(real, fake, { rng: new Rng(1), permutations: 99 })).toEqual(rep);
    const same = mmd(real, gauss(rng, 200, 2, [], 1), { bandwidth: 'meanSq' });
    expect(same.kernel).toMatch(/^gaussian/);
    if (same.mmd2 < 0) expect(same.mmd).toBe(0);
    expect(Math.abs(same.mmd2)).toBeLessThan(4 * same.se);
    expect(mmdBaseline(real, gaussianKernel(1), new Rng(3)).mmd2).toBeAllClose(mmdBaseline(real, gaussianKernel(1), new Rng(3)).mmd2);
    expect(() => mmd(real, fake, { bandwidth: 'mean' as never })).toThrow(/bandwidth/);
  });
});
