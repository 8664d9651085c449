/**
 * The classifier's training run on the run layer (node-only: files): the data splits
 * (MNIST: only the official test set is offline, so images 0…7999 train and 8000…9999
 * score, `mnist-test-split`), a normal run directory with a resumable checkpoint, and the
 * weights-only `lenet-<data>.json` that is committed under models/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, RunError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { loadImageDataset } from '../data/datasets.js';
import { fingerprint, loadCheckpoint, saveCheckpoint, type CheckpointTensor } from '../io/checkpoint.js';
import {
  CLASSIFIER_FILES,
  CLASSIFIER_KIND,
  ClassifierTrainer,
  FeatureClassifier,
  LeNet,
  classifierParamCount,
  pixelsToSigned,
  validateClassifierData,
  type ClassifierConfig,
  type ClassifierData,
  type ClassifierDataset,
  type ClassifierTrainConfig,
} from './classifier.js';
import type { RunListener, RunStatus } from '../run/events.js';
import { runTraining } from '../run/loop.js';
import { checkResumeFlags, prepareRun } from '../run/run-dir.js';

/** MNIST images 0…7999 of the official test set train the MNIST classifier; 8000…9999 score it. */
export const MNIST_TRAIN_IMAGES = 8000;

/** A dataset's classifier train and evaluation data. */
export interface ClassifierSplits {
  readonly train: ClassifierData;
  readonly eval: ClassifierData;
  /** `train` / `test` for Fashion-MNIST; `mnist-test[0:8000]` / `mnist-test-split` for MNIST. */
  readonly trainSplit: string;
  readonly evalSplit: string;
}

/** Load the train and evaluation data of `dataset` scaled to [−1, 1] (see the module comment for MNIST). */
export function loadClassifierData(dataset: ClassifierDataset, dir?: string): ClassifierSplits {
  const o = dir !== undefined ? { dir } : {};
  const conv = (pixels: Uint8Array, labels: Uint8Array): ClassifierData => ({ n: labels.length, x: pixelsToSigned(pixels), labels: Uint8Array.from(labels) });
  if (dataset === 'fashion-mnist') {
    const tr = loadImageDataset('fashion-mnist', 'train', o);
    const te = loadImageDataset('fashion-mnist', 'test', o);
    return { train: conv(tr.pixels, tr.labels), eval: conv(te.pixels, te.labels), trainSplit: 'train', evalSplit: 'test' };
  }
  const te = loadImageDataset('mnist', 'test', o);
  const D = te.rows * te.cols;
  const k = Math.min(MNIST_TRAIN_IMAGES, te.n - 1);
  return {
    train: conv(te.pixels.subarray(0, k * D), te.labels.subarray(0, k)),
    eval: conv(te.pixels.subarray(k * D), te.labels.subarray(k)),
    trainSplit: `mnist-test[0:${k}]`,
    evalSplit: 'mnist-test-split',
  };
}

/** Options of {@link trainClassifierRun}. */
export interface ClassifierRunOptions {
  readonly dir: string;
  readonly dataset: ClassifierDataset;
  readonly model: ClassifierConfig;
  readonly train: ClassifierTrainConfig;
  readonly seed: number;
  readonly data: ClassifierSplits;
  /** The resolved configuration for config.json (a new run); a resume keeps the stored one. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly resume?: boolean;
  readonly force?: boolean;
  /** On resume: flags the user gave, flag → [config path, value]. */
  readonly given?: Readonly<Record<string, readonly [string, unknown]>>;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
}

/** Outcome of {@link trainClassifierRun}. */
export interface ClassifierRunResult {
  readonly status: RunStatus;
  readonly epochs: number;
  readonly step: number;
  /** Accuracy on the evaluation split after the last completed epoch (null when none completed in this call). */
  readonly accuracy: number | null;
  /** The weights-only manifest written at the end (null when interrupted). */
  readonly exported: string | null;
}

const CKPT = 'checkpoint';

interface StoredMeta {
  model: ClassifierConfig;
  train: ClassifierTrainConfig;
  seed: number;
}

/** Check that a classifier run can start or resume in `dir`, without writing. */
export function checkClassifierRun(opts: Pick<ClassifierRunOptions, 'dir' | 'resume' | 'force' | 'given'>): void {
  const p = prepareRun({ dir: opts.dir, command: 'classifier train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const { ['--epochs']: _e, ...fixed } = opts.given ?? {};
  if (p.stored) checkResumeFlags(opts.dir, p.stored, fixed);
}

/**
 * Train (or resume exactly) the classifier in `opts.dir` on the shared run layer: one
 * checkpoint per epoch and on interrupt, the evaluation accuracy in metrics.jsonl,
 * and at the end the weights-only `lenet-<dataset>.json` (+ weights).
 * @throws RunError/CheckpointError before any write when the directory or resume is wrong
 */
export async function trainClassifierRun(opts: ClassifierRunOptions): Promise<ClassifierRunResult> {
  const prepared = prepareRun({ dir: opts.dir, command: 'classifier train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const stored = prepared.stored;
  const { ['--epochs']: _e, ...fixed } = opts.given ?? {};
  if (stored) checkResumeFlags(opts.dir, stored, fixed);
  const ckptPath = join(opts.dir, `${CKPT}.json`);
  const fp = fingerprint(opts.data.train.x, { name: opts.dataset, split: opts.data.trainSplit, n: opts.data.train.n });
  let net: LeNet;
  let trainer: ClassifierTrainer;
  let meta: StoredMeta;
  const restart = stored !== null && !existsSync(ckptPath);
  if (stored && !restart) {
    const ck = loadCheckpoint(ckptPath, { kind: CLASSIFIER_KIND, allowExtra: true });
    if (ck.dataset && (ck.dataset.sha256 !== fp.sha256 || ck.dataset.n !== fp.n)) throw new CheckpointError(ckptPath, `was trained on other data (${ck.dataset.name}/${ck.dataset.split}, n = ${ck.dataset.n}), not ${fp.name}/${fp.split} (n = ${fp.n})`);
    const was = ck.config as unknown as StoredMeta;
    const epochs = opts.given?.['--epochs'] !== undefined ? opts.train.epochs : was.train.epochs;
    if (epochs < ck.epoch) throw new RunError(`--epochs ${epochs}: the run in ${opts.dir} has already done ${ck.epoch} epochs (--epochs is the total)`);
    meta = { ...was, train: { ...was.train, epochs } };
    const st = ck.optimizer as { batchInEpoch: number; partial: [number, number, number] } | undefined;
    if (!st || !ck.rng) throw new CheckpointError(ckptPath, 'has no trainer state to resume from');
    net = LeNet.fromWeights(meta.model, ck.tensors, ckptPath);
    trainer = new ClassifierTrainer(net, meta.train, new Rng(meta.seed));
    const moments = (p: string) => new Map([...net.params.keys()].map((k) => [k, ck.tensors[`optimizer.${p}.${k}`]?.data ?? new Float32Array(0)]));
    trainer.setState({ epoch: ck.epoch, batchInEpoch: st.batchInEpoch, step: ck.step, rng: ck.rng, partial: st.partial, adamM: moments('m'), adamV: moments('v') });
  } else {
    meta = restart ? { model: stored.model as ClassifierConfig, train: { ...(stored.train as ClassifierTrainConfig), ...(opts.given?.['--epochs'] !== undefined ? { epochs: opts.train.epochs } : {}) }, seed: Number(stored.seed) } : { model: opts.model, train: opts.train, seed: opts.seed };
    const rng = new Rng(meta.seed);
    net = LeNet.create(meta.model, rng.split(1));
    trainer = new ClassifierTrainer(net, meta.train, rng.split(2));
  }
  validateClassifierData(opts.data.train, meta.model, `${opts.dataset}/${opts.data.trainSplit}`);
  validateClassifierData(opts.data.eval, meta.model, `${opts.dataset}/${opts.data.evalSplit}`);
  const config = stored ? { ...stored, train: meta.train } : opts.config;
  const run = prepared.commit(config, trainer.epoch);
  if (restart) run.truncateMetrics(0);
  const clf = new FeatureClassifier(net, { dataset: opts.dataset, evalSplit: opts.data.evalSplit, source: opts.dir });
  const evalAcc = () => clf.accuracy(opts.data.eval.x, opts.data.eval.labels, opts.data.eval.n);
  const save = () => {
    const st = trainer.getState();
    const tensors: Record<string, CheckpointTensor> = { ...net.weights() };
    for (const [k, v] of st.adamM) tensors[`optimizer.m.${k}`] = { shape: [v.length], data: v };
    for (const [k, v] of st.adamV) tensors[`optimizer.v.${k}`] = { shape: [v.length], data: v };
    saveCheckpoint(
      opts.dir,
      { kind: CLASSIFIER_KIND, config: { ...meta, dataset: opts.dataset }, tensors, step: st.step, epoch: st.epoch, optimizer: { name: 'adam', batchInEpoch: st.batchInEpoch, partial: [...st.partial] }, rng: st.rng, dataset: fp },
      CKPT,
    );
    return ckptPath;
  };
  let accuracy: number | null = null;
  let t0 = performance.now();
  try {
    const res = await runTraining(
      {
        get epoch() {
          return trainer.epoch;
        },
        get step() {
          return trainer.step;
        },
        batchesPerEpoch: Math.ceil(opts.data.train.n / meta.train.batchSize),
        advance(maxBatches, onBatch) {
          const m = trainer.trainEpoch(opts.data.train, { maxBatches, onBatch: (done, _t, loss) => onBatch?.(done, loss), shouldStop: () => opts.signal?.aborted === true });
          return m === null ? null : { loss: m.loss, accuracy: m.accuracy };
        },
        nonFinite: () => {
          for (const [name, v] of net.params) {
            const d = v.dataSync();
            for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return name;
          }
          return null;
        },
        save,
      },
      {
        epochs: meta.train.epochs,
        saveEvery: 1,
        dir: opts.dir,
        resumed: prepared.resumed,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
        afterEpoch: (_epoch, m) => {
          const trainSeconds = (performance.now() - t0) / 1000;
          accuracy = evalAcc();
          const row = { epoch: trainer.epoch, step: trainer.step, loss: m.loss!, accuracy: m.accuracy!, evalAccuracy: accuracy, seconds: trainSeconds };
          run.appendMetrics({ ...row, evalSplit: opts.data.evalSplit });
          t0 = performance.now();
          return { loss: row.loss, accuracy: row.accuracy, evalAccuracy: accuracy, seconds: trainSeconds };
        },
      },
    );
    let exported: string | null = null;
    if (res.status !== 'interrupted') {
      accuracy ??= evalAcc();
      const name = CLASSIFIER_FILES[opts.dataset];
      saveCheckpoint(
        opts.dir,
        {
          kind: CLASSIFIER_KIND,
          config: { model: meta.model, dataset: opts.dataset, evalSplit: opts.data.evalSplit, trainSplit: opts.data.trainSplit, accuracy, train: meta.train, seed: meta.seed, parameters: classifierParamCount(meta.model) },
          tensors: net.weights(),
          step: trainer.step,
          epoch: trainer.epoch,
          dataset: fp,
        },
        name,
      );
      exported = join(opts.dir, `${name}.json`);
    }
    return { status: res.status, epochs: res.epoch, step: res.step, accuracy, exported };
  } finally {
    clf.dispose();
  }
}

