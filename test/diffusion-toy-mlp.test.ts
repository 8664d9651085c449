import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { ShapeError, UsageError } from '../src/core/errors.js';
import { NoiseSchedule } from '../src/diffusion/schedule.js';
import { GaussianDiffusion } from '../src/diffusion/process.js';
import { ToyMlp, initialToyMlpWeights, timestepEmbedding, timestepEmbedding64, toyMlpDenoiser, toyMlpForward, toyMlpSpecs, type ToyActivation, type ToyMlpConfig } from '../src/diffusion/toy-mlp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const F32 = 2 ** -24;
const CFG: ToyMlpConfig = { dim: 2, width: 16, blocks: 2, timeEmbedDim: 8, activation: 'silu', prediction: 'eps' };

/** Float64 reference of the forward pass, written from the architecture description. */
function referenceForward(cfg: ToyMlpConfig, w: ReadonlyMap<string, Float32Array | Float64Array>, x: ArrayLike<number>, t: ArrayLike<number>): Float64Array {
  const act = (u: number) => (cfg.activation === 'silu' ? u / (1 + Math.exp(-u)) : cfg.activation === 'relu' ? Math.max(0, u) : Math.tanh(u));
  const dense = (name: string, h: ArrayLike<number>, nin: number, nout: number) => {
    const k = w.get(`${name}.kernel`)!;
    const b = w.get(`${name}.bias`)!;
    const o = new Float64Array(nout);
    for (let j = 0; j < nout; j++) {
      let s = b[j]!;
      for (let i = 0; i < nin; i++) s += h[i]! * k[i * nout + j]!;
      o[j] = s;
    }
    return o;
  };
  const B = t.length;
  const D = cfg.dim;
  const out = new Float64Array(B * D);
  for (let n = 0; n < B; n++) {
    const inp = [...Array.from({ length: D }, (_, d) => x[n * D + d]!), ...timestepEmbedding64(t[n]!, cfg.timeEmbedDim)];
    let h = dense('toy.in', inp, D + cfg.timeEmbedDim, cfg.width).map(act);
    for (let i = 1; i <= cfg.blocks; i++) {
      const g = dense(`toy.block${i}`, h, cfg.width, cfg.width);
      h = h.map((u, j) => u + act(g[j]!));
    }
    out.set(dense('toy.out', h, cfg.width, D), n * D);
  }
  return out;
}

function tensors(w: ReadonlyMap<string, Float32Array>, cfg: ToyMlpConfig): Map<string, tf.Tensor> {
  const m = new Map<string, tf.Tensor>();
  for (const s of toyMlpSpecs(cfg)) m.set(s.name, tf.tensor(w.get(s.name)!, [...s.shape]));
  return m;
}

describe('toy MLP parameters', () => {
  it('has flat names and PyTorch-style U(±1/√fan_in) initial values, reproducible from the seed', () => {
    const specs = toyMlpSpecs(CFG);
    expect(specs.map((s) => `${s.name}:${s.shape.join('x')}`)).toEqual([
      'toy.in.kernel:10x16',
      'toy.in.bias:16',
      'toy.block1.kernel:16x16',
      'toy.block1.bias:16',
      'toy.block2.kernel:16x16',
      'toy.block2.bias:16',
      'toy.out.kernel:16x2',
      'toy.out.bias:2',
    ]);
    const w = initialToyMlpWeights(CFG, new Rng(1));
    for (const s of specs) {
      const v = w.get(s.name)!;
      const fanIn = s.shape[0]!;
      const bound = 1 / Math.sqrt(s.name.startsWith('toy.in') ? 10 : s.name.endsWith('bias') ? 16 : fanIn);
      let max = 0;
      for (const u of v) max = Math.max(max, Math.abs(u));
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(0.5 * bound);
    }
    expect(initialToyMlpWeights(CFG, new Rng(1))).toEqual(w);
    expect(initialToyMlpWeights(CFG, new Rng(2))).not.toEqual(w);
  });

  it('bad configs and weights are one-line errors naming the field', () => {
    expect(() => toyMlpSpecs({ ...CFG, timeEmbedDim: 7 })).toThrow(new UsageError('toy MLP: timeEmbedDim must be an even integer ≥ 4, got 7'));
    expect(() => toyMlpSpecs({ ...CFG, width: 0 })).toThrow(/toy MLP: width must be an integer ≥ 1, got 0/);
    expect(() => toyMlpSpecs({ ...CFG, activation: 'gelu' as ToyActivation })).toThrow(/activation must be silu, relu or tanh, got 'gelu'/);
    const w = initialToyMlpWeights(CFG, new Rng(1));
    w.delete('toy.block2.bias');
    expect(() => ToyMlp.fromWeights(CFG, w)).toThrow(new ShapeError("toy MLP weights: missing tensor 'toy.block2.bias'"));
  });
});

describe('time embedding (Vaswani et al. 2017; Ho et al. 2020)', () => {
  it('is [sin(t f_i), cos(t f_i)] with f_i = 10000^(−i/(h−1)), in float64 and in tfjs', () => {
    const ts = [0, 1, 7, 500, 1000];
    const dim = 8;
    const f = [1, 10000 ** (-1 / 3), 10000 ** (-2 / 3), 1e-4];
    const emb = tf.tidy(() => timestepEmbedding(tf.tensor1d(ts, 'int32'), dim).arraySync());
    ts.forEach((t, n) => {
      const hand = [...f.map((u) => Math.sin(t * u)), ...f.map((u) => Math.cos(t * u))];
      // The frequencies agree to ~1 ulp; the argument t·f_i then to ~t·1e-16.
      expect(timestepEmbedding64(t, dim)).toBeAllClose(hand, { atol: 1e-14 * Math.max(1, t) });
      // float32: the argument t·f_i is rounded (2^-24 t relative), and sin/cos are 1-Lipschitz.
      expect(emb[n]!).toBeAllClose(hand, { atol: 4 * F32 * Math.max(1, t) + 1e-6 });
    });
    expect(() => timestepEmbedding64(1, 6.5)).toThrow(/time embedding: dim must be an even integer ≥ 4/);
  });
});

describe('toy MLP forward', () => {
  it.each(['silu', 'relu', 'tanh'] as const)('%s: output [B, D] equals a float64 reference', (activation) => {
    for (const cfg of [{ ...CFG, activation }, { ...CFG, activation, dim: 3, blocks: 0 }]) {
      const w = initialToyMlpWeights(cfg, new Rng(4));
      const B = 5;
      const rng = new Rng(5);
      const x = Float32Array.from({ length: B * cfg.dim }, () => rng.normal());
      const t = Int32Array.from([1, 2, 50, 999, 1000]);
      const before = tf.memory().numTensors;
      const params = tensors(w, cfg);
      const y = tf.tidy(() => toyMlpForward(cfg, params, tf.tensor2d(x, [B, cfg.dim]), tf.tensor1d(t, 'int32')));
      expect(y.shape).toEqual([B, cfg.dim]);
      // float32 sums of ≤ 26 products of O(1) terms: relative error ~ 1e-6; 1e-5 leaves room.
      expect(y.dataSync()).toBeAllClose(referenceForward(cfg, w, x, t), { rtol: 1e-5, atol: 1e-5 });
      y.dispose();
      tf.dispose([...params.values()]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('the ε-MSE loss has the gradient of central finite differences', () => {
    const sch = NoiseSchedule.linear(100);
    const proc = new GaussianDiffusion(sch);
    const net = ToyMlp.create(CFG, new Rng(6));
    const B = 8;
    const rng = new Rng(7);
    const x0 = Float32Array.from({ length: B * 2 }, () => rng.normal());
    const eps = Float32Array.from({ length: B * 2 }, () => rng.normal());
    const t = Int32Array.from([1, 5, 20, 33, 50, 71, 90, 100]);
    const xt = proc.qSample(x0, [B, 2], t, eps);
    const lossTf = () =>
      tf.tidy(() => {
        const tt = tf.tensor1d(t, 'int32');
        const x0t = tf.tensor2d(x0, [B, 2]);
        const et = tf.tensor2d(eps, [B, 2]);
        return proc.lossTf('eps', net.apply(proc.qSampleTf(x0t, tt, et), tt), x0t, et, tt);
      });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(lossTf);
    const g = new Map(Object.entries(grads).map(([k, v]) => [k.replace(/^toy\d+\//, ''), v.dataSync() as Float32Array]));
    const L = value.dataSync()[0]!;
    value.dispose();
    tf.dispose(Object.values(grads));
    expect(tf.memory().numTensors).toBe(before);
    expect([...g.keys()].sort()).toEqual(toyMlpSpecs(CFG).map((s) => s.name).sort());

    const w = net.getWeights();
    const refLoss = (wm: Map<string, Float32Array | Float64Array>) => {
      const y = referenceForward(CFG, wm, xt, t);
      let s = 0;
      for (let j = 0; j < y.length; j++) s += (y[j]! - eps[j]!) ** 2;
      return s / y.length;
    };
    const w64 = new Map<string, Float64Array>([...w].map(([k, v]) => [k, Float64Array.from(v)]));
    expect(L).toBeAllClose(refLoss(w64), { rtol: 1e-5 });
    const picks: [string, number][] = [
      ['toy.in.kernel', 0],
      ['toy.in.kernel', 3 * 16 + 5], // a time-embedding input row
      ['toy.in.bias', 7],
      ['toy.block1.kernel', 37],
      ['toy.block2.bias', 3],
      ['toy.out.kernel', 9],
      ['toy.out.bias', 1],
    ];
    for (const [name, i] of picks) {
      const analytic = g.get(name)![i]!;
      // (a) float64 central differences on the reference: h = 1e-5 gives truncation
      // ~h²·L''' ≈ 1e-10 and rounding ~1e-16/h ≈ 1e-11, so the difference is the
      // float32 backprop error, ~1e-6 relative to the gradient's scale.
      const wp = new Map(w64);
      const wm = new Map(w64);
      const h = 1e-5;
      wp.set(name, Float64Array.from(w64.get(name)!, (u, j) => (j === i ? u + h : u)));
      wm.set(name, Float64Array.from(w64.get(name)!, (u, j) => (j === i ? u - h : u)));
      const fd64 = (refLoss(wp) - refLoss(wm)) / (2 * h);
      expect(analytic).toBeAllClose(fd64, { rtol: 1e-3, atol: 1e-5 });
      // (b) float32 central differences through tfjs itself: with h = 1e-2 the loss's
      // rounding (a few 2^-24 L, L ≈ 1) contributes ≲ 1e-5 and truncation
      // h²/6·|L'''| ≲ 1e-4, so a 2e-4 + 2 % tolerance.
      const h32 = 1e-2;
      const v = net.params.get(name)!;
      const base = w.get(name)!;
      const at = (delta: number) => {
        net.setWeights(new Map([...w, [name, Float32Array.from(base, (u, j) => (j === i ? u + delta : u))]]));
        const l = lossTf();
        const r = l.dataSync()[0]!;
        l.dispose();
        return r;
      };
      const fd32 = (at(h32) - at(-h32)) / (2 * h32);
      net.setWeights(w);
      expect(v.dataSync()).toEqual(base);
      expect(analytic).toBeAllClose(fd32, { rtol: 2e-2, atol: 2e-4 });
    }
    net.dispose();
  });
});

describe('toy MLP as a denoiser', () => {
  it('returns the forward pass, does not leak tensors or touch its input, and drives the samplers', () => {
    const cfg: ToyMlpConfig = { ...CFG, prediction: 'v' };
    const net = ToyMlp.create(cfg, new Rng(3));
    const den = net.denoiser();
    expect(den.prediction).toBe('v');
    const x = Float32Array.from([0.1, -0.2, 1.5, 0.3, -1, 2]);
    const xcopy = Float32Array.from(x);
    const t = Int32Array.from([3, 40, 100]);
    const before = tf.memory().numTensors;
    const out = den.predict(x, [3, 2], t);
    expect(tf.memory().numTensors).toBe(before);
    expect(x).toEqual(xcopy);
    expect(out).toBeAllClose(referenceForward(cfg, net.getWeights(), x, t), { rtol: 1e-5, atol: 1e-5 });
    expect(toyMlpDenoiser(cfg, net.params).predict(x, [3, 2], t)).toEqual(out);
    const sch = NoiseSchedule.cosine(100);
    const s = new GaussianDiffusion(sch).ddimSample(den, [16, 2], new Rng(1), { steps: 5, clip: [-3, 3] });
    expect(tf.memory().numTensors).toBe(before);
    for (const u of s) expect(Math.abs(u)).toBeLessThanOrEqual(3 + 1e-6);
    expect(() => den.predict(x, [2, 2], t)).toThrow(/toy MLP denoiser: 6 values and 3 time steps do not fit shape \[2, 2\]/);
    net.dispose();
  });
});
