/**
 * `ising rbm --queue` (node-only): the Monte Carlo dataset is made (or taken) here once,
 * then each temperature is a sweep job `ising rbm --data ising:DIR:T` on the queue,
 * and the per-temperature rows are gathered into the run's comparison report.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataFormatError, GenphysError, InterruptedError, UsageError } from '../core/errors.js';
import { comparisonTables } from '../physics/rbm-pipeline.js';
import { deviationLines, type IsingRbmSettings } from '../physics/ising-rbm-run.js';
import { runIsingSample } from '../physics/ising-sample-run.js';
import { NO_PARAMS, gatherIsingRbm, type GatheredComparison } from './gather.js';
import { writeReport } from './report.js';
import { enqueueSweep } from './queue.js';
import { parseSweepSpec, expandSweep, type FlagValue, type SweepSpec } from './spec.js';
import { DirStore } from './store-fs.js';

/** Options of {@link runIsingRbmQueue}. */
export interface IsingRbmQueueOptions {
  /** The run directory; also the sweep directory the workers write into (`genphys worker --out`). */
  readonly out: string;
  readonly seed: number;
  readonly settings: IsingRbmSettings;
  /** `redis://[:password@]host:port`. */
  readonly queue: string;
  readonly name?: string;
  /** Remove `out` first (its data, jobs and reports). */
  readonly force?: boolean;
  /** Stop waiting (the jobs stay on the queue). */
  readonly signal?: AbortSignal;
  /** ms between looks at the sweep directory while waiting (default 500). */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

/** The spec of the per-temperature jobs: the run's RBM flags, one `data` value per temperature. */
export function isingRbmSpec(settings: IsingRbmSettings, seed: number, dataDir: string, temps: readonly number[]): SweepSpec {
  const o = settings;
  const base: Record<string, FlagValue> = {
    seed, n: o.n, method: o.method, k: o.k, batch: o.batch, lr: o.lr, momentum: o.momentum, optimizer: o.optimizer, epochs: o.epochs,
    augment: o.augment ?? 1, average: o.average ?? 0.3, 'rbm-chains': o.rbmChains, 'rbm-burn-in': o.rbmBurnIn, 'rbm-steps': o.rbmSteps, quiet: true,
    ...(o.hidden !== undefined ? { hidden: o.hidden } : {}),
    ...(o.biases === true ? { biases: true } : {}),
    ...(o.translationInvariant === false ? { 'no-translation-invariant': true } : {}),
    // Passed on even at their defaults' values: a job must train the submitted run's model.
    ...(o.filterSize !== undefined ? { 'filter-size': o.filterSize } : {}),
    ...(o.plSites !== undefined ? { 'pl-sites': o.plSites } : {}),
  };
  // String(T) keeps every digit, so the job picks exactly the dataset's temperature.
  return parseSweepSpec({ command: 'ising rbm', base, grid: { data: temps.map((T) => `ising:${dataDir}:${String(T)}`) } }, 'ising rbm --queue');
}

function manifestTemps(dataDir: string): number[] {
  const p = join(dataDir, 'manifest.json');
  if (!existsSync(p)) throw new DataFormatError(p, 'missing (not a genphys Ising dataset directory)');
  const m = JSON.parse(readFileSync(p, 'utf8')) as { temperatures?: { T: number }[] };
  if (!Array.isArray(m.temperatures)) throw new DataFormatError(p, 'no temperatures list');
  return m.temperatures.map((t) => t.T);
}

/**
 * Run `ising rbm` on a queue: make the dataset in `<out>/data` (unless `settings.data`
 * names one; an existing `<out>/data` from an earlier try is reused), enqueue one job
 * per temperature into the sweep directory `out`, wait until every job has ended, then
 * write the sweep report and the comparison (comparison.md/.csv/.svg, results.json) in
 * `out`. Resolves with the gathered comparison.
 * @throws GenphysError when a job failed (the comparison of the others is still written)
 */
export async function runIsingRbmQueue(opts: IsingRbmQueueOptions): Promise<GatheredComparison> {
  const log = opts.log ?? (() => {});
  const out = resolve(opts.out);
  const o = opts.settings;
  const ours = existsSync(join(out, 'sweep.json')) || existsSync(join(out, 'data', 'manifest.json'));
  if (existsSync(out) && readdirSync(out).length > 0 && !ours)
    throw new UsageError(`--out ${opts.out}: exists and is not an ising rbm --queue run (no sweep.json or data/); give another --out`);
  // A rerun without --force continues: the data is reused and finished temperatures are skipped.
  if (opts.force) rmSync(out, { recursive: true, force: true });
  let dataDir: string;
  if (o.data !== undefined) dataDir = resolve(o.data);
  else {
    dataDir = join(out, 'data');
    if (existsSync(join(dataDir, 'manifest.json'))) log(`using the dataset already in ${dataDir}`);
    else {
      log(`Monte Carlo: ${o.temps.length} temperatures at L = ${o.L} into ${dataDir}`);
      await runIsingSample({
        dir: dataDir,
        seed: opts.seed,
        settings: { L: o.L, temps: o.temps, n: o.n, algo: o.algo, sweepsBetween: o.sweepsBetween, burnIn: o.burnIn, chains: o.chains, J: 1, h: 0, geometry: 'square', ...(o.workers !== undefined ? { workers: o.workers } : {}) },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
  }
  const all = manifestTemps(dataDir);
  const temps = o.temperatures ? o.temperatures.map((T) => all.find((t) => Math.abs(t - T) < 5e-5) ?? T) : all;
  const spec = isingRbmSpec(o, opts.seed, dataDir, temps);
  const store = new DirStore(out);
  const r = await enqueueSweep(spec, { queue: opts.queue, out, ...(opts.name ? { name: opts.name } : {}) });
  log(`enqueued ${r.jobs} temperatures (${r.added} new); waiting for workers (genphys worker --queue … --out ${out})`);
  const jobs = expandSweep(spec);
  let last = -1;
  for (;;) {
    let ended = 0;
    let failed = 0;
    for (const j of jobs) {
      if (await store.readResult(j.id)) ended++;
      else if (await store.readFailure(j.id)) {
        ended++;
        failed++;
      }
    }
    if (ended !== last) log(`[${ended}/${jobs.length}] temperatures ended${failed ? ` (${failed} failed)` : ''}`);
    last = ended;
    if (ended === jobs.length) break;
    if (opts.signal?.aborted) throw new InterruptedError(`stopped waiting; the jobs stay on the queue. Gather later with: genphys sweep report --out ${opts.out} --write`);
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 500));
  }
  const summary = await writeReport(store, { sweepId: r.sweepId, jobs });
  const [g] = await gatherIsingRbm(store, jobs);
  if (g) {
    // A results.json written before rbmExact existed lacks it: null, as for L > 4.
    const rows = g.rows.map((row) => ({ ...row, rbmExact: row.rbmExact ?? null, params: NO_PARAMS }));
    log(comparisonTables(rows).markdown);
    log(deviationLines(rows));
    log(`wrote ${g.files.markdown}, ${g.files.csv}, ${g.files.svg}, ${g.files.json}; the jobs' run directories are under ${out}`);
  }
  if (summary.failed > 0) throw new GenphysError(`${summary.failed} of ${summary.total} temperatures failed; see ${join(out, 'report.md')} (the others are in the comparison)`);
  if (!g) throw new GenphysError(`no temperature finished; see ${join(out, 'report.md')}`);
  return g;
}
