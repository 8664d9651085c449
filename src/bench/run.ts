/**
 * Benchmark runner: prepares each workload on a backend, runs warm-up steps,
 * then times steps with `performance.now()` (each step includes reading back
 * a scalar, as the peer's `loss.item()`), and reports median and minimum.
 */
import { performance } from 'node:perf_hooks';
import { initBackend, type BackendInfo, type BackendName } from '../engine/backend.js';
import type { Kernels } from '../engine/kernels.js';
import { jsKernels } from '../engine/js-kernels.js';
import { ddpmUnet32, ganDcganKeras, rbmCd1Trainer, sgemm512, vaeConvKeras, vaeMlp, type PreparedWorkload, type WorkloadName } from './workloads.js';

/** One benchmark result (the JSON line format shared with the peer script). */
export interface BenchResult {
  /** Workload name (see {@link WORKLOADS}). */
  readonly workload: WorkloadName;
  /** Backend it ran on. */
  readonly backend: BackendName;
  /** Median milliseconds per step (element ⌊n/2⌋ of the sorted times, as the peer). */
  readonly ms_median: number;
  /** Fastest step in milliseconds. */
  readonly ms_min: number;
  /** Number of timed steps. */
  readonly steps: number;
  /** GFLOP/s at the median time (sgemm only). */
  readonly gflops_median?: number;
}

/** Options of {@link runWorkload}. */
export interface RunOptions {
  /** Timed steps. */
  readonly steps: number;
  /** Untimed warm-up steps. */
  readonly warm: number;
  /** Seed for inputs and sampling. */
  readonly seed: number;
}

/** Median (element ⌊n/2⌋ of the sorted list, as the peer computes it) and minimum. */
export function stats(ms: readonly number[]): { median: number; min: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]! };
}

/** Time `steps` calls of `fn` after `warm` untimed calls; returns milliseconds per call. */
export function timeSteps(fn: () => void, steps: number, warm: number): number[] {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts;
}

async function nativeKernelsOrNull(): Promise<Kernels | null> {
  try {
    const mod = (await import('../engine/native.js')) as { nativeKernels?: Kernels | null };
    return mod.nativeKernels ?? null;
  } catch {
    return null;
  }
}

/**
 * Build a workload for the active backend. The RBM step is the trainer's, on the native
 * kernels for 'native' and the TypeScript kernels elsewhere.
 */
export async function prepare(workload: WorkloadName, backend: BackendName, seed: number): Promise<PreparedWorkload> {
  switch (workload) {
    case 'rbm-cd1-784x500-b128': {
      // The trainer runs on the dense kernels, not tfjs: native where built, else TypeScript.
      const k = backend === 'native' ? await nativeKernelsOrNull() : null;
      return rbmCd1Trainer(k ?? jsKernels, seed);
    }
    case 'vae-mlp-784-400-20-b128':
      return vaeMlp(seed);
    case 'vae-conv-keras-b128':
      return vaeConvKeras(seed);
    case 'sgemm-512':
      return sgemm512(seed);
    case 'gan-dcgan-keras-b64':
      return ganDcganKeras(seed);
    case 'ddpm-unet32-b64':
      return ddpmUnet32(seed);
  }
}

/** Run one workload on the already-active backend `backend`. */
export async function runWorkload(workload: WorkloadName, backend: BackendName, opts: RunOptions): Promise<BenchResult & { impl: string }> {
  const w = await prepare(workload, backend, opts.seed);
  try {
    const ts = timeSteps(() => w.step(), opts.steps, opts.warm);
    const { median, min } = stats(ts);
    const r: BenchResult & { impl: string } = { workload, backend, ms_median: median, ms_min: min, steps: opts.steps, impl: w.impl };
    return w.flops !== undefined ? { ...r, gflops_median: w.flops / 1e9 / (median / 1e3) } : r;
  } finally {
    w.dispose();
  }
}

/** Make `name` the active backend for benchmarking (quietly) and describe it. */
export function useBackend(name: BackendName | 'auto'): Promise<BackendInfo> {
  return initBackend(name, { quiet: true });
}
