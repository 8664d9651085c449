/**
 * The `native` tfjs backend: tensors live in tfjs's cpu-backend storage (plain
 * JavaScript typed arrays, a `MathBackendCPU` instance registered under the name
 * 'native'), every cpu kernel is registered for it as the fallback, and the hot
 * kernels are replaced by calls into the OpenBLAS addon (src/engine/native.ts).
 *
 * Why cpu storage rather than the wasm heap: the addon reads and writes
 * JavaScript Float32Arrays in place through N-API without copying, so matmul and
 * conv cost the same either way; what differs is the elementwise work between
 * them, and there the addon's vectorised loops on typed arrays do as well as
 * XNNPACK's SIMD on the heap, without the wasm backend's missing kernels, slow
 * transposed matmul, or heap growth. The measurements are in native/README.md.
 *
 * Overridden kernels: BatchMatMul, _FusedMatMul, Conv2D, FusedConv2D,
 * Conv2DBackpropInput, Conv2DBackpropFilter (oneDNN where the addon has it, else
 * im2col + sgemm; NHWC), the unary and binary elementwise ops of the VAE losses and
 * the Adam update, Greater and Select (LeakyRelu's gradient), Slice and PadV2 of
 * non-contiguous boxes, and Sum / Mean over leading or trailing axes, Max over
 * trailing ones. Added: the fused GroupNorm and SiLU kernels of fused-ops.ts, with
 * their gradient kernels. Anything else, and any case an
 * override does not handle (other dtypes, NCHW, exotic broadcasting), runs the
 * cpu backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvGeometry, NativeAddon } from './native.js';
import { BINARY, UNARY, nativeAddon } from './native.js';
import { BufferPool, attachPool } from './buffer-pool.js';
import { registerFusedAdamStep } from './adam.js';
import { GROUP_NORM, GROUP_NORM_GRAD, SILU, SILU_GRAD } from './fused-ops.js';

export { nativeLoadError } from './native.js';

/** The name the backend is registered under. */
export const NATIVE_BACKEND = 'native';

type TensorInfo = tf.TensorInfo;
type KernelParams = Parameters<tf.KernelFunc>[0];

/** The parts of tfjs-backend-cpu's MathBackendCPU the kernels use. */
interface CpuStorage {
  data: { get(dataId: object): { values?: unknown; dtype?: tf.DataType } };  // MathBackendCPU's DataStorage
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): TensorInfo;
}

/**
 * A float32 tensor's values as a Float32Array, or null when it is not float32.
 * The cpu backend sometimes stores a float32 tensor in another typed array: a
 * cast from int32 or bool shares the source tensor's storage entry (same
 * dataId, entry dtype still int32/bool). Such values are widened into a
 * temporary copy, never written back: the int32 tensor sharing the entry must
 * keep its exact integers. An entry that is itself float32 is widened in place.
 */
function f32(backend: CpuStorage, t: TensorInfo): Float32Array | null {
  if (t.dtype !== 'float32') return null;
  const entry = backend.data.get(t.dataId);
  const v = entry.values;
  if (v instanceof Float32Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
    const w = Float32Array.from(v as unknown as ArrayLike<number>);
    if (entry.dtype === 'float32') entry.values = w;
    return w;
  }
  return null;
}

/** Each native backend instance's pool of output buffers (see buffer-pool.ts). */
const pools = new WeakMap<object, BufferPool>();

/** An output buffer of `n` floats for a kernel on `backend`; contents unspecified, the kernel writes all of it. */
function outBuf(backend: object, n: number): Float32Array {
  const pool = pools.get(backend);
  return pool ? pool.alloc(n) : new Float32Array(n);
}

/** The buffer pool of the active native backend, or undefined (for diagnostics and tests). */
export function nativeBufferPool(): BufferPool | undefined {
  return tf.getBackend() === NATIVE_BACKEND ? pools.get(tf.backend()) : undefined;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Activation codes of the addon's biasAct; undefined → not handled natively. */
function activationCode(name: unknown): number | undefined {
  switch (name ?? 'linear') {
    case 'linear':
      return 0;
    case 'relu':
      return 1;
    case 'relu6':
      return 2;
    case 'elu':
      return 3;
    case 'leakyrelu':
      return 4;
    case 'sigmoid':
      return 5;
    default:
      return undefined;
  }
}

/**
 * Batched matmul on the addon, or null when the case is not handled natively
 * (non-float32 inputs, batch shapes that broadcast other than whole-or-one).
 */
function matMul(
  addon: NativeAddon,
  backend: CpuStorage,
  a: TensorInfo,
  b: TensorInfo,
  transA: boolean,
  transB: boolean,
): { out: TensorInfo; values: Float32Array; rows: number; cols: number } | null {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = transA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const Ka = transA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Kb = transB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const N = transB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${JSON.stringify(a.shape)} and ${JSON.stringify(b.shape)} and transposeA=${transA} and transposeB=${transB} must match.`,
    );
  }
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  const values = outBuf(backend, batch * M * N);
  addon.batchMatMul(av, bv, values, batch, batchA, batchB, M, N, Ka, transA, transB);
  const out = backend.makeTensorInfo([...batchShape, M, N], 'float32', values);
  return { out, values, rows: batch * M, cols: N };
}

function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.outHeight,
    info.outWidth,
  ];
}

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Shape4 = [number, number, number, number];

function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Record<string, unknown>,
  dilations: number | [number, number],
): tf.backend_util.Conv2DInfo | null {
  const fmt = tf.backend_util.convertConv2DDataFormat((attrs['dataFormat'] as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC');
  if (fmt !== 'channelsLast' || xShape.length !== 4 || filterShape.length !== 4) return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs['strides'] as number | [number, number],
    dilations,
    attrs['pad'] as Pad,
    attrs['dimRoundingMode'] as Rounding,
    false,
    fmt,
  );
}

/** The kernel overrides, each returning null to fall back to the cpu kernel. */
function overrides(addon: NativeAddon): Record<string, (p: KernelParams) => TensorInfo | null> {
  const be = (p: KernelParams): CpuStorage => p.backend as unknown as CpuStorage;
  const attrs = (p: KernelParams): Record<string, unknown> => (p.attrs ?? {}) as Record<string, unknown>;
  const table: Record<string, (p: KernelParams) => TensorInfo | null> = {};

  table[tf.BatchMatMul] = (p) => {
    const at = attrs(p);
    const r = matMul(addon, be(p), p.inputs['a']!, p.inputs['b']!, at['transposeA'] === true, at['transposeB'] === true);
    return r ? r.out : null;
  };

  table[tf._FusedMatMul] = (p) => {
    const at = attrs(p);
    const act = activationCode(at['activation']);
    const bias = p.inputs['bias'];
    if (act === undefined) return null;
    const b = p.inputs['b']!;
    const transB = at['transposeB'] === true;
    const N = b.shape[transB ? b.shape.length - 2 : b.shape.length - 1];
    const bv = bias ? f32(be(p), bias) : null;
    if (bias && (!bv || (bv.length !== 1 && (bias.shape.length > 1 || bv.length !== N)))) return null;
    const r = matMul(addon, be(p), p.inputs['a']!, b, at['transposeA'] === true, transB);
    if (!r) return null;
    addon.biasAct(r.values, r.rows, r.cols, bv, act, Number(at['leakyreluAlpha'] ?? 0.2));
    return r.out;
  };

  const conv = (p: KernelParams, fused: boolean): TensorInfo | null => {
    const x = p.inputs['x']!;
    const filter = p.inputs['filter']!;
    const at = attrs(p);
    const xv = f32(be(p), x);
    const fv = f32(be(p), filter);
    if (!xv || !fv) return null;
    let act = 0;
    let bv: Float32Array | null = null;
    if (fused) {
      const a = activationCode(at['activation']);
      if (a === undefined) return null;
      act = a;
      const bias = p.inputs['bias'];
      if (bias) {
        bv = f32(be(p), bias);
        if (!bv || (bv.length !== 1 && bv.length !== filter.shape[3])) return null;
      }
    }
    const info = convInfo(x.shape, filter.shape, at, (at['dilations'] as number | [number, number] | undefined) ?? 1);
    if (!info) return null;
    const values = outBuf(be(p), sizeOf(info.outShape));
    addon.conv2d(xv, fv, values, convGeometry(info));
    if (fused && (bv || act !== 0)) {
      addon.biasAct(values, values.length / info.outChannels, info.outChannels, bv, act, Number(at['leakyreluAlpha'] ?? 0.2));
    }
    return be(p).makeTensorInfo(info.outShape, 'float32', values);
  };
  table[tf.Conv2D] = (p) => conv(p, false);
  table[tf.FusedConv2D] = (p) => conv(p, true);

  table[tf.Conv2DBackpropInput] = (p) => {
    const dy = p.inputs['dy']!;
    const filter = p.inputs['filter']!;
    const at = attrs(p);
    const dyv = f32(be(p), dy);
    const fv = f32(be(p), filter);
    if (!dyv || !fv) return null;
    const inputShape = at['inputShape'] as number[];
    const info = convInfo(inputShape, filter.shape, at, 1);
    if (!info) return null;
    const values = outBuf(be(p), sizeOf(inputShape));
    addon.conv2dBackpropInput(dyv, fv, values, convGeometry(info));
    return be(p).makeTensorInfo(info.inShape.slice(), 'float32', values);
  };

  table[tf.Conv2DBackpropFilter] = (p) => {
    const x = p.inputs['x']!;
    const dy = p.inputs['dy']!;
    const at = attrs(p);
    const xv = f32(be(p), x);
    const dyv = f32(be(p), dy);
    if (!xv || !dyv) return null;
    const filterShape = at['filterShape'] as number[];
    const info = convInfo(x.shape, filterShape, at, 1);
    if (!info) return null;
    const values = outBuf(be(p), sizeOf(filterShape));
    addon.conv2dBackpropFilter(xv, dyv, values, convGeometry(info));
    return be(p).makeTensorInfo(filterShape.slice(), 'float32', values);
  };

  const unary = (name: string, op: number, alphaAttr?: string, alphaDefault = 0): void => {
    table[name] = (p) => {
      const x = p.inputs['x']!;
      const xv = f32(be(p), x);
      if (!xv) return null;
      const y = outBuf(be(p), xv.length);
      addon.unary(op, xv, y, alphaAttr ? Number(attrs(p)[alphaAttr] ?? alphaDefault) : alphaDefault);
      return be(p).makeTensorInfo(x.shape.slice(), 'float32', y);
    };
  };
  unary(tf.Exp, UNARY.exp);
  unary(tf.Log, UNARY.log);
  unary(tf.Sqrt, UNARY.sqrt);
  unary(tf.Square, UNARY.square);
  unary(tf.Neg, UNARY.neg);
  unary(tf.Relu, UNARY.relu);
  unary(tf.Sigmoid, UNARY.sigmoid);
  unary(tf.Softplus, UNARY.softplus);
  unary(tf.Abs, UNARY.abs);
  unary(tf.Rsqrt, UNARY.rsqrt);
  unary(tf.Reciprocal, UNARY.reciprocal);
  unary(tf.Tanh, UNARY.tanh);
  unary(tf.Step, UNARY.step, 'alpha', 0);
  unary(tf.Relu6, UNARY.relu6);
  unary(tf.Elu, UNARY.elu);
  unary(tf.LeakyRelu, UNARY.leakyrelu, 'alpha', 0.2);
  unary(tf.Log1p, UNARY.log1p);

  const binary = (name: string, op: number): void => {
    table[name] = (p) => {
      const a = p.inputs['a']!;
      const b = p.inputs['b']!;
      const av = f32(be(p), a);
      const bv = f32(be(p), b);
      if (!av || !bv) return null;
      const outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const n = sizeOf(outShape);
      // Natively: equal shapes, scalars, a side whose shape is a trailing
      // suffix of the output's (it repeats with period = its size), and a side
      // whose shape is a leading prefix of the output's followed by 1s (each
      // element covers `rep` consecutive outputs, as [R, 1] against [R, C]).
      const trailing = (s: readonly number[], len: number): boolean => {
        if (len === n || len === 1) return true;
        const t = s.slice(s.findIndex((d) => d !== 1));
        const tail = outShape.slice(outShape.length - t.length);
        return t.length <= outShape.length && t.every((d, i) => d === tail[i]);
      };
      const leadingRep = (s: readonly number[], len: number): number => {
        const padded = [...new Array<number>(outShape.length - s.length).fill(1), ...s];
        let k = padded.length - 1;
        while (k >= 0 && padded[k] === 1) k--;
        for (let i = 0; i <= k; i++) if (padded[i] !== outShape[i]) return 0;
        return len > 0 ? n / len : 0;
      };
      let rep = 0;
      if (av.length !== n && bv.length !== n) {
        if (n !== 0) return null;
      } else if (!trailing(a.shape, av.length) || !trailing(b.shape, bv.length)) {
        const aLong = av.length === n;
        const short = aLong ? b : a;
        rep = leadingRep(short.shape, aLong ? bv.length : av.length);
        if (rep <= 1) {
          // A middle broadcast, as [B, 1, 1, C] against [B, H, W, C] (a per-example
          // time embedding): per leading index, a trailing broadcast of one slice.
          const m = middleBlock(short.shape, outShape);
          if (!m) return null;
          const out = outBuf(be(p), n);
          const [outer, mid, inner] = m;
          const sv = aLong ? bv : av;
          const lv = aLong ? av : bv;
          for (let o = 0; o < outer; o++) {
            const l = lv.subarray(o * mid * inner, (o + 1) * mid * inner);
            const sh = sv.subarray(o * inner, (o + 1) * inner);
            const dst = out.subarray(o * mid * inner, (o + 1) * mid * inner);
            if (aLong) addon.binary(op, l, sh, dst);
            else addon.binary(op, sh, l, dst);
          }
          return be(p).makeTensorInfo(outShape, 'float32', out);
        }
      }
      const out = outBuf(be(p), n);
      if (n > 0) addon.binary(op, av, bv, out, rep > 1 ? rep : undefined);
      return be(p).makeTensorInfo(outShape, 'float32', out);
    };
  };
  binary(tf.Add, BINARY.add);
  binary(tf.Sub, BINARY.sub);
  binary(tf.Multiply, BINARY.mul);
  binary(tf.RealDiv, BINARY.div);
  binary(tf.Maximum, BINARY.maximum);
  binary(tf.Minimum, BINARY.minimum);
  binary(tf.SquaredDifference, BINARY.squaredDifference);

  const reduce = (name: string, op: 0 | 1 | 3): void => {
    table[name] = (p) => {
      const x = p.inputs['x']!;
      const xv = f32(be(p), x);
      if (!xv) return null;
      const at = attrs(p);
      const rank = x.shape.length;
      // Max names its axes `reductionIndices`; Sum and Mean call them `axis`.
      const axisAttr = (name === tf.Max ? at['reductionIndices'] : at['axis']) as number | number[];
      const axes = tf.util.parseAxisParam(axisAttr, x.shape).sort((u, v) => u - v);
      const uniq = axes.filter((v, i) => i === 0 || v !== axes[i - 1]);
      if (uniq.length === 0 || rank === 0) return null;
      const contiguous = uniq.every((v, i) => v === uniq[0]! + i);
      if (!contiguous) return null;
      const leading = uniq[0] === 0;
      const trailing = uniq[uniq.length - 1] === rank - 1;
      const keep = x.shape.map((d, i) => (uniq.includes(i) ? 1 : d));
      const outShape = at['keepDims'] === true ? keep : x.shape.filter((_, i) => !uniq.includes(i));
      const reduced = sizeOf(uniq.map((i) => x.shape[i]!));
      const kept = xv.length / Math.max(reduced, 1);
      if (reduced === 0 || (!trailing && op === 1)) return null;
      const out = outBuf(be(p), sizeOf(outShape));
      if (trailing) addon.reduceRows(op, xv, kept, reduced, out);
      else if (!leading) {
        // Middle axes (the gradient of a middle broadcast): column sums per leading index.
        const inner = sizeOf(x.shape.slice(uniq[uniq.length - 1]! + 1));
        const outer = kept / inner;
        for (let o = 0; o < outer; o++) addon.reduceCols(xv.subarray(o * reduced * inner, (o + 1) * reduced * inner), reduced, inner, out.subarray(o * inner, (o + 1) * inner));
        if (op === 3) for (let j = 0; j < out.length; j++) out[j] = out[j]! / reduced;
      } else {
        // Column sums in double precision; the mean divides each by the count once
        // (BatchNorm's moments over N·H·W reduce leading axes).
        addon.reduceCols(xv, reduced, kept, out);
        if (op === 3) for (let j = 0; j < out.length; j++) out[j] = out[j]! / reduced;
      }
      return be(p).makeTensorInfo(outShape, 'float32', out);
    };
  };
  reduce(tf.Sum, 0);
  reduce(tf.Max, 1);
  reduce(tf.Mean, 3);

  // Greater against a scalar or an equal-shaped float32 tensor (LeakyRelu's gradient
  // tests x > 0) as a bool (Uint8Array) mask, and Select (tf.where) with such a mask and
  // float32 branches of its shape: tfjs's cpu kernels index every element through
  // their general broadcasting path (≈ 4 ms per 800 k elements each).
  table[tf.Greater] = (p) => {
    const a = p.inputs['a']!;
    const b = p.inputs['b']!;
    const av = f32(be(p), a);
    const bv = f32(be(p), b);
    if (!av || !bv || (bv.length !== 1 && !tf.util.arraysEqual(a.shape, b.shape))) return null;
    const out = new Uint8Array(av.length);
    addon.greater(av, bv, out);
    return (be(p) as unknown as { makeTensorInfo(s: number[], d: tf.DataType, v: Uint8Array): TensorInfo }).makeTensorInfo(a.shape.slice(), 'bool', out);
  };
  table[tf.Select] = (p) => {
    const c = p.inputs['condition']!;
    const t = p.inputs['t']!;
    const e = p.inputs['e']!;
    const cv = be(p).data.get(c.dataId).values;
    const tv = f32(be(p), t);
    const ev = f32(be(p), e);
    if (!(cv instanceof Uint8Array) || c.dtype !== 'bool' || !tv || !ev) return null;
    if (!tf.util.arraysEqual(c.shape, t.shape) || !tf.util.arraysEqual(t.shape, e.shape)) return null;
    const out = outBuf(be(p), tv.length);
    addon.select(cv, tv, ev, out);
    return be(p).makeTensorInfo(t.shape.slice(), 'float32', out);
  };

  // Slice (a strided box) and PadV2 (constant padding, Slice's gradient) of float32
  // tensors as copies of contiguous runs: tfjs's cpu Slice of a non-contiguous box (a
  // channel block of a conv kernel, a border of an image) goes element by element through
  // index arithmetic, ≈ 1 µs per element.
  table[tf.Slice] = (p) => {
    const x = p.inputs['x']!;
    const xv = f32(be(p), x);
    if (!xv || x.shape.length === 0) return null;
    const at = attrs(p);
    const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, at['begin'] as number[], at['size'] as number[]);
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
    if (tf.slice_util.isSliceContinous(x.shape, begin, size)) return null;  // the cpu kernel's subarray path is already a plain copy
    const out = outBuf(be(p), sizeOf(size));
    copyBox(xv, x.shape, begin, out, size, size.map(() => 0), size);
    return be(p).makeTensorInfo(size.slice(), 'float32', out);
  };
  table[tf.PadV2] = (p) => {
    const x = p.inputs['x']!;
    const xv = f32(be(p), x);
    if (!xv || x.shape.length === 0) return null;
    const at = attrs(p);
    const pads = at['paddings'] as [number, number][];
    const shape = x.shape.map((d, i) => d + pads[i]![0] + pads[i]![1]);
    const out = outBuf(be(p), sizeOf(shape));
    out.fill(Number(at['constantValue'] ?? 0));
    copyBox(xv, x.shape, x.shape.map(() => 0), out, shape, pads.map((q) => q[0]), x.shape);
    return be(p).makeTensorInfo(shape, 'float32', out);
  };

  return table;
}

/**
 * Copy the box of extent `box` starting at `from` in `src` (shape `srcShape`) to the box
 * starting at `to` in `dst` (shape `dstShape`), row-major, as contiguous runs: the
 * trailing axes that both boxes span entirely merge into one run.
 */
function copyBox(src: Float32Array, srcShape: readonly number[], from: readonly number[], dst: Float32Array, dstShape: readonly number[], to: readonly number[], box: readonly number[]): void {
  const rank = box.length;
  if (box.some((d) => d === 0)) return;
  // Innermost axis k that is not spanned in full by both; the run covers axes k … rank−1.
  let k = rank - 1;
  let run = box[k]!;
  while (k > 0 && box[k] === srcShape[k] && box[k] === dstShape[k]) {
    k--;
    run *= box[k]!;
  }
  const sStr = new Array<number>(rank);
  const dStr = new Array<number>(rank);
  sStr[rank - 1] = 1;
  dStr[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) {
    sStr[i] = sStr[i + 1]! * srcShape[i + 1]!;
    dStr[i] = dStr[i + 1]! * dstShape[i + 1]!;
  }
  const idx = new Array<number>(k).fill(0);
  let sBase = 0;
  let dBase = 0;
  for (let i = 0; i < rank; i++) {
    sBase += from[i]! * sStr[i]!;
    dBase += to[i]! * dStr[i]!;
  }
  for (;;) {
    let so = sBase;
    let dOff = dBase;
    for (let i = 0; i < k; i++) {
      so += idx[i]! * sStr[i]!;
      dOff += idx[i]! * dStr[i]!;
    }
    dst.set(src.subarray(so, so + run), dOff);
    let i = k - 1;
    while (i >= 0 && ++idx[i]! === box[i]) idx[i--] = 0;
    if (i < 0) break;
  }
}

/**
 * For a broadcast of `short` against `out` whose 1s form one contiguous block of axes
 * strictly inside (leading axes equal, then 1s, then equal trailing axes, after
 * left-padding `short` with 1s): [outer, mid, inner], the sizes of the three blocks. Null
 * for any other broadcast.
 */
function middleBlock(short: readonly number[], out: readonly number[]): [number, number, number] | null {
  const s = [...new Array<number>(out.length - short.length).fill(1), ...short];
  let i = 0;
  while (i < s.length && s[i] === out[i]) i++;
  let j = i;
  while (j < s.length && s[j] === 1) j++;
  for (let k = j; k < s.length; k++) if (s[k] !== out[k]) return null;
  if (i === 0 || j === i || j === s.length) return null;
  return [sizeOf(out.slice(0, i)), sizeOf(out.slice(i, j)), sizeOf(out.slice(j))];
}

let registered: boolean | null = null;

/**
 * Register the `native` tfjs backend (tensors in cpu-backend storage, hot
 * kernels in the OpenBLAS addon). Returns false, and registers nothing, when the
 * addon is not available ({@link nativeLoadError} says why). Idempotent. Does not
 * make it the active backend: call `tf.setBackend('native')` (or the engine's
 * backend selection) for that.
 */
export function registerNativeBackend(): boolean {
  if (registered !== null) return registered;
  const addon = nativeAddon;
  if (!addon) return (registered = false);
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) return (registered = false);
  // Priority 0: never picked by tfjs on its own; selection is explicit.
  // GENPHYS_POOL=0 turns buffer reuse off (for comparisons).
  const pooled = process.env['GENPHYS_POOL'] !== '0';
  tf.registerBackend(
    NATIVE_BACKEND,
    () => {
      const b = cpuFactory() as object;
      if (pooled) pools.set(b, attachPool(b));
      return b as ReturnType<typeof cpuFactory>;
    },
    0,
  );
  const table = overrides(addon);
  for (const k of tf.getKernelsForBackend('cpu')) {
    const mine = table[k.kernelName];
    if (!mine) {
      tf.registerKernel({ ...k, backendName: NATIVE_BACKEND });
      continue;
    }
    const fallback = k.kernelFunc;
    tf.registerKernel({
      kernelName: k.kernelName,
      backendName: NATIVE_BACKEND,
      setupFunc: k.setupFunc,
      disposeFunc: k.disposeFunc,
      kernelFunc: (p) => mine(p) ?? fallback(p),
    });
  }
  registerFusedKernels(addon);
  return (registered = true);
}

/**
 * The fused kernels of fused-ops.ts (GroupNorm and SiLU with their gradients), which
 * tfjs does not have: registered for the native backend only; other backends use the
 * compositions of tfjs ops in src/diffusion/unet.ts. Float32 only (the U-Net's dtype).
 */
function registerFusedKernels(addon: NativeAddon): void {
  const be = (p: KernelParams): CpuStorage => p.backend as unknown as CpuStorage;
  const need = (p: KernelParams, name: string, t: TensorInfo | undefined): Float32Array => {
    const v = t ? f32(be(p), t) : null;
    if (!v) throw new Error(`${name}: float32 inputs expected`);
    return v;
  };
  const kernel = (kernelName: string, kernelFunc: (p: KernelParams) => TensorInfo | TensorInfo[]): void => {
    tf.registerKernel({ kernelName, backendName: NATIVE_BACKEND, kernelFunc: kernelFunc as tf.KernelFunc });
  };
  const nhwc = (shape: readonly number[], groups: number): [number, number, number, number] => {
    if (shape.length !== 4) throw new Error(`GroupNorm: NHWC input expected, got shape [${shape.join(', ')}]`);
    const [B, H, W, C] = shape as [number, number, number, number];
    if (!(groups >= 1) || C % groups !== 0) throw new Error(`GroupNorm: ${groups} groups do not divide ${C} channels`);
    return [B, H * W, C, groups];
  };
  kernel(GROUP_NORM, (p) => {
    const x = p.inputs['x']!;
    const at = p.attrs as { groups: number; eps: number };
    const [B, R, C, G] = nhwc(x.shape, at.groups);
    const y = outBuf(be(p), B * R * C);
    const mean = outBuf(be(p), B * G);
    const rstd = outBuf(be(p), B * G);
    addon.groupNormForward(need(p, GROUP_NORM, x), need(p, GROUP_NORM, p.inputs['gamma']), need(p, GROUP_NORM, p.inputs['beta']), B, R, C, G, at.eps, y, mean, rstd);
    return [be(p).makeTensorInfo(x.shape.slice(), 'float32', y), be(p).makeTensorInfo([B, G], 'float32', mean), be(p).makeTensorInfo([B, G], 'float32', rstd)];
  });
  kernel(GROUP_NORM_GRAD, (p) => {
    const x = p.inputs['x']!;
    const [B, R, C, G] = nhwc(x.shape, (p.attrs as { groups: number }).groups);
    const dx = outBuf(be(p), B * R * C);
    const dgamma = outBuf(be(p), C);
    const dbeta = outBuf(be(p), C);
    const g = (k: string) => need(p, GROUP_NORM_GRAD, p.inputs[k]);
    addon.groupNormBackward(g('dy'), g('x'), g('mean'), g('rstd'), g('gamma'), B, R, C, G, dx, dgamma, dbeta);
    return [be(p).makeTensorInfo(x.shape.slice(), 'float32', dx), be(p).makeTensorInfo([C], 'float32', dgamma), be(p).makeTensorInfo([C], 'float32', dbeta)];
  });
  kernel(SILU, (p) => {
    const x = p.inputs['x']!;
    const y = outBuf(be(p), sizeOf(x.shape));
    addon.unary(UNARY.silu, need(p, SILU, x), y, 0);
    return be(p).makeTensorInfo(x.shape.slice(), 'float32', y);
  });
  kernel(SILU_GRAD, (p) => {
    const x = p.inputs['x']!;
    const dy = p.inputs['dy']!;
    if (!tf.util.arraysEqual(x.shape, dy.shape)) throw new Error('SiLU gradient: dy and x shapes differ');
    const out = outBuf(be(p), sizeOf(x.shape));
    addon.binary(BINARY.siluGrad, need(p, SILU_GRAD, x), need(p, SILU_GRAD, dy), out);
    return be(p).makeTensorInfo(x.shape.slice(), 'float32', out);
  });
}

/** Names of the kernels the native backend runs in the addon (the rest are the cpu backend's). */
export function nativeKernelNames(): string[] {
  return nativeAddon ? Object.keys(overrides(nativeAddon)).sort() : [];
}

/**
 * One Adam update (Kingma & Ba, ICLR 2015) of `variable` in a single native pass:
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr·(m/c1)/(√(v/c2) + ε)
 * with the bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t given by the caller.
 * `m` and `v` are updated in place; the variable gets a new value through
 * `assign` (tensors aliasing the old value keep it). Float32 arithmetic.
 * Returns false, touching nothing, when the native backend is not the active
 * one: the caller then does the update its own way.
 */
export function nativeAdamStep(
  variable: tf.Variable,
  grad: tf.Tensor,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  c1: number,
  c2: number,
): boolean {
  const addon = nativeAddon;
  if (!addon || tf.getBackend() !== NATIVE_BACKEND) return false;
  const backend = tf.backend() as unknown as CpuStorage;
  const p = f32(backend, variable);
  const g = f32(backend, grad);
  if (!p || !g || p.length !== g.length || m.length !== p.length || v.length !== p.length) {
    throw new Error(`Adam: variable '${variable.name}' needs float32 value, gradient and moments of the same size`);
  }
  // Read through the backend's storage (not dataSync), so the buffers stay recyclable.
  const out = outBuf(backend, p.length);
  addon.adam(p, g, m, v, out, lr, b1, b2, eps, c1, c2);
  const next = tf.tensor(out, variable.shape, 'float32');
  variable.assign(next);
  next.dispose();
  return true;
}

/** A named tensor, as tfjs optimizers' weights are exchanged. */
type NamedTensor = { name: string; tensor: tf.Tensor };
type GradientsArg = Parameters<tf.AdamOptimizer['applyGradients']>[0];

interface AdamSlot {
  readonly m: Float32Array;
  readonly v: Float32Array;
}

/**
 * Adam (Kingma & Ba, ICLR 2015) with the whole per-variable update in one native
 * pass, for the `native` backend: tfjs's AdamOptimizer spends ~15 elementwise
 * kernels (each allocating a parameter-sized array) per variable per step, which
 * dominated an MLP-VAE step. Same hyperparameters, defaults, bias correction and
 * `getWeights` layout (iterations, then every `name/m`, then every `name/v`) as
 * `tf.train.adam`. Moments live in the optimizer as Float32Arrays; each variable
 * gets a fresh value through `assign`, so tensors that alias the old value keep it.
 * Use {@link adamOptimizer} to get this on native and tfjs's Adam elsewhere.
 */
export class NativeAdamOptimizer extends tf.AdamOptimizer {
  private readonly slots = new Map<string, AdamSlot>();

  /** Same arguments as `tf.train.adam`. */
  constructor(
    private readonly lr: number,
    private readonly b1: number = 0.9,
    private readonly b2: number = 0.999,
    private readonly eps: number = tf.backend().epsilon(),
  ) {
    super(lr, b1, b2, eps);
  }

  override applyGradients(variableGradients: GradientsArg): void {
    if (!nativeAddon || tf.getBackend() !== NATIVE_BACKEND) {
      super.applyGradients(variableGradients);
      return;
    }
    const entries: [string, tf.Tensor | undefined][] = Array.isArray(variableGradients)
      ? (variableGradients as NamedTensor[]).map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients as Record<string, tf.Tensor>);
    const t = this.iterations + 1; // the getter initialises iterations_ on first use
    const c1 = 1 - Math.pow(this.b1, t);
    const c2 = 1 - Math.pow(this.b2, t);
    for (const [name, grad] of entries) {
      if (grad == null) continue;
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`NativeAdamOptimizer: no variable named '${name}'`);
      let slot = this.slots.get(name);
      if (!slot) {
        slot = { m: new Float32Array(variable.size), v: new Float32Array(variable.size) };
        this.slots.set(name, slot);
      }
      nativeAdamStep(variable, grad, slot.m, slot.v, this.lr, this.b1, this.b2, this.eps, c1, c2);
    }
    this.incrementIterations();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const names = [...this.slots.keys()];
    const shapeOf = (n: string): number[] => tf.engine().registeredVariables[n]?.shape ?? [this.slots.get(n)!.m.length];
    return [
      await this.saveIterations(),
      ...names.map((n) => ({ name: `${n}/m`, tensor: tf.tensor(this.slots.get(n)!.m.slice(), shapeOf(n)) })),
      ...names.map((n) => ({ name: `${n}/v`, tensor: tf.tensor(this.slots.get(n)!.v.slice(), shapeOf(n)) })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const w of rest) {
      const data = Float32Array.from(w.tensor.dataSync());
      if (w.name.endsWith('/m')) m.set(w.name.slice(0, -2), data);
      else if (w.name.endsWith('/v')) v.set(w.name.slice(0, -2), data);
      else throw new Error(`NativeAdamOptimizer.setWeights: unexpected weight '${w.name}'`);
    }
    this.slots.clear();
    for (const [name, mv] of m) {
      const vv = v.get(name);
      if (!vv || vv.length !== mv.length) throw new Error(`NativeAdamOptimizer.setWeights: '${name}/v' is missing or has the wrong size`);
      this.slots.set(name, { m: mv, v: vv });
    }
    // Keep the tfjs path (other backends) consistent with the restored step count.
    await super.setWeights([await this.saveIterations()]);
  }
}

/**
 * Adam for the active backend: {@link NativeAdamOptimizer} when the `native`
 * backend is active, `tf.train.adam` otherwise. Same arguments and defaults.
 */
export function adamOptimizer(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number): tf.AdamOptimizer {
  if (tf.getBackend() === NATIVE_BACKEND && nativeAddon) return new NativeAdamOptimizer(learningRate, beta1, beta2, epsilon);
  return tf.train.adam(learningRate, beta1, beta2, epsilon);
}

/**
 * Whether `opt` is a {@link NativeAdamOptimizer}. Use this, not `instanceof`: tfjs's
 * `Optimizer` defines `Symbol.hasInstance` by duck typing (any object with `minimize`,
 * `computeGradients` and `applyGradients`), and subclasses inherit it, so
 * `tf.train.adam(…) instanceof NativeAdamOptimizer` is true.
 */
export function isNativeAdam(opt: tf.Optimizer): opt is NativeAdamOptimizer {
  return Object.prototype.isPrototypeOf.call(NativeAdamOptimizer.prototype, opt);
}

registerFusedAdamStep(nativeAdamStep);

export { adamUpdate, type AdamHyper } from './adam.js';
