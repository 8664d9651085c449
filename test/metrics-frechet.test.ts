import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { ShapeError } from '../src/core/errors.js';
import { frechetDistance, frechetFromStats, gaussianStats, samples, sqrtPsd, symmetricEigen } from '../src/metrics/index.js';

function randomSymmetric(rng: Rng, d: number): Float64Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      const v = rng.normal();
      a[i * d + j] = v;
      a[j * d + i] = v;
    }
  return a;
}

/** B Bᵀ for a random d×r B: PSD of rank r. */
function randomPsd(rng: Rng, d: number, r: number): Float64Array {
  const b = new Float64Array(d * r);
  rng.fillNormal(b);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < r; k++) out[i * d + j]! += b[i * r + k]! * b[j * r + k]!;
  return out;
}

function mul(a: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) out[i * d + j]! += a[i * d + k]! * b[k * d + j]!;
  return out;
}

function fro(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! ** 2;
  return Math.sqrt(s);
}

describe('symmetricEigen', () => {
  it('reconstructs random symmetric matrices with orthonormal vectors and sorted values', () => {
    const rng = new Rng(20);
    for (const d of [1, 2, 3, 7, 24, 64]) {
      const a = randomSymmetric(rng, d);
      const copy = Float64Array.from(a);
      const { values, vectors: V } = symmetricEigen(a, d);
      expect(Array.from(a)).toEqual(Array.from(copy));
      const VL = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) VL[i * d + j] = V[i * d + j]! * values[j]!;
      const Vt = new Float64Array(d * d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) Vt[i * d + j] = V[j * d + i]!;
      const rec = mul(VL, Vt, d);
      // Backward stability: residuals O(d·ε·‖A‖).
      expect(rec).toBeAllClose(a, { atol: 1e-12 * fro(a) });
      const eye = new Float64Array(d * d);
      for (let i = 0; i < d; i++) eye[i * d + i] = 1;
      expect(mul(Vt, V, d)).toBeAllClose(eye, { atol: 1e-12 });
      for (let i = 1; i < d; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      let tr = 0;
      for (let i = 0; i < d; i++) tr += a[i * d + i]!;
      expect(values.reduce((s, v) => s + v, 0)).toBeAllClose(tr, { atol: 1e-12 * fro(a) });
    }
  });

  it('handles known spectra, repeated eigenvalues and rank-deficient PSD matrices', () => {
    expect(symmetricEigen([2, 1, 1, 2], 2).values).toBeAllClose([1, 3], { rtol: 1e-15 });
    expect(symmetricEigen([5, 0, 0, 0, 5, 0, 0, 0, 5], 3).values).toBeAllClose([5, 5, 5]);
    expect(symmetricEigen(new Float64Array(16), 4).values).toBeAllClose([0, 0, 0, 0]);
    // [[1, 1e-200], [1e-200, 1]]: a tiny coupling must not overflow the rotation angle.
    expect(symmetricEigen([1, 1e-200, 1e-200, 1], 2).values).toBeAllClose([1, 1]);
    const rng = new Rng(21);
    const p = randomPsd(rng, 30, 3);
    const { values } = symmetricEigen(p, 30);
    const scale = values[29]!;
    for (let i = 0; i < 27; i++) expect(Math.abs(values[i]!)).toBeLessThan(1e-13 * scale);
    expect(values[27]!).toBeGreaterThan(1e-3 * scale);
    expect(() => symmetricEigen([1, 2, 3], 2)).toThrow(ShapeError);
    expect(() => symmetricEigen([1, NaN, NaN, 1], 2)).toThrow(/entry 1/);
  });

  it('sqrtPsd squares back, also for singular matrices with rounding noise', () => {
    const rng = new Rng(22);
    for (const [d, r] of [
      [6, 6],
      [10, 4],
    ] as const) {
      const p = randomPsd(rng, d, r);
      const s = sqrtPsd(p, d);
      expect(mul(s, s, d)).toBeAllClose(p, { atol: 1e-10 * fro(p) });
    }
    // A covariance rounded slightly indefinite: eigenvalues 2 and −2e-10 (clipped to 0) → √ = [[1, 1], [1, 1]]/√2.
    expect(sqrtPsd([1 - 1e-10, 1, 1, 1 - 1e-10], 2)).toBeAllClose([1, 1, 1, 1].map((v) => v / Math.SQRT2), { rtol: 1e-9 });
    expect(sqrtPsd([1, 0, 0, -1e-10], 2)).toBeAllClose([1, 0, 0, 0], { atol: 1e-15 });
  });
});

/** tr √(S1 S2) for 2×2 PSD matrices: the eigenvalues λ₁, λ₂ of S1S2 (= those of S1^½S2S1^½) give √λ₁ + √λ₂ = √(tr(S1S2) + 2√(det S1 det S2)). */
function trSqrt2x2(s1: number[], s2: number[]): number {
  const tr = s1[0]! * s2[0]! + s1[1]! * s2[2]! + s1[2]! * s2[1]! + s1[3]! * s2[3]!;
  const det = (m: number[]): number => m[0]! * m[3]! - m[1]! * m[2]!;
  return Math.sqrt(tr + 2 * Math.sqrt(det(s1) * det(s2)));
}

describe('frechetFromStats', () => {
  it('matches hand cases', () => {
    // Same Gaussian → 0; means only → ‖δ‖²; 1D → (μ₁−μ₂)² + (s₁−s₂)².
    const S = [2, 0.5, 0.5, 1];
    expect(frechetFromStats([1, 2], S, [1, 2], S)).toBeAllClose(0, { atol: 1e-13 });
    expect(frechetFromStats([1, 2], S, [4, -2], S)).toBeAllClose(25, { rtol: 1e-13 });
    expect(frechetFromStats([0.5], [4], [-1], [9])).toBeAllClose(1.5 ** 2 + 1, { rtol: 1e-14 });
    // Diagonal (commuting) covariances: Σ(√a − √b)².
    const a = [1, 4, 9, 0.25];
    const b = [4, 4, 1, 0];
    const diag = (v: number[]): number[] => v.flatMap((x, i) => v.map((_, j) => (i === j ? x : 0)));
    expect(frechetFromStats([0, 0, 0, 0], diag(a), [1, 0, 0, 0], diag(b))).toBeAllClose(1 + 1 + 0 + 4 + 0.25, { rtol: 1e-13 });
    // Σ₂ = c²Σ₁ for a non-diagonal Σ₁: (1 − c)² tr Σ₁.
    expect(frechetFromStats([0, 0], S, [0, 0], S.map((v) => 9 * v))).toBeAllClose(4 * 3, { rtol: 1e-13 });
  });

  it('matches the 2×2 closed form for non-commuting and singular covariances', () => {
    const cases: [number[], number[]][] = [
      [
        [2, 0.9, 0.9, 1],
        [1, -0.7, -0.7, 3],
      ],
      [
        [1, 0, 0, 0.01],
        [0.5, 0.5, 0.5, 0.5], // singular
      ],
      [
        [4, 2, 2, 1], // singular
        [1, 0.3, 0.3, 2],
      ],
    ];
    for (const [s1, s2] of cases) {
      const expected = 1.25 + s1[0]! + s1[3]! + s2[0]! + s2[3]! - 2 * trSqrt2x2(s1, s2);
      expect(frechetFromStats([0, 1], s1, [1, 1.5], s2)).toBeAllClose(expected, { rtol: 1e-12 });
      expect(frechetFromStats([1, 1.5], s2, [0, 1], s1)).toBeAllClose(expected, { rtol: 1e-12 });
    }
  });

  it('is symmetric in its arguments for random non-commuting 8×8 covariances', () => {
    // The formula is not visibly symmetric (only Σ₁ is square-rooted), so agreement is a real check.
    const rng = new Rng(23);
    const m1 = new Float64Array(8);
    const m2 = new Float64Array(8);
    rng.fillNormal(m1);
    rng.fillNormal(m2);
    const s1 = randomPsd(rng, 8, 8);
    for (const [rank, rtol] of [
      [8, 1e-11],
      // A singular Σ₂: √ is not Lipschitz at 0, so eigenvalue rounding ε‖Σ‖ becomes √ε-sized errors.
      [5, 1e-7],
    ] as const) {
      const s2 = randomPsd(rng, 8, rank);
      const f = frechetFromStats(m1, s1, m2, s2);
      expect(f).toBeGreaterThan(1);
      expect(frechetFromStats(m2, s2, m1, s1)).toBeAllClose(f, { rtol });
    }
  });
});

describe('frechetDistance', () => {
  it('estimates the closed form between diagonal Gaussians from samples', () => {
    // N(0, diag a) vs N(δ, diag b) in d = 4: FD = ‖δ‖² + Σ(√a − √b)².
    const a = [1, 0.25, 4, 1];
    const b = [1, 1, 1, 2.25];
    const delta = [0.5, 0, 0, -0.5];
    const truth = 0.5 + 0 + 0.25 + 1 + 0.25;
    const rng = new Rng(24);
    const R = 20;
    const n = 4000;
    const vals: number[] = [];
    for (let r = 0; r < R; r++) {
      const x = new Float32Array(n * 4);
      const y = new Float32Array(n * 4);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < 4; k++) {
          x[i * 4 + k] = Math.sqrt(a[k]!) * rng.normal();
          y[i * 4 + k] = delta[k]! + Math.sqrt(b[k]!) * rng.normal();
        }
      vals.push(frechetDistance(samples(x, 4), samples(y, 4)));
    }
    const m = vals.reduce((s, v) => s + v, 0) / R;
    const sd = Math.sqrt(vals.reduce((s, v) => s + (v - m) ** 2, 0) / (R - 1));
    // The plug-in estimate is biased up by O(d/n): ‖δ̂‖² alone by tr(Σ₁ + Σ₂)/n = 11.5/4000 ≈ 0.003.
    // Tolerance: 4 standard errors of the 20-replicate mean plus that bias twice over.
    expect(Math.abs(m - truth)).toBeLessThan((4 * sd) / Math.sqrt(R) + 2 * (11.5 / n));
  });

  it('fits the unbiased covariance', () => {
    const x = samples(new Float64Array([0, 0, 1, 2, 2, 1]), 2);
    const { mean, cov } = gaussianStats(x);
    expect(mean).toBeAllClose([1, 1]);
    // Deviations (−1,−1), (0,1), (1,0): Σ = [[2, 1], [1, 2]]/2.
    expect(cov).toBeAllClose([1, 0.5, 0.5, 1]);
    expect(() => frechetDistance(x, samples(new Float64Array(3), 3))).toThrow(/columns/);
  });
});
