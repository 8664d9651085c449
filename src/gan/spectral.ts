/**
 * Spectral normalisation (Miyato, Kataoka, Koyama & Yoshida, ICLR 2018): a layer
 * uses W / σ(W), with σ(W) the largest singular value estimated by power
 * iteration on a persistent vector u, one iteration per training step.
 *
 * A kernel of any rank is viewed as the matrix `[∏ shape[:-1], shape[-1]]` (Keras
 * layouts put the output axis last); PyTorch's `[out, in·kh·kw]` view is its
 * transpose up to a row permutation, so σ is the same.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';

/** Guards the normalisation of an all-zero vector (PyTorch's eps 1e-12). */
const NORM_EPS = 1e-12;

/** v / max(‖v‖₂, 1e-12). */
export function l2Normalize(v: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.div(v, tf.maximum(tf.norm(v), NORM_EPS)) as tf.Tensor1D);
}

/** A uniformly random direction in Rⁿ: normalised N(0, I) draws from `rng` (float64 sums). */
export function randomUnitVector(rng: Rng, n: number): Float32Array {
  const x = new Float64Array(n);
  rng.fillNormal(x);
  let s = 0;
  for (const v of x) s += v * v;
  const r = 1 / Math.max(Math.sqrt(s), NORM_EPS);
  return Float32Array.from(x, (v) => v * r);
}

/** The `[rows, cols]` matrix view of a kernel (output axis last). */
export function kernelMatrixShape(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw new ShapeError(`spectral norm: a kernel needs rank ≥ 2, got shape ${JSON.stringify(shape)}`);
  const cols = shape[shape.length - 1]!;
  return [shape.reduce((a, b) => a * b, 1) / cols, cols];
}

/**
 * `iterations` power-iteration steps on the matrix `w` `[m, n]` from `u` `[n]`:
 * v ← W u / ‖W u‖, u ← Wᵀ v / ‖Wᵀ v‖; σ = vᵀ W u ≤ σ_max(W), which converges to
 * σ_max at rate (σ₂/σ₁)² per step (Miyato et al. 2018, Algorithm 1).
 */
export function powerIteration(w: tf.Tensor2D, u: tf.Tensor1D, iterations: number): { u: tf.Tensor1D; v: tf.Tensor1D; sigma: tf.Scalar } {
  if (u.shape[0] !== w.shape[1]) throw new ShapeError(`power iteration: u has ${u.shape[0]} entries, the matrix has ${w.shape[1]} columns`);
  return tf.tidy(() => {
    let uu = l2Normalize(u);
    let vv = l2Normalize(tf.matMul(w, uu.reshape([-1, 1])).reshape([-1]) as tf.Tensor1D);
    for (let i = 0; i < iterations; i++) {
      vv = l2Normalize(tf.matMul(w, uu.reshape([-1, 1])).reshape([-1]) as tf.Tensor1D);
      uu = l2Normalize(tf.matMul(vv.reshape([1, -1]), w).reshape([-1]) as tf.Tensor1D);
    }
    const sigma = tf.sum(tf.mul(vv, tf.matMul(w, uu.reshape([-1, 1])).reshape([-1]))) as tf.Scalar;
    return { u: uu, v: vv, sigma };
  });
}

/**
 * The persistent power-iteration state of one kernel: u `[cols]` and v `[rows]`,
 * non-trainable variables named `<layer>.sn_u` / `<layer>.sn_v`.
 */
export class SpectralNorm {
  readonly u: tf.Variable;
  readonly v: tf.Variable;
  private readonly shape: [number, number];

  /**
   * @param u - initial right vector, stored as given (unit length, e.g. from
   *   {@link SpectralNorm.randomVectors} or a checkpoint) so a restore is bit-exact
   * @param v - initial left vector
   */
  constructor(
    kernelShape: readonly number[],
    u: Float32Array,
    v: Float32Array,
    readonly name: string,
    varPrefix: string,
  ) {
    this.shape = kernelMatrixShape(kernelShape);
    if (u.length !== this.shape[1] || v.length !== this.shape[0]) throw new ShapeError(`spectral norm '${name}': u/v have ${u.length}/${v.length} entries, need ${this.shape[1]}/${this.shape[0]}`);
    this.u = tf.variable(tf.tensor1d(Float32Array.from(u)), false, `${varPrefix}/${name}.sn_u`);
    this.v = tf.variable(tf.tensor1d(Float32Array.from(v)), false, `${varPrefix}/${name}.sn_v`);
  }

  /** Fresh random unit vectors (normalised N(0, I) draws) from `rng` for a kernel of shape `kernelShape`, u first. */
  static randomVectors(kernelShape: readonly number[], rng: Rng): { u: Float32Array; v: Float32Array } {
    const [m, n] = kernelMatrixShape(kernelShape);
    return { u: randomUnitVector(rng, n), v: randomUnitVector(rng, m) };
  }

  /** Advance u and v by `iterations` power-iteration steps on the current kernel (no gradient). */
  step(kernel: tf.Tensor, iterations = 1): void {
    tf.tidy(() => {
      const r = powerIteration(kernel.reshape(this.shape) as tf.Tensor2D, this.u as tf.Tensor1D, iterations);
      this.u.assign(r.u);
      this.v.assign(r.v);
    });
  }

  /**
   * σ = vᵀ W u with u, v held fixed, differentiable in W (as in PyTorch's
   * spectral_norm, whose u and v are computed without gradient).
   */
  sigma(kernel: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const wu = tf.matMul(kernel.reshape(this.shape) as tf.Tensor2D, (this.u as tf.Tensor1D).reshape([-1, 1])).reshape([-1]);
      return tf.sum(tf.mul(this.v, wu)) as tf.Scalar;
    });
  }

  /** W / σ(W). */
  normalize(kernel: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(kernel, this.sigma(kernel)));
  }

  dispose(): void {
    this.u.dispose();
    this.v.dispose();
  }
}
