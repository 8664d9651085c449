/**
 * The text that `gan eval`, `diffusion eval` and `classifier score` print: the numbers
 * shown are the report's, rounded to the uncertainty's second significant digit.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { evalReportLines, formatPm } from '../src/metrics/report-text.js';
import { scoreImageSamples } from '../src/metrics/image-score.js';

describe('formatPm', () => {
  it('rounds the value to the second significant digit of its uncertainty', () => {
    expect(formatPm(115.3456, 6.08)).toBe('115.3 ± 6.1');
    expect(formatPm(0.29, 0.01435)).toBe('0.290 ± 0.014');
    expect(formatPm(1234.4, 56)).toBe('1234 ± 56');
    expect(formatPm(-0.00029159, 0.00075927)).toBe('-0.00029 ± 0.00076');
    expect(formatPm(1, 0)).toBe('1.000 ± 0');
    expect(formatPm(0.5, undefined)).toBe('0.500');
  });
});

describe('evalReportLines', () => {
  it('shows the image report of scoreImageSamples with its own numbers', () => {
    // Two sets of 40 "images" of 16 pixels; the fake set is shifted, so every score is far from 0.
    const rng = new Rng(11);
    const n = 40;
    const d = 16;
    const real = new Float32Array(n * d);
    const fake = new Float32Array(n * d);
    for (let i = 0; i < n * d; i++) {
      real[i] = Math.tanh(rng.normal());
      fake[i] = Math.tanh(rng.normal() + 0.8);
    }
    const features = { name: 'identity', dim: d, embed: (x: Float32Array) => x };
    const rep = scoreImageSamples({ data: real, n, d }, { data: fake, n, d }, { rng: new Rng(3), permutations: 20, features });
    const lines = evalReportLines({ method: 'images', file: 'x.npy', data: 'toy/test', n, ...rep });
    expect(lines[0]).toBe('x.npy: 40 samples against toy/test');
    const fd = rep['fd'] as { value: number; se: number };
    const kid = rep['kid'] as { value: number; se: number; subsets: number; subsetSize: number };
    const rec = rep['recall'] as { value: number; se: number };
    const byLabel = (label: string) => lines.find((l) => l.trimStart().startsWith(label)) ?? '';
    expect(byLabel('FD-LeNet')).toContain(formatPm(fd.value, fd.se));
    expect(byLabel('KID')).toContain(`${formatPm(kid.value, kid.se)}   (identity; ± the SD over ${kid.subsets} subsets of ${kid.subsetSize})`);
    expect(byLabel('recall')).toContain(formatPm(rec.value, rec.se));
    expect(byLabel('√MMD²')).toMatch(/^ {2}√MMD² \(pixels\) +\d\.\d{3} {3}\(real vs real \d\.\d{3}; MMD² .* against .* real vs real; p = 0\.048 from 20 permutations; gaussian/);
    expect(lines).toHaveLength(6);
  });

  it('says why FD-LeNet is missing', () => {
    const lines = evalReportLines({ method: 'images', run: 'r', n: 20, data: 'd', fd: { available: false, reason: 'FD-LeNet is unavailable: no classifier' } });
    expect(lines[1]).toBe('  FD-LeNet  FD-LeNet is unavailable: no classifier');
  });

  it('tabulates Ising observables from gan eval and from diffusion eval alike', () => {
    const o = (v: number, se: number) => ({ value: v, se });
    const gan = evalReportLines({
      method: 'ising',
      run: 'g',
      epoch: 2,
      step: 10,
      generator: 'trained weights',
      T: 2.5,
      L: 8,
      n: 2000,
      energy: { gan: o(-0.941, 0.014), mc: o(-1.2246, 0.0023), z: 19.7 },
      absMagnetisation: { gan: o(0.521, 0.008), mc: o(0.6045, 0.0017), z: -10.5 },
      specificHeat: { gan: o(4.08, 0.08), mc: o(1.082, 0.007), z: 39.7 },
      susceptibility: { gan: o(3.04, 0.04), mc: o(1.736, 0.011), z: 29.9 },
    });
    expect(gan[0]).toBe('g (epoch 2, step 10; trained weights): 2000 samples against T = 2.5, L = 8');
    expect(gan[1]).toMatch(/^ {4}\s*GAN\s+Monte Carlo\s+z$/);
    expect(gan[2]).toMatch(/^ {2}e\s+-0\.941 ± 0\.014\s+-1\.2246 ± 0\.0023\s+19\.7$/);
    expect(gan[5]).toMatch(/^ {2}χ\s+3\.040 ± 0\.040\s+1\.736 ± 0\.011\s+29\.9$/);
    const e = (v: number, error: number) => ({ value: v, error });
    const dif = evalReportLines({
      kind: 'ising',
      run: 'dr',
      sampler: 'ddim',
      steps: 5,
      eta: 0,
      n: 50,
      T: 5,
      L: 4,
      model: { energy: e(-0.4, 0.02), absMagnetisation: e(0.2, 0.01), specificHeat: e(0.3, 0.05), susceptibility: e(0.1, 0.01) },
      mc: { energy: e(-0.41, 0.01), absMagnetisation: e(0.21, 0.01), specificHeat: e(0.31, 0.02), susceptibility: e(0.11, 0.01) },
      z: { energy: 0.447, absMagnetisation: -0.707, specificHeat: -0.186, susceptibility: -0.707 },
    });
    expect(dif[0]).toBe('dr (DDIM, 5 steps, η = 0): 50 samples against T = 5, L = 4');
    expect(dif[2]).toMatch(/^ {2}e\s+-0\.400 ± 0\.020\s+-0\.410 ± 0\.010\s+0\.4$/);
  });

  it('shows toy scores from gan eval (mean ± SE) and diffusion eval (single values)', () => {
    const g = evalReportLines({ method: 'toy', run: 'r', n: 5000, data: 'toy:ring8', nModes: 8, modesCovered: { value: 7, se: 0 }, highQualityFraction: { value: 0.559, se: 0.003 }, kl: { value: 0.593, se: 0.002 }, js: { value: 0.148, se: 0.001 } });
    expect(g.slice(1)).toEqual(['  modes covered          7.000 ± 0 of 8', '  high-quality fraction  0.5590 ± 0.0030', '  KL(data ‖ samples)     0.5930 ± 0.0020', '  JS                     0.1480 ± 0.0010']);
    const d = evalReportLines({ kind: 'toy', run: 'r', sampler: 'ddpm', n: 200, toy: 'moons', kl: 0.12, klReverse: 0.2, js: 0.03, mmd: { value: 0.05, baseline: 0.01 } });
    expect(d[0]).toBe('r (DDPM ancestral sampling): 200 samples against moons');
    expect(d.slice(1)).toEqual(['  KL(data ‖ samples)  0.120', '  KL(samples ‖ data)  0.200', '  JS                  0.030', '  √MMD²               0.050   (real vs real 0.010)']);
  });
});
