/**
 * SIGKILL tests of the crash-safe save protocol and of resume, with real processes:
 *  - a process that does nothing but save checkpoints is killed at 50 random instants
 *    (so nearly every kill lands inside a save); after each kill the directory loads,
 *    holds one complete checkpoint, and the next start cleans what the kill left;
 *  - `rbm train` and `vae train` are killed at random instants and resumed, again and
 *    again; the final weights equal those of an uninterrupted run, byte for byte.
 * Needs the build (`npm test` builds first).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { cleanCheckpointDir, loadCheckpoint } from '../src/io/checkpoint.js';

const BIN = resolve('dist/cli/bin.js');
const CKPT = resolve('dist/io/checkpoint.js');
const root = mkdtempSync(join(tmpdir(), 'genphys-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The acceptance check (CI) kills each trainer 50 times; a developer's run does a shorter chain.
const KILLS = process.env.CI ? 50 : 10;
if (!process.env.CI) console.warn(`run-kill: ${KILLS} kills per trainer instead of CI's 50 (set CI=1 for the full chain)`);

/** Start `node args…`, SIGKILL it after `ms` (if still running); resolves with its exit code (null when killed). */
function runAndKill(args: string[], ms: number): Promise<number | null> {
  return new Promise((res) => {
    const p = spawn(process.execPath, args, { stdio: 'ignore' });
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', (code) => {
      clearTimeout(t);
      res(code);
    });
  });
}

function weightsHash(dir: string): string {
  const m = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { weights: { file: string } };
  return createHash('sha256').update(readFileSync(join(dir, m.weights.file))).digest('hex');
}

describe('SIGKILL during saves', () => {
  beforeAll(() => {
    if (!existsSync(CKPT)) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  });

  it('50 kills at random instants of a save loop: the run always loads a complete checkpoint', async () => {
    const dir = join(root, 'saves');
    // Saves step k with every weight equal to k (1 MiB of weights, so a save takes a while).
    const script = `
      import { saveCheckpoint, cleanCheckpointDir } from ${JSON.stringify(CKPT)};
      import { readFileSync, existsSync } from 'node:fs';
      const dir = ${JSON.stringify(dir)};
      cleanCheckpointDir(dir);
      let k = existsSync(dir + '/checkpoint.json') ? JSON.parse(readFileSync(dir + '/checkpoint.json', 'utf8')).step : 0;
      for (;;) { k++; saveCheckpoint(dir, { kind: 'test', config: { k }, tensors: { w: { shape: [262144], data: new Float32Array(262144).fill(k) } }, step: k, epoch: k }); }`;
    const rng = new Rng(2026);
    let lastStep = 0;
    for (let i = 0; i < 50; i++) {
      // Node starts in ~40 ms; kill 60–460 ms in, while it saves.
      const code = await runAndKill(['--input-type=module', '-e', script], 60 + 400 * rng.uniform());
      expect(code).toBeNull();
      if (!existsSync(join(dir, 'checkpoint.json'))) continue; // killed before the first save finished
      const ck = loadCheckpoint(dir);
      expect(ck.step).toBeGreaterThanOrEqual(lastStep);
      expect(ck.config).toEqual({ k: ck.step });
      const w = ck.tensors['w']!.data;
      expect(w[0]).toBe(ck.step);
      expect(w[w.length - 1]).toBe(ck.step);
      lastStep = ck.step;
    }
    expect(lastStep).toBeGreaterThan(5);
    cleanCheckpointDir(dir);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).weights.file].sort());
  });
});

describe('SIGKILL during training, then resume', () => {
  it(`rbm train: ${KILLS} kills at random instants, each run resumed; the final weights equal a straight run`, async () => {
    const flags = ['rbm', 'train', '--data', 'bars-and-stripes:4', '--hidden', '32', '--method', 'pcd', '--epochs', '150', '--batch', '2', '--schedule', 'cosine', '--average', '0.3', '--exact-every', '0', '--grid-every', '0', '--save-every', '1', '--seed', '11', '--quiet'];
    const straight = join(root, 'rbm-straight');
    const t0 = performance.now();
    const s = spawnSync(process.execPath, [BIN, ...flags, '--out', straight], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    // Kill instants: after start-up S, within a small fraction of the work W (measured here, as the machine may be busy),
    // so that a chain of 12 kills advances the run a little each time and does not finish early.
    const T = performance.now() - t0;
    const t1 = performance.now();
    spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    const S = performance.now() - t1;
    const W = Math.max(T - S, 100);
    const dir = join(root, 'rbm-killed');
    const rng = new Rng(7);
    let kills = 0;
    for (let i = 0; i < 3 * KILLS && kills < KILLS; i++) {
      const resume = existsSync(join(dir, 'config.json'));
      const code = await runAndKill([BIN, ...(resume ? ['rbm', 'train', '--resume', '--quiet'] : flags), '--out', dir], S + (0.6 / KILLS) * W * rng.uniform());
      if (code === null) kills++;
      else expect(code).toBe(0);
      if (code === 0) break;
      if (existsSync(join(dir, 'checkpoint.json'))) expect(() => loadCheckpoint(dir)).not.toThrow();
    }
    expect(kills).toBeGreaterThanOrEqual(Math.min(3, KILLS));
    const fin = spawnSync(process.execPath, [BIN, ...(existsSync(join(dir, 'config.json')) ? ['rbm', 'train', '--resume', '--quiet'] : flags), '--out', dir], { encoding: 'utf8' });
    expect(fin.status, fin.stderr).toBe(0);
    expect(weightsHash(dir)).toBe(weightsHash(straight));
    await sleep(0);
  });

  it(`vae train: ${KILLS} kills at random instants, each run resumed; the final weights equal a straight run`, async () => {
    const data = join(root, 'ising-data');
    const mk = spawnSync(process.execPath, [BIN, 'ising', 'sample', '--L', '6', '--temps', '2.0,3.0', '--n', '400', '--chains', '2', '--burn-in', '50', '--sweeps-between', '2', '--workers', '0', '--quiet', '--out', data], { encoding: 'utf8' });
    expect(mk.status, mk.stderr).toBe(0);
    const flags = ['vae', 'train', '--preset', 'ising-mlp', '--data', `ising:${data}`, '--epochs', '60', '--batch', '16', '--backend', 'cpu', '--seed', '3', '--quiet'];
    const straight = join(root, 'vae-straight');
    const t0 = performance.now();
    const s = spawnSync(process.execPath, [BIN, ...flags, '--out', straight], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const T = performance.now() - t0;
    const t1 = performance.now();
    spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    const S = performance.now() - t1;
    const W = Math.max(T - S, 100);
    const dir = join(root, 'vae-killed');
    const rng = new Rng(8);
    let kills = 0;
    for (let i = 0; i < 3 * KILLS && kills < KILLS; i++) {
      const resume = existsSync(join(dir, 'config.json'));
      const code = await runAndKill([BIN, ...flags, ...(resume ? ['--resume'] : []), '--out', dir], S + (1.2 / KILLS) * W * rng.uniform());
      if (code === null) kills++;
      else expect(code).toBe(0);
      if (code === 0) break;
      if (existsSync(join(dir, 'checkpoint.json'))) expect(() => loadCheckpoint(dir)).not.toThrow();
    }
    expect(kills).toBeGreaterThanOrEqual(Math.min(3, KILLS));
    const fin = spawnSync(process.execPath, [BIN, ...flags, ...(existsSync(join(dir, 'config.json')) ? ['--resume'] : []), '--out', dir], { encoding: 'utf8' });
    expect(fin.status, fin.stderr).toBe(0);
    expect(weightsHash(dir)).toBe(weightsHash(straight));
  });
});
