/**
 * "Can an RBM learn thermodynamics?" (Torlai & Melko, PRB 94, 165134 (2016)):
 * for each temperature, train a ±1-spin RBM on Monte Carlo configurations of the
 * 2D Ising model, sample the trained RBM with long block-Gibbs chains, and measure
 * the same observables (e, |m|, C, χ) with the same estimators and error bars as
 * the Monte Carlo data, next to exact values (enumeration for L ≤ 5, Kaufman's
 * formula for e and C at any L). At L ≤ 4 the exact KL divergence between the
 * Boltzmann distribution and the RBM's marginal p(v) ∝ e^{−F(v)} is reported too.
 *
 * The RBM, its trainer and its Gibbs sampler are src/ebm's public API
 * (`BernoulliRBM` with `units: 'pm1'`, `Trainer.fit`, `sampleHiddens` / `sampleVisibles`,
 * `freeEnergy`); this module only orchestrates and measures.
 */
import { Rng, type RngState } from '../core/rng.js';
export { LatticeSpinRBM } from './lattice-rbm.js';
import { UsageError } from '../core/errors.js';
import { BernoulliRBM } from '../ebm/rbm.js';
import { Trainer, type LrSchedule, type TrainMethod } from '../ebm/train.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { facetLinePlotSvg, writeSvg } from '../viz/plot.js';
import { getKernels } from '../engine/index.js';
import { fileURLToPath } from 'node:url';
import { defaultWorkers, runWorkerPool } from './chains.js';
import { enumerate, exactFromDos, exactLogProbabilities, kaufmanSquare, MAX_ENUMERATION_SPINS, onsagerMagnetisation, onsagerTc } from './exact.js';
import { isingModel, latticeSymmetryImages, squareTranslations, type IsingModel } from './lattice.js';
import { LatticeSpinRBM } from './lattice-rbm.js';
import { thermoEstimates, type Estimate, type ThermoEstimates } from './observables.js';
import { csvTable, formatConcise, formatEstimate, formatNumber, markdownTable, textTable } from './report.js';
import type { IsingAlgorithm } from './samplers.js';
import { simulateTemperatures, trimSamples, type SimulationResult } from './simulate.js';
import { evenlySpacedRows, type IsingDataset } from './dataset.js';

/**
 * RBM training hyperparameters. Defaults: {@link ISING_RBM_TRAIN_DEFAULTS} (the
 * pseudo-likelihood on 2 × 2 filters, Adam 0.03, batch 100, 60 epochs; until session 8
 * PCD-5 with SGD 0.02 in the spirit of Torlai & Melko's zero-bias ±1 RBM), and two
 * choices measured on the 8×8 model (issue 5, BENCHMARKS.md):
 *  - translation-invariant weights with 2L² hidden units (two filter families: enough
 *    to hold the Ising model exactly). The paper's unconstrained 64-unit RBM stays
 *    2–4 % under-correlated in e at T ≥ 3 with 10⁴–4·10⁴ configurations: its 4096
 *    weights follow the sample's spurious correlations and the gradient noise.
 *  - tail averaging of the weights over the last 30 % of training. Even started at the
 *    exact Ising solution, the last SGD iterate wanders by ±5–10 % in ⟨|m|⟩ at T ≥ 3 (the
 *    k = 0 mode that sets χ and ⟨|m|⟩ is stiff and tracks each batch's noise); the
 *    average of the iterates does not.
 */
export interface RbmTrainSettings {
  /** Hidden units (default 2·L², i.e. 128 at L = 8). */
  readonly nHidden?: number;
  /**
   * 'pl' (default: the pseudo-likelihood's exact gradient, no Markov chain), 'cd', 'pcd', 'pt'
   * or 'exact' (enumerates the L² visible spins: L ≤ 4).
   */
  readonly method?: Extract<TrainMethod, 'cd' | 'pcd' | 'pt' | 'exact' | 'pl'>;
  /** Gibbs steps per update with cd/pcd/pt (default 5). */
  readonly k?: number;
  /** Minibatch size (default 100). */
  readonly batchSize?: number;
  /** Persistent chains for PCD (default: the batch size). */
  readonly pcdChains?: number;
  /** Learning rate (default 0.03, for Adam; the former PCD + SGD recipe used 0.02). */
  readonly learningRate?: number;
  /** SGD momentum (default 0; ignored by Adam). */
  readonly momentum?: number;
  /** 'adam' (default) or 'sgd'. */
  readonly optimizer?: 'sgd' | 'adam';
  /** Epochs over the training set (default 60). */
  readonly epochs?: number;
  /**
   * Standard deviation of the initial weights (default 0.1). With zero biases W = 0 is a
   * saddle point of the likelihood (the gradient is ∝ W there), so a tiny initialisation
   * wastes most of a short training run escaping it.
   */
  readonly initStd?: number;
  /** Learning-rate schedule over training, decaying to lr/100 (default 'cosine'; 'constant' to keep lr). */
  readonly schedule?: LrSchedule;
  /** Constrain biases to zero so the RBM is spin-flip symmetric, as at h = 0 (default true). */
  readonly symmetric?: boolean;
  /**
   * Train on this many lattice-symmetry images of every configuration (default 1: the
   * configurations as sampled; square lattice only). An epoch is one pass over the
   * enlarged set, so `epochs` should shrink by the same factor to keep the compute.
   */
  readonly augment?: number;
  /**
   * Tie the weights so that the RBM's distribution is invariant under the L² translations
   * of the torus (default true; `nHidden` must then be a multiple of L²): F = nHidden/L²
   * filters instead of nHidden·L² free weights. See {@link LatticeSpinRBM}.
   */
  readonly translationInvariant?: boolean;
  /**
   * Fraction of training over which the weights are tail-averaged (Polyak–Ruppert); the
   * average is the trained model (default 0.3; 0 = the last iterate).
   */
  readonly averaging?: number;
  /**
   * With method 'pl': sites per configuration the pseudo-likelihood gradient sums over,
   * drawn at random (default 0: all L²; the cost per configuration scales with it).
   */
  readonly plSites?: number;
  /**
   * Side k of the patch each translation-invariant filter covers (0: the whole lattice; see
   * {@link LatticeSpinRBM}): k = 2 (the default with translation-invariant weights) holds the
   * Ising model with 4 weights per family instead of L².
   */
  readonly filterSize?: number;
}

/** How the trained RBM is sampled to measure observables. */
export interface RbmSampleSettings {
  /** Parallel Gibbs chains (default 1000), started from training configurations. */
  readonly chains?: number;
  /** Block-Gibbs steps discarded first (default 500). */
  readonly burnIn?: number;
  /** Measured block-Gibbs steps per chain (default 10 000). */
  readonly steps?: number;
}

/** Monte Carlo observables of the training data (per site, with errors). */
export interface McObservables {
  readonly energy: Estimate;
  readonly absMagnetisation: Estimate;
  readonly specificHeat: Estimate;
  readonly susceptibility: Estimate;
  /** τ_int of |m| in sweeps, when known. */
  readonly tauAbsMagnetisation?: number;
}

/** Exact reference values (per site); fields are absent where no exact value is known. */
export interface ExactObservables {
  readonly energy?: number;
  readonly absMagnetisation?: number;
  readonly specificHeat?: number;
  readonly susceptibility?: number;
  /** Where they come from. */
  readonly source: string;
}

/** One temperature's work for a worker: train, then sample and measure. */
export interface RbmTask {
  /** Linear size of the square lattice. */
  readonly L: number;
  /** Temperature. */
  readonly T: number;
  /** Training configurations, n × L², ±1. */
  readonly spins: Int8Array;
  /** Training settings. */
  readonly train: RbmTrainSettings;
  /** Sampling settings. */
  readonly sample: RbmSampleSettings;
  /** Generator state for this temperature. */
  readonly rng: RngState;
  /** Compute the exact KL divergence (needs L² ≤ 20). */
  readonly exactKL: boolean;
}

/** What {@link trainAndSampleRbm} returns. */
export interface RbmTaskOutput {
  /** Temperature. */
  readonly T: number;
  /** Observables of RBM samples; τ in Gibbs steps. */
  readonly thermo: ThermoEstimates;
  /** KL(p_Boltzmann ‖ p_RBM) in nats, or null. */
  readonly kl: number | null;
  /** The RBM's exact e, |m|, C, χ ({@link exactRbmObservables}) when `exactKL` and N ≤ 20, else null. */
  readonly rbmExact: ExactObservables | null;
  /** Seconds spent training. */
  readonly trainSeconds: number;
  /** Seconds spent sampling. */
  readonly sampleSeconds: number;
  /** Learned parameters: W (nVisible × nHidden), a, b. */
  readonly params: { readonly W: Float32Array; readonly a: Float32Array; readonly b: Float32Array };
}

/**
 * The `ising rbm` training defaults, chosen in BENCHMARKS.md "RBM fluctuations at T_c" (issue #15):
 * the pseudo-likelihood's exact gradient (Besag 1975) on 2 × 2 translation-invariant filters,
 * Adam 0.03, batch 100, 60 epochs with a cosine decay, weights averaged over the last 30 %. The
 * former recipe, {@link FORMER_PCD_RECIPE}, left C and χ 13–25 % low near T_c at L = 8.
 */
export const ISING_RBM_TRAIN_DEFAULTS = {
  method: 'pl',
  k: 5,
  batchSize: 100,
  learningRate: 0.03,
  momentum: 0,
  optimizer: 'adam',
  epochs: 60,
  /** With translation-invariant weights; 0 (the whole lattice) otherwise. */
  filterSize: 2,
} as const;

/**
 * The `ising rbm` training recipe until session 8: PCD-5, SGD 0.02 with momentum 0.5, batch 50,
 * 100 epochs, whole-lattice filters (the other settings as {@link ISING_RBM_TRAIN_DEFAULTS}'s
 * resolution gives them). Kept for comparisons and for the tests of the PCD path.
 */
export const FORMER_PCD_RECIPE = { method: 'pcd', k: 5, optimizer: 'sgd', learningRate: 0.02, momentum: 0.5, batchSize: 50, epochs: 100, filterSize: 0 } as const;

/**
 * The `ising rbm` sampling defaults: 1000 chains × 10 000 measured steps, so that the RBM's
 * own error bars near T_c (τ_int(|m|) ≈ 30–45 Gibbs steps at L = 8) stay below 1 % on C and χ
 * and a 3 % deviation from Monte Carlo is resolved (≈ 20 s per temperature at L = 8, native).
 */
export const ISING_RBM_SAMPLE_DEFAULTS = { chains: 1000, burnIn: 500, steps: 10000 } as const;

/** Resolved training settings ({@link ISING_RBM_TRAIN_DEFAULTS} where `s` is silent). */
export function resolveTrain(s: RbmTrainSettings = {}, nSpins = 64): Required<RbmTrainSettings> {
  const d = ISING_RBM_TRAIN_DEFAULTS;
  const batchSize = s.batchSize ?? d.batchSize;
  const translationInvariant = s.translationInvariant ?? true;
  const r = {
    nHidden: s.nHidden ?? 2 * nSpins,
    method: s.method ?? d.method,
    k: s.k ?? d.k,
    batchSize,
    pcdChains: s.pcdChains ?? batchSize,
    learningRate: s.learningRate ?? d.learningRate,
    momentum: s.momentum ?? d.momentum,
    optimizer: s.optimizer ?? d.optimizer,
    epochs: s.epochs ?? d.epochs,
    symmetric: s.symmetric ?? true,
    schedule: s.schedule ?? 'cosine',
    initStd: s.initStd ?? 0.1,
    augment: s.augment ?? 1,
    translationInvariant,
    averaging: s.averaging ?? 0.3,
    plSites: s.plSites ?? 0,
    filterSize: s.filterSize ?? (translationInvariant ? d.filterSize : 0),
  } as const;
  for (const [k, v] of [['hidden', r.nHidden], ['k', r.k], ['batch', r.batchSize], ['epochs', r.epochs], ['augment', r.augment]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${k}: must be a positive integer, got ${v}`);
  }
  if (!(r.learningRate > 0)) throw new UsageError(`--lr: must be > 0, got ${r.learningRate}`);
  if (!['cd', 'pcd', 'pt', 'exact', 'pl'].includes(r.method)) throw new UsageError(`--method: expected cd, pcd, pt, exact or pl, got '${String(r.method)}'`);
  if (!(r.averaging >= 0 && r.averaging <= 1)) throw new UsageError(`--average: must lie in [0, 1], got ${r.averaging}`);
  if (!(Number.isInteger(r.plSites) && r.plSites >= 0)) throw new UsageError(`--pl-sites: must be 0 (all) or a positive integer, got ${r.plSites}`);
  if (!(Number.isInteger(r.filterSize) && r.filterSize >= 0)) throw new UsageError(`--filter-size: must be 0 (the whole lattice) or a positive integer, got ${r.filterSize}`);
  return r;
}

/** Validate training settings for an L×L lattice (one-line UsageErrors); returns them resolved. */
export function checkTrainSettings(L: number, s: RbmTrainSettings = {}): Required<RbmTrainSettings> {
  const N = L * L;
  const r = resolveTrain(s, N);
  if (r.method === 'exact' && N > 20) throw new UsageError(`--method exact: enumerates the ${N} visible spins; it needs L² ≤ 20 (L ≤ 4)`);
  if (r.filterSize > 0 && !r.translationInvariant) throw new UsageError('--filter-size: local filters need translation-invariant weights (drop --no-translation-invariant)');
  if (r.filterSize > L) throw new UsageError(`--filter-size: ${r.filterSize} exceeds the lattice side L = ${L}`);
  if (r.translationInvariant && r.nHidden % N !== 0) {
    throw new UsageError(`--hidden: translation-invariant weights need a multiple of L² = ${N} hidden units, got ${r.nHidden} (or pass --no-translation-invariant)`);
  }
  return r;
}

/** Resolved sampling settings. */
export function resolveSample(s: RbmSampleSettings = {}): Required<RbmSampleSettings> {
  const d = ISING_RBM_SAMPLE_DEFAULTS;
  return { chains: s.chains ?? d.chains, burnIn: s.burnIn ?? d.burnIn, steps: s.steps ?? d.steps };
}

/** Progress units of one task (for progress bars): one per epoch plus 10 for sampling. */
export function taskUnits(train: RbmTrainSettings): number {
  return resolveTrain(train).epochs + 10;
}

/** Bond sum Σ s_i s_j of a ±1 configuration stored as floats. */
function bondSumF(model: IsingModel, v: Float32Array, off: number): number {
  const { N, z, nbr } = model;
  let b = 0;
  for (let i = 0; i < N; i++) {
    const si = v[off + i]!;
    b += si * v[off + nbr[z * i]!]!;
    if (z === 4) b += si * v[off + nbr[z * i + 2]!]!;
  }
  return b;
}

/** The most spins {@link rbmLogMarginal} enumerates (2^20 states). */
export const MAX_RBM_ENUMERATION_SPINS = 20;

/**
 * The normalised log-probability ln q(v) = −F(v) − ln Z_RBM of the RBM's visible marginal
 * for every one of the 2^N states, in the ordering of {@link exactLogProbabilities}
 * (index c has spin i = +1 when bit i of c is set). F is evaluated on float64 inputs and
 * ln Z by a float64 log-sum-exp, so the result is as exact as the (float32) weights allow.
 * @throws UsageError when the RBM has more than 20 visible units
 */
export function rbmLogMarginal(rbm: BernoulliRBM): Float64Array {
  const N = rbm.nVisible;
  if (N > MAX_RBM_ENUMERATION_SPINS) throw new UsageError(`exact RBM marginal needs N ≤ ${MAX_RBM_ENUMERATION_SPINS} spins, got ${N}`);
  const total = 2 ** N;
  const chunk = Math.min(total, 4096);
  const lq = new Float64Array(total);
  const v = new Float64Array(chunk * N);
  for (let c0 = 0; c0 < total; c0 += chunk) {
    const n = Math.min(chunk, total - c0);
    for (let r = 0; r < n; r++) for (let i = 0; i < N; i++) v[r * N + i] = ((c0 + r) >>> i) & 1 ? 1 : -1;
    const f = rbm.freeEnergy(n === chunk ? v : v.subarray(0, n * N));
    for (let r = 0; r < n; r++) lq[c0 + r] = -f[r]!;
  }
  let mx = -Infinity;
  for (let c = 0; c < total; c++) mx = Math.max(mx, lq[c]!);
  let z = 0;
  for (let c = 0; c < total; c++) z += Math.exp(lq[c]! - mx);
  // (−F − max) − ln Σ, as in exactLogProbabilities, so a huge max does not swallow ln Σ.
  const logSum = Math.log(z);
  for (let c = 0; c < total; c++) lq[c] = lq[c]! - mx - logSum;
  return lq;
}

function checkRbmFits(model: IsingModel, rbm: BernoulliRBM): void {
  if (model.N > MAX_RBM_ENUMERATION_SPINS) throw new UsageError(`exact RBM marginal needs N ≤ ${MAX_RBM_ENUMERATION_SPINS} spins, got ${model.N}`);
  if (rbm.nVisible !== model.N) throw new UsageError(`the RBM has ${rbm.nVisible} visible units but the lattice has ${model.N} spins`);
}

/** KL(p ‖ q) = Σ p (ln p − ln q) from two normalised log-probability tables. */
function klFromLogs(lp: Float64Array, lq: Float64Array): number {
  let kl = 0;
  for (let c = 0; c < lp.length; c++) {
    const p = Math.exp(lp[c]!);
    if (p > 0) kl += p * (lp[c]! - lq[c]!);
  }
  return Math.max(0, kl);
}

/**
 * KL(p ‖ q) in nats between the Boltzmann distribution p of `model` at T and the
 * RBM's visible marginal q(v) = e^{−F(v)}/Z_RBM, both by enumerating all 2^N states.
 */
export function exactRbmKL(model: IsingModel, T: number, rbm: BernoulliRBM): number {
  checkRbmFits(model, rbm);
  return klFromLogs(exactLogProbabilities(model, T), rbmLogMarginal(rbm));
}

/**
 * e, |m|, C, χ per site of a normalised distribution ln q over the 2^N states of `model`,
 * with the conventions of {@link exactFromDos}: E = −J Σ s_i s_j − h M,
 * C = β²N(⟨e²⟩ − ⟨e⟩²), χ = βN(⟨m²⟩ − ⟨|m|⟩²). The variances are summed about the means
 * (two passes) so that no cancellation eats them at low T.
 */
function observablesFromLog(model: IsingModel, T: number, lq: Float64Array, source: string): ExactObservables {
  if (!(T > 0) || !Number.isFinite(T)) throw new UsageError(`temperature must be a positive finite number, got ${T}`);
  const { N, z, nbr, J, h } = model;
  const total = lq.length;
  const e = new Float64Array(total);
  const am = new Float64Array(total);
  for (let c = 0; c < total; c++) {
    let b = 0, M = 0;
    for (let i = 0; i < N; i++) {
      const si = (c >>> i) & 1 ? 1 : -1;
      M += si;
      // Each bond once: the square lattice stores right/left/down/up, the chain right/left.
      b += si * ((c >>> nbr[z * i]!) & 1 ? 1 : -1);
      if (z === 4) b += si * ((c >>> nbr[z * i + 2]!) & 1 ? 1 : -1);
    }
    e[c] = (-J * b - h * M) / N;
    am[c] = Math.abs(M) / N;
  }
  let e1 = 0, m1 = 0;
  for (let c = 0; c < total; c++) {
    const q = Math.exp(lq[c]!);
    e1 += q * e[c]!;
    m1 += q * am[c]!;
  }
  let ve = 0, vm = 0;
  for (let c = 0; c < total; c++) {
    const q = Math.exp(lq[c]!);
    ve += q * (e[c]! - e1) ** 2;
    vm += q * (am[c]! - m1) ** 2;
  }
  const beta = 1 / T;
  // ⟨(|m| − ⟨|m|⟩)²⟩ = ⟨m²⟩ − ⟨|m|⟩², the finite-lattice χ of exactFromDos.
  return { energy: e1, absMagnetisation: m1, specificHeat: beta * beta * N * ve, susceptibility: beta * N * vm, source };
}

/** `source` of {@link exactRbmObservables}. */
export const RBM_EXACT_SOURCE = 'RBM marginal (enumerated)';

/**
 * The RBM's own e, |m|, C, χ per site, exactly: averages over its visible marginal
 * q(v) ∝ e^{−F(v)} by enumerating all 2^N states (N ≤ 20), with the conventions of
 * {@link exactFromDos}. Next to the Gibbs-chain estimates this separates sampling error
 * (chains − these) from model error (these − Boltzmann).
 * @throws UsageError when N > 20 or the RBM does not have N visible units
 */
export function exactRbmObservables(model: IsingModel, T: number, rbm: BernoulliRBM): ExactObservables {
  checkRbmFits(model, rbm);
  return observablesFromLog(model, T, rbmLogMarginal(rbm), RBM_EXACT_SOURCE);
}

/**
 * Train an RBM on one temperature's configurations, then run `chains` block-Gibbs
 * chains (started from random training configurations) and measure e and m after
 * every step. Deterministic given the task's generator state.
 */
export async function trainAndSampleRbm(task: RbmTask, onProgress?: (units: number) => void): Promise<RbmTaskOutput> {
  const tr = checkTrainSettings(task.L, task.train);
  const sp = resolveSample(task.sample);
  const model = isingModel({ L: task.L });
  const N = model.N;
  const n = task.spins.length / N;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`T = ${task.T}: training set has ${task.spins.length} spins, not a positive multiple of ${N}`);
  const root = Rng.fromState(task.rng);
  const data = Float32Array.from(task.spins);
  const trainData = tr.augment > 1 ? latticeSymmetryImages(data, task.L, tr.augment, root.split(3)) : data;
  const rbm = new LatticeSpinRBM(
    { nVisible: N, nHidden: tr.nHidden, initStd: tr.initStd, spinFlipSymmetric: tr.symmetric, ...(tr.translationInvariant ? { translations: squareTranslations(task.L) } : {}), ...(tr.filterSize > 0 ? { filterSize: tr.filterSize } : {}) },
    root.split(0),
  );
  const trainer = new Trainer(
    rbm,
    { method: tr.method, k: tr.k, batchSize: tr.batchSize, chains: tr.pcdChains, learningRate: tr.learningRate, momentum: tr.momentum, optimizer: tr.optimizer, schedule: tr.schedule, finalLrFactor: 0.01, initVisibleBias: !tr.symmetric, averaging: tr.averaging, plSites: tr.plSites },
    root.split(1),
  );
  const t0 = performance.now();
  await trainer.fit(trainData, { epochs: tr.epochs, onEpoch: () => onProgress?.(1) });
  const trainSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const rng = root.split(2);
  const C = sp.chains;
  const v = new Float32Array(C * N);
  for (let c = 0; c < C; c++) {
    const r = rng.int(n);
    v.set(data.subarray(r * N, (r + 1) * N), c * N);
  }
  const h = new Float32Array(C * tr.nHidden);
  const hm = new Float32Array(C * tr.nHidden);
  const vm = new Float32Array(C * N);
  const step = () => {
    rbm.sampleHiddens(v, rng, { out: h, mean: hm });
    rbm.sampleVisibles(h, rng, { out: v, mean: vm });
  };
  const totalSteps = sp.burnIn + sp.steps;
  const unitEvery = Math.max(1, Math.floor(totalSteps / 10));
  let done = 0;
  const tick = () => {
    if (++done % unitEvery === 0 && done / unitEvery <= 10) onProgress?.(1);
  };
  for (let t = 0; t < sp.burnIn; t++) {
    step();
    tick();
  }
  const e = Array.from({ length: C }, () => new Float64Array(sp.steps));
  const m = Array.from({ length: C }, () => new Float64Array(sp.steps));
  for (let t = 0; t < sp.steps; t++) {
    step();
    for (let c = 0; c < C; c++) {
      const off = c * N;
      let M = 0;
      for (let i = 0; i < N; i++) M += v[off + i]!;
      e[c]![t] = (-model.J * bondSumF(model, v, off)) / N;
      m[c]![t] = M / N;
    }
    tick();
  }
  while (done < 10 * unitEvery) {
    done++;
    if (done % unitEvery === 0) onProgress?.(1);
  }
  const thermo = thermoEstimates(task.T, N, e, m);
  // One enumeration of q serves the KL and the RBM's exact observables.
  const lq = task.exactKL && N <= MAX_RBM_ENUMERATION_SPINS ? rbmLogMarginal(rbm) : null;
  const kl = lq ? klFromLogs(exactLogProbabilities(model, task.T), lq) : null;
  const rbmExact = lq ? observablesFromLog(model, task.T, lq, RBM_EXACT_SOURCE) : null;
  const sampleSeconds = (performance.now() - t1) / 1000;
  const p = rbm.params;
  return { T: task.T, thermo, kl, rbmExact, trainSeconds, sampleSeconds, params: { W: Float32Array.from(p.W!), a: Float32Array.from(p.a!), b: Float32Array.from(p.b!) } };
}

/** URL of the compiled RBM worker script. */
export const RBM_WORKER_URL = new URL('../../dist/physics/rbm-worker.js', import.meta.url);

/**
 * Default RBM worker count: 0 (this thread) when the native kernels are active here,
 * since worker threads fall back to the slower TypeScript kernels; else one per core.
 */
export function defaultRbmWorkers(tasks: number): number {
  return getKernels().name === 'native' ? 0 : defaultWorkers(tasks);
}

/** Run RBM tasks on worker threads (or here with `workers` = 0 or no build), outputs in task order. */
export async function runRbmTasks(tasks: readonly RbmTask[], workers: number, onProgress?: (units: number) => void, signal?: AbortSignal): Promise<Array<RbmTaskOutput | undefined>> {
  if (workers <= 0 || !existsSync(fileURLToPath(RBM_WORKER_URL))) {
    const out: Array<RbmTaskOutput | undefined> = [];
    for (const t of tasks) out.push(signal?.aborted ? undefined : await trainAndSampleRbm(t, onProgress));
    return out;
  }
  // On abort, the temperatures being trained finish and no new one starts.
  return runWorkerPool<RbmTask, RbmTaskOutput>(RBM_WORKER_URL, tasks, workers, onProgress, signal ? { signal, mode: 'drain' } : undefined);
}

/** Exact values at (L, T) for h = 0, J = 1: enumeration when L² ≤ 25 (all four), else Kaufman (e and C). */
export function exactObservables(L: number, T: number, dosCache?: Map<number, ReturnType<typeof enumerate>>): ExactObservables {
  if (L * L <= MAX_ENUMERATION_SPINS) {
    let dos = dosCache?.get(L);
    if (!dos) {
      dos = enumerate(isingModel({ L }));
      dosCache?.set(L, dos);
    }
    const x = exactFromDos(dos, T);
    return { energy: x.energy, absMagnetisation: x.absMagnetisation!, specificHeat: x.specificHeat, susceptibility: x.susceptibility!, source: 'enumeration' };
  }
  const k = kaufmanSquare(L, T);
  return { energy: k.energy, specificHeat: k.specificHeat, source: 'Kaufman' };
}

/** Which generative model a comparison row measures. */
export type ComparisonModel = 'rbm' | 'diffusion';

/**
 * One row of the comparison, whatever the model: Monte Carlo, the model's samples and
 * exact values at one temperature. RBM rows ({@link RbmComparisonRow}) add the trained
 * parameters; diffusion rows (src/physics/diffusion-pipeline.ts) are this type as is.
 */
export interface ComparisonRow {
  /** Temperature. */
  readonly T: number;
  /** Monte Carlo observables of the data. */
  readonly mc: McObservables;
  /**
   * Observables of the trained model's samples (the field keeps the name it had when the
   * RBM was the only model, so that older results.json files still read).
   */
  readonly rbm: ThermoEstimates;
  /** Exact values. */
  readonly exact: ExactObservables;
  /** KL(p_Boltzmann ‖ p_RBM) in nats (RBM at L ≤ 4 only; null otherwise). */
  readonly kl: number | null;
  /**
   * The RBM's own observables, exact by enumerating its marginal (L ≤ 4 only): what the
   * Gibbs chains estimate. null (or absent, in a results.json of an older version) otherwise.
   */
  readonly rbmExact: ExactObservables | null;
  /** Seconds spent training and sampling the model. */
  readonly trainSeconds: number;
  /** Seconds spent sampling the model. */
  readonly sampleSeconds: number;
  /** The model measured (absent: 'rbm', as in every row written before there was another). */
  readonly model?: ComparisonModel;
}

/** One row of the RBM comparison. */
export interface RbmComparisonRow extends ComparisonRow {
  /** The trained RBM's parameters (W: L² × nHidden, ±1 units); left out of results.json. */
  readonly params: RbmTaskOutput['params'];
}

/** The model of a set of rows ('rbm' unless they say otherwise). */
export function comparisonModel(rows: readonly ComparisonRow[]): ComparisonModel {
  return rows[0]?.model ?? 'rbm';
}

/** How a model is named in table headers and plot legends. */
export function modelLabel(model: ComparisonModel): string {
  return model === 'diffusion' ? 'diffusion' : 'RBM';
}

/** Options of {@link runRbmPipeline}. */
export interface RbmPipelineOptions {
  /** Linear size (default 8). */
  readonly L?: number;
  /** Temperatures. */
  readonly temps: readonly number[];
  /** Monte Carlo sampler for the training data (default 'wolff'). */
  readonly algorithm?: IsingAlgorithm;
  /** Training configurations per temperature (default 20 000). */
  readonly nTrain?: number;
  /** Sweeps between stored configurations (default 10). */
  readonly sweepsBetween?: number;
  /** Burn-in sweeps per chain (default 1000). */
  readonly burnIn?: number;
  /** Monte Carlo chains per temperature (default 4). */
  readonly chains?: number;
  /** RBM training settings. */
  readonly train?: RbmTrainSettings;
  /** RBM sampling settings. */
  readonly sample?: RbmSampleSettings;
  /** Worker threads (default: all cores; 0 = this thread). */
  readonly workers?: number;
  /**
   * Worker threads for RBM training (default: 0 when the native kernels are loaded —
   * they use OpenBLAS threads and are not loaded inside worker threads — else all cores).
   */
  readonly rbmWorkers?: number;
  /** Exact KL divergence when L² ≤ 16 (default true). */
  readonly exactKL?: boolean;
  /** Called with the Monte Carlo results (all stored configurations) before training, e.g. to save them. */
  readonly onSimulated?: (results: readonly SimulationResult[]) => void;
  /**
   * Aborting stops the run: during Monte Carlo with an InterruptedError; during RBM
   * training after the temperatures in progress, returning the rows finished so far.
   */
  readonly signal?: AbortSignal;
}

/** Progress callback: `stage` is 'mc' (sweeps) or 'rbm' (units of {@link taskUnits}). */
export type PipelineProgress = (stage: 'mc' | 'rbm', amount: number) => void;

/** Training data and Monte Carlo observables for one temperature (from a run or a dataset). */
export interface TrainingSet {
  readonly T: number;
  readonly spins: Int8Array;
  readonly mc: McObservables;
}

/**
 * Generate Monte Carlo training data at every temperature (chains seeded from
 * `rng.split(0)`), then train and sample one RBM per temperature (seeded from
 * `rng.split(1).split(t)`), and assemble the comparison rows.
 */
export async function runRbmPipeline(opts: RbmPipelineOptions, rng: Rng, onProgress?: PipelineProgress): Promise<RbmComparisonRow[]> {
  const L = opts.L ?? 8;
  checkTrainSettings(L, opts.train);
  const sets = await simulateTrainingSets(opts, rng, (s) => onProgress?.('mc', s));
  return runRbmOnTrainingSets(L, sets, opts, rng, onProgress);
}

/** The Monte Carlo part of {@link RbmPipelineOptions}: what {@link simulateTrainingSets} reads. */
export type TrainingDataOptions = Pick<RbmPipelineOptions, 'L' | 'temps' | 'algorithm' | 'nTrain' | 'sweepsBetween' | 'burnIn' | 'chains' | 'workers' | 'onSimulated' | 'signal'>;

/**
 * The Monte Carlo training sets of a pipeline run: `chains` chains per temperature
 * (seeded from `rng.split(0)`), each storing a configuration every `sweepsBetween`
 * sweeps, cut to `nTrain` per temperature. Every model's pipeline draws its data here,
 * so that for the same seed an RBM and a diffusion model see identical configurations.
 * `onProgress` gets sweeps done.
 */
export async function simulateTrainingSets(opts: TrainingDataOptions, rng: Rng, onProgress?: (sweeps: number) => void): Promise<TrainingSet[]> {
  const L = opts.L ?? 8;
  const nTrain = opts.nTrain ?? 20000;
  const chains = opts.chains ?? 4;
  const sweepsBetween = opts.sweepsBetween ?? 10;
  const perChain = Math.ceil(nTrain / chains);
  const workers = opts.workers ?? defaultWorkers(opts.temps.length * chains);
  const mc = await simulateTemperatures(
    opts.temps,
    { L, algorithm: opts.algorithm ?? 'wolff', chains, burnIn: opts.burnIn ?? 1000, sweeps: perChain * sweepsBetween, sampleEvery: sweepsBetween },
    rng.split(0),
    { workers, onProgress: (s) => onProgress?.(s), ...(opts.signal ? { signal: opts.signal } : {}) },
  );
  const trimmed = mc.map((r) => trimSamples(r, nTrain));
  opts.onSimulated?.(trimmed);
  return trimmed.map((r) => ({
    T: r.T,
    spins: r.samples,
    mc: { ...r.thermo, tauAbsMagnetisation: r.thermo.tauAbsMagnetisation.tau },
  }));
}

/**
 * Training sets from a dataset written by `ising sample`: at most n configurations per
 * temperature, evenly spaced through each file — stored chain by chain, so every chain
 * contributes — with the Monte Carlo observables of its manifest.
 */
export function datasetTrainingSets(ds: IsingDataset, n: number): TrainingSet[] {
  return ds.temperatures.map((t, i) => ({ T: t.T, spins: evenlySpacedRows(t.spins, ds.N, n), mc: ds.manifest.temperatures[i]!.observables }));
}

/** Train and evaluate one RBM per training set (e.g. from {@link loadIsingDataset}). */
export async function runRbmOnTrainingSets(L: number, sets: readonly TrainingSet[], opts: Omit<RbmPipelineOptions, 'temps'>, rng: Rng, onProgress?: PipelineProgress): Promise<RbmComparisonRow[]> {
  checkTrainSettings(L, opts.train);
  const tasks: RbmTask[] = sets.map((s, t) => ({
    L,
    T: s.T,
    spins: s.spins,
    train: opts.train ?? {},
    sample: opts.sample ?? {},
    rng: rng.split(1).split(t).getState(),
    exactKL: (opts.exactKL ?? true) && L * L <= 16,
  }));
  const workers = opts.rbmWorkers ?? defaultRbmWorkers(tasks.length);
  const outs = await runRbmTasks(tasks, workers, (u) => onProgress?.('rbm', u), opts.signal);
  const cache = new Map<number, ReturnType<typeof enumerate>>();
  const rows: RbmComparisonRow[] = [];
  sets.forEach((s, t) => {
    const o = outs[t];
    if (o === undefined) return; // not trained: the run was interrupted
    rows.push({ T: s.T, mc: s.mc, rbm: o.thermo, exact: exactObservables(L, s.T, cache), kl: o.kl, rbmExact: o.rbmExact, trainSeconds: o.trainSeconds, sampleSeconds: o.sampleSeconds, params: o.params });
  });
  return rows;
}

/** Relative deviation (RBM − MC)/|MC| in percent. */
export function relativeDeviation(rbm: Estimate, mc: Estimate): number {
  return (100 * (rbm.value - mc.value)) / Math.abs(mc.value);
}

/**
 * Integrated autocorrelation time of a row's RBM chains, or NaN where a row lacks it. A
 * diffusion row has none to report: its samples are independent draws.
 */
function rbmTau(r: ComparisonRow, which: 'tauEnergy' | 'tauAbsMagnetisation'): number {
  if (r.model === 'diffusion') return NaN;
  return (r.rbm as Partial<ThermoEstimates>)[which]?.tau ?? NaN;
}

/**
 * The comparison as Markdown and CSV (per site; errors are one standard error). Where rows
 * carry {@link RbmComparisonRow.rbmExact}, `<obs> RBM exact` follows each `<obs> RBM`: the
 * RBM Gibbs estimate minus it is sampling error, it minus MC (or exact) is model error.
 * τ_e and τ_|m| of the RBM chains (in Gibbs steps) say how far the error bars can be trusted.
 * Rows of another model ({@link ComparisonRow.model}) are named after it in the headers
 * (`e diffusion`, CSV `e_diffusion`); the τ columns, which only Markov chains have, are
 * then left out of the Markdown and terminal tables and empty in the CSV.
 */
export function comparisonTables(rows: readonly ComparisonRow[]): { markdown: string; csv: string; terminal: string } {
  const kind = comparisonModel(rows);
  const M = modelLabel(kind);
  const tag = kind === 'rbm' ? 'rbm' : kind;
  const hasTau = kind === 'rbm';
  const hasKL = rows.some((r) => r.kl !== null);
  const rbmExactOf = (r: ComparisonRow): ExactObservables | null => r.rbmExact ?? null;
  const hasRbmExact = rows.some((r) => rbmExactOf(r) !== null);
  // An RBM value more than 3 combined standard errors from Monte Carlo is marked ‡ (model error, or sampling
  // error the error bars do not cover); exact columns with no value at any T are left out. An RBM value
  // more than 3 of its standard errors from the RBM's own exact value is marked † (sampling error alone).
  const off = (rb: Estimate, mc: Estimate) => Math.abs(rb.value - mc.value) > 3 * Math.hypot(rb.error, mc.error);
  const unmixed = (rb: Estimate, ex: number | undefined) => ex !== undefined && Math.abs(rb.value - ex) > 3 * rb.error;
  const cell = (rb: Estimate, mc: Estimate, ex: number | undefined) => formatEstimate(rb) + (off(rb, mc) ? ' ‡' : '') + (unmixed(rb, ex) ? ' †' : '');
  const pick = (x: ExactObservables | null, k: 'energy' | 'absMagnetisation' | 'specificHeat' | 'susceptibility') => x?.[k];
  const obs = [
    ['e', 'e', 'energy'],
    ['|m|', 'abs_m', 'absMagnetisation'],
    ['C', 'C', 'specificHeat'],
    ['χ', 'chi', 'susceptibility'],
  ] as const;
  const get = (r: ComparisonRow, k: (typeof obs)[number][2]) => [r.mc[k], r.rbm[k], pick(rbmExactOf(r), k), r.exact[k]] as const;
  const withExact = obs.map(([, , k]) => rows.some((r) => r.exact[k] !== undefined));
  const header = [
    'T',
    ...obs.flatMap(([name], i) => [`${name} MC`, `${name} ${M}`, ...(hasRbmExact ? [`${name} RBM exact`] : []), ...(withExact[i] ? [`${name} exact`] : [])]),
    ...(hasTau ? ['τ_e RBM', 'τ_|m| RBM'] : []),
    ...(hasKL ? ['KL (nats)'] : []),
  ];
  const tauCell = (t: number) => (Number.isFinite(t) ? t.toFixed(1) : '—');
  const md = rows.map((r) => [
    r.T.toFixed(3),
    ...obs.flatMap(([, , k], i) => {
      const [mc, rb, rx, ex] = get(r, k);
      return [formatEstimate(mc), cell(rb, mc, rx), ...(hasRbmExact ? [formatNumber(rx, 4)] : []), ...(withExact[i] ? [formatNumber(ex, 4)] : [])];
    }),
    ...(hasTau ? [tauCell(rbmTau(r, 'tauEnergy')), tauCell(rbmTau(r, 'tauAbsMagnetisation'))] : []),
    ...(hasKL ? [r.kl === null ? '—' : r.kl.toExponential(2)] : []),
  ]);
  const marked = rows.some((r) => obs.some(([, , k]) => off(get(r, k)[1], get(r, k)[0])));
  const sampled = rows.some((r) => obs.some(([, , k]) => unmixed(get(r, k)[1], get(r, k)[2])));
  // The CSV keeps one column set whatever the run (empty fields where a value is unknown), so runs at
  // different L concatenate.
  const csvHeader = ['T', ...obs.flatMap(([, o]) => [`${o}_mc`, `${o}_mc_err`, `${o}_${tag}`, `${o}_${tag}_err`, `${o}_rbm_exact`, `${o}_exact`]), `tau_e_${tag}`, `tau_abs_m_${tag}`, 'kl_nats', 'exact_source'];
  const csv = rows.map((r) => {
    const cols: (string | number)[] = [r.T];
    for (const [, , k] of obs) {
      const [mc, rb, rx, ex] = get(r, k);
      cols.push(mc.value, mc.error, rb.value, rb.error, rx ?? '', ex ?? '');
    }
    cols.push(rbmTau(r, 'tauEnergy'), rbmTau(r, 'tauAbsMagnetisation'), r.kl ?? '', r.exact.source);
    return cols;
  });
  const notes = (marked ? `\n‡ ${M} − MC exceeds 3 combined standard errors.` : '') + (sampled ? '\n† RBM Gibbs chains − RBM exact exceeds 3 standard errors: sampling error the error bars miss.' : '');
  // For a terminal: the observables packed into tables of at most TERMINAL_WIDTH columns, in
  // the compact value(error) notation; τ and KL close the last table.
  const groups = obs.map(([name, , k], i) => ({
    header: [`${name} MC`, `${name} ${M}`, ...(hasRbmExact ? [`${name} RBM exact`] : []), ...(withExact[i] ? [`${name} exact`] : [])],
    cells: rows.map((r) => {
      const [mc, rb, rx, ex] = get(r, k);
      const mark = (off(rb, mc) ? ' ‡' : '') + (unmixed(rb, rx) ? ' †' : '');
      return [formatConcise(mc), formatConcise(rb) + mark, ...(hasRbmExact ? [formatNumber(rx, 4)] : []), ...(withExact[i] ? [formatNumber(ex, 4)] : [])];
    }),
  }));
  if (hasTau || hasKL) {
    groups.push({
      header: [...(hasTau ? ['τ_e RBM', 'τ_|m| RBM'] : []), ...(hasKL ? ['KL (nats)'] : [])],
      cells: rows.map((r) => [...(hasTau ? [tauCell(rbmTau(r, 'tauEnergy')), tauCell(rbmTau(r, 'tauAbsMagnetisation'))] : []), ...(hasKL ? [r.kl === null ? '—' : r.kl.toExponential(2)] : [])]),
    });
  }
  const widthOf = (g: (typeof groups)[number]) => g.header.reduce((w, h, j) => w + 2 + Math.max(h.length, ...g.cells.map((c) => c[j]!.length)), 0);
  const tables: (typeof groups)[] = [];
  let used = 5;
  for (const g of groups) {
    if (tables.length === 0 || used + widthOf(g) > TERMINAL_WIDTH) {
      tables.push([]);
      used = 5;
    }
    tables.at(-1)!.push(g);
    used += widthOf(g);
  }
  const terminal = tables.map((t) => textTable(['T', ...t.flatMap((g) => g.header)], rows.map((r, i) => [r.T.toFixed(3), ...t.flatMap((g) => g.cells[i]!)]))).join('\n') + (notes ? notes + '\n' : '');
  return { markdown: markdownTable(header, md) + (notes ? notes + '\n' : ''), csv: csvTable(csvHeader, csv), terminal };
}

/** The widest a terminal table gets (columns); wider content is split into more tables. */
export const TERMINAL_WIDTH = 100;

/** Another model's rows drawn on the same plot (e.g. an `ising rbm` run's next to a diffusion run). */
export interface ComparisonOverlay {
  /** Legend name (default: the rows' model label). */
  readonly name?: string;
  readonly rows: readonly ComparisonRow[];
}

/** A series of {@link comparisonPanels}. */
export interface ComparisonSeries {
  readonly name: string;
  readonly x: number[];
  readonly y: number[];
  readonly yErr?: number[];
  readonly style?: 'points' | 'curve';
}

/**
 * Series for the four-panel plot of e, |m|, C, χ against T: Monte Carlo and the model with
 * their error bars at the sampled temperatures, and the exact values as dense dashed curves
 * (Kaufman's e and C at this L, or enumeration of all four for L ≤ 5; both cheap), with
 * Onsager's infinite-lattice m₀ for context. Units: J = k_B = 1. Each overlay adds its
 * model's points; with overlays the point series are nudged apart along T by ±0.6 % of
 * the range, so that error bars at the same temperature stay distinguishable.
 */
export function comparisonPanels(rows: readonly ComparisonRow[], L: number, overlays: readonly ComparisonOverlay[] = []): { title: string; yLabel: string; series: ComparisonSeries[] }[] {
  const T = rows.map((r) => r.T);
  const allT = [...T, ...overlays.flatMap((o) => o.rows.map((r) => r.T))];
  const lo = Math.min(...allT), hi = Math.max(...allT);
  const grid = Array.from({ length: 121 }, (_, i) => lo + ((hi - lo) * i) / 120);
  const cache = new Map<number, ReturnType<typeof enumerate>>();
  const dense = grid.map((t) => exactObservables(L, t, cache));
  const source = dense[0]?.source ?? rows[0]?.exact.source ?? 'exact';
  const label = modelLabel(comparisonModel(rows));
  // Without overlays nothing moves (the plot of an RBM run is as it always was).
  const nudge = overlays.length === 0 ? 0 : 0.006 * (hi - lo || 1);
  const at = (ts: readonly number[], k: number) => ts.map((t) => t + k * nudge);
  type Key = 'energy' | 'absMagnetisation' | 'specificHeat' | 'susceptibility';
  const panel = (title: string, yLabel: string, key: Key) => {
    const series: ComparisonSeries[] = [
      { name: 'Monte Carlo', x: T, y: rows.map((r) => r.mc[key].value), yErr: rows.map((r) => r.mc[key].error) },
      { name: label, x: at(T, 1), y: rows.map((r) => r.rbm[key].value), yErr: rows.map((r) => r.rbm[key].error) },
    ];
    overlays.forEach((o, j) => {
      series.push({ name: o.name ?? modelLabel(comparisonModel(o.rows)), x: at(o.rows.map((r) => r.T), -(j + 1)), y: o.rows.map((r) => r.rbm[key].value), yErr: o.rows.map((r) => r.rbm[key].error) });
    });
    if (dense.every((d) => d[key] !== undefined)) series.push({ name: `exact (${source}, L=${L})`, x: grid, y: dense.map((d) => d[key]!), style: 'curve' });
    return { title, yLabel, series };
  };
  const panels = [
    panel('energy per site', 'e  [J]', 'energy'),
    panel('|magnetisation| per site', '⟨|m|⟩', 'absMagnetisation'),
    panel('specific heat per site', 'C  [k_B]', 'specificHeat'),
    panel('susceptibility per site', 'χ  [1/J]', 'susceptibility'),
  ];
  panels[1]!.series.push({ name: 'Onsager m₀ (L=∞)', x: grid, y: grid.map((t) => onsagerMagnetisation(t)), style: 'curve' });
  return panels;
}

/** The T_c marker for plots. */
export function criticalLine(): { x: number; label: string } {
  return { x: onsagerTc(), label: 'T_c' };
}

/** Paths written by {@link writeComparison}. */
export interface ComparisonFiles {
  readonly markdown: string;
  readonly csv: string;
  readonly svg: string;
  readonly json: string;
}

/** Options of {@link writeComparison}. */
export interface WriteComparisonOptions {
  /** Title of the table and plot (default: "Ising L=…: Monte Carlo vs <model>[ vs <overlays>] vs exact"). */
  readonly title?: string;
  /** Other models' rows to draw on the plot ({@link comparisonPanels}). */
  readonly overlays?: readonly ComparisonOverlay[];
  /** A paragraph added to comparison.md under the title (e.g. how the model was sampled). */
  readonly note?: string;
}

/**
 * Write the comparison as `comparison.md`, `comparison.csv`, `comparison.svg`
 * (e, |m|, C, χ against T with T_c marked) and `results.json` under `dir`.
 * `opts` may be the title alone (as before there were options).
 */
export async function writeComparison(dir: string, rows: readonly ComparisonRow[], L: number, opts: string | WriteComparisonOptions = {}): Promise<ComparisonFiles> {
  const o: WriteComparisonOptions = typeof opts === 'string' ? { title: opts } : opts;
  const kind = comparisonModel(rows);
  const overlays = o.overlays ?? [];
  const names = [modelLabel(kind), ...overlays.map((x) => x.name ?? modelLabel(comparisonModel(x.rows)))];
  const title = o.title ?? `Ising L=${L}: Monte Carlo vs ${names.join(' vs ')} vs exact`;
  const { markdown, csv } = comparisonTables(rows);
  const files: ComparisonFiles = {
    markdown: join(dir, 'comparison.md'),
    csv: join(dir, 'comparison.csv'),
    svg: join(dir, 'comparison.svg'),
    json: join(dir, 'results.json'),
  };
  const rbmExactNote = rows.some((r) => (r.rbmExact ?? null) !== null)
    ? ' "RBM exact": the trained RBM\'s own values, summed over all 2^N states of its marginal; RBM − RBM exact is sampling error, RBM exact − MC model error.'
    : '';
  const tauNote = kind === 'rbm' ? " τ: integrated autocorrelation times of the RBM's Gibbs chains, in steps." : '';
  writeFileAtomic(
    files.markdown,
    `# ${title}\n\nPer-site observables, ± one standard error (binning/jackknife). χ = βN(⟨m²⟩ − ⟨|m|⟩²).${rbmExactNote}${tauNote}${o.note ? ` ${o.note}` : ''}\n\n${markdown}`,
  );
  writeFileAtomic(files.csv, csv);
  const svg = await facetLinePlotSvg({ title: `${title} (J = k_B = 1)`, xLabel: 'temperature T  [J/k_B]', panels: comparisonPanels(rows, L, overlays), vlines: [criticalLine()] });
  writeSvg(files.svg, svg);
  writeJsonAtomic(files.json, rows.map((r) => {
    const { params: _params, ...rest } = r as ComparisonRow & { params?: unknown };
    return rest;
  }));
  return files;
}
