import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import { chiSquareTest } from '../src/core/stats.js';
import { DEFAULT_TOY_COUNT, TOY_NAMES, isToySpec, loadToy, parseToySpec, sampleToy, toyModes, type ToyData } from '../src/data/toys.js';

/** Mean and variance (n − 1) of column c over the rows `idx`. */
function moments(t: ToyData, idx: number[], c: number): [number, number] {
  const v = idx.map((i) => t.samples.data[2 * i + c]!);
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return [m, v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)];
}

function rowsAll(t: ToyData): number[] {
  return [...Array(t.samples.n).keys()];
}

/** Mean of f over all rows, with its standard error. */
function meanSe(t: ToyData, f: (x: number, y: number) => number): [number, number] {
  const v = rowsAll(t).map((i) => f(t.samples.data[2 * i]!, t.samples.data[2 * i + 1]!));
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
  return [m, sd / Math.sqrt(v.length)];
}

describe('toy mixtures', () => {
  for (const [name, K, sigma] of [
    ['ring8', 8, 0.02],
    ['grid25', 25, 0.05],
  ] as const) {
    it(`${name}: uniform component counts, per-mode mean = centre and variance = σ²`, () => {
      const n = 20000;
      const t = sampleToy(name, n, new Rng(50));
      const modes = t.modes!;
      expect(modes.sigma).toBe(sigma);
      expect(modes.centres.length).toBe(2 * K);
      expect(t.samples.data).toBeInstanceOf(Float32Array);
      expect([t.samples.n, t.samples.d]).toEqual([n, 2]);
      const counts = new Array<number>(K).fill(0);
      for (const l of t.labels!) counts[l]!++;
      expect(chiSquareTest(counts, new Array(K).fill(1 / K)).pValue).toBeGreaterThan(1e-3);
      for (let k = 0; k < K; k++) {
        const idx = rowsAll(t).filter((i) => t.labels![i] === k);
        const nk = idx.length;
        for (const c of [0, 1]) {
          const [m, v] = moments(t, idx, c);
          // Mean: SE σ/√n_k; variance: SE σ²√(2/(n_k − 1)); 4.5 sigma over the 2K·2 checks (float32 rounding ≪ σ).
          expect(Math.abs(m - modes.centres[2 * k + c]!)).toBeLessThan((4.5 * sigma) / Math.sqrt(nk));
          expect(Math.abs(v - sigma * sigma)).toBeLessThan(4.5 * sigma * sigma * Math.sqrt(2 / (nk - 1)));
        }
      }
    });
  }

  it('places the modes: ring of radius 2, 5×5 grid with spacing 2', () => {
    const r = toyModes('ring8')!;
    for (let k = 0; k < 8; k++) expect(Math.hypot(r.centres[2 * k]!, r.centres[2 * k + 1]!)).toBeAllClose(2, { rtol: 1e-15 });
    expect([r.centres[0], r.centres[1]]).toEqual([2, 0]);
    const g = toyModes('grid25')!;
    const xs = new Set(Array.from(g.centres));
    expect([...xs].sort((a, b) => a - b)).toEqual([-4, -2, 0, 2, 4]);
    expect(toyModes('moons')).toBeUndefined();
    expect(toyModes('ring8', { noise: 0.1 })!.sigma).toBe(0.1);
  });
});

describe('toy curves', () => {
  const n = 20000;
  it('swissroll: E‖x‖² = E t²/25 + 2σ² with t ~ U[1.5π, 4.5π]', () => {
    const t = sampleToy('swissroll', n, new Rng(51));
    const a = 1.5 * Math.PI;
    const b = 4.5 * Math.PI;
    const et2 = (a * a + a * b + b * b) / 3;
    const [m, se] = meanSe(t, (x, y) => x * x + y * y);
    expect(Math.abs(m - (et2 / 25 + 2 * 0.05 ** 2))).toBeLessThan(4 * se);
  });

  it('moons: E x = ½, E y = ¼', () => {
    // E cos θ = 0 and E sin θ = 2/π for θ ~ U[0, π]: x̄ = ½(0) + ½(1 − 0), ȳ = ½(2/π) + ½(½ − 2/π).
    const t = sampleToy('moons', n, new Rng(52));
    const [mx, sx] = meanSe(t, (x) => x);
    const [my, sy] = meanSe(t, (_, y) => y);
    expect(Math.abs(mx - 0.5)).toBeLessThan(4 * sx);
    expect(Math.abs(my - 0.25)).toBeLessThan(4 * sy);
    const [mxy, sxy] = meanSe(t, (x, y) => x * y);
    // E xy = ½E[cos θ sin θ] + ½E[(1 − cos θ)(½ − sin θ)] = 0 + ½(½ − 2/π − 0 + 0) = ¼ − 1/π.
    expect(Math.abs(mxy - (0.25 - 1 / Math.PI))).toBeLessThan(4 * sxy);
  });

  it('ring: E‖x‖² = 4 + 2σ², mean 0', () => {
    const t = sampleToy('ring', n, new Rng(53));
    const [m, se] = meanSe(t, (x, y) => x * x + y * y);
    expect(Math.abs(m - (4 + 2 * 0.05 ** 2))).toBeLessThan(4 * se);
    const [mx, sx] = meanSe(t, (x) => x);
    expect(Math.abs(mx)).toBeLessThan(4 * sx);
  });

  it('line: x − y ~ N(0, 2σ²), Var x = 1/3 + σ²', () => {
    const t = sampleToy('line', n, new Rng(54));
    const [md, sd] = meanSe(t, (x, y) => (x - y) ** 2);
    expect(Math.abs(md - 2 * 0.02 ** 2)).toBeLessThan(4 * sd);
    const [mx2, s2] = meanSe(t, (x) => x * x);
    expect(Math.abs(mx2 - (1 / 3 + 0.02 ** 2))).toBeLessThan(4 * s2);
  });

  it('is seeded: same seed same points, different seeds differ, noise 0 is exact', () => {
    for (const name of TOY_NAMES) {
      const a = sampleToy(name, 100, new Rng(7));
      expect(sampleToy(name, 100, new Rng(7)).samples.data).toEqual(a.samples.data);
      expect(sampleToy(name, 100, new Rng(8)).samples.data).not.toEqual(a.samples.data);
      expect(Array.from(a.samples.data).every(Number.isFinite)).toBe(true);
    }
    const r = sampleToy('ring', 50, new Rng(1), { noise: 0 });
    for (let i = 0; i < 50; i++) expect(Math.hypot(r.samples.data[2 * i]!, r.samples.data[2 * i + 1]!)).toBeAllClose(2, { rtol: 1e-6 });
    expect(() => sampleToy('ring', 0, new Rng(1))).toThrow(/count/);
    expect(() => sampleToy('ring8', 10, new Rng(1), { noise: -1 })).toThrow(/noise/);
  });
});

describe('toy specs', () => {
  it('parses names and counts', () => {
    expect(parseToySpec('toy:ring8')).toEqual({ name: 'ring8' });
    expect(parseToySpec('toy:grid25:10000')).toEqual({ name: 'grid25', n: 10000 });
    for (const name of TOY_NAMES) expect(parseToySpec(`toy:${name}:5`).name).toBe(name);
    expect(isToySpec('toy:moons')).toBe(true);
    expect(isToySpec('mnist')).toBe(false);
    expect(loadToy('toy:moons', new Rng(1)).samples.n).toBe(DEFAULT_TOY_COUNT);
    expect(loadToy('toy:line:123', new Rng(1)).samples.n).toBe(123);
  });

  it('rejects bad specs with a one-line UsageError naming the spec', () => {
    for (const bad of ['toy:', 'toy:foo', 'toy:ring8:0', 'toy:ring8:abc', 'toy:ring8:1.5', 'toy:ring8:-3', 'toy:ring8:1:2', 'ring8', 'toy:Ring8', 'toy:ring8:']) {
      let err: unknown;
      try {
        parseToySpec(bad, '--data');
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      const msg = (err as Error).message;
      expect(msg).toContain(`--data '${bad}'`);
      expect(msg).not.toContain('\n');
    }
    expect(() => parseToySpec('toy:foo')).toThrow(/unknown toy 'foo'; choose one of ring8, grid25, swissroll, moons, ring, line/);
  });
});
