/**
 * A VAE training run on disk, on the shared run layer (`src/run/`): epochs of
 * {@link VaeTrainer} with validation and early stopping, `metrics.jsonl`, a crash-safe
 * checkpoint after every epoch (`checkpoint.json` + weights), the best-validation
 * weights (`best.json` + weights), divergence stops, and an exact resume, also from
 * the middle of an epoch. Node-only (files).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, RunError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { runTraining } from '../run/loop.js';
import type { RunListener, RunStatus } from '../run/events.js';
import { checkResumeFlags, prepareRun } from '../run/run-dir.js';
import { dataFingerprint, loadVaeCheckpoint, saveVaeCheckpoint } from './checkpoint.js';
import { Vae, type VaeConfig } from './models.js';
import type { TrainConfig } from './presets.js';
import { VaeTrainer, type EpochMetrics, type LossTerms, type VaeData } from './train.js';
import { reconstructions } from './plots.js';
import { facetLinePlotSvg, writeSvg } from '../viz/plot.js';
import { writeLabelledImageGrid } from '../viz/png.js';

/** File names inside a run directory (checkpoints are named by their manifest). */
export const RUN_FILES = {
  checkpoint: 'checkpoint.json',
  best: 'best.json',
  metrics: 'metrics.jsonl',
  config: 'config.json',
} as const;

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** Run directory. */
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
  /** The resolved configuration for config.json (a new run); a resume keeps the stored one. */
  readonly config: Readonly<Record<string, unknown>>;
  /** The command recorded in config.json (default 'vae train'). */
  readonly command?: string;
  /** Continue the run in `dir` exactly. */
  readonly resume?: boolean;
  /** Replace the run in `dir`. */
  readonly force?: boolean;
  /** On resume: flags the user gave, flag → [config path, value]; a conflict is an error. */
  readonly given?: Readonly<Record<string, readonly [string, unknown]>>;
  /** Aborting stops after the current batch with a resumable checkpoint. */
  readonly signal?: AbortSignal;
  /** Progress events. */
  readonly onEvent?: RunListener;
  /** After each epoch. */
  readonly onEpoch?: (m: EpochMetrics) => void;
}

/** Outcome of {@link trainRun}. */
export interface TrainRunResult {
  readonly model: Vae;
  readonly history: EpochMetrics[];
  readonly stopped: RunStatus;
  /** Completed epochs (including those before a resume). */
  readonly epochs: number;
  readonly step: number;
}

/**
 * Check that a VAE run can start (or resume) in `dir` as asked, without writing.
 * @returns the stored config on resume, else null
 */
export function checkVaeRun(opts: Pick<TrainRunOptions, 'dir' | 'resume' | 'force' | 'given' | 'command'>): Readonly<Record<string, unknown>> | null {
  const p = prepareRun({ dir: opts.dir, command: opts.command ?? 'vae train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const { ['--epochs']: _epochs, ...fixed } = opts.given ?? {};
  if (p.stored) checkResumeFlags(opts.dir, p.stored, fixed);
  return p.stored;
}

function nonFiniteParam(model: Vae): string | null {
  for (const [name, v] of model.params) {
    const d = v.dataSync() as Float32Array;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return name;
  }
  return null;
}

/**
 * Train (or resume) a VAE in `opts.dir`. The caller owns the returned model.
 * @throws RunError/CheckpointError before anything is written when the directory is
 *   taken, the resume conflicts, or the checkpoint was trained on other data;
 *   DivergenceError when training diverges (the last good checkpoint is kept)
 */
export async function trainRun(opts: TrainRunOptions): Promise<TrainRunResult> {
  const prepared = prepareRun({ dir: opts.dir, command: opts.command ?? 'vae train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const stored = prepared.stored;
  // --epochs (the total) may be raised on resume; every other flag must agree with the run.
  const { ['--epochs']: _epochs, ...fixed } = opts.given ?? {};
  if (stored) checkResumeFlags(opts.dir, stored, fixed);
  const ckptPath = join(opts.dir, RUN_FILES.checkpoint);
  const fingerprint = dataFingerprint(opts.trainData, opts.dataName);
  let model: Vae;
  let trainer: VaeTrainer;
  let seed = opts.seed;
  let epochs = opts.train.epochs;
  // A run killed after its config was written but before its first checkpoint starts over from the stored config.
  const restart = stored !== null && !existsSync(ckptPath);
  if (stored && !restart) {
    const ck = loadVaeCheckpoint(ckptPath);
    const was = ck.meta.data;
    if (was && (was.sha256 !== fingerprint.sha256 || was.n !== fingerprint.n)) {
      throw new CheckpointError(ckptPath, `was trained on other data (${was.name}/${was.split}, n = ${was.n}, sha256 ${was.sha256.slice(0, 12)}…), not ${opts.dataName} (n = ${fingerprint.n}, sha256 ${fingerprint.sha256.slice(0, 12)}…)`);
    }
    if (!ck.trainer) throw new CheckpointError(ckptPath, 'has no trainer state to resume from');
    seed = ck.meta.seed;
    if (opts.given?.['--epochs'] === undefined) epochs = ck.meta.train.epochs;
    if (epochs < ck.trainer.epoch) throw new RunError(`--epochs ${epochs}: the run in ${opts.dir} has already done ${ck.trainer.epoch} epochs (--epochs is the total)`);
    model = Vae.fromWeights(ck.meta.model, ck.weights);
    trainer = new VaeTrainer(model, { ...ck.meta.train, epochs }, new Rng(seed));
    trainer.setState(ck.trainer);
  } else {
    const mc = restart ? (stored!.model as VaeConfig) : opts.model;
    const tc = restart ? { ...(stored!.train as TrainConfig), ...(opts.given?.['--epochs'] !== undefined ? { epochs } : {}) } : opts.train;
    if (restart) seed = Number(stored!.seed);
    epochs = tc.epochs;
    const rng = new Rng(seed);
    model = Vae.create(mc, rng.split(1));
    trainer = new VaeTrainer(model, tc, rng.split(2));
  }
  const cfg = trainer.cfg;
  const config = stored
    ? { ...stored, train: { ...(stored.train as object), epochs } }
    : { ...opts.config, command: opts.command ?? 'vae train', seed: opts.seed, preset: opts.preset, model: opts.model, train: opts.train };
  const run = prepared.commit(config, trainer.epoch);
  if (restart) run.truncateMetrics(0);
  const history = run.readMetrics() as unknown as EpochMetrics[];
  const save = (name: string, withTrainer: boolean) =>
    saveVaeCheckpoint(join(opts.dir, `${name}.safetensors`), model, { preset: (stored?.preset as string | null | undefined) ?? opts.preset, model: model.config, train: cfg, seed, data: fingerprint }, withTrainer ? trainer.getState() : null);
  const batches = Math.ceil(opts.trainData.n / cfg.batchSize);
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
        batchesPerEpoch: batches,
        advance(maxBatches, onBatch) {
          const t: LossTerms | null = trainer.trainEpoch(opts.trainData, {
            maxBatches,
            onBatch: (done, _total, terms) => onBatch?.(done, terms.loss),
            shouldStop: () => opts.signal?.aborted === true,
          });
          return t === null ? null : { loss: t.loss, rec: t.rec, kl: t.kl };
        },
        nonFinite: () => nonFiniteParam(model),
        save: () => {
          save('checkpoint', true);
          return ckptPath;
        },
      },
      {
        epochs,
        saveEvery: 1,
        dir: opts.dir,
        resumed: prepared.resumed,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
        afterEpoch: (_epoch, m) => {
          const seconds = (performance.now() - t0) / 1000;
          const val = opts.valData ? trainer.evaluate(opts.valData) : undefined;
          const train = { loss: m.loss!, rec: m.rec!, kl: m.kl! };
          const row: EpochMetrics = { epoch: trainer.epoch, step: trainer.step, train, ...(val ? { val } : {}), seconds };
          history.push(row);
          run.appendMetrics(row as unknown as Record<string, unknown>);
          writeReconstructions(opts.dir, model, opts.valData ?? opts.trainData);
          opts.onEpoch?.(row);
          t0 = performance.now();
          let stop = false;
          if (val) {
            if (!Number.isFinite(val.loss)) return { loss: val.loss };
            const r = trainer.recordValidation(val.loss);
            if (r.improved) save('best', false);
            stop = r.stop;
          }
          const flat: Record<string, number> = { loss: train.loss, rec: train.rec, kl: train.kl, ...(val ? { valLoss: val.loss, valRec: val.rec, valKl: val.kl } : {}), seconds };
          return stop ? 'stop' : flat;
        },
      },
    );
    await writeVaeCurves(opts.dir, history);
    return { model, history, stopped: res.status, epochs: res.epoch, step: res.step };
  } finally {
    trainer.dispose();
  }
}

/** Examples in the reconstruction grid. */
const RECON_COUNT = 16;

/**
 * `reconstruction.png` (and `.svg`, with the rows named): the first 16 examples (top row)
 * above their reconstructions (the decoder's means at the encoder's means, bottom row),
 * redrawn after every epoch.
 * Single-channel images only.
 */
export function writeReconstructions(dir: string, model: Vae, data: VaeData): void {
  const [h, w, c] = model.config.inputShape;
  if (c !== 1 || data.n === 0) return;
  const m = Math.min(RECON_COUNT, data.n);
  writeLabelledImageGrid(join(dir, 'reconstruction.png'), join(dir, 'reconstruction.svg'), reconstructions(model, data, m), 2 * m, h, w, { cols: m, scale: h < 16 ? 4 : 2 }, {
    title: 'reconstructions (decoder mean at the encoder mean)',
    rowLabels: ['input', 'reconstruction'],
  });
}

/**
 * `curve-loss.svg`: the negative ELBO per example and its two terms (reconstruction and
 * KL), training and validation, against the epoch.
 */
export async function writeVaeCurves(dir: string, history: readonly EpochMetrics[]): Promise<void> {
  if (history.length === 0) return;
  const x = history.map((r) => r.epoch);
  const panel = (title: string, key: 'loss' | 'rec' | 'kl') => {
    const series = [{ name: 'train', x, y: history.map((r) => r.train[key]) }];
    const v = history.filter((r) => r.val);
    if (v.length > 0) series.push({ name: 'validation', x: v.map((r) => r.epoch), y: v.map((r) => r.val![key]) });
    return { title, yLabel: 'nats per example', series };
  };
  const svg = await facetLinePlotSvg({
    title: 'VAE loss per example: reconstruction + β·KL (the negative ELBO at β = 1)',
    xLabel: 'epoch',
    columns: 3,
    width: 260,
    height: 200,
    panels: [panel('−ELBO', 'loss'), panel('reconstruction −E_q[log p(x|h)]', 'rec'), panel('KL(q(h|x) ‖ p(h))', 'kl')],
  });
  writeSvg(join(dir, 'curve-loss.svg'), svg);
}
