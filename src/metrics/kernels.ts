/**
 * Positive-definite kernels for the kernel two-sample metrics (MMD, KID) and the
 * data-driven Gaussian bandwidths.
 */
import { UsageError } from '../core/errors.js';
import { checkSameWidth, checkSamples, dotRows, sqDist, type Samples } from './samples.js';

/** A kernel evaluated between row i of `a` and row j of `b`. */
export interface Kernel {
  /** Human-readable description, e.g. `gaussian(σ=0.82)`. */
  readonly name: string;
  /** k(a_i, b_j). */
  k(a: Samples, i: number, b: Samples, j: number): number;
}

/** A Gaussian kernel, with its bandwidth exposed. */
export interface GaussianKernel extends Kernel {
  /** The bandwidth σ in k(x, y) = exp(−‖x − y‖² / (2σ²)). */
  readonly sigma: number;
}

/** Gaussian (RBF) kernel k(x, y) = exp(−‖x − y‖² / (2σ²)). */
export function gaussianKernel(sigma: number): GaussianKernel {
  if (!(sigma > 0 && Number.isFinite(sigma))) throw new UsageError(`gaussianKernel: sigma must be a positive finite number, got ${sigma}`);
  const c = -1 / (2 * sigma * sigma);
  return {
    name: `gaussian(σ=${sigma.toPrecision(4)})`,
    sigma,
    k: (a, i, b, j) => Math.exp(c * sqDist(a, i, b, j)),
  };
}

/** Options of {@link polynomialKernel}. */
export interface PolynomialKernelOptions {
  /** Degree p. Default 3 (KID). */
  readonly degree?: number;
  /** Scale γ of the inner product. Default 1/d, d the number of features. */
  readonly gamma?: number;
  /** Offset c. Default 1. */
  readonly coef0?: number;
}

/**
 * Polynomial kernel k(x, y) = (γ xᵀy + c)^p; the defaults give KID's
 * (xᵀy/d + 1)³ (Bińkowski et al., ICLR 2018).
 */
export function polynomialKernel(opts: PolynomialKernelOptions = {}): Kernel {
  const p = opts.degree ?? 3;
  const c = opts.coef0 ?? 1;
  if (!(Number.isInteger(p) && p >= 1)) throw new UsageError(`polynomialKernel: degree must be an integer ≥ 1, got ${p}`);
  if (opts.gamma !== undefined && !(opts.gamma > 0 && Number.isFinite(opts.gamma))) throw new UsageError(`polynomialKernel: gamma must be positive, got ${opts.gamma}`);
  if (!Number.isFinite(c)) throw new UsageError(`polynomialKernel: coef0 must be finite, got ${c}`);
  const gamma = opts.gamma;
  return {
    name: `polynomial(p=${p}, γ=${gamma === undefined ? '1/d' : gamma.toPrecision(4)}, c=${c})`,
    k: (a, i, b, j) => ((gamma ?? 1 / a.d) * dotRows(a, i, b, j) + c) ** p,
  };
}

/** Options of the bandwidth heuristics. */
export interface BandwidthOptions {
  /**
   * Largest pooled sample the median heuristic looks at (its cost is quadratic).
   * Larger pools use every ⌈N/maxPoints⌉-th row, deterministically. Default 1000.
   */
  readonly maxPoints?: number;
}

/**
 * Median heuristic: σ = median of ‖z_i − z_j‖ over distinct pairs of the pooled
 * sample z = x ∪ y (Gretton et al., JMLR 13 (2012) 723, experiments).
 */
export function medianBandwidth(x: Samples, y: Samples, opts: BandwidthOptions = {}): number {
  checkSamples('medianBandwidth x', x, 1);
  checkSamples('medianBandwidth y', y, 1);
  checkSameWidth('medianBandwidth', x, y);
  const maxPoints = opts.maxPoints ?? 1000;
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) throw new UsageError(`medianBandwidth: maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const total = x.n + y.n;
  const stride = Math.ceil(total / maxPoints);
  const rows: [Samples, number][] = [];
  for (let r = 0; r < total; r += stride) rows.push(r < x.n ? [x, r] : [y, r - x.n]);
  const m = rows.length;
  const d2 = new Float64Array((m * (m - 1)) / 2);
  let t = 0;
  for (let a = 0; a < m; a++) {
    const [sa, ia] = rows[a]!;
    for (let b = a + 1; b < m; b++) {
      const [sb, ib] = rows[b]!;
      d2[t++] = sqDist(sa, ia, sb, ib);
    }
  }
  if (d2.length === 0) throw new UsageError('medianBandwidth: needs at least two pooled points');
  d2.sort();
  const h = d2.length >> 1;
  const sigma = d2.length % 2 === 1 ? Math.sqrt(d2[h]!) : 0.5 * (Math.sqrt(d2[h - 1]!) + Math.sqrt(d2[h]!));
  if (!(sigma > 0)) throw new UsageError('medianBandwidth: the median pairwise distance is 0 (more than half the points coincide); give sigma explicitly');
  return sigma;
}

/**
 * Mean squared distance over distinct pairs of the pooled sample,
 * (1/(N(N−1))) Σ_{i≠j} ‖z_i − z_j‖² = 2/(N−1) · Σ_k Σ_i (z_ik − z̄_k)²,
 * computed in O(N·d) from that identity.
 */
export function meanSqDistance(x: Samples, y: Samples): number {
  checkSamples('meanSqDistance x', x, 0);
  checkSamples('meanSqDistance y', y, 0);
  checkSameWidth('meanSqDistance', x, y);
  const d = x.d;
  const N = x.n + y.n;
  if (N < 2) throw new UsageError('meanSqDistance: needs at least two pooled points');
  const mean = new Float64Array(d);
  for (const s of [x, y]) for (let i = 0; i < s.n; i++) for (let k = 0; k < d; k++) mean[k]! += s.data[i * d + k]!;
  for (let k = 0; k < d; k++) mean[k]! /= N;
  let ss = 0;
  for (const s of [x, y])
    for (let i = 0; i < s.n; i++)
      for (let k = 0; k < d; k++) {
        const t = s.data[i * d + k]! - mean[k]!;
        ss += t * t;
      }
  return (2 * ss) / (N - 1);
}

/**
 * The course's Gaussian kernel exp(−‖x − y‖² / (2 s² · mean d²)), mean d² the
 * {@link meanSqDistance} of the pooled sample; i.e. σ = s·√(mean d²).
 *
 * @param scale - the dimensionless s (default 1).
 */
export function meanSqDistanceKernel(x: Samples, y: Samples, scale: number = 1): GaussianKernel {
  if (!(scale > 0 && Number.isFinite(scale))) throw new UsageError(`meanSqDistanceKernel: scale must be positive, got ${scale}`);
  const m = meanSqDistance(x, y);
  if (!(m > 0)) throw new UsageError('meanSqDistanceKernel: all pooled points coincide; give sigma explicitly');
  return gaussianKernel(scale * Math.sqrt(m));
}

/** Gaussian kernel with the {@link medianBandwidth} of the pooled sample. */
export function medianKernel(x: Samples, y: Samples, opts: BandwidthOptions = {}): GaussianKernel {
  return gaussianKernel(medianBandwidth(x, y, opts));
}
