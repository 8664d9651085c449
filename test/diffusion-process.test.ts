import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { ShapeError, UsageError } from '../src/core/errors.js';
import { NoiseSchedule } from '../src/diffusion/schedule.js';
import { GaussianDiffusion, PREDICTIONS, ddimTimesteps, randomTimesteps, type Denoiser, type Prediction, type StepEvent } from '../src/diffusion/process.js';
import { gaussianMixtureDenoiser, type GaussianMixture } from '../src/diffusion/mixture.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const F32 = 2 ** -24;

function meanVar(x: Float32Array, D: number, d: number): { mean: number; variance: number; n: number } {
  const n = x.length / D;
  let s = 0;
  let ss = 0;
  for (let i = 0; i < n; i++) s += x[i * D + d]!;
  const m = s / n;
  for (let i = 0; i < n; i++) ss += (x[i * D + d]! - m) ** 2;
  return { mean: m, variance: ss / (n - 1), n };
}

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

function expectOneLine(f: () => unknown, cls: typeof UsageError | typeof ShapeError, re: RegExp): void {
  const e = catchError(f);
  expect(e).toBeInstanceOf(cls);
  expect(e.message).toMatch(re);
  expect(e.message).not.toContain('\n');
}

describe('qSample', () => {
  const sch = NoiseSchedule.linear(1000);
  const p = new GaussianDiffusion(sch);

  it('has mean √ᾱ_t x_0 and variance 1 − ᾱ_t (4σ, 20 000 draws per t; Ho et al. eq. 4)', () => {
    const N = 20000;
    const x0row = [1.5, -2];
    const ts = [1, 10, 100, 500, 1000];
    // One batch with per-example t: N rows for each t.
    const B = N * ts.length;
    const x0 = new Float32Array(B * 2);
    const t = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      x0[2 * i] = x0row[0]!;
      x0[2 * i + 1] = x0row[1]!;
      t[i] = ts[Math.floor(i / N)]!;
    }
    const eps = new Float32Array(B * 2);
    new Rng(5).fillNormal(eps);
    const x0copy = Float32Array.from(x0);
    const xt = p.qSample(x0, [B, 2], t, eps);
    expect(x0).toEqual(x0copy);
    ts.forEach((tt, k) => {
      const block = xt.subarray(k * N * 2, (k + 1) * N * 2);
      const ab = sch.alphaBar[tt]!;
      for (let d = 0; d < 2; d++) {
        const { mean, variance } = meanVar(block, 2, d);
        // σ of the sample mean √((1−ᾱ)/N), of the sample variance (1−ᾱ)√(2/(N−1)) (Gaussian).
        expect(Math.abs(mean - Math.sqrt(ab) * x0row[d]!)).toBeLessThan(4 * Math.sqrt((1 - ab) / N));
        expect(Math.abs(variance - (1 - ab))).toBeLessThan(4 * (1 - ab) * Math.sqrt(2 / (N - 1)));
      }
    });
  });

  it('is exactly √ᾱ x_0 + √(1−ᾱ) ε elementwise, and t = 0 returns x_0', () => {
    const x0 = Float32Array.from([0.3, -0.7, 2, 1]);
    const eps = Float32Array.from([1, 0.5, -1, 0]);
    const t = Int32Array.from([0, 700]);
    const xt = p.qSample(x0, [2, 2], t, eps);
    expect(Array.from(xt.subarray(0, 2))).toEqual(Array.from(x0.subarray(0, 2)));
    const a = Math.sqrt(sch.alphaBar[700]!);
    const b = Math.sqrt(1 - sch.alphaBar[700]!);
    expect(xt.subarray(2)).toBeAllClose([a * 2 - b, a], { rtol: 2 * F32 });
  });
});

describe('ε / x₀ / v conversions (Salimans & Ho 2022)', () => {
  const sch = NoiseSchedule.linear(1000);
  const p = new GaussianDiffusion(sch);
  const t = Int32Array.from([1, 2, 50, 500, 999, 1000]);
  const B = t.length;
  const D = 3;
  const rng = new Rng(9);
  const x0 = new Float32Array(B * D);
  const eps = new Float32Array(B * D);
  rng.fillNormal(x0);
  rng.fillNormal(eps);
  const xt = p.qSample(x0, [B, D], t, eps);

  it.each(PREDICTIONS.map((k) => [k]))('%s: target → (x̂₀, ε̂) recovers (x₀, ε) to float32 rounding', (pred) => {
    const out = p.trainingTarget(pred as Prediction, x0, eps, [B, D], t);
    const r = p.toX0Eps(pred as Prediction, out, xt, [B, D], t);
    let worst = 0;
    for (let i = 0; i < B; i++) {
      const a = sch.sqrtAlphaBar[t[i]!]!;
      const b = sch.sqrtOneMinusAlphaBar[t[i]!]!;
      for (let j = i * D; j < (i + 1) * D; j++) {
        // x_t and the target are rounded to float32 (relative 2^-24 each); the
        // inversions divide by √ᾱ or √(1−ᾱ), so the error is at most a few
        // 2^-24 (|x_t| + |target|) / min(√ᾱ, √(1−ᾱ)), plus the output's own rounding.
        const tol = 4 * F32 * ((Math.abs(xt[j]!) + Math.abs(out[j]!)) / Math.min(a, b) + Math.abs(x0[j]!) + Math.abs(eps[j]!));
        worst = Math.max(worst, Math.abs(r.x0[j]! - x0[j]!) / tol, Math.abs(r.eps[j]! - eps[j]!) / tol);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('v = √ᾱ ε − √(1−ᾱ) x₀ and the x₀ and ε targets are copies', () => {
    const v = p.trainingTarget('v', x0, eps, [B, D], t);
    const a = sch.sqrtAlphaBar[500]!;
    const b = sch.sqrtOneMinusAlphaBar[500]!;
    expect(v[3 * D]).toBeAllClose(a * eps[3 * D]! - b * x0[3 * D]!, { rtol: 2 * F32 });
    const e = p.trainingTarget('eps', x0, eps, [B, D], t);
    expect(e).toEqual(eps);
    expect(e).not.toBe(eps);
    expect(p.trainingTarget('x0', x0, eps, [B, D], t)).toEqual(x0);
  });

  it('the tfjs qSample, target and loss equal the plain versions (cpu backend, float32)', () => {
    const before = tf.memory().numTensors;
    const [xtTf, targets, losses] = tf.tidy(() => {
      const x0t = tf.tensor2d(x0, [B, D]);
      const et = tf.tensor2d(eps, [B, D]);
      const tt = tf.tensor1d(t, 'int32');
      const out = tf.tensor2d(Float32Array.from(x0, (u) => 0.5 * u + 0.1), [B, D]);
      return [
        p.qSampleTf(x0t, tt, et).dataSync(),
        PREDICTIONS.map((k) => p.trainingTargetTf(k, x0t, et, tt).dataSync()),
        PREDICTIONS.map((k) => p.lossTf(k, out, x0t, et, tt).dataSync()[0]!),
      ];
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(xtTf).toBeAllClose(xt, { rtol: 4 * F32, atol: 4 * F32 });
    PREDICTIONS.forEach((k, i) => {
      const target = p.trainingTarget(k, x0, eps, [B, D], t);
      expect(targets[i]!).toBeAllClose(target, { rtol: 4 * F32, atol: 4 * F32 });
      let mse = 0;
      for (let j = 0; j < target.length; j++) mse += (0.5 * x0[j]! + 0.1 - target[j]!) ** 2;
      expect(losses[i]!).toBeAllClose(mse / target.length, { rtol: 1e-5 });
    });
  });
});

describe('DDIM with η = 1 and all T steps is DDPM with fixed-small variance', () => {
  const sch = NoiseSchedule.cosine(100);
  const p = new GaussianDiffusion(sch);

  it('has the same update formula at every step (Song et al. eq. 16 vs Ho et al. eq. 7)', () => {
    for (let t = 1; t <= sch.T; t++) {
      const post = p.posterior(t);
      const c = p.ddimCoefficients(t, t - 1, 1);
      // DDIM: x_{t−1} = c.x0 x̂₀ + c.eps (x_t − √ᾱ x̂₀)/√(1−ᾱ) + σ z
      const a = sch.sqrtAlphaBar[t]!;
      const b = sch.sqrtOneMinusAlphaBar[t]!;
      expect(c.x0 - (c.eps * a) / b).toBeAllClose(post.x0, { rtol: 1e-9, atol: 1e-12 });
      expect(c.eps / b).toBeAllClose(post.xt, { rtol: 1e-9, atol: 1e-12 });
      expect(c.sigma ** 2).toBeAllClose(post.variance, { rtol: 1e-9, atol: 1e-15 });
    }
  });

  it('gives the same samples as DDPM draw for draw from the same seed', () => {
    const mix: GaussianMixture = { weights: [0.5, 0.5], means: [[-1], [1.5]], variances: [[0.2], [0.3]] };
    const den = gaussianMixtureDenoiser(sch, mix, 'eps');
    const a = p.ddpmSample(den, [500, 1], new Rng(3));
    const b = p.ddimSample(den, [500, 1], new Rng(3), { eta: 1, steps: sch.T });
    const c = p.ddimSample(den, [500, 1], new Rng(4), { eta: 1, steps: sch.T });
    // The two compute the same affine map in different orders; each of the 100
    // steps rounds to float32 (2^-24 relative), so they agree to ~1e-5.
    expect(b).toBeAllClose(a, { rtol: 1e-5, atol: 1e-5 });
    expect(c).not.toBeAllClose(a, { rtol: 1e-2, atol: 1e-2 });
  });
});

/**
 * Exact law of a sampler's output for Gaussian data N(μ, s²) (per dimension) and
 * the exact denoiser. Then x̂₀ is affine in x_t, every update is x ← A x + c + σ z,
 * and from x_T ~ N(0, 1) the output is exactly N(m, v) with (m, v) from the
 * recursion m ← A m + c, v ← A² v + σ². Written here from the papers' formulas,
 * independently of src/diffusion/process.ts; it includes each sampler's
 * discretisation error, so the samples must match it within pure sampling error.
 */
function gaussianOutputLaw(sch: NoiseSchedule, mu: number, s2: number, sampler: { kind: 'ddpm'; variance: 'small' | 'large' } | { kind: 'ddim'; steps: number; eta: number }): { mean: number; variance: number } {
  const ab = sch.alphaBar;
  const T = sch.T;
  let m = 0;
  let v = 1;
  // x̂₀ = μ + g (x_t − √ᾱ μ), g = √ᾱ s² / (ᾱ s² + 1 − ᾱ)  (Gaussian conditioning)
  const x0Affine = (t: number) => {
    const a = Math.sqrt(ab[t]!);
    const g = (a * s2) / (ab[t]! * s2 + 1 - ab[t]!);
    return { g, h: mu - g * a * mu };
  };
  const visit = (t: number, tPrev: number) => {
    const { g, h } = x0Affine(t);
    let A: number, c: number, s2n: number;
    if (sampler.kind === 'ddpm') {
      // Ho et al. eq. 7: μ̃ = √ᾱ_{t−1} β_t/(1−ᾱ_t) x̂₀ + √α_t (1−ᾱ_{t−1})/(1−ᾱ_t) x_t
      const beta = 1 - ab[t]! / ab[tPrev]!;
      const c0 = (Math.sqrt(ab[tPrev]!) * beta) / (1 - ab[t]!);
      const ct = (Math.sqrt(1 - beta) * (1 - ab[tPrev]!)) / (1 - ab[t]!);
      A = c0 * g + ct;
      c = c0 * h;
      s2n = t === 1 ? 0 : sampler.variance === 'small' ? ((1 - ab[tPrev]!) / (1 - ab[t]!)) * beta : beta;
    } else {
      // Song et al. eq. 12 with ε̂ = (x_t − √ᾱ_t x̂₀)/√(1 − ᾱ_t)
      const a = Math.sqrt(ab[t]!);
      const b = Math.sqrt(1 - ab[t]!);
      const sig2 = sampler.eta ** 2 * ((1 - ab[tPrev]!) / (1 - ab[t]!)) * (1 - ab[t]! / ab[tPrev]!);
      const cx = Math.sqrt(ab[tPrev]!);
      const ce = Math.sqrt(Math.max(0, 1 - ab[tPrev]! - sig2));
      A = cx * g + (ce * (1 - a * g)) / b;
      c = cx * h - (ce * a * h) / b;
      s2n = sig2;
    }
    m = A * m + c;
    v = A * A * v + s2n;
  };
  if (sampler.kind === 'ddpm') for (let t = T; t >= 1; t--) visit(t, t - 1);
  else {
    const tau = Array.from({ length: sampler.steps + 1 }, (_, i) => Math.round((i * T) / sampler.steps));
    for (let i = sampler.steps; i >= 1; i--) visit(tau[i]!, tau[i - 1]!);
  }
  return { mean: m, variance: v };
}

describe('samplers on Gaussian data match their exact output law', () => {
  const sch = NoiseSchedule.linear(200);
  const p = new GaussianDiffusion(sch);
  const mu = [0.5, -1];
  const s2 = [0.3, 2];
  const mix: GaussianMixture = { weights: [1], means: [mu], variances: [s2] };
  const N = 20000;
  // The last column bounds the sampler's own discretisation error on the variance
  // at T = 200 (from the recursion; few stochastic DDIM steps lose the most).
  const cases: [string, Prediction, (den: Denoiser, rng: Rng) => Float32Array, Parameters<typeof gaussianOutputLaw>[3], number][] = [
    ['DDPM fixed-small (ε net)', 'eps', (den, rng) => p.ddpmSample(den, [N, 2], rng), { kind: 'ddpm', variance: 'small' }, 0.1],
    ['DDPM fixed-large (x₀ net)', 'x0', (den, rng) => p.ddpmSample(den, [N, 2], rng, { variance: 'fixed-large' }), { kind: 'ddpm', variance: 'large' }, 0.03],
    ['DDIM η = 0, 50 steps (v net)', 'v', (den, rng) => p.ddimSample(den, [N, 2], rng, { steps: 50 }), { kind: 'ddim', steps: 50, eta: 0 }, 0.12],
    ['DDIM η = 0.5, 20 steps (ε net)', 'eps', (den, rng) => p.ddimSample(den, [N, 2], rng, { steps: 20, eta: 0.5 }), { kind: 'ddim', steps: 20, eta: 0.5 }, 0.3],
  ];

  it.each(cases)('%s: mean and variance per dimension within 4σ of the recursion', (_name, pred, run, law, discretisation) => {
    const x = run(gaussianMixtureDenoiser(sch, mix, pred), new Rng(17));
    for (let d = 0; d < 2; d++) {
      const ref = gaussianOutputLaw(sch, mu[d]!, s2[d]!, law);
      const got = meanVar(x, 2, d);
      // The output is exactly Gaussian: σ(mean) = √(v/N), σ(variance) = v √(2/(N−1)) ≈ 1 % of v,
      // so a 10 % error in a variance would be a 10σ deviation.
      expect(Math.abs(got.mean - ref.mean)).toBeLessThan(4 * Math.sqrt(ref.variance / N));
      expect(Math.abs(got.variance - ref.variance)).toBeLessThan(4 * ref.variance * Math.sqrt(2 / (N - 1)));
      // Sanity of the reference: the sampler is close to the data law (discretisation error at T = 200 only).
      expect(Math.abs(ref.mean - mu[d]!)).toBeLessThan(0.02);
      expect(Math.abs(ref.variance / s2[d]! - 1)).toBeLessThan(discretisation);
    }
  });

  it('the discretisation error vanishes with small steps: T = 1000 DDPM within 1.5 %, DDIM-1000 within 1.5 %', () => {
    const s = NoiseSchedule.cosine(1000);
    for (const [m, v] of [[0.5, 0.3], [-1, 2]] as const) {
      for (const law of [{ kind: 'ddpm', variance: 'small' }, { kind: 'ddpm', variance: 'large' }, { kind: 'ddim', steps: 1000, eta: 0 }] as const) {
        const r = gaussianOutputLaw(s, m, v, law);
        expect(Math.abs(r.mean - m)).toBeLessThan(0.005);
        expect(Math.abs(r.variance / v - 1)).toBeLessThan(0.015);
      }
    }
  });

  it('DDIM η = 0 on N(0, 1) data maps x_T to x_T Π cos(θ_τi − θ_τi−1), θ_t = arccos √ᾱ_t (exact)', () => {
    // For N(0, 1) data x̂₀ = √ᾱ x_t and ε̂ = √(1−ᾱ) x_t, so each DDIM step multiplies by
    // √ᾱ_prev √ᾱ + √(1−ᾱ_prev) √(1−ᾱ) = cos(θ_prev − θ).
    // An x₀ or v network (an ε net loses digits in x̂₀ = (x − √(1−ᾱ) ε̂)/√ᾱ at t = T, where √ᾱ_T² = 3e-5).
    const xT = Float32Array.from([1, -0.5, 2.25]);
    for (const [steps, pred] of [[1, 'x0'], [7, 'v'], [50, 'x0'], [200, 'v']] as const) {
      const unit = gaussianMixtureDenoiser(sch, { weights: [1], means: [[0]], variances: [[1]] }, pred);
      const tau = ddimTimesteps(sch.T, steps);
      let f = 1;
      for (let i = steps; i >= 1; i--) f *= Math.cos(Math.acos(sch.sqrtAlphaBar[tau[i]!]!) - Math.acos(sch.sqrtAlphaBar[tau[i - 1]!]!));
      const x = p.ddimSample(unit, [3, 1], new Rng(0), { steps, xT });
      expect(x).toBeAllClose(Array.from(xT, (u) => u * f), { rtol: 1e-5, atol: 1e-6 });
    }
    expect(Array.from(xT)).toEqual([1, -0.5, 2.25]);
  });
});

describe('sampler options', () => {
  const sch = NoiseSchedule.linear(100);
  const p = new GaussianDiffusion(sch);
  const mix: GaussianMixture = { weights: [0.5, 0.5], means: [[-3, 0], [3, 1]], variances: [[0.5, 0.5], [0.5, 0.5]] };
  const den = gaussianMixtureDenoiser(sch, mix, 'eps');

  it('ddimTimesteps is an evenly spaced sub-sequence from T down to 0', () => {
    expect(Array.from(ddimTimesteps(1000, 4))).toEqual([0, 250, 500, 750, 1000]);
    expect(Array.from(ddimTimesteps(10, 3))).toEqual([0, 3, 7, 10]);
    expect(Array.from(ddimTimesteps(5, 5))).toEqual([0, 1, 2, 3, 4, 5]);
    for (const steps of [1, 13, 99, 100]) {
      const tau = ddimTimesteps(100, steps);
      expect(tau.length).toBe(steps + 1);
      for (let i = 1; i <= steps; i++) expect(tau[i]!).toBeGreaterThan(tau[i - 1]!);
    }
  });

  it('clipping keeps x̂₀ and hence the DDPM and DDIM outputs in the data range', () => {
    for (const x of [p.ddpmSample(den, [400, 2], new Rng(1), { clip: [-1, 1] }), p.ddimSample(den, [400, 2], new Rng(1), { clip: [-1, 1], steps: 20, eta: 0.3 })]) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const u of x) {
        lo = Math.min(lo, u);
        hi = Math.max(hi, u);
      }
      expect(lo).toBeGreaterThanOrEqual(-1 - 1e-6);
      expect(hi).toBeLessThanOrEqual(1 + 1e-6);
      expect(lo).toBeLessThan(-0.9); // it does reach the bounds: the data lie outside
    }
    // A range wider than anything seen changes nothing.
    expect(p.ddimSample(den, [50, 2], new Rng(2), { clip: [-1e6, 1e6], steps: 10 })).toBeAllClose(p.ddimSample(den, [50, 2], new Rng(2), { steps: 10 }), { rtol: 1e-6, atol: 1e-6 });
  });

  it('onStep reports every visited t with copies of x_t and x̂₀; the first x_t is x_T', () => {
    const xT = new Float32Array(20);
    new Rng(8).fillNormal(xT);
    const events: StepEvent[] = [];
    const out = p.ddimSample(den, [10, 2], new Rng(1), {
      steps: 4,
      xT,
      onStep: (e) => {
        events.push(e);
        e.xt.fill(1e9); // must not disturb the sampler
      },
    });
    expect(events.map((e) => e.t)).toEqual([100, 75, 50, 25]);
    expect(events.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(p.ddimSample(den, [10, 2], new Rng(1), { steps: 4, xT })).toEqual(out);
    let n = 0;
    p.ddpmSample(den, [3, 2], new Rng(1), { onStep: () => n++ });
    expect(n).toBe(100);
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const a = p.ddpmSample(den, [50, 2], new Rng(11));
    expect(p.ddpmSample(den, [50, 2], new Rng(11))).toEqual(a);
    expect(p.ddpmSample(den, [50, 2], new Rng(12))).not.toEqual(a);
  });

  it('pSample at t = 1 is deterministic and returns x̂₀', () => {
    const x1 = Float32Array.from([0.2, -0.4]);
    const r = p.pSample(den, x1, [1, 2], 1, new Rng(0));
    const out = den.predict(x1, [1, 2], Int32Array.from([1]));
    expect(r).toBeAllClose(p.toX0Eps('eps', out, x1, [1, 2], Int32Array.from([1])).x0, { rtol: 1e-6, atol: 1e-7 });
  });

  it('randomTimesteps are uniform on 1…T (mean within 4σ)', () => {
    const t = randomTimesteps(new Rng(3), 40000, 100);
    let s = 0;
    for (const u of t) {
      expect(u >= 1 && u <= 100).toBe(true);
      s += u;
    }
    // Var of U{1..T} = (T² − 1)/12.
    expect(Math.abs(s / t.length - 50.5)).toBeLessThan(4 * Math.sqrt((100 * 100 - 1) / 12 / t.length));
  });

  it('bad options are one-line errors naming the option', () => {
    for (const steps of [0, 101, 2.5, NaN]) expectOneLine(() => p.ddimSample(den, [2, 2], new Rng(0), { steps }), UsageError, /DDIM: steps must be an integer in 1…T \(T = 100\), got/);
    for (const eta of [-0.1, 1.5, NaN]) expectOneLine(() => p.ddimSample(den, [2, 2], new Rng(0), { eta }), UsageError, /DDIM: eta must be in \[0, 1\], got/);
    expectOneLine(() => p.ddpmSample(den, [2, 2], new Rng(0), { variance: 'learned' as never }), UsageError, /variance must be fixed-small or fixed-large, got 'learned'/);
    expectOneLine(() => p.ddimSample(den, [2, 2], new Rng(0), { clip: [1, -1] }), UsageError, /clip must be a range \[lo, hi\] with lo < hi/);
    expectOneLine(() => p.pSample(den, new Float32Array(4), [2, 2], 0, new Rng(0)), UsageError, /pSample: t must be an integer in 1…100, got 0/);
    expectOneLine(() => p.ddimSample(den, [2, 2], new Rng(0), { xT: new Float32Array(3) }), ShapeError, /ddimSample: xT: has 3 values, shape \[2, 2\] needs 4/);
    expectOneLine(() => p.qSample(new Float32Array(4), [2, 2], Int32Array.from([1, 101]), new Float32Array(4)), ShapeError, /qSample: t\[1\] = 101 is outside 0…100/);
    expectOneLine(() => p.qSample(new Float32Array(4), [2, 2], Int32Array.from([1]), new Float32Array(4)), ShapeError, /qSample: t has 1 entries, the batch has 2/);
    expectOneLine(() => p.toX0Eps('eps', new Float32Array(2), new Float32Array(2), [1, 2], Int32Array.from([0])), ShapeError, /toX0Eps: t\[0\] = 0 is outside 1…100/);
    expectOneLine(() => p.trainingTarget('score' as never, new Float32Array(2), new Float32Array(2), [1, 2], Int32Array.from([1])), UsageError, /prediction must be one of eps, x0, v, got 'score'/);
    const bad: Denoiser = { prediction: 'eps', predict: () => new Float32Array(1) };
    expectOneLine(() => p.ddpmSample(bad, [2, 2], new Rng(0)), ShapeError, /denoiser: returned 1 values for a batch of shape \[2, 2\]/);
  });
});
