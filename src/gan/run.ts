/**
 * A GAN training run on disk, on the shared run layer (`src/run/`): the run directory,
 * `metrics.jsonl`, a fixed-noise sample grid (images) or scatter plot (toys) per epoch,
 * loss and D-output curves, crash-safe checkpoints (G, D, both Adam moments, the EMA,
 * the epoch-start stream and the mid-epoch position) and an exact resume; plus loading a
 * run back for sampling and evaluation. `genphys gan train|sample|eval` are these
 * functions plus flag parsing. The config.json and checkpoint content are built by the
 * browser-safe `checkpoint-codec.ts`, which the lab's export shares. Node-only (files).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError, RunError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { sampleGridDivergence, scoreImageSamples, toyMetrics, type ImageFeatures, type Samples } from '../metrics/index.js';
import { bondSum, isingModel } from '../physics/lattice.js';
import { thermoEstimates, type Estimate } from '../physics/observables.js';
import { runTraining, type LoopResult } from '../run/loop.js';
import type { RunListener } from '../run/events.js';
import { checkResumeFlags, prepareRun, readRunConfig } from '../run/run-dir.js';
import { linePlotSvg, scatterPlotSvg, writeImageGrid, writeSvg } from '../viz/index.js';
import { loadGanData, checkGanDataSpec, type GanDataset } from './data.js';
import { GAN_CHECKPOINT_KIND, GAN_COMMAND, ganCheckpointInput, ganDatasetFingerprint, ganFromCheckpoint, ganRunConfig, type GanDataSpec, type GanRunConfig } from './checkpoint-codec.js';
import { Gan } from './networks.js';
import { validateGanData, type GanOverrides } from './presets.js';
import { GanTrainer, iterationsPerEpoch, type GanTrainerState } from './train.js';

export { GAN_COMMAND, type GanDataSpec, type GanRunConfig } from './checkpoint-codec.js';

/** Stream indices of the run's seed. */
const STREAM = { init: 1, trainer: 2, data: 7, fixedNoise: 5 } as const;

/** Samples in the per-epoch grid (images) or scatter plot (toys). */
const GRID_IMAGES = 64;
const SCATTER_POINTS = 1000;

/** Options of {@link trainGanRun}. */
export interface GanRunOptions {
  /** Run directory. */
  readonly dir: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  /** On resume: the flags the user gave, flag → [config path, value]; a conflict is an error. */
  readonly given?: Readonly<Record<string, readonly [string, unknown]>>;
  readonly seed: number;
  readonly data: GanDataSpec;
  /** Preset name (see GAN_PRESETS). */
  readonly preset: string;
  /** Field-by-field overrides of the preset. */
  readonly overrides?: GanOverrides;
  /** EMA decay of G's weights (0: none). */
  readonly ema?: number;
  /** Total epochs (default the preset's; a resume may raise it). */
  readonly epochs?: number;
  /** Checkpoint every n epochs (0: only at the end); always at the end and on interrupt. */
  readonly saveEvery: number;
  /** Sample grid / scatter and curves every n epochs (0: only at the end). Default 1. */
  readonly sampleEvery?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
}

/** What {@link trainGanRun} returns. */
export interface GanRunResult extends LoopResult {
  readonly dir: string;
  /** The resolved configuration written to config.json. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** SHA-256 (hex) by node's crypto: the data fingerprint of a full image set is ~190 MB. */
const nodeSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** A run loaded back from its checkpoint. */
export interface LoadedGanRun {
  readonly dir: string;
  readonly config: GanRunConfig;
  readonly gan: Gan;
  /** The EMA of G's tensors, when the run kept one. */
  readonly ema: Map<string, Float32Array> | null;
  readonly state: GanTrainerState;
  readonly epoch: number;
  readonly step: number;
}

/**
 * Load the checkpoint of the run in `dir` (the caller disposes `gan`).
 * @throws RunError/CheckpointError naming the file and the problem
 */
export function loadGanRun(dir: string): LoadedGanRun {
  const stored = readRunConfig(dir) as unknown as GanRunConfig;
  if (stored.command !== GAN_COMMAND) throw new RunError(`${dir}: a '${String(stored.command)}' run, not a GAN run`);
  if (!existsSync(join(dir, 'checkpoint.json'))) throw new RunError(`${dir}: no checkpoint yet (the run was stopped before its first save)`);
  const ck = loadCheckpoint(dir, { kind: GAN_CHECKPOINT_KIND, allowExtra: true });
  const { config: cfg, weights, state } = ganFromCheckpoint(ck);
  let gan: Gan;
  try {
    gan = Gan.fromWeights(cfg.model, weights);
  } catch (err) {
    throw new CheckpointError(ck.path, (err as Error).message);
  }
  return { dir, config: cfg, gan, ema: state.ema ? new Map(state.ema) : null, state, epoch: ck.epoch, step: ck.step };
}

/** Load the data a stored run was trained on (`split`: the test split for image evaluation). */
export function loadRunGanData(cfg: GanRunConfig, split: 'train' | 'test' = 'train'): GanDataset {
  const d = cfg.data;
  return loadGanData(d.spec, {
    rng: new Rng(cfg.seed).split(STREAM.data),
    ...(d.limit && split === 'train' ? { limit: d.limit } : {}),
    ...(d.dir ? { dir: d.dir } : {}),
    split,
  });
}

/** Generated examples `[n, dim]` in inference mode, noise from `rng`, in batches of 256. */
export function generateSamples(gan: Gan, n: number, rng: Rng): Float32Array {
  const D = gan.dataDim;
  const out = new Float32Array(n * D);
  for (let lo = 0; lo < n; lo += 256) {
    const b = Math.min(256, n - lo);
    const z = gan.sampleNoise(rng, b);
    const x = generateBatch(gan, z);
    out.set(x, lo * D);
  }
  return out;
}

function generateBatch(gan: Gan, z: tf.Tensor2D): Float32Array {
  const t = tf.tidy(() => gan.generate(z));
  const a = Float32Array.from(t.dataSync() as Float32Array);
  tf.dispose([t, z]);
  return a;
}

/** The generator a sampler should use: the EMA weights when kept (and wanted), else the trained ones. */
export function samplingGan(run: LoadedGanRun, useEma = true): { gan: Gan; ema: boolean } {
  if (!useEma || !run.ema) return { gan: run.gan, ema: false };
  const w = run.gan.getWeights();
  for (const [k, v] of run.ema) w.set(k, v);
  return { gan: Gan.fromWeights(run.config.model, w), ema: true };
}

/** Write the fixed-noise samples of `gan` as a PNG grid (images) or scatter SVG (toys). */
async function writeSamples(path: string, gan: Gan, data: GanDataset, z: Float32Array, n: number): Promise<void> {
  const x = generateBatch(gan, tf.tensor2d(z, [n, gan.config.noiseDim]));
  if (data.kind === 'toy') {
    const pts = [];
    const m = Math.min(n, data.n);
    for (let i = 0; i < m; i++) pts.push({ x: data.x[2 * i]!, y: data.x[2 * i + 1]!, group: 'data' });
    for (let i = 0; i < n; i++) pts.push({ x: x[2 * i]!, y: x[2 * i + 1]!, group: 'generated' });
    writeSvg(path, await scatterPlotSvg({ xLabel: 'x₁', yLabel: 'x₂', points: pts, colorLabel: 'points', pointSize: 6 }));
    return;
  }
  const [h, w] = data.shape;
  writeImageGrid(path, x, n, h, w, { range: [-1, 1], scale: h < 10 ? 8 : 2 });
}

/** Loss and D-output curves of the metrics history as SVG. */
export async function writeGanCurves(dir: string, history: ReadonlyArray<Record<string, unknown>>): Promise<void> {
  if (history.length === 0) return;
  const x = history.map((r) => Number(r.epoch));
  const col = (k: string) => history.map((r) => Number(r[k]));
  writeSvg(join(dir, 'curve-loss.svg'), await linePlotSvg({ xLabel: 'epoch', yLabel: 'loss (epoch mean)', series: [{ name: 'D', x, y: col('lossD') }, { name: 'G', x, y: col('lossG') }] }));
  writeSvg(join(dir, 'curve-d.svg'), await linePlotSvg({ xLabel: 'epoch', yLabel: 'mean D output', series: [{ name: 'D(x)', x, y: col('dReal') }, { name: 'D(G(z))', x, y: col('dFake') }] }));
}

/**
 * Train (or resume) a GAN in `opts.dir`.
 * @throws RunError/UsageError/ShapeError before anything is written when the directory,
 *   data spec, preset, overrides or data shape do not fit; DivergenceError when training
 *   diverges (the last good checkpoint is kept)
 */
export async function trainGanRun(opts: GanRunOptions): Promise<GanRunResult> {
  const prepared = prepareRun({ dir: opts.dir, command: GAN_COMMAND, ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const stored = prepared.stored as unknown as GanRunConfig | null;
  const { ['--epochs']: _epochs, ...fixed } = opts.given ?? {};
  if (stored) checkResumeFlags(opts.dir, prepared.stored!, fixed);
  const restart = stored !== null && !existsSync(join(opts.dir, 'checkpoint.json'));
  // Resolve the whole configuration before touching the disk.
  let cfg: GanRunConfig;
  if (stored) {
    const epochs = opts.given?.['--epochs'] !== undefined && opts.epochs !== undefined ? opts.epochs : stored.epochs;
    cfg = { ...stored, epochs, train: { ...stored.train, epochs } };
  } else {
    cfg = ganRunConfig({
      seed: opts.seed,
      data: opts.data,
      dataKind: checkGanDataSpec(opts.data.spec),
      preset: opts.preset,
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
      ...(opts.ema !== undefined ? { ema: opts.ema } : {}),
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
    });
  }
  const sampleEvery = opts.sampleEvery ?? 1;
  if (!(Number.isInteger(sampleEvery) && sampleEvery >= 0)) throw new UsageError(`--sample-every: need an integer ≥ 0, got ${sampleEvery}`);
  const data = loadRunGanData(cfg);
  validateGanData(cfg.model, data.shape, data.spec);
  const fp = ganDatasetFingerprint(data, nodeSha256);
  const rng = new Rng(cfg.seed);
  let gan: Gan;
  let trainer: GanTrainer;
  if (stored && !restart) {
    const run = loadGanRun(opts.dir);
    const ck = loadCheckpoint(opts.dir, { kind: GAN_CHECKPOINT_KIND, allowExtra: true });
    if (ck.dataset && (ck.dataset.sha256 !== fp.sha256 || ck.dataset.n !== fp.n)) {
      run.gan.dispose();
      throw new CheckpointError(ck.path, `was trained on other data (n = ${ck.dataset.n}, sha256 ${ck.dataset.sha256.slice(0, 12)}…) than ${data.spec} gives now (n = ${fp.n}, sha256 ${fp.sha256.slice(0, 12)}…)`);
    }
    if (cfg.epochs < run.epoch) {
      run.gan.dispose();
      throw new RunError(`--epochs ${cfg.epochs}: the run in ${opts.dir} has already done ${run.epoch} epochs (--epochs is the total)`);
    }
    gan = run.gan;
    trainer = new GanTrainer(gan, cfg.train, rng.split(STREAM.trainer));
    trainer.setState(run.state);
  } else {
    gan = Gan.create(cfg.model, rng.split(STREAM.init));
    trainer = new GanTrainer(gan, cfg.train, rng.split(STREAM.trainer));
  }
  // Everything is checked: the first write.
  const dirRun = prepared.commit(cfg as unknown as Record<string, unknown>, trainer.epoch);
  if (restart) dirRun.truncateMetrics(0);
  const history = dirRun.readMetrics();
  const nGrid = data.kind === 'toy' ? SCATTER_POINTS : GRID_IMAGES;
  const fixedZ = (() => {
    const z = gan.sampleNoise(new Rng(cfg.seed).split(STREAM.fixedNoise), nGrid);
    const a = Float32Array.from(z.dataSync() as Float32Array);
    z.dispose();
    return a;
  })();
  const writeArtifacts = async (epoch: number) => {
    const ema = trainer.emaWeights();
    let g = gan;
    if (ema) {
      const w = gan.getWeights();
      for (const [k, v] of ema) w.set(k, v);
      g = Gan.fromWeights(cfg.model, w);
    }
    try {
      const ext = data.kind === 'toy' ? 'svg' : 'png';
      await writeSamples(join(opts.dir, `samples-epoch-${String(epoch).padStart(3, '0')}.${ext}`), g, data, fixedZ, nGrid);
    } finally {
      if (g !== gan) g.dispose();
    }
    await writeGanCurves(opts.dir, history);
  };
  const save = () => saveCheckpoint(opts.dir, ganCheckpointInput(cfg, gan.getWeights(), trainer.getState(), fp)).json;
  const batchesPerEpoch = iterationsPerEpoch(data.n, cfg.train.batchSize, cfg.train.nCritic);
  let result: LoopResult;
  try {
    result = await runTraining(
      {
        get epoch() {
          return trainer.epoch;
        },
        get step() {
          return trainer.step;
        },
        batchesPerEpoch,
        advance(maxBatches, onBatch) {
          const s = trainer.trainSlice(data, { maxBatches, ...(onBatch ? { onBatch } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
          return s === null ? null : { lossD: s.lossD, lossG: s.lossG, dReal: s.dReal, dFake: s.dFake, seconds: s.seconds };
        },
        nonFinite() {
          for (const [name, v] of gan.params) {
            const a = v.dataSync() as Float32Array;
            for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return name;
          }
          return null;
        },
        save,
      },
      {
        epochs: cfg.epochs,
        saveEvery: opts.saveEvery,
        dir: opts.dir,
        resumed: prepared.resumed,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
        afterEpoch: async (epoch, m) => {
          const row = { epoch, step: trainer.step, ...m };
          history.push(row);
          dirRun.appendMetrics(row);
          if ((sampleEvery > 0 && epoch % sampleEvery === 0) || epoch === cfg.epochs) await writeArtifacts(epoch);
          return m;
        },
      },
    );
  } finally {
    gan.dispose();
  }
  return { ...result, dir: opts.dir, config: cfg as unknown as Record<string, unknown> };
}

/** An estimate with its uncertainty (one standard error unless said otherwise). */
export interface ValueWithError {
  readonly value: number;
  readonly se: number;
}

/** Options of {@link evaluateGanRun}. */
export interface GanEvalOptions {
  /** Generated (and, for images, real test) examples compared. Default 1000 (toys 5000, Ising 2000). */
  readonly n?: number;
  /** Permutations for the MMD p-value (images). Default 200. */
  readonly permutations?: number;
  /** Use the EMA generator when the run kept one (default true). */
  readonly ema?: boolean;
  readonly rng: Rng;
  /**
   * Features for the Fréchet distance, e.g. a trained classifier's penultimate layer
   * (`x` `[n, dim]` in [−1, 1] → `[n, d]`); without it FD is reported unavailable.
   */
  readonly features?: ImageFeatures | null;
  /** Why no features were given (recorded in the result). */
  readonly featuresUnavailable?: string;
}

/**
 * Evaluate a run's generator against its data: images — MMD (√MMD² beside the
 * real-vs-real baseline, permutation p-value), KID, precision/recall and FD on
 * classifier features when given; toys — mode coverage, high-quality fraction, KL/JS
 * (five replicate sample sets, mean ± SE); Ising — e, |m|, C, χ of the signed samples
 * against the Monte Carlo values, with errors and z-scores.
 */
export async function evaluateGanRun(dir: string, opts: GanEvalOptions): Promise<Record<string, unknown>> {
  const run = loadGanRun(dir);
  const { gan, ema } = samplingGan(run, opts.ema ?? true);
  try {
    const cfg = run.config;
    const kind = cfg.dataKind;
    const base: Record<string, unknown> = { run: dir, epoch: run.epoch, step: run.step, generator: ema ? `EMA (decay ${cfg.train.ema})` : 'trained weights' };
    if (kind === 'toy') return { ...base, ...evalToy(gan, cfg, opts) };
    if (kind === 'ising') return { ...base, ...evalIsing(gan, cfg, opts) };
    return { ...base, ...evalImages(gan, cfg, opts) };
  } finally {
    if (gan !== run.gan) gan.dispose();
    run.gan.dispose();
  }
}

function evalImages(gan: Gan, cfg: GanRunConfig, opts: GanEvalOptions): Record<string, unknown> {
  const test = loadRunGanData(cfg, 'test');
  const n = Math.min(opts.n ?? 1000, test.n);
  if (n < 20) throw new UsageError(`--n: image evaluation needs at least 20 examples, got ${n}`);
  const D = test.dim;
  const real: Samples = { data: test.x.subarray(0, n * D), n, d: D };
  const fake: Samples = { data: generateSamples(gan, n, opts.rng.split(1)), n, d: D };
  return {
    method: 'images',
    data: test.name,
    n,
    ...scoreImageSamples(real, fake, { rng: opts.rng, ...(opts.permutations !== undefined ? { permutations: opts.permutations } : {}), features: opts.features ?? null, ...(opts.featuresUnavailable !== undefined ? { featuresUnavailable: opts.featuresUnavailable } : {}) }),
  };
}

function meanSe(v: number[]): ValueWithError {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  return { value: m, se: sd / Math.sqrt(v.length) };
}

function evalToy(gan: Gan, cfg: GanRunConfig, opts: GanEvalOptions): Record<string, unknown> {
  const data = loadRunGanData(cfg);
  const n = opts.n ?? 5000;
  if (n < 10) throw new UsageError(`--n: toy evaluation needs at least 10 samples, got ${n}`);
  const R = 5;
  const modes = data.toy?.modes;
  const cols: Record<string, number[]> = { modesCovered: [], highQualityFraction: [], kl: [], js: [] };
  for (let r = 0; r < R; r++) {
    const s: Samples = { data: generateSamples(gan, n, opts.rng.split(r)), n, d: 2 };
    if (modes) {
      const t = toyMetrics(s, modes);
      cols.modesCovered!.push(t.modesCovered);
      cols.highQualityFraction!.push(t.highQualityFraction);
      cols.kl!.push(t.kl);
      cols.js!.push(t.js);
    } else {
      const t = sampleGridDivergence({ data: data.x, n: data.n, d: 2 }, s);
      cols.kl!.push(t.kl);
      cols.js!.push(t.js);
    }
  }
  const out: Record<string, unknown> = { method: 'toy', data: data.spec, n, replicates: R, uncertainty: `mean ± SE over ${R} independent sample sets of ${n}` };
  if (modes) {
    out.nModes = modes.centres.length / 2;
    out.modesCovered = meanSe(cols.modesCovered!);
    out.highQualityFraction = meanSe(cols.highQualityFraction!);
  }
  out.kl = meanSe(cols.kl!);
  out.js = meanSe(cols.js!);
  return out;
}

function evalIsing(gan: Gan, cfg: GanRunConfig, opts: GanEvalOptions): Record<string, unknown> {
  const data = loadRunGanData(cfg);
  const info = data.ising!;
  const man = info.manifest;
  const N = info.N;
  const n = opts.n ?? 2000;
  if (n < 40) throw new UsageError(`--n: Ising evaluation needs at least 40 samples, got ${n}`);
  const x = generateSamples(gan, n, opts.rng.split(1));
  const model = isingModel({ L: man.L, geometry: man.geometry, J: man.J, h: man.h });
  const spins = new Int8Array(n * N);
  // The sign of the output is the spin (a tanh generator's output is in (−1, 1)).
  for (let i = 0; i < spins.length; i++) spins[i] = x[i]! >= 0 ? 1 : -1;
  const e = new Float64Array(n);
  const m = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let M = 0;
    for (let i = 0; i < N; i++) M += spins[s * N + i]!;
    e[s] = (-model.J * bondSum(model, spins, s * N) - model.h * M) / N;
    m[s] = M / N;
  }
  const T = info.entry.T;
  const th = thermoEstimates(T, N, [e], [m]);
  const mc = info.entry.observables;
  const cmp = (g: Estimate, ref: Estimate) => ({ gan: { value: g.value, se: g.error }, mc: { value: ref.value, se: ref.error }, z: (g.value - ref.value) / Math.sqrt(g.error ** 2 + ref.error ** 2 || 1e-300) });
  return {
    method: 'ising',
    data: data.name,
    T,
    L: man.L,
    n,
    energy: cmp(th.energy, mc.energy),
    absMagnetisation: cmp(th.absMagnetisation, mc.absMagnetisation),
    specificHeat: cmp(th.specificHeat, mc.specificHeat),
    susceptibility: cmp(th.susceptibility, mc.susceptibility),
    note: 'gan: samples are independent draws (jackknife errors over blocks); mc: the data set manifest’s Monte Carlo values; z = difference / combined SE',
  };
}

/**
 * Add `result` to `<dir>/eval.json` under `<method> <ISO date>`, keeping every earlier entry.
 * @returns the key used
 */
export function recordEval(dir: string, result: Record<string, unknown>, date = new Date()): string {
  const p = join(dir, 'eval.json');
  let doc: Record<string, unknown> = {};
  if (existsSync(p)) {
    try {
      const d = JSON.parse(readFileSync(p, 'utf8')) as unknown;
      if (d && typeof d === 'object' && !Array.isArray(d)) doc = d as Record<string, unknown>;
      else throw new Error('not an object');
    } catch (err) {
      throw new RunError(`${p}: not a JSON object of earlier evaluations (${(err as Error).message.split('\n')[0]}); move it aside to start a new one`);
    }
  }
  let key = `${String(result.method)} ${date.toISOString()}`;
  for (let k = 2; Object.prototype.hasOwnProperty.call(doc, key); k++) key = `${String(result.method)} ${date.toISOString()} #${k}`;
  writeJsonAtomic(p, { ...doc, [key]: result });
  return key;
}
