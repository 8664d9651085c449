/**
 * A training run on disk: epochs of {@link VaeTrainer} with validation, early
 * stopping, `metrics.jsonl` (one JSON line per epoch), an atomic checkpoint after
 * every epoch (`checkpoint.safetensors`), the best-validation weights
 * (`best.safetensors`), and a resumable checkpoint when interrupted mid-epoch.
 *
 * The loop yields to the event loop every few batches so a SIGINT handler can
 * request a stop; the run then saves and returns 'interrupted'.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { writeFileAtomic } from '../io/atomic.js';
import { dataFingerprint, loadVaeCheckpoint, saveVaeCheckpoint } from './checkpoint.js';
import { Vae, type VaeConfig } from './models.js';
import type { TrainConfig } from './presets.js';
import { VaeTrainer, type EpochMetrics, type LossTerms, type VaeData } from './train.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  checkpoint: 'checkpoint.safetensors',
  best: 'best.safetensors',
  metrics: 'metrics.jsonl',
  config: 'config.json',
} as const;

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** Run directory (must exist). */
  readonly dir: string;
  readonly preset: string | null;
  readonly model: VaeConfig;
  readonly train: TrainConfig;
  readonly seed: number;
  /** Training data, already binarised as `train.binarize` requires ('static' done by the caller). */
  readonly trainData: VaeData;
  /** Validation data for the per-epoch validation loss and early stopping. */
  readonly valData: VaeData | null;
  /** Name of the training data (stored in checkpoints). */
  readonly dataName: string;
  /** Continue from `dir/checkpoint.safetensors`. */
  readonly resume?: boolean;
  /** After each epoch. */
  readonly onEpoch?: (m: EpochMetrics) => void;
  /** After each batch: batches done in the epoch, batches per epoch. */
  readonly onBatch?: (done: number, total: number, t: LossTerms) => void;
  /** Polled between batches; true stops the run with a resumable checkpoint. */
  readonly shouldStop?: () => boolean;
}

/** Outcome of {@link trainRun}. */
export interface TrainRunResult {
  readonly model: Vae;
  readonly history: EpochMetrics[];
  readonly stopped: 'done' | 'early' | 'interrupted';
  /** Completed epochs (including those before a resume). */
  readonly epochs: number;
}

/**
 * Train (or resume) a VAE in `opts.dir`. The caller owns the returned model.
 * @throws CheckpointError on resume when the checkpoint is missing, of another
 *   kind, or was trained on different data
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainRunResult> {
  const ckptPath = join(opts.dir, RUN_FILES.checkpoint);
  const metricsPath = join(opts.dir, RUN_FILES.metrics);
  const fingerprint = dataFingerprint(opts.trainData, opts.dataName);
  let model: Vae;
  let trainer: VaeTrainer;
  let history: EpochMetrics[] = [];
  if (opts.resume) {
    const ck = loadVaeCheckpoint(ckptPath);
    const was = ck.meta.data;
    if (was && (was.sha256 !== fingerprint.sha256 || was.n !== fingerprint.n)) {
      throw new CheckpointError(ckptPath, `was trained on other data (${was.name}/${was.split}, n = ${was.n}, sha256 ${was.sha256.slice(0, 12)}…), not ${opts.dataName} (n = ${fingerprint.n}, sha256 ${fingerprint.sha256.slice(0, 12)}…)`);
    }
    if (!ck.trainer) throw new CheckpointError(ckptPath, 'has no trainer state to resume from');
    model = Vae.fromWeights(ck.meta.model, ck.weights);
    trainer = new VaeTrainer(model, { ...ck.meta.train, epochs: opts.train.epochs }, new Rng(opts.seed));
    trainer.setState(ck.trainer);
    if (existsSync(metricsPath)) {
      history = readFileSync(metricsPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as EpochMetrics)
        .filter((m) => m.epoch <= ck.trainer!.epoch);
    }
  } else {
    const rng = new Rng(opts.seed);
    model = Vae.create(opts.model, rng.split(1));
    trainer = new VaeTrainer(model, opts.train, rng.split(2));
  }
  const cfg = trainer.cfg;
  const save = (path: string, withTrainer: boolean) =>
    saveVaeCheckpoint(
      path,
      model,
      { preset: opts.preset, model: model.config, train: cfg, seed: opts.seed, data: fingerprint },
      withTrainer ? trainer.getState() : null,
    );
  const writeMetrics = () => writeFileAtomic(metricsPath, history.map((m) => JSON.stringify(m) + '\n').join(''));
  writeMetrics();
  let stopped: TrainRunResult['stopped'] = 'done';
  try {
    outer: while (trainer.epoch < cfg.epochs) {
      const t0 = performance.now();
      let t: LossTerms | null = null;
      for (;;) {
        t = trainer.trainEpoch(opts.trainData, { onBatch: opts.onBatch, shouldStop: opts.shouldStop, maxBatches: 8 });
        // Let signal handlers run between slices of batches.
        await new Promise((r) => setImmediate(r));
        if (t !== null) break;
        if (opts.shouldStop?.()) {
          stopped = 'interrupted';
          save(ckptPath, true);
          break outer;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const val = opts.valData ? trainer.evaluate(opts.valData) : undefined;
      const m: EpochMetrics = { epoch: trainer.epoch, step: trainer.step, train: t, ...(val ? { val } : {}), seconds };
      history.push(m);
      let stop = false;
      if (val) {
        const r = trainer.recordValidation(val.loss);
        if (r.improved) save(join(opts.dir, RUN_FILES.best), false);
        stop = r.stop;
      }
      save(ckptPath, true);
      writeMetrics();
      opts.onEpoch?.(m);
      if (stop) {
        stopped = 'early';
        break;
      }
      if (opts.shouldStop?.()) {
        stopped = 'interrupted';
        break;
      }
    }
  } finally {
    trainer.dispose();
  }
  return { model, history, stopped, epochs: trainer.epoch };
}
