/**
 * Metropolis–Hastings over binary visible configurations with single-site
 * flips, using only the free energy: accept v → v' with probability
 * min(1, exp(F_β(v) − F_β(v'))). Generic for any model with a free energy and
 * binary visible units; every chain proposes the same site at once so each
 * proposal is one batched free-energy evaluation.
 */
import type { Rng } from '../../core/rng.js';
import { assertShape } from '../../core/errors.js';
import { unitStates, type EnergyModel } from '../model.js';
import { initialStates, resolveChainOptions, type ChainOptions, type SampleResult } from './common.js';

/** Options of {@link metropolisSample}; one step is a sweep of nVisible proposals. */
export interface MetropolisOptions extends ChainOptions {
  /** 'sequential' (default) visits sites 0 … D−1 in each sweep; 'random' draws each site uniformly. */
  readonly order?: 'sequential' | 'random';
}

/** Diagnostics of {@link metropolisSample}. */
export interface MetropolisDiagnostics {
  /** Sweeps per chain. */
  readonly sweeps: number;
  /** Fraction of accepted single-site proposals. */
  readonly acceptance: number;
}

/** Run single-site Metropolis–Hastings chains on the visible marginal p_β(v) ∝ exp(−F_β(v)). */
export function metropolisSample(model: EnergyModel, rng: Rng, opts: MetropolisOptions = {}): SampleResult<MetropolisDiagnostics> {
  const states = unitStates(model.visibleUnits);
  assertShape(states !== null, 'Metropolis–Hastings needs binary visible units');
  const o = resolveChainOptions(opts);
  const nv = model.nVisible;
  const v = initialStates(model, o.chains, rng, opts.init, opts.baseBias);
  const chains = v.length / nv;
  const t = { beta: o.beta, baseBias: opts.baseBias ?? null };
  const y = Float32Array.from(v);
  let f = model.freeEnergy(v, t);
  const samples = new Float32Array(o.samples * chains * nv);
  const total = o.burnIn + (o.samples > 0 ? (o.samples - 1) * o.thin + 1 : 0);
  const flip = (x: number) => states[0] + states[1] - x;
  let accepted = 0;
  let kept = 0;
  for (let s = 1; s <= total; s++) {
    for (let step = 0; step < nv; step++) {
      const i = opts.order === 'random' ? rng.int(nv) : step;
      for (let c = 0; c < chains; c++) y[c * nv + i] = flip(v[c * nv + i]!);
      const g = model.freeEnergy(y, t);
      for (let c = 0; c < chains; c++) {
        const d = f[c]! - g[c]!;
        if (d >= 0 || rng.uniform() < Math.exp(d)) {
          v[c * nv + i] = y[c * nv + i]!;
          f[c] = g[c]!;
          accepted++;
        } else y[c * nv + i] = v[c * nv + i]!;
      }
    }
    // Refresh free energies now and then so float32 round-off cannot drift.
    if (s % 64 === 0) f = model.freeEnergy(v, t);
    if (s > o.burnIn && (s - o.burnIn - 1) % o.thin === 0 && kept < o.samples) samples.set(v, kept++ * chains * nv);
  }
  return { samples, final: v, diagnostics: { sweeps: total, acceptance: total > 0 ? accepted / (total * nv * chains) : 0 } };
}
