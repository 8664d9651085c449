/**
 * GAN objectives as functions of the discriminator's logits (outputs before any
 * sigmoid) on real and generated batches, each returning a scalar batch mean.
 * Cross-entropies are written with softplus, log σ(l) = −softplus(−l) and
 * log(1 − σ(l)) = −softplus(l), which stays finite for any logit.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { ShapeError, UsageError } from '../core/errors.js';
import { GAN_LOSS_NAMES, type GanLossName } from './presets.js';

/** A GAN objective: what D minimises and what G minimises. */
export interface GanLoss {
  readonly name: GanLossName;
  /** D's (or the critic's) loss from its logits on a real and a generated batch. */
  discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar;
  /** G's loss from D's logits on a generated batch. */
  generatorLoss(fakeLogits: tf.Tensor): tf.Scalar;
  /** Whether the trainer must add {@link gradientPenalty} to the discriminator loss. */
  readonly needsGradientPenalty: boolean;
}

/** Options of {@link getGanLoss}. */
export interface GanLossOptions {
  /** Target for real examples in D's cross-entropy, 'ns' and 'minimax' (1: none; 0.9: one-sided smoothing). */
  readonly realLabel?: number;
}

/**
 * Binary cross-entropy of targets y against logits l, as a mean:
 * −[y log σ(l) + (1−y) log(1−σ(l))] = y·softplus(−l) + (1−y)·softplus(l).
 */
export function bceWithLogits(logits: tf.Tensor, target: number): tf.Scalar {
  return tf.tidy(() => {
    const pos = tf.mean(tf.softplus(tf.neg(logits)));
    if (target === 1) return pos as tf.Scalar;
    const neg = tf.mean(tf.softplus(logits));
    if (target === 0) return neg as tf.Scalar;
    return tf.add(tf.mul(pos, target), tf.mul(neg, 1 - target)) as tf.Scalar;
  });
}

function checkLabel(realLabel: number): void {
  if (!(realLabel > 0 && realLabel <= 1)) throw new UsageError(`realLabel: need 0 < realLabel ≤ 1, got ${realLabel}`);
}

/**
 * The original objective's discriminator loss (Goodfellow et al. 2014, eq. 1):
 * −E log D(x) − E log(1 − D(G(z))), with the real target replaced by `realLabel`
 * for one-sided label smoothing (Salimans et al. 2016, §3.4).
 */
function crossEntropyD(realLabel: number) {
  return (real: tf.Tensor, fake: tf.Tensor): tf.Scalar => tf.tidy(() => tf.add(bceWithLogits(real, realLabel), bceWithLogits(fake, 0)) as tf.Scalar);
}

/**
 * Non-saturating GAN (Goodfellow et al. 2014, §3): G minimises −E log D(G(z)) =
 * E softplus(−l_fake), whose gradient does not vanish when D rejects the fakes.
 */
export function nonSaturatingLoss(opts: GanLossOptions = {}): GanLoss {
  const realLabel = opts.realLabel ?? 1;
  checkLabel(realLabel);
  return {
    name: 'ns',
    needsGradientPenalty: false,
    discriminatorLoss: crossEntropyD(realLabel),
    generatorLoss: (fake) => bceWithLogits(fake, 1),
  };
}

/**
 * The original minimax game (Goodfellow et al. 2014, eq. 1): G minimises
 * E log(1 − D(G(z))) = −E softplus(l_fake).
 */
export function minimaxLoss(opts: GanLossOptions = {}): GanLoss {
  const realLabel = opts.realLabel ?? 1;
  checkLabel(realLabel);
  return {
    name: 'minimax',
    needsGradientPenalty: false,
    discriminatorLoss: crossEntropyD(realLabel),
    generatorLoss: (fake) => tf.tidy(() => tf.neg(bceWithLogits(fake, 0)) as tf.Scalar),
  };
}

/**
 * Least-squares GAN (Mao et al. 2017, eq. 2 with a = 0, b = c = 1) on D's raw output:
 * D minimises ½E(D(x) − 1)² + ½E D(G(z))², G minimises ½E(D(G(z)) − 1)².
 */
export function leastSquaresLoss(): GanLoss {
  const half = (t: tf.Tensor, target: number) => tf.mul(tf.mean(tf.square(target === 0 ? t : tf.sub(t, target))), 0.5);
  return {
    name: 'lsgan',
    needsGradientPenalty: false,
    discriminatorLoss: (real, fake) => tf.tidy(() => tf.add(half(real, 1), half(fake, 0)) as tf.Scalar),
    generatorLoss: (fake) => tf.tidy(() => half(fake, 1) as tf.Scalar),
  };
}

/**
 * Wasserstein critic loss without the penalty (Arjovsky et al. 2017; Gulrajani et
 * al. 2017, Algorithm 1): the critic minimises E f(G(z)) − E f(x), G minimises −E f(G(z)).
 * Add {@link gradientPenalty} to the critic's loss.
 */
export function wassersteinLoss(): GanLoss {
  return {
    name: 'wgan-gp',
    needsGradientPenalty: true,
    discriminatorLoss: (real, fake) => tf.tidy(() => tf.sub(tf.mean(fake), tf.mean(real)) as tf.Scalar),
    generatorLoss: (fake) => tf.tidy(() => tf.neg(tf.mean(fake)) as tf.Scalar),
  };
}

/**
 * The loss called `name`.
 * @throws UsageError naming the option and the choices
 */
export function getGanLoss(name: string, opts: GanLossOptions = {}): GanLoss {
  switch (name) {
    case 'ns':
      return nonSaturatingLoss(opts);
    case 'minimax':
      return minimaxLoss(opts);
    case 'lsgan':
      return leastSquaresLoss();
    case 'wgan-gp':
      return wassersteinLoss();
    default:
      throw new UsageError(`--loss: unknown GAN loss '${name}'; choose one of ${GAN_LOSS_NAMES.join(', ')}`);
  }
}

/** Per-example ε ~ U[0, 1) for the interpolates, from `rng` (float32 grid), `[n, 1]`. */
export function interpolationWeights(rng: Rng, n: number): tf.Tensor2D {
  const e = new Float32Array(n);
  for (let i = 0; i < n; i++) e[i] = rng.uniformF32();
  return tf.tensor2d(e, [n, 1]);
}

/**
 * Keeps the norm's gradient finite where ∇D = 0 (√ has an infinite slope at 0);
 * it shifts ‖·‖ by at most 1e-6 relative to norms of order 1.
 */
const NORM_EPS = 1e-12;

/**
 * WGAN-GP gradient penalty (Gulrajani et al. 2017, eq. 3):
 * λ·E[(‖∇_x̂ D(x̂)‖₂ − 1)²] with x̂ = ε x + (1 − ε) x̃, ε ~ U[0, 1] per example.
 *
 * The inner gradient is taken inside the caller's tape, so differentiating the
 * result with respect to D's parameters is double backprop: every op in `critic`
 * must have a differentiable gradient ({@link Gan.discriminate} qualifies).
 *
 * @param critic - x `[B, D]` → scores `[B]` (e.g. `x => gan.discriminate(x, …)`)
 * @param eps - the ε `[B, 1]`, e.g. {@link interpolationWeights}
 */
export function gradientPenalty(critic: (x: tf.Tensor2D) => tf.Tensor, real: tf.Tensor2D, fake: tf.Tensor2D, eps: tf.Tensor2D, lambda = 10): tf.Scalar {
  if (real.shape[0] !== fake.shape[0] || real.shape[1] !== fake.shape[1]) throw new ShapeError(`gradient penalty: real ${JSON.stringify(real.shape)} and fake ${JSON.stringify(fake.shape)} batches differ in shape`);
  if (eps.shape[0] !== real.shape[0] || eps.shape[1] !== 1) throw new ShapeError(`gradient penalty: ε has shape ${JSON.stringify(eps.shape)}, need [${real.shape[0]}, 1]`);
  if (!(lambda >= 0)) throw new UsageError(`gpWeight: need λ ≥ 0, got ${lambda}`);
  return tf.tidy(() => {
    const xHat = tf.add(tf.mul(eps, real), tf.mul(tf.sub(1, eps), fake)) as tf.Tensor2D;
    // Σ over the batch: example i's score depends on x̂_i only, so row i of the
    // gradient is ∇ D(x̂_i).
    const g = tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor2D)))(xHat);
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), 1), NORM_EPS));
    return tf.mul(tf.mean(tf.square(tf.sub(norm, 1))), lambda) as tf.Scalar;
  });
}
