/**
 * The exact negative phase (src/ebm/exact-phase.ts): model expectations against a brute
 * force over both layers, and the trainer's exact-method gradient against central finite
 * differences of the exact log-likelihood (computed in float64 through exactLogZ).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BernoulliRBM,
  ExactPhase,
  GaussianBernoulliRBM,
  Trainer,
  exactLogZ,
  exactPhaseIsDefault,
  exactPhaseLayer,
  fillConfigurations,
  unitStates,
  type EnergyModel,
  type Params,
} from '../src/ebm/index.js';

/** A model with O(1) random parameters (the default init is nearly uniform and would test little). */
function randomModel(model: EnergyModel, rng: Rng, scale = 0.7): EnergyModel {
  for (const p of ['W', 'a', 'b']) {
    const x = model.params[p]!;
    for (let i = 0; i < x.length; i++) x[i] = scale * rng.normal();
  }
  return model;
}

/** E_model[v hᵀ], E[v], E[h] by summing p(v, h) = exp(−E(v, h))/Z over every joint state. */
function bruteForceMoments(model: EnergyModel): { W: Float64Array; a: Float64Array; b: Float64Array } {
  const nv = model.nVisible;
  const nh = model.nHidden;
  const sv = unitStates(model.visibleUnits)!;
  const sh = unitStates(model.hiddenUnits)!;
  const V = new Float64Array(2 ** nv * nv);
  const H = new Float64Array(2 ** nh * nh);
  fillConfigurations(0, 2 ** nv, nv, sv, V);
  fillConfigurations(0, 2 ** nh, nh, sh, H);
  const W = new Float64Array(nv * nh);
  const a = new Float64Array(nv);
  const b = new Float64Array(nh);
  let Z = 0;
  for (let iv = 0; iv < 2 ** nv; iv++)
    for (let ih = 0; ih < 2 ** nh; ih++) {
      const v = V.subarray(iv * nv, (iv + 1) * nv);
      const h = H.subarray(ih * nh, (ih + 1) * nh);
      const p = Math.exp(-model.energy(v, h)[0]!);
      Z += p;
      for (let i = 0; i < nv; i++) {
        a[i]! += p * v[i]!;
        for (let j = 0; j < nh; j++) W[i * nh + j]! += p * v[i]! * h[j]!;
      }
      for (let j = 0; j < nh; j++) b[j]! += p * h[j]!;
    }
  for (const x of [W, a, b]) for (let i = 0; i < x.length; i++) x[i]! /= Z;
  return { W, a, b };
}

function zeros(model: EnergyModel): Params {
  return Object.fromEntries(model.trainable.map((p) => [p, new Float32Array(model.params[p]!.length)]));
}

/** Mean exact log-likelihood of `data` in float64. */
function exactMeanLL(model: EnergyModel, data: Float64Array): number {
  const f = model.freeEnergy(data);
  let s = 0;
  for (const x of f) s -= x;
  return s / f.length - exactLogZ(model);
}

/** Central differences of the exact mean LL in every trainable parameter (float32 storage; the step actually taken is used). */
function finiteDifferenceGradient(model: EnergyModel, data: Float64Array, eps = 2e-3): Params {
  const g: Params = {};
  for (const p of model.trainable) {
    const x = model.params[p]!;
    g[p] = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]!;
      x[i] = x0 + eps;
      const up = x[i]!;
      const lp = exactMeanLL(model, data);
      x[i] = x0 - eps;
      const dn = x[i]!;
      const lm = exactMeanLL(model, data);
      x[i] = x0;
      g[p]![i] = (lp - lm) / (up - dn);
    }
  }
  return g;
}

describe('exact negative phase: model expectations', () => {
  for (const units of ['01', 'pm1'] as const) {
    for (const layer of ['visible', 'hidden'] as const) {
      it(`${units} units, enumerating the ${layer} layer, equals the brute force over (v, h)`, () => {
        const model = randomModel(new BernoulliRBM({ nVisible: 5, nHidden: 4, units }), new Rng(units === '01' ? 3 : 4));
        const want = bruteForceMoments(model);
        const got = zeros(model);
        const logZ = new ExactPhase(model, { layer, chunk: 8 }).accumulate(1, got);
        // float32 free energies and GEMM: errors of a few 1e-7 relative.
        expect(got.W).toBeAllClose(want.W, { atol: 2e-6 });
        expect(got.a).toBeAllClose(want.a, { atol: 2e-6 });
        expect(got.b).toBeAllClose(want.b, { atol: 2e-6 });
        expect(logZ).toBeCloseTo(exactLogZ(model), 4);
      });
    }
  }

  it('adds scale × the expectation to what `into` holds', () => {
    const model = randomModel(new BernoulliRBM({ nVisible: 4, nHidden: 3 }), new Rng(9));
    const want = bruteForceMoments(model);
    const got = zeros(model);
    got.a!.fill(1);
    new ExactPhase(model).accumulate(-2, got);
    expect(got.a).toBeAllClose(Array.from(want.a, (x) => 1 - 2 * x), { atol: 5e-6 });
  });
});

describe('exact negative phase: the trainer gradient is the gradient of the exact log-likelihood', () => {
  const rows = 12;
  for (const units of ['01', 'pm1'] as const) {
    it(`binary RBM (${units}), 6 visible × 3 hidden, against central finite differences`, () => {
      const rng = new Rng(units === '01' ? 21 : 22);
      const model = randomModel(new BernoulliRBM({ nVisible: 6, nHidden: 3, units }), rng, 0.5);
      const [lo, hi] = unitStates(units)!;
      const data64 = Float64Array.from({ length: rows * 6 }, () => (rng.uniform() < 0.6 ? hi : lo));
      const trainer = new Trainer(model, { method: 'exact', batchSize: rows }, new Rng(1));
      const g = trainer.gradient(Float32Array.from(data64));
      const fd = finiteDifferenceGradient(model, data64);
      // FD truncation error O(eps²·f''') ≈ 1e-6 and float32 rounding of the analytic path ≈ 1e-6.
      for (const p of ['W', 'a', 'b']) expect(g[p]).toBeAllClose(fd[p]!, { atol: 3e-5 });
    });
  }

  it('Gaussian–Bernoulli RBM with fixed σ (hidden layer enumerated), against finite differences', () => {
    const rng = new Rng(31);
    const model = randomModel(new GaussianBernoulliRBM({ nVisible: 3, nHidden: 5, sigma: 1, learnSigma: false }), rng, 0.4);
    expect(exactPhaseLayer(model)).toBe('hidden');
    const data64 = Float64Array.from({ length: rows * 3 }, () => rng.normal());
    const trainer = new Trainer(model, { method: 'exact', batchSize: rows }, new Rng(1));
    const g = trainer.gradient(Float32Array.from(data64));
    const fd = finiteDifferenceGradient(model, data64);
    for (const p of ['W', 'a', 'b']) expect(g[p]).toBeAllClose(fd[p]!, { atol: 5e-5 });
  });
});

describe('exact negative phase: where it applies and where it is the default', () => {
  it('is the default for small models and states it in the resolved options', () => {
    const small = new BernoulliRBM({ nVisible: 16, nHidden: 16 });
    expect(exactPhaseIsDefault(small)).toBe(true);
    expect(new Trainer(small).options.method).toBe('exact');
    // 784 × 16: enumerable (2^16 hidden states) but 8·10^8 multiply-adds per update: PCD stays the default.
    const mnist = new BernoulliRBM({ nVisible: 784, nHidden: 16 });
    expect(exactPhaseLayer(mnist)).toBe('hidden');
    expect(exactPhaseIsDefault(mnist)).toBe(false);
    expect(new Trainer(mnist).options.method).toBe('pcd');
    expect(new Trainer(new BernoulliRBM({ nVisible: 64, nHidden: 64 })).options.method).toBe('pcd');
    // An explicit method always wins.
    expect(new Trainer(small, { method: 'cd' }).options.method).toBe('cd');
  });

  it('refuses models it cannot enumerate exactly, with the reason', () => {
    const learned = new GaussianBernoulliRBM({ nVisible: 3, nHidden: 4 });
    expect(exactPhaseLayer(learned)).toBeNull();
    expect(() => new Trainer(learned, { method: 'exact' })).toThrow(/learned visible variances/);
    expect(() => new Trainer(new BernoulliRBM({ nVisible: 30, nHidden: 30 }), { method: 'exact' })).toThrow(/at most 20 units/);
  });
});
