/**
 * The exact negative phase. The log-likelihood gradient of an energy model is
 *   ∂ log p(v)/∂θ = E_data[−∂E/∂θ] − E_model[−∂E/∂θ]   (Hinton 2002; Ackley, Hinton & Sejnowski 1985),
 * and where one binary layer is small the model expectation is a finite sum. With the
 * visible layer enumerated,
 *   E_model[T] = Σ_v p(v) E[T | v],  p(v) = exp(−F(v)) / Z,
 * and E[T | v] is T at h = E[h | v], since every statistic −∂E/∂θ of an RBM is linear in h.
 * With the hidden layer enumerated, symmetrically,
 *   E_model[T] = Σ_h p(h) E[T | h],  p(h) = exp(−G(h)) / Z,
 * and T at v = E[v | h] is exact for the statistics linear in v (all of them except the
 * Gaussian model's log σ², which needs E[v² | h]; such models are not enumerated here).
 *
 * Cost per update: 2^n configurations × nVisible × nHidden multiply-adds, twice (the
 * free energies and the conditional means), through the engine's GEMM.
 */
import { ShapeError } from '../core/errors.js';
import type { EnergyModel, Params } from './model.js';
import { unitStates } from './model.js';
import { LogSumExp, fillConfigurations, type EnumeratedLayer } from './partition.js';

/** Largest enumerated layer (units) for the exact negative phase. */
export const EXACT_PHASE_MAX_UNITS = 20;
/**
 * Largest cost (2^n · nVisible · nHidden multiply-adds per update) for which the exact
 * negative phase is the default: about 30 ms of one core's GEMM. Beyond it, PCD.
 */
export const EXACT_PHASE_DEFAULT_COST = 2 ** 26;

/** Configurations kept in memory between updates (values; beyond it they are rebuilt per chunk). */
const CACHE_VALUES = 2 ** 23;

/**
 * The layer the exact negative phase would enumerate (the smaller admissible binary layer
 * with ≤ `maxUnits` units), or null when none applies.
 */
export function exactPhaseLayer(model: EnergyModel, maxUnits: number = EXACT_PHASE_MAX_UNITS): EnumeratedLayer | null {
  const vOk = unitStates(model.visibleUnits) !== null && model.nVisible <= maxUnits;
  // Hidden enumeration uses v = E[v | h]: exact only for statistics linear in v.
  const hOk = unitStates(model.hiddenUnits) !== null && model.nHidden <= maxUnits && !model.trainable.includes('logSigma2');
  if (vOk && hOk) return model.nHidden <= model.nVisible ? 'hidden' : 'visible';
  return hOk ? 'hidden' : vOk ? 'visible' : null;
}

/** Multiply-adds of one exact negative phase over `layer` (2^n · nVisible · nHidden). */
export function exactPhaseCost(model: EnergyModel, layer: EnumeratedLayer): number {
  const n = layer === 'hidden' ? model.nHidden : model.nVisible;
  return 2 ** n * model.nVisible * model.nHidden;
}

/** True when the exact negative phase applies and is cheap enough to be the default. */
export function exactPhaseIsDefault(model: EnergyModel): boolean {
  const layer = exactPhaseLayer(model);
  return layer !== null && exactPhaseCost(model, layer) <= EXACT_PHASE_DEFAULT_COST;
}

/** Options of {@link ExactPhase}. */
export interface ExactPhaseOptions {
  /** Layer to enumerate (default: {@link exactPhaseLayer}). */
  readonly layer?: EnumeratedLayer;
  /** Configurations per chunk (default 4096). */
  readonly chunk?: number;
}

/**
 * Exact model expectations of the sufficient statistics, by enumeration of one layer.
 * Keeps the configurations between calls (they do not depend on the parameters).
 */
export class ExactPhase {
  /** The enumerated layer. */
  readonly layer: EnumeratedLayer;
  private readonly n: number;
  private readonly states: readonly [number, number];
  private readonly chunk: number;
  private readonly cached: Float32Array[] | null = null;
  private readonly logw: Float64Array;
  private readonly weights: Float64Array;
  /** Conditional means of the other layer for one chunk. */
  private readonly other: Float32Array;
  private lastLogZ = NaN;

  constructor(
    readonly model: EnergyModel,
    opts: ExactPhaseOptions = {},
  ) {
    const layer = opts.layer ?? exactPhaseLayer(model);
    if (!layer) {
      throw new ShapeError(
        `the exact negative phase needs a binary layer with at most ${EXACT_PHASE_MAX_UNITS} units (have ${model.nVisible} ${model.visibleUnits} visible, ${model.nHidden} ${model.hiddenUnits} hidden${model.trainable.includes('logSigma2') ? ', learned visible variances' : ''})`,
      );
    }
    this.layer = layer;
    this.n = layer === 'hidden' ? model.nHidden : model.nVisible;
    const states = unitStates(layer === 'hidden' ? model.hiddenUnits : model.visibleUnits);
    if (!states || this.n > EXACT_PHASE_MAX_UNITS) throw new ShapeError(`the ${layer} layer cannot be enumerated (${this.n} ${layer} units)`);
    this.states = states;
    const total = 2 ** this.n;
    this.chunk = Math.min(opts.chunk ?? 4096, total);
    this.logw = new Float64Array(total);
    this.weights = new Float64Array(this.chunk);
    this.other = new Float32Array(this.chunk * (layer === 'hidden' ? model.nVisible : model.nHidden));
    if (total * this.n <= CACHE_VALUES) {
      this.cached = [];
      for (let start = 0; start < total; start += this.chunk) this.cached.push(this.configurations(start, Math.min(this.chunk, total - start)));
    }
  }

  private configurations(start: number, count: number): Float32Array {
    const x = new Float64Array(count * this.n);
    fillConfigurations(start, count, this.n, this.states, x);
    return Float32Array.from(x);
  }

  private chunkAt(index: number, start: number, count: number): Float32Array {
    return this.cached ? this.cached[index]! : this.configurations(start, count);
  }

  /** log Z of the model at the last {@link accumulate} (float32 free energies). */
  logZ(): number {
    return this.lastLogZ;
  }

  /**
   * `into[p] += scale · E_model[−∂E/∂θ_p]` for every parameter present in `into`.
   * Returns log Z (from the same free energies).
   */
  accumulate(scale: number, into: Params): number {
    const m = this.model;
    const total = 2 ** this.n;
    const lse = new LogSumExp();
    // Pass 1: unnormalised log-probabilities of every configuration of the enumerated layer.
    for (let c = 0, start = 0; start < total; c++, start += this.chunk) {
      const count = Math.min(this.chunk, total - start);
      const x = this.chunkAt(c, start, count);
      const f = this.layer === 'hidden' ? m.freeEnergyHiddens(x) : m.freeEnergy(x);
      for (let r = 0; r < count; r++) {
        const lw = -f[r]!;
        this.logw[start + r] = lw;
        lse.add(lw);
      }
    }
    const logZ = lse.value();
    if (!Number.isFinite(logZ)) throw new ShapeError(`the exact negative phase found log Z = ${logZ}: the parameters are not finite`);
    // Pass 2: the statistics at the other layer's conditional means, weighted by p.
    for (let c = 0, start = 0; start < total; c++, start += this.chunk) {
      const count = Math.min(this.chunk, total - start);
      const x = this.chunkAt(c, start, count);
      const w = count === this.chunk ? this.weights : this.weights.subarray(0, count);
      for (let r = 0; r < count; r++) w[r] = Math.exp(this.logw[start + r]! - logZ);
      if (this.layer === 'hidden') {
        const v = m.meanVisibles(x, { out: this.other.subarray(0, count * m.nVisible) });
        m.accumulateStatistics(v, x, scale, into, w);
      } else {
        const h = m.meanHiddens(x, { out: this.other.subarray(0, count * m.nHidden) });
        m.accumulateStatistics(x, h, scale, into, w);
      }
    }
    this.lastLogZ = logZ;
    return logZ;
  }
}

/**
 * Initial weight scale for a model trained with the exact negative phase: N(0, σ²) with
 * σ = min(1, 2/√nVisible). Hinton's 0.01 starts parity-like problems at the symmetric
 * saddle W = 0, where every gradient vanishes; the small-problem suite (BENCHMARKS.md "RBM
 * defaults") reaches the optimum of all its problems from this scale and of none of the
 * parity problems above 4 bits from 0.01.
 */
export function exactPhaseInitStd(nVisible: number): number {
  return Math.min(1, 2 / Math.sqrt(nVisible));
}
