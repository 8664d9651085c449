/**
 * Lattice-symmetry images of Ising configurations (training-data augmentation):
 * every image must have the energy and magnetisation of its source (exact
 * invariants of the periodic square lattice), and the images must cover the
 * symmetry group rather than repeat the source.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { bondSum, isingModel, latticeSymmetryImages, magnetisation, randomSpins } from '../src/physics/lattice.js';

describe('latticeSymmetryImages', () => {
  const L = 6;
  const model = isingModel({ L });
  const N = L * L;

  it('keeps the source first and every image’s bond sum, magnetisation and spin multiset', () => {
    const rng = new Rng(11);
    const n = 5;
    const src = new Int8Array(n * N);
    for (let s = 0; s < n; s++) src.set(randomSpins(model, rng), s * N);
    const before = Int8Array.from(src);
    const copies = 40;
    const out = latticeSymmetryImages(src, L, copies, new Rng(12));
    expect(src).toEqual(before); // input untouched
    expect(out.length).toBe(n * copies * N);
    let distinct = 0;
    for (let s = 0; s < n; s++) {
      const orig = src.subarray(s * N, (s + 1) * N);
      const b0 = bondSum(model, orig);
      const m0 = magnetisation(model, orig);
      for (let c = 0; c < copies; c++) {
        const img = Int8Array.from(out.subarray((s * copies + c) * N, (s * copies + c + 1) * N));
        if (c === 0) expect(img).toEqual(orig);
        expect(bondSum(model, img)).toBe(b0);
        expect(magnetisation(model, img)).toBe(m0);
        if (img.some((v, i) => v !== orig[i])) distinct++;
      }
    }
    // Random configurations have no symmetry: almost every image differs from its source.
    expect(distinct).toBeGreaterThan(n * (copies - 1) * 0.9);
  });

  it('a single up spin visits every site, and a horizontal bond pair turns vertical', () => {
    const one = new Int8Array(N).fill(-1);
    one[0] = 1;
    const imgs = latticeSymmetryImages(one, L, 2000, new Rng(3));
    const seen = new Set<number>();
    for (let c = 0; c < 2000; c++) seen.add(imgs.subarray(c * N, (c + 1) * N).indexOf(1));
    expect(seen.size).toBe(N);
    // Two up spins at (0,0) and (1,0): some images hold them one above the other (transpose).
    const pair = new Int8Array(N).fill(-1);
    pair[0] = 1;
    pair[1] = 1;
    const p = latticeSymmetryImages(pair, L, 400, new Rng(4));
    let vertical = 0;
    for (let c = 1; c < 400; c++) {
      const img = p.subarray(c * N, (c + 1) * N);
      const a = img.indexOf(1);
      const b = img.indexOf(1, a + 1);
      if ((b - a) % L === 0) vertical++;
    }
    expect(vertical).toBeGreaterThan(100);
    expect(vertical).toBeLessThan(300);
  });

  it('rejects partial configurations and bad copy counts', () => {
    expect(() => latticeSymmetryImages(new Int8Array(N + 1), L, 2, new Rng(1))).toThrow(/whole 6×6 configurations/);
    expect(() => latticeSymmetryImages(new Int8Array(N), L, 0, new Rng(1))).toThrow(/copies/);
  });
});
