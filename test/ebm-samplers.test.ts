import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BernoulliRBM,
  ParallelTempering,
  chiSquareTest,
  exactVisibleLogProbs,
  gammaQ,
  gibbsSample,
  metropolisSample,
  temperedSample,
  visibleStateIndex,
  type EnergyModel,
} from '../src/ebm/index.js';

function randomRBM(nv: number, nh: number, seed: number, units: '01' | 'pm1', std: number): BernoulliRBM {
  const rng = new Rng(seed);
  const m = new BernoulliRBM({ nVisible: nv, nHidden: nh, units, initStd: std }, rng);
  for (const k of ['a', 'b'] as const) for (let i = 0; i < m.params[k]!.length; i++) m.params[k]![i] = 0.5 * rng.normal();
  return m;
}

function histogram(m: EnergyModel, samples: Float32Array): Float64Array {
  const counts = new Float64Array(2 ** m.nVisible);
  for (const idx of visibleStateIndex(m, samples)) counts[idx]!++;
  return counts;
}

const ALPHA = 1e-3;

describe('chi-square helper', () => {
  it('p-values match known quantiles', () => {
    // χ²₁₀ upper 5% point 18.307; χ²₃₁ upper 0.1% point 61.098 (standard tables).
    expect(gammaQ(5, 18.307 / 2)).toBeAllClose(0.05, { rtol: 1e-3 });
    expect(gammaQ(15.5, 61.098 / 2)).toBeAllClose(0.001, { rtol: 1e-2 });
  });
});

// Independent chains (one sample each after burn-in), so the chi-square test's
// independence assumption holds; a 5-visible model has 32 states.
describe.each(['01', 'pm1'] as const)('samplers reproduce the exact visible distribution (%s units)', (units) => {
  // Spins couple twice as strongly per unit weight (ΔE = 2·field), so the ±1 model gets half the weight scale.
  const m = randomRBM(5, 4, units === '01' ? 7 : 8, units, units === '01' ? 1.0 : 0.5);
  const probs = Array.from(exactVisibleLogProbs(m), Math.exp);

  it('block Gibbs', () => {
    const res = gibbsSample(m, new Rng(1), { chains: 4000, burnIn: 50 });
    const t = chiSquareTest(histogram(m, res.samples), probs);
    expect(t.pValue).toBeGreaterThan(ALPHA);
    expect(res.diagnostics.changeRate).toBeGreaterThan(0);
    // Power check: the same counts are rejected against a uniform distribution.
    expect(chiSquareTest(histogram(m, res.samples), new Array(32).fill(1 / 32)).pValue).toBeLessThan(ALPHA);
  });

  it('block Gibbs with thinning along long chains', () => {
    const res = gibbsSample(m, new Rng(2), { chains: 200, burnIn: 50, samples: 20, thin: 25 });
    expect(res.samples.length).toBe(4000 * 5);
    expect(chiSquareTest(histogram(m, res.samples), probs).pValue).toBeGreaterThan(ALPHA);
  });

  it('Metropolis–Hastings with single-site flips', () => {
    const res = metropolisSample(m, new Rng(3), { chains: 4000, burnIn: 40 });
    expect(chiSquareTest(histogram(m, res.samples), probs).pValue).toBeGreaterThan(ALPHA);
    expect(res.diagnostics.acceptance).toBeGreaterThan(0.05);
    expect(res.diagnostics.acceptance).toBeLessThan(1);
  });

  it('parallel tempering (β = 1 replica), adaptive ladder', () => {
    const res = temperedSample(m, new Rng(4), { chains: 4000, burnIn: 60, replicas: 4, adaptive: true, adaptEvery: 20 });
    expect(chiSquareTest(histogram(m, res.samples), probs).pValue).toBeGreaterThan(ALPHA);
    expect(res.diagnostics.swapRates.length).toBe(3);
    for (const r of res.diagnostics.swapRates) expect(r).toBeGreaterThan(0.05);
    expect(res.diagnostics.betas[0]).toBe(1);
    expect(res.diagnostics.betas[3]).toBe(0);
  });
});

describe('parallel tempering', () => {
  it('every replica samples its own tempered distribution', () => {
    const m = randomRBM(4, 3, 9, '01', 1.5);
    const pt = new ParallelTempering(m, 3000, new Rng(5), { betas: [1, 0.6, 0.3] });
    const rng = new Rng(6);
    for (let s = 0; s < 60; s++) pt.sweep(rng);
    for (let k = 0; k < 3; k++) {
      const beta = pt.betas[k]!;
      // Exact p_β(v) ∝ exp(−F_β(v)) by enumeration.
      const V = new Float32Array(16 * 4);
      for (let s = 0; s < 16; s++) for (let i = 0; i < 4; i++) V[s * 4 + i] = (s >> i) & 1;
      const f = m.freeEnergy(V, { beta });
      const w = Array.from(f, (x) => Math.exp(-x));
      const z = w.reduce((a, b) => a + b, 0);
      const t = chiSquareTest(histogram(m, pt.replicas[k]!), w.map((x) => x / z));
      expect(t.pValue).toBeGreaterThan(ALPHA);
    }
  });

  it('a strongly bimodal model: PT mixes where single chains stick (mode switches of one chain, 400 steps)', () => {
    // Ferromagnet-like ±1 RBM: all weights 1.2, zero biases, so p(v) ∝ Π_j 2cosh(1.2 Σ_i v_i) has two
    // symmetric modes Σv = ±6. A block-Gibbs chain leaves a mode only if a hidden unit flips
    // against the field, with probability ≈ 2e^{−2.4|Σv|}, and the visibles then land on the other
    // side with probability ≈ 1/3: summed over where the chain spends its time (|Σv| = 6, 4, 2 with
    // probability ≈ 0.95, 0.05, 0.001) that is ≈ 1e−5 per step, so 0.004 expected switches in 400 steps
    // (P(≥ 2) ≈ 1e−5). PT with 8 replicas switches ~100 times (measured 100 at seed 7; roughly Poisson, so > 20 is ~8σ of room).
    const m = new BernoulliRBM({ nVisible: 6, nHidden: 2, units: 'pm1' });
    m.params.W!.fill(1.2);
    const n = 400;
    /** Number of changes of sign(Σv) along a single chain's samples (Σv = 0 keeps the previous mode). */
    const switches = (x: Float32Array) => {
      let mode = 0, count = 0;
      for (let t = 0; t < n; t++) {
        let sum = 0;
        for (let i = 0; i < 6; i++) sum += x[t * 6 + i]!;
        const now = Math.sign(sum);
        if (now !== 0 && mode !== 0 && now !== mode) count++;
        if (now !== 0) mode = now;
      }
      return count;
    };
    const pt = temperedSample(m, new Rng(7), { chains: 1, burnIn: 10, samples: n, thin: 1, replicas: 8 });
    const single = gibbsSample(m, new Rng(7), { chains: 1, burnIn: 10, samples: n, thin: 1 });
    expect(pt.samples.length).toBe(n * 6);
    expect(single.samples.length).toBe(n * 6);
    const ptSwitches = switches(pt.samples);
    const gibbsSwitches = switches(single.samples);
    expect(gibbsSwitches).toBeLessThanOrEqual(1);
    expect(ptSwitches).toBeGreaterThan(20);
    // Both symmetric modes are visited in the one PT chain: fraction in the + mode within 0.1–0.9.
    let up = 0;
    for (let t = 0; t < n; t++) if (pt.samples[t * 6]! > 0) up++;
    expect(up).toBeGreaterThan(40);
    expect(up).toBeLessThan(360);
  });
});
