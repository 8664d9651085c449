/**
 * `genphys rbm train|sample|eval`: train restricted Boltzmann machines, draw
 * samples from a saved run, and evaluate exact or AIS log-likelihoods. All the
 * modelling lives in src/ebm; this file maps flags to it and writes artifacts.
 */
import { Option, type Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InterruptedError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { writeSpinText } from '../data/index.js';
import { getKernels } from '../engine/index.js';
import {
  ais,
  enumerableLayer,
  hiddenAis,
  modelRateBias,
  exactLogZ,
  exactSamples,
  exactVisibleLogProbs,
  gibbsSample,
  loadModel,
  logLikelihood,
  metropolisSample,
  reverseAis,
  temperedSample,
  type TrainOptions,
} from '../ebm/index.js';
import type { Binarization } from '../ebm/data.js';
import { freeEnergyDrift } from '../ebm/mixing.js';
import { writeImageGrid } from '../viz/index.js';
import { choiceArg, deprecated, floatArg, formatDuration, givenFlags, globals, intArg, logger, progress, runRenderer } from './common.js';
import { catchInterrupts } from '../run/signals.js';
import { readRunConfig, recordEvaluation } from '../run/run-dir.js';
import { checkOutputFile, runDirectory } from '../run/paths.js';
import { loadRunData, prepareRows, trainRbmRun, type Standardization, type VisibleUnits } from '../ebm/run.js';
import '../physics/lattice-rbm.js';

type Visible = VisibleUnits;

interface TrainFlags {
  json?: boolean;
  data?: string;
  binarize: Binarization;
  limit?: number;
  dataDir?: string;
  hidden: number;
  visible?: Visible;
  method?: 'cd' | 'pcd' | 'pt' | 'exact';
  k: number;
  epochs: number;
  lr?: number;
  batch: number;
  optimizer?: 'sgd' | 'adam';
  initStd?: number;
  momentum: number;
  weightDecay: number;
  average: number;
  schedule?: 'constant' | 'linear' | 'exponential' | 'cosine';
  centering: boolean;
  chains?: number;
  ptReplicas: number;
  exactEvery: number;
  earlyStop: number;
  aisEvery: number;
  aisBetas: number;
  aisRuns: number;
  gridEvery: number;
  saveEvery: number;
  resume: boolean;
  force: boolean;
}

/** Option key → [flag, path in config.json], for the resume check. */
export const TRAIN_FLAG_PATHS = {
  data: ['--data', 'data.spec'],
  binarize: ['--binarize', 'data.binarize'],
  limit: ['--limit', 'data.limit'],
  dataDir: ['--data-dir', 'data.dir'],
  hidden: ['--hidden', 'model.nHidden'],
  initStd: ['--init-std', 'model.initStd'],
  method: ['--method', 'train.method'],
  k: ['--k', 'train.k'],
  epochs: ['--epochs', 'epochs'],
  lr: ['--lr', 'train.learningRate'],
  batch: ['--batch', 'train.batchSize'],
  optimizer: ['--optimizer', 'train.optimizer'],
  momentum: ['--momentum', 'train.momentum'],
  weightDecay: ['--weight-decay', 'train.weightDecay'],
  average: ['--average', 'train.averaging'],
  schedule: ['--schedule', 'train.schedule'],
  centering: ['--centering', 'train.centering'],
  chains: ['--chains', 'train.chains'],
  ptReplicas: ['--pt-replicas', 'train.ptReplicas'],
} as const;

function readRunConfigOrThrow(dir: string): Record<string, unknown> {
  return readRunConfig(dir) as Record<string, unknown>;
}

async function train(flags: TrainFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet || flags.json === true);
  const out = runDirectory(g.out, 'rbm', flags.resume);
  if (!flags.resume && flags.data === undefined) throw new UsageError("--data: required (e.g. --data fashion-mnist, bars-and-stripes:3, spins:<file>)");
  const given = givenFlags(cmd, flags as unknown as Record<string, unknown>, TRAIN_FLAG_PATHS);
  // --epochs is the total and may be raised on resume; it is checked by the run itself.
  const { ['--epochs']: _epochs, ...conflicting } = given;
  const opts: TrainOptions = {
    ...(flags.method ? { method: flags.method } : {}),
    k: flags.k,
    batchSize: flags.batch,
    ...(flags.lr !== undefined ? { learningRate: flags.lr } : {}),
    ...(flags.optimizer ? { optimizer: flags.optimizer } : {}),
    momentum: flags.momentum,
    weightDecay: flags.weightDecay,
    averaging: flags.average,
    ...(flags.schedule ? { schedule: flags.schedule } : {}),
    centering: flags.centering,
    ptReplicas: flags.ptReplicas,
    ...(flags.chains ? { chains: flags.chains } : {}),
  };
  const view = runRenderer('rbm train', g.quiet, undefined, { json: flags.json === true });
  const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupt: saving a checkpoint after this batch\n'));
  let res;
  try {
    res = await trainRbmRun({
      dir: out,
      resume: flags.resume,
      force: flags.force,
      given: { ...conflicting, ...(_epochs ? { '--epochs': _epochs } : {}) },
      seed: g.seed,
      data: { spec: flags.data ?? '', binarize: flags.binarize, ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.dataDir ? { dir: flags.dataDir } : {}) },
      hidden: flags.hidden,
      ...(flags.initStd !== undefined ? { initStd: flags.initStd } : {}),
      ...(flags.visible ? { visible: flags.visible } : {}),
      train: opts,
      epochs: flags.epochs,
      exactEvery: flags.exactEvery,
      earlyStop: flags.earlyStop,
      aisEvery: flags.aisEvery,
      aisBetas: flags.aisBetas,
      aisRuns: flags.aisRuns,
      gridEvery: flags.gridEvery,
      saveEvery: flags.saveEvery,
      kernels: `${getKernels().name} (${getKernels().blas})`,
      signal: stop.signal,
      onEvent: view.listener,
    });
  } finally {
    view.stop();
    stop.dispose();
  }
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.epoch} complete epochs (step ${res.step}); checkpoint saved in ${out}; continue with --resume --out ${out}`);
  log(`done: ${out} (epoch ${res.epoch}, step ${res.step}); files: config.json, metrics.jsonl, checkpoint.json${res.model.nVisible > 0 ? ', grids and curves' : ''}`);
}

interface SampleFlags {
  chains: number;
  burnIn?: number;
  steps?: number;
  sampler: 'gibbs' | 'mh' | 'pt';
  replicas: number;
  grid?: string;
  text?: string;
}

/** `<run>` is a run directory or one of its checkpoint files (e.g. `best.json` of `--early-stop`). */
function runTarget(arg: string): { dir: string; model: string } {
  if (arg.endsWith('.json') && existsSync(arg) && statSync(arg).isFile()) return { dir: dirname(arg), model: arg };
  return { dir: arg, model: arg };
}

async function sample(target: string, flags: SampleFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const { dir, model: modelPath } = runTarget(target);
  const cfg = readRunConfigOrThrow(dir);
  if (flags.grid) checkOutputFile(flags.grid, '--grid');
  if (flags.text) checkOutputFile(flags.text, '--text');
  if (g.out !== undefined && !g.out.endsWith('.png')) throw new UsageError(`--out ${g.out}: rbm sample writes a PNG grid there (give a .png path), or use --grid FILE / --text FILE`);

  const { model } = loadModel(modelPath);
  const rng = new Rng(g.seed);
  const burnIn = deprecated(flags.burnIn, flags.steps, '--steps', '--burn-in') ?? 1000;
  // The burn-in in two halves, so the chains' free energy at the midpoint and at the end can
  // be compared: a drift between them means the chains had not finished relaxing.
  const run = (steps: number, init?: Float32Array) => {
    const o = { chains: flags.chains, burnIn: steps, samples: 1, ...(init ? { init } : {}) };
    return flags.sampler === 'mh'
      ? metropolisSample(model, rng, o)
      : flags.sampler === 'pt'
        ? temperedSample(model, rng, { ...o, replicas: flags.replicas })
        : gibbsSample(model, rng, o);
  };
  const half = Math.floor(burnIn / 2);
  const first = run(half);
  const res = run(burnIn - half, first.samples);
  const summary = { sampler: flags.sampler, chains: flags.chains, burnIn, diagnostics: res.diagnostics };
  log(JSON.stringify(summary, (_, v) => (v instanceof Float64Array ? Array.from(v) : v)));
  if (model.visibleUnits !== 'gaussian' && flags.chains >= 2 && half > 0) {
    const d = freeEnergyDrift(model, first.samples, res.samples);
    const f = (x: { value: number; error: number }) => `${x.value.toFixed(3)} ± ${x.error.toFixed(3)}`;
    if (d.noDrift) log(`mixing: the chains' mean free energy was ${f(d.mid)} at sweep ${half} and ${f(d.end)} at sweep ${burnIn}: no drift detected`);
    else {
      process.stderr.write(
        `genphys: warning: the chains had not mixed after ${burnIn} sweeps: their mean free energy went from ${f(d.mid)} (sweep ${half}) to ${f(d.end)} (sweep ${burnIn}), ${Math.abs(d.z).toFixed(1)} standard errors; the samples are not yet the model's — use a longer --burn-in (e.g. ${4 * burnIn}) or --sampler pt\n`,
      );
    }
  }
  const image = cfg.image as { height: number; width: number } | null;
  // Artifacts of a run go into the run directory unless a file is named: with neither --grid,
  // --text nor --out, the samples are written there (as a grid for image data, as spin text).
  const named = flags.grid !== undefined || flags.text !== undefined || g.out !== undefined;
  const grid = flags.grid ?? (g.out && g.out.endsWith('.png') ? g.out : !named && image ? join(dir, 'samples.png') : undefined);
  if (!named && model.visibleUnits !== 'gaussian') flags = { ...flags, text: join(dir, 'samples.txt') };
  if (grid) {
    if (!image) throw new UsageError(`--grid: run ${dir} has no image shape`);
    const range: [number, number] = model.visibleUnits === 'pm1' ? [-1, 1] : model.visibleUnits === 'gaussian' ? [-2, 2] : [0, 1];
    writeImageGrid(grid, res.samples, flags.chains, image.height, image.width, { range, scale: image.height < 10 ? 8 : 2 });
    log(`wrote ${grid}`);
  }
  if (flags.text) {
    if (model.visibleUnits === 'gaussian') throw new UsageError('--text writes spin configurations; this model has Gaussian visibles');
    writeSpinText(flags.text, res.samples, model.nVisible, { convention: model.visibleUnits === 'pm1' ? 'pm1' : '01', header: `genphys rbm sample ${dir}` });
    log(`wrote ${flags.text}`);
  }
}

/**
 * One annealing run of `rbm eval` with a progress bar, its cost up front when it will take
 * more than 10 s (timed on the first 1 % of the schedule), and Ctrl-C stopping it cleanly:
 * the estimator then throws an InterruptedError and nothing is recorded.
 */
function annealed<T>(label: string, total: number, quiet: boolean, log: (m: string) => void, run: (o: { onProgress: (done: number, total: number) => void; signal: AbortSignal }) => T): T {
  const bar = progress(total, label, quiet);
  const stop = catchInterrupts(() => process.stderr.write(`\ngenphys: stopping ${label}; nothing is recorded\n`));
  const t0 = performance.now();
  let estimated = false;
  try {
    return run({
      signal: stop.signal,
      onProgress: (done, all) => {
        bar.to(done);
        if (estimated || done >= all) return;
        estimated = true;
        const seconds = ((performance.now() - t0) / 1000) * (all / done);
        if (seconds > 10) log(`${label}: about ${formatDuration(seconds)} for ${all} intermediate distributions (timed on the first ${done}); Ctrl-C stops it`);
      },
    });
  } finally {
    stop.dispose();
    bar.stop();
  }
}

interface EvalFlags {
  exact: boolean;
  ais: boolean;
  reverse: boolean;
  aisBase: 'auto' | 'data' | 'model';
  hiddenAis: boolean;
  betas: number;
  runs: number;
  top: number;
}

async function evaluate(target: string, flags: EvalFlags, cmd: Command): Promise<void> {
  const { dir, model: modelPath } = runTarget(target);
  const g = globals(cmd);
  const log = logger(g.quiet);
  const cfg = readRunConfigOrThrow(dir);
  if (flags.reverse && !flags.ais) throw new UsageError('--reverse needs --ais (reverse AIS runs next to forward AIS)');
  const { model, epoch } = loadModel(modelPath);
  const data = loadRunData(cfg);
  const stats = (cfg.standardization as Standardization | undefined) ?? null;
  const trainX = prepareRows(model, data, data.train, stats);
  const testX = data.test ? prepareRows(model, data, data.test, stats) : trainX;
  const result: Record<string, unknown> = { run: dir, epoch };
  const rng = new Rng(g.seed);
  const doExact = flags.exact || (!flags.ais && enumerableLayer(model, 20) !== null);
  if (doExact) {
    if (!enumerableLayer(model, 24)) throw new UsageError('--exact needs a binary layer of at most 24 units');
    const logZ = exactLogZ(model);
    Object.assign(result, { exactLogZ: logZ, exactTestLL: logLikelihood(model, testX, logZ), exactTrainLL: logLikelihood(model, trainX.subarray(0, Math.min(trainX.length, 10000 * model.nVisible)), logZ) });
    if (model.visibleUnits !== 'gaussian' && model.nVisible <= 16) {
      const lp = exactVisibleLogProbs(model, logZ);
      const order = Array.from(lp.keys()).sort((a, b) => lp[b]! - lp[a]!);
      const states = model.visibleUnits === 'pm1' ? ['-', '+'] : ['0', '1'];
      result.distribution = order.slice(0, flags.top).map((s) => ({
        state: Array.from({ length: model.nVisible }, (_, i) => states[(s >> i) & 1]).join(''),
        p: Math.exp(lp[s]!),
      }));
    }
  }
  if (flags.ais) {
    // The base model matters: a base fitted to the data can sit on the far side of a
    // first-order transition from the model's dominant mode, and AIS then
    // underestimates log Z by many nats with a tiny standard error (seen on 784×16
    // Fashion-MNIST RBMs: −20 nats). A base fitted to the model's own marginals (exact
    // samples, needs a layer of ≤ 24 units) avoids it; 'auto' uses it when possible.
    const useModelBase = flags.aisBase === 'model' || (flags.aisBase === 'auto' && enumerableLayer(model, 24) !== null);
    if (flags.aisBase === 'model' && !enumerableLayer(model, 24)) throw new UsageError('--ais-base model needs a binary layer of at most 24 units (exact samples)');
    const base = useModelBase ? modelRateBias(model, rng) : model.baseRateBias(trainX);
    result.aisBase = useModelBase ? 'model marginals (exact samples)' : 'data marginals';
    const fwd = annealed('AIS', flags.betas, g.quiet, log, (o) => ais(model, rng, { betas: flags.betas, runs: flags.runs, baseBias: base, ...o }));
    Object.assign(result, { aisLogZ: fwd.logZ, aisStdErr: fwd.stdErr, aisEss: fwd.ess, aisTestLL: logLikelihood(model, testX, fwd.logZ) });
    // A few runs carrying all the weight: the estimate and its standard error both mislead.
    if (fwd.ess < Math.max(10, 0.1 * flags.runs)) {
      process.stderr.write(
        `genphys: warning: AIS effective sample size ${fwd.ess.toFixed(1)} of ${flags.runs} runs: a few runs carry the estimate, so log Z (and its standard error) may be far off; use more --betas (now ${flags.betas}) or --ais-base model\n`,
      );
    }
    if (flags.reverse) {
      const start = enumerableLayer(model, 24) ? exactSamples(model, flags.runs, rng) : testX.subarray(0, Math.min(flags.runs, testX.length / model.nVisible) * model.nVisible);
      const rev = annealed('reverse AIS', flags.betas, g.quiet, log, (o) => reverseAis(model, start, rng, { betas: flags.betas, baseBias: base, ...o }));
      Object.assign(result, { reverseAisLogZ: rev.logZ, reverseAisStdErr: rev.stdErr, reverseAisTestLL: logLikelihood(model, testX, rev.logZ), reverseStart: enumerableLayer(model, 24) ? 'exact samples' : 'test data' });
    }
  }
  if (flags.hiddenAis) {
    const hid = hiddenAis(model, rng, { betas: flags.betas, runs: flags.runs });
    Object.assign(result, { hiddenAisLogZ: hid.logZ, hiddenAisStdErr: hid.stdErr, hiddenAisTestLL: logLikelihood(model, testX, hid.logZ) });
  }
  const method = [doExact ? 'exact' : null, flags.ais ? (flags.reverse ? 'ais+reverse' : 'ais') : null, flags.hiddenAis ? 'hidden-ais' : null].filter(Boolean).join('+') || 'none';
  const key = recordEvaluation(dir, { method, ...(flags.ais || flags.hiddenAis ? { betas: flags.betas, runs: flags.runs, seed: g.seed } : {}), ...result });
  if (g.quiet) return;
  const { distribution, ...rest } = result;
  log(JSON.stringify(rest, null, 2));
  log(`recorded in ${join(dir, 'eval.json')} as '${key}' (earlier evaluations kept)`);
  if (Array.isArray(distribution)) {
    log(`most probable visible states (exact, top ${distribution.length}):`);
    for (const d of distribution as Array<{ state: string; p: number }>) log(`  ${d.state}  ${d.p.toExponential(4)}`);
  }
}

/** Register the `rbm` command with its `train`, `sample` and `eval` subcommands. */
export function register(program: Command): void {
  const rbm = program.command('rbm').description('restricted Boltzmann machines: train, sample, evaluate');
  rbm
    .command('train')
    .description('train an RBM; the run directory (--out) gets config.json, metrics.jsonl, checkpoints, grids and curves')
    .option('--json', 'one JSON object per line on stdout (start, epoch, warning, checkpoint, end) instead of text')
    .option('--data <spec>', 'fashion-mnist | mnist | bars-and-stripes:N | spins:FILE | ising:DIR:T (required unless --resume)')
    .addOption(new Option('--binarize <mode>', 'grey images: static (threshold ½), dynamic (fresh draw per epoch), none').argParser(choiceArg(['static', 'dynamic', 'none'] as const)).default('static'))
    .option('--limit <n>', 'use only the first n training examples', intArg(1))
    .option('--data-dir <dir>', 'dataset directory override')
    .option('--hidden <n>', 'hidden units', intArg(1), 64)
    .addOption(new Option('--visible <type>', 'visible units: binary, spin (±1) or gaussian (data standardised); default from the data').argParser(choiceArg(['binary', 'spin', 'gaussian'] as const)))
    .addOption(new Option('--method <m>', 'negative phase: cd, pcd, pt, or exact (enumerates a binary layer of ≤ 20 units: the true gradient); default exact where that costs ≤ 2^26 multiply-adds per update, else pcd; or pl (the pseudo-likelihood\'s exact gradient instead of the likelihood\'s: no Markov chain)').argParser(choiceArg(['cd', 'pcd', 'pt', 'exact', 'pl'] as const)))
    .option('--k <n>', 'Gibbs steps per update', intArg(1), 1)
    .option('--epochs <n>', 'total epochs of the run (also on --resume)', intArg(1), 10)
    .option('--lr <x>', 'learning rate (default 0.05 with --method exact, else 0.01)', floatArg(0, Infinity, { min: true }))
    .option('--batch <n>', 'minibatch size', intArg(1), 100)
    .addOption(new Option('--optimizer <name>', 'optimiser (default adam with --method exact, else sgd)').argParser(choiceArg(['sgd', 'adam'] as const)))
    .option('--init-std <x>', 'standard deviation of the initial weights (default min(1, 2/√visible) with --method exact, else 0.01)', floatArg(0, Infinity, { min: true }))
    .option('--momentum <x>', 'SGD momentum', floatArg(0, 1, { max: true }), 0)
    .option('--weight-decay <x>', 'L2 weight decay on W', floatArg(0), 0)
    .option('--average <f>', 'model = mean of the parameters over the last fraction f of the planned updates (Polyak–Ruppert; 0 = last iterate)', floatArg(0, 1), 0)
    .addOption(new Option('--schedule <s>', 'learning-rate schedule (default cosine with --method exact, else constant)').argParser(choiceArg(['constant', 'linear', 'exponential', 'cosine'] as const)))
    .option('--centering', 'centred gradient (Melchior et al. 2016)', false)
    .option('--chains <n>', 'Markov chains run side by side: the persistent chains of pcd/pt (default: batch size)', intArg(1))
    .option('--pt-replicas <n>', 'parallel-tempering replicas (--method pt)', intArg(2), 10)
    .option('--exact-every <n>', 'exact log-likelihood every n epochs when a layer has ≤ 20 units (0: never)', intArg(0), 1)
    .option('--early-stop <n>', 'stop when the held-out exact log-likelihood has not improved for n evaluations; the best model is kept as best.json (0: off)', intArg(0), 0)
    .option('--ais-every <n>', 'every n epochs, bound the held-out LL of a model too large to enumerate by forward and reverse AIS (metrics aisLL ≥ reverseAisLL; 0: never)', intArg(0), 0)
    .option('--ais-betas <n>', 'intermediate distributions of --ais-every', intArg(10), 1000)
    .option('--ais-runs <n>', 'AIS runs each way for --ais-every', intArg(2), 32)
    .option('--grid-every <n>', 'write chain and filter grids every n epochs (0: only at the end)', intArg(0), 1)
    .option('--save-every <n>', 'checkpoint every n epochs (0: only at the end; always at the end and on SIGINT)', intArg(0), 1)
    .option('--resume', 'continue the run in --out exactly from its checkpoint; options come from the run, a conflicting flag is an error, --epochs (the total) may be raised', false)
    .option('--force', 'replace an existing run in --out', false)
    .action(async (flags: TrainFlags, cmd: Command) => train(flags, cmd));
  rbm
    .command('sample')
    .description('draw samples from a trained run')
    .argument('<run>', 'run directory, or a checkpoint file in it (e.g. runs/x/best.json)')
    .option('--chains <n>', 'Markov chains run side by side (one sample each)', intArg(1), 64)
    .option('--burn-in <n>', 'Gibbs sweeps per chain before the sample is taken', intArg(0))
    .addOption(new Option('--steps <n>', 'old spelling of --burn-in').argParser(intArg(0)).hideHelp())
    .addOption(new Option('--sampler <s>', 'block Gibbs, Metropolis–Hastings or parallel tempering').argParser(choiceArg(['gibbs', 'mh', 'pt'] as const)).default('gibbs'))
    .option('--replicas <n>', 'replicas for --sampler pt', intArg(2), 10)
    .option('--grid <file>', 'write the samples as a PNG grid')
    .option('--text <file>', 'write the samples as spin text (one configuration per line)')
    .action(async (run: string, flags: SampleFlags, cmd: Command) => sample(run, flags, cmd));
  rbm
    .command('eval')
    .description('log-likelihood by exact enumeration (small layers) or AIS; exact visible distribution for small models')
    .argument('<run>', 'run directory, or a checkpoint file in it (e.g. runs/x/best.json)')
    .option('--exact', 'exact log Z by enumerating the smaller layer (≤ 24 units)', false)
    .option('--ais', 'annealed importance sampling', false)
    .option('--reverse', 'also reverse AIS (with --ais)', false)
    .addOption(new Option('--ais-base <b>', "AIS base model: visible marginals of the data, of the model (exact samples), or auto (model when a layer has ≤ 24 units)").argParser(choiceArg(['auto', 'data', 'model'] as const)).default('auto'))
    .option('--hidden-ais', 'also AIS over the hidden layer with the visibles summed out (small binary hidden layers)', false)
    .option('--betas <n>', 'AIS intermediate distributions', intArg(1), 10000)
    .option('--runs <n>', 'AIS runs', intArg(1), 100)
    .option('--top <n>', 'visible states to print with the exact distribution', intArg(1), 20)
    .action(async (run: string, flags: EvalFlags, cmd: Command) => evaluate(run, flags, cmd));
}
