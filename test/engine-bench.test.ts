/**
 * The benchmark harness (not the speeds): statistics as the peer computes
 * them, the JSON line format, workload definitions that really train, and
 * usage errors. Runs few steps of the cheap workloads only.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { stats } from '../src/bench/run.js';
import { binaryImages, rbmCd1Kernels, rbmCd1Tf, WORKLOADS } from '../src/bench/workloads.js';
import { initBackend } from '../src/engine/backend.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import { Rng } from '../src/core/rng.js';
import { rms } from './engine-helpers.js';
import { captureOutput } from './cli-helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const capture = captureOutput;

describe('bench harness', () => {
  it('workload names match the peer script exactly', () => {
    expect(WORKLOADS).toEqual(['rbm-cd1-784x500-b128', 'vae-mlp-784-400-20-b128', 'vae-conv-keras-b128', 'sgemm-512']);
  });

  it('median is element ⌊n/2⌋ of the sorted times (as torch_peer.py), min the smallest', () => {
    expect(stats([5, 1, 4, 2, 3])).toEqual({ median: 3, min: 1 });
    expect(stats([4, 1, 3, 2])).toEqual({ median: 3, min: 1 });
  });

  it('binary images have density p within 4 standard errors', () => {
    const n = 128 * 784;
    const a = binaryImages(n, 0.3, new Rng(1));
    const mean = a.reduce((s, v) => s + v, 0) / n;
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
    expect(Math.abs(mean - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / n));
  });

  it('--json prints one object per line with the shared keys (+ gflops_median for sgemm)', async () => {
    const cap = capture();
    const code = await main(['--backend', 'wasm', 'bench', '--only', 'sgemm-512', '--only', 'rbm-cd1-784x500-b128', '--steps', '2', '--warm', '0', '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const lines = cap.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['workload'])).toEqual(['sgemm-512', 'rbm-cd1-784x500-b128']);
    for (const l of lines) {
      expect(l['backend']).toBe('wasm');
      expect(l['steps']).toBe(2);
      expect(l['ms_min'] as number).toBeGreaterThan(0);
      expect(l['ms_median'] as number).toBeGreaterThanOrEqual(l['ms_min'] as number);
    }
    expect(Object.keys(lines[0]!).sort()).toEqual(['backend', 'gflops_median', 'ms_median', 'ms_min', 'steps', 'workload']);
    expect(Object.keys(lines[1]!).sort()).toEqual(['backend', 'ms_median', 'ms_min', 'steps', 'workload']);
    expect(cap.err()).toMatch(/backend: wasm \| BLAS: XNNPACK/);
  });

  it('an unknown workload is a usage error (exit 2)', async () => {
    const cap = capture();
    const code = await main(['bench', '--only', 'resnet']);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(cap.err().split('\n')[0]).toMatch(/--only.*'resnet'.*rbm-cd1-784x500-b128/);
  });

  it('the tfjs CD-1 step and the kernel CD-1 step make the same update from the same state', async () => {
    // Both draw uniforms from Rng(seed) in the same order (hidden layer, then visible)
    // with the same float32 formula, so samples agree except where u is within rounding
    // of p (probability ~1e-7 per draw); parameters then agree to float32 rounding.
    await initBackend('wasm', { quiet: true });
    const a = rbmCd1Tf(3);
    const b = rbmCd1Kernels(jsKernels, 3);
    const [w0] = a.params!();
    expect(b.params!()[0]).toEqual(w0);
    a.step();
    b.step();
    const pa = a.params!();
    const pb = b.params!();
    const dW = (p: Float32Array[]): Float32Array => p[0]!.map((v, i) => v - w0![i]!);
    expect(rms(dW(pa))).toBeGreaterThan(1e-5); // the step moved W
    expect(dW(pa)).toBeAllClose(dW(pb), { rtol: 1e-4, atol: 1e-4 * rms(dW(pb)) });
    expect(pa[1]!).toBeAllClose(pb[1]!, { rtol: 1e-4, atol: 1e-8 });
    expect(pa[2]!).toBeAllClose(pb[2]!, { rtol: 1e-4, atol: 1e-8 });
    a.dispose();
    b.dispose();
  });
});
