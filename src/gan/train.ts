/**
 * Training a GAN: per iteration `nCritic` discriminator (critic) steps, each on its own
 * real minibatch, then one generator step (Goodfellow et al. 2014, Algorithm 1;
 * Gulrajani et al. 2017, Algorithm 1 for WGAN-GP), with one Adam optimiser per network
 * (Kingma & Ba 2015, PyTorch's update form), each with its own moments and step count.
 *
 * Every random number of an iteration (the noise z, dropout masks, the WGAN-GP
 * interpolation weights) comes from `rng.split(iteration)` of the epoch-start state
 * (after the epoch's shuffle), so a run interrupted after any iteration replays exactly
 * from a saved {@link GanTrainerState}. Browser-safe (no node imports).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, type RngState } from '../core/rng.js';
import { ShapeError, UsageError } from '../core/errors.js';
import { AdamMoments, drainAsync, drainSync, type MomentArrays, type ScalarReads } from '../engine/adam.js';
import { getGanLoss, gradientPenalty, interpolationWeights, type GanLoss } from './losses.js';
import { validateGanTrain, type GanTrainConfig } from './presets.js';
import type { Gan } from './networks.js';

/** Training data for a GAN: `n` flattened examples of `dim` values (images in [−1, 1]). */
export interface GanData {
  readonly n: number;
  readonly dim: number;
  /** Row-major `[n, dim]`. */
  readonly x: Float32Array;
}

/** Trainer settings: the preset's recipe plus the generator's weight average. */
export interface GanTrainerOptions extends GanTrainConfig {
  /**
   * Decay of an exponential moving average of G's weights used for sampling
   * (Yazıcı et al., ICLR 2019); 0 (the default) keeps none.
   */
  readonly ema?: number;
  /**
   * Keep the Adam moments as tf variables updated with tfjs ops (webgl, webgpu: no
   * synchronous reads in a step; equal to the host path to float32 rounding). Default
   * false: host arrays, the CLI's bit-identical path. Not combined with `ema` (whose
   * average lives in host arrays).
   */
  readonly device?: boolean;
}

/** Means over one epoch's iterations (or one iteration). */
export interface GanStepStats {
  /** D's loss (WGAN-GP: critic loss including the penalty), mean over the iteration's D steps. */
  readonly lossD: number;
  /** G's loss. */
  readonly lossG: number;
  /**
   * Mean D output on real data: σ(logit) for 'ns'/'minimax' (a probability), the raw
   * output for 'lsgan' and the critic value for 'wgan-gp'.
   */
  readonly dReal: number;
  /** The same on generated data (in the D steps). */
  readonly dFake: number;
}

/** What {@link GanTrainer.trainSlice} reports at the end of an epoch. */
export interface GanEpochStats extends GanStepStats {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Generator steps so far. */
  readonly step: number;
  /** Seconds spent in this epoch's steps. */
  readonly seconds: number;
}

/** Serialisable trainer state (everything but the networks' weights). */
export interface GanTrainerState {
  readonly epoch: number;
  /** Completed iterations of the current epoch. */
  readonly batchInEpoch: number;
  /** Generator (Adam) steps. */
  readonly gSteps: number;
  /** Discriminator (Adam) steps. */
  readonly dSteps: number;
  /** Generator state at the start of the current epoch (before its shuffle). */
  readonly rng: RngState;
  /** Sums (lossD, lossG, dReal, dFake, iterations, seconds) of the incomplete epoch. */
  readonly partial: readonly number[];
  /** Adam moments by parameter name (G's and D's names do not overlap). */
  readonly adamM: ReadonlyMap<string, Float32Array>;
  readonly adamV: ReadonlyMap<string, Float32Array>;
  /** EMA of G's tensors by name, when kept. */
  readonly ema: ReadonlyMap<string, Float32Array> | null;
}

/** Options of {@link GanTrainer.trainSlice}. */
export interface SliceOptions {
  /** Iterations to run at most in this call. */
  readonly maxBatches?: number;
  /** After every iteration (1-based index in the epoch) with D's loss. */
  readonly onBatch?: (batch: number, lossD: number) => void;
  /** Checked after every iteration: stop with a resumable mid-epoch state. */
  readonly signal?: AbortSignal;
}

/** Iterations per epoch: each takes `nCritic` minibatches of `batchSize` (the remainder is dropped). */
export function iterationsPerEpoch(n: number, batchSize: number, nCritic: number): number {
  return Math.max(1, Math.floor(n / (batchSize * nCritic)));
}

/** One Adam optimiser over a fixed list of variables. */
class Adam {
  readonly moments: AdamMoments;
  t = 0;

  constructor(
    readonly vars: ReadonlyMap<string, tf.Variable>,
    readonly lr: number,
    readonly b1: number,
    readonly b2: number,
    readonly eps: number,
    device: boolean,
  ) {
    this.moments = new AdamMoments(vars, device);
  }

  /** One update; a variable missing from `grads` (the loss does not depend on it) gets a zero gradient. */
  apply(grads: Readonly<Record<string, tf.Tensor>>): void {
    this.t++;
    const hyper = { lr: this.lr, beta1: this.b1, beta2: this.b2, eps: this.eps };
    this.moments.apply(this.vars, grads, hyper, this.t);
  }
}

/** The values one iteration of the loop reads: D's loss, dReal, dFake per D step, then G's loss per G step. */
type IterationReads = ScalarReads<number[]>;

/**
 * A GAN trainer. The networks' variables are updated in place; the trainer owns the
 * optimiser moments and the EMA copy.
 */
export class GanTrainer {
  readonly options: GanTrainerOptions;
  readonly loss: GanLoss;
  private readonly adamG: Adam;
  private readonly adamD: Adam;
  private emaW: Map<string, Float32Array> | null = null;
  private epochStartRng: RngState;
  private epochCount = 0;
  private batchInEpoch = 0;
  private partial: number[] = [0, 0, 0, 0, 0, 0];
  private permCache: { epoch: number; n: number; perm: Uint32Array; after: RngState } | null = null;

  /**
   * @param gan - the networks to train
   * @param options - the recipe (validated here)
   * @param rng - the stream for shuffles, noise, dropout and interpolation weights
   * @throws UsageError for an invalid recipe or EMA decay
   */
  constructor(
    readonly gan: Gan,
    options: GanTrainerOptions,
    rng: Rng,
  ) {
    validateGanTrain(options);
    const ema = options.ema ?? 0;
    if (!(ema >= 0 && ema < 1)) throw new UsageError(`--ema: need a decay 0 ≤ d < 1 (0: no average), got ${ema}`);
    const device = options.device ?? false;
    if (device && ema > 0) throw new UsageError('GAN trainer: the device path keeps no weight average; set ema to 0 or device to false');
    this.options = { ...options, ema };
    this.loss = getGanLoss(options.loss, { realLabel: options.realLabel });
    this.adamG = new Adam(gan.generatorParams, options.lrG, options.adamBeta1, options.adamBeta2, options.adamEps, device);
    this.adamD = new Adam(gan.discriminatorParams, options.lrD, options.adamBeta1, options.adamBeta2, options.adamEps, device);
    this.epochStartRng = rng.getState();
    // The average starts as a copy of the initial generator.
    if (ema > 0) this.emaW = this.generatorWeights();
  }

  /** Completed epochs. */
  get epoch(): number {
    return this.epochCount;
  }

  /** Generator steps taken (the run's step count). */
  get step(): number {
    return this.adamG.t;
  }

  /** Discriminator steps taken. */
  get dSteps(): number {
    return this.adamD.t;
  }

  /** Completed iterations of the current epoch. */
  get batchesDone(): number {
    return this.batchInEpoch;
  }

  /** Copies of G's tensors (trainable and BatchNorm statistics), by name. */
  private generatorWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.gan.params) if (name.startsWith('generator.')) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    return out;
  }

  /** The EMA of G's tensors (copies), or null when none is kept. */
  emaWeights(): Map<string, Float32Array> | null {
    return this.emaW ? new Map([...this.emaW].map(([k, v]) => [k, Float32Array.from(v)])) : null;
  }

  /** Free the optimisers' device variables (the networks are the caller's). */
  dispose(): void {
    this.adamG.moments.dispose();
    this.adamD.moments.dispose();
  }

  /** D's output as reported in {@link GanStepStats}, as a scalar tensor (not read). */
  private reported(logits: tf.Tensor): tf.Scalar {
    return tf.tidy(() => tf.mean(this.options.loss === 'ns' || this.options.loss === 'minimax' ? tf.sigmoid(logits) : logits));
  }

  /**
   * One discriminator step on a real batch `[B, dim]` with noise `z`, drawing dropout
   * masks and interpolation weights from `rng`. G is not changed (its BatchNorm runs on
   * batch statistics without updating the moving averages).
   */
  discriminatorStep(real: tf.Tensor2D, z: tf.Tensor2D, rng: Rng): { lossD: number; dReal: number; dFake: number } {
    const [lossD, dReal, dFake] = drainSync(this.readsOf(() => this.dTensors(real, z, rng)));
    return { lossD: lossD!, dReal: dReal!, dFake: dFake! };
  }

  /** {@link GanTrainer.discriminatorStep} reading its values with `await data()`. */
  async discriminatorStepAsync(real: tf.Tensor2D, z: tf.Tensor2D, rng: Rng): Promise<{ lossD: number; dReal: number; dFake: number }> {
    const [lossD, dReal, dFake] = await drainAsync(this.readsOf(() => this.dTensors(real, z, rng)));
    return { lossD: lossD!, dReal: dReal!, dFake: dFake! };
  }

  /** One generator step with noise `z` (D in training mode, masks from `rng`); D is not changed. Returns G's loss. */
  generatorStep(z: tf.Tensor2D, rng: Rng): number {
    return drainSync(this.readsOf(() => this.gTensors(z, rng)))[0]!;
  }

  /** {@link GanTrainer.generatorStep} reading the loss with `await data()`. */
  async generatorStepAsync(z: tf.Tensor2D, rng: Rng): Promise<number> {
    return (await drainAsync(this.readsOf(() => this.gTensors(z, rng))))[0]!;
  }

  /** A one-read generator around a step that returns its scalars. */
  private *readsOf(step: () => tf.Scalar[]): IterationReads {
    return yield step();
  }

  /** The D step up to its scalars: [lossD, dReal, dFake] (the caller disposes them). */
  private dTensors(real: tf.Tensor2D, z: tf.Tensor2D, rng: Rng): tf.Scalar[] {
    const gan = this.gan;
    const o = this.options;
    // One power iteration per D step, as PyTorch's spectral_norm does in training mode.
    if (gan.config.discriminator.spectralNorm) gan.spectralStep();
    const fake = tf.tidy(() => gan.generate(z, { training: true, updateStats: false }));
    const eps = this.loss.needsGradientPenalty ? interpolationWeights(rng, real.shape[0]) : null;
    let realOut: tf.Tensor | null = null;
    let fakeOut: tf.Tensor | null = null;
    const dVars = [...gan.discriminatorParams.values()];
    const { value, grads } = tf.variableGrads(() => {
      const lr = gan.discriminate(real, { training: true, rng });
      const lf = gan.discriminate(fake, { training: true, rng });
      realOut = tf.keep(lr);
      fakeOut = tf.keep(lf);
      let l = this.loss.discriminatorLoss(lr, lf);
      if (eps) l = tf.add(l, gradientPenalty((x) => gan.discriminate(x, { training: true, rng }), real, fake, eps, o.gpWeight));
      return l as tf.Scalar;
    }, dVars);
    this.adamD.apply(grads);
    const out = [value, this.reported(realOut!), this.reported(fakeOut!)];
    tf.dispose([fake, realOut!, fakeOut!, ...(eps ? [eps] : []), ...Object.values(grads)]);
    return out;
  }

  /** The G step up to its loss: [lossG] (the caller disposes it); updates the EMA (host arrays). */
  private gTensors(z: tf.Tensor2D, rng: Rng): tf.Scalar[] {
    const gan = this.gan;
    const gVars = [...gan.generatorParams.values()];
    const { value, grads } = tf.variableGrads(() => this.loss.generatorLoss(gan.discriminate(gan.generate(z, { training: true }), { training: true, rng })), gVars);
    this.adamG.apply(grads);
    tf.dispose(Object.values(grads));
    const d = this.options.ema ?? 0;
    if (this.emaW && d > 0) {
      for (const [name, v] of this.gan.params) {
        if (!name.startsWith('generator.')) continue;
        const w = v.dataSync() as Float32Array;
        const e = this.emaW.get(name)!;
        // BatchNorm statistics are copied (they are already averages); weights averaged.
        if (!gan.generatorParams.has(name)) e.set(w);
        else for (let i = 0; i < e.length; i++) e[i] = d * e[i]! + (1 - d) * w[i]!;
      }
    }
    return [value];
  }

  /** Noise for `n` samples from the configured distribution. */
  private noise(rng: Rng, n: number): tf.Tensor2D {
    return this.gan.sampleNoise(rng, n);
  }

  /**
   * Train iterations of the current epoch until it ends, `maxBatches` iterations were
   * run, or `signal` aborts. Returns the epoch's means when it ended, else null
   * (a resumable mid-epoch state).
   * @throws ShapeError when the data do not fit the networks
   */
  trainSlice(data: GanData, opts: SliceOptions = {}): GanEpochStats | null {
    return drainSync(this.sliceReads(data, opts));
  }

  /** {@link GanTrainer.trainSlice} reading each iteration's values with `await data()` (same numbers). */
  trainSliceAsync(data: GanData, opts: SliceOptions = {}): Promise<GanEpochStats | null> {
    return drainAsync(this.sliceReads(data, opts));
  }

  /** The slice loop, shared by both read modes: one read per iteration (its D and G scalars together). */
  private *sliceReads(data: GanData, opts: SliceOptions): ScalarReads<GanEpochStats | null> {
    const o = this.options;
    if (data.dim !== this.gan.dataDim) throw new ShapeError(`GAN training data: examples have ${data.dim} values, the GAN expects ${this.gan.config.dataShape.join('×')} = ${this.gan.dataDim}`);
    if (data.n < 1 || data.x.length !== data.n * data.dim) throw new ShapeError(`GAN training data: ${data.x.length} values is not ${data.n} × ${data.dim}`);
    const B = o.batchSize;
    const D = data.dim;
    const iters = iterationsPerEpoch(data.n, B, o.nCritic);
    const epochRng = Rng.fromState(this.epochStartRng);
    if (this.permCache?.epoch !== this.epochCount || this.permCache.n !== data.n) {
      this.permCache = { epoch: this.epochCount, n: data.n, perm: epochRng.permutation(data.n), after: epochRng.getState() };
    } else epochRng.setState(this.permCache.after);
    const perm = this.permCache.perm;
    const buf = new Float32Array(B * D);
    const first = this.batchInEpoch;
    for (let b = first; b < iters; b++) {
      const t0 = performance.now();
      const r = epochRng.split(b);
      const pending: tf.Scalar[] = [];
      for (let k = 0; k < o.nCritic; k++) {
        const lo = (b * o.nCritic + k) * B;
        // Wraps around when the data hold fewer than one minibatch.
        for (let i = 0; i < B; i++) {
          const row = perm[(lo + i) % data.n]!;
          buf.set(data.x.subarray(row * D, (row + 1) * D), i * D);
        }
        const real = tf.tensor2d(buf, [B, D]);
        const z = this.noise(r, B);
        pending.push(...this.dTensors(real, z, r));
        tf.dispose([real, z]);
      }
      const z = this.noise(r, B);
      pending.push(...this.gTensors(z, r));
      z.dispose();
      const vals = yield pending;
      let lossD = 0;
      let dReal = 0;
      let dFake = 0;
      // Summed in the order the steps ran, as the per-step reads did.
      for (let k = 0; k < o.nCritic; k++) {
        lossD += vals[3 * k]! / o.nCritic;
        dReal += vals[3 * k + 1]! / o.nCritic;
        dFake += vals[3 * k + 2]! / o.nCritic;
      }
      const lossG = vals[3 * o.nCritic]!;
      const p = this.partial;
      this.partial = [p[0]! + lossD, p[1]! + lossG, p[2]! + dReal, p[3]! + dFake, p[4]! + 1, p[5]! + (performance.now() - t0) / 1000];
      this.batchInEpoch = b + 1;
      opts.onBatch?.(b + 1, lossD);
      if (b + 1 < iters && (opts.signal?.aborted === true || b + 1 - first >= (opts.maxBatches ?? Infinity))) return null;
    }
    const [sd, sg, sr, sf, cnt, sec] = this.partial as [number, number, number, number, number, number];
    this.epochStartRng = epochRng.getState();
    this.epochCount++;
    this.batchInEpoch = 0;
    this.partial = [0, 0, 0, 0, 0, 0];
    return { epoch: this.epochCount, step: this.step, lossD: sd / cnt, lossG: sg / cnt, dReal: sr / cnt, dFake: sf / cnt, seconds: sec };
  }

  /** Snapshot of optimisers, counters, EMA and generator state (copies). */
  getState(): GanTrainerState {
    return this.stateWith(this.adamG.moments.read(), this.adamD.moments.read());
  }

  /** {@link GanTrainer.getState} reading device moments with `await data()`. */
  async getStateAsync(): Promise<GanTrainerState> {
    return this.stateWith(await this.adamG.moments.readAsync(), await this.adamD.moments.readAsync());
  }

  private stateWith(g: MomentArrays, d: MomentArrays): GanTrainerState {
    const copy = (m: ReadonlyMap<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, Float32Array.from(v)]));
    return {
      epoch: this.epochCount,
      batchInEpoch: this.batchInEpoch,
      gSteps: this.adamG.t,
      dSteps: this.adamD.t,
      rng: this.epochStartRng,
      partial: [...this.partial],
      adamM: new Map([...g.m, ...d.m]),
      adamV: new Map([...g.v, ...d.v]),
      ema: this.emaW ? copy(this.emaW) : null,
    };
  }

  /**
   * Restore a snapshot from {@link GanTrainer.getState} (weights are restored separately).
   * @throws ShapeError when a moment or EMA tensor is missing or of the wrong size
   */
  setState(s: GanTrainerState): void {
    for (const opt of [this.adamG, this.adamD]) opt.moments.restore(s.adamM, s.adamV, 'GAN trainer state');
    if (this.emaW) {
      if (!s.ema) throw new ShapeError('GAN trainer state: no EMA weights, but the trainer keeps an average (--ema)');
      for (const [name, v] of this.emaW) {
        const w = s.ema.get(name);
        if (!w || w.length !== v.length) throw new ShapeError(`GAN trainer state: EMA tensor '${name}' missing or wrong size`);
        v.set(w);
      }
    }
    this.adamG.t = s.gSteps;
    this.adamD.t = s.dSteps;
    this.epochCount = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.epochStartRng = s.rng;
    this.partial = [...s.partial];
    this.permCache = null;
  }
}

/**
 * ‖∇ₓ D(x̂)‖₂ per example on the interpolates x̂ = ε x + (1 − ε) x̃ (inference mode, no
 * dropout): the quantity the WGAN-GP penalty drives towards 1 (Gulrajani et al. 2017, eq. 3).
 */
export function criticGradientNorms(gan: Gan, real: tf.Tensor2D, fake: tf.Tensor2D, eps: tf.Tensor2D): Float64Array {
  const t = tf.tidy(() => {
    const xHat = tf.add(tf.mul(eps, real), tf.mul(tf.sub(1, eps), fake));
    const g = tf.grad((x: tf.Tensor) => tf.sum(gan.discriminate(x as tf.Tensor2D)))(xHat);
    return tf.sqrt(tf.sum(tf.square(g), 1));
  });
  const out = Float64Array.from(t.dataSync());
  t.dispose();
  return out;
}
