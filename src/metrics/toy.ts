/**
 * Metrics for 2D toy distributions with known modes (as GAN Lab shows them):
 * modes covered, the fraction of high-quality samples, and KL / JS divergences
 * on a histogram grid.
 */
import { ShapeError, UsageError } from '../core/errors.js';
import { gammaQ } from '../core/stats.js';
import { checkSamples, type Samples } from './samples.js';

/** Known modes of an equal-weight isotropic Gaussian mixture (as `ToyModes` in data/toys). */
export interface MixtureModes {
  /** Row-major K×d mode centres (d = the samples' width). */
  readonly centres: Float64Array | readonly number[];
  /** Per-coordinate standard deviation σ of every component. */
  readonly sigma: number;
}

/** Options of {@link modeCoverage}. */
export interface ModeCoverageOptions {
  /** A sample is high quality when within `nSigma`·σ of its nearest mode (default 3). */
  readonly nSigma?: number;
  /**
   * A mode is covered when at least this many high-quality samples have it as
   * nearest mode. Default ⌈0.2·n/K⌉ (at least 1): a fifth of what a perfect
   * generator gives it, PacGAN's rule of 20 out of 100 (Lin et al., NeurIPS 2018).
   */
  readonly minCount?: number;
}

/** Result of {@link modeCoverage}. */
export interface ModeCoverage {
  /** Number of covered modes. */
  readonly modesCovered: number;
  /** Number of modes K. */
  readonly nModes: number;
  /** High-quality samples per mode. */
  readonly counts: Uint32Array;
  /** Fraction of samples within nSigma·σ of some mode. */
  readonly highQualityFraction: number;
  /** The thresholds used. */
  readonly minCount: number;
  readonly nSigma: number;
}

/**
 * Mode coverage and sample quality for a mixture with known modes (Srivastava
 * et al., VEEGAN, NeurIPS 2017: a sample is "high quality" within 3σ of
 * the nearest mode). For the true 2D mixture the expected high-quality fraction
 * is P(χ²₂ ≤ 9) = 1 − e^{−4.5} when the modes are more than 6σ apart.
 */
export function modeCoverage(s: Samples, modes: MixtureModes, opts: ModeCoverageOptions = {}): ModeCoverage {
  checkSamples('modeCoverage', s, 1);
  const d = s.d;
  const K = checkModes('modeCoverage', modes, d);
  const nSigma = opts.nSigma ?? 3;
  if (!(nSigma > 0 && Number.isFinite(nSigma))) throw new UsageError(`modeCoverage: nSigma must be positive, got ${nSigma}`);
  const minCount = opts.minCount ?? Math.max(1, Math.ceil((0.2 * s.n) / K));
  if (!(Number.isInteger(minCount) && minCount >= 1)) throw new UsageError(`modeCoverage: minCount must be an integer ≥ 1, got ${minCount}`);
  const r2 = (nSigma * modes.sigma) ** 2;
  const counts = new Uint32Array(K);
  let good = 0;
  for (let i = 0; i < s.n; i++) {
    let best = Infinity;
    let arg = -1;
    for (let k = 0; k < K; k++) {
      let t = 0;
      for (let c = 0; c < d; c++) t += (s.data[i * d + c]! - modes.centres[k * d + c]!) ** 2;
      if (t < best) {
        best = t;
        arg = k;
      }
    }
    if (best <= r2) {
      good++;
      counts[arg]!++;
    }
  }
  let covered = 0;
  for (let k = 0; k < K; k++) if (counts[k]! >= minCount) covered++;
  return { modesCovered: covered, nModes: K, counts, highQualityFraction: good / s.n, minCount, nSigma };
}

function checkModes(what: string, modes: MixtureModes, d: number): number {
  const K = modes.centres.length / d;
  if (!(Number.isInteger(K) && K >= 1)) throw new ShapeError(`${what}: ${modes.centres.length} centre coordinates is not a positive multiple of d = ${d}`);
  if (!(modes.sigma > 0 && Number.isFinite(modes.sigma))) throw new UsageError(`${what}: sigma must be positive, got ${modes.sigma}`);
  return K;
}

/** A regular bins×bins grid on [xMin, xMax] × [yMin, yMax]. */
export interface Grid2d {
  readonly bins: number;
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

function checkGrid(g: Grid2d): void {
  if (!(Number.isInteger(g.bins) && g.bins >= 1)) throw new UsageError(`grid: bins must be an integer ≥ 1, got ${g.bins}`);
  if (!(g.xMax > g.xMin && g.yMax > g.yMin && Number.isFinite(g.xMax - g.xMin) && Number.isFinite(g.yMax - g.yMin)))
    throw new UsageError(`grid: needs finite xMin < xMax and yMin < yMax, got [${g.xMin}, ${g.xMax}] × [${g.yMin}, ${g.yMax}]`);
}

/** The bounding box of the mixture's centres widened by 5σ on every side, split into `bins`² cells (default 30, GAN Lab's). */
export function gridForModes(modes: MixtureModes, bins: number = 30): Grid2d {
  const K = checkModes('gridForModes', modes, 2);
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let k = 0; k < K; k++) {
    xMin = Math.min(xMin, modes.centres[2 * k]!);
    xMax = Math.max(xMax, modes.centres[2 * k]!);
    yMin = Math.min(yMin, modes.centres[2 * k + 1]!);
    yMax = Math.max(yMax, modes.centres[2 * k + 1]!);
  }
  const m = 5 * modes.sigma;
  const g = { bins, xMin: xMin - m, xMax: xMax + m, yMin: yMin - m, yMax: yMax + m };
  checkGrid(g);
  return g;
}

/** The bounding box of a 2D sample widened by `pad` (a fraction of each side, default 0.05), in `bins`² cells. */
export function gridForSamples(s: Samples, bins: number = 30, pad: number = 0.05): Grid2d {
  check2d('gridForSamples', s);
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < s.n; i++) {
    xMin = Math.min(xMin, s.data[2 * i]!);
    xMax = Math.max(xMax, s.data[2 * i]!);
    yMin = Math.min(yMin, s.data[2 * i + 1]!);
    yMax = Math.max(yMax, s.data[2 * i + 1]!);
  }
  const px = pad * (xMax - xMin) || 1;
  const py = pad * (yMax - yMin) || 1;
  const g = { bins, xMin: xMin - px, xMax: xMax + px, yMin: yMin - py, yMax: yMax + py };
  checkGrid(g);
  return g;
}

function check2d(what: string, s: Samples): void {
  checkSamples(what, s, 1);
  if (s.d !== 2) throw new ShapeError(`${what}: needs 2D samples, got ${s.d} columns`);
}

/**
 * Cell probabilities of a 2D sample on `grid`: length bins² + 1, cell
 * (ix, iy) at ix + bins·iy, and a last cell holding the mass outside the grid so
 * that nothing is silently dropped. The right and top edges belong to the grid.
 */
export function histogram2d(s: Samples, grid: Grid2d): Float64Array {
  check2d('histogram2d', s);
  checkGrid(grid);
  const B = grid.bins;
  const p = new Float64Array(B * B + 1);
  const wx = (grid.xMax - grid.xMin) / B;
  const wy = (grid.yMax - grid.yMin) / B;
  for (let i = 0; i < s.n; i++) {
    const x = s.data[2 * i]!;
    const y = s.data[2 * i + 1]!;
    if (!(x >= grid.xMin && x <= grid.xMax && y >= grid.yMin && y <= grid.yMax)) {
      p[B * B]!++;
      continue;
    }
    const ix = Math.min(B - 1, Math.floor((x - grid.xMin) / wx));
    const iy = Math.min(B - 1, Math.floor((y - grid.yMin) / wy));
    p[ix + B * iy]!++;
  }
  for (let c = 0; c < p.length; c++) p[c]! /= s.n;
  return p;
}

/** Standard normal CDF via erfc(z) = Q(½, z²) (z ≥ 0), accurate to ~1e-15. */
function normalCdf(x: number): number {
  const z = x / Math.SQRT2;
  return z >= 0 ? 1 - 0.5 * gammaQ(0.5, z * z) : 0.5 * gammaQ(0.5, z * z);
}

/**
 * Exact cell probabilities of an equal-weight isotropic 2D Gaussian mixture on
 * `grid`, laid out as {@link histogram2d}'s (each component factorises into
 * differences of Φ along x and y).
 */
export function mixtureGridProbs(modes: MixtureModes, grid: Grid2d): Float64Array {
  const K = checkModes('mixtureGridProbs', modes, 2);
  checkGrid(grid);
  const B = grid.bins;
  const p = new Float64Array(B * B + 1);
  const cx = new Float64Array(B + 1);
  const cy = new Float64Array(B + 1);
  for (let k = 0; k < K; k++) {
    const mx = modes.centres[2 * k]!;
    const my = modes.centres[2 * k + 1]!;
    for (let e = 0; e <= B; e++) {
      cx[e] = normalCdf((grid.xMin + ((grid.xMax - grid.xMin) * e) / B - mx) / modes.sigma);
      cy[e] = normalCdf((grid.yMin + ((grid.yMax - grid.yMin) * e) / B - my) / modes.sigma);
    }
    for (let iy = 0; iy < B; iy++) {
      const py = cy[iy + 1]! - cy[iy]!;
      if (py === 0) continue;
      for (let ix = 0; ix < B; ix++) p[ix + B * iy]! += ((cx[ix + 1]! - cx[ix]!) * py) / K;
    }
  }
  let inside = 0;
  for (let c = 0; c < B * B; c++) inside += p[c]!;
  p[B * B] = Math.max(0, 1 - inside);
  return p;
}

/** Default smoothing ε of {@link klDivergence} and {@link jsDivergence}. */
export const DEFAULT_GRID_EPS = 1e-6;

function smooth(p: ArrayLike<number>, eps: number): Float64Array {
  if (!(eps >= 0 && Number.isFinite(eps))) throw new UsageError(`divergence: eps must be a finite number ≥ 0, got ${eps}`);
  let tot = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i]! >= 0)) throw new UsageError(`divergence: cell ${i} has probability ${p[i]}`);
    tot += p[i]!;
  }
  if (!(tot > 0)) throw new UsageError('divergence: the distribution has no mass');
  const out = new Float64Array(p.length);
  const z = tot + eps * p.length;
  for (let i = 0; i < p.length; i++) out[i] = (p[i]! + eps) / z;
  return out;
}

function klRaw(p: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) s += p[i]! * Math.log(p[i]! / q[i]!);
  return Math.max(0, s);
}

/**
 * KL(P ‖ Q) = Σ p log(p/q) in nats between two cell distributions, after
 * smoothing each as p̃ = (p + ε)/(Σp + Kε) over its K cells, so an empty cell of Q
 * where P has mass costs about p·log(p/ε) instead of ∞.
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>, eps: number = DEFAULT_GRID_EPS): number {
  if (p.length !== q.length) throw new ShapeError(`klDivergence: ${p.length} and ${q.length} cells`);
  return klRaw(smooth(p, eps), smooth(q, eps));
}

/**
 * Jensen–Shannon divergence ½KL(P‖M) + ½KL(Q‖M), M = (P + Q)/2, in nats (≤ ln 2),
 * on the same ε-smoothed cells as {@link klDivergence} (finite even for ε = 0).
 */
export function jsDivergence(p: ArrayLike<number>, q: ArrayLike<number>, eps: number = DEFAULT_GRID_EPS): number {
  if (p.length !== q.length) throw new ShapeError(`jsDivergence: ${p.length} and ${q.length} cells`);
  const ps = smooth(p, eps);
  const qs = smooth(q, eps);
  const m = new Float64Array(ps.length);
  for (let i = 0; i < m.length; i++) m[i] = 0.5 * (ps[i]! + qs[i]!);
  return 0.5 * klRaw(ps, m) + 0.5 * klRaw(qs, m);
}

/** KL in both directions and JS between two cell distributions. */
export interface GridDivergences {
  /** KL(reference ‖ samples). */
  readonly kl: number;
  /** KL(samples ‖ reference). */
  readonly klReverse: number;
  /** JS(reference, samples). */
  readonly js: number;
}

function divergences(ref: Float64Array, q: Float64Array, eps: number): GridDivergences {
  return { kl: klDivergence(ref, q, eps), klReverse: klDivergence(q, ref, eps), js: jsDivergence(ref, q, eps) };
}

/** Options of the grid divergences. */
export interface GridOptions {
  /** The grid; default {@link gridForModes} or {@link gridForSamples} of the reference. */
  readonly grid?: Grid2d;
  /** Cells per side for the default grid (30, GAN Lab's). */
  readonly bins?: number;
  /** Smoothing ε (default {@link DEFAULT_GRID_EPS}). */
  readonly eps?: number;
}

/** Grid KL/JS between a reference sample and another 2D sample (default grid around the reference). */
export function sampleGridDivergence(reference: Samples, s: Samples, opts: GridOptions = {}): GridDivergences {
  const grid = opts.grid ?? gridForSamples(reference, opts.bins ?? 30);
  return divergences(histogram2d(reference, grid), histogram2d(s, grid), opts.eps ?? DEFAULT_GRID_EPS);
}

/** Everything {@link toyMetrics} reports. */
export interface ToyMetrics extends ModeCoverage, GridDivergences {
  /** The grid of the divergences. */
  readonly grid: Grid2d;
  /** The smoothing ε used. */
  readonly eps: number;
}

/**
 * The toy report for 2D samples against a known mixture: {@link modeCoverage}
 * plus KL/JS between the exact cell probabilities of the mixture
 * ({@link mixtureGridProbs}) and the samples' histogram.
 */
export function toyMetrics(s: Samples, modes: MixtureModes, opts: GridOptions & ModeCoverageOptions = {}): ToyMetrics {
  check2d('toyMetrics', s);
  const grid = opts.grid ?? gridForModes(modes, opts.bins ?? 30);
  const eps = opts.eps ?? DEFAULT_GRID_EPS;
  const cov = modeCoverage(s, modes, opts);
  return { ...cov, ...divergences(mixtureGridProbs(modes, grid), histogram2d(s, grid), eps), grid, eps };
}
