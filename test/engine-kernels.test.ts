/**
 * Every kernel genphys overrides, on every accelerated backend of this run,
 * agrees with tfjs's cpu backend on the forward value and the gradient, over a
 * grid of shapes: batch 1 and odd sizes, all transpose combinations, strides 1
 * and 2, padding same/valid, non-square images and kernels.
 *
 * Tolerance: |a − b| ≤ 1e-4·|b| + 1e-4·rms(b). The absolute part is needed
 * because entries that cancel to near zero carry float32 rounding of the
 * summands (≈ 1e-7·√K·rms), which a pure relative test would reject.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backendsUnderTest, normals, onBackend, rms } from './engine-helpers.js';
import type { BackendName } from '../src/engine/backend.js';

const backends = await backendsUnderTest();
const RTOL = 1e-4;

async function compare(be: BackendName, fn: () => tf.Tensor[]): Promise<void> {
  const want = await onBackend('cpu', fn);
  const got = await onBackend(be, fn);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i]!, `output ${i}`).toBeAllClose(want[i]!, { rtol: RTOL, atol: RTOL * rms(want[i]!) });
  }
}

function randn(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(normals(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Weighted sum so every output element gets a distinct cotangent. */
function probe(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, randn(y.shape, seed)));
}

describe.each(backends)('kernels on %s vs cpu', (be) => {
  const mm: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 3],
    [5, 3, 1],
    [13, 17, 11],
    [128, 33, 9],
    [5, 17, 40], // a small left operand: the wasm fix computes (op(B)ᵀ·op(A)ᵀ)ᵀ instead
  ];
  const flags = [
    [false, false],
    [false, true],
    [true, false],
    [true, true],
  ] as const;

  it('matMul: forward and gradients, all transpose flags', async () => {
    for (const [M, K, N] of mm) {
      for (const [ta, tb] of flags) {
        await compare(be, () => {
          const a = randn(ta ? [K, M] : [M, K], M * 100 + K);
          const b = randn(tb ? [N, K] : [K, N], N * 100 + K + 1);
          const f = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => probe(tf.matMul(x, y, ta, tb), 7);
          const [da, db] = tf.grads(f)([a, b]);
          return [tf.matMul(a, b, ta, tb), da!, db!];
        });
      }
    }
  });

  it('batched matMul (rank 3, batch 3 and batch 1): forward and gradients', async () => {
    for (const [batch, M, K, N] of [
      [3, 4, 5, 6],
      [1, 3, 5, 30],
    ] as const) {
      for (const [ta, tb] of flags) {
        await compare(be, () => {
          const a = randn(ta ? [batch, K, M] : [batch, M, K], 11);
          const b = randn(tb ? [batch, N, K] : [batch, K, N], 12);
          const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => probe(tf.matMul(x, y, ta, tb), 13))([a, b]);
          const y = tf.matMul(a, b, ta, tb);
          expect(y.shape).toEqual([batch, M, N]);
          return [y, da!, db!];
        });
      }
    }
  });

  it('fused matMul with bias and relu: forward and gradients', async () => {
    for (const [M, K, N] of [
      [1, 5, 3],
      [9, 4, 7],
    ] as const) {
      for (const [ta, tb] of flags) {
        await compare(be, () => {
          const a = randn(ta ? [K, M] : [M, K], 21);
          const b = randn(tb ? [N, K] : [K, N], 22);
          const bias = randn([N], 23);
          const f = (x: tf.Tensor, y: tf.Tensor, c: tf.Tensor): tf.Scalar =>
            probe(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA: ta, transposeB: tb, bias: c, activation: 'relu' }), 24);
          const [da, db, dc] = tf.grads(f)([a, b, bias]);
          const y = tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeA: ta, transposeB: tb, bias, activation: 'relu' });
          return [y, da!, db!, dc!];
        });
      }
    }
  });

  // [N, H, W, Ci, KH, KW, Co]
  const convShapes: [number, number, number, number, number, number, number][] = [
    [1, 5, 5, 1, 3, 3, 1],
    [1, 7, 6, 2, 3, 2, 3],
    [3, 9, 5, 3, 2, 3, 4],
    [2, 8, 8, 4, 3, 3, 5],
    [1, 6, 9, 1, 1, 3, 2],
    [2, 7, 9, 6, 3, 2, 5], // more than 4 input channels: the wasm fixes' general paths
  ];
  const strideGrid: [number, number][] = [
    [1, 1],
    [2, 2],
    [2, 1],
  ];

  it('conv2d: forward, input gradient (Conv2DBackpropInput) and filter gradient (Conv2DBackpropFilter)', async () => {
    for (const [N, H, W, Ci, KH, KW, Co] of convShapes) {
      for (const strides of strideGrid) {
        for (const pad of ['same', 'valid'] as const) {
          if (pad === 'valid' && (KH > H || KW > W)) continue;
          await compare(be, () => {
            const x = randn([N, H, W, Ci], 31 + H);
            const w = randn([KH, KW, Ci, Co], 32 + KW);
            const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => probe(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), 33);
            const [dx, dw] = tf.grads(f)([x, w]);
            return [tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad), dx!, dw!];
          });
        }
      }
    }
  });

  it('fused conv2d (bias + relu, as tfjs-layers uses it): forward and gradients', async () => {
    for (const [N, H, W, Ci, KH, KW, Co] of convShapes.slice(1)) {
      for (const strides of strideGrid) {
        for (const pad of ['same', 'valid'] as const) {
          await compare(be, () => {
            const x = randn([N, H, W, Ci], 71);
            const w = randn([KH, KW, Ci, Co], 72);
            const bias = randn([Co], 73);
            const y = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor =>
              tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides, pad, bias: c, activation: 'relu' });
            const [dx, dw, db] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => probe(y(a, b, c), 74))([x, w, bias]);
            return [y(x, w, bias), dx!, dw!, db!];
          });
        }
      }
    }
  });

  it('conv2dTranspose: forward and gradients, strides 1 and 2, same/valid', async () => {
    // [N, h, w, Co(in), KH, KW, Ci(out)]
    const shapes: [number, number, number, number, number, number, number][] = [
      [1, 3, 3, 1, 3, 3, 1],
      [2, 4, 3, 3, 3, 3, 2],
      [3, 5, 4, 2, 2, 3, 4],
      [1, 7, 7, 4, 3, 3, 4],
      [2, 4, 5, 3, 3, 2, 6], // more than 4 output channels: the phase decomposition on wasm
    ];
    for (const [N, h, w, cin, KH, KW, cout] of shapes) {
      for (const strides of strideGrid) {
        for (const pad of ['same', 'valid'] as const) {
          const [sh, sw] = strides;
          const H = pad === 'same' ? h * sh : (h - 1) * sh + KH;
          const W = pad === 'same' ? w * sw : (w - 1) * sw + KW;
          await compare(be, () => {
            const x = randn([N, h, w, cin], 41 + h);
            const k = randn([KH, KW, cout, cin], 42 + KW);
            const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar =>
              probe(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [N, H, W, cout], strides, pad), 43);
            const [dx, dk] = tf.grads(f)([x, k]);
            return [tf.conv2dTranspose(x as tf.Tensor4D, k as tf.Tensor4D, [N, H, W, cout], strides, pad), dx!, dk!];
          });
        }
      }
    }
  });

  it('elementwise unary ops: forward and gradients on odd sizes', async () => {
    const unary: [string, (x: tf.Tensor) => tf.Tensor, boolean][] = [
      ['sigmoid', tf.sigmoid, false],
      ['tanh', tf.tanh, false],
      ['relu', tf.relu, false],
      ['relu6', tf.relu6, false],
      ['elu', tf.elu, false],
      ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), false],
      ['softplus', tf.softplus, false],
      ['exp', tf.exp, false],
      ['neg', tf.neg, false],
      ['abs', tf.abs, false],
      ['square', tf.square, false],
      ['step', (x) => tf.step(x), false],
      ['log', tf.log, true],
      ['log1p', tf.log1p, true],
      ['sqrt', tf.sqrt, true],
      ['rsqrt', tf.rsqrt, true],
      ['reciprocal', tf.reciprocal, true],
    ];
    for (const shape of [[1], [7], [3, 5, 11]]) {
      for (const [name, f, positive] of unary) {
        await compare(be, () => {
          const raw = randn(shape, shape.length * 7 + name.length);
          // Positive-domain ops get |x| + 0.5; others keep sign changes but avoid the kinks at 0.
          const x = positive ? tf.add(tf.abs(raw), 0.5) : tf.add(raw, tf.mul(tf.sign(raw), 0.05));
          return [f(x), tf.grad((t: tf.Tensor) => probe(f(t), 91))(x)];
        });
      }
    }
  });

  it('binary ops with broadcasting: forward and gradients', async () => {
    const binary: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ['add', tf.add],
      ['sub', tf.sub],
      ['mul', tf.mul],
      ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
      ['maximum', tf.maximum],
      ['minimum', tf.minimum],
      ['squaredDifference', tf.squaredDifference],
    ];
    const pairs: [number[], number[]][] = [
      [[5, 3], [5, 3]],
      [[5, 3], [3]],
      [[1], [4, 2]],
      [[2, 1, 3], [1, 4, 3]],
    ];
    for (const [sa, sb] of pairs) {
      for (const [name, f] of binary) {
        // tfjs's own Maximum/Minimum/SquaredDifference gradients do not reduce broadcast axes (any backend).
        if ((name === 'maximum' || name === 'minimum' || name === 'squaredDifference') && sa.join() !== sb.join()) continue;
        await compare(be, () => {
          const a = randn(sa, 101 + name.length);
          const b = randn(sb, 102 + name.length);
          const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => probe(f(x, y), 103))([a, b]);
          return [f(a, b), da!, db!];
        });
      }
    }
  });

  it('reductions over every axis choice: forward and gradients', async () => {
    const reductions: [string, (x: tf.Tensor, axis?: number | number[]) => tf.Tensor][] = [
      ['sum', (x, ax) => tf.sum(x, ax)],
      ['sum keepDims', (x, ax) => tf.sum(x, ax, true)],
      ['mean', (x, ax) => tf.mean(x, ax)],
      ['max', (x, ax) => tf.max(x, ax)],
    ];
    for (const axis of [undefined, 0, 1, 2, [0, 1], [1, 2], [0, 2]]) {
      for (const [, f] of reductions) {
        await compare(be, () => {
          const x = randn([3, 5, 7], 111);
          return [f(x, axis), tf.grad((t: tf.Tensor) => probe(f(t, axis), 112))(x)];
        });
      }
    }
  });

  it('gather gradient (UnsortedSegmentSum), with repeated and unused indices', async () => {
    await compare(be, () => {
      const table = randn([6, 3], 51);
      const idx = tf.tensor1d([4, 0, 4, 2, 4, 5, 0], 'int32');
      const g = tf.grad((t: tf.Tensor) => probe(tf.gather(t, idx), 52))(table);
      const seg = tf.unsortedSegmentSum(randn([7, 2], 53), tf.tensor1d([1, 3, 1, 0, 3, 3, 2], 'int32'), 5);
      return [tf.gather(table, idx), g, seg];
    });
  });
});

it('the wasm kernel fixes free every intermediate', async () => {
  await onBackend('wasm', () => []);
  const x = randn([2, 6, 5, 3], 61);
  const w = randn([3, 2, 3, 4], 62);
  const before = tf.memory().numTensors;
  const beforeBytes = tf.memory().numBytes;
  const grads = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => probe(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), 63))([x, w]));
  const mm = tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b, true, true)))([randn([4, 3], 1), randn([5, 4], 2)]));
  tf.dispose([...grads, ...mm]);
  expect(tf.memory().numTensors).toBe(before);
  expect(tf.memory().numBytes).toBe(beforeBytes);
  tf.dispose([x, w]);
});
