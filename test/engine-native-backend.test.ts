/**
 * The `native` tfjs backend against tfjs's own cpu backend, forward and
 * gradient (tf.grads), for every kernel it overrides: matMul (all transpose
 * flags, batch 1, odd sizes, batched and broadcast 3-D), fused matMul (bias and
 * activations), conv2d / fused conv2d / conv2dTranspose and both conv gradients
 * (strides 1 and 2, padding same/valid, non-square images and kernels),
 * elementwise ops with broadcasting, reductions. Plus: no tensor leaks across an
 * Adam step, and bad shapes raise errors instead of crashing the addon.
 *
 * Tolerance: |a − b| ≤ 1e-4·|b| + 1e-4·rms(b); the absolute part covers entries
 * that cancel to near zero, where float32 rounding of the summands (≈1e-7·√K·rms)
 * dominates any relative measure.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { BROADCAST_SHAPES } from '../src/engine/kernel-cases.js';
import { NativeAdamOptimizer, adamOptimizer, isNativeAdam, nativeKernelNames, registerNativeBackend } from '../src/engine/native-backend.js';
import { nativeAddon, nativeLoadError } from '../src/engine/native.js';

const available = registerNativeBackend();
if (!available) console.warn(`engine-native-backend: skipped, native addon unavailable: ${nativeLoadError}`);
const maybe = it.skipIf(!available);
const RTOL = 1e-4;

/**
 * The addon's two convolution engines: oneDNN where it was built with it, and im2col +
 * sgemm (always). The conv tests run under each, so the fallback stays tested on a
 * machine with oneDNN.
 */
const DNNL = available && nativeAddon !== null && (nativeAddon.info().dnnl ?? '') !== '';
if (available && !DNNL) console.warn('engine-native-backend: the addon was built without oneDNN (apt-get install libdnnl-dev); convolutions tested on im2col only');
async function eachConvEngine(body: (engine: string) => Promise<void>): Promise<void> {
  const engines = DNNL ? [true, false] : [false];
  try {
    for (const on of engines) {
      nativeAddon!.useDnnl(on);
      const before = nativeAddon!.info();
      await body(on ? 'oneDNN' : 'im2col');
      // oneDNN falls back to im2col on a geometry it refuses: make sure it ran every one.
      const after = nativeAddon!.info();
      const ran = (after.dnnlConvolutions ?? 0) - (before.dnnlConvolutions ?? 0);
      if (on) expect(ran, 'convolutions run on oneDNN').toBeGreaterThan(0);
      else expect(ran).toBe(0);
      expect((after.dnnlRefused ?? 0) - (before.dnnlRefused ?? 0), 'convolutions oneDNN refused').toBe(0);
    }
  } finally {
    if (DNNL) nativeAddon!.useDnnl(true);
  }
}

function normals(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return tf.tensor(a, shape);
}

function rms(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s / Math.max(1, a.length));
}

async function on(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const arrays = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return arrays;
}

/** Run `fn` on cpu and on native; compare every output. */
async function compare(fn: () => tf.Tensor[], label: string): Promise<void> {
  const want = await on('cpu', fn);
  const got = await on('native', fn);
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(got[i]!, `${label}: output ${i}`).toBeAllClose(want[i]!, { rtol: RTOL, atol: RTOL * rms(want[i]!) });
  }
}

/** Σ y·r with a fixed random cotangent r, so each output element has its own weight. */
function probe(y: tf.Tensor, seed: number): tf.Scalar {
  return tf.sum(tf.mul(y, normals(y.shape, seed)));
}

beforeAll(async () => {
  await tf.ready();
});

describe('native tfjs backend vs cpu', () => {
  maybe('overrides the hot kernels', () => {
    const names = nativeKernelNames();
    for (const k of ['BatchMatMul', '_FusedMatMul', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'Sigmoid', 'Multiply', 'Sum', 'Mean', 'Greater', 'Select', 'Slice', 'PadV2']) {
      expect(names).toContain(k);
    }
  });

  maybe('matMul: forward and both gradients, all transpose flags, odd shapes', async () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 7, 3],
      [5, 3, 1],
      [13, 17, 11],
      [128, 33, 9],
    ];
    for (const [M, K, N] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          await compare(() => {
            const a = normals(ta ? [K, M] : [M, K], M * 100 + K);
            const b = normals(tb ? [N, K] : [K, N], N * 100 + K + 1);
            const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => probe(tf.matMul(x, y, ta, tb), 7))([a, b]);
            return [tf.matMul(a, b, ta, tb), da!, db!];
          }, `matMul ${M}×${K}×${N} ta=${ta} tb=${tb}`);
        }
      }
    }
  });

  maybe('batched matMul (3-D) with and without batch broadcasting', async () => {
    // tfjs's BatchMatMul gradient does not reduce over broadcast batch dimensions
    // (on any backend), so broadcast cases compare the forward value only.
    const cases: [number[], number[], boolean, boolean, boolean][] = [
      [[3, 4, 5], [3, 5, 2], false, false, true],
      [[3, 5, 4], [3, 2, 5], true, true, true],
      [[2, 3, 4, 5], [2, 3, 5, 6], false, false, true],
      [[1, 4, 5], [3, 5, 2], false, false, false],
      [[3, 4, 5], [1, 2, 5], false, true, false],
      [[2, 3, 4, 5], [5, 6], false, false, false],
    ];
    for (const [sa, sb, ta, tb, grad] of cases) {
      await compare(() => {
        const a = normals(sa, 1);
        const b = normals(sb, 2);
        if (!grad) return [tf.matMul(a, b, ta, tb)];
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => probe(tf.matMul(x, y, ta, tb), 3))([a, b]);
        return [tf.matMul(a, b, ta, tb), da!, db!];
      }, `batched ${JSON.stringify(sa)}×${JSON.stringify(sb)}`);
    }
  });

  maybe('fused matMul: bias and every activation, forward and gradients', async () => {
    for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const) {
      for (const [ta, tb] of [
        [false, false],
        [true, true],
      ] as const) {
        await compare(() => {
          const a = normals(ta ? [6, 5] : [5, 6], 11);
          const b = normals(tb ? [7, 6] : [6, 7], 12);
          const bias = normals([7], 13);
          const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor): tf.Scalar =>
            probe(tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation, transposeA: ta, transposeB: tb, leakyreluAlpha: 0.1 }), 14);
          const [da, db, dbias] = tf.grads(f)([a, b, bias]);
          return [tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation, transposeA: ta, transposeB: tb, leakyreluAlpha: 0.1 }), da!, db!, dbias!];
        }, `fused ${activation} ta=${ta} tb=${tb}`);
      }
    }
  });

  // [batch, h, w, cin, fh, fw, cout, stride, pad]
  const convCases: [number, number, number, number, number, number, number, number | [number, number], 'same' | 'valid'][] = [
    [1, 5, 5, 1, 3, 3, 2, 1, 'same'],
    [1, 5, 5, 1, 3, 3, 2, 1, 'valid'],
    [2, 7, 6, 3, 3, 2, 4, 2, 'same'],
    [2, 7, 6, 3, 3, 2, 4, 2, 'valid'],
    [3, 9, 8, 2, 2, 3, 5, [2, 1], 'same'],
    [1, 6, 11, 4, 1, 1, 3, 1, 'valid'],
    [1, 4, 4, 2, 5, 5, 1, 1, 'same'],
    [2, 28, 28, 1, 3, 3, 8, 2, 'same'],
    [2, 8, 8, 16, 3, 3, 16, 1, 'same'],
    [2, 8, 8, 16, 3, 3, 16, 2, 'same'],
  ];

  maybe('conv2d: forward, input gradient and filter gradient', async () => {
    await eachConvEngine(async (engine) => {
      for (const [n, h, w, cin, fh, fw, cout, s, pad] of convCases) {
        await compare(() => {
          const x = normals([n, h, w, cin], h * 10 + w);
          const f = normals([fh, fw, cin, cout], fh * 10 + fw);
          const g = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => probe(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), 5);
          const [dx, df] = tf.grads(g)([x, f]);
          return [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad), dx!, df!];
        }, `${engine}: conv2d ${n}×${h}×${w}×${cin} f${fh}×${fw}→${cout} s${JSON.stringify(s)} ${pad}`);
      }
    });
  });

  maybe('conv2d with dilation 2 (forward)', async () => {
    await eachConvEngine(async (engine) => {
      await compare(() => {
        const x = normals([2, 9, 7, 3], 1);
        const f = normals([3, 2, 3, 4], 2);
        return [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same', 'NHWC', 2), tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid', 'NHWC', [2, 1])];
      }, `${engine}: dilated conv2d`);
    });
  });

  maybe('fused conv2d: bias + relu / sigmoid, forward and gradients', async () => {
    await eachConvEngine(async (engine) => {
      for (const activation of ['relu', 'sigmoid', 'linear'] as const) {
        await compare(() => {
          const x = normals([2, 7, 6, 3], 21);
          const f = normals([3, 3, 3, 4], 22);
          const bias = normals([4], 23);
          const g = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Scalar =>
            probe(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 2, pad: 'same', bias: c, activation }), 24);
          const [dx, df, db] = tf.grads(g)([x, f, bias]);
          return [tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', bias, activation }), dx!, df!, db!];
        }, `${engine}: fused conv2d ${activation}`);
      }
    });
  });

  maybe('conv2dTranspose (Conv2DBackpropInput): forward and gradients', async () => {
    await eachConvEngine(async (engine) => {
      // [batch, h, w, cin, fh, fw, cout, stride, pad, outH, outW]
      const cases: [number, number, number, number, number, number, number, number, 'same' | 'valid', number, number][] = [
        [1, 3, 3, 2, 3, 3, 1, 2, 'same', 6, 6],
        [2, 4, 3, 3, 3, 2, 2, 2, 'valid', 9, 6],
        [2, 5, 4, 2, 3, 3, 3, 1, 'same', 5, 4],
        [3, 7, 7, 4, 3, 3, 2, 2, 'same', 14, 14],
      ];
      for (const [n, h, w, cin, fh, fw, cout, s, pad, oh, ow] of cases) {
        await compare(() => {
          const x = normals([n, h, w, cin], 31 + h);
          const f = normals([fh, fw, cout, cin], 32 + fw);
          const out: [number, number, number, number] = [n, oh, ow, cout];
          const g = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => probe(tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, out, s, pad), 33);
          const [dx, df] = tf.grads(g)([x, f]);
          return [tf.conv2dTranspose(x as tf.Tensor4D, f as tf.Tensor4D, out, s, pad), dx!, df!];
        }, `${engine}: conv2dTranspose ${n}×${h}×${w}×${cin} s${s} ${pad}`);
      }
    });
  });

  maybe('unary elementwise ops, forward and gradient', async () => {
    const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ['exp', tf.exp],
      ['log', (x) => tf.log(tf.add(tf.abs(x), 0.1))],
      ['sqrt', (x) => tf.sqrt(tf.add(tf.abs(x), 0.1))],
      ['rsqrt', (x) => tf.rsqrt(tf.add(tf.abs(x), 0.1))],
      ['square', tf.square],
      ['neg', tf.neg],
      ['relu', tf.relu],
      ['relu6', (x) => tf.relu6(tf.mul(x, 4))],
      ['sigmoid', tf.sigmoid],
      ['softplus', (x) => tf.softplus(tf.mul(x, 12))],
      ['abs', tf.abs],
      ['reciprocal', (x) => tf.reciprocal(tf.add(tf.abs(x), 0.5))],
      ['tanh', tf.tanh],
      ['elu', tf.elu],
      ['leakyRelu', (x) => tf.leakyRelu(x, 0.3)],
      ['log1p', (x) => tf.log1p(tf.abs(x))],
      ['step', (x) => tf.step(x, 0.25)],
    ];
    for (const [name, op] of ops) {
      await compare(() => {
        const x = normals([37, 11], 41);
        const [dx] = tf.grads((a: tf.Tensor) => probe(op(a), 42))([x]);
        return [op(x), dx!];
      }, name);
    }
  });

  maybe('unary ops on special values (tiny, huge, ±∞, NaN, domain edges) match cpu', async () => {
    const special = [0, -0, 1e-30, -1e-30, 1e-8, 1e-5, -1e-5, 0.5, -0.5, -0.99999994, -1, -2, 3, -3, 20, -20, 88, 89, -104, 1e30, 3.4e38, Infinity, -Infinity, NaN];
    const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ['exp', tf.exp],
      ['log', tf.log],
      ['log1p', tf.log1p],
      ['tanh', tf.tanh],
      ['sigmoid', tf.sigmoid],
      ['softplus', tf.softplus],
      ['sqrt', tf.sqrt],
      ['elu', tf.elu],
    ];
    for (const [name, op] of ops) {
      const want = await on('cpu', () => [op(tf.tensor1d(special))]);
      const got = await on('native', () => [op(tf.tensor1d(special))]);
      const g = got[0]!;
      const w = want[0]!;
      expect(Array.from(g, Number.isNaN), `${name}: NaN positions`).toEqual(Array.from(w, Number.isNaN));
      const finite = (a: Float32Array): Float32Array => a.map((v) => (Number.isNaN(v) ? 0 : v));
      // ±∞ compare exactly (|∞ − ∞| is NaN, so map them to signed sentinels first).
      const inf = (a: Float32Array): Float32Array => finite(a).map((v) => (v === Infinity ? 7 : v === -Infinity ? -7 : v));
      expect(inf(g), name).toBeAllClose(inf(w), { rtol: 2e-6, atol: 1e-37 });
    }
  });

  maybe('binary elementwise ops with broadcasting, forward and gradients', async () => {
    const shapes = BROADCAST_SHAPES.map(([a, b]) => [[...a], [...b]] as [number[], number[]]);
    const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
      ['add', tf.add],
      ['sub', tf.sub],
      ['mul', tf.mul],
      ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
      ['maximum', tf.maximum],
      ['minimum', tf.minimum],
      ['squaredDifference', tf.squaredDifference],
    ];
    // tfjs's gradients of maximum, minimum and squaredDifference do not reduce
    // over broadcast dimensions (on any backend): gradients only for equal shapes.
    const reducesGrad = new Set(['add', 'sub', 'mul', 'div']);
    for (const [name, op] of ops) {
      for (const [sa, sb] of shapes) {
        const grad = reducesGrad.has(name) || JSON.stringify(sa) === JSON.stringify(sb);
        await compare(() => {
          const a = normals(sa, 51);
          const b = normals(sb, 52);
          if (!grad) return [op(a, b)];
          const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => probe(op(x, y), 53))([a, b]);
          return [op(a, b), da!, db!];
        }, `${name} ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`);
      }
    }
  });

  maybe('int32 and bool inputs fall back to the cpu kernels', async () => {
    await tf.setBackend('native');
    const s = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')));
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.dataSync())).toEqual([5, 7, 9]);
    s.dispose();
    // A float32 cast of a bool tensor is stored as a Uint8Array by the cpu backend.
    const m = tf.tidy(() => tf.matMul(tf.cast(tf.tensor2d([[true, false], [false, true]]), 'float32'), tf.tensor2d([[2, 3], [4, 5]])));
    expect(Array.from(m.dataSync())).toEqual([2, 3, 4, 5]);
    m.dispose();
    // The cast shares the int32 tensor's storage: reading it as float32 must not round the integers.
    const big = tf.tensor1d([16777217, 2147483647, 123456789], 'int32');
    tf.tidy(() => tf.exp(tf.cast(big, 'float32')).sum());
    expect(Array.from(big.dataSync())).toEqual([16777217, 2147483647, 123456789]);
    big.dispose();
  });

  maybe('reductions: sum / mean / max over leading, trailing, middle axes', async () => {
    const cases: [number | number[] | undefined, boolean][] = [
      [undefined, false],
      [0, false],
      [1, true],
      [2, false],
      [[1, 2], false],
      [[0, 1], true],
      [[0, 2], false],
      [-1, false],
    ];
    for (const [axis, keepDims] of cases) {
      await compare(() => {
        const x = normals([4, 5, 6], 61);
        const [ds] = tf.grads((a: tf.Tensor) => probe(tf.sum(a, axis, keepDims), 62))([x]);
        const [dm] = tf.grads((a: tf.Tensor) => probe(tf.mean(a, axis, keepDims), 63))([x]);
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.max(x, axis, keepDims), ds!, dm!];
      }, `reduce axis=${JSON.stringify(axis)} keepDims=${keepDims}`);
    }
  });

  maybe('slice of non-contiguous boxes (any axis) and its gradient (PadV2), pad with a constant', async () => {
    // [shape, begin, size]: a channel block of a conv kernel (the U-Net's skip halves),
    // image borders (circular padding), a middle box, a 1-D range and a full copy.
    const cases: [number[], number[], number[]][] = [
      [[3, 3, 128, 8], [0, 0, 64, 0], [-1, -1, 64, -1]],
      [[2, 5, 6, 3], [0, 4, 0, 0], [-1, 1, -1, -1]],
      [[2, 5, 6, 3], [0, 0, 5, 0], [-1, -1, 1, -1]],
      [[4, 5, 6], [1, 2, 3], [2, 2, 2]],
      [[7], [2], [4]],
      [[3, 4], [0, 0], [3, 4]],
    ];
    for (const [shape, begin, size] of cases) {
      await compare(() => {
        const x = normals(shape, 81);
        const [dx] = tf.grads((a: tf.Tensor) => probe(tf.slice(a, begin, size), 82))([x]);
        return [tf.slice(x, begin, size), dx!];
      }, `slice ${JSON.stringify(shape)} at ${JSON.stringify(begin)} size ${JSON.stringify(size)}`);
    }
    await compare(() => [tf.pad(normals([2, 3, 4], 83), [[1, 0], [0, 2], [3, 1]], -1.5)], 'pad');
  });

  maybe('greater and where (tf.where) on float32 masks, as the LeakyRelu gradient uses them', async () => {
    await compare(() => {
      const a = normals([5, 7, 3], 91);
      const b = normals([5, 7, 3], 92);
      const m1 = tf.greater(a, 0);
      const m2 = tf.greater(a, b);
      return [tf.cast(m1, 'float32'), tf.cast(m2, 'float32'), tf.where(m1, a, b), tf.where(m2, tf.mul(a, 2), b)];
    }, 'greater / where');
  });

  maybe('an Adam step of a small conv + dense net matches cpu and leaks no tensors', async () => {
    const run = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const f = tf.variable(normals([3, 3, 1, 4], 71));
      const w = tf.variable(tf.mul(normals([4 * 4 * 4, 3], 72), 0.1));
      const b = tf.variable(tf.zeros([3]));
      const x = normals([5, 8, 8, 1], 73);
      const opt = tf.train.adam(0.01);
      const loss = (): tf.Scalar =>
        tf.tidy(() => {
          const h = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 2, pad: 'same', activation: 'relu' });
          const logits = tf.fused.matMul({ a: tf.reshape(h, [5, 64]), b: w as tf.Tensor2D, bias: b });
          return tf.mean(tf.square(tf.sigmoid(logits)));
        });
      opt.minimize(loss); // creates the optimizer's slots
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(opt.minimize(loss, true) ?? []);
      expect(tf.memory().numTensors, `${backend} tensor count`).toBe(before);
      const out = [f, w, b].map((v) => Float32Array.from(v.dataSync()));
      tf.dispose([f, w, b, x]);
      opt.dispose();
      return out;
    };
    const want = await run('cpu');
    const got = await run('native');
    for (let i = 0; i < want.length; i++) expect(got[i]!).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-5 });
  });

  maybe('NativeAdamOptimizer follows tf.train.adam step for step, and its weights round-trip', async () => {
    await tf.setBackend('native');
    const w0 = normals([13, 7], 81);
    const b0 = normals([7], 82);
    const x = normals([9, 13], 83);
    const train = (opt: tf.Optimizer, steps: number, w: tf.Variable, b: tf.Variable): void => {
      for (let i = 0; i < steps; i++) {
        opt.minimize(() => tf.tidy(() => tf.mean(tf.square(tf.sigmoid(tf.add(tf.matMul(x, w), b))))));
      }
    };
    const wA = tf.variable(w0.clone());
    const bA = tf.variable(b0.clone());
    const wB = tf.variable(w0.clone());
    const bB = tf.variable(b0.clone());
    const ref = tf.train.adam(0.05, 0.8, 0.95, 1e-6);
    const mine = adamOptimizer(0.05, 0.8, 0.95, 1e-6);
    // Not toBeInstanceOf: tfjs's Optimizer duck-types `instanceof`, so tf.train.adam passes it too.
    expect(isNativeAdam(mine)).toBe(true);
    expect(isNativeAdam(ref)).toBe(false);
    expect(ref instanceof NativeAdamOptimizer).toBe(true); // the trap isNativeAdam avoids
    train(ref, 20, wA, bA);
    const before = tf.memory().numTensors;
    train(mine, 20, wB, bB);
    expect(tf.memory().numTensors).toBe(before);
    expect(wB.dataSync()).toBeAllClose(wA.dataSync(), { rtol: 1e-5, atol: 1e-6 });
    expect(bB.dataSync()).toBeAllClose(bA.dataSync(), { rtol: 1e-5, atol: 1e-6 });
    // Weights in tf.train.adam's layout restore into a fresh optimizer that continues identically.
    const saved = await mine.getWeights();
    expect(saved[0]!.name).toBe('iter');
    expect(saved.slice(1).map((t) => t.name.slice(-2)).sort()).toEqual(['/m', '/m', '/v', '/v']);
    const again = new NativeAdamOptimizer(0.05, 0.8, 0.95, 1e-6);
    await again.setWeights(saved);
    tf.dispose(saved.map((t) => t.tensor));
    expect(again.iterations).toBe(20);
    // Three more steps from the same point: the original and the restored optimizer agree.
    const wSnap = wB.clone();
    const bSnap = bB.clone();
    train(mine, 3, wB, bB);
    const w1 = Float32Array.from(wB.dataSync());
    wB.assign(wSnap);
    bB.assign(bSnap);
    train(again, 3, wB, bB);
    expect(wB.dataSync()).toBeAllClose(w1, { rtol: 1e-6, atol: 0 });
    tf.dispose([w0, b0, x, wA, bA, wB, bB, wSnap, bSnap]);
    ref.dispose();
    mine.dispose();
    again.dispose();
  });

  maybe('bad shapes give clear errors, not a crash', async () => {
    await tf.setBackend('native');
    expect(() => tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 2])))).toThrow(/inner shapes|must match/);
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([3, 4, 2])))).toThrow(/broadcast|inner|match/i);
    expect(() => tf.tidy(() => tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, tf.ones([3, 3, 3, 1]) as tf.Tensor4D, 1, 'same'))).toThrow(/channel|depth|match/i);
    expect(() => tf.tidy(() => tf.add(tf.ones([2, 3]), tf.ones([4, 3])))).toThrow(/broadcast|compatible/i);
    // The backend still works afterwards.
    const y = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])));
    expect(Array.from(y.dataSync())).toEqual([2, 2, 2, 2]);
    y.dispose();
  });
});
