import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { Vae, type VaeConfig } from '../src/vae/models.js';
import { decodeMeans, interpolation, latentGrid, latentMeans, normalQuantile, priorSamples, reconstructions } from '../src/vae/plots.js';
import { isingVaeData, latentMagnetisationCorrelation, pearson } from '../src/vae/ising.js';
import { spinsToUnit } from '../src/vae/data.js';
import type { IsingDataset } from '../src/physics/dataset.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cfg: VaeConfig = {
  inputShape: [3, 3, 1],
  latent: 2,
  arch: { kind: 'mlp', hidden: [8], activation: 'tanh' },
  decoder: 'bernoulli',
  sigma2: 1,
  beta: 1,
  init: 'keras',
};

describe('plot data', () => {
  it('normal quantiles match known values', () => {
    // Φ⁻¹(0.975) = 1.959963984540054, Φ⁻¹(0.5) = 0, Φ⁻¹(0.8413447460685429) = 1.
    expect(normalQuantile(0.975)).toBeAllClose(1.959963984540054, { rtol: 1e-8 });
    expect(Math.abs(normalQuantile(0.5))).toBeLessThan(1e-12);
    expect(normalQuantile(0.8413447460685429)).toBeAllClose(1, { rtol: 1e-8 });
    expect(normalQuantile(0.025)).toBeAllClose(-1.959963984540054, { rtol: 1e-8 });
  });

  it('latent grid: Keras linspace(−1, 1, n) with y increasing upwards; quantile spacing symmetric', () => {
    const m = Vae.create(cfg, new Rng(1));
    const g = latentGrid(m, 5);
    expect(g.axis).toBeAllClose([-1, -0.5, 0, 0.5, 1], { atol: 1e-15 });
    expect(g.images.length).toBe(25 * 9);
    // Top-left tile is decoded at (x = −1, y = +1).
    const tl = decodeMeans(m, new Float32Array([-1, 1]));
    expect(Array.from(g.images.subarray(0, 9))).toBeAllClose(Array.from(tl), { rtol: 1e-6 });
    const q = latentGrid(m, 4, { kind: 'quantiles' });
    expect(q.axis[0]!).toBeAllClose(-q.axis[3]!, { rtol: 1e-9 });
    expect(q.axis[0]!).toBeAllClose(normalQuantile(0.125), { rtol: 1e-12 });
    m.dispose();
  });

  it('reconstructions put the originals first; interpolation starts and ends with the two inputs', () => {
    const m = Vae.create(cfg, new Rng(2));
    const x = new Float32Array(4 * 9);
    new Rng(3).fillUniform(x);
    const data = { n: 4, dim: 9, x };
    const r = reconstructions(m, data, 3);
    expect(Array.from(r.subarray(0, 27))).toEqual(Array.from(x.subarray(0, 27)));
    const mu = latentMeans(m, data);
    expect(Array.from(r.subarray(27, 36))).toBeAllClose(Array.from(decodeMeans(m, mu.subarray(0, 2))), { rtol: 1e-6 });
    const s = interpolation(m, data, 1, 3, 5);
    expect(s.length).toBe(7 * 9);
    expect(Array.from(s.subarray(0, 9))).toEqual(Array.from(x.subarray(9, 18)));
    expect(Array.from(s.subarray(6 * 9))).toEqual(Array.from(x.subarray(27, 36)));
    // Step 0 decodes μ(a), the last step μ(b).
    expect(Array.from(s.subarray(9, 18))).toBeAllClose(Array.from(decodeMeans(m, mu.subarray(2, 4))), { rtol: 1e-6 });
    expect(Array.from(s.subarray(45, 54))).toBeAllClose(Array.from(decodeMeans(m, mu.subarray(6, 8))), { rtol: 1e-6 });
    const p = priorSamples(m, 6, new Rng(4));
    expect(p.length).toBe(54);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    m.dispose();
  });
});

describe('Ising probe utilities', () => {
  it('maps ±1 spins to {0, 1}, labels temperatures and computes m per configuration', () => {
    expect(Array.from(spinsToUnit(Int8Array.from([-1, 1, 1, -1])))).toEqual([0, 1, 1, 0]);
    const ds = {
      manifest: { L: 2, geometry: 'square' },
      dir: '',
      N: 4,
      temperatures: [
        { T: 1.5, n: 1, spins: Int8Array.from([1, 1, 1, -1]) },
        { T: 3, n: 2, spins: Int8Array.from([-1, -1, -1, -1, 1, -1, 1, -1]) },
      ],
    } as unknown as IsingDataset;
    const d = isingVaeData(ds);
    expect(d.n).toBe(3);
    expect(d.shape).toEqual([2, 2, 1]);
    expect(Array.from(d.m)).toEqual([0.5, -1, 0]);
    expect(Array.from(d.T)).toEqual([1.5, 3, 3]);
    expect(Array.from(d.labels as ArrayLike<number>)).toEqual([0, 1, 1]);
    expect(Array.from(d.x.subarray(0, 4))).toEqual([1, 1, 1, 0]);
  });

  it('|corr| is 1 for an affine latent, ~0 for an unrelated one', () => {
    const m = [0.1, -0.5, 0.9, 0.3, -0.2];
    expect(pearson(m, m.map((v) => 3 - 2 * v))).toBeAllClose(-1, { rtol: 1e-12 });
    const mu = new Float32Array(10);
    m.forEach((v, i) => {
      mu[2 * i] = 1 + 4 * v;
      mu[2 * i + 1] = [1, -1, -1, 1, 0][i]!;
    });
    const c = latentMagnetisationCorrelation(mu, 2, m);
    expect(c[0]!).toBeAllClose(1, { rtol: 1e-6 });
    expect(c[1]!).toBeLessThan(0.6);
  });
});
