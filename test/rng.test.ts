import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference recurrence from state {1,2,3,4}', () => {
    // Golden values from a direct Python transcription of the published recurrence
    // (Blackman & Vigna): s = [1,2,3,4]; six calls of next().
    const r = Rng.fromState({ s: [1, 2, 3, 4], spareNormal: null });
    const got = Array.from({ length: 6 }, () => r.nextU32());
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('is reproducible from a seed and differs across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 10 }, () => a.nextU32());
    expect(Array.from({ length: 10 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 10 }, () => c.nextU32())).not.toEqual(xa);
  });

  it('state round-trips, including the cached normal', () => {
    const a = new Rng(7);
    a.normal();
    const st = a.getState();
    const b = Rng.fromState(JSON.parse(JSON.stringify(st)));
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(Array.from({ length: 5 }, () => a.normal()));
  });

  it('split streams are deterministic and distinct, and do not advance the parent', () => {
    const p = new Rng(1);
    const before = p.getState();
    const s0 = p.split(0).nextU32();
    const s1 = p.split(1).nextU32();
    expect(p.getState()).toEqual(before);
    expect(p.split(0).nextU32()).toBe(s0);
    expect(s0).not.toBe(s1);
  });

  it('uniform and normal moments agree with theory within 5 standard errors', () => {
    const r = new Rng(123);
    const n = 200_000;
    let su = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) {
      su += r.uniform();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    // mean of U(0,1) has sd sqrt(1/12/n); mean of N(0,1) has sd 1/sqrt(n); var of z² is 2.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('int(n) is uniform (chi-square, 9 dof, p < 1e-4 rejects)', () => {
    const r = new Rng(5);
    const k = 10, n = 100_000;
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < n; i++) counts[r.int(k)]!++;
    const e = n / k;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(33.72); // 99.99% quantile of chi-square with 9 dof
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it('permutation contains every index once', () => {
    const p = new Rng(3).permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
  it('fillUniform is the stream of nextU32 on the float32 grid, and leaves the same state', () => {
    for (const seed of [0, 1, 0xdeadbeef, 2 ** 31 + 7]) {
      for (const [n, T] of [[1, Float32Array], [1000, Float32Array], [257, Float64Array]] as const) {
        const a = new Rng(seed).split(3);
        const b = a.clone();
        const got = new T(n);
        a.fillUniform(got);
        const want = Array.from({ length: n }, () => (b.nextU32() >>> 8) / 2 ** 24);
        expect(Array.from(got)).toEqual(want);
        expect(Array.from(a.state)).toEqual(Array.from(b.state));
        expect(a.nextU32()).toBe(b.nextU32());
      }
    }
  });
  it('fillNormal is the stream of normal() calls, spare included, and leaves the same state', () => {
    for (const seed of [0, 1, 0xdeadbeef, 2 ** 31 + 7]) {
      // Odd and even lengths, and a generator that already holds a spare (one normal() before).
      for (const [n, T, pre] of [[1, Float32Array, 0], [1001, Float32Array, 0], [256, Float64Array, 1], [7, Float64Array, 1], [0, Float64Array, 1]] as const) {
        const a = new Rng(seed).split(5);
        for (let i = 0; i < pre; i++) a.normal();
        const b = a.clone();
        const got = new T(n);
        a.fillNormal(got);
        // Rounded through the same array type (float32 rounds each deviate).
        const want = new T(n);
        for (let i = 0; i < n; i++) want[i] = b.normal();
        expect(Array.from(got)).toEqual(Array.from(want));
        expect(a.getState()).toEqual(b.getState());
        expect(a.normal()).toBe(b.normal());
      }
    }
  });
});
