/**
 * The free-energy drift check behind `rbm sample`'s mixing message: exact samples at
 * both ends show no drift; uniform random states against exact samples of a peaked model
 * do; and the CLI says so in one warning line when the burn-in is too short.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { freeEnergyDrift } from '../src/ebm/mixing.js';
import { exactSamples } from '../src/ebm/partition.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { runCli } from './cli-helpers.js';

/** A 12×6 RBM with strong weights: a rugged free-energy landscape. */
function peaked(seed: number): BernoulliRBM {
  return new BernoulliRBM({ nVisible: 12, nHidden: 6, initStd: 2 }, new Rng(seed));
}

describe('freeEnergyDrift', () => {
  it('no drift between two sets of exact samples (both are the model’s distribution)', () => {
    const m = peaked(1);
    const rng = new Rng(2);
    // Seeded: a false alarm (|z| > 3) has probability 0.27 % for a given seed.
    const d = freeEnergyDrift(m, exactSamples(m, 400, rng), exactSamples(m, 400, rng));
    expect(d.noDrift).toBe(true);
    expect(Math.abs(d.z)).toBeLessThan(3);
    expect(d.mid.error).toBeGreaterThan(0);
  });

  it('a clear drift from uniform random states to the model’s distribution', () => {
    const m = peaked(1);
    const rng = new Rng(3);
    const uniform = Float32Array.from({ length: 400 * 12 }, () => (rng.uniform() < 0.5 ? 0 : 1));
    const d = freeEnergyDrift(m, uniform, exactSamples(m, 400, rng));
    expect(d.noDrift).toBe(false);
    // The model's samples have lower free energy than random states.
    expect(d.end.value).toBeLessThan(d.mid.value);
    expect(d.z).toBeLessThan(-3);
  });
});

describe('AIS progress', () => {
  it('reports every 1 % of the schedule, ending at the total, forward and reverse', async () => {
    const { ais, reverseAis } = await import('../src/ebm/partition.js');
    const m = peaked(2);
    for (const run of [(cb: (d: number, t: number) => void) => ais(m, new Rng(1), { betas: 500, runs: 4, onProgress: cb }), (cb: (d: number, t: number) => void) => reverseAis(m, exactSamples(m, 4, new Rng(2)), new Rng(3), { betas: 500, onProgress: cb })]) {
      const seen: [number, number][] = [];
      run((d, t) => seen.push([d, t]));
      expect(seen.length).toBeGreaterThanOrEqual(100);
      expect(seen.at(-1)![0]).toBe(seen.at(-1)![1]);
      for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThan(seen[i - 1]![0]);
    }
  });
});

describe('AIS cut short', () => {
  it('an abort stops forward and reverse AIS at the next distribution with a one-line InterruptedError', async () => {
    const { ais, reverseAis } = await import('../src/ebm/partition.js');
    const { InterruptedError } = await import('../src/core/errors.js');
    const m = peaked(2);
    for (const [what, run] of [
      ['AIS', (o: { onProgress: (d: number) => void; signal: AbortSignal }) => ais(m, new Rng(1), { betas: 400, runs: 4, ...o })],
      ['reverse AIS', (o: { onProgress: (d: number) => void; signal: AbortSignal }) => reverseAis(m, exactSamples(m, 4, new Rng(2)), new Rng(3), { betas: 400, ...o })],
    ] as const) {
      const ac = new AbortController();
      let last = 0;
      const call = () => run({ signal: ac.signal, onProgress: (d) => ((last = d), d >= 100 && ac.abort()) });
      expect(call).toThrow(InterruptedError);
      expect(last).toBe(100);
      expect(call).toThrow(new RegExp(`^${what} stopped after \\d+ of 400 intermediate distributions: an incomplete schedule gives no estimate, so nothing is recorded$`));
    }
  });
});

describe('rbm sample: the mixing message', () => {
  it('warns in one line when the chains had not mixed, and reports no drift after a long burn-in', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'genphys-mixing-')), 'run');
    expect((await runCli(['--quiet', '--seed', '1', '--out', dir, 'rbm', 'train', '--data', 'bars-and-stripes:4', '--hidden', '16', '--epochs', '150', '--batch', '8', '--grid-every', '0'])).code).toBe(0);
    const short = await runCli(['rbm', 'sample', dir, '--chains', '400', '--burn-in', '2']);
    expect(short.code).toBe(0);
    const warn = short.err.split('\n').filter((l) => l.includes('warning'));
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatch(/^genphys: warning: the chains had not mixed after 2 sweeps: their mean free energy went from .* use a longer --burn-in \(e\.g\. 8\) or --sampler pt$/);
    const long = await runCli(['rbm', 'sample', dir, '--chains', '400', '--burn-in', '2000']);
    expect(long.err).not.toMatch(/warning/);
    expect(long.out).toMatch(/mixing: the chains' mean free energy was .* at sweep 1000 and .* at sweep 2000: no drift detected/);
    // With no file named, the samples go into the run directory, and every path is printed.
    expect(long.out).toContain(`wrote ${join(dir, 'samples.png')}`);
    expect(long.out).toContain(`wrote ${join(dir, 'samples.txt')}`);
    expect(readFileSync(join(dir, 'samples.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(400);
    // AIS with too few intermediate distributions: a few runs carry all the weight, and the
    // command says so; with enough of them it does not.
    const crude = await runCli(['rbm', 'eval', dir, '--ais', '--betas', '3', '--runs', '50']);
    expect(crude.code).toBe(0);
    expect(crude.err).toMatch(/^genphys: warning: AIS effective sample size [\d.]+ of 50 runs: a few runs carry the estimate/m);
    const fine = await runCli(['rbm', 'eval', dir, '--ais', '--betas', '3000', '--runs', '50']);
    expect(fine.err).not.toMatch(/effective sample size/);
    const bad = await runCli(['--out', join(dir, 'x'), 'rbm', 'sample', dir]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--out .*x: rbm sample writes a PNG grid there/);
  });
});
