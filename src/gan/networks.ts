/**
 * Generator and discriminator networks of a GAN, built from plain tfjs variables
 * with flat, stable names (`generator.dense1.kernel`, `generator.bn1.movingMean`,
 * `discriminator.conv2.bias`, `discriminator.out.sn_u`, …) and initialised from our
 * {@link Rng}, as the VAE networks are (src/vae/models.ts).
 *
 * The two networks' trainable variables are handed out as separate lists, so a
 * trainer differentiates the discriminator loss with respect to D's list only
 * (G frozen) and the generator loss with respect to G's list only (D frozen).
 * Moving BatchNorm statistics and spectral-norm vectors are non-trainable state.
 *
 * Layouts follow Keras (see presets.ts); data and samples are flattened
 * `[batch, rows·cols·channels]`, discriminator outputs are logits `[batch]`.
 */
import * as tf from '@tensorflow/tfjs';
import { checkWeights } from '../engine/params.js';
import { GROUP_NORM, batchNormFused, fusedAvailable } from '../engine/fused-ops.js';
import type { Rng } from '../core/rng.js';
import { GenphysError, ShapeError } from '../core/errors.js';
import { SpectralNorm, kernelMatrixShape, randomUnitVector } from './spectral.js';
import { dataDim, sameOut, validateGanModel, type GanModelConfig, type GanOutput } from './presets.js';

/** What a named tensor is, which fixes its initial value. */
export type GanParamRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'movingMean' | 'movingVar' | 'snU' | 'snV';

/** Shape, role and fans of one named tensor. */
export interface GanParamSpec {
  /** Flat name, e.g. `generator.dense1.kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: GanParamRole;
  /** Whether an optimiser updates it (false: BatchNorm moving statistics, spectral-norm vectors). */
  readonly trainable: boolean;
  /** Fans for the initialisers (kernels and biases only). */
  readonly fanIn: number;
  readonly fanOut: number;
}

/** Power-iteration steps at creation so σ starts close to σ_max (PyTorch's spectral_norm does 15). */
const SN_INIT_ITERATIONS = 15;

/** Stream index (of `rng.split`) for the spectral-norm vectors, so the weights do not depend on spectralNorm. */
const SN_STREAM = 0x5e;

/**
 * The named tensors of a GAN with configuration `cfg`, in a fixed order
 * (generator first). Includes BatchNorm moving statistics and spectral-norm vectors.
 * @throws UsageError if the configuration is invalid
 */
export function ganParamSpecs(cfg: GanModelConfig): GanParamSpec[] {
  validateGanModel(cfg);
  const specs: GanParamSpec[] = [];
  const push = (name: string, shape: number[], role: GanParamRole, fanIn = 0, fanOut = 0) =>
    specs.push({ name, shape, role, trainable: role !== 'movingMean' && role !== 'movingVar' && role !== 'snU' && role !== 'snV', fanIn, fanOut });
  const dense = (name: string, nin: number, nout: number, bias: boolean, sn = false) => {
    push(`${name}.kernel`, [nin, nout], 'kernel', nin, nout);
    if (bias) push(`${name}.bias`, [nout], 'bias', nin, nout);
    if (sn) snSpecs(name, [nin, nout]);
  };
  const conv = (name: string, k: number, nin: number, nout: number, transposed: boolean, bias: boolean, sn = false) => {
    // Keras takes the fans from the kernel's last two axes: [k,k,in,out] for Conv2D,
    // [k,k,out,in] for Conv2DTranspose; PyTorch (torch init) takes fan_in from
    // weight.size(1), i.e. `out` for ConvTranspose2d, as src/vae/models.ts does.
    const shape = transposed ? [k, k, nout, nin] : [k, k, nin, nout];
    const fanIn = k * k * (transposed && cfg.init.kind === 'torch' ? nout : nin);
    const fanOut = k * k * (transposed && cfg.init.kind === 'torch' ? nin : nout);
    push(`${name}.kernel`, shape, 'kernel', fanIn, fanOut);
    if (bias) push(`${name}.bias`, [nout], 'bias', fanIn, fanOut);
    if (sn) snSpecs(name, shape);
  };
  const bn = (name: string, n: number) => {
    push(`${name}.gamma`, [n], 'gamma');
    push(`${name}.beta`, [n], 'beta');
    push(`${name}.movingMean`, [n], 'movingMean');
    push(`${name}.movingVar`, [n], 'movingVar');
  };
  const snSpecs = (name: string, shape: number[]) => {
    const [m, n] = kernelMatrixShape(shape);
    push(`${name}.sn_u`, [n], 'snU');
    push(`${name}.sn_v`, [m], 'snV');
  };
  const D = dataDim(cfg);
  const g = cfg.generator;
  if (g.kind === 'mlp') {
    let prev = cfg.noiseDim;
    g.hidden.forEach((n, i) => {
      dense(`generator.dense${i + 1}`, prev, n, g.bias);
      if (g.batchNorm) bn(`generator.bn${i + 1}`, n);
      prev = n;
    });
    dense('generator.out', prev, D, g.bias);
  } else {
    const flat = g.base[0] * g.base[1] * g.base[2];
    dense('generator.dense1', cfg.noiseDim, flat, g.bias);
    if (g.batchNorm) bn('generator.bn1', flat);
    let prev = g.base[2];
    g.filters.forEach((f, i) => {
      conv(`generator.deconv${i + 1}`, g.kernelSize, prev, f, true, g.bias);
      if (g.batchNorm) bn(`generator.bn${i + 2}`, f);
      prev = f;
    });
    conv('generator.out', g.kernelSize, prev, cfg.dataShape[2], true, g.bias);
  }
  const d = cfg.discriminator;
  const sn = d.spectralNorm;
  if (d.kind === 'mlp') {
    let prev = D;
    d.hidden.forEach((n, i) => {
      dense(`discriminator.dense${i + 1}`, prev, n, true, sn);
      prev = n;
    });
    dense('discriminator.out', prev, 1, true, sn);
  } else {
    let [h, w, prev] = cfg.dataShape;
    d.filters.forEach((f, i) => {
      conv(`discriminator.conv${i + 1}`, d.kernelSize, prev, f, false, true, sn);
      h = sameOut(h, d.stride);
      w = sameOut(w, d.stride);
      prev = f;
    });
    dense('discriminator.out', h * w * prev, 1, true, sn);
  }
  return specs;
}

/**
 * Number of parameters whose name starts with `prefix` ('' for all, 'generator.' for
 * G), counted as Keras's summary does: trainable weights plus BatchNorm moving
 * statistics (`trainableOnly`: without them, as PyTorch's `parameters()` does).
 * Spectral-norm vectors are buffers and never counted.
 */
export function countGanParameters(cfg: GanModelConfig, prefix = '', opts: { trainableOnly?: boolean } = {}): number {
  let n = 0;
  for (const s of ganParamSpecs(cfg)) {
    if (!s.name.startsWith(prefix) || s.role === 'snU' || s.role === 'snV') continue;
    if (opts.trainableOnly && !s.trainable) continue;
    n += s.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/**
 * Initial values of every named tensor, drawn from `rng` in {@link ganParamSpecs}
 * order (see {@link GanModelConfig.init}); spectral-norm vectors come from
 * `rng.split(0x5e)` so turning spectral normalisation on leaves the weights as they were.
 */
export function initialGanWeights(cfg: GanModelConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const snRng = rng.split(SN_STREAM);
  const init = cfg.init;
  for (const s of ganParamSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const buf = new Float32Array(n);
    switch (s.role) {
      case 'kernel':
        if (init.kind === 'normal') for (let i = 0; i < n; i++) buf[i] = init.std * rng.normal();
        else {
          const b = init.kind === 'keras' ? Math.sqrt(6 / (s.fanIn + s.fanOut)) : 1 / Math.sqrt(s.fanIn);
          for (let i = 0; i < n; i++) buf[i] = (2 * rng.uniform() - 1) * b;
        }
        break;
      case 'bias':
        if (init.kind === 'torch') {
          const b = 1 / Math.sqrt(s.fanIn);
          for (let i = 0; i < n; i++) buf[i] = (2 * rng.uniform() - 1) * b;
        }
        break;
      case 'gamma':
      case 'movingVar':
        buf.fill(1);
        break;
      case 'snU':
      case 'snV':
        buf.set(randomUnitVector(snRng, n));
        break;
      default:
        break;
    }
    out.set(s.name, buf);
  }
  return out;
}

/** Options of {@link Gan.generate}. */
export interface GenerateOptions {
  /** BatchNorm with batch statistics (true) or moving averages (false, the default). */
  readonly training?: boolean;
  /** In training mode, also update the moving averages (default true). */
  readonly updateStats?: boolean;
}

/** Options of {@link Gan.discriminate}. */
export interface DiscriminateOptions {
  /** Apply dropout (needs `rng` when the rate is positive). */
  readonly training?: boolean;
  /** Source of the dropout masks; the same generator state gives the same masks. */
  readonly rng?: Rng;
}

/** Distinguishes tfjs variable names of GANs built in one process. */
let ganCounter = 0;

/**
 * Inverted dropout mask (Srivastava et al. 2014): 1/(1−rate) with probability
 * 1 − rate, else 0, drawn from `rng` with {@link Rng.uniformF32} in row-major order.
 */
export function dropoutMask(rng: Rng, shape: readonly number[], rate: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const m = new Float32Array(n);
  const keep = 1 / (1 - rate);
  // The same draws as n calls of uniformF32, filled in one pass (≈ 8× faster).
  rng.fillUniform(m);
  for (let i = 0; i < n; i++) m[i] = m[i]! >= rate ? keep : 0;
  return tf.tensor(m, [...shape]);
}

/**
 * LeakyReLU written as (1 − α)·relu(x) + α·x: the same function, but built from ops
 * whose gradients are themselves differentiable. tfjs's LeakyRelu gradient (and
 * Maximum's) goes through Greater/Less, which have no gradient, so the WGAN-GP
 * penalty's double backprop fails on them (every backend: gradients are shared).
 */
export function leakyReluTwice(x: tf.Tensor, alpha: number): tf.Tensor {
  if (alpha === 0) return tf.relu(x);
  return tf.add(tf.mul(tf.relu(x), 1 - alpha), tf.mul(x, alpha));
}

function outputAct(x: tf.Tensor, a: GanOutput): tf.Tensor {
  if (a === 'tanh') return tf.tanh(x);
  if (a === 'sigmoid') return tf.sigmoid(x);
  return x;
}

/**
 * A GAN's two networks. Learned state is {@link Gan.params} (all named tensors);
 * {@link Gan.generatorParams} and {@link Gan.discriminatorParams} are the trainable
 * subsets an optimiser updates; everything else is the immutable config.
 */
export class Gan {
  /** Every named tensor (trainable or not), in {@link ganParamSpecs} order. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** G's trainable variables by flat name. */
  readonly generatorParams: ReadonlyMap<string, tf.Variable>;
  /** D's trainable variables by flat name. */
  readonly discriminatorParams: ReadonlyMap<string, tf.Variable>;
  private readonly sn = new Map<string, SpectralNorm>();

  private constructor(
    readonly config: GanModelConfig,
    params: Map<string, tf.Variable>,
    weights: ReadonlyMap<string, Float32Array>,
    prefix: string,
  ) {
    this.params = params;
    const g = new Map<string, tf.Variable>();
    const d = new Map<string, tf.Variable>();
    for (const s of ganParamSpecs(config)) {
      if (s.role === 'snU') {
        const layer = s.name.slice(0, -'.sn_u'.length);
        const kernel = params.get(`${layer}.kernel`)!;
        this.sn.set(layer, new SpectralNorm(kernel.shape, weights.get(s.name)!, weights.get(`${layer}.sn_v`)!, layer, prefix));
      }
      if (!s.trainable) continue;
      (s.name.startsWith('generator.') ? g : d).set(s.name, params.get(s.name)!);
    }
    this.generatorParams = g;
    this.discriminatorParams = d;
  }

  /** A freshly initialised GAN (see {@link initialGanWeights}); spectral-norm vectors get 15 power iterations. */
  static create(config: GanModelConfig, rng: Rng): Gan {
    const gan = Gan.fromWeights(config, initialGanWeights(config, rng));
    gan.spectralStep(SN_INIT_ITERATIONS);
    return gan;
  }

  /**
   * A GAN with the given named tensors (copied), e.g. from a checkpoint.
   * @throws ShapeError if a tensor is missing or has the wrong size
   */
  static fromWeights(config: GanModelConfig, weights: ReadonlyMap<string, Float32Array>): Gan {
    const params = new Map<string, tf.Variable>();
    ganCounter++;
    const prefix = `gan${ganCounter}`;
    const specs = ganParamSpecs(config);
    checkWeights('GAN', specs, weights);
    for (const s of specs) {
      // Spectral-norm vectors are held by their SpectralNorm, not as variables here.
      if (s.role === 'snU' || s.role === 'snV') continue;
      params.set(s.name, tf.variable(tf.tensor(Float32Array.from(weights.get(s.name)!), [...s.shape]), s.trainable, `${prefix}/${s.name}`));
    }
    return new Gan(config, params, weights, prefix);
  }

  /** Values per example. */
  get dataDim(): number {
    return dataDim(this.config);
  }

  /** Copies of every named tensor (spectral-norm vectors included), by flat name. */
  getWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
    for (const [layer, s] of this.sn) {
      out.set(`${layer}.sn_u`, Float32Array.from(s.u.dataSync() as Float32Array));
      out.set(`${layer}.sn_v`, Float32Array.from(s.v.dataSync() as Float32Array));
    }
    return out;
  }

  /** Overwrite every named tensor (sizes must match). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    const all: [string, tf.Variable][] = [...this.params];
    for (const [layer, s] of this.sn) all.push([`${layer}.sn_u`, s.u], [`${layer}.sn_v`, s.v]);
    for (const [name, v] of all) {
      const w = weights.get(name);
      if (!w || w.length !== v.size) throw new ShapeError(`GAN weights: '${name}' missing or wrong size`);
    }
    for (const [name, v] of all) tf.tidy(() => v.assign(tf.tensor(weights.get(name)!, v.shape)));
  }

  /** Free the variables. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const s of this.sn.values()) s.dispose();
  }

  /**
   * z for `n` samples from the configured noise distribution, drawn from `rng`:
   * N(0, 1) by the polar method, or U(−1, 1) on the float32 grid.
   */
  sampleNoise(rng: Rng, n: number): tf.Tensor2D {
    const k = this.config.noiseDim;
    const z = new Float32Array(n * k);
    if (this.config.noise === 'normal') rng.fillNormal(z);
    else for (let i = 0; i < z.length; i++) z[i] = 2 * rng.uniformF32() - 1;
    return tf.tensor2d(z, [n, k]);
  }

  /** One power-iteration step (or `iterations`) on every spectrally normalised kernel; call once per D step. */
  spectralStep(iterations = 1): void {
    for (const [layer, s] of this.sn) s.step(this.p(`${layer}.kernel`), iterations);
  }

  /** The current σ estimate of each spectrally normalised kernel. */
  spectralSigmas(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [layer, s] of this.sn) {
      const t = s.sigma(this.p(`${layer}.kernel`));
      out.set(layer, t.dataSync()[0]!);
      t.dispose();
    }
    return out;
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new ShapeError(`GAN: no parameter '${name}'`);
    return v;
  }

  /** A kernel as the forward pass uses it: W, or W/σ(W) under spectral normalisation. */
  private kernel(layer: string): tf.Tensor {
    const k = this.p(`${layer}.kernel`);
    const s = this.sn.get(layer);
    return s ? s.normalize(k) : k;
  }

  private addBias(x: tf.Tensor, layer: string): tf.Tensor {
    const b = this.params.get(`${layer}.bias`);
    return b ? tf.add(x, b) : x;
  }

  private dense(x: tf.Tensor, layer: string): tf.Tensor {
    return this.addBias(tf.matMul(x as tf.Tensor2D, this.kernel(layer) as tf.Tensor2D), layer);
  }

  /** BatchNorm over all axes but the last (Ioffe & Szegedy 2015, Algorithm 1). */
  private batchNorm(x: tf.Tensor, layer: string, training: boolean, update: boolean): tf.Tensor {
    const bn = this.config.batchNorm;
    const gamma = this.p(`${layer}.gamma`);
    const beta = this.p(`${layer}.beta`);
    const mm = this.p(`${layer}.movingMean`);
    const mv = this.p(`${layer}.movingVar`);
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    if (!training) return tf.add(tf.mul(tf.mul(tf.sub(x, mm), tf.rsqrt(tf.add(mv, bn.epsilon))), gamma), beta);
    // The fused kernel where the backend has it (native): one pass for the statistics and
    // one for y, and one backward kernel, instead of moments and a chain of broadcasts.
    const fused = x.dtype === 'float32' && fusedAvailable(GROUP_NORM) ? batchNormFused(x, gamma, beta, bn.epsilon) : null;
    const { mean, variance } = fused ?? tf.moments(x, axes);
    if (update) {
      const count = x.size / x.shape[x.shape.length - 1]!;
      // PyTorch feeds the unbiased variance to the running average; Keras 3 the biased one.
      const corr = bn.unbiasedMovingVar && count > 1 ? count / (count - 1) : 1;
      tf.tidy(() => {
        mm.assign(tf.add(tf.mul(mm, bn.decay), tf.mul(mean, 1 - bn.decay)));
        mv.assign(tf.add(tf.mul(mv, bn.decay), tf.mul(variance, corr * (1 - bn.decay))));
      });
    }
    if (fused) return fused.y;
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, bn.epsilon))), gamma), beta);
  }

  /**
   * G(z) for noise `[B, noiseDim]`, flattened to `[B, rows·cols·channels]`. In
   * training mode BatchNorm uses batch statistics (B ≥ 2 needed) and, unless
   * `updateStats` is false, updates the moving averages. Call inside tf.tidy.
   */
  generate(z: tf.Tensor2D, opts: GenerateOptions = {}): tf.Tensor2D {
    const cfg = this.config;
    const training = opts.training ?? false;
    const update = training && (opts.updateStats ?? true);
    if (z.shape.length !== 2 || z.shape[1] !== cfg.noiseDim) throw new ShapeError(`GAN.generate: noise has shape ${JSON.stringify(z.shape)}, the generator expects [batch, ${cfg.noiseDim}]`);
    const B = z.shape[0];
    if (training && B < 2 && this.hasBatchNorm()) throw new ShapeError(`GAN.generate: BatchNorm in training mode needs a batch of at least 2, got ${B}`);
    const g = cfg.generator;
    const act = (x: tf.Tensor) => (g.slope > 0 ? tf.leakyRelu(x, g.slope) : tf.relu(x));
    let h: tf.Tensor;
    if (g.kind === 'mlp') {
      h = z;
      for (let i = 0; i < g.hidden.length; i++) {
        h = this.dense(h, `generator.dense${i + 1}`);
        if (g.batchNorm) h = this.batchNorm(h, `generator.bn${i + 1}`, training, update);
        h = act(h);
      }
      h = this.dense(h, 'generator.out');
    } else {
      h = this.dense(z, 'generator.dense1');
      if (g.batchNorm) h = this.batchNorm(h, 'generator.bn1', training, update);
      h = act(h).reshape([B, ...g.base]);
      let [rows, cols] = g.base;
      const convT = (x: tf.Tensor, layer: string, stride: number, out: number) => {
        rows *= stride;
        cols *= stride;
        const y = tf.conv2dTranspose(x as tf.Tensor4D, this.kernel(layer) as tf.Tensor4D, [B, rows, cols, out], stride, 'same');
        return this.addBias(y, layer);
      };
      for (let i = 0; i < g.filters.length; i++) {
        h = convT(h, `generator.deconv${i + 1}`, g.strides[i]!, g.filters[i]!);
        if (g.batchNorm) h = this.batchNorm(h, `generator.bn${i + 2}`, training, update);
        h = act(h);
      }
      h = convT(h, 'generator.out', g.strides[g.filters.length]!, cfg.dataShape[2]).reshape([B, -1]);
    }
    return outputAct(h, g.output) as tf.Tensor2D;
  }

  private hasBatchNorm(): boolean {
    return this.config.generator.batchNorm;
  }

  /**
   * D's logits `[B]` for data `[B, rows·cols·channels]`. In training mode dropout
   * masks are drawn from `opts.rng`. Every op here has a differentiable gradient,
   * so the result can be differentiated twice (WGAN-GP). Call inside tf.tidy.
   */
  discriminate(x: tf.Tensor2D, opts: DiscriminateOptions = {}): tf.Tensor1D {
    const cfg = this.config;
    const D = this.dataDim;
    if (x.shape.length !== 2 || x.shape[1] !== D) throw new ShapeError(`GAN.discriminate: data have shape ${JSON.stringify(x.shape)}, the discriminator expects [batch, ${D}] (${cfg.dataShape.join('×')})`);
    const d = cfg.discriminator;
    const training = opts.training ?? false;
    const rate = training ? d.dropout : 0;
    if (rate > 0 && !opts.rng) throw new GenphysError('GAN.discriminate: training mode with dropout needs an rng for the masks');
    const drop = (h: tf.Tensor) => (rate > 0 ? tf.mul(h, dropoutMask(opts.rng!, h.shape, rate)) : h);
    const B = x.shape[0];
    let h: tf.Tensor;
    if (d.kind === 'mlp') {
      h = x;
      for (let i = 0; i < d.hidden.length; i++) h = drop(leakyReluTwice(this.dense(h, `discriminator.dense${i + 1}`), d.slope));
    } else {
      h = x.reshape([B, ...cfg.dataShape]);
      for (let i = 0; i < d.filters.length; i++) {
        const layer = `discriminator.conv${i + 1}`;
        const y = tf.conv2d(h as tf.Tensor4D, this.kernel(layer) as tf.Tensor4D, d.stride, 'same');
        h = drop(leakyReluTwice(this.addBias(y, layer), d.slope));
      }
      h = h.reshape([B, -1]);
    }
    return this.dense(h, 'discriminator.out').reshape([B]) as tf.Tensor1D;
  }
}

/** A freshly initialised GAN: {@link Gan.create}. */
export function buildGan(config: GanModelConfig, rng: Rng): Gan {
  return Gan.create(config, rng);
}

/** The trainable variables of G and D as separate lists, for two optimisers. */
export function ganParams(gan: Gan): { generator: tf.Variable[]; discriminator: tf.Variable[] } {
  return { generator: [...gan.generatorParams.values()], discriminator: [...gan.discriminatorParams.values()] };
}
