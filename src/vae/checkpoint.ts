/**
 * VAE checkpoints in the shared genphys format (`src/io/checkpoint.ts`) on files: a
 * `<name>.json` manifest and its weights file, written crash-safely. The content
 * (tensor names, JSON, checks) is built in the browser-safe `checkpoint-codec.ts`.
 */
import { basename, dirname } from 'node:path';
import { fingerprint, loadCheckpoint, saveCheckpoint, type DatasetFingerprint } from '../io/checkpoint.js';
import { VAE_CHECKPOINT_KIND, vaeCheckpointInput, vaeFromCheckpoint, type VaeCheckpoint, type VaeCheckpointMeta } from './checkpoint-codec.js';
import { parameterSpecs, type Vae } from './models.js';
import type { TrainerState, VaeData } from './train.js';

export type { VaeCheckpoint, VaeCheckpointMeta } from './checkpoint-codec.js';

/**
 * Fingerprint of a data set (name like `fashion-mnist/train`, size, SHA-256 of
 * its float32 values) for checkpoints.
 */
export function dataFingerprint(data: VaeData, name: string): DatasetFingerprint {
  const [ds, split] = name.includes('/') ? (name.split('/', 2) as [string, string]) : [name, 'all'];
  return fingerprint(data.x, { name: ds, split, n: data.n });
}

function nameOf(path: string): { dir: string; name: string } {
  return { dir: dirname(path), name: basename(path).replace(/\.(safetensors|json)$/, '') };
}

/**
 * Save `model` (and optionally the trainer state) as `path` (a `.safetensors`
 * path; the `.json` goes next to it). Atomic per file.
 */
export function saveVaeCheckpoint(path: string, model: Vae, meta: VaeCheckpointMeta, trainer: TrainerState | null): void {
  const weights = new Map<string, Float32Array>();
  // Node reads the device synchronously here; the browser path reads with `await data()`.
  for (const s of parameterSpecs(model.config)) weights.set(s.name, model.params.get(s.name)!.dataSync() as Float32Array);
  const { dir, name } = nameOf(path);
  saveCheckpoint(dir, vaeCheckpointInput(weights, model.config, meta, trainer), name);
}

/**
 * Load a VAE checkpoint (`.safetensors` or `.json` path, or a run directory).
 * @throws CheckpointError (one line, naming the file) when it is missing, corrupt,
 *   of another model kind (e.g. an RBM's), or lacks a tensor
 */
export function loadVaeCheckpoint(path: string): VaeCheckpoint {
  return vaeFromCheckpoint(loadCheckpoint(path, { kind: VAE_CHECKPOINT_KIND }));
}
