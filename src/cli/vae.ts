/**
 * `genphys vae train|eval|plot|sample|ising-probe`: variational autoencoders with
 * presets that reproduce PyTorch's and Keras's example VAEs side by side.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InterruptedError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { binarizeDynamic, binarizeStatic } from '../data/binarize.js';
import type { DatasetName } from '../data/datasets.js';
import { initBackend } from '../engine/backend.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { loadIsingDataset, parseTemperatures } from '../physics/dataset.js';
import { simulateTemperatures } from '../physics/simulate.js';
import { scatterPlotSvg, writeSvg } from '../viz/plot.js';
import { writeImageGrid, writeLabelledImageGrid } from '../viz/png.js';
import { loadVaeCheckpoint } from '../vae/checkpoint.js';
import { loadVaeImages, type VaeDataset } from '../vae/data.js';
import type { DecoderKind } from '../vae/distributions.js';
import { importanceWeightedBound } from '../vae/evaluate.js';
import { isingVaeData, latentMagnetisationCorrelation, type IsingVaeData } from '../vae/ising.js';
import { ACTIVATIONS, Vae, validateConfig, type Activation, type VaeConfig } from '../vae/models.js';
import { interpolation, latentGrid, latentGridLabels, latentMeans, priorSamples, reconstructions } from '../vae/plots.js';
import { PRESET_NAMES, getPreset, type Binarize, type TrainConfig } from '../vae/presets.js';
import { RUN_FILES, checkVaeRun, trainRun } from '../vae/run.js';
import { recordEvaluation } from '../run/run-dir.js';
import { prepareData, validateData, type VaeData } from '../vae/train.js';
import { choiceArg, deprecated, floatArg, formatDuration, givenFlags, globals, intArg, logger, progress, runRenderer } from './common.js';
import { parseDataSpec } from '../data/spec.js';
import { tempsArg } from './ising.js';
import { catchInterrupts } from '../run/signals.js';
import { checkOutputDir, checkOutputFile, runDirectory } from '../run/paths.js';
import { checkAllocation } from '../run/resources.js';

const DATA_NAMES = ['fashion-mnist', 'mnist', 'ising'] as const;
type DataName = (typeof DATA_NAMES)[number];
const DECODERS: readonly DecoderKind[] = ['bernoulli', 'gaussian', 'gaussian-learned', 'cbernoulli'];
const BINARIZE: readonly Binarize[] = ['none', 'static', 'dynamic'];
const PLOTS = ['latent-grid', 'clusters', 'interp', 'recon', 'samples'] as const;

/** `--data` of vae train: fashion-mnist, mnist, ising:DIR (or the old 'ising' with --data-dir). */
function vaeDataArg(v: string): string {
  if (v === 'ising') return v;
  try {
    return parseDataSpec(v, '--data', ['fashion-mnist', 'mnist', 'ising']).spec;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message.replace(/^--data /, ''));
  }
}

/** `--temps` of ising-probe: a temperature spec; a bare count (the old meaning) names the new form. */
function probeTempsArg(v: string): number[] {
  if (/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`'${v}' is a count; --temps now takes temperatures, e.g. 1.5:3.5:${v}`);
  return tempsArg(v);
}

function listArg(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  const out = parts.map((p) => Number(p));
  if (parts.some((p) => !/^\d+$/.test(p)) || out.some((n) => n < 1)) throw new UsageError(`--hidden: expected a comma list of positive integers, got '${v}'`);
  return out;
}

interface TrainOpts {
  json?: boolean;
  preset: string;
  data: DataName;
  dataDir?: string;
  limit?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  latent?: number;
  hidden?: number[];
  activation?: Activation;
  beta?: number;
  decoder?: DecoderKind;
  sigma2?: number;
  binarize?: Binarize;
  earlyStopping?: number;
  resume?: boolean;
  force?: boolean;
}

/** Train and test (validation) data of a named source. */
function loadData(name: DataName, dir: string | undefined, limit: number | undefined): { train: VaeDataset; test: VaeDataset | null } {
  if (name === 'ising') {
    if (!dir) throw new UsageError("--data ising: give the data set directory with --data-dir (made by 'genphys ising sample')");
    const all = isingVaeData(loadIsingDataset(dir));
    const n = Math.min(all.n, limit ?? all.n);
    return { train: { ...all, n, x: all.x.subarray(0, n * all.dim) }, test: null };
  }
  // --limit cuts the training split only (as for every command); the test split stays whole.
  const where = dir !== undefined ? { dir } : {};
  return { train: loadVaeImages(name as DatasetName, 'train', { ...where, ...(limit !== undefined ? { limit } : {}) }), test: loadVaeImages(name as DatasetName, 'test', where) };
}

/** Test data as the model was trained: static → threshold; dynamic → one fixed Bernoulli draw (seeded). */
function binarizeForEval(data: VaeData, mode: Binarize, seed: number): VaeData {
  if (mode === 'static') return { ...data, x: binarizeStatic(data.x) };
  if (mode === 'dynamic') return { ...data, x: binarizeDynamic(data.x, new Rng(seed).split(0xe7a1)) };
  return data;
}

function checkpointPath(run: string, which: string): string {
  const p = which === 'best' ? join(run, RUN_FILES.best) : which === 'last' ? join(run, RUN_FILES.checkpoint) : which.endsWith('.safetensors') ? which.replace(/(\.w\d+(-\d+)?)?\.safetensors$/, '.json') : which;
  if (!existsSync(p)) throw new UsageError(`${p}: no checkpoint (is '${run}' a vae run directory?)`);
  return p;
}

function dataNameOf(stored: string | undefined): DataName {
  const base = (stored ?? '').replace(/-L\d+$/, '');
  if ((DATA_NAMES as readonly string[]).includes(base)) return base as DataName;
  throw new UsageError(`cannot tell which data set the run used ('${stored}')`);
}

async function cmdTrain(o: TrainOpts, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet || o.json === true);
  const out = runDirectory(g.out, 'vae', o.resume ?? false);
  if (o.data.startsWith('ising:')) {
    // ising:DIR is the one data spec; the run records it as data 'ising' with its directory.
    if (o.dataDir !== undefined) throw new UsageError('--data-dir: give the directory once, in --data ising:DIR');
    o = { ...o, data: 'ising', dataDir: o.data.slice('ising:'.length) };
  } else if (o.data === 'ising' && o.dataDir !== undefined && !o.resume) {
    process.stderr.write('genphys: note: --data ising --data-dir DIR is deprecated; use --data ising:DIR\n');
  }
  // Directory, resume and flag conflicts are checked first, before data loads or anything is written.
  const given = givenFlags(cmd, { ...o, seed: g.seed } as unknown as Record<string, unknown>, VAE_FLAG_PATHS);
  if (cmd.parent?.parent?.getOptionValueSource('seed') === 'cli' || cmd.getOptionValueSource('seed') === 'cli') given['--seed'] = ['seed', g.seed];
  const stored = checkVaeRun({ dir: out, resume: o.resume ?? false, force: o.force ?? false, given });
  if (stored) {
    // A resume takes the data and preset from the run unless given again (and then they must agree).
    if (cmd.getOptionValueSource('preset') !== 'cli' && typeof stored.preset === 'string') o.preset = stored.preset;
    if (cmd.getOptionValueSource('data') !== 'cli' && typeof stored.data === 'string') o.data = stored.data as DataName;
    if (cmd.getOptionValueSource('dataDir') !== 'cli' && typeof stored.dataDir === 'string') o.dataDir = stored.dataDir;
    if (cmd.getOptionValueSource('limit') !== 'cli' && typeof stored.limit === 'number') o.limit = stored.limit;
  }
  const preset = getPreset(o.preset);
  const arch = preset.model.arch;
  const hidden = o.hidden;
  if (hidden && arch.kind !== 'mlp') throw new UsageError(`--hidden: preset '${o.preset}' is convolutional; --hidden applies to MLP presets`);
  // Resolve the configuration before touching the disk.
  let model: VaeConfig = {
    ...preset.model,
    ...(o.latent !== undefined ? { latent: o.latent } : {}),
    ...(o.beta !== undefined ? { beta: o.beta } : {}),
    ...(o.decoder !== undefined ? { decoder: o.decoder } : {}),
    ...(o.sigma2 !== undefined ? { sigma2: o.sigma2 } : {}),
    arch: {
      ...arch,
      ...(o.activation !== undefined ? { activation: o.activation } : {}),
      ...(hidden && arch.kind === 'mlp' ? { hidden, decoderHidden: [...hidden].reverse() } : {}),
    } as VaeConfig['arch'],
  };
  const train: TrainConfig = {
    ...preset.train,
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.batch !== undefined ? { batchSize: o.batch } : {}),
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    ...(o.binarize !== undefined ? { binarize: o.binarize } : {}),
    ...(o.earlyStopping !== undefined ? { earlyStopping: o.earlyStopping } : {}),
  };
  const data = loadData(o.data, o.dataDir, o.limit);
  // Presets fix their input size, except the Ising preset, which takes the lattice's.
  if (o.preset === 'ising-mlp') model = { ...model, inputShape: data.train.shape };
  validateConfig(model);
  validateData(data.train, model, data.train.name);
  if (data.test) validateData(data.test, model, data.test.name);
  const backend = await initBackend(g.backend, { quiet: g.quiet });
  const config = { command: 'vae train', preset: o.preset, data: o.data, dataDir: o.dataDir ?? null, limit: o.limit ?? null, seed: g.seed, backend: backend.name, model, train };
  if (model.decoder === 'bernoulli' && train.binarize === 'none' && o.data !== 'ising') {
    log('note: a Bernoulli likelihood on grey-level pixels is a reconstruction score, not a log-likelihood (pytorch/examples #460); use --binarize dynamic or --decoder cbernoulli for one.');
  }
  const trainData = prepareData(data.train, train.binarize);
  const valData = data.test ? binarizeForEval(data.test, train.binarize, g.seed) : null;
  const view = runRenderer('vae train', g.quiet, (m) => `train ${m.loss!.toFixed(3)} (rec ${m.rec!.toFixed(3)}, KL ${m.kl!.toFixed(3)})${m.valLoss !== undefined ? `  val ${m.valLoss.toFixed(3)} (rec ${m.valRec!.toFixed(3)}, KL ${m.valKl!.toFixed(3)})` : ''}  ${m.seconds!.toFixed(1)} s`, { json: o.json === true });
  const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupted, saving a resumable checkpoint…\n'));
  let res;
  try {
    res = await trainRun({
      dir: out,
      preset: o.preset,
      model,
      train,
      seed: g.seed,
      trainData,
      valData,
      dataName: data.train.name,
      config,
      resume: o.resume ?? false,
      force: o.force ?? false,
      given,
      signal: stop.signal,
      onEvent: view.listener,
    });
  } finally {
    view.stop();
    stop.dispose();
  }
  res.model.dispose();
  if (res.stopped === 'interrupted') throw new InterruptedError(`interrupted after ${res.epochs} complete epochs (step ${res.step}); checkpoint saved in ${out}; continue with --resume --out ${out}`);
  log(`${res.stopped === 'early' ? 'early stop' : 'done'}: ${res.epochs} epochs, run in ${out} (config.json, metrics.jsonl, checkpoint.json, best.json)`);
}

/** Option key → [flag, path in config.json], for the resume check. */
export const VAE_FLAG_PATHS = {
  preset: ['--preset', 'preset'],
  data: ['--data', 'data'],
  dataDir: ['--data-dir', 'dataDir'],
  limit: ['--limit', 'limit'],
  batch: ['--batch', 'train.batchSize'],
  lr: ['--lr', 'train.lr'],
  latent: ['--latent', 'model.latent'],
  hidden: ['--hidden', 'model.arch.hidden'],
  activation: ['--activation', 'model.arch.activation'],
  beta: ['--beta', 'model.beta'],
  decoder: ['--decoder', 'model.decoder'],
  sigma2: ['--sigma2', 'model.sigma2'],
  binarize: ['--binarize', 'train.binarize'],
  earlyStopping: ['--early-stopping', 'train.earlyStopping'],
  epochs: ['--epochs', 'train.epochs'],
} as const;

function loadRun(run: string, which: string): { model: Vae; meta: ReturnType<typeof loadVaeCheckpoint>['meta'] } {
  const ck = loadVaeCheckpoint(checkpointPath(run, which));
  return { model: Vae.fromWeights(ck.meta.model, ck.weights), meta: ck.meta };
}

/** The run's saved config.json (empty when missing or unreadable). */
function runConfig(run: string): { dataDir?: string | null } {
  try {
    return JSON.parse(readFileSync(join(run, RUN_FILES.config), 'utf8')) as { dataDir?: string | null };
  } catch {
    return {};
  }
}

/** The run's evaluation data (test split, or the Ising data), binarised as in training. */
function evalData(run: string, meta: ReturnType<typeof loadVaeCheckpoint>['meta'], dirFlag: string | undefined, limit: number | undefined): VaeDataset {
  const name = dataNameOf(meta.data?.name);
  const dir = dirFlag ?? runConfig(run).dataDir ?? undefined;
  const d = loadData(name, dir ?? undefined, undefined);
  const base = d.test ?? d.train;
  const n = Math.min(base.n, limit ?? base.n);
  const sub: VaeDataset = { ...base, n, x: base.x.subarray(0, n * base.dim), labels: base.labels ? Array.from(base.labels).slice(0, n) : undefined };
  return { ...sub, ...binarizeForEval(sub, meta.train.binarize, meta.seed) } as VaeDataset;
}

/** Register `genphys vae` and its subcommands. */
export function register(program: Command): void {
  const vae = program
    .command('vae')
    .description('Variational autoencoders: train, evaluate (ELBO, IWAE), plot, sample, Ising probe')
    .addHelpText(
      'after',
      '\nExamples:\n  genphys vae train --preset keras-conv --data fashion-mnist --out runs/vae1\n  genphys vae eval runs/vae1 --iwae 5000\n' +
        '  genphys vae plot runs/vae1 latent-grid\n  genphys vae sample runs/vae1 --n 64\n  genphys vae ising-probe --out runs/ising-probe',
    );

  vae
    .command('train')
    .description(`train a VAE from a preset (${PRESET_NAMES.join(', ')}) with overrides; writes config.json, metrics.jsonl, checkpoints`)
    .option('--json', 'one JSON object per line on stdout (start, epoch, warning, checkpoint, end) instead of text')
    .option('--preset <name>', `preset: ${PRESET_NAMES.join(', ')}`, 'torch-mlp')
    .addOption(new Option('--data <spec>', 'fashion-mnist | mnist | ising:DIR (an `ising sample` dataset)').argParser(vaeDataArg).default('fashion-mnist'))
    .option('--data-dir <dir>', 'directory of the data set files (IDX, or an Ising data set)')
    .option('--limit <n>', 'use only the first n training examples', intArg(1))
    .option('--epochs <n>', 'passes over the training set', intArg(1, 100000))
    .option('--batch <n>', 'batch size', intArg(1, 1 << 20))
    .option('--lr <x>', 'Adam learning rate', floatArg(0, 10, { min: true }))
    .option('--latent <k>', 'latent dimension', intArg(1, 4096))
    .option('--hidden <list>', 'MLP hidden widths, e.g. 400 or 512,256', listArg)
    .addOption(new Option('--activation <name>', 'hidden nonlinearity').argParser(choiceArg(ACTIVATIONS)))
    .option('--beta <x>', 'weight on the KL term', floatArg(0))
    .addOption(new Option('--decoder <kind>', 'likelihood p(x|h)').argParser(choiceArg(DECODERS)))
    .option('--sigma2 <x>', 'σ² of the Gaussian decoder (fixed, or initial when learned)', floatArg(0, Infinity, { min: true }))
    .addOption(new Option('--binarize <mode>', 'binarise the data: none, static (threshold ½) or dynamic (Bernoulli per batch)').argParser(choiceArg(BINARIZE)))
    .option('--early-stopping <n>', 'stop after n epochs without a better validation loss (0: off)', intArg(0))
    .option('--resume', 'continue the run in --out exactly (also mid-epoch); a conflicting flag is an error, --epochs (the total) may be raised')
    .option('--force', 'replace an existing run in --out')
    .action(async (o: TrainOpts, cmd: Command) => cmdTrain(o, cmd));

  vae
    .command('eval <run>')
    .description('test ELBO and importance-weighted log-likelihood bound (IWAE, Burda et al. 2015)')
    .option('--iwae <k>', 'importance samples per example', intArg(1, 100000), 5000)
    .option('--limit <n>', 'evaluate only the first n test examples', intArg(1))
    .addOption(new Option('--n <n>', 'old spelling of --limit').argParser(intArg(1)).hideHelp())
    .option('--checkpoint <which>', "'last', 'best' or a file", 'last')
    .option('--data-dir <dir>', 'data directory (default: the one the run used)')
    .action(async (run: string, o: { iwae: number; limit?: number; n?: number; checkpoint: string; dataDir?: string }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const limit = deprecated(o.limit, o.n, '--n', '--limit');
      await initBackend(g.backend, { quiet: g.quiet });
      const { model, meta } = loadRun(run, o.checkpoint);
      try {
        const data = evalData(run, meta, o.dataDir, limit);
        validateData(data, model.config, data.name);
        // What it costs: k decoder passes per example, D·(hidden) multiply-adds each; the first
        // batch is timed and the whole run extrapolated, so a 12-hour command says so at once.
        const bar = progress(data.n, `IWAE-${o.iwae}`, g.quiet);
        const stop = catchInterrupts(() => process.stderr.write('genphys: stopping after this batch; the result covers the examples done\n'));
        const t0 = performance.now();
        let estimated = false;
        let r;
        try {
          r = importanceWeightedBound(model, data, o.iwae, new Rng(g.seed).split(0x1a7e), {
            signal: stop.signal,
            onProgress: (d) => {
              bar.to(d);
              if (!estimated && d < data.n) {
                estimated = true;
                const total = ((performance.now() - t0) / 1000) * (data.n / d);
                if (total > 10) log(`IWAE-${o.iwae} on ${data.n} examples: about ${formatDuration(total)} (timed on the first ${d}); Ctrl-C stops early with the examples done so far`);
              }
            },
          });
        } finally {
          stop.dispose();
          bar.stop();
        }
        const out = { method: 'iwae', checkpoint: o.checkpoint, data: data.name, n: r.n, k: o.iwae, seed: g.seed, elbo: r.elbo, iwae: r.iwae, nll: r.nll, units: 'nats per example', ...(r.n < data.n ? { stoppedEarly: true, of: data.n } : {}) };
        recordEvaluation(g.out ?? run, out);
        log(`test ELBO ${r.elbo.toFixed(3)}  IWAE-${o.iwae} ${r.iwae.toFixed(3)}  → NLL ${r.nll.toFixed(3)} nats (${r.n}${r.n < data.n ? ` of ${data.n}, stopped early` : ''} examples)`);
      } finally {
        model.dispose();
      }
    });

  vae
    .command('plot <run> <what>')
    .description(`pictures: ${PLOTS.join(', ')}`)
    .option('--n <n>', 'how many: images (recon, samples), points (clusters)', intArg(1, 100000))
    .option('--grid-size <n>', 'latent-grid: images per side (default 20)', intArg(1, 1000))
    .option('--steps <n>', 'interp: interpolation steps between the two examples (default 10)', intArg(1, 1000))
    .addOption(
      new Option('--spacing <kind>', "latent-grid spacing: the prior's quantiles Φ⁻¹((i+½)/n) (Kingma & Welling fig. 4), or uniform in ±--scale (Keras)")
        .argParser(choiceArg(['uniform', 'quantiles'] as const))
        .default('quantiles'),
    )
    .option('--scale <x>', 'latent-grid half-width for uniform spacing (Keras: 1)', floatArg(0, Infinity, { min: true }), 1)
    .option('--a <i>', 'first example of the interpolation', intArg(0), 0)
    .option('--b <i>', 'second example of the interpolation', intArg(0), 1)
    .option('--checkpoint <which>', "'last', 'best' or a file", 'last')
    .option('--data-dir <dir>', 'data directory (default: the one the run used)')
    .action(async (run: string, what: string, o: { n?: number; gridSize?: number; steps?: number; spacing: 'uniform' | 'quantiles'; scale: number; a: number; b: number; checkpoint: string; dataDir?: string }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      // --n used to mean the grid side and the interpolation steps too.
      if (what === 'latent-grid') o = { ...o, gridSize: deprecated(o.gridSize, o.n, '--n', '--grid-size') };
      if (what === 'interp') o = { ...o, steps: deprecated(o.steps, o.n, '--n', '--steps') };
      if (!(PLOTS as readonly string[]).includes(what)) throw new UsageError(`plot: expected one of ${PLOTS.join(', ')}, got '${what}'`);
      await initBackend(g.backend, { quiet: g.quiet });
      const { model, meta } = loadRun(run, o.checkpoint);
      try {
        const [h, w] = model.config.inputShape;
        // --out a file path (.png, or .svg for clusters) names the picture; otherwise --out (or
        // the run) is the directory it goes into, under the plot's own name.
        const asFile = g.out !== undefined && /\.(png|svg)$/i.test(g.out);
        const want = what === 'clusters' ? '.svg' : '.png';
        if (asFile && !g.out!.toLowerCase().endsWith(want)) throw new UsageError(`--out ${g.out}: '${what}' is drawn as ${want}; give a ${want} path or a directory`);
        if (asFile) checkOutputFile(g.out!, '--out');
        const dir = asFile ? dirname(g.out!) : (g.out ?? run);
        if (!asFile) checkOutputDir(dir, '--out');
        const named = (base: string, ext: string) => (asFile ? g.out!.replace(/\.(png|svg)$/i, ext) : join(dir, `${base}${ext}`));
        let file: string;
        if (what === 'latent-grid') {
          const n = o.gridSize ?? 20;
          checkAllocation(n * n * h * w * model.config.inputShape[2], 4 * 3, `--n ${n} (a ${n}×${n} grid of ${h}×${w} images)`);
          const { images, axis } = latentGrid(model, n, o.spacing === 'uniform' ? { kind: 'uniform', scale: o.scale } : { kind: 'quantiles' });
          file = named('latent-grid', '.png');
          // The same grid with its axes in z values, in latent-grid.svg.
          writeLabelledImageGrid(file, named('latent-grid', '.svg'), images, n * n, h, w, { cols: n }, latentGridLabels(axis, `decoder means over the latent plane (${o.spacing === 'uniform' ? `uniform in ±${o.scale}` : "the prior's quantiles"})`));
          log(`latent grid: z₁, z₂ from ${axis[0]!.toFixed(3)} to ${axis.at(-1)!.toFixed(3)} (${o.spacing === 'uniform' ? `uniform, --scale ${o.scale}` : "the prior's quantiles"}); latent-grid.svg has the axes`);
        } else if (what === 'samples') {
          const n = o.n ?? 64;
          file = named('samples', '.png');
          writeImageGrid(file, priorSamples(model, n, new Rng(g.seed).split(0x5a)), n, h, w, { cols: Math.ceil(Math.sqrt(n)) });
        } else {
          const data = evalData(run, meta, o.dataDir, what === 'clusters' ? o.n ?? 5000 : Math.max(o.a, o.b, o.n ?? 16) + 1);
          validateData(data, model.config, data.name);
          if (what === 'recon') {
            const n = Math.min(o.n ?? 16, data.n);
            file = named('recon', '.png');
            writeLabelledImageGrid(file, named('recon', '.svg'), reconstructions(model, data, n), 2 * n, h, w, { cols: n }, { title: `reconstructions of the first ${n} examples (${data.name})`, rowLabels: ['input', 'reconstruction'], scale: 2 });
          } else if (what === 'interp') {
            const steps = o.steps ?? 10;
            file = named('interp', '.png');
            const ts = Array.from({ length: steps }, (_, i) => (steps === 1 ? 0.5 : i / (steps - 1)).toFixed(2));
            writeLabelledImageGrid(file, named('interp', '.svg'), interpolation(model, data, o.a, o.b, steps), steps + 2, h, w, { cols: steps + 2 }, {
              title: `decoder means along (1 − t)·μ(x_${o.a}) + t·μ(x_${o.b}), between the two examples`,
              colLabels: [`x_${o.a}`, ...ts, `x_${o.b}`],
              xName: 't',
              scale: 2,
            });
          } else {
            const mu = latentMeans(model, data);
            const k = model.config.latent;
            const names = data.classNames;
            const ising = data as Partial<IsingVaeData>;
            const points = Array.from({ length: data.n }, (_, i) => ({
              x: mu[i * k]!,
              y: k > 1 ? mu[i * k + 1]! : 0,
              group: ising.T ? ising.T[i]! : names && data.labels ? names[data.labels[i]!]! : String(data.labels?.[i] ?? ''),
            }));
            file = named('clusters', '.svg');
            const svg = await scatterPlotSvg({
              title: `posterior means μ(x), ${data.name}`,
              xLabel: 'μ₁',
              yLabel: k > 1 ? 'μ₂' : '0',
              points,
              colorLabel: ising.T ? 'T' : 'label',
              continuousColor: Boolean(ising.T),
            });
            writeSvg(file, svg);
          }
        }
        // Every path written: the picture, and its labelled SVG twin where there is one.
        const twin = what === 'latent-grid' || what === 'recon' || what === 'interp' ? file.replace(/\.png$/i, '.svg') : null;
        log(`wrote ${file}${twin ? ` and ${twin}` : ''}`);
      } finally {
        model.dispose();
      }
    });

  vae
    .command('sample <run>')
    .description('decode draws from the prior N(0, I) into an image grid (samples.png)')
    .option('--n <n>', 'number of samples', intArg(1, 100000), 64)
    .option('--checkpoint <which>', "'last', 'best' or a file", 'last')
    .action(async (run: string, o: { n: number; checkpoint: string }, cmd: Command) => {
      const g = globals(cmd);
      await initBackend(g.backend, { quiet: g.quiet });
      const { model } = loadRun(run, o.checkpoint);
      try {
        const [h, w] = model.config.inputShape;
        const file = join(g.out ?? run, 'samples.png');
        writeImageGrid(file, priorSamples(model, o.n, new Rng(g.seed).split(0x5a)), o.n, h, w, { cols: Math.ceil(Math.sqrt(o.n)) });
        logger(g.quiet)(`wrote ${file}`);
      } finally {
        model.dispose();
      }
    });

  vae
    .command('ising-probe')
    .description('Wetzel (PRE 96, 022140, 2017): 2D-latent VAE on Ising configurations; |corr(μ_j, m)| and the latent scatter coloured by T')
    .option('--data <spec>', "ising:DIR, an `ising sample` dataset; default: simulate one (Wolff)")
    .addOption(new Option('--data-dir <dir>', 'old spelling of --data ising:DIR').hideHelp())
    .option('--L <n>', 'lattice size when simulating', intArg(2, 256), 16)
    .option('--temps <spec>', "temperatures when simulating: 'start:stop:count' or a comma list", probeTempsArg, parseTemperatures('1.5:3.5:20'))
    .option('--per-temp <n>', 'configurations per temperature when simulating', intArg(1, 100000), 250)
    .option('--epochs <n>', 'training epochs', intArg(1, 100000))
    .option('--force', 'replace an existing probe in --out', false)
    .action(async (o: { data?: string; dataDir?: string; L: number; temps: number[]; perTemp: number; epochs?: number; force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const out = runDirectory(g.out, 'vae-ising-probe');
      const spec = o.data !== undefined ? parseDataSpec(o.data, '--data', ['ising']) : undefined;
      const dataDir = deprecated(spec?.kind === 'ising' ? spec.dir : undefined, o.dataDir, '--data-dir', '--data ising:DIR');
      let data: IsingVaeData;
      if (dataDir) {
        data = isingVaeData(loadIsingDataset(dataDir));
      } else {
        const temps = o.temps;
        const chains = 2;
        const res = await simulateTemperatures(
          temps,
          { L: o.L, algorithm: 'wolff', chains, burnIn: 200, sweeps: Math.ceil(o.perTemp / chains) * 5, sampleEvery: 5 },
          new Rng(g.seed).split(0x15),
        );
        const N = o.L * o.L;
        data = isingVaeData({
          manifest: { L: o.L, geometry: 'square' } as never,
          dir: '',
          N,
          temperatures: res.map((r) => ({ T: r.T, n: Math.min(r.nSamples, o.perTemp), spins: r.samples.subarray(0, Math.min(r.nSamples, o.perTemp) * N) })),
        });
      }
      const preset = getPreset('ising-mlp');
      const model: VaeConfig = { ...preset.model, inputShape: data.shape };
      const train: TrainConfig = { ...preset.train, ...(o.epochs !== undefined ? { epochs: o.epochs } : {}) };
      const backend = await initBackend(g.backend, { quiet: g.quiet });
      const res = await trainRun({
        dir: out,
        command: 'vae ising-probe',
        config: { command: 'vae ising-probe', data: dataDir ?? 'simulated', L: data.shape[0], n: data.n, temperatures: data.temperatures, seed: g.seed, backend: backend.name, model, train },
        force: o.force ?? false,
        preset: 'ising-mlp',
        model,
        train,
        seed: g.seed,
        trainData: data,
        valData: null,
        dataName: data.name,
        onEpoch: (m) => log(`epoch ${m.epoch}: train ${m.train.loss.toFixed(3)} (rec ${m.train.rec.toFixed(3)}, KL ${m.train.kl.toFixed(3)})  ${m.seconds.toFixed(1)} s`),
      });
      try {
        const mu = latentMeans(res.model, data);
        const corr = latentMagnetisationCorrelation(mu, 2, data.m);
        const best = corr[0]! >= corr[1]! ? 0 : 1;
        const svg = await scatterPlotSvg({
          title: `VAE latent means, Ising L = ${data.shape[0]} (|corr(μ${best + 1}, m)| = ${corr[best]!.toFixed(3)})`,
          xLabel: 'μ₁',
          yLabel: 'μ₂',
          points: Array.from({ length: data.n }, (_, i) => ({ x: mu[2 * i]!, y: mu[2 * i + 1]!, group: data.T[i]! })),
          colorLabel: 'T',
          continuousColor: true,
        });
        writeSvg(join(out, 'latent-T.svg'), svg);
        writeJsonAtomic(join(out, 'probe.json'), { absCorrMuM: corr, best: best + 1, n: data.n, L: data.shape[0], finalLoss: res.history.at(-1)?.train ?? null });
        log(`|corr(μ1, m)| = ${corr[0]!.toFixed(4)}, |corr(μ2, m)| = ${corr[1]!.toFixed(4)}  (${data.n} configurations); wrote ${join(out, 'latent-T.svg')}`);
      } finally {
        res.model.dispose();
      }
    });
}
