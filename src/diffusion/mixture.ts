/**
 * The exact denoiser of a Gaussian mixture. If x_0 ~ Σ_k π_k N(μ_k, diag(s_k²)),
 * then x_t | k ~ N(√ᾱ μ_k, diag(ᾱ s_k² + 1 − ᾱ)), so E[x_0 | x_t] is a
 * responsibility-weighted sum of per-component Gaussian posterior means, in
 * closed form. A sampler driven by it must reproduce the mixture up to its own
 * discretisation error: a network-free reference for testing samplers and for
 * showing what a perfectly trained model would do.
 */
import { ShapeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { BatchShape, Denoiser, Prediction } from './process.js';
import type { NoiseSchedule } from './schedule.js';

/** A Gaussian mixture with diagonal covariances in D dimensions. */
export interface GaussianMixture {
  /** Mixing weights π_k (positive; normalised on use). */
  readonly weights: readonly number[];
  /** Means μ_k, K rows of D values. */
  readonly means: readonly (readonly number[])[];
  /** Per-dimension variances s_k², K rows of D positive values. */
  readonly variances: readonly (readonly number[])[];
}

/** Check a mixture and return its dimension D. */
export function checkMixture(m: GaussianMixture): number {
  const K = m.weights.length;
  if (K < 1 || m.means.length !== K || m.variances.length !== K) throw new ShapeError(`Gaussian mixture: need K ≥ 1 weights, means and variances, got ${K}, ${m.means.length}, ${m.variances.length}`);
  const D = m.means[0]!.length;
  for (let k = 0; k < K; k++) {
    if (!(m.weights[k]! > 0)) throw new ShapeError(`Gaussian mixture: weight ${k} must be > 0, got ${m.weights[k]}`);
    if (m.means[k]!.length !== D || m.variances[k]!.length !== D) throw new ShapeError(`Gaussian mixture: component ${k} has a mean or variance of the wrong length (D = ${D})`);
    for (const v of m.variances[k]!) if (!(v > 0)) throw new ShapeError(`Gaussian mixture: variances must be > 0, component ${k} has ${v}`);
  }
  if (D < 1) throw new ShapeError('Gaussian mixture: dimension must be ≥ 1');
  return D;
}

/** n draws from the mixture, [n, D], with the component of each. */
export function sampleGaussianMixture(m: GaussianMixture, n: number, rng: Rng): { x: Float32Array; component: Int32Array } {
  const D = checkMixture(m);
  const total = m.weights.reduce((a, b) => a + b, 0);
  const x = new Float32Array(n * D);
  const component = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.uniform() * total;
    let k = 0;
    while (k < m.weights.length - 1 && u >= m.weights[k]!) u -= m.weights[k++]!;
    component[i] = k;
    for (let d = 0; d < D; d++) x[i * D + d] = m.means[k]![d]! + Math.sqrt(m.variances[k]![d]!) * rng.normal();
  }
  return { x, component };
}

/**
 * E[x_0 | x_t] for data from the mixture, [B, D]: Σ_k r_k(x_t) (μ_k + √ᾱ s_k²/(ᾱ s_k² + 1 − ᾱ) (x_t − √ᾱ μ_k)),
 * with responsibilities r_k ∝ π_k N(x_t; √ᾱ μ_k, ᾱ s_k² + 1 − ᾱ) (Gaussian conditioning, Bishop PRML §2.3.3).
 */
export function mixturePosteriorMean(schedule: NoiseSchedule, m: GaussianMixture, xt: Float32Array, shape: BatchShape, t: Int32Array): Float64Array {
  const D = checkMixture(m);
  const [B, Dx] = shape;
  if (Dx !== D || xt.length !== B * D || t.length !== B) throw new ShapeError(`mixture denoiser: batch of shape [${B}, ${Dx}] with ${xt.length} values and ${t.length} steps does not fit a mixture in ${D} dimensions`);
  const K = m.weights.length;
  const logW = m.weights.map(Math.log);
  const out = new Float64Array(B * D);
  const logr = new Float64Array(K);
  for (let i = 0; i < B; i++) {
    const ti = t[i]!;
    if (!(ti >= 0 && ti <= schedule.T)) throw new ShapeError(`mixture denoiser: t[${i}] = ${ti} is outside 0…${schedule.T}`);
    const ab = schedule.alphaBar[ti]!;
    const a = Math.sqrt(ab);
    let maxl = -Infinity;
    for (let k = 0; k < K; k++) {
      let l = logW[k]!;
      for (let d = 0; d < D; d++) {
        const v = ab * m.variances[k]![d]! + 1 - ab;
        const r = xt[i * D + d]! - a * m.means[k]![d]!;
        l -= 0.5 * (Math.log(v) + (r * r) / v);
      }
      logr[k] = l;
      if (l > maxl) maxl = l;
    }
    let z = 0;
    for (let k = 0; k < K; k++) z += logr[k] = Math.exp(logr[k]! - maxl);
    for (let k = 0; k < K; k++) {
      const r = logr[k]! / z;
      for (let d = 0; d < D; d++) {
        const s2 = m.variances[k]![d]!;
        const mu = m.means[k]![d]!;
        out[i * D + d] += r * (mu + ((a * s2) / (ab * s2 + 1 - ab)) * (xt[i * D + d]! - a * mu));
      }
    }
  }
  return out;
}

/**
 * The Bayes-optimal denoiser for data from a Gaussian mixture, in any
 * parameterisation: x̂_0 = E[x_0 | x_t], ε̂ = (x_t − √ᾱ x̂_0)/√(1 − ᾱ),
 * v̂ = √ᾱ ε̂ − √(1 − ᾱ) x̂_0. This is what an ideally trained network outputs.
 */
export function gaussianMixtureDenoiser(schedule: NoiseSchedule, m: GaussianMixture, prediction: Prediction = 'eps'): Denoiser {
  checkMixture(m);
  return {
    prediction,
    predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Float32Array {
      const x0 = mixturePosteriorMean(schedule, m, xt, shape, t);
      if (prediction === 'x0') return Float32Array.from(x0);
      const D = shape[1];
      const out = new Float32Array(x0.length);
      for (let j = 0; j < x0.length; j++) {
        const ti = t[(j / D) | 0]!;
        const a = schedule.sqrtAlphaBar[ti]!;
        const b = schedule.sqrtOneMinusAlphaBar[ti]!;
        const eps = (xt[j]! - a * x0[j]!) / b;
        out[j] = prediction === 'eps' ? eps : a * eps - b * x0[j]!;
      }
      return out;
    },
  };
}
