/**
 * Pictures of a trained VAE, as plain arrays ready for `src/viz`: reconstructions
 * next to originals, prior samples, the Keras-style decoded grid over a 2D latent
 * space, test-set posterior means for a label-coloured scatter, and interpolation
 * strips. All images are decoder means E[x|h] in [0, 1], flattened row-major.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';
import type { LabelledGridOptions } from '../viz/grid-svg.js';
import { normalNoise } from './distributions.js';
import type { Vae } from './models.js';
import type { VaeData } from './train.js';

/** Decoder means for latents `z` (`[n, k]` row-major), in batches. */
export function decodeMeans(model: Vae, z: Float32Array, batchSize = 256): Float32Array {
  const k = model.config.latent;
  const n = z.length / k;
  const D = model.inputDim;
  const out = new Float32Array(n * D);
  for (let lo = 0; lo < n; lo += batchSize) {
    const b = Math.min(batchSize, n - lo);
    const m = tf.tidy(() => model.decoderMean(model.decode(tf.tensor2d(z.subarray(lo * k, (lo + b) * k), [b, k]))));
    out.set(m.dataSync() as Float32Array, lo * D);
    m.dispose();
  }
  return out;
}

/** Posterior means μ(x) of every example (`[n, k]` row-major), in batches. */
export function latentMeans(model: Vae, data: VaeData, batchSize = 500): Float32Array {
  const k = model.config.latent;
  const D = data.dim;
  const out = new Float32Array(data.n * k);
  for (let lo = 0; lo < data.n; lo += batchSize) {
    const b = Math.min(batchSize, data.n - lo);
    const m = tf.tidy(() => model.encode(tf.tensor2d(data.x.subarray(lo * D, (lo + b) * D), [b, D])).mean);
    out.set(m.dataSync() as Float32Array, lo * k);
    m.dispose();
  }
  return out;
}

/**
 * Originals and their reconstructions E[x | h = μ(x)] for the first `n` examples:
 * `2n` images, originals first (one grid row each when laid out with n columns).
 */
export function reconstructions(model: Vae, data: VaeData, n: number): Float32Array {
  const m = Math.min(n, data.n);
  const sub: VaeData = { n: m, dim: data.dim, x: data.x.subarray(0, m * data.dim) };
  const rec = decodeMeans(model, latentMeans(model, sub));
  const out = new Float32Array(2 * m * data.dim);
  out.set(sub.x, 0);
  out.set(rec, m * data.dim);
  return out;
}

/** Decoder means of `n` draws h ~ N(0, I) from `rng`. */
export function priorSamples(model: Vae, n: number, rng: Rng): Float32Array {
  const eps = normalNoise(rng, n, model.config.latent);
  const z = eps.dataSync() as Float32Array;
  eps.dispose();
  return decodeMeans(model, z);
}

/** Standard normal CDF Φ(x) by Simpson's rule on the density (error < 1e-10 for |x| ≤ 8). */
function normalCdf(x: number): number {
  const n = 400;
  const h = x / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const t = i * h;
    s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-0.5 * t * t);
  }
  return 0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI);
}

/** Standard normal quantile Φ⁻¹(p) by bisection on {@link normalCdf}. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  let lo = -9;
  let hi = 9;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** How {@link latentGrid} spaces its points. */
export type GridSpacing = { readonly kind: 'uniform'; readonly scale: number } | { readonly kind: 'quantiles' };

/**
 * Keras-style decoded grid over a 2D latent space: `n × n` images, row r column c
 * decoded at (x_c, y_{n−1−r}) so that y grows upwards, as in the Keras example.
 * Points are `linspace(−scale, scale, n)` ('uniform', Keras uses scale 1) or
 * Gaussian quantiles Φ⁻¹((i + ½)/n) (Kingma & Welling 2014, fig. 4).
 * @returns the images and the axis values
 */
export function latentGrid(model: Vae, n: number, spacing: GridSpacing = { kind: 'uniform', scale: 1 }): { images: Float32Array; axis: number[] } {
  if (model.config.latent !== 2) throw new ShapeError(`latent grid: needs a 2D latent space, the model has ${model.config.latent} dimensions`);
  const axis = Array.from({ length: n }, (_, i) =>
    spacing.kind === 'uniform' ? (n === 1 ? 0 : -spacing.scale + (2 * spacing.scale * i) / (n - 1)) : normalQuantile((i + 0.5) / n),
  );
  const z = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      z[(r * n + c) * 2] = axis[c]!;
      z[(r * n + c) * 2 + 1] = axis[n - 1 - r]!;
    }
  return { images: decodeMeans(model, z), axis };
}

/**
 * Interpolation strip between examples a and b: decoder means at
 * (1 − t) μ(a) + t μ(b) for `steps` values of t in [0, 1], with the two
 * originals prepended and appended (`steps + 2` images).
 */
export function interpolation(model: Vae, data: VaeData, a: number, b: number, steps: number): Float32Array {
  for (const i of [a, b]) if (!(Number.isInteger(i) && i >= 0 && i < data.n)) throw new ShapeError(`interpolation: example index ${i} outside 0…${data.n - 1}`);
  const D = data.dim;
  const k = model.config.latent;
  const pair: VaeData = { n: 2, dim: D, x: new Float32Array([...data.x.subarray(a * D, (a + 1) * D), ...data.x.subarray(b * D, (b + 1) * D)]) };
  const mu = latentMeans(model, pair);
  const z = new Float32Array(steps * k);
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0.5 : s / (steps - 1);
    for (let j = 0; j < k; j++) z[s * k + j] = (1 - t) * mu[j]! + t * mu[k + j]!;
  }
  const dec = decodeMeans(model, z);
  const out = new Float32Array((steps + 2) * D);
  out.set(pair.x.subarray(0, D), 0);
  out.set(dec, D);
  out.set(pair.x.subarray(D), (steps + 1) * D);
  return out;
}

/**
 * The labels of a decoded latent grid (for `writeLabelledImageGrid` / `labelledGridSvg`): its
 * axes in z values, about six labels per axis, and the axis names z₁, z₂.
 */
export function latentGridLabels(axis: readonly number[], title: string): Omit<LabelledGridOptions, 'cols' | 'rows' | 'tileWidth' | 'tileHeight' | 'pad'> {
  const n = axis.length;
  const every = Math.max(1, Math.round(n / 6));
  const fmt = (v: number) => (Math.abs(v) < 1e-9 ? '0' : v.toFixed(Math.abs(v) < 10 ? 2 : 1));
  const label = (i: number, v: number) => (i % every === 0 ? fmt(v) : null);
  return {
    title,
    colLabels: axis.map((v, i) => label(i, v)),
    // Row r shows z₂ = axis[n − 1 − r].
    rowLabels: axis.map((_, r) => label(r, axis[n - 1 - r]!)),
    xName: 'z₁',
    yName: 'z₂',
  };
}
