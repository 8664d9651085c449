/**
 * `genphys classifier train|eval|score`: the LeNet feature classifier behind FD-LeNet and
 * KID (src/metrics/classifier.ts). `train` writes a normal run directory
 * (config.json, metrics.jsonl, a resumable checkpoint) plus the weights-only
 * `lenet-<data>.json` that is committed under models/; `eval` scores a classifier
 * (the committed one by default) on its evaluation split; `score` scores an external
 * `.npy` of generated images (e.g. a PyTorch model's) against the test split with the
 * report `gan eval` gives (src/metrics/score-file.ts).
 *
 * MNIST: only the official TEST set (10 000 images) is available offline, so the
 * MNIST classifier trains on test images 0…7999 and is scored on 8000…9999
 * (`mnist-test-split`); Fashion-MNIST uses its real train (60 000) and test (10 000)
 * splits.
 *
 * The run itself is `trainClassifierRun` (src/metrics/classifier-run.ts), the scoring
 * `scoreImageFile`; this file parses flags and prints.
 */
import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { InterruptedError, UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { initBackend } from '../engine/backend.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { CLASSIFIER_DATASETS, DEFAULT_CLASSIFIER_TRAIN, LENET, loadFeatureClassifier, type ClassifierDataset, type ClassifierTrainConfig } from '../metrics/classifier.js';
import { catchInterrupts } from '../run/signals.js';
import { checkOutputFile, runDirectory } from '../run/paths.js';
import { choiceArg, floatArg, givenFlags, globals, intArg, logger, runRenderer } from './common.js';
import { checkClassifierRun, loadClassifierData, trainClassifierRun, type ClassifierRunResult } from '../metrics/classifier-run.js';
import { lenetFeatures, readImageSamples, scoreImageFile } from '../metrics/score-file.js';
import { evalReportLines } from '../metrics/report-text.js';

interface TrainOpts {
  json?: boolean;
  data: ClassifierDataset;
  dataDir?: string;
  epochs: number;
  batch: number;
  lr: number;
  shift: number;
  resume?: boolean;
  force?: boolean;
}

export const FLAG_PATHS = {
  data: ['--data', 'data'],
  dataDir: ['--data-dir', 'dataDir'],
  epochs: ['--epochs', 'train.epochs'],
  batch: ['--batch', 'train.batchSize'],
  lr: ['--lr', 'train.lr'],
  shift: ['--shift', 'train.shift'],
} as const;

async function cmdTrain(o: TrainOpts, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet || o.json === true);
  const out = runDirectory(g.out, 'classifier', o.resume ?? false);
  const given = givenFlags(cmd, o as unknown as Record<string, unknown>, FLAG_PATHS);
  if (cmd.parent?.parent?.getOptionValueSource('seed') === 'cli') given['--seed'] = ['seed', g.seed];
  checkClassifierRun({ dir: out, resume: o.resume ?? false, force: o.force ?? false, given });
  const data = loadClassifierData(o.data, o.dataDir);
  const backend = await initBackend(g.backend, { quiet: g.quiet });
  const train: ClassifierTrainConfig = { ...DEFAULT_CLASSIFIER_TRAIN, epochs: o.epochs, batchSize: o.batch, lr: o.lr, shift: o.shift };
  const config = { command: 'classifier train', data: o.data, dataDir: o.dataDir ?? null, trainSplit: data.trainSplit, evalSplit: data.evalSplit, seed: g.seed, backend: backend.name, model: LENET, train };
  if (o.data === 'mnist') log(`note: MNIST here is the official test set only: training on images 0…${data.train.n - 1}, scoring on ${data.train.n}…${data.train.n + data.eval.n - 1} (${data.evalSplit})`);
  const view = runRenderer('classifier train', g.quiet, (m) => `loss ${m.loss!.toFixed(4)}  train acc ${(100 * m.accuracy!).toFixed(2)} %  ${data.evalSplit} acc ${(100 * m.evalAccuracy!).toFixed(2)} %  ${m.seconds!.toFixed(1)} s`, { json: o.json === true });
  const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupted, saving a resumable checkpoint…\n'));
  const t0 = performance.now();
  let res: ClassifierRunResult;
  try {
    res = await trainClassifierRun({ dir: out, dataset: o.data, model: LENET, train, seed: g.seed, data, config, resume: o.resume ?? false, force: o.force ?? false, given, signal: stop.signal, onEvent: view.listener });
  } finally {
    view.stop();
    stop.dispose();
  }
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.epochs} complete epochs (step ${res.step}); checkpoint saved in ${out}; continue with --resume --out ${out}`);
  const secs = (performance.now() - t0) / 1000;
  log(`done: ${res.epochs} epochs in ${secs.toFixed(1)} s; ${o.data} ${data.evalSplit} accuracy ${(100 * res.accuracy!).toFixed(2)} % (n = ${data.eval.n}); weights in ${res.exported}`);
}

async function cmdEval(o: { data: ClassifierDataset; dataDir?: string; model?: string }, cmd: Command): Promise<void> {
  const g = globals(cmd);
  if (o.model !== undefined && !existsSync(o.model)) throw new UsageError(`--model: ${o.model} does not exist (give a classifier manifest, e.g. runs/lenet/lenet-${o.data}.json)`);
  const data = loadClassifierData(o.data, o.dataDir);
  await initBackend(g.backend, { quiet: g.quiet });
  const clf = await loadFeatureClassifier(o.data, o.model !== undefined ? { manifest: o.model } : {});
  try {
    const acc = clf.accuracy(data.eval.x, data.eval.labels, data.eval.n);
    process.stdout.write(`FD-LeNet classifier ${clf.info.source}: ${o.data} ${data.evalSplit} accuracy ${(100 * acc).toFixed(2)} % (n = ${data.eval.n})\n`);
  } finally {
    clf.dispose();
  }
}

interface ScoreOpts {
  data: ClassifierDataset;
  dataDir?: string;
  n?: number;
  permutations: number;
  json?: string;
}

async function cmdScore(file: string, o: ScoreOpts, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const log = logger(g.quiet);
  if (o.json !== undefined) checkOutputFile(o.json, '--json');
  // Read (and check) the file before loading the backend and the classifier, so bad input fails fast.
  const samples = readImageSamples(file);
  await initBackend(g.backend, { quiet: true });
  const fc = await lenetFeatures(o.data);
  let result: Record<string, unknown>;
  try {
    result = scoreImageFile(samples, {
      dataset: o.data,
      ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
      ...(o.n !== undefined ? { n: o.n } : {}),
      rng: new Rng(g.seed),
      permutations: o.permutations,
      features: fc.features,
      ...(fc.reason !== undefined ? { featuresUnavailable: fc.reason } : {}),
    });
  } finally {
    fc.dispose();
  }
  if (o.json !== undefined) writeJsonAtomic(o.json, result);
  log(evalReportLines(result).join('\n'));
  if (o.json !== undefined) log(`written to ${o.json}`);
}

/** Register `genphys classifier`. */
export function register(program: Command): void {
  const c = program
    .command('classifier')
    .description('the LeNet feature classifier for FD-LeNet and KID on image data: train, eval, score')
    .addHelpText('after', '\nExamples:\n  genphys classifier train --data fashion-mnist --epochs 10 --out runs/lenet-fmnist\n  genphys classifier eval --data mnist --data-dir ../shared/data/mnist\n  genphys classifier score samples.npy --data fashion-mnist --json score.json');
  c.command('train')
    .description('train the classifier (Adam, seeded); writes config.json, metrics.jsonl, checkpoint.json and lenet-<data>.json. MNIST uses test images 0…7999 to train and 8000…9999 to score')
    .addOption(new Option('--data <name>', 'data set').argParser(choiceArg(CLASSIFIER_DATASETS)).default('fashion-mnist'))
    .option('--json', 'one JSON object per line on stdout (start, epoch, warning, checkpoint, end) instead of text')
    .option('--data-dir <dir>', 'directory of the IDX files')
    .option('--epochs <n>', 'total passes over the training set', intArg(1, 100000), 10)
    .option('--batch <n>', 'batch size', intArg(1, 1 << 16), DEFAULT_CLASSIFIER_TRAIN.batchSize)
    .option('--lr <x>', 'Adam learning rate', floatArg(0, 10, { min: true }), DEFAULT_CLASSIFIER_TRAIN.lr)
    .option('--shift <px>', 'random-translation augmentation of up to ±px pixels (0: none)', intArg(0, 8), 0)
    .option('--resume', 'continue the run in --out exactly (also mid-epoch); --epochs (the total) may be raised')
    .option('--force', 'replace an existing run in --out')
    .action(async (o: TrainOpts, cmd: Command) => cmdTrain(o, cmd));
  c.command('eval')
    .description('accuracy of a classifier (default: the committed one) on its evaluation split')
    .addOption(new Option('--data <name>', 'data set').argParser(choiceArg(CLASSIFIER_DATASETS)).default('fashion-mnist'))
    .option('--data-dir <dir>', 'directory of the IDX files')
    .option('--model <manifest>', 'classifier manifest (.json) to score instead of the committed one')
    .action(async (o: { data: ClassifierDataset; dataDir?: string; model?: string }, cmd: Command) => cmdEval(o, cmd));
  c.command('score')
    .description("score a .npy of generated 28×28 images (float32/64 in [-1, 1]; [n,28,28], [n,28,28,1], [n,1,28,28] or [n,784]) against the test split, as `gan eval` does: MMD, KID, precision/recall, FD-LeNet")
    .argument('<samples.npy>', 'generated images, values in [-1, 1] (pixels p as p/127.5 - 1)')
    .addOption(new Option('--data <name>', 'data set whose test split is the reference').argParser(choiceArg(CLASSIFIER_DATASETS)).default('fashion-mnist'))
    .option('--data-dir <dir>', 'directory of the IDX files')
    .option('--n <n>', 'images compared from each side (default: min(1000, images in the file))', intArg(1, 100000))
    .option('--permutations <n>', 'permutations for the MMD p-value', intArg(0), 200)
    .option('--json <file>', 'also write the report to this JSON file')
    .action(async (file: string, o: ScoreOpts, cmd: Command) => cmdScore(file, o, cmd));
}
