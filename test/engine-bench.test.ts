/**
 * The benchmark harness (not the speeds): statistics as the peer computes
 * them, the JSON line format, workload definitions that really train, and
 * usage errors; the end-to-end epoch workloads on a tiny synthetic Fashion-MNIST, and
 * `--peer` against a fake interpreter. Runs few steps of the cheap workloads only.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { stats } from '../src/bench/run.js';
import { binaryImages, rbmCd1Trainer, WORKLOADS } from '../src/bench/workloads.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { Trainer } from '../src/ebm/train.js';
import { jsKernels } from '../src/engine/js-kernels.js';
import { Rng } from '../src/core/rng.js';
import { captureOutput } from './cli-helpers.js';
import { writeSyntheticDataset } from './fixtures/data/synth.js';

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

  it("the table's implementation column names the Adam that ran: tf.train.adam on wasm", async () => {
    // The label once said "native fused Adam" here: tfjs's Optimizer duck-types `instanceof`.
    const cap = capture();
    const code = await main(['--backend', 'wasm', 'bench', '--only', 'vae-mlp-784-400-20-b128', '--steps', '1', '--warm', '0']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const row = cap.out().split('\n').find((l) => l.startsWith('vae-mlp-784-400-20-b128'));
    expect(row).toMatch(/wasm .*tfjs layers \+ tf\.train\.adam$/);
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

describe('bench: end-to-end epochs and --peer', () => {
  // A synthetic 28×28 "Fashion-MNIST" (160 training images: two batches of the runs' 128;
  // 40 test images), so the real runs take a second, not minutes.
  const root = mkdtempSync(join(tmpdir(), 'genphys-bench-test-'));
  const data = join(root, 'fashion');
  writeSyntheticDataset(data, { nTrain: 160, nTest: 40, rows: 28, cols: 28 });
  const saved = { dir: process.env.GENPHYS_FASHION_MNIST_DIR, py: process.env.GENPHYS_PEER_PYTHON, peer: process.env.GENPHYS_TORCH_PEER, log: process.env.FAKE_PEER_LOG };
  const restoreEnv = (k: string, v: string | undefined): void => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  beforeEach(() => {
    process.env.GENPHYS_FASHION_MNIST_DIR = data;
  });
  afterEach(() => {
    restoreEnv('GENPHYS_FASHION_MNIST_DIR', saved.dir);
    restoreEnv('GENPHYS_PEER_PYTHON', saved.py);
    restoreEnv('GENPHYS_TORCH_PEER', saved.peer);
    restoreEnv('FAKE_PEER_LOG', saved.log);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /**
   * A stand-in for /usr/bin/python3: `-c` (the torch check) succeeds unless FAKE_NO_TORCH is
   * set; torch_peer.py prints a NumPy and a torch line; the RBM epoch script prints a warm-up
   * epoch faster than any timed one (so keeping it would show) and timed epochs whose times
   * depend on the thread setting, fastest at torch 2 / OpenBLAS 1 (just ahead of 1 / 2). Arguments go to FAKE_PEER_LOG.
   */
  function fakePython(): string {
    const p = join(root, 'fake-python');
    writeFileSync(
      p,
      [
        '#!/bin/sh',
        'if [ "$1" = "-c" ]; then [ -n "$FAKE_NO_TORCH" ] && exit 1; exit 0; fi',
        'echo "$* OPENBLAS=$OPENBLAS_NUM_THREADS OMP=$OMP_NUM_THREADS" >> "$FAKE_PEER_LOG"',
        's=$(basename "$1"); t=0',
        'while [ $# -gt 0 ]; do [ "$1" = "--threads" ] && t=$2; shift; done',
        'case "$s" in',
        'torch_peer.py)',
        '  echo \'{"workload": "sgemm-512", "impl": "numpy", "ms_median": 1.0, "ms_min": 0.5}\'',
        '  echo \'{"workload": "sgemm-512", "impl": "torch", "ms_median": 2.0, "ms_min": 1.5, "torch_threads": 2, "openblas_threads": 1, "version": "fake"}\' ;;',
        'rbm_pcd_epoch_torch.py)',
        '  case "$t/$OPENBLAS_NUM_THREADS" in 1/1) a=0.5 b=0.7 u=0.4 v=0.6 ;; 1/2) a=0.26 b=0.36 u=0.16 v=0.26 ;; 2/1) a=0.25 b=0.35 u=0.15 v=0.25 ;; *) a=0.3 b=0.4 u=0.2 v=0.3 ;; esac',
        '  echo \'{"params": 1}\'',
        '  echo \'{"impl": "torch", "epoch": 1, "seconds": 0.005, "seconds_e2e": 0.01, "torch": "fake"}\'',
        '  echo "{\\"impl\\": \\"torch\\", \\"epoch\\": 2, \\"seconds\\": $u, \\"seconds_e2e\\": $a, \\"torch\\": \\"fake\\"}"',
        '  echo "{\\"impl\\": \\"torch\\", \\"epoch\\": 3, \\"seconds\\": $v, \\"seconds_e2e\\": $b, \\"torch\\": \\"fake\\"}" ;;',
        '*) echo "unexpected script $s" >&2; exit 3 ;;',
        'esac',
      ].join('\n') + '\n',
    );
    chmodSync(p, 0o755);
    return p;
  }

  const benchDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('genphys-bench-') && !f.startsWith('genphys-bench-test-'));

  it('runs whole epochs of the real rbm and vae training runs and reports sane per-epoch numbers', async () => {
    const before = benchDirs();
    const cap = capture();
    const code = await main(['bench', '--only', 'rbm-pcd1-epoch-fashion', '--only', 'vae-mlp-epoch-fashion', '--only', 'vae-conv-epoch-fashion', '--steps', '2', '--warm', '1', '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const lines = cap.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(lines.map((l) => l['workload'])).toEqual(['rbm-pcd1-epoch-fashion', 'vae-mlp-epoch-fashion', 'vae-conv-epoch-fashion']);
    for (const l of lines) {
      expect(l['steps']).toBe(2);
      // 160 images in batches of 128.
      expect(l['batches']).toBe(2);
      expect(l['ms_min'] as number).toBeGreaterThan(0);
      expect(l['ms_median'] as number).toBeGreaterThanOrEqual(l['ms_min'] as number);
      // The training steps are a part of the epoch (the test pass, metrics and checkpoint come after).
      expect(l['train_ms_median'] as number).toBeGreaterThan(0);
      expect(l['train_ms_median'] as number).toBeLessThan(l['ms_median'] as number);
      expect(l['peer_ms_median']).toBeUndefined();
    }
    // The RBM trainer's step is its epoch's training time over its batches.
    expect(lines[0]!['step_ms_median']).toBe((lines[0]!['train_ms_median'] as number) / 2);
    expect(lines[1]!['step_ms_median']).toBeUndefined();
    // The temporary run directories are gone.
    expect(benchDirs()).toEqual(before);
  });

  it('skips the e2e workloads with one line when Fashion-MNIST is absent, and still runs the others', async () => {
    process.env.GENPHYS_FASHION_MNIST_DIR = join(root, 'nowhere');
    const cap = capture();
    const code = await main(['--backend', 'wasm', 'bench', '--only', 'vae-mlp-epoch-fashion', '--only', 'sgemm-512', '--steps', '1', '--warm', '0', '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const skipped = cap.err().split('\n').filter((l) => l.includes('skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/^vae-mlp-epoch-fashion +wasm +skipped: Fashion-MNIST not found .*nowhere.*dataset-fashion-mnist/);
    expect(cap.out().trimEnd().split('\n').map((l) => (JSON.parse(l) as { workload: string }).workload)).toEqual(['sgemm-512']);
  });

  it('--peer pairs each workload with its peer at the best thread setting and computes the ratios', async () => {
    process.env.GENPHYS_PEER_PYTHON = fakePython();
    process.env.GENPHYS_TORCH_PEER = join(root, 'torch_peer.py');
    const log = join(root, 'peer.log');
    process.env.FAKE_PEER_LOG = log;
    const cap = capture();
    const code = await main(['--backend', 'wasm', 'bench', '--only', 'sgemm-512', '--only', 'rbm-cd1-784x500-b128', '--only', 'rbm-pcd1-epoch-fashion', '--steps', '2', '--warm', '1', '--limit', '150', '--peer', '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const lines = cap.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    expect(lines.map((l) => l['workload'])).toEqual(['sgemm-512', 'rbm-cd1-784x500-b128', 'rbm-pcd1-epoch-fashion']);
    const [sg, micro, e2e] = lines as [Record<string, number | string>, Record<string, number | string>, Record<string, number | string>];
    // The microbenchmark is paired with the torch line (not NumPy's).
    expect(sg['peer_ms_median']).toBe(2);
    expect(sg['peer_ms_min']).toBe(1.5);
    expect(sg['peer_torch_threads']).toBe(2);
    expect(sg['peer_version']).toBe('fake');
    expect(sg['ratio']).toBe((sg['ms_median'] as number) / 2);
    // The fake torch_peer.py has no rbm-cd1 line: a peer error on that line, the genphys numbers kept.
    expect(micro['peer_error']).toMatch(/no torch result for rbm-cd1-784x500-b128/);
    expect(micro['ms_median'] as number).toBeGreaterThan(0);
    expect(micro['ratio']).toBeUndefined();
    // The epoch script: best setting torch 2 / OpenBLAS 1, warm-up epoch dropped (else min = 10 ms),
    // median = element ⌊2/2⌋ of [250, 350] ms.
    expect(e2e['peer_ms_median']).toBeCloseTo(350, 9);
    expect(e2e['peer_ms_min']).toBeCloseTo(250, 9);
    expect(e2e['peer_train_ms_median']).toBeCloseTo(250, 9);
    expect([e2e['peer_torch_threads'], e2e['peer_openblas_threads']]).toEqual([2, 1]);
    expect(e2e['ratio']).toBeCloseTo((e2e['ms_median'] as number) / 350, 12);
    expect(e2e['train_ratio']).toBeCloseTo((e2e['train_ms_median'] as number) / 250, 12);
    // 150 images: two batches; the trainer's step next to the microbench step of the same run.
    expect(e2e['batches']).toBe(2);
    expect(e2e['micro_step_ms_median']).toBe(micro['ms_median']);
    expect(e2e['step_vs_micro']).toBeCloseTo((e2e['step_ms_median'] as number) / (micro['ms_median'] as number), 12);
    // What the peers were asked: torch_peer.py once per microbenchmark with the same counts,
    // the epoch script once per thread setting for warm + timed epochs on the same data and limit.
    const calls = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(calls).toHaveLength(2 + 4);
    expect(calls[0]).toBe(`${join(root, 'torch_peer.py')} --json --only sgemm-512 --steps 2 --warm 1 OPENBLAS=${process.env.OPENBLAS_NUM_THREADS ?? ''} OMP=${process.env.OMP_NUM_THREADS ?? ''}`);
    const script = join(process.cwd(), 'bench', 'rbm_pcd_epoch_torch.py');
    expect(calls.slice(2)).toEqual([
      `${script} --json --data ${data} --epochs 3 --limit 150 --threads 1 OPENBLAS=1 OMP=1`,
      `${script} --json --data ${data} --epochs 3 --limit 150 --threads 1 OPENBLAS=2 OMP=1`,
      `${script} --json --data ${data} --epochs 3 --limit 150 --threads 2 OPENBLAS=1 OMP=2`,
      `${script} --json --data ${data} --epochs 3 --limit 150 --threads 2 OPENBLAS=2 OMP=2`,
    ]);
  });

  it('--peer prints side by side in the table', async () => {
    process.env.GENPHYS_PEER_PYTHON = fakePython();
    process.env.GENPHYS_TORCH_PEER = join(root, 'torch_peer.py');
    process.env.FAKE_PEER_LOG = join(root, 'peer2.log');
    const cap = capture();
    const code = await main(['--backend', 'wasm', 'bench', '--only', 'sgemm-512', '--steps', '2', '--warm', '0', '--peer']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const row = cap.out().split('\n').find((l) => l.startsWith('sgemm-512') && / 2\.00 /.test(l));
    expect(row).toMatch(/^sgemm-512 +wasm +\d+\.\d\d +2\.00 +\d+\.\d\d {2}torch 2 \/ OpenBLAS 1 threads$/);
  });

  it.each([
    ['a missing interpreter', () => join(root, 'no-such-python'), /--peer skipped: .*no-such-python not found \(ENOENT\)/],
    ['an interpreter without torch', () => ((process.env.FAKE_NO_TORCH = '1'), fakePython()), /--peer skipped: .*fake-python cannot import torch \(apt-get install python3-torch\)/],
  ])('--peer with %s is one line on stderr, exit 0, the genphys numbers still printed', async (_what, python, message) => {
    process.env.GENPHYS_PEER_PYTHON = python();
    process.env.FAKE_PEER_LOG = join(root, 'peer3.log');
    const cap = capture();
    let code: number;
    try {
      code = await main(['--backend', 'wasm', 'bench', '--only', 'sgemm-512', '--steps', '1', '--warm', '0', '--peer', '--json']);
    } finally {
      delete process.env.FAKE_NO_TORCH;
    }
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const errLines = cap.err().trimEnd().split('\n').filter((l) => !l.startsWith('backend:'));
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(message);
    const lines = cap.out().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]!).sort()).toEqual(['backend', 'gflops_median', 'ms_median', 'ms_min', 'steps', 'workload']);
  });
});
