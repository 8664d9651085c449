/**
 * Kernel-equivalence cases for any tfjs backend, and a runner that compares a backend
 * against a reference backend (cpu by default), case by case.
 *
 * The cases are the op checks of the engine test suite (test/engine-native-backend.test.ts,
 * test/engine-training.test.ts) in one browser-safe place, so the same checks run in Node
 * (cpu, wasm, native, webgpu on Dawn) and in a browser page (webgpu, webgl, wasm):
 * matMul with every transpose flag, batched and broadcast matMul, fused matMul with every
 * activation, conv2d forward and both gradients, dilated and fused conv2d, conv2dTranspose,
 * unary and broadcasting binary elementwise ops with their gradients, reductions, gather's
 * gradient, and the gradients of the models genphys trains w.r.t. all their weights (an MLP,
 * a conv net, the VAE and GAN losses, Adam steps of a tiny VAE).
 *
 * Pure: the tfjs namespace is passed in (so a page or a Node child process brings its own
 * backends), inputs come from a seeded {@link Rng}, and outputs are read with
 * `await t.data()` only; synchronous reads stall a GPU backend and crash Dawn in Node.
 */
import type * as TF from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import { GenphysError } from '../core/errors.js';

/** The tfjs namespace (`import * as tf from '@tensorflow/tfjs'`). */
/** Operand shapes of the broadcasting binary-op cases (the engine tests use them too). */
export const BROADCAST_SHAPES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[5, 7], [5, 7]],
  [[5, 7], [7]],
  [[7], [5, 7]],
  [[5, 7], []],
  [[], [5, 7]],
  [[2, 5, 7], [5, 7]],
  [[2, 5, 7], [1, 1, 7]],
  [[5, 1], [5, 7]],
  [[5, 7], [5, 1]],
  [[2, 5, 7], [2, 5, 1]],
  [[6, 1, 1], [6, 4, 3]],
  [[2, 5, 7], [1, 5, 1]],
  [[1, 7], [5, 1]],
  // Middle broadcasts (a per-example time embedding [B, 1, 1, C] against [B, H, W, C]), both ways round.
  [[3, 2, 5, 4], [3, 1, 1, 4]],
  [[3, 1, 1, 4], [3, 2, 5, 4]],
  [[4, 5, 6], [4, 1, 6]],
];

export type Tfjs = typeof TF;
type Tensor = TF.Tensor;

/** What a case exercises, for grouping in reports. */
export type KernelGroup = 'matmul' | 'fused-matmul' | 'conv' | 'conv-transpose' | 'unary' | 'binary' | 'reduction' | 'gather' | 'model';

/** One kernel-equivalence case. */
export interface KernelCase {
  /** Unique, human-readable name (also seeds the case's inputs). */
  readonly name: string;
  readonly group: KernelGroup;
  /**
   * Whether the case differentiates through a convolution (Conv2DBackpropFilter /
   * Conv2DBackpropInput): stock tfjs wasm lacks the filter gradient, genphys's wasm fixes add it.
   */
  readonly convGradient: boolean;
  /** Largest accepted error of every output against the reference. */
  readonly tol: number;
  /**
   * How outputs are compared: 'scaled' (default) is {@link relativeError}; 'elementwise' is
   * {@link elementwiseError}, for inputs spanning many orders of magnitude, where an rms
   * floor would hide every small entry.
   */
  readonly metric?: 'scaled' | 'elementwise';
  /** Build inputs from `rng` and return the outputs to compare; runs inside `tf.tidy`. */
  build(tf: Tfjs, rng: Rng): Tensor[];
}

/**
 * Default tolerance. Float32 sums of K terms round to about 1e-7·√K·rms relative; the
 * largest sums here (K ≈ 2000 in the 28×28 conv filter gradient) stay far below 1e-4, and a
 * wrong index or a missing tap gives errors of order 1.
 */
export const DEFAULT_TOL = 1e-4;

// ---------- helpers ----------

/** FNV-1a hash of a case name: each case's seed, independent of its position in the list. */
export function caseSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A float32 tensor of standard normal draws times `scale`. */
function normal(tf: Tfjs, rng: Rng, shape: number[], scale = 1): Tensor {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  rng.fillNormal(a);
  if (scale !== 1) for (let i = 0; i < a.length; i++) a[i] = a[i]! * scale;
  return tf.tensor(a, shape);
}

/** Σ y·r with a random cotangent r of y's shape, so each output element gets its own weight in a gradient. */
function probe(tf: Tfjs, rng: Rng, y: Tensor): TF.Scalar {
  return tf.sum(tf.mul(y, normal(tf, rng, y.shape)));
}

/** `[value, ...gradients]` of `f` at `xs`. */
function valueAndGrads(tf: Tfjs, f: (...xs: Tensor[]) => TF.Scalar, xs: Tensor[]): Tensor[] {
  const { value, grads } = tf.valueAndGrads(f)(xs);
  return [value, ...grads];
}

/**
 * Error of `got` against `want`: max_i |got_i − want_i| / (|want_i| + rms(want)). The rms
 * floor covers entries that cancel to near zero, where float32 rounding of the summands
 * dominates any purely relative measure (the same criterion as the native-backend tests).
 * NaN or ±∞ must sit at the same places with the same sign; a length mismatch is ∞.
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let ss = 0;
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (Number.isFinite(w)) {
      ss += w * w;
      n++;
    }
  }
  const rms = Math.sqrt(ss / Math.max(1, n));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || g === w)) return Infinity;
      continue;
    }
    const d = Math.abs(g - w);
    if (d === 0) continue;
    const scale = Math.abs(w) + rms;
    const e = scale > 0 ? d / scale : Infinity;
    if (e > worst) worst = e;
  }
  return worst;
}

/**
 * Error of `got` against `want` entry by entry: max_i |got_i − want_i| / |want_i| (an exact
 * 0 must stay 0 to within 1e-37; subnormal flushing is accepted). NaN and ±∞ as in
 * {@link relativeError}.
 */
export function elementwiseError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!(g === w || (Number.isNaN(g) && Number.isNaN(w)))) return Infinity;
      continue;
    }
    const d = Math.abs(g - w);
    if (d <= 1e-37) continue;
    const e = w !== 0 ? d / Math.abs(w) : Infinity;
    if (e > worst) worst = e;
  }
  return worst;
}

// ---------- the cases ----------

type Pad = 'same' | 'valid';

function matmulCases(): KernelCase[] {
  const out: KernelCase[] = [];
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
        out.push({
          name: `matMul ${M}×${K}×${N}${ta ? ' ta' : ''}${tb ? ' tb' : ''}: value, ∂a, ∂b`,
          group: 'matmul',
          convGradient: false,
          tol: DEFAULT_TOL,
          build: (tf, rng) => {
            const a = normal(tf, rng, ta ? [K, M] : [M, K]);
            const b = normal(tf, rng, tb ? [N, K] : [K, N]);
            return valueAndGrads(tf, (x, y) => probe(tf, rng, tf.matMul(x!, y!, ta, tb)), [a, b]);
          },
        });
      }
    }
  }
  // tfjs's BatchMatMul gradient does not reduce over broadcast batch dimensions (on any
  // backend), so the broadcast cases compare the forward value only.
  const batched: [number[], number[], boolean, boolean, boolean][] = [
    [[3, 4, 5], [3, 5, 2], false, false, true],
    [[3, 5, 4], [3, 2, 5], true, true, true],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false, true],
    [[1, 4, 5], [3, 5, 2], false, false, false],
    [[3, 4, 5], [1, 2, 5], false, true, false],
    [[2, 3, 4, 5], [5, 6], false, false, false],
  ];
  for (const [sa, sb, ta, tb, grad] of batched) {
    out.push({
      name: `batched matMul ${sa.join('×')} · ${sb.join('×')}${ta ? ' ta' : ''}${tb ? ' tb' : ''}${grad ? ': value, ∂a, ∂b' : ' (broadcast): value'}`,
      group: 'matmul',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const a = normal(tf, rng, sa);
        const b = normal(tf, rng, sb);
        if (!grad) return [tf.matMul(a, b, ta, tb)];
        return valueAndGrads(tf, (x, y) => probe(tf, rng, tf.matMul(x!, y!, ta, tb)), [a, b]);
      },
    });
  }
  for (const activation of ['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid'] as const) {
    for (const t of [false, true]) {
      out.push({
        name: `fused matMul + bias + ${activation}${t ? ' ta tb' : ''}: value, ∂a, ∂b, ∂bias`,
        group: 'fused-matmul',
        convGradient: false,
        tol: DEFAULT_TOL,
        build: (tf, rng) => {
          const a = normal(tf, rng, t ? [6, 5] : [5, 6]);
          const b = normal(tf, rng, t ? [7, 6] : [6, 7]);
          const bias = normal(tf, rng, [7]);
          const f = (x: Tensor, y: Tensor, z: Tensor): TF.Scalar =>
            probe(tf, rng, tf.fused.matMul({ a: x as TF.Tensor2D, b: y as TF.Tensor2D, bias: z, activation, transposeA: t, transposeB: t, leakyreluAlpha: 0.1 }));
          return valueAndGrads(tf, (x, y, z) => f(x!, y!, z!), [a, b, bias]);
        },
      });
    }
  }
  return out;
}

function convCases(): KernelCase[] {
  const out: KernelCase[] = [];
  // [batch, h, w, cin, fh, fw, cout, stride, pad]
  const geoms: [number, number, number, number, number, number, number, number | [number, number], Pad][] = [
    [1, 5, 5, 1, 3, 3, 2, 1, 'same'],
    [1, 5, 5, 1, 3, 3, 2, 1, 'valid'],
    [2, 7, 6, 3, 3, 2, 4, 2, 'same'],
    [2, 7, 6, 3, 3, 2, 4, 2, 'valid'],
    [3, 9, 8, 2, 2, 3, 5, [2, 1], 'same'],
    [1, 6, 11, 4, 1, 1, 3, 1, 'valid'],
    [1, 4, 4, 2, 5, 5, 1, 1, 'same'],
    [2, 28, 28, 1, 3, 3, 8, 2, 'same'],
    // A 1-tall filter with stride 2 and 'same' padding: stock wasm's SAME flag gets its rows wrong.
    [2, 6, 5, 2, 1, 3, 3, 2, 'same'],
    // More than 4 channels in and out: the wasm fixes' XNNPACK paths rather than their im2col paths.
    [2, 8, 7, 6, 3, 3, 5, 2, 'same'],
    [2, 8, 7, 6, 3, 2, 5, 1, 'valid'],
  ];
  for (const [n, h, w, cin, fh, fw, cout, s, pad] of geoms) {
    out.push({
      name: `conv2d ${n}×${h}×${w}×${cin} filter ${fh}×${fw}→${cout} stride ${JSON.stringify(s)} ${pad}: value, ∂x, ∂filter`,
      group: 'conv',
      convGradient: true,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [n, h, w, cin]);
        const f = normal(tf, rng, [fh, fw, cin, cout]);
        return valueAndGrads(tf, (a, b) => probe(tf, rng, tf.conv2d(a as TF.Tensor4D, b as TF.Tensor4D, s, pad)), [x, f]);
      },
    });
  }
  out.push({
    name: 'conv2d dilation 2 same and dilation [2,1] valid: values',
    group: 'conv',
    convGradient: false,
    tol: DEFAULT_TOL,
    build: (tf, rng) => {
      const x = normal(tf, rng, [2, 9, 7, 3]) as TF.Tensor4D;
      const f = normal(tf, rng, [3, 2, 3, 4]) as TF.Tensor4D;
      return [tf.conv2d(x, f, 1, 'same', 'NHWC', 2), tf.conv2d(x, f, 1, 'valid', 'NHWC', [2, 1])];
    },
  });
  for (const activation of ['relu', 'sigmoid', 'linear'] as const) {
    out.push({
      name: `fused conv2d + bias + ${activation} stride 2 same: value, ∂x, ∂filter, ∂bias`,
      group: 'conv',
      convGradient: true,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [2, 7, 6, 3]);
        const f = normal(tf, rng, [3, 3, 3, 4]);
        const bias = normal(tf, rng, [4]);
        const g = (a: Tensor, b: Tensor, c: Tensor): TF.Scalar =>
          probe(tf, rng, tf.fused.conv2d({ x: a as TF.Tensor4D, filter: b as TF.Tensor4D, strides: 2, pad: 'same', bias: c, activation }));
        return valueAndGrads(tf, (a, b, c) => g(a!, b!, c!), [x, f, bias]);
      },
    });
  }
  // [batch, h, w, cin, fh, fw, cout, stride, pad, outH, outW]
  const transposed: [number, number, number, number, number, number, number, number, Pad, number, number][] = [
    [1, 3, 3, 2, 3, 3, 1, 2, 'same', 6, 6],
    [2, 4, 3, 3, 3, 2, 2, 2, 'valid', 9, 6],
    [2, 5, 4, 2, 3, 3, 3, 1, 'same', 5, 4],
    [3, 7, 7, 4, 3, 3, 2, 2, 'same', 14, 14],
    // Wide outputs (> 4 channels): the wasm fix's sub-pixel decomposition.
    [2, 4, 4, 5, 3, 3, 6, 2, 'same', 8, 8],
  ];
  for (const [n, h, w, cin, fh, fw, cout, s, pad, oh, ow] of transposed) {
    out.push({
      name: `conv2dTranspose ${n}×${h}×${w}×${cin} filter ${fh}×${fw}→${cout} stride ${s} ${pad} → ${oh}×${ow}: value, ∂x, ∂filter`,
      group: 'conv-transpose',
      convGradient: true,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [n, h, w, cin]);
        const f = normal(tf, rng, [fh, fw, cout, cin]);
        const shape: [number, number, number, number] = [n, oh, ow, cout];
        return valueAndGrads(tf, (a, b) => probe(tf, rng, tf.conv2dTranspose(a as TF.Tensor4D, b as TF.Tensor4D, shape, s, pad)), [x, f]);
      },
    });
  }
  return out;
}

function elementwiseCases(): KernelCase[] {
  const out: KernelCase[] = [];
  const unary: [string, (tf: Tfjs, x: Tensor) => Tensor][] = [
    ['exp', (tf, x) => tf.exp(x)],
    ['log', (tf, x) => tf.log(tf.add(tf.abs(x), 0.1))],
    ['sqrt', (tf, x) => tf.sqrt(tf.add(tf.abs(x), 0.1))],
    ['rsqrt', (tf, x) => tf.rsqrt(tf.add(tf.abs(x), 0.1))],
    ['square', (tf, x) => tf.square(x)],
    ['neg', (tf, x) => tf.neg(x)],
    ['relu', (tf, x) => tf.relu(x)],
    ['relu6', (tf, x) => tf.relu6(tf.mul(x, 4))],
    ['sigmoid', (tf, x) => tf.sigmoid(x)],
    ['softplus', (tf, x) => tf.softplus(tf.mul(x, 12))],
    ['abs', (tf, x) => tf.abs(x)],
    ['reciprocal', (tf, x) => tf.reciprocal(tf.add(tf.abs(x), 0.5))],
    ['tanh', (tf, x) => tf.tanh(x)],
    ['elu', (tf, x) => tf.elu(x)],
    ['leakyRelu', (tf, x) => tf.leakyRelu(x, 0.3)],
    ['log1p', (tf, x) => tf.log1p(tf.abs(x))],
    ['step', (tf, x) => tf.step(x, 0.25)],
  ];
  for (const [name, op] of unary) {
    out.push({
      name: `${name} 37×11: value, ∂x`,
      group: 'unary',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => valueAndGrads(tf, (x) => probe(tf, rng, op(tf, x!)), [normal(tf, rng, [37, 11])]),
    });
  }
  const shapes = BROADCAST_SHAPES;
  const binary: [string, (tf: Tfjs, a: Tensor, b: Tensor) => Tensor][] = [
    ['add', (tf, a, b) => tf.add(a, b)],
    ['sub', (tf, a, b) => tf.sub(a, b)],
    ['mul', (tf, a, b) => tf.mul(a, b)],
    ['div', (tf, a, b) => tf.div(a, tf.add(tf.abs(b), 0.5))],
    ['maximum', (tf, a, b) => tf.maximum(a, b)],
    ['minimum', (tf, a, b) => tf.minimum(a, b)],
    ['squaredDifference', (tf, a, b) => tf.squaredDifference(a, b)],
  ];
  // tfjs's gradients of maximum, minimum and squaredDifference do not reduce over broadcast
  // dimensions (on any backend): gradients only where they do, or for equal shapes.
  const reducesGrad = new Set(['add', 'sub', 'mul', 'div']);
  for (const [name, op] of binary) {
    out.push({
      name: `${name} over 13 broadcast shape pairs: values${reducesGrad.has(name) ? ', ∂a, ∂b' : ' (∂a, ∂b for equal shapes)'}`,
      group: 'binary',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const outs: Tensor[] = [];
        for (const [sa, sb] of shapes) {
          const a = normal(tf, rng, [...sa]);
          const b = normal(tf, rng, [...sb]);
          if (reducesGrad.has(name) || sa.join() === sb.join()) outs.push(...valueAndGrads(tf, (x, y) => probe(tf, rng, op(tf, x!, y!)), [a, b]));
          else outs.push(op(tf, a, b));
        }
        return outs;
      },
    });
  }
  const reductions: [number | number[] | undefined, boolean][] = [
    [undefined, false],
    [0, false],
    [1, true],
    [2, false],
    [[1, 2], false],
    [[0, 1], true],
    [[0, 2], false],
    [-1, false],
  ];
  for (const [axis, keepDims] of reductions) {
    out.push({
      name: `sum / mean / max of 4×5×6 over axis ${JSON.stringify(axis) ?? 'all'}${keepDims ? ' keepDims' : ''}: values, ∂sum, ∂mean`,
      group: 'reduction',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [4, 5, 6]);
        const [ds] = tf.grads((a: Tensor) => probe(tf, rng, tf.sum(a, axis, keepDims)))([x]);
        const [dm] = tf.grads((a: Tensor) => probe(tf, rng, tf.mean(a, axis, keepDims)))([x]);
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.max(x, axis, keepDims), ds!, dm!];
      },
    });
  }
  out.push({
    name: 'gather rows (repeated indices) and its gradient (UnsortedSegmentSum)',
    group: 'gather',
    convGradient: false,
    tol: DEFAULT_TOL,
    build: (tf, rng) => {
      const x = normal(tf, rng, [9, 5]);
      const idx = tf.tensor1d([3, 0, 3, 8, 1, 3, 7], 'int32');
      return valueAndGrads(tf, (a) => probe(tf, rng, tf.gather(a!, idx)), [x]);
    },
  });
  return out;
}

/** NHWC 'same'-padded conv → tanh → conv-transpose back to the input size, as in test/engine-training.test.ts. */
function convNet(tf: Tfjs, x: TF.Tensor4D, w1: Tensor, w2: Tensor): Tensor {
  const h = tf.tanh(tf.conv2d(x, w1 as TF.Tensor4D, 2, 'same'));
  return tf.conv2dTranspose(h as TF.Tensor4D, w2 as TF.Tensor4D, [x.shape[0], x.shape[1], x.shape[2], w2.shape[2]!], 2, 'same');
}

/** A 12-10-(2,2)-10-12 Bernoulli VAE's weights, as in test/engine-training.test.ts. */
const VAE_SHAPES: [string, number[]][] = [
  ['e1', [12, 10]],
  ['e1b', [10]],
  ['mu', [10, 2]],
  ['mub', [2]],
  ['lv', [10, 2]],
  ['lvb', [2]],
  ['d1', [2, 10]],
  ['d1b', [10]],
  ['d2', [10, 12]],
  ['d2b', [12]],
];

/**
 * Negative ELBO per example, (Σ BCE-with-logits + KL)/B (Kingma & Welling 2014, eq. 10,
 * with the Gaussian KL of their appendix B). BCE with logits l and target x is written
 * relu(l) − l·x + log1p(exp(−|l|)), finite for any logit.
 */
function vaeLoss(tf: Tfjs, p: Tensor[], x: Tensor, eps: Tensor): TF.Scalar {
  const [e1, e1b, mu, mub, lv, lvb, d1, d1b, d2, d2b] = p as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const h = tf.fused.matMul({ a: x as TF.Tensor2D, b: e1 as TF.Tensor2D, bias: e1b, activation: 'relu' });
  const m = tf.add(tf.matMul(h, mu), mub);
  const v = tf.add(tf.matMul(h, lv), lvb);
  const z = tf.add(m, tf.mul(tf.exp(tf.mul(v, 0.5)), eps));
  const g = tf.relu(tf.add(tf.matMul(z, d1), d1b));
  const logits = tf.add(tf.matMul(g, d2), d2b);
  const rec = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
  const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, v), tf.square(m)), tf.exp(v))));
  return tf.div(tf.add(rec, kl), x.shape[0]!) as TF.Scalar;
}

function vaeInputs(tf: Tfjs, rng: Rng): { params: Tensor[]; x: Tensor } {
  const params = VAE_SHAPES.map(([name, shape]) => normal(tf, rng, shape, name.endsWith('b') ? 0.1 : 0.4));
  const u = new Float32Array(8 * 12);
  rng.fillUniform(u);
  const x = tf.tensor2d(u.map((v) => (v < 0.3 ? 1 : 0)), [8, 12]);
  return { params, x };
}

/**
 * A 6-8-1 leaky-ReLU critic, x [B,6] → scores [B]. LeakyReLU is written as 0.8·relu(a) + 0.2·a
 * (src/gan/networks.ts leakyReluTwice): tfjs's LeakyRelu gradient goes through Greater,
 * which has no gradient, so the gradient penalty's double backprop would fail on it.
 */
function critic(tf: Tfjs, p: Tensor[], x: Tensor): Tensor {
  const a = tf.add(tf.matMul(x, p[0]!), p[1]!);
  const h = tf.add(tf.mul(tf.relu(a), 0.8), tf.mul(a, 0.2));
  return tf.reshape(tf.add(tf.matMul(h, p[2]!), p[3]!), [x.shape[0]!]);
}

function modelCases(): KernelCase[] {
  return [
    {
      name: 'MLP 5-7-3 (tanh), weighted-sum loss: value, ∂ all 4 weights',
      group: 'model',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [4, 5]);
        const c = normal(tf, rng, [4, 3]);
        const params = [normal(tf, rng, [5, 7], 0.5), normal(tf, rng, [7], 0.1), normal(tf, rng, [7, 3], 0.5), normal(tf, rng, [3], 0.1)];
        const f = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor): TF.Scalar => tf.sum(tf.mul(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2), c));
        return valueAndGrads(tf, (a, b, d, e) => f(a!, b!, d!, e!), params);
      },
    },
    {
      name: 'conv net: conv 3×2 stride 2 same → tanh → conv-transpose 3×3 stride 2 same: value, ∂ both filters',
      group: 'model',
      convGradient: true,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const x = normal(tf, rng, [2, 7, 6, 2]) as TF.Tensor4D;
        const c = normal(tf, rng, [2, 7, 6, 1]);
        const params = [normal(tf, rng, [3, 2, 2, 3], 0.5), normal(tf, rng, [3, 3, 1, 3], 0.5)];
        return valueAndGrads(tf, (w1, w2) => tf.sum(tf.mul(convNet(tf, x, w1!, w2!), c)), params);
      },
    },
    {
      name: 'VAE 12-10-(2,2)-10-12 negative ELBO (Kingma & Welling 2014, eq. 10): value, ∂ all 10 weights',
      group: 'model',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const { params, x } = vaeInputs(tf, rng);
        const eps = normal(tf, rng, [8, 2]);
        return valueAndGrads(tf, (...p) => vaeLoss(tf, p, x, eps), params);
      },
    },
    {
      name: 'VAE 12-10-(2,2)-10-12: loss curve of 10 Adam steps (lr 1e-2)',
      group: 'model',
      convGradient: false,
      // The tolerance of test/engine-training.test.ts's 200-step parity check. Only the loss
      // curve is compared, as there: Adam moves every weight by about lr·sign(g) whatever |g|,
      // so gradient entries that cancel to near zero (where any float32 summation order has
      // O(1) relative error) move their weights by ±lr, and ReLU kinks then amplify that.
      // Measured after 20 steps: webgl's final weights differ from cpu's by 3.5e-3 while the curves agree to 7e-5.
      tol: 1e-3,
      build: (tf, rng) => {
        const { params, x } = vaeInputs(tf, rng);
        const vars = params.map((p) => tf.variable(p));
        const opt = tf.train.adam(1e-2);
        const losses: Tensor[] = [];
        // Ten steps: on Chromium's WebGPU each step costs ~0.5 s of dispatches on SwiftShader.
        for (let s = 0; s < 10; s++) {
          const eps = normal(tf, rng, [8, 2]);
          losses.push(opt.minimize(() => vaeLoss(tf, vars, x, eps), true, vars)!);
        }
        const outs = [tf.stack(losses)];
        opt.dispose();
        tf.dispose(vars);
        return outs;
      },
    },
    {
      name: 'GAN losses on a 6-8-1 critic: non-saturating D and G (Goodfellow et al. 2014), LSGAN (Mao et al. 2017), ∂ all critic weights',
      group: 'model',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const real = normal(tf, rng, [10, 6]);
        const fake = normal(tf, rng, [10, 6], 1.5);
        const params = [normal(tf, rng, [6, 8], 0.5), normal(tf, rng, [8], 0.1), normal(tf, rng, [8, 1], 0.5), normal(tf, rng, [1], 0.1)];
        // softplus form of the cross-entropies, as src/gan/losses.ts: −log σ(l) = softplus(−l).
        const nsD = (...p: Tensor[]): TF.Scalar => tf.add(tf.mean(tf.softplus(tf.neg(critic(tf, p, real)))), tf.mean(tf.softplus(critic(tf, p, fake)))) as TF.Scalar;
        const nsG = (...p: Tensor[]): TF.Scalar => tf.mean(tf.softplus(tf.neg(critic(tf, p, fake))));
        const ls = (...p: Tensor[]): TF.Scalar =>
          tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(critic(tf, p, real), 1))), tf.mean(tf.square(critic(tf, p, fake))))) as TF.Scalar;
        return [...valueAndGrads(tf, nsD, params), ...valueAndGrads(tf, nsG, params), ...valueAndGrads(tf, ls, params)];
      },
    },
    {
      name: 'WGAN-GP critic loss with gradient penalty (Gulrajani et al. 2017, eq. 3), double backprop: value, ∂ all critic weights',
      group: 'model',
      convGradient: false,
      tol: DEFAULT_TOL,
      build: (tf, rng) => {
        const real = normal(tf, rng, [10, 6]);
        const fake = normal(tf, rng, [10, 6], 1.5);
        const u = new Float32Array(10);
        rng.fillUniform(u);
        const e = tf.tensor2d(u, [10, 1]);
        const params = [normal(tf, rng, [6, 8], 0.5), normal(tf, rng, [8], 0.1), normal(tf, rng, [8, 1], 0.5), normal(tf, rng, [1], 0.1)];
        const loss = (...p: Tensor[]): TF.Scalar => {
          const xHat = tf.add(tf.mul(e, real), tf.mul(tf.sub(1, e), fake));
          const g = tf.grad((z: Tensor) => tf.sum(critic(tf, p, z)))(xHat);
          const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), 1), 1e-12));
          const gp = tf.mul(tf.mean(tf.square(tf.sub(norm, 1))), 10);
          return tf.add(tf.sub(tf.mean(critic(tf, p, fake)), tf.mean(critic(tf, p, real))), gp) as TF.Scalar;
        };
        return valueAndGrads(tf, loss, params);
      },
    },
  ];
}

/** Unary ops on tiny, huge, ±0, ±∞, NaN and domain-edge inputs (test/engine-native-backend.test.ts). */
export function specialValueCases(): KernelCase[] {
  const special = [0, -0, 1e-30, -1e-30, 1e-8, 1e-5, -1e-5, 0.5, -0.5, -0.99999994, -1, -2, 3, -3, 20, -20, 88, 89, -104, 1e30, 3.4e38, Infinity, -Infinity, NaN];
  const ops: [string, (tf: Tfjs, x: Tensor) => Tensor][] = [
    ['exp', (tf, x) => tf.exp(x)],
    ['log', (tf, x) => tf.log(x)],
    ['log1p', (tf, x) => tf.log1p(x)],
    ['tanh', (tf, x) => tf.tanh(x)],
    ['sigmoid', (tf, x) => tf.sigmoid(x)],
    ['softplus', (tf, x) => tf.softplus(x)],
    ['sqrt', (tf, x) => tf.sqrt(x)],
    ['elu', (tf, x) => tf.elu(x)],
  ];
  return ops.map(([name, op]) => ({
    name: `${name} on special values (±0, 1e-30, 88, 89, 3.4e38, ±∞, NaN, …)`,
    group: 'unary' as const,
    convGradient: false,
    metric: 'elementwise' as const,
    tol: 2e-6,
    build: (tf: Tfjs) => [op(tf, tf.tensor1d(special))],
  }));
}

/** Every kernel-equivalence case, in report order. */
export function kernelCases(): KernelCase[] {
  return [...matmulCases(), ...convCases(), ...elementwiseCases(), ...modelCases()];
}

// ---------- the runner ----------

/** Run one case on the active backend; outputs are read asynchronously and every tensor is freed. */
export async function runCase(tf: Tfjs, c: KernelCase): Promise<Float32Array[]> {
  const outs = tf.tidy(() => c.build(tf, new Rng(caseSeed(c.name))));
  try {
    const data = await Promise.all(outs.map((t) => t.data()));
    return data.map((d) => Float32Array.from(d as ArrayLike<number>));
  } finally {
    tf.dispose(outs);
  }
}

/** One case's outcome on one backend. */
export interface CaseResult {
  /** The case's {@link KernelCase.name}, group and conv-gradient flag. */
  readonly name: string;
  readonly group: KernelGroup;
  readonly convGradient: boolean;
  /** Worst {@link relativeError} over the outputs (∞ on a length or NaN mismatch, null if the case threw). */
  readonly maxRelErr: number | null;
  /** {@link relativeError} of each output, in the case's output order (empty if the case threw). */
  readonly outputErrors: number[];
  /** The case's tolerance. */
  readonly tol: number;
  /** Every output within `tol`, nothing thrown, nothing leaked. */
  readonly pass: boolean;
  /** Outputs compared. */
  readonly outputs: number;
  /** Wall time of the case on the backend under test, including reads (and, first time, shader compiles). */
  readonly ms: number;
  /** Tensors left behind by the case on the backend under test (must be 0). */
  readonly leaked: number;
  /** The exception, when the case threw on the backend under test. */
  readonly error?: string;
}

/** The outcome of {@link checkKernels}. */
export interface KernelReport {
  /** The backend checked, and the one it was compared with. */
  readonly backend: string;
  readonly reference: string;
  /** One result per case, in the order of the cases. */
  readonly cases: CaseResult[];
  /** Counts of passing and failing cases. */
  readonly passed: number;
  readonly failed: number;
  /** Wall time on the backend under test. */
  readonly ms: number;
  /** Wall time on the reference backend (0 when its outputs were passed in). */
  readonly referenceMs: number;
}

/** Options of {@link checkKernels}. */
export interface CheckOptions {
  /** Cases to run (default {@link kernelCases}). */
  readonly cases?: readonly KernelCase[];
  /** Outputs of the reference backend from an earlier {@link referenceOutputs}, to skip recomputing them. */
  readonly referenceOutputs?: ReadonlyMap<string, Float32Array[]>;
  /** Called after each case (progress reporting). */
  readonly onCase?: (r: CaseResult) => void;
}

async function useBackend(tf: Tfjs, name: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new GenphysError(`kernel check: backend '${name}' did not start (${(e as Error).message.split('\n')[0]})`);
  }
  if (!ok) throw new GenphysError(`kernel check: backend '${name}' did not start (is it registered and supported here?)`);
  await tf.ready();
}

/** Outputs of every case on `reference`, keyed by case name. */
export async function referenceOutputs(tf: Tfjs, reference = 'cpu', cases: readonly KernelCase[] = kernelCases()): Promise<Map<string, Float32Array[]>> {
  await useBackend(tf, reference);
  const out = new Map<string, Float32Array[]>();
  for (const c of cases) out.set(c.name, await runCase(tf, c));
  return out;
}

/**
 * Run every case on `reference` and on `backend` and compare the outputs with
 * {@link relativeError}. All reference runs come first, then all runs on `backend`, so the
 * backend is switched twice and no tensor ever crosses backends. A case that throws on
 * `backend` (e.g. a missing kernel) fails with its message; one that throws on the
 * reference throws. Leaves `backend` active.
 * @throws GenphysError when either backend does not start
 */
export async function checkKernels(tf: Tfjs, backend: string, reference = 'cpu', opts: CheckOptions = {}): Promise<KernelReport> {
  const cases = opts.cases ?? kernelCases();
  const t0 = performance.now();
  const want = opts.referenceOutputs ?? (await referenceOutputs(tf, reference, cases));
  const referenceMs = opts.referenceOutputs ? 0 : performance.now() - t0;
  await useBackend(tf, backend);
  const results: CaseResult[] = [];
  const t1 = performance.now();
  for (const c of cases) {
    const ref = want.get(c.name);
    if (!ref) throw new GenphysError(`kernel check: no reference outputs for case '${c.name}'`);
    const before = tf.memory().numTensors;
    const s = performance.now();
    let got: Float32Array[] | null = null;
    let error: string | undefined;
    try {
      got = await runCase(tf, c);
    } catch (e) {
      error = (e as Error).message.split('\n')[0];
    }
    const ms = performance.now() - s;
    const leaked = tf.memory().numTensors - before;
    let maxRelErr: number | null = null;
    const outputErrors: number[] = [];
    if (got) {
      for (let i = 0; i < Math.min(got.length, ref.length); i++) outputErrors.push((c.metric === 'elementwise' ? elementwiseError : relativeError)(got[i]!, ref[i]!));
      maxRelErr = got.length === ref.length ? Math.max(0, ...outputErrors) : Infinity;
    }
    const pass = maxRelErr !== null && maxRelErr <= c.tol && leaked === 0;
    const r: CaseResult = { name: c.name, group: c.group, convGradient: c.convGradient, maxRelErr, outputErrors, tol: c.tol, pass, outputs: ref.length, ms, leaked, ...(error !== undefined ? { error } : {}) };
    results.push(r);
    opts.onCase?.(r);
  }
  const passed = results.filter((r) => r.pass).length;
  return { backend, reference, cases: results, passed, failed: results.length - passed, ms: performance.now() - t1, referenceMs };
}
