/**
 * Maximum-likelihood training of two-layer energy models by stochastic
 * gradient ascent. The gradient of log p(v) is the positive phase (data
 * expectation) minus the negative phase (model expectation) of −∂E/∂θ
 * (Hinton 2002); the negative phase comes from
 *  - 'cd':  contrastive divergence, k Gibbs steps started at the batch (Hinton 2002);
 *  - 'pcd': persistent chains advanced k steps per update (Tieleman, ICML 2008);
 *  - 'pt':  persistent parallel-tempering chains (Desjardins et al., AISTATS 2010);
 *  - 'exact': enumeration of a small binary layer (exact-phase.ts): the true gradient of
 *    the minibatch's log-likelihood. The default where it is cheap ({@link exactPhaseIsDefault}).
 * or, instead of the likelihood, its gradient is replaced by that of
 *  - 'pl': the pseudo-likelihood Σ_i log p(v_i | v_{−i}) (pseudo-likelihood.ts; Besag 1975),
 *    exact with no Markov chain and consistent when the data come from a model of the family.
 * Optimisers: SGD with momentum and weight decay, or Adam (Kingma & Ba 2015).
 * Optional centring (Melchior, Fischer & Wiskott, JMLR 2016) and tail averaging of the
 * iterates (Polyak & Juditsky, SIAM J. Control Optim. 30, 838 (1992)).
 */
import { Rng, type RngState } from '../core/rng.js';
import { ShapeError, assertShape } from '../core/errors.js';
import type { EnergyModel, Params } from './model.js';
import { ParallelTempering } from './samplers/tempering.js';
import { ExactPhase, exactPhaseIsDefault } from './exact-phase.js';
import { pseudoLikelihood, type BinaryRbmLike } from './pseudo-likelihood.js';

/** Negative-phase method. */
export type TrainMethod = 'cd' | 'pcd' | 'pt' | 'exact' | 'pl';
/** Learning-rate schedule over the planned training (progress p ∈ [0, 1]). */
export type LrSchedule = 'constant' | 'linear' | 'exponential' | 'cosine';

/** Training hyperparameters (every field has a default). */
export interface TrainOptions {
  /**
   * Negative phase: 'cd', 'pcd', 'pt' or 'exact'. Default: 'exact' for a model whose
   * exact negative phase is cheap ({@link exactPhaseIsDefault}: a binary layer of ≤ 20
   * units, ≤ 2^26 multiply-adds per update), else 'pcd'.
   */
  readonly method?: TrainMethod;
  /** Gibbs steps per update (default 1). */
  readonly k?: number;
  /** Minibatch size (default 100). */
  readonly batchSize?: number;
  /** Base learning rate (default 0.05 with the exact method, else 0.01). */
  readonly learningRate?: number;
  /** Schedule: lr·1 ('constant'), linear, exponential or cosine decay to lr·finalLrFactor (default 'cosine' with the exact method, else 'constant'). */
  readonly schedule?: LrSchedule;
  /** Final learning rate as a fraction of the base for decaying schedules (default 0.01). */
  readonly finalLrFactor?: number;
  /** 'sgd' or 'adam' (default 'adam' with the exact method, else 'sgd'). */
  readonly optimizer?: 'sgd' | 'adam';
  /** SGD momentum (default 0). */
  readonly momentum?: number;
  /** L2 weight decay on W (default 0): the gradient gets −λ·W. */
  readonly weightDecay?: number;
  /** Adam β₁ (default 0.9). */
  readonly adamBeta1?: number;
  /** Adam β₂ (default 0.999). */
  readonly adamBeta2?: number;
  /** Adam ε (default 1e-8). */
  readonly adamEps?: number;
  /** Learning-rate multiplier for log σ² of Gaussian units (default 1). */
  readonly varianceLrScale?: number;
  /** Persistent chains for 'pcd'/'pt' (default: the batch size). */
  readonly chains?: number;
  /** Centred gradient (Melchior et al. 2016); binary visible units only (default false). */
  readonly centering?: boolean;
  /** Moving-average rate of the hidden offsets λ when centring (default 0.01). */
  readonly offsetRate?: number;
  /** Replicas for 'pt' (default 10). */
  readonly ptReplicas?: number;
  /** Smallest β of the 'pt' ladder (default 0). */
  readonly ptBetaMin?: number;
  /** Set visible biases from data marginals at the start of `fit` (default true). */
  readonly initVisibleBias?: boolean;
  /**
   * Polyak–Ruppert tail averaging (Polyak & Juditsky 1992): the fraction f ∈ [0, 1] of the
   * planned training over which the parameters after every update are averaged (default
   * 0: off): the updates that start at planned progress p with 1 − f ≤ p < 1. When `fit`
   * reaches the end of the planned epochs the model's parameters are replaced by that
   * average; updates past the plan are not averaged. SGD on a stochastic gradient leaves the
   * iterates fluctuating around the optimum with a spread ∝ learning rate; their average is
   * far closer to it. Constraints applied by `project()` that are linear or convex (tied or
   * zeroed parameters, box clamps) hold for the average too.
   */
  readonly averaging?: number;
  /** Sites per row the 'pl' gradient sums over, drawn at random (default 0: all of them). */
  readonly plSites?: number;
}

/** Fully resolved {@link TrainOptions}. */
export type ResolvedTrainOptions = Required<Omit<TrainOptions, 'chains'>> & { readonly chains: number };

/** Fill defaults and validate; the default method depends on `model` (without it: 'pcd'). */
export function resolveTrainOptions(o: TrainOptions = {}, model?: EnergyModel): ResolvedTrainOptions {
  const batchSize = o.batchSize ?? 100;
  const method = o.method ?? (model && exactPhaseIsDefault(model) ? 'exact' : 'pcd');
  // With the exact gradient: Adam at 0.05 decaying by a cosine to 0.0005, chosen by the
  // small-problem suite (BENCHMARKS.md "RBM defaults"; without the decay minibatches of 100
  // leave the iterate a KL of 0.05 nats from where full batches reach 0.001); sampled
  // gradients keep plain SGD at a constant 0.01 (Hinton's practical guide, §5).
  const exact = method === 'exact';
  const r: ResolvedTrainOptions = {
    method,
    k: o.k ?? 1,
    batchSize,
    learningRate: o.learningRate ?? (exact ? 0.05 : 0.01),
    schedule: o.schedule ?? (exact ? 'cosine' : 'constant'),
    finalLrFactor: o.finalLrFactor ?? 0.01,
    optimizer: o.optimizer ?? (exact ? 'adam' : 'sgd'),
    momentum: o.momentum ?? 0,
    weightDecay: o.weightDecay ?? 0,
    adamBeta1: o.adamBeta1 ?? 0.9,
    adamBeta2: o.adamBeta2 ?? 0.999,
    adamEps: o.adamEps ?? 1e-8,
    varianceLrScale: o.varianceLrScale ?? 1,
    chains: o.chains ?? batchSize,
    centering: o.centering ?? false,
    offsetRate: o.offsetRate ?? 0.01,
    ptReplicas: o.ptReplicas ?? 10,
    ptBetaMin: o.ptBetaMin ?? 0,
    initVisibleBias: o.initVisibleBias ?? true,
    averaging: o.averaging ?? 0,
    plSites: o.plSites ?? 0,
  };
  const posInt = (name: string, v: number) => assertShape(Number.isInteger(v) && v >= 1, `${name} must be a positive integer, got ${v}`);
  posInt('k', r.k);
  posInt('batchSize', r.batchSize);
  posInt('chains', r.chains);
  posInt('ptReplicas', r.ptReplicas);
  assertShape(r.learningRate > 0 && Number.isFinite(r.learningRate), `learningRate must be positive, got ${r.learningRate}`);
  assertShape(r.momentum >= 0 && r.momentum < 1, `momentum must lie in [0, 1), got ${r.momentum}`);
  assertShape(r.weightDecay >= 0, `weightDecay must be ≥ 0, got ${r.weightDecay}`);
  assertShape(r.averaging >= 0 && r.averaging <= 1, `averaging must lie in [0, 1], got ${r.averaging}`);
  assertShape(['cd', 'pcd', 'pt', 'exact', 'pl'].includes(r.method), `method must be cd, pcd, pt, exact or pl, got '${r.method}'`);
  assertShape(r.plSites === 0 || (Number.isInteger(r.plSites) && r.plSites >= 1), `plSites must be 0 (all) or a positive integer, got ${r.plSites}`);
  return r;
}

/** The learning-rate factor at progress p ∈ [0, 1]. */
export function scheduleFactor(schedule: LrSchedule, p: number, final: number): number {
  const q = Math.min(1, Math.max(0, p));
  switch (schedule) {
    case 'linear':
      return 1 - (1 - final) * q;
    case 'exponential':
      return final ** q;
    case 'cosine':
      return final + ((1 - final) * (1 + Math.cos(Math.PI * q))) / 2;
    default:
      return 1;
  }
}

/** Summary passed to the per-epoch callback. */
export interface EpochInfo {
  /** Epochs completed so far (1-based for the one just finished). */
  readonly epoch: number;
  /** Parameter updates so far. */
  readonly step: number;
  /** Wall-clock seconds of this epoch. */
  readonly seconds: number;
  /** Current learning rate. */
  readonly learningRate: number;
  /** Mean squared reconstruction error of the epoch's batches (one mean-field pass per batch). */
  readonly reconstruction: number;
  /** PT swap rates, when training with 'pt'. */
  readonly swapRates?: readonly number[];
}

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  /** Epochs to run (default 10). */
  readonly epochs?: number;
  /** Total epochs the learning-rate schedule is planned over (default: epochs done + `epochs`). */
  readonly plannedEpochs?: number;
  /** Called after every epoch; return false to stop early. */
  readonly onEpoch?: (info: EpochInfo) => void | boolean | Promise<void | boolean>;
  /** Stop at the next batch boundary when aborted (e.g. on SIGINT). */
  readonly signal?: AbortSignal;
}

/** Options of {@link Trainer.trainSlice}. */
export interface SliceOptions {
  /** Batches to train at most in this call (default: to the end of the epoch). */
  readonly maxBatches?: number;
  /** Total epochs the schedule and the averaging window are planned over (default: kept from the last call). */
  readonly plannedEpochs?: number;
  /** After each batch: batches done in the epoch and the batch's reconstruction error. */
  readonly onBatch?: (batch: number, reconstruction: number) => void;
  /** Stop after the current batch when aborted (the epoch stays unfinished and resumable). */
  readonly signal?: AbortSignal;
}

/** What {@link Trainer.fit} did. */
export interface FitResult {
  /** Epochs completed in this call. */
  readonly epochs: number;
  /** True when stopped by the signal or the callback. */
  readonly stopped: boolean;
}

/** Serialisable trainer state (for checkpoints); tensors are kept apart from the JSON part. */
export interface TrainerState {
  /** JSON-serialisable part. */
  readonly json: {
    step: number;
    epoch: number;
    rng: RngState;
    options: ResolvedTrainOptions;
    ptBetas: number[] | null;
    ptParity: number;
    avgCount?: number;
    avgPlanEnd?: number | null;
    /** Planned total epochs of the schedule. */
    planEnd?: number | null;
    /** Mid-epoch position: batches done, the generator state before the epoch's shuffle, the running reconstruction sum. */
    batchInEpoch?: number;
    epochStart?: RngState | null;
    recSum?: number;
  };
  /** Optimiser moments, persistent chains, centring offsets and the running parameter average, with flat names. */
  readonly tensors: Record<string, Float32Array>;
}

/**
 * Trains an {@link EnergyModel} in place: `fit(data)` for whole epochs,
 * `partialFit(batch)` for one update.
 */
export class Trainer {
  /** Resolved hyperparameters. */
  readonly options: ResolvedTrainOptions;
  /** Parameter updates done. */
  step = 0;
  /** Epochs completed by `fit`. */
  epoch = 0;
  /** Planned training progress in [0, 1] used by the schedule (set by `fit`). */
  progress = 0;
  private readonly rng: Rng;
  private readonly grads: Params = {};
  private readonly mom1: Params = {};
  private readonly mom2: Params = {};
  private chains: Float32Array | null = null;
  private pt: ParallelTempering | null = null;
  private readonly exact: ExactPhase | null = null;
  /** Centring offsets μ (visible) and λ (hidden). */
  private mu: Float32Array | null = null;
  private lambda: Float32Array | null = null;
  private buf: Record<string, Float32Array> = {};
  private lastReconstruction = 0;
  /** The minibatch pseudo-likelihood of the last 'pl' update (nats per row; NaN for other methods). */
  lastPseudoLikelihood = NaN;
  /** Running mean of the parameters over the averaging window, and how many updates it holds. */
  private readonly avg: Params = {};
  private avgCount = 0;
  /** The planned end (epochs) of the window the running mean belongs to; null outside `fit`. */
  private avgPlanEnd: number | null = null;
  /** The planned end of the current `fit` call. */
  private planEnd: number | null = null;
  /** The unfinished epoch: its permutation, the generator state before it, batches done, running reconstruction sum. */
  private perm: Uint32Array | null = null;
  private epochStart: RngState | null = null;
  private batchInEpoch = 0;
  private recSum = 0;
  private epochSeconds = 0;
  private batchBuf = new Float32Array(0);

  /**
   * @param model - trained in place
   * @param opts - hyperparameters
   * @param rng - the trainer's random stream (shuffling and sampling)
   */
  constructor(
    readonly model: EnergyModel,
    opts: TrainOptions = {},
    rng: Rng = new Rng(0),
  ) {
    this.options = resolveTrainOptions(opts, model);
    this.rng = rng;
    if (this.options.method === 'exact') this.exact = new ExactPhase(model);
    if (this.options.method === 'pl') {
      assertShape(model.visibleUnits !== 'gaussian' && model.hiddenUnits !== 'gaussian', "method 'pl' needs binary visible and hidden units");
      assertShape(!this.options.centering, "method 'pl' does not combine with centring");
    }
    if (this.options.centering) {
      if (model.visibleUnits === 'gaussian') throw new ShapeError('centring is implemented for binary visible units only');
      for (const p of ['W', 'a', 'b']) assertShape(model.trainable.includes(p), `centring needs a trainable '${p}'`);
    }
    for (const p of model.trainable) {
      const n = model.params[p]!.length;
      this.grads[p] = new Float32Array(n);
      this.mom1[p] = new Float32Array(n);
      if (this.options.optimizer === 'adam') this.mom2[p] = new Float32Array(n);
      if (this.options.averaging > 0) this.avg[p] = new Float32Array(n);
    }
  }

  /** Current learning rate. */
  learningRate(): number {
    const o = this.options;
    return o.learningRate * scheduleFactor(o.schedule, this.progress, o.finalLrFactor);
  }

  private buffer(name: string, n: number): Float32Array {
    let b = this.buf[name];
    if (!b || b.length !== n) this.buf[name] = b = new Float32Array(n);
    return b;
  }

  /** Set the centring offsets: μ from data means; λ starts at the hidden mean of a random model (½, or 0 for spins). */
  private initOffsets(data: Float32Array): void {
    const m = this.model;
    const rows = data.length / m.nVisible;
    this.mu = new Float32Array(m.nVisible);
    for (let r = 0; r < rows; r++) for (let i = 0; i < m.nVisible; i++) this.mu[i]! += data[r * m.nVisible + i]! / rows;
    this.lambda ??= new Float32Array(m.nHidden).fill(m.hiddenUnits === 'pm1' ? 0 : 0.5);
  }

  private negativePhase(batch: Float32Array, rows: number, hPos: Float32Array): Float32Array {
    const m = this.model;
    const o = this.options;
    const nv = m.nVisible;
    const nh = m.nHidden;
    if (o.method === 'pt') {
      if (!this.pt) this.pt = new ParallelTempering(m, o.chains, this.rng, {
          replicas: o.ptReplicas,
          betaMin: o.ptBetaMin,
          gibbsSteps: o.k,
          // Gaussian visibles: temper towards N(0, σ²) (standardised data) so that β = 0 is proper.
          baseBias: m.visibleUnits === 'gaussian' ? new Float32Array(nv) : null,
        }, this.seedChains(batch, rows));
      this.pt.sweep(this.rng);
      return this.pt.replicas[0]!;
    }
    let v: Float32Array;
    if (o.method === 'cd') {
      v = this.buffer('cdv', rows * nv);
      v.set(batch);
    } else {
      if (!this.chains) this.chains = this.seedChains(batch, rows);
      v = this.chains;
    }
    const n = v.length / nv;
    const h = this.buffer('nh', n * nh);
    const hm = this.buffer('nhm', n * nh);
    const vm = this.buffer('nvm', n * nv);
    for (let s = 0; s < o.k; s++) {
      // CD's first half-step starts at the batch, whose E[h | v] the positive phase already holds.
      const reuse = s === 0 && o.method === 'cd' && m.sampleHiddensFromMean?.(hPos, this.rng, h) === true;
      if (!reuse) m.sampleHiddens(v, this.rng, { out: h, mean: hm });
      m.sampleVisibles(h, this.rng, { out: v, mean: vm });
    }
    return v;
  }

  /** Persistent chains start at (cycled) rows of the first batch. */
  private seedChains(batch: Float32Array, rows: number): Float32Array {
    const nv = this.model.nVisible;
    const c = new Float32Array(this.options.chains * nv);
    for (let i = 0; i < this.options.chains; i++) c.set(batch.subarray((i % rows) * nv, ((i % rows) + 1) * nv), i * nv);
    return c;
  }

  /** One gradient update from a minibatch (rows × nVisible); returns its reconstruction error. */
  partialFit(batch: Float32Array): number {
    this.gradient(batch);
    this.apply();
    this.model.project?.();
    this.step++;
    if (this.options.averaging > 0) {
      // In the window: 1 − f ≤ progress < 1 (with a rounding margin: 1 − 0.7 is 0.30000000000000004).
      // Outside it the running mean restarts, so a plan that moved (a resumed run asked for more
      // epochs) never mixes iterates from an old window into the new one.
      const inWindow = this.progress + this.options.averaging >= 1 - 1e-9 && this.progress < 1;
      if (inWindow) this.accumulateAverage();
      else this.avgCount = 0;
    }
    return this.lastReconstruction;
  }

  /**
   * Add the current parameters to the running mean. The incremental float32 form restores
   * exactly from {@link getState} at an epoch boundary (a run stopped mid-epoch redoes that
   * epoch, and its first updates are then averaged twice, as every other state replays them).
   */
  private accumulateAverage(): void {
    // A mean begun under another plan (a resumed run planned for more epochs) restarts.
    if (this.avgPlanEnd !== this.planEnd) this.avgCount = 0;
    this.avgPlanEnd = this.planEnd;
    const n = ++this.avgCount;
    for (const p of this.model.trainable) {
      const a = this.avg[p]!;
      const th = this.model.params[p]!;
      if (n === 1) a.set(th);
      else for (let i = 0; i < a.length; i++) a[i]! += (th[i]! - a[i]!) / n;
    }
  }

  /** Updates in the running parameter average so far (0 when averaging is off or has not started). */
  averagedUpdates(): number {
    return this.avgCount;
  }

  /**
   * Replace the model's parameters by the running average of the iterates and restart
   * the average; returns false (and changes nothing) when no update has been averaged.
   * `fit` calls this when it reaches the end of the planned epochs.
   */
  applyAverage(): boolean {
    if (this.avgCount === 0) return false;
    for (const p of this.model.trainable) this.model.params[p]!.set(this.avg[p]!);
    this.model.project?.();
    this.avgCount = 0;
    return true;
  }

  /**
   * The ascent direction for a minibatch without applying it: positive minus
   * negative phase (advancing the persistent chains), centred and with weight
   * decay when configured. The returned arrays are reused by the next call.
   */
  gradient(batch: Float32Array): Readonly<Params> {
    const m = this.model;
    const o = this.options;
    const nv = m.nVisible;
    const nh = m.nHidden;
    const rows = batch.length / nv;
    if (!Number.isInteger(rows) || rows < 1) throw new ShapeError(`batch has ${batch.length} values, not whole rows of the model's ${nv} visible units (rows × ${nv})`);
    if (o.centering && !this.mu) this.initOffsets(batch);
    for (const p of m.trainable) this.grads[p]!.fill(0);
    // Mean-field hiddens of the batch: the positive phase (Rao–Blackwellised) and the
    // reconstruction monitor's half-step, which every method reports (the divergence guard reads it).
    const hPos = this.buffer('hpos', rows * nh);
    m.meanHiddens(batch, { out: hPos });
    const rec = this.buffer('rec', rows * nv);
    m.meanVisibles(hPos, { out: rec });
    let err = 0;
    for (let i = 0; i < rec.length; i++) err += (batch[i]! - rec[i]!) ** 2;
    this.lastReconstruction = err / rows;
    if (o.method === 'pl') {
      // The pseudo-likelihood's own exact gradient replaces both phases.
      const sites = o.plSites > 0 ? Math.min(o.plSites, nv) : nv;
      const mask = (m as { weightMask?: () => Uint8Array | null }).weightMask?.() ?? null;
      this.lastPseudoLikelihood = pseudoLikelihood(m as unknown as BinaryRbmLike, batch, { grads: this.grads, sites, rng: this.rng, mask });
    } else {
      m.accumulateStatistics(batch, hPos, 1 / rows, this.grads);
      // Negative phase.
      if (this.exact) this.exact.accumulate(-1, this.grads);
      else {
        const vNeg = this.negativePhase(batch, rows, hPos);
        const nNeg = vNeg.length / nv;
        const hNeg = this.buffer('hneg', nNeg * nh);
        m.meanHiddens(vNeg, { out: hNeg });
        m.accumulateStatistics(vNeg, hNeg, -1 / nNeg, this.grads);
      }
    }
    if (o.centering) this.centre(hPos, rows);
    if (o.weightDecay > 0) {
      const g = this.grads.W;
      const W = m.params.W;
      if (g && W) for (let i = 0; i < g.length; i++) g[i]! -= o.weightDecay * W[i]!;
    }
    return this.grads;
  }

  /**
   * Centred gradient in the stored (uncentred) parametrisation (Melchior et al.
   * 2016, Alg. 1): ∇W_c = ∇W − μ∇bᵀ − ∇a λᵀ, then ∇a ← ∇a − ∇W_c λ and
   * ∇b ← ∇b − ∇W_cᵀ μ; λ tracks the data hidden means.
   */
  private centre(hPos: Float32Array, rows: number): void {
    const nv = this.model.nVisible;
    const nh = this.model.nHidden;
    const gW = this.grads.W!;
    const ga = this.grads.a!;
    const gb = this.grads.b!;
    const mu = this.mu!;
    const lam = this.lambda!;
    for (let i = 0; i < nv; i++) for (let j = 0; j < nh; j++) gW[i * nh + j]! -= mu[i]! * gb[j]! + ga[i]! * lam[j]!;
    for (let i = 0; i < nv; i++) {
      let s = 0;
      for (let j = 0; j < nh; j++) s += gW[i * nh + j]! * lam[j]!;
      ga[i]! -= s;
    }
    for (let j = 0; j < nh; j++) {
      let s = 0;
      for (let i = 0; i < nv; i++) s += gW[i * nh + j]! * mu[i]!;
      gb[j]! -= s;
    }
    const nu = this.options.offsetRate;
    for (let j = 0; j < nh; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += hPos[r * nh + j]!;
      lam[j] = (1 - nu) * lam[j]! + (nu * s) / rows;
    }
  }

  private apply(): void {
    const o = this.options;
    const lr = this.learningRate();
    const t = this.step + 1;
    for (const p of this.model.trainable) {
      const g = this.grads[p]!;
      const th = this.model.params[p]!;
      const rate = p === 'logSigma2' ? lr * o.varianceLrScale : lr;
      const m1 = this.mom1[p]!;
      if (o.optimizer === 'adam') {
        const m2 = this.mom2[p]!;
        const c1 = 1 - o.adamBeta1 ** t;
        const c2 = 1 - o.adamBeta2 ** t;
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!;
          m1[i] = o.adamBeta1 * m1[i]! + (1 - o.adamBeta1) * gi;
          m2[i] = o.adamBeta2 * m2[i]! + (1 - o.adamBeta2) * gi * gi;
          th[i]! += (rate * (m1[i]! / c1)) / (Math.sqrt(m2[i]! / c2) + o.adamEps);
        }
      } else if (o.momentum > 0) {
        for (let i = 0; i < g.length; i++) {
          m1[i] = o.momentum * m1[i]! + rate * g[i]!;
          th[i]! += m1[i]!;
        }
      } else {
        for (let i = 0; i < g.length; i++) th[i]! += rate * g[i]!;
      }
    }
  }

  /** Swap rates of the PT chains (empty unless training with 'pt'). */
  swapRates(): number[] {
    return this.pt ? Array.from(this.pt.swapRates()) : [];
  }

  /** Persistent negative-phase states (β = 1 replica for PT), or null before the first update / for CD. */
  negativeSamples(): Float32Array | null {
    return this.pt ? Float32Array.from(this.pt.replicas[0]!) : this.chains ? Float32Array.from(this.chains) : null;
  }

  /**
   * Train at most `maxBatches` batches of the current epoch over `data` (rows ×
   * nVisible, shuffled into minibatches), continuing an epoch begun by an earlier call
   * or restored from a checkpoint. Returns the epoch's summary when it finishes, else
   * null. The permutation is drawn from the trainer's stream at the epoch's start; a
   * trainer restored mid-epoch redraws it from the saved epoch-start state, so a run
   * split at any batch gives the same numbers as a straight one.
   */
  trainSlice(data: Float32Array, opts: SliceOptions = {}): EpochInfo | null {
    const m = this.model;
    const o = this.options;
    const nv = m.nVisible;
    const rows = data.length / nv;
    if (!Number.isInteger(rows) || rows < 1) throw new ShapeError(`training data has ${data.length} values, not whole rows of the model's ${nv} visible units (rows × ${nv})`);
    if (this.step === 0 && this.batchInEpoch === 0 && o.initVisibleBias) m.initVisibleBiasFromData(data);
    if (o.centering && !this.mu) this.initOffsets(data);
    const bs = Math.min(o.batchSize, rows);
    const nBatches = Math.ceil(rows / bs);
    const endEpoch = opts.plannedEpochs ?? this.planEnd ?? this.epoch + 1;
    this.planEnd = endEpoch;
    if (this.perm === null || this.perm.length !== rows) {
      if (this.batchInEpoch === 0) {
        this.epochStart = this.rng.getState();
        this.perm = this.rng.permutation(rows);
      } else {
        assertShape(this.epochStart !== null, 'trainer state is mid-epoch but has no epoch-start generator state');
        this.perm = Rng.fromState(this.epochStart).permutation(rows);
      }
      this.epochSeconds = 0;
    }
    const t0 = performance.now();
    const perm = this.perm;
    if (this.batchBuf.length !== bs * nv) this.batchBuf = new Float32Array(bs * nv);
    const limit = Math.min(nBatches, this.batchInEpoch + (opts.maxBatches ?? Infinity));
    while (this.batchInEpoch < limit) {
      const bi = this.batchInEpoch;
      const lo = bi * bs;
      const n = Math.min(bs, rows - lo);
      const x = n === bs ? this.batchBuf : this.batchBuf.subarray(0, n * nv);
      for (let r = 0; r < n; r++) x.set(data.subarray(perm[lo + r]! * nv, (perm[lo + r]! + 1) * nv), r * nv);
      this.progress = (this.epoch + bi / nBatches) / Math.max(1, endEpoch);
      const rec = this.partialFit(x);
      this.recSum += rec * n;
      this.batchInEpoch++;
      opts.onBatch?.(this.batchInEpoch, rec);
      if (opts.signal?.aborted) break;
    }
    this.epochSeconds += (performance.now() - t0) / 1000;
    if (this.batchInEpoch < nBatches) return null;
    this.epoch++;
    const info: EpochInfo = {
      epoch: this.epoch,
      step: this.step,
      seconds: this.epochSeconds,
      learningRate: this.learningRate(),
      reconstruction: this.recSum / rows,
      ...(this.pt ? { swapRates: this.swapRates() } : {}),
    };
    this.batchInEpoch = 0;
    this.recSum = 0;
    this.perm = null;
    this.epochStart = null;
    if (this.epoch >= endEpoch) this.applyAverage();
    return info;
  }

  /** Batches done in the current (unfinished) epoch. */
  get batchesDone(): number {
    return this.batchInEpoch;
  }

  /**
   * Train for `epochs` passes over `data` (rows × nVisible) in shuffled
   * minibatches. Yields to the event loop between batches so a SIGINT handler
   * can abort through `signal`.
   */
  async fit(data: Float32Array, opts: FitOptions = {}): Promise<FitResult> {
    const epochs = opts.epochs ?? 10;
    const endEpoch = opts.plannedEpochs ?? this.epoch + epochs;
    let lastYield = performance.now();
    for (let e = 0; e < epochs; e++) {
      let info: EpochInfo | null = null;
      while (info === null) {
        info = this.trainSlice(data, { maxBatches: 1, plannedEpochs: endEpoch });
        if (performance.now() - lastYield > 50) {
          await new Promise((res) => setImmediate(res));
          lastYield = performance.now();
        }
        if (info === null && opts.signal?.aborted) return { epochs: e, stopped: true };
      }
      const ret = opts.onEpoch ? await opts.onEpoch(info) : undefined;
      if (ret === false || opts.signal?.aborted) return { epochs: e + 1, stopped: true };
    }
    return { epochs, stopped: false };
  }

  /** Snapshot for a checkpoint. */
  getState(): TrainerState {
    const tensors: Record<string, Float32Array> = {};
    for (const p of Object.keys(this.mom1)) tensors[`opt.m1.${p}`] = this.mom1[p]!;
    for (const p of Object.keys(this.mom2)) tensors[`opt.m2.${p}`] = this.mom2[p]!;
    if (this.chains) tensors['chains'] = this.chains;
    if (this.pt) this.pt.replicas.forEach((r, k) => (tensors[`pt.replica${k}`] = r));
    if (this.mu) tensors['centering.mu'] = this.mu;
    if (this.lambda) tensors['centering.lambda'] = this.lambda;
    if (this.avgCount > 0) for (const p of Object.keys(this.avg)) tensors[`avg.${p}`] = this.avg[p]!;
    return {
      json: { step: this.step, epoch: this.epoch, rng: this.rng.getState(), options: this.options, ptBetas: this.pt ? Array.from(this.pt.betas) : null, ptParity: this.pt ? this.pt.parity : 0, avgCount: this.avgCount, avgPlanEnd: this.avgPlanEnd, planEnd: this.planEnd, batchInEpoch: this.batchInEpoch, epochStart: this.epochStart, recSum: this.recSum },
      tensors,
    };
  }

  /** Restore a snapshot from {@link Trainer.getState} (the options come from the constructor). */
  setState(state: TrainerState): void {
    const { json, tensors } = state;
    this.step = json.step;
    this.epoch = json.epoch;
    this.rng.setState(json.rng);
    this.planEnd = json.planEnd ?? null;
    this.batchInEpoch = json.batchInEpoch ?? 0;
    this.epochStart = json.epochStart ?? null;
    this.recSum = json.recSum ?? 0;
    this.perm = null;
    assertShape(this.batchInEpoch === 0 || this.epochStart !== null, 'trainer state is mid-epoch but has no epoch-start generator state');
    const copy = (name: string, into: Float32Array) => {
      const t = tensors[name];
      if (t) {
        assertShape(t.length === into.length, `trainer state '${name}' has ${t.length} entries, expected ${into.length}`);
        into.set(t);
      }
    };
    for (const p of Object.keys(this.mom1)) copy(`opt.m1.${p}`, this.mom1[p]!);
    for (const p of Object.keys(this.mom2)) copy(`opt.m2.${p}`, this.mom2[p]!);
    this.avgCount = 0;
    this.avgPlanEnd = null;
    for (const p of Object.keys(this.avg)) {
      this.avg[p]!.fill(0);
      copy(`avg.${p}`, this.avg[p]!);
    }
    if ((json.avgCount ?? 0) > 0 && this.options.averaging > 0) {
      assertShape(Object.keys(this.avg).every((p) => tensors[`avg.${p}`]), `trainer state has ${json.avgCount} averaged updates but no 'avg.*' tensors`);
      this.avgCount = json.avgCount!;
      this.avgPlanEnd = json.avgPlanEnd ?? null;
    }
    if (tensors['chains']) this.chains = Float32Array.from(tensors['chains']);
    if (tensors['centering.mu']) this.mu = Float32Array.from(tensors['centering.mu']);
    if (tensors['centering.lambda']) this.lambda = Float32Array.from(tensors['centering.lambda']);
    if (json.ptBetas && tensors['pt.replica0']) {
      this.pt = new ParallelTempering(this.model, tensors['pt.replica0'].length / this.model.nVisible, this.rng, { betas: json.ptBetas, gibbsSteps: this.options.k }, tensors['pt.replica0']);
      json.ptBetas.forEach((_, k) => {
        const t = tensors[`pt.replica${k}`];
        if (t) this.pt!.replicas[k]!.set(t);
      });
      this.pt.parity = json.ptParity ?? 0;
    }
  }
}
