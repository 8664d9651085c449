/**
 * Parallel tempering (Swendsen & Wang 1986; Geyer 1991; for RBMs Desjardins et
 * al., AISTATS 2010): replicas at inverse temperatures β_0 = 1 > β_1 > … > β_K,
 * each updated by block Gibbs, with swaps of the visible states of neighbouring
 * replicas accepted with probability
 *   min(1, exp(F_a(v_a) + F_b(v_b) − F_a(v_b) − F_b(v_a))),
 * where F_β is the tempered free energy (swapping v and resampling h is valid
 * because h is summed out). Even and odd neighbour pairs alternate.
 */
import type { Rng } from '../../core/rng.js';
import { assertShape } from '../../core/errors.js';
import type { EnergyModel } from '../model.js';
import { initialStates, resolveChainOptions, type ChainOptions, type SampleResult } from './common.js';

/** Ladder options of {@link ParallelTempering}. */
export interface LadderOptions {
  /** Explicit ladder, decreasing from 1 (overrides `replicas`/`betaMin`). */
  readonly betas?: ArrayLike<number>;
  /** Number of replicas including β = 1 (default 10). */
  readonly replicas?: number;
  /** Smallest β of the default ladder, which is linear in β (default 0; 0.1 for Gaussian visibles without a base). */
  readonly betaMin?: number;
  /** Base-rate visible biases: replicas then interpolate towards the base model. */
  readonly baseBias?: Float32Array | null;
  /** Gibbs steps per replica between swap rounds (default 1). */
  readonly gibbsSteps?: number;
}

/** Swap statistics of one neighbour pair. */
export interface SwapStats {
  /** Swap attempts (per chain). */
  attempts: number;
  /** Accepted swaps. */
  accepted: number;
}

/** A set of tempered replicas for many independent chains, advanced sweep by sweep. */
export class ParallelTempering {
  /** Current ladder β_0 = 1 > … > β_K. */
  readonly betas: Float64Array;
  /** Replica states: replicas[k] is chains × nVisible at β_k. */
  readonly replicas: Float32Array[];
  /** Swap statistics per neighbour pair (k, k+1), since construction or the last reset. */
  readonly swaps: SwapStats[];
  /** Number of chains. */
  readonly chains: number;
  private readonly h: Float32Array;
  private readonly hm: Float32Array;
  private readonly vm: Float32Array;
  /** Which neighbour pairs swap next: 0 → (0,1), (2,3)…; 1 → (1,2), (3,4)… */
  parity = 0;
  private readonly gibbsSteps: number;
  private readonly baseBias: Float32Array | null;

  /**
   * @param model - the model (read at every sweep, so it may be trained in between)
   * @param chains - independent chains per replica
   * @param rng - draws the initial states
   * @param opts - ladder options
   * @param init - initial states for every replica (chains × nVisible)
   */
  constructor(
    readonly model: EnergyModel,
    chains: number,
    rng: Rng,
    opts: LadderOptions = {},
    init?: Float32Array,
  ) {
    this.baseBias = opts.baseBias ?? null;
    if (opts.betas) {
      this.betas = Float64Array.from(opts.betas);
    } else {
      const K = opts.replicas ?? 10;
      assertShape(Number.isInteger(K) && K >= 2, `parallel tempering needs at least 2 replicas, got ${K}`);
      const bMin = opts.betaMin ?? (model.visibleUnits === 'gaussian' && !this.baseBias ? 0.1 : 0);
      this.betas = new Float64Array(K);
      for (let k = 0; k < K; k++) this.betas[k] = 1 - ((1 - bMin) * k) / (K - 1);
    }
    assertShape(this.betas.length >= 2 && this.betas[0] === 1, 'the ladder must start at β = 1 and have at least 2 replicas');
    for (let k = 1; k < this.betas.length; k++) assertShape(this.betas[k]! < this.betas[k - 1]! && this.betas[k]! >= 0, 'the ladder must decrease strictly and stay ≥ 0');
    const first = initialStates(model, chains, rng, init, this.baseBias);
    this.chains = first.length / model.nVisible;
    this.replicas = [];
    for (let k = 0; k < this.betas.length; k++) this.replicas.push(k === 0 ? first : Float32Array.from(first));
    this.swaps = [];
    for (let k = 0; k + 1 < this.betas.length; k++) this.swaps.push({ attempts: 0, accepted: 0 });
    this.h = new Float32Array(this.chains * model.nHidden);
    this.hm = new Float32Array(this.chains * model.nHidden);
    this.vm = new Float32Array(this.chains * model.nVisible);
    this.gibbsSteps = opts.gibbsSteps ?? 1;
  }

  /** Swap acceptance rate of each neighbour pair. */
  swapRates(): Float64Array {
    return Float64Array.from(this.swaps, (s) => (s.attempts > 0 ? s.accepted / s.attempts : 0));
  }

  /** Zero the swap statistics. */
  resetStats(): void {
    for (const s of this.swaps) s.attempts = s.accepted = 0;
  }

  /** One round: Gibbs steps in every replica, then swaps between the even (or odd) neighbour pairs. */
  sweep(rng: Rng): void {
    const m = this.model;
    for (let k = 0; k < this.betas.length; k++) {
      const t = { beta: this.betas[k]!, baseBias: this.baseBias };
      const v = this.replicas[k]!;
      for (let s = 0; s < this.gibbsSteps; s++) {
        m.sampleHiddens(v, rng, { ...t, out: this.h, mean: this.hm });
        m.sampleVisibles(this.h, rng, { ...t, out: v, mean: this.vm });
      }
    }
    const nv = m.nVisible;
    for (let k = this.parity; k + 1 < this.betas.length; k += 2) {
      const a = this.replicas[k]!;
      const b = this.replicas[k + 1]!;
      const bb = [this.betas[k]!, this.betas[k + 1]!];
      const [faa, fba] = m.freeEnergyAt(a, bb, this.baseBias);
      const [fab, fbb] = m.freeEnergyAt(b, bb, this.baseBias);
      const st = this.swaps[k]!;
      for (let c = 0; c < this.chains; c++) {
        const logA = faa![c]! + fbb![c]! - fab![c]! - fba![c]!;
        st.attempts++;
        if (logA >= 0 || rng.uniform() < Math.exp(logA)) {
          st.accepted++;
          for (let i = c * nv; i < (c + 1) * nv; i++) {
            const x = a[i]!;
            a[i] = b[i]!;
            b[i] = x;
          }
        }
      }
    }
    this.parity ^= 1;
  }

  /**
   * Move the inner rungs so that swap rates even out: each gap in log β is
   * scaled by exp(κ·(A_k − Ā)) (clamped to [½, 2]) and the gaps are rescaled to
   * keep β_0 = 1 and β_K fixed; β_K = 0 is handled with a linear ladder.
   */
  adaptLadder(kappa: number = 1): void {
    const K = this.betas.length - 1;
    if (K < 2) return;
    const rates = this.swapRates();
    const mean = rates.reduce((s, x) => s + x, 0) / K;
    const zeroTop = this.betas[K] === 0;
    const pos = Float64Array.from(this.betas, (b) => (zeroTop ? 1 - b : -Math.log(b)));
    const gaps = new Float64Array(K);
    for (let k = 0; k < K; k++) gaps[k] = (pos[k + 1]! - pos[k]!) * Math.min(2, Math.max(0.5, Math.exp(kappa * (rates[k]! - mean))));
    const total = gaps.reduce((s, x) => s + x, 0);
    const span = pos[K]! - pos[0]!;
    let acc = 0;
    for (let k = 1; k < K; k++) {
      acc += (gaps[k - 1]! * span) / total;
      this.betas[k] = zeroTop ? 1 - acc : Math.exp(-acc);
    }
    this.resetStats();
  }
}

/** Options of {@link temperedSample}. */
export interface TemperingOptions extends ChainOptions, LadderOptions {
  /** Adapt the ladder during burn-in every `adaptEvery` sweeps (default false). */
  readonly adaptive?: boolean;
  /** Sweeps between ladder adaptations (default 50). */
  readonly adaptEvery?: number;
}

/** Diagnostics of {@link temperedSample}. */
export interface TemperingDiagnostics {
  /** The final ladder. */
  readonly betas: Float64Array;
  /** Swap acceptance rate per neighbour pair since the last ladder adaptation (or the start). */
  readonly swapRates: Float64Array;
  /** Sweeps per chain. */
  readonly sweeps: number;
}

/** Sample the β = 1 replica of a parallel-tempering run (burn-in, thinning, many chains). */
export function temperedSample(model: EnergyModel, rng: Rng, opts: TemperingOptions = {}): SampleResult<TemperingDiagnostics> {
  const o = resolveChainOptions(opts);
  assertShape(o.beta === 1, 'parallel tempering samples the β = 1 replica; pass a ladder instead of beta');
  const pt = new ParallelTempering(model, o.chains, rng, opts, opts.init);
  const nv = model.nVisible;
  const chains = pt.chains;
  const every = opts.adaptEvery ?? 50;
  for (let s = 1; s <= o.burnIn; s++) {
    pt.sweep(rng);
    if (opts.adaptive && s % every === 0 && s + every <= o.burnIn) pt.adaptLadder();
  }
  const samples = new Float32Array(o.samples * chains * nv);
  const total = o.samples > 0 ? (o.samples - 1) * o.thin + 1 : 0;
  let kept = 0;
  for (let s = 0; s < total; s++) {
    pt.sweep(rng);
    if (s % o.thin === 0 && kept < o.samples) samples.set(pt.replicas[0]!, kept++ * chains * nv);
  }
  return {
    samples,
    final: Float32Array.from(pt.replicas[0]!),
    diagnostics: { betas: Float64Array.from(pt.betas), swapRates: pt.swapRates(), sweeps: o.burnIn + total },
  };
}
