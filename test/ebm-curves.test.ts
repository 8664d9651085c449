/**
 * The RBM run's curves say what they show: exact LL (one line, named so, when train and
 * held-out are the same examples), the AIS sandwich with error bars, the pseudo-LL only as a
 * labelled fallback, and the free-energy gap where there is a separate held-out set.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeRbmCurves } from '../src/ebm/run.js';

const texts = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
const dir = () => mkdtempSync(join(tmpdir(), 'genphys-rbm-curves-'));
const epochs = (n: number, f: (e: number) => Record<string, number>) => Array.from({ length: n }, (_, i) => ({ epoch: i + 1, ...f(i + 1) }));

describe('writeRbmCurves', () => {
  it('one exact line when train and held-out are the same examples; no gap plot then', async () => {
    const d = dir();
    await writeRbmCurves(d, epochs(5, (e) => ({ trainLL: -6 + e / 10, testLL: -6 + e / 10, pseudoLL: -5 - (e % 2) * 3, freeEnergyGap: 0, reconstruction: 2 - e / 10 })));
    const t = texts(readFileSync(join(d, 'curve-likelihood.svg'), 'utf8'));
    expect(t).toContain('log-likelihood per example');
    expect(t).toContain('exact LL (training = held-out examples)');
    expect(t.some((x) => /pseudo/.test(x))).toBe(false);
    expect(existsSync(join(d, 'curve-free-energy-gap.svg'))).toBe(false);
    expect(texts(readFileSync(join(d, 'curve-reconstruction.svg'), 'utf8'))).toContain('one-step reconstruction error (data → hidden → visible)');
  });

  it('train and held-out apart, the AIS sandwich with error bars, and the free-energy gap', async () => {
    const d = dir();
    await writeRbmCurves(d, epochs(4, (e) => ({ trainLL: -90 + e, testLL: -92 + e, aisLL: -93 + e, reverseAisLL: -91.5 + e, aisLogZStdErr: 0.3, freeEnergyGap: e / 2, reconstruction: 30 - e })));
    const svg = readFileSync(join(d, 'curve-likelihood.svg'), 'utf8');
    const t = texts(svg);
    for (const name of ['train LL (exact)', 'held-out LL (exact)', 'held-out LL, forward AIS (low in expectation) ± s.e.', 'held-out LL, reverse AIS (high in expectation)']) expect(t).toContain(name);
    // Four forward-AIS error bars, each with two caps.
    expect(svg.split('aria-roledescription="tick"').length - 1).toBe(8);
    expect(texts(readFileSync(join(d, 'curve-free-energy-gap.svg'), 'utf8'))).toContain('free-energy gap: mean F(held-out) − mean F(train); growth means overfitting');
  });

  it('the pseudo-LL only as a fallback, titled as the noisy proxy it is', async () => {
    const d = dir();
    await writeRbmCurves(d, epochs(3, (e) => ({ pseudoLL: -300 + e, reconstruction: 40 - e })));
    const t = texts(readFileSync(join(d, 'curve-likelihood.svg'), 'utf8'));
    expect(t).toContain('pseudo-log-likelihood per example (a noisy proxy: no exact or AIS LL was computed)');
    expect(t).toContain('pseudo-LL (one random site per example)');
  });
});
