/**
 * The trainers' device path (issue #17): Adam moments as tf variables updated with tfjs
 * ops, and async steps that read their losses with `await data()`. Every async step here
 * runs with `dataSync`, `arraySync` and the backend's `readSync` replaced by functions
 * that throw, so a single synchronous read anywhere in a step fails the test; the results
 * are compared with the host (CLI) path after the same steps on the same data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { withoutSyncReads } from './engine-helpers.js';
import { adamUpdate, adamUpdateTf, variableOf } from '../src/engine/adam.js';
import { VaeTrainer, type VaeData } from '../src/vae/train.js';
import { Vae, type VaeConfig } from '../src/vae/models.js';
import type { TrainConfig } from '../src/vae/presets.js';
import { Gan, resolveGanPreset } from '../src/gan/index.js';
import { GanTrainer, type GanData } from '../src/gan/train.js';
import { DEFAULT_TOY_MLP } from '../src/diffusion/toy-mlp.js';
import { createNetwork, DiffusionTrainer, DEFAULT_DIFFUSION_TRAIN, type DiffusionData, type DiffusionTrainConfig } from '../src/diffusion/train.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Largest |a − b| / s over the entries, s = max(|a|, |b|) or the given scale (0 where s is 0).
 */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, scale?: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    const s = scale ? scale[i]! : Math.max(Math.abs(a[i]!), Math.abs(b[i]!));
    if (s > 0) r = Math.max(r, Math.abs(a[i]! - b[i]!) / s);
  }
  return r;
}

/** Every tensor of `a` equals `b`'s to rtol/atol. */
function expectMapsClose(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>, atol: number, rtol: number): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, v] of a) expect(v, k).toBeAllClose(b.get(k)!, { atol, rtol });
}

const weightsOf = (params: ReadonlyMap<string, tf.Variable>) => new Map([...params].map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));

describe('the guard', () => {
  it('throws on every synchronous read and lets await data() and kernels through', async () => {
    const t = tf.tensor1d([1, 2, 3]);
    await withoutSyncReads(async () => {
      const g = tf.gather(t, [2, 0]);
      expect(Array.from(await g.data())).toEqual([3, 1]);
      g.dispose();
      expect(() => t.dataSync()).toThrow(/dataSync/);
      expect(() => t.arraySync()).toThrow(/arraySync/);
      expect(() => (tf.backend() as unknown as { readSync: (id: object) => unknown }).readSync(t.dataId)).toThrow(/readSync/);
      expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    });
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3]);
    t.dispose();
  });
});

describe('Adam with tfjs ops', () => {
  it('matches the JavaScript update over 20 steps on the same gradients to float32 rounding (max relative difference < 1e-5)', async () => {
    const n = 257;
    const rng = new Rng(17);
    const w0 = new Float32Array(n);
    rng.fillNormal(w0);
    const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const host = tf.variable(tf.tensor1d(w0));
    const dev = tf.variable(tf.tensor1d(w0));
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const mT = variableOf(tf.zeros([n]));
    const vT = variableOf(tf.zeros([n]));
    // Gradients spanning seven decades, with sign changes, as a real model's do.
    const grads = Array.from({ length: 20 }, () => {
      const g = new Float32Array(n);
      rng.fillNormal(g);
      return g.map((x, i) => x * 10 ** -(i % 7));
    });
    const before = tf.memory().numTensors;
    await withoutSyncReads(async () => {
      for (let t = 1; t <= 20; t++) {
        const gT = tf.tensor1d(grads[t - 1]!);
        adamUpdateTf(dev, gT, mT, vT, h, t);
        gT.dispose();
      }
      await Promise.resolve();
    });
    for (let t = 1; t <= 20; t++) {
      const gT = tf.tensor1d(grads[t - 1]!);
      adamUpdate(host, gT, m, v, h, t);
      gT.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const wHost = host.dataSync();
    const wDev = dev.dataSync();
    expect(maxRelDiff(wHost, wDev)).toBeLessThan(1e-5);
    // m sums terms of both signs, so where they cancel its rounding error is relative to
    // the sum of their magnitudes, |m|ₜ = β₁|m|ₜ₋₁ + (1 − β₁)|g|ₜ, not to m itself.
    const mAbs = new Float64Array(n);
    for (const g of grads) for (let i = 0; i < n; i++) mAbs[i] = h.beta1 * mAbs[i]! + (1 - h.beta1) * Math.abs(g[i]!);
    expect(maxRelDiff(m, mT.dataSync(), mAbs)).toBeLessThan(1e-5);
    expect(maxRelDiff(v, vT.dataSync())).toBeLessThan(1e-5);
    // The weights moved by ~20 lr: the comparison is not of two unchanged copies.
    expect(maxRelDiff(wHost, w0)).toBeGreaterThan(1e-3);
    tf.dispose([host, dev, mT, vT]);
  });
});

/** Binary 6×6 images: one of 4 fixed prototypes per example, 5% of pixels flipped. */
function barsData(n: number, seed: number): VaeData {
  const proto = new Rng(1234);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: 36 }, () => (proto.uniform() < 0.5 ? 1 : 0)));
  const rng = new Rng(seed);
  const x = new Float32Array(n * 36);
  for (let i = 0; i < n; i++) {
    const c = rng.int(4);
    for (let j = 0; j < 36; j++) x[i * 36 + j] = rng.uniform() < 0.05 ? 1 - protos[c]![j]! : protos[c]![j]!;
  }
  return { n, dim: 36, x };
}

const vaeCfg: VaeConfig = { inputShape: [6, 6, 1], latent: 2, arch: { kind: 'mlp', hidden: [16], activation: 'relu' }, decoder: 'bernoulli', sigma2: 1, beta: 1, init: 'torch' };
const vaeTrain: TrainConfig = { epochs: 3, batchSize: 16, lr: 1e-2, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-8, binarize: 'dynamic', earlyStopping: 0 };

describe('VAE trainer', () => {
  it('device + async: 3 epochs with no synchronous read; loss falls; losses, weights and state match the sync path', async () => {
    const data = barsData(64, 3);
    const runs = [false, true].map((device) => {
      const model = Vae.create(vaeCfg, new Rng(1));
      return { model, trainer: new VaeTrainer(model, vaeTrain, new Rng(2), { device }), losses: [] as number[], epochs: [] as number[] };
    });
    const [host, dev] = runs as [(typeof runs)[0], (typeof runs)[0]];
    for (let e = 0; e < 3; e++) host.epochs.push(host.trainer.trainEpoch(data, { onBatch: (_d, _t, l) => host.losses.push(l.loss) })!.loss);
    const state = await withoutSyncReads(async () => {
      for (let e = 0; e < 3; e++) dev.epochs.push((await dev.trainer.trainEpochAsync(data, { onBatch: (_d, _t, l) => dev.losses.push(l.loss) }))!.loss);
      // A mid-epoch async step too (the lab's unit of work).
      const x = tf.tensor2d(data.x.subarray(0, 16 * 36), [16, 36]);
      const eps = tf.zeros([16, 2]) as tf.Tensor2D;
      // …which leaks no tensor: the flat moments and every temporary are accounted for.
      const before = tf.memory().numTensors;
      await dev.trainer.trainStepAsync(x, eps);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, eps]);
      return dev.trainer.getStateAsync();
    });
    const x = tf.tensor2d(data.x.subarray(0, 16 * 36), [16, 36]);
    const eps = tf.zeros([16, 2]) as tf.Tensor2D;
    host.trainer.trainStep(x, eps);
    tf.dispose([x, eps]);
    expect(dev.losses.length).toBe(12);
    expect(dev.losses).toBeAllClose(host.losses, { rtol: 1e-4, atol: 0 });
    expect(dev.epochs[2]!).toBeLessThan(dev.epochs[0]! - 1);
    expectMapsClose(weightsOf(dev.model.params), weightsOf(host.model.params), 1e-5, 1e-4);
    const hs = host.trainer.getState();
    expect({ ...state, adamM: null, adamV: null }).toEqual({ ...hs, adamM: null, adamV: null });
    expectMapsClose(state.adamM, hs.adamM, 1e-7, 1e-3);
    expectMapsClose(state.adamV, hs.adamV, 1e-9, 1e-3);
    // A device trainer resumes from the host state (setState uploads the moments).
    dev.trainer.setState(hs);
    expectMapsClose((await dev.trainer.getStateAsync()).adamM, hs.adamM, 0, 0);
    for (const r of runs) {
      r.trainer.dispose();
      r.model.dispose();
    }
  });

  it('host + async gives exactly the sync path’s numbers (so the lab may use it on every backend)', async () => {
    const data = barsData(48, 4);
    const out: number[][] = [];
    const weights: Map<string, Float32Array>[] = [];
    for (const run of [false, true]) {
      const model = Vae.create(vaeCfg, new Rng(5));
      const tr = new VaeTrainer(model, vaeTrain, new Rng(6));
      const l: number[] = [];
      for (let e = 0; e < 2; e++) {
        const hooks = { onBatch: (_d: number, _t: number, t: { loss: number; rec: number; kl: number }) => l.push(t.loss, t.rec, t.kl) };
        if (run) await tr.trainEpochAsync(data, hooks);
        else tr.trainEpoch(data, hooks);
      }
      out.push(l);
      weights.push(weightsOf(model.params));
      model.dispose();
    }
    expect(out[1]).toEqual(out[0]);
    expectMapsClose(weights[1]!, weights[0]!, 0, 0);
  });
});

/** Points on a ring of radius 2 with a little noise. */
function ringData(n: number, seed: number): GanData {
  const rng = new Rng(seed);
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = 2 * Math.PI * rng.uniform();
    x[2 * i] = 2 * Math.cos(a) + 0.05 * rng.normal();
    x[2 * i + 1] = 2 * Math.sin(a) + 0.05 * rng.normal();
  }
  return { n, dim: 2, x };
}

describe('GAN trainer', () => {
  for (const [label, over] of [
    ['NS loss', { batchSize: 32 }],
    ['WGAN-GP, 2 critic steps', { loss: 'wgan-gp', nCritic: 2, batchSize: 32 }],
  ] as const) {
    it(`${label}, device + async: slices and single steps with no synchronous read match the sync path`, async () => {
      const p = resolveGanPreset('toy-mlp', { train: over });
      const data = ringData(256, 9);
      const runs = [false, true].map((device) => {
        const gan = Gan.create(p.model, new Rng(21));
        return { gan, trainer: new GanTrainer(gan, { ...p.train, device }, new Rng(22)), d: [] as number[], stats: [] as number[] };
      });
      const [host, dev] = runs as [(typeof runs)[0], (typeof runs)[0]];
      const real = tf.tensor2d(data.x.subarray(0, 64), [32, 2]);
      const z = host.gan.sampleNoise(new Rng(3), 32);
      const s1 = host.trainer.trainSlice(data, { onBatch: (_b, l) => host.d.push(l) })!;
      const a = host.trainer.discriminatorStep(real, z, new Rng(4));
      const g = host.trainer.generatorStep(z, new Rng(5));
      host.stats.push(s1.lossD, s1.lossG, s1.dReal, s1.dFake, a.lossD, a.dReal, a.dFake, g);
      const state = await withoutSyncReads(async () => {
        const s = (await dev.trainer.trainSliceAsync(data, { onBatch: (_b, l) => dev.d.push(l) }))!;
        const b = await dev.trainer.discriminatorStepAsync(real, z, new Rng(4));
        const h = await dev.trainer.generatorStepAsync(z, new Rng(5));
        dev.stats.push(s.lossD, s.lossG, s.dReal, s.dFake, b.lossD, b.dReal, b.dFake, h);
        return dev.trainer.getStateAsync();
      });
      expect(dev.d.length).toBe(256 / (32 * p.train.nCritic));
      expect(dev.d).toBeAllClose(host.d, { rtol: 1e-4, atol: 1e-5 });
      expect(dev.stats).toBeAllClose(host.stats, { rtol: 1e-4, atol: 1e-5 });
      expectMapsClose(weightsOf(dev.gan.params), weightsOf(host.gan.params), 1e-5, 1e-4);
      const hs = host.trainer.getState();
      expect({ ...state, adamM: null, adamV: null, partial: null }).toEqual({ ...hs, adamM: null, adamV: null, partial: null });
      expectMapsClose(state.adamM, hs.adamM, 1e-6, 1e-3);
      expectMapsClose(state.adamV, hs.adamV, 1e-9, 1e-3);
      tf.dispose([real, z]);
      for (const r of runs) {
        r.trainer.dispose();
        r.gan.dispose();
      }
    });
  }

  it('refuses a weight average on the device path (it lives in host arrays)', () => {
    const p = resolveGanPreset('toy-mlp', {});
    const gan = Gan.create(p.model, new Rng(1));
    expect(() => new GanTrainer(gan, { ...p.train, ema: 0.999, device: true }, new Rng(2))).toThrow(/device path keeps no weight average/);
    gan.dispose();
  });
});

describe('diffusion trainer', () => {
  const cfg: DiffusionTrainConfig = { ...DEFAULT_DIFFUSION_TRAIN, lr: 3e-3, batchSize: 32, emaDecay: 0.99, schedule: { kind: 'linear', T: 50 } };
  const net = { arch: 'toy-mlp' as const, toy: { ...DEFAULT_TOY_MLP, width: 16, blocks: 1, timeEmbedDim: 8 } };

  it('device + async: 4 epochs with no synchronous read; loss falls; losses, weights, moments and EMA match the sync path', async () => {
    const g = ringData(128, 5);
    const data: DiffusionData = { n: g.n, dim: 2, x: g.x };
    const runs = [false, true].map((device) => {
      const n = createNetwork(net, new Rng(1));
      return { net: n, trainer: new DiffusionTrainer(n, cfg, new Rng(2), { device }), losses: [] as number[], epochs: [] as number[] };
    });
    const [host, dev] = runs as [(typeof runs)[0], (typeof runs)[0]];
    for (let e = 0; e < 4; e++) host.epochs.push(host.trainer.trainEpoch(data, { onBatch: (_d, _t, l) => host.losses.push(l) })!);
    const [state, ema] = await withoutSyncReads(async () => {
      for (let e = 0; e < 4; e++) dev.epochs.push((await dev.trainer.trainEpochAsync(data, { onBatch: (_d, _t, l) => dev.losses.push(l) }))!);
      return [await dev.trainer.getStateAsync(), await dev.trainer.emaWeightsAsync()] as const;
    });
    expect(dev.losses.length).toBe(16);
    expect(dev.losses).toBeAllClose(host.losses, { rtol: 1e-4, atol: 0 });
    expect(dev.epochs[3]!).toBeLessThan(0.9 * dev.epochs[0]!);
    expectMapsClose(weightsOf(dev.net.params), weightsOf(host.net.params), 1e-5, 1e-4);
    const hs = host.trainer.getState();
    expect({ ...state, adamM: null, adamV: null, ema: null }).toEqual({ ...hs, adamM: null, adamV: null, ema: null });
    expect({ ...state.ema, weights: null }).toEqual({ ...hs.ema, weights: null });
    expectMapsClose(state.adamM, hs.adamM, 1e-7, 1e-3);
    expectMapsClose(state.adamV, hs.adamV, 1e-9, 1e-3);
    expectMapsClose(state.ema.weights, hs.ema.weights, 1e-5, 1e-4);
    expectMapsClose(ema, host.trainer.emaWeights(), 1e-5, 1e-4);
    // Resuming a device trainer from the host state restores moments and EMA exactly.
    dev.trainer.setState(hs);
    const back = await dev.trainer.getStateAsync();
    expectMapsClose(back.ema.weights, hs.ema.weights, 0, 0);
    expectMapsClose(back.adamV, hs.adamV, 0, 0);
    expect(back.ema.step).toBe(hs.ema.step);
    for (const r of runs) {
      r.trainer.dispose();
      r.net.dispose();
    }
  });
});
