/**
 * The Adam update every genphys trainer uses, browser-safe: a fused native pass is
 * plugged in by the native backend when it loads (src/engine/native-backend.ts), and
 * every other backend (wasm, cpu, webgl in the lab) gets one JavaScript pass per tensor.
 */
import * as tf from '@tensorflow/tfjs';

/** Adam hyperparameters of {@link adamUpdate}. */
export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/**
 * A fused Adam step for one backend: updates `m`, `v` in place and assigns the variable,
 * with the bias corrections c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ given; returns false, touching
 * nothing, when it does not apply (another backend is active).
 */
export type FusedAdamStep = (
  variable: tf.Variable,
  grad: tf.Tensor,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  c1: number,
  c2: number,
) => boolean;

let fused: FusedAdamStep | null = null;

/**
 * Plug in a backend's fused step. The native backend does this when it is imported;
 * since a tensor can only live on the native backend once that module has loaded, code
 * that never loads it (a browser) never needs the step.
 */
export function registerFusedAdamStep(step: FusedAdamStep): void {
  fused = step;
}

/**
 * One Adam update (Kingma & Ba, ICLR 2015, Algorithm 1) of `variable` at step `t` (1-based):
 * the registered fused pass where it applies; elsewhere one JavaScript pass per tensor
 * (float64 arithmetic, float32 storage) instead of ~8 tfjs ops, which would dominate small
 * models' step time. p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε); `m`, `v` are updated in place.
 */
export function adamUpdate(variable: tf.Variable, grad: tf.Tensor, m: Float32Array, v: Float32Array, h: AdamHyper, t: number): void {
  const { lr, beta1: b1, beta2: b2, eps } = h;
  const c1 = 1 - b1 ** t;
  const bias2 = 1 - b2 ** t;
  if (fused?.(variable, grad, m, v, lr, b1, b2, eps, c1, bias2)) return;
  const c2 = Math.sqrt(bias2);
  const stepSize = lr / c1;
  const g = grad.dataSync() as Float32Array;
  const w = Float32Array.from(variable.dataSync() as Float32Array);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) / c2 + eps);
  }
  tf.tidy(() => variable.assign(tf.tensor(w, variable.shape)));
}
