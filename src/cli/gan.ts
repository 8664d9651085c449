/**
 * `genphys gan train|sample|eval`: train a GAN from a preset, draw samples from a saved
 * run, and score them against the data. The modelling lives in src/gan; this file maps
 * flags to it.
 */
import { Option, type Command } from 'commander';
import { join } from 'node:path';
import { initBackend } from '../engine/backend.js';
import { InterruptedError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { GAN_LOSS_NAMES, GAN_PRESET_NAMES, type GanLossName, type GanOverrides } from '../gan/presets.js';
import { evaluateGanRun, generateSamples, loadGanRun, recordEval, samplingGan, trainGanRun, type GanEvalOptions } from '../gan/run.js';
import type { ClassifierDataset } from '../metrics/classifier.js';
import { lenetFeatures } from '../metrics/score-file.js';
import { evalReportLines } from '../metrics/report-text.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { checkOutputFile, runDirectory } from '../run/paths.js';
import { catchInterrupts } from '../run/signals.js';
import { scatterPlotSvg, writeImageGrid, writeSvg } from '../viz/index.js';
import { choiceArg, floatArg, givenFlags, globals, intArg, logger, runRenderer } from './common.js';

interface TrainFlags {
  json?: boolean;
  data?: string;
  preset: string;
  loss?: GanLossName;
  nCritic?: number;
  epochs?: number;
  batch?: number;
  lrG?: number;
  lrD?: number;
  realLabel?: number;
  gpWeight?: number;
  spectralNorm?: boolean;
  ema: number;
  override?: string;
  limit?: number;
  dataDir?: string;
  sampleEvery: number;
  saveEvery: number;
  resume: boolean;
  force: boolean;
}

/** Option key → [flag, path in config.json], for the resume check. */
export const TRAIN_FLAG_PATHS = {
  data: ['--data', 'data.spec'],
  preset: ['--preset', 'preset'],
  loss: ['--loss', 'train.loss'],
  nCritic: ['--n-critic', 'train.nCritic'],
  epochs: ['--epochs', 'epochs'],
  batch: ['--batch', 'train.batchSize'],
  lrG: ['--lr-g', 'train.lrG'],
  lrD: ['--lr-d', 'train.lrD'],
  realLabel: ['--real-label', 'train.realLabel'],
  gpWeight: ['--gp-weight', 'train.gpWeight'],
  spectralNorm: ['--spectral-norm', 'model.discriminator.spectralNorm'],
  ema: ['--ema', 'train.ema'],
  limit: ['--limit', 'data.limit'],
  dataDir: ['--data-dir', 'data.dir'],
} as const;

/** The preset overrides the flags ask for (`--override` JSON first, then the single flags). */
export function overridesFromFlags(f: Pick<TrainFlags, 'override' | 'loss' | 'nCritic' | 'epochs' | 'batch' | 'lrG' | 'lrD' | 'realLabel' | 'gpWeight' | 'spectralNorm'>): GanOverrides {
  let base: GanOverrides = {};
  if (f.override !== undefined) {
    try {
      base = JSON.parse(f.override) as GanOverrides;
    } catch (err) {
      throw new UsageError(`--override: not valid JSON (${(err as Error).message.split('\n')[0]}); e.g. '{"model":{"noiseDim":16}}'`);
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UsageError('--override: expected a JSON object like {"model": {…}, "train": {…}}');
    for (const k of Object.keys(base)) if (k !== 'model' && k !== 'train') throw new UsageError(`--override: unknown section '${k}'; use model and train`);
  }
  const train: Record<string, unknown> = { ...(base.train ?? {}) };
  const set = (k: string, v: unknown) => {
    if (v !== undefined) train[k] = v;
  };
  set('loss', f.loss);
  set('nCritic', f.nCritic);
  set('epochs', f.epochs);
  set('batchSize', f.batch);
  set('lrG', f.lrG);
  set('lrD', f.lrD);
  set('realLabel', f.realLabel);
  set('gpWeight', f.gpWeight);
  // WGAN-GP's recipe (Gulrajani et al. 2017): 5 critic steps unless asked otherwise.
  if (f.loss === 'wgan-gp' && f.nCritic === undefined && train.nCritic === undefined) train.nCritic = 5;
  const model = { ...(base.model ?? {}) } as Record<string, unknown>;
  if (f.spectralNorm) model.discriminator = { ...((model.discriminator as object | undefined) ?? {}), spectralNorm: true };
  return { ...(Object.keys(model).length > 0 ? { model: model as GanOverrides['model'] } : {}), ...(Object.keys(train).length > 0 ? { train } : {}) };
}

async function train(flags: TrainFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet || flags.json === true);
  const out = runDirectory(g.out, 'gan', flags.resume);
  if (!flags.resume && flags.data === undefined) throw new UsageError('--data: required (fashion-mnist, mnist, toy:<name>[:N] or ising:<dir>[:T])');
  const given = givenFlags(cmd, flags as unknown as Record<string, unknown>, TRAIN_FLAG_PATHS);
  if (flags.resume && flags.override !== undefined) throw new UsageError('--override: not allowed with --resume (the run keeps its configuration)');
  const overrides = overridesFromFlags(flags);
  // The tensor backend as --backend asks (native by default): without this tfjs would run on its plain cpu backend.
  await initBackend(g.backend, { quiet: true });
  const view = runRenderer('gan train', g.quiet, undefined, { json: flags.json === true });
  const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupt: saving a checkpoint after this batch\n'));
  let res;
  try {
    res = await trainGanRun({
      dir: out,
      resume: flags.resume,
      force: flags.force,
      given,
      seed: g.seed,
      data: { spec: flags.data ?? '', ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.dataDir ? { dir: flags.dataDir } : {}) },
      preset: flags.preset,
      overrides,
      ema: flags.ema,
      ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
      saveEvery: flags.saveEvery,
      sampleEvery: flags.sampleEvery,
      signal: stop.signal,
      onEvent: view.listener,
    });
  } finally {
    view.stop();
    stop.dispose();
  }
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.epoch} complete epochs (step ${res.step}); checkpoint saved in ${out}; continue with --resume --out ${out}`);
  log(`done: ${out} (epoch ${res.epoch}, step ${res.step}); files: config.json, metrics.jsonl, checkpoint.json, samples-epoch-*, curve-loss.svg, curve-d.svg`);
}

interface SampleFlags {
  n: number;
  grid?: string;
  raw: boolean;
}

async function sample(dir: string, flags: SampleFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  await initBackend(g.backend, { quiet: true });
  const log = logger(g.quiet);
  if (!flags.grid) throw new UsageError('--grid: required (a .png for images, a .svg scatter plot for 2D toys)');
  checkOutputFile(flags.grid, '--grid');
  const run = loadGanRun(dir);
  const { gan, ema } = samplingGan(run, !flags.raw);
  try {
    const x = generateSamples(gan, flags.n, new Rng(g.seed));
    const kind = run.config.dataKind;
    if (kind === 'toy') {
      if (!flags.grid.endsWith('.svg')) throw new UsageError(`--grid: ${flags.grid}: a 2D toy run writes an SVG scatter plot; name the file *.svg`);
      const pts = Array.from({ length: flags.n }, (_, i) => ({ x: x[2 * i]!, y: x[2 * i + 1]! }));
      writeSvg(flags.grid, await scatterPlotSvg({ xLabel: 'x₁', yLabel: 'x₂', points: pts, pointSize: 6 }));
    } else {
      if (!flags.grid.endsWith('.png')) throw new UsageError(`--grid: ${flags.grid}: image and spin runs write a PNG grid; name the file *.png`);
      const [h, w] = run.config.model.dataShape;
      writeImageGrid(flags.grid, x, flags.n, h, w, { range: [-1, 1], scale: h < 10 ? 8 : 2 });
    }
    log(`wrote ${flags.grid} (${flags.n} samples, ${ema ? 'EMA generator' : 'trained generator'}, epoch ${run.epoch})`);
  } finally {
    if (gan !== run.gan) gan.dispose();
    run.gan.dispose();
  }
}

interface EvalFlags {
  n?: number;
  permutations: number;
  raw: boolean;
  json?: string;
}

/**
 * The committed LeNet feature classifier of `dataset` for FD and KID, or the reason
 * there is none (the caller disposes `dispose`).
 */
async function featureClassifier(dataset: string): Promise<{ features: GanEvalOptions['features']; dispose(): void; reason?: string }> {
  return lenetFeatures(dataset as ClassifierDataset);
}

async function evaluate(dir: string, flags: EvalFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  await initBackend(g.backend, { quiet: true });
  const log = logger(g.quiet);
  if (flags.json !== undefined) checkOutputFile(flags.json, '--json');
  const run = loadGanRun(dir);
  const kind = run.config.dataKind;
  const spec = run.config.data.spec;
  run.gan.dispose();
  const fc = kind === 'image' ? await featureClassifier(spec) : null;
  let result;
  try {
    result = await evaluateGanRun(dir, {
      rng: new Rng(g.seed),
      ema: !flags.raw,
      permutations: flags.permutations,
      ...(flags.n !== undefined ? { n: flags.n } : {}),
      features: fc?.features ?? null,
      ...(fc?.reason ? { featuresUnavailable: fc.reason } : {}),
    });
  } finally {
    fc?.dispose();
  }
  const key = recordEval(dir, result);
  if (flags.json !== undefined) writeJsonAtomic(flags.json, result);
  log(evalReportLines(result).join('\n'));
  log(`recorded in ${join(dir, 'eval.json')} as '${key}'${flags.json !== undefined ? ` and written to ${flags.json}` : ''}`);
}

/** Register the `gan` command with its `train`, `sample` and `eval` subcommands. */
export function register(program: Command): void {
  const gan = program.command('gan').description('generative adversarial networks: train, sample, evaluate');
  gan
    .command('train')
    .description('train a GAN; the run directory (--out) gets config.json, metrics.jsonl, checkpoints, sample grids and curves')
    .option('--json', 'one JSON object per line on stdout (start, epoch, warning, checkpoint, end) instead of text')
    .option('--data <spec>', 'fashion-mnist | mnist | toy:<name>[:N] | ising:<dir>[:T] (required unless --resume)')
    .addOption(new Option('--preset <name>', 'network and recipe preset').argParser(choiceArg(GAN_PRESET_NAMES)).default('toy-mlp'))
    .addOption(new Option('--loss <name>', "objective (default the preset's)").argParser(choiceArg(GAN_LOSS_NAMES)))
    .option('--n-critic <n>', 'D steps per G step (default the preset’s; 5 with --loss wgan-gp)', intArg(1))
    .option('--epochs <n>', "total epochs of the run (also on --resume; default the preset's)", intArg(1))
    .option('--batch <n>', "minibatch size (default the preset's)", intArg(2))
    .option('--lr-g <x>', "generator Adam learning rate (default the preset's)", floatArg(0, Infinity, { min: true }))
    .option('--lr-d <x>', "discriminator Adam learning rate (default the preset's)", floatArg(0, Infinity, { min: true }))
    .option('--real-label <x>', 'target for real examples (0.9: one-sided label smoothing)', floatArg(0, 1, { min: true }))
    .option('--gp-weight <x>', 'WGAN-GP penalty λ', floatArg(0))
    .option('--spectral-norm', 'spectral normalisation of every D kernel')
    .option('--ema <d>', "decay of an EMA of G's weights used for sampling (0: none)", floatArg(0, 1, { max: true }), 0)
    .option('--override <json>', 'preset overrides as JSON, e.g. \'{"model":{"dataShape":[16,16,1]}}\'')
    .option('--limit <n>', 'use only the first n training examples', intArg(1))
    .option('--data-dir <dir>', 'image data set directory override')
    .option('--sample-every <n>', 'sample grid and curves every n epochs (0: only at the end)', intArg(0), 1)
    .option('--save-every <n>', 'checkpoint every n epochs (0: only at the end; always at the end and on SIGINT)', intArg(0), 1)
    .option('--resume', 'continue the run in --out exactly from its checkpoint; a conflicting flag is an error, --epochs (the total) may be raised', false)
    .option('--force', 'replace an existing run in --out', false)
    .action(async (flags: TrainFlags, cmd: Command) => train(flags, cmd));
  gan
    .command('sample')
    .description('draw samples from a trained run (EMA generator when the run kept one)')
    .argument('<run>', 'run directory')
    .option('--n <n>', 'number of samples', intArg(1, 100000), 64)
    .option('--grid <file>', 'output: PNG grid (images, spins) or SVG scatter plot (2D toys)')
    .option('--raw', 'use the trained generator, not its EMA', false)
    .action(async (run: string, flags: SampleFlags, cmd: Command) => sample(run, flags, cmd));
  gan
    .command('eval')
    .description('score samples against the data (images: MMD, KID, precision/recall, FD; toys: modes, KL/JS; Ising: e, |m|, C, χ); appended to eval.json')
    .argument('<run>', 'run directory')
    .option('--n <n>', 'samples compared (default: images 1000, toys 5000, Ising 2000)', intArg(1, 100000))
    .option('--permutations <n>', 'permutations for the MMD p-value (images)', intArg(0), 200)
    .option('--raw', 'use the trained generator, not its EMA', false)
    .option('--json <file>', 'also write the report (as recorded in eval.json) to this file')
    .action(async (run: string, flags: EvalFlags, cmd: Command) => evaluate(run, flags, cmd));
}
