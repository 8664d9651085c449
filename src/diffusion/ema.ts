/**
 * Exponential moving average of network weights, the weights diffusion models are
 * sampled with (Ho et al. 2020 §4: decay 0.9999).
 *
 * The average starts as a copy of the weights, not zeros, and uses the warm-up
 * decay_t = min(decay, (1 + t)/(10 + t)) of TensorFlow's
 * `ExponentialMovingAverage(num_updates=…)`, so early averages follow the
 * weights closely instead of dragging in the random initialisation (an EMA used
 * too early gives noise: improved-diffusion #59, diffae #16).
 */
import { ShapeError, UsageError } from '../core/errors.js';

/** Options of {@link Ema}. */
export interface EmaOptions {
  /** Final decay (default 0.9999, Ho et al. 2020). */
  readonly decay?: number;
  /** Use the warm-up decay_t = min(decay, (1 + t)/(10 + t)) (default true). */
  readonly warmup?: boolean;
}

/** Serialisable state of an {@link Ema}, for checkpoints. */
export interface EmaState {
  readonly decay: number;
  readonly warmup: boolean;
  /** Number of updates so far. */
  readonly step: number;
  /** The averaged weights by name. */
  readonly weights: ReadonlyMap<string, Float32Array>;
}

function copyWeights(w: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of w) out.set(k, Float32Array.from(v));
  return out;
}

/**
 * An exponential moving average of a set of named weights (name → Float32Array,
 * e.g. from `getWeights()` of a model built from tfjs variables). Inputs are never
 * modified or kept.
 */
export class Ema {
  /** Final decay. */
  readonly decay: number;
  /** Whether the warm-up decay is used. */
  readonly warmup: boolean;
  private shadow: Map<string, Float32Array>;
  private t = 0;

  /**
   * @param weights - initial weights; the average starts as a copy of them
   * @throws UsageError if decay is outside [0, 1)
   */
  constructor(weights: ReadonlyMap<string, Float32Array>, opts: EmaOptions = {}) {
    const decay = opts.decay ?? 0.9999;
    if (!(decay >= 0 && decay < 1)) throw new UsageError(`EMA: decay must be in [0, 1), got ${decay}`);
    this.decay = decay;
    this.warmup = opts.warmup ?? true;
    this.shadow = copyWeights(weights);
  }

  /** Rebuild an average from {@link Ema.getState}. */
  static fromState(st: EmaState): Ema {
    const e = new Ema(st.weights, { decay: st.decay, warmup: st.warmup });
    if (!(Number.isInteger(st.step) && st.step >= 0)) throw new UsageError(`EMA state: step must be an integer ≥ 0, got ${st.step}`);
    e.t = st.step;
    return e;
  }

  /** Number of updates so far. */
  get step(): number {
    return this.t;
  }

  /** The decay the update number `t` (0 for the first) uses. */
  decayAt(t: number): number {
    return this.warmup ? Math.min(this.decay, (1 + t) / (10 + t)) : this.decay;
  }

  /**
   * shadow ← d·shadow + (1 − d)·weights with d = {@link Ema.decayAt}(step); then step + 1.
   * @throws ShapeError if a name is missing or a size differs
   */
  update(weights: ReadonlyMap<string, Float32Array>): void {
    for (const [name, s] of this.shadow) {
      const w = weights.get(name);
      if (!w) throw new ShapeError(`EMA: weights lack '${name}'`);
      if (w.length !== s.length) throw new ShapeError(`EMA: '${name}' has ${w.length} values, the average has ${s.length}`);
    }
    if (weights.size !== this.shadow.size) {
      for (const name of weights.keys()) if (!this.shadow.has(name)) throw new ShapeError(`EMA: unknown weight '${name}'`);
    }
    const d = this.decayAt(this.t);
    for (const [name, s] of this.shadow) {
      const w = weights.get(name)!;
      for (let i = 0; i < s.length; i++) s[i] = d * s[i]! + (1 - d) * w[i]!;
    }
    this.t++;
  }

  /** Copies of the averaged weights. */
  weights(): Map<string, Float32Array> {
    return copyWeights(this.shadow);
  }

  /** A snapshot for checkpoints (weights copied). */
  getState(): EmaState {
    return { decay: this.decay, warmup: this.warmup, step: this.t, weights: this.weights() };
  }
}
