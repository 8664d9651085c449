/**
 * Energy models (and their trainers) as checkpoint content, browser-safe: what goes in
 * a checkpoint of kind 'rbm' ({@link rbmCheckpointInput}) and the model rebuilt from one
 * ({@link rbmFromCheckpoint}). Pair with `encodeCheckpoint`/`decodeCheckpoint` in a
 * browser, or use `saveModel`/`loadModel` (`io.ts`) on files. Tensor names are flat:
 * `rbm.W`, `rbm.a`, `rbm.b`, `rbm.logSigma2`; trainer state sits under `optimizer.` and
 * `trainer.`. Loading this module registers the 'bernoulli-rbm' and
 * 'gaussian-bernoulli-rbm' kinds, so a browser decode can rebuild them.
 */
import { CheckpointError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { CheckpointInput, CheckpointTensor, DatasetFingerprint, LoadedCheckpoint } from '../io/checkpoint-codec.js';
import { createModel as createRegistered, registerModel } from '../run/registry.js';
import type { EnergyModel } from './model.js';
import { BernoulliRBM, GaussianBernoulliRBM, type BernoulliRBMOptions, type GaussianBernoulliRBMOptions } from './rbm.js';
import { Trainer, type TrainerState, type TrainOptions } from './train.js';

/** Checkpoint kind used for every two-layer energy model. */
export const RBM_CHECKPOINT_KIND = 'rbm';

registerModel<EnergyModel>('ebm', 'bernoulli-rbm', (c) => new BernoulliRBM(c as unknown as BernoulliRBMOptions));
registerModel<EnergyModel>('ebm', 'gaussian-bernoulli-rbm', (c) => new GaussianBernoulliRBM(c as unknown as GaussianBernoulliRBMOptions));

/** Largest layer product a checkpoint may ask for before anything is allocated (2³¹ weights, 8 GiB). */
const MAX_WEIGHTS = 2 ** 31;

/**
 * Rebuild an empty model from its configuration through the model registry (kinds
 * register themselves: 'bernoulli-rbm', 'gaussian-bernoulli-rbm' here, 'lattice-spin-rbm'
 * in physics). Sizes are checked before anything is allocated.
 * @param source - the checkpoint file, for messages
 */
export function createModel(kind: string, config: Readonly<Record<string, unknown>>, source = kind): EnergyModel {
  const nv = config.nVisible;
  const nh = config.nHidden;
  for (const [k, v] of [['nVisible', nv], ['nHidden', nh]] as const) {
    if (!Number.isSafeInteger(v) || (v as number) < 1) throw new CheckpointError(source, `config.model.${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if ((nv as number) * (nh as number) > MAX_WEIGHTS) throw new CheckpointError(source, `config.model asks for ${nv} × ${nh} weights, more than this genphys loads (2^31)`);
  return createRegistered<EnergyModel>('ebm', kind, config, source);
}

/** What {@link rbmCheckpointInput} stores besides the model. */
export interface RbmCheckpointOptions {
  /** The trainer whose state (optimiser moments, chains, RNG, step) is saved for resuming. */
  readonly trainer?: Trainer;
  /** Extra JSON (metrics, data description). */
  readonly extra?: Record<string, unknown>;
  /** Training-data fingerprint. */
  readonly dataset?: DatasetFingerprint;
  /** Step and epoch to record when no trainer is given (e.g. the best model of a run). */
  readonly at?: { readonly step: number; readonly epoch: number };
}

/**
 * The checkpoint content of `model` (and optionally its trainer). The tensors alias the
 * model's and trainer's arrays; encoding copies them, so encode before training on.
 */
export function rbmCheckpointInput(model: EnergyModel, opts: RbmCheckpointOptions = {}): CheckpointInput {
  const tensors: Record<string, CheckpointTensor> = {};
  for (const [k, v] of Object.entries(model.params)) {
    const shape = k === 'W' ? [model.nVisible, model.nHidden] : [v.length];
    tensors[`rbm.${k}`] = { shape, data: v };
  }
  let trainerJson: TrainerState['json'] | undefined;
  if (opts.trainer) {
    const st = opts.trainer.getState();
    trainerJson = st.json;
    for (const [k, v] of Object.entries(st.tensors)) tensors[k.startsWith('opt.') ? `optimizer.${k.slice(4)}` : `trainer.${k}`] = { shape: [v.length], data: v };
  }
  return {
    kind: RBM_CHECKPOINT_KIND,
    config: { model: { kind: model.kind, ...model.config }, ...(trainerJson ? { train: trainerJson.options } : {}) },
    tensors,
    step: opts.trainer?.step ?? opts.at?.step ?? 0,
    epoch: opts.trainer?.epoch ?? opts.at?.epoch ?? 0,
    ...(trainerJson
      ? {
          optimizer: {
            step: trainerJson.step,
            ptBetas: trainerJson.ptBetas,
            ptParity: trainerJson.ptParity,
            avgCount: trainerJson.avgCount ?? 0,
            avgPlanEnd: trainerJson.avgPlanEnd ?? null,
            planEnd: trainerJson.planEnd ?? null,
            batchInEpoch: trainerJson.batchInEpoch ?? 0,
            epochStart: trainerJson.epochStart ?? null,
            recSum: trainerJson.recSum ?? 0,
          },
          rng: trainerJson.rng,
        }
      : {}),
    ...(opts.dataset ? { dataset: opts.dataset } : {}),
    ...(opts.extra ? { extra: opts.extra } : {}),
  };
}

/** A model read back by {@link rbmFromCheckpoint} (or `loadModel`). */
export interface LoadedModel {
  /** The rebuilt model with its learned parameters. */
  readonly model: EnergyModel;
  /** Training options stored with it, if any. */
  readonly train?: TrainOptions;
  /** Epochs completed when saved. */
  readonly epoch: number;
  /** Updates done when saved. */
  readonly step: number;
  /** Extra JSON stored with it. */
  readonly extra?: Record<string, unknown>;
  /** Rebuild the trainer (state restored) for resuming; `rng` is reset to the saved stream. */
  resumeTrainer(rng: Rng): Trainer;
}

/** The parts of a decoded checkpoint {@link rbmFromCheckpoint} reads. */
export type RbmCheckpointSource = Pick<
  LoadedCheckpoint,
  'path' | 'weightsPath' | 'kind' | 'config' | 'tensors' | 'step' | 'epoch' | 'optimizer' | 'rng' | 'extra'
>;

/**
 * Rebuild the model of a decoded 'rbm' checkpoint: its kind through the registry, every
 * parameter tensor present with the shape the model needs, constraints re-applied.
 * The model's arrays are fresh copies; the checkpoint is not modified.
 * @throws CheckpointError naming the file, for another kind, a missing or misshapen tensor
 */
export function rbmFromCheckpoint(ck: RbmCheckpointSource): LoadedModel {
  if (ck.kind !== RBM_CHECKPOINT_KIND) throw new CheckpointError(ck.path, `checkpoint is a '${ck.kind}' model, expected '${RBM_CHECKPOINT_KIND}'`);
  const mc = ck.config.model as Record<string, unknown> | undefined;
  if (!mc || typeof mc.kind !== 'string') throw new CheckpointError(ck.path, 'config.model.kind is missing');
  const model = createModel(mc.kind, mc, ck.path);
  for (const [k, v] of Object.entries(model.params)) {
    const t = ck.tensors[`rbm.${k}`];
    if (!t) throw new CheckpointError(ck.weightsPath, `tensor 'rbm.${k}' is missing`);
    const want = k === 'W' ? [model.nVisible, model.nHidden] : [v.length];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new CheckpointError(ck.weightsPath, `tensor 'rbm.${k}' has shape [${t.shape.join(', ')}], the model needs [${want.join(', ')}]`);
    }
    v.set(t.data);
  }
  // A constrained model (tied or zeroed parameters) must load in its subspace.
  model.project?.();
  const train = ck.config.train as TrainOptions | undefined;
  return {
    model,
    ...(train ? { train } : {}),
    epoch: ck.epoch,
    step: ck.step,
    ...(ck.extra ? { extra: ck.extra } : {}),
    resumeTrainer(rng: Rng): Trainer {
      const trainer = new Trainer(model, train ?? {}, rng);
      if (ck.rng && ck.optimizer) {
        const tensors: Record<string, Float32Array> = {};
        for (const [k, t] of Object.entries(ck.tensors)) {
          if (k.startsWith('optimizer.')) tensors[`opt.${k.slice(10)}`] = t.data;
          else if (k.startsWith('trainer.')) tensors[k.slice(8)] = t.data;
        }
        const o = ck.optimizer as Partial<TrainerState['json']>;
        trainer.setState({
          json: {
            step: ck.step,
            epoch: ck.epoch,
            rng: ck.rng,
            options: trainer.options,
            ptBetas: o.ptBetas ?? null,
            ptParity: o.ptParity ?? 0,
            avgCount: o.avgCount ?? 0,
            avgPlanEnd: o.avgPlanEnd ?? null,
            planEnd: o.planEnd ?? null,
            batchInEpoch: o.batchInEpoch ?? 0,
            epochStart: o.epochStart ?? null,
            recSum: o.recSum ?? 0,
          },
          tensors,
        });
      }
      return trainer;
    },
  };
}
