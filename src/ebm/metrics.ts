/**
 * Quality measures for energy models: exact or AIS log-likelihood,
 * pseudo-likelihood, reconstruction error, and the free-energy gap between
 * training and validation data (an overfitting monitor).
 */
import type { Rng } from '../core/rng.js';
import { ShapeError, assertShape } from '../core/errors.js';
import { unitStates, type EnergyModel } from './model.js';
import { softplus } from './rbm.js';

function rowsOf(model: EnergyModel, data: Float32Array): number {
  const rows = data.length / model.nVisible;
  if (!Number.isInteger(rows) || rows < 1) throw new ShapeError(`data has ${data.length} values, not whole rows of the model's ${model.nVisible} visible units (rows × ${model.nVisible})`);
  return rows;
}

/** Mean free energy of the rows of `data` (float64 accumulation, evaluated in chunks). */
export function meanFreeEnergy(model: EnergyModel, data: Float32Array, chunk: number = 1000): number {
  const nv = model.nVisible;
  const rows = rowsOf(model, data);
  let s = 0;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const f = model.freeEnergy(data.subarray(r0 * nv, Math.min(rows, r0 + chunk) * nv));
    for (let i = 0; i < f.length; i++) s += f[i]!;
  }
  return s / rows;
}

/** Mean log-likelihood (nats per example) given log Z: mean(−F(v)) − log Z. */
export function logLikelihood(model: EnergyModel, data: Float32Array, logZ: number): number {
  return -meanFreeEnergy(model, data) - logZ;
}

/** Options of {@link pseudoLikelihood}. */
export interface PseudoLikelihoodOptions {
  /**
   * 'mean' (default): per-dimension average (1/D)·Σ_i log p(v_i | v_−i), comparable
   * across image sizes; 'sum': Σ_i log p(v_i | v_−i), the usual pseudo-log-likelihood.
   */
  readonly normalize?: 'mean' | 'sum';
  /**
   * With an `rng`, one random site per row is used and scaled by D (the cheap
   * stochastic estimate scikit-learn's `score_samples` returns, which is a
   * *sum*-normalised quantity: scikit-learn #23179). Without, all D sites are used.
   */
  readonly rng?: Rng;
  /** Rows per batch (default 256). */
  readonly chunk?: number;
}

/**
 * Pseudo-log-likelihood (Besag 1975) of binary data, averaged over rows:
 * log p(v_i | v_−i) = log σ(F(v with i flipped) − F(v)).
 */
export function pseudoLikelihood(model: EnergyModel, data: Float32Array, opts: PseudoLikelihoodOptions = {}): number {
  const states = unitStates(model.visibleUnits);
  assertShape(states !== null, 'pseudo-likelihood needs binary visible units');
  const nv = model.nVisible;
  const rows = rowsOf(model, data);
  const chunk = opts.chunk ?? 256;
  const flip = (x: number) => states[0] + states[1] - x;
  let total = 0;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const n = Math.min(rows, r0 + chunk) - r0;
    const x = data.subarray(r0 * nv, (r0 + n) * nv);
    const f0 = model.freeEnergy(x);
    const y = Float32Array.from(x);
    if (opts.rng) {
      const site = new Uint32Array(n);
      for (let r = 0; r < n; r++) {
        site[r] = opts.rng.int(nv);
        y[r * nv + site[r]!] = flip(y[r * nv + site[r]!]!);
      }
      const f1 = model.freeEnergy(y);
      for (let r = 0; r < n; r++) total += nv * -softplus(f0[r]! - f1[r]!);
    } else {
      for (let i = 0; i < nv; i++) {
        for (let r = 0; r < n; r++) y[r * nv + i] = flip(x[r * nv + i]!);
        const f1 = model.freeEnergy(y);
        for (let r = 0; r < n; r++) {
          total += -softplus(f0[r]! - f1[r]!);
          y[r * nv + i] = x[r * nv + i]!;
        }
      }
    }
  }
  const mean = total / rows;
  return (opts.normalize ?? 'mean') === 'mean' ? mean / nv : mean;
}

/**
 * Mean squared reconstruction error per example, Σ_i (v_i − E[v_i | E[h | v]])²
 * averaged over rows (a training monitor, not a likelihood).
 */
export function reconstructionError(model: EnergyModel, data: Float32Array, chunk: number = 1000): number {
  const nv = model.nVisible;
  const rows = rowsOf(model, data);
  let s = 0;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const x = data.subarray(r0 * nv, Math.min(rows, r0 + chunk) * nv);
    const rec = model.meanVisibles(model.meanHiddens(x));
    for (let k = 0; k < x.length; k++) s += (x[k]! - rec[k]!) ** 2;
  }
  return s / rows;
}

/**
 * Free-energy gap mean F(validation) − mean F(train) (Hinton's practical guide
 * §6): it grows when the model starts to overfit. Both sets are evaluated on at
 * most `maxRows` rows each so the comparison is cheap and balanced.
 */
export function freeEnergyGap(model: EnergyModel, train: Float32Array, valid: Float32Array, maxRows: number = 1000): number {
  const nv = model.nVisible;
  const t = train.subarray(0, Math.min(rowsOf(model, train), maxRows) * nv);
  const v = valid.subarray(0, Math.min(rowsOf(model, valid), maxRows) * nv);
  return meanFreeEnergy(model, v) - meanFreeEnergy(model, t);
}
