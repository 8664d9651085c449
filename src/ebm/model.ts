/**
 * The small interface every two-layer energy model implements, so that samplers
 * (block Gibbs, Metropolis–Hastings, parallel tempering), trainers (CD, PCD, PT)
 * and partition-function estimators (exact enumeration, AIS, reverse AIS) are
 * written once.
 *
 * A model defines p(v, h) = exp(−E(v, h)) / Z over visible units v and hidden
 * units h. Batches are row-major `Float32Array`s (rows × nVisible or
 * rows × nHidden); energies and free energies come back per row in float64.
 *
 * Tempering. Parallel tempering and annealed importance sampling need the family
 *   p_β(v, h) ∝ exp(−β·E(v, h) − (1 − β)·E_A(v)),
 * where E_A is the energy of a "base-rate" model with the same visible units, no
 * coupling and visible biases `baseBias` (Salakhutdinov & Murray, ICML 2008, §3).
 * With `baseBias` null or absent, E_A ≡ 0 and p_β is the plain β-scaled model.
 * At β = 0 with a base the distribution is the factorised base model, whose log
 * partition function {@link EnergyModel.logZBase} is known in closed form.
 */
import type { Rng } from '../core/rng.js';

/** Unit types: Bernoulli {0,1}, Ising spins {−1,+1}, or real-valued Gaussian. */
export type UnitType = '01' | 'pm1' | 'gaussian';

/** The two values of a binary unit, or null for continuous units. */
export function unitStates(units: UnitType): readonly [number, number] | null {
  if (units === '01') return [0, 1];
  if (units === 'pm1') return [-1, 1];
  return null;
}

/** Where on the tempering path a conditional or free energy is evaluated. */
export interface Tempering {
  /** Inverse temperature β ∈ [0, 1] (default 1: the model itself). */
  readonly beta?: number;
  /**
   * Visible biases of the base-rate model E_A (same parametrisation as the
   * model's visible bias `a`); null or absent means E_A ≡ 0.
   */
  readonly baseBias?: Float32Array | null;
}

/** Options of the batched conditionals. */
export interface LayerOptions extends Tempering {
  /** Output buffer (rows × units) to reuse; allocated when absent. */
  readonly out?: Float32Array;
  /** When sampling: buffer that also receives the conditional means. */
  readonly mean?: Float32Array;
}

/** Learned parameters: flat named arrays (e.g. `W` is nVisible × nHidden, row-major). */
export type Params = Record<string, Float32Array>;

/** A two-layer (bipartite) energy model. */
export interface EnergyModel {
  /** Model family name, stored in checkpoints (e.g. 'bernoulli-rbm'). */
  readonly kind: string;
  /** Number of visible units. */
  readonly nVisible: number;
  /** Number of hidden units. */
  readonly nHidden: number;
  /** Type of the visible units. */
  readonly visibleUnits: UnitType;
  /** Type of the hidden units. */
  readonly hiddenUnits: UnitType;
  /** Learned state: named parameter arrays, updated in place by trainers. */
  readonly params: Params;
  /** Names of the parameters a trainer updates (a subset of `params`' keys). */
  readonly trainable: readonly string[];
  /** Hyperparameters needed to rebuild the model (JSON-serialisable). */
  readonly config: Readonly<Record<string, unknown>>;

  /** E(v, h) per row, computed in float64 (for enumeration and tests). */
  energy(v: ArrayLike<number>, h: ArrayLike<number>): Float64Array;
  /**
   * Free energy F_β(v) = −log Σ_h exp(−β·E(v, h) − (1 − β)·E_A(v)) per row.
   * A `Float64Array` input is evaluated entirely in float64 (exact enumeration);
   * a `Float32Array` input uses the fast kernels (float32 pre-activations).
   */
  freeEnergy(v: Float32Array | Float64Array, t?: Tempering): Float64Array;
  /**
   * Free energies of the same batch at several inverse temperatures (one shared
   * matrix product): result[k][r] = F_{betas[k]}(v_r). Float32 path.
   */
  freeEnergyAt(v: Float32Array, betas: readonly number[], baseBias?: Float32Array | null): Float64Array[];
  /** Hidden free energy G(h) = −log ∫ exp(−E(v, h)) dv per row (β = 1); float64 input → float64 arithmetic. */
  freeEnergyHiddens(h: Float32Array | Float64Array): Float64Array;
  /** E[h | v] at β. */
  meanHiddens(v: Float32Array, o?: LayerOptions): Float32Array;
  /** A draw h ~ p_β(h | v). */
  sampleHiddens(v: Float32Array, rng: Rng, o?: LayerOptions): Float32Array;
  /**
   * A draw h ~ p(h | v) from already computed means E[h | v] (β = 1), consuming the generator
   * exactly as {@link sampleHiddens} does, so `sampleHiddensFromMean(meanHiddens(v))` gives the
   * same draw as `sampleHiddens(v)` without recomputing the layer. Only for {0,1} hidden units
   * (for ±1 units the mean 2p − 1 does not give back p to the last bit); returns false, touching
   * nothing, where it does not apply.
   */
  sampleHiddensFromMean?(mean: Float32Array, rng: Rng, out: Float32Array): boolean;
  /** E[v | h] at β (with the base-rate field when `baseBias` is given). */
  meanVisibles(h: Float32Array, o?: LayerOptions): Float32Array;
  /** A draw v ~ p_β(v | h). */
  sampleVisibles(h: Float32Array, rng: Rng, o?: LayerOptions): Float32Array;
  /** `k` block-Gibbs steps v → h → v at β; returns a new array (the input is not modified). */
  gibbs(v: Float32Array, rng: Rng, k?: number, t?: Tempering): Float32Array;
  /**
   * Sufficient statistics: `into[p] += scale · Σ_rows −∂E(v, h)/∂θ_p` for every
   * trainable parameter p. With h = E[h | v] this is the Rao–Blackwellised
   * phase statistic, since −∂E/∂θ is linear in h. With `rowWeights`, row r counts
   * `rowWeights[r]` times (an exact expectation over enumerated states).
   */
  accumulateStatistics(v: Float32Array, h: Float32Array, scale: number, into: Params, rowWeights?: Float64Array): void;
  /** log Z of the β = 0 member of the tempering family (closed form). */
  logZBase(baseBias?: Float32Array | null): number;
  /** Base-rate visible biases fitted to data marginals (rows × nVisible). */
  baseRateBias(data: Float32Array): Float32Array;
  /** Visible biases set from data marginals (Hinton's practical guide, §8.1). */
  initVisibleBiasFromData(data: Float32Array): void;
  /** Optional projection onto valid parameters, called by trainers after each update. */
  project?(): void;
  /** A deep copy (parameters and configuration). */
  clone(): EnergyModel;
}
