/**
 * {@link Kernels} on TensorFlow.js's WebAssembly backend: the matrix products run on
 * XNNPACK (WebAssembly SIMD) through the wasm backend's own BatchMatMul kernel, with
 * genphys's transpose fix from wasm-backend.ts, called directly on TensorInfos on the wasm
 * heap. The calls are synchronous and read nothing back through a tensor (no `dataSync`):
 * the operands are copied into heap buffers, the kernel runs, and the product is read from
 * the heap, which is a memory copy, not a device stall. Browser-safe (no node imports), so
 * the lab's RBM panel trains on it; in Node the native addon is faster.
 *
 * The Bernoulli layer runs product, bias and sigmoid as one fused kernel on the heap and
 * draws in TypeScript with the uniforms of {@link jsKernels}, so the two kernel sets differ
 * only by rounding (float32 product and sigmoid here, float64 in the TypeScript loops): the
 * means agree to ~1e-6 and a draw differs only when u falls within that of p.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import { UsageError } from '../core/errors.js';
import { checkBernoulliArgs, checkGemmArgs } from './js-kernels.js';
import type { Kernels } from './kernels.js';

/** What we use of tfjs-backend-wasm's BackendWasm (not exported as a type). */
interface WasmHeapBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * The wasm-backed kernels. Needs the 'wasm' backend registered and initialised (in Node:
 * `initBackend('wasm')` from backend.ts; in the lab: `initTfBackend('wasm')`), with
 * genphys's wasm fixes registered so that transposed products take the XNNPACK path.
 * @throws UsageError when the wasm backend is not ready
 */
export function wasmKernels(): Kernels {
  const found = tf.findBackend('wasm') as unknown as WasmHeapBackend | null;
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (!found || !kernel) throw new UsageError('wasm kernels: the tfjs wasm backend is not initialised (await tf.setBackend("wasm") first)');
  const backend: WasmHeapBackend = found;
  const matmul = kernel.kernelFunc;
  const fusedKernel = tf.getKernel('_FusedMatMul', 'wasm');
  if (!fusedKernel) throw new UsageError('wasm kernels: the tfjs wasm backend has no _FusedMatMul kernel');
  const fused = fusedKernel.kernelFunc;

  /** A heap buffer of `shape` holding `data`'s first elements. */
  const upload = (shape: number[], data: Float32Array): TensorInfo => {
    const info = backend.makeOutput(shape, 'float32');
    const n = shape.reduce((a, b) => a * b, 1);
    // Take the view after the allocation: growing the heap detaches earlier views.
    (backend.typedArrayFromHeap(info) as Float32Array).set(data.length === n ? data : data.subarray(0, n));
    return info;
  };

  const gemm: Kernels['gemm'] = (transA, transB, M, N, K, alpha, A, B, beta, C) => {
    checkGemmArgs(M, N, K, A, B, C);
    if (M === 0 || N === 0) return;
    if (K === 0) {
      for (let i = 0; i < M * N; i++) C[i] = beta === 0 ? 0 : beta * C[i]!;
      return;
    }
    const a = upload(transA ? [1, K, M] : [1, M, K], A);
    const b = upload(transB ? [1, N, K] : [1, K, N], B);
    let out: TensorInfo | null = null;
    try {
      out = matmul({ inputs: { a, b }, backend: backend as unknown as tf.KernelBackend, attrs: { transposeA: transA, transposeB: transB } }) as TensorInfo;
      const y = backend.typedArrayFromHeap(out) as Float32Array;
      if (beta === 0 && alpha === 1) C.set(y.subarray(0, M * N));
      else if (beta === 0) for (let i = 0; i < M * N; i++) C[i] = alpha * y[i]!;
      else for (let i = 0; i < M * N; i++) C[i] = alpha * y[i]! + beta * C[i]!;
    } finally {
      backend.disposeData(a.dataId);
      backend.disposeData(b.dataId);
      if (out) backend.disposeData(out.dataId);
    }
  };

  const bernoulliLayer: Kernels['bernoulliLayer'] = (X, W, bias, rows, nIn, nOut, transW, prob, sample, rng, beta = 1) => {
    checkBernoulliArgs(bias, rows, nOut, prob, sample, rng);
    if (rows === 0 || nOut === 0) return;
    // σ(β·(X·op(W) + b)) = σ(X·op(βW) + βb): one fused product, bias and sigmoid on the heap.
    const scaled = (a: Float32Array, n: number): Float32Array => {
      if (beta === 1) return a.length === n ? a : a.subarray(0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = beta * a[i]!;
      return out;
    };
    const x = upload([1, rows, nIn], X);
    const w = upload(transW ? [1, nOut, nIn] : [1, nIn, nOut], scaled(W, nIn * nOut));
    const b = upload([nOut], scaled(bias, nOut));
    let out: TensorInfo | null = null;
    try {
      out = fused({ inputs: { a: x, b: w, bias: b }, backend: backend as unknown as tf.KernelBackend, attrs: { transposeA: false, transposeB: transW, activation: 'sigmoid' } }) as TensorInfo;
      prob.set((backend.typedArrayFromHeap(out) as Float32Array).subarray(0, rows * nOut));
    } finally {
      for (const t of [x, w, b, ...(out ? [out] : [])]) backend.disposeData(t.dataId);
    }
    if (!sample) return;
    // The draws of jsKernels: one float32-grid uniform per unit, row-major, then 1[u < p].
    const n = rows * nOut;
    const u = sample.subarray(0, n);
    rng!.fillUniform(u);
    for (let i = 0; i < n; i++) u[i] = u[i]! < prob[i]! ? 1 : 0;
  };

  return {
    name: 'wasm',
    blas: 'XNNPACK (tfjs-backend-wasm, WebAssembly SIMD, 1 thread)',
    threads: 1,
    gemm,
    bernoulliLayer,
    fillUniform: (rng, out) => rng.fillUniform(out),
  };
}
