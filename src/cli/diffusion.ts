/**
 * `genphys diffusion train|sample|eval`: train denoising diffusion models (toy MLP or
 * U-Net) on images, 2D toys or Ising lattices, draw samples with DDPM or DDIM (with a
 * denoising strip), and evaluate them against the data. The modelling lives in
 * src/diffusion; this file maps flags to it.
 */
import { Option, type Command } from 'commander';
import { InterruptedError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { initBackend } from '../engine/backend.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { DEFAULT_DIFFUSION_TRAIN, type DiffusionTrainConfig } from '../diffusion/train.js';
import { PREDICTIONS, type Prediction } from '../diffusion/process.js';
import { NoiseSchedule } from '../diffusion/schedule.js';
import { checkSampleOptions, DIFFUSION_ARCHS, evaluateDiffusionRun, loadDiffusionRun, sampleDiffusion, trainDiffusionRun, writeSampleArtifact, type DiffusionArch } from '../diffusion/run.js';
import { checkOutputFile, runDirectory } from '../run/paths.js';
import { catchInterrupts } from '../run/signals.js';
import { writeImageGrid } from '../viz/index.js';
import { CLASSIFIER_DATASETS, type ClassifierDataset } from '../metrics/classifier.js';
import type { ImageFeatures } from '../metrics/image-score.js';
import { lenetFeatures } from '../metrics/score-file.js';
import { evalReportLines } from '../metrics/report-text.js';
import { choiceArg, floatArg, givenFlags, globals, intArg, logger, runRenderer } from './common.js';

interface TrainFlags {
  json?: boolean;
  data?: string;
  limit?: number;
  dataDir?: string;
  arch?: DiffusionArch;
  prediction: Prediction;
  schedule: 'linear' | 'cosine';
  T: number;
  epochs: number;
  lr: number;
  batch: number;
  ema: number;
  saveEvery: number;
  sampleEvery: number;
  sampleSteps?: number;
  resume: boolean;
  force: boolean;
}

/** Option key → [flag, path in config.json], for the resume check. */
export const TRAIN_FLAG_PATHS = {
  data: ['--data', 'data.spec'],
  limit: ['--limit', 'data.limit'],
  dataDir: ['--data-dir', 'data.dir'],
  arch: ['--arch', 'arch'],
  prediction: ['--prediction', 'prediction'],
  schedule: ['--schedule', 'train.schedule.kind'],
  T: ['--T', 'train.schedule.T'],
  epochs: ['--epochs', 'epochs'],
  lr: ['--lr', 'train.lr'],
  batch: ['--batch', 'train.batchSize'],
  ema: ['--ema', 'train.emaDecay'],
  sampleSteps: ['--sample-steps', 'sampleSteps'],
} as const;

async function train(flags: TrainFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet || flags.json === true);
  const out = runDirectory(g.out, 'diffusion', flags.resume);
  if (!flags.resume && flags.data === undefined) throw new UsageError('--data: required (fashion-mnist, mnist, toy:<name>[:N] or ising:<dir>[:T])');
  if (flags.sampleSteps !== undefined && flags.sampleSteps > flags.T) throw new UsageError(`--sample-steps: must be at most --T (${flags.T}), got ${flags.sampleSteps}`);
  const given = givenFlags(cmd, flags as unknown as Record<string, unknown>, TRAIN_FLAG_PATHS);
  const trainCfg: DiffusionTrainConfig = { ...DEFAULT_DIFFUSION_TRAIN, lr: flags.lr, batchSize: flags.batch, emaDecay: flags.ema, schedule: { kind: flags.schedule, T: flags.T } };
  try {
    NoiseSchedule.create(trainCfg.schedule);
  } catch (err) {
    throw new UsageError(`--T ${flags.T} with --schedule ${flags.schedule}: ${(err as Error).message}`);
  }
  await initBackend(g.backend, { quiet: g.quiet });
  const view = runRenderer('diffusion train', g.quiet, undefined, { json: flags.json === true });
  const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupt: saving a checkpoint after this batch\n'));
  let res;
  try {
    res = await trainDiffusionRun({
      dir: out,
      resume: flags.resume,
      force: flags.force,
      given,
      seed: g.seed,
      data: { spec: flags.data ?? '', ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.dataDir ? { dir: flags.dataDir } : {}) },
      ...(flags.arch ? { arch: flags.arch } : {}),
      prediction: flags.prediction,
      train: trainCfg,
      epochs: flags.epochs,
      saveEvery: flags.saveEvery,
      sampleEvery: flags.sampleEvery,
      ...(flags.sampleSteps !== undefined ? { sampleSteps: flags.sampleSteps } : {}),
      signal: stop.signal,
      onEvent: view.listener,
    });
  } finally {
    view.stop();
    stop.dispose();
  }
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.epoch} complete epochs (step ${res.step}); checkpoint saved in ${out}; continue with --resume --out ${out}`);
  log(`done: ${out} (epoch ${res.epoch}, step ${res.step}, √ᾱ_T = ${Number(res.config.sqrtAlphaBarT).toExponential(2)}); files: config.json, metrics.jsonl, checkpoint.json, samples`);
}

interface SampleFlags {
  sampler: 'ddpm' | 'ddim';
  steps?: number;
  eta: number;
  n: number;
  grid?: string;
  strip?: string;
  frames: number;
  weights: 'ema' | 'raw';
}

/** Frames × rows (frame-major) → a grid with one row per sample and one column per frame. */
function stripTiles(x: Float32Array, frames: number, rows: number, D: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let f = 0; f < frames; f++) for (let r = 0; r < rows; r++) out.set(x.subarray((f * rows + r) * D, (f * rows + r + 1) * D), (r * frames + f) * D);
  return out;
}

async function sample(dir: string, flags: SampleFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const grid = flags.grid ?? g.out;
  if (grid === undefined) throw new UsageError('--grid: give the output file (PNG for images, SVG for toys)');
  checkOutputFile(grid, '--grid');
  if (flags.strip) checkOutputFile(flags.strip, '--strip');
  await initBackend(g.backend, { quiet: g.quiet });
  const r = loadDiffusionRun(dir, { weights: flags.weights });
  try {
    checkSampleOptions({ sampler: flags.sampler, ...(flags.steps !== undefined ? { steps: flags.steps } : {}), eta: flags.eta, n: flags.n }, r.diffusion.T);
    if (flags.strip && r.shape === null) throw new UsageError(`--strip: the run in ${dir} holds 2D points; a denoising strip needs images or lattices`);
    const rows = Math.min(8, flags.n);
    const res = sampleDiffusion(r, {
      sampler: flags.sampler,
      ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
      eta: flags.eta,
      n: flags.n,
      rng: new Rng(g.seed),
      ...(flags.strip ? { stripFrames: flags.frames, stripRows: rows } : {}),
    });
    await writeSampleArtifact(grid, res.x, flags.n, { kind: r.kind, shape: r.shape, dim: r.dim });
    if (flags.strip && res.strip && r.shape) {
      const s = res.strip;
      writeImageGrid(flags.strip, stripTiles(s.x, s.frames, s.rows, r.dim), s.frames * s.rows, r.shape[0], r.shape[1], { range: [-1, 1], cols: s.frames });
    }
    log(`wrote ${flags.n} samples (${flags.sampler}${flags.sampler === 'ddim' ? `, ${flags.steps ?? r.diffusion.T} steps, η = ${flags.eta}` : `, ${r.diffusion.T} steps`}) to ${grid}${flags.strip ? ` and a ${flags.frames}-frame strip to ${flags.strip}` : ''}`);
  } finally {
    r.net.dispose();
  }
}

interface EvalFlags {
  sampler: 'ddpm' | 'ddim';
  steps?: number;
  eta: number;
  n: number;
  json?: string;
}

/** The FD-LeNet feature classifier for the run's data set, or why there is none. */
async function featureExtractor(dataset: string, shape: readonly number[] | null): Promise<{ features: ImageFeatures | null; dispose(): void; reason?: string }> {
  if (!shape || shape[0] !== 28 || shape[1] !== 28 || shape[2] !== 1) return { features: null, dispose() {}, reason: 'LeNet features need 28×28 grey images' };
  if (!(CLASSIFIER_DATASETS as readonly string[]).includes(dataset)) return { features: null, dispose() {}, reason: `no feature classifier for ${dataset}` };
  return lenetFeatures(dataset as ClassifierDataset);
}

async function evaluate(dir: string, flags: EvalFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const jsonOut = flags.json ?? g.out;
  if (jsonOut !== undefined) checkOutputFile(jsonOut, flags.json !== undefined ? '--json' : '--out');
  await initBackend(g.backend, { quiet: g.quiet });
  const r = loadDiffusionRun(dir);
  try {
    checkSampleOptions({ sampler: flags.sampler, ...(flags.steps !== undefined ? { steps: flags.steps } : {}), eta: flags.eta, n: flags.n }, r.diffusion.T);
    const steps = flags.steps ?? Math.min(50, r.diffusion.T);
    const spec = String((r.config.data as { spec?: string } | undefined)?.spec ?? '');
    const fx = r.kind === 'image' ? await featureExtractor(spec, r.shape) : null;
    let res;
    try {
      res = evaluateDiffusionRun(r, { sampler: flags.sampler, steps, eta: flags.eta, n: flags.n, rng: new Rng(g.seed), features: fx?.features ?? null, ...(fx?.reason !== undefined ? { featuresUnavailable: fx.reason } : {}) });
    } finally {
      fx?.dispose();
    }
    const report = { run: dir, ...res };
    if (jsonOut !== undefined) writeJsonAtomic(jsonOut, report);
    log(evalReportLines(report).join('\n'));
    if (jsonOut !== undefined) log(`written to ${jsonOut}`);
  } finally {
    r.net.dispose();
  }
}

/** Register `genphys diffusion` and its subcommands. */
export function register(program: Command): void {
  const d = program
    .command('diffusion')
    .description('Denoising diffusion models (DDPM/DDIM): train, sample, evaluate')
    .addHelpText(
      'after',
      '\nExamples:\n  genphys diffusion train --data toy:moons --epochs 25 --T 50 --lr 2e-3 --out runs/moons\n' +
        '  genphys diffusion train --data fashion-mnist --arch small-unet --epochs 20 --out runs/ddpm1\n' +
        '  genphys diffusion sample runs/ddpm1 --sampler ddim --steps 50 --n 64 --grid grid.png --strip strip.png\n' +
        '  genphys diffusion eval runs/ddpm1 --n 1000',
    );
  d.command('train')
    .description('train a diffusion model in --out (resumable with --resume; Ctrl-C saves and exits 130)')
    .option('--json', 'one JSON object per line on stdout (start, epoch, warning, checkpoint, end) instead of text')
    .option('--data <spec>', 'fashion-mnist | mnist | toy:<name>[:N] | ising:<dir>[:T]')
    .option('--limit <n>', 'use only the first n examples', intArg(1))
    .option('--data-dir <dir>', 'image data set directory')
    .addOption(new Option('--arch <name>', 'network (default: toy-mlp for toys, ising-unet for Ising, small-unet for images)').argParser(choiceArg(DIFFUSION_ARCHS)))
    .addOption(new Option('--prediction <p>', 'network output').argParser(choiceArg(PREDICTIONS)).default('eps'))
    .addOption(new Option('--schedule <kind>', 'noise schedule (linear is scaled by 1000/T)').argParser(choiceArg(['linear', 'cosine'] as const)).default('linear'))
    .option('--T <n>', 'diffusion steps T', intArg(1, 100000), 1000)
    .option('--epochs <n>', 'total epochs', intArg(1), 20)
    .option('--lr <x>', 'Adam learning rate', floatArg(0, Infinity, { min: true }), 2e-4)
    .option('--batch <n>', 'batch size', intArg(1), 128)
    .option('--ema <d>', 'EMA decay of the weights', floatArg(0, 1, { max: true }), 0.9999)
    .option('--save-every <n>', 'checkpoint every n epochs (0: only at the end)', intArg(0), 1)
    .option('--sample-every <n>', 'sample grid every n epochs (0: only at the end)', intArg(0), 1)
    .option('--sample-steps <n>', 'DDIM steps of the per-epoch samples (default min(20, T))', intArg(1))
    .option('--resume', 'continue the run in --out', false)
    .option('--force', 'replace the run in --out', false)
    .action(async (_o: TrainFlags, cmd: Command) => train(cmd.opts<TrainFlags>(), cmd));
  d.command('sample <run>')
    .description('draw samples from a trained run (EMA weights)')
    .addOption(new Option('--sampler <s>', 'ddpm (all T steps) or ddim').argParser(choiceArg(['ddpm', 'ddim'] as const)).default('ddim'))
    .option('--steps <n>', 'DDIM steps, 1…T (default T)', intArg(1))
    .option('--eta <x>', 'DDIM η in [0, 1]', floatArg(0, 1), 0)
    .option('--n <n>', 'number of samples', intArg(1, 100000), 64)
    .option('--grid <file>', 'output PNG (images, lattices) or SVG (toys)')
    .option('--strip <file>', 'denoising strip PNG: x_T → x_0 for 8 samples')
    .option('--frames <n>', 'frames of the strip', intArg(2, 100), 8)
    .addOption(new Option('--weights <w>', 'which weights').argParser(choiceArg(['ema', 'raw'] as const)).default('ema'))
    .action(async (run: string, _o: SampleFlags, cmd: Command) => sample(run, cmd.opts<SampleFlags>(), cmd));
  d.command('eval <run>')
    .description('sample and compare with the data: MMD, KID, precision/recall (FD-LeNet when available); toys: modes, KL/JS, MMD; Ising: e, |m|, C, χ')
    .addOption(new Option('--sampler <s>', 'ddpm or ddim').argParser(choiceArg(['ddpm', 'ddim'] as const)).default('ddim'))
    .option('--steps <n>', 'DDIM steps, 1…T (default min(50, T))', intArg(1))
    .option('--eta <x>', 'DDIM η in [0, 1]', floatArg(0, 1), 0)
    .option('--n <n>', 'number of samples', intArg(3, 100000), 1000)
    .option('--json <file>', 'also write the report as JSON')
    .action(async (run: string, _o: EvalFlags, cmd: Command) => evaluate(run, cmd.opts<EvalFlags>(), cmd));
}
