/**
 * Diffusion checkpoints and run configs as content, browser-safe: what goes in a
 * checkpoint of kind 'diffusion' ({@link diffusionCheckpointInput}), the weights and
 * trainer state read back from one ({@link diffusionFromCheckpoint}), and the
 * `config.json` document of a `genphys diffusion train` run ({@link diffusionRunConfig}).
 * The CLI's run (`run.ts`) and the lab's diffusion engine both build their files
 * here, so a checkpoint exported from the lab is the one the CLI writes and
 * `genphys diffusion sample DIR` opens it unchanged.
 *
 * Tensors are named flat: the network's parameters under their own names
 * (`toy.in.kernel`, …), the Adam moments as `optimizer.m.<name>` / `optimizer.v.<name>`
 * and the EMA of the weights as `optimizer.ema.<name>`. The JSON holds kind 'diffusion',
 * `{ network, train, seed }`, step, epoch, Adam's hyperparameters, the trainer's
 * epoch-start generator state, the training data's fingerprint and, in `extra`, the
 * mid-epoch position and the EMA's update count. Pair with `encodeCheckpoint` /
 * `decodeCheckpoint` (src/io/checkpoint-codec.ts). No node imports.
 */
import { CheckpointError, ShapeError, UsageError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import type { RngState } from '../core/rng.js';
import type { CheckpointInput, CheckpointTensor, DatasetFingerprint, LoadedCheckpoint, Sha256 } from '../io/checkpoint-codec.js';
import type { Prediction } from './process.js';
import { NoiseSchedule } from './schedule.js';
import { DEFAULT_TOY_MLP, toyMlpSpecs } from './toy-mlp.js';
import { validateNetworkConfig, type DiffusionTrainConfig, type DiffusionTrainerState, type NetworkConfig } from './train.js';
import { unetPreset, unetSpecs, UNET_PRESETS, type UnetPreset } from './unet.js';

/** Checkpoint kind of a diffusion model. */
export const DIFFUSION_CHECKPOINT_KIND = 'diffusion';

/** Network choices of a run: the toy MLP or a U-Net preset. */
export const DIFFUSION_ARCHS = ['toy-mlp', ...UNET_PRESETS] as const;
/** One of {@link DIFFUSION_ARCHS}. */
export type DiffusionArch = (typeof DIFFUSION_ARCHS)[number];

/** The data a run trains on, as `config.json` records it. */
export interface DiffusionDataSpec {
  /** fashion-mnist | mnist | toy:<name>[:N] | ising:<dir>[:T] */
  readonly spec: string;
  readonly limit?: number;
  /** Image data set directory override. */
  readonly dir?: string;
}

/** What the run config needs to know about the loaded data (a `DiffusionDataset` fits). */
export interface DiffusionDataShape {
  /** 'image', 'toy' or 'ising'. */
  readonly kind: 'image' | 'toy' | 'ising';
  /** The spec it came from (named in errors). */
  readonly spec: string;
  /** Number of examples. */
  readonly n: number;
  /** Values per example. */
  readonly dim: number;
  /** [rows, cols, channels] of images and lattices; null for 2D points. */
  readonly shape: readonly [number, number, number] | null;
}

/** The network configuration for an arch on a data set (as `--arch` and `--prediction` choose it). */
export function networkFor(arch: DiffusionArch, data: Pick<DiffusionDataShape, 'spec' | 'dim' | 'shape'>, T: number, prediction: Prediction): NetworkConfig {
  if (arch === 'toy-mlp') {
    // On images or lattices the MLP sees the flattened pixels (useful for small tests).
    return { arch: 'toy-mlp', toy: { ...DEFAULT_TOY_MLP, dim: data.dim, prediction } };
  }
  if (data.shape === null) throw new UsageError(`--arch ${arch}: a U-Net needs images or lattices, ${data.spec} holds 2D points (use --arch toy-mlp)`);
  const [h, w, c] = data.shape;
  return { arch: 'unet', unet: unetPreset(arch as UnetPreset, { size: [h, w], channels: c, T, prediction }) };
}

/** The default network of a data kind: toy-mlp for toys, ising-unet for Ising, small-unet for images. */
export function defaultDiffusionArch(kind: DiffusionDataShape['kind']): DiffusionArch {
  return kind === 'toy' ? 'toy-mlp' : kind === 'ising' ? 'ising-unet' : 'small-unet';
}

/** Everything a fresh run's `config.json` is made of. */
export interface DiffusionRunConfigInput {
  readonly seed: number;
  readonly data: DiffusionDataSpec;
  /** The loaded data (kind, shape and size are recorded). */
  readonly dataset: Pick<DiffusionDataShape, 'kind' | 'shape' | 'n'>;
  /** The `--arch` the network was built from (the toy MLP records 'toy-mlp' whatever was asked). */
  readonly arch: DiffusionArch;
  readonly network: NetworkConfig;
  readonly train: DiffusionTrainConfig;
  /** Total epochs. */
  readonly epochs: number;
  /** DDIM steps of the per-epoch samples. */
  readonly sampleSteps: number;
}

/**
 * The `config.json` document `genphys diffusion train` writes for a fresh run (key order
 * included), from which `genphys diffusion sample|eval DIR` rebuild the network and process.
 * @throws UsageError when the network or schedule configuration is invalid
 */
export function diffusionRunConfig(c: DiffusionRunConfigInput): Record<string, unknown> {
  validateNetworkConfig(c.network);
  const schedule = NoiseSchedule.create(c.train.schedule);
  return {
    command: 'diffusion train',
    seed: c.seed,
    data: { spec: c.data.spec, ...(c.data.limit ? { limit: c.data.limit } : {}), ...(c.data.dir ? { dir: c.data.dir } : {}) },
    kind: c.dataset.kind,
    shape: c.dataset.shape,
    n: c.dataset.n,
    arch: c.network.arch === 'toy-mlp' ? 'toy-mlp' : c.arch,
    prediction: c.network.arch === 'toy-mlp' ? c.network.toy.prediction : c.network.unet.prediction,
    network: c.network,
    train: c.train,
    // How much of the data survives in x_T: ≈ 0 for N(0, I) to be the right prior (REFERENCES: schedule pitfall).
    sqrtAlphaBarT: schedule.sqrtAlphaBarT,
    epochs: c.epochs,
    sampleSteps: c.sampleSteps,
  };
}

/**
 * The fingerprint a diffusion run records of its training data: SHA-256 of the float32
 * values `x` as stored in memory (little-endian), named by the data spec, split 'train'.
 * @param sha256 - hash of the bytes (default the pure {@link sha256Hex}; node passes `node:crypto`'s)
 */
export function diffusionDataFingerprint(spec: string, x: Float32Array, n: number, sha256: Sha256 = sha256Hex): DatasetFingerprint {
  return { name: spec, split: 'train', n, sha256: sha256(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) };
}

/** The parameters of a network configuration: flat name → shape, in the network's order. */
export function diffusionParamShapes(network: NetworkConfig): Map<string, readonly number[]> {
  validateNetworkConfig(network);
  const specs = network.arch === 'toy-mlp' ? toyMlpSpecs(network.toy) : unetSpecs(network.unet);
  return new Map(specs.map((s) => [s.name, s.shape]));
}

/** The configuration a diffusion checkpoint records. */
export interface DiffusionCheckpointMeta {
  readonly network: NetworkConfig;
  readonly train: DiffusionTrainConfig;
  /** Seed of the run. */
  readonly seed: number;
  /** The training data's fingerprint, when known. */
  readonly data: DatasetFingerprint | null;
}

/** Prefixes of the three per-parameter tensor groups besides the weights. */
const PREFIX = { m: 'optimizer.m.', v: 'optimizer.v.', ema: 'optimizer.ema.' } as const;

/** The trainer's position within an epoch, kept in the JSON's `extra`. */
interface TrainerExtra {
  readonly batchInEpoch: number;
  readonly partial: [number, number];
  readonly emaStep: number;
}

/**
 * The checkpoint content of a diffusion model whose parameters are `weights` (by flat
 * name, already read from the device: in a browser with `await tensor.data()`, never
 * `dataSync`), with its trainer's state (Adam moments, EMA, counters, stream). The
 * tensors alias the given arrays; encoding copies them.
 * @throws ShapeError (one line) when a weight, moment or EMA tensor is missing or has a
 *   size other than the network configuration's
 */
export function diffusionCheckpointInput(weights: ReadonlyMap<string, Float32Array>, meta: DiffusionCheckpointMeta, state: DiffusionTrainerState): CheckpointInput {
  const shapes = diffusionParamShapes(meta.network);
  const tensors: Record<string, CheckpointTensor> = {};
  const add = (prefix: string, map: ReadonlyMap<string, Float32Array>, what: string) => {
    for (const [name, shape] of shapes) {
      const a = map.get(name);
      const n = shape.reduce((x, y) => x * y, 1);
      if (!(a instanceof Float32Array)) throw new ShapeError(`diffusion checkpoint: ${what} '${name}' is missing or not a Float32Array`);
      if (a.length !== n) throw new ShapeError(`diffusion checkpoint: ${what} '${name}' has ${a.length} values, the network config needs ${n} (shape [${shape.join(', ')}])`);
      tensors[prefix + name] = { shape, data: a };
    }
  };
  add('', weights, 'parameter');
  add(PREFIX.m, state.adamM, 'Adam first moment');
  add(PREFIX.v, state.adamV, 'Adam second moment');
  add(PREFIX.ema, state.ema.weights, 'EMA weight');
  const t = meta.train;
  const extra: TrainerExtra = { batchInEpoch: state.batchInEpoch, partial: [state.partial[0], state.partial[1]], emaStep: state.ema.step };
  return {
    kind: DIFFUSION_CHECKPOINT_KIND,
    config: { network: meta.network, train: meta.train, seed: meta.seed },
    tensors,
    step: state.step,
    epoch: state.epoch,
    optimizer: { kind: 'adam', lr: t.lr, beta1: t.adamBeta1, beta2: t.adamBeta2, eps: t.adamEps, step: state.step },
    rng: state.rng,
    ...(meta.data ? { dataset: meta.data } : {}),
    extra: { ...extra },
  };
}

/** The parts of a decoded checkpoint {@link diffusionFromCheckpoint} reads. */
export type DiffusionCheckpointSource = Pick<LoadedCheckpoint, 'path' | 'weightsPath' | 'kind' | 'config' | 'tensors' | 'step' | 'epoch' | 'rng' | 'dataset' | 'extra'>;

/** A decoded diffusion checkpoint. */
export interface DiffusionCheckpoint {
  readonly meta: DiffusionCheckpointMeta;
  /** The raw (last-step) weights. */
  readonly weights: Map<string, Float32Array>;
  /** The EMA of the weights (what the samplers use). */
  readonly ema: Map<string, Float32Array>;
  /** Everything {@link DiffusionTrainer.setState} takes, or null when the checkpoint has no resumable trainer state. */
  readonly trainer: DiffusionTrainerState | null;
}

/** Options of {@link diffusionFromCheckpoint}. */
export interface DiffusionFromCheckpointOptions {
  /**
   * The network to read the tensors as (default the checkpoint's own `config.network`;
   * a run passes its `config.json`'s, which is what sampling rebuilds).
   */
  readonly network?: NetworkConfig;
}

/**
 * The weights, EMA and trainer state of a decoded 'diffusion' checkpoint, every tensor
 * checked against the network configuration. The arrays are the checkpoint's own (not copied).
 * @throws CheckpointError (one line, naming the file) for another kind, a bad network
 *   config, a missing or wrongly sized tensor
 */
export function diffusionFromCheckpoint(ck: DiffusionCheckpointSource, opts: DiffusionFromCheckpointOptions = {}): DiffusionCheckpoint {
  if (ck.kind !== DIFFUSION_CHECKPOINT_KIND) throw new CheckpointError(ck.path, `checkpoint is a '${ck.kind}' model, expected '${DIFFUSION_CHECKPOINT_KIND}'`);
  const cfg = ck.config as unknown as Omit<DiffusionCheckpointMeta, 'data'>;
  const network = opts.network ?? cfg.network;
  let shapes: Map<string, readonly number[]>;
  try {
    shapes = diffusionParamShapes(network);
  } catch (err) {
    throw new CheckpointError(ck.path, `bad network config (${(err as Error).message})`);
  }
  const group = (prefix: string): Map<string, Float32Array> => {
    const out = new Map<string, Float32Array>();
    for (const [name, shape] of shapes) {
      const t = ck.tensors[prefix + name];
      if (!t) throw new CheckpointError(ck.path, `lacks tensor '${prefix + name}'`);
      const n = shape.reduce((x, y) => x * y, 1);
      if (t.data.length !== n) throw new CheckpointError(ck.weightsPath, `tensor '${prefix + name}' has ${t.data.length} values, the network config needs ${n}`);
      out.set(name, t.data);
    }
    return out;
  };
  const weights = group('');
  const ema = group(PREFIX.ema);
  const x = ck.extra as Partial<TrainerExtra> | undefined;
  const resumable = ck.rng !== undefined && x !== undefined && x.batchInEpoch !== undefined && Array.isArray(x.partial) && x.emaStep !== undefined;
  const trainer: DiffusionTrainerState | null = resumable
    ? {
        epoch: ck.epoch,
        step: ck.step,
        batchInEpoch: x.batchInEpoch!,
        rng: ck.rng as RngState,
        partial: [x.partial![0], x.partial![1]],
        adamM: group(PREFIX.m),
        adamV: group(PREFIX.v),
        ema: { decay: cfg.train.emaDecay, warmup: true, step: x.emaStep!, weights: ema },
      }
    : null;
  return { meta: { network, train: cfg.train, seed: cfg.seed, data: ck.dataset ?? null }, weights, ema, trainer };
}
