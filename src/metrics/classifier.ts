/**
 * The feature classifier behind "FD-LeNet" and KID on image data: a small
 * LeNet-style CNN (LeCun et al. 1998, "Gradient-based learning applied to document
 * recognition") trained by genphys itself on Fashion-MNIST or MNIST. Its 84-wide
 * penultimate layer plays the role Inception-v3's pool3 features play in FID
 * (Heusel et al. 2017) and KID (Bińkowski et al. 2018); the numbers are NOT
 * comparable with Inception-based scores.
 *
 * Architecture for 28×28 inputs ({@link LENET}), NHWC, Keras layouts:
 *
 * ```
 * input  [n, 28, 28, 1]   pixels scaled to [−1, 1]
 * conv1  5×5, 1→6,  'same',  ReLU → [n, 28, 28, 6]    156 params
 * pool1  max 2×2, stride 2         → [n, 14, 14, 6]
 * conv2  5×5, 6→16, 'valid', ReLU → [n, 10, 10, 16]  2 416 params
 * pool2  max 2×2, stride 2         → [n, 5, 5, 16] → flatten (row, col, channel) 400
 * dense1 400→120, ReLU                               48 120 params
 * dense2 120→84,  ReLU  = the FEATURE layer          10 164 params
 * dense3 84→10 logits                                   850 params
 *                                              total 61 706 params
 * ```
 *
 * Parameters are plain tfjs variables with flat names (`conv1.kernel`, …,
 * `dense3.bias`), initialised as PyTorch's Conv2d/Linear default U(±1/√fan_in)
 * from a seeded {@link Rng}. Training is Adam (Kingma & Ba 2015) on the mean softmax
 * cross-entropy, with a serialisable state from which training resumes exactly,
 * also mid-epoch. Browser-safe: the committed weights are read with `fetch` in a
 * browser and through the checkpoint reader in Node (loaded lazily).
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, DataFormatError, ShapeError, UsageError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { adamUpdate } from '../engine/adam.js';

/** Hyperparameters of the network (everything needed to rebuild it). */
export interface ClassifierConfig {
  /** Side of the square greyscale input (28 for (Fashion-)MNIST); imageSize/2 − 4 must be even and ≥ 2. */
  readonly imageSize: number;
  /** Channels of conv1 (LeNet: 6). */
  readonly conv1: number;
  /** Channels of conv2 (LeNet: 16). */
  readonly conv2: number;
  /** Width of dense1 (LeNet: 120). */
  readonly dense: number;
  /** Width of the feature layer dense2 (LeNet: 84). */
  readonly features: number;
  /** Number of classes (10). */
  readonly classes: number;
}

/** The LeNet configuration of the committed classifiers (61 706 parameters). */
export const LENET: ClassifierConfig = { imageSize: 28, conv1: 6, conv2: 16, dense: 120, features: 84, classes: 10 };

/** Kernel size of both convolutions. */
export const KERNEL = 5;

/** Checkpoint kind of classifier weights and training runs. */
export const CLASSIFIER_KIND = 'genphys-classifier';

/** Datasets with a committed classifier. */
export type ClassifierDataset = 'fashion-mnist' | 'mnist';

/** Names of {@link ClassifierDataset}, for option parsers. */
export const CLASSIFIER_DATASETS: readonly ClassifierDataset[] = ['fashion-mnist', 'mnist'];

/** Labelled images for training or evaluation. */
export interface ClassifierData {
  /** Number of images. */
  readonly n: number;
  /** Row-major `[n, imageSize²]` pixels in [−1, 1]. */
  readonly x: Float32Array;
  /** `n` labels in 0 … classes − 1. */
  readonly labels: Uint8Array;
}

/** Spatial side after pool2. */
function pooledSide(cfg: ClassifierConfig): number {
  return (cfg.imageSize / 2 - (KERNEL - 1)) / 2;
}

/** Throws a one-line ShapeError unless `cfg` describes a buildable network. */
export function validateClassifierConfig(cfg: ClassifierConfig): void {
  for (const k of ['imageSize', 'conv1', 'conv2', 'dense', 'features', 'classes'] as const) {
    const v = cfg[k];
    if (!(Number.isInteger(v) && v >= 1)) throw new ShapeError(`classifier config: ${k} must be a positive integer, got ${v}`);
  }
  const p = pooledSide(cfg);
  if (!(Number.isInteger(p) && p >= 1) || cfg.classes < 2) {
    throw new ShapeError(`classifier config: imageSize ${cfg.imageSize} does not fit two 2×2 pools around a valid 5×5 convolution (need imageSize/2 − 4 even and ≥ 2), and classes must be ≥ 2`);
  }
}

/** Flat parameter names and shapes, in a fixed order. */
export function classifierParamShapes(cfg: ClassifierConfig): Array<{ name: string; shape: number[]; fanIn: number }> {
  validateClassifierConfig(cfg);
  const p = pooledSide(cfg);
  const k = KERNEL;
  const flat = p * p * cfg.conv2;
  const out: Array<{ name: string; shape: number[]; fanIn: number }> = [];
  const layer = (name: string, kernel: number[], fanIn: number) => {
    out.push({ name: `${name}.kernel`, shape: kernel, fanIn });
    out.push({ name: `${name}.bias`, shape: [kernel[kernel.length - 1]!], fanIn });
  };
  layer('conv1', [k, k, 1, cfg.conv1], k * k);
  layer('conv2', [k, k, cfg.conv1, cfg.conv2], k * k * cfg.conv1);
  layer('dense1', [flat, cfg.dense], flat);
  layer('dense2', [cfg.dense, cfg.features], cfg.dense);
  layer('dense3', [cfg.features, cfg.classes], cfg.features);
  return out;
}

/** Number of trainable parameters of a configuration (61 706 for {@link LENET}). */
export function classifierParamCount(cfg: ClassifierConfig): number {
  return classifierParamShapes(cfg).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * 2×2 max pooling with stride 2 of an NHWC tensor (even H and W), with its gradient
 * routed to the first maximum of each window in row-major order. The same values
 * and gradient as `tf.maxPool(x, 2, 2, 'valid')`, but both passes are one loop each:
 * the cpu/native backends' MaxPoolGrad took ~75 % of a LeNet training step.
 */
export const maxPool2x2 = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = inputs[0] as tf.Tensor;
  const [b, H, W, c] = x.shape as [number, number, number, number];
  const h2 = H >> 1;
  const w2 = W >> 1;
  const xv = x.dataSync() as Float32Array;
  const out = new Float32Array(b * h2 * w2 * c);
  const arg = new Int32Array(out.length);
  let o = 0;
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < h2; i++) {
      for (let j = 0; j < w2; j++) {
        const r0 = ((n * H + 2 * i) * W + 2 * j) * c;
        const r1 = r0 + W * c;
        for (let k = 0; k < c; k++, o++) {
          let best = r0 + k;
          let m = xv[best]!;
          for (const q of [r0 + c + k, r1 + k, r1 + c + k]) {
            if (xv[q]! > m) {
              m = xv[q]!;
              best = q;
            }
          }
          out[o] = m;
          arg[o] = best;
        }
      }
    }
  }
  return {
    value: tf.tensor4d(out, [b, h2, w2, c]),
    gradFunc: (dy: tf.Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const gx = new Float32Array(xv.length);
      for (let t = 0; t < g.length; t++) gx[arg[t]!] += g[t]!;
      return tf.tensor4d(gx, [b, H, W, c]);
    },
  };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/** The network: parameters and the forward pass. The caller disposes it. */
export class LeNet {
  private constructor(
    readonly config: ClassifierConfig,
    /** Parameters by flat name. */
    readonly params: ReadonlyMap<string, tf.Variable>,
  ) {}

  /** A freshly initialised network (PyTorch's default U(±1/√fan_in), drawn from `rng`). */
  static create(cfg: ClassifierConfig, rng: Rng): LeNet {
    const params = new Map<string, tf.Variable>();
    for (const s of classifierParamShapes(cfg)) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const b = 1 / Math.sqrt(s.fanIn);
      const v = new Float32Array(size);
      for (let i = 0; i < size; i++) v[i] = (2 * rng.uniform() - 1) * b;
      params.set(s.name, tf.variable(tf.tensor(v, s.shape, 'float32'), true, `classifier.${s.name}.${variableSerial++}`));
    }
    return new LeNet(cfg, params);
  }

  /**
   * A network from stored weights (copied).
   * @throws ShapeError when a tensor is missing or has the wrong shape
   */
  static fromWeights(cfg: ClassifierConfig, weights: Readonly<Record<string, { shape: readonly number[]; data: Float32Array }>>, source = 'classifier weights'): LeNet {
    const params = new Map<string, tf.Variable>();
    for (const s of classifierParamShapes(cfg)) {
      const w = weights[s.name];
      if (!w || w.shape.length !== s.shape.length || w.shape.some((d, i) => d !== s.shape[i]) || w.data.length !== s.shape.reduce((a, b) => a * b, 1)) {
        for (const v of params.values()) v.dispose();
        throw new ShapeError(`${source}: tensor '${s.name}' ${w ? `has shape [${w.shape.join(', ')}]` : 'is missing'}, expected [${s.shape.join(', ')}]`);
      }
      params.set(s.name, tf.variable(tf.tensor(Float32Array.from(w.data), s.shape, 'float32'), true, `classifier.${s.name}.${variableSerial++}`));
    }
    return new LeNet(cfg, params);
  }

  private p(name: string): tf.Variable {
    return this.params.get(name)!;
  }

  /** Features `[b, features]` (post-ReLU dense2) and logits `[b, classes]` of flattened images `[b, imageSize²]`. */
  forward(x: tf.Tensor2D): { features: tf.Tensor2D; logits: tf.Tensor2D } {
    return tf.tidy(() => {
      const s = this.config.imageSize;
      const x4 = tf.reshape(x, [-1, s, s, 1]) as tf.Tensor4D;
      const c1 = tf.relu(tf.add(tf.conv2d(x4, this.p('conv1.kernel') as tf.Tensor4D, 1, 'same'), this.p('conv1.bias')));
      const p1 = maxPool2x2(c1 as tf.Tensor4D);
      const c2 = tf.relu(tf.add(tf.conv2d(p1, this.p('conv2.kernel') as tf.Tensor4D, 1, 'valid'), this.p('conv2.bias')));
      const p2 = maxPool2x2(c2 as tf.Tensor4D);
      const flat = tf.reshape(p2, [-1, this.p('dense1.kernel').shape[0]!]) as tf.Tensor2D;
      const d1 = tf.relu(tf.add(tf.matMul(flat, this.p('dense1.kernel') as tf.Tensor2D), this.p('dense1.bias')));
      const features = tf.relu(tf.add(tf.matMul(d1 as tf.Tensor2D, this.p('dense2.kernel') as tf.Tensor2D), this.p('dense2.bias'))) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(features, this.p('dense3.kernel') as tf.Tensor2D), this.p('dense3.bias')) as tf.Tensor2D;
      return { features, logits };
    });
  }

  /** Mean softmax cross-entropy −(1/b) Σ log softmax(logits)_y of a batch, as a scalar tensor. */
  loss(x: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = this.forward(x);
      const onehot = tf.oneHot(tf.cast(labels, 'int32'), this.config.classes);
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    });
  }

  /** Copies of the weights by flat name (for checkpoints). */
  weights(): Record<string, { shape: number[]; data: Float32Array }> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, v] of this.params) out[name] = { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) };
    return out;
  }

  /** Release the variables. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}

// Variable names must be unique per tfjs engine; two networks may coexist.
let variableSerial = 0;

/** Optimiser and loop settings of classifier training. */
export interface ClassifierTrainConfig {
  /** Total epochs. */
  readonly epochs: number;
  /** Minibatch size (default 64). */
  readonly batchSize: number;
  /** Adam learning rate (default 1e-3). */
  readonly lr: number;
  /** Adam β1, β2, ε (PyTorch defaults 0.9, 0.999, 1e-8). */
  readonly adamBeta1: number;
  readonly adamBeta2: number;
  readonly adamEps: number;
  /**
   * Data augmentation: each training image is shifted by a uniform random offset in
   * {−shift … shift}² pixels, filled with the background −1 (0: none). Simard et al.
   * 2003 show small translations help convnets on MNIST-size data.
   */
  readonly shift: number;
}

/** Default training settings (Adam 1e-3, batch 64, no augmentation). */
export const DEFAULT_CLASSIFIER_TRAIN: ClassifierTrainConfig = { epochs: 10, batchSize: 64, lr: 1e-3, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-8, shift: 0 };

/** Serialisable trainer state (everything but the weights). */
export interface ClassifierTrainerState {
  readonly epoch: number;
  /** Completed batches of the current (incomplete) epoch. */
  readonly batchInEpoch: number;
  readonly step: number;
  /** Generator state at the start of the current epoch (before its shuffle). */
  readonly rng: RngState;
  /** Running (loss sum, correct, examples) of the current incomplete epoch. */
  readonly partial: readonly [number, number, number];
  readonly adamM: ReadonlyMap<string, Float32Array>;
  readonly adamV: ReadonlyMap<string, Float32Array>;
}

/** One epoch's training summary. */
export interface ClassifierEpochMetrics {
  /** Mean cross-entropy per example, nats. */
  readonly loss: number;
  /** Fraction of training examples classified correctly (as seen during the epoch). */
  readonly accuracy: number;
}

/**
 * Check labelled data against a configuration.
 * @throws ShapeError (sizes) or DataFormatError (values), naming `name`
 */
export function validateClassifierData(data: ClassifierData, cfg: ClassifierConfig, name: string): void {
  checkImages(name, data.x, data.n, cfg);
  if (data.labels.length !== data.n) throw new ShapeError(`${name}: ${data.labels.length} labels for ${data.n} images`);
  for (let i = 0; i < data.n; i++) if (data.labels[i]! >= cfg.classes) throw new DataFormatError(name, `label ${data.labels[i]} at index ${i} is outside 0…${cfg.classes - 1}`);
}

/** Copy image `src` (side s) into `dst` shifted by (dy, dx), background −1. */
function shiftInto(dst: Float32Array, off: number, src: Float32Array, soff: number, s: number, dy: number, dx: number): void {
  for (let r = 0; r < s; r++) {
    const sr = r - dy;
    for (let c = 0; c < s; c++) {
      const sc = c - dx;
      dst[off + r * s + c] = sr >= 0 && sr < s && sc >= 0 && sc < s ? src[soff + sr * s + sc]! : -1;
    }
  }
}

/**
 * Adam on the mean cross-entropy. Per epoch the permutation is drawn from the main
 * stream; batch i's augmentation offsets come from `rng.split(i)` of the epoch-start
 * state, so a run interrupted after any batch replays exactly.
 */
export class ClassifierTrainer {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private epochStartRng: RngState;
  private epochCount = 0;
  private batchInEpoch = 0;
  private stepCount = 0;
  private partial: [number, number, number] = [0, 0, 0];

  /**
   * @param model - the network (updated in place)
   * @param cfg - optimiser and loop settings
   * @param rng - the stream for shuffles and augmentation
   */
  constructor(
    readonly model: LeNet,
    readonly cfg: ClassifierTrainConfig,
    rng: Rng,
  ) {
    if (!(Number.isInteger(cfg.batchSize) && cfg.batchSize >= 1)) throw new UsageError(`--batch: must be a positive integer, got ${cfg.batchSize}`);
    if (!(cfg.lr > 0)) throw new UsageError(`--lr: must be > 0, got ${cfg.lr}`);
    if (!(Number.isInteger(cfg.shift) && cfg.shift >= 0 && cfg.shift < model.config.imageSize)) throw new UsageError(`--shift: must be an integer in [0, ${model.config.imageSize}), got ${cfg.shift}`);
    this.epochStartRng = rng.getState();
    for (const [name, p] of model.params) {
      this.m.set(name, new Float32Array(p.size));
      this.v.set(name, new Float32Array(p.size));
    }
  }

  /** Completed epochs. */
  get epoch(): number {
    return this.epochCount;
  }

  /** Adam steps taken. */
  get step(): number {
    return this.stepCount;
  }

  /** One Adam step on a batch; returns its mean loss and number of correct predictions. */
  trainStep(x: tf.Tensor2D, labels: tf.Tensor1D): { loss: number; correct: number } {
    const vars = [...this.model.params.values()];
    let predT: tf.Tensor1D | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = this.model.forward(x);
      predT = tf.keep(tf.argMax(logits, 1) as tf.Tensor1D);
      const onehot = tf.oneHot(tf.cast(labels, 'int32'), this.model.config.classes);
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }, vars);
    this.stepCount++;
    const hyper = { lr: this.cfg.lr, beta1: this.cfg.adamBeta1, beta2: this.cfg.adamBeta2, eps: this.cfg.adamEps };
    for (const [name, p] of this.model.params) adamUpdate(p, grads[p.name]!, this.m.get(name)!, this.v.get(name)!, hyper, this.stepCount);
    const loss = value.dataSync()[0]!;
    const pred = (predT as unknown as tf.Tensor1D).dataSync();
    const y = labels.dataSync();
    let correct = 0;
    for (let i = 0; i < pred.length; i++) if (pred[i] === y[i]) correct++;
    value.dispose();
    (predT as unknown as tf.Tensor1D).dispose();
    tf.dispose(Object.values(grads));
    return { loss, correct };
  }

  /**
   * Train one epoch (or continue the current one). Returns early (null) after
   * `maxBatches` steps or when `shouldStop` says so, leaving a resumable mid-epoch
   * state; returns the epoch's metrics when it finishes.
   */
  trainEpoch(
    data: ClassifierData,
    hooks: { onBatch?: (done: number, total: number, loss: number) => void; shouldStop?: () => boolean; maxBatches?: number } = {},
  ): ClassifierEpochMetrics | null {
    const s = this.model.config.imageSize;
    const D = s * s;
    const { batchSize, shift } = this.cfg;
    const batches = Math.ceil(data.n / batchSize);
    const epochRng = Rng.fromState(this.epochStartRng);
    const perm = epochRng.permutation(data.n);
    const first = this.batchInEpoch;
    for (let b = first; b < batches; b++) {
      const lo = b * batchSize;
      const size = Math.min(batchSize, data.n - lo);
      const buf = new Float32Array(size * D);
      const lab = new Int32Array(size);
      const aug = shift > 0 ? epochRng.split(b) : null;
      for (let i = 0; i < size; i++) {
        const j = perm[lo + i]!;
        lab[i] = data.labels[j]!;
        if (aug) shiftInto(buf, i * D, data.x, j * D, s, aug.int(2 * shift + 1) - shift, aug.int(2 * shift + 1) - shift);
        else buf.set(data.x.subarray(j * D, (j + 1) * D), i * D);
      }
      const xT = tf.tensor2d(buf, [size, D]);
      const yT = tf.tensor1d(lab, 'int32');
      const t = this.trainStep(xT, yT);
      xT.dispose();
      yT.dispose();
      this.partial = [this.partial[0] + t.loss * size, this.partial[1] + t.correct, this.partial[2] + size];
      this.batchInEpoch = b + 1;
      hooks.onBatch?.(b + 1, batches, t.loss);
      if (b + 1 < batches && (hooks.shouldStop?.() || b + 1 - first >= (hooks.maxBatches ?? Infinity))) return null;
    }
    const [ls, cs, ns] = this.partial;
    this.epochStartRng = epochRng.getState();
    this.epochCount++;
    this.batchInEpoch = 0;
    this.partial = [0, 0, 0];
    return { loss: ls / ns, accuracy: cs / ns };
  }

  /** Snapshot of optimiser, counters and generator (copies). */
  getState(): ClassifierTrainerState {
    const copy = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, Float32Array.from(v)]));
    return { epoch: this.epochCount, batchInEpoch: this.batchInEpoch, step: this.stepCount, rng: this.epochStartRng, partial: [...this.partial], adamM: copy(this.m), adamV: copy(this.v) };
  }

  /** Restore a snapshot of {@link ClassifierTrainer.getState} (weights are restored separately). */
  setState(st: ClassifierTrainerState): void {
    for (const [which, src] of [
      [this.m, st.adamM],
      [this.v, st.adamV],
    ] as const) {
      for (const [name, v] of which) {
        const w = src.get(name);
        if (!w || w.length !== v.length) throw new ShapeError(`classifier trainer state: Adam moment '${name}' missing or wrong size`);
        v.set(w);
      }
    }
    this.epochCount = st.epoch;
    this.batchInEpoch = st.batchInEpoch;
    this.stepCount = st.step;
    this.epochStartRng = st.rng;
    this.partial = [st.partial[0], st.partial[1], st.partial[2]];
  }
}

/**
 * Throws a one-line error unless `x` holds `n` finite images of `imageSize²` pixels
 * scaled to [−1, 1] (a value beyond ±1.5 means the images were not rescaled).
 */
function checkImages(what: string, x: Float32Array, n: number, cfg: ClassifierConfig): void {
  const D = cfg.imageSize * cfg.imageSize;
  if (!(Number.isInteger(n) && n >= 0)) throw new ShapeError(`${what}: n must be a non-negative integer, got ${n}`);
  if (!(x instanceof Float32Array)) throw new ShapeError(`${what}: images must be a Float32Array`);
  if (x.length !== n * D) throw new ShapeError(`${what}: expected ${n} images of ${cfg.imageSize}×${cfg.imageSize} = ${n * D} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= -1.5 && v <= 1.5)) throw new DataFormatError(what, `${Number.isNaN(v) ? 'NaN' : `value ${v}`} in image ${Math.floor(i / D)}, pixel ${i % D}: images must be scaled to [−1, 1]`);
  }
}

/** Pixels 0…255 → [−1, 1] (x/127.5 − 1), the scaling GAN and diffusion samples use. */
export function pixelsToSigned(pixels: ArrayLike<number>): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 127.5 - 1;
  return out;
}

/** Images per forward batch in {@link FeatureClassifier}. */
export const FEATURE_BATCH = 500;

/** Provenance of a committed classifier (from its manifest). */
export interface ClassifierInfo {
  /** Dataset it was trained on. */
  readonly dataset: ClassifierDataset;
  /** Split it was evaluated on, e.g. `test` or `mnist-test-split` (test images 8000…9999). */
  readonly evalSplit?: string;
  /** Accuracy on that split when it was trained. */
  readonly accuracy?: number;
  /** Where it was loaded from. */
  readonly source: string;
}

/** A trained classifier used as a feature extractor. The caller disposes it. */
export class FeatureClassifier {
  /**
   * @param net - the trained network (owned by this object from now on)
   * @param info - provenance
   */
  constructor(
    readonly net: LeNet,
    readonly info: ClassifierInfo,
  ) {}

  /** Width of the feature vectors (84 for LeNet). */
  get featureDim(): number {
    return this.net.config.features;
  }

  private run(what: string, x: Float32Array, n: number, pick: 'features' | 'logits'): Float32Array {
    const cfg = this.net.config;
    checkImages(what, x, n, cfg);
    const D = cfg.imageSize * cfg.imageSize;
    const w = pick === 'features' ? cfg.features : cfg.classes;
    const out = new Float32Array(n * w);
    for (let lo = 0; lo < n; lo += FEATURE_BATCH) {
      const b = Math.min(FEATURE_BATCH, n - lo);
      const vals = tf.tidy(() => {
        const r = this.net.forward(tf.tensor2d(x.subarray(lo * D, (lo + b) * D), [b, D]));
        return r[pick].dataSync() as Float32Array;
      });
      out.set(vals, lo * w);
    }
    return out;
  }

  /** Features `[n, 84]` row-major (post-ReLU dense2) of `n` flattened images in [−1, 1], in batches of 500. */
  features(x: Float32Array, n: number): Float32Array {
    return this.run('classifier features', x, n, 'features');
  }

  /** Logits `[n, classes]` row-major. */
  logits(x: Float32Array, n: number): Float32Array {
    return this.run('classifier logits', x, n, 'logits');
  }

  /** Predicted classes (argmax of the logits; ties go to the lower class). */
  predict(x: Float32Array, n: number): Uint8Array {
    const z = this.logits(x, n);
    const c = this.net.config.classes;
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (z[i * c + k]! > z[i * c + best]!) best = k;
      out[i] = best;
    }
    return out;
  }

  /** Fraction of `n` images whose predicted class equals `labels`. */
  accuracy(x: Float32Array, labels: ArrayLike<number>, n: number): number {
    if (labels.length !== n) throw new ShapeError(`classifier accuracy: ${labels.length} labels for ${n} images`);
    if (n === 0) throw new ShapeError('classifier accuracy: needs at least one image');
    const p = this.predict(x, n);
    let ok = 0;
    for (let i = 0; i < n; i++) if (p[i] === labels[i]) ok++;
    return ok / n;
  }

  /** Release the network. */
  dispose(): void {
    this.net.dispose();
  }
}

/** Base names of the committed classifiers (manifest `<name>.json`). */
export const CLASSIFIER_FILES: Readonly<Record<ClassifierDataset, string>> = {
  'fashion-mnist': 'lenet-fashion-mnist',
  mnist: 'lenet-mnist',
};

/**
 * Where the committed classifier of `dataset` lives: `models/<name>.json` at the
 * package root, found relative to this module (from `src/metrics/` and from
 * `dist/metrics/` alike).
 */
export function classifierManifestUrl(dataset: ClassifierDataset): URL {
  return new URL(`../../models/${CLASSIFIER_FILES[dataset]}.json`, import.meta.url);
}

function checkDataset(dataset: string): ClassifierDataset {
  if (!(CLASSIFIER_DATASETS as readonly string[]).includes(dataset)) throw new UsageError(`feature classifier: unknown dataset '${dataset}' (choose ${CLASSIFIER_DATASETS.join(' or ')})`);
  return dataset as ClassifierDataset;
}

/** The parts of a checkpoint manifest a classifier needs. */
interface ClassifierManifest {
  kind?: unknown;
  config?: { model?: ClassifierConfig; dataset?: unknown; evalSplit?: unknown; accuracy?: unknown };
  weights?: { file?: unknown; bytes?: unknown };
}

/**
 * Decode the float32 tensors of a safetensors file (layout:
 * https://github.com/huggingface/safetensors, "Format": u64 LE header length, JSON
 * header with dtype/shape/data_offsets per tensor, then the byte buffer). A small
 * reader with no Node dependency, for browsers.
 * @throws CheckpointError naming `file` when the bytes are not such a file
 */
export function decodeF32Safetensors(bytes: Uint8Array, file: string): Record<string, { shape: number[]; data: Float32Array }> {
  const bad = (why: string): never => {
    throw new CheckpointError(file, why);
  };
  if (bytes.length < 8) bad('is too short to be a safetensors file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (!(hlen > 0 && 8 + hlen <= bytes.length)) bad(`header length ${hlen} does not fit in ${bytes.length} bytes`);
  let header: Record<string, { dtype?: unknown; shape?: unknown; data_offsets?: unknown }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as typeof header;
  } catch {
    return bad('has an unreadable JSON header');
  }
  const base = 8 + hlen;
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const shape = t.shape as number[];
    const off = t.data_offsets as [number, number];
    if (t.dtype !== 'F32' || !Array.isArray(shape) || !Array.isArray(off)) bad(`tensor '${name}' is not a float32 tensor with shape and offsets`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== 4 * size || base + off[1] > bytes.length) bad(`tensor '${name}' has offsets [${off.join(', ')}] that do not fit its shape or the file`);
    // Copy through a byte view: the tensor may sit at any offset of the buffer.
    const copy = bytes.slice(base + off[0], base + off[1]);
    out[name] = { shape, data: new Float32Array(copy.buffer, 0, size) };
  }
  return out;
}

/** Options of {@link loadFeatureClassifier}. */
export interface LoadClassifierOptions {
  /** Manifest to load instead of the committed one (a path in Node, or a URL). */
  readonly manifest?: string | URL;
  /**
   * Byte fetcher (default: `fetch` in a browser; in Node the checkpoint reader, which
   * also verifies the weights' SHA-256). Given one, Node takes the browser path too.
   */
  readonly fetchBytes?: (url: URL) => Promise<Uint8Array>;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Load the committed feature classifier for `dataset` (Fashion-MNIST: test accuracy
 * in test/fixtures/classifier/README.md; MNIST: trained on test images 0…7999, scored on 8000…9999). The
 * caller disposes it.
 * @throws UsageError for an unknown dataset; CheckpointError/ShapeError when the
 *   weights are missing or do not fit the network
 */
export async function loadFeatureClassifier(dataset: ClassifierDataset, opts: LoadClassifierOptions = {}): Promise<FeatureClassifier> {
  const ds = checkDataset(dataset);
  const given = opts.manifest;
  if (isNode && !opts.fetchBytes) {
    const { fileURLToPath } = (await import(/* @vite-ignore */ 'node:url')) as typeof import('node:url');
    const path = given === undefined ? fileURLToPath(classifierManifestUrl(ds)) : given instanceof URL ? fileURLToPath(given) : given;
    const { loadCheckpoint } = (await import('../io/checkpoint.js')) as typeof import('../io/checkpoint.js');
    const ck = loadCheckpoint(path, { kind: CLASSIFIER_KIND, allowExtra: true });
    return fromManifest(ds, ck.config as ClassifierManifest['config'], ck.tensors, path);
  }
  const url = given === undefined ? classifierManifestUrl(ds) : given instanceof URL ? given : new URL(given, (globalThis as { location?: { href: string } }).location?.href);
  const fetchBytes =
    opts.fetchBytes ??
    (async (u: URL) => {
      const r = await fetch(u);
      if (!r.ok) throw new CheckpointError(u.href, `could not be fetched (HTTP ${r.status})`);
      return new Uint8Array(await r.arrayBuffer());
    });
  let manifest: ClassifierManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(url))) as ClassifierManifest;
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(url.href, `is not a readable checkpoint manifest (${(err as Error).message})`);
  }
  if (manifest.kind !== CLASSIFIER_KIND) throw new CheckpointError(url.href, `is a '${String(manifest.kind)}' checkpoint, not a '${CLASSIFIER_KIND}'`);
  if (typeof manifest.weights?.file !== 'string') throw new CheckpointError(url.href, 'names no weights file');
  const wurl = new URL(manifest.weights.file, url);
  const bytes = await fetchBytes(wurl);
  if (bytes.length !== manifest.weights.bytes) throw new CheckpointError(wurl.href, `has ${bytes.length} bytes, the manifest says ${String(manifest.weights.bytes)}`);
  return fromManifest(ds, manifest.config, decodeF32Safetensors(bytes, wurl.href), url.href);
}

function fromManifest(ds: ClassifierDataset, config: ClassifierManifest['config'], tensors: Record<string, { shape: number[]; data: Float32Array }>, source: string): FeatureClassifier {
  const model = config?.model;
  if (!model) throw new CheckpointError(source, 'has no model config');
  if (config.dataset !== undefined && config.dataset !== ds) throw new CheckpointError(source, `is a classifier for '${String(config.dataset)}', not '${ds}'`);
  const net = LeNet.fromWeights(model, tensors, source);
  return new FeatureClassifier(net, {
    dataset: ds,
    ...(typeof config.evalSplit === 'string' ? { evalSplit: config.evalSplit } : {}),
    ...(typeof config.accuracy === 'number' ? { accuracy: config.accuracy } : {}),
    source,
  });
}

/**
 * Features `[n, 84]` of `n` images under the committed classifier of `dataset`
 * (loads, extracts, disposes). For many calls, keep a {@link loadFeatureClassifier}.
 */
export async function classifierFeatures(dataset: ClassifierDataset, x: Float32Array, n: number): Promise<Float32Array> {
  const c = await loadFeatureClassifier(dataset);
  try {
    return c.features(x, n);
  } finally {
    c.dispose();
  }
}
