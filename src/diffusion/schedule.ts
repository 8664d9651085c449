/**
 * Variance schedules of a Gaussian diffusion process (Ho et al. 2020; Nichol &
 * Dhariwal 2021).
 *
 * Time steps follow the papers: t ∈ {1, …, T}. Every per-step array has length
 * T + 1 and its entry 0 is the identity step (β_0 = 0, ᾱ_0 = 1), so that the
 * formulas that look one step back (posterior, DDIM) need no special case at t = 1
 * and a network is always called with t ≥ 1.
 */
import { UsageError } from '../core/errors.js';

/** Kinds of schedule that can be rebuilt from a {@link ScheduleConfig}. */
export type ScheduleKind = 'linear' | 'cosine';

/** Options of the linear schedule. */
export interface LinearScheduleOptions {
  /** β_1 before scaling (Ho et al. 2020: 1e-4). */
  readonly betaStart?: number;
  /** β_T before scaling (Ho et al. 2020: 0.02). */
  readonly betaEnd?: number;
  /**
   * Multiply both ends by 1000/T (default true), so that the total noise and thus
   * √ᾱ_T stay close to those of Ho et al.'s T = 1000 for any T. Without it, T = 300
   * leaves √ᾱ_T ≈ 0.22 of the signal in x_T and sampling starts from the wrong prior.
   */
  readonly scale?: boolean;
}

/** Options of the cosine schedule. */
export interface CosineScheduleOptions {
  /** Offset s that keeps β_1 from being tiny (Nichol & Dhariwal 2021: 0.008). */
  readonly s?: number;
  /** Upper clip of β_t, which avoids the singularity at t = T (Nichol & Dhariwal: 0.999). */
  readonly maxBeta?: number;
}

/** Everything needed to rebuild a schedule (for configs and checkpoints). */
export type ScheduleConfig =
  | ({ readonly kind: 'linear'; readonly T: number } & LinearScheduleOptions)
  | ({ readonly kind: 'cosine'; readonly T: number } & CosineScheduleOptions);

function checkT(T: number): void {
  if (!(Number.isInteger(T) && T >= 1)) throw new UsageError(`noise schedule: T must be an integer ≥ 1, got ${T}`);
}

function frozen(a: Float64Array): readonly number[] {
  return Object.freeze(Array.from(a));
}

/**
 * A discrete variance schedule β_1 … β_T and the quantities derived from it. All
 * arrays are indexed by the paper's t (length T + 1, entry 0 = identity step) and
 * are frozen.
 */
export class NoiseSchedule {
  /** Number of diffusion steps. */
  readonly T: number;
  /** β_t (β_0 = 0). */
  readonly beta: readonly number[];
  /** α_t = 1 − β_t. */
  readonly alpha: readonly number[];
  /** ᾱ_t = Π_{s ≤ t} α_s (ᾱ_0 = 1). */
  readonly alphaBar: readonly number[];
  /** √ᾱ_t: the signal coefficient of q(x_t | x_0). */
  readonly sqrtAlphaBar: readonly number[];
  /** √(1 − ᾱ_t): the noise coefficient of q(x_t | x_0). */
  readonly sqrtOneMinusAlphaBar: readonly number[];
  /** β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of q(x_{t−1} | x_t, x_0) (Ho et al. 2020 eq. 7); β̃_0 = 0. */
  readonly posteriorVariance: readonly number[];
  /** How the schedule was made, when it can be rebuilt from that; null for {@link NoiseSchedule.fromBetas}. */
  readonly config: ScheduleConfig | null;

  private constructor(betas: Float64Array, config: ScheduleConfig | null) {
    const T = betas.length;
    checkT(T);
    const beta = new Float64Array(T + 1);
    const alpha = new Float64Array(T + 1);
    const alphaBar = new Float64Array(T + 1);
    const post = new Float64Array(T + 1);
    alpha[0] = 1;
    alphaBar[0] = 1;
    for (let t = 1; t <= T; t++) {
      const b = betas[t - 1]!;
      if (!(b > 0 && b < 1)) throw new UsageError(`noise schedule: β_${t} = ${b} is outside (0, 1)${config?.kind === 'linear' && config.scale ? ' (scaling by 1000/T needs betaEnd·1000/T < 1; use a larger T, the cosine schedule or scale: false)' : ''}`);
      beta[t] = b;
      alpha[t] = 1 - b;
      alphaBar[t] = alphaBar[t - 1]! * (1 - b);
      post[t] = ((1 - alphaBar[t - 1]!) / (1 - alphaBar[t]!)) * b;
    }
    this.T = T;
    this.config = config;
    this.beta = frozen(beta);
    this.alpha = frozen(alpha);
    this.alphaBar = frozen(alphaBar);
    this.sqrtAlphaBar = frozen(alphaBar.map(Math.sqrt));
    this.sqrtOneMinusAlphaBar = frozen(alphaBar.map((a) => Math.sqrt(1 - a)));
    this.posteriorVariance = frozen(post);
  }

  /** √ᾱ_T: how much of the data survives in x_T (should be ≈ 0 for x_T ~ N(0, I) to be the right prior). */
  get sqrtAlphaBarT(): number {
    return this.sqrtAlphaBar[this.T]!;
  }

  /**
   * Linear β_t from `betaStart` to `betaEnd` (Ho et al. 2020 §4), optionally
   * scaled by 1000/T (the scaling of lucidrains' `linear_beta_schedule`).
   * @throws UsageError if T is not an integer ≥ 1 or a scaled β_t reaches 1
   */
  static linear(T: number, opts: LinearScheduleOptions = {}): NoiseSchedule {
    checkT(T);
    const scale = opts.scale ?? true;
    const f = scale ? 1000 / T : 1;
    const b0 = (opts.betaStart ?? 1e-4) * f;
    const b1 = (opts.betaEnd ?? 0.02) * f;
    const betas = new Float64Array(T);
    for (let i = 0; i < T; i++) betas[i] = T === 1 ? b0 : b0 + ((b1 - b0) * i) / (T - 1);
    return new NoiseSchedule(betas, { kind: 'linear', T, betaStart: opts.betaStart ?? 1e-4, betaEnd: opts.betaEnd ?? 0.02, scale });
  }

  /**
   * Cosine schedule (Nichol & Dhariwal 2021 eq. 17): ᾱ(t) = f(t)/f(0) with
   * f(t) = cos²(π/2 · (t/T + s)/(1 + s)), β_t = min(1 − ᾱ(t)/ᾱ(t−1), maxBeta).
   * ᾱ_t is then recomputed as Π(1 − β_s), so it equals the formula except after a
   * clipped step (in practice only t = T, where f(T) = 0).
   * @throws UsageError if T is not an integer ≥ 1
   */
  static cosine(T: number, opts: CosineScheduleOptions = {}): NoiseSchedule {
    checkT(T);
    const s = opts.s ?? 0.008;
    const maxBeta = opts.maxBeta ?? 0.999;
    if (!(s >= 0)) throw new UsageError(`cosine schedule: s must be ≥ 0, got ${s}`);
    if (!(maxBeta > 0 && maxBeta < 1)) throw new UsageError(`cosine schedule: maxBeta must be in (0, 1), got ${maxBeta}`);
    const betas = new Float64Array(T);
    for (let t = 1; t <= T; t++) betas[t - 1] = Math.min(1 - cosineAlphaBar(t, T, s) / cosineAlphaBar(t - 1, T, s), maxBeta);
    return new NoiseSchedule(betas, { kind: 'cosine', T, s, maxBeta });
  }

  /**
   * A schedule from explicit β_1 … β_T (each in (0, 1)); the array is copied.
   * @throws UsageError if it is empty or a β is outside (0, 1)
   */
  static fromBetas(betas: ArrayLike<number>): NoiseSchedule {
    if (betas.length < 1) throw new UsageError('noise schedule: betas must hold at least one value');
    return new NoiseSchedule(Float64Array.from(betas as ArrayLike<number>), null);
  }

  /** Rebuild a schedule from its {@link NoiseSchedule.config}. */
  static create(cfg: ScheduleConfig): NoiseSchedule {
    switch (cfg.kind) {
      case 'linear':
        return NoiseSchedule.linear(cfg.T, cfg);
      case 'cosine':
        return NoiseSchedule.cosine(cfg.T, cfg);
      default:
        throw new UsageError(`noise schedule: unknown kind '${(cfg as { kind: string }).kind}' (expected linear or cosine)`);
    }
  }
}

/** ᾱ(t) of the cosine schedule before clipping: f(t)/f(0) (Nichol & Dhariwal 2021 eq. 17). */
export function cosineAlphaBar(t: number, T: number, s = 0.008): number {
  const f = (u: number) => Math.cos(((u / T + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  return f(t) / f(0);
}
