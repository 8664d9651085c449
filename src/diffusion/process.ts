/**
 * The Gaussian diffusion process, apart from any network: the forward marginal
 * q(x_t | x_0), the conversions between the three training targets, and the
 * DDPM and DDIM samplers, written against the small {@link Denoiser} interface.
 * Each sampler is one coroutine that yields the network evaluations it needs, run either
 * with a {@link Denoiser} (`ddpmSample`, `ddimSample`) or with an {@link AsyncDenoiser}
 * (`ddpmSampleAsync`, `ddimSampleAsync`: a browser reads its tensors with `await data()`,
 * never `dataSync`); both consume the same random numbers in the same order, so for the
 * same outputs they return the same samples.
 *
 * Batches are plain row-major Float32Arrays of shape [B, D] (an image is
 * flattened to D = rows·cols·channels) with one time step per example
 * (Int32Array, t ∈ {1, …, T}; see {@link NoiseSchedule} for the indexing).
 * Arithmetic is done in float64 and rounded once when stored. The tfjs versions
 * of the forward marginal, the target and the loss are for training with
 * `tf.variableGrads`.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { NoiseSchedule } from './schedule.js';

/**
 * What a network predicts: the noise ε (Ho et al. 2020), the clean data x_0, or
 * the velocity v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans & Ho 2022 §4).
 */
export type Prediction = 'eps' | 'x0' | 'v';

/** Names of the parameterisations, for option parsers. */
export const PREDICTIONS: readonly Prediction[] = ['eps', 'x0', 'v'];

/** Shape [B, D] of a flattened batch. */
export type BatchShape = readonly [number, number];

/**
 * A denoising network as the samplers see it: given x_t for a batch and the time
 * step of each example, its output in its own parameterisation.
 */
export interface Denoiser {
  /** What {@link Denoiser.predict} returns. */
  readonly prediction: Prediction;
  /**
   * @param xt - x_t, row-major [B, D] (not modified)
   * @param shape - [B, D]
   * @param t - time step of each example, in 1…T
   * @returns the prediction, [B, D]
   */
  predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Float32Array;
}

/**
 * A {@link Denoiser} whose output arrives asynchronously, e.g. a tfjs network read with
 * `await tensor.data()` so that a GPU backend's pipeline never stalls on a synchronous read.
 */
export interface AsyncDenoiser {
  /** What {@link AsyncDenoiser.predict} resolves to. */
  readonly prediction: Prediction;
  /** As {@link Denoiser.predict}; `xt` must not be modified while the promise is pending. */
  predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Promise<Float32Array>;
}

/** One network evaluation a sampler needs: the output at x_t for time steps t. */
interface PredictRequest {
  readonly xt: Float32Array;
  readonly shape: BatchShape;
  readonly t: Int32Array;
}

/** A sampler as a coroutine: it yields each evaluation it needs and is resumed with the network's output. */
type Sampling<R> = Generator<PredictRequest, R, Float32Array>;

/** Run a sampler coroutine with a synchronous denoiser. */
function runSync<R>(g: Sampling<R>, den: Denoiser): R {
  let r = g.next();
  while (!r.done) r = g.next(den.predict(r.value.xt, r.value.shape, r.value.t));
  return r.value;
}

/** Run a sampler coroutine with an asynchronous denoiser (the same steps, awaiting each output). */
async function runAsync<R>(g: Sampling<R>, den: AsyncDenoiser): Promise<R> {
  let r = g.next();
  while (!r.done) r = g.next(await den.predict(r.value.xt, r.value.shape, r.value.t));
  return r.value;
}

/** Variance of the DDPM reverse step (Ho et al. 2020 §3.2): σ_t² = β̃_t (fixed-small) or β_t (fixed-large). */
export type VarianceKind = 'fixed-small' | 'fixed-large';

/** What a sampler reports at each visited time step (for a denoising strip). */
export interface StepEvent {
  /** Index of the step, 0 for the first (t = T). */
  readonly step: number;
  /** The time step of `xt`. */
  readonly t: number;
  /** x_t (a copy). */
  readonly xt: Float32Array;
  /** The network's x̂_0 from x_t, after clipping (a copy). */
  readonly x0: Float32Array;
}

/** Options shared by the samplers. */
export interface SampleOptions {
  /** Clip x̂_0 to this data range [lo, hi] at every step (default: no clipping; images in [−1, 1] use [−1, 1]). */
  readonly clip?: readonly [number, number];
  /** Start from this x_T instead of fresh N(0, I) noise (not modified). */
  readonly xT?: Float32Array;
  /** Called at every visited t ≥ 1 with x_t and x̂_0. */
  readonly onStep?: (e: StepEvent) => void;
}

/** Options of {@link GaussianDiffusion.ddpmSample}. */
export interface DdpmOptions extends SampleOptions {
  /** Reverse-step variance (default 'fixed-small'). */
  readonly variance?: VarianceKind;
}

/** Options of {@link GaussianDiffusion.ddimSample}. */
export interface DdimOptions extends SampleOptions {
  /** Number of network evaluations, 1…T (default T); see {@link ddimTimesteps}. */
  readonly steps?: number;
  /** η ∈ [0, 1]: 0 is the deterministic DDIM, 1 the DDPM-like posterior variance (default 0). */
  readonly eta?: number;
}

/** Coefficients of q(x_{t−1} | x_t, x_0) = N(x0·x_0 + xt·x_t, variance) (Ho et al. 2020 eq. 7). */
export interface PosteriorCoefficients {
  readonly x0: number;
  readonly xt: number;
  readonly variance: number;
}

/** Coefficients of the DDIM update x_prev = x0·x̂_0 + eps·ε̂ + sigma·z (Song et al. 2021 eq. 12). */
export interface DdimCoefficients {
  readonly x0: number;
  readonly eps: number;
  readonly sigma: number;
}

/**
 * The time steps a DDIM sampler with `steps` evaluations visits: τ_i =
 * round(i·T/steps) for i = 0 … steps, an evenly spaced sub-sequence of 0 … T
 * (Song et al. 2021 §4.2, "linear" choice) that always starts at τ_steps = T
 * and ends at τ_0 = 0 (ᾱ_0 = 1, so the last update returns x̂_0). Distinct as
 * long as steps ≤ T. Returned in increasing order, length steps + 1.
 * @throws UsageError if steps is not an integer in 1…T
 */
export function ddimTimesteps(T: number, steps: number): Int32Array {
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= T)) throw new UsageError(`DDIM: steps must be an integer in 1…T (T = ${T}), got ${steps}`);
  const tau = new Int32Array(steps + 1);
  for (let i = 0; i <= steps; i++) tau[i] = Math.round((i * T) / steps);
  return tau;
}

/** Uniform random time steps in 1…T for a training batch of n examples. */
export function randomTimesteps(rng: Rng, n: number, T: number): Int32Array {
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) t[i] = 1 + rng.int(T);
  return t;
}

/**
 * A Gaussian diffusion process with a fixed {@link NoiseSchedule}: the forward
 * marginal, the target conversions and the samplers. Holds no network; samplers
 * take a {@link Denoiser}.
 */
export class GaussianDiffusion {
  constructor(readonly schedule: NoiseSchedule) {}

  /** Number of steps T. */
  get T(): number {
    return this.schedule.T;
  }

  private checkBatch(what: string, x: ArrayLike<number>, shape: BatchShape): void {
    const [B, D] = shape;
    if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(D) && D >= 1)) throw new ShapeError(`${what}: shape must be two positive integers [B, D], got ${JSON.stringify(shape)}`);
    if (x.length !== B * D) throw new ShapeError(`${what}: has ${x.length} values, shape [${B}, ${D}] needs ${B * D}`);
  }

  private checkT(what: string, t: Int32Array, B: number, tMin: number): void {
    if (t.length !== B) throw new ShapeError(`${what}: t has ${t.length} entries, the batch has ${B}`);
    const T = this.schedule.T;
    for (let i = 0; i < B; i++) if (!(t[i]! >= tMin && t[i]! <= T)) throw new ShapeError(`${what}: t[${i}] = ${t[i]} is outside ${tMin}…${T}`);
  }

  /**
   * x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, a draw from q(x_t | x_0) (Ho et al. 2020 eq. 4).
   * @param x0 - data, [B, D]
   * @param shape - [B, D]
   * @param t - time step of each example, 0…T
   * @param eps - standard normal noise, [B, D]
   */
  qSample(x0: Float32Array, shape: BatchShape, t: Int32Array, eps: Float32Array): Float32Array {
    this.checkBatch('qSample: x0', x0, shape);
    this.checkBatch('qSample: eps', eps, shape);
    this.checkT('qSample', t, shape[0], 0);
    const [B, D] = shape;
    const { sqrtAlphaBar: sa, sqrtOneMinusAlphaBar: sb } = this.schedule;
    const out = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      const a = sa[t[i]!]!;
      const b = sb[t[i]!]!;
      for (let j = i * D; j < (i + 1) * D; j++) out[j] = a * x0[j]! + b * eps[j]!;
    }
    return out;
  }

  /**
   * The regression target of a network with parameterisation `prediction`:
   * ε, x_0, or v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans & Ho 2022 §4).
   */
  trainingTarget(prediction: Prediction, x0: Float32Array, eps: Float32Array, shape: BatchShape, t: Int32Array): Float32Array {
    this.checkBatch('trainingTarget: x0', x0, shape);
    this.checkBatch('trainingTarget: eps', eps, shape);
    this.checkT('trainingTarget', t, shape[0], 0);
    checkPrediction(prediction);
    if (prediction === 'eps') return Float32Array.from(eps);
    if (prediction === 'x0') return Float32Array.from(x0);
    const [B, D] = shape;
    const { sqrtAlphaBar: sa, sqrtOneMinusAlphaBar: sb } = this.schedule;
    const out = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      const a = sa[t[i]!]!;
      const b = sb[t[i]!]!;
      for (let j = i * D; j < (i + 1) * D; j++) out[j] = a * eps[j]! - b * x0[j]!;
    }
    return out;
  }

  /**
   * x̂_0 and ε̂ implied by a network output at x_t, using x_t = √ᾱ x_0 + √(1−ᾱ) ε
   * and, for v, x_0 = √ᾱ x_t − √(1−ᾱ) v, ε = √(1−ᾱ) x_t + √ᾱ v (Salimans & Ho 2022 §4).
   * @param t - time step of each example, 1…T
   */
  toX0Eps(prediction: Prediction, output: Float32Array, xt: Float32Array, shape: BatchShape, t: Int32Array): { x0: Float32Array; eps: Float32Array } {
    this.checkBatch('toX0Eps: output', output, shape);
    this.checkBatch('toX0Eps: xt', xt, shape);
    this.checkT('toX0Eps', t, shape[0], 1);
    checkPrediction(prediction);
    const [B, D] = shape;
    const { sqrtAlphaBar: sa, sqrtOneMinusAlphaBar: sb } = this.schedule;
    const x0 = new Float32Array(B * D);
    const eps = new Float32Array(B * D);
    for (let i = 0; i < B; i++) {
      const a = sa[t[i]!]!;
      const b = sb[t[i]!]!;
      for (let j = i * D; j < (i + 1) * D; j++) {
        const o = output[j]!;
        const x = xt[j]!;
        if (prediction === 'eps') {
          x0[j] = (x - b * o) / a;
          eps[j] = o;
        } else if (prediction === 'x0') {
          x0[j] = o;
          eps[j] = (x - a * o) / b;
        } else {
          x0[j] = a * x - b * o;
          eps[j] = b * x + a * o;
        }
      }
    }
    return { x0, eps };
  }

  /** Coefficients of the posterior q(x_{t−1} | x_t, x_0) (Ho et al. 2020 eq. 7), t ∈ 1…T. */
  posterior(t: number): PosteriorCoefficients {
    this.checkStep('posterior', t);
    const s = this.schedule;
    const abPrev = s.alphaBar[t - 1]!;
    const ab = s.alphaBar[t]!;
    const beta = s.beta[t]!;
    return {
      x0: (Math.sqrt(abPrev) * beta) / (1 - ab),
      xt: (Math.sqrt(s.alpha[t]!) * (1 - abPrev)) / (1 - ab),
      variance: s.posteriorVariance[t]!,
    };
  }

  /**
   * Coefficients of the DDIM update from t to tPrev < t (Song et al. 2021 eq. 12
   * with σ from eq. 16): x_prev = √ᾱ_prev x̂_0 + √(1 − ᾱ_prev − σ²) ε̂ + σ z,
   * σ = η √((1 − ᾱ_prev)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_prev).
   * @throws UsageError if η is outside [0, 1]
   */
  ddimCoefficients(t: number, tPrev: number, eta: number): DdimCoefficients {
    this.checkStep('ddimCoefficients', t);
    if (!(Number.isInteger(tPrev) && tPrev >= 0 && tPrev < t)) throw new UsageError(`DDIM: tPrev must be an integer in 0…${t - 1}, got ${tPrev}`);
    checkEta(eta);
    const ab = this.schedule.alphaBar[t]!;
    const abPrev = this.schedule.alphaBar[tPrev]!;
    const sigma = eta * Math.sqrt(((1 - abPrev) / (1 - ab)) * (1 - ab / abPrev));
    return { x0: Math.sqrt(abPrev), eps: Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma)), sigma };
  }

  private checkStep(what: string, t: number): void {
    if (!(Number.isInteger(t) && t >= 1 && t <= this.schedule.T)) throw new UsageError(`${what}: t must be an integer in 1…${this.schedule.T}, got ${t}`);
  }

  /** Network evaluation at a common t (yielded to the caller), returning clipped x̂_0 and the matching ε̂. */
  private *predictX0Eps(prediction: Prediction, xt: Float32Array, shape: BatchShape, t: number, clip: readonly [number, number] | undefined): Sampling<{ x0: Float32Array; eps: Float32Array }> {
    const tt = new Int32Array(shape[0]).fill(t);
    const out = yield { xt, shape, t: tt };
    if (out.length !== xt.length) throw new ShapeError(`denoiser: returned ${out.length} values for a batch of shape [${shape[0]}, ${shape[1]}]`);
    const r = this.toX0Eps(prediction, out, xt, shape, tt);
    if (clip) {
      // ε̂ is recomputed from the clipped x̂_0 so that both stay consistent with x_t.
      const [lo, hi] = clip;
      const a = this.schedule.sqrtAlphaBar[t]!;
      const b = this.schedule.sqrtOneMinusAlphaBar[t]!;
      for (let j = 0; j < xt.length; j++) {
        const v = Math.min(hi, Math.max(lo, r.x0[j]!));
        r.x0[j] = v;
        r.eps[j] = (xt[j]! - a * v) / b;
      }
    }
    return r;
  }

  /**
   * One DDPM ancestral step x_t → x_{t−1} (Ho et al. 2020 Algorithm 2, written with
   * x̂_0 and the posterior of eq. 7): x_{t−1} = c₀ x̂_0 + c_t x_t + σ_t z, with z = 0 at t = 1.
   * @param xt - x_t, [B, D] (not modified)
   * @param t - common time step, 1…T
   * @param rng - source of z (not used at t = 1)
   */
  pSample(denoiser: Denoiser, xt: Float32Array, shape: BatchShape, t: number, rng: Rng, opts: DdpmOptions = {}): Float32Array {
    this.checkBatch('pSample: xt', xt, shape);
    this.checkStep('pSample', t);
    const variance = checkVariance(opts.variance);
    const clip = checkClip(opts.clip);
    return runSync(this.ddpmStep(denoiser.prediction, xt, shape, t, rng, variance, clip, 0, opts.onStep), denoiser);
  }

  private *ddpmStep(
    prediction: Prediction,
    xt: Float32Array,
    shape: BatchShape,
    t: number,
    rng: Rng,
    variance: VarianceKind,
    clip: readonly [number, number] | undefined,
    step: number,
    onStep: ((e: StepEvent) => void) | undefined,
  ): Sampling<Float32Array> {
    const { x0 } = yield* this.predictX0Eps(prediction, xt, shape, t, clip);
    if (onStep) onStep({ step, t, xt: Float32Array.from(xt), x0: Float32Array.from(x0) });
    const c = this.posterior(t);
    const out = new Float32Array(xt.length);
    if (t > 1) {
      const sigma = Math.sqrt(variance === 'fixed-small' ? c.variance : this.schedule.beta[t]!);
      const z = new Float64Array(xt.length);
      rng.fillNormal(z);
      for (let j = 0; j < xt.length; j++) out[j] = c.x0 * x0[j]! + c.xt * xt[j]! + sigma * z[j]!;
    } else {
      for (let j = 0; j < xt.length; j++) out[j] = c.x0 * x0[j]! + c.xt * xt[j]!;
    }
    return out;
  }

  private initialNoise(what: string, shape: BatchShape, rng: Rng, xT: Float32Array | undefined): Float32Array {
    this.checkBatch(what, xT ?? new Float32Array(shape[0] * shape[1]), shape);
    if (xT) return Float32Array.from(xT);
    const x = new Float32Array(shape[0] * shape[1]);
    rng.fillNormal(x);
    return x;
  }

  /**
   * DDPM ancestral sampling (Ho et al. 2020 Algorithm 2): x_T ~ N(0, I), then T
   * {@link GaussianDiffusion.pSample} steps. Returns x_0, [B, D].
   */
  ddpmSample(denoiser: Denoiser, shape: BatchShape, rng: Rng, opts: DdpmOptions = {}): Float32Array {
    return runSync(this.ddpm(denoiser.prediction, shape, rng, opts), denoiser);
  }

  /**
   * {@link GaussianDiffusion.ddpmSample} with an {@link AsyncDenoiser}: the same draws from
   * `rng` in the same order, so the same outputs give the same samples.
   */
  ddpmSampleAsync(denoiser: AsyncDenoiser, shape: BatchShape, rng: Rng, opts: DdpmOptions = {}): Promise<Float32Array> {
    return runAsync(this.ddpm(denoiser.prediction, shape, rng, opts), denoiser);
  }

  private *ddpm(prediction: Prediction, shape: BatchShape, rng: Rng, opts: DdpmOptions): Sampling<Float32Array> {
    const variance = checkVariance(opts.variance);
    const clip = checkClip(opts.clip);
    let x = this.initialNoise('ddpmSample: xT', shape, rng, opts.xT);
    for (let t = this.T, step = 0; t >= 1; t--, step++) x = yield* this.ddpmStep(prediction, x, shape, t, rng, variance, clip, step, opts.onStep);
    return x;
  }

  /**
   * DDIM sampling (Song et al. 2021 eq. 12) on the sub-sequence {@link ddimTimesteps}:
   * `steps` network evaluations from x_T ~ N(0, I). η = 0 is deterministic given x_T;
   * η = 1 with steps = T is the DDPM sampler with fixed-small variance. Returns x_0, [B, D].
   * @throws UsageError if steps is not an integer in 1…T or η is outside [0, 1]
   */
  ddimSample(denoiser: Denoiser, shape: BatchShape, rng: Rng, opts: DdimOptions = {}): Float32Array {
    return runSync(this.ddim(denoiser.prediction, shape, rng, opts), denoiser);
  }

  /**
   * {@link GaussianDiffusion.ddimSample} with an {@link AsyncDenoiser}: the same draws from
   * `rng` in the same order, so the same outputs give the same samples.
   */
  ddimSampleAsync(denoiser: AsyncDenoiser, shape: BatchShape, rng: Rng, opts: DdimOptions = {}): Promise<Float32Array> {
    return runAsync(this.ddim(denoiser.prediction, shape, rng, opts), denoiser);
  }

  private *ddim(prediction: Prediction, shape: BatchShape, rng: Rng, opts: DdimOptions): Sampling<Float32Array> {
    const steps = opts.steps ?? this.T;
    const eta = opts.eta ?? 0;
    checkEta(eta);
    const tau = ddimTimesteps(this.T, steps);
    const clip = checkClip(opts.clip);
    let x = this.initialNoise('ddimSample: xT', shape, rng, opts.xT);
    for (let i = steps, step = 0; i >= 1; i--, step++) {
      const t = tau[i]!;
      const tPrev = tau[i - 1]!;
      const { x0, eps } = yield* this.predictX0Eps(prediction, x, shape, t, clip);
      if (opts.onStep) opts.onStep({ step, t, xt: Float32Array.from(x), x0: Float32Array.from(x0) });
      const c = this.ddimCoefficients(t, tPrev, eta);
      const out = new Float32Array(x.length);
      // Noise is drawn only when σ > 0 is possible (η > 0, tPrev > 0), in the same
      // order as the DDPM sampler, so η = 1 with all T steps reproduces it draw for draw.
      if (eta > 0 && tPrev > 0) {
        const z = new Float64Array(x.length);
        rng.fillNormal(z);
        for (let j = 0; j < x.length; j++) out[j] = c.x0 * x0[j]! + c.eps * eps[j]! + c.sigma * z[j]!;
      } else {
        for (let j = 0; j < x.length; j++) out[j] = c.x0 * x0[j]! + c.eps * eps[j]!;
      }
      x = out;
    }
    return x;
  }

  /** √ᾱ_t and √(1 − ᾱ_t) gathered for a batch of time steps, as [B, 1] tensors. */
  private coefficientsTf(t: tf.Tensor1D): { a: tf.Tensor2D; b: tf.Tensor2D } {
    return tf.tidy(() => {
      const ti = t.dtype === 'int32' ? t : t.toInt();
      const a = tf.gather(tf.tensor1d(this.schedule.sqrtAlphaBar as number[], 'float32'), ti).expandDims(1) as tf.Tensor2D;
      const b = tf.gather(tf.tensor1d(this.schedule.sqrtOneMinusAlphaBar as number[], 'float32'), ti).expandDims(1) as tf.Tensor2D;
      return { a, b };
    });
  }

  /** {@link GaussianDiffusion.qSample} on tensors: x0 and eps [B, D], t [B] (int32, 0…T). Call inside tf.tidy. */
  qSampleTf(x0: tf.Tensor2D, t: tf.Tensor1D, eps: tf.Tensor2D): tf.Tensor2D {
    const { a, b } = this.coefficientsTf(t);
    return tf.add(tf.mul(a, x0), tf.mul(b, eps)) as tf.Tensor2D;
  }

  /** {@link GaussianDiffusion.trainingTarget} on tensors. Call inside tf.tidy. */
  trainingTargetTf(prediction: Prediction, x0: tf.Tensor2D, eps: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    checkPrediction(prediction);
    if (prediction === 'eps') return eps;
    if (prediction === 'x0') return x0;
    const { a, b } = this.coefficientsTf(t);
    return tf.sub(tf.mul(a, eps), tf.mul(b, x0)) as tf.Tensor2D;
  }

  /**
   * The simplified training loss (Ho et al. 2020 eq. 14, and its x_0/v analogues):
   * the mean over batch and dimensions of (output − target)², a scalar for
   * `tf.variableGrads`. Call inside tf.tidy.
   */
  lossTf(prediction: Prediction, output: tf.Tensor2D, x0: tf.Tensor2D, eps: tf.Tensor2D, t: tf.Tensor1D): tf.Scalar {
    if (output.shape[0] !== x0.shape[0] || output.shape[1] !== x0.shape[1]) throw new ShapeError(`diffusion loss: output shape ${JSON.stringify(output.shape)} ≠ data shape ${JSON.stringify(x0.shape)}`);
    return tf.mean(tf.squaredDifference(output, this.trainingTargetTf(prediction, x0, eps, t))) as tf.Scalar;
  }
}

function checkPrediction(p: string): asserts p is Prediction {
  if (!(PREDICTIONS as readonly string[]).includes(p)) throw new UsageError(`prediction must be one of ${PREDICTIONS.join(', ')}, got '${p}'`);
}

function checkEta(eta: number): void {
  if (!(eta >= 0 && eta <= 1)) throw new UsageError(`DDIM: eta must be in [0, 1], got ${eta}`);
}

function checkVariance(v: VarianceKind | undefined): VarianceKind {
  const k = v ?? 'fixed-small';
  if (k !== 'fixed-small' && k !== 'fixed-large') throw new UsageError(`DDPM: variance must be fixed-small or fixed-large, got '${k as string}'`);
  return k;
}

function checkClip(c: readonly [number, number] | undefined): readonly [number, number] | undefined {
  if (c === undefined) return undefined;
  if (!(c.length === 2 && c[0] < c[1])) throw new UsageError(`clip must be a range [lo, hi] with lo < hi, got ${JSON.stringify(c)}`);
  return c;
}
