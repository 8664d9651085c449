/**
 * `genphys info` in-process: every section present, values consistent with
 * what the engine and the environment report; bad --backend is a usage error.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cpus } from 'node:os';
import { main } from '../src/cli/main.js';
import { VERSION } from '../src/version.js';
import { nativeStatus } from '../src/engine/backend.js';
import { captureOutput } from './cli-helpers.js';

const capture = captureOutput;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('genphys info', () => {
  it('prints versions, backend, native status, data directories and CPU', async () => {
    const st = await nativeStatus();
    const cap = capture();
    const code = await main(['info']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const lines = cap.out().trimEnd().split('\n');
    expect(lines[0]).toBe(`genphys ${VERSION}`);
    expect(lines[1]).toBe(`node ${process.version}`);
    expect(lines[2]).toBe(`tfjs ${tf.version_core}`);
    expect(lines[3]).toMatch(new RegExp(`^tensor backend: ${st.available ? 'native' : 'wasm'} \\(BLAS: .+; threads: \\d+`));
    expect(lines[4]).toBe(st.available ? 'native addon: available' : expect.stringContaining(`native addon: not available (${st.reason})`));
    expect(lines[5]).toMatch(/^energy-model kernels: (js|native) \(BLAS: .+; threads: \d+\)$/);
    expect(lines[6]).toBe('data:');
    expect(lines[7]).toMatch(/^ {2}fashion-mnist: \/\S+ \((flag|env|default)\) (found|missing|no IDX)/);
    expect(lines[8]).toMatch(/^ {2}mnist: \/\S+ \((flag|env|default)\) (found|missing|no IDX)/);
    expect(lines[9]).toBe(`cpu: ${cpus()[0]!.model.trim()} × ${cpus().length}`);
    expect(lines).toHaveLength(10);
  });

  it('--json gives one object with the same facts, honouring --backend', async () => {
    const cap = capture();
    const code = await main(['--backend', 'cpu', 'info', '--json']);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const r = JSON.parse(cap.out()) as { genphys: string; backend: { name: string; threads: number }; cpu: { count: number }; data: unknown[] };
    expect(r.genphys).toBe(VERSION);
    expect(r.backend.name).toBe('cpu');
    expect(r.backend.threads).toBe(1);
    expect(r.cpu.count).toBe(cpus().length);
    expect(r.data).toHaveLength(2);
  });

  it('an unknown --backend exits 2 naming the value and the choices', async () => {
    const cap = capture();
    const code = await main(['--backend', 'gpu', 'info']);
    vi.restoreAllMocks();
    expect(code).toBe(2);
    expect(cap.err().split('\n')[0]).toMatch(/--backend.*'gpu'.*auto, native, wasm, cpu/);
  });
});
