/**
 * The wasm dense kernels (XNNPACK products on tfjs-backend-wasm's heap, TypeScript
 * sigmoid and draws) against the TypeScript reference kernels: gemm for every transpose
 * combination, odd and empty shapes, alpha and beta (rtol 1e-4); bit-identical Bernoulli
 * samples and generator state where the products are exact (dyadic weights, binary
 * inputs); no heap buffer left behind; and a short CD-1 run of the library's trainer on
 * them reproducing the TypeScript kernels' weights.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { ShapeError } from '../src/core/errors.js';
import { initBackend } from '../src/engine/backend.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import type { Kernels } from '../src/engine/kernels.js';
import { binary, dyadic, rms, uniform } from './kernel-helpers.js';
import { wasmKernels } from '../src/engine/wasm-kernels.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { Trainer } from '../src/ebm/train.js';

describe('wasm kernels vs TypeScript kernels', () => {
  let wk: Kernels;
  beforeAll(async () => {
    await initBackend('wasm', { quiet: true });
    wk = wasmKernels();
  });

  it('reports XNNPACK on one thread', () => {
    expect(wk.name).toBe('wasm');
    expect(wk.blas).toMatch(/XNNPACK/);
    expect(wk.threads).toBe(1);
  });

  it('gemm: all transpose combinations, odd and empty shapes, alpha and beta', () => {
    const rng = new Rng(1);
    const shapes: [number, number, number][] = [[1, 1, 1], [1, 9, 4], [7, 1, 5], [3, 5, 1], [13, 17, 11], [64, 33, 129], [128, 500, 784], [0, 3, 2], [3, 0, 2], [3, 2, 0]];
    for (const [M, N, K] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [-0.5, 2]] as const) {
            const A = uniform(M * K, rng);
            const B = uniform(K * N, rng);
            const C0 = uniform(M * N, rng);
            const want = C0.slice();
            const got = C0.slice();
            jsKernels.gemm(ta, tb, M, N, K, alpha, A, B, beta, want);
            wk.gemm(ta, tb, M, N, K, alpha, A, B, beta, got);
            // float32 accumulation of K terms against float64: rounding ~1e-7·√K·rms, floor 1e-5·rms.
            expect(got, `M=${M} N=${N} K=${K} ta=${ta} tb=${tb} α=${alpha} β=${beta}`).toBeAllClose(want, { rtol: 1e-4, atol: 1e-5 * Math.max(rms(want), 1e-30) });
          }
        }
      }
    }
  });

  it('gemm writes only its view of C and leaves no heap buffer behind', () => {
    const rng = new Rng(2);
    const before = tf.engine().backend.numDataIds();
    const buf = new Float32Array(3 + 20 + 3).fill(7);
    const C = buf.subarray(3, 23);
    const A = uniform(24, rng);
    const B = uniform(30, rng);
    const want = new Float32Array(20);
    jsKernels.gemm(false, false, 4, 5, 6, 1, A, B, 0, want);
    for (let i = 0; i < 5; i++) wk.gemm(false, false, 4, 5, 6, 1, A, B, 0, C);
    wk.gemm(true, true, 6, 6, 4, 1, A, A, 0, new Float32Array(36));
    expect(C).toBeAllClose(want, { rtol: 1e-5, atol: 1e-6 });
    expect(Array.from(buf.subarray(0, 3))).toEqual([7, 7, 7]);
    expect(Array.from(buf.subarray(23))).toEqual([7, 7, 7]);
    expect(tf.engine().backend.numDataIds()).toBe(before);
  });

  it('gemm rejects a short operand with a clear error', () => {
    expect(() => wk.gemm(false, false, 4, 5, 6, 1, new Float32Array(23), new Float32Array(30), 0, new Float32Array(20))).toThrow(ShapeError);
    expect(() => wk.gemm(false, false, 4, 5, 6, 1, new Float32Array(24), new Float32Array(30), 0, new Float32Array(19))).toThrow(/C has 19 elements/);
  });

  // Dyadic weights and binary inputs make X·W exact in float32 for both products, so only the
  // sigmoid's rounding differs and the samples must be identical.
  for (const [rows, nIn, nOut] of [[1, 1, 1], [17, 33, 9], [128, 784, 500]] as const) {
    for (const transW of [false, true]) {
      for (const beta of [1, 0.37]) {
        it(`bernoulliLayer: identical samples and Rng state (${rows}×${nIn}→${nOut}, transW=${transW}, β=${beta})`, () => {
          const g = new Rng(rows * 1000 + nIn + (transW ? 7 : 0));
          const X = binary(rows * nIn, g, 0.3);
          const W = dyadic(nIn * nOut, g);
          const bias = dyadic(nOut, g);
          const [r1, r2] = [new Rng(42), new Rng(42)];
          const [p1, s1, p2, s2] = [0, 1, 2, 3].map(() => new Float32Array(rows * nOut)) as [Float32Array, Float32Array, Float32Array, Float32Array];
          jsKernels.bernoulliLayer(X, W, bias, rows, nIn, nOut, transW, p1, s1, r1, beta);
          wk.bernoulliLayer(X, W, bias, rows, nIn, nOut, transW, p2, s2, r2, beta);
          // The sigmoid is float32 on the heap, float64 in TypeScript: the means agree to a few ulp.
          expect(p2).toBeAllClose(p1, { rtol: 1e-5, atol: 1e-7 });
          // A draw could differ only when u lands within ~1e-7 of p; with these seeds none does.
          let differ = 0;
          for (let i = 0; i < s1.length; i++) if (s1[i] !== s2[i]) differ++;
          expect(differ).toBe(0);
          expect(Array.from(r2.state)).toEqual(Array.from(r1.state));
        });
      }
    }
  }

  it('a CD-1 run of the trainer on wasm kernels follows the TypeScript kernels', () => {
    const g = new Rng(9);
    const n = 256, nv = 36, nh = 20;
    const data = binary(n * nv, g, 0.4);
    const run = (k: Kernels): Float32Array => {
      const rbm = new BernoulliRBM({ nVisible: nv, nHidden: nh, units: '01', initStd: 0.01 }, new Rng(3), k);
      const tr = new Trainer(rbm, { method: 'cd', k: 1, learningRate: 0.05, batchSize: 32 }, new Rng(4));
      for (let e = 0; e < 3; e++) for (let r = 0; r < n; r += 32) tr.partialFit(data.subarray(r * nv, (r + 32) * nv));
      return rbm.params.W!.slice();
    };
    const a = run(jsKernels);
    const b = run(wk);
    // 24 updates; the products differ in rounding only, which rarely flips a draw: the weights agree closely.
    expect(b).toBeAllClose(a, { rtol: 0, atol: 0.02 * rms(a) });
    expect(rms(a)).toBeGreaterThan(0.01);
  });
});
