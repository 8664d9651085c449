/**
 * GAN configurations: the model (generator, discriminator, initialisation, batch
 * normalisation) and the training recipe (loss, optimiser, critic steps), as named
 * presets that reproduce public reference GANs, overridable field by field.
 *
 * Conventions: data are images `[rows, cols, channels]` passed flattened
 * `[batch, rows·cols·channels]` (2D toy points are `[1, 1, 2]`); layouts are
 * Keras's (dense kernels `[in, out]`, conv kernels `[kh, kw, in, out]`,
 * transposed-conv kernels `[kh, kw, out, in]`, NHWC).
 */
import { ShapeError, UsageError } from '../core/errors.js';

/** Names of the GAN objectives (see losses.ts). */
export type GanLossName = 'ns' | 'minimax' | 'lsgan' | 'wgan-gp';

/** The objectives, for option parsers and messages. */
export const GAN_LOSS_NAMES: readonly GanLossName[] = ['ns', 'minimax', 'lsgan', 'wgan-gp'];

/** Output nonlinearity of the generator. */
export type GanOutput = 'tanh' | 'sigmoid' | 'linear';

/**
 * Initialisation scheme.
 * - 'normal': kernels N(0, std²), biases 0 (Radford et al. 2016, DCGAN; the course's week 15).
 * - 'keras': Glorot-uniform kernels U(±√(6/(fan_in+fan_out))), zero biases (Keras's default).
 * - 'torch': U(±1/√fan_in) for kernels and biases (PyTorch's nn.Linear/Conv default).
 * BatchNorm always starts at γ = 1, β = 0, moving mean 0, moving variance 1.
 */
export type GanInit = { readonly kind: 'normal'; readonly std: number } | { readonly kind: 'keras' } | { readonly kind: 'torch' };

/**
 * Batch normalisation (Ioffe & Szegedy 2015). Training mode normalises with the
 * batch mean and biased batch variance; inference uses moving averages updated as
 * moving ← decay·moving + (1 − decay)·batch.
 */
export interface BatchNormConfig {
  /** Fraction of the moving average kept per update: Keras `momentum` 0.99; PyTorch `momentum` 0.1 is decay 0.9. */
  readonly decay: number;
  /** ε added to the variance: Keras 1e-3, PyTorch 1e-5. */
  readonly epsilon: number;
  /** Whether the moving variance takes the unbiased batch variance (PyTorch) or the biased one (Keras 3). */
  readonly unbiasedMovingVar: boolean;
}

/** A fully connected generator z → hidden… → data. */
export interface MlpGeneratorConfig {
  readonly kind: 'mlp';
  /** Hidden widths, noise side first. */
  readonly hidden: readonly number[];
  /** BatchNorm between each hidden dense layer and its activation. */
  readonly batchNorm: boolean;
  /** Slope of LeakyReLU on the negative side (0: ReLU). */
  readonly slope: number;
  /** Whether the dense layers carry biases. */
  readonly bias: boolean;
  /** Output nonlinearity (tanh for data scaled to [−1, 1]). */
  readonly output: GanOutput;
}

/**
 * The DCGAN generator of the TensorFlow tutorial: dense z → base (then BN, LeakyReLU,
 * reshape), a stack of transposed convolutions with BN + LeakyReLU, and a last
 * transposed convolution to the data's channels with the output nonlinearity.
 */
export interface DcganGeneratorConfig {
  readonly kind: 'dcgan';
  /** Shape `[rows, cols, channels]` the dense layer's output is reshaped to (tutorial: [7, 7, 256]). */
  readonly base: readonly [number, number, number];
  /** Filters of the hidden transposed convolutions (tutorial: [128, 64]). */
  readonly filters: readonly number[];
  /** Strides of every transposed convolution, the output one last (tutorial: [1, 2, 2]). */
  readonly strides: readonly number[];
  /** Square kernel size (tutorial: 5). */
  readonly kernelSize: number;
  /** LeakyReLU slope (Keras's LeakyReLU default 0.3). */
  readonly slope: number;
  /** BatchNorm after the dense layer and each hidden transposed convolution. */
  readonly batchNorm: boolean;
  /** Whether the layers carry biases (tutorial: no). */
  readonly bias: boolean;
  readonly output: GanOutput;
}

/** A fully connected discriminator data → hidden… → one logit. */
export interface MlpDiscriminatorConfig {
  readonly kind: 'mlp';
  /** Hidden widths, data side first. */
  readonly hidden: readonly number[];
  /** LeakyReLU slope. */
  readonly slope: number;
  /** Dropout rate after each hidden activation (training mode only; 0: none). */
  readonly dropout: number;
  /** Spectral normalisation of every kernel (Miyato et al. 2018). */
  readonly spectralNorm: boolean;
}

/** A convolutional discriminator: stride-s convolutions + LeakyReLU + dropout, flatten, dense → one logit. */
export interface DcganDiscriminatorConfig {
  readonly kind: 'dcgan';
  /** Filters of the convolutions (tutorial: [64, 128]). */
  readonly filters: readonly number[];
  /** Square kernel size (tutorial: 5). */
  readonly kernelSize: number;
  /** Stride of every convolution, 'same' padding (tutorial: 2). */
  readonly stride: number;
  readonly slope: number;
  readonly dropout: number;
  readonly spectralNorm: boolean;
}

/** Everything needed to rebuild a GAN's networks. */
export interface GanModelConfig {
  /** Shape of one example `[rows, cols, channels]`; the networks see it flattened. */
  readonly dataShape: readonly [number, number, number];
  /** Dimension of the noise z. */
  readonly noiseDim: number;
  /** Distribution of z: N(0, 1) or U(−1, 1) per component. */
  readonly noise: 'normal' | 'uniform';
  readonly generator: MlpGeneratorConfig | DcganGeneratorConfig;
  readonly discriminator: MlpDiscriminatorConfig | DcganDiscriminatorConfig;
  readonly init: GanInit;
  /** Used only where the generator has batchNorm. */
  readonly batchNorm: BatchNormConfig;
}

/** The training recipe (read by the trainer; validated here). */
export interface GanTrainConfig {
  readonly loss: GanLossName;
  /** Target for real examples in the discriminator's cross-entropy (1: none; 0.9: one-sided label smoothing, Salimans et al. 2016). */
  readonly realLabel: number;
  /** λ of the WGAN-GP gradient penalty (Gulrajani et al. 2017: 10). */
  readonly gpWeight: number;
  /** Discriminator (critic) steps per generator step (WGAN-GP: 5). */
  readonly nCritic: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam learning rates of G and D. */
  readonly lrG: number;
  readonly lrD: number;
  /** Adam β₁, β₂, ε (shared by both optimisers). */
  readonly adamBeta1: number;
  readonly adamBeta2: number;
  readonly adamEps: number;
}

/** A model plus its training recipe. */
export interface GanPreset {
  /** One-line description with the source it reproduces. */
  readonly description: string;
  readonly model: GanModelConfig;
  readonly train: GanTrainConfig;
}

/** PyTorch's BatchNorm1d/2d defaults (momentum 0.1, eps 1e-5, unbiased running variance). */
export const TORCH_BATCHNORM: BatchNormConfig = { decay: 0.9, epsilon: 1e-5, unbiasedMovingVar: true };
/** Keras's BatchNormalization defaults (momentum 0.99, epsilon 1e-3, biased variance). */
export const KERAS_BATCHNORM: BatchNormConfig = { decay: 0.99, epsilon: 1e-3, unbiasedMovingVar: false };

/**
 * `course-mlp`: the course's week-15 MLP GAN. G 100→256→512→1024→784, each hidden
 * layer Linear → BatchNorm → LeakyReLU(0.2), tanh output; D 784→1024→512→256→1 with
 * LeakyReLU(0.2) and Dropout 0.3; N(0, 0.02²) kernels, zero biases; non-saturating
 * loss with one-sided label smoothing 0.9; Adam 2e-4, β = (0.5, 0.999), batch 128;
 * 50 epochs (our choice: the course's epoch count is not recorded).
 * BatchNorm follows PyTorch (decay 0.9, ε 1e-5): an assumption, as the recipe (N(0, 0.02²), Adam β₁ 0.5) is
 * pytorch/examples dcgan's; switch with `model.batchNorm` (KERAS_BATCHNORM) if the course used Keras.
 * 1,489,936 trainable G parameters (+ 3,584 moving statistics), 1,460,225 D parameters.
 *
 * `keras-dcgan`: the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan).
 * G: Dense 100→7·7·256 (no bias) → BN → LeakyReLU(0.3) → reshape → ConvT 128 (5×5, s1)
 * → BN → LeakyReLU → ConvT 64 (5×5, s2) → BN → LeakyReLU → ConvT 1 (5×5, s2, tanh),
 * no biases; D: Conv 64 (5×5, s2) → LeakyReLU(0.3) → Dropout 0.3 → Conv 128 (5×5, s2)
 * → LeakyReLU → Dropout 0.3 → flatten → Dense 1. Keras initialisation and BatchNorm
 * (decay 0.99, ε 1e-3); BCE with logits, no smoothing; Adam 1e-4 (Keras β = (0.9,
 * 0.999), ε 1e-7) for both; batch 256, 50 epochs. 2,330,944 G parameters including
 * BN (2,305,472 trainable), 212,865 D parameters.
 *
 * `toy-mlp`: our choice for GAN Lab-style 2D toys (GAN Lab lets one pick 0–5 layers),
 * tuned by measurement on ring8 (8 Gaussians of σ 0.02 on a circle of radius 2, Metz et
 * al. 2017; modes covered by 2000 samples under VEEGAN's 3σ rule, test/gan-train.test.ts
 * gives the command). Every default and why:
 * - z ∈ R² ~ N(0, I): the lab draws G's image of a regular z grid, which needs 2-D noise.
 *   z ∈ R⁴ or R⁸ was no help: R⁸ collapsed onto 2–3 modes (high-quality fraction
 *   0.5–0.9, so sharp but partial), and with D dropout R⁴/R⁸ covered fewer modes than R²
 *   after 3840 steps (R⁸: 2, 4, 1, 6, 0 on seeds 1–5; R⁴: 2, 7 on seeds 1–2).
 * - G 2→64→64→64→2, D 2→64→64→64→1, LeakyReLU(0.2), no BatchNorm, linear output,
 *   PyTorch initialisation: widths 128 were 2.5× slower per step and no better (2, 3, 5, 5
 *   modes on seeds 1–4 after 2560 steps).
 * - D dropout 0.2 after each hidden activation: what turns partial collapse into
 *   coverage. Without it no recipe tried reached 7 modes on more than 1 seed in 5 (mostly
 *   0–6 modes after 2560–10240 steps: lr_G 1e-3 or 1e-4, β₁ 0, batch 64 or 1024, LSGAN, label
 *   smoothing 0.9, two D steps, spectral norm; WGAN-GP stayed at 0–2 within 20 s, too
 *   blurred for the 3σ = 0.06 rule); dropout 0.3 sharpened slower (4, 4, 5, 5, 8 modes at
 *   3840 steps), 0.1 hopped more (5, 8, 6, 6, 6 at 5120).
 * - Adam lr_G 3e-4, lr_D 1e-3 (D faster, Heusel et al. 2017's two time-scale rule):
 *   lr_G 1e-3 with dropout covered 1–6 modes, lr_G 2e-4 4–5, lr_D 2e-3 3–6.
 * - β = (0.5, 0.999) (Radford et al. 2016); batch 256; 150 epochs (toy:ring8's default
 *   8000 points: 31 steps an epoch, 4650 G steps, about the 4480 measured below).
 * - Loss non-saturating (Goodfellow et al. 2014).
 * Even so the live G keeps hopping between modes (seeds 1–4: 7, 7, 8, 4 modes after 40
 * epochs of 16384 points, 4, 5, 4, 5 after 80); sample from an EMA of G's weights with decay
 * 0.99 (`--ema 0.99`; Yazıcı et al., ICLR 2019), which holds its modes: after 70 epochs of
 * 16384 points (4480 steps) seeds 1–10 cover 8, 8, 8, 7, 8, 8, 8, 7, 3, 7 modes (9 of 10
 * ≥ 7; high-quality fraction 0.59–0.68 on seeds 1–7 and 10), after 50 epochs 8 of 10. EMA 0.999 lags (4–7
 * modes at 3840 steps).
 * The EMA is the trainer's option, not a preset field.
 * 8,642 G and 8,577 D parameters.
 */
export const GAN_PRESETS: Readonly<Record<string, GanPreset>> = {
  'course-mlp': {
    description: 'course week 15: MLP GAN 100-256-512-1024-784 / 784-1024-512-256-1, BN + LeakyReLU(0.2), dropout 0.3, Adam 2e-4 β₁ 0.5',
    model: {
      dataShape: [28, 28, 1],
      noiseDim: 100,
      noise: 'normal',
      generator: { kind: 'mlp', hidden: [256, 512, 1024], batchNorm: true, slope: 0.2, bias: true, output: 'tanh' },
      discriminator: { kind: 'mlp', hidden: [1024, 512, 256], slope: 0.2, dropout: 0.3, spectralNorm: false },
      init: { kind: 'normal', std: 0.02 },
      batchNorm: TORCH_BATCHNORM,
    },
    train: { loss: 'ns', realLabel: 0.9, gpWeight: 10, nCritic: 1, epochs: 50, batchSize: 128, lrG: 2e-4, lrD: 2e-4, adamBeta1: 0.5, adamBeta2: 0.999, adamEps: 1e-8 },
  },
  'keras-dcgan': {
    description: 'TensorFlow DCGAN tutorial: dense 7·7·256 + convT 128-64-1 / conv 64-128 + dense 1, LeakyReLU(0.3), Adam 1e-4',
    model: {
      dataShape: [28, 28, 1],
      noiseDim: 100,
      noise: 'normal',
      generator: { kind: 'dcgan', base: [7, 7, 256], filters: [128, 64], strides: [1, 2, 2], kernelSize: 5, slope: 0.3, batchNorm: true, bias: false, output: 'tanh' },
      discriminator: { kind: 'dcgan', filters: [64, 128], kernelSize: 5, stride: 2, slope: 0.3, dropout: 0.3, spectralNorm: false },
      init: { kind: 'keras' },
      batchNorm: KERAS_BATCHNORM,
    },
    train: { loss: 'ns', realLabel: 1, gpWeight: 10, nCritic: 1, epochs: 50, batchSize: 256, lrG: 1e-4, lrD: 1e-4, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-7 },
  },
  'toy-mlp': {
    description: 'GAN Lab-style 2D toy: MLPs 2-64-64-64-2 / 2-64-64-64-1, LeakyReLU(0.2), D dropout 0.2, Adam 3e-4 (G) / 1e-3 (D) β₁ 0.5',
    model: {
      dataShape: [1, 1, 2],
      noiseDim: 2,
      noise: 'normal',
      generator: { kind: 'mlp', hidden: [64, 64, 64], batchNorm: false, slope: 0.2, bias: true, output: 'linear' },
      discriminator: { kind: 'mlp', hidden: [64, 64, 64], slope: 0.2, dropout: 0.2, spectralNorm: false },
      init: { kind: 'torch' },
      batchNorm: TORCH_BATCHNORM,
    },
    train: { loss: 'ns', realLabel: 1, gpWeight: 10, nCritic: 1, epochs: 150, batchSize: 256, lrG: 3e-4, lrD: 1e-3, adamBeta1: 0.5, adamBeta2: 0.999, adamEps: 1e-8 },
  },
};

/** Names of the presets. */
export const GAN_PRESET_NAMES: readonly string[] = Object.keys(GAN_PRESETS);

/** Look up a preset by name. @throws UsageError naming the flag and the choices */
export function getGanPreset(name: string): GanPreset {
  const p = Object.prototype.hasOwnProperty.call(GAN_PRESETS, name) ? GAN_PRESETS[name] : undefined;
  if (!p) throw new UsageError(`--preset: unknown GAN preset '${name}'; choose one of ${GAN_PRESET_NAMES.join(', ')}`);
  return p;
}

/** Field-by-field overrides of a preset; nested objects are merged one field at a time. */
export interface GanOverrides {
  readonly model?: Partial<Omit<GanModelConfig, 'generator' | 'discriminator' | 'batchNorm'>> & {
    readonly generator?: Partial<MlpGeneratorConfig> | Partial<DcganGeneratorConfig>;
    readonly discriminator?: Partial<MlpDiscriminatorConfig> | Partial<DcganDiscriminatorConfig>;
    readonly batchNorm?: Partial<BatchNormConfig>;
  };
  readonly train?: Partial<GanTrainConfig>;
}

function mergeChecked<T extends object>(base: T, over: object | undefined, where: string): T {
  if (over === undefined) return base;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) throw new UsageError(`${where}: expected an object of overrides`);
  for (const k of Object.keys(over)) {
    if (!Object.prototype.hasOwnProperty.call(base, k)) throw new UsageError(`${where}.${k}: unknown setting; known: ${Object.keys(base).join(', ')}`);
  }
  return { ...base, ...over };
}

/**
 * A preset with `overrides` applied field by field, validated. Unknown fields are
 * rejected. Changing a network's `kind` is not an override (choose another preset).
 * Never mutates the preset or the overrides.
 * @throws UsageError for an unknown preset, an unknown field or an invalid value
 */
export function resolveGanPreset(name: string, overrides: GanOverrides = {}): GanPreset {
  const p = getGanPreset(name);
  const mo = overrides.model ?? {};
  const { generator: go, discriminator: dO, batchNorm: bo, ...rest } = mo;
  if ((go as { kind?: string } | undefined)?.kind !== undefined && (go as { kind?: string }).kind !== p.model.generator.kind) {
    throw new UsageError(`model.generator.kind: cannot change '${p.model.generator.kind}' to '${(go as { kind: string }).kind}' by override; choose another preset`);
  }
  if ((dO as { kind?: string } | undefined)?.kind !== undefined && (dO as { kind?: string }).kind !== p.model.discriminator.kind) {
    throw new UsageError(`model.discriminator.kind: cannot change '${p.model.discriminator.kind}' to '${(dO as { kind: string }).kind}' by override; choose another preset`);
  }
  const model: GanModelConfig = {
    ...mergeChecked(p.model, rest, 'model'),
    generator: mergeChecked(p.model.generator, go, 'model.generator'),
    discriminator: mergeChecked(p.model.discriminator, dO, 'model.discriminator'),
    batchNorm: mergeChecked(p.model.batchNorm, bo, 'model.batchNorm'),
  };
  const train = mergeChecked(p.train, overrides.train, 'train');
  validateGanModel(model);
  validateGanTrain(train);
  return { description: p.description, model, train };
}

const isPosInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isPosIntList = (v: unknown): boolean => Array.isArray(v) && v.every(isPosInt);

/** Spatial size after a 'same'-padded convolution of stride s (TensorFlow: ⌈n/s⌉). */
export function sameOut(n: number, s: number): number {
  return Math.ceil(n / s);
}

/**
 * Check a model configuration.
 * @throws UsageError naming the field and the problem, in one line
 */
export function validateGanModel(cfg: GanModelConfig): void {
  const [h, w, c] = cfg.dataShape;
  if (!(cfg.dataShape.length === 3 && [h, w, c].every(isPosInt))) throw new UsageError(`model.dataShape: need three positive integers [rows, cols, channels], got ${JSON.stringify(cfg.dataShape)}`);
  if (!isPosInt(cfg.noiseDim)) throw new UsageError(`model.noiseDim: need a positive integer, got ${cfg.noiseDim}`);
  if (cfg.noise !== 'normal' && cfg.noise !== 'uniform') throw new UsageError(`model.noise: unknown noise '${String(cfg.noise)}'; choose normal or uniform`);
  const init = cfg.init;
  if (!(init.kind === 'keras' || init.kind === 'torch' || (init.kind === 'normal' && init.std > 0))) throw new UsageError(`model.init: need {kind: 'normal', std > 0}, 'keras' or 'torch', got ${JSON.stringify(init)}`);
  const bn = cfg.batchNorm;
  if (!(bn.decay >= 0 && bn.decay < 1) || !(bn.epsilon > 0)) throw new UsageError(`model.batchNorm: need 0 ≤ decay < 1 and epsilon > 0, got decay ${bn.decay}, epsilon ${bn.epsilon}`);
  const outs: readonly string[] = ['tanh', 'sigmoid', 'linear'];
  const g = cfg.generator;
  if (!(g.slope >= 0 && g.slope < 1)) throw new UsageError(`model.generator.slope: need 0 ≤ slope < 1, got ${g.slope}`);
  if (!outs.includes(g.output)) throw new UsageError(`model.generator.output: unknown '${String(g.output)}'; choose one of ${outs.join(', ')}`);
  if (g.kind === 'mlp') {
    if (!isPosIntList(g.hidden)) throw new UsageError(`model.generator.hidden: need a list of positive integers, got ${JSON.stringify(g.hidden)}`);
  } else if (g.kind === 'dcgan') {
    if (!(g.base.length === 3 && isPosIntList(g.base))) throw new UsageError(`model.generator.base: need [rows, cols, channels] of positive integers, got ${JSON.stringify(g.base)}`);
    if (!isPosIntList(g.filters)) throw new UsageError(`model.generator.filters: need a list of positive integers, got ${JSON.stringify(g.filters)}`);
    if (!isPosIntList(g.strides) || g.strides.length !== g.filters.length + 1) throw new UsageError(`model.generator.strides: need ${g.filters.length + 1} positive integers (one per transposed convolution), got ${JSON.stringify(g.strides)}`);
    if (!isPosInt(g.kernelSize)) throw new UsageError(`model.generator.kernelSize: need a positive integer, got ${g.kernelSize}`);
    const f = g.strides.reduce((a, b) => a * b, 1);
    if (g.base[0] * f !== h || g.base[1] * f !== w) throw new UsageError(`model.generator: base ${g.base[0]}×${g.base[1]} times strides ${g.strides.join('·')} gives ${g.base[0] * f}×${g.base[1] * f}, but the data are ${h}×${w}`);
  } else {
    throw new UsageError(`model.generator.kind: unknown '${String((g as { kind: unknown }).kind)}'; choose mlp or dcgan`);
  }
  const d = cfg.discriminator;
  if (!(d.slope >= 0 && d.slope < 1)) throw new UsageError(`model.discriminator.slope: need 0 ≤ slope < 1, got ${d.slope}`);
  if (!(d.dropout >= 0 && d.dropout < 1)) throw new UsageError(`model.discriminator.dropout: need 0 ≤ dropout < 1, got ${d.dropout}`);
  if (d.kind === 'mlp') {
    if (!isPosIntList(d.hidden)) throw new UsageError(`model.discriminator.hidden: need a list of positive integers, got ${JSON.stringify(d.hidden)}`);
  } else if (d.kind === 'dcgan') {
    if (!isPosIntList(d.filters) || d.filters.length === 0) throw new UsageError(`model.discriminator.filters: need a non-empty list of positive integers, got ${JSON.stringify(d.filters)}`);
    if (!isPosInt(d.kernelSize) || !isPosInt(d.stride)) throw new UsageError(`model.discriminator: kernelSize and stride must be positive integers, got ${d.kernelSize}, ${d.stride}`);
  } else {
    throw new UsageError(`model.discriminator.kind: unknown '${String((d as { kind: unknown }).kind)}'; choose mlp or dcgan`);
  }
}

/**
 * Check a training recipe.
 * @throws UsageError naming the field and the problem, in one line
 */
export function validateGanTrain(t: GanTrainConfig): void {
  if (!(GAN_LOSS_NAMES as readonly string[]).includes(t.loss)) throw new UsageError(`train.loss: unknown GAN loss '${String(t.loss)}'; choose one of ${GAN_LOSS_NAMES.join(', ')}`);
  if (!isPosInt(t.nCritic)) throw new UsageError(`train.nCritic: need an integer ≥ 1 (discriminator steps per generator step), got ${t.nCritic}`);
  if (!isPosInt(t.batchSize)) throw new UsageError(`train.batchSize: need a positive integer, got ${t.batchSize}`);
  if (!(Number.isInteger(t.epochs) && t.epochs >= 0)) throw new UsageError(`train.epochs: need a non-negative integer, got ${t.epochs}`);
  if (!(t.realLabel > 0 && t.realLabel <= 1)) throw new UsageError(`train.realLabel: need 0 < realLabel ≤ 1, got ${t.realLabel}`);
  if (!(t.gpWeight >= 0)) throw new UsageError(`train.gpWeight: need λ ≥ 0, got ${t.gpWeight}`);
  for (const k of ['lrG', 'lrD', 'adamEps'] as const) if (!(t[k] > 0 && Number.isFinite(t[k]))) throw new UsageError(`train.${k}: need a positive number, got ${t[k]}`);
  for (const k of ['adamBeta1', 'adamBeta2'] as const) if (!(t[k] >= 0 && t[k] < 1)) throw new UsageError(`train.${k}: need 0 ≤ β < 1, got ${t[k]}`);
}

/** Values per example of a model's data (rows·cols·channels). */
export function dataDim(cfg: GanModelConfig): number {
  return cfg.dataShape[0] * cfg.dataShape[1] * cfg.dataShape[2];
}

/**
 * Check that data with `dim` values per example (or shape `[rows, cols, channels]`) fit a model.
 * @param name - the data's name (file or data set) for the message
 * @throws ShapeError in one line
 */
export function validateGanData(cfg: GanModelConfig, shape: number | readonly number[], name: string): void {
  const D = dataDim(cfg);
  const want = `${cfg.dataShape.join('×')} = ${D}`;
  if (typeof shape === 'number') {
    if (shape !== D) throw new ShapeError(`${name}: examples have ${shape} values, the GAN expects ${want}`);
    return;
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const same = shape.length === 3 && shape.every((v, i) => v === cfg.dataShape[i]);
  if (!same) throw new ShapeError(`${name}: examples are ${shape.join('×')} = ${n} values, the GAN expects ${want}`);
}
