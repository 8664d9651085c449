/**
 * Maximum mean discrepancy: the unbiased MMD² U-statistic with a jackknife
 * standard error, the √MMD² report against a real-vs-real baseline, and a
 * permutation test.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { gaussianKernel, meanSqDistanceKernel, medianKernel, type Kernel } from './kernels.js';
import { checkSameWidth, checkSamples, concatRows, selectRows, type Samples } from './samples.js';

/** An estimate with its standard error. */
export interface Estimate {
  /** The point estimate. */
  readonly value: number;
  /** Its standard error. */
  readonly se: number;
}

/** Kernel sums shared by the estimate and its jackknife. */
interface KernelSums {
  /** Σ_{j≠i} k(x_i, x_j) per row of x. */
  readonly rxx: Float64Array;
  /** Σ_{j≠i} k(y_i, y_j) per row of y. */
  readonly ryy: Float64Array;
  /** Σ_j k(x_i, y_j) per row of x. */
  readonly cx: Float64Array;
  /** Σ_i k(x_i, y_j) per row of y. */
  readonly cy: Float64Array;
}

function kernelSums(x: Samples, y: Samples, kernel: Kernel): KernelSums {
  const rxx = new Float64Array(x.n);
  const ryy = new Float64Array(y.n);
  const cx = new Float64Array(x.n);
  const cy = new Float64Array(y.n);
  // Both within-sample Gram matrices are symmetric, so each pair is evaluated once.
  for (const [s, r] of [
    [x, rxx],
    [y, ryy],
  ] as const) {
    for (let i = 0; i < s.n; i++)
      for (let j = i + 1; j < s.n; j++) {
        const v = kernel.k(s, i, s, j);
        r[i]! += v;
        r[j]! += v;
      }
  }
  for (let i = 0; i < x.n; i++)
    for (let j = 0; j < y.n; j++) {
      const v = kernel.k(x, i, y, j);
      cx[i]! += v;
      cy[j]! += v;
    }
  return { rxx, ryy, cx, cy };
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Σ (v_i − v̄)² of the values (two passes). */
function sumSqDev(v: Float64Array): number {
  const mean = sum(v) / v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - mean) ** 2;
  return s;
}

/**
 * The unbiased estimate of MMD²(P, Q) from x ~ P (m rows) and y ~ Q (n rows),
 *
 *   MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(x_i,x_j) + 1/(n(n−1)) Σ_{i≠j} k(y_i,y_j) − 2/(mn) Σ_{i,j} k(x_i,y_j)
 *
 * (Gretton et al., JMLR 13 (2012) 723, eq. 3 / Lemma 6), with the two-sample
 * jackknife standard error (Arvesen, Ann. Math. Stat. 40 (1969) 2076): leaving
 * out each x_i and each y_j in turn, Var_J = (m−1)/m Σ_i (U_{−i} − Ū_x)² +
 * (n−1)/n Σ_j (U_{−j} − Ū_y)². The leave-one-out values come from kernel row
 * sums, so the SE costs nothing beyond the estimate: O((m + n)² d) kernel work
 * and O(m + n) memory (no Gram matrix is stored).
 *
 * The jackknife is conservative (Efron & Stein, Ann. Stat. 9 (1981) 586): it
 * estimates the first-order (P ≠ Q) variance consistently but counts the
 * second-order, degenerate part twice, so when P = Q its variance is
 * 2(n−1)/(n−2) ≈ 2 times the true one and the SE ≈ √2 times too large.
 *
 * @returns the estimate (it can be negative when P = Q) and its jackknife SE.
 */
export function mmd2Unbiased(x: Samples, y: Samples, kernel: Kernel): Estimate & { readonly m: number; readonly n: number } {
  checkSamples('mmd2Unbiased x', x, 3);
  checkSamples('mmd2Unbiased y', y, 3);
  checkSameWidth('mmd2Unbiased', x, y);
  const m = x.n;
  const n = y.n;
  const { rxx, ryy, cx, cy } = kernelSums(x, y, kernel);
  const sxx = sum(rxx);
  const syy = sum(ryy);
  const sxy = sum(cx);
  const value = sxx / (m * (m - 1)) + syy / (n * (n - 1)) - (2 * sxy) / (m * n);
  // Leaving x_i out removes 2·rxx_i from the ordered-pair sum and cx_i from the cross sum;
  // the y–y term does not change, so only the varying part is needed for the spread.
  const ux = new Float64Array(m);
  for (let i = 0; i < m; i++) ux[i] = (sxx - 2 * rxx[i]!) / ((m - 1) * (m - 2)) - (2 * (sxy - cx[i]!)) / ((m - 1) * n);
  const uy = new Float64Array(n);
  for (let j = 0; j < n; j++) uy[j] = (syy - 2 * ryy[j]!) / ((n - 1) * (n - 2)) - (2 * (sxy - cy[j]!)) / (m * (n - 1));
  const varJ = ((m - 1) / m) * sumSqDev(ux) + ((n - 1) / n) * sumSqDev(uy);
  return { value, se: Math.sqrt(varJ), m, n };
}

/** How {@link mmd} chooses the Gaussian bandwidth when no kernel is given. */
export type BandwidthChoice = 'median' | 'meanSq' | number;

/** Options of {@link mmd} and {@link mmdReport}. */
export interface MmdOptions {
  /** A kernel to use as is; overrides `bandwidth`. */
  readonly kernel?: Kernel;
  /**
   * Gaussian bandwidth: `'median'` (median heuristic on the pooled sample, the
   * default), `'meanSq'` (the course's σ = s·√(mean d²), s = `scale`), or σ itself.
   */
  readonly bandwidth?: BandwidthChoice;
  /** The s of `'meanSq'` (default 1). */
  readonly scale?: number;
}

/** An MMD estimate as reported. */
export interface MmdResult {
  /** Unbiased MMD². */
  readonly mmd2: number;
  /** Jackknife SE of `mmd2` (see {@link mmd2Unbiased}). */
  readonly se: number;
  /** √max(MMD², 0), the number usually quoted. */
  readonly mmd: number;
  /** The kernel used. */
  readonly kernel: string;
  /** Rows of the first and second sample. */
  readonly m: number;
  readonly n: number;
}

/** The kernel {@link mmd} would use for x and y under `opts`. */
export function chooseKernel(x: Samples, y: Samples, opts: MmdOptions = {}): Kernel {
  if (opts.kernel) return opts.kernel;
  const bw = opts.bandwidth ?? 'median';
  if (bw === 'median') return medianKernel(x, y);
  if (bw === 'meanSq') return meanSqDistanceKernel(x, y, opts.scale ?? 1);
  if (typeof bw === 'number') return gaussianKernel(bw);
  throw new UsageError(`mmd: bandwidth must be 'median', 'meanSq' or a positive number, got '${String(bw)}'`);
}

function result(e: Estimate & { m: number; n: number }, kernel: Kernel): MmdResult {
  return { mmd2: e.value, se: e.se, mmd: Math.sqrt(Math.max(e.value, 0)), kernel: kernel.name, m: e.m, n: e.n };
}

/** Unbiased MMD² between x and y with √max(MMD², 0), under the kernel chosen by `opts`. */
export function mmd(x: Samples, y: Samples, opts: MmdOptions = {}): MmdResult {
  const kernel = chooseKernel(x, y, opts);
  return result(mmd2Unbiased(x, y, kernel), kernel);
}

/**
 * Real-vs-real baseline: MMD between two disjoint random halves of `real`
 * (sizes ⌊n/2⌋ and ⌈n/2⌉), the level a perfect generator would reach with
 * half as many samples. Use the kernel of the real-vs-fake comparison so the two
 * numbers are on one scale.
 */
export function mmdBaseline(real: Samples, kernel: Kernel, rng: Rng): MmdResult {
  checkSamples('mmdBaseline real', real, 6);
  const perm = rng.permutation(real.n);
  const h = real.n >> 1;
  const a = selectRows(real, perm.subarray(0, h));
  const b = selectRows(real, perm.subarray(h));
  return result(mmd2Unbiased(a, b, kernel), kernel);
}

/** Options of {@link mmdPermutationTest}. */
export interface PermutationOptions {
  /** The random stream for the relabellings. */
  readonly rng: Rng;
  /** Number of random relabellings (default 200). */
  readonly permutations?: number;
}

/** Result of {@link mmdPermutationTest}. */
export interface PermutationResult {
  /** The observed MMD²_u. */
  readonly statistic: number;
  /** (1 + #{permuted ≥ observed}) / (1 + permutations). */
  readonly pValue: number;
  /** Number of relabellings drawn. */
  readonly permutations: number;
}

/** Largest pooled sample the permutation test accepts (its N×N float64 Gram matrix is 128 MiB). */
export const MAX_PERMUTATION_POINTS = 4096;

/**
 * Permutation test of P = Q with MMD²_u as the statistic (Gretton et al., JMLR 2012):
 * the pooled Gram matrix is built once, then each relabelling costs O(m²).
 * The p-value counts the observed labelling as one of the permutations
 * (Phipson & Smyth, Stat. Appl. Genet. Mol. Biol. 9 (2010) 39), so it is never 0
 * and is (super-)uniform under the null.
 */
export function mmdPermutationTest(x: Samples, y: Samples, kernel: Kernel, opts: PermutationOptions): PermutationResult {
  checkSamples('mmdPermutationTest x', x, 2);
  checkSamples('mmdPermutationTest y', y, 2);
  checkSameWidth('mmdPermutationTest', x, y);
  const P = opts.permutations ?? 200;
  if (!(Number.isInteger(P) && P >= 1)) throw new UsageError(`mmdPermutationTest: permutations must be an integer ≥ 1, got ${P}`);
  const m = x.n;
  const n = y.n;
  const N = m + n;
  if (N > MAX_PERMUTATION_POINTS) throw new UsageError(`mmdPermutationTest: ${N} pooled points exceed ${MAX_PERMUTATION_POINTS}; subsample first`);
  const z = concatRows(x, y);
  const K = new Float64Array(N * N);
  const r = new Float64Array(N);
  for (let i = 0; i < N; i++)
    for (let j = i + 1; j < N; j++) {
      const v = kernel.k(z, i, z, j);
      K[i * N + j] = v;
      K[j * N + i] = v;
      r[i]! += v;
      r[j]! += v;
    }
  const total = sum(r);
  // With X the rows `idx[0..m)`: XX = Σ_{i≠j∈X} K_ij, XX + XY = Σ_{i∈X} r_i, and XX + YY + 2XY = total.
  const stat = (idx: ArrayLike<number>): number => {
    let xx = 0;
    let xr = 0;
    for (let a = 0; a < m; a++) {
      const i = idx[a]!;
      xr += r[i]!;
      const row = i * N;
      for (let b = a + 1; b < m; b++) xx += K[row + idx[b]!]!;
    }
    xx *= 2;
    const xy = xr - xx;
    const yy = total - xx - 2 * xy;
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - (2 * xy) / (m * n);
  };
  const identity = new Uint32Array(N);
  for (let i = 0; i < N; i++) identity[i] = i;
  const observed = stat(identity);
  // A relabelling ties the observed one only through rounding; the tolerance counts such ties as ≥.
  const tie = 1e-12 * (Math.abs(total) / (N * N) + Math.abs(observed));
  let ge = 0;
  for (let p = 0; p < P; p++) if (stat(opts.rng.permutation(N)) >= observed - tie) ge++;
  return { statistic: observed, pValue: (1 + ge) / (1 + P), permutations: P };
}

/** Options of {@link mmdReport}. */
export interface MmdReportOptions extends MmdOptions {
  /** Random stream for the baseline split and the permutations. */
  readonly rng: Rng;
  /** Also compute the real-vs-real baseline (default true). */
  readonly baseline?: boolean;
  /** Number of permutations for the p-value; 0 skips the test (default 0). */
  readonly permutations?: number;
}

/** The full MMD report of {@link mmdReport}. */
export interface MmdReport extends MmdResult {
  /** Real-vs-real baseline under the same kernel, when asked for. */
  readonly baseline?: MmdResult;
  /** Permutation-test p-value of real = fake, when asked for. */
  readonly pValue?: number;
  /** Permutations behind `pValue` (0 when skipped). */
  readonly permutations: number;
}

/**
 * MMD of generated samples against real ones, the way the course reports it:
 * √MMD² with its SE, a real-vs-real baseline under the same kernel (chosen once
 * from the pooled real ∪ fake sample), and optionally a permutation p-value.
 */
export function mmdReport(real: Samples, fake: Samples, opts: MmdReportOptions): MmdReport {
  const kernel = chooseKernel(real, fake, opts);
  const main = result(mmd2Unbiased(real, fake, kernel), kernel);
  const P = opts.permutations ?? 0;
  if (!(Number.isInteger(P) && P >= 0)) throw new UsageError(`mmdReport: permutations must be an integer ≥ 0, got ${P}`);
  const baseline = (opts.baseline ?? true) ? mmdBaseline(real, kernel, opts.rng) : undefined;
  const pValue = P > 0 ? mmdPermutationTest(real, fake, kernel, { rng: opts.rng, permutations: P }).pValue : undefined;
  return { ...main, ...(baseline ? { baseline } : {}), ...(pValue !== undefined ? { pValue } : {}), permutations: P };
}
