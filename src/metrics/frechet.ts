/**
 * Fréchet distance between Gaussians fitted to two feature sets ("FD"; with
 * Inception features it is FID, with a LeNet classifier's it is FD-LeNet), and
 * the symmetric eigensolver it rests on.
 */
import { ShapeError, UsageError } from '../core/errors.js';
import { checkSameWidth, checkSamples, type Samples } from './samples.js';

/** Eigendecomposition A = V diag(λ) Vᵀ of a symmetric matrix. */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  readonly values: Float64Array;
  /** Row-major d×d orthogonal matrix; column j is the unit eigenvector of `values[j]`. */
  readonly vectors: Float64Array;
}

/** Options of {@link symmetricEigen}. */
export interface EigenOptions {
  /** Sweep limit (default 100; cyclic Jacobi converges quadratically, typically in < 12). */
  readonly maxSweeps?: number;
}

function checkSquare(what: string, a: ArrayLike<number>, d: number): void {
  if (!(Number.isInteger(d) && d >= 1)) throw new ShapeError(`${what}: d must be an integer ≥ 1, got ${d}`);
  if (a.length !== d * d) throw new ShapeError(`${what}: expected ${d}×${d} = ${d * d} entries, got ${a.length}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new ShapeError(`${what}: entry ${i} is ${a[i]}`);
}

/**
 * Eigenvalues and eigenvectors of a real symmetric d×d matrix (row-major) by the
 * cyclic Jacobi method (Golub & Van Loan, Matrix Computations, 4th ed., §8.5):
 * plane rotations annihilate each off-diagonal entry in turn until the
 * off-diagonal mass is below 1e-15 of the Frobenius norm. Backward stable, so
 * the eigenvalues of a PSD matrix come out ≥ −O(ε‖A‖), never badly negative.
 * O(d³) per sweep: meant for d up to a few hundred. The input is read only; it
 * is symmetrised as (A + Aᵀ)/2 first.
 */
export function symmetricEigen(a: ArrayLike<number>, d: number, opts: EigenOptions = {}): SymmetricEigen {
  checkSquare('symmetricEigen', a, d);
  const maxSweeps = opts.maxSweeps ?? 100;
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) A[i * d + j] = 0.5 * (a[i * d + j]! + a[j * d + i]!);
  const V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  let frob2 = 0;
  for (let i = 0; i < d * d; i++) frob2 += A[i]! * A[i]!;
  const tol2 = 1e-30 * frob2;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off2 = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off2 += 2 * A[p * d + q]! ** 2;
    if (off2 <= tol2) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q]!;
        if (apq === 0) continue;
        const app = A[p * d + p]!;
        const aqq = A[q * d + q]!;
        // Rotation angle from cot 2θ = (a_qq − a_pp)/(2 a_pq), taking the smaller root for stability.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.abs(theta) > 1e150 ? 1 / (2 * theta) : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          if (k === p || k === q) continue;
          const akp = A[k * d + p]!;
          const akq = A[k * d + q]!;
          const nkp = c * akp - s * akq;
          const nkq = s * akp + c * akq;
          A[k * d + p] = nkp;
          A[p * d + k] = nkp;
          A[k * d + q] = nkq;
          A[q * d + k] = nkq;
        }
        A[p * d + p] = app - t * apq;
        A[q * d + q] = aqq + t * apq;
        A[p * d + q] = 0;
        A[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = V[k * d + p]!;
          const vkq = V[k * d + q]!;
          V[k * d + p] = c * vkp - s * vkq;
          V[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => A[i * d + i]! - A[j * d + j]!);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  for (let c = 0; c < d; c++) {
    const src = order[c]!;
    values[c] = A[src * d + src]!;
    for (let r = 0; r < d; r++) vectors[r * d + c] = V[r * d + src]!;
  }
  return { values, vectors };
}

/** V diag(f(λ)) Vᵀ for a symmetric matrix. */
function spectralMap(a: ArrayLike<number>, d: number, f: (lambda: number) => number): Float64Array {
  const { values, vectors } = symmetricEigen(a, d);
  const fl = values.map(f);
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k]! * fl[k]! * vectors[j * d + k]!;
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  return out;
}

/**
 * The PSD square root of a symmetric positive-semidefinite matrix. Eigenvalues
 * below zero (rounding in a singular covariance) are clipped to 0.
 */
export function sqrtPsd(a: ArrayLike<number>, d: number): Float64Array {
  return spectralMap(a, d, (l) => Math.sqrt(Math.max(l, 0)));
}

function matmul(a: ArrayLike<number>, b: ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j]! += aik * b[k * d + j]!;
    }
  return out;
}

/**
 * Fréchet (2-Wasserstein) distance² between N(μ₁, Σ₁) and N(μ₂, Σ₂):
 * ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2(Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2})
 * (Dowson & Landau, J. Multivariate Anal. 12 (1982) 450; Heusel et al., NeurIPS 2017, as FID).
 * The inner root is taken of the symmetric PSD Σ₁^{1/2}Σ₂Σ₁^{1/2} by
 * eigendecomposition, so singular covariances are fine (to about √ε·‖Σ‖ absolute: the
 * square root is not Lipschitz at a singular matrix); the result is clipped at 0.
 *
 * @param S1 - row-major d×d covariance; likewise `S2`.
 */
export function frechetFromStats(mu1: ArrayLike<number>, S1: ArrayLike<number>, mu2: ArrayLike<number>, S2: ArrayLike<number>): number {
  const d = mu1.length;
  if (d < 1) throw new ShapeError('frechetFromStats: empty mean');
  if (mu2.length !== d) throw new ShapeError(`frechetFromStats: means have lengths ${d} and ${mu2.length}`);
  checkSquare('frechetFromStats S1', S1, d);
  checkSquare('frechetFromStats S2', S2, d);
  let diff2 = 0;
  for (let i = 0; i < d; i++) diff2 += (mu1[i]! - mu2[i]!) ** 2;
  if (!Number.isFinite(diff2)) throw new ShapeError('frechetFromStats: the means are not finite');
  let tr = 0;
  for (let i = 0; i < d; i++) tr += S1[i * d + i]! + S2[i * d + i]!;
  const r1 = sqrtPsd(S1, d);
  const inner = matmul(matmul(r1, S2, d), r1, d);
  const lam = symmetricEigen(inner, d).values;
  let trRoot = 0;
  for (let i = 0; i < d; i++) trRoot += Math.sqrt(Math.max(lam[i]!, 0));
  return Math.max(0, diff2 + tr - 2 * trRoot);
}

/** Mean and covariance of a sample. */
export interface GaussianStats {
  /** Mean vector, length d. */
  readonly mean: Float64Array;
  /** Row-major d×d covariance with the unbiased 1/(n − 1) normalisation (as numpy.cov). */
  readonly cov: Float64Array;
}

/** Mean and unbiased covariance of the rows of `x` (two-pass, float64). */
export function gaussianStats(x: Samples): GaussianStats {
  checkSamples('gaussianStats', x, 2);
  const { n, d, data } = x;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k]! += data[i * d + k]!;
  for (let k = 0; k < d; k++) mean[k]! /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) row[k] = data[i * d + k]! - mean[k]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  return { mean, cov };
}

/**
 * FD: the Fréchet distance between Gaussians fitted to two feature sets
 * (see {@link frechetFromStats}). With n rows per set the plug-in estimate is
 * biased upward, by O(d/n) (Bińkowski et al., ICLR 2018, show the bias), so compare
 * only numbers computed with the same n.
 */
export function frechetDistance(x: Samples, y: Samples): number {
  checkSameWidth('frechetDistance', x, y);
  if (x.d > 1024) throw new UsageError(`frechetDistance: ${x.d} features is too many for the Jacobi eigensolver; project to ≤ 1024 first`);
  const a = gaussianStats(x);
  const b = gaussianStats(y);
  return frechetFromStats(a.mean, a.cov, b.mean, b.cov);
}
