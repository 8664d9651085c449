import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { DataFormatError, ShapeError } from '../src/core/errors.js';
import { Vae, countParameters, parameterSpecs, initialWeights, type VaeConfig } from '../src/vae/models.js';
import { PRESETS, getPreset, type TrainConfig } from '../src/vae/presets.js';
import { VaeTrainer, validateData, prepareData, type VaeData } from '../src/vae/train.js';
import { importanceWeightedBound } from '../src/vae/evaluate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Synthetic binary 6×6 images: one of 4 fixed random prototypes per example, each
 * pixel flipped with probability 0.05 (entropy ln 4 + 36·H(0.05) ≈ 8.5 nats).
 */
function barsData(n: number, seed: number): VaeData {
  const proto = new Rng(1234);
  const protos = Array.from({ length: 4 }, () => Array.from({ length: 36 }, () => (proto.uniform() < 0.5 ? 1 : 0)));
  const rng = new Rng(seed);
  const x = new Float32Array(n * 36);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(4);
    labels[i] = c;
    for (let j = 0; j < 36; j++) x[i * 36 + j] = rng.uniform() < 0.05 ? 1 - protos[c]![j]! : protos[c]![j]!;
  }
  return { n, dim: 36, x, labels };
}

const tinyCfg: VaeConfig = {
  inputShape: [6, 6, 1],
  latent: 2,
  arch: { kind: 'mlp', hidden: [16], activation: 'relu' },
  decoder: 'bernoulli',
  sigma2: 1,
  beta: 1,
  init: 'torch',
};
const tinyTrain: TrainConfig = { epochs: 2, batchSize: 32, lr: 1e-2, adamBeta1: 0.9, adamBeta2: 0.999, adamEps: 1e-8, binarize: 'none', earlyStopping: 0 };

describe('presets', () => {
  it('keras-conv has the Keras example parameter counts: 69,076 encoder + 65,089 decoder', () => {
    const cfg = PRESETS['keras-conv']!.model;
    expect(countParameters(cfg, 'encoder.')).toBe(69_076);
    expect(countParameters(cfg, 'decoder.')).toBe(65_089);
  });

  it('torch-mlp has the PyTorch example parameter count (784-400-20: 330,040 + 322,784)', () => {
    const cfg = PRESETS['torch-mlp']!.model;
    expect(countParameters(cfg, 'encoder.')).toBe(784 * 400 + 400 + 2 * (400 * 20 + 20));
    expect(countParameters(cfg, 'decoder.')).toBe(20 * 400 + 400 + 400 * 784 + 784);
  });

  it('keras-conv maps [B, 784] images to a 2D posterior and [B, 784] logits', () => {
    const m = Vae.create(PRESETS['keras-conv']!.model, new Rng(1));
    const shapes = tf.tidy(() => {
      const q = m.encode(tf.zeros([3, 784]) as tf.Tensor2D);
      const out = m.decode(q.mean);
      return [q.mean.shape, q.logVar.shape, out.shape];
    });
    expect(shapes).toEqual([
      [3, 2],
      [3, 2],
      [3, 784],
    ]);
    m.dispose();
  });

  it('initialisation follows the framework defaults (bounds, zero Keras biases, variance of U(±b) within 4 SE)', () => {
    const torch = initialWeights(PRESETS['torch-mlp']!.model, new Rng(2));
    const w = torch.get('encoder.dense1.kernel')!;
    const b = 1 / Math.sqrt(784);
    let s2 = 0;
    let mx = 0;
    for (const v of w) {
      s2 += v * v;
      mx = Math.max(mx, Math.abs(v));
    }
    expect(mx).toBeLessThanOrEqual(b);
    // E w² = b²/3, Var w² = b⁴(1/5 − 1/9).
    expect(Math.abs(s2 / w.length - (b * b) / 3)).toBeLessThan(4 * Math.sqrt((b ** 4 * (1 / 5 - 1 / 9)) / w.length));
    const keras = initialWeights(PRESETS['keras-conv']!.model, new Rng(2));
    expect(keras.get('encoder.conv1.bias')!.every((v) => v === 0)).toBe(true);
    const lim = Math.sqrt(6 / (9 * 32 + 9 * 64));
    expect(Math.max(...keras.get('encoder.conv2.kernel')!.map(Math.abs))).toBeLessThanOrEqual(lim);
    expect(parameterSpecs(PRESETS['keras-conv']!.model).map((s) => s.name)).toContain('decoder.deconv2.kernel');
  });

  it('unknown preset is a one-line usage error', () => {
    expect(() => getPreset('nope')).toThrow(/--preset: unknown preset 'nope'/);
  });
});

describe('bad input', () => {
  it('wrong image size for a preset → ShapeError naming the data', () => {
    const cfg = PRESETS['torch-mlp']!.model;
    expect(() => validateData(barsData(4, 1), cfg, 'ising-L6')).toThrow(ShapeError);
    expect(() => validateData(barsData(4, 1), cfg, 'ising-L6')).toThrow(/ising-L6: images have 36 values, the model expects 28×28×1 = 784/);
  });

  it('NaN in data → DataFormatError with the example and pixel', () => {
    const d = barsData(4, 1);
    const x = Float32Array.from(d.x);
    x[2 * 36 + 5] = NaN;
    expect(() => validateData({ ...d, x }, tinyCfg, 'train.bin')).toThrow(DataFormatError);
    expect(() => validateData({ ...d, x }, tinyCfg, 'train.bin')).toThrow(/train.bin: NaN in example 2, pixel 5/);
  });

  it('conv net on a size not divisible by 2^layers → ShapeError', () => {
    expect(() => parameterSpecs({ ...PRESETS['keras-conv']!.model, inputShape: [30, 30, 1] })).toThrow(/divisible by 4, got 30×30/);
  });
});

describe('training', () => {
  it('a training step leaves the tensor count unchanged and moves every weight', () => {
    const m = Vae.create(tinyCfg, new Rng(4));
    const tr = new VaeTrainer(m, tinyTrain, new Rng(5));
    const before = m.getWeights();
    const x = tf.tensor2d(barsData(8, 2).x, [8, 36]);
    const eps = tf.randomNormal([8, 2], 0, 1, 'float32', 1) as tf.Tensor2D;
    const n0 = tf.memory().numTensors;
    tr.trainStep(x, eps);
    expect(tf.memory().numTensors).toBe(n0);
    tr.trainStep(x, eps);
    expect(tf.memory().numTensors).toBe(n0);
    const after = m.getWeights();
    for (const [name, w] of before) expect(after.get(name)!.some((v, i) => v !== w[i]), name).toBe(true);
    tf.dispose([x, eps]);
    tr.dispose();
    m.dispose();
  });

  it('the fused Bernoulli batch terms equal the means of the per-example ELBO terms', () => {
    const m = Vae.create(tinyCfg, new Rng(4));
    const x = tf.tensor2d(barsData(16, 2).x, [16, 36]);
    const eps = tf.randomNormal([16, 2], 0, 1, 'float32', 3) as tf.Tensor2D;
    const [a, b] = tf.tidy(() => {
      const t = m.meanTerms(x, eps);
      const e = m.elboTerms(x, eps);
      return [
        [t.rec.dataSync()[0]!, t.kl.dataSync()[0]!],
        [tf.mean(e.rec).dataSync()[0]!, tf.mean(e.kl).dataSync()[0]!],
      ];
    });
    expect(a!).toBeAllClose(b!, { rtol: 1e-5 });
    tf.dispose([x, eps]);
    m.dispose();
  });

  it('the loss goes down, and rec + β·kl = loss', () => {
    const data = barsData(256, 3);
    const m = Vae.create(tinyCfg, new Rng(4));
    const tr = new VaeTrainer(m, { ...tinyTrain, epochs: 5 }, new Rng(5));
    const first = tr.evaluate(data);
    let last = first;
    for (let e = 0; e < 5; e++) {
      const t = tr.trainEpoch(data)!;
      expect(t.loss).toBeAllClose(t.rec + t.kl, { rtol: 1e-6 });
      last = tr.evaluate(data);
    }
    // 36 fair binary pixels at init cost ≈ 36 ln 2 ≈ 25 nats; the data's entropy is ≈ 8.5 nats.
    expect(first.loss).toBeGreaterThan(20);
    expect(last.loss).toBeLessThan(0.7 * first.loss);
    tr.dispose();
    m.dispose();
  });

  it('β ≠ 1 (β-VAE, Higgins et al. 2017): reported loss = rec + β·kl, and the step follows ∇(rec + β·kl)', () => {
    const beta = 2.5;
    const cfg = { ...tinyCfg, beta };
    const data = barsData(64, 3);
    const m = Vae.create(cfg, new Rng(4));
    // adamEps = 1 makes Adam's first step −lr·g/(|g| + 1) (m̂ = g, √v̂ = |g|), which depends on the size of g and
    // not only on its sign, so a trainer that dropped or misapplied β would land elsewhere.
    const train = { ...tinyTrain, adamEps: 1, lr: 0.05 };
    const tr = new VaeTrainer(m, train, new Rng(5));
    const x = tf.tensor2d(data.x.subarray(0, 16 * 36), [16, 36]);
    const eps = tf.randomNormal([16, 2], 0, 1, 'float32', 7) as tf.Tensor2D;
    const vars = [...m.params.values()];
    const gradsAt = (b: number): Map<string, Float32Array> => {
      const { value, grads } = tf.variableGrads(() => {
        const t = m.meanTerms(x, eps);
        return t.rec.add(t.kl.mul(b)) as tf.Scalar;
      }, vars);
      const out = new Map([...m.params].map(([name, p]) => [name, Float32Array.from(grads[p.name]!.dataSync() as Float32Array)]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const g = gradsAt(beta);
    const g1 = gradsAt(1);
    const before = m.getWeights();
    const t = tr.trainStep(x, eps);
    expect(t.loss).toBeAllClose(t.rec + beta * t.kl, { rtol: 1e-6 });
    expect(t.kl).toBeGreaterThan(0.01); // the β term is not negligible
    const after = m.getWeights();
    let differs = 0;
    for (const [name, w0] of before) {
      const gv = g.get(name)!;
      const expected = Float32Array.from(w0, (w, i) => w - (train.lr * gv[i]!) / (Math.abs(gv[i]!) + 1));
      expect(Array.from(after.get(name)!), name).toBeAllClose(Array.from(expected), { rtol: 1e-5, atol: 1e-7 });
      const gb = g1.get(name)!;
      for (let i = 0; i < w0.length; i++) if (Math.abs(gb[i]! - gv[i]!) > 1e-4 * (Math.abs(gv[i]!) + 1e-3)) differs++;
    }
    // The check has power: β changes the gradient of most encoder weights.
    expect(differs).toBeGreaterThan(10);
    tf.dispose([x, eps]);
    // Epoch means and evaluation weigh the KL term by β too.
    const e = tr.trainEpoch(data)!;
    expect(e.loss).toBeAllClose(e.rec + beta * e.kl, { rtol: 1e-6 });
    const ev = tr.evaluate(data);
    expect(ev.loss).toBeAllClose(ev.rec + beta * ev.kl, { rtol: 1e-9 });
    expect(Math.abs(ev.loss - (ev.rec + ev.kl))).toBeGreaterThan(0.01);
    tr.dispose();
    m.dispose();
  });

  it('resume continues identically: 2 epochs straight = 1 epoch + restore + 1, also from mid-epoch', () => {
    const data = barsData(200, 6);
    const cfg = { ...tinyTrain, binarize: 'dynamic' as const };
    const run = (stops: 'none' | 'epoch' | 'mid') => {
      let m = Vae.create(tinyCfg, new Rng(9));
      let tr = new VaeTrainer(m, cfg, new Rng(10));
      let calls = 0;
      const interrupted = tr.trainEpoch(data, { shouldStop: () => stops === 'mid' && ++calls === 3 });
      if (stops !== 'none') {
        // Round-trip through plain copies, as a checkpoint would.
        const w = m.getWeights();
        const st = tr.getState();
        tr.dispose();
        m.dispose();
        m = Vae.fromWeights(tinyCfg, w);
        tr = new VaeTrainer(m, cfg, new Rng(999));
        tr.setState({ ...st, rng: JSON.parse(JSON.stringify(st.rng)) });
        if (interrupted === null) tr.trainEpoch(data);
      }
      tr.trainEpoch(data);
      const out = { w: m.getWeights(), step: tr.step, epoch: tr.epoch };
      tr.dispose();
      m.dispose();
      return out;
    };
    const a = run('none');
    const b = run('epoch');
    const c = run('mid');
    expect(b.step).toBe(a.step);
    expect(c.step).toBe(a.step);
    expect(c.epoch).toBe(2);
    for (const [name, w] of a.w) {
      expect(Array.from(b.w.get(name)!), name).toEqual(Array.from(w));
      expect(Array.from(c.w.get(name)!), name).toEqual(Array.from(w));
    }
  });

  it('early stopping fires after `earlyStopping` epochs without improvement', () => {
    const m = Vae.create(tinyCfg, new Rng(1));
    const tr = new VaeTrainer(m, { ...tinyTrain, earlyStopping: 2 }, new Rng(1));
    expect(tr.recordValidation(10)).toEqual({ improved: true, stop: false });
    expect(tr.recordValidation(9)).toEqual({ improved: true, stop: false });
    expect(tr.recordValidation(9.5)).toEqual({ improved: false, stop: false });
    expect(tr.recordValidation(9.1)).toEqual({ improved: false, stop: true });
    tr.dispose();
    m.dispose();
  });

  it('static binarisation thresholds once at ½ and does not mutate the input', () => {
    const d: VaeData = { n: 1, dim: 4, x: new Float32Array([0, 0.3, 0.7, 1]) };
    const s = prepareData(d, 'static');
    expect(Array.from(d.x)).toEqual([0, Float32Array.of(0.3)[0], Float32Array.of(0.7)[0], 1]);
    expect(Array.from(s.x)).toEqual([0, 0, 1, 1]);
    expect(prepareData(d, 'dynamic')).toBe(d);
  });
});

describe('IWAE bound (Burda et al. 2015)', () => {
  it('for a trained model: ELBO ≤ IWAE-k, and IWAE-k non-decreasing in k on average (k = 1, 10, 100)', () => {
    const data = barsData(512, 7);
    const test = barsData(64, 8);
    const m = Vae.create(tinyCfg, new Rng(4));
    const tr = new VaeTrainer(m, { ...tinyTrain, batchSize: 64 }, new Rng(5));
    for (let e = 0; e < 4; e++) tr.trainEpoch(data);
    const r1 = importanceWeightedBound(m, test, 1, new Rng(20));
    const r10 = importanceWeightedBound(m, test, 10, new Rng(21));
    const r100 = importanceWeightedBound(m, test, 100, new Rng(22), { maxRows: 640 });
    // Same samples: log-mean-exp ≥ mean (Jensen), exactly.
    for (const r of [r1, r10, r100]) expect(r.elbo).toBeLessThanOrEqual(r.iwae + 1e-9);
    expect(r1.iwae).toBeAllClose(r1.elbo, { rtol: 1e-9 });
    // Means over 64 examples of independent estimates: require the gaps to exceed
    // 3 standard errors of the paired per-example differences.
    const gap = (a: Float64Array, b: Float64Array) => {
      const d = Array.from(a, (v, i) => v - b[i]!);
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1));
      return { mean, se: sd / Math.sqrt(d.length) };
    };
    const g1 = gap(r10.perExample, r1.perExample);
    const g2 = gap(r100.perExample, r10.perExample);
    expect(g1.mean).toBeGreaterThan(0);
    expect(g2.mean).toBeGreaterThan(0);
    expect(g1.mean).toBeGreaterThan(-3 * g1.se);
    expect(g2.mean).toBeGreaterThan(-3 * g2.se);
    // A bound on a probability mass of binary data: log p(x) ≤ 0.
    expect(r100.iwae).toBeLessThan(0);
    // The chunked computation equals the one-shot one for the same noise stream.
    const a = importanceWeightedBound(m, test, 30, new Rng(3), { maxRows: 30 });
    const b = importanceWeightedBound(m, test, 30, new Rng(3), { maxRows: 30 * 64 });
    expect(Array.from(a.perExample)).toBeAllClose(Array.from(b.perExample), { rtol: 1e-5 });
    tr.dispose();
    m.dispose();
  });
});

/**
 * log p(x) = log ∫ p(x|z) N(z; 0, I) dz for a 2-D latent by the midpoint rule on a G×G grid over
 * [−R, R]², with the Bernoulli log-likelihood Σ x·l − softplus(l) of the decoder's logits and
 * the prior written out here in float64 (independent of the model's loss and IWAE code).
 */
function quadratureLogPx(m: Vae, data: VaeData, G: number, R: number): Float64Array {
  const h = (2 * R) / G;
  const P = G * G;
  const z = new Float32Array(P * 2);
  for (let a = 0; a < G; a++)
    for (let b = 0; b < G; b++) {
      z[2 * (a * G + b)] = -R + (a + 0.5) * h;
      z[2 * (a * G + b) + 1] = -R + (b + 0.5) * h;
    }
  const logits = tf.tidy(() => m.decode(tf.tensor2d(z, [P, 2])).dataSync() as Float32Array);
  const D = data.dim;
  // Per grid point: log N(z; 0, I) + log h² − Σ_j softplus(l_j); the data enter through Σ_j x_j l_j.
  const base = new Float64Array(P);
  for (let g = 0; g < P; g++) {
    const z0 = z[2 * g]!, z1 = z[2 * g + 1]!;
    let s = -0.5 * (z0 * z0 + z1 * z1) - Math.log(2 * Math.PI) + 2 * Math.log(h);
    for (let j = 0; j < D; j++) {
      const l = logits[g * D + j]!;
      s -= l > 0 ? l + Math.log1p(Math.exp(-l)) : Math.log1p(Math.exp(l));
    }
    base[g] = s;
  }
  const out = new Float64Array(data.n);
  const lw = new Float64Array(P);
  for (let n = 0; n < data.n; n++) {
    let mx = -Infinity;
    for (let g = 0; g < P; g++) {
      let s = base[g]!;
      for (let j = 0; j < D; j++) s += data.x[n * D + j]! * logits[g * D + j]!;
      lw[g] = s;
      mx = Math.max(mx, s);
    }
    let acc = 0;
    for (let g = 0; g < P; g++) acc += Math.exp(lw[g]! - mx);
    out[n] = mx + Math.log(acc);
  }
  return out;
}

describe('IWAE against log p(x) by quadrature (2-D latent)', () => {
  it('IWAE-k tends to the quadrature log p(x): the ELBO gap is closed to within the standard error at k = 4000', () => {
    const m = Vae.create(tinyCfg, new Rng(4));
    const tr = new VaeTrainer(m, { ...tinyTrain, batchSize: 64 }, new Rng(5));
    const data = barsData(512, 7);
    for (let e = 0; e < 4; e++) tr.trainEpoch(data);
    const test = barsData(24, 8);
    // The posteriors' standard deviations are 0.5–0.8 (measured) and the integrand is smooth, so the
    // midpoint rule with h = 14/120 is converged far below the tolerances: two grids agree to 1e−4.
    const ref = quadratureLogPx(m, test, 120, 7);
    expect(Array.from(quadratureLogPx(m, test, 170, 7))).toBeAllClose(Array.from(ref), { atol: 1e-4 });
    const stats = (r: { perExample: Float64Array }) => {
      const d = Array.from(r.perExample, (v, i) => v - ref[i]!);
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1));
      return { mean, se: sd / Math.sqrt(d.length) };
    };
    const r10 = importanceWeightedBound(m, test, 10, new Rng(31));
    const r4k = importanceWeightedBound(m, test, 4000, new Rng(32));
    const meanRef = ref.reduce((s, v) => s + v, 0) / ref.length;
    // The ELBO (mean log-weight over 24 × 4000 samples, SE ≈ 0.003) sits well below log p(x):
    // measured gap 0.33 nats.
    const elboGap = r4k.elbo - meanRef;
    expect(elboGap).toBeLessThan(-0.15);
    // IWAE-k: the paired differences L_k(x) − log p(x) over 24 examples, mean within 4 SE of 0
    // (measured −0.006 ± 0.005 at k = 4000; the O(1/k) bias, Var(w/p)/2k ≈ 1e−4, is far smaller).
    const s4k = stats(r4k);
    expect(Math.abs(s4k.mean)).toBeLessThan(4 * s4k.se);
    expect(s4k.se).toBeLessThan(0.02);
    // … and it has closed more than 90 % of the ELBO's gap, more than IWAE-10 did (Jensen: ≤ 0 within noise).
    expect(Math.abs(s4k.mean)).toBeLessThan(0.1 * Math.abs(elboGap));
    const s10 = stats(r10);
    expect(s10.mean).toBeLessThan(4 * s10.se);
    expect(s10.mean).toBeGreaterThan(elboGap - 4 * s10.se);
    tr.dispose();
    m.dispose();
  });
});

describe('IWAE stopped early', () => {
  it('an aborted run covers the examples done, the same as evaluating just those', async () => {
    const model = Vae.create(tinyCfg, new Rng(1));
    const data = barsData(12, 2);
    const D = data.dim;
    const ac = new AbortController();
    // 40 samples, 80 rows per batch: two examples per batch; stop after the second batch.
    const r = importanceWeightedBound(model, data, 40, new Rng(3), { maxRows: 80, signal: ac.signal, onProgress: (done) => done >= 4 && ac.abort() });
    expect(r.n).toBe(4);
    expect(r.perExample).toHaveLength(4);
    const first = importanceWeightedBound(model, { ...data, n: 4, x: data.x.subarray(0, 4 * D) }, 40, new Rng(3), { maxRows: 80 });
    expect(r.iwae).toBeCloseTo(first.iwae, 12);
    expect(r.elbo).toBeCloseTo(first.elbo, 12);
    model.dispose();
  });
});
