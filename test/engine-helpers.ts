/**
 * Shared helpers for the engine tests: which backends this run has, running a
 * computation on a given backend, seeded inputs from our Rng.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, nativeStatus, type BackendName } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';

/**
 * The accelerated backends to test against the cpu reference: wasm always,
 * native when the addon loads (otherwise a visible skip message).
 */
export async function backendsUnderTest(): Promise<BackendName[]> {
  const st = await nativeStatus();
  if (!st.available) console.warn(`engine tests: native backend skipped (${st.reason})`);
  return st.available ? ['native', 'wasm'] : ['wasm'];
}

/** Run `fn` with `name` active and return its outputs as plain arrays (tensors freed). */
export async function onBackend(name: BackendName, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(name, { quiet: true });
  const outs = tf.tidy(fn);
  const arrays = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return arrays;
}

/** `n` standard normal draws from a seeded Rng, as float32. */
export function normals(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Root-mean-square of an array (scale for absolute tolerances). */
export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s / Math.max(1, a.length));
}
