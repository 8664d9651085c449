import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { DEBIAN_FASHION_MNIST_DIR, binarizeStatic, loadImageDataset, toUnitFloat } from '../src/data/index.js';
import { BernoulliRBM, GaussianBernoulliRBM, Trainer, ais, betaSchedule, exactLogZ, exactSamples, gibbsSample, reverseAis } from '../src/ebm/index.js';

function randomRBM(nv: number, nh: number, seed: number, std: number): BernoulliRBM {
  const rng = new Rng(seed);
  const m = new BernoulliRBM({ nVisible: nv, nHidden: nh, initStd: std }, rng);
  for (const k of ['a', 'b'] as const) for (let i = 0; i < m.params[k]!.length; i++) m.params[k]![i] = 0.5 * rng.normal();
  return m;
}

describe('β schedules', () => {
  it('run from 0 to 1, non-decreasing, with the requested length', () => {
    for (const kind of ['linear', 'piecewise', 'sigmoid'] as const)
      for (const n of [1, 7, 1000]) {
        const b = betaSchedule(n, kind);
        expect(b.length).toBe(n + 1);
        expect(b[0]).toBe(0);
        expect(b[n]).toBe(1);
        for (let k = 1; k <= n; k++) expect(b[k]!).toBeGreaterThanOrEqual(b[k - 1]!);
      }
  });
});

describe('AIS', () => {
  it('is exact when W = 0 and the base rate equals the visible biases (every weight identical)', () => {
    const m = randomRBM(12, 5, 1, 0);
    const res = ais(m, new Rng(2), { betas: 50, runs: 16, baseBias: m.params.a! });
    expect(res.logZ).toBeAllClose(exactLogZ(m), { rtol: 1e-9 });
    expect(res.stdErr).toBeLessThan(1e-9);
    expect(res.ess).toBeAllClose(16, { rtol: 1e-9 });
  });

  it('W = 0 from the uniform base: unbiased within its standard error', () => {
    const m = randomRBM(12, 5, 1, 0);
    const res = ais(m, new Rng(3), { betas: 200, runs: 200 });
    expect(Math.abs(res.logZ - exactLogZ(m))).toBeLessThan(4 * res.stdErr + 1e-3);
  });

  it('forward and reverse AIS bracket the exact log Z of a small random RBM; exact samples match Gibbs', () => {
    const m = randomRBM(10, 8, 4, 1.0);
    const exact = exactLogZ(m);
    const rng = new Rng(5);
    const fwd = ais(m, rng, { betas: 2000, runs: 100 });
    // Reverse chains start from (near-)exact samples: the end of long Gibbs runs.
    const start = gibbsSample(m, rng, { chains: 100, burnIn: 500 }).samples;
    // The exact sampler agrees with long Gibbs chains on the visible means.
    const ex = exactSamples(m, 20000, rng);
    const gs = gibbsSample(m, rng, { chains: 20000, burnIn: 200 }).samples;
    for (let i = 0; i < 10; i++) {
      let a = 0;
      let b = 0;
      for (let r = 0; r < 20000; r++) [a, b] = [a + ex[r * 10 + i]! / 20000, b + gs[r * 10 + i]! / 20000];
      expect(Math.abs(a - b)).toBeLessThan(5 * Math.sqrt((2 * 0.25) / 20000));
    }
    const rev = reverseAis(m, start, rng, { betas: 2000 });
    expect(Math.abs(fwd.logZ - exact)).toBeLessThan(Math.max(0.05, 4 * fwd.stdErr));
    expect(Math.abs(rev.logZ - exact)).toBeLessThan(Math.max(0.05, 4 * rev.stdErr));
    expect(fwd.logZ).toBeLessThan(exact + 3 * fwd.stdErr);
    expect(rev.logZ).toBeGreaterThan(exact - 3 * rev.stdErr);
  });

  it('Gaussian–Bernoulli RBM from a Gaussian base model', () => {
    const rng = new Rng(6);
    const m = new GaussianBernoulliRBM({ nVisible: 4, nHidden: 6, initStd: 0.5, sigma: 0.8 }, rng);
    m.params.a!.set([0.2, -0.1, 0.3, 0]);
    const res = ais(m, new Rng(7), { betas: 1000, runs: 100, baseBias: new Float32Array(4) });
    expect(Math.abs(res.logZ - exactLogZ(m))).toBeLessThan(Math.max(0.02, 4 * res.stdErr));
  });
});

const haveFashion = existsSync(`${DEBIAN_FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`) || !!process.env.GENPHYS_FASHION_MNIST_DIR;
if (!haveFashion) console.warn(`skipping the Fashion-MNIST AIS test: no dataset at ${DEBIAN_FASHION_MNIST_DIR} (apt install dataset-fashion-mnist, or set GENPHYS_FASHION_MNIST_DIR)`);

describe('AIS on a trained 784×16 RBM (binarised Fashion-MNIST)', () => {
  it.skipIf(!haveFashion)('log Ẑ within 0.5 nats of the exact log Z, bracketed by forward and reverse AIS', async () => {
    const ds = loadImageDataset('fashion-mnist', 'train');
    const n = 6000;
    const data = binarizeStatic(toUnitFloat(ds.pixels.subarray(0, n * 784)));
    const m = new BernoulliRBM({ nVisible: 784, nHidden: 16 }, new Rng(1));
    const trainer = new Trainer(m, { method: 'pcd', learningRate: 0.05, batchSize: 100, momentum: 0.5 }, new Rng(2));
    await trainer.fit(data, { epochs: 4 });
    const exact = exactLogZ(m);
    const rng = new Rng(3);
    const base = m.baseRateBias(data);
    const fwd = ais(m, rng, { betas: 2000, runs: 64, baseBias: base });
    // Exact samples (enumerating the 2^16 hidden states) make reverse AIS a true stochastic upper bound.
    const start = exactSamples(m, 64, rng);
    const rev = reverseAis(m, start, rng, { betas: 2000, baseBias: base });
    console.log(`784×16 Fashion-MNIST RBM: exact log Z ${exact.toFixed(3)}, AIS ${fwd.logZ.toFixed(3)} ± ${fwd.stdErr.toFixed(3)}, reverse AIS ${rev.logZ.toFixed(3)} ± ${rev.stdErr.toFixed(3)}`);
    expect(Math.abs(fwd.logZ - exact)).toBeLessThan(0.5);
    expect(Math.abs(rev.logZ - exact)).toBeLessThan(0.5);
    expect(fwd.logZ).toBeLessThan(exact + 3 * fwd.stdErr + 0.02);
    expect(rev.logZ).toBeGreaterThan(exact - 3 * rev.stdErr - 0.02);
  });
});

// The 50-epoch 784×16 checkpoints of BENCHMARKS.md are no longer needed here: test/ebm-ais.test.ts trains
// its own PCD RBM and checks forward, reverse and hidden-space AIS against the exact log Z on every run.
