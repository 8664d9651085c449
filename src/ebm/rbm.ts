/**
 * Restricted Boltzmann machines: {@link BernoulliRBM} ({0,1} or ±1 spin units)
 * and {@link GaussianBernoulliRBM} (real visible units, binary hidden units).
 * Both implement {@link EnergyModel}; heavy algebra goes through the engine's
 * {@link Kernels} (`gemm` and the fused `bernoulliLayer`).
 *
 * Parameters (learned state, in `params`): `W` (nVisible × nHidden, row-major),
 * `a` (visible biases), `b` (hidden biases) and, for the Gaussian model,
 * `logSigma2` (per-visible log variance).
 */
import type { Rng } from '../core/rng.js';
import { ShapeError, assertShape } from '../core/errors.js';
import { getKernels, type Kernels } from '../engine/index.js';
import type { EnergyModel, LayerOptions, Params, Tempering, UnitType } from './model.js';

const LOG2 = Math.LN2;
const LOG_2PI = Math.log(2 * Math.PI);

/** log(1 + eˣ) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** log(2·cosh x) without overflow. */
export function logTwoCosh(x: number): number {
  const a = Math.abs(x);
  return a + Math.log1p(Math.exp(-2 * a));
}

/** log Σ_{s ∈ states} exp(s·x) for a binary unit. */
function binaryLogPartition(units: UnitType, x: number): number {
  return units === 'pm1' ? logTwoCosh(x) : softplus(x);
}

function rowsOf(arr: ArrayLike<number>, n: number, what: string): number {
  const rows = arr.length / n;
  if (!Number.isInteger(rows)) throw new ShapeError(`${what} has ${arr.length} entries, not a multiple of ${n}`);
  return rows;
}

/** Options shared by the RBM families (every field has a default). */
export interface RBMOptions {
  /** Number of visible units (required). */
  readonly nVisible: number;
  /** Number of hidden units (required). */
  readonly nHidden: number;
  /** Standard deviation of the initial weights N(0, initStd²); default 0.01 (Hinton, practical guide §8). */
  readonly initStd?: number;
}

/** Common machinery: binary hidden layer, coupling W, buffers. */
abstract class RBMBase implements EnergyModel {
  abstract readonly kind: string;
  readonly nVisible: number;
  readonly nHidden: number;
  abstract readonly visibleUnits: UnitType;
  abstract readonly hiddenUnits: UnitType;
  readonly params: Params;
  abstract readonly trainable: readonly string[];
  abstract readonly config: Readonly<Record<string, unknown>>;
  /** The kernels used for batched algebra. */
  protected readonly kernels: Kernels;
  private readonly buffers = new Map<string, Float32Array>();

  protected constructor(opts: RBMOptions, rng: Rng | undefined, kernels: Kernels | undefined) {
    assertShape(Number.isInteger(opts.nVisible) && opts.nVisible >= 1, `nVisible must be a positive integer, got ${opts.nVisible}`);
    assertShape(Number.isInteger(opts.nHidden) && opts.nHidden >= 1, `nHidden must be a positive integer, got ${opts.nHidden}`);
    this.nVisible = opts.nVisible;
    this.nHidden = opts.nHidden;
    this.kernels = kernels ?? getKernels();
    const W = new Float32Array(opts.nVisible * opts.nHidden);
    const std = opts.initStd ?? 0.01;
    if (rng && std > 0) for (let i = 0; i < W.length; i++) W[i] = std * rng.normal();
    this.params = { W, a: new Float32Array(opts.nVisible), b: new Float32Array(opts.nHidden) };
  }

  abstract clone(): EnergyModel;

  /** A cached scratch buffer of exactly `size` floats (a view; reused across calls). */
  protected scratch(name: string, size: number): Float32Array {
    let buf = this.buffers.get(name);
    if (!buf || buf.length < size) {
      buf = new Float32Array(Math.max(size, buf ? buf.length * 2 : 0));
      this.buffers.set(name, buf);
    }
    return buf.subarray(0, size);
  }

  /** The matrix multiplied by W to get hidden pre-activations (v, or v/σ² for Gaussian units). */
  protected abstract hiddenInput(v: Float32Array, rows: number): Float32Array;
  /** Same in float64 for row r. */
  protected abstract hiddenInput64(v: Float64Array, r: number, out: Float64Array): void;
  /** Σ_i of the h-independent part of β·E + (1 − β)·E_A for row r (float64). */
  protected abstract visibleTerm(v: ArrayLike<number>, r: number, beta: number, base: Float32Array | null): number;
  /** −log ∫ exp(visible part) given the field m = W·h (row r), β = 1, float64. */
  protected abstract visibleLogPartition(field: ArrayLike<number>, off: number): number;

  // ----- hidden side -----

  meanHiddens(v: Float32Array, o: LayerOptions = {}): Float32Array {
    const rows = rowsOf(v, this.nVisible, 'visible batch');
    const out = o.out ?? new Float32Array(rows * this.nHidden);
    this.hiddenLayer(v, rows, out, null, null, o.beta ?? 1);
    return out;
  }

  sampleHiddens(v: Float32Array, rng: Rng, o: LayerOptions = {}): Float32Array {
    const rows = rowsOf(v, this.nVisible, 'visible batch');
    const n = rows * this.nHidden;
    const out = o.out ?? new Float32Array(n);
    const mean = o.mean ?? this.scratch('hmean', n);
    this.hiddenLayer(v, rows, mean, out, rng, o.beta ?? 1);
    return out;
  }

  sampleHiddensFromMean(mean: Float32Array, rng: Rng, out: Float32Array): boolean {
    if (this.hiddenUnits !== '01') return false;
    assertShape(out.length === mean.length, `out has ${out.length} entries, the means ${mean.length}`);
    // The kernels draw u = (u32 >>> 8)·2⁻²⁴ per unit, row by row, and set h = [u < p]: the same stream here.
    const u = this.scratch('hu', mean.length);
    this.kernels.fillUniform(rng, u);
    for (let i = 0; i < mean.length; i++) out[i] = u[i]! < mean[i]! ? 1 : 0;
    return true;
  }

  private hiddenLayer(v: Float32Array, rows: number, mean: Float32Array, sample: Float32Array | null, rng: Rng | null, beta: number): void {
    const X = this.hiddenInput(v, rows);
    const pm1 = this.hiddenUnits === 'pm1';
    const { W, b } = this.params;
    this.kernels.bernoulliLayer(X, W!, b!, rows, this.nVisible, this.nHidden, false, mean, sample, rng, pm1 ? 2 * beta : beta);
    if (pm1) {
      const n = rows * this.nHidden;
      for (let i = 0; i < n; i++) mean[i] = 2 * mean[i]! - 1;
      if (sample) for (let i = 0; i < n; i++) sample[i] = 2 * sample[i]! - 1;
    }
  }

  // ----- energies -----

  freeEnergy(v: Float32Array | Float64Array, t: Tempering = {}): Float64Array {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(v, nv, 'visible batch');
    const beta = t.beta ?? 1;
    const base = t.baseBias ?? null;
    const out = new Float64Array(rows);
    const { W, b } = this.params;
    if (v instanceof Float64Array) {
      const x = new Float64Array(nv);
      for (let r = 0; r < rows; r++) {
        this.hiddenInput64(v, r, x);
        let f = this.visibleTerm(v, r, beta, base);
        for (let j = 0; j < nh; j++) {
          let s = b![j]!;
          for (let i = 0; i < nv; i++) s += x[i]! * W![i * nh + j]!;
          f -= binaryLogPartition(this.hiddenUnits, beta * s);
        }
        out[r] = f;
      }
      return out;
    }
    const X = this.hiddenInput(v, rows);
    const pre = this.scratch('fe', rows * nh);
    this.kernels.gemm(false, false, rows, nh, nv, 1, X, W!, 0, pre);
    for (let r = 0; r < rows; r++) {
      let f = this.visibleTerm(v, r, beta, base);
      const off = r * nh;
      for (let j = 0; j < nh; j++) f -= binaryLogPartition(this.hiddenUnits, beta * (pre[off + j]! + b![j]!));
      out[r] = f;
    }
    return out;
  }

  freeEnergyAt(v: Float32Array, betas: readonly number[], baseBias: Float32Array | null = null): Float64Array[] {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(v, nv, 'visible batch');
    const X = this.hiddenInput(v, rows);
    const pre = this.scratch('fe', rows * nh);
    const { W, b } = this.params;
    this.kernels.gemm(false, false, rows, nh, nv, 1, X, W!, 0, pre);
    return betas.map((beta) => {
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        let f = this.visibleTerm(v, r, beta, baseBias);
        const off = r * nh;
        for (let j = 0; j < nh; j++) f -= binaryLogPartition(this.hiddenUnits, beta * (pre[off + j]! + b![j]!));
        out[r] = f;
      }
      return out;
    });
  }

  freeEnergyHiddens(h: Float32Array | Float64Array): Float64Array {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(h, nh, 'hidden batch');
    const out = new Float64Array(rows);
    const { W, b } = this.params;
    let field: ArrayLike<number>;
    if (h instanceof Float64Array) {
      const f64 = new Float64Array(rows * nv);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < nv; i++) {
          let s = 0;
          for (let j = 0; j < nh; j++) s += W![i * nh + j]! * h[r * nh + j]!;
          f64[r * nv + i] = s;
        }
      field = f64;
    } else {
      const f32 = this.scratch('feh', rows * nv);
      this.kernels.gemm(false, true, rows, nv, nh, 1, h, W!, 0, f32);
      field = f32;
    }
    for (let r = 0; r < rows; r++) {
      let g = 0;
      for (let j = 0; j < nh; j++) g -= b![j]! * h[r * nh + j]!;
      out[r] = g - this.visibleLogPartition(field, r * nv);
    }
    return out;
  }

  gibbs(v: Float32Array, rng: Rng, k: number = 1, t: Tempering = {}): Float32Array {
    const rows = rowsOf(v, this.nVisible, 'visible batch');
    const cur = Float32Array.from(v);
    const h = new Float32Array(rows * this.nHidden);
    const hm = new Float32Array(rows * this.nHidden);
    const vm = new Float32Array(rows * this.nVisible);
    for (let s = 0; s < k; s++) {
      this.sampleHiddens(cur, rng, { ...t, out: h, mean: hm });
      this.sampleVisibles(h, rng, { ...t, out: cur, mean: vm });
    }
    return cur;
  }

  abstract meanVisibles(h: Float32Array, o?: LayerOptions): Float32Array;
  abstract sampleVisibles(h: Float32Array, rng: Rng, o?: LayerOptions): Float32Array;
  abstract energy(v: ArrayLike<number>, h: ArrayLike<number>): Float64Array;
  abstract accumulateStatistics(v: Float32Array, h: Float32Array, scale: number, into: Params, rowWeights?: Float64Array): void;
  abstract logZBase(baseBias?: Float32Array | null): number;
  abstract baseRateBias(data: Float32Array): Float32Array;
  abstract initVisibleBiasFromData(data: Float32Array): void;

  /** Σ_rows of each column of a rows × n matrix, times `scale`, added to `into`. */
  protected static addColumnSums(x: Float32Array, rows: number, n: number, scale: number, into: Float32Array): void {
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      for (let j = 0; j < n; j++) into[j]! += scale * x[off + j]!;
    }
  }

  /** Σ_rows w_r · x_r of a rows × n matrix, times `scale`, added to `into` (w null: all ones). */
  protected static addWeightedColumnSums(x: Float32Array, rows: number, n: number, scale: number, w: Float64Array | null, into: Float32Array): void {
    if (!w) return RBMBase.addColumnSums(x, rows, n, scale, into);
    const acc = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      const wr = w[r]!;
      for (let j = 0; j < n; j++) acc[j]! += wr * x[off + j]!;
    }
    for (let j = 0; j < n; j++) into[j]! += scale * acc[j]!;
  }

  /** The hidden rows multiplied by their weights (a scratch view), or `h` itself without weights. */
  protected weightedRows(h: Float32Array, rows: number, n: number, w: Float64Array | null): Float32Array {
    if (!w) return h;
    assertShape(w.length === rows, `row weights have ${w.length} entries, expected ${rows}`);
    const out = this.scratch('wrows', rows * n);
    for (let r = 0; r < rows; r++) {
      const wr = w[r]!;
      for (let j = 0; j < n; j++) out[r * n + j] = wr * h[r * n + j]!;
    }
    return out;
  }

  /** Column means of a rows × n matrix in float64. */
  protected static columnMeans(x: Float32Array, n: number): Float64Array {
    const rows = rowsOf(x, n, 'data');
    assertShape(rows > 0, 'data has no rows');
    const m = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) m[i]! += x[r * n + i]!;
    for (let i = 0; i < n; i++) m[i]! /= rows;
    return m;
  }
}

/** Options of {@link BernoulliRBM}. */
export interface BernoulliRBMOptions extends RBMOptions {
  /**
   * Unit convention for both layers: '01' (default) for Bernoulli {0,1} units,
   * 'pm1' for Ising spins {−1,+1} (E = −vᵀWh − aᵀv − bᵀh with v, h ∈ {±1}).
   */
  readonly units?: '01' | 'pm1';
}

/**
 * Binary RBM, E(v, h) = −vᵀWh − aᵀv − bᵀh (Smolensky 1986; Hinton 2002), with
 * {0,1} or ±1 units. Conditionals: p(h_j = 1 | v) = σ(b_j + Σ_i v_i W_ij) for
 * {0,1} units; p(s = +1 | field x) = σ(2x) for spins.
 */
export class BernoulliRBM extends RBMBase {
  readonly kind: string = 'bernoulli-rbm';
  readonly visibleUnits: UnitType;
  readonly hiddenUnits: UnitType;
  readonly trainable: readonly string[] = ['W', 'a', 'b'];
  readonly config: Readonly<{ nVisible: number; nHidden: number; units: '01' | 'pm1'; initStd: number }> & Readonly<Record<string, unknown>>;

  /**
   * @param opts - sizes and unit convention
   * @param rng - draws the initial weights; omitted → all parameters zero
   * @param kernels - dense kernels (default: {@link getKernels})
   */
  constructor(opts: BernoulliRBMOptions, rng?: Rng, kernels?: Kernels) {
    super(opts, rng, kernels);
    const units = opts.units ?? '01';
    assertShape(units === '01' || units === 'pm1', `units must be '01' or 'pm1', got '${String(units)}'`);
    this.visibleUnits = units;
    this.hiddenUnits = units;
    this.config = { nVisible: opts.nVisible, nHidden: opts.nHidden, units, initStd: opts.initStd ?? 0.01 };
  }

  clone(): BernoulliRBM {
    const m = new BernoulliRBM(this.config, undefined, this.kernels);
    for (const k of Object.keys(this.params)) m.params[k]!.set(this.params[k]!);
    return m;
  }

  protected hiddenInput(v: Float32Array): Float32Array {
    return v;
  }

  protected hiddenInput64(v: Float64Array, r: number, out: Float64Array): void {
    for (let i = 0; i < this.nVisible; i++) out[i] = v[r * this.nVisible + i]!;
  }

  protected visibleTerm(v: ArrayLike<number>, r: number, beta: number, base: Float32Array | null): number {
    const a = this.params.a!;
    const nv = this.nVisible;
    let s = 0;
    if (base) for (let i = 0; i < nv; i++) s += v[r * nv + i]! * (beta * a[i]! + (1 - beta) * base[i]!);
    else for (let i = 0; i < nv; i++) s += v[r * nv + i]! * a[i]!;
    return base ? -s : -beta * s;
  }

  protected visibleLogPartition(field: ArrayLike<number>, off: number): number {
    const a = this.params.a!;
    let s = 0;
    for (let i = 0; i < this.nVisible; i++) s += binaryLogPartition(this.visibleUnits, a[i]! + field[off + i]!);
    return s;
  }

  /** Effective visible bias for the kernel: logit = β·(a + W·h + ((1 − β)/β)·a_A). */
  private visibleBias(beta: number, base: Float32Array | null): Float32Array {
    const a = this.params.a!;
    if (!base || beta === 1) return a;
    const c = this.scratch('vbias', this.nVisible);
    const f = (1 - beta) / beta;
    for (let i = 0; i < this.nVisible; i++) c[i] = a[i]! + f * base[i]!;
    return c;
  }

  private visibleLayer(h: Float32Array, mean: Float32Array, sample: Float32Array | null, rng: Rng | null, o: LayerOptions): void {
    const rows = rowsOf(h, this.nHidden, 'hidden batch');
    const nv = this.nVisible;
    const beta = o.beta ?? 1;
    const base = o.baseBias ?? null;
    const pm1 = this.visibleUnits === 'pm1';
    if (beta === 0) {
      // Base model (or uniform): factorised, no coupling.
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < nv; i++) {
          const x = base ? base[i]! : 0;
          const p = 1 / (1 + Math.exp(-(pm1 ? 2 * x : x)));
          mean[r * nv + i] = p;
          if (sample) sample[r * nv + i] = rng!.uniformF32() < Math.fround(p) ? 1 : 0;
        }
    } else {
      this.kernels.bernoulliLayer(h, this.params.W!, this.visibleBias(beta, base), rows, this.nHidden, nv, true, mean, sample, rng, pm1 ? 2 * beta : beta);
    }
    if (pm1) {
      const n = rows * nv;
      for (let i = 0; i < n; i++) mean[i] = 2 * mean[i]! - 1;
      if (sample) for (let i = 0; i < n; i++) sample[i] = 2 * sample[i]! - 1;
    }
  }

  meanVisibles(h: Float32Array, o: LayerOptions = {}): Float32Array {
    const out = o.out ?? new Float32Array(rowsOf(h, this.nHidden, 'hidden batch') * this.nVisible);
    this.visibleLayer(h, out, null, null, o);
    return out;
  }

  sampleVisibles(h: Float32Array, rng: Rng, o: LayerOptions = {}): Float32Array {
    const n = rowsOf(h, this.nHidden, 'hidden batch') * this.nVisible;
    const out = o.out ?? new Float32Array(n);
    this.visibleLayer(h, o.mean ?? this.scratch('vmean', n), out, rng, o);
    return out;
  }

  energy(v: ArrayLike<number>, h: ArrayLike<number>): Float64Array {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(v, nv, 'visible batch');
    assertShape(h.length === rows * nh, `hidden batch has ${h.length} entries, expected ${rows * nh}`);
    const { W, a, b } = this.params;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let e = 0;
      for (let j = 0; j < nh; j++) e -= b![j]! * h[r * nh + j]!;
      for (let i = 0; i < nv; i++) {
        const vi = v[r * nv + i]!;
        let s = a![i]!;
        for (let j = 0; j < nh; j++) s += W![i * nh + j]! * h[r * nh + j]!;
        e -= vi * s;
      }
      out[r] = e;
    }
    return out;
  }

  accumulateStatistics(v: Float32Array, h: Float32Array, scale: number, into: Params, rowWeights?: Float64Array): void {
    const rows = rowsOf(v, this.nVisible, 'visible batch');
    assertShape(h.length === rows * this.nHidden, `hidden batch has ${h.length} entries, expected ${rows * this.nHidden}`);
    const w = rowWeights ?? null;
    if (into.W) this.kernels.gemm(true, false, this.nVisible, this.nHidden, rows, scale, v, this.weightedRows(h, rows, this.nHidden, w), 1, into.W);
    if (into.a) RBMBase.addWeightedColumnSums(v, rows, this.nVisible, scale, w, into.a);
    if (into.b) RBMBase.addWeightedColumnSums(h, rows, this.nHidden, scale, w, into.b);
  }

  logZBase(baseBias: Float32Array | null = null): number {
    let s = this.nHidden * LOG2;
    for (let i = 0; i < this.nVisible; i++) s += binaryLogPartition(this.visibleUnits, baseBias ? baseBias[i]! : 0);
    return s;
  }

  /**
   * Base-rate biases from smoothed marginals: for {0,1} units
   * a_i = log(p_i/(1 − p_i)) with p_i = (Σ v_i + 1)/(N + 2); for spins
   * a_i = atanh(m_i) with m_i = 2p_i − 1 (Salakhutdinov & Murray 2008, §4.1).
   */
  baseRateBias(data: Float32Array): Float32Array {
    const m = RBMBase.columnMeans(data, this.nVisible);
    const rows = data.length / this.nVisible;
    const out = new Float32Array(this.nVisible);
    for (let i = 0; i < this.nVisible; i++) {
      const p01 = this.visibleUnits === 'pm1' ? (m[i]! + 1) / 2 : m[i]!;
      const p = (p01 * rows + 1) / (rows + 2);
      const logit = Math.log(p / (1 - p));
      out[i] = this.visibleUnits === 'pm1' ? logit / 2 : logit;
    }
    return out;
  }

  /** a_i = log(p_i/(1 − p_i)) with p_i clipped to [10⁻³, 1 − 10⁻³] (halved for spins). */
  initVisibleBiasFromData(data: Float32Array): void {
    const m = RBMBase.columnMeans(data, this.nVisible);
    const a = this.params.a!;
    for (let i = 0; i < this.nVisible; i++) {
      const p01 = this.visibleUnits === 'pm1' ? (m[i]! + 1) / 2 : m[i]!;
      const p = Math.min(1 - 1e-3, Math.max(1e-3, p01));
      const logit = Math.log(p / (1 - p));
      a[i] = this.visibleUnits === 'pm1' ? logit / 2 : logit;
    }
  }
}

/** Options of {@link GaussianBernoulliRBM}. */
export interface GaussianBernoulliRBMOptions extends RBMOptions {
  /** Initial (or fixed) visible standard deviation σ for every unit; default 1 (standardised data). */
  readonly sigma?: number;
  /** Learn per-unit σ through log σ² (default true); false keeps σ fixed. */
  readonly learnSigma?: boolean;
  /** Lower bound on σ² (clamped after each update); default 1e-3 (log σ² ≥ −6.9). */
  readonly minVariance?: number;
  /** Upper bound on σ²; default 10. */
  readonly maxVariance?: number;
}

/**
 * Gaussian–Bernoulli RBM in the parametrisation of Cho, Ilin & Raiko (ICANN 2011):
 *   E(v, h) = Σ_i (v_i − a_i)²/(2σ_i²) − Σ_ij (v_i/σ_i²) W_ij h_j − bᵀh,
 * so p(v | h) = N(a + W·h, diag σ²) and p(h_j = 1 | v) = σ(b_j + Σ_i v_i W_ij/σ_i²).
 * σ² = exp(logSigma2) is learned in log space and clamped to
 * [minVariance, maxVariance], which keeps training stable.
 *
 * Data should be standardised per visible unit (zero mean, unit variance; see
 * {@link standardize}) so that σ = 1 and the default learning rates are sensible.
 */
export class GaussianBernoulliRBM extends RBMBase {
  readonly kind = 'gaussian-bernoulli-rbm';
  readonly visibleUnits: UnitType = 'gaussian';
  readonly hiddenUnits: UnitType = '01';
  readonly trainable: readonly string[];
  readonly config: Readonly<{
    nVisible: number;
    nHidden: number;
    initStd: number;
    sigma: number;
    learnSigma: boolean;
    minVariance: number;
    maxVariance: number;
  }>;

  /**
   * @param opts - sizes and variance options
   * @param rng - draws the initial weights; omitted → W = 0
   * @param kernels - dense kernels (default: {@link getKernels})
   */
  constructor(opts: GaussianBernoulliRBMOptions, rng?: Rng, kernels?: Kernels) {
    super(opts, rng, kernels);
    const sigma = opts.sigma ?? 1;
    assertShape(sigma > 0, `sigma must be positive, got ${sigma}`);
    const learnSigma = opts.learnSigma ?? true;
    this.config = {
      nVisible: opts.nVisible,
      nHidden: opts.nHidden,
      initStd: opts.initStd ?? 0.01,
      sigma,
      learnSigma,
      minVariance: opts.minVariance ?? 1e-3,
      maxVariance: opts.maxVariance ?? 10,
    };
    this.params.logSigma2 = new Float32Array(opts.nVisible).fill(Math.log(sigma * sigma));
    this.trainable = learnSigma ? ['W', 'a', 'b', 'logSigma2'] : ['W', 'a', 'b'];
  }

  clone(): GaussianBernoulliRBM {
    const m = new GaussianBernoulliRBM(this.config, undefined, this.kernels);
    for (const k of Object.keys(this.params)) m.params[k]!.set(this.params[k]!);
    return m;
  }

  /** Clamp log σ² into [log minVariance, log maxVariance] (called by trainers after each update). */
  project(): void {
    const lo = Math.log(this.config.minVariance);
    const hi = Math.log(this.config.maxVariance);
    const z = this.params.logSigma2!;
    for (let i = 0; i < z.length; i++) z[i] = Math.min(hi, Math.max(lo, z[i]!));
  }

  private invVar(i: number): number {
    return Math.exp(-this.params.logSigma2![i]!);
  }

  protected hiddenInput(v: Float32Array, rows: number): Float32Array {
    const nv = this.nVisible;
    const x = this.scratch('vscaled', rows * nv);
    const z = this.params.logSigma2!;
    const iv = this.scratch('invvar', nv);
    for (let i = 0; i < nv; i++) iv[i] = Math.exp(-z[i]!);
    for (let r = 0; r < rows; r++) for (let i = 0; i < nv; i++) x[r * nv + i] = v[r * nv + i]! * iv[i]!;
    return x;
  }

  protected hiddenInput64(v: Float64Array, r: number, out: Float64Array): void {
    for (let i = 0; i < this.nVisible; i++) out[i] = v[r * this.nVisible + i]! * this.invVar(i);
  }

  protected visibleTerm(v: ArrayLike<number>, r: number, beta: number, base: Float32Array | null): number {
    const a = this.params.a!;
    const nv = this.nVisible;
    let s = 0;
    for (let i = 0; i < nv; i++) {
      const x = v[r * nv + i]!;
      const d = x - a[i]!;
      const q = base ? beta * d * d + (1 - beta) * (x - base[i]!) ** 2 : beta * d * d;
      s += 0.5 * q * this.invVar(i);
    }
    return s;
  }

  /** log ∫ exp(−(v − a)²/(2σ²) + v·m/σ²) dv = ½ log(2πσ²) + ((a + m)² − a²)/(2σ²), summed. */
  protected visibleLogPartition(field: ArrayLike<number>, off: number): number {
    const a = this.params.a!;
    const z = this.params.logSigma2!;
    let s = 0;
    for (let i = 0; i < this.nVisible; i++) {
      const mu = a[i]! + field[off + i]!;
      s += 0.5 * (LOG_2PI + z[i]!) + (0.5 * (mu * mu - a[i]! * a[i]!)) / Math.exp(z[i]!);
    }
    return s;
  }

  private visibleLayer(h: Float32Array, mean: Float32Array, sample: Float32Array | null, rng: Rng | null, o: LayerOptions): void {
    const rows = rowsOf(h, this.nHidden, 'hidden batch');
    const nv = this.nVisible;
    const beta = o.beta ?? 1;
    const base = o.baseBias ?? null;
    if (!base && beta <= 0) throw new ShapeError('a Gaussian-visible RBM at β = 0 needs a base-rate model (baseBias)');
    const a = this.params.a!;
    const z = this.params.logSigma2!;
    if (beta !== 0) this.kernels.gemm(false, true, rows, nv, this.nHidden, 1, h, this.params.W!, 0, mean);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < nv; i++) {
        const k = r * nv + i;
        const m = beta === 0 ? 0 : mean[k]!;
        mean[k] = base ? beta * (a[i]! + m) + (1 - beta) * base[i]! : a[i]! + m;
      }
    if (sample) {
      for (let i = 0; i < nv; i++) {
        const sd = Math.exp(0.5 * z[i]!) / (base ? 1 : Math.sqrt(beta));
        for (let r = 0; r < rows; r++) sample[r * nv + i] = sd;
      }
      const n = rows * nv;
      for (let k = 0; k < n; k++) sample[k] = mean[k]! + sample[k]! * rng!.normal();
    }
  }

  meanVisibles(h: Float32Array, o: LayerOptions = {}): Float32Array {
    const out = o.out ?? new Float32Array(rowsOf(h, this.nHidden, 'hidden batch') * this.nVisible);
    this.visibleLayer(h, out, null, null, o);
    return out;
  }

  sampleVisibles(h: Float32Array, rng: Rng, o: LayerOptions = {}): Float32Array {
    const n = rowsOf(h, this.nHidden, 'hidden batch') * this.nVisible;
    const out = o.out ?? new Float32Array(n);
    this.visibleLayer(h, o.mean ?? this.scratch('vmean', n), out, rng, o);
    return out;
  }

  energy(v: ArrayLike<number>, h: ArrayLike<number>): Float64Array {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(v, nv, 'visible batch');
    assertShape(h.length === rows * nh, `hidden batch has ${h.length} entries, expected ${rows * nh}`);
    const { W, a, b } = this.params;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let e = 0;
      for (let j = 0; j < nh; j++) e -= b![j]! * h[r * nh + j]!;
      for (let i = 0; i < nv; i++) {
        const vi = v[r * nv + i]!;
        const iv = this.invVar(i);
        let s = 0;
        for (let j = 0; j < nh; j++) s += W![i * nh + j]! * h[r * nh + j]!;
        e += 0.5 * (vi - a![i]!) ** 2 * iv - vi * iv * s;
      }
      out[r] = e;
    }
    return out;
  }

  /**
   * −∂E/∂W_ij = v_i h_j/σ_i², −∂E/∂a_i = (v_i − a_i)/σ_i², −∂E/∂b_j = h_j,
   * −∂E/∂(log σ_i²) = (v_i − a_i)²/(2σ_i²) − v_i (W·h)_i/σ_i².
   */
  accumulateStatistics(v: Float32Array, h: Float32Array, scale: number, into: Params, rowWeights?: Float64Array): void {
    const nv = this.nVisible;
    const nh = this.nHidden;
    const rows = rowsOf(v, nv, 'visible batch');
    assertShape(h.length === rows * nh, `hidden batch has ${h.length} entries, expected ${rows * nh}`);
    const w = rowWeights ?? null;
    const a = this.params.a!;
    const vs = this.hiddenInput(v, rows);
    if (into.W) this.kernels.gemm(true, false, nv, nh, rows, scale, vs, this.weightedRows(h, rows, nh, w), 1, into.W);
    if (into.b) RBMBase.addWeightedColumnSums(h, rows, nh, scale, w, into.b);
    if (into.a) {
      for (let r = 0; r < rows; r++) {
        const wr = w ? w[r]! : 1;
        for (let i = 0; i < nv; i++) into.a[i]! += scale * wr * (vs[r * nv + i]! - a[i]! * this.invVar(i));
      }
    }
    if (into.logSigma2) {
      const wh = this.scratch('wh', rows * nv);
      this.kernels.gemm(false, true, rows, nv, nh, 1, h, this.params.W!, 0, wh);
      const g = into.logSigma2;
      for (let i = 0; i < nv; i++) {
        const iv = this.invVar(i);
        let s = 0;
        for (let r = 0; r < rows; r++) {
          const x = v[r * nv + i]!;
          s += (w ? w[r]! : 1) * (0.5 * (x - a[i]!) ** 2 * iv - x * wh[r * nv + i]! * iv);
        }
        g[i]! += scale * s;
      }
    }
  }

  logZBase(baseBias: Float32Array | null = null): number {
    if (!baseBias) throw new ShapeError('a Gaussian-visible RBM at β = 0 needs a base-rate model (baseBias)');
    let s = this.nHidden * LOG2;
    for (let i = 0; i < this.nVisible; i++) s += 0.5 * (LOG_2PI + this.params.logSigma2![i]!);
    return s;
  }

  /** Base-rate model N(data mean, σ²): its mean is the data mean. */
  baseRateBias(data: Float32Array): Float32Array {
    return Float32Array.from(RBMBase.columnMeans(data, this.nVisible));
  }

  /** a = data mean. */
  initVisibleBiasFromData(data: Float32Array): void {
    this.params.a!.set(RBMBase.columnMeans(data, this.nVisible));
  }
}

/** Per-column standardisation: z = (x − mean)/std, with the statistics to undo it. */
export interface Standardized {
  /** Standardised copy of the data. */
  readonly data: Float32Array;
  /** Column means. */
  readonly mean: Float64Array;
  /** Column standard deviations (1 where a column is constant). */
  readonly std: Float64Array;
}

/** Standardise each column of a rows × n matrix (for {@link GaussianBernoulliRBM}); the input is not modified. */
export function standardize(data: Float32Array, n: number): Standardized {
  const rows = rowsOf(data, n, 'data');
  assertShape(rows >= 2, 'standardize needs at least two rows');
  const mean = new Float64Array(n);
  const std = new Float64Array(n);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) mean[i]! += data[r * n + i]!;
  for (let i = 0; i < n; i++) mean[i]! /= rows;
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) std[i]! += (data[r * n + i]! - mean[i]!) ** 2;
  for (let i = 0; i < n; i++) std[i] = Math.sqrt(std[i]! / (rows - 1)) || 1;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) out[r * n + i] = (data[r * n + i]! - mean[i]!) / std[i]!;
  return { data: out, mean, std };
}
