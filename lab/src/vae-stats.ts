/**
 * Pure numbers behind the lab's VAE panel (no tfjs, no DOM, so node tests check them
 * directly): the temperatures of the Ising data, the latent plane the decoded grid
 * covers, the grid's latent points, a mean with its standard error, and the statistic
 * that says whether the latent means separate the ordered from the disordered phase.
 */

import { CLASS_NAMES } from '../../src/data/classes.js';

/** Fashion-MNIST's class names (Xiao, Rasul & Vollgraf 2017), in label order. */
export const FASHION_CLASSES: readonly string[] = CLASS_NAMES['fashion-mnist'];
/** MNIST's class names: the digits. */
export const MNIST_CLASSES: readonly string[] = CLASS_NAMES.mnist;

/**
 * `n` temperatures evenly spaced from `tMin` to `tMax` inclusive, rounded to 12
 * significant digits, exactly as `genphys vae ising-probe --temps tMin:tMax:n` spaces them.
 */
export function isingTemperatures(tMin: number, tMax: number, n: number): number[] {
  const t = n === 1 ? [tMin] : Array.from({ length: n }, (_, i) => tMin + ((tMax - tMin) * i) / (n - 1));
  return t.map((x) => Number(x.toPrecision(12)));
}

/** A mean and its standard error s/√n (s the sample standard deviation; error 0 for n < 2). */
export function meanAndError(values: ArrayLike<number>): { mean: number; error: number } {
  const n = values.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i]!;
  m /= n;
  if (n < 2) return { mean: m, error: 0 };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - m) ** 2;
  return { mean: m, error: Math.sqrt(ss / (n - 1) / n) };
}

/** An axis interval [lo, hi]. */
export type Interval = readonly [number, number];

/** The square of the latent plane that the scatter plot and the decoded grid share. */
export interface LatentPlane {
  readonly x: Interval;
  readonly y: Interval;
}

/** The q-quantile (0 ≤ q ≤ 1, linear interpolation) of a sorted array. */
function quantileSorted(a: Float64Array, q: number): number {
  const p = q * (a.length - 1);
  const i = Math.floor(p);
  const f = p - i;
  return i + 1 < a.length ? a[i]! * (1 - f) + a[i + 1]! * f : a[i]!;
}

/**
 * The latent plane to show: per axis, the 1st to 99th percentile of the encoder means
 * (latent coordinates 1 and 2 of `mu`, `[n, k]` row-major), widened by 10 % on each side,
 * and never narrower than ±1 around its centre (so an untrained model's means, all near 0,
 * still show a readable patch of the prior N(0, I)). Percentiles rather than min/max keep
 * one stray point from shrinking the picture; k = 1 puts 0 on the second axis.
 */
export function latentPlane(mu: Float32Array, k: number): LatentPlane {
  const n = k > 0 ? Math.floor(mu.length / k) : 0;
  const axis = (j: number): Interval => {
    if (n === 0 || j >= k) return [-3, 3];
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = mu[i * k + j]!;
    col.sort();
    let lo = quantileSorted(col, 0.01);
    let hi = quantileSorted(col, 0.99);
    const pad = 0.1 * (hi - lo);
    lo -= pad;
    hi += pad;
    const mid = (lo + hi) / 2;
    if (!(hi - lo >= 2)) return [mid - 1, mid + 1];
    return [lo, hi];
  };
  return { x: axis(0), y: axis(1) };
}

/**
 * The latent points of a `g`×`g` decoded grid over `plane`, `[g·g, k]` row-major: tile
 * (r, c) is row r from the top (largest μ₂ first, as a plot's y axis runs) and column c from
 * the left, at the tile's centre; coordinates beyond the second are 0 (the prior mean).
 */
export function gridLatents(plane: LatentPlane, g: number, k: number): Float32Array {
  const z = new Float32Array(g * g * k);
  const at = (iv: Interval, i: number) => iv[0] + ((iv[1] - iv[0]) * (i + 0.5)) / g;
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      const o = (r * g + c) * k;
      z[o] = at(plane.x, c);
      if (k > 1) z[o + 1] = at(plane.y, g - 1 - r);
    }
  }
  return z;
}

/** How far the latent means of ordered (T < T_c) configurations sit from the disordered ones. */
export interface PhaseSeparation {
  /** Examples below and above T_c. */
  readonly nLow: number;
  readonly nHigh: number;
  /** Mean distance from the disordered group's centroid, below and above T_c. */
  readonly rLow: number;
  readonly rHigh: number;
  /** (rLow − rHigh) / pooled standard deviation of the distances (Cohen's d). */
  readonly d: number;
}

/**
 * Separation of the two phases in the latent plane. The ordered phase has two
 * magnetised states (m ≈ ±1), which a VAE maps to two clusters on either side of the
 * disordered one (Wetzel, PRE 96, 022140 (2017)), so the ordered group's own centroid can
 * sit on top of the disordered one; what separates them is the distance r from the
 * disordered centroid. Returns Cohen's d of r between the groups (first two latent
 * coordinates; `T` per example, `Tc` the split).
 */
export function phaseSeparation(mu: Float32Array, k: number, T: ArrayLike<number>, Tc: number): PhaseSeparation {
  const n = T.length;
  const dims = Math.min(k, 2);
  const c = [0, 0];
  let nHigh = 0;
  for (let i = 0; i < n; i++) {
    if (T[i]! <= Tc) continue;
    nHigh++;
    for (let j = 0; j < dims; j++) c[j]! += mu[i * k + j]!;
  }
  for (let j = 0; j < dims; j++) c[j]! /= Math.max(1, nHigh);
  const low: number[] = [];
  const high: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += (mu[i * k + j]! - c[j]!) ** 2;
    (T[i]! <= Tc ? low : high).push(Math.sqrt(s));
  }
  const stats = (a: number[]) => {
    const m = a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
    const v = a.length > 1 ? a.reduce((x, y) => x + (y - m) ** 2, 0) / (a.length - 1) : 0;
    return { m, v };
  };
  const lo = stats(low);
  const hi = stats(high);
  const pooled = Math.sqrt((lo.v + hi.v) / 2);
  return { nLow: low.length, nHigh: high.length, rLow: lo.m, rHigh: hi.m, d: pooled > 0 ? (lo.m - hi.m) / pooled : 0 };
}

/** Means of consecutive blocks of `block` values of `y` (x: the block's last x), for a readable curve. */
export function blockMeans(x: ArrayLike<number>, y: ArrayLike<number>, block: number): { x: Float64Array; y: Float64Array } {
  const m = Math.floor(y.length / block);
  const ox = new Float64Array(m);
  const oy = new Float64Array(m);
  for (let b = 0; b < m; b++) {
    let s = 0;
    for (let i = b * block; i < (b + 1) * block; i++) s += y[i]!;
    ox[b] = x[(b + 1) * block - 1]!;
    oy[b] = s / block;
  }
  return { x: ox, y: oy };
}
