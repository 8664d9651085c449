/**
 * Distributions of the variational autoencoder: the diagonal Normal posterior
 * Q(h|x), the standard Normal prior, the decoders' likelihoods p(x|h), and the
 * Kullback–Leibler divergences between Gaussians.
 *
 * Tensor functions work per example: inputs are `[batch, dim]`, results are
 * `[batch]` sums over the last axis, in nats. All randomness comes in as
 * tensors drawn from an {@link Rng} ({@link normalNoise}), never from tfjs's own
 * generator, so a run is reproducible and backend-independent.
 *
 * A note users trip over (pytorch/examples #460): binary cross-entropy applied to
 * grey-level pixels in (0, 1) is *not* a log-likelihood. The Bernoulli mass
 * function is only normalised over x ∈ {0, 1}; on [0, 1] it integrates to less than
 * one, so "BCE on grey pixels" is a reconstruction score whose value cannot be
 * compared with a likelihood. Binarise the data (static or dynamic) to get a proper
 * Bernoulli likelihood, or use the continuous Bernoulli decoder, which adds the
 * missing normaliser (Loaiza-Ganem & Cunningham, NeurIPS 2019).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** A `[rows, cols]` tensor of standard normal deviates drawn from `rng` (float32). */
export function normalNoise(rng: Rng, rows: number, cols: number): tf.Tensor2D {
  const buf = new Float32Array(rows * cols);
  rng.fillNormal(buf);
  return tf.tensor2d(buf, [rows, cols]);
}

/**
 * log N(z; 0, I) summed over the last axis: −½ Σ (z² + ln 2π). Returns `[batch]`.
 */
export function standardNormalLogProb(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const d = z.shape[1];
    return tf.sum(tf.square(z), 1).mul(-0.5).sub(0.5 * d * LOG_2PI) as tf.Tensor1D;
  });
}

/**
 * A Gaussian with diagonal covariance, N(mean, diag(exp(logVar))), one per row.
 * The object holds references to the caller's tensors and does not own them.
 */
export class DiagonalNormal {
  /**
   * @param mean - `[batch, k]` means μ
   * @param logVar - `[batch, k]` log-variances ln σ²
   */
  constructor(
    readonly mean: tf.Tensor2D,
    readonly logVar: tf.Tensor2D,
  ) {
    if (mean.shape[0] !== logVar.shape[0] || mean.shape[1] !== logVar.shape[1]) {
      throw new ShapeError(`DiagonalNormal: mean ${JSON.stringify(mean.shape)} and logVar ${JSON.stringify(logVar.shape)} differ in shape`);
    }
  }

  /** Standard deviations σ = exp(½ ln σ²). */
  std(): tf.Tensor2D {
    return tf.tidy(() => tf.exp(this.logVar.mul(0.5)) as tf.Tensor2D);
  }

  /**
   * Reparameterised sample h = μ + σ ⊙ ε (Kingma & Welling, ICLR 2014, eq. 10): the
   * noise ε ~ N(0, I) is an input, so gradients flow to μ and σ.
   * @param eps - `[batch, k]` standard normal noise (see {@link normalNoise})
   */
  sample(eps: tf.Tensor2D): tf.Tensor2D {
    if (eps.shape[0] !== this.mean.shape[0] || eps.shape[1] !== this.mean.shape[1]) {
      throw new ShapeError(`DiagonalNormal.sample: noise shape ${JSON.stringify(eps.shape)} ≠ ${JSON.stringify(this.mean.shape)}`);
    }
    return tf.tidy(() => this.mean.add(tf.exp(this.logVar.mul(0.5)).mul(eps)));
  }

  /** log N(z; μ, σ²) summed over the latent axis; `[batch]`. */
  logProb(z: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const k = this.mean.shape[1];
      const q = tf.square(z.sub(this.mean)).mul(tf.exp(this.logVar.neg()));
      return tf.sum(q.add(this.logVar), 1).mul(-0.5).sub(0.5 * k * LOG_2PI) as tf.Tensor1D;
    });
  }

  /** Differential entropy ½ Σ (1 + ln 2π + ln σ²); `[batch]`. */
  entropy(): tf.Tensor1D {
    return tf.tidy(() => {
      const k = this.mean.shape[1];
      return tf.sum(this.logVar, 1).mul(0.5).add(0.5 * k * (1 + LOG_2PI)) as tf.Tensor1D;
    });
  }

  /**
   * KL(N(μ, σ²) ‖ N(0, I)) in closed form, −½ Σ (1 + ln σ² − μ² − σ²)
   * (Kingma & Welling 2014, appendix B); `[batch]`.
   */
  klToStdNormal(): tf.Tensor1D {
    return tf.tidy(
      () => tf.sum(tf.scalar(1).add(this.logVar).sub(tf.square(this.mean)).sub(tf.exp(this.logVar)), 1).mul(-0.5) as tf.Tensor1D,
    );
  }
}

/** The decoder likelihoods p(x|h) genphys offers. */
export type DecoderKind = 'bernoulli' | 'gaussian' | 'gaussian-learned' | 'cbernoulli';

/**
 * Numerically stable binary cross-entropy with logits, elementwise:
 * softplus(l) − x·l written as max(l, 0) − x·l + log1p(exp(−|l|)), which never
 * overflows. Equals −log Bernoulli(x; sigmoid(l)) for x ∈ {0, 1}. The gradient is
 * supplied in closed form (∂/∂l = sigmoid(l) − x, ∂/∂x = −l), which saves the
 * backward pass of five elementwise ops.
 */
export const bceWithLogits: (x: tf.Tensor, logits: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const logits = args[1] as tf.Tensor;
  (args[2] as tf.GradSaveFunc)([x, logits]);
  return {
    value: tf.tidy(() => tf.relu(logits).sub(x.mul(logits)).add(tf.log1p(tf.exp(tf.abs(logits).neg())))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ls] = saved as [tf.Tensor, tf.Tensor];
      return [dy.mul(ls.neg()), dy.mul(tf.sigmoid(ls).sub(xs))];
    },
  };
}) as (x: tf.Tensor, logits: tf.Tensor) => tf.Tensor;

/**
 * −Σ log Bernoulli(x; sigmoid(logits)) over every element of the batch, as a
 * scalar, with the gradient sigmoid(l) − x in closed form. Equivalent to summing
 * {@link bernoulliLogProb}, but its backward pass has no broadcasting ops (slow on
 * tfjs's CPU-side kernels); the trainer uses it for the Bernoulli decoder.
 */
export const bernoulliNllTotal: (x: tf.Tensor, logits: tf.Tensor) => tf.Scalar = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const logits = args[1] as tf.Tensor;
  (args[2] as tf.GradSaveFunc)([x, logits]);
  return {
    // softplus(l) − x·l = max(l, 0) − x·l + log(1 + e^{−|l|}); every backend's Softplus is the stable form.
    value: tf.tidy(() => tf.sum(tf.softplus(logits).sub(x.mul(logits)))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ls] = saved as [tf.Tensor, tf.Tensor];
      const d = dy.reshape([]);
      return [ls.mul(d).neg(), tf.sigmoid(ls).sub(xs).mul(d)];
    },
  };
}) as (x: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

/**
 * log Bernoulli(x; sigmoid(logits)) summed over pixels; `[batch]`. A likelihood
 * only for binary x (see the module note on grey pixels).
 */
export function bernoulliLogProb(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(bceWithLogits(x, logits), 1).neg() as tf.Tensor1D);
}

/**
 * log N(x; mean, σ² I) summed over the D pixels, *including* the constant
 * −½ D ln(2πσ²); `[batch]`. `logSigma2` is a number (fixed σ², the course's form)
 * or a scalar tensor (learned σ).
 */
export function gaussianLogProb(x: tf.Tensor2D, mean: tf.Tensor2D, logSigma2: number | tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const d = x.shape[1];
    const ls = typeof logSigma2 === 'number' ? tf.scalar(logSigma2) : logSigma2;
    const sq = tf.sum(tf.square(x.sub(mean)), 1).mul(tf.exp(ls.neg()));
    return sq.add(ls.mul(d)).add(d * LOG_2PI).mul(-0.5) as tf.Tensor1D;
  });
}

/** Below this |logit| the continuous-Bernoulli formulas switch to their Taylor series. */
export const CB_TAYLOR_CUTOFF = 0.05;

function cbLogNormaliserValue(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(logits);
    const small = a.less(CB_TAYLOR_CUTOFF);
    const aSafe = tf.where(small, tf.onesLike(a), a);
    // ln|η| − ln tanh(|η|/2), with tanh(a/2) = (1 − e^{−a}) / (1 + e^{−a}).
    const exact = tf.log(aSafe).sub(tf.log(tf.expm1(aSafe.neg()).neg())).add(tf.log1p(tf.exp(aSafe.neg())));
    const eta2 = tf.square(logits);
    const taylor = eta2.div(12).sub(tf.square(eta2).mul(7 / 1440)).add(Math.LN2);
    return tf.where(small, taylor, exact);
  });
}

/** d ln C / dη = 1/η − 1/sinh η, with the series η/6 − 7η³/360 near 0. */
function cbLogNormaliserDerivative(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.abs(logits).less(CB_TAYLOR_CUTOFF);
    const safe = tf.where(small, tf.onesLike(logits), logits);
    const exact = tf.reciprocal(safe).sub(tf.reciprocal(tf.sinh(safe)));
    const taylor = logits.div(6).sub(tf.pow(logits, 3).mul(7 / 360));
    return tf.where(small, taylor, exact);
  });
}

/**
 * Log-normaliser ln C(λ) of the continuous Bernoulli distribution, elementwise, in
 * terms of the logit η = ln(λ/(1−λ)). C(λ) = 2 artanh(1−2λ)/(1−2λ) = η / tanh(η/2)
 * (Loaiza-Ganem & Cunningham, NeurIPS 2019, eq. 3). The closed form is 0/0 at
 * λ = ½; for |η| < {@link CB_TAYLOR_CUTOFF} we use ln 2 + η²/12 − 7η⁴/1440. The
 * gradient is supplied analytically (1/η − 1/sinh η) so no branch mask or NaN
 * enters back-propagation.
 */
export const cbLogNormaliser: (logits: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const logits = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([logits]);
  return {
    value: cbLogNormaliserValue(logits),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => dy.mul(cbLogNormaliserDerivative(saved[0]!)),
  };
}) as (logits: tf.Tensor) => tf.Tensor;

/**
 * Float64 reference of {@link cbLogNormaliser} for one logit, for tests and
 * reporting: ln(η / tanh(η/2)), with the same Taylor branch near η = 0.
 */
export function cbLogNormaliser64(eta: number): number {
  const a = Math.abs(eta);
  if (a < 1e-3) return Math.LN2 + (eta * eta) / 12 - (7 * eta ** 4) / 1440;
  return Math.log(a) - Math.log(-Math.expm1(-a)) + Math.log1p(Math.exp(-a));
}

/**
 * log CB(x; λ) summed over pixels, λ = sigmoid(logits):
 * x ln λ + (1−x) ln(1−λ) + ln C(λ); a proper likelihood for x ∈ [0, 1]; `[batch]`.
 */
export function continuousBernoulliLogProb(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(cbLogNormaliser(logits).sub(bceWithLogits(x, logits)), 1) as tf.Tensor1D);
}

/**
 * Mean of the continuous Bernoulli, λ/(2λ−1) + 1/(2 artanh(1−2λ)) (Loaiza-Ganem &
 * Cunningham 2019, §3), written in the logit as ½ + 1/(2 tanh(η/2)) − 1/η, with the
 * series ½ + η/12 − η³/720 near η = 0.
 */
export function cbMean(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.abs(logits).less(CB_TAYLOR_CUTOFF);
    const safe = tf.where(small, tf.onesLike(logits), logits);
    const exact = tf.scalar(0.5).div(tf.tanh(safe.mul(0.5))).add(0.5).sub(tf.scalar(1).div(safe));
    const taylor = logits.div(12).sub(tf.pow(logits, 3).div(720)).add(0.5);
    return tf.where(small, taylor, exact);
  });
}

/**
 * General KL divergence between two k-dimensional Gaussians with full covariance,
 * in float64:
 * KL(N(μ₁,Σ₁) ‖ N(μ₂,Σ₂)) = ½[tr(Σ₂⁻¹Σ₁) + (μ₂−μ₁)ᵀΣ₂⁻¹(μ₂−μ₁) − k + ln(det Σ₂ / det Σ₁)]
 * (Rasmussen & Williams, GPML 2006, appendix A.5). Cholesky factors give the solves
 * and log-determinants.
 * @throws ShapeError if the shapes disagree or a covariance is not positive definite
 */
export function klGaussians(
  mu1: ArrayLike<number>,
  sigma1: ArrayLike<ArrayLike<number>>,
  mu2: ArrayLike<number>,
  sigma2: ArrayLike<ArrayLike<number>>,
): number {
  const k = mu1.length;
  if (mu2.length !== k || sigma1.length !== k || sigma2.length !== k) throw new ShapeError(`klGaussians: dimensions disagree (k = ${k})`);
  const L1 = cholesky(sigma1, 'sigma1');
  const L2 = cholesky(sigma2, 'sigma2');
  let logDet1 = 0;
  let logDet2 = 0;
  for (let i = 0; i < k; i++) {
    logDet1 += 2 * Math.log(L1[i * k + i]!);
    logDet2 += 2 * Math.log(L2[i * k + i]!);
  }
  // tr(Σ₂⁻¹Σ₁) = ‖L₂⁻¹L₁‖_F² since Σ₁ = L₁L₁ᵀ.
  let trace = 0;
  const col = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < k; i++) col[i] = L1[i * k + j]!;
    forwardSolve(L2, col, k);
    for (let i = 0; i < k; i++) trace += col[i]! * col[i]!;
  }
  const d = new Float64Array(k);
  for (let i = 0; i < k; i++) d[i] = mu2[i]! - mu1[i]!;
  forwardSolve(L2, d, k);
  let quad = 0;
  for (let i = 0; i < k; i++) quad += d[i]! * d[i]!;
  return 0.5 * (trace + quad - k + logDet2 - logDet1);
}

/** Lower Cholesky factor (row-major k×k) of a symmetric positive-definite matrix. */
function cholesky(a: ArrayLike<ArrayLike<number>>, name: string): Float64Array {
  const k = a.length;
  const L = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    if (a[i]!.length !== k) throw new ShapeError(`klGaussians: ${name} is not square`);
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let p = 0; p < j; p++) s -= L[i * k + p]! * L[j * k + p]!;
      if (i === j) {
        if (!(s > 0)) throw new ShapeError(`klGaussians: ${name} is not positive definite`);
        L[i * k + i] = Math.sqrt(s);
      } else {
        L[i * k + j] = s / L[j * k + j]!;
      }
    }
  }
  return L;
}

/** Solve L y = b in place (L lower triangular, row-major). */
function forwardSolve(L: Float64Array, b: Float64Array, k: number): void {
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= L[i * k + p]! * b[p]!;
    b[i] = s / L[i * k + i]!;
  }
}

/**
 * KL between diagonal Gaussians in float64, ½ Σ [σ₁²/σ₂² + (μ₂−μ₁)²/σ₂² − 1 + ln σ₂² − ln σ₁²];
 * the diagonal case of {@link klGaussians}.
 */
export function klDiagonal64(
  mu1: ArrayLike<number>,
  logVar1: ArrayLike<number>,
  mu2: ArrayLike<number>,
  logVar2: ArrayLike<number>,
): number {
  let s = 0;
  for (let i = 0; i < mu1.length; i++) {
    const v2 = Math.exp(logVar2[i]!);
    s += Math.exp(logVar1[i]!) / v2 + (mu2[i]! - mu1[i]!) ** 2 / v2 - 1 + logVar2[i]! - logVar1[i]!;
  }
  return 0.5 * s;
}
