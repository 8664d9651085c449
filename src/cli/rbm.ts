/**
 * `genphys rbm train|sample|eval`: train restricted Boltzmann machines, draw
 * samples from a saved run, and evaluate exact or AIS log-likelihoods. All the
 * modelling lives in src/ebm; this file maps flags to it and writes artifacts.
 */
import { Option, type Command } from 'commander';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { writeSpinText } from '../data/index.js';
import { getKernels } from '../engine/index.js';
import { writeJsonAtomic } from '../io/atomic.js';
import {
  BernoulliRBM,
  GaussianBernoulliRBM,
  Trainer,
  ais,
  enumerableLayer,
  hiddenAis,
  modelRateBias,
  exactLogZ,
  exactSamples,
  exactVisibleLogProbs,
  freeEnergyGap,
  gibbsSample,
  loadModel,
  logLikelihood,
  metropolisSample,
  pseudoLikelihood,
  reverseAis,
  saveModel,
  standardize,
  temperedSample,
  type EnergyModel,
  type EpochInfo,
  type TrainOptions,
} from '../ebm/index.js';
import { loadEbmData, type Binarization, type EbmData } from '../ebm/data.js';
import { linePlotSvg, writeFilterGrid, writeImageGrid, writeSvg } from '../viz/index.js';
import { choiceArg, floatArg, globals, intArg, logger, progress, startRun } from './common.js';

type Visible = 'binary' | 'spin' | 'gaussian';

interface TrainFlags {
  data: string;
  binarize: Binarization;
  limit?: number;
  dataDir?: string;
  hidden: number;
  visible?: Visible;
  method: 'cd' | 'pcd' | 'pt';
  k: number;
  epochs: number;
  lr: number;
  batch: number;
  optimizer: 'sgd' | 'adam';
  momentum: number;
  weightDecay: number;
  average: number;
  schedule: 'constant' | 'linear' | 'exponential' | 'cosine';
  centering: boolean;
  chains?: number;
  ptReplicas: number;
  exactEvery: number;
  gridEvery: number;
  saveEvery: number;
  resume: boolean;
}

/** Convert rows between the {0,1} and ±1 conventions when the model wants the other one. */
function toUnits(x: Float32Array, from: '01' | 'pm1', to: '01' | 'pm1'): Float32Array {
  if (from === to) return x;
  return to === 'pm1' ? x.map((v) => 2 * v - 1) : x.map((v) => (v + 1) / 2);
}

function modelUnits(m: EnergyModel): '01' | 'pm1' | null {
  return m.visibleUnits === 'gaussian' ? null : m.visibleUnits;
}

/** Rows as the model expects them: unit convention, or standardised for Gaussian units. */
function prepare(model: EnergyModel, d: EbmData, x: Float32Array): Float32Array {
  const u = modelUnits(model);
  return u ? toUnits(x, d.units, u) : standardize(x, d.nVisible).data;
}

function readRunConfig(dir: string): Record<string, unknown> {
  const p = join(dir, 'config.json');
  if (!existsSync(p)) throw new UsageError(`${dir}: not a run directory (no config.json)`);
  return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
}

function loadRunData(cfg: Record<string, unknown>, seed: number): EbmData {
  const d = cfg.data as { spec: string; binarize: Binarization; limit?: number; dir?: string };
  return loadEbmData(d.spec, {
    binarize: d.binarize,
    ...(d.limit ? { limit: d.limit } : {}),
    ...(d.dir ? { dir: d.dir } : {}),
    rng: new Rng(seed).split(7),
  });
}

/** Exact log-likelihoods when one layer is small enough to enumerate quickly. */
function exactMetrics(model: EnergyModel, train: Float32Array, test: Float32Array | null): Record<string, number> {
  const logZ = exactLogZ(model);
  const nv = model.nVisible;
  const sub = (x: Float32Array) => x.subarray(0, Math.min(x.length / nv, 10000) * nv);
  return { logZ, trainLL: logLikelihood(model, sub(train), logZ), ...(test ? { testLL: logLikelihood(model, test, logZ) } : {}) };
}

async function train(flags: TrainFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const out = g.out ?? join('runs', `rbm-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const rng = new Rng(g.seed);
  const data = loadEbmData(flags.data, {
    binarize: flags.binarize,
    ...(flags.limit ? { limit: flags.limit } : {}),
    ...(flags.dataDir ? { dir: flags.dataDir } : {}),
    rng: rng.split(7),
  });
  const visible: Visible = flags.visible ?? (data.units === 'pm1' ? 'spin' : 'binary');
  if (flags.centering && visible === 'gaussian') throw new UsageError('--centering works with binary or spin visibles only');
  let model: EnergyModel;
  let trainer: Trainer;
  const opts: TrainOptions = {
    method: flags.method,
    k: flags.k,
    batchSize: flags.batch,
    learningRate: flags.lr,
    optimizer: flags.optimizer,
    momentum: flags.momentum,
    weightDecay: flags.weightDecay,
    averaging: flags.average,
    schedule: flags.schedule,
    centering: flags.centering,
    ptReplicas: flags.ptReplicas,
    ...(flags.chains ? { chains: flags.chains } : {}),
  };
  if (flags.resume && existsSync(join(out, 'checkpoint.json'))) {
    const lm = loadModel(out);
    if (!lm.train) throw new UsageError(`--resume: ${out} holds a model saved without trainer state (e.g. by 'ising rbm'); train into a new --out instead`);
    model = lm.model;
    trainer = lm.resumeTrainer(rng.split(2));
    log(`resuming ${out} at epoch ${trainer.epoch}`);
  } else {
    const init = rng.split(1);
    model =
      visible === 'gaussian'
        ? new GaussianBernoulliRBM({ nVisible: data.nVisible, nHidden: flags.hidden }, init)
        : new BernoulliRBM({ nVisible: data.nVisible, nHidden: flags.hidden, units: visible === 'spin' ? 'pm1' : '01' }, init);
    trainer = new Trainer(model, opts, rng.split(2));
  }
  startRun(
    out,
    {
      command: 'rbm train',
      seed: g.seed,
      data: { spec: flags.data, binarize: flags.binarize, ...(flags.limit ? { limit: flags.limit } : {}), ...(flags.dataDir ? { dir: flags.dataDir } : {}) },
      image: data.image,
      model: { kind: model.kind, ...model.config },
      train: trainer.options,
      epochs: flags.epochs,
      kernels: `${getKernels().name} (${getKernels().blas})`,
    },
    g.quiet,
  );
  const test = data.test ? prepare(model, data, data.test) : null;
  const exactOk = enumerableLayer(model, 20) !== null;
  const ac = new AbortController();
  const onSigint = () => {
    process.stderr.write('\ngenphys: interrupt: saving a checkpoint after this batch\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  const history: Array<Record<string, number>> = [];
  const epochRng = rng.split(3);
  const metricRng = rng.split(4);
  const bar = progress(flags.epochs, 'rbm train', g.quiet);
  const target = trainer.epoch + flags.epochs;
  try {
    while (trainer.epoch < target && !ac.signal.aborted) {
      const x = prepare(model, data, data.epochData(epochRng));
      let info: EpochInfo | null = null;
      await trainer.fit(x, { epochs: 1, plannedEpochs: target, signal: ac.signal, onEpoch: (i) => void (info = i) });
      if (!info) break;
      const ep = info as EpochInfo;
      const nv = model.nVisible;
      const sub = x.subarray(0, Math.min(x.length / nv, 1000) * nv);
      const row: Record<string, number> = {
        epoch: ep.epoch,
        step: ep.step,
        seconds: ep.seconds,
        learningRate: ep.learningRate,
        reconstruction: ep.reconstruction,
      };
      if (model.visibleUnits !== 'gaussian') row.pseudoLL = pseudoLikelihood(model, sub, { rng: metricRng, normalize: 'sum' });
      if (test) row.freeEnergyGap = freeEnergyGap(model, x, test);
      if (exactOk && flags.exactEvery > 0 && ep.epoch % flags.exactEvery === 0) Object.assign(row, exactMetrics(model, x, test));
      history.push(row);
      appendFileSync(join(out, 'metrics.jsonl'), JSON.stringify({ ...row, ...(ep.swapRates ? { swapRates: ep.swapRates } : {}) }) + '\n');
      if (ep.epoch % flags.saveEvery === 0) saveModel(out, model, { trainer, extra: { metrics: row } });
      if (data.image && flags.gridEvery > 0 && ep.epoch % flags.gridEvery === 0) writeGrids(out, model, trainer, data);
      bar.tick(1, Object.entries(row).slice(4).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' '));
      if (g.quiet === false) log(JSON.stringify(row));
      // Let a pending SIGINT reach its handler even when epochs are tiny.
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
  saveModel(out, model, { trainer });
  if (data.image) writeGrids(out, model, trainer, data);
  await writeCurves(out, history);
  log(`${ac.signal.aborted ? 'interrupted; saved' : 'done'}: ${out} (epoch ${trainer.epoch})`);
}

function writeGrids(out: string, model: EnergyModel, trainer: Trainer, data: EbmData): void {
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

async function writeCurves(out: string, history: Array<Record<string, number>>): Promise<void> {
  if (history.length === 0) return;
  const x = history.map((r) => r.epoch!);
  for (const [file, keys, label] of [
    ['curve-likelihood.svg', ['pseudoLL', 'trainLL', 'testLL'], 'nats per example'],
    ['curve-reconstruction.svg', ['reconstruction'], 'squared error per example'],
  ] as const) {
    const series = keys
      .filter((k) => history.some((r) => r[k] !== undefined))
      .map((k) => ({ name: k, x: x.filter((_, i) => history[i]![k] !== undefined), y: history.filter((r) => r[k] !== undefined).map((r) => r[k]!) }));
    if (series.length > 0) writeSvg(join(out, file), await linePlotSvg({ xLabel: 'epoch', yLabel: label, series }));
  }
}

interface SampleFlags {
  chains: number;
  steps: number;
  sampler: 'gibbs' | 'mh' | 'pt';
  replicas: number;
  grid?: string;
  text?: string;
}

async function sample(dir: string, flags: SampleFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const cfg = readRunConfig(dir);
  const { model } = loadModel(dir);
  const rng = new Rng(g.seed);
  const o = { chains: flags.chains, burnIn: flags.steps, samples: 1 };
  const res =
    flags.sampler === 'mh'
      ? metropolisSample(model, rng, o)
      : flags.sampler === 'pt'
        ? temperedSample(model, rng, { ...o, replicas: flags.replicas })
        : gibbsSample(model, rng, o);
  const summary = { sampler: flags.sampler, chains: flags.chains, steps: flags.steps, diagnostics: res.diagnostics };
  log(JSON.stringify(summary, (_, v) => (v instanceof Float64Array ? Array.from(v) : v)));
  const image = cfg.image as { height: number; width: number } | null;
  const grid = flags.grid ?? (g.out && g.out.endsWith('.png') ? g.out : undefined);
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

async function evaluate(dir: string, flags: EvalFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  const cfg = readRunConfig(dir);
  const { model, epoch } = loadModel(dir);
  const data = loadRunData(cfg, Number(cfg.seed ?? 0));
  const trainX = prepare(model, data, data.train);
  const testX = data.test ? prepare(model, data, data.test) : trainX;
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
    const fwd = ais(model, rng, { betas: flags.betas, runs: flags.runs, baseBias: base });
    Object.assign(result, { aisLogZ: fwd.logZ, aisStdErr: fwd.stdErr, aisEss: fwd.ess, aisTestLL: logLikelihood(model, testX, fwd.logZ) });
    if (flags.reverse) {
      const start = enumerableLayer(model, 24) ? exactSamples(model, flags.runs, rng) : testX.subarray(0, Math.min(flags.runs, testX.length / model.nVisible) * model.nVisible);
      const rev = reverseAis(model, start, rng, { betas: flags.betas, baseBias: base });
      Object.assign(result, { reverseAisLogZ: rev.logZ, reverseAisStdErr: rev.stdErr, reverseAisTestLL: logLikelihood(model, testX, rev.logZ), reverseStart: enumerableLayer(model, 24) ? 'exact samples' : 'test data' });
    }
  }
  if (flags.hiddenAis) {
    const hid = hiddenAis(model, rng, { betas: flags.betas, runs: flags.runs });
    Object.assign(result, { hiddenAisLogZ: hid.logZ, hiddenAisStdErr: hid.stdErr, hiddenAisTestLL: logLikelihood(model, testX, hid.logZ) });
  }
  writeJsonAtomic(join(dir, 'eval.json'), result);
  if (g.quiet) return;
  const { distribution, ...rest } = result;
  log(JSON.stringify(rest, null, 2));
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
    .requiredOption('--data <spec>', 'fashion-mnist | mnist | bars-and-stripes:<n> | spins:<file>')
    .addOption(new Option('--binarize <mode>', 'grey images: static (threshold ½), dynamic (fresh draw per epoch), none').argParser(choiceArg(['static', 'dynamic', 'none'] as const)).default('static'))
    .option('--limit <n>', 'use only the first n training examples', intArg(1))
    .option('--data-dir <dir>', 'dataset directory override')
    .option('--hidden <n>', 'hidden units', intArg(1), 64)
    .addOption(new Option('--visible <type>', 'visible units: binary, spin (±1) or gaussian (data standardised); default from the data').argParser(choiceArg(['binary', 'spin', 'gaussian'] as const)))
    .addOption(new Option('--method <m>', 'negative phase').argParser(choiceArg(['cd', 'pcd', 'pt'] as const)).default('pcd'))
    .option('--k <n>', 'Gibbs steps per update', intArg(1), 1)
    .option('--epochs <n>', 'epochs', intArg(1), 10)
    .option('--lr <x>', 'learning rate', floatArg(0, Infinity, { min: true }), 0.01)
    .option('--batch <n>', 'minibatch size', intArg(1), 100)
    .addOption(new Option('--optimizer <name>', 'optimiser').argParser(choiceArg(['sgd', 'adam'] as const)).default('sgd'))
    .option('--momentum <x>', 'SGD momentum', floatArg(0, 1, { max: true }), 0)
    .option('--weight-decay <x>', 'L2 weight decay on W', floatArg(0), 0)
    .option('--average <f>', 'model = mean of the parameters over the last fraction f of the planned updates (Polyak–Ruppert; 0 = last iterate)', floatArg(0, 1), 0)
    .addOption(new Option('--schedule <s>', 'learning-rate schedule').argParser(choiceArg(['constant', 'linear', 'exponential', 'cosine'] as const)).default('constant'))
    .option('--centering', 'centred gradient (Melchior et al. 2016)', false)
    .option('--chains <n>', 'persistent chains (default: batch size)', intArg(1))
    .option('--pt-replicas <n>', 'parallel-tempering replicas (--method pt)', intArg(2), 10)
    .option('--exact-every <n>', 'exact log-likelihood every n epochs when a layer has ≤ 20 units (0: never)', intArg(0), 1)
    .option('--grid-every <n>', 'write chain and filter grids every n epochs (0: only at the end)', intArg(0), 1)
    .option('--save-every <n>', 'checkpoint every n epochs (and always at the end or on SIGINT)', intArg(1), 1)
    .option('--resume', 'continue the run in --out from its checkpoint (training options come from the checkpoint)', false)
    .action(async (flags: TrainFlags, cmd: Command) => train(flags, cmd));
  rbm
    .command('sample')
    .description('draw samples from a trained run')
    .argument('<run>', 'run directory')
    .option('--chains <n>', 'independent chains (one sample each)', intArg(1), 64)
    .option('--steps <n>', 'sweeps per chain', intArg(0), 1000)
    .addOption(new Option('--sampler <s>', 'block Gibbs, Metropolis–Hastings or parallel tempering').argParser(choiceArg(['gibbs', 'mh', 'pt'] as const)).default('gibbs'))
    .option('--replicas <n>', 'replicas for --sampler pt', intArg(2), 10)
    .option('--grid <file>', 'write the samples as a PNG grid')
    .option('--text <file>', 'write the samples as spin text (one configuration per line)')
    .action(async (run: string, flags: SampleFlags, cmd: Command) => sample(run, flags, cmd));
  rbm
    .command('eval')
    .description('log-likelihood by exact enumeration (small layers) or AIS; exact visible distribution for small models')
    .argument('<run>', 'run directory')
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
