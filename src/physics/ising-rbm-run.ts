/**
 * The `ising rbm` / `demo` run: Monte Carlo data (generated, or an `ising sample`
 * dataset), one RBM per temperature, the MC vs RBM vs exact comparison, all in one run
 * directory on the run layer: checked before anything is written, never written over
 * without `force`, and on SIGINT/SIGTERM the finished temperatures are kept (their
 * RBMs, and the table of those rows) with no partial files. Node-only (files).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { saveModel } from '../ebm/io.js';
import { prepareRun } from '../run/run-dir.js';
import type { RunStatus } from '../run/events.js';
import { VERSION } from '../version.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { loadIsingDataset, temperatureFileName, writeIsingDataset } from './dataset.js';
import { kaufmanSquare } from './exact.js';
import { LatticeSpinRBM } from './lattice-rbm.js';
import { squareTranslations } from './lattice.js';
import {
  checkTrainSettings,
  comparisonModel,
  comparisonTables,
  datasetTrainingSets,
  modelLabel,
  defaultRbmWorkers,
  exactObservables,
  runRbmTasks,
  runRbmOnTrainingSets,
  runRbmPipeline,
  taskUnits,
  writeComparison,
  type ComparisonFiles,
  type ComparisonRow,
  type RbmComparisonRow,
  type RbmPipelineOptions,
  type RbmTask,
  type RbmTrainSettings,
  type TrainingSet,
} from './rbm-pipeline.js';
import type { IsingAlgorithm } from './samplers.js';
import { totalSweeps, type IsingDataSettings, type SimulationResult } from './simulate.js';

/** Settings of an `ising rbm` run (the flags of the command). */
export interface IsingRbmSettings extends IsingDataSettings {
  /** An `ising sample` dataset to train on instead of generating data. */
  readonly data?: string;
  /** With `data`: train only these temperatures of the dataset (matched to 5e-5), each with the seed stream it gets in a run of the whole dataset. */
  readonly temperatures?: readonly number[];
  /** Hidden units (default 2L²). */
  readonly hidden?: number;
  readonly method: 'cd' | 'pcd' | 'pt' | 'exact' | 'pl';
  readonly k: number;
  /** Sites per configuration the 'pl' gradient samples (0 or absent: all). */
  readonly plSites?: number;
  /** Side of the patch each filter covers (0: the whole lattice; absent: 2 with translation-invariant weights, else 0). */
  readonly filterSize?: number;
  readonly batch: number;
  readonly lr: number;
  readonly momentum: number;
  readonly optimizer: 'sgd' | 'adam';
  readonly epochs: number;
  /** Train biases instead of the zero-bias symmetric RBM. */
  readonly biases?: boolean;
  /** Lattice-symmetry images per configuration (1 = none). */
  readonly augment?: number;
  /** Tie the weights to be translation-invariant (default true). */
  readonly translationInvariant?: boolean;
  /** Tail-averaging fraction (default 0.3). */
  readonly average?: number;
  readonly rbmChains: number;
  readonly rbmBurnIn: number;
  readonly rbmSteps: number;
}

/** Options of {@link runIsingRbm}. */
export interface IsingRbmRunOptions {
  readonly dir: string;
  /** 'ising rbm' or 'demo' (recorded in config.json). */
  readonly command: string;
  readonly seed: number;
  readonly settings: IsingRbmSettings;
  /** Replace an existing run in `dir`. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  /** Progress: the stage starts with its total units, then advances. */
  readonly onProgress?: (e: { stage: 'mc' | 'rbm'; start?: number; advance?: number }) => void;
  /** Notes for the user (one line each). */
  readonly log?: (line: string) => void;
}

/** What {@link runIsingRbm} returns. */
export interface IsingRbmRunResult {
  readonly status: RunStatus;
  readonly rows: readonly RbmComparisonRow[];
  readonly files: ComparisonFiles | null;
  readonly dir: string;
  readonly seconds: number;
}

/**
 * Deviation summary lines, one per temperature: model (RBM, diffusion) − MC in percent of MC for e, |m|, C, χ.
 * Where the RBM's exact observables are known the deviation is split as
 * `C 3.1% (model 2.0%, sampling 1.1%)`: model = (RBM exact − MC)/MC, what the trained
 * distribution gets wrong; sampling = (RBM Gibbs − RBM exact)/RBM exact, what the chains add.
 */
export function deviationLines(rows: readonly ComparisonRow[]): string {
  const M = modelLabel(comparisonModel(rows));
  const fmt = (x: number, digits: number) => x.toFixed(digits).replace(/^-(0\.?0*)$/, '$1'); // no "-0.00"
  const pct = (a: number, b: number, digits: number) => `${fmt((100 * (a - b)) / Math.abs(b), digits)}%`;
  const OBS = [
    ['e', 'energy', 2],
    ['|m|', 'absMagnetisation', 2],
    ['C', 'specificHeat', 1],
    ['χ', 'susceptibility', 1],
  ] as const;
  // Lines stay under 100 columns: the split into model and sampling error, when the RBM's exact
  // values are known (L ≤ 4), goes on a second line.
  const out: string[] = [];
  for (const r of rows) {
    const total = OBS.map(([name, k, d]) => `${name} ${pct(r.rbm[k].value, r.mc[k].value, d)}`).join('  ');
    out.push(`T=${r.T.toFixed(3)}  ${M}−MC  ${total}${r.kl !== null ? `  KL ${r.kl.toExponential(2)}` : ''}  (train ${r.trainSeconds.toFixed(1)} s)`);
    const x = r.rbmExact;
    if (x && OBS.every(([, k]) => x[k] !== undefined)) {
      const num = (a: number, b: number, d: number) => pct(a, b, d).slice(0, -1);
      const model = OBS.map(([name, k, d]) => `${name} ${num(x[k]!, r.mc[k].value, d)}`).join(' ');
      const sampling = OBS.map(([name, k, d]) => `${name} ${num(r.rbm[k].value, x[k]!, d)}`).join(' ');
      out.push(`         model ${model} · sampling ${sampling} (%)`);
    }
  }
  return out.join('\n');
}

/**
 * Run `ising rbm`: generate (or load) data, train and sample one RBM per temperature,
 * write the comparison table/plot and one `rbm` run directory per temperature.
 */
export async function runIsingRbm(opts: IsingRbmRunOptions): Promise<IsingRbmRunResult> {
  const t0 = performance.now();
  const o = opts.settings;
  const log = opts.log ?? (() => {});
  const prepared = prepareRun({ dir: opts.dir, command: opts.command, ...(opts.force ? { force: true } : {}) });
  if (o.temperatures && !o.data) throw new UsageError('--data: picking temperatures (ising:DIR:T) needs a dataset');
  const ds = o.data ? loadIsingDataset(o.data) : null;
  if (ds && (ds.manifest.geometry !== 'square' || ds.manifest.h !== 0 || ds.manifest.J !== 1)) throw new UsageError(`--data: ${o.data} must be a square-lattice dataset with J = 1 and h = 0`);
  const L = ds ? ds.manifest.L : o.L;
  const train: RbmTrainSettings = checkTrainSettings(L, {
    nHidden: o.hidden ?? 2 * L * L, method: o.method, k: o.k, batchSize: o.batch, learningRate: o.lr, momentum: o.momentum, optimizer: o.optimizer, epochs: o.epochs,
    symmetric: o.biases !== true, augment: o.augment ?? 1, translationInvariant: o.translationInvariant !== false, averaging: o.average ?? 0.3,
    plSites: o.plSites ?? 0,
    ...(o.filterSize !== undefined ? { filterSize: o.filterSize } : {}),
  });
  const dir = opts.dir;
  prepared.commit({ command: opts.command, seed: opts.seed, ...o, L, hidden: train.nHidden, filterSize: train.filterSize, temps: o.data ? 'from dataset' : o.temps });
  const pipe: Omit<RbmPipelineOptions, 'temps'> = {
    L,
    algorithm: o.algo,
    nTrain: o.n,
    sweepsBetween: o.sweepsBetween,
    burnIn: o.burnIn,
    chains: o.chains,
    train,
    sample: { chains: o.rbmChains, burnIn: o.rbmBurnIn, steps: o.rbmSteps },
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const rng = new Rng(opts.seed);
  const progress = opts.onProgress ?? (() => {});
  let rows: RbmComparisonRow[];
  let npyOf: (T: number, i: number) => string;
  const picked = ds && o.temperatures ? pickTemperatures(ds.temperatures, o.temperatures, o.data!) : null;
  const nTemps = picked ? picked.length : ds ? ds.temperatures.length : o.temps.length;
  if (ds && picked) {
    const dataPath = o.data!;
    npyOf = (_T, i) => resolve(dataPath, ds.manifest.temperatures[i]!.file);
    const all = datasetTrainingSets(ds, o.n);
    progress({ stage: 'rbm', start: picked.length * taskUnits(train) });
    rows = await trainPicked(L, all, picked, pipe, rng, (a) => progress({ stage: 'rbm', advance: a }));
  } else if (ds) {
    const dataPath = o.data!;
    npyOf = (_T, i) => resolve(dataPath, ds.manifest.temperatures[i]!.file);
    const sets = datasetTrainingSets(ds, o.n);
    const short = ds.temperatures.filter((t) => t.n < o.n);
    if (short.length > 0) log(`--n ${o.n}: ${o.data} holds fewer at ${short.map((t) => `T = ${t.T.toFixed(4)} (${t.n})`).join(', ')}; training on all of those`);
    progress({ stage: 'rbm', start: sets.length * taskUnits(train) });
    rows = await runRbmOnTrainingSets(L, sets, pipe, rng, (_s, a) => progress({ stage: 'rbm', advance: a }));
  } else {
    progress({ stage: 'mc', start: totalSweeps({ L, algorithm: o.algo, chains: o.chains, burnIn: o.burnIn, sweeps: Math.ceil(o.n / o.chains) * o.sweepsBetween }, o.temps.length) });
    const dataDir = join(dir, 'data');
    npyOf = (T) => resolve(dataDir, temperatureFileName(L, T));
    const onSimulated = (results: readonly SimulationResult[]) => {
      writeTrainingDataset(dataDir, results, { L, algo: o.algo, seed: opts.seed, chains: o.chains, burnIn: o.burnIn, sweepsBetween: o.sweepsBetween });
      progress({ stage: 'rbm', start: o.temps.length * taskUnits(train) });
    };
    rows = await runRbmPipeline({ ...pipe, temps: o.temps, onSimulated }, rng, (stage, a) => progress({ stage, advance: a }));
  }
  const status: RunStatus = rows.length < nTemps || opts.signal?.aborted ? 'interrupted' : 'done';
  const files = rows.length > 0 ? await writeComparison(dir, rows, L) : null;
  // One run directory per temperature that `genphys rbm sample|eval` can open, with the symmetry kept.
  rows.forEach((r) => {
    const i = ds ? ds.temperatures.findIndex((t) => t.T === r.T) : o.temps.indexOf(r.T);
    const m = new LatticeSpinRBM(
      { nVisible: L * L, nHidden: train.nHidden!, spinFlipSymmetric: train.symmetric !== false, ...(train.translationInvariant !== false ? { translations: squareTranslations(L), group: `square:${L}` } : {}), ...(train.filterSize ? { filterSize: train.filterSize } : {}) },
      new Rng(0),
    );
    m.params.W!.set(r.params.W);
    m.params.a!.set(r.params.a);
    m.params.b!.set(r.params.b);
    const rd = join(dir, 'rbm', `T${r.T.toFixed(4)}`);
    mkdirSync(rd, { recursive: true });
    writeJsonAtomic(join(rd, 'config.json'), {
      command: opts.command,
      seed: opts.seed,
      T: r.T,
      L,
      data: { spec: `spins:${npyOf(r.T, i)}`, binarize: 'none' },
      trainedOn: ds && ds.temperatures[i]!.n > o.n ? `${o.n} of the file's ${ds.temperatures[i]!.n} configurations, evenly spaced` : 'every configuration in the file',
      image: { height: L, width: L },
      model: { kind: m.kind, ...m.config },
      ising: train,
    });
    saveModel(rd, m, { extra: { source: opts.command, T: r.T, L } });
  });
  return { status, rows, files, dir, seconds: (performance.now() - t0) / 1000 };
}

/** How a pipeline run's Monte Carlo data were made (recorded in the dataset's manifest). */
export interface TrainingDatasetMeta {
  readonly L: number;
  readonly algo: IsingAlgorithm;
  readonly seed: number;
  readonly chains: number;
  readonly burnIn: number;
  readonly sweepsBetween: number;
}

/**
 * Save a pipeline run's Monte Carlo training data under `dataDir` as an `ising sample`
 * dataset (square lattice, J = 1, h = 0, Kaufman's e and C as the exact references), so
 * that the run's models can be reopened on exactly the data they were trained on.
 */
export function writeTrainingDataset(dataDir: string, results: readonly SimulationResult[], m: TrainingDatasetMeta): void {
  writeIsingDataset(
    dataDir,
    results,
    { geometry: 'square', L: m.L, J: 1, h: 0, algorithm: m.algo, seed: m.seed, chains: m.chains, burnIn: m.burnIn, sweepsBetween: m.sweepsBetween, createdBy: `genphys ${VERSION}` },
    (T) => {
      const k = kaufmanSquare(m.L, T);
      return { energy: k.energy, specificHeat: k.specificHeat };
    },
  );
}

/**
 * The comparison rows of a finished `ising rbm` or `ising diffusion` run (its results.json),
 * e.g. to draw them next to another model's.
 * @throws UsageError (one line, naming `flag`) when `dir` holds no readable results.json of rows
 */
export function readComparisonRows(dir: string, flag = '--compare'): ComparisonRow[] {
  const path = join(dir, 'results.json');
  if (!existsSync(path)) throw new UsageError(`${flag} ${dir}: no results.json there (not a finished 'ising rbm' or 'ising diffusion' run)`);
  let rows: unknown;
  try {
    rows = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${flag} ${dir}: results.json is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const ok = (r: unknown): r is ComparisonRow => {
    const x = r as Partial<ComparisonRow> | null;
    return typeof x?.T === 'number' && typeof x.rbm?.energy?.value === 'number' && typeof x.mc?.energy?.value === 'number';
  };
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(ok)) throw new UsageError(`${flag} ${dir}: results.json holds no comparison rows`);
  return rows;
}

/** Indices into the dataset's temperatures of each wanted T (within 5e-5, as `ising:DIR:T` elsewhere). */
function pickTemperatures(temps: readonly { T: number }[], wanted: readonly number[], data: string): number[] {
  const list = temps.map((t) => t.T.toFixed(4)).join(', ');
  return wanted.map((T) => {
    const i = temps.findIndex((t) => Math.abs(t.T - T) < 5e-5);
    if (i < 0) throw new UsageError(`--data ising:${data}:${T}: no temperature ${T} in the dataset (it has ${list})`);
    return i;
  });
}

/**
 * Train only the picked training sets, but each from `rng.split(1).split(i)` with i its
 * index in the whole dataset — the stream {@link runRbmOnTrainingSets} gives it — so a
 * one-temperature run reproduces that temperature's row of the whole-dataset run.
 */
async function trainPicked(L: number, all: readonly TrainingSet[], picked: readonly number[], opts: Omit<RbmPipelineOptions, 'temps'>, rng: Rng, onProgress: (units: number) => void): Promise<RbmComparisonRow[]> {
  const tasks: RbmTask[] = picked.map((i) => ({
    L,
    T: all[i]!.T,
    spins: all[i]!.spins,
    train: opts.train ?? {},
    sample: opts.sample ?? {},
    rng: rng.split(1).split(i).getState(),
    exactKL: (opts.exactKL ?? true) && L * L <= 16,
  }));
  const outs = await runRbmTasks(tasks, opts.rbmWorkers ?? defaultRbmWorkers(tasks.length), onProgress, opts.signal);
  const cache: NonNullable<Parameters<typeof exactObservables>[2]> = new Map();
  const rows: RbmComparisonRow[] = [];
  picked.forEach((i, t) => {
    const out = outs[t];
    if (out === undefined) return;
    const s = all[i]!;
    rows.push({ T: s.T, mc: s.mc, rbm: out.thermo, exact: exactObservables(L, s.T, cache), kl: out.kl, rbmExact: out.rbmExact, trainSeconds: out.trainSeconds, sampleSeconds: out.sampleSeconds, params: out.params });
  });
  return rows;
}

export { comparisonTables };
