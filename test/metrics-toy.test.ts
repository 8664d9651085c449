import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { chiSquareTest } from '../src/core/stats.js';
import { sampleToy } from '../src/data/toys.js';
import {
  gridForModes,
  histogram2d,
  jsDivergence,
  klDivergence,
  mixtureGridProbs,
  modeCoverage,
  samples,
  selectRows,
  toyMetrics,
} from '../src/metrics/index.js';

const HQ_2D = 1 - Math.exp(-4.5); // P(χ²₂ ≤ 9): a 2D Gaussian point lies within 3σ of its centre.

describe('modeCoverage', () => {
  it('true ring-of-8 samples cover 8/8 with high-quality fraction 1 − e^{−4.5}', () => {
    const n = 40000;
    const t = sampleToy('ring8', n, new Rng(40));
    const c = modeCoverage(t.samples, t.modes!);
    expect(c.nModes).toBe(8);
    expect(c.modesCovered).toBe(8);
    expect(c.minCount).toBe(1000); // ⌈0.2 · 40000/8⌉
    // Binomial SE √(p(1−p)/n) ≈ 0.0005; 4 sigma (enough to tell 3σ from 2.9σ, where the fraction is 0.9851).
    expect(Math.abs(c.highQualityFraction - HQ_2D)).toBeLessThan(4 * Math.sqrt((HQ_2D * (1 - HQ_2D)) / n));
    // Each high-quality sample is credited to its own component (modes are 70σ apart).
    for (let k = 0; k < 8; k++) expect(c.counts[k]!).toBeLessThanOrEqual(t.labels!.filter((l) => l === k).length);
  });

  it('samples from 7 of the 8 modes cover 7; from 25 of 25 grid modes cover 25', () => {
    const t = sampleToy('ring8', 4000, new Rng(41));
    const keep = [...t.labels!.keys()].filter((i) => t.labels![i] !== 3);
    const c = modeCoverage(selectRows(t.samples, keep), t.modes!);
    expect(c.modesCovered).toBe(7);
    expect(c.counts[3]).toBe(0);
    const g = sampleToy('grid25', 5000, new Rng(42));
    expect(modeCoverage(g.samples, g.modes!).modesCovered).toBe(25);
    // A mode with fewer than minCount high-quality samples is not covered.
    const few = [...g.labels!.keys()].filter((i) => g.labels![i] !== 0 || i < 300).slice(0, 5000);
    const cf = modeCoverage(selectRows(g.samples, few), g.modes!, { minCount: 1000 });
    expect(cf.modesCovered).toBe(0);
    expect(modeCoverage(selectRows(g.samples, few), g.modes!, { minCount: 1 }).modesCovered).toBe(25);
  });

  it('counts samples between modes as low quality', () => {
    // Points on the ring halfway between neighbouring modes, 39σ from both.
    const modes = sampleToy('ring8', 1, new Rng(0)).modes!;
    const mid = new Float64Array(16);
    for (let k = 0; k < 8; k++) {
      const a = (2 * Math.PI * (k + 0.5)) / 8;
      mid[2 * k] = 2 * Math.cos(a);
      mid[2 * k + 1] = 2 * Math.sin(a);
    }
    const c = modeCoverage(samples(mid, 2), modes);
    expect(c.highQualityFraction).toBe(0);
    expect(c.modesCovered).toBe(0);
    // With nSigma large enough to reach them (the chord 2·2·sin(π/16) ≈ 0.780 = 39.0σ), all are high quality.
    const wide = modeCoverage(samples(mid, 2), modes, { nSigma: 40, minCount: 1 });
    expect(wide.highQualityFraction).toBe(1);
    expect(wide.counts.reduce((s, v) => s + v, 0)).toBe(8);
    expect(modeCoverage(samples(mid, 2), modes, { nSigma: 38 }).highQualityFraction).toBe(0);
  });
});

describe('grid divergences', () => {
  it('mixture cell probabilities are exact: they sum to 1 and fit a large sample (χ² test)', () => {
    const t = sampleToy('grid25', 20000, new Rng(43));
    const grid = { bins: 20, xMin: -4.05, xMax: 4.05, yMin: -4.05, yMax: 4.05 }; // cuts through every mode
    const p = mixtureGridProbs(t.modes!, grid);
    expect(p.length).toBe(401);
    expect(p.reduce((s, v) => s + v, 0)).toBeAllClose(1, { rtol: 1e-12 });
    expect(p[400]!).toBeGreaterThan(0.05); // the edge modes spill outside this grid
    const h = histogram2d(t.samples, grid);
    const counts = Array.from(h, (v) => Math.round(v * 20000));
    expect(chiSquareTest(counts, p).pValue).toBeGreaterThan(1e-3);
    // A mode on a cell corner puts (Φ(1/σ) − ½)² into each of the four cells; σ = 0.5, Φ(2) = 0.9772498680518208.
    const q = mixtureGridProbs({ centres: [0, 0], sigma: 0.5 }, { bins: 2, xMin: -1, xMax: 1, yMin: -1, yMax: 1 });
    const cell = (0.9772498680518208 - 0.5) ** 2;
    expect(Array.from(q)).toBeAllClose([cell, cell, cell, cell, 1 - 4 * cell], { rtol: 1e-13 });
  });

  it('KL and JS match hand values and the disjoint-modes closed form', () => {
    expect(klDivergence([1, 0], [0.5, 0.5], 0)).toBeAllClose(Math.LN2, { rtol: 1e-15 });
    // Smoothed: p̃ = (p + ε)/(1 + 2ε).
    const e = 0.01;
    const p1 = 1.01 / 1.02;
    const p2 = 0.01 / 1.02;
    const q = 0.51 / 1.02;
    expect(klDivergence([1, 0], [0.5, 0.5], e)).toBeAllClose(p1 * Math.log(p1 / q) + p2 * Math.log(p2 / q), { rtol: 1e-13 });
    expect(jsDivergence([1, 0], [0, 1], 0)).toBeAllClose(Math.LN2, { rtol: 1e-15 });
    expect(jsDivergence([0.2, 0.8], [0.2, 0.8])).toBe(0);
    // Ring of 8 vs the same ring missing mode 3 (exact cell probabilities, modes 70σ apart so no cell
    // holds mass of two modes). Q₇ ≪ P₈ with ratio (1/7)/(1/8) on every cell: KL(Q₇‖P₈) = ln(8/7).
    // JS: M has 1/16 on the missing mode and m = (1/8 + 1/7)/2 on each other mode, so
    // JS = ½[(1/8)ln 2 + (7/8)ln((1/8)/m)] + ½ ln((1/7)/m).
    const p8 = sampleToy('ring8', 1, new Rng(0)).modes!;
    const c7 = Array.from(p8.centres).filter((_, i) => i >> 1 !== 3);
    const grid = gridForModes(p8, 30);
    const P = mixtureGridProbs(p8, grid);
    const Q = mixtureGridProbs({ centres: c7, sigma: p8.sigma }, grid);
    expect(klDivergence(Q, P, 0)).toBeAllClose(Math.log(8 / 7), { rtol: 1e-9 });
    const m = (1 / 8 + 1 / 7) / 2;
    const js = 0.5 * ((1 / 8) * Math.LN2 + (7 / 8) * Math.log(1 / 8 / m)) + 0.5 * Math.log(1 / 7 / m);
    expect(jsDivergence(P, Q, 0)).toBeAllClose(js, { rtol: 1e-9 });
    expect(() => klDivergence([1], [0.5, 0.5])).toThrow(/cells/);
    expect(() => klDivergence([1, 0], [0.5, 0.5], -1)).toThrow(/eps/);
  });

  it('toyMetrics: true samples score near 0, 7-mode samples near the closed form', () => {
    const n = 8000;
    const t = sampleToy('ring8', n, new Rng(44));
    const good = toyMetrics(t.samples, t.modes!);
    expect(good.modesCovered).toBe(8);
    expect(good.grid.bins).toBe(30);
    // The histogram's plug-in JS is biased up by ≈ (cells − 1)/(8n) ≈ 40/64000 < 0.001; allow 0.005.
    expect(good.js).toBeLessThan(0.005);
    expect(good.kl).toBeLessThan(0.02);
    const keep = [...t.labels!.keys()].filter((i) => t.labels![i] !== 3);
    const bad = toyMetrics(selectRows(t.samples, keep), t.modes!);
    expect(bad.modesCovered).toBe(7);
    const m = (1 / 8 + 1 / 7) / 2;
    const js = 0.5 * ((1 / 8) * Math.LN2 + (7 / 8) * Math.log(1 / 8 / m)) + 0.5 * Math.log(1 / 7 / m);
    expect(Math.abs(bad.js - js)).toBeLessThan(0.005);
    expect(Math.abs(bad.klReverse - Math.log(8 / 7))).toBeLessThan(0.02);
    // KL(P‖Q̂) is dominated by the empty cells of the missing mode: ≈ (1/8)·ln((1/8)/ε) for ε ≪ 1/n.
    expect(bad.kl).toBeGreaterThan(0.5 * (1 / 8) * Math.log(1 / 8 / 1e-6));
  });
});
