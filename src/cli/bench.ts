/**
 * `genphys bench`: time the shared workloads on one backend or all of them.
 * Output is a table, or with `--json` one JSON object per line in the format
 * of the peer script (../shared/bench/torch_peer.py --json). The end-to-end
 * workloads time whole epochs of real training runs on Fashion-MNIST; `--peer`
 * runs the matching PyTorch programs afterwards and prints the ratios.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { nativeStatus, type BackendName } from '../engine/backend.js';
import { fashionMnistMissing, peerPython, peerUnavailable, runEpochWorkload, runPeer, runWorkload, useBackend, type BenchResult, type PeerResult } from '../bench/run.js';
import { BENCH_WORKLOADS, E2E_WORKLOADS, isE2e, WORKLOADS, type BenchWorkloadName } from '../bench/workloads.js';
import { globals, intArg } from './common.js';

/** Options of the bench command. */
interface BenchOptions {
  only?: BenchWorkloadName[];
  steps?: number;
  warm?: number;
  limit?: number;
  peer: boolean;
  json: boolean;
}

/** Default timed steps: the peer's (100, conv VAE 30), 30 on the slow pure-JS backend; epochs for the e2e workloads. */
function defaultSteps(w: BenchWorkloadName, backend: BackendName): number {
  // Whole epochs: about 2–3 s each for the RBM and MLP VAE, ≈ 45 s for the conv VAE on 2 cores.
  if (w === 'vae-conv-epoch-fashion') return 2;
  if (isE2e(w)) return 3;
  // The GAN and U-Net steps take 0.3–2 s each: as many as the peer times (15).
  if (w === 'gan-dcgan-keras-b64' || w === 'ddpm-unet32-b64') return 15;
  if (backend === 'cpu' || w === 'vae-conv-keras-b128') return 30;
  return 100;
}

/** Default untimed warm-up: 5 steps, as the peer; one epoch for the e2e workloads. */
function defaultWarm(w: BenchWorkloadName): number {
  return isE2e(w) ? 1 : 5;
}

/** One genphys result with what it needs for its peer. */
interface Row {
  readonly r: BenchResult & { impl: string };
  readonly steps: number;
  readonly warm: number;
}

/**
 * The JSON line of a result: genphys's fields, then (with a peer) `peer_*` and
 * `ratio` = genphys median ÷ peer median (< 1: genphys faster); `train_ratio` for the
 * training steps alone; for the RBM epoch the trainer's step against the microbench step.
 */
function jsonLine(r: BenchResult, peer: PeerResult | string | undefined, microStep: number | undefined): Record<string, unknown> {
  const line: Record<string, unknown> = { workload: r.workload, backend: r.backend, ms_median: r.ms_median, ms_min: r.ms_min, steps: r.steps };
  if (r.gflops_median !== undefined) line['gflops_median'] = r.gflops_median;
  if (r.batches !== undefined) line['batches'] = r.batches;
  if (r.train_ms_median !== undefined) line['train_ms_median'] = r.train_ms_median;
  if (r.step_ms_median !== undefined) {
    line['step_ms_median'] = r.step_ms_median;
    if (microStep !== undefined) {
      line['micro_step_ms_median'] = microStep;
      line['step_vs_micro'] = r.step_ms_median / microStep;
    }
  }
  if (typeof peer === 'string') line['peer_error'] = peer;
  else if (peer) {
    line['peer_impl'] = peer.impl;
    line['peer_ms_median'] = peer.ms_median;
    line['peer_ms_min'] = peer.ms_min;
    if (peer.train_ms_median !== undefined) line['peer_train_ms_median'] = peer.train_ms_median;
    if (peer.torch_threads !== undefined) line['peer_torch_threads'] = peer.torch_threads;
    if (peer.openblas_threads !== undefined) line['peer_openblas_threads'] = peer.openblas_threads;
    if (peer.version !== undefined) line['peer_version'] = peer.version;
    line['ratio'] = r.ms_median / peer.ms_median;
    if (r.train_ms_median !== undefined && peer.train_ms_median !== undefined) line['train_ratio'] = r.train_ms_median / peer.train_ms_median;
  }
  return line;
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
  const forced = o.only ?? [];
  const workloads = forced.length > 0 ? forced : [...BENCH_WORKLOADS];
  const out = (s: string): void => {
    process.stdout.write(s + '\n');
  };
  const note = (s: string): void => {
    // In --json mode stdout carries only result lines.
    if (o.json) process.stderr.write(s + '\n');
    else if (!g.quiet) out(s);
  };
  const missing = workloads.some(isE2e) ? fashionMnistMissing() : null;
  const rows: Row[] = [];
  for (const target of targets) {
    const info = await useBackend(target);
    note(`backend: ${info.name} | BLAS: ${info.blas} | threads: ${info.threads}${info.simd !== undefined ? ` | SIMD: ${info.simd}` : ''}`);
    if (!o.json && !g.quiet) out(`${'workload'.padEnd(26)} ${'backend'.padEnd(7)} ${'median ms'.padStart(10)} ${'min ms'.padStart(9)} ${'steps'.padStart(5)}  implementation`);
    for (const w of workloads) {
      if (info.name === 'cpu' && (w === 'vae-conv-keras-b128' || isE2e(w)) && !forced.includes(w)) {
        note(`${w.padEnd(26)} ${info.name.padEnd(7)} skipped: minutes per step on the pure-JavaScript backend (force with --only ${w})`);
        continue;
      }
      if (isE2e(w) && missing !== null) {
        note(`${w.padEnd(26)} ${info.name.padEnd(7)} skipped: ${missing}`);
        continue;
      }
      const steps = o.steps ?? defaultSteps(w, info.name);
      const warm = o.warm ?? defaultWarm(w);
      const r = isE2e(w)
        ? await runEpochWorkload(w, info.name, { epochs: steps, warm, seed: g.seed, ...(o.limit !== undefined ? { limit: o.limit } : {}) })
        : await runWorkload(w, info.name, { steps, warm, seed: g.seed });
      rows.push({ r, steps, warm });
      if (o.json) {
        // With --peer the line waits for the peer's numbers (one line per workload, both sides).
        if (!o.peer) out(JSON.stringify(jsonLine(r, undefined, undefined)));
      } else {
        const gf = r.gflops_median !== undefined ? `  ${r.gflops_median.toFixed(1)} GFLOP/s` : '';
        const ep = r.train_ms_median !== undefined ? `  (training steps ${r.train_ms_median.toFixed(0)} ms, ${r.batches} batches${r.step_ms_median !== undefined ? `, ${r.step_ms_median.toFixed(2)} ms per step` : ''})` : '';
        out(`${w.padEnd(26)} ${r.backend.padEnd(7)} ${r.ms_median.toFixed(2).padStart(10)} ${r.ms_min.toFixed(2).padStart(9)} ${String(r.steps).padStart(5)}  ${r.impl}${gf}${ep}`);
      }
    }
  }
  const microStep = (backend: BackendName): number | undefined => rows.find((x) => x.r.workload === 'rbm-cd1-784x500-b128' && x.r.backend === backend)?.r.ms_median;
  if (!o.peer) {
    if (!o.json && !g.quiet) {
      for (const x of rows) {
        const m = microStep(x.r.backend);
        if (x.r.step_ms_median !== undefined && m !== undefined) out(`rbm-pcd1-epoch-fashion ${x.r.backend}: trainer step ${x.r.step_ms_median.toFixed(2)} ms = ${(x.r.step_ms_median / m).toFixed(2)}× the rbm-cd1-784x500-b128 step (${m.toFixed(2)} ms)`);
      }
    }
    return;
  }
  // The peer: once per workload, paired with every backend's result for it.
  const python = peerPython();
  const unavailable = rows.length > 0 ? peerUnavailable(python) : null;
  const peers = new Map<BenchWorkloadName, PeerResult | string>();
  if (unavailable !== null) process.stderr.write(`bench: --peer skipped: ${unavailable}\n`);
  else {
    for (const x of rows) {
      if (peers.has(x.r.workload)) continue;
      const p = runPeer(x.r.workload, { steps: x.steps, warm: x.warm, ...(o.limit !== undefined ? { limit: o.limit } : {}) });
      if (typeof p === 'string') process.stderr.write(`bench: --peer: ${x.r.workload}: ${p}\n`);
      peers.set(x.r.workload, p);
    }
  }
  if (o.json) {
    for (const x of rows) out(JSON.stringify(jsonLine(x.r, peers.get(x.r.workload), microStep(x.r.backend))));
    return;
  }
  if (unavailable !== null) return;
  out('');
  out(`${'workload'.padEnd(26)} ${'backend'.padEnd(7)} ${'genphys ms'.padStart(11)} ${'PyTorch ms'.padStart(11)} ${'ratio'.padStart(6)}  peer setting; training steps alone`);
  for (const x of rows) {
    const p = peers.get(x.r.workload);
    if (p === undefined || typeof p === 'string') {
      out(`${x.r.workload.padEnd(26)} ${x.r.backend.padEnd(7)} ${x.r.ms_median.toFixed(2).padStart(11)} ${'—'.padStart(11)} ${'—'.padStart(6)}  ${p ?? 'no peer'}`);
      continue;
    }
    const l = jsonLine(x.r, p, microStep(x.r.backend));
    const setting = p.torch_threads !== undefined ? `torch ${p.torch_threads} / OpenBLAS ${p.openblas_threads ?? '?'} threads` : 'torch';
    const tr = l['train_ratio'] !== undefined ? `; ${x.r.train_ms_median!.toFixed(0)} vs ${p.train_ms_median!.toFixed(0)} ms = ${(l['train_ratio'] as number).toFixed(2)}×` : '';
    const st = l['step_vs_micro'] !== undefined ? `; trainer step ${x.r.step_ms_median!.toFixed(2)} ms = ${(l['step_vs_micro'] as number).toFixed(2)}× the microbench step` : '';
    out(`${x.r.workload.padEnd(26)} ${x.r.backend.padEnd(7)} ${x.r.ms_median.toFixed(2).padStart(11)} ${p.ms_median.toFixed(2).padStart(11)} ${(l['ratio'] as number).toFixed(2).padStart(6)}  ${setting}${tr}${st}`);
  }
}

function collect(value: string, prev: BenchWorkloadName[] | undefined): BenchWorkloadName[] {
  if (!(BENCH_WORKLOADS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${BENCH_WORKLOADS.join(', ')}.`);
  }
  return [...(prev ?? []), value as BenchWorkloadName];
}

/**
 * Register the `bench` command. It accepts the root option `--backend all`
 * (other commands reject 'all' when they initialise their backend).
 */
export function register(program: Command): void {
  program
    .command('bench')
    .description('time the benchmark workloads (median and min ms per step; the e2e workloads per epoch of a real run); --backend all runs every available backend; --peer adds PyTorch side by side')
    .addOption(new Option('--only <workload>', `run just this workload (repeatable): ${WORKLOADS.join(', ')}; end to end on Fashion-MNIST: ${E2E_WORKLOADS.join(', ')}`).argParser(collect))
    .option('--steps <n>', 'timed steps per workload (default 100; 30 for the conv VAE and on cpu; for the e2e workloads timed epochs, default 3, conv VAE 2)', intArg(1, 1_000_000))
    .option('--warm <n>', 'untimed warm-up steps (default 5; e2e workloads: epochs, default 1)', intArg(0, 1_000_000))
    .option('--limit <n>', 'e2e workloads: train on the first n Fashion-MNIST images only (quick checks; the test split stays whole)', intArg(1))
    .option('--peer', 'then run the PyTorch peer of each workload with /usr/bin/python3 (../shared/bench/torch_peer.py, bench/*_torch.py) and print the ratios', false)
    .option('--json', 'one JSON object per line: {"workload","backend","ms_median","ms_min","steps"}, with --peer also peer_ms_median and ratio', false)
    .action(async (o: BenchOptions, cmd: Command) => {
      await bench(cmd, o);
    });
}
