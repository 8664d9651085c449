/**
 * `genphys ising sample|exact|bench|rbm`: Monte Carlo datasets, exact references,
 * sampler throughput, and "can an RBM learn thermodynamics?".
 */
import { InvalidArgumentError, type Command } from 'commander';
import { join } from 'node:path';
import { GenphysError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { benchSampler } from '../physics/bench.js';
import { defaultWorkers } from '../physics/chains.js';
import { parseTemperatures, writeIsingDataset } from '../physics/dataset.js';
import { kaufmanSquare, onsagerEnergy, onsagerMagnetisation, onsagerSpecificHeat, onsagerTc } from '../physics/exact.js';
import type { IsingGeometry } from '../physics/lattice.js';
import { formatEstimate, formatNumber, markdownTable } from '../physics/report.js';
import { ISING_ALGORITHMS, type IsingAlgorithm } from '../physics/samplers.js';
import { simulateTemperatures, totalSweeps, type SimulationResult } from '../physics/simulate.js';
import { VERSION } from '../version.js';
import { choiceArg, floatArg, globals, intArg, logger, progress } from './common.js';

/** Commander parser for a temperature list (`a:b:n` or a comma list). */
export function tempsArg(v: string): number[] {
  try {
    return parseTemperatures(v, 'temps');
  } catch (err) {
    if (err instanceof GenphysError) throw new InvalidArgumentError(err.message.replace(/^temps: /, ''));
    throw err;
  }
}

/** Trim a run's stored samples to the first `n` configurations. */
function trimSamples(r: SimulationResult, n: number): SimulationResult {
  const k = Math.min(n, r.nSamples);
  return { ...r, nSamples: k, samples: r.samples.subarray(0, k * r.N) };
}

/** Rows of the Monte Carlo vs exact table printed by `sample`. */
function sampleTable(results: readonly SimulationResult[], exact: boolean): string {
  const rows = results.map((r) => {
    const th = r.thermo;
    const k = exact ? kaufmanSquare(r.L, r.T) : undefined;
    return [
      r.T.toFixed(4),
      formatEstimate(th.energy),
      formatNumber(k?.energy),
      formatEstimate(th.absMagnetisation),
      formatEstimate(th.specificHeat),
      formatNumber(k?.specificHeat, 4),
      formatEstimate(th.susceptibility),
      th.tauEnergy.tau.toFixed(1),
      th.tauAbsMagnetisation.tau.toFixed(1),
    ];
  });
  return markdownTable(['T', 'e (MC)', 'e (Kaufman)', '|m| (MC)', 'C (MC)', 'C (Kaufman)', 'χ (MC)', 'τ_e', 'τ_|m|'], rows);
}

interface SampleOpts {
  L: number;
  temps: number[];
  n: number;
  algo: IsingAlgorithm;
  sweepsBetween: number;
  burnIn: number;
  chains: number;
  workers?: number;
  J: number;
  h: number;
  geometry: IsingGeometry;
}

/** Register `genphys ising` and its subcommands. */
export function register(program: Command): void {
  const ising = program
    .command('ising')
    .description('2D/1D Ising model: Monte Carlo datasets, exact references, sampler benchmarks, RBM thermodynamics')
    .addHelpText(
      'after',
      '\nExamples:\n  genphys ising sample --L 8 --temps 1.0:3.5:21 --n 10000 --algo wolff --sweeps-between 10 --out data/ising-L8\n' +
        '  genphys ising exact --L 16 --temps 2.0,2.269,3.0\n  genphys ising bench --L 64\n  genphys ising rbm --data data/ising-L8',
    );

  ising
    .command('sample')
    .description('Monte Carlo configurations at several temperatures: one .npy per temperature (int8 ±1, [n, L, L]) + manifest.json')
    .option('--L <n>', 'linear lattice size (≥ 2)', intArg(2, 4096), 8)
    .option('--temps <spec>', "temperatures: 'start:stop:count' or a comma list", tempsArg, parseTemperatures('1.0:3.5:21'))
    .option('--n <n>', 'configurations stored per temperature', intArg(1), 10000)
    .option('--algo <name>', `sampler: ${ISING_ALGORITHMS.join(', ')}`, choiceArg(ISING_ALGORITHMS), 'wolff')
    .option('--sweeps-between <n>', 'sweeps between stored configurations', intArg(1), 10)
    .option('--burn-in <n>', 'sweeps discarded per chain before sampling', intArg(0), 1000)
    .option('--chains <n>', 'independent chains per temperature', intArg(1, 4096), 4)
    .option('--workers <n>', 'worker threads (0: run in this thread; default: all cores)', intArg(0, 256))
    .option('--J <x>', 'coupling J', floatArg(), 1)
    .option('--h <x>', 'external field h (wolff needs 0)', floatArg(), 0)
    .option('--geometry <g>', 'square or chain', choiceArg(['square', 'chain'] as const), 'square')
    .action(async (o: SampleOpts, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const dir = g.out ?? join('data', `ising-L${o.L}`);
      const perChain = Math.ceil(o.n / o.chains);
      const simOpts = {
        L: o.L,
        geometry: o.geometry,
        J: o.J,
        h: o.h,
        algorithm: o.algo,
        chains: o.chains,
        burnIn: o.burnIn,
        sweeps: perChain * o.sweepsBetween,
        sampleEvery: o.sweepsBetween,
        correlationEvery: o.sweepsBetween,
      };
      const bar = progress(totalSweeps(simOpts, o.temps.length), `ising ${o.algo} L=${o.L}`, g.quiet);
      const results = (
        await simulateTemperatures(o.temps, simOpts, new Rng(g.seed), {
          workers: o.workers ?? defaultWorkers(o.temps.length * o.chains),
          onProgress: (s) => bar.tick(s),
        })
      ).map((r) => trimSamples(r, o.n));
      bar.stop();
      const exactOk = o.geometry === 'square' && o.h === 0 && o.J > 0;
      const manifest = writeIsingDataset(
        dir,
        results,
        { geometry: o.geometry, L: o.L, J: o.J, h: o.h, algorithm: o.algo, seed: g.seed, chains: o.chains, burnIn: o.burnIn, sweepsBetween: o.sweepsBetween, createdBy: `genphys ${VERSION}` },
        exactOk ? (T) => { const k = kaufmanSquare(o.L, T, o.J); return { energy: k.energy, specificHeat: k.specificHeat }; } : undefined,
      );
      log(sampleTable(results, exactOk && o.J === 1));
      log(`wrote ${manifest.temperatures.length} files of ${o.n} configurations and manifest.json to ${dir}`);
    });

  ising
    .command('exact')
    .description("exact finite-lattice energy and specific heat (Kaufman) and infinite-lattice values (Onsager)")
    .option('--L <n>', 'linear lattice size (≥ 2)', intArg(2, 100000), 16)
    .option('--temps <spec>', "temperatures: 'start:stop:count' or a comma list", tempsArg, parseTemperatures('1.0:3.5:11'))
    .action((o: { L: number; temps: number[] }) => {
      const rows = o.temps.map((T) => {
        const k = kaufmanSquare(o.L, T);
        return [T.toFixed(4), k.logZ.toFixed(8), k.energy.toFixed(8), k.specificHeat.toFixed(8), onsagerEnergy(T).toFixed(8), onsagerSpecificHeat(T).toFixed(6), onsagerMagnetisation(T).toFixed(6)];
      });
      process.stdout.write(`L = ${o.L} periodic (Kaufman 1949); T_c = ${onsagerTc().toFixed(6)} (Onsager 1944)\n`);
      process.stdout.write(markdownTable(['T', 'ln Z', 'e (L)', 'C (L)', 'e (∞)', 'C (∞)', 'm₀ (∞)'], rows));
    });

  ising
    .command('bench')
    .description('sampler throughput: Metropolis spin flips/s and Wolff clusters/s, one chain per worker')
    .option('--L <n>', 'linear lattice size', intArg(2, 4096), 64)
    .option('--T <x>', 'temperature (default T_c)', floatArg(0, Infinity, { min: true }), onsagerTc())
    .option('--sweeps <n>', 'sweeps per chain', intArg(1), 5000)
    .option('--workers <n>', 'worker threads (default: all cores)', intArg(0, 256))
    .action(async (o: { L: number; T: number; sweeps: number; workers?: number }, cmd: Command) => {
      const g = globals(cmd);
      const workers = o.workers ?? defaultWorkers(64);
      const rows: string[][] = [];
      for (const algo of ['metropolis', 'heatbath', 'wolff'] as const) {
        for (const w of [...new Set([0, workers])]) {
          const r = await benchSampler(algo, o.L, o.T, o.sweeps, w, new Rng(g.seed));
          rows.push([algo, String(o.L), o.T.toFixed(4), String(w), String(r.chains), String(o.sweeps), r.seconds.toFixed(2), (r.updatesPerSecond / 1e6).toFixed(2), algo === 'wolff' ? (r.clustersPerSecond / 1e3).toFixed(1) : '—', algo === 'wolff' ? r.meanClusterSize.toFixed(0) : '—']);
        }
      }
      process.stdout.write(markdownTable(['sampler', 'L', 'T', 'workers', 'chains', 'sweeps', 'wall s', 'M spin updates/s', 'k clusters/s', 'mean cluster'], rows));
    });
}
