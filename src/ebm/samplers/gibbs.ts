/**
 * Block Gibbs sampling v → h → v for any {@link EnergyModel}: many chains in
 * parallel, burn-in, thinning, at any inverse temperature.
 */
import type { Rng } from '../../core/rng.js';
import type { EnergyModel } from '../model.js';
import { initialStates, resolveChainOptions, type ChainOptions, type SampleResult } from './common.js';

/** Diagnostics of {@link gibbsSample}. */
export interface GibbsDiagnostics {
  /** Total Gibbs steps per chain. */
  readonly steps: number;
  /** Mean fraction of visible units that changed per step (chain mobility); 1 for continuous units. */
  readonly changeRate: number;
  /** Gibbs steps always accept. */
  readonly acceptance: 1;
}

/**
 * Run block Gibbs chains: `burnIn` steps, then `samples` kept states per chain,
 * `thin` steps apart.
 */
export function gibbsSample(model: EnergyModel, rng: Rng, opts: ChainOptions = {}): SampleResult<GibbsDiagnostics> {
  const o = resolveChainOptions(opts);
  const nv = model.nVisible;
  const v = initialStates(model, o.chains, rng, opts.init, opts.baseBias);
  const chains = v.length / nv;
  const t = { beta: o.beta, baseBias: opts.baseBias ?? null };
  const h = new Float32Array(chains * model.nHidden);
  const hm = new Float32Array(chains * model.nHidden);
  const vm = new Float32Array(chains * nv);
  const prev = new Float32Array(chains * nv);
  const samples = new Float32Array(o.samples * chains * nv);
  const total = o.burnIn + (o.samples > 0 ? (o.samples - 1) * o.thin + 1 : 0);
  let changed = 0;
  let kept = 0;
  for (let s = 1; s <= total; s++) {
    prev.set(v);
    model.sampleHiddens(v, rng, { ...t, out: h, mean: hm });
    model.sampleVisibles(h, rng, { ...t, out: v, mean: vm });
    for (let k = 0; k < v.length; k++) if (v[k] !== prev[k]) changed++;
    if (s > o.burnIn && (s - o.burnIn - 1) % o.thin === 0 && kept < o.samples) samples.set(v, kept++ * chains * nv);
  }
  return { samples, final: v, diagnostics: { steps: total, changeRate: total > 0 ? changed / (total * v.length) : 0, acceptance: 1 } };
}
