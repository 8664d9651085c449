/**
 * The benchmark harness (not the speeds): statistics as the peer computes
 * them, the JSON line format, workload definitions that really train, and
 * usage errors. Runs few steps of the cheap workloads only.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { stats } from '../src/bench/run.js';
import { binaryImages, rbmCd1Trainer, WORKLOADS } from '../src/bench/workloads.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { Trainer } from '../src/ebm/train.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import { Rng } from '../src/core/rng.js';
import { captureOutput } from './cli-helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const capture = captureOutput;

describe('bench harness', () => {
  it('workload names match the peer script exactly', () => {
    expect(WORKLOADS).toEqual(['rbm-cd1-784x500-b128', 'vae-mlp-784-400-20-b128', 'vae-conv-keras-b128', 'sgemm-512', 'gan-dcgan-keras-b64', 'ddpm-unet32-b64']);
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

  it("the RBM workload is the trainer's own CD-1 step: the same update as Trainer.partialFit, of CD-1 size", () => {
    // From the same seeded state, a Trainer built here makes exactly the bench's update (so the
    // benchmark cannot drift from what `rbm train --method cd` runs), and the update is a CD-1 step
    // in size: |ΔW_ij| = lr·|Σ_b (v0 h0 − v1 h1)_ij| / B ≤ lr, since every product lies in [0, 1].
    const w = rbmCd1Trainer(jsKernels, 3);
    const [W0] = w.params!();
    w.step();
    const [W1, a1, b1] = w.params!();
    const rng = new Rng(3);
    const v0 = binaryImages(128 * 784, 0.3, rng);
    const m = new BernoulliRBM({ nVisible: 784, nHidden: 500, units: '01', initStd: 0.01 }, rng.split(1), jsKernels);
    expect(m.params.W).toEqual(W0);
    const t = new Trainer(m, { method: 'cd', k: 1, batchSize: 128, learningRate: 0.01, initVisibleBias: false }, rng.split(2));
    t.partialFit(v0);
    expect(m.params.W).toEqual(W1);
    expect(m.params.a).toEqual(a1);
    expect(m.params.b).toEqual(b1);
    // The update moved W by a CD-1-sized step: |ΔW| ≤ lr · max|v0ᵀh − v1ᵀh|/B ≤ 0.01.
    let maxDw = 0;
    for (let i = 0; i < W1!.length; i++) maxDw = Math.max(maxDw, Math.abs(W1![i]! - W0![i]!));
    expect(maxDw).toBeGreaterThan(1e-4);
    expect(maxDw).toBeLessThanOrEqual(0.01 + 1e-7);
  });
});
