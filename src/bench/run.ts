/**
 * Benchmark runner: prepares each workload on a backend, runs warm-up steps,
 * then times steps with `performance.now()` (each step includes reading back
 * a scalar, as the peer's `loss.item()`), and reports median and minimum.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Rng } from '../core/rng.js';
import { binarizeDynamic, binarizeStatic } from '../data/binarize.js';
import { resolveDatasetDir, splitFileNames } from '../data/datasets.js';
import { trainRbmRun } from '../ebm/run.js';
import { initBackend, type BackendInfo, type BackendName } from '../engine/backend.js';
import { getKernels } from '../engine/index.js';
import type { Kernels } from '../engine/kernels.js';
import { jsKernels } from '../engine/js-kernels.js';
import type { RunEvent } from '../run/events.js';
import { loadVaeImages } from '../vae/data.js';
import { validateConfig } from '../vae/models.js';
import { getPreset, type TrainConfig } from '../vae/presets.js';
import { trainRun } from '../vae/run.js';
import { prepareData, validateData, type VaeData } from '../vae/train.js';
import { wasmKernels } from '../engine/wasm-kernels.js';
import { ddpmUnet32, ganDcganKeras, rbmCd1Trainer, sgemm512, vaeConvKeras, vaeMlp, type BenchWorkloadName, type E2eWorkloadName, type PreparedWorkload, type WorkloadName } from './workloads.js';

/** One benchmark result (the JSON line format shared with the peer script). */
export interface BenchResult {
  /** Workload name (see {@link BENCH_WORKLOADS}). */
  readonly workload: BenchWorkloadName;
  /** Backend it ran on. */
  readonly backend: BackendName;
  /** Median milliseconds per step (element ⌊n/2⌋ of the sorted times, as the peer). */
  readonly ms_median: number;
  /** Fastest step in milliseconds. */
  readonly ms_min: number;
  /** Number of timed steps (epochs for the end-to-end workloads). */
  readonly steps: number;
  /** GFLOP/s at the median time (sgemm only). */
  readonly gflops_median?: number;
  /** End-to-end workloads: minibatches per epoch. */
  readonly batches?: number;
  /** End-to-end workloads: median of the epochs' training-step time alone (to the epoch's last batch), ms. */
  readonly train_ms_median?: number;
  /** `rbm-pcd1-epoch-fashion`: median training-step time per minibatch (train_ms_median / batches), ms. */
  readonly step_ms_median?: number;
}

/** Options of {@link runWorkload}. */
export interface RunOptions {
  /** Timed steps. */
  readonly steps: number;
  /** Untimed warm-up steps. */
  readonly warm: number;
  /** Seed for inputs and sampling. */
  readonly seed: number;
}

/** Median (element ⌊n/2⌋ of the sorted list, as the peer computes it) and minimum. */
export function stats(ms: readonly number[]): { median: number; min: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]! };
}

/** Time `steps` calls of `fn` after `warm` untimed calls; returns milliseconds per call. */
export function timeSteps(fn: () => void, steps: number, warm: number): number[] {
  for (let i = 0; i < warm; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return ts;
}

async function nativeKernelsOrNull(): Promise<Kernels | null> {
  try {
    const mod = (await import('../engine/native.js')) as { nativeKernels?: Kernels | null };
    return mod.nativeKernels ?? null;
  } catch {
    return null;
  }
}

/**
 * Build a workload for the active backend. The RBM step is the trainer's, on the native
 * kernels for 'native', the XNNPACK kernels for 'wasm' and the TypeScript kernels for 'cpu'.
 */
export async function prepare(workload: WorkloadName, backend: BackendName, seed: number): Promise<PreparedWorkload> {
  switch (workload) {
    case 'rbm-cd1-784x500-b128': {
      // The trainer runs on the dense kernels, not tfjs tensors: native where built, wasm's XNNPACK
      // products (the wasm backend is active here), else TypeScript.
      const k = backend === 'native' ? await nativeKernelsOrNull() : backend === 'wasm' ? wasmKernels() : null;
      return rbmCd1Trainer(k ?? jsKernels, seed);
    }
    case 'vae-mlp-784-400-20-b128':
      return vaeMlp(seed);
    case 'vae-conv-keras-b128':
      return vaeConvKeras(seed);
    case 'sgemm-512':
      return sgemm512(seed);
    case 'gan-dcgan-keras-b64':
      return ganDcganKeras(seed);
    case 'ddpm-unet32-b64':
      return ddpmUnet32(seed);
  }
}

/** Run one workload on the already-active backend `backend`. */
export async function runWorkload(workload: WorkloadName, backend: BackendName, opts: RunOptions): Promise<BenchResult & { impl: string }> {
  const w = await prepare(workload, backend, opts.seed);
  try {
    const ts = timeSteps(() => w.step(), opts.steps, opts.warm);
    const { median, min } = stats(ts);
    const r: BenchResult & { impl: string } = { workload, backend, ms_median: median, ms_min: min, steps: opts.steps, impl: w.impl };
    return w.flops !== undefined ? { ...r, gflops_median: w.flops / 1e9 / (median / 1e3) } : r;
  } finally {
    w.dispose();
  }
}

/** Make `name` the active backend for benchmarking (quietly) and describe it. */
export function useBackend(name: BackendName | 'auto'): Promise<BackendInfo> {
  return initBackend(name, { quiet: true });
}

/** Options of {@link runEpochWorkload}. */
export interface EpochRunOptions {
  /** Timed epochs. */
  readonly epochs: number;
  /** Untimed epochs before them (compilation, allocator and page-cache warm-up). */
  readonly warm: number;
  /** Seed of the run (the CLI's --seed). */
  readonly seed: number;
  /** Use only the first n training examples (the CLI's --limit), for quick checks. */
  readonly limit?: number;
}

/**
 * Why Fashion-MNIST cannot be loaded from where the CLI would look (`$GENPHYS_FASHION_MNIST_DIR`,
 * else /usr/share/datasets/fashion-mnist), or null when all four IDX files are there.
 */
export function fashionMnistMissing(): string | null {
  const { dir } = resolveDatasetDir('fashion-mnist');
  for (const split of ['train', 'test'] as const) {
    const f = splitFileNames(split);
    for (const base of [f.images, f.labels]) {
      if (!existsSync(join(dir, `${base}.gz`)) && !existsSync(join(dir, base))) return `Fashion-MNIST not found (${join(dir, base)}[.gz]; apt-get install dataset-fashion-mnist, or set GENPHYS_FASHION_MNIST_DIR)`;
    }
  }
  return null;
}

/**
 * Wall time of each epoch of a run, from its events: an epoch runs from the previous
 * epoch's checkpoint event (the start event for the first) to its own checkpoint event;
 * its training steps end at its last batch event, so the validation pass, metrics and
 * checkpoint are in the epoch time and not in the training time.
 */
class EpochClock {
  private readonly marks: number[] = [];
  private readonly lastBatch: number[] = [];
  readonly listener = (e: RunEvent): void => {
    const t = performance.now();
    // saveEvery = 1 in both runs, so every epoch ends with exactly one checkpoint event.
    if (e.type === 'start' || e.type === 'checkpoint') this.marks.push(t);
    else if (e.type === 'batch' && e.batch === e.batchesPerEpoch) this.lastBatch.push(t);
  };
  /** Milliseconds of each epoch, metrics and checkpoint included. */
  epochMs(): number[] {
    return this.marks.slice(1).map((t, i) => t - this.marks[i]!);
  }
  /** Milliseconds of each epoch's training steps alone. */
  trainMs(): number[] {
    return this.lastBatch.map((t, i) => t - this.marks[i]!);
  }
}

async function rbmPcdEpochs(dir: string, opts: EpochRunOptions, clock: EpochClock): Promise<{ batches: number; impl: string }> {
  const k = getKernels();
  let batches = 0;
  await trainRbmRun({
    dir,
    force: true,
    seed: opts.seed,
    data: { spec: 'fashion-mnist', binarize: 'static', ...(opts.limit !== undefined ? { limit: opts.limit } : {}) },
    hidden: 500,
    // The TrainOptions `rbm train --method pcd --k 1 --batch 128 --lr 0.01` builds, other flags at their defaults.
    train: { method: 'pcd', k: 1, batchSize: 128, learningRate: 0.01, momentum: 0, weightDecay: 0, averaging: 0, centering: false, ptReplicas: 10 },
    epochs: opts.warm + opts.epochs,
    exactEvery: 1,
    earlyStop: 0,
    aisEvery: 0,
    aisBetas: 1000,
    aisRuns: 32,
    gridEvery: 1,
    saveEvery: 1,
    kernels: `${k.name} (${k.blas})`,
    onEvent: (e) => {
      if (e.type === 'start') batches = e.batchesPerEpoch;
      clock.listener(e);
    },
  });
  return { batches, impl: `rbm train run layer, ${k.name} kernels (PCD-1, metrics, grids and checkpoint every epoch)` };
}

/** Test data binarised as `vae train` binarises it for the validation pass. */
function evalBinarized(data: VaeData, mode: TrainConfig['binarize'], seed: number): VaeData {
  if (mode === 'static') return { ...data, x: binarizeStatic(data.x) };
  if (mode === 'dynamic') return { ...data, x: binarizeDynamic(data.x, new Rng(seed).split(0xe7a1)) };
  return data;
}

async function vaeEpochs(preset: 'torch-mlp' | 'keras-conv', dir: string, opts: EpochRunOptions, clock: EpochClock): Promise<{ batches: number; impl: string }> {
  // What `vae train --preset P --data fashion-mnist --epochs E` resolves and loads (src/cli/vae.ts).
  const p = getPreset(preset);
  const model = p.model;
  const train: TrainConfig = { ...p.train, epochs: opts.warm + opts.epochs };
  const tr = loadVaeImages('fashion-mnist', 'train', opts.limit !== undefined ? { limit: opts.limit } : {});
  const te = loadVaeImages('fashion-mnist', 'test');
  validateConfig(model);
  validateData(tr, model, tr.name);
  validateData(te, model, te.name);
  const config = { command: 'vae train', preset, data: 'fashion-mnist', dataDir: null, limit: opts.limit ?? null, seed: opts.seed, model, train };
  let batches = 0;
  const res = await trainRun({
    dir,
    force: true,
    preset,
    model,
    train,
    seed: opts.seed,
    trainData: prepareData(tr, train.binarize),
    valData: evalBinarized(te, train.binarize, opts.seed),
    dataName: tr.name,
    config,
    onEvent: (e) => {
      if (e.type === 'start') batches = e.batchesPerEpoch;
      clock.listener(e);
    },
  });
  res.model.dispose();
  return { batches, impl: `vae train run layer, ${preset} (test pass and checkpoint every epoch)` };
}

/**
 * Run an end-to-end workload: `warm + epochs` epochs of the real training run into a fresh
 * temporary run directory (removed afterwards), each epoch timed from the end of the last
 * one's checkpoint to the end of its own. Fashion-MNIST must be present (see
 * {@link fashionMnistMissing}).
 */
export async function runEpochWorkload(workload: E2eWorkloadName, backend: BackendName, opts: EpochRunOptions): Promise<BenchResult & { impl: string }> {
  const dir = mkdtempSync(join(tmpdir(), `genphys-bench-${workload}-`));
  const clock = new EpochClock();
  try {
    const run = join(dir, 'run');
    const info = workload === 'rbm-pcd1-epoch-fashion' ? await rbmPcdEpochs(run, opts, clock) : await vaeEpochs(workload === 'vae-mlp-epoch-fashion' ? 'torch-mlp' : 'keras-conv', run, opts, clock);
    const ms = clock.epochMs().slice(opts.warm);
    const train = clock.trainMs().slice(opts.warm);
    const { median, min } = stats(ms);
    const tm = stats(train).median;
    return {
      workload,
      backend,
      ms_median: median,
      ms_min: min,
      steps: ms.length,
      batches: info.batches,
      train_ms_median: tm,
      ...(workload === 'rbm-pcd1-epoch-fashion' ? { step_ms_median: tm / info.batches } : {}),
      impl: info.impl,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The repository root: this module is two levels below it (src/bench/ or dist/cli-bundle/). */
function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** The PyTorch peer of a workload: an interpreter, a script and its arguments. */
export interface PeerCommand {
  /** Interpreter (see {@link peerPython}). */
  readonly python: string;
  /** Absolute path of the peer script. */
  readonly script: string;
  /** Its arguments, before any thread setting. */
  readonly args: readonly string[];
}

/** The interpreter that has Debian's python3-torch (`$GENPHYS_PEER_PYTHON` overrides it, for tests). */
export function peerPython(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env['GENPHYS_PEER_PYTHON'] || '/usr/bin/python3';
}

const EPOCH_SCRIPTS: Readonly<Record<E2eWorkloadName, string>> = {
  'rbm-pcd1-epoch-fashion': 'rbm_pcd_epoch_torch.py',
  'vae-mlp-epoch-fashion': 'vae_mlp_torch.py',
  'vae-conv-epoch-fashion': 'vae_conv_torch.py',
};

/**
 * The peer command of `workload` for the same counts: ../shared/bench/torch_peer.py for a
 * microbenchmark (`$GENPHYS_TORCH_PEER` overrides its path), the repository's bench/*_torch.py
 * epoch script for an end-to-end workload, on the same data directory and limit.
 */
export function peerCommand(workload: BenchWorkloadName, o: { steps: number; warm: number; limit?: number }, env: Readonly<Record<string, string | undefined>> = process.env): PeerCommand {
  const python = peerPython(env);
  const root = repoRoot();
  if (workload in EPOCH_SCRIPTS) {
    const script = join(root, 'bench', EPOCH_SCRIPTS[workload as E2eWorkloadName]);
    const args = ['--json', '--data', resolveDatasetDir('fashion-mnist', undefined, env).dir, '--epochs', String(o.warm + o.steps), ...(o.limit !== undefined ? ['--limit', String(o.limit)] : [])];
    return { python, script, args };
  }
  const script = env['GENPHYS_TORCH_PEER'] || join(root, '..', 'shared', 'bench', 'torch_peer.py');
  return { python, script, args: ['--json', '--only', workload, '--steps', String(o.steps), '--warm', String(o.warm)] };
}

/** A peer's result for one workload, at its best thread setting. */
export interface PeerResult {
  /** 'torch'. */
  readonly impl: string;
  /** Median ms per step (per epoch, with its test pass and checkpoint, for the e2e workloads). */
  readonly ms_median: number;
  /** Fastest step (epoch), ms. */
  readonly ms_min: number;
  /** Training steps alone (end-to-end workloads), ms. */
  readonly train_ms_median?: number;
  /** The best setting's torch intra-op threads. */
  readonly torch_threads?: number;
  /** The best setting's OpenBLAS threads. */
  readonly openblas_threads?: number;
  /** torch version. */
  readonly version?: string;
}

/**
 * Whether `python` can run the peer: null when it imports torch, else a one-line reason
 * (a missing interpreter, or one without torch).
 */
export function peerUnavailable(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${python} not found (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); the peer needs Debian's python3-torch`;
  if (r.status !== 0) return `${python} cannot import torch (apt-get install python3-torch)`;
  return null;
}

/**
 * Thread settings an epoch script is timed at: (torch intra-op, OpenBLAS). torch_peer.py's
 * three, plus torch 1 / OpenBLAS 2, the epoch scripts' best on the 2-core machine (torch's
 * GEMMs run on OpenBLAS's threads; two of each oversubscribe the cores).
 */
export const PEER_THREADS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [1, 2],
  [2, 1],
  [2, 2],
];

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** One JSON object per line of `out`, skipping lines that are not objects. */
function jsonLines(out: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const line of out.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    rows.push(JSON.parse(t) as Record<string, unknown>);
  }
  return rows;
}

/**
 * Run the PyTorch peer of `workload` and return its numbers at its best thread setting.
 * A microbenchmark's peer (torch_peer.py) tries the settings itself; an epoch script is run
 * once per {@link PEER_THREADS} setting in a fresh process, its first `warm` epochs dropped.
 * @returns the result, or a one-line reason it could not be had
 */
export function runPeer(workload: BenchWorkloadName, o: { steps: number; warm: number; limit?: number }, env: Readonly<Record<string, string | undefined>> = process.env): PeerResult | string {
  const cmd = peerCommand(workload, o, env);
  const run = (extra: readonly string[], vars: Record<string, string>): Record<string, unknown>[] | string => {
    const r = spawnSync(cmd.python, [cmd.script, ...cmd.args, ...extra], { encoding: 'utf8', env: { ...env, ...vars }, maxBuffer: 64 << 20 });
    if (r.error) return `${cmd.python}: ${r.error.message}`;
    if (r.status !== 0) return `${cmd.script} exited with ${r.status}: ${lastLine(r.stderr)}`;
    try {
      return jsonLines(r.stdout);
    } catch {
      return `${cmd.script}: output is not JSON lines: ${lastLine(r.stdout)}`;
    }
  };
  if (!(workload in EPOCH_SCRIPTS)) {
    const rows = run([], {});
    if (typeof rows === 'string') return rows;
    const t = rows.find((r) => r['workload'] === workload && r['impl'] === 'torch');
    if (!t || typeof t['ms_median'] !== 'number' || typeof t['ms_min'] !== 'number') return `${cmd.script}: no torch result for ${workload}`;
    return {
      impl: 'torch',
      ms_median: t['ms_median'],
      ms_min: t['ms_min'],
      ...(typeof t['torch_threads'] === 'number' ? { torch_threads: t['torch_threads'] } : {}),
      ...(typeof t['openblas_threads'] === 'number' ? { openblas_threads: t['openblas_threads'] } : {}),
      ...(typeof t['version'] === 'string' ? { version: t['version'] } : {}),
    };
  }
  let best: PeerResult | null = null;
  for (const [tt, bt] of PEER_THREADS) {
    const rows = run(['--threads', String(tt)], { OMP_NUM_THREADS: String(tt), OPENBLAS_NUM_THREADS: String(bt) });
    if (typeof rows === 'string') return rows;
    const epochs = rows.filter((r) => typeof r['epoch'] === 'number' && typeof r['seconds_e2e'] === 'number' && typeof r['seconds'] === 'number').slice(o.warm);
    if (epochs.length === 0) return `${cmd.script}: no epoch lines with seconds and seconds_e2e after ${o.warm} warm-up epochs`;
    const e2e = stats(epochs.map((r) => (r['seconds_e2e'] as number) * 1e3));
    const tr = stats(epochs.map((r) => (r['seconds'] as number) * 1e3));
    const v = epochs[0]!['torch'];
    const res: PeerResult = { impl: 'torch', ms_median: e2e.median, ms_min: e2e.min, train_ms_median: tr.median, torch_threads: tt, openblas_threads: bt, ...(typeof v === 'string' ? { version: v } : {}) };
    if (best === null || res.ms_median < best.ms_median) best = res;
  }
  return best!;
}
