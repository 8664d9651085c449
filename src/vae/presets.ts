/**
 * Named presets that reproduce public reference VAEs side by side, plus the
 * training hyperparameters that go with them.
 */
import { UsageError } from '../core/errors.js';
import type { VaeConfig } from './models.js';

/** How training data are binarised: not at all, once (static) or every time a batch is drawn (dynamic). */
export type Binarize = 'none' | 'static' | 'dynamic';

/** Hyperparameters of the optimiser and the training loop. */
export interface TrainConfig {
  /** Passes over the training set. */
  readonly epochs: number;
  /** Examples per Adam step (the last batch of an epoch may be smaller). */
  readonly batchSize: number;
  /** Adam learning rate. */
  readonly lr: number;
  /** Adam β₁, β₂. */
  readonly adamBeta1: number;
  readonly adamBeta2: number;
  /** Adam ε (PyTorch 1e-8, Keras 1e-7). */
  readonly adamEps: number;
  /** Binarisation of the data before the Bernoulli likelihood. */
  readonly binarize: Binarize;
  /** Stop after this many epochs without a better validation loss (0: never). */
  readonly earlyStopping: number;
}

/** A model plus its training recipe. */
export interface VaePreset {
  /** One-line description with the source it reproduces. */
  readonly description: string;
  readonly model: VaeConfig;
  readonly train: TrainConfig;
}

/**
 * `torch-mlp`: pytorch/examples `vae/main.py` — 784-400-20 MLP with ReLU, Bernoulli
 * decoder on grey pixels (BCE summed over pixels + KL, per example), Adam 1e-3,
 * batch 128, 10 epochs, PyTorch default initialisation.
 *
 * `keras-conv`: keras-io `examples/generative/vae.py` — Conv2D 32, 64 (3×3, stride 2,
 * same, ReLU), Dense 16 ReLU, latent 2; decoder Dense 7·7·64 ReLU, Conv2DTranspose
 * 64, 32 (stride 2) and 1 (stride 1) with logits; Adam (Keras defaults), batch 128,
 * 30 epochs, Glorot-uniform initialisation. 69,076 + 65,089 parameters.
 *
 * `ising-mlp`: a small MLP VAE with a 2D latent for L = 16 Ising configurations
 * (Wetzel, PRE 96, 022140 (2017)).
 */
export const PRESETS: Readonly<Record<string, VaePreset>> = {
  'torch-mlp': {
    description: 'PyTorch examples/vae: 784-400-20 MLP, ReLU, BCE + KL, Adam 1e-3, batch 128, 10 epochs',
    model: {
      inputShape: [28, 28, 1],
      latent: 20,
      arch: { kind: 'mlp', hidden: [400], activation: 'relu' },
      decoder: 'bernoulli',
      sigma2: 1,
      beta: 1,
      init: 'torch',
    },
    train: { epochs: 10, batchSize: 128, lr: 1e-3, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-8, binarize: 'none', earlyStopping: 0 },
  },
  'keras-conv': {
    description: 'Keras examples/generative/vae.py: conv 32-64, dense 16, latent 2, Adam, batch 128, 30 epochs',
    model: {
      inputShape: [28, 28, 1],
      latent: 2,
      arch: { kind: 'conv', filters: [32, 64], kernelSize: 3, dense: 16, activation: 'relu' },
      decoder: 'bernoulli',
      sigma2: 1,
      beta: 1,
      init: 'keras',
    },
    train: { epochs: 30, batchSize: 128, lr: 1e-3, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-7, binarize: 'none', earlyStopping: 0 },
  },
  'ising-mlp': {
    description: 'Ising probe (Wetzel 2017): 256-64-2 MLP, tanh, Bernoulli decoder, L = 16',
    model: {
      inputShape: [16, 16, 1],
      latent: 2,
      arch: { kind: 'mlp', hidden: [64], activation: 'tanh' },
      decoder: 'bernoulli',
      sigma2: 1,
      beta: 1,
      init: 'torch',
    },
    train: { epochs: 15, batchSize: 128, lr: 1e-3, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-8, binarize: 'none', earlyStopping: 0 },
  },
};

/** Names of the presets. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** Look up a preset by name. @throws UsageError naming the flag and the choices */
export function getPreset(name: string): VaePreset {
  const p = PRESETS[name];
  if (!p) throw new UsageError(`--preset: unknown preset '${name}'; choose one of ${PRESET_NAMES.join(', ')}`);
  return p;
}
