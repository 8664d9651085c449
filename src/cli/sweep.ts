/**
 * `genphys sweep run|status|report`: run a grid of jobs from a JSON spec on this
 * machine or put it on a Redis queue, and read back its state and results. All the
 * work is in src/sweep; this file maps flags to it.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseQueueUrl, expandSweep, jobArgv, readSweepSpec, runSweepLocal, enqueueSweep, sweepReport, sweepStatus, writeSweepPlot, DirStore } from '../sweep/node.js';
import { choiceArg, globals, intArg, logger, progress } from './common.js';

function needOut(cmd: Command, what: string): string {
  const out = globals(cmd).out;
  if (!out) throw new UsageError(`--out: give the sweep directory ${what}, e.g. --out runs/sweep1`);
  return out;
}

/** Register `genphys sweep …` on `program`. */
export function register(program: Command): void {
  const sweep = program
    .command('sweep')
    .description('grids of runs from a JSON spec: locally N at a time, or on a Redis queue served by `genphys worker`')
    .addHelpText(
      'after',
      '\nSpec: {"command": "rbm train", "base": {"data": "bars-and-stripes:3", "epochs": 10},\n' +
        '       "grid": {"hidden": [16, 64], "seed": [1, 2, 3]}, "zip": {...}, "random": {"count": 8, "seed": 0, "axes": {"lr": {"log-uniform": [0.001, 0.1]}}}}\n' +
        'Examples:\n  genphys sweep run sweep.json --out runs/sweep1 --workers 2\n  genphys sweep run sweep.json --out /shared/sweep1 --queue redis://host:6379\n' +
        '  genphys sweep status --out runs/sweep1\n  genphys sweep report --out runs/sweep1 --format csv\n' +
        '  genphys sweep report --out runs/sweep1 --plot loss --x lr --by hidden',
    );

  sweep
    .command('run <spec>')
    .description('run every job of the spec (skipping finished ones) into --out, or enqueue them with --queue')
    .option('--workers <n>', 'concurrent jobs on this machine (default: CPU count)', intArg(1, 1024))
    .option('--queue <url>', 'enqueue on redis://[:password@]host:port instead of running here')
    .option('--queue-name <name>', 'BullMQ queue name', 'genphys-sweep')
    .option('--attempts <n>', 'attempts per job on the queue', intArg(1, 100), 3)
    .option('--dry-run', 'print the jobs and their command lines, run nothing', false)
    .action(async (specPath: string, o: { workers?: number; queue?: string; queueName: string; attempts: number; dryRun: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      const spec = readSweepSpec(specPath);
      if (o.dryRun) {
        const store = new DirStore(g.out ?? 'runs/sweep');
        for (const j of expandSweep(spec)) process.stdout.write(`${j.id.slice(0, 12)}  genphys ${jobArgv(j, store.runDir(j.id), false).join(' ')}\n`);
        return;
      }
      const out = needOut(cmd, 'to write runs into');
      if (o.queue) {
        const r = await enqueueSweep(spec, { queue: o.queue, out, name: o.queueName, attempts: o.attempts });
        log(`sweep ${r.sweepId.slice(0, 12)}: ${r.jobs} jobs, ${r.added} new on the queue; start workers with: genphys worker --queue ${parseQueueUrl(o.queue).display} --out ${out}`);
        return;
      }
      const ac = new AbortController();
      const onSigint = () => {
        process.stderr.write('\ngenphys: interrupt: stopping the running jobs (they save a checkpoint)\n');
        ac.abort();
      };
      process.once('SIGINT', onSigint);
      // A bar on a TTY (done + failed of the jobs); one line per finished job otherwise.
      let bar: ReturnType<typeof progress> | null = null;
      try {
        const s = await runSweepLocal(spec, {
          out,
          signal: ac.signal,
          ...(o.workers ? { workers: o.workers } : {}),
          onProgress: (p) => {
            bar ??= progress(p.total, 'sweep', g.quiet);
            if (p.event === 'start') return;
            bar.tick(1, `${p.done} done, ${p.failed} failed, ${p.running} running`);
            if (!process.stderr.isTTY) log(`[${p.done + p.failed}/${p.total}] ${p.event} ${p.job.id.slice(0, 12)} ${JSON.stringify(p.job.axes)} (running ${p.running}, waiting ${p.waiting})`);
          },
        });
        (bar as ReturnType<typeof progress> | null)?.stop();
        log(`sweep ${s.sweepId.slice(0, 12)}: ${s.done} done, ${s.failed} failed, ${s.waiting} waiting of ${s.total}; report in ${out}/report.md`);
        if (ac.signal.aborted) process.exitCode = 130;
        else if (s.failed > 0) process.exitCode = 1;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });

  sweep
    .command('status')
    .description('counts of done, running, failed and waiting jobs of the sweep in --out (from the queue with --queue)')
    .option('--queue <url>', 'ask the Redis queue instead of the directory')
    .option('--queue-name <name>', 'BullMQ queue name', 'genphys-sweep')
    .option('--json', 'print JSON', false)
    .action(async (o: { queue?: string; queueName: string; json: boolean }, cmd: Command) => {
      const out = needOut(cmd, 'to inspect');
      const c = await sweepStatus({ out, name: o.queueName, ...(o.queue ? { queue: o.queue } : {}) });
      if (o.json) {
        process.stdout.write(JSON.stringify(c) + '\n');
        return;
      }
      // A bar of 40 cells: done (█), failed (✗), running (▒), waiting (·).
      const cells = (n: number) => Math.round((40 * n) / Math.max(1, c.total));
      const d = cells(c.done);
      const f = cells(c.failed);
      const r = Math.min(cells(c.running), 40 - d - f);
      const bar = '█'.repeat(d) + '✗'.repeat(f) + '▒'.repeat(r) + '·'.repeat(Math.max(0, 40 - d - f - r));
      process.stdout.write(`[${bar}] ${c.done} done, ${c.running} running, ${c.failed} failed, ${c.waiting} waiting (${c.total} jobs)\n`);
    });

  sweep
    .command('report')
    .description("table of every job's axes and final metrics of the sweep in --out")
    .option('--format <f>', 'md or csv', choiceArg(['md', 'csv'] as const), 'md')
    .option('--write', 'also write summary.json, report.csv and report.md (and, for ising rbm, the gathered comparison) into --out', false)
    .option('--plot <metric>', 'also plot this final metric (or wall_seconds) as SVG: mean ± standard error over a seed axis')
    .option('--x <axis>', 'with --plot: the axis on the x axis (numeric values)')
    .option('--by <axis>', 'with --plot: one line per value of this axis')
    .option('--plot-out <file>', 'with --plot: where to write the SVG (default <out>/plot-METRIC-X[-BY].svg)')
    .action(async (o: { format: 'md' | 'csv'; write: boolean; plot?: string; x?: string; by?: string; plotOut?: string }, cmd: Command) => {
      const out = needOut(cmd, 'to report on');
      if (o.plot === undefined && (o.x !== undefined || o.by !== undefined || o.plotOut !== undefined)) throw new UsageError('--x/--by/--plot-out: only with --plot METRIC');
      if (o.plot !== undefined && o.x === undefined) throw new UsageError(`--plot ${o.plot}: give the axis to plot against with --x AXIS`);
      const r = await sweepReport(out, { write: o.write });
      // The plot first: a bad --x/--by is an error before any table is printed.
      const p = o.plot !== undefined ? await writeSweepPlot(new DirStore(out), { metric: o.plot, x: o.x!, ...(o.by !== undefined ? { by: o.by } : {}) }, o.plotOut) : null;
      process.stdout.write(o.format === 'csv' ? r.csv : r.markdown);
      if (p) logger(globals(cmd).quiet)(`wrote ${p.path} (${p.series.length} series)`);
    });
}
