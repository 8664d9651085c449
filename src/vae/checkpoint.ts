/**
 * VAE checkpoints: one self-contained safetensors file holding the weights under
 * their flat names (`encoder.dense1.kernel`, …), the Adam moments under
 * `optimizer.m.<name>` / `optimizer.v.<name>`, and in its metadata a JSON record
 * `genphys` = { kind: 'vae', version, config, trainer counters, RNG state, data
 * fingerprint }. The file is written atomically, so an interrupted save leaves
 * the previous checkpoint intact; a human-readable copy of the JSON is written
 * next to it.
 */
import { existsSync } from 'node:fs';
import { CheckpointError } from '../core/errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readSafetensors, writeSafetensors, type TensorInput } from '../io/safetensors.js';
import { VERSION } from '../version.js';
import { Vae, parameterSpecs, type VaeConfig } from './models.js';
import type { TrainConfig } from './presets.js';
import type { TrainerState, VaeData } from './train.js';

/** Everything a checkpoint records besides tensors. */
export interface VaeCheckpointMeta {
  readonly kind: 'vae';
  readonly version: string;
  /** Preset the run started from, if any. */
  readonly preset: string | null;
  readonly model: VaeConfig;
  readonly train: TrainConfig;
  /** Seed of the run. */
  readonly seed: number;
  /** Data set name and fingerprint ({@link dataFingerprint}) of the training data. */
  readonly data: { readonly name: string; readonly fingerprint: string } | null;
  /** Trainer counters and generator state (see {@link TrainerState}). */
  readonly trainer: Omit<TrainerState, 'adamM' | 'adamV'> | null;
}

/** A loaded checkpoint. */
export interface VaeCheckpoint {
  readonly meta: VaeCheckpointMeta;
  readonly weights: Map<string, Float32Array>;
  /** Trainer state with Adam moments, when the checkpoint has one. */
  readonly trainer: TrainerState | null;
}

/** FNV-1a (32-bit) fingerprint of a data set's size and bytes, as 8 hex digits plus the shape. */
export function dataFingerprint(data: VaeData): string {
  const bytes = new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${data.n}x${data.dim}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Save `model` (and optionally the trainer state) to `path` atomically, plus
 * `path` with `.json` in place of `.safetensors` for people to read.
 */
export function saveVaeCheckpoint(
  path: string,
  model: Vae,
  meta: Omit<VaeCheckpointMeta, 'kind' | 'version' | 'model' | 'trainer'>,
  trainer: TrainerState | null,
): void {
  const tensors: Record<string, TensorInput> = {};
  for (const s of parameterSpecs(model.config)) tensors[s.name] = { shape: s.shape, data: model.params.get(s.name)!.dataSync() as Float32Array };
  let trainerMeta: VaeCheckpointMeta['trainer'] = null;
  if (trainer) {
    for (const s of parameterSpecs(model.config)) {
      tensors[`optimizer.m.${s.name}`] = { shape: s.shape, data: trainer.adamM.get(s.name)! };
      tensors[`optimizer.v.${s.name}`] = { shape: s.shape, data: trainer.adamV.get(s.name)! };
    }
    const { adamM: _m, adamV: _v, ...rest } = trainer;
    trainerMeta = rest;
  }
  const full: VaeCheckpointMeta = { kind: 'vae', version: VERSION, model: model.config, trainer: trainerMeta, ...meta };
  writeSafetensors(path, tensors, { genphys: JSON.stringify(full) });
  writeJsonAtomic(path.replace(/\.safetensors$/, '') + '.json', full);
}

/**
 * Load a VAE checkpoint.
 * @throws CheckpointError (one line, naming the file) when it is missing, not a VAE
 *   checkpoint (e.g. an RBM's), or lacks a tensor
 */
export function loadVaeCheckpoint(path: string): VaeCheckpoint {
  if (!existsSync(path)) throw new CheckpointError(path, 'no such checkpoint');
  const st = readSafetensors(path);
  const raw = st.metadata['genphys'];
  let meta: VaeCheckpointMeta;
  try {
    meta = JSON.parse(raw ?? 'null') as VaeCheckpointMeta;
  } catch {
    throw new CheckpointError(path, 'metadata "genphys" is not valid JSON');
  }
  if (!meta || typeof meta !== 'object') throw new CheckpointError(path, 'not a genphys checkpoint (no "genphys" metadata)');
  if (meta.kind !== 'vae') throw new CheckpointError(path, `is a checkpoint of kind '${String(meta.kind)}', not 'vae'`);
  const weights = new Map<string, Float32Array>();
  const adamM = new Map<string, Float32Array>();
  const adamV = new Map<string, Float32Array>();
  let specs;
  try {
    specs = parameterSpecs(meta.model);
  } catch (err) {
    throw new CheckpointError(path, `bad model config (${(err as Error).message})`);
  }
  const get = (name: string): Float32Array => {
    const t = st.tensors[name];
    if (!t) throw new CheckpointError(path, `missing tensor '${name}'`);
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(path, `tensor '${name}' is ${t.dtype}, expected F32`);
    return t.data;
  };
  for (const s of specs) {
    const w = get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (w.length !== n) throw new CheckpointError(path, `tensor '${s.name}' has ${w.length} values, the config needs ${n}`);
    weights.set(s.name, w);
    if (meta.trainer) {
      adamM.set(s.name, get(`optimizer.m.${s.name}`));
      adamV.set(s.name, get(`optimizer.v.${s.name}`));
    }
  }
  const trainer: TrainerState | null = meta.trainer ? { ...meta.trainer, adamM, adamV } : null;
  return { meta, weights, trainer };
}
