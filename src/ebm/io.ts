/**
 * Saving and loading energy models (and their trainers) as genphys checkpoints
 * (safetensors + JSON, kind 'rbm'). Tensor names are flat: `rbm.W`, `rbm.a`,
 * `rbm.b`, `rbm.logSigma2`; trainer state sits under `optimizer.` and `trainer.`.
 */
import { CheckpointError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor, type DatasetFingerprint } from '../io/checkpoint.js';
import type { EnergyModel } from './model.js';
import { BernoulliRBM, GaussianBernoulliRBM, type BernoulliRBMOptions, type GaussianBernoulliRBMOptions } from './rbm.js';
import { Trainer, type TrainerState, type TrainOptions } from './train.js';
import { createModel as createRegistered, registerModel } from '../run/registry.js';

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

/** What {@link saveModel} stores besides the model. */
export interface SaveModelOptions {
  /** The trainer whose state (optimiser moments, chains, RNG, step) is saved for resuming. */
  readonly trainer?: Trainer;
  /** Extra JSON (metrics, data description). */
  readonly extra?: Record<string, unknown>;
  /** Training-data fingerprint. */
  readonly dataset?: DatasetFingerprint;
  /** Base name of the files in `dir` (default 'checkpoint'). */
  readonly name?: string;
  /** Step and epoch to record when no trainer is given (e.g. the best model of a run). */
  readonly at?: { readonly step: number; readonly epoch: number };
}

/** Save a model (and optionally its trainer) to `dir`; returns the two file paths. */
export function saveModel(dir: string, model: EnergyModel, opts: SaveModelOptions = {}): { json: string; weights: string } {
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
  return saveCheckpoint(
    dir,
    {
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
    },
    opts.name,
  );
}

/** A model read back by {@link loadModel}. */
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

/** Load a model saved by {@link saveModel} from a directory or checkpoint file. */
export function loadModel(path: string, opts: { name?: string } = {}): LoadedModel {
  const ck = loadCheckpoint(path, { kind: RBM_CHECKPOINT_KIND, allowExtra: true, ...(opts.name ? { name: opts.name } : {}) });
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
