import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { binarizeDynamic, binarizeStatic, toUnitFloat } from '../src/data/binarize.js';

describe('toUnitFloat', () => {
  it('divides by 255 exactly at the ends and does not touch the input', () => {
    const px = Uint8Array.from([0, 1, 127, 128, 255]);
    const copy = px.slice();
    const x = toUnitFloat(px);
    expect(x).toBeInstanceOf(Float32Array);
    expect(x[0]).toBe(0);
    expect(x[4]).toBe(1);
    expect(Array.from(x)).toBeAllClose([0, 1 / 255, 127 / 255, 128 / 255, 1], { rtol: 1e-7 });
    expect(px).toEqual(copy);
  });
});

describe('binarizeStatic', () => {
  it('thresholds strictly above the cut, default 0.5', () => {
    const x = Float32Array.from([0, 0.49, 0.5, 0.51, 1]);
    expect(Array.from(binarizeStatic(x))).toEqual([0, 0, 0, 1, 1]);
    expect(Array.from(binarizeStatic(x, 0))).toEqual([0, 1, 1, 1, 1]);
    expect(Array.from(x)).toEqual(Array.from(Float32Array.from([0, 0.49, 0.5, 0.51, 1])));
    expect(() => binarizeStatic(x, NaN)).toThrow(RangeError);
  });

  it('on pixels/255 the 0.5 cut is pixel ≥ 128', () => {
    const px = Uint8Array.from({ length: 256 }, (_, i) => i);
    const b = binarizeStatic(toUnitFloat(px));
    for (let i = 0; i < 256; i++) expect(b[i]).toBe(i >= 128 ? 1 : 0);
  });
});

describe('binarizeDynamic', () => {
  it('mean matches the intensity within 5 standard errors, per level', () => {
    const levels = [0, 0.05, 0.3, 0.5, 0.77, 0.99, 1];
    const m = 20000;
    const x = new Float32Array(levels.length * m);
    levels.forEach((p, k) => x.fill(p, k * m, (k + 1) * m));
    const b = binarizeDynamic(x, new Rng(11));
    levels.forEach((p, k) => {
      let s = 0;
      for (let i = k * m; i < (k + 1) * m; i++) s += b[i]!;
      const mean = s / m;
      const se = Math.sqrt((p * (1 - p)) / m);
      if (p === 0 || p === 1) expect(mean).toBe(p); // u ∈ [0,1): u < 0 never, u < 1 always
      else expect(Math.abs(mean - Math.fround(p))).toBeLessThan(5 * se);
    });
    let nonBinary = 0;
    for (const v of b) if (v !== 0 && v !== 1) nonBinary++;
    expect(nonBinary).toBe(0);
  });

  it('entries are independent: adjacent-pair agreement matches p² + (1−p)² within 5 SE', () => {
    const p = 0.3;
    const m = 40000;
    const b = binarizeDynamic(new Float32Array(m).fill(p), new Rng(5));
    let agree = 0;
    for (let i = 0; i + 1 < m; i += 2) agree += b[i] === b[i + 1] ? 1 : 0;
    const q = p * p + (1 - p) * (1 - p);
    const pairs = m / 2;
    expect(Math.abs(agree / pairs - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / pairs));
  });

  it('is reproducible from the seed, differs across calls (epochs), leaves input unchanged', () => {
    const x = Float32Array.from({ length: 500 }, (_, i) => (i % 17) / 16);
    const copy = x.slice();
    const a = binarizeDynamic(x, new Rng(3));
    const b = binarizeDynamic(x, new Rng(3));
    expect(b).toEqual(a);
    const r = new Rng(3);
    const e1 = binarizeDynamic(x, r);
    const e2 = binarizeDynamic(x, r);
    expect(e1).toEqual(a);
    expect(e2).not.toEqual(e1);
    expect(x).toEqual(copy);
  });

  it('uses u < x with u = uniformF32(), one draw per entry (golden check against the Rng)', () => {
    const x = Float32Array.from([0.1, 0.9, 0.5, 0.5, 0.25, 0.75]);
    const ref = new Rng(99);
    const expected = Array.from(x, (v) => (ref.uniformF32() < v ? 1 : 0));
    const r = new Rng(99);
    expect(Array.from(binarizeDynamic(x, r))).toEqual(expected);
    expect(r.getState()).toEqual(ref.getState());
  });
});
