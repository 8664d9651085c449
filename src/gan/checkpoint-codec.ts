/**
 * GAN runs as content, browser-safe: the run configuration `genphys gan train` stores in
 * `config.json` ({@link ganRunConfig}), the checkpoint of kind 'gan' it saves
 * ({@link ganCheckpointInput}), the fingerprint of its training data
 * ({@link ganDatasetFingerprint}), and the weights, configuration and trainer state read
 * back from a decoded checkpoint ({@link ganFromCheckpoint}). `run.ts` (the CLI, files)
 * and the lab's GAN engine (a download) both build their run directory from these, so
 * a folder the lab exports is one `genphys gan sample DIR` and `gan train --resume`
 * open unchanged.
 *
 * The tensors are named flat as {@link ganParamSpecs} names them (spectral-norm vectors
 * and BatchNorm statistics included), the Adam moments of the trainable ones as
 * `optimizer.m.<name>` / `optimizer.v.<name>`, the generator's weight average as
 * `ema.<name>`; the JSON holds the run configuration, the step (G steps), epoch, the
 * epoch-start generator state, both optimisers' hyperparameters and step counts, the
 * mid-epoch position (`extra.trainer`) and the training data's fingerprint.
 */
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, ShapeError } from '../core/errors.js';
import { sha256Hex } from '../core/sha256.js';
import type { CheckpointInput, CheckpointTensor, DatasetFingerprint, LoadedCheckpoint, Sha256 } from '../io/checkpoint-codec.js';
import type { GanDataKind } from './data.js';
import { ganParamSpecs, type Gan, type GanParamSpec } from './networks.js';
import { resolveGanPreset, type GanModelConfig, type GanOverrides } from './presets.js';
import type { GanTrainerOptions, GanTrainerState } from './train.js';

/** The command recorded in config.json. */
export const GAN_COMMAND = 'gan train';

/** Checkpoint kind of a GAN run. */
export const GAN_CHECKPOINT_KIND = 'gan';

/** The data a run trains on. */
export interface GanDataSpec {
  /** fashion-mnist | mnist | toy:<name>[:N] | ising:<dir>[:T] */
  readonly spec: string;
  readonly limit?: number;
  readonly dir?: string;
}

/** The resolved configuration of a run, as stored in config.json (and in the checkpoint). */
export interface GanRunConfig {
  readonly command: string;
  readonly seed: number;
  readonly data: GanDataSpec;
  readonly dataKind: string;
  readonly preset: string;
  readonly overrides: GanOverrides;
  readonly model: GanModelConfig;
  readonly train: GanTrainerOptions;
  readonly epochs: number;
}

/** What {@link ganRunConfig} resolves: the flags of `genphys gan train`, parsed. */
export interface GanRunConfigOptions {
  readonly seed: number;
  readonly data: GanDataSpec;
  /** What the spec names (`checkGanDataSpec` in data.ts, node-only, decides it for the CLI). */
  readonly dataKind: GanDataKind;
  /** Preset name (see GAN_PRESETS). */
  readonly preset: string;
  /** Field-by-field overrides of the preset, as `overridesFromFlags` builds them. */
  readonly overrides?: GanOverrides;
  /** EMA decay of G's weights (0, the default: none). */
  readonly ema?: number;
  /** Total epochs (default the preset's, after the overrides). */
  readonly epochs?: number;
}

/**
 * The configuration a fresh `genphys gan train` run writes to config.json, field for
 * field and in the same key order (so the JSON text is the same too).
 * @throws UsageError for an unknown preset or a bad override (from resolveGanPreset)
 */
export function ganRunConfig(o: GanRunConfigOptions): GanRunConfig {
  const p = resolveGanPreset(o.preset, o.overrides ?? {});
  const epochs = o.epochs ?? p.train.epochs;
  const train: GanTrainerOptions = { ...p.train, epochs, ema: o.ema ?? 0 };
  return {
    command: GAN_COMMAND,
    seed: o.seed,
    data: { spec: o.data.spec, ...(o.data.limit ? { limit: o.data.limit } : {}), ...(o.data.dir ? { dir: o.data.dir } : {}) },
    dataKind: o.dataKind,
    preset: o.preset,
    overrides: o.overrides ?? {},
    model: p.model,
    train,
    epochs,
  };
}

/**
 * The fingerprint a GAN checkpoint records of its training data: the loaded data set's
 * name (`toy:ring8:2048` for a toy spec, `fashion-mnist/train` for images,
 * `ising-L16-T2.27` for spins), split 'train', the number of examples and the SHA-256 of
 * the float32 values exactly as trained on (images already mapped to [−1, 1]).
 * `gan train --resume` refuses a checkpoint whose fingerprint differs from its data's.
 * @param sha256 - the hash (default the pure {@link sha256Hex}; node passes `node:crypto`'s)
 * @throws ShapeError when `x` does not hold a whole number of examples
 */
export function ganDatasetFingerprint(data: { readonly name: string; readonly n: number; readonly x: Float32Array }, sha256: Sha256 = sha256Hex): DatasetFingerprint {
  if (!(Number.isInteger(data.n) && data.n >= 1 && data.x.length % data.n === 0)) throw new ShapeError(`GAN data fingerprint: ${data.x.length} values are not ${data.n} whole examples`);
  return { name: data.name, split: 'train', n: data.n, sha256: sha256(new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength)) };
}

/** Mid-epoch trainer counters kept in the checkpoint JSON (`extra.trainer`). */
interface TrainerCounters {
  readonly batchInEpoch: number;
  readonly dSteps: number;
  readonly partial: number[];
}

const size = (s: GanParamSpec): number => s.shape.reduce((a, b) => a * b, 1);

/**
 * The checkpoint content of a GAN run of configuration `cfg`: every named tensor of the
 * networks (`weights`, by flat name, already read from the device: in a browser with
 * `await tensor.data()`), the trainer `state` (its Adam moments, its EMA when kept, its
 * counters and epoch-start generator state) and the data `dataset` fingerprint.
 * Tensors keep the order of the maps (so the JSON lists them as the CLI always has) and
 * alias the arrays given; encoding copies them.
 * @param extra - more JSON for `extra` beside `trainer` (e.g. what the lab ran differently)
 * @throws ShapeError (one line, naming the tensor) when a network tensor is missing,
 *   unknown or of the wrong size, or a moment or EMA tensor is unknown or of the wrong size
 */
export function ganCheckpointInput(
  cfg: GanRunConfig,
  weights: ReadonlyMap<string, Float32Array>,
  state: GanTrainerState,
  dataset: DatasetFingerprint,
  extra: Readonly<Record<string, unknown>> = {},
): CheckpointInput {
  const specs = new Map(ganParamSpecs(cfg.model).map((s) => [s.name, s]));
  const tensors: Record<string, CheckpointTensor> = {};
  const put = (key: string, what: string, name: string, a: Float32Array, trainableOnly: boolean): void => {
    const s = specs.get(name);
    if (!s || (trainableOnly && !s.trainable)) throw new ShapeError(`GAN checkpoint: ${what} '${name}' is not a ${trainableOnly ? 'trainable ' : ''}tensor of this model`);
    if (!(a instanceof Float32Array)) throw new ShapeError(`GAN checkpoint: ${what} '${name}' is not a Float32Array`);
    if (a.length !== size(s)) throw new ShapeError(`GAN checkpoint: ${what} '${name}' has ${a.length} values, the config needs ${size(s)} (shape [${s.shape.join(', ')}])`);
    tensors[key] = { shape: s.shape, data: a };
  };
  for (const [name, w] of weights) put(name, 'tensor', name, w, false);
  for (const name of specs.keys()) if (!weights.has(name)) throw new ShapeError(`GAN checkpoint: tensor '${name}' is missing`);
  for (const [name, m] of state.adamM) put(`optimizer.m.${name}`, 'Adam first moment', name, m, true);
  for (const [name, v] of state.adamV) put(`optimizer.v.${name}`, 'Adam second moment', name, v, true);
  if (state.ema) {
    for (const [name, e] of state.ema) {
      if (!name.startsWith('generator.')) throw new ShapeError(`GAN checkpoint: EMA tensor '${name}' is not a generator tensor`);
      put(`ema.${name}`, 'EMA tensor', name, e, false);
    }
  }
  const t = cfg.train;
  const trainer: TrainerCounters = { batchInEpoch: state.batchInEpoch, dSteps: state.dSteps, partial: [...state.partial] };
  return {
    kind: GAN_CHECKPOINT_KIND,
    config: cfg as unknown as Record<string, unknown>,
    tensors,
    step: state.gSteps,
    epoch: state.epoch,
    optimizer: { name: 'adam', lrG: t.lrG, lrD: t.lrD, beta1: t.adamBeta1, beta2: t.adamBeta2, eps: t.adamEps, gSteps: state.gSteps, dSteps: state.dSteps },
    rng: state.rng,
    dataset,
    extra: { trainer, ...extra },
  };
}

/** The parts of a decoded checkpoint {@link ganFromCheckpoint} reads. */
export type GanCheckpointSource = Pick<LoadedCheckpoint, 'path' | 'weightsPath' | 'kind' | 'config' | 'tensors' | 'step' | 'epoch' | 'rng' | 'extra'>;

/** A GAN checkpoint's content, checked against its configuration. */
export interface GanCheckpoint {
  readonly config: GanRunConfig;
  /** Every named tensor of the networks (for `Gan.fromWeights`). */
  readonly weights: Map<string, Float32Array>;
  /** The trainer's state, for `GanTrainer.setState` (its `ema` is null when none was kept). */
  readonly state: GanTrainerState;
}

/**
 * The configuration, network tensors and trainer state of a decoded 'gan' checkpoint,
 * every tensor checked against the model configuration it records. The arrays are the
 * checkpoint's own (not copied).
 * @throws CheckpointError (one line, naming the file) for another kind, a bad model
 *   config, a missing, unknown or wrongly sized tensor, or no trainer state
 */
export function ganFromCheckpoint(ck: GanCheckpointSource): GanCheckpoint {
  if (ck.kind !== GAN_CHECKPOINT_KIND) throw new CheckpointError(ck.path, `checkpoint is a '${ck.kind}' model, expected '${GAN_CHECKPOINT_KIND}'`);
  const cfg = ck.config as unknown as GanRunConfig;
  let specs: Map<string, GanParamSpec>;
  try {
    specs = new Map(ganParamSpecs(cfg.model).map((s) => [s.name, s]));
  } catch (err) {
    throw new CheckpointError(ck.path, `bad model config (${(err as Error).message})`);
  }
  const weights = new Map<string, Float32Array>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  const ema = new Map<string, Float32Array>();
  for (const [key, t] of Object.entries(ck.tensors)) {
    const [map, name] = key.startsWith('optimizer.m.') ? [m, key.slice(12)] : key.startsWith('optimizer.v.') ? [v, key.slice(12)] : key.startsWith('ema.') ? [ema, key.slice(4)] : [weights, key];
    const s = specs.get(name);
    if (!s) throw new CheckpointError(ck.weightsPath, `tensor '${key}' is not part of the model config '${cfg.preset}' records`);
    if (t.data.length !== size(s)) throw new CheckpointError(ck.weightsPath, `tensor '${key}' has ${t.data.length} values, the config needs ${size(s)}`);
    map.set(name, t.data);
  }
  for (const name of specs.keys()) if (!weights.has(name)) throw new CheckpointError(ck.weightsPath, `missing tensor '${name}'`);
  const tr = ck.extra?.trainer as TrainerCounters | undefined;
  if (!tr || !ck.rng) throw new CheckpointError(ck.path, 'has no GAN trainer state to resume from');
  const state: GanTrainerState = {
    epoch: ck.epoch,
    batchInEpoch: tr.batchInEpoch,
    gSteps: ck.step,
    dSteps: tr.dSteps,
    rng: ck.rng,
    partial: tr.partial,
    adamM: m,
    adamV: v,
    ema: ema.size > 0 ? ema : null,
  };
  return { config: cfg, weights, state };
}

/**
 * Every named tensor of `gan` (spectral-norm vectors included) read with
 * `await data()`, by flat name in the order `Gan.getWeights` gives: the browser's
 * equivalent of that synchronous read, which would stall a GPU pipeline.
 * @throws ShapeError when a spectral-norm vector cannot be found among tfjs's variables
 */
export async function readGanWeights(gan: Gan): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, p] of gan.params) out.set(name, Float32Array.from((await p.data()) as Float32Array));
  // The spectral-norm vectors are private to Gan; they are tfjs variables named `<prefix>/<layer>.sn_u|v`
  // with the prefix of the model's own variables, so they are found by name.
  const first = gan.params.values().next().value as tf.Variable | undefined;
  const prefix = first ? first.name.slice(0, first.name.indexOf('/')) : '';
  const registered = tf.engine().registeredVariables;
  for (const s of ganParamSpecs(gan.config)) {
    if (s.role !== 'snU') continue;
    const layer = s.name.slice(0, -'.sn_u'.length);
    for (const key of [`${layer}.sn_u`, `${layer}.sn_v`]) {
      const v = registered[`${prefix}/${key}`];
      if (!v) throw new ShapeError(`GAN weights: spectral-norm vector '${key}' not found among tfjs's variables`);
      out.set(key, Float32Array.from((await v.data()) as Float32Array));
    }
  }
  return out;
}
