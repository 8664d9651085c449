/**
 * `genphys bench`: time the shared workloads on one backend or all of them.
 * Output is a table, or with `--json` one JSON object per line in the format
 * of the peer script (../shared/bench/torch_peer.py --json).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { nativeStatus, type BackendName } from '../engine/backend.js';
import { runWorkload, useBackend } from '../bench/run.js';
import { WORKLOADS, type WorkloadName } from '../bench/workloads.js';
import { globals, intArg } from './common.js';

/** Options of the bench command. */
interface BenchOptions {
  only?: WorkloadName[];
  steps?: number;
  warm: number;
  json: boolean;
}

/** Default timed steps: the peer's (100, conv VAE 30), 30 on the slow pure-JS backend. */
function defaultSteps(w: WorkloadName, backend: BackendName): number {
  // The GAN and U-Net steps take 0.3–2 s each: as many as the peer times (15).
  if (w === 'gan-dcgan-keras-b64' || w === 'ddpm-unet32-b64') return 15;
  if (backend === 'cpu' || w === 'vae-conv-keras-b128') return 30;
  return 100;
}

async function bench(cmd: Command, o: BenchOptions): Promise<void> {
  const g = globals(cmd);
  const requested = g.backend as string;
  let targets: (BackendName | 'auto')[];
  if (requested === 'all') {
    const st = await nativeStatus();
    targets = st.available ? ['native', 'wasm', 'cpu'] : ['wasm', 'cpu'];
    if (!st.available) process.stderr.write(`bench: native backend skipped (${st.reason})\n`);
  } else {
    targets = [requested as BackendName | 'auto'];
  }
  const workloads = o.only && o.only.length > 0 ? o.only : [...WORKLOADS];
  const out = (s: string): void => {
    process.stdout.write(s + '\n');
  };
  const note = (s: string): void => {
    // In --json mode stdout carries only result lines.
    if (o.json) process.stderr.write(s + '\n');
    else if (!g.quiet) out(s);
  };
  for (const target of targets) {
    const info = await useBackend(target);
    note(`backend: ${info.name} | BLAS: ${info.blas} | threads: ${info.threads}${info.simd !== undefined ? ` | SIMD: ${info.simd}` : ''}`);
    if (!o.json && !g.quiet) out(`${'workload'.padEnd(26)} ${'backend'.padEnd(7)} ${'median ms'.padStart(10)} ${'min ms'.padStart(9)} ${'steps'.padStart(5)}  implementation`);
    for (const w of workloads) {
      if (info.name === 'cpu' && w === 'vae-conv-keras-b128' && !(o.only ?? []).includes(w)) {
        note(`${w.padEnd(26)} ${info.name.padEnd(7)} skipped: minutes per step on the pure-JavaScript backend (force with --only ${w})`);
        continue;
      }
      const steps = o.steps ?? defaultSteps(w, info.name);
      const r = await runWorkload(w, info.name, { steps, warm: o.warm, seed: g.seed });
      if (o.json) {
        const line: Record<string, unknown> = { workload: r.workload, backend: r.backend, ms_median: r.ms_median, ms_min: r.ms_min, steps: r.steps };
        if (r.gflops_median !== undefined) line['gflops_median'] = r.gflops_median;
        out(JSON.stringify(line));
      } else {
        const gf = r.gflops_median !== undefined ? `  ${r.gflops_median.toFixed(1)} GFLOP/s` : '';
        out(`${w.padEnd(26)} ${r.backend.padEnd(7)} ${r.ms_median.toFixed(2).padStart(10)} ${r.ms_min.toFixed(2).padStart(9)} ${String(r.steps).padStart(5)}  ${r.impl}${gf}`);
      }
    }
  }
}

function collect(value: string, prev: WorkloadName[] | undefined): WorkloadName[] {
  if (!(WORKLOADS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${WORKLOADS.join(', ')}.`);
  }
  return [...(prev ?? []), value as WorkloadName];
}

/**
 * Register the `bench` command. It accepts the root option `--backend all`
 * (other commands reject 'all' when they initialise their backend).
 */
export function register(program: Command): void {
  program
    .command('bench')
    .description('time the benchmark workloads (median and min ms per step); --backend all runs every available backend')
    .addOption(new Option('--only <workload>', `run just this workload (repeatable): ${WORKLOADS.join(', ')}`).argParser(collect))
    .option('--steps <n>', 'timed steps per workload (default 100; 30 for the conv VAE and on cpu)', intArg(1, 1_000_000))
    .option('--warm <n>', 'untimed warm-up steps', intArg(0, 1_000_000), 5)
    .option('--json', 'one JSON object per line: {"workload","backend","ms_median","ms_min","steps"}', false)
    .action(async (o: BenchOptions, cmd: Command) => {
      await bench(cmd, o);
    });
}
