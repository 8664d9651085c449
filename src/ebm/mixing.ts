/**
 * Has a set of MCMC chains mixed? A cheap check that needs no extra sampling: the
 * chains' mean free energy F(v) halfway through the burn-in and at its end. While chains
 * still relax from their start, F drifts (usually down); once they sample the model, the
 * two means agree within their standard errors. A drift beyond 3 combined standard
 * errors says the burn-in was too short. Agreement does not prove mixing (chains stuck in
 * one mode agree with themselves), so the message says "no drift detected", no more.
 */
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
