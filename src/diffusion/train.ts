/**
 * Training a diffusion model (Ho et al. 2020 Algorithm 1): for a batch x_0, draw
 * t ~ U{1…T} and ε ~ N(0, I), form x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε and take an Adam
 * step on the mean squared error of the network's output against its target (ε,
 * x_0 or v). An exponential moving average of the weights (Ho et al. §4) is kept
 * for sampling.
 *
 * Every random number comes from the trainer's {@link Rng}: per epoch the
 * permutation is drawn from the epoch-start state, and batch i draws its t and ε
 * from `rng.split(i)` of that state, so a run interrupted after any batch replays
 * exactly from a checkpoint of the epoch-start state, the batch index, the Adam
 * moments and the EMA. Browser-safe (no Node imports).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, UsageError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { AdamMoments, drainAsync, drainSync, variableOf, type MomentArrays, type ScalarReads } from '../engine/adam.js';
import { Ema, type EmaState } from './ema.js';
import { GaussianDiffusion, randomTimesteps, type Denoiser, type Prediction } from './process.js';
import { NoiseSchedule, type ScheduleConfig } from './schedule.js';
import { ToyMlp, validateToyMlpConfig, type ToyMlpConfig } from './toy-mlp.js';
import { Unet, validateUnetConfig, type UnetConfig } from './unet.js';

/** A denoising network the trainer can train: flat-named variables and a forward pass. */
export interface DiffusionNetwork {
  /** What the network outputs. */
  readonly prediction: Prediction;
  /** Values per flattened example. */
  readonly dim: number;
  /** Learned parameters by flat name. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** Output for x `[B, D]` at time steps t `[B]`. Call inside tf.tidy. */
  apply(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D;
  /** The network as a {@link Denoiser} for the samplers. */
  denoiser(): Denoiser;
  getWeights(): Map<string, Float32Array>;
  setWeights(w: ReadonlyMap<string, Float32Array>): void;
  dispose(): void;
}

/** Which network, with its configuration. */
export type NetworkConfig = { readonly arch: 'toy-mlp'; readonly toy: ToyMlpConfig } | { readonly arch: 'unet'; readonly unet: UnetConfig };

/** Check a network configuration. */
export function validateNetworkConfig(cfg: NetworkConfig): void {
  if (cfg.arch === 'toy-mlp') validateToyMlpConfig(cfg.toy);
  else if (cfg.arch === 'unet') validateUnetConfig(cfg.unet);
  else throw new UsageError(`diffusion network: unknown arch '${(cfg as { arch: string }).arch}' (expected toy-mlp or unet)`);
}

function wrapToy(m: ToyMlp): DiffusionNetwork {
  return {
    prediction: m.config.prediction,
    dim: m.config.dim,
    params: m.params,
    apply: (x, t) => m.apply(x, t),
    denoiser: () => m.denoiser(),
    getWeights: () => m.getWeights(),
    setWeights: (w) => m.setWeights(w),
    dispose: () => m.dispose(),
  };
}

function wrapUnet(m: Unet): DiffusionNetwork {
  return {
    prediction: m.config.prediction,
    dim: m.dim,
    params: m.params,
    apply: (x, t) => m.apply(x, t),
    denoiser: () => m.denoiser(),
    getWeights: () => m.getWeights(),
    setWeights: (w) => m.setWeights(w),
    dispose: () => m.dispose(),
  };
}

/** A freshly initialised network (weights from `rng`). */
export function createNetwork(cfg: NetworkConfig, rng: Rng): DiffusionNetwork {
  validateNetworkConfig(cfg);
  return cfg.arch === 'toy-mlp' ? wrapToy(ToyMlp.create(cfg.toy, rng)) : wrapUnet(Unet.create(cfg.unet, rng));
}

/** A network with the given weights (copied). */
export function networkFromWeights(cfg: NetworkConfig, weights: ReadonlyMap<string, Float32Array>): DiffusionNetwork {
  validateNetworkConfig(cfg);
  return cfg.arch === 'toy-mlp' ? wrapToy(ToyMlp.fromWeights(cfg.toy, weights)) : wrapUnet(Unet.fromWeights(cfg.unet, weights));
}

/** Optimiser and loop settings of {@link DiffusionTrainer}. */
export interface DiffusionTrainConfig {
  /** Adam learning rate (Ho et al. 2020: 2e-4). */
  readonly lr: number;
  readonly batchSize: number;
  /** Adam β₁, β₂, ε (PyTorch defaults 0.9, 0.999, 1e-8). */
  readonly adamBeta1: number;
  readonly adamBeta2: number;
  readonly adamEps: number;
  /** Final EMA decay (Ho et al.: 0.9999), with TensorFlow's warm-up (see {@link Ema}). */
  readonly emaDecay: number;
  /** The noise schedule. */
  readonly schedule: ScheduleConfig;
}

/** Defaults: Adam 2e-4, batch 128 (the course), EMA 0.9999, linear schedule T = 1000. */
export const DEFAULT_DIFFUSION_TRAIN: DiffusionTrainConfig = {
  lr: 2e-4,
  batchSize: 128,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEps: 1e-8,
  emaDecay: 0.9999,
  schedule: { kind: 'linear', T: 1000 },
};

/** Check a training configuration (one-line UsageError naming the field). */
export function validateDiffusionTrainConfig(c: DiffusionTrainConfig): void {
  if (!(c.lr > 0 && Number.isFinite(c.lr))) throw new UsageError(`diffusion training: lr must be > 0, got ${c.lr}`);
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1)) throw new UsageError(`diffusion training: batchSize must be an integer ≥ 1, got ${c.batchSize}`);
  if (!(c.adamBeta1 >= 0 && c.adamBeta1 < 1 && c.adamBeta2 >= 0 && c.adamBeta2 < 1 && c.adamEps > 0)) throw new UsageError('diffusion training: Adam needs β₁, β₂ in [0, 1) and ε > 0');
  if (!(c.emaDecay >= 0 && c.emaDecay < 1)) throw new UsageError(`diffusion training: emaDecay must be in [0, 1), got ${c.emaDecay}`);
  NoiseSchedule.create(c.schedule);
}

/** Flattened training examples. */
export interface DiffusionData {
  readonly n: number;
  /** Values per example. */
  readonly dim: number;
  /** Row-major `[n, dim]`. */
  readonly x: Float32Array;
}

/** Serialisable trainer state (everything but the network weights). */
export interface DiffusionTrainerState {
  readonly epoch: number;
  /** Completed batches of the current (incomplete) epoch. */
  readonly batchInEpoch: number;
  readonly step: number;
  /** Generator state at the start of the current epoch. */
  readonly rng: RngState;
  /** Sum of batch losses × batch sizes and examples so far in the current epoch. */
  readonly partial: readonly [number, number];
  readonly adamM: ReadonlyMap<string, Float32Array>;
  readonly adamV: ReadonlyMap<string, Float32Array>;
  readonly ema: EmaState;
}

/** Hooks of {@link DiffusionTrainer.trainEpoch}. */
export interface DiffusionEpochHooks {
  /** After every step, with the batch's loss. */
  readonly onBatch?: (done: number, total: number, loss: number) => void;
  /** Checked after every step: true returns early with a resumable mid-epoch state. */
  readonly shouldStop?: () => boolean;
  /** Steps to take at most in this call. */
  readonly maxBatches?: number;
}

/** Where a {@link DiffusionTrainer} keeps its optimiser state and weight average. */
export interface DiffusionPlacement {
  /**
   * Keep the Adam moments and the EMA as tf variables updated with tfjs ops (webgl,
   * webgpu: no synchronous reads in a step; equal to the host path to float32 rounding).
   * Default false: host arrays, the CLI's bit-identical path.
   */
  readonly device?: boolean;
}

/**
 * Adam (Kingma & Ba 2015, PyTorch's update form) on the diffusion loss, with an EMA
 * of the weights updated after every step.
 */
export class DiffusionTrainer {
  /** The forward process. */
  readonly diffusion: GaussianDiffusion;
  private readonly adam: AdamMoments;
  /** The average's decay schedule and, on the host path, its weights. */
  private ema: Ema;
  /** On the device path: the averaged weights as variables, and the updates made to them. */
  private emaDev: Map<string, tf.Variable> | null = null;
  private emaDevStep = 0;
  private epochStartRng: RngState;
  private epochCount = 0;
  private batchInEpoch = 0;
  private stepCount = 0;
  private partial: [number, number] = [0, 0];
  private permCache: { epoch: number; n: number; perm: Uint32Array; after: RngState } | null = null;

  /**
   * @param net - the network to train (its variables are updated in place)
   * @param cfg - optimiser settings and the schedule
   * @param rng - the stream of shuffles, time steps and noise
   * @param placement - where the optimiser state and EMA live (default: host arrays)
   */
  constructor(
    readonly net: DiffusionNetwork,
    readonly cfg: DiffusionTrainConfig,
    rng: Rng,
    placement: DiffusionPlacement = {},
  ) {
    validateDiffusionTrainConfig(cfg);
    this.diffusion = new GaussianDiffusion(NoiseSchedule.create(cfg.schedule));
    this.epochStartRng = rng.getState();
    const device = placement.device ?? false;
    this.adam = new AdamMoments(net.params, device);
    if (device) {
      // The host Ema keeps only the decay schedule here (its weights are never read).
      this.ema = new Ema(new Map(), { decay: cfg.emaDecay });
      this.emaDev = new Map([...net.params].map(([k, p]) => [k, variableOf(p.clone())]));
    } else this.ema = new Ema(net.getWeights(), { decay: cfg.emaDecay });
  }

  /** Free the device variables (the network is the caller's). */
  dispose(): void {
    this.adam.dispose();
    for (const t of this.emaDev?.values() ?? []) t.dispose();
    this.emaDev?.clear();
  }

  get epoch(): number {
    return this.epochCount;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Copies of the EMA weights (on the device path read synchronously: keep it out of training loops). */
  emaWeights(): Map<string, Float32Array> {
    if (!this.emaDev) return this.ema.weights();
    return new Map([...this.emaDev].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
  }

  /** {@link DiffusionTrainer.emaWeights} read with `await data()`. */
  async emaWeightsAsync(): Promise<Map<string, Float32Array>> {
    if (!this.emaDev) return this.ema.weights();
    const out = new Map<string, Float32Array>();
    for (const [k, t] of this.emaDev) out.set(k, Float32Array.from((await t.data()) as Float32Array));
    return out;
  }

  /**
   * One Adam step on x_0 `[B, D]` with time steps t (1…T) and noise ε `[B, D]`.
   * Returns the batch's mean loss (before the step).
   */
  trainStep(x0: Float32Array, t: Int32Array, eps: Float32Array): number {
    return drainSync(this.stepReads(x0, t, eps))[0]!;
  }

  /** {@link DiffusionTrainer.trainStep} reading the loss with `await data()`. */
  async trainStepAsync(x0: Float32Array, t: Int32Array, eps: Float32Array): Promise<number> {
    return (await drainAsync(this.stepReads(x0, t, eps)))[0]!;
  }

  private *stepReads(x0: Float32Array, t: Int32Array, eps: Float32Array): ScalarReads<number[]> {
    return yield this.stepTensors(x0, t, eps);
  }

  /** The step up to its loss: gradients, Adam, the EMA; returns [loss] (the caller disposes it). */
  private stepTensors(x0: Float32Array, t: Int32Array, eps: Float32Array): tf.Scalar[] {
    const D = this.net.dim;
    const B = t.length;
    if (x0.length !== B * D || eps.length !== B * D) throw new ShapeError(`diffusion step: ${x0.length} data and ${eps.length} noise values for ${B} examples of ${D}`);
    const pred = this.net.prediction;
    const vars = [...this.net.params.values()];
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor2d(x0, [B, D]);
      const e = tf.tensor2d(eps, [B, D]);
      const tt = tf.tensor1d(t, 'int32');
      return tf.variableGrads(() => this.diffusion.lossTf(pred, this.net.apply(this.diffusion.qSampleTf(x, tt, e), tt), x, e, tt), vars);
    });
    this.stepCount++;
    const hyper = { lr: this.cfg.lr, beta1: this.cfg.adamBeta1, beta2: this.cfg.adamBeta2, eps: this.cfg.adamEps };
    this.adam.apply(this.net.params, grads, hyper, this.stepCount);
    tf.dispose(Object.values(grads));
    if (this.emaDev) {
      // shadow ← d·shadow + (1 − d)·w with the Ema class's warm-up decay (Ho et al. 2020 §4), in float32 ops.
      const d = this.ema.decayAt(this.emaDevStep++);
      tf.tidy(() => {
        for (const [name, s] of this.emaDev!) s.assign(tf.add(tf.mul(s, d), tf.mul(this.net.params.get(name)!, 1 - d)));
      });
    } else this.ema.update(this.net.getWeights());
    return [value as tf.Scalar];
  }

  /**
   * Train one epoch (or continue the current one); returns its mean loss, or null
   * when it stopped early (`maxBatches` taken or `shouldStop`) with a resumable state.
   */
  trainEpoch(data: DiffusionData, hooks: DiffusionEpochHooks = {}): number | null {
    return drainSync(this.epochReads(data, hooks));
  }

  /** {@link DiffusionTrainer.trainEpoch} reading each step's loss with `await data()` (same numbers). */
  trainEpochAsync(data: DiffusionData, hooks: DiffusionEpochHooks = {}): Promise<number | null> {
    return drainAsync(this.epochReads(data, hooks));
  }

  /** The epoch loop, shared by both read modes (see {@link ScalarReads}). */
  private *epochReads(data: DiffusionData, hooks: DiffusionEpochHooks): ScalarReads<number | null> {
    const D = this.net.dim;
    if (data.dim !== D) throw new ShapeError(`diffusion data: ${data.dim} values per example, the network expects ${D}`);
    const bs = this.cfg.batchSize;
    const batches = Math.ceil(data.n / bs);
    const epochRng = Rng.fromState(this.epochStartRng);
    if (this.permCache?.epoch !== this.epochCount || this.permCache.n !== data.n) {
      this.permCache = { epoch: this.epochCount, n: data.n, perm: epochRng.permutation(data.n), after: epochRng.getState() };
    } else epochRng.setState(this.permCache.after);
    const perm = this.permCache.perm;
    const T = this.diffusion.T;
    const first = this.batchInEpoch;
    for (let b = first; b < batches; b++) {
      const lo = b * bs;
      const size = Math.min(bs, data.n - lo);
      const x = new Float32Array(size * D);
      for (let i = 0; i < size; i++) x.set(data.x.subarray(perm[lo + i]! * D, (perm[lo + i]! + 1) * D), i * D);
      const br = epochRng.split(b);
      const t = randomTimesteps(br, size, T);
      const eps = new Float32Array(size * D);
      br.fillNormal(eps);
      const loss = (yield this.stepTensors(x, t, eps))[0]!;
      this.partial = [this.partial[0] + loss * size, this.partial[1] + size];
      this.batchInEpoch = b + 1;
      hooks.onBatch?.(b + 1, batches, loss);
      if (b + 1 < batches && (hooks.shouldStop?.() || b + 1 - first >= (hooks.maxBatches ?? Infinity))) return null;
    }
    const mean = this.partial[0] / this.partial[1];
    this.epochStartRng = epochRng.getState();
    this.epochCount++;
    this.batchInEpoch = 0;
    this.partial = [0, 0];
    return mean;
  }

  /** Snapshot of the optimiser, EMA, counters and generator (copies). */
  getState(): DiffusionTrainerState {
    return this.stateWith(this.adam.read(), this.emaDev ? this.emaWeights() : null);
  }

  /** {@link DiffusionTrainer.getState} reading device state with `await data()`. */
  async getStateAsync(): Promise<DiffusionTrainerState> {
    return this.stateWith(await this.adam.readAsync(), this.emaDev ? await this.emaWeightsAsync() : null);
  }

  /** The state with these moments and, on the device path, these EMA weights. */
  private stateWith(moments: MomentArrays, emaDev: Map<string, Float32Array> | null): DiffusionTrainerState {
    return {
      epoch: this.epochCount,
      batchInEpoch: this.batchInEpoch,
      step: this.stepCount,
      rng: this.epochStartRng,
      partial: [...this.partial],
      adamM: moments.m,
      adamV: moments.v,
      ema: emaDev ? { decay: this.ema.decay, warmup: this.ema.warmup, step: this.emaDevStep, weights: emaDev } : this.ema.getState(),
    };
  }

  /** Restore a snapshot from {@link DiffusionTrainer.getState} (network weights are restored separately). */
  setState(s: DiffusionTrainerState): void {
    this.adam.restore(s.adamM, s.adamV, 'diffusion trainer state');
    for (const [name, p] of this.net.params) {
      const w = s.ema.weights.get(name);
      if (!w || w.length !== p.size) throw new ShapeError(`diffusion trainer state: EMA weight '${name}' missing or wrong size`);
    }
    if (this.emaDev) {
      this.ema = Ema.fromState({ ...s.ema, weights: new Map() });
      this.emaDevStep = s.ema.step;
      for (const [name, v] of this.emaDev) tf.tidy(() => v.assign(tf.tensor(s.ema.weights.get(name)!, v.shape)));
    } else this.ema = Ema.fromState(s.ema);
    this.epochCount = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.stepCount = s.step;
    this.epochStartRng = s.rng;
    this.permCache = null;
    this.partial = [s.partial[0], s.partial[1]];
  }
}
