/**
 * Saving and loading energy models (and their trainers) as genphys checkpoints
 * (safetensors + JSON, kind 'rbm') on files. The content (tensor names, JSON, the
 * model rebuild) is built in the browser-safe `checkpoint.ts`; this module adds the
 * file system through `saveCheckpoint`/`loadCheckpoint`.
 */
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import type { EnergyModel } from './model.js';
import { RBM_CHECKPOINT_KIND, rbmCheckpointInput, rbmFromCheckpoint, type LoadedModel, type RbmCheckpointOptions } from './checkpoint.js';

export { RBM_CHECKPOINT_KIND, createModel, type LoadedModel } from './checkpoint.js';

/** What {@link saveModel} stores besides the model. */
export interface SaveModelOptions extends RbmCheckpointOptions {
  /** Base name of the files in `dir` (default 'checkpoint'). */
  readonly name?: string;
}

/** Save a model (and optionally its trainer) to `dir`; returns the two file paths. */
export function saveModel(dir: string, model: EnergyModel, opts: SaveModelOptions = {}): { json: string; weights: string } {
  return saveCheckpoint(dir, rbmCheckpointInput(model, opts), opts.name);
}

/** Load a model saved by {@link saveModel} from a directory or checkpoint file. */
export function loadModel(path: string, opts: { name?: string } = {}): LoadedModel {
  return rbmFromCheckpoint(loadCheckpoint(path, { kind: RBM_CHECKPOINT_KIND, allowExtra: true, ...(opts.name ? { name: opts.name } : {}) }));
}
