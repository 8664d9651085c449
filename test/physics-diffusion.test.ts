/**
 * `ising diffusion`: a DDPM per temperature on the Monte Carlo configurations of the RBM
 * pipeline. The estimator of independent draws (jackknife over single samples = the
 * textbook standard error), a tiny run through the library (rows of the comparison's
 * shape, finite errors, e and |m| at T = 5 against Monte Carlo within the standard
 * errors), and the command in-process (the run directory, the same data as
 * simulateTrainingSets for the seed, the --compare overlay, bad flags → exit 2 with
 * nothing written).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/engine/backend.js';
import { loadIsingDataset } from '../src/physics/dataset.js';
import { independentThermo, runDiffusionPipeline, runIsingDiffusion, type DiffusionComparisonRow } from '../src/physics/diffusion-pipeline.js';
import { comparisonPanels, comparisonTables, simulateTrainingSets } from '../src/physics/rbm-pipeline.js';
import { loadDiffusionRun } from '../src/diffusion/run.js';
import { runCli } from './cli-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-ising-diffusion-'));
beforeAll(async () => {
  await initBackend('auto', { quiet: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tiny but honest setting: x0-prediction MLP, 50 diffusion steps, DDPM sampling (8 epochs left e 10 standard errors too ordered at T = 5; 30 do not). */
const tinyData = { L: 4, temps: [2.5, 5], nTrain: 2000, chains: 2, burnIn: 100, sweepsBetween: 2, workers: 0 } as const;
const tinyTrain = { width: 64, blocks: 2, T: 50, prediction: 'x0', epochs: 30, batchSize: 128, lr: 2e-3, emaDecay: 0.99 } as const;
const tinySample = { sampler: 'ddpm', samples: 2000 } as const;

describe('independentThermo', () => {
  it('is the plain standard error of independent draws (no τ inflation) with the biased-variance C and χ', () => {
    const L = 4, N = 16;
    const rng = new Rng(5);
    const n = 300;
    const spins = new Int8Array(n * N).map(() => (rng.uniform() < 0.7 ? 1 : -1));
    const t = independentThermo(spins, L, 2);
    // e and m by hand, periodic bonds right and down.
    const e = new Float64Array(n), m = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let b = 0, M = 0;
      for (let y = 0; y < L; y++)
        for (let x = 0; x < L; x++) {
          const s = spins[k * N + y * L + x]!;
          M += s;
          b += s * spins[k * N + y * L + ((x + 1) % L)]! + s * spins[k * N + ((y + 1) % L) * L + x]!;
        }
      e[k] = -b / N;
      m[k] = Math.abs(M) / N;
    }
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    const sd = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1));
    expect(t.blockLen).toBe(1);
    expect(t.measurements).toBe(n);
    expect(t.tauEnergy.tau).toBe(0.5);
    expect(t.energy.value).toBeAllClose(mean(e), { rtol: 1e-12 });
    // The delete-one jackknife of a mean is exactly s/√n.
    expect(t.energy.error).toBeAllClose(sd(e) / Math.sqrt(n), { rtol: 1e-9 });
    expect(t.absMagnetisation.error).toBeAllClose(sd(m) / Math.sqrt(n), { rtol: 1e-9 });
    const varE = mean(e.map((v) => v * v)) - mean(e) ** 2;
    expect(t.specificHeat.value).toBeAllClose((1 / 4) * N * varE, { rtol: 1e-9 });
  });
});

describe('runDiffusionPipeline (L = 4, T = 2.5 and 5)', () => {
  let rows: DiffusionComparisonRow[];
  beforeAll(async () => {
    rows = await runDiffusionPipeline({ ...tinyData, train: tinyTrain, sample: tinySample }, new Rng(3));
  }, 60_000);

  it('gives one diffusion row per temperature with finite errors, independent draws and exact values', () => {
    expect(rows.map((r) => r.T)).toEqual([2.5, 5]);
    for (const r of rows) {
      expect(r.model).toBe('diffusion');
      for (const k of ['energy', 'absMagnetisation', 'specificHeat', 'susceptibility'] as const) {
        expect(Number.isFinite(r.rbm[k].value) && r.rbm[k].error > 0 && Number.isFinite(r.rbm[k].error)).toBe(true);
        expect(r.mc[k].error).toBeGreaterThan(0);
        expect(r.exact[k]).toBeDefined(); // L = 4: enumeration gives all four
      }
      expect(r.rbm.measurements).toBe(tinySample.samples);
      expect(r.rbm.blockLen).toBe(1);
      expect(r.preview.every((s) => s === 1 || s === -1)).toBe(true);
    }
  });

  it('at T = 5 (nearly independent spins) e and |m| of the samples agree with Monte Carlo', () => {
    const r = rows[1]!;
    // 4 combined standard errors: a model that had learnt nothing (independent fair spins,
    // e = 0, |m| ≈ 0.20 at N = 16) misses e = −0.42 by ~30 of them, one stuck at all-up by far more.
    for (const k of ['energy', 'absMagnetisation'] as const) {
      const z = Math.abs(r.rbm[k].value - r.mc[k].value) / Math.hypot(r.rbm[k].error, r.mc[k].error);
      expect(z, `${k}: diffusion ${r.rbm[k].value} ± ${r.rbm[k].error} vs MC ${r.mc[k].value} ± ${r.mc[k].error}`).toBeLessThan(4);
    }
  });

  it('renders through comparisonTables with diffusion columns and no τ columns', () => {
    const t = comparisonTables(rows);
    expect(t.markdown.split('\n')[0]).toContain('e diffusion');
    expect(t.markdown).not.toContain('τ_e');
    expect(t.markdown).not.toContain('RBM');
    const header = t.csv.split('\n')[0]!.split(',');
    expect(header).toContain('e_diffusion_err');
    expect(header).toContain('tau_e_diffusion');
    expect(t.csv.split('\n')).toHaveLength(rows.length + 2);
    // An overlay adds its points, nudged along T so the error bars do not coincide.
    const p = comparisonPanels(rows, 4, [{ name: 'RBM', rows }]);
    const names = p[0]!.series.map((s) => s.name);
    expect(names.slice(0, 3)).toEqual(['Monte Carlo', 'diffusion', 'RBM']);
    expect(p[0]!.series[1]!.x[0]! - 2.5).toBeGreaterThan(0);
    expect(p[0]!.series[2]!.x[0]! - 2.5).toBeLessThan(0);
    expect(comparisonPanels(rows, 4)[0]!.series[1]!.x).toEqual([2.5, 5]);
  });
});

describe('genphys ising diffusion', () => {
  const flags = ['--L', '4', '--temps', '5', '--n', '600', '--chains', '2', '--burn-in', '50', '--sweeps-between', '2', '--workers', '0', '--width', '32', '--blocks', '1', '--T', '50', '--prediction', 'x0', '--epochs', '2', '--sampler', 'ddim', '--steps', '5', '--samples', '200'];

  it('writes the run directory: table, plot, results, data, and a diffusion run per temperature that diffusion eval opens', async () => {
    const out = join(tmp, 'run');
    const r = await runCli(['--seed', '4', '--out', out, 'ising', 'diffusion', ...flags]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('e diffusion');
    expect(r.out).toContain('diffusion−MC');
    for (const f of ['config.json', 'comparison.md', 'comparison.csv', 'comparison.svg', 'results.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.command).toBe('ising diffusion');
    expect(cfg.prediction).toBe('x0');
    const res = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>[];
    expect(res).toHaveLength(1);
    expect(res[0]!.model).toBe('diffusion');
    expect(res[0]!.params).toBeUndefined();
    // The data are what simulateTrainingSets draws for the seed: the configurations `ising rbm` trains on.
    const sets = await simulateTrainingSets({ L: 4, temps: [5], nTrain: 600, chains: 2, burnIn: 50, sweepsBetween: 2, workers: 0 }, new Rng(4));
    const ds = loadIsingDataset(join(out, 'data'));
    expect(Buffer.from(ds.temperatures[0]!.spins).equals(Buffer.from(sets[0]!.spins))).toBe(true);
    const rd = join(out, 'diffusion', 'T5.0000');
    expect(existsSync(join(rd, 'samples.png'))).toBe(true);
    const loaded = loadDiffusionRun(rd);
    expect(loaded.kind).toBe('ising');
    loaded.net.dispose();
    const ev = await runCli(['diffusion', 'eval', rd, '--n', '50', '--steps', '5']);
    expect(ev.code).toBe(0);
    expect(ev.out).toMatch(/: 50 samples against T = 5, L = 4\n/);
    expect(ev.out).toMatch(/^ {2}χ +-?\d/m);
  }, 60_000);

  it('--json prints the rows as one JSON object; --compare overlays another run on the plot', async () => {
    const first = join(tmp, 'run');
    const out = join(tmp, 'run-json');
    const r = await runCli(['--seed', '4', '--out', out, 'ising', 'diffusion', ...flags, '--json', '--compare', first]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!) as { status: string; rows: { T: number; model: string; preview?: unknown }[] };
    expect(j.status).toBe('done');
    expect(j.rows.map((x) => [x.T, x.model, x.preview])).toEqual([[5, 'diffusion', undefined]]);
    // Same seed, same flags: the same numbers as the first run.
    const a = JSON.parse(readFileSync(join(first, 'results.json'), 'utf8')) as { rbm: { energy: { value: number } } }[];
    const b = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { rbm: { energy: { value: number } } }[];
    expect(b[0]!.rbm.energy.value).toBe(a[0]!.rbm.energy.value);
    expect(readFileSync(join(out, 'comparison.md'), 'utf8')).toContain('Monte Carlo vs diffusion vs diffusion (run) vs exact');
  }, 60_000);

  it('--compare refuses a run on another lattice size, in one line, writing nothing', async () => {
    const other = join(tmp, 'other-L');
    mkdirSync(other, { recursive: true });
    copyFileSync(join(tmp, 'run', 'results.json'), join(other, 'results.json'));
    writeFileSync(join(other, 'config.json'), JSON.stringify({ command: 'ising rbm', L: 6 }));
    const out = join(tmp, 'cmp-L');
    const r = await runCli(['--out', out, 'ising', 'diffusion', ...flags, '--compare', other]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`genphys: --compare ${other}: that run is on an L = 6 lattice, this one on L = 4`);
    expect(existsSync(out)).toBe(false);
  });

  it('an abort during the second temperature keeps the first: its row, table and model, status interrupted', async () => {
    const dir = join(tmp, 'aborted');
    const ac = new AbortController();
    const units = 2 + 10; // epochs + sampling units of one temperature
    let done = 0;
    const res = await runIsingDiffusion({
      dir,
      seed: 4,
      signal: ac.signal,
      settings: { L: 4, temps: [5, 4], n: 600, algo: 'wolff', sweepsBetween: 2, burnIn: 50, chains: 2, workers: 0, width: 32, blocks: 1, T: 50, prediction: 'x0', epochs: 2, sampler: 'ddim', steps: 5, samples: 200 },
      onProgress: (e) => {
        if (e.stage === 'diffusion' && e.advance !== undefined && (done += e.advance) > units) ac.abort();
      },
    });
    expect(res.status).toBe('interrupted');
    expect(res.rows.map((r) => r.T)).toEqual([5]);
    expect((JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as unknown[]).length).toBe(1);
    expect(readdirSync(join(dir, 'diffusion'))).toEqual(['T5.0000']);
  }, 60_000);

  it.each([
    [['--temps', '0,2'], '--temps'],
    [['--sampler', 'euler'], '--sampler'],
    [['--steps', '500'], '--steps'],
    [['--T', '10'], '--T'],
    [['--arch', 'ising-unet', '--L', '6'], '--arch'],
    [['--samples', '1'], '--samples'],
    [['--compare', join(tmp, 'nowhere')], '--compare'],
  ])('bad flags %j: one line naming %s, exit 2, nothing written', async (bad, flag) => {
    const out = join(tmp, `bad-${flag.slice(2)}`);
    const r = await runCli(['--out', out, 'ising', 'diffusion', ...flags, ...bad]);
    expect(r.code).toBe(2);
    // Commander adds its '(add --help …)' hint; the message itself is one line.
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('(add --help'))).toHaveLength(1);
    expect(r.err).toContain(flag);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to write over an existing run without --force and leaves it as it was', async () => {
    const out = join(tmp, 'occupied');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'x');
    const r = await runCli(['--out', out, 'ising', 'diffusion', ...flags]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--force');
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });
});
