/**
 * A diffusion training run on disk, on the shared run layer (`src/run/`): the run
 * directory, per-epoch metrics and sample artifacts (a DDIM grid with the EMA
 * weights: PNG for images and lattices, SVG scatter for toys), crash-safe
 * checkpoints (kind 'diffusion': weights, Adam moments, EMA, the trainer's stream
 * and mid-epoch position), exact resume and divergence stops; plus sampling and
 * evaluation of a finished run. `genphys diffusion train|sample|eval` is these
 * functions plus flag parsing. Node-only (files).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, RunError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.js';
import { MIN_IMAGE_SCORE_N, scoreImageSamples, type ImageFeatures } from '../metrics/image-score.js';
import { mmdReport } from '../metrics/mmd.js';
import { samples as asSamples } from '../metrics/samples.js';
import { sampleGridDivergence, toyMetrics } from '../metrics/toy.js';
import { isingModel, energy, magnetisation } from '../physics/lattice.js';
import { thermoEstimates } from '../physics/observables.js';
import { runTraining, type LoopResult } from '../run/loop.js';
import type { RunListener } from '../run/events.js';
import { checkResumeFlags, prepareRun, readRunConfig } from '../run/run-dir.js';
import { scatterPlotSvg, writeImageGrid, writeSvg } from '../viz/index.js';
import { loadDiffusionData, type DiffusionDataset } from './data.js';
import { GaussianDiffusion, type StepEvent } from './process.js';
import { NoiseSchedule } from './schedule.js';
import { createNetwork, DiffusionTrainer, networkFromWeights, validateDiffusionTrainConfig, type DiffusionNetwork, type DiffusionTrainConfig, type NetworkConfig } from './train.js';
import type { Prediction } from './process.js';
import {
  defaultDiffusionArch,
  diffusionCheckpointInput,
  diffusionDataFingerprint,
  diffusionFromCheckpoint,
  diffusionRunConfig,
  networkFor,
  DIFFUSION_CHECKPOINT_KIND,
  type DiffusionArch,
  type DiffusionDataSpec,
} from './checkpoint-codec.js';

// The arch list, data spec and network choice live in the browser-safe codec (shared with the lab).
export { DIFFUSION_ARCHS, networkFor, type DiffusionArch, type DiffusionDataSpec } from './checkpoint-codec.js';

/** Options of {@link trainDiffusionRun}. */
export interface DiffusionRunOptions {
  readonly dir: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  /** On resume: flags the user gave, flag → [config path, value]; a conflict is an error. */
  readonly given?: Readonly<Record<string, readonly [string, unknown]>>;
  readonly seed: number;
  readonly data: DiffusionDataSpec;
  /** Network (default: toy-mlp for toys, ising-unet for Ising, small-unet for images). */
  readonly arch?: DiffusionArch;
  readonly prediction?: Prediction;
  readonly train: DiffusionTrainConfig;
  /** Total epochs (a resume may raise it). */
  readonly epochs: number;
  /** Checkpoint every n epochs (0: only at the end); always at the end and on interrupt. */
  readonly saveEvery: number;
  /** Sample artifact every n epochs (0: only at the end). */
  readonly sampleEvery?: number;
  /** DDIM steps of the per-epoch samples (default min(20, T)). */
  readonly sampleSteps?: number;
  /** Samples in the per-epoch artifact (default 64 images / 1000 toy points). */
  readonly sampleCount?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunListener;
}

/** What {@link trainDiffusionRun} returns. */
export interface DiffusionRunResult extends LoopResult {
  readonly dir: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** SHA-256 (hex) with node's native hash: the data sets of a run can be large. */
function nodeSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Load the data of a stored run config. */
export function loadDiffusionRunData(cfg: Readonly<Record<string, unknown>>, split: 'train' | 'test' = 'train'): DiffusionDataset {
  const d = cfg.data as DiffusionDataSpec | undefined;
  if (!d || typeof d.spec !== 'string') throw new RunError('config.json has no data spec');
  return loadDiffusionData(d.spec, { ...(d.limit ? { limit: d.limit } : {}), ...(d.dir ? { dir: d.dir } : {}), seed: Number(cfg.seed ?? 0), split });
}

/**
 * Train (or resume) a diffusion model in `opts.dir`.
 * @throws RunError/UsageError/ShapeError before anything is written when the directory,
 *   data, flags or sizes do not fit; DivergenceError when training diverges (the last
 *   good checkpoint is kept)
 */
export async function trainDiffusionRun(opts: DiffusionRunOptions): Promise<DiffusionRunResult> {
  const prepared = prepareRun({ dir: opts.dir, command: 'diffusion train', ...(opts.resume ? { resume: true } : {}), ...(opts.force ? { force: true } : {}) });
  const stored = prepared.stored;
  const { ['--epochs']: _epochs, ...fixed } = opts.given ?? {};
  if (stored) checkResumeFlags(opts.dir, stored, fixed);
  const dataSpec: DiffusionDataSpec = stored ? (stored.data as DiffusionDataSpec) : opts.data;
  const seed = stored ? Number(stored.seed ?? 0) : opts.seed;
  const data = loadDiffusionData(dataSpec.spec, { ...(dataSpec.limit ? { limit: dataSpec.limit } : {}), ...(dataSpec.dir ? { dir: dataSpec.dir } : {}), seed });
  const trainCfg: DiffusionTrainConfig = stored ? (stored.train as DiffusionTrainConfig) : opts.train;
  validateDiffusionTrainConfig(trainCfg);
  const T = trainCfg.schedule.T;
  const netCfg: NetworkConfig = stored ? (stored.network as NetworkConfig) : networkFor(opts.arch ?? defaultDiffusionArch(data.kind), data, T, opts.prediction ?? 'eps');
  const sampleSteps = stored ? Number(stored.sampleSteps) : (opts.sampleSteps ?? Math.min(20, T));
  if (!(Number.isInteger(sampleSteps) && sampleSteps >= 1 && sampleSteps <= T)) throw new UsageError(`--sample-steps: must be an integer in 1…T = ${T}, got ${sampleSteps}`);
  let epochs = opts.epochs;
  if (stored && opts.given?.['--epochs'] === undefined) epochs = Number(stored.epochs);
  const fp = diffusionDataFingerprint(dataSpec.spec, data.x, data.n, nodeSha256);
  const ckptJson = join(opts.dir, 'checkpoint.json');
  const restart = stored !== null && !existsSync(ckptJson);
  const rng = new Rng(seed);
  let net: DiffusionNetwork;
  let trainer: DiffusionTrainer;
  if (stored && !restart) {
    const ck = loadCheckpoint(opts.dir, { kind: DIFFUSION_CHECKPOINT_KIND, allowExtra: true });
    if (ck.dataset && (ck.dataset.sha256 !== fp.sha256 || ck.dataset.n !== fp.n)) {
      throw new CheckpointError(ck.path, `was trained on other data (n = ${ck.dataset.n}, sha256 ${ck.dataset.sha256.slice(0, 12)}…) than ${dataSpec.spec} gives now (n = ${fp.n}, sha256 ${fp.sha256.slice(0, 12)}…)`);
    }
    const dc = diffusionFromCheckpoint(ck, { network: netCfg });
    if (!dc.trainer) throw new CheckpointError(ck.path, 'has no trainer state to resume from');
    if (epochs < ck.epoch) throw new RunError(`--epochs ${epochs}: the run in ${opts.dir} has already done ${ck.epoch} epochs (--epochs is the total)`);
    net = networkFromWeights(netCfg, dc.weights);
    trainer = new DiffusionTrainer(net, trainCfg, rng.split(2));
    trainer.setState(dc.trainer);
  } else {
    net = createNetwork(netCfg, rng.split(1));
    trainer = new DiffusionTrainer(net, trainCfg, rng.split(2));
  }
  const schedule = trainer.diffusion.schedule;
  const config: Record<string, unknown> = stored
    ? { ...stored, epochs }
    : diffusionRunConfig({ seed, data: dataSpec, dataset: data, arch: opts.arch ?? defaultDiffusionArch(data.kind), network: netCfg, train: trainCfg, epochs, sampleSteps });
  const run = prepared.commit(config, trainer.epoch);
  if (restart) run.truncateMetrics(0);
  const sampleEvery = opts.sampleEvery ?? 1;
  const sampleCount = opts.sampleCount ?? (data.kind === 'toy' ? 1000 : 64);
  const save = () => {
    return saveCheckpoint(opts.dir, diffusionCheckpointInput(net.getWeights(), { network: netCfg, train: trainCfg, seed, data: fp }, trainer.getState())).json;
  };
  const writeSamples = async () => {
    const denoiserNet = networkFromWeights(netCfg, trainer.emaWeights());
    try {
      const x = new GaussianDiffusion(schedule).ddimSample(denoiserNet.denoiser(), [sampleCount, data.dim], new Rng(seed).split(5), { steps: sampleSteps, ...(data.kind !== 'toy' ? { clip: [-1, 1] as const } : {}) });
      await writeSampleArtifact(run.path(data.kind === 'toy' ? 'samples.svg' : 'samples.png'), x, sampleCount, data);
    } finally {
      denoiserNet.dispose();
    }
  };
  const batchesPerEpoch = Math.ceil(data.n / trainCfg.batchSize);
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
        batchesPerEpoch,
        advance(maxBatches, onBatch) {
          const loss = trainer.trainEpoch(data, { maxBatches, onBatch: (done, _total, l) => onBatch?.(done, l), shouldStop: () => opts.signal?.aborted === true });
          return loss === null ? null : { loss };
        },
        nonFinite() {
          for (const [name, v] of net.params) {
            const d = v.dataSync() as Float32Array;
            for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return name;
          }
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
        afterEpoch: async (epoch, m) => {
          const seconds = (performance.now() - t0) / 1000;
          const row = { epoch, step: trainer.step, loss: m.loss!, seconds };
          run.appendMetrics(row);
          if (sampleEvery > 0 && epoch % sampleEvery === 0) await writeSamples();
          t0 = performance.now();
          return { loss: m.loss!, seconds };
        },
      },
    );
    if (res.status !== 'interrupted' && (sampleEvery === 0 || res.epoch % sampleEvery !== 0)) await writeSamples();
    return { ...res, dir: opts.dir, config };
  } finally {
    net.dispose();
  }
}

/** Write samples in [−1, 1] as a PNG grid (images, lattices) or a scatter SVG (toys). */
export async function writeSampleArtifact(path: string, x: Float32Array, n: number, data: Pick<DiffusionDataset, 'kind' | 'shape' | 'dim'>): Promise<void> {
  if (data.kind === 'toy' || data.shape === null) {
    const points = Array.from({ length: n }, (_, i) => ({ x: x[i * data.dim]!, y: x[i * data.dim + 1]! }));
    writeSvg(path, await scatterPlotSvg({ xLabel: 'x₁', yLabel: 'x₂', points, pointSize: 4 }));
    return;
  }
  const [h, w] = data.shape;
  writeImageGrid(path, x, n, h, w, { range: [-1, 1] });
}

/** A trained run ready to sample: its config, process and denoising network. */
export interface LoadedDiffusionRun {
  readonly dir: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly network: NetworkConfig;
  readonly diffusion: GaussianDiffusion;
  /** The network with the EMA weights (or the raw ones with `weights: 'raw'`); the caller disposes it. */
  readonly net: DiffusionNetwork;
  readonly kind: DiffusionDataset['kind'];
  readonly shape: readonly [number, number, number] | null;
  readonly dim: number;
}

/** Load the latest checkpoint of a run for sampling. */
export function loadDiffusionRun(dir: string, opts: { weights?: 'ema' | 'raw' } = {}): LoadedDiffusionRun {
  const config = readRunConfig(dir);
  if (config.command !== 'diffusion train') throw new RunError(`${dir}: a '${String(config.command)}' run, not a diffusion run`);
  const ck = loadCheckpoint(dir, { kind: DIFFUSION_CHECKPOINT_KIND, allowExtra: true });
  const network = config.network as NetworkConfig;
  const dc = diffusionFromCheckpoint(ck, { network });
  const w = (opts.weights ?? 'ema') === 'ema' ? dc.ema : dc.weights;
  const train = config.train as DiffusionTrainConfig;
  const net = networkFromWeights(network, w);
  return {
    dir,
    config,
    network,
    diffusion: new GaussianDiffusion(NoiseSchedule.create(train.schedule)),
    net,
    kind: config.kind as DiffusionDataset['kind'],
    shape: (config.shape as [number, number, number] | null) ?? null,
    dim: net.dim,
  };
}

/** Options of {@link sampleDiffusion}. */
export interface DiffusionSampleOptions {
  readonly sampler: 'ddpm' | 'ddim';
  /** DDIM steps (ignored by DDPM, which takes all T). */
  readonly steps?: number;
  /** DDIM η ∈ [0, 1]. */
  readonly eta?: number;
  readonly n: number;
  readonly rng: Rng;
  /** Batch size of network evaluations (default 256). */
  readonly batch?: number;
  /** Record this many frames of the first `stripRows` chains, x_T → x_0. */
  readonly stripFrames?: number;
  readonly stripRows?: number;
}

/** Check sampler options against T (one-line UsageErrors naming the flag). */
export function checkSampleOptions(o: Pick<DiffusionSampleOptions, 'sampler' | 'steps' | 'eta' | 'n'>, T: number): void {
  if (o.sampler !== 'ddpm' && o.sampler !== 'ddim') throw new UsageError(`--sampler: expected ddpm or ddim, got '${String(o.sampler)}'`);
  if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1 && o.steps <= T)) throw new UsageError(`--steps: must be an integer in 1…T = ${T}, got ${o.steps}`);
  if (o.eta !== undefined && !(o.eta >= 0 && o.eta <= 1)) throw new UsageError(`--eta: must be in [0, 1], got ${o.eta}`);
  if (!(Number.isInteger(o.n) && o.n >= 1)) throw new UsageError(`--n: must be an integer ≥ 1, got ${o.n}`);
}

/**
 * Draw `n` samples from a loaded run, in batches, with DDPM (all T steps, fixed-small
 * variance) or DDIM (`steps`, η); images are clipped to [−1, 1] at every step.
 * With `stripFrames`, also returns x̂ frames (x_t at evenly spaced visited steps, then x_0)
 * of the first `stripRows` samples, frame-major.
 */
export function sampleDiffusion(r: LoadedDiffusionRun, o: DiffusionSampleOptions): { x: Float32Array; strip?: { frames: number; rows: number; x: Float32Array } } {
  const T = r.diffusion.T;
  checkSampleOptions(o, T);
  const D = r.dim;
  const out = new Float32Array(o.n * D);
  const bs = o.batch ?? 256;
  const den = r.net.denoiser();
  const clip = r.kind === 'toy' ? undefined : ([-1, 1] as const);
  const frames = o.stripFrames ?? 0;
  const rows = Math.min(o.stripRows ?? 8, o.n);
  const visits = o.sampler === 'ddpm' ? T : (o.steps ?? T);
  const want = new Set<number>();
  for (let k = 0; k < frames - 1; k++) want.add(Math.round((k * (visits - 1)) / Math.max(1, frames - 1)));
  const strip = frames > 0 ? new Float32Array(frames * rows * D) : null;
  let frame = 0;
  for (let lo = 0, b = 0; lo < o.n; lo += bs, b++) {
    const size = Math.min(bs, o.n - lo);
    const rng = o.rng.split(b);
    const onStep =
      strip && lo === 0
        ? (e: StepEvent) => {
            if (want.has(e.step) && frame < frames - 1) strip.set(e.xt.subarray(0, rows * D), frame++ * rows * D);
          }
        : undefined;
    const x =
      o.sampler === 'ddpm'
        ? r.diffusion.ddpmSample(den, [size, D], rng, { ...(clip ? { clip } : {}), ...(onStep ? { onStep } : {}) })
        : r.diffusion.ddimSample(den, [size, D], rng, { steps: o.steps ?? T, eta: o.eta ?? 0, ...(clip ? { clip } : {}), ...(onStep ? { onStep } : {}) });
    out.set(x, lo * D);
    if (strip && lo === 0) strip.set(x.subarray(0, rows * D), (frames - 1) * rows * D);
  }
  return { x: out, ...(strip ? { strip: { frames, rows, x: strip } } : {}) };
}

/** A value with its one-standard-error bar. */
export interface ValueError {
  readonly value: number;
  readonly error: number;
}

/** Thermodynamics per site of spin configurations (±1) at temperature T, with jackknife errors. */
export function isingObservables(spins: Int8Array, L: number, T: number, J: number): { energy: ValueError; absMagnetisation: ValueError; specificHeat: ValueError; susceptibility: ValueError } {
  const model = isingModel({ L, J });
  const N = L * L;
  const n = spins.length / N;
  const e = new Float64Array(n);
  const m = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    e[i] = energy(model, spins, i * N) / N;
    m[i] = magnetisation(model, spins, i * N) / N;
  }
  const t = thermoEstimates(T, N, [e], [m]);
  return { energy: t.energy, absMagnetisation: t.absMagnetisation, specificHeat: t.specificHeat, susceptibility: t.susceptibility };
}

/** Options of {@link evaluateDiffusionRun}. */
export interface DiffusionEvalOptions extends Omit<DiffusionSampleOptions, 'stripFrames' | 'stripRows'> {
  /** Real examples to compare with (default n). */
  readonly nReal?: number;
  /** Feature classifier for KID and FD-LeNet on image data (KID in pixels and no FD without it). */
  readonly features?: ImageFeatures | null;
  /** Why no feature classifier was given (recorded in the report). */
  readonly featuresUnavailable?: string;
}

/**
 * Evaluate a run: draw samples and compare them with the data. Images: the report of
 * {@link scoreImageSamples} (MMD and precision/recall in pixels, KID and FD-LeNet on
 * the classifier's features when `features` is given), on equal numbers of test and
 * generated images. Toys: mode coverage and KL/JS against the true
 * mixture (ring8, grid25) or a fresh reference sample, and MMD to a fresh sample of
 * the true distribution. Ising: e, |m|, C, χ of sign(samples) against the Monte
 * Carlo data, with errors.
 */
export function evaluateDiffusionRun(r: LoadedDiffusionRun, o: DiffusionEvalOptions): Record<string, unknown> {
  // Image runs: the test split is read and --n checked before sampling (minutes on a U-Net),
  // so a bad --n costs nothing.
  let test: DiffusionDataset | null = null;
  if (r.kind === 'image') {
    if (!(o.n >= MIN_IMAGE_SCORE_N)) throw new UsageError(`--n: image metrics need at least ${MIN_IMAGE_SCORE_N} samples, got ${o.n}`);
    if (o.nReal !== undefined && !(o.nReal >= MIN_IMAGE_SCORE_N)) throw new UsageError(`nReal: image metrics need at least ${MIN_IMAGE_SCORE_N} real images, got ${o.nReal}`);
    try {
      test = loadDiffusionRunData(r.config, 'test');
    } catch {
      test = loadDiffusionRunData(r.config, 'train');
    }
    if (test.n < MIN_IMAGE_SCORE_N) throw new UsageError(`--n: the test split holds ${test.n} images; image metrics need at least ${MIN_IMAGE_SCORE_N}`);
  }
  const { x } = sampleDiffusion(r, o);
  const D = r.dim;
  const rng = o.rng.split(0x5eed);
  const fake = asSamples(x, D);
  const seed = Number(r.config.seed ?? 0);
  const base = { sampler: o.sampler, ...(o.sampler === 'ddim' ? { steps: o.steps ?? r.diffusion.T, eta: o.eta ?? 0 } : {}), n: o.n };
  if (r.kind === 'toy') {
    const spec = (r.config.data as DiffusionDataSpec).spec;
    const name = spec.split(':')[1]!;
    // A fresh draw of the true distribution, independent of the training points.
    const ref = loadDiffusionData(`toy:${name}:${Math.max(o.nReal ?? o.n, 2)}`, { seed: seed + 7919 });
    const real = asSamples(ref.x, 2);
    const mm = mmdReport(real, fake, { rng });
    const div = ref.toy?.modes ? toyMetrics(fake, ref.toy.modes) : { ...sampleGridDivergence(real, fake) };
    const { counts: _c, grid: _g, ...rest } = div as Record<string, unknown>;
    return { ...base, kind: 'toy', toy: name, mmd: { value: mm.mmd, mmd2: mm.mmd2, se: mm.se, baseline: mm.baseline?.mmd, kernel: mm.kernel }, ...rest };
  }
  if (r.kind === 'ising') {
    const data = loadDiffusionRunData(r.config);
    const L = data.ising!.L;
    const spins = new Int8Array(x.length);
    for (let i = 0; i < x.length; i++) spins[i] = x[i]! >= 0 ? 1 : -1;
    const model = isingObservables(spins, L, data.ising!.T, data.ising!.J);
    const ref = data.ising!.reference;
    const z = (a: ValueError, b: { value: number; error: number }) => (a.value - b.value) / Math.hypot(a.error, b.error);
    return {
      ...base,
      kind: 'ising',
      L,
      T: data.ising!.T,
      model,
      mc: { energy: ref.energy, absMagnetisation: ref.absMagnetisation, specificHeat: ref.specificHeat, susceptibility: ref.susceptibility },
      z: { energy: z(model.energy, ref.energy), absMagnetisation: z(model.absMagnetisation, ref.absMagnetisation), specificHeat: z(model.specificHeat, ref.specificHeat), susceptibility: z(model.susceptibility, ref.susceptibility) },
    };
  }
  // The same report as `gan eval` and `classifier score` (src/metrics/image-score.ts): equal
  // numbers of real and generated images, so the two sides' metrics are comparable.
  const n = Math.min(test!.n, o.nReal ?? o.n, o.n);
  const real = asSamples(test!.x.subarray(0, n * D), D);
  const fakeN = asSamples(x.subarray(0, n * D), D);
  return {
    ...base,
    kind: 'image',
    nReal: n,
    ...scoreImageSamples(real, fakeN, { rng, features: o.features ?? null, ...(o.featuresUnavailable !== undefined ? { featuresUnavailable: o.featuresUnavailable } : {}) }),
  };
}
