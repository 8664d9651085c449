/**
 * The diffusion panel's settings as genphys's diffusion configuration, shared by the
 * worker (which builds the toy MLP and trainer from {@link diffusionRecipe}, and the
 * exported run's config.json from {@link diffusionRecipeRunConfig}) and the panel's
 * "settings JSON" ({@link diffusionCliConfig}: the `genphys diffusion train` flags that
 * give the same network, schedule, optimiser, data and seed). The network and the
 * config.json come from the library's own builders (src/diffusion/checkpoint-codec.ts),
 * the ones `genphys diffusion train` uses. Browser-safe (no node imports).
 */
import { DEFAULT_DIFFUSION_TRAIN, type DiffusionTrainConfig, type NetworkConfig } from '../../src/diffusion/train.js';
import { DEFAULT_TOY_MLP } from '../../src/diffusion/toy-mlp.js';
import { diffusionRunConfig, networkFor } from '../../src/diffusion/checkpoint-codec.js';
import type { Prediction } from '../../src/diffusion/process.js';
import type { CliConfig } from './panel.js';
import type { Settings } from './protocol.js';

/** What the worker builds a run from. */
export interface DiffusionRecipe {
  /** The toy's name. */
  readonly data: string;
  readonly n: number;
  /** The `--data` spec. */
  readonly spec: string;
  /** The network as `genphys diffusion train --arch toy-mlp` builds it (tiny-diffusion's sizes). */
  readonly network: NetworkConfig;
  /** Optimiser, EMA and schedule, as the CLI's flags set them. */
  readonly train: DiffusionTrainConfig;
  readonly seed: number;
  /** `--epochs` of the exported command (the panel itself trains until paused). */
  readonly epochs: number;
  /** `--sample-steps`: the panel's DDIM steps, at most T. */
  readonly sampleSteps: number;
}

/** Resolve the panel's settings into a run recipe. */
export function diffusionRecipe(s: Settings): DiffusionRecipe {
  const data = String(s.data ?? 'moons');
  const n = Math.round(Number(s.n ?? 2000));
  const prediction = String(s.prediction ?? 'eps') as Prediction;
  const T = Math.round(Number(s.T ?? 100));
  const kind = s.schedule === 'cosine' ? 'cosine' : 'linear';
  return {
    data,
    n,
    spec: `toy:${data}:${n}`,
    // `--arch toy-mlp --prediction <p>` on 2D points, built as the CLI builds it.
    network: networkFor('toy-mlp', { spec: `toy:${data}:${n}`, dim: 2, shape: null }, T, prediction),
    // The CLI's construction: its defaults with --lr, --batch, --ema, --schedule and --T.
    train: { ...DEFAULT_DIFFUSION_TRAIN, lr: Number(s.lr ?? 1e-3), batchSize: Math.round(Number(s.batch ?? 128)), emaDecay: Number(s.ema ?? 0.995), schedule: { kind, T } },
    seed: Math.round(Number(s.seed ?? 1)),
    epochs: Math.round(Number(s.epochs ?? 20)),
    sampleSteps: Math.min(T, Math.round(Number(s.ddimSteps ?? 20))),
  };
}

/**
 * The config.json `genphys diffusion train` writes when run with {@link diffusionCliConfig}'s
 * flags, for data of `n` points (what the toy spec loads).
 */
export function diffusionRecipeRunConfig(r: DiffusionRecipe, n: number): Record<string, unknown> {
  return diffusionRunConfig({ seed: r.seed, data: { spec: r.spec }, dataset: { kind: 'toy', shape: null, n }, arch: 'toy-mlp', network: r.network, train: r.train, epochs: r.epochs, sampleSteps: r.sampleSteps });
}

/** `genphys diffusion train` flags that train what the panel trains. */
export function diffusionCliConfig(s: Settings): CliConfig {
  const r = diffusionRecipe(s);
  const toy = r.network.arch === 'toy-mlp' ? r.network.toy : DEFAULT_TOY_MLP;
  return {
    genphys: 'diffusion train',
    flags: {
      data: r.spec,
      arch: 'toy-mlp',
      prediction: toy.prediction,
      schedule: r.train.schedule.kind,
      T: r.train.schedule.T,
      epochs: r.epochs,
      lr: r.train.lr,
      batch: r.train.batchSize,
      ema: r.train.emaDecay,
      'sample-steps': r.sampleSteps,
      seed: r.seed,
    },
  };
}
