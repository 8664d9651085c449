/**
 * The GAN trainer: Adam per network against its closed-form first step, frozen
 * networks (a D step leaves every G tensor alone, a G step every D tensor), the
 * WGAN-GP penalty doing its job, exact replay from a mid-epoch state, the recipe's
 * validation, and a 2D ring8 run that covers the modes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';
import { ShapeError, UsageError } from '../src/core/errors.js';
import { loadToy } from '../src/data/toys.js';
import { Gan, bceWithLogits, interpolationWeights, resolveGanPreset, type GanPreset } from '../src/gan/index.js';
import { GanTrainer, criticGradientNorms, iterationsPerEpoch, type GanData } from '../src/gan/train.js';
import { generateSamples } from '../src/gan/run.js';
import { toyMetrics } from '../src/metrics/index.js';
import { backendsUnderTest } from './engine-helpers.js';

beforeAll(async () => {
  await initBackend((await backendsUnderTest())[0]!, { quiet: true });
});

/** A small BatchNorm + dropout MLP GAN on 2D points (course-mlp's layer recipe, tiny widths). */
const smallBn = (): GanPreset =>
  resolveGanPreset('course-mlp', {
    model: { dataShape: [1, 1, 2], noiseDim: 3, generator: { hidden: [8, 8], output: 'linear' }, discriminator: { hidden: [8, 8] } },
    train: { batchSize: 16 },
  });

const ring = (n: number, seed: number): GanData => {
  const t = loadToy(`toy:ring8:${n}`, new Rng(seed));
  return { n, dim: 2, x: t.samples.data };
};

const snapshot = (gan: Gan) => gan.getWeights();
function changed(a: Map<string, Float32Array>, b: Map<string, Float32Array>, prefix: string): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (k.startsWith(prefix) && !v.every((x, i) => Object.is(x, b.get(k)![i]))) out.push(k);
  return out;
}

describe('frozen networks inside the trainer', () => {
  it('a D step changes only D (G incl. its BatchNorm statistics untouched); a G step changes only G', () => {
    const p = smallBn();
    const rng = new Rng(3);
    const gan = Gan.create(p.model, rng.split(1));
    const tr = new GanTrainer(gan, p.train, rng.split(2));
    const data = ring(64, 4);
    const real = tf.tensor2d(data.x.subarray(0, 32), [16, 2]);
    const r = new Rng(9);
    const z = gan.sampleNoise(r, 16);
    const w0 = snapshot(gan);
    tr.discriminatorStep(real, z, r);
    const w1 = snapshot(gan);
    expect(changed(w1, w0, 'generator.')).toEqual([]);
    // Every trainable D tensor moved (Adam's first step moves each entry by ≈ lr).
    expect(changed(w1, w0, 'discriminator.').sort()).toEqual([...gan.discriminatorParams.keys()].sort());
    tr.generatorStep(z, r);
    const w2 = snapshot(gan);
    expect(changed(w2, w1, 'discriminator.')).toEqual([]);
    const gMoved = changed(w2, w1, 'generator.');
    // G's weights and its BatchNorm moving statistics (updated once per G step).
    for (const k of gan.generatorParams.keys()) expect(gMoved).toContain(k);
    expect(gMoved).toContain('generator.bn1.movingMean');
    tf.dispose([real, z]);
    gan.dispose();
  });
});

describe('spectral norm inside the trainer', () => {
  it('each D step advances every kernel’s power iteration once; a G step leaves it', () => {
    const p = resolveGanPreset('toy-mlp', { model: { discriminator: { spectralNorm: true } }, train: { batchSize: 16 } });
    const gan = Gan.create(p.model, new Rng(2));
    const twin = Gan.fromWeights(p.model, gan.getWeights());
    const tr = new GanTrainer(gan, p.train, new Rng(3));
    const real = tf.tensor2d(ring(16, 1).x, [16, 2]);
    const z = gan.sampleNoise(new Rng(4), 16);
    // The power iteration of the twin, one step on the same (pre-update) kernels.
    twin.spectralStep(1);
    tr.discriminatorStep(real, z, new Rng(5));
    const w = gan.getWeights();
    const t = twin.getWeights();
    for (const k of [...w.keys()].filter((k) => k.endsWith('.sn_u') || k.endsWith('.sn_v'))) expect(w.get(k)!, k).toEqual(t.get(k)!);
    const before = gan.getWeights();
    tr.generatorStep(z, new Rng(6));
    expect(changed(gan.getWeights(), before, 'discriminator.')).toEqual([]);
    tf.dispose([real, z]);
    gan.dispose();
    twin.dispose();
  });
});

describe('Adam per network', () => {
  it("a first D step moves each D weight by −lr_D·g/(|g| + ε) (Kingma & Ba 2015, Alg. 1 at t = 1)", () => {
    // Without toy-mlp's D dropout, so the clone's gradient below is the step's exactly.
    const p = resolveGanPreset('toy-mlp', { model: { discriminator: { dropout: 0 } }, train: { lrD: 3e-3, lrG: 1e-5 } });
    const gan = Gan.create(p.model, new Rng(5));
    const clone = Gan.fromWeights(p.model, gan.getWeights());
    const tr = new GanTrainer(gan, p.train, new Rng(6));
    const x = tf.tensor2d(ring(32, 1).x, [32, 2]);
    const zr = new Rng(8);
    const z = gan.sampleNoise(zr, 32);
    // The gradient of the NS discriminator loss on the clone (no dropout, no penalty).
    const fake = tf.tidy(() => clone.generate(z));
    const { grads } = tf.variableGrads(
      () => tf.add(bceWithLogits(clone.discriminate(x), 1), bceWithLogits(clone.discriminate(fake), 0)) as tf.Scalar,
      [...clone.discriminatorParams.values()],
    );
    const before = gan.getWeights();
    tr.discriminatorStep(x, z, new Rng(0));
    const after = gan.getWeights();
    for (const [name, v] of clone.discriminatorParams) {
      const g = grads[v.name]!.dataSync();
      const want = before.get(name)!.map((w, i) => w - (3e-3 * g[i]!) / (Math.abs(g[i]!) + 1e-8));
      // float32 weights of size ~0.1–1: a few ulps; entries with g ≈ 0 move by less than lr.
      expect(after.get(name)!).toBeAllClose(want, { atol: 2e-6, rtol: 1e-5 });
    }
    expect(tr.dSteps).toBe(1);
    expect(tr.step).toBe(0);
    tf.dispose([x, z, fake, ...Object.values(grads)]);
    gan.dispose();
    clone.dispose();
  });
});

describe('WGAN-GP penalty', () => {
  // With λ = 10 the critic's gradient norm on interpolates is driven to 1; with λ = 0
  // (plain Wasserstein critic, no constraint) it grows without bound on a fixed pair of
  // batches. Same seeds, same steps.
  const run = (gpWeight: number) => {
    const p = resolveGanPreset('toy-mlp', { train: { loss: 'wgan-gp', nCritic: 5, gpWeight, lrD: 1e-3 } });
    const gan = Gan.create(p.model, new Rng(11));
    const tr = new GanTrainer(gan, p.train, new Rng(12));
    const real = tf.tensor2d(ring(128, 2).x, [128, 2]);
    const zr = new Rng(13);
    const z = gan.sampleNoise(zr, 128);
    const fake = tf.tidy(() => gan.generate(z));
    const eps = interpolationWeights(new Rng(14), 128);
    const dev = () => {
      const norms = criticGradientNorms(gan, real, fake, eps);
      return { mean: norms.reduce((a, b) => a + b, 0) / norms.length, dev: norms.reduce((a, b) => a + (b - 1) ** 2, 0) / norms.length };
    };
    const start = dev();
    const r = new Rng(15);
    for (let i = 0; i < 150; i++) tr.discriminatorStep(real, z, r);
    const end = dev();
    tf.dispose([real, z, fake, eps]);
    gan.dispose();
    return { start, end };
  };
  it('moves ‖∇D(x̂)‖ towards 1 (and without it, away)', () => {
    const gp = run(10);
    const free = run(0);
    // Measured (native): mean norm 0.034 at the start; after 150 steps 1.09 with
    // E(‖∇‖ − 1)² = 0.011 (from 0.93) under λ = 10, and 1475 under λ = 0. The bounds leave
    // room for other backends' rounding, and each fails by a wide margin without the penalty.
    expect(gp.start.mean).toBeLessThan(0.6);
    expect(gp.end.dev).toBeLessThan(0.1 * gp.start.dev);
    expect(Math.abs(gp.end.mean - 1)).toBeLessThan(0.15);
    expect(free.end.mean).toBeGreaterThan(2);
  });
});

describe('replay from a mid-epoch state', () => {
  for (const [name, over] of [
    ['non-saturating, BatchNorm + dropout + EMA', { preset: smallBn(), ema: 0.9 }],
    [
      'spectral norm on D (power-iteration vectors carried)',
      { preset: resolveGanPreset('toy-mlp', { model: { discriminator: { spectralNorm: true } }, train: { batchSize: 16 } }), ema: 0 },
    ],
    ['WGAN-GP (5 critic steps)', { preset: resolveGanPreset('toy-mlp', { train: { loss: 'wgan-gp', nCritic: 5, batchSize: 16 } }), ema: 0 }],
  ] as const) {
    it(`${name}: N straight ≡ k, state round trip, N − k (bit for bit)`, () => {
      const p = over.preset;
      const data = ring(200, 7);
      const opts = { ...p.train, ema: over.ema };
      const iters = iterationsPerEpoch(data.n, p.train.batchSize, p.train.nCritic);
      const N = 2 * iters + 1;
      const k = iters + 1;
      const straight = () => {
        const gan = Gan.create(p.model, new Rng(21));
        const tr = new GanTrainer(gan, opts, new Rng(22));
        let done = 0;
        while (done < N) {
          tr.trainSlice(data, { maxBatches: N - done });
          done = tr.epoch * iters + tr.batchesDone;
        }
        return { gan, tr };
      };
      const a = straight();
      // k iterations, then a fresh trainer and fresh networks from the saved state.
      const g1 = Gan.create(p.model, new Rng(21));
      const t1 = new GanTrainer(g1, opts, new Rng(22));
      t1.trainSlice(data);
      t1.trainSlice(data, { maxBatches: k - iters });
      expect(t1.batchesDone).toBe(1);
      const st = t1.getState();
      const g2 = Gan.fromWeights(p.model, g1.getWeights());
      const t2 = new GanTrainer(g2, opts, new Rng(999));
      t2.setState(st);
      let done = k;
      while (done < N) {
        t2.trainSlice(data, { maxBatches: N - done });
        done = t2.epoch * iters + t2.batchesDone;
      }
      const wa = a.gan.getWeights();
      const wb = g2.getWeights();
      for (const [name, v] of wa) expect(Buffer.from(wb.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
      expect(t2.getState().adamM).toEqual(a.tr.getState().adamM);
      expect(t2.emaWeights()).toEqual(a.tr.emaWeights());
      expect(t2.step).toBe(a.tr.step);
      expect(t2.dSteps).toBe(N * p.train.nCritic);
      for (const g of [a.gan, g1, g2]) g.dispose();
    });
  }
});

describe('tensor hygiene', () => {
  it('an epoch leaves no tensors behind (BatchNorm + dropout, and WGAN-GP)', () => {
    for (const p of [smallBn(), resolveGanPreset('toy-mlp', { train: { loss: 'wgan-gp', nCritic: 2, batchSize: 16 } })]) {
      const gan = Gan.create(p.model, new Rng(1));
      const tr = new GanTrainer(gan, { ...p.train, ema: 0.5 }, new Rng(2));
      const data = ring(64, 3);
      tr.trainSlice(data);
      const before = tf.memory().numTensors;
      tr.trainSlice(data);
      expect(tf.memory().numTensors).toBe(before);
      gan.dispose();
    }
  });
});

describe('recipe validation', () => {
  it('rejects n_critic < 1, an unknown loss and a bad EMA decay in one line each', () => {
    const p = resolveGanPreset('toy-mlp');
    const gan = Gan.create(p.model, new Rng(1));
    expect(() => new GanTrainer(gan, { ...p.train, nCritic: 0 }, new Rng(1))).toThrow(/^train\.nCritic: need an integer ≥ 1/);
    expect(() => new GanTrainer(gan, { ...p.train, loss: 'hinge' as 'ns' }, new Rng(1))).toThrow(UsageError);
    expect(() => new GanTrainer(gan, { ...p.train, ema: 1 }, new Rng(1))).toThrow(/^--ema: need a decay/);
    const tr = new GanTrainer(gan, p.train, new Rng(1));
    expect(() => tr.trainSlice({ n: 4, dim: 3, x: new Float32Array(12) })).toThrow(ShapeError);
    gan.dispose();
  });
});

describe('ring8 (Metz et al. 2017 toy)', () => {
  // toy-mlp's defaults (D dropout 0.2, Adam lr_G 3e-4 / lr_D 1e-3, batch 256; see the
  // preset's TSDoc) on 16384 points for 70 epochs = 4480 G steps (15–21 s a seed on this
  // 2-core machine under load), sampled from an EMA of G's weights with decay 0.99 (Yazıcı
  // et al. 2019): the live G keeps hopping between ring8's modes (Metz et al. 2017, fig. 1),
  // its average does not.
  // Seed-to-seed rate (modes covered of 8, 2000 samples, VEEGAN's 3σ rule, native backend):
  // 9 of 10 seeds cover ≥ 7 modes (seeds 1–10: 8, 8, 8, 7, 8, 8, 8, 7, 3, 7; high-quality
  // fraction 0.59–0.68 on seeds 1–7 and 10); after 50 epochs 8 of 10; the live G instead of
  // the EMA: 4, 5, 4, 5 modes on seeds 1–4 after 80 epochs. Seed 1 holds 8 modes from epoch 40 on.
  // command: GENPHYS_RING8_SEEDS=1-10 npx vitest run test/gan-train.test.ts -t ring8
  // (one test per seed; the failures are the seeds below 7). The test keeps one fixed seed.
  const env = process.env.GENPHYS_RING8_SEEDS;
  const range = env?.match(/^(\d+)-(\d+)$/);
  const seeds = range ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i) : [1];
  it.each(seeds)('covers at least 7 of the 8 modes (seed %i)', (seed) => {
    const p = resolveGanPreset('toy-mlp');
    const rng = new Rng(seed);
    const toy = loadToy('toy:ring8:16384', rng.split(7));
    const gan = Gan.create(p.model, rng.split(1));
    const tr = new GanTrainer(gan, { ...p.train, ema: 0.99 }, rng.split(2));
    const data = { n: toy.samples.n, dim: 2, x: toy.samples.data };
    for (let e = 0; e < 70; e++) tr.trainSlice(data);
    const w = gan.getWeights();
    for (const [k, v] of tr.emaWeights()!) w.set(k, v);
    const avg = Gan.fromWeights(p.model, w);
    const s = generateSamples(avg, 2000, new Rng(99));
    const m = toyMetrics({ data: s, n: 2000, d: 2 }, toy.modes!);
    console.log(`ring8 seed ${seed}: ${m.modesCovered} modes, high-quality fraction ${m.highQualityFraction.toFixed(3)}`);
    expect(m.modesCovered).toBeGreaterThanOrEqual(7);
    avg.dispose();
    gan.dispose();
  }, 120000);
});
