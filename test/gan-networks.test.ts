/**
 * GAN networks and presets (src/gan/networks.ts, presets.ts):
 * - parameter counts of every preset against the Keras / PyTorch numbers (by hand below);
 * - initialisation distributions (N(0, 0.02²), Glorot-uniform, BatchNorm 1/0) within
 *   standard errors;
 * - output shapes and ranges;
 * - BatchNorm: batch statistics in training, moving averages (PyTorch's unbiased and
 *   Keras's biased variance) and their use at inference, against a float64 hand computation;
 * - dropout: seeded, reproducible masks with the right keep rate;
 * - frozen networks: a D step leaves every G tensor bitwise unchanged and a G step
 *   leaves D unchanged, with D's loss really depending on G; no tensors leak;
 * - seeded determinism; presets overridden field by field without mutation;
 * - bad inputs → one-line errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/engine/backend.js';
import { backendsUnderTest, normals } from './engine-helpers.js';
import { Rng } from '../src/core/rng.js';
import { ShapeError, UsageError } from '../src/core/errors.js';
import {
  GAN_PRESETS,
  GAN_PRESET_NAMES,
  Gan,
  KERAS_BATCHNORM,
  TORCH_BATCHNORM,
  buildGan,
  countGanParameters,
  dropoutMask,
  ganParams,
  getGanLoss,
  getGanPreset,
  resolveGanPreset,
  validateGanData,
  validateGanModel,
  validateGanTrain,
  type GanModelConfig,
} from '../src/gan/index.js';

await initBackend('cpu', { quiet: true });

function stats(a: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
    m = Math.max(m, Math.abs(a[i]!));
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), maxAbs: m };
}

describe('parameter counts', () => {
  it('keras-dcgan: G 2,330,944 incl. BN statistics (2,305,472 trainable), D 212,865, as Keras summary() prints', () => {
    const m = getGanPreset('keras-dcgan').model;
    // G: Dense 100·12544 = 1,254,400 (no bias); BN(12544) 4·12544 = 50,176;
    // ConvT 5·5·256·128 = 819,200; BN(128) 512; ConvT 5·5·128·64 = 204,800; BN(64) 256;
    // ConvT 5·5·64·1 = 1,600. Sum 2,330,944; minus moving stats 2·(12544+128+64) = 25,472.
    expect(countGanParameters(m, 'generator.')).toBe(2_330_944);
    expect(countGanParameters(m, 'generator.', { trainableOnly: true })).toBe(2_305_472);
    // D: Conv 5·5·1·64 + 64 = 1,664; Conv 5·5·64·128 + 128 = 204,928; Dense 7·7·128 + 1 = 6,273.
    expect(countGanParameters(m, 'discriminator.')).toBe(212_865);
  });

  it('course-mlp: G 1,489,936 trainable + 3,584 running stats, D 1,460,225, as PyTorch counts them', () => {
    const m = getGanPreset('course-mlp').model;
    // G: 100·256+256 = 25,856; BN 2·256; 256·512+512 = 131,584; BN 2·512;
    // 512·1024+1024 = 525,312; BN 2·1024; 1024·784+784 = 803,600 → 1,489,936;
    // running mean/var 2·(256+512+1024) = 3,584 buffers.
    expect(countGanParameters(m, 'generator.', { trainableOnly: true })).toBe(1_489_936);
    expect(countGanParameters(m, 'generator.')).toBe(1_489_936 + 3_584);
    // D: 784·1024+1024 = 803,840; 1024·512+512 = 524,800; 512·256+256 = 131,328; 256+1 = 257.
    expect(countGanParameters(m, 'discriminator.')).toBe(1_460_225);
  });

  it('toy-mlp: G 8,642, D 8,577; the built variables add up to the counts', () => {
    const m = getGanPreset('toy-mlp').model;
    // G: 2·64+64 = 192; 2·(64·64+64) = 8,320; 64·2+2 = 130. D: 192 + 8,320 + 64+1.
    expect(countGanParameters(m, 'generator.')).toBe(8_642);
    expect(countGanParameters(m, 'discriminator.')).toBe(8_577);
    const gan = buildGan(m, new Rng(1));
    const size = (vs: tf.Variable[]) => vs.reduce((a, v) => a + v.size, 0);
    const { generator, discriminator } = ganParams(gan);
    expect(size(generator)).toBe(8_642);
    expect(size(discriminator)).toBe(8_577);
    gan.dispose();
  });

  it('spectral normalisation adds buffers, not parameters', () => {
    const m = resolveGanPreset('keras-dcgan', { model: { discriminator: { spectralNorm: true } } }).model;
    expect(countGanParameters(m, 'discriminator.')).toBe(212_865);
  });
});

describe('initialisation and output shapes', () => {
  it('course-mlp: kernels N(0, 0.02²), zero biases, BN γ = 1, β = 0; G(z) in (−1, 1) of shape [B, 784], D(x) [B]', () => {
    const gan = buildGan(getGanPreset('course-mlp').model, new Rng(2));
    const w = gan.getWeights();
    const k = w.get('generator.dense3.kernel')!; // 512·1024 values
    const s = stats(k);
    // se(mean) = 0.02/√n ≈ 2.8e-5; se(std) ≈ 0.02/√(2n) ≈ 2.0e-5: tolerances ≈ 5 se.
    expect(Math.abs(s.mean)).toBeLessThan(1.4e-4);
    expect(Math.abs(s.std - 0.02)).toBeLessThan(1e-4);
    expect(stats(w.get('discriminator.dense1.bias')!).maxAbs).toBe(0);
    expect(Array.from(w.get('generator.bn2.gamma')!).every((v) => v === 1)).toBe(true);
    expect(Array.from(w.get('generator.bn2.movingVar')!).every((v) => v === 1)).toBe(true);
    expect(stats(w.get('generator.bn2.beta')!).maxAbs).toBe(0);
    const z = gan.sampleNoise(new Rng(3), 4);
    const x = gan.generate(z, { training: true, updateStats: false });
    expect(x.shape).toEqual([4, 784]);
    expect(stats(x.dataSync()).maxAbs).toBeLessThan(1);
    const d = gan.discriminate(x, { training: true, rng: new Rng(4) });
    expect(d.shape).toEqual([4]);
    tf.dispose([z, x, d]);
    gan.dispose();
  });

  it('keras-dcgan: Glorot-uniform bounds, G(z) [B, 784] in (−1, 1), D(x) [B]', () => {
    const gan = buildGan(getGanPreset('keras-dcgan').model, new Rng(5));
    const k = gan.getWeights().get('discriminator.conv2.kernel')!; // 204,800 values
    const b = Math.sqrt(6 / (25 * 64 + 25 * 128));
    const s = stats(k);
    expect(s.maxAbs).toBeLessThanOrEqual(b);
    expect(s.maxAbs).toBeGreaterThan(0.999 * b);
    // Uniform(±b): std b/√3; se(std) ≈ std·√(0.2/n)·… ≲ 1e-3·std: 5 se < 5e-3 relative.
    expect(s.std / (b / Math.sqrt(3))).toBeAllClose(1, { atol: 5e-3 });
    const z = gan.sampleNoise(new Rng(6), 2);
    const x = gan.generate(z, { training: true });
    expect(x.shape).toEqual([2, 784]);
    expect(stats(x.dataSync()).maxAbs).toBeLessThan(1);
    const d = gan.discriminate(x);
    expect(d.shape).toEqual([2]);
    expect(Number.isFinite(d.dataSync()[0]!)).toBe(true);
    tf.dispose([z, x, d]);
    gan.dispose();
  });

  it('uniform noise lies in [−1, 1) with the configured width', () => {
    const m = resolveGanPreset('toy-mlp', { model: { noise: 'uniform', noiseDim: 3 } }).model;
    const gan = buildGan(m, new Rng(1));
    const z = gan.sampleNoise(new Rng(2), 1000);
    expect(z.shape).toEqual([1000, 3]);
    const s = stats(z.dataSync());
    expect(s.maxAbs).toBeLessThanOrEqual(1);
    // U(−1, 1): std 1/√3, se(mean) = 0.577/√3000 ≈ 0.011.
    expect(Math.abs(s.mean)).toBeLessThan(0.045);
    z.dispose();
    gan.dispose();
  });
});

/** A tiny generator with one BatchNorm layer: z ∈ R³ → dense 4 → BN → LeakyReLU(0.2) → dense 2. */
function bnConfig(bn: typeof TORCH_BATCHNORM): GanModelConfig {
  return {
    dataShape: [1, 1, 2],
    noiseDim: 3,
    noise: 'normal',
    generator: { kind: 'mlp', hidden: [4], batchNorm: true, slope: 0.2, bias: true, output: 'linear' },
    discriminator: { kind: 'mlp', hidden: [3], slope: 0.2, dropout: 0, spectralNorm: false },
    init: { kind: 'torch' },
    batchNorm: bn,
  };
}

/** float64 reference of the tiny generator with given BN statistics. */
function refGenerate(w: Map<string, Float32Array>, z: number[][], mean: number[], variance: number[], eps: number): number[][] {
  const K1 = w.get('generator.dense1.kernel')!;
  const b1 = w.get('generator.dense1.bias')!;
  const g = w.get('generator.bn1.gamma')!;
  const be = w.get('generator.bn1.beta')!;
  const K2 = w.get('generator.out.kernel')!;
  const b2 = w.get('generator.out.bias')!;
  return z.map((zi) => {
    const h = [0, 1, 2, 3].map((j) => {
      let s = b1[j]!;
      for (let i = 0; i < 3; i++) s += zi[i]! * K1[i * 4 + j]!;
      const y = ((s - mean[j]!) / Math.sqrt(variance[j]! + eps)) * g[j]! + be[j]!;
      return y > 0 ? y : 0.2 * y;
    });
    return [0, 1].map((c) => {
      let s = b2[c]!;
      for (let j = 0; j < 4; j++) s += h[j]! * K2[j * 2 + c]!;
      return s;
    });
  });
}

describe('BatchNorm', async () => {
  // cpu composes tfjs ops; native runs the fused GroupNorm kernel (batchNormFused).
  const backends: BackendName[] = ['cpu', ...(await backendsUnderTest())];
  afterAll(async () => {
    await initBackend('cpu', { quiet: true });
  });
  const zs = [
    [0.3, -1.2, 0.8],
    [1.5, 0.1, -0.4],
    [-0.7, 0.9, 1.1],
    [0.2, -0.3, -1.6],
    [-1.1, 0.6, 0.05],
  ];

  it.each(
    backends.flatMap((be) =>
      [
        ['PyTorch (decay 0.9, unbiased running var)', TORCH_BATCHNORM],
        ['Keras (decay 0.99, biased moving var)', KERAS_BATCHNORM],
      ].map(([label, bn]) => [label as string, be, bn as typeof TORCH_BATCHNORM] as const),
    ),
  )('%s: batch statistics in training, moving averages updated and used at inference (%s)', async (_, be, bn) => {
    await initBackend(be, { quiet: true });
    const gan = Gan.create(bnConfig(bn), new Rng(7));
    const w = gan.getWeights();
    // Pre-BN activations a = zK + b and their per-feature batch moments, in float64.
    const K1 = w.get('generator.dense1.kernel')!;
    const b1 = w.get('generator.dense1.bias')!;
    const a = zs.map((zi) => [0, 1, 2, 3].map((j) => b1[j]! + zi.reduce((s, v, i) => s + v * K1[i * 4 + j]!, 0)));
    const n = zs.length;
    const mu = [0, 1, 2, 3].map((j) => a.reduce((s, r) => s + r[j]!, 0) / n);
    const varB = [0, 1, 2, 3].map((j) => a.reduce((s, r) => s + (r[j]! - mu[j]!) ** 2, 0) / n);
    const z = tf.tensor2d(zs);
    const y = gan.generate(z, { training: true });
    // float32 vs float64 through two small layers: ~1e-6 relative.
    expect(y.dataSync()).toBeAllClose(refGenerate(w, zs, mu, varB, bn.epsilon).flat(), { rtol: 1e-4, atol: 1e-5 });
    const corr = bn.unbiasedMovingVar ? n / (n - 1) : 1;
    const mm = mu.map((m) => (1 - bn.decay) * m);
    const mv = varB.map((v) => bn.decay + (1 - bn.decay) * corr * v);
    const w2 = gan.getWeights();
    expect(w2.get('generator.bn1.movingMean')!).toBeAllClose(mm, { rtol: 1e-5, atol: 1e-7 });
    // Tight enough to see an error of (1 − decay)·eps (the fused path's variance is 1/rstd² − eps).
    expect(w2.get('generator.bn1.movingVar')!).toBeAllClose(mv, { rtol: 1e-6, atol: 1e-7 });
    // Inference normalises with the moving averages, not the batch.
    const yi = gan.generate(z);
    expect(yi.dataSync()).toBeAllClose(refGenerate(w, zs, mm, mv, bn.epsilon).flat(), { rtol: 1e-4, atol: 1e-5 });
    // updateStats: false keeps them.
    tf.dispose(gan.generate(z, { training: true, updateStats: false }));
    expect(gan.getWeights().get('generator.bn1.movingMean')!).toEqual(w2.get('generator.bn1.movingMean')!);
    tf.dispose([z, y, yi]);
    gan.dispose();
  });

  it.each(backends.filter((b) => b !== 'cpu'))('gradients through a training-mode BatchNorm generator match cpu on %s (dense and conv BN)', async (be) => {
    const cfg: GanModelConfig = {
      dataShape: [4, 4, 1],
      noiseDim: 3,
      noise: 'normal',
      generator: { kind: 'dcgan', base: [2, 2, 5], filters: [3], strides: [1, 2], kernelSize: 3, slope: 0.3, batchNorm: true, bias: false, output: 'tanh' },
      discriminator: { kind: 'dcgan', filters: [2], kernelSize: 3, stride: 2, slope: 0.3, dropout: 0, spectralNorm: false },
      init: { kind: 'keras' },
      batchNorm: KERAS_BATCHNORM,
    };
    const run = async (name: BackendName): Promise<Float32Array[]> => {
      await initBackend(name, { quiet: true });
      const gan = Gan.create(cfg, new Rng(10));
      const z = gan.sampleNoise(new Rng(11), 6);
      const w = tf.tensor2d(normals(6 * 16, 12), [6, 16]);
      const vars = [...gan.generatorParams.values()];
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(gan.generate(z, { training: true }), w)) as tf.Scalar, vars);
      const out = [value.dataSync(), ...vars.map((v) => grads[v.name]!.dataSync()), ...[...gan.getWeights().entries()].filter(([k]) => k.includes('moving')).map(([, a]) => a)].map((a) => Float32Array.from(a));
      tf.dispose([z, w, value, ...Object.values(grads)]);
      gan.dispose();
      return out;
    };
    const want = await run('cpu');
    const got = await run(be);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(got[i]!, `output ${i}`).toBeAllClose(want[i]!, { rtol: 1e-4, atol: 1e-5 });
  });

  it('conv BatchNorm normalises per channel over batch, rows and cols (keras-dcgan moving means after one step)', async () => {
    await initBackend('cpu', { quiet: true });
    const cfg: GanModelConfig = {
      dataShape: [4, 4, 1],
      noiseDim: 2,
      noise: 'normal',
      generator: { kind: 'dcgan', base: [2, 2, 3], filters: [2], strides: [1, 2], kernelSize: 3, slope: 0.3, batchNorm: true, bias: false, output: 'tanh' },
      discriminator: { kind: 'dcgan', filters: [2], kernelSize: 3, stride: 2, slope: 0.3, dropout: 0, spectralNorm: false },
      init: { kind: 'keras' },
      batchNorm: KERAS_BATCHNORM,
    };
    const gan = Gan.create(cfg, new Rng(8));
    expect(countGanParameters(cfg, 'generator.')).toBe(2 * 12 + 4 * 12 + 3 * 3 * 3 * 2 + 4 * 2 + 3 * 3 * 2 * 1);
    const z = gan.sampleNoise(new Rng(9), 3);
    // The deconv1 output the BN sees: recompute it with the layer's own ops.
    const pre = tf.tidy(() => {
      const w = gan.params;
      let h = tf.matMul(z, w.get('generator.dense1.kernel')! as tf.Tensor2D);
      const m = tf.moments(h, [0]);
      h = tf.add(tf.mul(tf.sub(h, m.mean), tf.rsqrt(tf.add(m.variance, 1e-3))), 0);
      h = tf.leakyRelu(h, 0.3).reshape([3, 2, 2, 3]);
      return tf.conv2dTranspose(h as tf.Tensor4D, w.get('generator.deconv1.kernel')! as tf.Tensor4D, [3, 2, 2, 2], 1, 'same');
    });
    const v = pre.dataSync();
    const chMean = [0, 1].map((c) => {
      let s = 0;
      for (let i = c; i < v.length; i += 2) s += v[i]!;
      return s / (v.length / 2);
    });
    tf.dispose(gan.generate(z, { training: true }));
    expect(gan.getWeights().get('generator.bn2.movingMean')!).toBeAllClose(chMean.map((m) => 0.01 * m), { rtol: 1e-4, atol: 1e-8 });
    tf.dispose([z, pre]);
    gan.dispose();
  });
});

describe('dropout and seeded determinism', () => {
  it('masks are 0 or 1/(1 − p), keep rate 1 − p within 4 standard errors', () => {
    const m = dropoutMask(new Rng(10), [100, 100], 0.3);
    const v = m.dataSync();
    let kept = 0;
    for (const x of v) {
      if (x !== 0) {
        expect(x).toBeAllClose(1 / 0.7, { rtol: 1e-7 });
        kept++;
      }
    }
    // se = √(0.7·0.3/10⁴) ≈ 0.0046.
    expect(Math.abs(kept / 1e4 - 0.7)).toBeLessThan(4 * 0.0046);
    m.dispose();
  });

  it('same seed → identical weights, samples and dropout outputs; other seeds differ; inference ignores dropout', () => {
    const m = getGanPreset('course-mlp').model;
    const small: GanModelConfig = { ...m, generator: { ...m.generator, hidden: [16, 32] } as typeof m.generator, discriminator: { ...m.discriminator, hidden: [32, 16] } as typeof m.discriminator };
    const run = (seed: number, dropSeed: number) => {
      const gan = buildGan(small, new Rng(seed));
      const out = tf.tidy(() => {
        const x = gan.generate(gan.sampleNoise(new Rng(seed + 100), 8), { training: true });
        return [x, gan.discriminate(x, { training: true, rng: new Rng(dropSeed) }), gan.discriminate(x)];
      });
      const arrays = out.map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      const k = Array.from(gan.getWeights().get('discriminator.dense1.kernel')!);
      gan.dispose();
      return { x: arrays[0]!, dTrain: arrays[1]!, dEval: arrays[2]!, k };
    };
    const a = run(1, 50);
    const b = run(1, 50);
    expect(b).toEqual(a);
    const c = run(1, 51);
    expect(c.x).toEqual(a.x);
    expect(c.dEval).toEqual(a.dEval);
    expect(c.dTrain).not.toEqual(a.dTrain);
    const d = run(2, 50);
    expect(d.k).not.toEqual(a.k);
  });

  it('turning spectral normalisation on leaves the initial weights as they were (separate stream)', () => {
    const m = getGanPreset('toy-mlp').model;
    const a = Gan.create(m, new Rng(3));
    const b = Gan.create({ ...m, discriminator: { ...m.discriminator, spectralNorm: true } }, new Rng(3));
    const wa = a.getWeights();
    const wb = b.getWeights();
    for (const [name, v] of wa) expect(wb.get(name), name).toEqual(v);
    expect(wb.has('discriminator.dense1.sn_u')).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('fromWeights(getWeights()) rebuilds an identical model, spectral-norm vectors included', () => {
    const m = resolveGanPreset('toy-mlp', { model: { discriminator: { spectralNorm: true } } }).model;
    const a = Gan.create(m, new Rng(4));
    const b = Gan.fromWeights(m, a.getWeights());
    const x = tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]);
    expect(Array.from(b.discriminate(x).dataSync())).toEqual(Array.from(a.discriminate(x).dataSync()));
    x.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('frozen networks: each step moves only its own network', () => {
  const cfg: GanModelConfig = {
    ...bnConfig(TORCH_BATCHNORM),
    discriminator: { kind: 'mlp', hidden: [8], slope: 0.2, dropout: 0.3, spectralNorm: false },
  };
  const snapshot = (vs: tf.Variable[]) => vs.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const changed = (a: Float32Array[], b: Float32Array[]) => a.some((x, i) => x.some((v, j) => v !== b[i]![j]));

  /** Minimal Adam (Kingma & Ba 2015), one step from zero moments: θ ← θ − lr·g/(|g| + ε). */
  function adamFirstStep(vars: tf.Variable[], grads: tf.NamedTensorMap, lr: number): void {
    for (const v of vars) {
      const g = grads[v.name];
      if (!g) continue;
      tf.tidy(() => v.assign(tf.sub(v, tf.mul(tf.div(g, tf.add(tf.abs(g), 1e-8)), lr))));
    }
  }

  it('G and D lists are disjoint and cover every trainable variable', () => {
    const gan = Gan.create(cfg, new Rng(1));
    const { generator, discriminator } = ganParams(gan);
    const names = new Set([...generator, ...discriminator].map((v) => v.name));
    expect(names.size).toBe(generator.length + discriminator.length);
    const trainable = [...gan.params.values()].filter((v) => v.trainable).map((v) => v.name);
    expect([...names].sort()).toEqual(trainable.sort());
    expect(generator.every((v) => v.name.includes('/generator.'))).toBe(true);
    gan.dispose();
  });

  it('a D step leaves all of G (moving statistics included) unchanged; a G step leaves D unchanged', () => {
    const gan = Gan.create(cfg, new Rng(2));
    const loss = getGanLoss('ns', { realLabel: 0.9 });
    const { generator, discriminator } = ganParams(gan);
    const allG = [...gan.params.entries()].filter(([n]) => n.startsWith('generator.')).map(([, v]) => v);
    const rng = new Rng(3);
    const real = tf.tensor2d([1, 0.5, -0.2, 0.3, 0.8, 0.1, -1, 2], [4, 2]);
    const z = gan.sampleNoise(rng, 4);
    const dLoss = () => {
      const fake = gan.generate(z, { training: true, updateStats: false });
      return loss.discriminatorLoss(gan.discriminate(real, { training: true, rng: rng.clone() }), gan.discriminate(fake, { training: true, rng: rng.clone() }));
    };
    // D's loss does depend on G: the freezing is the variable list's doing.
    const probe = tf.variableGrads(dLoss, generator);
    expect(Object.values(probe.grads).some((g) => tf.sum(tf.abs(g)).dataSync()[0]! > 1e-6)).toBe(true);
    tf.dispose([probe.value, ...Object.values(probe.grads)]);

    const g0 = snapshot(allG);
    const d0 = snapshot(discriminator);
    const tensorsBefore = tf.memory().numTensors;
    const dStep = tf.variableGrads(dLoss, discriminator);
    adamFirstStep(discriminator, dStep.grads, 1e-3);
    tf.dispose([dStep.value, ...Object.values(dStep.grads)]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(changed(snapshot(allG), g0)).toBe(false);
    expect(changed(snapshot(discriminator), d0)).toBe(true);

    const d1 = snapshot(discriminator);
    const gBefore = snapshot(generator);
    const gStep = tf.variableGrads(() => loss.generatorLoss(gan.discriminate(gan.generate(z, { training: true }), { training: true, rng: rng.clone() })), generator);
    adamFirstStep(generator, gStep.grads, 1e-3);
    tf.dispose([gStep.value, ...Object.values(gStep.grads)]);
    expect(changed(snapshot(discriminator), d1)).toBe(false);
    expect(changed(snapshot(generator), gBefore)).toBe(true);
    tf.dispose([real, z]);
    gan.dispose();
  });
});

describe('presets and bad inputs', () => {
  const oneLine = (f: () => unknown, type: new (...a: never[]) => Error, re: RegExp) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  };

  it('every preset validates; overrides apply field by field and mutate nothing', () => {
    expect(GAN_PRESET_NAMES).toEqual(['course-mlp', 'keras-dcgan', 'toy-mlp']);
    for (const name of GAN_PRESET_NAMES) {
      validateGanModel(GAN_PRESETS[name]!.model);
      validateGanTrain(GAN_PRESETS[name]!.train);
    }
    const before = JSON.stringify(GAN_PRESETS);
    const over = { model: { discriminator: { dropout: 0, spectralNorm: true }, batchNorm: { decay: 0.8 } }, train: { loss: 'wgan-gp' as const, nCritic: 5, adamBeta2: 0.9 } };
    const overBefore = JSON.stringify(over);
    const p = resolveGanPreset('course-mlp', over);
    expect(p.train).toEqual({ ...GAN_PRESETS['course-mlp']!.train, loss: 'wgan-gp', nCritic: 5, adamBeta2: 0.9 });
    expect(p.model.discriminator).toEqual({ kind: 'mlp', hidden: [1024, 512, 256], slope: 0.2, dropout: 0, spectralNorm: true });
    expect(p.model.batchNorm).toEqual({ ...TORCH_BATCHNORM, decay: 0.8 });
    expect(p.model.generator).toEqual(GAN_PRESETS['course-mlp']!.model.generator);
    expect(JSON.stringify(GAN_PRESETS)).toBe(before);
    expect(JSON.stringify(over)).toBe(overBefore);
  });

  it('unknown preset, unknown loss, unknown field, n_critic < 1 → one-line UsageErrors', () => {
    oneLine(() => getGanPreset('stylegan'), UsageError, /^--preset: unknown GAN preset 'stylegan'; choose one of course-mlp, keras-dcgan, toy-mlp$/);
    oneLine(() => resolveGanPreset('toy-mlp', { train: { loss: 'hinge' as never } }), UsageError, /^train\.loss: unknown GAN loss 'hinge'/);
    oneLine(() => resolveGanPreset('toy-mlp', { train: { nCritic: 0 } }), UsageError, /^train\.nCritic: need an integer ≥ 1 .*got 0$/);
    oneLine(() => resolveGanPreset('toy-mlp', { train: { nCritic: 2.5 } }), UsageError, /^train\.nCritic/);
    oneLine(() => resolveGanPreset('toy-mlp', { train: { lr: 1 } as never }), UsageError, /^train\.lr: unknown setting; known: loss, realLabel/);
    oneLine(() => resolveGanPreset('toy-mlp', { model: { discriminator: { filters: [3] } as never } }), UsageError, /^model\.discriminator\.filters: unknown setting/);
    oneLine(() => resolveGanPreset('toy-mlp', { model: { generator: { kind: 'dcgan' } } }), UsageError, /^model\.generator\.kind: cannot change 'mlp' to 'dcgan'/);
    oneLine(() => resolveGanPreset('toy-mlp', { model: { discriminator: { dropout: 1 } } }), UsageError, /^model\.discriminator\.dropout: need 0 ≤ dropout < 1, got 1$/);
    oneLine(() => resolveGanPreset('keras-dcgan', { model: { dataShape: [32, 32, 3] } }), UsageError, /^model\.generator: base 7×7 times strides 1·2·2 gives 28×28, but the data are 32×32$/);
  });

  it('data that do not fit the preset → one-line ShapeErrors', () => {
    const m = getGanPreset('keras-dcgan').model;
    oneLine(() => validateGanData(m, 3072, 'cifar10-train.bin'), ShapeError, /^cifar10-train\.bin: examples have 3072 values, the GAN expects 28×28×1 = 784$/);
    oneLine(() => validateGanData(m, [32, 32, 3], 'cifar10'), ShapeError, /^cifar10: examples are 32×32×3 = 3072 values, the GAN expects 28×28×1 = 784$/);
    oneLine(() => validateGanData(m, [784, 1, 1], 'flat'), ShapeError, /expects 28×28×1/);
    expect(() => validateGanData(m, 784, 'mnist')).not.toThrow();
    expect(() => validateGanData(m, [28, 28, 1], 'mnist')).not.toThrow();
    const gan = buildGan(getGanPreset('toy-mlp').model, new Rng(1));
    const x3 = tf.zeros([2, 3]) as tf.Tensor2D;
    oneLine(() => gan.discriminate(x3), ShapeError, /^GAN\.discriminate: data have shape \[2,3\], the discriminator expects \[batch, 2\] \(1×1×2\)$/);
    oneLine(() => gan.generate(x3), ShapeError, /^GAN\.generate: noise has shape \[2,3\], the generator expects \[batch, 2\]$/);
    const course = buildGan(resolveGanPreset('course-mlp', { model: { generator: { hidden: [4] }, discriminator: { hidden: [4] } } }).model, new Rng(1));
    const z1 = tf.zeros([1, 100]) as tf.Tensor2D;
    oneLine(() => course.generate(z1, { training: true }), ShapeError, /BatchNorm in training mode needs a batch of at least 2, got 1$/);
    oneLine(() => course.discriminate(tf.zeros([2, 784]) as tf.Tensor2D, { training: true }), Error, /^GAN\.discriminate: training mode with dropout needs an rng for the masks$/);
    oneLine(() => Gan.fromWeights(getGanPreset('toy-mlp').model, new Map()), ShapeError, /^GAN weights: missing tensor 'generator\.dense1\.kernel'$/);
    tf.dispose([x3, z1]);
    gan.dispose();
    course.dispose();
  });
});
