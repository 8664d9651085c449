import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import {
  BernoulliRBM,
  GaussianBernoulliRBM,
  Trainer,
  barsAndStripesCount,
  barsAndStripesOptimalLogLikelihood,
  barsAndStripesPatterns,
  exactLogZ,
  fillConfigurations,
  gibbsSample,
  isBarsAndStripes,
  loadModel,
  logLikelihood,
  sampleBarsAndStripes,
  saveModel,
  scheduleFactor,
  standardize,
} from '../src/ebm/index.js';

describe('bars and stripes', () => {
  it('has 2^(n+1) − 2 distinct valid patterns', () => {
    for (const n of [2, 3, 4]) {
      const p = barsAndStripesPatterns(n);
      expect(p.length).toBe(barsAndStripesCount(n) * n * n);
      const keys = new Set<string>();
      for (let i = 0; i < barsAndStripesCount(n); i++) {
        const img = p.subarray(i * n * n, (i + 1) * n * n);
        expect(isBarsAndStripes(img, n)).toBe(true);
        keys.add(img.join(''));
      }
      expect(keys.size).toBe(barsAndStripesCount(n));
    }
    expect(barsAndStripesCount(3)).toBe(14);
    expect(isBarsAndStripes([1, 0, 0, 1], 2)).toBe(false);
    const s = sampleBarsAndStripes(3, 50, new Rng(1));
    for (let i = 0; i < 50; i++) expect(isBarsAndStripes(s.subarray(i * 9, (i + 1) * 9), 3)).toBe(true);
  });

  // Exact mean log-likelihood over the 14 patterns; the optimum is −log 14 ≈ −2.639.
  for (const [method, epochs] of [
    ['pcd', 5000],
    ['pt', 5000],
  ] as const)
    it(`${method.toUpperCase()} training of a 9×16 RBM gets within 0.5 nats of −log 14 (3×3)`, async () => {
      const data = barsAndStripesPatterns(3);
      const m = new BernoulliRBM({ nVisible: 9, nHidden: 16 }, new Rng(1));
      const trainer = new Trainer(
        m,
        { method, k: method === 'pcd' ? 10 : 1, learningRate: 0.1, batchSize: 14, chains: method === 'pcd' ? 200 : 100, ptReplicas: 5, schedule: 'cosine' },
        new Rng(2),
      );
      const res = await trainer.fit(data, { epochs });
      expect(res).toEqual({ epochs, stopped: false });
      const ll = logLikelihood(m, data, exactLogZ(m));
      expect(ll).toBeLessThanOrEqual(barsAndStripesOptimalLogLikelihood(3) + 1e-9);
      expect(ll).toBeGreaterThan(barsAndStripesOptimalLogLikelihood(3) - 0.5);
      if (method === 'pt') for (const r of trainer.swapRates()) expect(r).toBeGreaterThan(0);
    });
});

describe('trainer mechanics', () => {
  it('learning-rate schedules start at 1 and end at the final factor', () => {
    for (const s of ['linear', 'exponential', 'cosine'] as const) {
      expect(scheduleFactor(s, 0, 0.01)).toBeAllClose(1);
      expect(scheduleFactor(s, 1, 0.01)).toBeAllClose(0.01);
    }
    expect(scheduleFactor('constant', 0.7, 0.01)).toBe(1);
  });

  it('partialFit moves every trainable parameter, CD and centring included; state round-trips', () => {
    const data = barsAndStripesPatterns(3);
    for (const opts of [{ method: 'cd' as const, momentum: 0.5 }, { method: 'pcd' as const, centering: true, optimizer: 'adam' as const }, { method: 'pt' as const, weightDecay: 1e-3 }]) {
      const m = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
      const before = m.clone();
      const tr = new Trainer(m, { ...opts, batchSize: 14 }, new Rng(2));
      tr.partialFit(data);
      for (const p of m.trainable) expect(m.params[p]).not.toEqual(before.params[p]);
      // Same seed, same state → same next update.
      const st = tr.getState();
      const m2 = m.clone();
      const tr2 = new Trainer(m2, { ...opts, batchSize: 14 }, new Rng(99));
      tr2.setState(structuredClone(st));
      tr.partialFit(data);
      tr2.partialFit(data);
      for (const p of m.trainable) expect(m2.params[p]).toEqual(m.params[p]);
    }
  });

  it('fit stops at the next batch when the signal aborts, and when the callback returns false', async () => {
    const data = sampleBarsAndStripes(3, 200, new Rng(3));
    const m = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const ac = new AbortController();
    ac.abort();
    expect(await new Trainer(m, { batchSize: 10 }).fit(data, { epochs: 5, signal: ac.signal })).toEqual({ epochs: 0, stopped: true });
    const seen: number[] = [];
    const res = await new Trainer(m, { batchSize: 10 }).fit(data, { epochs: 5, onEpoch: (i) => (seen.push(i.epoch), i.epoch < 2) });
    expect(res).toEqual({ epochs: 2, stopped: true });
    expect(seen).toEqual([1, 2]);
  });

  it('tail averaging: the trained model is the mean of the iterates over the last fraction of the planned updates', async () => {
    const data = sampleBarsAndStripes(3, 120, new Rng(4));
    const opts = { method: 'pcd' as const, k: 1, batchSize: 10, learningRate: 0.1, momentum: 0.5, schedule: 'cosine' as const };
    // The plain run, replayed update by update: record every iterate in the last 40 % of the
    // plan (12 batches × 5 epochs = 60 updates; an update counts when the progress at its start,
    // (epoch + batch/12)/5, is ≥ 0.6: the last two epochs).
    const ref = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const trRef = new Trainer(ref, opts, new Rng(2));
    const sums: Record<string, Float64Array> = Object.fromEntries(ref.trainable.map((p) => [p, new Float64Array(ref.params[p]!.length)]));
    let count = 0;
    const pf = trRef.partialFit.bind(trRef);
    trRef.partialFit = (b: Float32Array) => {
      const r = pf(b);
      if (trRef.progress >= 1 - 0.4) {
        count++;
        for (const p of ref.trainable) ref.params[p]!.forEach((x, i) => (sums[p]![i]! += x));
      }
      return r;
    };
    await trRef.fit(data, { epochs: 5 });
    expect(count).toBe(24);

    const avg = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const trAvg = new Trainer(avg, { ...opts, averaging: 0.4 }, new Rng(2));
    let beforeEnd: number | null = null;
    await trAvg.fit(data, { epochs: 5, onEpoch: (i) => void (i.epoch === 4 && (beforeEnd = trAvg.averagedUpdates())) });
    expect(beforeEnd).toBeGreaterThan(0);
    expect(trAvg.averagedUpdates()).toBe(0); // applied and restarted at the planned end
    for (const p of avg.trainable) {
      const mean = Array.from(sums[p]!, (s) => s / count);
      expect(Array.from(avg.params[p]!)).toBeAllClose(mean, { rtol: 1e-5, atol: 1e-6 });
      expect(avg.params[p]).not.toEqual(ref.params[p]);
    }
  });

  it('tail averaging resumes exactly from a saved state mid-window', async () => {
    const data = sampleBarsAndStripes(3, 100, new Rng(5));
    const opts = { method: 'pcd' as const, k: 1, batchSize: 10, learningRate: 0.05, averaging: 0.5 };
    const full = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    await new Trainer(full, opts, new Rng(2)).fit(data, { epochs: 6 });
    const part = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const tr = new Trainer(part, opts, new Rng(2));
    await tr.fit(data, { epochs: 4, plannedEpochs: 6 });
    expect(tr.averagedUpdates()).toBeGreaterThan(0);
    const st = structuredClone(tr.getState());
    const resumed = part.clone();
    const tr2 = new Trainer(resumed, opts, new Rng(77));
    tr2.setState(st);
    await tr2.fit(data, { epochs: 2, plannedEpochs: 6 });
    for (const p of full.trainable) expect(resumed.params[p]).toEqual(full.params[p]);
    expect(() => new Trainer(part, { averaging: 1.5 })).toThrow(/averaging must lie in \[0, 1\]/);
  });

  it('tail averaging: a plan extended on resume averages only the new window; the average survives saveModel/loadModel', async () => {
    const data = sampleBarsAndStripes(3, 100, new Rng(6));
    // Constant learning rate: the iterates do not depend on the plan, only the window does.
    const opts = { method: 'pcd' as const, k: 1, batchSize: 10, learningRate: 0.05, averaging: 0.5 };
    const full = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    await new Trainer(full, opts, new Rng(2)).fit(data, { epochs: 8 });
    // Planned for 4, stopped after 3 (inside the old window [2, 4)), saved, resumed with a plan of 8.
    const part = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const tr = new Trainer(part, opts, new Rng(2));
    await tr.fit(data, { epochs: 3, plannedEpochs: 4 });
    expect(tr.averagedUpdates()).toBe(10);
    const dir = mkdtempSync(join(tmpdir(), 'genphys-avg-'));
    try {
      saveModel(dir, part, { trainer: tr });
      const lm = loadModel(dir);
      const tr2 = lm.resumeTrainer(new Rng(0));
      expect(tr2.averagedUpdates()).toBe(10);
      await tr2.fit(data, { epochs: 5, plannedEpochs: 8 });
      for (const p of full.trainable) expect(lm.model.params[p]).toEqual(full.params[p]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tail averaging: a plan moved while inside both windows restarts the mean; the window edge is exact; updates past the plan are not averaged', async () => {
    const data = sampleBarsAndStripes(3, 100, new Rng(7)); // 10 batches per epoch
    const opts = { method: 'pcd' as const, k: 1, batchSize: 10, learningRate: 0.05, averaging: 0.5 };
    // Planned for 4 and stopped after 3 (10 updates in the window [2, 4)); resumed with a plan of 5,
    // whose window [2.5, 5) also contains epoch 3: only updates made under the new plan count.
    const m = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const tr = new Trainer(m, opts, new Rng(2));
    await tr.fit(data, { epochs: 3, plannedEpochs: 4 });
    expect(tr.averagedUpdates()).toBe(10);
    let seen = -1;
    await tr.fit(data, { epochs: 1, plannedEpochs: 5, onEpoch: () => void (seen = tr.averagedUpdates()) });
    expect(seen).toBe(10);
    // f = 0.7 over 10 epochs: the window starts exactly at progress 0.3 (1 − 0.7 rounds above 0.3).
    const m2 = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const tr2 = new Trainer(m2, { ...opts, averaging: 0.7 }, new Rng(2));
    const counts: number[] = [];
    await tr2.fit(data, { epochs: 10, onEpoch: (i) => void (i.epoch < 10 && counts.push(tr2.averagedUpdates())) });
    expect(counts).toEqual([0, 0, 0, 10, 20, 30, 40, 50, 60]);
    // Asked for 6 epochs of a 4-epoch plan: the average is applied at epoch 4 and nothing after it is averaged.
    const m3 = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const tr3 = new Trainer(m3, opts, new Rng(2));
    const after: number[] = [];
    await tr3.fit(data, { epochs: 6, plannedEpochs: 4, onEpoch: () => void after.push(tr3.averagedUpdates()) });
    expect(after).toEqual([0, 0, 10, 0, 0, 0]);
  });
});

/** Exact mean and covariance of a 2-visible Gaussian–Bernoulli RBM: a mixture of 2^nh Gaussians N(a + W·h, σ²). */
function exactMoments(m: GaussianBernoulliRBM): number[] {
  const nh = m.nHidden;
  const H = new Float64Array(2 ** nh * nh);
  fillConfigurations(0, 2 ** nh, nh, [0, 1], H);
  const G = m.freeEnergyHiddens(H);
  const lz = exactLogZ(m);
  const { W, a, logSigma2 } = m.params;
  let [m0, m1, s00, s01, s11] = [0, 0, 0, 0, 0];
  for (let c = 0; c < 2 ** nh; c++) {
    const p = Math.exp(-G[c]! - lz);
    let u0 = a![0]!;
    let u1 = a![1]!;
    for (let j = 0; j < nh; j++) {
      u0 += W![j]! * H[c * nh + j]!;
      u1 += W![nh + j]! * H[c * nh + j]!;
    }
    [m0, m1, s00, s01, s11] = [m0 + p * u0, m1 + p * u1, s00 + p * u0 * u0, s01 + p * u0 * u1, s11 + p * u1 * u1];
  }
  return [m0, m1, s00 + Math.exp(logSigma2![0]!) - m0 * m0, s01 - m0 * m1, s11 + Math.exp(logSigma2![1]!) - m1 * m1];
}

function sampleMoments(x: Float32Array): number[] {
  const n = x.length / 2;
  let [m0, m1] = [0, 0];
  for (let r = 0; r < n; r++) [m0, m1] = [m0 + x[2 * r]! / n, m1 + x[2 * r + 1]! / n];
  let [c00, c01, c11] = [0, 0, 0];
  for (let r = 0; r < n; r++) {
    const [d0, d1] = [x[2 * r]! - m0, x[2 * r + 1]! - m1];
    [c00, c01, c11] = [c00 + (d0 * d0) / n, c01 + (d0 * d1) / n, c11 + (d1 * d1) / n];
  }
  return [m0, m1, c00, c01, c11];
}

describe('Gaussian–Bernoulli RBM', () => {
  // Two correlated, well-separated components (weights 0.4 / 0.6), standardised.
  const rng = new Rng(1);
  const n = 4000;
  const raw = new Float32Array(2 * n);
  for (let r = 0; r < n; r++) {
    const [z1, z2] = [rng.normal(), rng.normal()];
    if (rng.uniform() < 0.4) raw.set([-2 + 0.5 * z1, -1 + 0.3 * z1 + 0.4 * z2], 2 * r);
    else raw.set([2 + 0.6 * z1, 1.5 - 0.3 * z1 + 0.3 * z2], 2 * r);
  }
  const data = standardize(raw, 2).data;
  const target = sampleMoments(data);

  it('learns the mixture’s mean and covariance (exact model moments and Gibbs samples)', async () => {
    const m = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 8 }, new Rng(2));
    await new Trainer(m, { chains: 1000, schedule: 'cosine' }, new Rng(3)).fit(data, { epochs: 200 });
    expect(exactMoments(m)).toBeAllClose(target, { atol: 0.1 });
    // Both components are modelled: σ shrank well below the marginal spread.
    for (const z of m.params.logSigma2!) expect(Math.exp(z / 2)).toBeLessThan(0.6);
    const s = gibbsSample(m, new Rng(4), { chains: 4000, burnIn: 1000 });
    expect(sampleMoments(s.samples)).toBeAllClose(target, { atol: 0.2 });
  });

  it('does not diverge at the default learning rate (constant schedule, default options)', async () => {
    const m = new GaussianBernoulliRBM({ nVisible: 2, nHidden: 8 }, new Rng(5));
    await new Trainer(m, {}, new Rng(6)).fit(data, { epochs: 100 });
    for (const p of Object.values(m.params)) for (const x of p) expect(Number.isFinite(x)).toBe(true);
    for (const z of m.params.logSigma2!) expect(z).toBeGreaterThanOrEqual(Math.log(1e-3) - 1e-6);
    // Bounded: with a constant rate PCD may still hop between mode weights, but nothing blows up.
    const mo = exactMoments(m);
    for (const k of [0, 1]) expect(Math.abs(mo[k]!)).toBeLessThan(1.2);
    for (const k of [2, 4]) {
      expect(mo[k]!).toBeGreaterThan(0.05);
      expect(mo[k]!).toBeLessThan(2);
    }
  });
});
