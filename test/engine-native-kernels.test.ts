/**
 * The native dense kernels (OpenBLAS + fused Gibbs half-steps) against the
 * TypeScript reference kernels: gemm for every transpose combination and odd
 * shapes (rtol 1e-4), bit-identical Bernoulli/spin samples and identical Rng
 * state after the call, and bad input giving a
 * clear error instead of a crash or an out-of-bounds access.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { ShapeError } from '../src/core/errors.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import { nativeAddon, nativeKernels, nativeLoadError } from '../src/engine/native.js';
import type { Kernels } from '../src/engine/kernels.js';
import { binary, dyadic, rms, uniform } from './kernel-helpers.js';

if (!nativeKernels) console.warn(`engine-native-kernels: skipped, native addon unavailable: ${nativeLoadError}`);
const nk = nativeKernels as Kernels;
const maybe = it.skipIf(!nativeKernels);

describe('native kernels vs TypeScript kernels', () => {
  maybe('reports OpenBLAS and a thread count', () => {
    expect(nk.name).toBe('native');
    expect(nk.blas).toMatch(/^OpenBLAS \d+\.\d+/);
    expect(nk.threads).toBeGreaterThanOrEqual(1);
  });

  maybe('gemm: all transpose combinations, odd shapes, alpha and beta', () => {
    const rng = new Rng(1);
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 9, 4],
      [7, 1, 5],
      [3, 5, 1],
      [13, 17, 11],
      [64, 33, 129],
      [0, 3, 2],
      [3, 0, 2],
      [3, 2, 0],
    ];
    for (const [M, N, K] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const [alpha, beta] of [
            [1, 0],
            [-0.5, 2],
          ] as const) {
            const A = uniform(M * K, rng);
            const B = uniform(K * N, rng);
            const C0 = uniform(M * N, rng);
            const want = C0.slice();
            const got = C0.slice();
            jsKernels.gemm(ta, tb, M, N, K, alpha, A, B, beta, want);
            nk.gemm(ta, tb, M, N, K, alpha, A, B, beta, got);
            // Cancellation leaves float32 rounding of √K-sized partial sums: absolute floor 1e-5·rms.
            expect(got, `M=${M} N=${N} K=${K} ta=${ta} tb=${tb} α=${alpha} β=${beta}`).toBeAllClose(want, {
              rtol: 1e-4,
              atol: 1e-5 * Math.max(rms(want), 1e-30),
            });
          }
        }
      }
    }
  });

  maybe('gemm on subarray views touches only the view', () => {
    const rng = new Rng(2);
    const bufC = new Float32Array(3 + 4 * 5 + 3).fill(7);
    const C = bufC.subarray(3, 3 + 20);
    const A = uniform(4 * 6, rng);
    const B = uniform(6 * 5, rng);
    const want = new Float32Array(20);
    jsKernels.gemm(false, false, 4, 5, 6, 1, A, B, 0, want);
    nk.gemm(false, false, 4, 5, 6, 1, A, B, 0, C);
    expect(C).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
    expect(Array.from(bufC.subarray(0, 3))).toEqual([7, 7, 7]);
    expect(Array.from(bufC.subarray(23))).toEqual([7, 7, 7]);
  });

  // Dyadic weights and binary inputs make X·W exact in float32 for both the JS
  // (float64-accumulated) and OpenBLAS products, so the pre-activations agree
  // bit for bit and the samples must be identical, not merely close.
  for (const [rows, nIn, nOut] of [
    [1, 1, 1],
    [3, 7, 5],
    [17, 33, 9],
    [128, 784, 500],
  ] as const) {
    for (const transW of [false, true]) {
      for (const beta of [1, 0.37]) {
        maybe(`bernoulliLayer: identical samples and Rng state (${rows}×${nIn}→${nOut}, transW=${transW}, β=${beta})`, () => {
          const g = new Rng(rows * 1000 + nIn + (transW ? 7 : 0));
          const X = binary(rows * nIn, g, 0.3);
          const W = dyadic(nIn * nOut, g);
          const bias = dyadic(nOut, g);
          const r1 = new Rng(42);
          const r2 = new Rng(42);
          const p1 = new Float32Array(rows * nOut);
          const s1 = new Float32Array(rows * nOut);
          const p2 = new Float32Array(rows * nOut);
          const s2 = new Float32Array(rows * nOut);
          jsKernels.bernoulliLayer(X, W, bias, rows, nIn, nOut, transW, p1, s1, r1, beta);
          nk.bernoulliLayer(X, W, bias, rows, nIn, nOut, transW, p2, s2, r2, beta);
          expect(Array.from(s2)).toEqual(Array.from(s1));
          expect(Array.from(r2.state)).toEqual(Array.from(r1.state));
          expect(p2).toBeAllClose(p1, { rtol: 1e-6, atol: 0 });
          expect(r1.nextU32()).toBe(r2.nextU32());
        });
      }
    }
  }

  maybe('bernoulliLayer: generic float inputs give matching means and (near-)identical samples', () => {
    const g = new Rng(5);
    const rows = 64;
    const nIn = 200;
    const nOut = 150;
    const X = uniform(rows * nIn, g);
    const W = uniform(nIn * nOut, g, -0.2, 0.2);
    const bias = uniform(nOut, g);
    const r1 = new Rng(9);
    const r2 = new Rng(9);
    const p1 = new Float32Array(rows * nOut);
    const s1 = new Float32Array(rows * nOut);
    const p2 = new Float32Array(rows * nOut);
    const s2 = new Float32Array(rows * nOut);
    jsKernels.bernoulliLayer(X, W, bias, rows, nIn, nOut, false, p1, s1, r1);
    nk.bernoulliLayer(X, W, bias, rows, nIn, nOut, false, p2, s2, r2);
    expect(p2).toBeAllClose(p1, { rtol: 1e-5, atol: 1e-6 });
    // A draw can only differ when u falls between the two float32 probabilities
    // (|Δp| ≲ 1e-6 here), i.e. with probability ~1e-6 per unit: 9600 units → none expected.
    let diff = 0;
    for (let i = 0; i < s1.length; i++) if (s1[i] !== s2[i]) diff++;
    expect(diff).toBe(0);
    expect(Array.from(r2.state)).toEqual(Array.from(r1.state));
  });

  maybe('bernoulliLayer without sampling leaves the Rng alone; means are σ(β·a)', () => {
    const g = new Rng(6);
    const X = uniform(4 * 3, g);
    const W = uniform(3 * 2, g);
    const bias = uniform(2, g);
    const r = new Rng(1);
    const before = Array.from(r.state);
    const p = new Float32Array(8);
    nk.bernoulliLayer(X, W, bias, 4, 3, 2, false, p, null, null, 2);
    expect(Array.from(r.state)).toEqual(before);
    const want = new Float32Array(8);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 2; j++) {
        let a = bias[j]!;
        for (let k = 0; k < 3; k++) a += X[i * 3 + k]! * W[k * 2 + j]!;
        want[i * 2 + j] = 1 / (1 + Math.exp(-2 * a));
      }
    expect(p).toBeAllClose(want, { rtol: 1e-5 });
  });

  maybe('bernoulliLayer: extreme activations saturate to exactly 0 and 1', () => {
    const X = new Float32Array([1, -1]);
    const W = new Float32Array([1000]);
    const bias = new Float32Array([0]);
    const p = new Float32Array(2);
    const s = new Float32Array(2);
    nk.bernoulliLayer(X, W, bias, 2, 1, 1, false, p, s, new Rng(3));
    expect(Array.from(p)).toEqual([1, 0]);
    expect(Array.from(s)).toEqual([1, 0]);
  });

  maybe('fillUniform: same numbers and state as Rng.fillUniform', () => {
    const r1 = new Rng(123);
    const r2 = new Rng(123);
    const a = new Float32Array(1001);
    const b = new Float32Array(1001);
    r1.fillUniform(a);
    nk.fillUniform(r2, b);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(r2.state)).toEqual(Array.from(r1.state));
  });
});

describe('native kernels reject bad input with a clear error', () => {
  const f = (n: number): Float32Array => new Float32Array(n);

  maybe('short buffers are ShapeErrors naming the buffer', () => {
    expect(() => nk.gemm(false, false, 4, 5, 6, 1, f(23), f(30), 0, f(20))).toThrow(ShapeError);
    expect(() => nk.gemm(false, false, 4, 5, 6, 1, f(24), f(30), 0, f(19))).toThrow(/C has 19 elements, needs at least 20/);
    expect(() => nk.gemm(false, true, 4, 5, 6, 1, f(24), f(29), 0, f(20))).toThrow(/B has 29 elements/);
    expect(() => nk.bernoulliLayer(f(6), f(6), f(1), 2, 3, 2, false, f(4), f(4), new Rng(1))).toThrow(/bias has 1 elements/);
    expect(() => nk.bernoulliLayer(f(6), f(6), f(2), 2, 3, 2, false, f(4), f(3), new Rng(1))).toThrow(/sample has 3 elements/);
    expect(() => nk.bernoulliLayer(f(6), f(6), f(2), 2, 3, 2, false, f(4), f(4), null)).toThrow(/needs an Rng/);
  });

  maybe('bad dimensions and types are rejected before any work', () => {
    expect(() => nk.gemm(false, false, -1, 5, 6, 1, f(30), f(30), 0, f(30))).toThrow(/M must be an integer/);
    expect(() => nk.gemm(false, false, 2.5, 5, 6, 1, f(30), f(30), 0, f(30))).toThrow(/M must be an integer/);
    expect(() => nk.gemm(false, false, 1e5, 1e5, 1, 1, f(1e5), f(1e5), 0, f(30))).toThrow(/2\^31-1/);
    expect(() => nk.gemm(false, false, 1, 1, 1, 1, new Float64Array(1) as unknown as Float32Array, f(1), 0, f(1))).toThrow(TypeError);
  });

  maybe('outputs may not alias inputs', () => {
    const A = f(16);
    expect(() => nk.gemm(false, false, 4, 4, 4, 1, A, f(16), 0, A)).toThrow(/must not share memory/);
    const buf = f(32);
    expect(() => nk.gemm(false, false, 4, 4, 4, 1, buf.subarray(0, 16), f(16), 0, buf.subarray(8, 24))).toThrow(/must not share memory/);
    const X = f(4);
    expect(() => nk.bernoulliLayer(X, f(4), f(2), 2, 2, 2, false, X, null, null)).toThrow(/must not share memory/);
  });

  maybe('guard regions around every output stay untouched (odd conv geometries, fused layers)', () => {
    const a = nativeAddon!;
    const G = 17;
    const SENT = 12345.5;
    // A view of n elements with G sentinel elements on both sides.
    const guarded = (n: number): { buf: Float32Array; view: Float32Array } => {
      const buf = new Float32Array(n + 2 * G).fill(SENT);
      return { buf, view: buf.subarray(G, G + n) };
    };
    const intact = (buf: Float32Array, n: number): void => {
      for (let i = 0; i < G; i++) {
        expect(buf[i]).toBe(SENT);
        expect(buf[G + n + i]).toBe(SENT);
      }
    };
    const rng = new Rng(99);
    // [n, h, w, c, fh, fw, oc, sh, sw, dh, dw, padT, padL, oh, ow]
    const geoms = [
      [1, 5, 3, 1, 3, 2, 1, 2, 1, 1, 1, 1, 0, 3, 2],
      [2, 7, 6, 3, 3, 3, 5, 2, 2, 1, 1, 1, 1, 4, 3],
      [3, 4, 9, 2, 2, 5, 3, 1, 2, 2, 1, 0, 2, 2, 5],
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1],
    ];
    for (const g of geoms) {
      const [n, h, w, c, fh, fw, oc, , , , , , , oh, ow] = g as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
      const nx = n * h * w * c;
      const nf = fh * fw * c * oc;
      const ny = n * oh * ow * oc;
      const x = uniform(nx, rng);
      const f = uniform(nf, rng);
      const dy = uniform(ny, rng);
      const y = guarded(ny);
      a.conv2d(x, f, y.view, g);
      intact(y.buf, ny);
      const dx = guarded(nx);
      a.conv2dBackpropInput(dy, f, dx.view, g);
      intact(dx.buf, nx);
      const df = guarded(nf);
      a.conv2dBackpropFilter(x, dy, df.view, g);
      intact(df.buf, nf);
    }
    const [rows, nIn, nOut] = [3, 5, 7];
    const p = guarded(rows * nOut);
    const smp = guarded(rows * nOut);
    nk.bernoulliLayer(uniform(rows * nIn, rng), uniform(nIn * nOut, rng), uniform(nOut, rng), rows, nIn, nOut, true, p.view, smp.view, new Rng(1));
    intact(p.buf, rows * nOut);
    intact(smp.buf, rows * nOut);
    const out = guarded(35);
    a.binary(2, uniform(35, rng), uniform(7, rng), out.view);
    intact(out.buf, 35);
    const lead = guarded(35);
    a.binary(0, uniform(5, rng), uniform(35, rng), lead.view, 7);
    intact(lead.buf, 35);
  });

  maybe('the raw addon validates conv geometry and op codes', () => {
    const a = nativeAddon!;
    const geom = [1, 4, 4, 1, 3, 3, 2, 1, 1, 1, 1, 1, 1, 4, 4];
    expect(() => a.conv2d(f(16), f(18), f(31), geom)).toThrow(/y has 31 elements, needs at least 32/);
    expect(() => a.conv2d(f(15), f(18), f(32), geom)).toThrow(/x has 15 elements/);
    expect(() => a.conv2d(f(16), f(18), f(32), [1, 4, 4, 1, 3, 3, 2, 0, 1, 1, 1, 1, 1, 4, 4])).toThrow(/strideHeight/);
    expect(() => a.conv2d(f(16), f(18), f(32), geom.slice(1))).toThrow(/15 integers/);
    expect(() => a.unary(99, f(2), f(2), 0)).toThrow(/unknown op/);
    expect(() => a.unary(0, f(2), f(3), 0)).toThrow(/y has 3 elements, expected 2/);
    expect(() => a.binary(0, f(3), f(2), f(6))).toThrow(RangeError);
    expect(() => a.binary(0, f(4), f(3), f(6))).toThrow(/does not broadcast/);
    expect(() => a.binary(0, f(6), f(3), f(6), 3)).toThrow(/with rep 3/);
    expect(() => a.binary(0, f(6), f(6), f(6), 2)).toThrow(/with rep 2/);
    expect(() => a.binary(0, f(6), f(2), f(6), -1)).toThrow(/rep must be an integer/);
    expect(() => a.reduceRows(0, f(5), 2, 3, f(2))).toThrow(/x has 5 elements, expected 6/);
    expect(() => a.setThreads(0)).toThrow(RangeError);
  });
});
