import { describe, expect, it } from 'vitest';
import {
  enumerate,
  exactFromDos,
  exactLogProbabilities,
  exactSquare,
  kaufman,
  kaufmanSquare,
  onsagerEnergy,
  onsagerMagnetisation,
  onsagerSpecificHeat,
  onsagerTc,
  ellipticKE,
} from '../src/physics/exact.js';
import { isingModel } from '../src/physics/lattice.js';
import { UsageError } from '../src/core/errors.js';

const TC = 2 / Math.log(1 + Math.SQRT2);
// Above and below T_c, and at T_c itself where γ₀ = 0 and the sinh product changes sign.
const TEMPS = [0.7, 1.5, 2.0, TC, 2.3, 3.0, 5.0, 20.0];

describe('Kaufman finite-lattice partition function', () => {
  for (const L of [2, 3, 4]) {
    it(`agrees with full enumeration at L = ${L} to 1e-10 relative (log Z, E, C)`, () => {
      const dos = enumerate(isingModel({ L }));
      for (const T of TEMPS) {
        const k = kaufmanSquare(L, T);
        const e = exactFromDos(dos, T);
        expect(k.logZ).toBeAllClose(e.logZ, { rtol: 1e-10 });
        expect(k.energy).toBeAllClose(e.energy, { rtol: 1e-10, atol: 1e-12 });
        expect(k.specificHeat).toBeAllClose(e.specificHeat, { rtol: 1e-9, atol: 1e-12 });
      }
    });
  }

  it('agrees with enumeration at L = 5 (25 spins) at three temperatures', () => {
    const dos = enumerate(isingModel({ L: 5 }));
    for (const T of [1.5, TC, 3.5]) {
      const k = kaufmanSquare(5, T);
      const e = exactFromDos(dos, T);
      expect(k.logZ).toBeAllClose(e.logZ, { rtol: 1e-10 });
      expect(k.energy).toBeAllClose(e.energy, { rtol: 1e-10 });
      expect(k.specificHeat).toBeAllClose(e.specificHeat, { rtol: 1e-9 });
    }
  });

  it('analytic β-derivatives match central finite differences of log Z at L = 32', () => {
    // d lnZ/dβ by a 4th-order central difference with step 1e-4 in β: the error falls as h⁴
    // (measured 7e-8, 6e-10, 8e-12 relative at T_c for h = 1e-3, 3e-4, 1e-4).
    for (const T of [1.8, TC, 2.6]) {
      const beta = 1 / T, h = 1e-4;
      const lz = (b: number) => kaufmanSquare(32, 1 / b).logZ;
      const d1 = (-lz(beta + 2 * h) + 8 * lz(beta + h) - 8 * lz(beta - h) + lz(beta - 2 * h)) / (12 * h);
      const k = kaufmanSquare(32, T);
      expect(-d1 / 1024).toBeAllClose(k.energy, { rtol: 1e-9 });
      // C = −β² d⟨e⟩/dβ ; differentiate the analytic energy (2nd order, step 1e-5).
      const eh = 1e-5;
      const de = (kaufmanSquare(32, 1 / (beta + eh)).energy - kaufmanSquare(32, 1 / (beta - eh)).energy) / (2 * eh);
      expect(-beta * beta * de).toBeAllClose(k.specificHeat, { rtol: 1e-6 });
    }
  });

  it('approaches Onsager’s infinite-lattice energy and specific heat at L = 512 away from T_c', () => {
    for (const T of [1.5, 2.0, 2.6, 3.5]) {
      const k = kaufmanSquare(512, T);
      expect(k.energy).toBeAllClose(onsagerEnergy(T), { rtol: 1e-10 });
      expect(k.specificHeat).toBeAllClose(onsagerSpecificHeat(T), { rtol: 1e-8 });
    }
    // At T_c the finite lattice gives e = −√2 + O(1/L) and C grows like (8/π)K_c² ln L.
    expect(onsagerEnergy(TC)).toBeAllClose(-Math.SQRT2, { rtol: 1e-6 });
    const c256 = kaufmanSquare(256, TC).specificHeat, c512 = kaufmanSquare(512, TC).specificHeat;
    const Kc = 1 / TC;
    expect(c512 - c256).toBeAllClose((8 / Math.PI) * Kc * Kc * Math.LN2, { rtol: 0.01 });
  });

  it('handles rectangular lattices symmetrically and rejects bad input', () => {
    expect(kaufman(4, 6, 2.1).logZ).toBeAllClose(kaufman(6, 4, 2.1).logZ, { rtol: 1e-12 });
    expect(() => kaufmanSquare(1, 2)).toThrow(UsageError);
    expect(() => kaufmanSquare(4, 0)).toThrow(UsageError);
    expect(() => kaufmanSquare(4, -1)).toThrow(/temperature must be > 0/);
  });
});

/** ln Z, ⟨E⟩/N and C of the periodic m×n lattice (right and down bonds of every site) by direct summation, independent of exact.ts. */
function bruteTorus(m: number, n: number, T: number): { logZ: number; energy: number; specificHeat: number } {
  const N = m * n;
  const bonds: number[] = [];
  for (let r = 0; r < m; r++)
    for (let c = 0; c < n; c++) {
      const i = r * n + c;
      bonds.push(i, r * n + ((c + 1) % n), i, ((r + 1) % m) * n + c);
    }
  const es = new Float64Array(2 ** N);
  for (let s = 0; s < es.length; s++) {
    let b = 0;
    for (let k = 0; k < bonds.length; k += 2) b += ((s >>> bonds[k]!) & 1) === ((s >>> bonds[k + 1]!) & 1) ? 1 : -1;
    es[s] = -b;
  }
  let e0 = Infinity;
  for (const E of es) e0 = Math.min(e0, E);
  let z = 0, e1 = 0;
  for (const E of es) {
    const w = Math.exp(-(E - e0) / T);
    z += w;
    e1 += w * E;
  }
  e1 /= z;
  // Two passes: the variance about the mean, without the cancellation of ⟨E²⟩ − ⟨E⟩².
  let v = 0;
  for (const E of es) v += Math.exp(-(E - e0) / T) * (E - e1) ** 2;
  v /= z;
  return { logZ: Math.log(z) - e0 / T, energy: e1 / N, specificHeat: v / (T * T * N) };
}

describe('Kaufman on rectangular lattices', () => {
  for (const [m, n] of [
    [3, 4],
    [2, 5],
    [5, 3],
  ] as const) {
    it(`${m}×${n} agrees with direct summation over all 2^${m * n} states (log Z, e, C to 1e-9)`, () => {
      for (const T of [0.9, 1.8, TC, 3.0, 6.0]) {
        const ref = bruteTorus(m, n, T);
        for (const k of [kaufman(m, n, T), kaufman(n, m, T)]) {
          expect(k.logZ).toBeAllClose(ref.logZ, { rtol: 1e-10 });
          expect(k.energy).toBeAllClose(ref.energy, { rtol: 1e-10 });
          expect(k.specificHeat).toBeAllClose(ref.specificHeat, { rtol: 1e-9, atol: 1e-12 });
        }
      }
    });
  }
});

describe('tiny temperatures', () => {
  it('Kaufman, enumeration and Onsager stay finite and reach the ground-state limit (ln Z = ln 2 + 2N/T, e = −2, C = 0)', () => {
    const dos = enumerate(isingModel({ L: 4 }));
    for (const T of [1e-3, 1e-30, 1e-300]) {
      const lz = Math.LN2 + 32 / T;
      for (const r of [kaufmanSquare(4, T), exactFromDos(dos, T), kaufman(3, 5, T)]) {
        expect(Number.isFinite(r.logZ) && Number.isFinite(r.energy) && Number.isFinite(r.specificHeat)).toBe(true);
        expect(r.energy).toBe(-2);
        expect(r.specificHeat).toBeGreaterThanOrEqual(0);
        expect(r.specificHeat).toBeLessThan(1e-30);
      }
      expect(kaufmanSquare(4, T).logZ).toBeAllClose(lz, { rtol: 1e-15 });
      expect(exactFromDos(dos, T).logZ).toBeAllClose(lz, { rtol: 1e-15 });
      expect(kaufman(3, 5, T).logZ).toBeAllClose(Math.LN2 + 30 / T, { rtol: 1e-15 });
      expect([onsagerEnergy(T), onsagerSpecificHeat(T), onsagerMagnetisation(T)]).toEqual([-2, 0, 1]);
    }
  });

  it('the ground-state branch of Kaufman joins the closed form: enumeration agrees on both sides of K ≈ 12.1 (L = 4)', () => {
    // The switch is at (2N e^{−2K})² = 2⁻⁶⁰, K = (ln 32 + 30 ln 2)/2 ≈ 12.13 for N = 16.
    const dos = enumerate(isingModel({ L: 4 }));
    for (const K of [8, 11.5, 12.5, 20]) {
      const k = kaufmanSquare(4, 1 / K);
      const e = exactFromDos(dos, 1 / K);
      expect(k.logZ).toBeAllClose(e.logZ, { rtol: 1e-14 });
      expect(k.energy).toBeAllClose(e.energy, { rtol: 1e-14 });
      // C itself is ~64K²e^{−8K} < 1e−20 here, while the closed form's d²lnZ/dK² carries an
      // absolute rounding error of order N²ε, i.e. K²Nε ≈ 2e−13 in C at K = 8: compare on that scale.
      expect(k.specificHeat).toBeAllClose(e.specificHeat, { atol: 1e-12 });
    }
  });

  it('a temperature so small that ln Z overflows is refused with a one-line error naming it; Onsager per-site values stay finite', () => {
    // ln Z ≈ 2N/T: 32/1e−307 = 3.2e308 is past the largest double (1.8e308).
    const dos = enumerate(isingModel({ L: 4 }));
    for (const f of [() => kaufmanSquare(4, 1e-307), () => exactFromDos(dos, 1e-307), () => exactLogProbabilities(isingModel({ L: 3 }), 1e-308)]) {
      expect(f).toThrow(UsageError);
      expect(f).toThrow(/^temperature 1e-30[78] is too small: ln Z overflows double precision$/);
    }
    // Also where 1/T itself overflows.
    expect([onsagerEnergy(1e-320), onsagerSpecificHeat(1e-320), onsagerMagnetisation(1e-320)]).toEqual([-2, 0, 1]);
    // The largest lattice still fine at 1e−300: ln Z = ln 2 + 2·16/1e−300.
    expect(exactLogProbabilities(isingModel({ L: 4 }), 1e-300)[0]).toBeAllClose(-Math.LN2, { rtol: 1e-12 });
  });

  it('zero, negative and non-finite temperatures are one-line usage errors naming the temperature', () => {
    for (const f of [(T: number) => kaufmanSquare(4, T), (T: number) => exactSquare(3, T), onsagerEnergy, onsagerSpecificHeat, onsagerMagnetisation]) {
      for (const T of [0, -2, NaN, Infinity]) {
        expect(() => f(T)).toThrow(UsageError);
        expect(() => f(T)).toThrow(`temperature must be > 0 and finite, got ${T}`);
      }
    }
  });
});

describe('Onsager references', () => {
  it('T_c, spontaneous magnetisation and elliptic integrals', () => {
    expect(onsagerTc()).toBeAllClose(2.269185314213022, { rtol: 1e-15 });
    expect(onsagerMagnetisation(3)).toBe(0);
    expect(onsagerMagnetisation(TC * 1.0000001)).toBe(0);
    expect(onsagerMagnetisation(0.5)).toBeAllClose(1, { rtol: 1e-6 });
    // Independent form: (1 − k²)^{1/8} with k = 1/sinh² 2K, here at T = 2.
    const k = 1 / Math.sinh(1) ** 2;
    expect(onsagerMagnetisation(2)).toBeAllClose((1 - k * k) ** 0.125, { rtol: 1e-14 });
    // K(0.5), E(0.5) from Abramowitz & Stegun Table 17.1 (modulus k = 0.5, m = 0.25).
    const ke = ellipticKE(0.5);
    expect(ke.K).toBeAllClose(1.685750354812596, { rtol: 1e-14 });
    expect(ke.E).toBeAllClose(1.467462209339427, { rtol: 1e-14 });
  });
});

describe('enumeration', () => {
  it('reproduces the 1D transfer-matrix partition function with a field', () => {
    // Z = λ₊^N + λ₋^N, λ± = e^K cosh βh ± √(e^{2K} sinh² βh + e^{−2K}).
    const N = 12, J = 0.7, h = 0.3;
    const dos = enumerate(isingModel({ L: N, geometry: 'chain', J, h }));
    for (const T of [0.8, 1.7, 4.0]) {
      const K = J / T, bh = h / T;
      const r = Math.sqrt(Math.exp(2 * K) * Math.sinh(bh) ** 2 + Math.exp(-2 * K));
      const lp = Math.exp(K) * Math.cosh(bh) + r, lm = Math.exp(K) * Math.cosh(bh) - r;
      expect(exactFromDos(dos, T).logZ).toBeAllClose(Math.log(lp ** N + lm ** N), { rtol: 1e-12 });
    }
  });

  it('energy and specific heat equal β-derivatives of log Z (finite differences), with a field', () => {
    const dos = enumerate(isingModel({ L: 3, h: 0.4 }));
    const T = 2.2, b = 1 / T, hh = 1e-4;
    const lz = (beta: number) => exactFromDos(dos, 1 / beta).logZ;
    const d1 = (lz(b + hh) - lz(b - hh)) / (2 * hh);
    const d2 = (lz(b + hh) - 2 * lz(b) + lz(b - hh)) / (hh * hh);
    const ex = exactFromDos(dos, T);
    expect(-d1 / 9).toBeAllClose(ex.energy, { rtol: 1e-7 });
    expect((b * b * d2) / 9).toBeAllClose(ex.specificHeat, { rtol: 1e-4 });
  });

  it('per-configuration probabilities are normalised and consistent with the density of states', () => {
    const model = isingModel({ L: 3 });
    const lp = exactLogProbabilities(model, 2.0);
    let s = 0, e = 0;
    for (let c = 0; c < lp.length; c++) {
      const p = Math.exp(lp[c]!);
      s += p;
      // energy of configuration c from its log-probability: −βE = lp + logZ.
      e += p * -(lp[c]! + exactSquare(3, 2.0).logZ) * 2.0;
    }
    expect(s).toBeAllClose(1, { rtol: 1e-12 });
    expect(e / 9).toBeAllClose(exactSquare(3, 2.0).energy, { rtol: 1e-10 });
    // |m| moments: Binder U → 2/3 deep in the ordered phase, and χ ≥ 0.
    const cold = exactSquare(4, 0.5);
    expect(cold.binder!).toBeAllClose(2 / 3, { rtol: 1e-6 });
    expect(cold.absMagnetisation!).toBeAllClose(1, { rtol: 1e-6 });
    expect(exactSquare(4, 2.5).susceptibility!).toBeGreaterThan(0);
  });

  it('refuses more than 25 spins', () => {
    expect(() => enumerate(isingModel({ L: 6 }))).toThrow(/N ≤ 25/);
  });
});
