/**
 * The RBM's own observables by enumeration (issue 15): exact for an RBM whose marginal is the
 * Ising Boltzmann distribution, equal within error bars to the Gibbs estimate of a trained RBM,
 * and shown next to it in the comparison table, the CSV and the one-line summary.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-helpers.js';
import { Rng } from '../src/core/rng.js';
import { BernoulliRBM } from '../src/ebm/index.js';
import { exactLogProbabilities } from '../src/physics/exact.js';
import { deviationLines } from '../src/physics/ising-rbm-run.js';
import { isingModel, type IsingModel } from '../src/physics/lattice.js';
import {
  comparisonTables,
  exactObservables,
  exactRbmKL,
  exactRbmObservables,
  rbmLogMarginal,
  runRbmPipeline,
  type RbmComparisonRow,
} from '../src/physics/rbm-pipeline.js';

/**
 * A ±1 RBM with one hidden unit per bond ⟨ij⟩, weight w on s_i and s_j and zero biases:
 * Σ_h e^{w h (s_i + s_j)} = 2 cosh(w (s_i + s_j)), so an aligned bond weighs cosh(2w) times an
 * anti-aligned one, which the Boltzmann weight e^{βJ s_i s_j} makes e^{2βJ}:
 * the marginal is exactly Boltzmann at β = ½ ln cosh(2w) (J = 1). The duality behind it:
 * Torlai & Melko, PRB 94, 165134 (2016), Sec. III.
 */
function bondRbm(model: IsingModel, w: number): BernoulliRBM {
  const { N, nbr } = model;
  const bonds: [number, number][] = [];
  for (let i = 0; i < N; i++) bonds.push([i, nbr[4 * i]!], [i, nbr[4 * i + 2]!]); // right and down: each bond once
  const H = bonds.length;
  const rbm = new BernoulliRBM({ nVisible: N, nHidden: H, units: 'pm1' });
  const W = rbm.params.W!; // nVisible × nHidden, row-major
  bonds.forEach(([i, k], j) => {
    W[i * H + j] = w;
    W[k * H + j] = w;
  });
  return rbm;
}

describe('exactRbmObservables', () => {
  // w = 0.75 is exact in float32, so the RBM's marginal is Boltzmann at β = ½ ln cosh(1.5)
  // (T ≈ 2.338, near the 3×3 lattice's C peak) up to float64 rounding alone.
  const model = isingModel({ L: 3 });
  const w = 0.75;
  const T = 1 / (0.5 * Math.log(Math.cosh(2 * w)));
  const rbm = bondRbm(model, w);

  it('the bond RBM has the Boltzmann marginal (ratio of marginal probabilities, then every state)', () => {
    const lq = rbmLogMarginal(rbm);
    // All up (bond sum 18) vs spin 0 flipped (bond sum 18 − 2·4 = 10): ln q ratio = β·ΔE = 8β.
    expect(lq[2 ** 9 - 1]! - lq[2 ** 9 - 2]!).toBeAllClose(8 / T, { rtol: 1e-12 });
    expect(Array.from(lq)).toBeAllClose(Array.from(exactLogProbabilities(model, T)), { atol: 1e-12 });
    expect(exactRbmKL(model, T, rbm)).toBeLessThan(1e-12);
  });

  it('equals the enumerated Ising observables for the bond RBM', () => {
    const x = exactRbmObservables(model, T, rbm);
    const ex = exactObservables(3, T);
    expect(x.source).toBe('RBM marginal (enumerated)');
    expect(ex.source).toBe('enumeration');
    // Both are float64 sums over 512 states: agreement to rounding (1e-10 relative).
    expect([x.energy!, x.absMagnetisation!, x.specificHeat!, x.susceptibility!]).toBeAllClose(
      [ex.energy!, ex.absMagnetisation!, ex.specificHeat!, ex.susceptibility!],
      { rtol: 1e-10 },
    );
    // C and χ carry β² and β: at another T the same distribution gives C·(T/T')², χ·(T/T').
    const y = exactRbmObservables(model, 2 * T, rbm);
    expect([y.energy!, y.specificHeat!, y.susceptibility!]).toBeAllClose([x.energy!, x.specificHeat! / 4, x.susceptibility! / 2], { rtol: 1e-12 });
  });

  it('rejects a lattice the RBM does not fit, and more than 20 spins, in one line', () => {
    expect(() => exactRbmObservables(isingModel({ L: 4 }), T, rbm)).toThrow(/the RBM has 9 visible units but the lattice has 16 spins/);
    expect(() => exactRbmObservables(isingModel({ L: 5 }), T, new BernoulliRBM({ nVisible: 25, nHidden: 1, units: 'pm1' }))).toThrow(/N ≤ 20 spins, got 25/);
  });
});

describe('ising rbm at L = 4: RBM Gibbs vs RBM exact', () => {
  // Seed 3; 1000 Wolff configurations at T = 3.5 (far above T_c, so the Gibbs chains mix in a few
  // steps), 32 hidden units, 5 epochs; 100 chains × 1000 Gibbs steps. The trained RBM is not the
  // Ising model, but its chains must estimate its own exact observables: 4 standard errors (binning /
  // jackknife errors that include τ_int), i.e. a two-sided 6·10⁻⁵ chance per observable if the
  // sampler is right.
  it('agree within 4σ; the table, the CSV and the summary carry the RBM exact values and τ', async () => {
    const rows = await runRbmPipeline(
      {
        L: 4,
        temps: [3.5],
        nTrain: 1000,
        sweepsBetween: 2,
        burnIn: 100,
        chains: 2,
        train: { epochs: 5 },
        sample: { chains: 100, burnIn: 100, steps: 1000 },
        workers: 0,
        rbmWorkers: 0,
      },
      new Rng(3),
    );
    const r = rows[0]!;
    const x = r.rbmExact!;
    expect(x.source).toBe('RBM marginal (enumerated)');
    for (const k of ['energy', 'absMagnetisation', 'specificHeat', 'susceptibility'] as const) {
      const g = r.rbm[k];
      expect(g.error, k).toBeGreaterThan(0);
      expect(g.error / Math.abs(g.value), k).toBeLessThan(0.05); // a real test, not a huge error bar
      expect(Math.abs(g.value - x[k]!), k).toBeLessThan(4 * g.error);
    }
    // After 5 epochs the RBM is still visibly not the Ising model: its exact e differs from the exact
    // Ising e, so the two exact columns are different numbers.
    expect(Math.abs(x.energy! - r.exact.energy!)).toBeGreaterThan(1e-3);

    const { markdown, csv } = comparisonTables(rows);
    const lines = markdown.split('\n');
    // Cells are joined by ' | ' (a bare '|' also sits inside '|m|').
    // Cells are split at ' | '; a '|' inside a cell is escaped as '\|' (report.ts markdownTable).
    const cellsOf = (line: string) => line.slice(2, -2).split(' | ').map((c) => c.trim().replace(/\\\|/g, '|'));
    const header = cellsOf(lines[0]!);
    expect(header).toEqual([
      'T',
      'e MC', 'e RBM', 'e RBM exact', 'e exact',
      '|m| MC', '|m| RBM', '|m| RBM exact', '|m| exact',
      'C MC', 'C RBM', 'C RBM exact', 'C exact',
      'χ MC', 'χ RBM', 'χ RBM exact', 'χ exact',
      'τ_e RBM', 'τ_|m| RBM', 'KL (nats)',
    ]);
    const cells = cellsOf(lines[2]!);
    expect(cells).toHaveLength(header.length);
    expect(cells[header.indexOf('C RBM exact')]).toBe(x.specificHeat!.toFixed(4));
    expect(cells[header.indexOf('τ_e RBM')]).toBe(r.rbm.tauEnergy.tau.toFixed(1));
    expect(cells[header.indexOf('τ_|m| RBM')]).toBe(r.rbm.tauAbsMagnetisation.tau.toFixed(1));
    expect(r.rbm.tauEnergy.tau).toBeGreaterThan(0.4); // τ_int ≥ ½ by definition

    const csvLines = csv.trim().split('\n').map((l) => l.split(','));
    expect(csvLines).toHaveLength(2);
    const ch = csvLines[0]!;
    expect(ch).toHaveLength(1 + 4 * 6 + 4);
    expect(csvLines[1]).toHaveLength(ch.length);
    expect(ch.slice(1, 7)).toEqual(['e_mc', 'e_mc_err', 'e_rbm', 'e_rbm_err', 'e_rbm_exact', 'e_exact']);
    expect(ch.slice(-4)).toEqual(['tau_e_rbm', 'tau_abs_m_rbm', 'kl_nats', 'exact_source']);
    const val = (name: string) => Number(csvLines[1]![ch.indexOf(name)]);
    expect(val('chi_rbm_exact')).toBe(x.susceptibility);
    expect(val('tau_abs_m_rbm')).toBe(r.rbm.tauAbsMagnetisation.tau);

    // model = (RBM exact − MC)/MC, sampling = (RBM Gibbs − RBM exact)/RBM exact, in percent.
    const model = (100 * (x.specificHeat! - r.mc.specificHeat.value)) / r.mc.specificHeat.value;
    const sampling = (100 * (r.rbm.specificHeat.value - x.specificHeat!)) / x.specificHeat!;
    const summary = deviationLines(rows).split('\n');
    expect(summary[1]).toMatch(new RegExp(`^ +model .*C ${model.toFixed(1)} .* · sampling .*C ${sampling.toFixed(1)} .*\\(%\\)$`));
    // A terminal of 100 columns holds every line.
    for (const l of summary) expect([...l].length).toBeLessThanOrEqual(100);
  }, 30_000);

  it('rows without rbmExact (L > 4, or an older results.json) get no RBM exact columns but still τ', () => {
    const est = (value: number, error: number) => ({ value, error });
    const tau = { tau: 2.24, error: 0.1, window: 10 };
    const o = { energy: est(-1.5, 0.01), absMagnetisation: est(0.7, 0.01), specificHeat: est(1.1, 0.02), susceptibility: est(1.2, 0.05) };
    const row = { T: 3, mc: o, rbm: { ...o, tauEnergy: tau, tauAbsMagnetisation: { ...tau, tau: 7.04 } }, exact: { energy: -1.5, source: 'Kaufman' }, kl: null, trainSeconds: 1, sampleSeconds: 1 } as unknown as RbmComparisonRow;
    const { markdown, csv } = comparisonTables([row]);
    expect(markdown).not.toContain('RBM exact');
    expect(markdown.split('\n')[0]).toMatch(/\| τ_e RBM \| τ_\\\|m\\\| RBM \|$/);
    expect(markdown.split('\n')[2]).toMatch(/\| 2\.2 +\| 7\.0 +\|$/);
    expect(csv.split('\n')[1]!.split(',')).toHaveLength(29);
    expect(deviationLines([row])).not.toContain('model');
  });
});

describe('ising rbm --method exact (the true gradient at L ≤ 4)', () => {
  const root = mkdtempSync(join(tmpdir(), 'genphys-ising-exact-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('trains the L = 3 RBM to the accuracy of its sample: KL(Boltzmann‖RBM) below 2·d/(2n)', async () => {
    const dir = join(root, 'l3');
    const r = await runCli(['--quiet', '--seed', '1', '--out', dir, 'ising', 'rbm', '--L', '3', '--temps', '2.5', '--n', '2000', '--epochs', '300', '--batch', '2000', '--optimizer', 'adam', '--lr', '0.05', '--average', '0', '--method', 'exact', '--filter-size', '0', '--rbm-steps', '200', '--workers', '0']);
    expect(r.code, r.err).toBe(0);
    const rows = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Array<{ kl: number }>;
    // The maximum-likelihood fit to n = 2000 samples has E[KL] ≈ d/(2n) with d = 18 free weights
    // (two translation-invariant filters of 9, whole-lattice: --filter-size 0): 0.0045 nats. PCD with the pipeline's defaults
    // leaves about 0.01 at L = 4 (BENCHMARKS.md "RBM defaults").
    expect(rows[0]!.kl).toBeLessThan(2 * 0.0045);
  });

  it('refuses lattices too large to enumerate, in one line', async () => {
    const r = await runCli(['--out', join(root, 'l8'), 'ising', 'rbm', '--L', '8', '--method', 'exact']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('genphys: --method exact: enumerates the 64 visible spins; it needs L² ≤ 20 (L ≤ 4)');
  });
});
