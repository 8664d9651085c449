/**
 * Training a VAE: Adam on the negative ELBO (one reparameterised sample per
 * example), per-epoch train and validation losses in nats per example with the
 * reconstruction and KL terms separately, early stopping, and a serialisable
 * trainer state from which training resumes bit-identically (same seed, same
 * backend), also from the middle of an epoch.
 *
 * Every random number (shuffles, ε, dynamic binarisation) comes from the
 * trainer's {@link Rng}: per epoch the permutation is drawn from the main stream,
 * and batch i of the epoch draws its noise from `rng.split(i)`, so a run
 * interrupted after any batch can be replayed from the epoch-start state.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, type RngState } from '../core/rng.js';
import { DataFormatError, ShapeError } from '../core/errors.js';
import { binarizeDynamic, binarizeStatic } from '../data/binarize.js';
import { AdamMoments, drainAsync, drainSync, type MomentArrays, type ScalarReads } from '../engine/adam.js';
import { normalNoise } from './distributions.js';
import { inputDim, type Vae, type VaeConfig } from './models.js';
import type { Binarize, TrainConfig } from './presets.js';

/** A data set of flattened images with values in [0, 1]. */
export interface VaeData {
  /** Number of examples. */
  readonly n: number;
  /** Values per example (rows·cols·channels). */
  readonly dim: number;
  /** Row-major `[n, dim]` values in [0, 1]. */
  readonly x: Float32Array;
  /** Optional integer labels (classes, or a temperature index) for plots. */
  readonly labels?: ArrayLike<number>;
}

/** Mean per-example loss terms in nats: loss = rec + β·kl. */
export interface LossTerms {
  readonly loss: number;
  readonly rec: number;
  readonly kl: number;
}

/** What one epoch of {@link VaeTrainer.fit} reports. */
export interface EpochMetrics {
  /** 1-based epoch number. */
  readonly epoch: number;
  /** Adam steps taken so far. */
  readonly step: number;
  readonly train: LossTerms;
  readonly val?: LossTerms;
  /** Wall-clock seconds spent in the epoch's training steps. */
  readonly seconds: number;
}

/** Serialisable trainer state (everything but the model weights). */
export interface TrainerState {
  /** Completed epochs. */
  readonly epoch: number;
  /** Completed batches of the current (incomplete) epoch. */
  readonly batchInEpoch: number;
  /** Adam steps taken. */
  readonly step: number;
  /** Generator state at the start of the current epoch (before its shuffle). */
  readonly rng: RngState;
  /** Running sums (rec, kl, examples) of the current incomplete epoch. */
  readonly partial: readonly [number, number, number];
  /** Best validation loss so far and epochs since it improved. */
  readonly bestVal: number | null;
  readonly badEpochs: number;
  /** Adam first and second moments by parameter name. */
  readonly adamM: ReadonlyMap<string, Float32Array>;
  readonly adamV: ReadonlyMap<string, Float32Array>;
}

/**
 * Check that `data` fits a model of configuration `cfg`: `dim` equals its input size and no
 * value is NaN or outside [0, 1].
 * @param name - the data's name (file or data set) for the message
 * @throws ShapeError (wrong size) or DataFormatError (bad values)
 */
export function validateData(data: VaeData, cfg: VaeConfig, name: string): void {
  const D = inputDim(cfg);
  if (data.dim !== D) {
    throw new ShapeError(`${name}: images have ${data.dim} values, the model expects ${cfg.inputShape.join('×')} = ${D}`);
  }
  if (data.x.length !== data.n * data.dim) throw new DataFormatError(name, `holds ${data.x.length} values, expected ${data.n}×${data.dim}`);
  const x = data.x;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new DataFormatError(name, `${Number.isNaN(v) ? 'NaN' : `value ${v} outside [0, 1]`} in example ${Math.floor(i / data.dim)}, pixel ${i % data.dim}`);
    }
  }
}

/**
 * The data a trainer sees under a binarisation mode: 'static' thresholds once at
 * ½ (Larochelle & Murray 2011), 'none' and 'dynamic' return the data unchanged
 * (dynamic binarisation, a fresh Bernoulli draw, happens per batch inside the
 * trainer). Never mutates `data`.
 */
export function prepareData(data: VaeData, mode: Binarize): VaeData {
  if (mode !== 'static') return data;
  return { ...data, x: binarizeStatic(data.x) };
}

/** Hooks of {@link VaeTrainer.trainEpoch}. */
export interface EpochHooks {
  /** After every step, with the batch's terms. */
  readonly onBatch?: (done: number, total: number, t: LossTerms) => void;
  /** Checked after every step: true returns early with a resumable mid-epoch state. */
  readonly shouldStop?: () => boolean;
  /** Steps to take at most in this call. */
  readonly maxBatches?: number;
}

/** Where a trainer keeps its optimiser state. */
export interface TrainerPlacement {
  /**
   * Keep the Adam moments as tf variables and update them with tfjs ops (webgl, webgpu:
   * no synchronous reads in the step; equal to the host path to float32 rounding).
   * Default false: host arrays, the CLI's bit-identical path.
   */
  readonly device?: boolean;
}

/**
 * A trainer: Adam (Kingma & Ba 2015, PyTorch's update form) on the model's loss.
 * {@link VaeTrainer.trainEpoch} reads the losses with dataSync (the CLI);
 * {@link VaeTrainer.trainEpochAsync} runs the same loop reading them with `await data()`.
 */
export class VaeTrainer {
  private readonly adam: AdamMoments;
  private epochStartRng: RngState;
  private epochCount = 0;
  private batchInEpoch = 0;
  private stepCount = 0;
  private partial: [number, number, number] = [0, 0, 0];
  private bestVal: number | null = null;
  private badEpochs = 0;
  private permCache: { epoch: number; n: number; perm: Uint32Array; after: RngState } | null = null;

  /**
   * @param model - the VAE to train (its variables are updated in place)
   * @param cfg - optimiser and loop settings
   * @param rng - the stream for shuffles, ε and dynamic binarisation
   * @param placement - where the optimiser state lives (default: host arrays)
   */
  constructor(
    readonly model: Vae,
    readonly cfg: TrainConfig,
    rng: Rng,
    placement: TrainerPlacement = {},
  ) {
    this.epochStartRng = rng.getState();
    this.adam = new AdamMoments(model.params, placement.device ?? false);
  }

  /** Completed epochs. */
  get epoch(): number {
    return this.epochCount;
  }

  /** Adam steps taken. */
  get step(): number {
    return this.stepCount;
  }

  /** Release the optimiser state (device variables on the device path). */
  dispose(): void {
    this.adam.dispose();
  }

  /**
   * One Adam step on a batch (already binarised as configured), with noise `eps`
   * (`[b, latent]`). Returns the batch's mean loss terms.
   */
  trainStep(x: tf.Tensor2D, eps: tf.Tensor2D): LossTerms {
    const [loss, rec, kl] = drainSync(this.stepReads(x, eps));
    return { loss: loss!, rec: rec!, kl: kl! };
  }

  /** {@link VaeTrainer.trainStep} reading the loss terms with `await data()`. */
  async trainStepAsync(x: tf.Tensor2D, eps: tf.Tensor2D): Promise<LossTerms> {
    const [loss, rec, kl] = await drainAsync(this.stepReads(x, eps));
    return { loss: loss!, rec: rec!, kl: kl! };
  }

  /** The step as a generator: applies Adam, yields [loss, rec, kl] scalars, returns their values. */
  private *stepReads(x: tf.Tensor2D, eps: tf.Tensor2D): ScalarReads<number[]> {
    return yield this.stepTensors(x, eps);
  }

  /** The step's work up to the loss tensors: gradients and the Adam update; returns [loss, rec, kl] (caller disposes). */
  private stepTensors(x: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar[] {
    const beta = this.model.config.beta;
    const vars = [...this.model.params.values()];
    let recT: tf.Scalar | null = null;
    let klT: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const { rec, kl } = this.model.meanTerms(x, eps);
      recT = tf.keep(rec);
      klT = tf.keep(kl);
      return rec.add(kl.mul(beta)) as tf.Scalar;
    }, vars);
    this.stepCount++;
    const hyper = { lr: this.cfg.lr, beta1: this.cfg.adamBeta1, beta2: this.cfg.adamBeta2, eps: this.cfg.adamEps };
    this.adam.apply(this.model.params, grads, hyper, this.stepCount);
    tf.dispose(Object.values(grads));
    return [value, recT as unknown as tf.Scalar, klT as unknown as tf.Scalar];
  }

  /**
   * Train one epoch (or continue the current one). `onBatch` runs after every
   * step; `shouldStop` returning true after a step, or `maxBatches` steps taken
   * in this call, returns early with a resumable mid-epoch state. Returns the
   * epoch's mean terms, or null when the epoch is not finished.
   */
  trainEpoch(data: VaeData, hooks: EpochHooks = {}): LossTerms | null {
    return drainSync(this.epochReads(data, hooks));
  }

  /** {@link VaeTrainer.trainEpoch} reading each step's losses with `await data()` (same numbers). */
  trainEpochAsync(data: VaeData, hooks: EpochHooks = {}): Promise<LossTerms | null> {
    return drainAsync(this.epochReads(data, hooks));
  }

  /** The epoch loop, shared by both read modes (see {@link ScalarReads}). */
  private *epochReads(data: VaeData, hooks: EpochHooks): ScalarReads<LossTerms | null> {
    const { batchSize, binarize } = this.cfg;
    const D = data.dim;
    const k = this.model.config.latent;
    const batches = Math.ceil(data.n / batchSize);
    // Replay the epoch's shuffle from its start state.
    const epochRng = Rng.fromState(this.epochStartRng);
    // The permutation is drawn once per epoch (the loop may be entered many times).
    if (this.permCache?.epoch !== this.epochCount || this.permCache.n !== data.n) {
      this.permCache = { epoch: this.epochCount, n: data.n, perm: epochRng.permutation(data.n), after: epochRng.getState() };
    } else epochRng.setState(this.permCache.after);
    const perm = this.permCache.perm;
    const beta = this.model.config.beta;
    const first = this.batchInEpoch;
    // One batch buffer for the whole call: the step's input tensor is disposed before the next batch refills it.
    let batchBuf = new Float32Array(0);
    for (let b = first; b < batches; b++) {
      const lo = b * batchSize;
      const size = Math.min(batchSize, data.n - lo);
      if (batchBuf.length !== size * D) batchBuf = new Float32Array(size * D);
      const buf = batchBuf;
      for (let i = 0; i < size; i++) buf.set(data.x.subarray(perm[lo + i]! * D, (perm[lo + i]! + 1) * D), i * D);
      const batchRng = epochRng.split(b);
      const xb = binarize === 'dynamic' ? binarizeDynamic(buf, batchRng) : buf;
      const xT = tf.tensor2d(xb, [size, D]);
      const eps = normalNoise(batchRng, size, k);
      const [loss, rec, kl] = (yield this.stepTensors(xT, eps)) as [number, number, number];
      const t: LossTerms = { loss, rec, kl };
      xT.dispose();
      eps.dispose();
      this.partial = [this.partial[0] + t.rec * size, this.partial[1] + t.kl * size, this.partial[2] + size];
      this.batchInEpoch = b + 1;
      hooks.onBatch?.(b + 1, batches, t);
      if (b + 1 < batches && (hooks.shouldStop?.() || b + 1 - first >= (hooks.maxBatches ?? Infinity))) return null;
    }
    const [rs, ks, ns] = this.partial;
    this.epochStartRng = epochRng.getState();
    this.epochCount++;
    this.batchInEpoch = 0;
    this.partial = [0, 0, 0];
    return { loss: (rs + beta * ks) / ns, rec: rs / ns, kl: ks / ns };
  }

  /**
   * Mean loss terms over `data` with one sampled h per example (as PyTorch's
   * example reports its test loss), noise from a stream derived from the current
   * state without advancing it. Dynamic binarisation is not applied here: pass
   * (statically) binarised validation data.
   */
  evaluate(data: VaeData, batchSize = 500): LossTerms {
    const evalRng = Rng.fromState(this.epochStartRng).split(0x7e57);
    return evaluateLoss(this.model, data, evalRng, batchSize);
  }

  /**
   * Record a validation loss for early stopping; returns true when training
   * should stop (`earlyStopping` epochs without improvement).
   */
  recordValidation(valLoss: number): { improved: boolean; stop: boolean } {
    const improved = this.bestVal === null || valLoss < this.bestVal;
    if (improved) {
      this.bestVal = valLoss;
      this.badEpochs = 0;
    } else {
      this.badEpochs++;
    }
    const p = this.cfg.earlyStopping;
    return { improved, stop: p > 0 && this.badEpochs >= p };
  }

  /** Snapshot of the optimiser, counters and generator (copies); on the device path the moments are read synchronously. */
  getState(): TrainerState {
    return this.stateWith(this.adam.read());
  }

  /** {@link VaeTrainer.getState} reading device moments with `await data()` (the lab's exports). */
  async getStateAsync(): Promise<TrainerState> {
    return this.stateWith(await this.adam.readAsync());
  }

  private stateWith(moments: MomentArrays): TrainerState {
    return {
      epoch: this.epochCount,
      batchInEpoch: this.batchInEpoch,
      step: this.stepCount,
      rng: this.epochStartRng,
      partial: [...this.partial],
      bestVal: this.bestVal,
      badEpochs: this.badEpochs,
      adamM: moments.m,
      adamV: moments.v,
    };
  }

  /** Restore a snapshot from {@link VaeTrainer.getState} (model weights are restored separately). */
  setState(s: TrainerState): void {
    this.adam.restore(s.adamM, s.adamV, 'trainer state');
    this.epochCount = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.stepCount = s.step;
    this.epochStartRng = s.rng;
    this.permCache = null;
    this.partial = [s.partial[0], s.partial[1], s.partial[2]];
    this.bestVal = s.bestVal;
    this.badEpochs = s.badEpochs;
  }
}

/**
 * Mean loss terms of `model` over `data`, one sampled h per example with noise
 * from `rng`, in batches of `batchSize`.
 */
export function evaluateLoss(model: Vae, data: VaeData, rng: Rng, batchSize = 500): LossTerms {
  const D = data.dim;
  const k = model.config.latent;
  let rs = 0;
  let ks = 0;
  for (let lo = 0; lo < data.n; lo += batchSize) {
    const size = Math.min(batchSize, data.n - lo);
    const eps = normalNoise(rng, size, k);
    const [r, kl] = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(lo * D, (lo + size) * D), [size, D]);
      const t = model.elboTerms(x, eps);
      return [tf.sum(t.rec), tf.sum(t.kl)];
    });
    rs += r!.dataSync()[0]!;
    ks += kl!.dataSync()[0]!;
    tf.dispose([r!, kl!, eps]);
  }
  return { loss: (rs + model.config.beta * ks) / data.n, rec: rs / data.n, kl: ks / data.n };
}
