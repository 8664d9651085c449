/**
 * Samplers driven by the exact denoiser of a Gaussian mixture must reproduce the
 * mixture: per-component weights, means and variances within 4 standard errors.
 * The components are separated by > 7 standard deviations, so classifying a
 * sample by its sign mislabels a fraction < 1e-4 of them (negligible against the
 * errors below).
 *
 * Discretisation error is the sampler's, not sampling noise: with this mixture
 * DDIM at 50 steps pulls both means towards 0 by ≈ 0.05 (6σ at this N), so the
 * deterministic sampler is run with 500 steps here; the exact-law test in
 * diffusion-process.test.ts covers DDIM-50 with its own discretisation error.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { NoiseSchedule } from '../src/diffusion/schedule.js';
import { GaussianDiffusion } from '../src/diffusion/process.js';
import { gaussianMixtureDenoiser, mixturePosteriorMean, sampleGaussianMixture, type GaussianMixture } from '../src/diffusion/mixture.js';

const MIX: GaussianMixture = { weights: [0.35, 0.65], means: [[-3], [2.5]], variances: [[0.6], [0.45]] };
const N = 16000;
const Z = 4;

interface Deviation {
  readonly what: string;
  readonly z: number;
}

/**
 * z-scores of the per-component statistics of 1D samples against the mixture:
 * weight (σ = √(π(1−π)/N)), mean (σ = s/√n_k), variance (σ = s²√(2/(n_k−1)),
 * Gaussian components). Component 0 is x < 0.
 */
function mixtureDeviations(x: Float32Array, m: GaussianMixture): Deviation[] {
  const out: Deviation[] = [];
  for (let k = 0; k < 2; k++) {
    const v = Array.from(x).filter((u) => (k === 0 ? u < 0 : u >= 0));
    const n = v.length;
    const pi = m.weights[k]!;
    const mu = m.means[k]![0]!;
    const s2 = m.variances[k]![0]!;
    const mean = v.reduce((a, b) => a + b, 0) / n;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    out.push({ what: `weight ${k}`, z: (n / x.length - pi) / Math.sqrt((pi * (1 - pi)) / x.length) });
    out.push({ what: `mean ${k}`, z: (mean - mu) / Math.sqrt(s2 / n) });
    out.push({ what: `variance ${k}`, z: (variance - s2) / (s2 * Math.sqrt(2 / (n - 1))) });
  }
  return out;
}

function worst(d: Deviation[]): Deviation {
  return d.reduce((a, b) => (Math.abs(b.z) > Math.abs(a.z) ? b : a));
}

describe('samplers with the exact Gaussian-mixture denoiser reproduce the mixture', () => {
  const sch = NoiseSchedule.cosine(1000);
  const p = new GaussianDiffusion(sch);

  it('the test has power: a 10 % error in a component variance is ≥ 5.28σ (detected with probability ≥ 90 % at 4σ)', () => {
    for (let k = 0; k < 2; k++) {
      const nk = N * MIX.weights[k]!;
      const zOf10pc = 0.1 / Math.sqrt(2 / (nk - 1));
      // P(|Z + 5.28| > 4) ≥ Φ(1.28) = 0.90
      expect(zOf10pc).toBeGreaterThan(5.28);
    }
  });

  it('the checker passes exact draws from the mixture', () => {
    const { x } = sampleGaussianMixture(MIX, N, new Rng(1));
    expect(Math.abs(worst(mixtureDeviations(x, MIX)).z)).toBeLessThan(Z);
  });

  it.each([
    ['DDPM fixed-small, ε net', () => p.ddpmSample(gaussianMixtureDenoiser(sch, MIX, 'eps'), [N, 1], new Rng(1))],
    ['DDPM fixed-large, x₀ net', () => p.ddpmSample(gaussianMixtureDenoiser(sch, MIX, 'x0'), [N, 1], new Rng(1), { variance: 'fixed-large' })],
    ['DDIM η = 0, 500 steps, v net', () => p.ddimSample(gaussianMixtureDenoiser(sch, MIX, 'v'), [N, 1], new Rng(1), { steps: 500 })],
    ['DDIM η = 1, 500 steps, ε net', () => p.ddimSample(gaussianMixtureDenoiser(sch, MIX, 'eps'), [N, 1], new Rng(1), { steps: 500, eta: 1 })],
  ])('%s: weights, means and variances within 4σ', (_name, run) => {
    const d = mixtureDeviations(run(), MIX);
    const w = worst(d);
    if (process.env.DIFFUSION_VERBOSE) console.log(_name, d.map((e) => `${e.what} ${e.z.toFixed(2)}`).join(', '));
    expect(Math.abs(w.z), `${w.what}: z = ${w.z.toFixed(2)}`).toBeLessThan(Z);
  });

  it('a sampler driven by the denoiser of a mixture with 10 % wider components fails the check', () => {
    const wrong: GaussianMixture = { ...MIX, variances: MIX.variances.map((v) => v.map((u) => 1.1 * u)) };
    const x = p.ddimSample(gaussianMixtureDenoiser(sch, wrong, 'v'), [N, 1], new Rng(1), { steps: 500 });
    const d = mixtureDeviations(x, MIX);
    if (process.env.DIFFUSION_VERBOSE) console.log('wrong mixture', d.map((e) => `${e.what} ${e.z.toFixed(2)}`).join(', '));
    for (const k of [0, 1]) expect(d.find((e) => e.what === `variance ${k}`)!.z).toBeGreaterThan(Z);
  });
});

describe('mixturePosteriorMean', () => {
  it('equals E[x₀ | x_t] by numerical integration over x₀ (1D, two components)', () => {
    const sch = NoiseSchedule.linear(100);
    for (const t of [1, 30, 100]) {
      const a = sch.sqrtAlphaBar[t]!;
      const b = sch.sqrtOneMinusAlphaBar[t]!;
      for (const xt of [-2.5, 0.1, 1.7]) {
        // ∫ x₀ p(x₀) N(x_t; a x₀, b²) dx₀ / ∫ p(x₀) N(x_t; a x₀, b²) dx₀, midpoint rule on [−10, 10].
        let num = 0;
        let den = 0;
        const h = 1e-4;
        for (let x0 = -10 + h / 2; x0 < 10; x0 += h) {
          let px = 0;
          for (let k = 0; k < 2; k++) {
            const s2 = MIX.variances[k]![0]!;
            px += (MIX.weights[k]! / Math.sqrt(2 * Math.PI * s2)) * Math.exp(-((x0 - MIX.means[k]![0]!) ** 2) / (2 * s2));
          }
          const w = px * Math.exp(-((xt - a * x0) ** 2) / (2 * b * b));
          num += w * x0;
          den += w;
        }
        const got = mixturePosteriorMean(sch, MIX, Float32Array.from([xt]), [1, 1], Int32Array.from([t]))[0]!;
        // The likelihood's width in x₀ is b/a ≥ 0.03 (t = 1), i.e. ≥ 300 grid points: the midpoint rule is exact to ≪ 1e-6.
        expect(got).toBeAllClose(num / den, { rtol: 1e-6, atol: 1e-6 });
      }
    }
  });
});
