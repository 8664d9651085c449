import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import { configIndex, exactLogProbabilities, exactSquare, kaufmanSquare } from '../src/physics/exact.js';
import { energy, isingModel, magnetisation, bondSum } from '../src/physics/lattice.js';
import { IsingChain, parseAlgorithm } from '../src/physics/samplers.js';
import { simulate } from '../src/physics/simulate.js';
import { runChainJobs, workersAvailable } from '../src/physics/chains.js';
import {
  binningCurve,
  blockingError,
  chiSquareTest,
  gammaQ,
  integratedAutocorrelationTime,
  jackknife,
} from '../src/physics/observables.js';

const TC = 2 / Math.log(1 + Math.SQRT2);

if (!workersAvailable()) console.warn('physics-mc: dist/physics/chain-worker.js missing (run `npm run build`); running chains in-thread.');

describe('Monte Carlo against Kaufman at L = 16', () => {
  // Seeded runs (seed 2024); 4 chains × 20 000 measured sweeps per temperature, on 2 workers.
  for (const algorithm of ['metropolis', 'wolff'] as const) {
    it(`${algorithm}: ⟨e⟩ within 3σ and C within 4σ at T = 2.0, 2.269, 3.0`, async () => {
      for (const T of [2.0, 2.269, 3.0]) {
        const r = await simulate(T, { L: 16, algorithm, chains: 4, burnIn: 1000, sweeps: 20_000 }, new Rng(2024), { workers: 2 });
        const k = kaufmanSquare(16, T);
        const th = r.thermo;
        expect(th.blocks).toBeGreaterThanOrEqual(20);
        expect(Math.abs(th.energy.value - k.energy)).toBeLessThan(3 * th.energy.error);
        expect(Math.abs(th.specificHeat.value - k.specificHeat)).toBeLessThan(4 * th.specificHeat.error);
        // Error bars are real: not absurdly small or large relative to the value.
        expect(th.energy.error).toBeGreaterThan(1e-5);
        expect(th.energy.error).toBeLessThan(1e-2);
      }
    });
  }

  it('critical slowing down: at T_c Wolff’s τ_int(|m|) is far below Metropolis’s', async () => {
    const opts = { L: 16, chains: 2, burnIn: 500, sweeps: 10_000 } as const;
    const met = await simulate(TC, { ...opts, algorithm: 'metropolis' }, new Rng(7), { workers: 2 });
    const wol = await simulate(TC, { ...opts, algorithm: 'wolff' }, new Rng(7), { workers: 2 });
    // Measured (seed 7): Metropolis τ ≈ 30 sweeps, Wolff τ ≈ 1.3 sweeps.
    expect(met.thermo.tauAbsMagnetisation.tau).toBeGreaterThan(10);
    expect(wol.thermo.tauAbsMagnetisation.tau).toBeLessThan(3);
  });
});

describe('samplers reproduce the exact distribution at L = 3 (chi-square over the 512 states)', () => {
  // Stored every 10 sweeps (τ_int of the L = 3 chain is ≈ 1–3 sweeps, so samples are close to
  // independent); cells with expected count < 5 are pooled; dof = cells − 1; reject at p < 1e-3.
  const cases = [
    { algorithm: 'metropolis', T: 2.0, h: 0 },
    { algorithm: 'heatbath', T: 2.0, h: 0 },
    { algorithm: 'metropolis', T: 3.0, h: 0.3 },
    { algorithm: 'heatbath', T: 3.0, h: 0.3 },
    // Wolff needs h = 0; at T = 2.0 the clusters often cover the lattice, at T = 3.0 they are small.
    { algorithm: 'wolff', T: 2.0, h: 0 },
    { algorithm: 'wolff', T: 3.0, h: 0 },
  ] as const;
  for (const c of cases) {
    it(`${c.algorithm} at T = ${c.T}, h = ${c.h}`, async () => {
      const model = isingModel({ L: 3, h: c.h });
      const r = await simulate(c.T, { L: 3, h: c.h, algorithm: c.algorithm, chains: 4, burnIn: 100, sweeps: 100_000, sampleEvery: 10 }, new Rng(11), { workers: 0 });
      const counts = new Float64Array(512);
      for (let k = 0; k < r.nSamples; k++) counts[configIndex(r.samples, k * 9, 9)]!++;
      const probs = exactLogProbabilities(model, c.T).map(Math.exp);
      const test = chiSquareTest(counts, probs);
      expect(test.dof).toBeGreaterThan(100);
      expect(test.pValue).toBeGreaterThan(1e-3);
      // Power check: the same samples are rejected against the distribution at T + 0.3.
      const wrong = exactLogProbabilities(model, c.T + 0.3).map(Math.exp);
      expect(chiSquareTest(counts, wrong).pValue).toBeLessThan(1e-3);
    });
  }
});

describe('chains and samplers', () => {
  it('results do not depend on the number of workers', async () => {
    const opts = { L: 8, algorithm: 'metropolis', chains: 3, burnIn: 10, sweeps: 200, sampleEvery: 50 } as const;
    const a = await simulate(2.5, opts, new Rng(5), { workers: 0 });
    const b = await simulate(2.5, opts, new Rng(5), { workers: 2 });
    expect(Array.from(b.samples)).toEqual(Array.from(a.samples));
    expect(b.thermo.energy.value).toBe(a.thermo.energy.value);
  });

  it.skipIf(!workersAvailable())('runs on worker threads when the build is present', async () => {
    const job = { spec: { L: 4, J: 1, h: 0, T: 2, algorithm: 'wolff', burnIn: 5, sweeps: 20, sampleEvery: 5, correlationEvery: 5 }, rng: new Rng(1).getState() } as const;
    const [w] = await runChainJobs([job], { workers: 1 });
    const [t] = await runChainJobs([job], { workers: 0 });
    expect(Array.from(w!.e)).toEqual(Array.from(t!.e));
    expect(w!.nSamples).toBe(4);
  });

  it('tracked bond sum and magnetisation stay equal to recomputed ones, and h = 0 moves respect symmetry', () => {
    for (const algorithm of ['metropolis', 'heatbath', 'wolff'] as const) {
      const model = isingModel({ L: 5, h: algorithm === 'wolff' ? 0 : 0.2 });
      const ch = new IsingChain(model, algorithm, 2.3);
      const rng = new Rng(3);
      for (let t = 0; t < 50; t++) {
        ch.sweep(rng);
        expect(ch.bondSum).toBe(bondSum(model, ch.spins));
        expect(ch.magnetisation).toBe(magnetisation(model, ch.spins));
      }
      expect(ch.energyPerSite()).toBeAllClose(energy(model, ch.spins) / 25, { rtol: 1e-12 });
    }
  });

  it('1D chain: Metropolis matches enumeration of a 10-site ring in a field', async () => {
    const r = await simulate(1.5, { L: 10, geometry: 'chain', h: 0.2, algorithm: 'metropolis', chains: 2, burnIn: 100, sweeps: 40_000 }, new Rng(9), { workers: 0 });
    // Enumerate the 10-site ring by brute force here (independent of exact.ts).
    const model = isingModel({ L: 10, geometry: 'chain', h: 0.2 });
    let Z = 0, E = 0;
    const s = new Int8Array(10);
    for (let c = 0; c < 1024; c++) {
      for (let i = 0; i < 10; i++) s[i] = (c >> i) & 1 ? 1 : -1;
      const en = energy(model, s);
      const w = Math.exp(-en / 1.5);
      Z += w;
      E += w * en;
    }
    expect(Math.abs(r.thermo.energy.value - E / Z / 10)).toBeLessThan(3 * r.thermo.energy.error);
  });

  it('L = 2 (doubled bonds): heat-bath energy matches enumeration', async () => {
    const r = await simulate(2.0, { L: 2, algorithm: 'heatbath', chains: 2, burnIn: 100, sweeps: 50_000 }, new Rng(4), { workers: 0 });
    expect(Math.abs(r.thermo.energy.value - exactSquare(2, 2.0).energy)).toBeLessThan(3 * r.thermo.energy.error);
  });

  it('rejects bad input with one-line usage errors', () => {
    expect(() => isingModel({ L: 1 })).toThrow(UsageError);
    expect(() => isingModel({ L: 1 })).toThrow(/--L: lattice size must be an integer ≥ 2, got 1/);
    expect(() => new IsingChain(isingModel({ L: 4 }), 'metropolis', 0)).toThrow(/temperature must be/);
    expect(() => new IsingChain(isingModel({ L: 4 }), 'metropolis', -1)).toThrow(UsageError);
    expect(() => parseAlgorithm('glauber')).toThrow(/unknown algorithm 'glauber'/);
    expect(() => new IsingChain(isingModel({ L: 4, h: 0.1 }), 'wolff', 2)).toThrow(/needs h = 0/);
  });
});

describe('time-series statistics', () => {
  it('τ_int of an AR(1) process matches (1 + φ)/(2(1 − φ)) within its error', () => {
    const phi = 0.8, n = 200_000;
    const rng = new Rng(1);
    const chains = [0, 1].map(() => {
      const x = new Float64Array(n);
      let v = 0;
      for (let i = 0; i < n; i++) x[i] = v = phi * v + rng.normal();
      return x;
    });
    const t = integratedAutocorrelationTime(chains);
    const exact = (1 + phi) / (2 * (1 - phi)); // 4.5
    expect(Math.abs(t.tau - exact)).toBeLessThan(Math.max(3 * t.error, 0.05 * exact));
    // Blocking error ≈ √(2τ σ²/n) with σ² = 1/(1 − φ²).
    const be = blockingError(chains, 200);
    const expected = Math.sqrt((2 * exact) / (1 - phi * phi) / (2 * n));
    expect(be.error).toBeAllClose(expected, { rtol: 0.15 });
  });

  it('binning curve of an AR(1) process follows the exact variance of its block means up to the plateau 2τ_int', () => {
    // x_t = φ x_{t−1} + ε_t started in equilibrium: ρ_k = φ^k, γ₀ = 1/(1 − φ²), and a block mean of
    // length b has variance (γ₀/b²)(b + 2Σ_{k<b}(b − k)φ^k), so the expected blocked error is
    // √(that / blocks). Its relative standard error is at most ½√(2(1 + φ²)/((1 − φ²)·blocks))
    // (that of the variance of the raw AR(1) series); allow 5 of those.
    const phi = 0.8, n = 100_000, minBlocks = 40;
    const rng = new Rng(4);
    const g0 = 1 / (1 - phi * phi);
    const chains = [0, 1, 2].map(() => {
      const x = new Float64Array(n);
      let v = rng.normal() * Math.sqrt(g0);
      for (let i = 0; i < n; i++) x[i] = v = phi * v + rng.normal();
      return x;
    });
    const curve = binningCurve(chains, minBlocks);
    expect(curve.map((c) => c.blockLen)).toEqual(Array.from({ length: curve.length }, (_, i) => 2 ** i));
    // It stops at the last length that leaves ≥ minBlocks blocks: 3·⌊n/b⌋ ≥ 40 for b = 4096, not 8192.
    expect(curve.at(-1)!.blockLen).toBe(4096);
    for (const { blockLen: b, error } of curve) {
      let s = b;
      for (let k = 1; k < b; k++) s += 2 * (b - k) * phi ** k;
      const blocks = 3 * Math.floor(n / b);
      const expected = Math.sqrt((g0 * s) / (b * b) / blocks);
      const rel = 0.5 * Math.sqrt((2 * (1 + phi * phi)) / ((1 - phi * phi) * blocks));
      expect(Math.abs(error / expected - 1), `b = ${b}`).toBeLessThan(5 * rel);
    }
    // The plateau: at b = 256 ≫ τ the squared error ratio to b = 1 is ≈ 2τ_int = (1 + φ)/(1 − φ) = 9.
    const ratio = (curve[8]!.error / curve[0]!.error) ** 2;
    expect(ratio).toBeGreaterThan(7.5);
    expect(ratio).toBeLessThan(10);
  });

  it('jackknife of a linear function equals the blocking error; gammaQ matches closed forms', () => {
    const rng = new Rng(2);
    const x = new Float64Array(1000).map(() => rng.normal());
    const sums = Array.from({ length: 50 }, (_, b) => Float64Array.of(x.subarray(b * 20, b * 20 + 20).reduce((a, v) => a + v, 0)));
    const jk = jackknife(sums, new Array(50).fill(20), (m) => m[0]!);
    const be = blockingError([x], 20);
    expect(jk.value).toBeAllClose(be.value, { rtol: 1e-12 });
    expect(jk.error).toBeAllClose(be.error, { rtol: 1e-10 });
    // Q(1, x) = e^{−x}; Q(1/2, x) = erfc(√x); chi-square with 2 dof: p = e^{−χ²/2}.
    expect(gammaQ(1, 3.7)).toBeAllClose(Math.exp(-3.7), { rtol: 1e-12 });
    expect(gammaQ(1, 0.3)).toBeAllClose(Math.exp(-0.3), { rtol: 1e-12 });
    expect(gammaQ(0.5, 2)).toBeAllClose(0.04550026389635842, { rtol: 1e-10 }); // erfc(√2)
    expect(gammaQ(5, 4)).toBeAllClose(0.6288369351798734, { rtol: 1e-10 }); // e^{−4}Σ_{k<5} 4^k/k!
  });
});

describe('inlined generator in the Metropolis sweep', () => {
  it('produces exactly the chain of a plain Rng.nextU32 implementation', () => {
    const model = isingModel({ L: 6, h: 0.1 });
    const T = 2.4;
    const ch = new IsingChain(model, 'metropolis', T);
    const r1 = new Rng(17);
    ch.sweep(r1, 20);
    // Reference: the same algorithm written directly against Rng.nextU32.
    const r2 = new Rng(17);
    const s = new Int8Array(36).fill(1);
    const limit = 4294967296 - (4294967296 % 36);
    for (let sweep = 0; sweep < 20; sweep++) {
      for (let u = 0; u < 36; u++) {
        let x: number;
        do x = r2.nextU32();
        while (x >= limit);
        const i = x % 36;
        let nsum = 0;
        for (let a = 0; a < 4; a++) nsum += s[model.nbr[4 * i + a]!]!;
        const dE = 2 * s[i]! * (nsum + 0.1);
        if (dE <= 0 || r2.nextU32() < Math.exp(-dE / T) * 4294967296) s[i] = -s[i]! as -1 | 1;
      }
    }
    expect(Array.from(ch.spins)).toEqual(Array.from(s));
    expect(r1.getState()).toEqual(r2.getState());
  });
});
