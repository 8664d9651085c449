/**
 * Training through the engine on every backend of this run (cpu, wasm, and
 * native when built):
 * - gradients of a small MLP and a small conv net agree with central finite
 *   differences of an independent float64 JavaScript implementation;
 * - 200 Adam steps of a tiny VAE give the same loss curve on every backend;
 * - a training step leaks no tensors.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backendsUnderTest, normals, rms } from './engine-helpers.js';
import { initBackend, type BackendName } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';

const all: BackendName[] = ['cpu', ...(await backendsUnderTest())];

// ---------- float64 reference implementations ----------

type F64 = Float64Array;

/** y = x·W + b for x [n,i], W [i,o]. */
function dense64(x: F64, W: F64, b: F64, n: number, i: number, o: number): F64 {
  const y = new Float64Array(n * o);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < o; c++) {
      let s = b[c]!;
      for (let k = 0; k < i; k++) s += x[r * i + k]! * W[k * o + c]!;
      y[r * o + c] = s;
    }
  }
  return y;
}

/** tfjs/TensorFlow 'same' padding before the first row: ⌊max((out−1)·s + k − in, 0)/2⌋. */
function samePadBefore(inSize: number, k: number, s: number): number {
  const out = Math.ceil(inSize / s);
  return Math.floor(Math.max((out - 1) * s + k - inSize, 0) / 2);
}

interface ConvGeom {
  N: number;
  H: number;
  W: number;
  Ci: number;
  KH: number;
  KW: number;
  Co: number;
  s: number;
}

/** NHWC convolution, 'same' padding, stride s: y[n,oh,ow,co] = Σ x[n, oh·s+kh−pt, ow·s+kw−pl, ci]·w[kh,kw,ci,co]. */
function conv64(x: F64, w: F64, g: ConvGeom): F64 {
  const OH = Math.ceil(g.H / g.s);
  const OW = Math.ceil(g.W / g.s);
  const pt = samePadBefore(g.H, g.KH, g.s);
  const pl = samePadBefore(g.W, g.KW, g.s);
  const y = new Float64Array(g.N * OH * OW * g.Co);
  for (let n = 0; n < g.N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.s + kh - pt;
          if (ih < 0 || ih >= g.H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.s + kw - pl;
            if (iw < 0 || iw >= g.W) continue;
            for (let ci = 0; ci < g.Ci; ci++) {
              const xv = x[((n * g.H + ih) * g.W + iw) * g.Ci + ci]!;
              for (let co = 0; co < g.Co; co++) y[((n * OH + oh) * OW + ow) * g.Co + co]! += xv * w[((kh * g.KW + kw) * g.Ci + ci) * g.Co + co]!;
            }
          }
        }
  return y;
}

/** Transposed convolution (the adjoint of {@link conv64}): input [N,OH,OW,Co] → output [N,H,W,Ci]. */
function convT64(dy: F64, w: F64, g: ConvGeom): F64 {
  const OH = Math.ceil(g.H / g.s);
  const OW = Math.ceil(g.W / g.s);
  const pt = samePadBefore(g.H, g.KH, g.s);
  const pl = samePadBefore(g.W, g.KW, g.s);
  const x = new Float64Array(g.N * g.H * g.W * g.Ci);
  for (let n = 0; n < g.N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.s + kh - pt;
          if (ih < 0 || ih >= g.H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.s + kw - pl;
            if (iw < 0 || iw >= g.W) continue;
            for (let ci = 0; ci < g.Ci; ci++) {
              let s = 0;
              for (let co = 0; co < g.Co; co++) s += dy[((n * OH + oh) * OW + ow) * g.Co + co]! * w[((kh * g.KW + kw) * g.Ci + ci) * g.Co + co]!;
              x[((n * g.H + ih) * g.W + iw) * g.Ci + ci]! += s;
            }
          }
        }
  return x;
}

const tanh64 = (a: F64): F64 => a.map(Math.tanh);
const dot64 = (a: F64, c: F64): number => a.reduce((s, v, i) => s + v * c[i]!, 0);

/**
 * Central differences (f(p+h) − f(p−h))/2h in float64 for every parameter entry.
 * h = 1e-5: truncation O(h²·f''') ≈ 1e-10 and rounding ≈ 1e-16/h ≈ 1e-11, far below
 * the float32 rounding (≈ 1e-6 relative) of the tfjs gradients being checked.
 */
function finiteDiff(params: F64[], loss: (p: F64[]) => number, h = 1e-5): F64[] {
  return params.map((p, j) => {
    const g = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const plus = params.map((q) => Float64Array.from(q));
      const minus = params.map((q) => Float64Array.from(q));
      plus[j]![i]! += h;
      minus[j]![i]! -= h;
      g[i] = (loss(plus) - loss(minus)) / (2 * h);
    }
    return g;
  });
}

function f64(n: number, seed: number, scale = 1): F64 {
  return Float64Array.from(normals(n, seed), (v) => v * scale);
}

/** Parameters stored as float32 then widened, so both sides start from identical values. */
function roundF32(a: F64): F64 {
  return Float64Array.from(Float32Array.from(a));
}

/** Read [value, ...grads] tensors into numbers and free them. */
function read(ts: tf.Tensor[]): { value: number; grads: F64[] } {
  const [v, ...gs] = ts.map((t) => Float64Array.from(t.dataSync()));
  tf.dispose(ts);
  return { value: v![0]!, grads: gs };
}

// Tolerance for tf (float32) gradients against float64 finite differences:
// float32 rounding in sums of a few dozen terms gives ≈ 1e-6 relative; 1e-4 leaves margin.
const TOL = 1e-4;

describe.each(all)('finite-difference gradient checks on %s', (be) => {
  it('MLP 5-7-3 (tanh), weighted-sum loss', async () => {
    await initBackend(be, { quiet: true });
    const [n, i, hdn, o] = [4, 5, 7, 3];
    const x = roundF32(f64(n * i, 1));
    const c = roundF32(f64(n * o, 2));
    const params = [f64(i * hdn, 3, 0.5), f64(hdn, 4, 0.1), f64(hdn * o, 5, 0.5), f64(o, 6, 0.1)].map(roundF32);
    const loss64 = (p: F64[]): number => dot64(dense64(tanh64(dense64(x, p[0]!, p[1]!, n, i, hdn)), p[2]!, p[3]!, n, hdn, o), c);
    const fd = finiteDiff(params, loss64);
    const shapes = [[i, hdn], [hdn], [hdn, o], [o]];
    const { value, grads } = read(tf.tidy(() => {
      const vars = params.map((p, k) => tf.tensor(Float32Array.from(p), shapes[k]!));
      const xt = tf.tensor2d(Float32Array.from(x), [n, i]);
      const ct = tf.tensor2d(Float32Array.from(c), [n, o]);
      const f = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Scalar =>
        tf.sum(tf.mul(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(xt, w1), b1)), w2), b2), ct));
      const { value, grads } = tf.valueAndGrads(f)(vars);
      return [value, ...grads];
    }));
    expect(value).toBeAllClose(loss64(params), { rtol: TOL, atol: 1e-5 });
    for (let k = 0; k < params.length; k++) expect(grads[k]!, `param ${k}`).toBeAllClose(fd[k]!, { rtol: TOL, atol: TOL * rms(fd[k]!) });
  });

  it('conv net: conv 3×2 stride 2 same → tanh → conv-transpose stride 2 same, weighted-sum loss', async () => {
    await initBackend(be, { quiet: true });
    const g: ConvGeom = { N: 2, H: 7, W: 6, Ci: 2, KH: 3, KW: 2, Co: 3, s: 2 };
    const g2: ConvGeom = { N: 2, H: 7, W: 6, Ci: 1, KH: 3, KW: 3, Co: 3, s: 2 };
    const OH = Math.ceil(g.H / 2);
    const OW = Math.ceil(g.W / 2);
    const x = roundF32(f64(g.N * g.H * g.W * g.Ci, 11));
    const c = roundF32(f64(g.N * g.H * g.W * 1, 12));
    const params = [f64(g.KH * g.KW * g.Ci * g.Co, 13, 0.5), f64(g2.KH * g2.KW * 1 * g2.Co, 14, 0.5)].map(roundF32);
    const loss64 = (p: F64[]): number => dot64(convT64(tanh64(conv64(x, p[0]!, g)), p[1]!, g2), c);
    const fd = finiteDiff(params, loss64);
    const { value, grads } = read(tf.tidy(() => {
      const w1 = tf.tensor4d(Float32Array.from(params[0]!), [g.KH, g.KW, g.Ci, g.Co]);
      const w2 = tf.tensor4d(Float32Array.from(params[1]!), [g2.KH, g2.KW, 1, g2.Co]);
      const xt = tf.tensor4d(Float32Array.from(x), [g.N, g.H, g.W, g.Ci]);
      const ct = tf.tensor4d(Float32Array.from(c), [g.N, g.H, g.W, 1]);
      const f = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
        const h = tf.tanh(tf.conv2d(xt, a as tf.Tensor4D, 2, 'same'));
        expect(h.shape).toEqual([g.N, OH, OW, g.Co]);
        return tf.sum(tf.mul(tf.conv2dTranspose(h as tf.Tensor4D, b as tf.Tensor4D, [g.N, g.H, g.W, 1], 2, 'same'), ct));
      };
      const { value, grads } = tf.valueAndGrads(f)([w1, w2]);
      return [value, ...grads];
    }));
    expect(value).toBeAllClose(loss64(params), { rtol: TOL, atol: 1e-5 });
    for (let k = 0; k < params.length; k++) expect(grads[k]!, `param ${k}`).toBeAllClose(fd[k]!, { rtol: TOL, atol: TOL * rms(fd[k]!) });
  });
});

// ---------- tiny VAE parity ----------

const B = 8;
const D = 12;
const HID = 10;
const L = 2;
const STEPS = 200;

/**
 * 200 Adam steps (lr 1e-2) of a 12-10-(2,2)-10-12 Bernoulli VAE on fixed binary data
 * with fixed ε, all from one seeded Rng; returns the loss after every step.
 * Loss: (Σ BCE-with-logits + KL)/B (Kingma & Welling 2014, eq. 10).
 */
async function tinyVaeCurve(be: BackendName): Promise<number[]> {
  await initBackend(be, { quiet: true });
  const rng = new Rng(2024);
  const xData = new Float32Array(B * D);
  rng.fillUniform(xData);
  for (let i = 0; i < xData.length; i++) xData[i] = xData[i]! < 0.3 ? 1 : 0;
  const init = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    rng.fillNormal(a);
    return a.map((v) => v * scale);
  };
  const shapes: [string, number[]][] = [
    ['e1', [D, HID]],
    ['e1b', [HID]],
    ['mu', [HID, L]],
    ['mub', [L]],
    ['lv', [HID, L]],
    ['lvb', [L]],
    ['d1', [L, HID]],
    ['d1b', [HID]],
    ['d2', [HID, D]],
    ['d2b', [D]],
  ];
  const v = Object.fromEntries(
    shapes.map(([name, shape]) => [name, tf.variable(tf.tensor(init(shape.reduce((a, b) => a * b, 1), name.endsWith('b') ? 0.1 : 0.4), shape))]),
  );
  const eps = new Float32Array(STEPS * B * L);
  rng.fillNormal(eps);
  const x = tf.tensor2d(xData, [B, D]);
  const opt = tf.train.adam(1e-2);
  const curve: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const loss = tf.tidy(() => {
      const e = tf.tensor2d(eps.subarray(s * B * L, (s + 1) * B * L), [B, L]);
      return opt.minimize(
        () => {
          const h = tf.fused.matMul({ a: x, b: v['e1']!, bias: v['e1b'], activation: 'relu' });
          const mu = tf.add(tf.matMul(h, v['mu']!), v['mub']!);
          const lv = tf.add(tf.matMul(h, v['lv']!), v['lvb']!);
          const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), e));
          const g = tf.relu(tf.add(tf.matMul(z, v['d1']!), v['d1b']!));
          const logits = tf.add(tf.matMul(g, v['d2']!), v['d2b']!);
          const rec = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
          const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, lv), tf.square(mu)), tf.exp(lv))));
          return tf.div(tf.add(rec, kl), B) as tf.Scalar;
        },
        true,
        Object.values(v),
      )!;
    });
    curve.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  opt.dispose();
  tf.dispose([x, ...Object.values(v)]);
  return curve;
}

describe('parity across backends', () => {
  it(`${STEPS} Adam steps of a tiny VAE give the same loss curve (1e-3 relative) on ${all.join(', ')}`, async () => {
    const ref = await tinyVaeCurve('cpu');
    expect(ref[STEPS - 1]!).toBeLessThan(ref[0]!); // it trains
    for (const be of all.filter((b) => b !== 'cpu')) {
      const curve = await tinyVaeCurve(be);
      expect(curve, be).toBeAllClose(ref, { rtol: 1e-3 });
    }
  });
});

// ---------- leaks ----------

describe.each(all)('no tensor leaks on %s', (be) => {
  it('a conv + dense Adam training step keeps tf.memory().numTensors unchanged', async () => {
    await initBackend(be, { quiet: true });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 5, 1], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4 }),
      ],
    });
    const x = tf.tensor4d(normals(2 * 6 * 5, 81), [2, 6, 5, 1]);
    const opt = tf.train.adam(1e-3);
    const step = (): void => {
      const loss = opt.minimize(() => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar, true)!;
      loss.dataSync();
      loss.dispose();
    };
    step(); // the first step creates the optimizer's moment slots
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    model.dispose();
    x.dispose();
  });
});

// ---------- bad use ----------

describe('bad use', () => {
  it('a shape mismatch is a clear error on every backend, and the backend keeps working', async () => {
    for (const be of all) {
      await initBackend(be, { quiet: true });
      const a = tf.ones([3, 4]);
      const b = tf.ones([5, 2]);
      expect(() => tf.matMul(a, b)).toThrow(/inner shapes \(4\) and \(5\)/);
      expect(() => tf.matMul(a, b, true, true)).toThrow(/inner shapes \(3\) and \(2\)/);
      expect(() => tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 3, 1]) as tf.Tensor4D, 1, 'same')).toThrow(/depth of input \(2\) must match input depth for filter 3/);
      expect(Array.from(tf.matMul(a, tf.ones([4, 1])).dataSync())).toEqual([4, 4, 4]);
      tf.dispose([a, b]);
    }
  });
});
