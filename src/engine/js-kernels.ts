/**
 * Pure TypeScript implementation of {@link Kernels}: the reference the native
 * kernels are tested against, and the fallback when the addon is not built.
 */
import type { Rng } from '../core/rng.js';
import { assertShape } from '../core/errors.js';
import type { Kernels } from './kernels.js';

const TWO_POW_M24 = 1 / 16777216;

function checkLen(name: string, a: Float32Array, need: number): void {
  assertShape(a.length >= need, `${name} has ${a.length} elements, needs at least ${need}`);
}

/** The operand checks of {@link Kernels.gemm}, shared by the kernel sets written in TypeScript. */
export function checkGemmArgs(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array): void {
  checkLen('A', A, M * K);
  checkLen('B', B, K * N);
  checkLen('C', C, M * N);
}

/** The operand checks of {@link Kernels.bernoulliLayer}, shared by the kernel sets written in TypeScript. */
export function checkBernoulliArgs(bias: Float32Array, rows: number, nOut: number, prob: Float32Array, sample: Float32Array | null, rng: Rng | null): void {
  checkLen('bias', bias, nOut);
  checkLen('prob', prob, rows * nOut);
  if (sample) {
    checkLen('sample', sample, rows * nOut);
    assertShape(rng !== null, 'bernoulliLayer needs an Rng when sampling');
  }
}

/**
 * C ← α·op(A)·op(B) + β·C in float32 storage with float64 accumulation per
 * output row (i-k-j loop order, so the inner loop is contiguous).
 */
function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  B: Float32Array,
  beta: number,
  C: Float32Array,
): void {
  checkGemmArgs(M, N, K, A, B, C);
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const a = transA ? A[k * M + i]! : A[i * K + k]!;
      if (a === 0) continue;
      if (transB) {
        for (let j = 0; j < N; j++) row[j]! += a * B[j * K + k]!;
      } else {
        const off = k * N;
        for (let j = 0; j < N; j++) row[j]! += a * B[off + j]!;
      }
    }
    const off = i * N;
    if (beta === 0) for (let j = 0; j < N; j++) C[off + j] = alpha * row[j]!;
    else for (let j = 0; j < N; j++) C[off + j] = alpha * row[j]! + beta * C[off + j]!;
  }
}

function bernoulliLayer(
  X: Float32Array,
  W: Float32Array,
  bias: Float32Array,
  rows: number,
  nIn: number,
  nOut: number,
  transW: boolean,
  prob: Float32Array,
  sample: Float32Array | null,
  rng: Rng | null,
  beta: number = 1,
): void {
  checkBernoulliArgs(bias, rows, nOut, prob, sample, rng);
  gemm(false, transW, rows, nOut, nIn, 1, X, W, 0, prob);
  for (let r = 0; r < rows; r++) {
    const off = r * nOut;
    for (let j = 0; j < nOut; j++) {
      const p = 1 / (1 + Math.exp(-beta * (prob[off + j]! + bias[j]!)));
      prob[off + j] = p;
      if (sample) sample[off + j] = (rng!.nextU32() >>> 8) * TWO_POW_M24 < Math.fround(p) ? 1 : 0;
    }
  }
}

function fillUniform(rng: Rng, out: Float32Array): void {
  rng.fillUniform(out);
}

/** The always-available pure TypeScript kernels. */
export const jsKernels: Kernels = {
  name: 'js',
  blas: 'none (TypeScript loops)',
  threads: 1,
  gemm,
  bernoulliLayer,
  fillUniform,
};
