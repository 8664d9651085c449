/**
 * Fused ops with a gradient: GroupNorm (Wu & He, ECCV 2018) and SiLU (Elfwing et al. 2018).
 * Each is a tfjs kernel name of our own with its gradient registered here (browser-safe:
 * no backend is imported). A backend that implements the kernels registers them for
 * itself (the native backend does, in native-backend.ts); {@link fusedAvailable} tells
 * the callers whether the active backend has them, and they fall back to compositions of
 * tfjs ops otherwise (src/diffusion/unet.ts). The kernels' contract:
 *
 * - `GenphysGroupNorm` {x [B, H, W, C], gamma [C], beta [C]}, attrs {groups, eps} →
 *   [y (x's shape), mean [B, G], rstd [B, G]], rstd = 1/√(σ² + eps), σ² biased.
 * - `GenphysGroupNormGrad` {dy, x, mean, rstd, gamma}, attrs {groups} → [dx, dgamma, dbeta].
 * - `GenphysSilu` {x} → x·σ(x); `GenphysSiluGrad` {x, dy} → dy·σ(x)·(1 + x·(1 − σ(x))).
 *
 * The gradients are first-order only: the backward kernels have no gradient of their own.
 */
import * as tf from '@tensorflow/tfjs';

export const GROUP_NORM = 'GenphysGroupNorm';
export const GROUP_NORM_GRAD = 'GenphysGroupNormGrad';
export const SILU = 'GenphysSilu';
export const SILU_GRAD = 'GenphysSiluGrad';

let gradientsRegistered = false;

function registerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: GROUP_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const dy = Array.isArray(dys) ? dys[0]! : dys;
      const [x, gamma, mean, rstd] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      // One backward kernel gives all three gradients. It runs here, in the backward
      // pass's own scope (as tfjs's LeakyRelu gradient computes its mask), not inside
      // the per-input closures: each of those runs in a tidy that would dispose the
      // other two; a gradient nobody asks for is disposed with the backward scope.
      const [dx, dgamma, dbeta] = tf.engine().runKernel(GROUP_NORM_GRAD, { dy, x, mean, rstd, gamma }, { groups: (attrs as { groups: number }).groups }) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
    },
  });
  tf.registerGradient({
    kernelName: SILU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => tf.engine().runKernel(SILU_GRAD, { x, dy: dy as tf.Tensor }) as tf.Tensor };
    },
  });
}

/** Whether the active backend runs `kernel` (and its gradient kernel) itself. */
export function fusedAvailable(kernel: typeof GROUP_NORM | typeof SILU): boolean {
  const backend = tf.getBackend();
  const grad = kernel === GROUP_NORM ? GROUP_NORM_GRAD : SILU_GRAD;
  if (!tf.getKernel(kernel, backend) || !tf.getKernel(grad, backend)) return false;
  registerGradients();
  return true;
}

/**
 * GroupNorm of NHWC `x` through the fused kernel, with the per-(example, group) mean and
 * rstd = 1/√(σ² + eps) `[B, G]` it normalised by (not differentiable: only y carries a
 * gradient). Call only when {@link fusedAvailable}(GROUP_NORM).
 */
export function groupNormFusedStats(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps: number): { y: tf.Tensor4D; mean: tf.Tensor2D; rstd: tf.Tensor2D } {
  const [y, mean, rstd] = tf.engine().runKernel(GROUP_NORM, { x, gamma, beta }, { groups, eps }) as tf.Tensor[];
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor2D, rstd: rstd as tf.Tensor2D };
}

/** GroupNorm of NHWC `x` through the fused kernel; call only when {@link fusedAvailable}(GROUP_NORM). */
export function groupNormFused(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps: number): tf.Tensor4D {
  const { y, mean, rstd } = groupNormFusedStats(x, gamma, beta, groups, eps);
  mean.dispose();
  rstd.dispose();
  return y;
}

/**
 * Training-mode BatchNorm (Ioffe & Szegedy 2015, Algorithm 1) of `x` over all axes but the
 * last, through the fused GroupNorm kernel: BatchNorm over N·H·W is GroupNorm of the whole
 * batch as one example ([1, N, H·W, C]) with one group per channel. Returns y (x's shape)
 * and the batch mean and biased variance `[C]` (the variance as 1/rstd² − eps, for the
 * moving averages). Call only when {@link fusedAvailable}(GROUP_NORM).
 */
export function batchNormFused(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    const C = x.shape[x.shape.length - 1]!;
    const rows = x.size / C;
    const { y, mean, rstd } = groupNormFusedStats(tf.reshape(x, [1, rows, 1, C]), gamma, beta, C, eps);
    const variance = tf.sub(tf.reciprocal(tf.square(rstd)), eps);
    return { y: tf.reshape(y, x.shape), mean: tf.reshape(mean, [C]) as tf.Tensor1D, variance: tf.reshape(variance, [C]) as tf.Tensor1D };
  });
}

/** SiLU through the fused kernel; call only when {@link fusedAvailable}(SILU). */
export function siluFused(x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(SILU, { x }) as tf.Tensor;
}
