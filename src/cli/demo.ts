/**
 * `genphys demo` (what `npm start` runs): "can an RBM learn thermodynamics?" on
 * freshly generated data, in a minute or two on a laptop, with no download.
 * Wolff Monte Carlo at seven temperatures of the 8×8 Ising model, one RBM per
 * temperature, then a table of MC vs RBM vs exact (Kaufman) for e, |m|, C and χ,
 * and a plot of each against T with T_c marked.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTemperatures } from '../physics/dataset.js';
import { globals, intArg, logger } from './common.js';
import { runRbmCommand, tempsArg, type RbmCliOpts } from './ising.js';

/** The demo's preset: the `ising rbm` pipeline, sized for one to two minutes on 2 cores. */
export const DEMO_PRESET: RbmCliOpts = {
  L: 8,
  temps: parseTemperatures('1.5,1.8,2.1,2.269,2.5,3.0,3.5'),
  n: 8000,
  algo: 'wolff',
  sweepsBetween: 5,
  burnIn: 500,
  chains: 4,
  // hidden: 2L² (128 at L = 8), set in the action: two translation-invariant families,
  // enough to hold the Ising model exactly (one family per bond direction).
  translationInvariant: true,
  average: 0.3,
  // The pseudo-likelihood's exact gradient on 2 × 2 filters (BENCHMARKS.md "RBM fluctuations
  // at T_c: pseudo-likelihood"): PCD-5 with SGD on whole-lattice filters left C and χ ~20 %
  // low at T_c and χ 25 % low at T = 1.8; this fit has every T within 3σ of Monte Carlo.
  method: 'pl',
  filterSize: 2,
  plSites: 0,
  k: 1,
  batch: 100,
  lr: 0.03,
  momentum: 0,
  optimizer: 'adam',
  epochs: 40,
  rbmChains: 100,
  rbmBurnIn: 300,
  rbmSteps: 1000,
};

/** Whether `dir` holds an earlier demo run (its config.json says so). */
function isDemoRun(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { command?: unknown }).command === 'demo';
  } catch {
    return false;
  }
}

/** Register `genphys demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: Ising Monte Carlo at a few temperatures, one RBM per temperature, MC vs RBM vs exact table and plot (no download)')
    .option('--L <n>', 'linear lattice size', intArg(2, 32), DEMO_PRESET.L)
    .option('--temps <spec>', "temperatures: 'start:stop:count' or a comma list", tempsArg, DEMO_PRESET.temps)
    .option('--n <n>', 'training configurations per temperature', intArg(1), DEMO_PRESET.n)
    .option('--epochs <n>', 'RBM epochs per temperature', intArg(1), DEMO_PRESET.epochs)
    .option('--hidden <n>', 'RBM hidden units (default 2L², a multiple of L²)', intArg(1, 65536))
    .option('--force', 'replace an existing run in --out (the default runs/demo is replaced when it holds an earlier demo)')
    .addHelpText('after', '\nThe full pipeline with every knob is `genphys ising rbm`; this is its preset (hidden = 2L²):\n  ' + JSON.stringify(DEMO_PRESET))
    .action(async (o: { L: number; temps: number[]; n: number; epochs: number; hidden?: number; force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const dir = g.out ?? join('runs', 'demo');
      // `npm start` twice must work: the default directory is replaced when it holds an earlier demo.
      const replaceOwn = g.out === undefined && isDemoRun(dir);
      log(`genphys demo: can an RBM learn the thermodynamics of the ${o.L}×${o.L} Ising model? (Torlai & Melko, PRB 94, 165134 (2016))`);
      const { force, ...rest } = o;
      await runRbmCommand({ ...DEMO_PRESET, ...rest, hidden: o.hidden ?? 2 * o.L * o.L }, dir, g.seed, g.quiet, 'demo', force === true || replaceOwn);
    });
}
