/** Inputs shared by the dense-kernel tests (native and wasm against the TypeScript reference). */
import { Rng } from '../src/core/rng.js';

/** n uniforms on [lo, hi). */
export function uniform(n: number, rng: Rng, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng.uniform();
  return x;
}

/** Values k/2^10 with |k| ≤ 64: every product and partial sum of the kernel tests is exact in float32. */
export function dyadic(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = (rng.int(129) - 64) / 1024;
  return x;
}

/** n 0/1 values, 1 with probability p. */
export function binary(n: number, rng: Rng, p: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform() < p ? 1 : 0;
  return x;
}

/** Root mean square (0 for an empty array). */
export function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}
