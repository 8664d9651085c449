/**
 * Loader for the native addon (native/, built by `scripts/build-native.mjs` into
 * build/Release/genphys_native.node) and the {@link Kernels} implementation on top
 * of it: OpenBLAS sgemm plus fused Gibbs half-steps whose uniforms come from the
 * caller's {@link Rng} state, advanced in C exactly as `Rng.nextU32` would.
 *
 * Threads: GEMMs run on OpenBLAS's pthreads (all cores by default, `GENPHYS_THREADS`
 * or `OPENBLAS_NUM_THREADS` override); everything else in the addon is
 * single-threaded and vectorised, so the two never compete for cores. See
 * native/README.md for the measurements behind this.
 *
 * `GENPHYS_NO_NATIVE=1` disables the addon (everything falls back to TypeScript / wasm).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';
import type { Kernels } from './kernels.js';

/** Conv geometry passed to the addon: [n, h, w, c, fh, fw, oc, sh, sw, dh, dw, padTop, padLeft, oh, ow]. */
export type ConvGeometry = readonly number[];

/** The raw addon functions. Every call validates its arguments and throws TypeError / RangeError. */
export interface NativeAddon {
  /** OpenBLAS configuration string and current thread count. */
  info(): { blas: string; threads: number; dnnl?: string; dnnlConvolutions?: number; dnnlRefused?: number };
  /** Route convolutions to oneDNN (true; the default when built with it) or im2col + sgemm; returns the previous setting. */
  useDnnl(on: boolean): boolean;
  /** Set OpenBLAS's thread count; returns the count in effect. */
  setThreads(n: number): number;
  /** Row-major C ← α·op(A)·op(B) + β·C (cblas_sgemm). */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, B: Float32Array, beta: number, C: Float32Array): void;
  /** Fused GEMM + bias + σ/tanh + draws; kind 0 Bernoulli, 1 spin. `state` is an Rng's four words, advanced in place. */
  unitLayer(kind: 0 | 1, X: Float32Array, W: Float32Array, bias: Float32Array, rows: number, nIn: number, nOut: number, transW: boolean, prob: Float32Array, sample: Float32Array | null, state: Uint32Array | null, beta: number): void;
  /** Batched matmul; batchA / batchB may be 1 (broadcast). */
  batchMatMul(A: Float32Array, B: Float32Array, C: Float32Array, batch: number, batchA: number, batchB: number, M: number, N: number, K: number, transA: boolean, transB: boolean): void;
  /** In place C ← act(C + bias); act 0 linear, 1 relu, 2 relu6, 3 elu, 4 leakyrelu(alpha), 5 sigmoid. */
  biasAct(C: Float32Array, rows: number, cols: number, bias: Float32Array | null, act: number, alpha: number): void;
  /** NHWC conv, filter [fh, fw, c, oc], im2col + sgemm. */
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: ConvGeometry): void;
  /** Gradient of conv2d with respect to its input (also conv2dTranspose). */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: ConvGeometry): void;
  /** Gradient of conv2d with respect to its filter. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: ConvGeometry): void;
  /** y = f(x) for the op codes in {@link UNARY}. */
  unary(op: number, x: Float32Array, y: Float32Array, alpha: number): void;
  /**
   * out = a ∘ b for the op codes in {@link BINARY}; a side of length 1 or a divisor of out's length broadcasts
   * (repeating with that period), or with `rep` > 1 the shorter side broadcasts over leading axes, each of its
   * elements covering `rep` consecutive outputs.
   */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, rep?: number): void;
  /** out[r] = reduce(x[r, :]) for op 0 sum, 1 max, 2 min, 3 mean. */
  reduceRows(op: number, x: Float32Array, outer: number, inner: number, out: Float32Array): void;
  /** out[c] = Σ_r x[r, c]. */
  reduceCols(x: Float32Array, outer: number, inner: number, out: Float32Array): void;
  /** Fused Adam step: m, v updated in place; out ← param − lr·(m/c1)/(√(v/c2)+ε); out may be param. */
  adam(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, lr: number, beta1: number, beta2: number, epsilon: number, c1: number, c2: number): void;
  /** Float32-grid uniforms from an Rng state, advanced in place. */
  fillUniform(state: Uint32Array, out: Float32Array): void;
  /** out[i] = a[i] > b (b of length 1) or a[i] > b[i], as 0/1 bytes. */
  greater(a: Float32Array, b: Float32Array, out: Uint8Array): void;
  /** out[i] = cond[i] ? t[i] : e[i]. */
  select(cond: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  /** GroupNorm of x [B, R, C] in G groups: y, and mean and rstd [B, G] (see compute.h). */
  groupNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, B: number, R: number, C: number, G: number, eps: number, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  /** dx, dgamma, dbeta of groupNormForward from dy, x and its mean and rstd. */
  groupNormBackward(dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array, B: number, R: number, C: number, G: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
}

/** Unary op codes of the addon. */
export const UNARY = {
  exp: 0, log: 1, sqrt: 2, square: 3, neg: 4, relu: 5, sigmoid: 6, softplus: 7, abs: 8,
  rsqrt: 9, reciprocal: 10, tanh: 11, step: 12, relu6: 13, elu: 14, leakyrelu: 15, log1p: 16, silu: 17,
} as const;

/** Binary op codes of the addon. */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, squaredDifference: 6, siluGrad: 7 } as const;

/**
 * Path of the built addon. This file is src/engine/native.ts under vitest and
 * dist/engine/native.js after `npm run build`: both two levels below the package root.
 */
export const NATIVE_ADDON_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'Release', 'genphys_native.node');

function load(): { addon: NativeAddon | null; error: string | null } {
  if (process.env.GENPHYS_NO_NATIVE === '1') return { addon: null, error: 'disabled by GENPHYS_NO_NATIVE=1' };
  if (!existsSync(NATIVE_ADDON_PATH)) return { addon: null, error: `the native addon is not built (${NATIVE_ADDON_PATH} is missing)` };
  try {
    const addon = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    const t = process.env.GENPHYS_THREADS;
    if (t !== undefined && t !== '') {
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1 || n > 1024) return { addon: null, error: `GENPHYS_THREADS must be an integer in [1, 1024], got '${t}'` };
      addon.setThreads(n);
    }
    return { addon, error: null };
  } catch (e) {
    return { addon: null, error: `the native addon failed to load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` };
  }
}

const loaded = load();

/** The raw addon, or null when it is not built, fails to load, or is disabled. */
export const nativeAddon: NativeAddon | null = loaded.addon;

/** Why {@link nativeAddon} is null (one line), or null when it loaded. */
export const nativeLoadError: string | null = loaded.error;

/** Run an addon call, turning its RangeError (a size or shape problem) into a {@link ShapeError}. */
function shaped<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) throw new ShapeError(e.message);
    throw e;
  }
}

function makeKernels(a: NativeAddon): Kernels {
  const info = a.info();
  const version = /OpenBLAS\s+([\d.]+)/.exec(info.blas)?.[1] ?? '';
  const core = /\b(Haswell|SkylakeX|Zen|Sandybridge|Cooperlake|Nehalem|Prescott|Core2|Atom|Barcelona|Bulldozer|Piledriver|Steamroller|Excavator|Nano|generic)\b/i.exec(info.blas)?.[1];
  const conv = info.dnnl ? `; convolutions: ${info.dnnl}` : '';
  const blas = `OpenBLAS ${version} (pthread${core ? `, ${core} kernels` : ''}, ${info.threads} thread${info.threads === 1 ? '' : 's'})${conv}`;
  const state = (rng: Rng | null, sample: Float32Array | null, what: string): Uint32Array | null => {
    if (!sample) return null;
    if (rng === null) throw new ShapeError(`${what} needs an Rng when sampling`);
    return rng.state;
  };
  return {
    name: 'native',
    blas,
    threads: info.threads,
    gemm(transA, transB, M, N, K, alpha, A, B, beta, C) {
      shaped(() => a.gemm(transA, transB, M, N, K, alpha, A, B, beta, C));
    },
    bernoulliLayer(X, W, bias, rows, nIn, nOut, transW, prob, sample, rng, beta = 1) {
      const st = state(rng, sample, 'bernoulliLayer');
      shaped(() => a.unitLayer(0, X, W, bias, rows, nIn, nOut, transW, prob, sample, st, beta));
    },
    fillUniform(rng, out) {
      shaped(() => a.fillUniform(rng.state, out));
    },
  };
}

/** Native {@link Kernels} (OpenBLAS + fused MCMC kernels), or null when the addon is unavailable. */
export const nativeKernels: Kernels | null = nativeAddon ? makeKernels(nativeAddon) : null;
