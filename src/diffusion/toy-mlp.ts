/**
 * The denoiser network for low-dimensional toy data (2D point clouds): a residual
 * MLP in the style of tanelp/tiny-diffusion, conditioned on the time step through
 * a sinusoidal embedding (Vaswani et al. 2017 §3.5, as used by Ho et al. 2020
 * App. B) concatenated to the input.
 *
 *   h = act(in([x, emb(t)])),  h ← h + act(block_i(h)) for each block,  out(h).
 *
 * Built from plain tfjs variables with flat names (`toy.in.kernel`,
 * `toy.block1.bias`, `toy.out.kernel`, …); dense kernels are `[in, out]`, and
 * weights and biases start U(±1/√fan_in) as PyTorch's `nn.Linear` does, drawn
 * from our {@link Rng}.
 */
import * as tf from '@tensorflow/tfjs';
import { assignWeights, createVariables, disposeVariables, readWeights } from '../engine/params.js';
import { ShapeError, UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { AsyncDenoiser, BatchShape, Denoiser, Prediction } from './process.js';
import { PREDICTIONS } from './process.js';

/** Nonlinearities of the toy MLP (SiLU = x·σ(x), Ho et al.'s "swish"). */
export type ToyActivation = 'silu' | 'relu' | 'tanh';

/** Hyperparameters of the toy denoiser (everything needed to rebuild it). */
export interface ToyMlpConfig {
  /** Data dimension D (2 for point clouds). */
  readonly dim: number;
  /** Hidden width (tiny-diffusion: 128). */
  readonly width: number;
  /** Number of residual blocks (tiny-diffusion: 3). */
  readonly blocks: number;
  /** Size of the sinusoidal time embedding, even and ≥ 4 (tiny-diffusion: 128). */
  readonly timeEmbedDim: number;
  /** Nonlinearity after the input layer and in every block. */
  readonly activation: ToyActivation;
  /** What the network is trained to output. */
  readonly prediction: Prediction;
}

/** tiny-diffusion's sizes, with SiLU and ε-prediction. */
export const DEFAULT_TOY_MLP: ToyMlpConfig = { dim: 2, width: 128, blocks: 3, timeEmbedDim: 128, activation: 'silu', prediction: 'eps' };

/** Shape and initial range of one parameter. */
export interface ToyParamSpec {
  /** Flat name, e.g. `toy.block2.kernel`. */
  readonly name: string;
  readonly shape: readonly [number, number] | readonly [number];
  /** Initial values are U(−bound, bound). */
  readonly bound: number;
}

/** Check a configuration; throws UsageError naming the field. */
export function validateToyMlpConfig(cfg: ToyMlpConfig): void {
  for (const k of ['dim', 'width'] as const) if (!(Number.isInteger(cfg[k]) && cfg[k] >= 1)) throw new UsageError(`toy MLP: ${k} must be an integer ≥ 1, got ${cfg[k]}`);
  if (!(Number.isInteger(cfg.blocks) && cfg.blocks >= 0)) throw new UsageError(`toy MLP: blocks must be an integer ≥ 0, got ${cfg.blocks}`);
  if (!(Number.isInteger(cfg.timeEmbedDim) && cfg.timeEmbedDim >= 4 && cfg.timeEmbedDim % 2 === 0)) throw new UsageError(`toy MLP: timeEmbedDim must be an even integer ≥ 4, got ${cfg.timeEmbedDim}`);
  if (!['silu', 'relu', 'tanh'].includes(cfg.activation)) throw new UsageError(`toy MLP: activation must be silu, relu or tanh, got '${cfg.activation}'`);
  if (!PREDICTIONS.includes(cfg.prediction)) throw new UsageError(`toy MLP: prediction must be one of ${PREDICTIONS.join(', ')}, got '${cfg.prediction}'`);
}

/** The parameters of a toy MLP, in a fixed order. */
export function toyMlpSpecs(cfg: ToyMlpConfig): ToyParamSpec[] {
  validateToyMlpConfig(cfg);
  const specs: ToyParamSpec[] = [];
  const dense = (name: string, nin: number, nout: number) => {
    const bound = 1 / Math.sqrt(nin);
    specs.push({ name: `${name}.kernel`, shape: [nin, nout], bound });
    specs.push({ name: `${name}.bias`, shape: [nout], bound });
  };
  dense('toy.in', cfg.dim + cfg.timeEmbedDim, cfg.width);
  for (let i = 1; i <= cfg.blocks; i++) dense(`toy.block${i}`, cfg.width, cfg.width);
  dense('toy.out', cfg.width, cfg.dim);
  return specs;
}

/** Initial weights drawn from `rng` in {@link toyMlpSpecs} order. */
export function initialToyMlpWeights(cfg: ToyMlpConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of toyMlpSpecs(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = (2 * rng.uniform() - 1) * s.bound;
    out.set(s.name, w);
  }
  return out;
}

/** Frequencies 10000^(−i/(half − 1)), i = 0 … half − 1, of the DDPM embedding. */
function embeddingFrequencies(dim: number): Float64Array {
  const half = dim / 2;
  const f = new Float64Array(half);
  for (let i = 0; i < half; i++) f[i] = Math.exp((-Math.log(10000) * i) / (half - 1));
  return f;
}

/**
 * Sinusoidal embedding of a time step, [sin(t·f_0), …, sin(t·f_{h−1}), cos(t·f_0), …],
 * f_i = 10000^(−i/(h − 1)), h = dim/2 (Vaswani et al. 2017 §3.5, in the concatenated
 * layout of Ho et al.'s `get_timestep_embedding`). Float64 reference.
 */
export function timestepEmbedding64(t: number, dim: number): Float64Array {
  if (!(Number.isInteger(dim) && dim >= 4 && dim % 2 === 0)) throw new UsageError(`time embedding: dim must be an even integer ≥ 4, got ${dim}`);
  const f = embeddingFrequencies(dim);
  const half = dim / 2;
  const out = new Float64Array(dim);
  for (let i = 0; i < half; i++) {
    out[i] = Math.sin(t * f[i]!);
    out[half + i] = Math.cos(t * f[i]!);
  }
  return out;
}

/** {@link timestepEmbedding64} for a batch of time steps `[B]` → `[B, dim]`. Call inside tf.tidy. */
export function timestepEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
  if (!(Number.isInteger(dim) && dim >= 4 && dim % 2 === 0)) throw new UsageError(`time embedding: dim must be an even integer ≥ 4, got ${dim}`);
  const f = tf.tensor2d(Float32Array.from(embeddingFrequencies(dim)), [1, dim / 2]);
  const arg = tf.mul(t.toFloat().expandDims(1), f);
  return tf.concat([tf.sin(arg), tf.cos(arg)], 1) as tf.Tensor2D;
}

function activate(x: tf.Tensor, a: ToyActivation): tf.Tensor {
  switch (a) {
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

/**
 * The network's output for x `[B, D]` at time steps t `[B]` (int32 or float),
 * in the parameterisation {@link ToyMlpConfig.prediction}. `params` maps the flat
 * names of {@link toyMlpSpecs} to tensors or variables. Call inside tf.tidy.
 */
export function toyMlpForward(cfg: ToyMlpConfig, params: ReadonlyMap<string, tf.Tensor>, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  if (x.shape[1] !== cfg.dim) throw new ShapeError(`toy MLP: inputs have ${x.shape[1]} values per example, the model expects ${cfg.dim}`);
  if (t.shape[0] !== x.shape[0]) throw new ShapeError(`toy MLP: ${t.shape[0]} time steps for a batch of ${x.shape[0]}`);
  const p = (name: string): tf.Tensor => {
    const v = params.get(name);
    if (!v) throw new ShapeError(`toy MLP: no parameter '${name}'`);
    return v;
  };
  const dense = (h: tf.Tensor, name: string) => tf.add(tf.matMul(h as tf.Tensor2D, p(`${name}.kernel`) as tf.Tensor2D), p(`${name}.bias`));
  let h = activate(dense(tf.concat([x, timestepEmbedding(t, cfg.timeEmbedDim)], 1), 'toy.in'), cfg.activation);
  for (let i = 1; i <= cfg.blocks; i++) h = tf.add(h, activate(dense(h, `toy.block${i}`), cfg.activation));
  return dense(h, 'toy.out') as tf.Tensor2D;
}

/**
 * Wrap a toy MLP as a {@link Denoiser} for the samplers: each call runs the
 * forward pass in a tf.tidy and reads the result back.
 */
export function toyMlpDenoiser(cfg: ToyMlpConfig, params: ReadonlyMap<string, tf.Tensor>): Denoiser {
  validateToyMlpConfig(cfg);
  return {
    prediction: cfg.prediction,
    predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Float32Array {
      const y = denoiserOutput(cfg, params, xt, shape, t);
      try {
        return Float32Array.from(y.dataSync() as Float32Array);
      } finally {
        y.dispose();
      }
    },
  };
}

/**
 * {@link toyMlpDenoiser} as an {@link AsyncDenoiser}: the same forward pass, read with
 * `await data()` (no synchronous read: what the browser lab samples with).
 */
export function toyMlpAsyncDenoiser(cfg: ToyMlpConfig, params: ReadonlyMap<string, tf.Tensor>): AsyncDenoiser {
  validateToyMlpConfig(cfg);
  return {
    prediction: cfg.prediction,
    async predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Promise<Float32Array> {
      const y = denoiserOutput(cfg, params, xt, shape, t);
      try {
        return Float32Array.from((await y.data()) as Float32Array);
      } finally {
        y.dispose();
      }
    },
  };
}

/** The forward pass of a denoiser call on host arrays, as a tensor the caller reads and disposes. */
function denoiserOutput(cfg: ToyMlpConfig, params: ReadonlyMap<string, tf.Tensor>, xt: Float32Array, shape: BatchShape, t: Int32Array): tf.Tensor2D {
  const [B, D] = shape;
  if (xt.length !== B * D || t.length !== B) throw new ShapeError(`toy MLP denoiser: ${xt.length} values and ${t.length} time steps do not fit shape [${B}, ${D}]`);
  return tf.tidy(() => toyMlpForward(cfg, params, tf.tensor2d(xt, [B, D]), tf.tensor1d(t, 'int32')));
}

/** A toy denoiser: immutable config plus learned tfjs variables by flat name. */
export class ToyMlp {
  /** Learned parameters by flat name, in {@link toyMlpSpecs} order. */
  readonly params: ReadonlyMap<string, tf.Variable>;

  private constructor(
    readonly config: ToyMlpConfig,
    params: Map<string, tf.Variable>,
  ) {
    this.params = params;
  }

  /** A freshly initialised network. */
  static create(config: ToyMlpConfig, rng: Rng): ToyMlp {
    return ToyMlp.fromWeights(config, initialToyMlpWeights(config, rng));
  }

  /**
   * A network with the given weights (copied).
   * @throws ShapeError if a tensor is missing or has the wrong size
   */
  static fromWeights(config: ToyMlpConfig, weights: ReadonlyMap<string, Float32Array>): ToyMlp {
    return new ToyMlp(config, createVariables('toy MLP', 'toy', toyMlpSpecs(config), weights));
  }

  /** Output for x `[B, D]` at time steps t `[B]`. Call inside tf.tidy. */
  apply(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    return toyMlpForward(this.config, this.params, x, t);
  }

  /** This network as a {@link Denoiser} (uses the live variables). */
  denoiser(): Denoiser {
    return toyMlpDenoiser(this.config, this.params);
  }

  /** This network as an {@link AsyncDenoiser} (uses the live variables; reads with `await data()`). */
  asyncDenoiser(): AsyncDenoiser {
    return toyMlpAsyncDenoiser(this.config, this.params);
  }

  /** Copies of the current weights, by flat name. */
  getWeights(): Map<string, Float32Array> {
    return readWeights(this.params);
  }

  /** Overwrite the weights (sizes must match). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    assignWeights('toy MLP', this.params, weights);
  }

  /** Free the variables. */
  dispose(): void {
    disposeVariables(this.params);
  }
}
