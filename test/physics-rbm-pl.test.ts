/**
 * The pseudo-likelihood fit of the lattice RBM (`--method pl --filter-size 2`, the demo's
 * recipe) at T_c on the 4×4 lattice, where the trained model's own observables can be
 * enumerated (2^16 visible states): its model error in e, C and χ against the exact Ising
 * values, with no sampling error in the comparison.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { checkTrainSettings, ISING_RBM_SAMPLE_DEFAULTS, resolveTrain, runRbmPipeline } from '../src/physics/rbm-pipeline.js';

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

describe('the ising rbm defaults (issue #15: within 3 % of the exact values)', () => {
  it('are the pseudo-likelihood recipe on 2 × 2 filters; whole-lattice filters without translation invariance', () => {
    const r = resolveTrain({}, 64);
    expect({ method: r.method, filterSize: r.filterSize, optimizer: r.optimizer, learningRate: r.learningRate, batchSize: r.batchSize, epochs: r.epochs, averaging: r.averaging, nHidden: r.nHidden, translationInvariant: r.translationInvariant }).toEqual({
      method: 'pl', filterSize: 2, optimizer: 'adam', learningRate: 0.03, batchSize: 100, epochs: 60, averaging: 0.3, nHidden: 128, translationInvariant: true,
    });
    expect(checkTrainSettings(8, { translationInvariant: false, nHidden: 64 }).filterSize).toBe(0);
    expect(checkTrainSettings(8, { method: 'pcd' }).pcdChains).toBe(100);
    expect(ISING_RBM_SAMPLE_DEFAULTS).toEqual({ chains: 1000, burnIn: 500, steps: 10000 });
  });

  it('L = 4, T_c and T = 3: the trained RBM\'s exact C and χ within 3 % of the Ising values', async () => {
    // Everything at its default but the hidden units (2L² = 32) and the sampling (the RBM's own
    // observables are enumerated here): 20 000 Wolff configurations per temperature, 60 epochs.
    // Measured model errors, seeds 1 / 2 / 3 (`ising rbm --L 4 --temps 1.5,2.269,3.0 --hidden 32
    // --seed S`, the RBM-exact columns): T_c: e +0.18 / −0.17 / +0.26 %, |m| −0.09 / +0.15 / −0.23 %,
    // C +0.86 / +0.18 / +0.98 %, χ +0.33 / −0.54 / +1.62 %; T = 3: e +1.00 / +0.26 / +0.21 %,
    // |m| −0.63 / −0.11 / −0.26 %, C −0.42 / −0.24 / −0.33 %, χ −0.27 / −0.22 / +0.11 %. The seeds scatter by ≈ 1 % on χ
    // at T_c, so 3 % (the target) is ≈ 3 of those. (At T = 1.5 the same fits scatter by
    // ±6–7 % in χ: BENCHMARKS.md "The full ising rbm defaults".) This checks the target where it can
    // be checked exactly; it does not single out the recipe: at L = 4 and T ≥ T_c, PCD-5 with SGD
    // and whole-lattice filters also pass (tried). What separates them is L = 8 near T_c, in
    // BENCHMARKS.md; a learning rate 100× too small fails here.
    const rows = await runRbmPipeline(
      { L: 4, temps: [2.269, 3.0], nTrain: 20000, algorithm: 'wolff', sweepsBetween: 10, burnIn: 1000, chains: 4, train: { nHidden: 32 }, sample: { chains: 20, burnIn: 50, steps: 200 }, workers: 0 },
      new Rng(1),
    );
    for (const r of rows) {
      const ex = r.exact;
      const rbm = r.rbmExact!;
      const rel = (a: number, b: number) => (100 * (a - b)) / Math.abs(b);
      for (const k of ['energy', 'absMagnetisation', 'specificHeat', 'susceptibility'] as const) expect(Math.abs(rel(rbm[k]!, ex[k]!)), `${k} at T = ${r.T}`).toBeLessThan(3);
    }
  }, 120_000);
});
