import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { isBarsAndStripes } from '../src/ebm/bars-and-stripes.js';
import { BernoulliRBM, exactVisibleLogProbs, fillConfigurations } from '../src/ebm/index.js';
import {
  barsAndStripesProblem,
  defaultSuite,
  empiricalEntropy,
  fidelity,
  isingPairProblem,
  klDivergence,
  parityProblem,
  problemDataset,
  sparseBoltzmannProblem,
  tfimGroundStateProblem,
  type SuiteProblem,
} from '../src/ebm/suite.js';

/** −Σ p log p, written independently of the module. */
function entropyOf(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i]! > 0) h += p[i]! * Math.log(1 / p[i]!);
  return h;
}

function sum(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s;
}

/** The visible configuration of state `idx` through partition.ts's own enumeration. */
function config(idx: number, n: number, units: '01' | 'pm1'): Float64Array {
  const x = new Float64Array(n);
  fillConfigurations(idx, 1, n, units === 'pm1' ? [-1, 1] : [0, 1], x);
  return x;
}

/** Decode dataset rows into state counts (bit i = unit i set when the value is 1). */
function rowCounts(data: Float32Array, n: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let r = 0; r < data.length / n; r++) {
    let idx = 0;
    for (let i = n - 1; i >= 0; i--) idx = 2 * idx + (data[r * n + i] === 1 ? 1 : 0);
    counts.set(idx, (counts.get(idx) ?? 0) + 1);
  }
  return counts;
}

/** A ±1 RBM that represents p ∝ exp(Σ_{i<j} J_ij s_i s_j + Σ h_i s_i) exactly: one hidden unit per coupling, cosh 2w = e^{2|J|}. */
function pairwiseRbm(n: number, couplings: Float64Array, fields: ArrayLike<number>): BernoulliRBM {
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (couplings[i * n + j] !== 0) pairs.push([i, j, couplings[i * n + j]!]);
  const m = new BernoulliRBM({ nVisible: n, nHidden: pairs.length, units: 'pm1' });
  pairs.forEach(([i, j, J], k) => {
    const w = 0.5 * Math.acosh(Math.exp(2 * Math.abs(J)));
    m.params.W![i * pairs.length + k] = w;
    m.params.W![j * pairs.length + k] = Math.sign(J) * w;
  });
  for (let i = 0; i < n; i++) m.params.a![i] = fields[i]!;
  return m;
}

/** H = −J Σ σᶻσᶻ − h Σ σˣ applied to ψ, built from explicit spin configurations (independent of the module). */
function applyTfim(psi: Float64Array, n: number, J: number, h: number, periodic: boolean): Float64Array {
  const out = new Float64Array(psi.length);
  for (let s = 0; s < psi.length; s++) {
    const z = config(s, n, 'pm1');
    let e = 0;
    for (let i = 0; i + 1 < n; i++) e += z[i]! * z[i + 1]!;
    if (periodic) e += z[n - 1]! * z[0]!;
    out[s] += -J * e * psi[s]!;
    for (let i = 0; i < n; i++) {
      // The state with spin i flipped: subtract or add 2^i depending on its current value.
      const t = z[i]! > 0 ? s - 2 ** i : s + 2 ** i;
      out[t] += -h * psi[s]!;
    }
  }
  return out;
}

/** Pfeuty (1970) free-fermion ground energy of the periodic chain: −Σ_k √(J² + h² − 2Jh cos k), k = π(2m+1)/n. */
function pfeutyEnergy(n: number, J: number, h: number): number {
  let e = 0;
  for (let m = 0; m < n; m++) e -= Math.sqrt(J * J + h * h - 2 * J * h * Math.cos((Math.PI * (2 * m + 1)) / n));
  return e;
}

describe('suite problems: normalisation and entropy', () => {
  it('every target has 2^n non-negative entries summing to 1, and entropy = −Σ p log p', () => {
    const problems: SuiteProblem[] = [
      ...defaultSuite(7),
      barsAndStripesProblem(2),
      parityProblem(9),
      isingPairProblem(-0.7, 0.3),
      sparseBoltzmannProblem(6, new Rng(3), { density: 1, scale: 1 }),
      tfimGroundStateProblem(6, { h: 0.3, J: -1, periodic: false }),
    ];
    for (const p of problems) {
      expect(p.nVisible).toBeLessThanOrEqual(16);
      expect(p.target.length).toBe(2 ** p.nVisible);
      for (const x of p.target) expect(x).toBeGreaterThanOrEqual(0);
      expect(Math.abs(sum(p.target) - 1)).toBeLessThan(1e-12);
      expect(p.entropy).toBeAllClose(entropyOf(p.target), { rtol: 1e-12 });
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.description).not.toContain('\n');
    }
    expect(new Set(problems.map((p) => p.name)).size).toBe(problems.length);
  });
});

describe('bars and stripes', () => {
  it('3×3: exactly 14 states at 1/14, each a bars-and-stripes image with pixel i = bit i; entropy log 14', () => {
    const p = barsAndStripesProblem(3);
    expect(p.nVisible).toBe(9);
    expect(p.units).toBe('01');
    const nz = [...p.target.keys()].filter((i) => p.target[i]! > 0);
    expect(nz.length).toBe(14);
    for (const i of nz) {
      expect(p.target[i]).toBe(1 / 14);
      expect(isBarsAndStripes(config(i, 9, '01'), 3)).toBe(true);
    }
    // Top row on (pixels 0, 1, 2) and left column on (pixels 0, 3, 6) are patterns; pixel 0 alone and the diagonal are not.
    expect(p.target[1 + 2 + 4]).toBe(1 / 14);
    expect(p.target[1 + 8 + 64]).toBe(1 / 14);
    expect(p.target[1]).toBe(0);
    expect(p.target[1 + 16 + 256]).toBe(0);
    expect(p.entropy).toBeAllClose(Math.log(14), { rtol: 1e-14 });
  });

  it('4×4: exactly 30 states at 1/30, entropy log 30', () => {
    const p = barsAndStripesProblem(4);
    const nz = [...p.target].filter((x) => x > 0);
    expect(nz.length).toBe(30);
    for (const x of nz) expect(x).toBe(1 / 30);
    expect(p.entropy).toBeAllClose(Math.log(30), { rtol: 1e-14 });
  });

  it('rejects sizes outside [1, 4]', () => {
    expect(() => barsAndStripesProblem(5)).toThrow(/bars-and-stripes size n .*got 5/);
    expect(() => barsAndStripesProblem(2.5)).toThrow(RangeError);
  });
});

describe('parity', () => {
  it('uniform over the 2^(n−1) even-parity strings', () => {
    for (const n of [3, 4, 7, 16]) {
      const p = parityProblem(n);
      let nonzero = 0;
      for (let s = 0; s < p.target.length; s++) {
        const ones = s.toString(2).split('').filter((c) => c === '1').length;
        if (p.target[s]! > 0) {
          nonzero++;
          expect(ones % 2).toBe(0);
          expect(p.target[s]).toBe(2 ** -(n - 1));
        } else expect(ones % 2).toBe(1);
      }
      expect(nonzero).toBe(2 ** (n - 1));
      expect(p.entropy).toBeAllClose((n - 1) * Math.LN2, { rtol: 1e-13 });
    }
  });

  it('rejects bit counts outside [3, 16]', () => {
    expect(() => parityProblem(2)).toThrow(/parity bits/);
    expect(() => parityProblem(17)).toThrow(RangeError);
  });
});

describe('Ising pair', () => {
  it('matches the closed form p(s1, s2) = exp(J s1 s2 + h(s1 + s2))/Z, Z = e^{J+2h} + e^{J−2h} + 2e^{−J}', () => {
    for (const [J, h] of [
      [0.5, 0],
      [1, 0],
      [0.5, 0.3],
      [-1.2, -0.4],
    ] as const) {
      const p = isingPairProblem(J, h);
      expect(p.units).toBe('pm1');
      const Z = Math.exp(J + 2 * h) + Math.exp(J - 2 * h) + 2 * Math.exp(-J);
      // Index 0 = (−,−), 1 = (s1 = +, s2 = −), 2 = (−, +), 3 = (+,+).
      expect(p.target).toBeAllClose([Math.exp(J - 2 * h) / Z, Math.exp(-J) / Z, Math.exp(-J) / Z, Math.exp(J + 2 * h) / Z], { rtol: 1e-14 });
    }
    expect(isingPairProblem(0.5).name).toBe('ising-pair-J0.5');
  });

  it('is represented exactly by a ±1 RBM with one hidden unit (KL ≈ 0, fidelity ≈ 1 through exactVisibleLogProbs)', () => {
    for (const [J, h] of [
      [0.5, 0.2],
      [-0.8, 0.1],
    ] as const) {
      const p = isingPairProblem(J, h);
      const c = new Float64Array([0, J, J, 0]);
      const logq = exactVisibleLogProbs(pairwiseRbm(2, c, [h, h]));
      // Float32 weights: log-probabilities agree to ~1e-7.
      expect(logq).toBeAllClose(p.target.map(Math.log), { atol: 1e-5 });
      expect(klDivergence(p.target, logq)).toBeLessThan(1e-9);
    }
  });

  it('rejects non-finite couplings', () => {
    expect(() => isingPairProblem(Number.NaN)).toThrow(/ising pair J/);
    expect(() => isingPairProblem(1, Infinity)).toThrow(/ising pair h/);
  });
});

describe('sparse Boltzmann machine', () => {
  it('target equals exp(Σ J_ij s_i s_j + Σ h_i s_i)/Z recomputed from its couplings and fields', () => {
    const n = 8;
    const p = sparseBoltzmannProblem(n, new Rng(11), { density: 0.4, scale: 0.8 });
    for (let i = 0; i < n; i++) {
      expect(p.couplings[i * n + i]).toBe(0);
      for (let j = 0; j < n; j++) expect(p.couplings[i * n + j]).toBe(p.couplings[j * n + i]);
    }
    const w = new Float64Array(2 ** n);
    for (let s = 0; s < w.length; s++) {
      const z = config(s, n, 'pm1');
      let e = 0;
      for (let i = 0; i < n; i++) {
        e += p.fields[i]! * z[i]!;
        for (let j = 0; j < i; j++) e += p.couplings[j * n + i]! * z[i]! * z[j]!;
      }
      w[s] = Math.exp(e);
    }
    const Z = sum(w);
    expect(p.target).toBeAllClose(w.map((x) => x / Z), { rtol: 1e-12 });
  });

  it('is seeded: same seed, same problem; another seed, another', () => {
    const a = sparseBoltzmannProblem(8, new Rng(5));
    const b = sparseBoltzmannProblem(8, new Rng(5));
    const c = sparseBoltzmannProblem(8, new Rng(6));
    expect([...a.target]).toEqual([...b.target]);
    expect([...a.couplings]).toEqual([...b.couplings]);
    expect([...a.target]).not.toEqual([...c.target]);
  });

  it('density 0 gives independent spins, p(s_i = +1) = e^{h_i}/(2 cosh h_i); density 1 has every coupling', () => {
    const n = 5;
    const p = sparseBoltzmannProblem(n, new Rng(2), { density: 0 });
    expect(p.couplings.every((x) => x === 0)).toBe(true);
    for (let s = 0; s < p.target.length; s++) {
      let q = 1;
      for (let i = 0; i < n; i++) q *= Math.exp(p.fields[i]! * config(s, n, 'pm1')[i]!) / (2 * Math.cosh(p.fields[i]!));
      expect(p.target[s]).toBeAllClose(q, { rtol: 1e-12 });
    }
    const full = sparseBoltzmannProblem(n, new Rng(2), { density: 1 });
    expect(full.couplings.filter((x) => x !== 0).length).toBe(n * (n - 1));
  });

  it('is represented exactly by a ±1 RBM with one hidden unit per coupling (index convention shared with exactVisibleLogProbs)', () => {
    const n = 8;
    const p = sparseBoltzmannProblem(n, new Rng(1));
    const logq = exactVisibleLogProbs(pairwiseRbm(n, p.couplings, p.fields));
    expect(logq).toBeAllClose(p.target.map(Math.log), { atol: 1e-5 });
    expect(klDivergence(p.target, logq)).toBeLessThan(1e-9);
    expect(fidelity(p.target, logq)).toBeGreaterThan(1 - 1e-9);
  });

  it('rejects bad sizes and options', () => {
    expect(() => sparseBoltzmannProblem(17, new Rng(0))).toThrow(/sparse BM size n/);
    expect(() => sparseBoltzmannProblem(4, new Rng(0), { density: 1.5 })).toThrow(/density/);
    expect(() => sparseBoltzmannProblem(4, new Rng(0), { scale: -1 })).toThrow(/scale/);
  });
});

describe('transverse-field Ising ground state', () => {
  it('periodic-chain energy matches the free-fermion closed form (Pfeuty 1970) to 1e-9', () => {
    for (const n of [8, 10])
      for (const h of [1, 0.5]) {
        const p = tfimGroundStateProblem(n, { h });
        expect(Math.abs(p.energy - pfeutyEnergy(n, 1, h))).toBeLessThan(1e-9);
      }
    const p = tfimGroundStateProblem(6, { h: 0.7, J: 1.3 });
    expect(Math.abs(p.energy - pfeutyEnergy(6, 1.3, 0.7))).toBeLessThan(1e-9);
  });

  it('open two-spin chain: E0 = −√(J² + 4h²)', () => {
    const p = tfimGroundStateProblem(2, { h: 0.6, J: 0.9, periodic: false });
    expect(p.energy).toBeAllClose(-Math.sqrt(0.81 + 4 * 0.36), { rtol: 1e-13 });
  });

  it('energy = ⟨ψ|H|ψ⟩ recomputed independently, ‖Hψ − Eψ‖ < 1e-8, ψ ≥ 0 normalised, target = ψ²', () => {
    for (const [n, h, J, periodic] of [
      [8, 1, 1, true],
      [7, 0.4, 1, false],
      [6, 0.8, -1, true],
    ] as const) {
      const p = tfimGroundStateProblem(n, { h, J, periodic });
      const psi = p.amplitudes;
      const hpsi = applyTfim(psi, n, J, h, periodic);
      let e = 0;
      let r2 = 0;
      for (let s = 0; s < psi.length; s++) e += psi[s]! * hpsi[s]!;
      for (let s = 0; s < psi.length; s++) r2 += (hpsi[s]! - e * psi[s]!) ** 2;
      expect(p.energy).toBeAllClose(e, { rtol: 1e-12 });
      expect(Math.sqrt(r2)).toBeLessThan(1e-8);
      expect(sum(psi.map((x) => x * x))).toBeAllClose(1, { rtol: 1e-12 });
      for (const x of psi) expect(x).toBeGreaterThanOrEqual(0);
      expect(p.target).toBeAllClose(psi.map((x) => x * x), { rtol: 1e-12, atol: 1e-300 });
    }
  });

  it('an antiferromagnet is the ferromagnet with every other spin flipped (even periodic chain)', () => {
    const n = 6;
    const fm = tfimGroundStateProblem(n, { h: 0.7, J: 1 });
    const afm = tfimGroundStateProblem(n, { h: 0.7, J: -1 });
    expect(afm.energy).toBeAllClose(fm.energy, { rtol: 1e-12 });
    const mask = 0b010101;
    const mapped = Float64Array.from(fm.target, (_, s) => fm.target[s ^ mask]!);
    expect(afm.target).toBeAllClose(mapped, { atol: 1e-12 });
  });

  it('at tiny h the target concentrates on the two ferromagnetic states; at large h it is nearly uniform', () => {
    const n = 8;
    const p = tfimGroundStateProblem(n, { h: 1e-3 });
    // Perturbation theory: one flipped spin costs 4J, so the weight off the two ferromagnetic states is ≈ n·(h/4J)² = 5e-7.
    expect(p.target[0]! + p.target[2 ** n - 1]!).toBeGreaterThan(1 - 1e-5);
    expect(p.target[0]).toBeAllClose(p.target[2 ** n - 1]!, { rtol: 1e-12 });
    const q = tfimGroundStateProblem(n, { h: 20 });
    expect(q.entropy).toBeGreaterThan(n * Math.LN2 - 0.01);
  });

  it('names follow the parameters and bad arguments are rejected', () => {
    expect(tfimGroundStateProblem(4).name).toBe('tfim-chain-4-h1');
    expect(tfimGroundStateProblem(4, { h: 0.5, J: 2, periodic: false }).name).toBe('tfim-chain-4-h0.5-J2-open');
    expect(() => tfimGroundStateProblem(13)).toThrow(/TFIM chain length n/);
    expect(() => tfimGroundStateProblem(4, { h: 0 })).toThrow(/transverse field h/);
    expect(() => tfimGroundStateProblem(4, { J: Number.NaN })).toThrow(/TFIM coupling J/);
  });
});

describe('problemDataset and empiricalEntropy', () => {
  it('largest-remainder counts: sum to rows, each within 1 of p·rows, none on zero-probability states, deterministic', () => {
    const cases: [SuiteProblem, number][] = [
      [barsAndStripesProblem(3), 100],
      [isingPairProblem(0.5, 0.1), 7],
      [sparseBoltzmannProblem(6, new Rng(4)), 777],
      [tfimGroundStateProblem(8, { h: 1 }), 1000],
      [parityProblem(5), 3],
    ];
    for (const [p, rows] of cases) {
      const data = problemDataset(p, rows);
      expect(data.length).toBe(rows * p.nVisible);
      const lo = p.units === 'pm1' ? -1 : 0;
      for (const v of data) expect(v === 1 || v === lo).toBe(true);
      const counts = rowCounts(data, p.nVisible);
      expect(sum([...counts.values()])).toBe(rows);
      // Largest remainder: every state rounded up has a remainder at least as large as every state rounded down.
      let minUp = Infinity;
      let maxDown = -Infinity;
      for (let s = 0; s < p.target.length; s++) {
        const c = counts.get(s) ?? 0;
        const x = p.target[s]! * rows;
        expect(Math.abs(c - x)).toBeLessThan(1);
        if (p.target[s] === 0) expect(c).toBe(0);
        else if (c > Math.floor(x)) minUp = Math.min(minUp, x - Math.floor(x));
        else maxDown = Math.max(maxDown, x - Math.floor(x));
      }
      expect(maxDown).toBeLessThanOrEqual(minUp + 1e-9);
      expect([...problemDataset(p, rows)]).toEqual([...data]);
    }
  });

  it('empiricalEntropy of an exact-multiple data set equals the entropy; otherwise that of the row counts', () => {
    const bas = barsAndStripesProblem(3);
    expect(empiricalEntropy(problemDataset(bas, 14 * 5), 9)).toBeAllClose(bas.entropy, { rtol: 1e-13 });
    const par = parityProblem(4);
    expect(empiricalEntropy(problemDataset(par, 8 * 3), 4)).toBeAllClose(par.entropy, { rtol: 1e-13 });
    const pair = isingPairProblem(0.5);
    const data = problemDataset(pair, 1001);
    const c = [...rowCounts(data, 2).values()].map((x) => x / 1001);
    expect(empiricalEntropy(data, 2)).toBeAllClose(entropyOf(c), { rtol: 1e-13 });
    // The same rows in {0,1} units have the same entropy.
    expect(empiricalEntropy(data.map((v) => (v + 1) / 2), 2)).toBeAllClose(entropyOf(c), { rtol: 1e-13 });
  });

  it('rejects bad arguments', () => {
    expect(() => problemDataset(parityProblem(3), 0)).toThrow(/dataset rows/);
    expect(() => empiricalEntropy(new Float32Array(5), 2)).toThrow(/not a positive multiple of nVisible/);
    expect(() => empiricalEntropy(new Float32Array([0, 0.5]), 2)).toThrow(/not a binary value/);
    expect(() => empiricalEntropy(new Float32Array([0, -1]), 2)).toThrow(/mixes 0 and −1/);
  });
});

describe('klDivergence and fidelity', () => {
  it('identical distributions: KL = 0, fidelity = 1', () => {
    const p = tfimGroundStateProblem(6, { h: 1 }).target;
    const logp = p.map(Math.log);
    expect(Math.abs(klDivergence(p, logp))).toBeLessThan(1e-15);
    expect(fidelity(p, logp)).toBeAllClose(1, { rtol: 1e-14 });
  });

  it('two states: p = (1/2, 1/2), q = (1/4, 3/4) gives KL = ½ log(4/3) and fidelity (2 + √3)/4', () => {
    const p = new Float64Array([0.5, 0.5]);
    const logq = new Float64Array([Math.log(0.25), Math.log(0.75)]);
    expect(klDivergence(p, logq)).toBeAllClose(0.5 * Math.log(4 / 3), { rtol: 1e-14 });
    expect(fidelity(p, logq)).toBeAllClose((2 + Math.sqrt(3)) / 4, { rtol: 1e-14 });
    // 0·log 0 = 0: a target state of probability 0 contributes nothing, even where the model gives it mass.
    const delta = new Float64Array([1, 0]);
    const half = new Float64Array([Math.log(0.5), Math.log(0.5)]);
    expect(klDivergence(delta, half)).toBeAllClose(Math.LN2, { rtol: 1e-14 });
    expect(fidelity(delta, half)).toBeAllClose(0.5, { rtol: 1e-14 });
    expect(klDivergence(half.map(Math.exp), new Float64Array([0, -Infinity]))).toBe(Infinity);
  });

  it('random pairs: KL ≥ 0, 0 ≤ fidelity ≤ 1, and −log fidelity ≤ KL (Rényi order ½ ≤ order 1)', () => {
    const rng = new Rng(9);
    for (let t = 0; t < 50; t++) {
      const k = 2 + rng.int(30);
      const a = Float64Array.from({ length: k }, () => -Math.log(1 - rng.uniform()) * (rng.uniform() < 0.2 ? 0 : 1));
      const b = Float64Array.from({ length: k }, () => -Math.log(1 - rng.uniform()) + 1e-3);
      const p = a.map((x) => x / sum(a));
      if (!(sum(a) > 0)) continue;
      const logq = b.map((x) => Math.log(x / sum(b)));
      const kl = klDivergence(p, logq);
      const f = fidelity(p, logq);
      expect(kl).toBeGreaterThanOrEqual(0);
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(1);
      expect(-Math.log(f)).toBeLessThanOrEqual(kl + 1e-12);
    }
  });

  it('rejects mismatched lengths and unnormalised inputs', () => {
    const p = new Float64Array([0.5, 0.5]);
    expect(() => klDivergence(p, new Float64Array(3))).toThrow(/target has 2 states but modelLogProbs has 3/);
    expect(() => fidelity(p, new Float64Array([0, 0]))).toThrow(/exp\(modelLogProbs\) sums to 2/);
    expect(() => klDivergence(new Float64Array([0.5, 0.6]), new Float64Array([Math.log(0.5), Math.log(0.5)]))).toThrow(/target sums to/);
  });
});

describe('defaultSuite', () => {
  it('holds the documented problems, deterministically, with the seed only moving the sparse BM', () => {
    const a = defaultSuite();
    expect(a.map((p) => p.name)).toEqual([
      'bars-and-stripes-3',
      'bars-and-stripes-4',
      'parity-3',
      'parity-4',
      'parity-5',
      'parity-6',
      'ising-pair-J0.5',
      'ising-pair-J1',
      'sparse-bm-8-s1',
      'tfim-chain-8-h1',
      'tfim-chain-10-h1',
    ]);
    const b = defaultSuite(1);
    const c = defaultSuite(2);
    a.forEach((p, i) => {
      expect([...p.target]).toEqual([...b[i]!.target]);
      if (p.name.startsWith('sparse-bm')) expect([...p.target]).not.toEqual([...c[i]!.target]);
      else expect([...p.target]).toEqual([...c[i]!.target]);
    });
    expect(c[8]!.name).toBe('sparse-bm-8-s2');
  });
});
