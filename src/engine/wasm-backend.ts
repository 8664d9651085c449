/**
 * Kernel fixes for TensorFlow.js's wasm backend, so that the models genphys
 * trains run on it at a usable speed:
 *
 * - `BatchMatMul` / `_FusedMatMul` with `transposeA`/`transposeB`: the stock
 *   kernel takes a slow scalar path whenever a flag is set, which is exactly
 *   what autograd's matmul gradients do. We materialise the transposed operand
 *   with the (fast) Transpose kernel and call the XNNPACK path.
 * - `Conv2DBackpropFilter` (missing): the filter gradient is a convolution of
 *   the input with the output gradient, the batch playing the role of input
 *   channels and the forward stride becoming a dilation; run on XNNPACK Conv2D.
 *   With ≤ 4 input channels: an explicit transposed patch matrix and one matmul.
 * - `Conv2DBackpropInput` (slow, ~3 GFLOP/s; also `conv2dTranspose`): for
 *   stride 1 a full convolution with the flipped, transposed filter; for larger
 *   strides the sub-pixel decomposition (one stride-1 convolution per output
 *   phase, with the filter taps of that phase), so no multiply hits an
 *   inserted zero. Both on XNNPACK Conv2D. With ≤ 4 output channels: one
 *   matmul with the filter, then the adjoint of im2col (scatter-add).
 * - `UnsortedSegmentSum` (missing; the gradient of `gather`).
 * - `Identity`: shares the buffer instead of copying it.
 * - `Sum` over leading axes (bias gradients): one pass, no transpose.
 * - `Conv2D` / `FusedConv2D` with 'same' padding: padding passed explicitly
 *   (the stock kernel's SAME flag is wrong for 1-tall filters with stride 2).
 *
 * Each fix is written against tfjs's kernel API on the wasm backend's
 * TensorInfos, composed from the backend's own kernels, so tensors stay on the
 * wasm heap and no tensor objects are created.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** What we use of tfjs-backend-wasm's BackendWasm (not exported as a type). */
interface WasmBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const BACKEND = 'wasm';

/** Kernels as registered by tfjs-backend-wasm, captured before we override any. */
const original = new Map<string, KernelConfig>();

function orig(name: string): KernelFunc {
  let cfg = original.get(name);
  if (!cfg) {
    cfg = tf.getKernel(name, BACKEND);
    if (!cfg) throw new Error(`wasm backend has no kernel ${name}`);
    original.set(name, cfg);
  }
  return cfg.kernelFunc;
}

/** Run a stock wasm kernel on TensorInfos. */
function run(name: string, backend: WasmBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const out = orig(name)({ inputs, backend: backend as unknown as tf.KernelBackend, attrs });
  return out as TensorInfo;
}

/**
 * Scope for intermediate TensorInfos: everything passed to `keep` is disposed
 * by `free()` except what is returned.
 */
class Temps {
  private readonly list: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackend) {}
  keep(t: TensorInfo): TensorInfo {
    this.list.push(t);
    return t;
  }
  free(): void {
    for (const t of this.list) this.backend.disposeData(t.dataId);
    this.list.length = 0;
  }
}

function reshape(b: WasmBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return run('Reshape', b, { x }, { shape });
}

function transpose(b: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return run('Transpose', b, { x }, { perm });
}

/**
 * Swap the last two axes of a rank-≥2 tensor. A single float32 matrix is
 * transposed with a cache-blocked loop over heap views, which measured up to
 * twice as fast as the generic wasm Transpose kernel at the model's sizes.
 */
function swapLast(b: WasmBackend, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  if (x.dtype === 'float32' && x.shape.slice(0, -2).every((d) => d === 1)) {
    const R = x.shape[r - 2]!;
    const C = x.shape[r - 1]!;
    const out = b.makeOutput([...x.shape.slice(0, -2), C, R], 'float32');
    const o = b.typedArrayFromHeap(out);
    const v = b.typedArrayFromHeap(x);
    const BS = 32;
    for (let i0 = 0; i0 < R; i0 += BS) {
      const i1 = Math.min(R, i0 + BS);
      for (let j0 = 0; j0 < C; j0 += BS) {
        const j1 = Math.min(C, j0 + BS);
        for (let i = i0; i < i1; i++) {
          const row = i * C;
          for (let j = j0; j < j1; j++) o[j * R + i] = v[row + j]!;
        }
      }
    }
    return out;
  }
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(b, x, perm);
}

/** The wasm XNNPACK conv with explicit, possibly negative, padding (negative = crop). */
function conv(
  b: WasmBackend,
  t: Temps,
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number],
  dilations: [number, number] = [1, 1],
): TensorInfo {
  let [top, bottom, left, right] = pads;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const begin = [0, Math.max(0, -top), Math.max(0, -left), 0];
    const size = [n, h - begin[1]! - Math.max(0, -bottom), w - begin[2]! - Math.max(0, -right), c];
    x = t.keep(run('Slice', b, { x }, { begin, size }));
    top = Math.max(0, top);
    bottom = Math.max(0, bottom);
    left = Math.max(0, left);
    right = Math.max(0, right);
  }
  const pad = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
  return run('Conv2D', b, { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined } as unknown as NamedAttrMap);
}

/**
 * Matmul kernels: transposed operands are materialised so the XNNPACK path runs.
 * For a plain (unfused, unbatched) product whose flags would transpose the larger
 * operand, the transposed identity C = (op(B)ᵀ·op(A)ᵀ)ᵀ moves fewer elements (the
 * second operand is also repacked by XNNPACK, so its size counts twice).
 */
function matmulFix(name: 'BatchMatMul' | '_FusedMatMul'): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!attrs.transposeA && !attrs.transposeB) return orig(name)(args);
    const t = new Temps(backend);
    try {
      const ra = a.shape.length;
      const rb = b.shape.length;
      const unbatched = a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1);
      if (name === 'BatchMatMul' && unbatched) {
        const M = attrs.transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
        const K = attrs.transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
        const N = attrs.transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
        // Elements moved: transposes, plus the XNNPACK repacking of the second operand.
        const direct = (attrs.transposeA ? M * K : 0) + 2 * K * N;
        const swapped = (attrs.transposeB ? 0 : K * N) + 2 * M * K + M * N;
        if (swapped < direct) {
          // op(B)ᵀ is B itself when transposeB, else Bᵀ; op(A)ᵀ is A when transposeA, else Aᵀ.
          const lhs = attrs.transposeB ? b : t.keep(swapLast(backend, b));
          const rhs = attrs.transposeA ? a : t.keep(swapLast(backend, a));
          const ct = t.keep(orig(name)({ inputs: { a: lhs, b: rhs }, backend: args.backend, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo);
          const c = swapLast(backend, ct);
          const outShape = [...(ra >= rb ? a.shape : b.shape).slice(0, -2), M, N];
          if (outShape.join() === c.shape.join()) return c;
          const r = reshape(backend, c, outShape);
          backend.disposeData(c.dataId);
          return r;
        }
      }
      const inputs = { ...args.inputs };
      if (attrs.transposeA) inputs['a'] = t.keep(swapLast(backend, a));
      if (attrs.transposeB) inputs['b'] = t.keep(swapLast(backend, b));
      const newAttrs = { ...args.attrs, transposeA: false, transposeB: false };
      return orig(name)({ inputs, backend: args.backend, attrs: newAttrs });
    } finally {
      t.free();
    }
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function checkNHWC(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm supports dataFormat NHWC only, got ${dataFormat}`);
}

/** Geometry of a 2-D convolution window: filter size, strides, leading padding, output size. */
interface Window {
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  OH: number;
  OW: number;
}

/**
 * Patch matrix of x [N,H,W,C] (zeros outside): cols[(b,oh,ow), (kh,kw,c)] =
 * x[b, oh·sh + kh − pt, ow·sw + kw − pl, c], or its transpose when `transposed`.
 * Built with a loop over heap views; used only where C is small, so it stays small.
 */
function im2col(backend: WasmBackend, x: TensorInfo, g: Window, transposed: boolean): TensorInfo {
  const [N, H, W, C] = x.shape as [number, number, number, number];
  const P = N * g.OH * g.OW;
  const KC = g.KH * g.KW * C;
  const cols = backend.makeOutput(transposed ? [KC, P] : [P, KC], 'float32');
  // Views after makeOutput: allocation may grow (and detach) the heap.
  const cv = backend.typedArrayFromHeap(cols);
  const xv = backend.typedArrayFromHeap(x);
  // Element (p, k) lives at p·KC + k, or at k·P + p when transposed.
  const sp = transposed ? 1 : KC;
  const sk = transposed ? P : 1;
  for (let kh = 0; kh < g.KH; kh++) {
    for (let kw = 0; kw < g.KW; kw++) {
      for (let c = 0; c < C; c++) {
        const k = (kh * g.KW + kw) * C + c;
        let p = 0;
        for (let b = 0; b < N; b++) {
          for (let oh = 0; oh < g.OH; oh++) {
            const ih = oh * g.sh + kh - g.pt;
            const inRow = ih >= 0 && ih < H;
            const base = (b * H + ih) * W;
            for (let ow = 0; ow < g.OW; ow++, p++) {
              const iw = ow * g.sw + kw - g.pl;
              cv[p * sp + k * sk] = inRow && iw >= 0 && iw < W ? xv[(base + iw) * C + c]! : 0;
            }
          }
        }
      }
    }
  }
  return cols;
}

/**
 * Adjoint of {@link im2col}: scatter-add z[(b,oh,ow), (kh,kw,c)] into a new
 * [N,H,W,C] tensor at (b, oh·sh + kh − pt, ow·sw + kw − pl, c), dropping what falls outside.
 */
function col2im(backend: WasmBackend, z: TensorInfo, shape: [number, number, number, number], g: Window): TensorInfo {
  const [N, H, W, C] = shape;
  const KC = g.KH * g.KW * C;
  const out = backend.makeOutput([N, H, W, C], 'float32');
  const ov = backend.typedArrayFromHeap(out);
  const zv = backend.typedArrayFromHeap(z);
  ov.fill(0);
  let p = 0;
  for (let b = 0; b < N; b++) {
    for (let oh = 0; oh < g.OH; oh++) {
      for (let ow = 0; ow < g.OW; ow++, p++) {
        for (let kh = 0; kh < g.KH; kh++) {
          const ih = oh * g.sh + kh - g.pt;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < g.KW; kw++) {
            const iw = ow * g.sw + kw - g.pl;
            if (iw < 0 || iw >= W) continue;
            const src = p * KC + (kh * g.KW + kw) * C;
            const dst = ((b * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) ov[dst + c]! += zv[src + c]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Channel count up to which patch matrices are built explicitly: with few
 * channels the XNNPACK convolution has too few output pixels or channels to
 * fill its tiles, and the patch matrix (KH·KW·C columns) stays small.
 */
const SMALL_CI = 4;

/**
 * dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·sh + kh − pt, ow·sw + kw − pl, ci] · dy[b,oh,ow,co]:
 * a stride-1 convolution of x (as [Ci,H,W,B]) with dy (as an [OH,OW,B,Co] filter)
 * dilated by the forward strides.
 */
const conv2DBackpropFilter: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, outHeight: OH, outWidth: OW } = info;
  const [, H, W] = x.shape as [number, number, number, number];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const [N, , , Ci] = x.shape as [number, number, number, number];
  const Co = attrs.filterShape[3];
  const t = new Temps(backend);
  try {
    if (Ci <= SMALL_CI) {
      // Few input channels: the batch-as-channels convolution has only KH·KW·Ci output
      // pixels and repacks all of dy; instead build colsᵀ [KH·KW·Ci, N·OH·OW] (small)
      // and run one plain matmul colsᵀ · dy.
      const P = N * OH * OW;
      const cols = t.keep(im2col(backend, x, { KH, KW, sh, sw, pt, pl, OH, OW }, true));
      const dy2 = t.keep(reshape(backend, dy, [P, Co]));
      const g = t.keep(run('BatchMatMul', backend, { a: cols, b: dy2 }, { transposeA: false, transposeB: false }));
      return reshape(backend, g, [KH, KW, Ci, Co]);
    }
    const xT = t.keep(transpose(backend, x, [3, 1, 2, 0])); // [Ci,H,W,B]
    const f = t.keep(transpose(backend, dy, [1, 2, 0, 3])); // [OH,OW,B,Co]
    const pb = KH + (OH - 1) * sh - H - pt;
    const pr = KW + (OW - 1) * sw - W - pl;
    const g = t.keep(conv(backend, t, xT, f, [pt, pb, pl, pr], [sh, sw])); // [Ci,KH,KW,Co]
    return transpose(backend, g, [1, 2, 0, 3]);
  } finally {
    t.free();
  }
};

/**
 * dx[b,ih,iw,ci] = Σ dy[b,oh,ow,co] · W[kh,kw,ci,co] over ih = oh·sh + kh − pt,
 * iw = ow·sw + kw − pl. Output rows of one phase (ih + pt ≡ p mod sh) only see
 * the taps kh ≡ p (mod sh), so each phase is a stride-1 correlation of dy with
 * the flipped sub-filter of those taps (sub-pixel decomposition); the phases
 * are then interleaved.
 */
const conv2DBackpropInput: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const [N, H, W, Ci] = attrs.inputShape;
  const [, OH, OW, Co] = dy.shape as [number, number, number, number];
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const t = new Temps(backend);
  try {
    if (Ci <= SMALL_CI) {
      // Few output channels: z = dy·W_rᵀ with W_r the filter as [KH·KW·Ci, Co], then
      // the adjoint of im2col scatters z into dx (any stride, no wasted multiplies).
      const P = N * OH * OW;
      const wr = t.keep(reshape(backend, filter, [KH * KW * Ci, Co]));
      const wrT = t.keep(swapLast(backend, wr));
      const dy2 = t.keep(reshape(backend, dy, [P, Co]));
      const z = t.keep(run('BatchMatMul', backend, { a: dy2, b: wrT }, { transposeA: false, transposeB: false }));
      return col2im(backend, z, [N, H, W, Ci], { KH, KW, sh, sw, pt, pl, OH, OW });
    }
    // Flipped filter with in/out channels swapped: Wf[a,c,co,ci] = W[KH−1−a, KW−1−c, ci, co].
    const rev = t.keep(run('Reverse', backend, { x: filter }, { dims: [0, 1] }));
    const wf = t.keep(transpose(backend, rev, [0, 1, 3, 2]));
    if (sh === 1 && sw === 1) {
      const P = KH - 1 - pt;
      const L = KW - 1 - pl;
      return conv(backend, t, dy, wf, [P, H + KH - 1 - P - OH, L, W + KW - 1 - L - OW]);
    }
    // Phase (p, q): rows ih = i·sh + r0 with (r0 + pt) mod sh = p; taps kh = p + m·sh.
    // dx[i·sh + r0] = Σ_m dy[(i·sh + r0 + pt − p)/sh − m] · W[p + m·sh].
    const phases: TensorInfo[][] = [];
    const Hp = Math.ceil(H / sh);
    const Wp = Math.ceil(W / sw);
    for (let r0 = 0; r0 < sh; r0++) {
      const row: TensorInfo[] = [];
      for (let c0 = 0; c0 < sw; c0++) {
        row.push(t.keep(phase(backend, t, dy, filter, { r0, c0, sh, sw, pt, pl, KH, KW, Hp, Wp, OH, OW, N, Ci, Co })));
      }
      phases.push(row);
    }
    // Interleave: out[b, i·sh + r0, j·sw + c0, c] = phases[r0][c0][b, i, j, c], cropping
    // to H×W. A plain loop over heap views: the stock Pack/Concat copies in small chunks
    // from JavaScript and was slower than the phase convolutions themselves.
    const out = backend.makeOutput([N, H, W, Ci], 'float32');
    const o = backend.typedArrayFromHeap(out);
    for (let r0 = 0; r0 < sh; r0++) {
      for (let c0 = 0; c0 < sw; c0++) {
        const src = backend.typedArrayFromHeap(phases[r0]![c0]!);
        for (let b = 0; b < N; b++) {
          for (let i = 0; i < Hp; i++) {
            const row = i * sh + r0;
            if (row >= H) break;
            for (let j = 0; j < Wp; j++) {
              const col = j * sw + c0;
              if (col >= W) break;
              const so = ((b * Hp + i) * Wp + j) * Ci;
              const d = ((b * H + row) * W + col) * Ci;
              for (let c = 0; c < Ci; c++) o[d + c] = src[so + c]!;
            }
          }
        }
      }
    }
    return out;
  } finally {
    t.free();
  }
};

interface PhaseGeom {
  r0: number;
  c0: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  KH: number;
  KW: number;
  Hp: number;
  Wp: number;
  OH: number;
  OW: number;
  N: number;
  Ci: number;
  Co: number;
}

/**
 * One output phase of the strided input gradient, as a [N,Hp,Wp,Ci] tensor
 * (rows beyond the input are computed and later cropped, or zero when no tap
 * reaches them).
 */
function phase(b: WasmBackend, t: Temps, dy: TensorInfo, filter: TensorInfo, g: PhaseGeom): TensorInfo {
  // Row phase: p = (r0 + pt) mod sh, d = (r0 + pt − p)/sh; taps kh = p + m·sh, m = 0..mh−1.
  const p = (g.r0 + g.pt) % g.sh;
  const d = (g.r0 + g.pt - p) / g.sh;
  const mh = p < g.KH ? Math.ceil((g.KH - p) / g.sh) : 0;
  const q = (g.c0 + g.pl) % g.sw;
  const e = (g.c0 + g.pl - q) / g.sw;
  const mw = q < g.KW ? Math.ceil((g.KW - q) / g.sw) : 0;
  if (mh === 0 || mw === 0) return run('Fill', b, {}, { shape: [g.N, g.Hp, g.Wp, g.Ci], value: 0, dtype: 'float32' });
  // Sub-filter taps W[p + m·sh, q + n·sw], flipped in m and n so the phase is a correlation:
  // out[i] = Σ_m dy[i + d − m]·W[p + m·sh] = Σ_{m'} dy[i + d − (mh−1) + m']·W[p + (mh−1−m')·sh].
  const sub = t.keep(
    run(
      'StridedSlice',
      b,
      { x: filter },
      {
        begin: [p, q, 0, 0],
        end: [p + (mh - 1) * g.sh + 1, q + (mw - 1) * g.sw + 1, g.Ci, g.Co],
        strides: [g.sh, g.sw, 1, 1],
        beginMask: 0,
        endMask: 0,
        ellipsisMask: 0,
        newAxisMask: 0,
        shrinkAxisMask: 0,
      },
    ),
  ); // [mh,mw,Ci,Co]
  const rev = t.keep(run('Reverse', b, { x: sub }, { dims: [0, 1] }));
  const wf = t.keep(transpose(b, rev, [0, 1, 3, 2])); // [mh,mw,Co,Ci]
  // Input row index of output i, tap m': i + d − (mh−1) + m'. Pad top by (mh−1−d), bottom so Hp rows come out.
  const top = mh - 1 - d;
  const bottom = g.Hp + mh - 1 - top - g.OH;
  const left = mw - 1 - e;
  const right = g.Wp + mw - 1 - left - g.OW;
  return conv(b, t, dy, wf, [top, bottom, left, right]);
}

/**
 * Forward convolutions with 'same' padding: the stock kernel hands XNNPACK its
 * TensorFlow-SAME flag, which gives wrong rows for 1-tall (or 1-wide) filters
 * with stride 2 (e.g. a 1×3 filter on 6 rows). Passing the same padding as
 * explicit amounts (as tfjs computes them) avoids that path.
 */
function explicitSame(name: 'Conv2D' | 'FusedConv2D'): KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as ConvAttrs & { dilations: number | [number, number] };
    if (attrs.pad !== 'same') return orig(name)(args);
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    checkNHWC(name, attrs.dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations,
      'same',
      attrs.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    const pad = [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ];
    return orig(name)({ inputs: args.inputs, backend: args.backend, attrs: { ...args.attrs, pad } as unknown as NamedAttrMap });
  };
}

/**
 * Identity without a copy: tfjs tensors are immutable, so the output can share
 * the input's buffer (reference-counted, as the wasm Reshape and the cpu
 * backend's Identity do). Autograd and `cast` to the same dtype call it a lot.
 */
const identity: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackend;
  const { x } = args.inputs as { x: TensorInfo };
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/**
 * Sum over leading axes (bias gradients: Σ over N·H·W of an NHWC tensor). The
 * stock kernel first transposes the reduced axes to the end, a full strided copy;
 * a row-wise accumulation over the heap view (in float64) reads the data once.
 * Other axis choices and dtypes go to the stock kernel.
 */
const sumLeading: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return orig('Sum')(args);
  const backend = args.backend as unknown as WasmBackend;
  const rest = x.shape.slice(axes.length);
  const C = rest.reduce((a, v) => a * v, 1);
  const R = x.shape.slice(0, axes.length).reduce((a, v) => a * v, 1);
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
  const o = backend.typedArrayFromHeap(out);
  const xs = backend.typedArrayFromHeap(x);
  const acc = new Float64Array(C);
  for (let r = 0; r < R; r++) {
    const off = r * C;
    for (let c = 0; c < C; c++) acc[c]! += xs[off + c]!;
  }
  for (let c = 0; c < C; c++) o[c] = acc[c]!;
  return out;
};

/** out[s, …] = Σ_{i : ids[i] = s} x[i, …]; ids outside [0, numSegments) are dropped (as in TF). */
const unsortedSegmentSum: KernelFunc = (args) => {
  const backend = args.backend as unknown as WasmBackend;
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const nIds = segmentIds.shape.reduce((a, v) => a * v, 1);
  const size = x.shape.reduce((a, v) => a * v, 1);
  const inner = nIds === 0 ? 0 : size / nIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = backend.makeOutput(outShape, x.dtype);
  // Views are taken after makeOutput: allocation may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const o = backend.typedArrayFromHeap(out);
  o.fill(0);
  for (let i = 0; i < nIds; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) o[dst + k]! += xs[src + k]!;
  }
  return out;
};

let registered = false;

function override(kernelName: string, kernelFunc: KernelFunc): void {
  const existing = tf.getKernel(kernelName, BACKEND);
  if (existing) {
    if (!original.has(kernelName)) original.set(kernelName, existing);
    tf.unregisterKernel(kernelName, BACKEND);
  }
  // Keep the stock setup function: the original kernel (which we may still call)
  // binds its WebAssembly function there when the backend initialises.
  const cfg: KernelConfig = { kernelName, backendName: BACKEND, kernelFunc };
  if (existing?.setupFunc) cfg.setupFunc = existing.setupFunc;
  tf.registerKernel(cfg);
}

/** Names of the kernels {@link registerWasmFixes} adds or replaces on 'wasm'. */
export const WASM_FIXED_KERNELS: readonly string[] = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'UnsortedSegmentSum',
  'Identity',
  'Sum',
];

/**
 * Register (or override) the kernels genphys needs on the 'wasm' backend:
 * see the module comment. Idempotent. Importing '@tensorflow/tfjs-backend-wasm'
 * registers the stock kernels; call this before the backend is first used so
 * the stock setup functions still run.
 */
export function registerWasmFixes(): void {
  if (registered) return;
  registered = true;
  // Capture every stock kernel we compose with before overriding any.
  for (const k of ['BatchMatMul', '_FusedMatMul', 'FusedConv2D', 'Transpose', 'Reshape', 'Conv2D', 'Slice', 'Reverse', 'StridedSlice', 'Fill']) orig(k);
  override('BatchMatMul', matmulFix('BatchMatMul'));
  override('_FusedMatMul', matmulFix('_FusedMatMul'));
  override('Conv2D', explicitSame('Conv2D'));
  override('FusedConv2D', explicitSame('FusedConv2D'));
  override('Conv2DBackpropFilter', conv2DBackpropFilter);
  override('Conv2DBackpropInput', conv2DBackpropInput);
  override('UnsortedSegmentSum', unsortedSegmentSum);
  override('Identity', identity);
  override('Sum', sumLeading);
}
