/**
 * tfjs-backend-webgpu in Node on Dawn (the `webgpu` package) with Chromium's SwiftShader
 * Vulkan driver: every kernel-equivalence case of src/engine/kernel-cases.ts agrees with
 * the cpu backend. The Vulkan loader is found through LD_LIBRARY_PATH, which only counts at
 * process start, so the check runs in a child process (test/fixtures/webgpu-node-check.ts,
 * bundled with esbuild) started with SWIFTSHADER_ENV; it prints its report as JSON.
 * Without the driver the file skips with a message, except under CI, where it fails.
 * First, in process: the runner itself (errors, leaks, throws) on wasm against cpu.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend.js';
import { checkKernels, elementwiseError, kernelCases, relativeError, type KernelCase } from '../src/engine/kernel-cases.js';
import { SWIFTSHADER_ENV, SWIFTSHADER_ICD } from '../src/engine/webgpu-node.js';

const haveDriver = existsSync(SWIFTSHADER_ICD);
if (!haveDriver) {
  if (process.env.CI) throw new Error(`engine-webgpu-node: ${SWIFTSHADER_ICD} is missing, and CI runs every test (apt-get install chromium)`);
  console.warn(`engine-webgpu-node: skipped, ${SWIFTSHADER_ICD} not found (apt-get install chromium for SwiftShader's Vulkan driver)`);
}

interface Report {
  status: { available: boolean; reason?: string; adapter?: Record<string, string> };
  special: null | { cases: { name: string; pass: boolean; maxRelErr: number | string | null }[] };
  report: null | {
    passed: number;
    failed: number;
    ms: number;
    referenceMs: number;
    cases: { name: string; pass: boolean; maxRelErr: number | string | null; tol: number; leaked: number; error?: string }[];
  };
}

/** Bundle the fixture inside the repository (so its bare imports resolve from node_modules) and run it. */
function runCheck(script: string, env: Record<string, string | undefined>, args: string[] = []): { rc: number | null; out: Report | null; stderr: string } {
  const r = spawnSync(process.execPath, [script, ...args], { env, encoding: 'utf8', timeout: 110_000, maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('KERNEL-REPORT '));
  return { rc: r.status, out: line ? (JSON.parse(line.slice('KERNEL-REPORT '.length)) as Report) : null, stderr: r.stderr };
}

describe('kernel-case runner (in process: wasm with genphys fixes vs cpu)', () => {
  it('relativeError and elementwiseError: closed-form values, NaN/∞ placement, lengths', () => {
    // rms(want) = √((9 + 16)/2) = 3.5355; worst entry: |3.3 − 3| / (3 + 3.5355).
    expect(relativeError([3.3, 4], [3, 4])).toBeCloseTo(0.3 / (3 + Math.sqrt(12.5)), 12);
    expect(relativeError([1, 2], [1, 2, 3])).toBe(Infinity);
    expect(relativeError([NaN, Infinity, 1], [NaN, Infinity, 1])).toBe(0);
    expect(relativeError([NaN, 1], [0, 1])).toBe(Infinity);
    expect(relativeError([-Infinity], [Infinity])).toBe(Infinity);
    expect(relativeError([0, 0], [0, 0])).toBe(0);
    expect(elementwiseError([1e-30 * 1.5, 2], [1e-30, 2])).toBeCloseTo(0.5, 12);
    expect(elementwiseError([1e-38], [0])).toBe(0); // subnormal flush accepted
    expect(elementwiseError([1e-3], [0])).toBe(Infinity);
  });

  it('every case passes on wasm; a perturbed, a leaking and a throwing case fail with the right report', async () => {
    await initBackend('wasm', { quiet: true });
    const perturbed: KernelCase = {
      name: 'perturbed on wasm',
      group: 'unary',
      convGradient: false,
      tol: 1e-4,
      // Entry 0 is off by 1e-3 on wasm only: error 1e-3 / (|1| + rms 1) = 5e-4 > tol.
      build: (t) => [tf.getBackend() === 'cpu' ? t.tensor1d([1, 1]) : t.tensor1d([1.001, 1])],
    };
    const leaking: KernelCase = { name: 'leaks a variable', group: 'unary', convGradient: false, tol: 1e-4, build: (t) => (t.variable(t.zeros([2])), [t.ones([2])]) };
    const throwing: KernelCase = {
      name: 'throws on wasm',
      group: 'unary',
      convGradient: false,
      tol: 1e-4,
      build: (t) => {
        if (tf.getBackend() !== 'cpu') throw new Error('no such kernel\nsecond line');
        return [t.ones([1])];
      },
    };
    const before = tf.memory().numTensors;
    const rep = await checkKernels(tf, 'wasm', 'cpu', { cases: [...kernelCases(), perturbed, leaking, throwing] });
    expect(tf.getBackend()).toBe('wasm');
    const byName = new Map(rep.cases.map((c) => [c.name, c]));
    expect(rep.cases.slice(0, -3).filter((c) => !c.pass).map((c) => c.name)).toEqual([]);
    expect(byName.get('perturbed on wasm')!.maxRelErr).toBeCloseTo(1e-3 / 2, 6);
    expect(byName.get('perturbed on wasm')!.pass).toBe(false);
    expect(byName.get('leaks a variable')!.leaked).toBe(1);
    expect(byName.get('leaks a variable')!.pass).toBe(false);
    expect(byName.get('throws on wasm')).toMatchObject({ pass: false, maxRelErr: null, error: 'no such kernel' });
    expect(rep.failed).toBe(3);
    // Only the deliberately leaked variables (one per backend run) remain.
    expect(tf.memory().numTensors - before).toBe(2);
    tf.disposeVariables();
  });
});

describe.skipIf(!haveDriver)('tfjs webgpu backend in Node (Dawn on SwiftShader)', () => {
  let dir: string;
  let script: string;
  beforeAll(async () => {
    const cache = resolve('node_modules/.cache');
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'genphys-webgpu-node-'));
    script = join(dir, 'webgpu-node-check.mjs');
    const { build } = await import('esbuild');
    await build({ entryPoints: [resolve('test/fixtures/webgpu-node-check.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: script, logLevel: 'error' });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every kernel case matches cpu on webgpu, with SwiftShader as the adapter', () => {
    const env = { ...process.env, ...SWIFTSHADER_ENV };
    const t0 = Date.now();
    const { rc, out, stderr } = runCheck(script, env);
    expect(rc, stderr.slice(-2000)).toBe(0);
    expect(out, 'no KERNEL-REPORT line').not.toBeNull();
    const { status, report } = out!;
    expect(status.available, status.reason).toBe(true);
    expect(status.adapter!['vendor']).toBe('google');
    expect(status.adapter!['architecture']).toBe('swiftshader');
    console.log(`webgpu in Node: ${report!.passed}/${report!.cases.length} cases in ${(report!.ms / 1000).toFixed(1)} s (cpu reference ${(report!.referenceMs / 1000).toFixed(1)} s; process ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    expect(report!.cases.map((c) => c.name)).toEqual(kernelCases().map((c) => c.name));
    const failing = report!.cases.filter((c) => !c.pass).map((c) => `${c.name}: err ${c.maxRelErr} > tol ${c.tol}, leaked ${c.leaked}${c.error ? `, threw ${c.error}` : ''}`);
    expect(failing).toEqual([]);
    expect(report!.failed).toBe(0);
    // Informative only: GPU backends legitimately differ from cpu on ±∞, NaN and 1e-30 inputs.
    const differ = out!.special!.cases.filter((c) => !c.pass).map((c) => `${c.name.split(' ')[0]} (${c.maxRelErr})`);
    console.log(`webgpu in Node, IEEE edge cases differing from cpu (not asserted): ${differ.join(', ') || 'none'}`);
  }, 120_000);

  it('without the SwiftShader environment, initWebgpuNode says in one line what is missing', () => {
    const env: Record<string, string | undefined> = { ...process.env };
    delete env['VK_ICD_FILENAMES'];
    delete env['LD_LIBRARY_PATH'];
    const { rc, out } = runCheck(script, env, ['matMul 1×1×1']);
    expect(rc).toBe(0);
    expect(out!.report).toBeNull();
    expect(out!.status.available).toBe(false);
    expect(out!.status.reason).toMatch(/^webgpu: Dawn found no GPU adapter /);
    expect(out!.status.reason).toContain('LD_LIBRARY_PATH=/usr/lib/chromium');
    expect(out!.status.reason).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`);
    expect(out!.status.reason!.includes('\n')).toBe(false);
  });
});
