import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BernoulliRBM,
  GaussianBernoulliRBM,
  Trainer,
  bruteForceLogZ,
  exactLogZ,
  exactVisibleLogProbs,
  fillConfigurations,
  logLikelihood,
  pseudoLikelihood,
  reconstructionError,
  freeEnergyGap,
  unitStates,
  type EnergyModel,
  type Params,
} from '../src/ebm/index.js';

function randomRBM(nv: number, nh: number, seed: number, units: '01' | 'pm1' = '01', std = 0.7): BernoulliRBM {
  const rng = new Rng(seed);
  const m = new BernoulliRBM({ nVisible: nv, nHidden: nh, units, initStd: std }, rng);
  for (const k of ['a', 'b'] as const) for (let i = 0; i < m.params[k]!.length; i++) m.params[k]![i] = 0.5 * rng.normal();
  return m;
}

/** All visible states as a float64 batch. */
function allVisible(m: EnergyModel): Float64Array {
  const x = new Float64Array(2 ** m.nVisible * m.nVisible);
  fillConfigurations(0, 2 ** m.nVisible, m.nVisible, unitStates(m.visibleUnits)!, x);
  return x;
}

/** Exact mean log-likelihood of `data` in float64. */
function exactLL(m: EnergyModel, data: Float32Array): number {
  const f = m.freeEnergy(Float64Array.from(data));
  return -f.reduce((s, x) => s + x, 0) / f.length - exactLogZ(m);
}

describe('exact log Z', () => {
  for (const units of ['01', 'pm1'] as const)
    for (const [nv, nh] of [
      [7, 4],
      [4, 7],
      [6, 6],
    ] as const)
      it(`smaller-layer enumeration equals brute force over both layers (${nv}×${nh}, ${units})`, () => {
        const m = randomRBM(nv, nh, nv * 10 + nh, units);
        const brute = bruteForceLogZ(m);
        expect(exactLogZ(m)).toBeAllClose(brute, { rtol: 1e-9 });
        expect(exactLogZ(m, { layer: 'visible' })).toBeAllClose(brute, { rtol: 1e-9 });
        expect(exactLogZ(m, { layer: 'hidden', chunk: 5 })).toBeAllClose(brute, { rtol: 1e-9 });
      });

  it('the exact visible distribution sums to one and matches the float32 free energy', () => {
    const m = randomRBM(8, 5, 3);
    const lp = exactVisibleLogProbs(m);
    expect(lp.reduce((s, x) => s + Math.exp(x), 0)).toBeAllClose(1, { rtol: 1e-12 });
    const f32 = m.freeEnergy(Float32Array.from(allVisible(m)));
    const f64 = m.freeEnergy(allVisible(m));
    expect(f32).toBeAllClose(f64, { rtol: 1e-5, atol: 1e-5 });
  });

  it('Gaussian–Bernoulli RBM: exact log Z by hidden enumeration equals numerical integration (1 visible)', () => {
    const rng = new Rng(5);
    const m = new GaussianBernoulliRBM({ nVisible: 1, nHidden: 3, initStd: 0.8, sigma: 0.7 }, rng);
    m.params.a![0] = 0.3;
    m.params.b!.set([0.2, -0.4, 0.1]);
    const H = new Float64Array(8 * 3);
    fillConfigurations(0, 8, 3, [0, 1], H);
    // ∫ Σ_h exp(−E(v, h)) dv by the trapezoid rule on [−15, 15].
    let z = 0;
    const dv = 1e-3;
    for (let v = -15; v <= 15; v += dv) {
      const e = m.energy(new Float64Array(8).fill(v), H);
      for (const x of e) z += Math.exp(-x) * dv;
    }
    expect(exactLogZ(m)).toBeAllClose(Math.log(z), { rtol: 1e-7 });
  });
});

describe('conditionals', () => {
  it('mean hiddens and visibles match enumeration of p(h|v) and p(v|h), both conventions', () => {
    for (const units of ['01', 'pm1'] as const) {
      const m = randomRBM(3, 2, 11, units);
      const s = unitStates(units)!;
      const v = new Float32Array([s[1], s[0], s[1]]);
      // p(h|v) ∝ exp(−E(v, h)): enumerate the 4 hidden states.
      const H = new Float64Array(4 * 2);
      fillConfigurations(0, 4, 2, s, H);
      const e = m.energy(Float64Array.from({ length: 12 }, (_, k) => v[k % 3]!), H);
      const w = Array.from(e, (x) => Math.exp(-x));
      const z = w.reduce((a, b) => a + b, 0);
      const mean = [0, 1].map((j) => w.reduce((acc, wi, c) => acc + (wi * H[c * 2 + j]!) / z, 0));
      expect(m.meanHiddens(v)).toBeAllClose(mean, { rtol: 1e-5, atol: 1e-6 });
      // Tempered: at β = 0 hidden means are the midpoint of the two states.
      expect(m.meanHiddens(v, { beta: 0 })).toBeAllClose([(s[0] + s[1]) / 2, (s[0] + s[1]) / 2], { atol: 1e-7 });
    }
  });

  it('samples have the right means and the caller’s input is not modified', () => {
    const m = randomRBM(6, 4, 12, 'pm1');
    const rng = new Rng(1);
    const n = 20000;
    const h = new Float32Array(n * 4);
    for (let r = 0; r < n; r++) h.set([1, -1, 1, 1], r * 4);
    const hCopy = Float32Array.from(h);
    const mean = m.meanVisibles(h.subarray(0, 4));
    const x = m.sampleVisibles(h, rng);
    expect(h).toEqual(hCopy);
    for (let i = 0; i < 6; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += x[r * 6 + i]!;
      const se = Math.sqrt((1 - mean[i]! ** 2) / n);
      expect(Math.abs(s / n - mean[i]!)).toBeLessThan(5 * se + 1e-9);
    }
    for (const val of x) expect(Math.abs(val)).toBe(1);
  });
});

/** Exact gradient of the mean log-likelihood: data statistics minus Σ_v p(v)·statistics(v, E[h|v]). */
function exactGradient(m: EnergyModel, data: Float32Array): Params {
  const g: Params = {};
  for (const p of m.trainable) g[p] = new Float32Array(m.params[p]!.length);
  const rows = data.length / m.nVisible;
  m.accumulateStatistics(data, m.meanHiddens(data), 1 / rows, g);
  const V = Float32Array.from(allVisible(m));
  const lp = exactVisibleLogProbs(m);
  const H = m.meanHiddens(V);
  const nv = m.nVisible;
  const nh = m.nHidden;
  for (let s = 0; s < lp.length; s++) m.accumulateStatistics(V.subarray(s * nv, (s + 1) * nv), H.subarray(s * nh, (s + 1) * nh), -Math.exp(lp[s]!), g);
  return g;
}

describe('log-likelihood gradient', () => {
  const data = new Float32Array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1]); // 5 rows × 4

  it('analytic gradient equals central finite differences of the exact log-likelihood (4×3)', () => {
    const m = randomRBM(4, 3, 21, '01', 0.5);
    const g = exactGradient(m, data);
    for (const p of m.trainable) {
      const th = m.params[p]!;
      const fd = new Float64Array(th.length);
      for (let i = 0; i < th.length; i++) {
        const old = th[i]!;
        th[i] = old + 1e-3;
        const up = th[i]!;
        const lUp = exactLL(m, data);
        th[i] = old - 1e-3;
        const down = th[i]!;
        const lDown = exactLL(m, data);
        th[i] = old;
        fd[i] = (lUp - lDown) / (up - down);
      }
      expect(g[p]!).toBeAllClose(fd, { rtol: 1e-4, atol: 2e-6 });
    }
  });

  it('Gaussian–Bernoulli statistics equal finite differences of −E (all parameters incl. log σ²)', () => {
    const rng = new Rng(8);
    const m = new GaussianBernoulliRBM({ nVisible: 3, nHidden: 2, initStd: 0.5, sigma: 0.8 }, rng);
    m.params.a!.set([0.1, -0.2, 0.3]);
    m.params.logSigma2!.set([-0.3, 0.2, 0.1]);
    const v = new Float32Array([0.4, -1.2, 0.7]);
    const h = new Float32Array([1, 0]);
    const g: Params = {};
    for (const p of m.trainable) g[p] = new Float32Array(m.params[p]!.length);
    m.accumulateStatistics(v, h, 1, g);
    for (const p of m.trainable) {
      const th = m.params[p]!;
      for (let i = 0; i < th.length; i++) {
        const old = th[i]!;
        th[i] = old + 1e-3;
        const up = th[i]!;
        const eUp = m.energy(v, h)[0]!;
        th[i] = old - 1e-3;
        const down = th[i]!;
        const eDown = m.energy(v, h)[0]!;
        th[i] = old;
        expect(g[p]![i]!).toBeAllClose(-(eUp - eDown) / (up - down), { rtol: 1e-4, atol: 1e-5 });
      }
    }
  });

  it('PCD with many long chains approaches the exact gradient within statistical error', () => {
    const m = randomRBM(4, 3, 21, '01', 0.5);
    const exact = exactGradient(m, data);
    const chains = 4000;
    const trainer = new Trainer(m, { method: 'pcd', chains, k: 1 }, new Rng(3));
    let g: Readonly<Params> = {};
    for (let s = 0; s < 100; s++) g = trainer.gradient(data); // burn in the persistent chains (model frozen)
    // Standard error of each negative-phase statistic over independent chains, from the exact model.
    const V = Float32Array.from(allVisible(m));
    const lp = exactVisibleLogProbs(m);
    const H = m.meanHiddens(V);
    for (const p of m.trainable) {
      const n = m.params[p]!.length;
      for (let i = 0; i < n; i++) {
        let m1 = 0;
        let m2 = 0;
        for (let s = 0; s < lp.length; s++) {
          const one: Params = { [p]: new Float32Array(n) };
          m.accumulateStatistics(V.subarray(s * 4, s * 4 + 4), H.subarray(s * 3, s * 3 + 3), 1, one);
          const x = one[p]![i]!;
          m1 += Math.exp(lp[s]!) * x;
          m2 += Math.exp(lp[s]!) * x * x;
        }
        const se = Math.sqrt((m2 - m1 * m1) / chains);
        expect(Math.abs(g[p]![i]! - exact[p]![i]!)).toBeLessThan(4.5 * se + 1e-6);
      }
    }
  });
});

describe('metrics', () => {
  it('pseudo-likelihood: per-dimension mean = sum / D; exact per-site conditionals; stochastic estimate agrees', () => {
    const m = randomRBM(5, 3, 31);
    const rng = new Rng(2);
    const data = new Float32Array(40 * 5).map(() => (rng.uniform() < 0.4 ? 1 : 0));
    const sum = pseudoLikelihood(m, data, { normalize: 'sum' });
    expect(pseudoLikelihood(m, data)).toBeAllClose(sum / 5, { rtol: 1e-12 });
    // Direct: log p(v_i | v_−i) from exact joint probabilities.
    const lp = exactVisibleLogProbs(m);
    let direct = 0;
    for (let r = 0; r < 40; r++) {
      let idx = 0;
      for (let i = 0; i < 5; i++) idx += data[r * 5 + i]! * 2 ** i;
      for (let i = 0; i < 5; i++) {
        const other = idx ^ (1 << i);
        direct += lp[idx]! - Math.log(Math.exp(lp[idx]!) + Math.exp(lp[other]!));
      }
    }
    expect(sum).toBeAllClose(direct / 40, { rtol: 1e-5 });
    let stoch = 0;
    for (let rep = 0; rep < 200; rep++) stoch += pseudoLikelihood(m, data, { rng, normalize: 'sum' }) / 200;
    expect(stoch).toBeAllClose(sum, { rtol: 0.05 });
  });

  it('log-likelihood, reconstruction error and free-energy gap equal independent float64 computations', () => {
    const m = randomRBM(6, 4, 41);
    const rng = new Rng(4);
    const data = new Float32Array(30 * 6).map(() => (rng.uniform() < 0.5 ? 1 : 0));
    expect(logLikelihood(m, data, exactLogZ(m))).toBeAllClose(exactLL(m, data), { rtol: 1e-6 });
    // Independent float64 references from the parameters, {0,1} units: F(v) = −log Σ_h e^{aᵀv + bᵀh + vᵀWh}
    // by summing over the 2^4 hidden states, and the mean-field reconstruction
    // Σ_i (v_i − σ(a_i + Σ_j W_ij σ(b_j + Σ_k v_k W_kj)))².
    const W = Float64Array.from(m.params.W!), a = Float64Array.from(m.params.a!), b = Float64Array.from(m.params.b!);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const freeEnergy = (v: Float32Array, r: number) => {
      let z = 0;
      for (let hs = 0; hs < 16; hs++) {
        let e = 0;
        for (let i = 0; i < 6; i++) e += a[i]! * v[r * 6 + i]!;
        for (let j = 0; j < 4; j++) {
          if (!((hs >> j) & 1)) continue;
          e += b[j]!;
          for (let i = 0; i < 6; i++) e += v[r * 6 + i]! * W[i * 4 + j]!;
        }
        z += Math.exp(e);
      }
      return -Math.log(z);
    };
    const meanF = (v: Float32Array, rows: number) => {
      let s = 0;
      for (let r = 0; r < rows; r++) s += freeEnergy(v, r);
      return s / rows;
    };
    const valid = new Float32Array(20 * 6).map(() => (rng.uniform() < 0.2 ? 1 : 0));
    const gap = meanF(valid, 20) - meanF(data, 30);
    expect(Math.abs(gap)).toBeGreaterThan(0.1); // sparser validation data: a real difference to get right
    expect(freeEnergyGap(m, data, valid)).toBeAllClose(gap, { rtol: 1e-5 });
    expect(freeEnergyGap(m, valid, data)).toBeAllClose(-gap, { rtol: 1e-5 });
    // maxRows keeps the first rows of each set.
    expect(freeEnergyGap(m, data, valid, 7)).toBeAllClose(meanF(valid, 7) - meanF(data, 7), { rtol: 1e-5 });
    let rec = 0;
    for (let r = 0; r < 30; r++) {
      const hm = Array.from({ length: 4 }, (_, j) => {
        let x = b[j]!;
        for (let i = 0; i < 6; i++) x += data[r * 6 + i]! * W[i * 4 + j]!;
        return sig(x);
      });
      for (let i = 0; i < 6; i++) {
        let x = a[i]!;
        for (let j = 0; j < 4; j++) x += W[i * 4 + j]! * hm[j]!;
        rec += (data[r * 6 + i]! - sig(x)) ** 2;
      }
    }
    expect(reconstructionError(m, data)).toBeAllClose(rec / 30, { rtol: 1e-5 });
    expect(reconstructionError(m, data, 7)).toBeAllClose(rec / 30, { rtol: 1e-5 }); // chunked
  });
});

describe('sampleHiddensFromMean (CD reuses the positive phase)', () => {
  it('draws exactly what sampleHiddens draws, leaving the generator in the same state, on every kernel set', async () => {
    const { jsKernels } = await import('../src/engine/js-kernels.js');
    const { nativeKernels } = await import('../src/engine/native.js');
    const { GaussianBernoulliRBM } = await import('../src/ebm/rbm.js');
    for (const k of [jsKernels, ...(nativeKernels ? [nativeKernels] : [])]) {
      for (const make of [
        (r: Rng) => new BernoulliRBM({ nVisible: 37, nHidden: 23, initStd: 0.5 }, r, k),
        (r: Rng) => new GaussianBernoulliRBM({ nVisible: 37, nHidden: 23 }, r, k),
      ]) {
        const m = make(new Rng(4));
        const v = new Float32Array(11 * 37);
        const g = new Rng(8);
        for (let i = 0; i < v.length; i++) v[i] = g.uniform() < 0.4 ? 1 : 0;
        const a = new Rng(99);
        const b = new Rng(99);
        const h1 = m.sampleHiddens(v, a);
        const h2 = new Float32Array(h1.length);
        expect(m.sampleHiddensFromMean!(m.meanHiddens(v), b, h2)).toBe(true);
        expect(Array.from(h2)).toEqual(Array.from(h1));
        expect(b.getState()).toEqual(a.getState());
        expect(h1.some((x) => x === 1) && h1.some((x) => x === 0)).toBe(true);
      }
    }
    // ±1 hidden units cannot recover p from 2p − 1 exactly: refused, generator untouched.
    const s = new BernoulliRBM({ nVisible: 5, nHidden: 3, units: 'pm1' }, new Rng(1));
    const r = new Rng(5);
    expect(s.sampleHiddensFromMean!(new Float32Array(6), r, new Float32Array(6))).toBe(false);
    expect(r.getState()).toEqual(new Rng(5).getState());
  });
});
