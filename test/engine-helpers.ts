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

/**
 * Run `fn` with every synchronous read forbidden: Tensor.dataSync / arraySync throw, and
 * so does the backend's readSync when called from outside a kernel (the cpu backend's own
 * kernels read their inputs with it, which on a GPU backend happens on the device; its
 * async `read` is rerouted to the saved readSync, since it is implemented with it).
 */
export async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<T> {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const backend = tf.backend() as unknown as { readSync: (id: object) => unknown; read: (id: object) => Promise<unknown> };
  const engine = tf.engine() as unknown as { runKernelFunc: (...a: unknown[]) => unknown };
  const saved = { dataSync: proto.dataSync, arraySync: proto.arraySync, readSync: backend.readSync, read: backend.read, runKernelFunc: engine.runKernelFunc };
  const origReadSync = backend.readSync.bind(backend);
  const origRun = engine.runKernelFunc.bind(engine);
  const forbid = (what: string) => () => {
    throw new Error(`synchronous read: ${what}`);
  };
  let inKernel = 0;
  engine.runKernelFunc = (...a) => {
    inKernel++;
    try {
      return origRun(...a);
    } finally {
      inKernel--;
    }
  };
  proto.dataSync = forbid('dataSync');
  proto.arraySync = forbid('arraySync');
  backend.readSync = (id) => (inKernel > 0 ? origReadSync(id) : forbid('backend.readSync')());
  backend.read = (id) => Promise.resolve(origReadSync(id));
  try {
    return await fn();
  } finally {
    proto.dataSync = saved.dataSync;
    proto.arraySync = saved.arraySync;
    backend.readSync = saved.readSync;
    backend.read = saved.read;
    engine.runKernelFunc = saved.runKernelFunc;
  }
}
