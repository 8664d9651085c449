/**
 * Sweep plots: the aggregation of a final metric over seeds (mean and standard error
 * against a hand computation), the checks on the axes, and the SVG written by
 * `genphys sweep report --plot`. The sweep directory is written by hand (results with
 * chosen metrics), so no job runs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register as registerSweep } from '../src/cli/sweep.js';
import { DirStore, expandSweep, meanSe, parseSweepSpec, plotSeries, reportRows, sweepId, writeSweepPlot, type JobResult } from '../src/sweep/node.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-sweep-report-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SPEC = parseSweepSpec({ command: 'rbm train', base: { data: 'bars-and-stripes:3', epochs: 2 }, grid: { hidden: [3, 4], lr: [0.01, 0.03], seed: [1, 2, 3] } });
const JOBS = expandSweep(SPEC);

/** loss = 10·hidden + 100·lr + v(seed), v = 1, 2, 4: chosen so the seed mean and spread are easy by hand. */
function lossOf(axes: Record<string, unknown>): number {
  const v = { 1: 1, 2: 2, 3: 4 }[axes.seed as 1 | 2 | 3];
  return 10 * (axes.hidden as number) + 100 * (axes.lr as number) + v;
}

async function makeSweep(dir: string, skip: (i: number) => boolean = () => false): Promise<DirStore> {
  const store = new DirStore(dir);
  await store.writeManifest({ sweepId: sweepId(JOBS), spec: SPEC, jobs: JOBS, created: '2026-01-01T00:00:00Z', genphysVersion: 'test' });
  for (const j of JOBS) {
    if (skip(j.index)) continue;
    const r: JobResult = { id: j.id, command: j.command, flags: j.flags, axes: j.axes, exitCode: 0, started: '', finished: '', seconds: 1 + j.index, resumed: false, worker: 'test', metrics: { epoch: 2, loss: lossOf(j.axes) }, genphysVersion: 'test' };
    await store.writeResult(r);
  }
  return store;
}

describe('plotSeries', () => {
  it('mean ± standard error over the seed axis, one series per --by value', async () => {
    const store = await makeSweep(join(tmp, 'full'));
    const series = plotSeries(await reportRows(store, JOBS), { metric: 'loss', x: 'lr', by: 'hidden' });
    expect(series.map((s) => s.name)).toEqual(['hidden=3', 'hidden=4']);
    // Seeds give offsets 1, 2, 4: mean 7/3; s² = ((4/3)² + (1/3)² + (5/3)²)/2 = 7/3; SE = √(7/3 / 3) = √7/3.
    const se = Math.sqrt(7) / 3;
    expect(series[0]!.x).toEqual([0.01, 0.03]);
    expect(series[0]!.y).toBeAllClose([30 + 1 + 7 / 3, 30 + 3 + 7 / 3], { atol: 1e-12 });
    expect(series[1]!.y).toBeAllClose([40 + 1 + 7 / 3, 40 + 3 + 7 / 3], { atol: 1e-12 });
    for (const s of series) {
      expect(s.yErr).toBeAllClose([se, se], { atol: 1e-12 });
      expect(s.n).toEqual([3, 3]);
    }
    expect(meanSe([5])).toEqual({ mean: 5, se: 0, n: 1 });
  });

  it('leaves out jobs that are not done, and plots wall_seconds', async () => {
    // Drop job 0 (hidden 3, lr 0.01, seed 1): that point is the mean of seeds 2 and 3 (offsets 2, 4: mean 3, SE 1).
    const store = await makeSweep(join(tmp, 'partial'), (i) => i === 0);
    const [s3] = plotSeries(await reportRows(store, JOBS), { metric: 'loss', x: 'lr', by: 'hidden' });
    expect(s3!.n).toEqual([2, 3]);
    expect(s3!.y[0]).toBeCloseTo(30 + 1 + 3, 12);
    expect(s3!.yErr![0]).toBeCloseTo(1, 12);
    // Jobs 1 and 2 took 2 and 3 s (seconds = 1 + index).
    const w = plotSeries(await reportRows(store, JOBS), { metric: 'wall_seconds', x: 'lr', by: 'hidden' });
    expect(w[0]!.y[0]).toBeCloseTo(2.5, 12);
  });

  it('refuses an axis that would be averaged over, an unknown axis or metric', async () => {
    const store = new DirStore(join(tmp, 'full'));
    const rows = await reportRows(store, JOBS);
    expect(() => plotSeries(rows, { metric: 'loss', x: 'lr' })).toThrow(/axis 'hidden' also varies.*--by hidden/);
    expect(() => plotSeries(rows, { metric: 'loss', x: 'width', by: 'hidden' })).toThrow(/--x width: not an axis of this sweep \(axes: hidden, lr, seed\)/);
    expect(() => plotSeries(rows, { metric: 'kl', x: 'lr', by: 'hidden' })).toThrow(/--plot kl: no done job has this numeric final metric \(they have: epoch, loss, wall_seconds\)/);
    // Without a seed axis left to average, there are no error bars: x = seed plots each run.
    const bySeed = plotSeries(rows.filter((r) => r.axes.lr === 0.01), { metric: 'loss', x: 'seed', by: 'hidden' });
    expect(bySeed[0]!.yErr).toBeUndefined();
    expect(bySeed[0]!.y).toEqual([32, 33, 35]);
  });
});

describe('sweep report --plot', () => {
  it('writes the SVG with one line per --by value and error bars', async () => {
    const out = join(tmp, 'full');
    const program = new Command('genphys').option('--out <path>').option('--quiet', 'quiet', false).exitOverride();
    registerSweep(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['sweep', 'report', '--out', out, '--plot', 'loss', '--x', 'lr', '--by', 'hidden'], { from: 'user' });
    } finally {
      write.mockRestore();
      err.mockRestore();
    }
    const svg = readFileSync(join(out, 'plot-loss-lr-hidden.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('hidden=3');
    expect(svg).toContain('hidden=4');
    expect(svg).toContain('mean ± s.e. over seeds');
    // The error bar at hidden 3, lr 0.01 reaches the mean + SE = 33.3333 + 0.8819 = 34.2153.
    expect(svg).toMatch(/lr: 0\.01; loss: [^;]*; hi: 34\.215[23]\d*; series: hidden=3/);
    const p = await writeSweepPlot(new DirStore(out), { metric: 'loss', x: 'lr', by: 'hidden' }, join(tmp, 'elsewhere.svg'));
    expect(existsSync(p.path)).toBe(true);
  });
});
