/**
 * Dense CPU kernels on plain typed arrays: the small contract between the
 * energy-model code (samplers, trainers, estimators) and the engine.
 *
 * All matrices are row-major `Float32Array`s. Implementations: `jsKernels`
 * (pure TypeScript, always available) and the native addon (OpenBLAS + fused
 * MCMC kernels). Random draws come from an {@link Rng}'s four-word state and
 * use the float32 uniform formula of `Rng.uniformF32`, so a native kernel and
 * the JavaScript one give the same samples from the same generator state.
 */
import type { Rng } from '../core/rng.js';

/** Which implementation a kernel set is. */
export type KernelsName = 'native' | 'js' | 'wasm';

/** Dense kernels used by the energy-based models. */
export interface Kernels {
  /** Implementation name. */
  readonly name: KernelsName;
  /** Human-readable BLAS description, e.g. "OpenBLAS 0.3.21 (pthread, 2 threads)". */
  readonly blas: string;
  /** Threads the kernels use. */
  readonly threads: number;

  /**
   * General matrix product C ← α·op(A)·op(B) + β·C, with op(A) of shape M×K and
   * op(B) of shape K×N. `transA` means A is stored K×M; `transB` means B is stored N×K.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;

  /**
   * One Gibbs half-step for a Bernoulli layer, fused:
   *   P = σ(β·(X·op(W) + bias)),  S = 1[u < P] with u from `rng`.
   * X is rows×nIn; W is nIn×nOut (or nOut×nIn when `transW`); bias has nOut entries.
   * `sample` may be null to get only the means. `beta` (inverse temperature, default 1)
   * scales the whole activation, as parallel tempering needs.
   * Uniforms are consumed row by row, one per output unit, in row-major order.
   */
  bernoulliLayer(
    X: Float32Array,
    W: Float32Array,
    bias: Float32Array,
    rows: number,
    nIn: number,
    nOut: number,
    transW: boolean,
    prob: Float32Array,
    sample: Float32Array | null,
    rng: Rng | null,
    beta?: number,
  ): void;

  /** Fill `out` with float32-grid uniforms (u32 >>> 8)·2^-24 from `rng`, as `Rng.fillUniform`. */
  fillUniform(rng: Rng, out: Float32Array): void;
}
