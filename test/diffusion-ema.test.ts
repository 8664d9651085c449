import { describe, expect, it } from 'vitest';
import { ShapeError, UsageError } from '../src/core/errors.js';
import { Ema } from '../src/diffusion/ema.js';

const F32 = 2 ** -24;

describe('Ema', () => {
  const w0 = () =>
    new Map([
      ['net.a', Float32Array.from([1, -2, 3])],
      ['net.b', Float32Array.from([0.5])],
    ]);

  it('starts as a copy of the weights, not zeros, and keeps no reference to them', () => {
    const w = w0();
    const e = new Ema(w, { decay: 0.999 });
    expect(e.weights()).toEqual(w0());
    w.get('net.a')![0] = 100;
    expect(e.weights().get('net.a')![0]).toBe(1);
    const out = e.weights();
    out.get('net.b')![0] = -7;
    expect(e.weights().get('net.b')![0]).toBe(0.5);
  });

  it('warm-up decay is min(decay, (1 + t)/(10 + t))', () => {
    const e = new Ema(w0(), { decay: 0.9 });
    expect([0, 1, 2, 80, 81, 1000].map((t) => e.decayAt(t))).toBeAllClose([1 / 10, 2 / 11, 3 / 12, 81 / 90, 0.9, 0.9], { rtol: 1e-15 });
    expect(new Ema(w0(), { decay: 0.9, warmup: false }).decayAt(0)).toBe(0.9);
    expect(new Ema(w0()).decay).toBe(0.9999);
  });

  it('updates shadow ← d_t shadow + (1 − d_t) w with the warm-up decays, in float32', () => {
    const e = new Ema(w0(), { decay: 0.99 });
    const w1 = new Map([
      ['net.a', Float32Array.from([2, 0, 0])],
      ['net.b', Float32Array.from([1.5])],
    ]);
    const w1copy = new Map([...w1].map(([k, v]) => [k, Float32Array.from(v)]));
    e.update(w1);
    expect(w1).toEqual(w1copy);
    // t = 0: d = 0.1 → 0.1·w0 + 0.9·w1
    expect(e.weights().get('net.a')!).toBeAllClose([0.1 * 1 + 0.9 * 2, 0.1 * -2, 0.1 * 3], { rtol: 2 * F32 });
    e.update(w1);
    // t = 1: d = 2/11
    const d = 2 / 11;
    expect(e.weights().get('net.b')!).toBeAllClose([d * (0.1 * 0.5 + 0.9 * 1.5) + (1 - d) * 1.5], { rtol: 4 * F32 });
    expect(e.step).toBe(2);
  });

  it('a constant weight stays constant; a late average forgets the start geometrically', () => {
    const e = new Ema(w0(), { decay: 0.5 });
    for (let i = 0; i < 30; i++) e.update(w0());
    expect(e.weights()).toEqual(w0());
    const zeros = new Map([
      ['net.a', new Float32Array(3)],
      ['net.b', new Float32Array(1)],
    ]);
    const f = new Ema(w0(), { decay: 0.5, warmup: false });
    for (let i = 0; i < 10; i++) f.update(zeros);
    expect(f.weights().get('net.a')!).toBeAllClose([1 / 1024, -2 / 1024, 3 / 1024], { rtol: 1e-7 });
  });

  it('round-trips through getState / fromState', () => {
    const e = new Ema(w0(), { decay: 0.95 });
    e.update(new Map([...w0()].map(([k, v]) => [k, v.map((u) => u + 1)])));
    const g = Ema.fromState(e.getState());
    expect(g.step).toBe(1);
    expect(g.decayAt(g.step)).toBe(e.decayAt(e.step));
    expect(g.weights()).toEqual(e.weights());
  });

  it('bad input: one-line errors', () => {
    for (const decay of [1, -0.1, NaN]) expect(() => new Ema(w0(), { decay })).toThrow(UsageError);
    expect(() => new Ema(w0(), { decay: 1 })).toThrow(/^EMA: decay must be in \[0, 1\), got 1$/);
    const e = new Ema(w0());
    expect(() => e.update(new Map([['net.a', new Float32Array(3)]]))).toThrow(new ShapeError("EMA: weights lack 'net.b'"));
    expect(() => e.update(new Map([...w0(), ['net.c', new Float32Array(1)]]))).toThrow(/EMA: unknown weight 'net.c'/);
    expect(() => e.update(new Map([['net.a', new Float32Array(2)], ['net.b', new Float32Array(1)]]))).toThrow(/EMA: 'net.a' has 2 values, the average has 3/);
    expect(e.step).toBe(0);
    expect(e.weights()).toEqual(w0());
  });
});
