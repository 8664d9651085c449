/**
 * `genphys info`: versions, the tensor backend and BLAS in use, the native
 * addon's status (and why it is missing), where datasets are found, the CPU.
 */
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { cpus } from 'node:os';
import { VERSION } from '../version.js';
import { initBackend, nativeStatus, NATIVE_HINT, type BackendInfo } from '../engine/backend.js';
import { getKernels } from '../engine/index.js';
import { listDataSources, type DataSource } from '../data/datasets.js';
import { globals } from './common.js';

/** Everything `genphys info` reports, as printed with `--json`. */
export interface InfoReport {
  /** genphys version. */
  readonly genphys: string;
  /** Node.js version. */
  readonly node: string;
  /** @tensorflow/tfjs-core version. */
  readonly tfjs: string;
  /** The tensor backend selected (as `--backend`/GENPHYS_BACKEND would select it). */
  readonly backend: BackendInfo;
  /** The native addon: whether it loads, and why not. */
  readonly native: { readonly available: boolean; readonly reason?: string; readonly hint?: string };
  /** Dense kernels used by the energy models (RBMs). */
  readonly kernels: { readonly name: string; readonly blas: string; readonly threads: number };
  /** Dataset directories and the splits present. */
  readonly data: readonly DataSource[];
  /** CPU model and logical core count. */
  readonly cpu: { readonly model: string; readonly count: number };
}

/** Collect the report (selects the tensor backend `backend`, quietly). */
export async function collectInfo(backend: Parameters<typeof initBackend>[0] = 'auto'): Promise<InfoReport> {
  const info = await initBackend(backend, { quiet: true });
  const st = await nativeStatus();
  const k = getKernels();
  const cs = cpus();
  return {
    genphys: VERSION,
    node: process.version,
    tfjs: tf.version_core,
    backend: info,
    native: st.available ? { available: true } : { available: false, reason: st.reason!, hint: NATIVE_HINT },
    kernels: { name: k.name, blas: k.blas, threads: k.threads },
    data: listDataSources(),
    cpu: { model: cs[0]?.model.trim() ?? 'unknown', count: cs.length },
  };
}

/** Human-readable lines of a report. */
export function formatInfo(r: InfoReport): string[] {
  const b = r.backend;
  const lines = [
    `genphys ${r.genphys}`,
    `node ${r.node}`,
    `tfjs ${r.tfjs}`,
    `tensor backend: ${b.name} (BLAS: ${b.blas}; threads: ${b.threads}${b.simd !== undefined ? `; SIMD: ${b.simd ? 'yes' : 'no'}` : ''})`,
    r.native.available ? 'native addon: available' : `native addon: not available (${r.native.reason}); ${r.native.hint}`,
    `energy-model kernels: ${r.kernels.name} (BLAS: ${r.kernels.blas}; threads: ${r.kernels.threads})`,
    'data:',
    ...r.data.map((d) => {
      const state = d.splits.length > 0 ? `found: ${d.splits.join(', ')}` : d.exists ? `no IDX files; ${d.hint}` : `missing; ${d.hint}`;
      return `  ${d.name}: ${d.dir} (${d.source}) ${state}`;
    }),
    `cpu: ${r.cpu.model} × ${r.cpu.count}`,
  ];
  return lines;
}

/** Register the `info` command. */
export function register(program: Command): void {
  program
    .command('info')
    .description('show versions, the tensor backend and BLAS, the native addon status, data directories and the CPU')
    .option('--json', 'print the report as one JSON object', false)
    .action(async (o: { json: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const r = await collectInfo(g.backend);
      if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(formatInfo(r).join('\n') + '\n');
    });
}
