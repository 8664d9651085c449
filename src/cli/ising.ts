/**
 * `genphys ising sample|exact|bench|rbm`: Monte Carlo datasets, exact references,
 * sampler throughput, and "can an RBM learn thermodynamics?".
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { join } from 'node:path';
import { GenphysError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { benchSampler } from '../physics/bench.js';
import { defaultWorkers } from '../physics/chains.js';
import { parseTemperatures } from '../physics/dataset.js';
import { kaufmanSquare, onsagerEnergy, onsagerMagnetisation, onsagerSpecificHeat, onsagerTc } from '../physics/exact.js';
import type { IsingGeometry } from '../physics/lattice.js';
import { formatEstimate, formatNumber, markdownTable } from '../physics/report.js';
import { ISING_ALGORITHMS, type IsingAlgorithm } from '../physics/samplers.js';
import type { SimulationResult } from '../physics/simulate.js';
import { choiceArg, floatArg, globals, intArg, logger, progress } from './common.js';
import { comparisonTables, ISING_RBM_SAMPLE_DEFAULTS as SD, ISING_RBM_TRAIN_DEFAULTS as TD, type RbmComparisonRow } from '../physics/rbm-pipeline.js';
import { deviationLines, runIsingRbm, type IsingRbmSettings } from '../physics/ising-rbm-run.js';
import { InterruptedError } from '../core/errors.js';
import { parseDataSpec } from '../data/spec.js';
import { catchInterrupts } from '../run/signals.js';
import { runDirectory } from '../run/paths.js';
import { runIsingSample } from '../physics/ising-sample-run.js';
import { DEFAULT_ISING_DIFFUSION, runIsingDiffusion, type IsingDiffusionSettings } from '../physics/diffusion-pipeline.js';
import { DIFFUSION_ARCHS } from '../diffusion/checkpoint-codec.js';
import { PREDICTIONS } from '../diffusion/process.js';
import { initBackend } from '../engine/backend.js';

/** Commander parser for a temperature list (`a:b:n` or a comma list). */
export function tempsArg(v: string): number[] {
  try {
    return parseTemperatures(v, 'temps');
  } catch (err) {
    if (err instanceof GenphysError) throw new InvalidArgumentError(err.message.replace(/^temps: /, ''));
    throw err;
  }
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
    .option('--force', 'replace an existing dataset in --out')
    .action(async (o: SampleOpts & { force?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const dir = g.out ?? join('data', `ising-L${o.L}`);
      let bar: ReturnType<typeof progress> | null = null;
      const stop = catchInterrupts(() => process.stderr.write('\ngenphys: interrupt: stopping the simulation; nothing will be written\n'));
      let res;
      try {
        res = await runIsingSample({
          dir,
          seed: g.seed,
          settings: o,
          ...(o.force ? { force: true } : {}),
          signal: stop.signal,
          onProgress: (e) => {
            if (e.total !== undefined) bar = progress(e.total, `ising ${o.algo} L=${o.L}`, g.quiet);
            if (e.advance !== undefined) bar?.tick(e.advance);
          },
        });
      } catch (err) {
        if (err instanceof InterruptedError) throw new InterruptedError(`interrupted; nothing was written to ${dir}`);
        throw err;
      } finally {
        (bar as ReturnType<typeof progress> | null)?.stop();
        stop.dispose();
      }
      const { results, manifest } = res;
      const exactOk = res.exact;
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

  ising
    .command('rbm')
    .description('train one RBM per temperature on Monte Carlo configurations and compare its thermodynamics with MC and exact values (Torlai & Melko 2016)')
    .option('--data <spec>', 'ising:DIR: train on this `ising sample` dataset instead of generating one')
    .option('--L <n>', 'linear lattice size when generating (≥ 2)', intArg(2, 64), 8)
    .option('--temps <spec>', "temperatures when generating: 'start:stop:count' or a comma list", tempsArg, parseTemperatures('1.0:3.5:11'))
    .option('--n <n>', 'training configurations per temperature', intArg(1), 20000)
    .option('--algo <name>', `Monte Carlo sampler: ${ISING_ALGORITHMS.join(', ')}`, choiceArg(ISING_ALGORITHMS), 'wolff')
    .option('--sweeps-between <n>', 'sweeps between stored configurations', intArg(1), 10)
    .option('--burn-in <n>', 'Monte Carlo burn-in sweeps per chain', intArg(0), 1000)
    .option('--chains <n>', 'Monte Carlo chains per temperature', intArg(1, 4096), 4)
    .option('--hidden <n>', 'hidden units (default 2L², 128 at L = 8; a multiple of L² unless --no-translation-invariant)', intArg(1, 65536))
    .option('--method <m>', 'pl (the pseudo-likelihood\'s exact gradient: no Markov chain), cd, pcd, pt (parallel-tempering negative phase, 10 replicas), or exact (the true gradient by enumerating the L² spins; L ≤ 4)', choiceArg(['cd', 'pcd', 'pt', 'exact', 'pl'] as const), TD.method)
    .option('--k <n>', 'Gibbs steps per update (cd, pcd, pt)', intArg(1, 1000), TD.k)
    .option('--batch <n>', 'minibatch size', intArg(1), TD.batchSize)
    .option('--lr <x>', 'learning rate', floatArg(0, Infinity, { min: true }), TD.learningRate)
    .option('--momentum <x>', 'SGD momentum', floatArg(0, 1, { max: true }), TD.momentum)
    .option('--optimizer <o>', 'adam or sgd', choiceArg(['sgd', 'adam'] as const), TD.optimizer)
    .option('--epochs <n>', 'epochs per temperature', intArg(1), TD.epochs)
    .option('--augment <n>', 'train on n lattice-symmetry images (translations, rotations, reflections) of each configuration', intArg(1, 4096), 1)
    .option('--biases', 'train visible and hidden biases (default: zero biases, an exactly spin-flip-symmetric RBM)')
    .option('--no-translation-invariant', 'free weight matrix (default: weights tied so the RBM is invariant under the L² lattice translations)')
    .option('--filter-size <k>', `each translation-invariant filter covers a k × k patch (0 = the whole lattice; 2 holds the Ising model with 4 weights per family) (default: ${TD.filterSize}, 0 with --no-translation-invariant)`, intArg(0))
    .option('--pl-sites <n>', 'with --method pl: sites per configuration its gradient samples (0 = all L²)', intArg(0), 0)
    .option('--average <f>', 'tail-average the weights over this fraction of training (Polyak–Ruppert; 0 = last iterate)', floatArg(0, 1), 0.3)
    .option('--rbm-chains <n>', 'Gibbs chains sampling each trained RBM', intArg(1), SD.chains)
    .option('--rbm-burn-in <n>', 'Gibbs steps discarded per chain', intArg(0), SD.burnIn)
    .option('--rbm-steps <n>', 'measured Gibbs steps per chain', intArg(1), SD.steps)
    .option('--workers <n>', 'worker threads for Monte Carlo (default: all cores)', intArg(0, 256))
    .option('--force', 'replace an existing run in --out')
    .option('--queue <url>', 'train the temperatures as jobs on this Redis queue (redis://[:password@]host:port), served by `genphys worker --out` the same directory; the data is made here first')
    .option('--queue-name <name>', 'BullMQ queue name with --queue', 'genphys-sweep')
    .action(async (given: RbmCliOpts & { queue?: string; queueName: string }, cmd: Command) => {
      // The queue flags are not settings of the run (config.json stays as without them).
      const { queue, queueName, ...rest } = given;
      let o: RbmCliOpts = rest;
      const g = globals(cmd);
      const dir = runDirectory(g.out, 'ising-rbm');
      if (o.data !== undefined) {
        if (o.data.startsWith('ising:')) {
          const spec = parseDataSpec(o.data, '--data', ['ising']);
          // ising:DIR:T trains that one temperature, with the seed stream it has in a run of the whole dataset.
          o = { ...o, data: spec.kind === 'ising' ? spec.dir : o.data, ...(spec.kind === 'ising' && spec.T !== null ? { temperatures: [spec.T] } : {}) };
        } else process.stderr.write(`genphys: note: --data DIR is deprecated; use --data ising:${o.data}\n`);
      }
      if (queue !== undefined) {
        const { runIsingRbmQueue } = await import('../sweep/ising.js');
        await runIsingRbmQueue({ out: dir, seed: g.seed, settings: o, queue, name: queueName, log: logger(g.quiet), ...(o.force ? { force: true } : {}) });
        return;
      }
      await runRbmCommand(o, dir, g.seed, g.quiet);
    });
  registerDiffusion(ising);
}

/** Flags of `ising diffusion` (the run's settings, plus --force and --json). */
type DiffusionCliOpts = IsingDiffusionSettings & { force?: boolean; json?: boolean };

/** Register `ising diffusion` on the `ising` command. */
function registerDiffusion(ising: Command): void {
  const d = DEFAULT_ISING_DIFFUSION;
  ising
    .command('diffusion')
    .description('train one diffusion model (DDPM) per temperature on the Monte Carlo configurations `ising rbm` trains on, sample it, and compare e, |m|, C, χ with MC and exact values')
    .option('--L <n>', 'linear lattice size (≥ 2; a multiple of 4 for a U-Net)', intArg(2, 64), 8)
    .option('--temps <spec>', "temperatures: 'start:stop:count' or a comma list", tempsArg, parseTemperatures('1.0:3.5:11'))
    .option('--n <n>', 'training configurations per temperature', intArg(1), 20000)
    .option('--algo <name>', `Monte Carlo sampler: ${ISING_ALGORITHMS.join(', ')}`, choiceArg(ISING_ALGORITHMS), 'wolff')
    .option('--sweeps-between <n>', 'sweeps between stored configurations', intArg(1), 10)
    .option('--burn-in <n>', 'Monte Carlo burn-in sweeps per chain', intArg(0), 1000)
    .option('--chains <n>', 'Monte Carlo chains per temperature', intArg(1, 4096), 4)
    .addOption(new Option('--arch <name>', 'denoising network: toy-mlp (the residual MLP on the flattened spins) or a U-Net preset').argParser(choiceArg(DIFFUSION_ARCHS)).default(d.arch))
    .option('--width <n>', 'hidden width of the toy MLP', intArg(1, 65536), d.width)
    .option('--blocks <n>', 'residual blocks of the toy MLP', intArg(0, 64), d.blocks)
    .option('--T <n>', 'diffusion steps T', intArg(1, 100000), d.T)
    .addOption(new Option('--schedule <kind>', 'noise schedule (linear is scaled by 1000/T)').argParser(choiceArg(['linear', 'cosine'] as const)).default(d.schedule))
    .addOption(new Option('--prediction <p>', 'network output').argParser(choiceArg(PREDICTIONS)).default(d.prediction))
    .option('--epochs <n>', 'epochs per temperature', intArg(1), d.epochs)
    .option('--batch <n>', 'minibatch size', intArg(1), d.batchSize)
    .option('--lr <x>', 'Adam learning rate', floatArg(0, Infinity, { min: true }), d.lr)
    .option('--ema <d>', 'EMA decay of the weights (the EMA weights are sampled)', floatArg(0, 1, { max: true }), d.emaDecay)
    .addOption(new Option('--sampler <s>', 'ddpm (all T steps) or ddim (deterministic, --steps steps)').argParser(choiceArg(['ddpm', 'ddim'] as const)).default(d.sampler))
    .option('--steps <n>', `DDIM steps, 1…T (default min(${d.steps}, T))`, intArg(1))
    .option('--samples <n>', 'samples drawn per temperature', intArg(2, 1000000), d.samples)
    .option('--compare <dir>', 'a finished `ising rbm` run: draw its rows on the same plot (RBM vs diffusion vs MC vs exact)')
    .option('--workers <n>', 'worker threads for Monte Carlo (default: all cores)', intArg(0, 256))
    .option('--json', 'print the result rows as one JSON object on stdout instead of the tables')
    .option('--force', 'replace an existing run in --out')
    .action(async (given: DiffusionCliOpts & { batch: number; ema: number }, cmd: Command) => {
      const { force, json, batch, ema, ...rest } = given;
      const g = globals(cmd);
      await initBackend(g.backend, { quiet: true });
      const o: IsingDiffusionSettings = { ...rest, batchSize: batch, emaDecay: ema };
      await runDiffusionCommand(o, runDirectory(g.out, 'ising-diffusion'), g.seed, g.quiet, force === true, json === true);
    });
}

/**
 * Run an Ising pipeline (`ising rbm`, `ising diffusion`) with a progress bar per stage and
 * Ctrl-C caught: the pipeline stops at `interruptNote` and keeps the temperatures done; an
 * interrupt during the Monte Carlo stage, which leaves only config.json, says how to rerun.
 */
async function withPipelineProgress<R>(
  dir: string,
  quiet: boolean,
  interruptNote: string,
  mcLabel: string,
  modelLabel: string,
  run: (signal: AbortSignal, onProgress: (e: { stage: string; start?: number; advance?: number }) => void) => Promise<R>,
): Promise<R> {
  let bar: ReturnType<typeof progress> | null = null;
  const stop = catchInterrupts(() => process.stderr.write(`\ngenphys: interrupt: ${interruptNote}, keeping those done\n`));
  try {
    return await run(stop.signal, (e) => {
      if (e.start !== undefined) {
        bar?.stop();
        bar = progress(e.start, e.stage === 'mc' ? mcLabel : modelLabel, quiet);
      }
      if (e.advance !== undefined) bar?.tick(e.advance);
    });
  } catch (err) {
    if (err instanceof InterruptedError) throw new InterruptedError(`interrupted during Monte Carlo; nothing but ${dir}/config.json was written; rerun with --force --out ${dir}`);
    throw err;
  } finally {
    (bar as ReturnType<typeof progress> | null)?.stop();
    stop.dispose();
  }
}

/**
 * `ising diffusion`: run {@link runIsingDiffusion} with progress bars and Ctrl-C handling
 * (the temperatures finished are kept; exit 130), print the table or, with `json`, the rows.
 */
async function runDiffusionCommand(o: IsingDiffusionSettings, dir: string, seed: number, quiet: boolean, force: boolean, json: boolean): Promise<void> {
  const log = logger(quiet || json);
  const res = await withPipelineProgress(dir, quiet || json, 'stopping the temperature in progress', `Monte Carlo (${o.algo})`, 'diffusion training + sampling', (signal, onProgress) =>
    runIsingDiffusion({ dir, seed, settings: o, force, signal, onProgress }),
  );
  if (json) {
    const rows = res.rows.map(({ params: _p, preview: _v, ...r }) => r);
    process.stdout.write(JSON.stringify({ command: 'ising diffusion', dir, status: res.status, seconds: res.seconds, rows }) + '\n');
  } else if (res.rows.length > 0) {
    log(comparisonTables(res.rows).terminal);
    log(deviationLines(res.rows));
  }
  const f = res.files;
  const wrote = f ? `${f.markdown}, ${f.csv}, ${f.svg}, ${f.json}, ${res.rows.length} diffusion runs under ${join(dir, 'diffusion')}` : 'no temperature finished';
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.rows.length} temperatures; wrote ${wrote}`);
  log(`wrote ${wrote} and the training data under ${join(dir, 'data')} (${res.seconds.toFixed(1)} s)`);
}

/** Options of `ising rbm` (also used by `demo`). */
export type RbmCliOpts = IsingRbmSettings & { force?: boolean };

/**
 * `ising rbm` and `demo`: run {@link runIsingRbm} with progress bars and Ctrl-C
 * handling, print the table; exits 130 after keeping the finished temperatures when
 * interrupted.
 */
export async function runRbmCommand(o: RbmCliOpts, dir: string, seed: number, quiet: boolean, command = 'ising rbm', force = o.force === true): Promise<readonly RbmComparisonRow[]> {
  const log = logger(quiet);
  const res = await withPipelineProgress(dir, quiet, 'finishing the temperatures in progress', `Monte Carlo (${o.algo})`, 'RBM training + sampling', (signal, onProgress) =>
    runIsingRbm({ dir, command, seed, settings: o, force, signal, log, onProgress }),
  );
  if (res.rows.length > 0) {
    log(comparisonTables(res.rows).terminal);
    log(deviationLines(res.rows));
  }
  const f = res.files;
  const wrote = f ? `${f.markdown}, ${f.csv}, ${f.svg}, ${f.json}, ${res.rows.length} RBM checkpoints under ${join(dir, 'rbm')}` : 'no temperature finished';
  if (res.status === 'interrupted') throw new InterruptedError(`interrupted after ${res.rows.length} temperatures; wrote ${wrote}`);
  log(`wrote ${wrote}${o.data ? '' : ` and the training data under ${join(dir, 'data')}`} (${res.seconds.toFixed(1)} s)`);
  return res.rows;
}
