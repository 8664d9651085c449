/**
 * Training an RBM on one problem of the small-problem suite (suite.ts) and scoring it
 * exactly: the mean log-likelihood of the training rows against the optimum −H of their
 * empirical distribution, KL(target‖model) and the fidelity (Σ √(p q))². Used by the
 * suite's tests and by `bench/rbm-suite.mjs`, which chose the trainer's defaults.
 */
import { Rng } from '../core/rng.js';
import { exactLogZ, exactVisibleLogProbs } from './partition.js';
import { BernoulliRBM } from './rbm.js';
import { logLikelihood } from './metrics.js';
import { Trainer, type TrainOptions } from './train.js';
import { empiricalEntropy, fidelity, klDivergence, problemDataset, type SuiteProblem } from './suite.js';

/** Options of {@link trainOnProblem}. */
export interface SuiteTrainOptions {
  /** Hidden units. */
  readonly hidden: number;
  /** Trainer options (the trainer's defaults where absent). */
  readonly train?: TrainOptions;
  /** Epochs over the data set. */
  readonly epochs: number;
  /** Rows of the data set (each state repeated in proportion to its target probability; default 1000). */
  readonly rows?: number;
  /** Standard deviation of the initial weights (default: the model's). */
  readonly initStd?: number;
  /** Seed of the initial weights and the trainer's stream (default 1). */
  readonly seed?: number;
  /** Record the exact LL every n epochs (default: 20 points over the run). */
  readonly evalEvery?: number;
}

/** What {@link trainOnProblem} measured. */
export interface SuiteTrainResult {
  readonly problem: string;
  /** The resolved negative-phase method. */
  readonly method: string;
  /** Final mean exact log-likelihood of the training rows (nats). */
  readonly ll: number;
  /** Best achievable: −(entropy of the rows' empirical distribution). */
  readonly optimum: number;
  /** optimum − ll (≥ 0 up to rounding). */
  readonly gap: number;
  /** Highest LL seen at an evaluation, and the lowest after it (a drop means divergence). */
  readonly bestLL: number;
  readonly worstAfterBest: number;
  /** KL(target‖model) and the fidelity of √target with √model (nats, [0, 1]). */
  readonly kl: number;
  readonly fidelity: number;
  readonly updates: number;
  readonly seconds: number;
  /** (epoch, LL) at each evaluation. */
  readonly curve: ReadonlyArray<readonly [number, number]>;
  /** The trained model. */
  readonly model: BernoulliRBM;
}

/** Train an RBM on `problem`'s data set and score it exactly. */
export function trainOnProblem(problem: SuiteProblem, opts: SuiteTrainOptions): SuiteTrainResult {
  const data = problemDataset(problem, opts.rows ?? 1000);
  const optimum = -empiricalEntropy(data, problem.nVisible);
  const rng = new Rng(opts.seed ?? 1);
  const model = new BernoulliRBM({ nVisible: problem.nVisible, nHidden: opts.hidden, units: problem.units, ...(opts.initStd !== undefined ? { initStd: opts.initStd } : {}) }, rng.split(1));
  const trainer = new Trainer(model, opts.train ?? {}, rng.split(2));
  const every = opts.evalEvery ?? Math.max(1, Math.floor(opts.epochs / 20));
  const curve: Array<[number, number]> = [];
  const evaluate = () => logLikelihood(model, data, exactLogZ(model));
  const t0 = performance.now();
  let best = -Infinity;
  let worstAfterBest = Infinity;
  for (let e = 1; e <= opts.epochs; e++) {
    while (trainer.trainSlice(data, { plannedEpochs: opts.epochs }) === null);
    if (e % every === 0 || e === opts.epochs) {
      const ll = evaluate();
      curve.push([e, ll]);
      if (ll > best) {
        best = ll;
        worstAfterBest = ll;
      } else worstAfterBest = Math.min(worstAfterBest, ll);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const ll = curve.at(-1)![1];
  const logp = exactVisibleLogProbs(model);
  return {
    problem: problem.name,
    method: trainer.options.method,
    ll,
    optimum,
    gap: optimum - ll,
    bestLL: best,
    worstAfterBest,
    kl: klDivergence(problem.target, logp),
    fidelity: fidelity(problem.target, logp),
    updates: trainer.step,
    seconds,
    curve,
    model,
  };
}
