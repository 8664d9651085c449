/**
 * Has a set of MCMC chains mixed? A cheap check that needs no extra sampling: the
 * chains' mean free energy F(v) halfway through the burn-in and at its end. While chains
 * still relax from their start, F drifts (usually down); once they sample the model, the
 * two means agree within their standard errors. A drift beyond 3 combined standard
 * errors says the burn-in was too short. Agreement does not prove mixing (chains stuck in
 * one mode agree with themselves), so the message says "no drift detected", no more.
 */
import type { Rng } from '../core/rng.js';
import type { EnergyModel } from './model.js';

/** The outcome of {@link freeEnergyDrift}. */
export interface FreeEnergyDrift {
  /** Mean F over the chains at the midpoint of the burn-in, and its standard error. */
  readonly mid: { readonly value: number; readonly error: number };
  /** Mean F over the chains at the end. */
  readonly end: { readonly value: number; readonly error: number };
  /** (end − mid) / combined standard error. */
  readonly z: number;
  /** |z| ≤ 3. */
  readonly noDrift: boolean;
}

function meanAndError(f: Float64Array): { value: number; error: number } {
  const n = f.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += f[i]!;
  const m = s / n;
  let q = 0;
  for (let i = 0; i < n; i++) q += (f[i]! - m) ** 2;
  return { value: m, error: n > 1 ? Math.sqrt(q / (n - 1) / n) : Number.POSITIVE_INFINITY };
}

/**
 * Compare the chains' free energies at the burn-in's midpoint (`mid`) and end (`end`),
 * each `chains × nVisible`, as independent samples across chains (one state per chain).
 */
export function freeEnergyDrift(model: EnergyModel, mid: Float32Array, end: Float32Array): FreeEnergyDrift {
  const a = meanAndError(model.freeEnergy(mid));
  const b = meanAndError(model.freeEnergy(end));
  const se = Math.hypot(a.error, b.error);
  const z = se > 0 ? (b.value - a.value) / se : b.value === a.value ? 0 : Number.POSITIVE_INFINITY;
  return { mid: a, end: b, z, noDrift: Math.abs(z) <= 3 };
}

/**
 * How far one block-Gibbs step moves a set of chains: the fraction of visible units whose
 * value changes under h ~ p(h | v), v' ~ p(v' | h), from the chains' current states
 * (`chains × nVisible`, untouched; the step runs on a copy with its own stream). For
 * binary or ±1 visibles only. A persistent chain that flips almost nothing per step has
 * stopped exploring: its states, and the PCD negative phase computed from them, are
 * stale (as when the weights grow until the conditionals saturate; Desjardins et al.,
 * AISTATS 2010, on PCD's mixing). A high rate does not prove mixing.
 */
export function chainFlipRate(model: EnergyModel, chains: Float32Array, rng: Rng): number {
  const v = model.sampleVisibles(model.sampleHiddens(chains, rng), rng);
  let changed = 0;
  for (let i = 0; i < chains.length; i++) if (v[i] !== chains[i]) changed++;
  return chains.length > 0 ? changed / chains.length : 0;
}
