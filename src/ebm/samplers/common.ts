/**
 * Shared pieces of the MCMC samplers: options, results, chain initialisation.
 */
import type { Rng } from '../../core/rng.js';
import { assertShape } from '../../core/errors.js';
import type { EnergyModel } from '../model.js';

/** Options shared by the samplers (each field has a default). */
export interface ChainOptions {
  /** Number of independent chains (default 64). */
  readonly chains?: number;
  /** Initial visible states (chains × nVisible); default: draws from the base-rate model (or uniform). */
  readonly init?: Float32Array;
  /** Steps discarded before the first sample (default 100). */
  readonly burnIn?: number;
  /** Steps between kept samples (default 1). */
  readonly thin?: number;
  /** Samples kept per chain (default 1). */
  readonly samples?: number;
  /** Inverse temperature of the target (default 1). */
  readonly beta?: number;
  /** Base-rate visible biases for tempering and for the default initial states. */
  readonly baseBias?: Float32Array | null;
}

/** What a sampler returns. */
export interface SampleResult<D> {
  /** Kept samples, (samples × chains) × nVisible, ordered by draw then chain. */
  readonly samples: Float32Array;
  /** Final chain states (chains × nVisible), to continue sampling. */
  readonly final: Float32Array;
  /** Sampler-specific diagnostics (acceptance or swap rates). */
  readonly diagnostics: D;
}

/** Resolved numeric options. */
export interface Resolved {
  chains: number;
  burnIn: number;
  thin: number;
  samples: number;
  beta: number;
}

/** Validate and fill the defaults of {@link ChainOptions}. */
export function resolveChainOptions(o: ChainOptions): Resolved {
  const r = { chains: o.chains ?? (o.init ? -1 : 64), burnIn: o.burnIn ?? 100, thin: o.thin ?? 1, samples: o.samples ?? 1, beta: o.beta ?? 1 };
  for (const [k, v] of Object.entries({ burnIn: r.burnIn, samples: r.samples })) assertShape(Number.isInteger(v) && v >= 0, `${k} must be a non-negative integer, got ${v}`);
  assertShape(Number.isInteger(r.thin) && r.thin >= 1, `thin must be a positive integer, got ${r.thin}`);
  assertShape(r.beta >= 0 && r.beta <= 1, `beta must lie in [0, 1], got ${r.beta}`);
  return r;
}

/** Initial chain states: a copy of `init`, or `chains` draws from the β = 0 model. */
export function initialStates(model: EnergyModel, chains: number, rng: Rng, init?: Float32Array, baseBias?: Float32Array | null): Float32Array {
  if (init) {
    assertShape(init.length % model.nVisible === 0 && init.length > 0, `init has ${init.length} entries, not a positive multiple of ${model.nVisible}`);
    return Float32Array.from(init);
  }
  assertShape(Number.isInteger(chains) && chains >= 1, `chains must be a positive integer, got ${chains}`);
  const base = baseBias ?? (model.visibleUnits === 'gaussian' ? new Float32Array(model.nVisible) : null);
  return model.sampleVisibles(new Float32Array(chains * model.nHidden), rng, { beta: 0, baseBias: base });
}
