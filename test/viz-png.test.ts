import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../src/core/errors.js';
import { filterGridPng, imageGridPng, writeFilterGrid, writeImageGrid } from '../src/viz/png.js';

function decode(buf: Buffer): { w: number; h: number; at: (x: number, y: number) => number; colorType: number } {
  const png = PNG.sync.read(buf);
  // pngjs always decodes to RGBA; a greyscale file has r = g = b and alpha 255.
  return {
    w: png.width,
    h: png.height,
    colorType: (png as unknown as { colorType: number }).colorType,
    at: (x, y) => {
      const i = (y * png.width + x) * 4;
      expect(png.data[i]).toBe(png.data[i + 1]);
      expect(png.data[i]).toBe(png.data[i + 2]);
      expect(png.data[i + 3]).toBe(255);
      return png.data[i]!;
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'genphys-viz-png-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('imageGridPng', () => {
  it('places tiles row-major with padding and maps [0,1] to 0..255 with clipping', () => {
    // 5 images of 2×3, image k pixel p = value chosen so each position is identifiable.
    const n = 5;
    const h = 2;
    const w = 3;
    const imgs = new Float32Array(n * h * w);
    for (let k = 0; k < n; k++) for (let p = 0; p < h * w; p++) imgs[k * h * w + p] = (k * 6 + p) / 29;
    imgs[0] = -0.5; // clipped to 0
    imgs[1] = 1.7; // clipped to 255
    imgs[2] = NaN; // drawn black
    const g = decode(imageGridPng(imgs, n, h, w, { cols: 2, pad: 1, padValue: 77 }));
    // 2 columns, 3 rows: width = 2*3 + 3*1 = 9, height = 3*2 + 4*1 = 10
    expect([g.w, g.h]).toEqual([9, 10]);
    expect(g.at(0, 0)).toBe(77); // border
    expect(g.at(1, 1)).toBe(0); // image 0 pixel (0,0) clipped low
    expect(g.at(2, 1)).toBe(255); // image 0 pixel (0,1) clipped high
    expect(g.at(3, 1)).toBe(0); // NaN
    expect(g.at(4, 1)).toBe(77); // pad between columns
    for (let k = 0; k < n; k++) {
      const x0 = 1 + (k % 2) * 4;
      const y0 = 1 + Math.floor(k / 2) * 3;
      for (let r = 0; r < h; r++) {
        for (let c = 0; c < w; c++) {
          const p = r * w + c;
          if (k === 0 && p < 3) continue;
          expect(g.at(x0 + c, y0 + r)).toBe(Math.round(((k * 6 + p) / 29) * 255));
        }
      }
    }
    // empty sixth cell is pad colour
    expect(g.at(5, 7)).toBe(77);
    expect(g.at(7, 8)).toBe(77);
  });

  it('uses [0,255] for Uint8 input, custom ranges and integer upscaling', () => {
    const u8 = Uint8Array.from([0, 10, 200, 255]);
    const g = decode(imageGridPng(u8, 1, 2, 2, { pad: 0, scale: 3 }));
    expect([g.w, g.h]).toEqual([6, 6]);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) expect(g.at(x, y)).toBe(u8[Math.floor(y / 3) * 2 + Math.floor(x / 3)]);
    }
    const spins = Float32Array.from([-1, 1, 1, -1]);
    const s = decode(imageGridPng(spins, 1, 2, 2, { pad: 0, range: [-1, 1] }));
    expect([s.at(0, 0), s.at(1, 0), s.at(0, 1), s.at(1, 1)]).toEqual([0, 255, 255, 0]);
  });

  it('writes a greyscale PNG atomically and leaves no temporary file', () => {
    const p = join(dir, 'grid.png');
    const size = writeImageGrid(p, new Float32Array(64 * 4).fill(0.5), 64, 2, 2);
    const png = PNG.sync.read(readFileSync(p));
    expect([png.width, png.height]).toEqual([size.width, size.height]);
    expect(size.width).toBe(8 * 2 + 9 * 2);
    expect((png as unknown as { colorType: number }).colorType).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects short batches and bad options', () => {
    expect(() => imageGridPng(new Float32Array(7), 2, 2, 2)).toThrow(ShapeError);
    expect(() => imageGridPng(new Float32Array(8), 2, 2, 2, { scale: 1.5 })).toThrow(/scale/);
    expect(() => imageGridPng(new Float32Array(8), 2, 2, 2, { range: [1, 1] })).toThrow(/range/);
    expect(() => imageGridPng(new Float32Array(8), 0, 2, 2)).toThrow(/n must/);
  });
});

describe('filterGridPng', () => {
  // 3 visible (1×3 image) × 2 hidden, row-major: W[i*2 + j]
  const W = Float32Array.from([
    -2, 10, //
    0, 20, //
    1, 30,
  ]);

  it('min–max normalises each hidden unit column on its own', () => {
    const g = decode(filterGridPng(W, 3, 2, 1, 3, { pad: 1, cols: 2 }));
    expect([g.w, g.h]).toEqual([2 * 3 + 3, 3]);
    // filter 0 = [-2, 0, 1] → (v+2)/3
    expect([g.at(1, 1), g.at(2, 1), g.at(3, 1)]).toEqual([0, Math.round((2 / 3) * 255), 255]);
    // filter 1 = [10, 20, 30] → (v-10)/20
    expect([g.at(5, 1), g.at(6, 1), g.at(7, 1)]).toEqual([0, 128, 255]);
  });

  it('symmetric mode maps 0 to mid grey and ±max|w| to black/white', () => {
    const g = decode(filterGridPng(W, 3, 2, 1, 3, { pad: 1, cols: 2, normalise: 'symmetric' }));
    // filter 0: max|w| = 2 → -2 → 0, 0 → 128 (127.5 rounds up), 1 → 191
    expect([g.at(1, 1), g.at(2, 1), g.at(3, 1)]).toEqual([0, 128, Math.round(0.75 * 255)]);
    // filter 1: max|w| = 30 → 10 → (40/60)·255
    expect([g.at(5, 1), g.at(6, 1), g.at(7, 1)]).toEqual([
      Math.round((40 / 60) * 255),
      Math.round((50 / 60) * 255),
      255,
    ]);
  });

  it('draws a constant filter mid grey, honours count, writes atomically', () => {
    const c = Float32Array.from([5, 1, 5, 2]); // 2 visible × 2 hidden; filter 0 constant
    const g = decode(filterGridPng(c, 2, 2, 1, 2, { pad: 0, cols: 2 }));
    expect([g.at(0, 0), g.at(1, 0), g.at(2, 0), g.at(3, 0)]).toEqual([128, 128, 0, 255]);
    const one = decode(filterGridPng(c, 2, 2, 1, 2, { pad: 0, count: 1 }));
    expect([one.w, one.h]).toEqual([2, 1]);
    const p = join(dir, 'filters.png');
    writeFilterGrid(p, W, 3, 2, 1, 3);
    expect(PNG.sync.read(readFileSync(p)).width).toBeGreaterThan(0);
    expect(() => filterGridPng(W, 4, 2, 2, 2)).toThrow(ShapeError);
    expect(() => filterGridPng(W, 3, 2, 1, 3, { count: 3 })).toThrow(/count/);
  });
});
