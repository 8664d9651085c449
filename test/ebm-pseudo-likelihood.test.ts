/**
 * The pseudo-likelihood of a binary RBM (src/ebm/pseudo-likelihood.ts): its value against
 * the model's own free energy with each unit flipped in turn, its gradient against central
 * finite differences, the sampled-site estimate's mean against the full sum, and the
 * trainer's 'pl' method recovering a known coupling (the inverse Ising problem).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { pseudoLikelihood } from '../src/ebm/pseudo-likelihood.js';
import { Trainer } from '../src/ebm/train.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import { LatticeSpinRBM } from '../src/physics/lattice-rbm.js';
import { squareTranslations } from '../src/physics/lattice.js';

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

function randomModel(units: '01' | 'pm1', nv: number, nh: number, seed: number): BernoulliRBM {
  const m = new BernoulliRBM({ nVisible: nv, nHidden: nh, units, initStd: 0.7 }, new Rng(seed), jsKernels);
  const g = new Rng(seed + 100);
  for (const p of ['a', 'b'] as const) for (let i = 0; i < m.params[p]!.length; i++) m.params[p]![i] = 0.8 * (2 * g.uniform() - 1);
  return m;
}

function randomBatch(units: '01' | 'pm1', rows: number, nv: number, seed: number): Float32Array {
  const g = new Rng(seed);
  return Float32Array.from({ length: rows * nv }, () => (g.uniform() < 0.4 ? 1 : units === 'pm1' ? -1 : 0));
}

/** PL from the free energy: Δ_i = F(v) − F(v^(i)), PL = −Σ_i softplus(Δ_i), mean over rows. */
function bruteForcePL(m: BernoulliRBM, batch: Float32Array, units: '01' | 'pm1'): number {
  const nv = m.nVisible;
  const rows = batch.length / nv;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const v = Float64Array.from(batch.subarray(r * nv, (r + 1) * nv));
    const F = m.freeEnergy(v)[0]!;
    for (let i = 0; i < nv; i++) {
      const w = v.slice();
      w[i] = units === 'pm1' ? -w[i]! : 1 - w[i]!;
      total -= softplus(F - m.freeEnergy(w)[0]!);
    }
  }
  return total / rows;
}

describe('pseudo-likelihood of a binary RBM', () => {
  for (const units of ['01', 'pm1'] as const) {
    it(`equals −Σ softplus(F(v) − F(v⁽ⁱ⁾)) from the model's own free energy (${units} units)`, () => {
      const m = randomModel(units, 7, 5, 3);
      const batch = randomBatch(units, 9, 7, 4);
      expect(pseudoLikelihood(m, batch)).toBeCloseTo(bruteForcePL(m, batch, units), 5);
    });

    it(`its gradient matches central finite differences in W, a and b (${units} units)`, () => {
      const m = randomModel(units, 6, 4, 5);
      const batch = randomBatch(units, 8, 6, 6);
      const grads = { W: new Float32Array(24), a: new Float32Array(6), b: new Float32Array(4) };
      pseudoLikelihood(m, batch, { grads });
      const h = 1e-2;
      for (const p of ['W', 'a', 'b'] as const) {
        const theta = m.params[p]!;
        for (let i = 0; i < theta.length; i++) {
          const t0 = theta[i]!;
          theta[i] = t0 + h;
          const up = pseudoLikelihood(m, batch);
          theta[i] = t0 - h;
          const down = pseudoLikelihood(m, batch);
          theta[i] = t0;
          // Central differences: O(h²) ≈ 1e-4 of the curvature scale; float32 parameters round h by ~1e-8.
          expect(grads[p][i]!, `${p}[${i}]`).toBeCloseTo((up - down) / (2 * h), 3);
        }
      }
    });
  }

  it('sampled sites estimate the full sum without bias (mean of 4000 draws within 4 standard errors)', () => {
    const m = randomModel('pm1', 10, 6, 7);
    const batch = randomBatch('pm1', 1, 10, 8);
    const full = pseudoLikelihood(m, batch);
    const rng = new Rng(9);
    const draws = Array.from({ length: 4000 }, () => pseudoLikelihood(m, batch, { sites: 3, rng }));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1));
    expect(sd).toBeGreaterThan(0.01);
    expect(Math.abs(mean - full)).toBeLessThan((4 * sd) / Math.sqrt(draws.length));
    expect(pseudoLikelihood(m, batch, { sites: 10, rng })).toBeCloseTo(full, 12);
  });

  it('rejects Gaussian units, ragged batches and sampled sites without an Rng, each in one line', () => {
    const m = randomModel('01', 4, 3, 1);
    expect(() => pseudoLikelihood(m, new Float32Array(7))).toThrow(/not whole rows of 4 visible units/);
    expect(() => pseudoLikelihood(m, new Float32Array(8), { sites: 2 })).toThrow(/need an Rng/);
    expect(() => pseudoLikelihood(m, new Float32Array(8), { sites: 5 })).toThrow(/sites must be an integer in 1…4/);
    expect(() => pseudoLikelihood({ ...m, visibleUnits: 'gaussian', params: m.params, nVisible: 4, nHidden: 3, hiddenUnits: '01' }, new Float32Array(8))).toThrow(/binary units/);
  });

  it("the trainer's 'pl' method recovers the coupling of two ±1 spins (the inverse Ising problem)", () => {
    // p(s₁, s₂) ∝ exp(J s₁ s₂), J = 0.6: the data are its four states weighted exactly by
    // replication (1000 rows). A zero-bias ±1 RBM with one hidden unit and weights (w, w)
    // has p ∝ cosh(w(s₁ + s₂)), i.e. J = ½ log cosh 2w: PL is consistent, so its maximiser
    // on the exact distribution is the true J.
    const J = 0.6;
    const z = 2 * Math.exp(J) + 2 * Math.exp(-J);
    const rowsOf = (p: number) => Math.round((1000 * p) / 2);
    const same = rowsOf((2 * Math.exp(J)) / z);
    const diff = rowsOf((2 * Math.exp(-J)) / z);
    const data: number[] = [];
    for (let i = 0; i < same; i++) data.push(1, 1, -1, -1);
    for (let i = 0; i < diff; i++) data.push(1, -1, -1, 1);
    const x = Float32Array.from(data);
    const n = x.length / 2;
    const jData = 0.5 * Math.log((2 * same) / (2 * diff));
    const m = new BernoulliRBM({ nVisible: 2, nHidden: 1, units: 'pm1', initStd: 0.3 }, new Rng(2), jsKernels);
    const tr = new Trainer(m, { method: 'pl', optimizer: 'adam', learningRate: 0.02, batchSize: n, initVisibleBias: false }, new Rng(3));
    for (let s = 0; s < 1500; s++) {
      tr.partialFit(x);
      m.params.a!.fill(0);
      m.params.b!.fill(0);
    }
    const [w1, w2] = [m.params.W![0]!, m.params.W![1]!];
    // One hidden unit gives J_eff = ½ log[cosh(w₁ + w₂) / cosh(w₁ − w₂)].
    const jFit = 0.5 * Math.log(Math.cosh(w1 + w2) / Math.cosh(w1 - w2));
    expect(jFit).toBeCloseTo(jData, 3);
    expect(Math.abs(jData - J)).toBeLessThan(0.01);
    expect(Number.isFinite(tr.lastPseudoLikelihood)).toBe(true);
  });
  it('over a weight mask (local filters) it gives the dense numbers on the free weights', () => {
    // An L = 4 lattice RBM with 2 × 2 filters: most weights are structurally zero.
    const m = new LatticeSpinRBM({ nVisible: 16, nHidden: 32, initStd: 0.5, translations: squareTranslations(4), filterSize: 2 }, new Rng(11));
    const mask = m.weightMask()!;
    const W = m.params.W!;
    let free = 0;
    for (let i = 0; i < W.length; i++) {
      if (mask[i]) free++;
      else expect(W[i]).toBe(0);
    }
    expect(free).toBe(2 * 16 * 4); // 2 families × 16 translations × a 4-site patch
    const batch = randomBatch('pm1', 12, 16, 12);
    const dense = { W: new Float32Array(W.length), a: new Float32Array(16), b: new Float32Array(32) };
    const sparse = { W: new Float32Array(W.length), a: new Float32Array(16), b: new Float32Array(32) };
    const v1 = pseudoLikelihood(m, batch, { grads: dense });
    const v2 = pseudoLikelihood(m, batch, { grads: sparse, mask });
    expect(v2).toBeCloseTo(v1, 10);
    for (let i = 0; i < W.length; i++) expect(sparse.W[i]!, `W[${i}]`).toBeCloseTo(mask[i] ? dense.W[i]! : 0, 6);
    expect(sparse.a).toBeAllClose(dense.a, { rtol: 1e-6, atol: 1e-7 });
    expect(sparse.b).toBeAllClose(dense.b, { rtol: 1e-6, atol: 1e-7 });
    expect(() => pseudoLikelihood(m, batch, { mask: new Uint8Array(5) })).toThrow(/mask has 5 entries/);
  });
});
