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
import { adamUpdate } from '../engine/adam.js';
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

/**
 * Adam (Kingma & Ba 2015, PyTorch's update form) on the diffusion loss, with an EMA
 * of the weights updated after every step.
 */
export class DiffusionTrainer {
  /** The forward process. */
  readonly diffusion: GaussianDiffusion;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private ema: Ema;
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
   */
  constructor(
    readonly net: DiffusionNetwork,
    readonly cfg: DiffusionTrainConfig,
    rng: Rng,
  ) {
    validateDiffusionTrainConfig(cfg);
    this.diffusion = new GaussianDiffusion(NoiseSchedule.create(cfg.schedule));
    this.epochStartRng = rng.getState();
    for (const [name, p] of net.params) {
      this.m.set(name, new Float32Array(p.size));
      this.v.set(name, new Float32Array(p.size));
    }
    this.ema = new Ema(net.getWeights(), { decay: cfg.emaDecay });
  }

  get epoch(): number {
    return this.epochCount;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Copies of the EMA weights. */
  emaWeights(): Map<string, Float32Array> {
    return this.ema.weights();
  }

  /**
   * One Adam step on x_0 `[B, D]` with time steps t (1…T) and noise ε `[B, D]`.
   * Returns the batch's mean loss (before the step).
   */
  trainStep(x0: Float32Array, t: Int32Array, eps: Float32Array): number {
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
    for (const [name, p] of this.net.params) adamUpdate(p, grads[p.name]!, this.m.get(name)!, this.v.get(name)!, hyper, this.stepCount);
    const loss = value.dataSync()[0]!;
    value.dispose();
    tf.dispose(Object.values(grads));
    this.ema.update(this.net.getWeights());
    return loss;
  }

  /**
   * Train one epoch (or continue the current one); returns its mean loss, or null
   * when it stopped early (`maxBatches` taken or `shouldStop`) with a resumable state.
   */
  trainEpoch(data: DiffusionData, hooks: { onBatch?: (done: number, total: number, loss: number) => void; shouldStop?: () => boolean; maxBatches?: number } = {}): number | null {
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
      const loss = this.trainStep(x, t, eps);
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
    const copy = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, Float32Array.from(v)]));
    return {
      epoch: this.epochCount,
      batchInEpoch: this.batchInEpoch,
      step: this.stepCount,
      rng: this.epochStartRng,
      partial: [...this.partial],
      adamM: copy(this.m),
      adamV: copy(this.v),
      ema: this.ema.getState(),
    };
  }

  /** Restore a snapshot from {@link DiffusionTrainer.getState} (network weights are restored separately). */
  setState(s: DiffusionTrainerState): void {
    for (const [which, src] of [
      [this.m, s.adamM],
      [this.v, s.adamV],
    ] as const) {
      for (const [name, v] of which) {
        const w = src.get(name);
        if (!w || w.length !== v.length) throw new ShapeError(`diffusion trainer state: Adam moment '${name}' missing or wrong size`);
        v.set(w);
      }
    }
    for (const [name, p] of this.net.params) {
      const w = s.ema.weights.get(name);
      if (!w || w.length !== p.size) throw new ShapeError(`diffusion trainer state: EMA weight '${name}' missing or wrong size`);
    }
    this.ema = Ema.fromState(s.ema);
    this.epochCount = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.stepCount = s.step;
    this.epochStartRng = s.rng;
    this.permCache = null;
    this.partial = [s.partial[0], s.partial[1]];
  }
}
