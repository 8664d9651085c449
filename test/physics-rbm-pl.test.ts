/**
 * The pseudo-likelihood fit of the lattice RBM (`--method pl --filter-size 2`, the demo's
 * recipe) at T_c on the 4×4 lattice, where the trained model's own observables can be
 * enumerated (2^16 visible states): its model error in e, C and χ against the exact Ising
 * values, with no sampling error in the comparison.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { runRbmPipeline } from '../src/physics/rbm-pipeline.js';

describe('pseudo-likelihood RBM at T_c (L = 4, exact model observables)', () => {
  it('reproduces e, C and χ of the exact Ising model at T = 1.5 and T_c', async () => {
    // Trial run (seed 1): e −0.15 / −0.17 %, C −5.9 / +0.47 %, χ −7.5 / +0.99 %, KL 2.8e-4 /
    // 4.7e-4 at T = 1.5 / 2.269; the PCD-5 + SGD defaults of `ising rbm` left χ −35 % at
    // T = 1.5 in model error alone (BENCHMARKS.md).
    const rows = await runRbmPipeline(
      {
        L: 4,
        temps: [1.5, 2.269],
        nTrain: 8000,
        sweepsBetween: 5,
        burnIn: 200,
        train: { nHidden: 32, method: 'pl', filterSize: 2, optimizer: 'adam', learningRate: 0.03, batchSize: 100, epochs: 40 },
        sample: { chains: 20, burnIn: 50, steps: 200 },
        workers: 0,
      },
      new Rng(1),
    );
    for (const r of rows) {
      const ex = r.exact;
      const rbm = r.rbmExact!;
      expect(rbm.source).toBe('RBM marginal (enumerated)');
      const rel = (a: number, b: number) => (100 * (a - b)) / Math.abs(b);
      // The fit cannot beat its data: model errors of the order of the 8000 configurations'
      // own standard errors are what a consistent estimator gives; 4 of those bound e and C.
      expect(Math.abs(rbm.energy! - ex.energy!)).toBeLessThan(4 * r.mc.energy.error);
      expect(Math.abs(rbm.specificHeat! - ex.specificHeat!)).toBeLessThan(4 * r.mc.specificHeat.error);
      // χ measured: −7.5 % at T = 1.5 (the ordered phase: few flipped spins inform the fit),
      // +1.0 % at T_c.
      expect(Math.abs(rel(rbm.susceptibility!, ex.susceptibility!))).toBeLessThan(r.T < 2 ? 10 : 2);
      expect(r.kl!).toBeLessThan(2e-3);
    }
  }, 120_000);
});
