import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { Trainer } from '../src/ebm/train.js';
import { LatticeSpinRBM } from '../src/physics/lattice-rbm.js';
import { isingModel, squareTranslations } from '../src/physics/lattice.js';
import { exactRbmKL } from '../src/physics/rbm-pipeline.js';

/** n random ±1 configurations of N spins. */
function randomSpins(n: number, N: number, rng: Rng): Float32Array {
  return new Float32Array(n * N).map(() => (rng.nextU32() & 1 ? 1 : -1));
}

/** Configurations v translated by permutation p: (g·v)[p[i]] = v[i]. */
function translate(v: Float32Array, N: number, p: Int32Array): Float32Array {
  const out = new Float32Array(v.length);
  for (let r = 0; r < v.length / N; r++) for (let i = 0; i < N; i++) out[r * N + p[i]!] = v[r * N + i]!;
  return out;
}

describe('squareTranslations', () => {
  it('gives L² distinct permutations that preserve nearest-neighbour bonds, the identity first', () => {
    const L = 4;
    const model = isingModel({ L });
    const G = squareTranslations(L);
    expect(G).toHaveLength(L * L);
    expect(Array.from(G[0]!)).toEqual(Array.from({ length: L * L }, (_, i) => i));
    const keys = new Set(G.map((p) => Array.from(p).join(',')));
    expect(keys.size).toBe(L * L);
    for (const p of G) {
      expect(new Set(p).size).toBe(L * L);
      for (let i = 0; i < model.N; i++) {
        for (let d = 0; d < 4; d++) {
          const j = model.nbr[4 * i + d]!;
          const pi = p[i]!;
          const images = Array.from({ length: 4 }, (_, e) => model.nbr[4 * pi + e]!);
          expect(images).toContain(p[j]!);
        }
      }
    }
  });
});

describe('LatticeSpinRBM', () => {
  const L = 4;
  const N = L * L;
  const G = squareTranslations(L);

  it('translation-invariant weights give F(g·v) = F(v) for every translation, before and after training', async () => {
    const rbm = new LatticeSpinRBM({ nVisible: N, nHidden: 2 * N, initStd: 0.3, translations: G }, new Rng(1));
    const rng = new Rng(2);
    const v = randomSpins(6, N, rng);
    const check = () => {
      const f = rbm.freeEnergy(v);
      for (const p of G) expect(Array.from(rbm.freeEnergy(translate(v, N, p)))).toBeAllClose(Array.from(f), { rtol: 1e-6 });
      expect(Array.from(rbm.freeEnergy(v.map((x) => -x)))).toBeAllClose(Array.from(f), { rtol: 1e-6 });
    };
    check();
    // The initial filters keep the requested spread (they are not shrunk by averaging).
    const W = rbm.params.W!;
    let s2 = 0;
    for (const w of W) s2 += w * w;
    expect(Math.sqrt(s2 / W.length)).toBeGreaterThan(0.2);
    const trainer = new Trainer(rbm, { method: 'pcd', k: 2, batchSize: 10, learningRate: 0.05, initVisibleBias: false }, new Rng(3));
    await trainer.fit(randomSpins(40, N, new Rng(4)), { epochs: 2 });
    check();
  });

  it('project() is idempotent, and with free biases keeps them uniform (visible) and tied per family (hidden)', () => {
    const rbm = new LatticeSpinRBM({ nVisible: N, nHidden: 2 * N, initStd: 0.2, translations: G, spinFlipSymmetric: false }, new Rng(5));
    const rng = new Rng(6);
    for (const k of ['W', 'a', 'b'] as const) {
      const p = rbm.params[k]!;
      for (let i = 0; i < p.length; i++) p[i]! += 0.1 * rng.normal();
    }
    rbm.project();
    const once = Object.fromEntries(['W', 'a', 'b'].map((k) => [k, Float32Array.from(rbm.params[k]!)]));
    rbm.project();
    for (const k of ['W', 'a', 'b']) expect(Array.from(rbm.params[k]!)).toBeAllClose(Array.from(once[k]!), { rtol: 1e-6, atol: 1e-7 });
    const a = rbm.params.a!;
    expect(a.every((x) => Math.abs(x - a[0]!) < 1e-6)).toBe(true);
    const b = rbm.params.b!;
    for (const j0 of [0, N]) for (let j = j0; j < j0 + N; j++) expect(b[j]).toBeCloseTo(b[j0]!, 6);
    const v = randomSpins(4, N, rng);
    const f = rbm.freeEnergy(v);
    for (const p of G) expect(Array.from(rbm.freeEnergy(translate(v, N, p)))).toBeAllClose(Array.from(f), { rtol: 1e-6 });
  });

  it('two families hold the Ising model exactly: one bond filter per direction, cosh 2w = e^{2/T}, KL = 0', () => {
    const model = isingModel({ L });
    for (const T of [1.5, 2.269, 3.5]) {
      const rbm = new LatticeSpinRBM({ nVisible: N, nHidden: 2 * N, initStd: 0, translations: G }, new Rng(7));
      const w = 0.5 * Math.acosh(Math.exp(2 / T));
      const W = rbm.params.W!;
      const H = 2 * N;
      // Family 0 (units 0…N−1): unit t sees the bond (t(0), t(right of 0)); family 1: vertical bonds.
      const right = model.nbr[0]!;
      const down = model.nbr[2]!;
      G.forEach((g, t) => {
        W[g[0]! * H + t] = w;
        W[g[right]! * H + t] = w;
        W[g[0]! * H + N + t] = w;
        W[g[down]! * H + N + t] = w;
      });
      const before = Float32Array.from(W);
      rbm.project(); // already translation-invariant: unchanged
      expect(Array.from(W)).toBeAllClose(Array.from(before), { rtol: 1e-6 });
      expect(exactRbmKL(model, T, rbm)).toBeLessThan(1e-9);
    }
  });

  it('rejects a hidden count that is not a multiple of the group size, non-permutations and non-groups', () => {
    expect(() => new LatticeSpinRBM({ nVisible: N, nHidden: N + 3, translations: G }, new Rng(1))).toThrow(/multiple of 16 hidden units/);
    expect(() => new LatticeSpinRBM({ nVisible: N, nHidden: N, translations: [G[1]!, G[0]!] }, new Rng(1))).toThrow(/identity/);
    const collapse = Int32Array.from({ length: N }, () => 0);
    expect(() => new LatticeSpinRBM({ nVisible: N, nHidden: 2 * N, translations: [G[0]!, collapse] }, new Rng(1))).toThrow(/permutations of the 16 sites/);
    // A shift by one column without its powers is not a group.
    expect(() => new LatticeSpinRBM({ nVisible: N, nHidden: 2 * N, translations: [G[0]!, G[1]!] }, new Rng(1))).toThrow(/form a group/);
  });
});
