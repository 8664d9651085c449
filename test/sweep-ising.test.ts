/**
 * `ising rbm --queue`: the dataset is made once by the submitting process, each
 * temperature is a job `ising rbm --data ising:DIR:T` served by three worker processes
 * on a private redis-server, and the gathered comparison equals, byte for byte, the one
 * a local `ising rbm` on the same dataset and seed writes — each temperature trains
 * from `Rng(seed).split(1).split(i)`, i its index in the dataset, in both.
 *
 * Needs `redis-server` and a built dist/ (the workers and jobs run dist/). Without
 * redis-server the test skips with a message, except under CI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSweepSpec, runSweepLocal } from '../src/sweep/node.js';
import { isingRbmSpec } from '../src/sweep/ising.js';
import type { IsingRbmSettings } from '../src/physics/ising-rbm-run.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const DIST_SWEEP = join(ROOT, 'dist', 'sweep', 'node.js');
const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
const RUN_QUEUE = HAVE_REDIS || process.env.CI === 'true';
if (!RUN_QUEUE) console.warn('sweep-ising.test: redis-server is not installed; skipping (apt-get install redis-server)');
if (!existsSync(BIN) || !existsSync(DIST_SWEEP)) throw new Error(`sweep-ising.test needs a build: run 'npm run build' (missing ${BIN} or ${DIST_SWEEP})`);

const tmp = mkdtempSync(join(tmpdir(), 'genphys-sweep-ising-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) continue;
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('error', () => res(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      res(d.toString().startsWith('+PONG'));
    });
  });
}

function spawnWorker(queue: string, out: string): Promise<ChildProcess> {
  const cfg = JSON.stringify({ queue, out, concurrency: 1, bin: BIN, graceMs: 5000 });
  const code = `const m = await import(${JSON.stringify(DIST_SWEEP)}); const w = await m.startWorker(${cfg}); process.stdout.write('ready\\n'); await w.closed;`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stderr!.on('data', (d: Buffer) => void process.stderr.write(`[worker ${p.pid}] ${d.toString()}`));
  children.push(p);
  return new Promise((res, rej) => {
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res(p));
    p.once('exit', (c) => rej(new Error(`worker exited early with ${c}`)));
  });
}

function genphys(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Tiny RBM settings: L = 4, three temperatures, two epochs, short sampling. */
const RBM = ['--n', '200', '--epochs', '2', '--batch', '50', '--rbm-chains', '10', '--rbm-burn-in', '10', '--rbm-steps', '50', '--seed', '3', '--quiet'];
const MC = ['--L', '4', '--temps', '1.5,2.3,3.0', '--burn-in', '50', '--chains', '2', '--sweeps-between', '2', '--workers', '0'];

interface Row {
  T: number;
  trainSeconds?: number;
  sampleSeconds?: number;
}
const untimed = (rows: Row[]) => rows.map(({ trainSeconds: _t, sampleSeconds: _s, ...r }) => r);

describe.skipIf(!RUN_QUEUE)('ising rbm --queue', () => {
  it('three workers: the gathered comparison equals a local ising rbm on the same dataset and seed', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore', detached: true });
    children.push(redis);
    for (let i = 0; !(await ping(port)); i++) {
      if (i > 200) throw new Error('redis-server did not answer PING');
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `redis://127.0.0.1:${port}`;
    const qOut = join(tmp, 'queued');
    const workers = await Promise.all([0, 1, 2].map(() => spawnWorker(url, qOut)));
    const q = spawn(process.execPath, [BIN, 'ising', 'rbm', '--queue', url, ...MC, ...RBM, '--out', qOut], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(q);
    let qErr = '';
    q.stderr!.on('data', (d: Buffer) => void (qErr += d.toString()));
    const qCode = await new Promise<number | null>((res) => q.once('exit', (c) => res(c)));
    expect(qCode, qErr).toBe(0);
    // The dataset was made once, in <out>/data, by the submitting process.
    expect(readdirSync(join(qOut, 'data')).filter((f) => f.endsWith('.npy'))).toHaveLength(3);
    const runDirs = readdirSync(qOut).filter((f) => /^[0-9a-f]{64}$/.test(f));
    expect(runDirs).toHaveLength(3);
    // Three different workers took part only if the machine let them; each job ran exactly once.
    const starts = readFileSync(join(qOut, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; id: string }).filter((e) => e.event === 'start');
    expect(starts.map((e) => e.id).sort()).toEqual([...runDirs].sort());
    for (const d of runDirs) {
      const cfg = JSON.parse(readFileSync(join(qOut, d, 'config.json'), 'utf8')) as { temperatures: number[]; seed: number };
      expect(cfg.temperatures).toHaveLength(1);
      expect(cfg.seed).toBe(3);
    }

    const local = join(tmp, 'local');
    const r = genphys(['ising', 'rbm', '--data', `ising:${join(qOut, 'data')}`, ...RBM, '--out', local]);
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['comparison.csv', 'comparison.md']) expect(readFileSync(join(qOut, f), 'utf8'), f).toBe(readFileSync(join(local, f), 'utf8'));
    const gathered = JSON.parse(readFileSync(join(qOut, 'results.json'), 'utf8')) as Row[];
    const straight = JSON.parse(readFileSync(join(local, 'results.json'), 'utf8')) as Row[];
    expect(gathered.map((x) => x.T)).toEqual([1.5, 2.3, 3.0]);
    expect(untimed(gathered)).toEqual(untimed(straight));
    expect(readFileSync(join(qOut, 'comparison.svg'), 'utf8')).toMatch(/^<svg/);
    const summary = JSON.parse(readFileSync(join(qOut, 'summary.json'), 'utf8')) as { done: number; total: number };
    expect(summary).toMatchObject({ done: 3, total: 3 });

    await Promise.all(workers.map((w) => new Promise<void>((res) => (w.once('exit', () => res()), w.kill('SIGTERM')))));
    redis.kill('SIGTERM');
  }, 90_000);
});

describe('sweep run of ising rbm jobs', () => {
  it('gathers one comparison per setting of the other axes from the jobs\' results.json', async () => {
    const data = join(tmp, 'ds');
    const g = genphys(['ising', 'sample', ...MC, '--n', '200', '--out', data, '--quiet']);
    expect(g.status, g.stderr).toBe(0);
    const base = { n: 200, epochs: 2, batch: 50, 'rbm-chains': 10, 'rbm-burn-in': 10, 'rbm-steps': 50, seed: 3, quiet: true };
    const spec = parseSweepSpec({ command: 'ising rbm', base, grid: { lr: [0.01, 0.02], data: [`ising:${data}:3`, `ising:${data}:1.5`] } });
    const out = join(tmp, 'sweep');
    const s = await runSweepLocal(spec, { out, workers: 2, bin: BIN });
    expect(s).toMatchObject({ done: 4, failed: 0 });
    for (const lr of [0.01, 0.02]) {
      const dir = join(out, 'comparison', `lr=${lr}`);
      const rows = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Row[];
      // Sorted by T, and each row is the job's own row.
      expect(rows.map((r) => r.T)).toEqual([1.5, 3]);
      const own = s.rows.filter((r) => r.axes.lr === lr).map((r) => (JSON.parse(readFileSync(join(out, r.id, 'results.json'), 'utf8')) as Row[])[0]!);
      expect(untimed(rows)).toEqual(untimed(own.sort((a, b) => a.T - b.T)));
      expect(readFileSync(join(dir, 'comparison.md'), 'utf8')).toContain('| 1.500 |');
      expect(existsSync(join(dir, 'comparison.svg'))).toBe(true);
    }
  }, 60_000);
});

describe('ising rbm --queue and ising:DIR:T: bad input', () => {
  it('a temperature the dataset lacks, and an --out that is not a queue run, are one-line usage errors', () => {
    const data = join(tmp, 'ds');
    const miss = genphys(['ising', 'rbm', '--data', `ising:${data}:2.7`, ...RBM, '--out', join(tmp, 'miss')]);
    expect(miss.status).toBe(2);
    expect(miss.stderr.trim().split('\n')).toHaveLength(1);
    expect(miss.stderr).toMatch(/no temperature 2.7 in the dataset \(it has 1\.5000, 2\.3000, 3\.0000\)/);
    // Not a run: nothing is removed or written, and Redis is never asked (the port is closed).
    const busy = join(tmp, 'ds');
    const q = genphys(['ising', 'rbm', '--queue', 'redis://127.0.0.1:1', '--data', `ising:${data}`, ...RBM, '--out', busy, '--force']);
    expect(q.status).toBe(2);
    expect(q.stderr.trim().split('\n')).toHaveLength(1);
    expect(q.stderr).toMatch(/--out .*: exists and is not an ising rbm --queue run/);
    expect(existsSync(join(busy, 'manifest.json'))).toBe(true);
  });
});

describe('ising rbm --queue: the jobs train the submitted model', () => {
  it('passes --filter-size and --pl-sites on to every job (a worker must not fall back to its own defaults)', () => {
    const settings = { L: 8, temps: [2.5], n: 100, algo: 'wolff', sweepsBetween: 10, burnIn: 100, chains: 4, method: 'pcd', k: 5, batch: 50, lr: 0.02, momentum: 0.5, optimizer: 'sgd', epochs: 3, filterSize: 0, plSites: 8, rbmChains: 10, rbmBurnIn: 5, rbmSteps: 10 } as unknown as IsingRbmSettings;
    const spec = isingRbmSpec(settings, 1, '/data', [2.5]);
    expect(spec.base['filter-size']).toBe(0);
    expect(spec.base['pl-sites']).toBe(8);
    expect(spec.base.method).toBe('pcd');
  });
});
