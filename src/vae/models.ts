/**
 * Encoder and decoder networks of a variational autoencoder, built from plain
 * tfjs variables so every parameter has a flat, stable name
 * (`encoder.dense1.kernel`, `decoder.deconv2.bias`, …) for checkpoints, and so
 * initialisation can follow PyTorch's or Keras's defaults exactly (drawn from our
 * {@link Rng}, hence reproducible).
 *
 * Layouts follow Keras: dense kernels are `[in, out]`, convolution kernels
 * `[kh, kw, in, out]`, transposed-convolution kernels `[kh, kw, out, in]`; images
 * are NHWC. Inputs and decoder outputs are flattened `[batch, rows·cols·channels]`.
 */
import * as tf from '@tensorflow/tfjs';
import { assignWeights, createVariables, disposeVariables, readWeights } from '../engine/params.js';
import type { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';
import {
  DiagonalNormal,
  bernoulliLogProb,
  bernoulliNllTotal,
  cbMean,
  continuousBernoulliLogProb,
  gaussianLogProb,
  type DecoderKind,
} from './distributions.js';

/** Elementwise nonlinearities available between layers. */
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'leakyRelu' | 'softplus' | 'linear';

/** Names of the activations, for option parsers. */
export const ACTIVATIONS: readonly Activation[] = ['relu', 'tanh', 'sigmoid', 'elu', 'leakyRelu', 'softplus', 'linear'];

/** A fully connected encoder/decoder. */
export interface MlpArchitecture {
  readonly kind: 'mlp';
  /** Encoder hidden widths, input side first (PyTorch example: [400]). */
  readonly hidden: readonly number[];
  /** Decoder hidden widths, latent side first (default: `hidden` reversed). */
  readonly decoderHidden?: readonly number[];
  /** Nonlinearity after every hidden layer. */
  readonly activation: Activation;
}

/** A convolutional encoder with a mirrored transposed-convolution decoder. */
export interface ConvArchitecture {
  readonly kind: 'conv';
  /** Filters of the stride-2 convolutions, input side first (Keras example: [32, 64]). */
  readonly filters: readonly number[];
  /** Square kernel size (Keras example: 3). */
  readonly kernelSize: number;
  /** Width of the dense layer between the convolutions and the latent heads (0: none; Keras: 16). */
  readonly dense: number;
  /** Nonlinearity after every hidden layer. */
  readonly activation: Activation;
}

/** Initialisation scheme: the framework defaults the presets reproduce. */
export type InitScheme = 'torch' | 'keras';

/** Hyperparameters of a VAE model (everything needed to rebuild it). */
export interface VaeConfig {
  /** Image shape [rows, cols, channels]; inputs are flattened to rows·cols·channels. */
  readonly inputShape: readonly [number, number, number];
  /** Latent dimension k. */
  readonly latent: number;
  /** Encoder/decoder architecture. */
  readonly arch: MlpArchitecture | ConvArchitecture;
  /** Decoder likelihood p(x|h). */
  readonly decoder: DecoderKind;
  /** σ² of the Gaussian decoder (fixed), or its initial value when learned. */
  readonly sigma2: number;
  /** Weight β on the KL term (1: the ELBO; Higgins et al. 2017 for β ≠ 1). */
  readonly beta: number;
  /**
   * 'torch': U(±1/√fan_in) for weights and biases (PyTorch's nn.Linear/Conv2d
   * default; for ConvTranspose2d fan_in is out_channels·k², as PyTorch computes it).
   * 'keras': Glorot-uniform kernels, zero biases (Keras's default).
   */
  readonly init: InitScheme;
}

/** Shape and initial distribution of one parameter. */
export interface ParamSpec {
  /** Flat name, e.g. `encoder.dense1.kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Uniform(−bound, bound); bound 0 means zeros; `value` means a constant. */
  readonly bound: number;
  readonly value?: number;
}

/** Per-example ELBO terms, in nats: rec = −log p(x|h) (one sample), kl = KL(Q‖p). */
export interface ElboTerms {
  readonly rec: tf.Tensor1D;
  readonly kl: tf.Tensor1D;
}

/** Number of values in the flattened input. */
export function inputDim(cfg: VaeConfig): number {
  return cfg.inputShape[0] * cfg.inputShape[1] * cfg.inputShape[2];
}

/** Check a configuration; throws ShapeError with a one-line message. */
export function validateConfig(cfg: VaeConfig): void {
  const [h, w, c] = cfg.inputShape;
  for (const v of [h, w, c, cfg.latent]) if (!(Number.isInteger(v) && v >= 1)) throw new ShapeError(`VAE config: input shape and latent must be positive integers, got ${JSON.stringify(cfg.inputShape)}, latent ${cfg.latent}`);
  if (!(cfg.beta >= 0) || !(cfg.sigma2 > 0)) throw new ShapeError(`VAE config: need beta ≥ 0 and sigma2 > 0, got beta ${cfg.beta}, sigma2 ${cfg.sigma2}`);
  if (cfg.arch.kind === 'conv') {
    const f = 2 ** cfg.arch.filters.length;
    if (h % f !== 0 || w % f !== 0) throw new ShapeError(`VAE config: a conv net with ${cfg.arch.filters.length} stride-2 layers needs rows and cols divisible by ${f}, got ${h}×${w}`);
    if (cfg.arch.filters.length === 0) throw new ShapeError('VAE config: a conv net needs at least one convolution');
  }
}

function uniformBound(cfg: VaeConfig, fanIn: number, fanOut: number): { kernel: number; bias: number } {
  if (cfg.init === 'torch') {
    const b = 1 / Math.sqrt(fanIn);
    return { kernel: b, bias: b };
  }
  return { kernel: Math.sqrt(6 / (fanIn + fanOut)), bias: 0 };
}

/** The parameters of a model with configuration `cfg`, in a fixed order. */
export function parameterSpecs(cfg: VaeConfig): ParamSpec[] {
  validateConfig(cfg);
  const specs: ParamSpec[] = [];
  const dense = (name: string, nin: number, nout: number) => {
    const b = uniformBound(cfg, nin, nout);
    specs.push({ name: `${name}.kernel`, shape: [nin, nout], bound: b.kernel });
    specs.push({ name: `${name}.bias`, shape: [nout], bound: b.bias });
  };
  const conv = (name: string, k: number, nin: number, nout: number, transposed: boolean) => {
    // Keras: fan_in = k²·in, fan_out = k²·out for both kinds; PyTorch's transposed
    // conv takes fan_in from weight.size(1) = out.
    const fanIn = k * k * (transposed && cfg.init === 'torch' ? nout : nin);
    const b = uniformBound(cfg, fanIn, k * k * (transposed && cfg.init === 'torch' ? nin : nout));
    specs.push({ name: `${name}.kernel`, shape: transposed ? [k, k, nout, nin] : [k, k, nin, nout], bound: b.kernel });
    specs.push({ name: `${name}.bias`, shape: [nout], bound: b.bias });
  };
  const D = inputDim(cfg);
  const k = cfg.latent;
  const a = cfg.arch;
  if (a.kind === 'mlp') {
    let prev = D;
    a.hidden.forEach((n, i) => {
      dense(`encoder.dense${i + 1}`, prev, n);
      prev = n;
    });
    dense('encoder.mean', prev, k);
    dense('encoder.logvar', prev, k);
    prev = k;
    const dh = a.decoderHidden ?? [...a.hidden].reverse();
    dh.forEach((n, i) => {
      dense(`decoder.dense${i + 1}`, prev, n);
      prev = n;
    });
    dense('decoder.out', prev, D);
  } else {
    const [h, w, c] = cfg.inputShape;
    const s = 2 ** a.filters.length;
    let prev = c;
    a.filters.forEach((f, i) => {
      conv(`encoder.conv${i + 1}`, a.kernelSize, prev, f, false);
      prev = f;
    });
    const last = a.filters[a.filters.length - 1]!;
    const flat = (h / s) * (w / s) * last;
    let width = flat;
    if (a.dense > 0) {
      dense('encoder.dense1', flat, a.dense);
      width = a.dense;
    }
    dense('encoder.mean', width, k);
    dense('encoder.logvar', width, k);
    dense('decoder.dense1', k, flat);
    prev = last;
    [...a.filters].reverse().forEach((f, i) => {
      conv(`decoder.deconv${i + 1}`, a.kernelSize, prev, f, true);
      prev = f;
    });
    conv('decoder.out', a.kernelSize, prev, c, true);
  }
  if (cfg.decoder === 'gaussian-learned') specs.push({ name: 'decoder.logsigma2', shape: [1], bound: 0, value: Math.log(cfg.sigma2) });
  return specs;
}

/** Total number of parameters whose name starts with `prefix` ('' for all). */
export function countParameters(cfg: VaeConfig, prefix = ''): number {
  let n = 0;
  for (const s of parameterSpecs(cfg)) if (s.name.startsWith(prefix)) n += s.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Initial parameter values for `cfg`, drawn from `rng` in {@link parameterSpecs} order. */
export function initialWeights(cfg: VaeConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of parameterSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const buf = new Float32Array(n);
    if (s.value !== undefined) buf.fill(s.value);
    else if (s.bound > 0) for (let i = 0; i < n; i++) buf[i] = (2 * rng.uniform() - 1) * s.bound;
    out.set(s.name, buf);
  }
  return out;
}

function activate(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'elu':
      return tf.elu(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, 0.2);
    case 'softplus':
      return tf.softplus(x);
    case 'linear':
      return x;
  }
}

/**
 * A variational autoencoder: encoder → {@link DiagonalNormal} Q(h|x), standard
 * Normal prior, decoder → parameters of p(x|h). Learned state is the map of tfjs
 * variables {@link Vae.params}; everything else is the immutable config.
 */
export class Vae {
  /** Learned parameters by flat name, in {@link parameterSpecs} order. */
  readonly params: ReadonlyMap<string, tf.Variable>;

  private constructor(
    readonly config: VaeConfig,
    params: Map<string, tf.Variable>,
  ) {
    this.params = params;
  }

  /** A freshly initialised model (see {@link VaeConfig.init}). */
  static create(config: VaeConfig, rng: Rng): Vae {
    return Vae.fromWeights(config, initialWeights(config, rng));
  }

  /**
   * A model with the given weights (copied).
   * @throws ShapeError if a tensor is missing or has the wrong size
   */
  static fromWeights(config: VaeConfig, weights: ReadonlyMap<string, Float32Array>): Vae {
    return new Vae(config, createVariables('VAE', 'vae', parameterSpecs(config), weights));
  }

  /** Flattened input dimension D. */
  get inputDim(): number {
    return inputDim(this.config);
  }

  /** Copies of the current weights, by flat name. */
  getWeights(): Map<string, Float32Array> {
    return readWeights(this.params);
  }

  /** Overwrite the weights (shapes must match). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    assignWeights('VAE', this.params, weights);
  }

  /** Free the variables. */
  dispose(): void {
    disposeVariables(this.params);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new ShapeError(`VAE: no parameter '${name}'`);
    return v;
  }

  private dense(x: tf.Tensor, name: string): tf.Tensor2D {
    return tf.add(tf.matMul(x as tf.Tensor2D, this.p(`${name}.kernel`) as tf.Tensor2D), this.p(`${name}.bias`)) as tf.Tensor2D;
  }

  /** Q(h|x) for a batch `[B, D]` of flattened inputs. Call inside tf.tidy. */
  encode(x: tf.Tensor2D): DiagonalNormal {
    const cfg = this.config;
    if (x.shape[1] !== this.inputDim) throw new ShapeError(`VAE.encode: inputs have ${x.shape[1]} values, the model expects ${this.inputDim} (${cfg.inputShape.join('×')})`);
    const a = cfg.arch;
    let h: tf.Tensor;
    if (a.kind === 'mlp') {
      h = x;
      for (let i = 0; i < a.hidden.length; i++) h = activate(this.dense(h, `encoder.dense${i + 1}`), a.activation);
    } else {
      const [rows, cols, c] = cfg.inputShape;
      h = x.reshape([x.shape[0], rows, cols, c]);
      for (let i = 0; i < a.filters.length; i++) {
        const conv = tf.conv2d(h as tf.Tensor4D, this.p(`encoder.conv${i + 1}.kernel`) as tf.Tensor4D, 2, 'same');
        h = activate(tf.add(conv, this.p(`encoder.conv${i + 1}.bias`)), a.activation);
      }
      h = h.reshape([x.shape[0], -1]);
      if (a.dense > 0) h = activate(this.dense(h, 'encoder.dense1'), a.activation);
    }
    return new DiagonalNormal(this.dense(h, 'encoder.mean'), this.dense(h, 'encoder.logvar'));
  }

  /**
   * Decoder output for latents `[B, k]`: logits (Bernoulli, continuous Bernoulli)
   * or means (Gaussian), flattened to `[B, D]`. Call inside tf.tidy.
   */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    const cfg = this.config;
    const a = cfg.arch;
    const B = z.shape[0];
    if (a.kind === 'mlp') {
      let h: tf.Tensor = z;
      const n = (a.decoderHidden ?? a.hidden).length;
      for (let i = 0; i < n; i++) h = activate(this.dense(h, `decoder.dense${i + 1}`), a.activation);
      return this.dense(h, 'decoder.out');
    }
    const [rows, cols, c] = cfg.inputShape;
    const s = 2 ** a.filters.length;
    const last = a.filters[a.filters.length - 1]!;
    let h: tf.Tensor = activate(this.dense(z, 'decoder.dense1'), a.activation).reshape([B, rows / s, cols / s, last]);
    let hr = rows / s;
    let wc = cols / s;
    const rev = [...a.filters].reverse();
    for (let i = 0; i < rev.length; i++) {
      hr *= 2;
      wc *= 2;
      const name = `decoder.deconv${i + 1}`;
      const y = tf.conv2dTranspose(h as tf.Tensor4D, this.p(`${name}.kernel`) as tf.Tensor4D, [B, hr, wc, rev[i]!], 2, 'same');
      h = activate(tf.add(y, this.p(`${name}.bias`)), a.activation);
    }
    const y = tf.conv2dTranspose(h as tf.Tensor4D, this.p('decoder.out.kernel') as tf.Tensor4D, [B, rows, cols, c], 1, 'same');
    return tf.add(y, this.p('decoder.out.bias')).reshape([B, rows * cols * c]) as tf.Tensor2D;
  }

  /** log p(x|h) summed over pixels, given the decoder output for h; `[B]`. */
  logLikelihood(x: tf.Tensor2D, out: tf.Tensor2D): tf.Tensor1D {
    switch (this.config.decoder) {
      case 'bernoulli':
        return bernoulliLogProb(x, out);
      case 'cbernoulli':
        return continuousBernoulliLogProb(x, out);
      case 'gaussian':
        return gaussianLogProb(x, out, Math.log(this.config.sigma2));
      case 'gaussian-learned':
        return gaussianLogProb(x, out, this.p('decoder.logsigma2').reshape([]) as tf.Scalar);
    }
  }

  /** Mean of p(x|h) (pixel intensities for display) from the decoder output. */
  decoderMean(out: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      switch (this.config.decoder) {
        case 'bernoulli':
          return tf.sigmoid(out);
        case 'cbernoulli':
          return cbMean(out) as tf.Tensor2D;
        default:
          return out.clone();
      }
    });
  }

  /**
   * One-sample ELBO terms for a batch: h = μ + σ ε with the given noise,
   * rec = −log p(x|h), kl = KL(Q(h|x) ‖ N(0, I)) in closed form. Call inside tf.tidy.
   */
  elboTerms(x: tf.Tensor2D, eps: tf.Tensor2D): ElboTerms {
    const q = this.encode(x);
    const h = q.sample(eps);
    const rec = this.logLikelihood(x, this.decode(h)).neg() as tf.Tensor1D;
    return { rec, kl: q.klToStdNormal() };
  }

  /**
   * Batch means of the one-sample terms as scalars, rec = −log p(x|h) and
   * kl = KL(Q ‖ N(0, I)), for training. Same values as the means of
   * {@link Vae.elboTerms}; the Bernoulli case uses {@link bernoulliNllTotal}, whose
   * backward pass avoids slow broadcasting kernels. Call inside tf.tidy.
   */
  meanTerms(x: tf.Tensor2D, eps: tf.Tensor2D): { rec: tf.Scalar; kl: tf.Scalar } {
    const B = x.shape[0];
    if (this.config.decoder === 'bernoulli') {
      const q = this.encode(x);
      const h = q.sample(eps);
      const rec = bernoulliNllTotal(x, this.decode(h)).div(B) as tf.Scalar;
      // Σ over the small [B, k] latent block; its broadcast is cheap.
      return { rec, kl: tf.sum(q.klToStdNormal()).div(B) as tf.Scalar };
    }
    const t = this.elboTerms(x, eps);
    return { rec: tf.mean(t.rec) as tf.Scalar, kl: tf.mean(t.kl) as tf.Scalar };
  }

  /** Training loss: mean over the batch of rec + β·kl (nats per example). */
  loss(x: tf.Tensor2D, eps: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const t = this.meanTerms(x, eps);
      return t.rec.add(t.kl.mul(this.config.beta)) as tf.Scalar;
    });
  }
}
