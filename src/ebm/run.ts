/**
 * An RBM training run on disk, on the shared run layer (`src/run/`): the run directory,
 * exact resume (the trainer's stream and mid-epoch position, the data stream of dynamic
 * binarisation, the metric stream, the schedule's plan), crash-safe checkpoints,
 * divergence stops, progress events. `genphys rbm train` is this function plus flag
 * parsing. Node-only (files).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, RunError, UsageError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { fingerprint, loadCheckpoint } from '../io/checkpoint.js';
import { checkAllocation } from '../run/resources.js';
import { runTraining, type LoopResult } from '../run/loop.js';
import type { RunListener } from '../run/events.js';
import { checkResumeFlags, prepareRun } from '../run/run-dir.js';
import { linePlotSvg, writeFilterGrid, writeImageGrid, writeSvg } from '../viz/index.js';
import { loadEbmData, type Binarization, type EbmData } from './data.js';
import { loadModel, saveModel } from './io.js';
import { freeEnergyGap, logLikelihood, pseudoLikelihood } from './metrics.js';
import { chainFlipRate } from './mixing.js';
import type { EnergyModel } from './model.js';
import { ais, enumerableLayer, exactLogZ, reverseAis } from './partition.js';
import { BernoulliRBM, GaussianBernoulliRBM } from './rbm.js';
import { Trainer, resolveTrainOptions, type TrainOptions } from './train.js';
import { exactPhaseInitStd } from './exact-phase.js';

/** Visible unit type. */
export type VisibleUnits = 'binary' | 'spin' | 'gaussian';

/** The data a run trains on. */
export interface RbmDataSpec {
  /** fashion-mnist | mnist | bars-and-stripes:<n> | spins:<file> */
  readonly spec: string;
  readonly binarize: Binarization;
  readonly limit?: number;
  readonly dir?: string;
}

/** Options of {@link trainRbmRun}. */
export interface RbmRunOptions {
  /** Run directory. */
  readonly dir: string;
  /** Continue the run in `dir` exactly. */
  readonly resume?: boolean;
  /** Replace the run in `dir`. */
  readonly force?: boolean;
  /**
   * On resume: the flags the user gave, flag → [config path, value], each checked
   * against the stored run (a conflict is an error naming the flag and both values).
   */
  readonly given?: Readonly<Record<string, readonly [string, unknown]>>;
  readonly seed: number;
  readonly data: RbmDataSpec;
  /** Hidden units (new runs). */
  readonly hidden: number;
  /** Visible units (default from the data). */
  readonly visible?: VisibleUnits;
  /** Standard deviation of the initial weights (new runs; default {@link exactPhaseInitStd} when the exact method is used, else the model's 0.01). */
  readonly initStd?: number;
  readonly train: TrainOptions;
  /** Total epochs (a resume may raise it to train longer). */
  readonly epochs: number;
  /** Exact log-likelihood every n epochs when a layer has ≤ 20 units (0: never). */
  readonly exactEvery: number;
  /**
   * Early stopping: end the run when the held-out exact log-likelihood (the training one
   * without a test split) has not improved for this many evaluations (0 or absent: off).
   * The best model so far is kept as `best.json` in the run directory.
   */
  readonly earlyStop?: number;
  /**
   * Every n epochs (0 or absent: never), bound the held-out log-likelihood from both sides
   * for models too large to enumerate: forward AIS (log Ẑ low in expectation, so `aisLL` is
   * an optimistic estimate) and reverse AIS from the held-out data (`reverseAisLL`, a
   * pessimistic one); Burda, Grosse & Salakhutdinov, AISTATS 2015.
   */
  readonly aisEvery?: number;
  /** Intermediate distributions of those AIS runs (default 1000) and runs each way (default 32). */
  readonly aisBetas?: number;
  readonly aisRuns?: number;
  /** Chain and filter grids every n epochs (0: only at the end). */
  readonly gridEvery: number;
  /** Checkpoint every n epochs (0: only at the end); always at the end and on interrupt. */
  readonly saveEvery: number;
  /** Name of the kernels, recorded in the config. */
  readonly kernels?: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
}

/** What {@link trainRbmRun} returns. */
export interface RbmRunResult extends LoopResult {
  readonly dir: string;
  readonly model: EnergyModel;
  /** The resolved configuration written to config.json. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** Convert rows between the {0,1} and ±1 conventions when the model wants the other one. */
function toUnits(x: Float32Array, from: '01' | 'pm1', to: '01' | 'pm1'): Float32Array {
  if (from === to) return x;
  return to === 'pm1' ? x.map((v) => 2 * v - 1) : x.map((v) => (v + 1) / 2);
}

/** Per-pixel mean and standard deviation of the training set, for Gaussian visibles. */
export interface Standardization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Statistics of `x` (rows × n): mean and sample standard deviation (1 where it is 0). */
export function standardization(x: Float32Array, n: number): Standardization {
  const rows = x.length / n;
  if (rows < 2) throw new UsageError('Gaussian visibles need at least two training rows to standardise');
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) mean[i]! += x[r * n + i]! / rows;
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) sd[i]! += (x[r * n + i]! - mean[i]!) ** 2;
  for (let i = 0; i < n; i++) sd[i] = Math.sqrt(sd[i]! / (rows - 1)) || 1;
  return { mean: Array.from(mean), std: Array.from(sd) };
}

/** Standardise rows with given statistics (the training set's, for test data too). */
export function applyStandardization(x: Float32Array, s: Standardization): Float32Array {
  const n = s.mean.length;
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = (x[k]! - s.mean[k % n]!) / s.std[k % n]!;
  return out;
}

/** Rows as `model` expects them: its unit convention, or standardised with `stats` for Gaussian units. */
export function prepareRows(model: EnergyModel, d: EbmData, x: Float32Array, stats: Standardization | null): Float32Array {
  if (model.visibleUnits === 'gaussian') {
    if (!stats) throw new UsageError('Gaussian visibles need the training set statistics');
    return applyStandardization(x, stats);
  }
  return toUnits(x, d.units, model.visibleUnits);
}

/** Load the data a stored run was trained on (for eval/sample). */
export function loadRunData(cfg: Readonly<Record<string, unknown>>): EbmData {
  const d = cfg.data as RbmDataSpec | undefined;
  if (!d || typeof d.spec !== 'string') throw new RunError(`config.json has no data spec`);
  return loadEbmData(d.spec, {
    binarize: d.binarize,
    ...(d.limit ? { limit: d.limit } : {}),
    ...(d.dir ? { dir: d.dir } : {}),
    rng: new Rng(Number(cfg.seed ?? 0)).split(7),
  });
}

/** Exact log-likelihoods when one layer is small enough to enumerate quickly. */
function exactMetrics(model: EnergyModel, train: Float32Array, test: Float32Array | null): Record<string, number> {
  const logZ = exactLogZ(model);
  const nv = model.nVisible;
  const sub = (x: Float32Array) => x.subarray(0, Math.min(x.length / nv, 10000) * nv);
  return { logZ, trainLL: logLikelihood(model, sub(train), logZ), ...(test ? { testLL: logLikelihood(model, test, logZ) } : {}) };
}

/** Forward and reverse AIS estimates of the held-out LL (the sandwich), with the base fitted to the training data. */
function aisSandwich(model: EnergyModel, train: Float32Array, test: Float32Array, rng: Rng, betas: number, runs: number): Record<string, number> {
  const nv = model.nVisible;
  const base = model.baseRateBias(train.subarray(0, Math.min(train.length / nv, 10000) * nv));
  const fwd = ais(model, rng, { betas, runs, baseBias: base });
  const start = test.subarray(0, Math.min(runs, test.length / nv) * nv);
  const rev = reverseAis(model, start, rng, { betas, baseBias: base });
  return { aisLL: logLikelihood(model, test, fwd.logZ), reverseAisLL: logLikelihood(model, test, rev.logZ), aisLogZStdErr: fwd.stdErr };
}

/** A fall of the exact log-likelihood below its best by more than this (nats per example) is reported. */
export const LL_DROP_WARNING = 0.5;
/** A PT swap rate below this between neighbouring replicas means the ladder no longer mixes. */
export const SWAP_RATE_WARNING = 0.02;
/** PCD chains that change fewer than this fraction of their visible units per Gibbs step have stopped moving. */
export const CHAIN_FLIP_WARNING = 1e-3;

/**
 * Divergence and mixing diagnostics over a run's metrics lines: warns once when the
 * exact LL falls {@link LL_DROP_WARNING} below its best (and again only after it recovered),
 * once when a PT swap rate falls below {@link SWAP_RATE_WARNING}, once when the PCD chains'
 * `chainFlipRate` falls below {@link CHAIN_FLIP_WARNING}, and tracks the best
 * value of `key` for early stopping.
 */
export class TrainingWatch {
  best = -Infinity;
  bestEpoch = 0;
  /** Evaluations of `key` since the best one. */
  sinceBest = 0;
  /** Whether the last observation set a new best. */
  improved = false;
  private bestLL = -Infinity;
  private bestLLEpoch = 0;
  private falling = false;
  private swapWarned = false;
  private flipWarned = false;

  constructor(
    readonly key: 'testLL' | 'trainLL',
    readonly patience: number,
  ) {}

  /** Take one metrics line; returns the warnings it raises. */
  observe(epoch: number, row: Readonly<Record<string, number>>, swapRates: readonly number[]): string[] {
    const out: string[] = [];
    this.improved = false;
    const v = row[this.key];
    if (v !== undefined) {
      if (v > this.best) {
        this.best = v;
        this.bestEpoch = epoch;
        this.sinceBest = 0;
        this.improved = true;
      } else this.sinceBest++;
    }
    const ll = row.trainLL;
    if (ll !== undefined) {
      if (ll > this.bestLL) {
        this.bestLL = ll;
        this.bestLLEpoch = epoch;
      }
      if (this.bestLL - ll > LL_DROP_WARNING) {
        if (!this.falling) out.push(`the exact log-likelihood fell from ${this.bestLL.toFixed(3)} (epoch ${this.bestLLEpoch}) to ${ll.toFixed(3)}: training is diverging or oscillating; try a lower --lr${this.patience > 0 ? '' : ', or --early-stop N to keep the best model'}`);
        this.falling = true;
      } else if (this.bestLL - ll < LL_DROP_WARNING / 2) this.falling = false;
    }
    const flips = row.chainFlipRate;
    if (!this.flipWarned && flips !== undefined && flips < CHAIN_FLIP_WARNING) {
      out.push(`the PCD chains stopped moving: one Gibbs step changes ${(100 * flips).toFixed(3)} % of their visible units, so the negative phase is stale; try --method pt or a lower --lr`);
      this.flipWarned = true;
    }
    if (!this.swapWarned && swapRates.length > 0) {
      let worst = 0;
      for (let i = 1; i < swapRates.length; i++) if (swapRates[i]! < swapRates[worst]!) worst = i;
      if (swapRates[worst]! < SWAP_RATE_WARNING) {
        out.push(`parallel tempering stopped mixing: the swap rate between replicas ${worst} and ${worst + 1} is ${swapRates[worst]!.toFixed(3)}; try more --pt-replicas`);
        this.swapWarned = true;
      }
    }
    return out;
  }
}

/** Streams of a run besides the trainer's own, saved with every checkpoint. */
interface RunStreams {
  /** The data stream (dynamic binarisation) before the current epoch's draw. */
  dataEpochStart: RngState;
  /** The metric stream (pseudo-likelihood). */
  metric: RngState;
}

/**
 * Train (or resume) an RBM in `opts.dir`.
 * @throws RunError/UsageError before anything is written when the directory, data,
 *   flags or sizes do not fit; DivergenceError when training diverges (the last good
 *   checkpoint is kept)
 */
export async function trainRbmRun(options: RbmRunOptions): Promise<RbmRunResult> {
  let opts = options;
  const prepared = prepareRun({ dir: opts.dir, command: 'rbm train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const stored = prepared.stored;
  const dataSpec: RbmDataSpec = stored ? (stored.data as RbmDataSpec) : opts.data;
  const seed = stored ? Number(stored.seed ?? 0) : opts.seed;
  // --epochs (the total) may be raised on resume; every other flag must agree with the run.
  const { ['--epochs']: _epochs, ...fixed } = opts.given ?? {};
  if (stored) checkResumeFlags(opts.dir, stored, fixed);
  const rng = new Rng(seed);
  const data = loadEbmData(dataSpec.spec, {
    binarize: dataSpec.binarize,
    ...(dataSpec.limit ? { limit: dataSpec.limit } : {}),
    ...(dataSpec.dir ? { dir: dataSpec.dir } : {}),
    rng: rng.split(7),
  });
  if (data.units === 'pm1' && dataSpec.binarize === 'dynamic') throw new UsageError(`--binarize dynamic: ${dataSpec.spec} holds spins, which are already binary`);
  const fp = fingerprint(data.train, { name: dataSpec.spec, split: 'train', n: data.train.length / data.nVisible });
  let model: EnergyModel;
  let trainer: Trainer;
  let streams: RunStreams;
  let stats: Standardization | null;
  let epochs = opts.epochs;
  // A run killed after its config was written but before its first checkpoint starts over from the stored config.
  const restart = stored !== null && !existsSync(join(opts.dir, 'checkpoint.json'));
  if (restart) {
    const m = stored.model as { kind?: string; nHidden?: number; units?: string };
    opts = {
      ...opts,
      hidden: Number(m.nHidden),
      visible: m.kind === 'gaussian-bernoulli-rbm' ? 'gaussian' : m.units === 'pm1' ? 'spin' : 'binary',
      train: stored.train as TrainOptions,
    };
    epochs = opts.given?.['--epochs'] === undefined ? Number(stored.epochs) : opts.epochs;
  }
  if (stored && !restart) {
    const ck = loadCheckpoint(opts.dir, { kind: 'rbm', allowExtra: true });
    if (ck.dataset && (ck.dataset.sha256 !== fp.sha256 || ck.dataset.n !== fp.n)) {
      throw new CheckpointError(ck.path, `was trained on other data (n = ${ck.dataset.n}, sha256 ${ck.dataset.sha256.slice(0, 12)}…) than ${dataSpec.spec} gives now (n = ${fp.n}, sha256 ${fp.sha256.slice(0, 12)}…)`);
    }
    const lm = loadModel(opts.dir);
    if (!lm.train) throw new RunError(`--resume: ${opts.dir} holds a model saved without trainer state; train into a new --out instead`);
    model = lm.model;
    trainer = lm.resumeTrainer(rng.split(2));
    const s = ck.extra?.streams as RunStreams | undefined;
    if (!s) throw new CheckpointError(ck.path, 'has no run streams to resume from (saved by an older genphys?)');
    streams = s;
    stats = (stored.standardization as Standardization | undefined) ?? null;
    if (opts.given?.['--epochs'] === undefined) epochs = Number(stored.epochs);
    if (epochs < trainer.epoch) throw new RunError(`--epochs ${epochs}: the run in ${opts.dir} has already done ${trainer.epoch} epochs (--epochs is the total)`);
  } else {
    const visible: VisibleUnits = opts.visible ?? (data.units === 'pm1' ? 'spin' : 'binary');
    if (opts.train.centering && visible === 'gaussian') throw new UsageError('--centering works with binary or spin visibles only');
    checkAllocation(data.nVisible * opts.hidden, 4 * 6, `--hidden ${opts.hidden} (W: ${data.nVisible} × ${opts.hidden} with gradients and moments)`);
    checkAllocation((opts.train.chains ?? opts.train.batchSize ?? 100) * opts.hidden * (opts.train.method === 'pt' ? opts.train.ptReplicas ?? 10 : 1), 4 * 4, `--hidden ${opts.hidden} with --chains`);
    const build = (initStd?: number): EnergyModel => {
      const init = rng.split(1);
      const std = initStd !== undefined ? { initStd } : {};
      return visible === 'gaussian'
        ? new GaussianBernoulliRBM({ nVisible: data.nVisible, nHidden: opts.hidden, ...std }, init)
        : new BernoulliRBM({ nVisible: data.nVisible, nHidden: opts.hidden, units: visible === 'spin' ? 'pm1' : '01', ...std }, init);
    };
    model = build(opts.initStd);
    // The exact method starts from a larger scale (exact-phase.ts); the same init stream is used.
    if (opts.initStd === undefined && resolveTrainOptions(opts.train, model).method === 'exact') model = build(exactPhaseInitStd(data.nVisible));
    trainer = new Trainer(model, opts.train, rng.split(2));
    streams = { dataEpochStart: rng.split(3).getState(), metric: rng.split(4).getState() };
    stats = visible === 'gaussian' ? standardization(data.train, data.nVisible) : null;
  }
  const config: Record<string, unknown> = {
    command: 'rbm train',
    seed,
    data: { spec: dataSpec.spec, binarize: dataSpec.binarize, ...(dataSpec.limit ? { limit: dataSpec.limit } : {}), ...(dataSpec.dir ? { dir: dataSpec.dir } : {}) },
    image: data.image,
    model: { kind: model.kind, ...model.config },
    train: trainer.options,
    epochs,
    ...(stats ? { standardization: stats } : {}),
    ...(stored?.kernels !== undefined ? { kernels: stored.kernels } : opts.kernels ? { kernels: opts.kernels } : {}),
  };
  // Everything is checked: the first write.
  const run = prepared.commit(config, trainer.epoch);
  if (restart) run.truncateMetrics(0);

  const dataRng = Rng.fromState(streams.dataEpochStart);
  const metricRng = Rng.fromState(streams.metric);
  const test = data.test ? prepareRows(model, data, data.test, stats) : null;
  const exactOk = enumerableLayer(model, 20) !== null;
  const rows = data.train.length / data.nVisible;
  const batchesPerEpoch = Math.ceil(rows / Math.min(trainer.options.batchSize, rows));
  let x: Float32Array | null = null;
  const history = run.readMetrics() as Array<Record<string, number>>;
  const watch = new TrainingWatch(test ? 'testLL' : 'trainLL', opts.earlyStop ?? 0);
  for (const r of history) watch.observe(r.epoch!, r, []);
  watch.improved = false;
  const save = () =>
    saveModel(opts.dir, model, {
      trainer,
      dataset: fp,
      extra: { streams: { dataEpochStart: trainer.batchesDone > 0 ? streams.dataEpochStart : dataRng.getState(), metric: metricRng.getState() } },
    }).json;
  const result = await runTraining(
    {
      get epoch() {
        return trainer.epoch;
      },
      get step() {
        return trainer.step;
      },
      batchesPerEpoch,
      advance(maxBatches, onBatch) {
        if (x === null) {
          streams.dataEpochStart = dataRng.getState();
          x = prepareRows(model, data, data.epochData(dataRng), stats);
        }
        const info = trainer.trainSlice(x, { maxBatches, plannedEpochs: epochs, ...(onBatch ? { onBatch } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
        if (info === null) return null;
        return { epoch: info.epoch, step: info.step, seconds: info.seconds, learningRate: info.learningRate, reconstruction: info.reconstruction };
      },
      nonFinite() {
        for (const [k, v] of Object.entries(model.params)) for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return `rbm.${k}`;
        return null;
      },
      save,
    },
    {
      epochs,
      saveEvery: opts.saveEvery,
      dir: opts.dir,
      resumed: prepared.resumed,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      afterEpoch: (epoch, m) => {
        const xe = x!;
        x = null;
        const nv = model.nVisible;
        const sub = xe.subarray(0, Math.min(xe.length / nv, 1000) * nv);
        const row: Record<string, number> = { ...m };
        if (model.visibleUnits !== 'gaussian') row.pseudoLL = pseudoLikelihood(model, sub, { rng: metricRng, normalize: 'sum' });
        if (test) row.freeEnergyGap = freeEnergyGap(model, xe, test);
        if (exactOk && opts.exactEvery > 0 && epoch % opts.exactEvery === 0) Object.assign(row, exactMetrics(model, xe, test));
        if (opts.aisEvery && epoch % opts.aisEvery === 0) Object.assign(row, aisSandwich(model, xe, test ?? xe, metricRng, opts.aisBetas ?? 1000, opts.aisRuns ?? 32));
        // Persistent chains only (PT has its swap rates; CD restarts at the data): a separate
        // split per epoch, so the other metrics' draws are unchanged and a resume gives the same value.
        const chains = trainer.options.method === 'pcd' && model.visibleUnits !== 'gaussian' ? trainer.negativeSamples() : null;
        if (chains) row.chainFlipRate = chainFlipRate(model, chains, metricRng.split(0x666c6970 + epoch));
        const swaps = trainer.swapRates();
        for (const message of watch.observe(epoch, row, swaps)) opts.onEvent?.({ type: 'warning', epoch, message });
        history.push(row);
        run.appendMetrics({ ...row, ...(swaps.length > 0 ? { swapRates: swaps } : {}) });
        if (data.image && opts.gridEvery > 0 && epoch % opts.gridEvery === 0) writeRbmGrids(opts.dir, model, trainer, data);
        if (opts.earlyStop && watch.improved) saveModel(opts.dir, model, { name: 'best', dataset: fp, at: { step: trainer.step, epoch }, extra: { epoch, step: trainer.step, [watch.key]: row[watch.key]! } });
        if (opts.earlyStop && watch.sinceBest >= opts.earlyStop) {
          opts.onEvent?.({ type: 'warning', epoch, message: `early stop: ${watch.key} has not improved for ${watch.sinceBest} evaluations (best ${watch.best.toFixed(4)} at epoch ${watch.bestEpoch}, kept as best.json)` });
          return 'stop';
        }
        return row;
      },
    },
  );
  if (data.image) writeRbmGrids(opts.dir, model, trainer, data);
  await writeRbmCurves(opts.dir, history);
  return { ...result, dir: opts.dir, model, config };
}

/** Persistent chains and filters as PNG grids in the run directory. */
export function writeRbmGrids(out: string, model: EnergyModel, trainer: Trainer, data: EbmData): void {
  const { height, width } = data.image!;
  const neg = trainer.negativeSamples();
  const range: [number, number] = model.visibleUnits === 'pm1' ? [-1, 1] : model.visibleUnits === 'gaussian' ? [-2, 2] : [0, 1];
  if (neg) {
    const n = Math.min(64, neg.length / model.nVisible);
    writeImageGrid(join(out, 'chains.png'), neg.subarray(0, n * model.nVisible), n, height, width, { range, scale: height < 10 ? 8 : 2 });
  }
  writeFilterGrid(join(out, 'filters.png'), model.params.W!, model.nVisible, model.nHidden, height, width, {
    count: Math.min(100, model.nHidden),
    normalise: 'symmetric',
    scale: height < 10 ? 8 : 2,
  });
}

/**
 * Curves of the metrics history as SVG, each with a title saying what it shows:
 * - `curve-likelihood.svg`: the exact log-likelihood (train and held-out; one line, said so,
 *   when they are the same examples) and the AIS sandwich of the held-out one (forward AIS
 *   with its standard error, reverse AIS); the stochastic pseudo-log-likelihood only when
 *   neither was computed, and then titled as the noisy proxy it is;
 * - `curve-free-energy-gap.svg`: mean free energy of held-out minus training examples, whose
 *   growth signals overfitting (when there is a separate held-out set);
 * - `curve-reconstruction.svg`: the one-step reconstruction error.
 */
export async function writeRbmCurves(out: string, history: ReadonlyArray<Record<string, number>>): Promise<void> {
  if (history.length === 0) return;
  const col = (k: string, errKey?: string) => {
    const rows = history.filter((r) => r[k] !== undefined && Number.isFinite(r[k]));
    return { x: rows.map((r) => r.epoch!), y: rows.map((r) => r[k]!), ...(errKey ? { yErr: rows.map((r) => r[errKey] ?? Number.NaN) } : {}) };
  };
  type Series = { name: string; x: number[]; y: number[]; yErr?: number[] };
  const ll: Series[] = [];
  const tr = col('trainLL');
  const te = col('testLL');
  const same = te.x.length === tr.x.length && te.y.every((v, i) => Math.abs(v - tr.y[i]!) < 1e-9);
  if (tr.x.length > 0 && same) ll.push({ name: 'exact LL (training = held-out examples)', ...tr });
  else {
    if (tr.x.length > 0) ll.push({ name: 'train LL (exact)', ...tr });
    if (te.x.length > 0) ll.push({ name: 'held-out LL (exact)', ...te });
  }
  const fwd = col('aisLL', 'aisLogZStdErr');
  if (fwd.x.length > 0) {
    ll.push({ name: 'held-out LL, forward AIS (low in expectation) ± s.e.', ...fwd });
    const rev = col('reverseAisLL');
    if (rev.x.length > 0) ll.push({ name: 'held-out LL, reverse AIS (high in expectation)', ...rev });
  }
  let title = 'log-likelihood per example';
  if (ll.length === 0) {
    const p = col('pseudoLL');
    if (p.x.length > 0) ll.push({ name: 'pseudo-LL (one random site per example)', ...p });
    title = 'pseudo-log-likelihood per example (a noisy proxy: no exact or AIS LL was computed)';
  }
  if (ll.length > 0) writeSvg(join(out, 'curve-likelihood.svg'), await linePlotSvg({ title, xLabel: 'epoch', yLabel: 'nats per example', series: ll }));
  const gap = col('freeEnergyGap');
  if (gap.x.length > 0 && !same) {
    writeSvg(
      join(out, 'curve-free-energy-gap.svg'),
      await linePlotSvg({ title: 'free-energy gap: mean F(held-out) − mean F(train); growth means overfitting', xLabel: 'epoch', yLabel: 'nats', series: [{ name: 'free-energy gap', ...gap }] }),
    );
  }
  const rec = col('reconstruction');
  if (rec.x.length > 0) {
    writeSvg(
      join(out, 'curve-reconstruction.svg'),
      await linePlotSvg({ title: 'one-step reconstruction error (data → hidden → visible)', xLabel: 'epoch', yLabel: 'squared error per example', series: [{ name: 'reconstruction', ...rec }] }),
    );
  }
}
