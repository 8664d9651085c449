/**
 * VAE checkpoints in the shared genphys format (`src/io/checkpoint.ts`): a
 * `<name>.safetensors` file with the weights under their flat names
 * (`encoder.dense1.kernel`, …) and the Adam moments as `optimizer.m.<name>` /
 * `optimizer.v.<name>`, plus `<name>.json` with kind 'vae', the model and
 * training configuration, step, epoch, generator state, trainer counters and the
 * training data's fingerprint. Both files are written atomically.
 */
import { basename, dirname } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import { fingerprint, loadCheckpoint, saveCheckpoint, type CheckpointTensor, type DatasetFingerprint } from '../io/checkpoint.js';
import { parameterSpecs, type Vae, type VaeConfig } from './models.js';
import type { TrainConfig } from './presets.js';
import type { TrainerState, VaeData } from './train.js';

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

/**
 * Fingerprint of a data set (name like `fashion-mnist/train`, size, SHA-256 of
 * its float32 values) for checkpoints.
 */
export function dataFingerprint(data: VaeData, name: string): DatasetFingerprint {
  const [ds, split] = name.includes('/') ? (name.split('/', 2) as [string, string]) : [name, 'all'];
  return fingerprint(data.x, { name: ds, split, n: data.n });
}

/** Trainer counters stored in the JSON (the moments go in the safetensors file). */
interface TrainerCounters {
  readonly batchInEpoch: number;
  readonly partial: readonly [number, number, number];
  readonly bestVal: number | null;
  readonly badEpochs: number;
}

function nameOf(path: string): { dir: string; name: string } {
  return { dir: dirname(path), name: basename(path).replace(/\.(safetensors|json)$/, '') };
}

/**
 * Save `model` (and optionally the trainer state) as `path` (a `.safetensors`
 * path; the `.json` goes next to it). Atomic per file.
 */
export function saveVaeCheckpoint(path: string, model: Vae, meta: VaeCheckpointMeta, trainer: TrainerState | null): void {
  const tensors: Record<string, CheckpointTensor> = {};
  const specs = parameterSpecs(model.config);
  for (const s of specs) tensors[s.name] = { shape: s.shape, data: model.params.get(s.name)!.dataSync() as Float32Array };
  if (trainer) {
    for (const s of specs) {
      tensors[`optimizer.m.${s.name}`] = { shape: s.shape, data: trainer.adamM.get(s.name)! };
      tensors[`optimizer.v.${s.name}`] = { shape: s.shape, data: trainer.adamV.get(s.name)! };
    }
  }
  const counters: TrainerCounters | null = trainer
    ? { batchInEpoch: trainer.batchInEpoch, partial: trainer.partial, bestVal: trainer.bestVal, badEpochs: trainer.badEpochs }
    : null;
  const { dir, name } = nameOf(path);
  saveCheckpoint(
    dir,
    {
      kind: 'vae',
      config: { preset: meta.preset, model: meta.model, train: meta.train, seed: meta.seed },
      tensors,
      step: trainer?.step ?? 0,
      epoch: trainer?.epoch ?? 0,
      optimizer: { name: 'adam', lr: meta.train.lr, beta1: meta.train.adamBeta1, beta2: meta.train.adamBeta2, eps: meta.train.adamEps, trainer: counters },
      ...(trainer ? { rng: trainer.rng } : {}),
      ...(meta.data ? { dataset: meta.data } : {}),
    },
    name,
  );
}

/**
 * Load a VAE checkpoint (`.safetensors` or `.json` path, or a run directory).
 * @throws CheckpointError (one line, naming the file) when it is missing, corrupt,
 *   of another model kind (e.g. an RBM's), or lacks a tensor
 */
export function loadVaeCheckpoint(path: string): VaeCheckpoint {
  const ck = loadCheckpoint(path, { kind: 'vae' });
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
