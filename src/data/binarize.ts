/**
 * Pixel intensities to [0, 1] floats and to binary data for Bernoulli-visible models.
 *
 * Two conventions appear in the literature and both are provided:
 * - static: threshold once (the fixed binarised MNIST of Larochelle & Murray,
 *   "The neural autoregressive distribution estimator", AISTATS 2011);
 * - dynamic: draw x ~ Bernoulli(intensity) afresh each epoch (Salakhutdinov &
 *   Murray, "On the quantitative analysis of deep belief networks", ICML 2008).
 * All functions return new arrays and leave their input untouched.
 */
import type { Rng } from '../core/rng.js';

/** Pixels 0..255 → Float32 intensities in [0, 1] (divided by 255). */
export function toUnitFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  const s = 1 / 255;
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! * s;
  return out;
}

/**
 * Static binarisation: 1 where `x > threshold`, else 0.
 * @param x - intensities (typically in [0, 1])
 * @param threshold - cut, default 0.5
 */
export function binarizeStatic(x: ArrayLike<number>, threshold: number = 0.5): Float32Array {
  if (!Number.isFinite(threshold)) throw new RangeError(`binarizeStatic: threshold must be finite, got ${threshold}`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! > threshold ? 1 : 0;
  return out;
}

/**
 * Dynamic binarisation: each entry is an independent Bernoulli(x_i) draw, using
 * `u < x_i` with `u` from {@link Rng.uniformF32} (the draw the native kernels use).
 * Call once per epoch for a fresh sample; the same generator state gives the same
 * sample. Values outside [0, 1] act as clipped (≤ 0 → always 0, ≥ 1 → always 1).
 *
 * @param x - probabilities, typically {@link toUnitFloat} output
 * @param rng - seeded generator, advanced by `x.length` draws
 */
export function binarizeDynamic(x: ArrayLike<number>, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = rng.uniformF32() < x[i]! ? 1 : 0;
  return out;
}
