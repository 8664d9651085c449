/**
 * Partition functions of two-layer energy models: exact enumeration of the
 * smaller binary layer, annealed importance sampling (AIS) from a base-rate
 * model, and reverse AIS for the other side of the bracket. Generic over
 * {@link EnergyModel}.
 */
import type { Rng } from '../core/rng.js';
import { InterruptedError, ShapeError, assertShape } from '../core/errors.js';
import { unitStates, type EnergyModel } from './model.js';

/** Streaming log-sum-exp accumulator in float64. */
export class LogSumExp {
  private max = -Infinity;
  private sum = 0;
  /** Add exp(x). */
  add(x: number): void {
    if (x === -Infinity) return;
    if (x <= this.max) this.sum += Math.exp(x - this.max);
    else {
      this.sum = this.sum * Math.exp(this.max - x) + 1;
      this.max = x;
    }
  }
  /** log Σ exp(x) of everything added so far (−∞ if nothing). */
  value(): number {
    return this.max === -Infinity ? -Infinity : this.max + Math.log(this.sum);
  }
}

/** log((1/n) Σ exp(x_i)). */
export function logMeanExp(x: ArrayLike<number>): number {
  const acc = new LogSumExp();
  for (let i = 0; i < x.length; i++) acc.add(x[i]!);
  return acc.value() - Math.log(x.length);
}

/** Which layer exact enumeration sums over. */
export type EnumeratedLayer = 'visible' | 'hidden';

/** Options of {@link exactLogZ}. */
export interface ExactOptions {
  /** Largest layer size that may be enumerated (default 24: 16.7 M states). */
  readonly maxUnits?: number;
  /** Configurations evaluated per batch (default 4096; bounds memory). */
  readonly chunk?: number;
  /** Force the enumerated layer instead of the smaller binary one. */
  readonly layer?: EnumeratedLayer;
}

/** Fill `out` (count × n, float64) with binary configurations start … start+count−1 (bit j = unit j). */
export function fillConfigurations(start: number, count: number, n: number, states: readonly [number, number], out: Float64Array): void {
  for (let c = 0; c < count; c++) {
    const idx = start + c;
    for (let j = 0; j < n; j++) out[c * n + j] = Math.floor(idx / 2 ** j) % 2 === 1 ? states[1] : states[0];
  }
}

/** The layer exact enumeration would use, or null if neither fits. */
export function enumerableLayer(model: EnergyModel, maxUnits: number = 24): EnumeratedLayer | null {
  const vOk = unitStates(model.visibleUnits) !== null && model.nVisible <= maxUnits;
  const hOk = unitStates(model.hiddenUnits) !== null && model.nHidden <= maxUnits;
  if (vOk && hOk) return model.nHidden <= model.nVisible ? 'hidden' : 'visible';
  return hOk ? 'hidden' : vOk ? 'visible' : null;
}

/**
 * Exact log Z: the larger layer is summed out analytically (through the free
 * energy) and the smaller binary layer is enumerated, with a streaming
 * log-sum-exp in float64 over chunks of configurations:
 *   log Z = log Σ_h exp(−G(h))  or  log Σ_v exp(−F(v)).
 */
export function exactLogZ(model: EnergyModel, opts: ExactOptions = {}): number {
  const maxUnits = opts.maxUnits ?? 24;
  const layer = opts.layer ?? enumerableLayer(model, maxUnits);
  if (!layer) throw new ShapeError(`exact log Z needs a binary layer with at most ${maxUnits} units (have ${model.nVisible} visible, ${model.nHidden} hidden)`);
  const n = layer === 'hidden' ? model.nHidden : model.nVisible;
  const states = unitStates(layer === 'hidden' ? model.hiddenUnits : model.visibleUnits);
  assertShape(states !== null, `the ${layer} layer is not binary`);
  assertShape(n <= Math.max(maxUnits, 30), `cannot enumerate ${n} ${layer} units`);
  const total = 2 ** n;
  const chunk = Math.min(opts.chunk ?? 4096, total);
  const buf = new Float64Array(chunk * n);
  const acc = new LogSumExp();
  for (let start = 0; start < total; start += chunk) {
    const count = Math.min(chunk, total - start);
    const x = count === chunk ? buf : buf.subarray(0, count * n);
    fillConfigurations(start, count, n, states, x);
    const f = layer === 'hidden' ? model.freeEnergyHiddens(x) : model.freeEnergy(x);
    for (let c = 0; c < count; c++) acc.add(-f[c]!);
  }
  return acc.value();
}

/** Brute-force log Z = log Σ_v Σ_h exp(−E(v, h)) over both binary layers (for tests; ≤ ~20 units in all). */
export function bruteForceLogZ(model: EnergyModel): number {
  const sv = unitStates(model.visibleUnits);
  const sh = unitStates(model.hiddenUnits);
  assertShape(sv !== null && sh !== null, 'brute force needs binary layers');
  const nv = model.nVisible;
  const nh = model.nHidden;
  assertShape(nv + nh <= 24, `brute force over ${nv + nh} units is too large`);
  const H = new Float64Array(2 ** nh * nh);
  fillConfigurations(0, 2 ** nh, nh, sh, H);
  const v = new Float64Array(nv);
  const V = new Float64Array(2 ** nh * nv);
  const acc = new LogSumExp();
  for (let iv = 0; iv < 2 ** nv; iv++) {
    fillConfigurations(iv, 1, nv, sv, v);
    for (let c = 0; c < 2 ** nh; c++) V.set(v, c * nv);
    const e = model.energy(V, H);
    for (let c = 0; c < e.length; c++) acc.add(-e[c]!);
  }
  return acc.value();
}

/**
 * The exact distribution over all 2^nVisible visible states (state index: bit i
 * = visible unit i): log p(v) = −F(v) − log Z, in float64.
 */
export function exactVisibleLogProbs(model: EnergyModel, logZ: number = exactLogZ(model)): Float64Array {
  const states = unitStates(model.visibleUnits);
  assertShape(states !== null && model.nVisible <= 24, 'exact visible distribution needs at most 24 binary visible units');
  const nv = model.nVisible;
  const total = 2 ** nv;
  const out = new Float64Array(total);
  const chunk = Math.min(4096, total);
  const buf = new Float64Array(chunk * nv);
  for (let start = 0; start < total; start += chunk) {
    const count = Math.min(chunk, total - start);
    const x = buf.subarray(0, count * nv);
    fillConfigurations(start, count, nv, states, x);
    const f = model.freeEnergy(x);
    for (let c = 0; c < count; c++) out[start + c] = -f[c]! - logZ;
  }
  return out;
}

/** Index of each row of a binary visible batch in the enumeration order of {@link exactVisibleLogProbs}. */
export function visibleStateIndex(model: EnergyModel, v: ArrayLike<number>): Uint32Array {
  const states = unitStates(model.visibleUnits);
  assertShape(states !== null && model.nVisible <= 31, 'state index needs at most 31 binary visible units');
  const nv = model.nVisible;
  const rows = v.length / nv;
  const out = new Uint32Array(rows);
  const mid = (states[0] + states[1]) / 2;
  for (let r = 0; r < rows; r++) {
    let idx = 0;
    for (let i = 0; i < nv; i++) if (v[r * nv + i]! > mid) idx += 2 ** i;
    out[r] = idx;
  }
  return out;
}

/**
 * Exact independent samples of the visible units: the smaller binary layer is
 * enumerated (p(h) ∝ exp(−G(h)) or p(v) ∝ exp(−F(v))), drawn by inverse CDF,
 * and the other layer drawn from its conditional. Returns count × nVisible.
 * Cost: one pass over 2^n states (n ≤ maxUnits) plus O(count·log 2^n).
 */
export function exactSamples(model: EnergyModel, count: number, rng: Rng, opts: ExactOptions = {}): Float32Array {
  const layer = opts.layer ?? enumerableLayer(model, opts.maxUnits ?? 24);
  if (!layer) throw new ShapeError('exact sampling needs a binary layer with at most 24 units');
  const n = layer === 'hidden' ? model.nHidden : model.nVisible;
  const states = unitStates(layer === 'hidden' ? model.hiddenUnits : model.visibleUnits)!;
  const total = 2 ** n;
  const chunk = Math.min(opts.chunk ?? 4096, total);
  const logp = new Float64Array(total);
  const buf = new Float64Array(chunk * n);
  for (let start = 0; start < total; start += chunk) {
    const c = Math.min(chunk, total - start);
    const x = buf.subarray(0, c * n);
    fillConfigurations(start, c, n, states, x);
    const f = layer === 'hidden' ? model.freeEnergyHiddens(x) : model.freeEnergy(x);
    for (let i = 0; i < c; i++) logp[start + i] = -f[i]!;
  }
  let mx = -Infinity;
  for (const l of logp) mx = Math.max(mx, l);
  const cdf = new Float64Array(total);
  let acc = 0;
  for (let i = 0; i < total; i++) cdf[i] = acc += Math.exp(logp[i]! - mx);
  const picked = new Float32Array(count * n);
  const one = new Float64Array(n);
  for (let r = 0; r < count; r++) {
    const u = rng.uniform() * acc;
    let lo = 0;
    let hi = total - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    fillConfigurations(lo, 1, n, states, one);
    picked.set(one, r * n);
  }
  return layer === 'hidden' ? model.sampleVisibles(picked, rng) : picked;
}

/** Schedules of inverse temperatures 0 = β_0 < … < β_K = 1. */
export type BetaScheduleKind = 'linear' | 'piecewise' | 'sigmoid';

/**
 * An inverse-temperature schedule with `count` + 1 points from 0 to 1.
 * 'piecewise' spends 1/29, 8/29 and 20/29 of the points on [0, 0.5], [0.5, 0.9]
 * and [0.9, 1] (the 500/4000/10000 split of Salakhutdinov & Murray 2008);
 * 'sigmoid' spaces points as σ(x) over x ∈ [−δ, δ], δ = 4, rescaled (Grosse et al. 2013).
 */
export function betaSchedule(count: number, kind: BetaScheduleKind = 'piecewise'): Float64Array {
  assertShape(Number.isInteger(count) && count >= 1, `the number of β steps must be a positive integer, got ${count}`);
  const b = new Float64Array(count + 1);
  if (kind === 'linear') for (let k = 0; k <= count; k++) b[k] = k / count;
  else if (kind === 'sigmoid') {
    const d = 4;
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    const lo = s(-d);
    const hi = s(d);
    for (let k = 0; k <= count; k++) b[k] = (s(-d + (2 * d * k) / count) - lo) / (hi - lo);
  } else {
    const n1 = Math.max(1, Math.round(count / 29));
    const n2 = Math.max(1, Math.round((8 * count) / 29));
    const n3 = Math.max(1, count - n1 - n2);
    let k = 0;
    for (let i = 0; i < n1; i++) b[k++] = (0.5 * i) / n1;
    for (let i = 0; i < n2; i++) b[k++] = 0.5 + (0.4 * i) / n2;
    for (let i = 0; i < n3 && k <= count; i++) b[k++] = 0.9 + (0.1 * i) / n3;
    while (k <= count) b[k++] = 1;
  }
  b[0] = 0;
  b[count] = 1;
  return b;
}

/** Options of {@link ais} and {@link reverseAis}. */
export interface AISOptions {
  /** The β schedule (from 0 to 1) or a number of steps for {@link betaSchedule} (default 10000). */
  readonly betas?: Float64Array | number;
  /** Schedule kind when `betas` is a number (default 'piecewise'). */
  readonly schedule?: BetaScheduleKind;
  /** Number of independent AIS runs (default 100). */
  readonly runs?: number;
  /**
   * Base-model visible biases; default zeros (the uniform distribution for
   * binary units). Gaussian models need one. Prefer {@link modelRateBias} (the
   * model's own marginals) over `model.baseRateBias(data)`: a well-trained
   * model can sit far from the data's marginals, and then the data base rate
   * makes AIS miss the dominant mode (see {@link ais}).
   */
  readonly baseBias?: Float32Array | null;
  /** Gibbs steps per intermediate distribution (default 1). */
  readonly stepsPerBeta?: number;
  /** Called about every 1 % of the schedule with the intermediate distributions done and their total. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Aborting stops the run at the next intermediate distribution with an InterruptedError:
   * an incomplete schedule estimates nothing, so there is no partial result.
   */
  readonly signal?: AbortSignal;
}

function checkAbort(signal: AbortSignal | undefined, what: string, done: number, total: number): void {
  if (signal?.aborted) throw new InterruptedError(`${what} stopped after ${done} of ${total} intermediate distributions: an incomplete schedule gives no estimate, so nothing is recorded`);
}

/** An AIS estimate of log Z. */
export interface AISResult {
  /** log Ẑ = log Z_A + log((1/R) Σ_r w_r). */
  readonly logZ: number;
  /**
   * Standard error of log Ẑ by the delta method: sd(w)/(√R · mean(w)), computed
   * from normalised weights. It understates the error when the weights are heavy-tailed.
   */
  readonly stdErr: number;
  /** log Z of the base-rate model. */
  readonly logZBase: number;
  /** Per-run log importance weights. */
  readonly logWeights: Float64Array;
  /** Effective sample size (Σw)²/Σw² of the weights. */
  readonly ess: number;
  /** Number of intermediate distributions K. */
  readonly steps: number;
}

function resolveBetas(opts: AISOptions): Float64Array {
  const b = opts.betas ?? 10000;
  const betas = typeof b === 'number' ? betaSchedule(b, opts.schedule ?? 'piecewise') : b;
  assertShape(betas.length >= 2 && betas[0] === 0 && betas[betas.length - 1] === 1, 'the β schedule must start at 0 and end at 1');
  for (let k = 1; k < betas.length; k++) assertShape(betas[k]! >= betas[k - 1]!, 'the β schedule must be non-decreasing');
  return betas;
}

function summarise(logw: Float64Array, logZBase: number, sign: 1 | -1, steps: number): AISResult {
  const R = logw.length;
  const lme = logMeanExp(logw);
  let s1 = 0;
  let s2 = 0;
  for (let r = 0; r < R; r++) {
    const w = Math.exp(logw[r]! - lme);
    s1 += w;
    s2 += w * w;
  }
  const varW = R > 1 ? (s2 - (s1 * s1) / R) / (R - 1) : 0;
  return {
    logZ: logZBase + sign * lme,
    stdErr: Math.sqrt(Math.max(0, varW) / R),
    logZBase,
    logWeights: logw,
    ess: (s1 * s1) / s2,
    steps,
  };
}

/**
 * Annealed importance sampling (Neal 2001; Salakhutdinov & Murray, ICML 2008)
 * along the geometric path p_β ∝ exp(−β·E − (1 − β)·E_A) from the base-rate
 * model A to the model. Each run starts from an exact draw of A and
 * accumulates log w += F_{β_{k−1}}(v) − F_{β_k}(v), with Gibbs transitions at
 * β_k in between. E[w] = Z/Z_A, so log Ẑ is a stochastic lower bound on log Z
 * (Jensen) whose bias shrinks with more β's.
 *
 * Failure mode: when the model puts most of its mass on a mode that the base
 * model and the early intermediate distributions never visit (common after long
 * PCD training), every run misses it, the weights look well behaved (small
 * standard error, decent ESS) and log Ẑ is far too low. This is the path, not
 * numerics: an independent float64 AIS misses the same mode. The remedy is a
 * base model that overlaps the model: pass `baseBias: modelRateBias(model, rng)`
 * (the model's own marginals) instead of the data's base rate; on the 784×16
 * Fashion-MNIST RBM after 50 epochs of PCD-1 that moves log Ẑ from 395.8 to
 * 415.92 (exact 415.98); {@link hiddenAis} needs no base model at all. Run
 * {@link reverseAis} from {@link exactSamples} (or long chains) to get the
 * other side of the bracket.
 */
export function ais(model: EnergyModel, rng: Rng, opts: AISOptions = {}): AISResult {
  const betas = resolveBetas(opts);
  const R = opts.runs ?? 100;
  assertShape(Number.isInteger(R) && R >= 1, `runs must be a positive integer, got ${R}`);
  const base = opts.baseBias ?? (model.visibleUnits === 'gaussian' ? null : new Float32Array(model.nVisible));
  const logZA = model.logZBase(base);
  const steps = opts.stepsPerBeta ?? 1;
  const v = new Float32Array(R * model.nVisible);
  const h = new Float32Array(R * model.nHidden);
  const hm = new Float32Array(R * model.nHidden);
  const vm = new Float32Array(R * model.nVisible);
  model.sampleVisibles(h, rng, { beta: 0, baseBias: base, out: v, mean: vm });
  const logw = new Float64Array(R);
  const K = betas.length - 1;
  const every = Math.max(1, Math.floor(K / 100));
  for (let k = 1; k <= K; k++) {
    const [fPrev, fCur] = model.freeEnergyAt(v, [betas[k - 1]!, betas[k]!], base);
    for (let r = 0; r < R; r++) logw[r]! += fPrev![r]! - fCur![r]!;
    if (k < K)
      for (let s = 0; s < steps; s++) {
        model.sampleHiddens(v, rng, { beta: betas[k]!, out: h, mean: hm });
        model.sampleVisibles(h, rng, { beta: betas[k]!, baseBias: base, out: v, mean: vm });
      }
    if (opts.onProgress && (k % every === 0 || k === K)) opts.onProgress(k, K);
    checkAbort(opts.signal, 'AIS', k, K);
  }
  return summarise(logw, logZA, 1, K);
}

/**
 * Reverse AIS (Burda, Grosse & Salakhutdinov, AISTATS 2015): start at the
 * model (β = 1) from `start` (rows × nVisible; exact model samples, or in
 * practice data or the end of long Gibbs runs) and anneal to the base model,
 * accumulating log w += F_{β_k}(v) − F_{β_{k−1}}(v). E[w] = Z_A/Z when the
 * start is exact, so log Ẑ = log Z_A − log mean w is a stochastic upper bound.
 * Exact starts come from {@link exactSamples} when one layer is small; starting
 * from data or from the end of Gibbs chains only approximates the bound (chains
 * that have not equilibrated can put it far below log Z).
 * The number of runs is the number of start rows.
 */
export function reverseAis(model: EnergyModel, start: Float32Array, rng: Rng, opts: Omit<AISOptions, 'runs'> = {}): AISResult {
  const betas = resolveBetas(opts);
  const R = start.length / model.nVisible;
  assertShape(Number.isInteger(R) && R >= 1, `start has ${start.length} entries, not a positive multiple of ${model.nVisible}`);
  const base = opts.baseBias ?? (model.visibleUnits === 'gaussian' ? null : new Float32Array(model.nVisible));
  const logZA = model.logZBase(base);
  const steps = opts.stepsPerBeta ?? 1;
  const v = Float32Array.from(start);
  const h = new Float32Array(R * model.nHidden);
  const hm = new Float32Array(R * model.nHidden);
  const vm = new Float32Array(R * model.nVisible);
  const logw = new Float64Array(R);
  const K = betas.length - 1;
  const every = Math.max(1, Math.floor(K / 100));
  for (let k = K; k >= 1; k--) {
    const [fCur, fPrev] = model.freeEnergyAt(v, [betas[k]!, betas[k - 1]!], base);
    for (let r = 0; r < R; r++) logw[r]! += fCur![r]! - fPrev![r]!;
    if (k > 1)
      for (let s = 0; s < steps; s++) {
        model.sampleHiddens(v, rng, { beta: betas[k - 1]!, out: h, mean: hm });
        model.sampleVisibles(h, rng, { beta: betas[k - 1]!, baseBias: base, out: v, mean: vm });
      }
    const done = K - k + 1;
    if (opts.onProgress && (done % every === 0 || k === 1)) opts.onProgress(done, K);
    checkAbort(opts.signal, 'reverse AIS', done, K);
  }
  return summarise(logw, logZA, -1, K);
}

/** Options of {@link modelRateBias}. */
export interface ModelRateOptions {
  /** Number of model samples whose smoothed marginals define the base model (default 10000 exact samples, or the rows of `start`). */
  readonly samples?: number;
  /**
   * Starts of Gibbs chains (rows × nVisible: persistent chains, or data) used
   * when no layer can be enumerated; required then. Ignored when exact samples exist.
   */
  readonly start?: Float32Array;
  /** Block-Gibbs steps run from `start` before the marginals are taken (default 1000). */
  readonly burnIn?: number;
  /** Largest layer enumerated for exact samples (default 24). */
  readonly maxUnits?: number;
}

/**
 * Base-rate visible biases fitted to the MODEL's own marginals instead of the
 * data's (the base-rate model of Salakhutdinov & Murray 2008, §4.1, applied to
 * model samples): `model.baseRateBias(samples)`, with exact samples from
 * {@link exactSamples} when a layer can be enumerated and otherwise the ends of
 * `burnIn` block-Gibbs steps from `start`.
 *
 * Why: AIS along the geometric path is only accurate when the base model
 * overlaps the model. After long PCD training an RBM can put almost all of its
 * mass on visible patterns whose marginals differ strongly from the data's
 * (784×16 Fashion-MNIST, 50 epochs: one hidden state holds 72% of the mass);
 * from the data base rate the intermediate distributions then undergo a
 * first-order transition that Gibbs chains cannot follow and every run
 * misses the dominant mode: log Ẑ is 10–20 nats low with a tiny standard
 * error. From the model's marginals the same AIS is within 0.1 nats.
 * Any base is valid (AIS stays unbiased for Z); this one only makes it efficient.
 * The Gibbs route is only as good as the chains' mixing: on that model 1000
 * steps from 1000 data rows, or the checkpoint's 100 persistent PCD chains,
 * still miss the dominant mode (log Ẑ 404.4 and 396.3). Without exact samples,
 * prefer {@link hiddenAis} when the hidden layer is small.
 */
export function modelRateBias(model: EnergyModel, rng: Rng, opts: ModelRateOptions = {}): Float32Array {
  const maxUnits = opts.maxUnits ?? 24;
  let samples: Float32Array;
  if (enumerableLayer(model, maxUnits)) {
    const n = opts.samples ?? 10000;
    assertShape(Number.isInteger(n) && n >= 1, `samples must be a positive integer, got ${n}`);
    samples = exactSamples(model, n, rng, { maxUnits });
  } else {
    const start = opts.start;
    if (!start) throw new ShapeError('a model-rate base needs chain starts (start) when no layer can be enumerated');
    const rows = start.length / model.nVisible;
    assertShape(Number.isInteger(rows) && rows >= 1, `start has ${start.length} entries, not a positive multiple of ${model.nVisible}`);
    const n = Math.min(opts.samples ?? rows, rows);
    const burnIn = opts.burnIn ?? 1000;
    assertShape(Number.isInteger(burnIn) && burnIn >= 0, `burnIn must be a non-negative integer, got ${burnIn}`);
    samples = burnIn > 0 ? model.gibbs(start.subarray(0, n * model.nVisible), rng, burnIn) : Float32Array.from(start.subarray(0, n * model.nVisible));
  }
  return model.baseRateBias(samples);
}

/**
 * AIS in the hidden space (Neal 2001, with the visible layer summed out
 * analytically): the path p_β(h) ∝ exp(−β·G(h)) from the uniform distribution
 * over binary hiddens (log Z_A = nHidden·log 2) to the model's exact hidden
 * marginal, where exp(−G(h)) = Σ_v exp(−E(v, h)) (for {0,1} units
 * p*(h) = exp(bᵀh) ∏_i (1 + exp(a_i + W_iᵀh))). Each run accumulates
 * log w += −(β_k − β_{k−1})·G(h) and moves by `stepsPerBeta` sweeps (default 1)
 * of nHidden heat-bath single-site flips at β_k, each at a uniformly drawn site.
 * When `betas` is a number and no `schedule` is given, β_k = (k/K)².
 *
 * Use it when the hidden layer is small (tens of units; each flip costs one
 * O(nVisible·nHidden) free-energy evaluation per run): it has no base model to
 * mis-fit and no 784-dimensional chain to get stuck, and on the 784×16
 * Fashion-MNIST RBMs where the visible-space AIS from the data base rate is
 * 20 nats low it is within 0.1 nats with 1000 β's. `baseBias` is ignored.
 */
export function hiddenAis(model: EnergyModel, rng: Rng, opts: AISOptions = {}): AISResult {
  const states = unitStates(model.hiddenUnits);
  if (!states) throw new ShapeError('hidden-space AIS needs binary hidden units');
  const b = opts.betas ?? 1000;
  // Default schedule β_k = (k/K)²: dense near β = 0, where |ΔG|·Δβ is largest.
  const betas = resolveBetas(typeof b === 'number' && !opts.schedule ? { betas: betaSchedule(b, 'linear').map((x) => x * x) } : { ...opts, betas: b });
  const R = opts.runs ?? 100;
  assertShape(Number.isInteger(R) && R >= 1, `runs must be a positive integer, got ${R}`);
  const sweeps = opts.stepsPerBeta ?? 1;
  assertShape(Number.isInteger(sweeps) && sweeps >= 1, `stepsPerBeta must be a positive integer, got ${sweeps}`);
  const nh = model.nHidden;
  const [s0, s1] = states;
  const h = new Float32Array(R * nh);
  for (let i = 0; i < h.length; i++) h[i] = rng.uniform() < 0.5 ? s1 : s0;
  const g = model.freeEnergyHiddens(h);
  const prop = new Float32Array(R * nh);
  const site = new Int32Array(R);
  const logw = new Float64Array(R);
  const K = betas.length - 1;
  for (let k = 1; k <= K; k++) {
    const beta = betas[k]!;
    const dBeta = beta - betas[k - 1]!;
    for (let r = 0; r < R; r++) logw[r]! -= dBeta * g[r]!;
    if (k === K) break;
    for (let s = 0; s < sweeps * nh; s++) {
      prop.set(h);
      for (let r = 0; r < R; r++) {
        const j = rng.int(nh);
        site[r] = j;
        prop[r * nh + j] = prop[r * nh + j] === s1 ? s0 : s1;
      }
      const gp = model.freeEnergyHiddens(prop);
      for (let r = 0; r < R; r++) {
        // Heat bath: accept with probability p_β(h')/(p_β(h) + p_β(h')) = σ(β·(G(h) − G(h'))).
        if (rng.uniform() * (1 + Math.exp(-beta * (g[r]! - gp[r]!))) < 1) {
          h[r * nh + site[r]!] = prop[r * nh + site[r]!]!;
          g[r] = gp[r]!;
        }
      }
    }
  }
  return summarise(logw, nh * Math.LN2, 1, K);
}
