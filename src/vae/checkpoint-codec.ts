/**
 * VAE checkpoints as content, browser-safe: what goes in a checkpoint of kind 'vae'
 * ({@link vaeCheckpointInput}) and the weights and trainer state read back from one
 * ({@link vaeFromCheckpoint}). The weights are named flat (`encoder.dense1.kernel`, …)
 * with the Adam moments as `optimizer.m.<name>` / `optimizer.v.<name>`; the JSON holds
 * kind 'vae', the model and training configuration, step, epoch, generator state,
 * trainer counters and the training data's fingerprint. Pair with
 * `encodeCheckpoint`/`decodeCheckpoint` in a browser; `checkpoint.ts` adds the files.
 */
import { CheckpointError, ShapeError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import type { CheckpointInput, CheckpointTensor, DatasetFingerprint, LoadedCheckpoint } from '../io/checkpoint-codec.js';
import { parameterSpecs, type VaeConfig } from './models.js';
import type { TrainConfig } from './presets.js';
import type { TrainerState } from './train.js';

/** Checkpoint kind of a VAE. */
export const VAE_CHECKPOINT_KIND = 'vae';

/** The configuration a VAE checkpoint records. */
export interface VaeCheckpointMeta {
  /** Preset the run started from, if any. */
  readonly preset: string | null;
  readonly model: VaeConfig;
  readonly train: TrainConfig;
  /** Seed of the run. */
  readonly seed: number;
  /** The training data's fingerprint, when known. */
  readonly data: DatasetFingerprint | null;
}

/** A loaded checkpoint. */
export interface VaeCheckpoint {
  readonly meta: VaeCheckpointMeta;
  readonly weights: Map<string, Float32Array>;
  /** Trainer state with Adam moments, when the checkpoint has one. */
  readonly trainer: TrainerState | null;
}

/** Trainer counters stored in the JSON (the moments go in the safetensors file). */
interface TrainerCounters {
  readonly batchInEpoch: number;
  readonly partial: readonly [number, number, number];
  readonly bestVal: number | null;
  readonly badEpochs: number;
}

/**
 * The checkpoint content of a VAE whose parameters of configuration `config` are
 * `weights` (by flat name, already read from the device: in a browser with
 * `await tensor.data()`, never `dataSync`), with `meta` and optionally the trainer
 * state. The tensors alias `weights` and the trainer's moments; encoding copies them.
 * @throws ShapeError when a parameter (or Adam moment) is missing or has the wrong size
 */
export function vaeCheckpointInput(
  weights: ReadonlyMap<string, Float32Array>,
  config: VaeConfig,
  meta: VaeCheckpointMeta,
  trainer: TrainerState | null,
): CheckpointInput {
  const tensors: Record<string, CheckpointTensor> = {};
  const specs = parameterSpecs(config);
  const take = (map: ReadonlyMap<string, Float32Array>, what: string, name: string, shape: readonly number[]): Float32Array => {
    const a = map.get(name);
    const n = shape.reduce((x, y) => x * y, 1);
    if (!(a instanceof Float32Array)) throw new ShapeError(`VAE checkpoint: ${what} '${name}' is missing or not a Float32Array`);
    if (a.length !== n) throw new ShapeError(`VAE checkpoint: ${what} '${name}' has ${a.length} values, the config needs ${n}`);
    return a;
  };
  for (const s of specs) tensors[s.name] = { shape: s.shape, data: take(weights, 'parameter', s.name, s.shape) };
  if (trainer) {
    for (const s of specs) {
      tensors[`optimizer.m.${s.name}`] = { shape: s.shape, data: take(trainer.adamM, 'Adam first moment', s.name, s.shape) };
      tensors[`optimizer.v.${s.name}`] = { shape: s.shape, data: take(trainer.adamV, 'Adam second moment', s.name, s.shape) };
    }
  }
  const counters: TrainerCounters | null = trainer
    ? { batchInEpoch: trainer.batchInEpoch, partial: trainer.partial, bestVal: trainer.bestVal, badEpochs: trainer.badEpochs }
    : null;
  return {
    kind: VAE_CHECKPOINT_KIND,
    config: { preset: meta.preset, model: meta.model, train: meta.train, seed: meta.seed },
    tensors,
    step: trainer?.step ?? 0,
    epoch: trainer?.epoch ?? 0,
    optimizer: { name: 'adam', lr: meta.train.lr, beta1: meta.train.adamBeta1, beta2: meta.train.adamBeta2, eps: meta.train.adamEps, trainer: counters },
    ...(trainer ? { rng: trainer.rng } : {}),
    ...(meta.data ? { dataset: meta.data } : {}),
  };
}

/** The parts of a decoded checkpoint {@link vaeFromCheckpoint} reads. */
export type VaeCheckpointSource = Pick<
  LoadedCheckpoint,
  'path' | 'weightsPath' | 'kind' | 'config' | 'tensors' | 'step' | 'epoch' | 'optimizer' | 'rng' | 'dataset'
>;

/**
 * The weights, configuration and trainer state of a decoded 'vae' checkpoint, every
 * parameter (and, with trainer state, every Adam moment) checked against the config.
 * The arrays are the checkpoint's own (not copied).
 * @throws CheckpointError (one line, naming the file) for another kind (e.g. an RBM's),
 *   a bad model config, a missing or wrongly sized tensor
 */
export function vaeFromCheckpoint(ck: VaeCheckpointSource): VaeCheckpoint {
  if (ck.kind !== VAE_CHECKPOINT_KIND) throw new CheckpointError(ck.path, `checkpoint is a '${ck.kind}' model, expected '${VAE_CHECKPOINT_KIND}'`);
  const cfg = ck.config as unknown as Omit<VaeCheckpointMeta, 'data'>;
  let specs;
  try {
    specs = parameterSpecs(cfg.model);
  } catch (err) {
    throw new CheckpointError(ck.path, `bad model config (${(err as Error).message})`);
  }
  const opt = (ck.optimizer ?? {}) as { trainer?: TrainerCounters | null };
  const counters = opt.trainer ?? null;
  const get = (name: string, n: number): Float32Array => {
    const t = ck.tensors[name];
    if (!t) throw new CheckpointError(ck.weightsPath, `missing tensor '${name}'`);
    if (t.data.length !== n) throw new CheckpointError(ck.weightsPath, `tensor '${name}' has ${t.data.length} values, the config needs ${n}`);
    return t.data;
  };
  const weights = new Map<string, Float32Array>();
  const adamM = new Map<string, Float32Array>();
  const adamV = new Map<string, Float32Array>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    weights.set(s.name, get(s.name, n));
    if (counters) {
      adamM.set(s.name, get(`optimizer.m.${s.name}`, n));
      adamV.set(s.name, get(`optimizer.v.${s.name}`, n));
    }
  }
  if (counters && !ck.rng) throw new CheckpointError(ck.path, 'has trainer state but no generator state');
  const trainer: TrainerState | null = counters
    ? {
        epoch: ck.epoch,
        step: ck.step,
        rng: ck.rng as RngState,
        batchInEpoch: counters.batchInEpoch,
        partial: counters.partial,
        bestVal: counters.bestVal,
        badEpochs: counters.badEpochs,
        adamM,
        adamV,
      }
    : null;
  return { meta: { ...cfg, data: ck.dataset ?? null }, weights, trainer };
}
