/**
 * The samplers' async path (src/diffusion/process.ts `ddpmSampleAsync` / `ddimSampleAsync`,
 * src/diffusion/toy-mlp.ts `toyMlpAsyncDenoiser`): from the same seed and the same network
 * outputs they return exactly the sync samplers' numbers (same draws in the same order, the
 * generator left in the same state, the same onStep reports), with the exact Gaussian-mixture
 * denoiser and with the toy MLP; the toy MLP's async path makes no synchronous read and
 * leaks no tensor; bad options reject with the sync path's one-line errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { withoutSyncReads } from './engine-helpers.js';
import { gaussianMixtureDenoiser, type GaussianMixture } from '../src/diffusion/mixture.js';
import { GaussianDiffusion, type AsyncDenoiser, type Denoiser, type StepEvent } from '../src/diffusion/process.js';
import { NoiseSchedule } from '../src/diffusion/schedule.js';
import { DEFAULT_TOY_MLP, ToyMlp, type ToyMlpConfig } from '../src/diffusion/toy-mlp.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The sync denoiser behind a promise that resolves on a later macrotask (a real async boundary). */
function deferred(d: Denoiser): AsyncDenoiser {
  return {
    prediction: d.prediction,
    predict: (xt, shape, t) => {
      const out = d.predict(xt, shape, t);
      return new Promise((resolve) => setTimeout(() => resolve(out), 0));
    },
  };
}

const mixture: GaussianMixture = {
  weights: [0.3, 0.7],
  means: [
    [-1.5, 0.5],
    [1, -0.25],
  ],
  variances: [
    [0.04, 0.09],
    [0.25, 0.01],
  ],
};

describe('async samplers with the exact mixture denoiser', () => {
  const sch = NoiseSchedule.create({ kind: 'cosine', T: 40 });
  const p = new GaussianDiffusion(sch);
  const shape = [37, 2] as const;

  for (const prediction of ['eps', 'x0', 'v'] as const) {
    it(`${prediction}: DDPM (both variances, clipped) and DDIM (η = 0, 0.5) equal the sync samplers bit for bit, draw for draw`, async () => {
      const den = gaussianMixtureDenoiser(sch, mixture, prediction);
      const aden = deferred(den);
      const runs: Array<[string, (d: 'sync' | 'async', rng: Rng, onStep: (e: StepEvent) => void) => Float32Array | Promise<Float32Array>]> = [
        ['ddpm fixed-small', (d, rng, onStep) => (d === 'sync' ? p.ddpmSample(den, shape, rng, { onStep }) : p.ddpmSampleAsync(aden, shape, rng, { onStep }))],
        ['ddpm fixed-large clip', (d, rng, onStep) => (d === 'sync' ? p.ddpmSample(den, shape, rng, { variance: 'fixed-large', clip: [-1, 1], onStep }) : p.ddpmSampleAsync(aden, shape, rng, { variance: 'fixed-large', clip: [-1, 1], onStep }))],
        ['ddim η=0', (d, rng, onStep) => (d === 'sync' ? p.ddimSample(den, shape, rng, { steps: 7, onStep }) : p.ddimSampleAsync(aden, shape, rng, { steps: 7, onStep }))],
        ['ddim η=0.5', (d, rng, onStep) => (d === 'sync' ? p.ddimSample(den, shape, rng, { steps: 9, eta: 0.5, onStep }) : p.ddimSampleAsync(aden, shape, rng, { steps: 9, eta: 0.5, onStep }))],
      ];
      for (const [name, run] of runs) {
        const evS: StepEvent[] = [];
        const evA: StepEvent[] = [];
        const rS = new Rng(11);
        const rA = new Rng(11);
        const xs = run('sync', rS, (e) => evS.push(e)) as Float32Array;
        const xa = await run('async', rA, (e) => evA.push(e));
        expect(xa, name).toEqual(xs);
        // The same number of draws: the generators end in the same state.
        expect(rA.getState(), name).toEqual(rS.getState());
        expect(evA, name).toEqual(evS);
        expect(evS.length, name).toBe(name.startsWith('ddpm') ? 40 : name.includes('0.5') ? 9 : 7);
      }
      // Not a vacuous equality: another seed gives other samples.
      expect(await p.ddpmSampleAsync(aden, shape, new Rng(12))).not.toEqual(p.ddpmSample(den, shape, new Rng(11)));
    });
  }

  it('bad options reject with the sync path’s one-line errors; a short output is a ShapeError', async () => {
    const den = gaussianMixtureDenoiser(sch, mixture);
    const aden = deferred(den);
    await expect(p.ddimSampleAsync(aden, shape, new Rng(1), { steps: 41 })).rejects.toThrow(UsageError);
    await expect(p.ddimSampleAsync(aden, shape, new Rng(1), { steps: 41 })).rejects.toThrow(/^DDIM: steps must be an integer in 1…T \(T = 40\), got 41$/);
    await expect(p.ddimSampleAsync(aden, shape, new Rng(1), { eta: 2 })).rejects.toThrow(/^DDIM: eta must be in \[0, 1\], got 2$/);
    await expect(p.ddpmSampleAsync(aden, shape, new Rng(1), { clip: [1, -1] })).rejects.toThrow(/^clip must be a range/);
    const short: AsyncDenoiser = { prediction: 'eps', predict: async () => new Float32Array(3) };
    await expect(p.ddpmSampleAsync(short, shape, new Rng(1))).rejects.toThrow(/^denoiser: returned 3 values for a batch of shape \[37, 2\]$/);
  });
});

describe('the toy MLP’s async denoiser', () => {
  const cfg: ToyMlpConfig = { ...DEFAULT_TOY_MLP, width: 16, blocks: 2, timeEmbedDim: 8 };
  const p = new GaussianDiffusion(NoiseSchedule.linear(100));

  it('DDPM and DDIM give the sync denoiser’s numbers exactly, with no synchronous read and no leaked tensor', async () => {
    const net = ToyMlp.create(cfg, new Rng(5));
    try {
      const shape = [50, 2] as const;
      const ddpmSync = p.ddpmSample(net.denoiser(), shape, new Rng(8));
      const ddimSync = p.ddimSample(net.denoiser(), shape, new Rng(8), { steps: 10, eta: 0.3 });
      const before = tf.memory().numTensors;
      const [ddpmAsync, ddimAsync] = await withoutSyncReads(async () => [
        await p.ddpmSampleAsync(net.asyncDenoiser(), shape, new Rng(8)),
        await p.ddimSampleAsync(net.asyncDenoiser(), shape, new Rng(8), { steps: 10, eta: 0.3 }),
      ]);
      expect(tf.memory().numTensors).toBe(before);
      expect(ddpmAsync).toEqual(ddpmSync);
      expect(ddimAsync).toEqual(ddimSync);
      expect(ddpmSync.every(Number.isFinite)).toBe(true);
      // The guard is live: the sync denoiser inside it fails on its first read.
      await expect(withoutSyncReads(async () => p.ddimSample(net.denoiser(), shape, new Rng(8), { steps: 2 }))).rejects.toThrow(/^synchronous read: dataSync$/);
    } finally {
      net.dispose();
    }
  });

  it('checks its input like the sync denoiser', async () => {
    const net = ToyMlp.create(cfg, new Rng(5));
    try {
      await expect(net.asyncDenoiser().predict(new Float32Array(5), [3, 2], new Int32Array(3))).rejects.toThrow(/^toy MLP denoiser: 5 values and 3 time steps do not fit shape \[3, 2\]$/);
    } finally {
      net.dispose();
    }
  });
});
