/**
 * Sweeps end to end on real short runs: the local pool, the BullMQ queue with three
 * worker processes on a private redis-server, duplicate enqueues, an unreachable
 * Redis, a worker killed with SIGKILL mid-job, and a Redis restart mid-sweep.
 *
 * Needs `redis-server` (apt-get install redis-server) and a built dist/ (`npm run
 * build`: the workers and the jobs run dist/). Without redis-server the queue tests
 * skip with a message, except under CI, where they run and fail.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register as registerSweep } from '../src/cli/sweep.js';
import { enqueueSweep, expandSweep, parseSweepSpec, QueueError, runSweepLocal, startWorker, sweepReport, sweepStatus, type SweepProgress } from '../src/sweep/node.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const DIST_SWEEP = join(ROOT, 'dist', 'sweep', 'node.js');
const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;
const RUN_QUEUE = HAVE_REDIS || process.env.CI === 'true';
if (!RUN_QUEUE) console.warn('sweep-run.test: redis-server is not installed; skipping the queue tests (apt-get install redis-server)');
if (!existsSync(BIN) || !existsSync(DIST_SWEEP)) throw new Error(`sweep-run.test needs a build: run 'npm run build' (missing ${BIN} or ${DIST_SWEEP})`);

const tmp = mkdtempSync(join(tmpdir(), 'genphys-sweep-'));
const children: ChildProcess[] = [];

/** The 12-job sweep of short runs (≈0.5 s each) used throughout. */
const SPEC = parseSweepSpec({
  command: 'rbm train',
  base: { data: 'bars-and-stripes:3', epochs: 2, 'grid-every': 0, quiet: true },
  grid: { hidden: [3, 4], lr: [0.01, 0.03], seed: [1, 2, 3] },
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

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, fn: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A private redis-server with AOF on, in its own directory. */
class Redis {
  proc: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', this.dir], { stdio: 'ignore' });
    children.push(this.proc);
    let spawnError: Error | null = null;
    this.proc.once('error', (e) => void (spawnError = e));
    const end = Date.now() + 10_000;
    while (!(await this.ping())) {
      if (spawnError) throw new Error(`cannot start redis-server (apt-get install redis-server): ${(spawnError as Error).message}`);
      if (Date.now() > end) throw new Error(`redis-server on port ${this.port} did not answer PING`);
      await sleep(50);
    }
  }
  async ping(): Promise<boolean> {
    return new Promise((res) => {
      const s = tcpConnect(this.port, '127.0.0.1');
      s.once('error', () => res(false));
      s.once('connect', () => s.write('PING\r\n'));
      s.once('data', (d) => {
        s.destroy();
        res(d.toString().startsWith('+PONG'));
      });
    });
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    // SIGTERM: redis flushes the AOF and exits.
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }
}

/** A worker in its own process (and process group, so SIGKILL of the group is "the machine died"). */
function spawnWorker(queue: string, out: string, opts: { lockDuration?: number; stalledInterval?: number; name?: string } = {}): ChildProcess {
  const cfg = JSON.stringify({ queue, out, concurrency: 1, bin: BIN, graceMs: 5000, ...opts });
  const code = `const m = await import(${JSON.stringify(DIST_SWEEP)}); const w = await m.startWorker(${cfg}); process.stdout.write('ready ' + w.name + '\\n'); await w.closed;`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stderr!.on('data', (d: Buffer) => void process.stderr.write(`[worker ${p.pid}] ${d.toString()}`));
  children.push(p);
  return p;
}

async function workerReady(p: ChildProcess): Promise<void> {
  await new Promise<void>((res, rej) => {
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res());
    p.once('exit', (c) => rej(new Error(`worker exited early with ${c}`)));
  });
}

/**
 * SIGTERM a worker and wait for it; after 10 s, SIGKILL. (Seen once: after a Redis restart a worker did
 * not exit on SIGTERM — a known issue, reported — and the test then hung in teardown after passing.)
 */
async function stopWorker(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((r) => {
    const t = setTimeout(() => {
      console.warn(`sweep-run: worker ${p.pid} did not exit within 10 s of SIGTERM; killing it`);
      p.kill('SIGKILL');
    }, 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      r();
    });
    p.kill('SIGTERM');
  });
}

interface Event {
  event: string;
  id: string;
  worker: string;
  resume?: boolean;
}
function events(out: string): Event[] {
  const p = join(out, 'events.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event) : [];
}

function runDirs(out: string): string[] {
  return readdirSync(out).filter((f) => /^[0-9a-f]{64}$/.test(f)).sort();
}

/** sha256 of the weights file the run's checkpoint manifest points to (computed here, not read from the manifest). */
function weightsHash(runDir: string): string {
  const manifest = JSON.parse(readFileSync(join(runDir, 'checkpoint.json'), 'utf8')) as { weights?: { file?: string } };
  const file = manifest.weights?.file ?? 'checkpoint.safetensors';
  return createHash('sha256').update(readFileSync(join(runDir, file))).digest('hex');
}

afterAll(async () => {
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

const localOut = join(tmp, 'local');
const jobIds = (): string[] => runDirs(localOut);

describe('local pool', () => {
  it('runs 12 jobs 3 at a time, each exactly once, and skips them all on a second run', async () => {
    const seen: SweepProgress[] = [];
    const s = await runSweepLocal(SPEC, { out: localOut, workers: 3, bin: BIN, onProgress: (p) => seen.push(p) });
    expect(s.total).toBe(12);
    expect(s.done).toBe(12);
    expect(s.failed).toBe(0);
    expect(runDirs(localOut)).toHaveLength(12);
    expect(Math.max(...seen.map((p) => p.running))).toBe(3);
    expect(seen.at(-1)).toMatchObject({ done: 12, running: 0, failed: 0, waiting: 0 });
    const starts = events(localOut).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(12);
    for (const id of runDirs(localOut)) {
      const r = JSON.parse(readFileSync(join(localOut, id, 'result.json'), 'utf8')) as { id: string; exitCode: number; metrics: { epoch: number } };
      expect(r).toMatchObject({ id, exitCode: 0 });
      expect(r.metrics.epoch).toBe(2);
    }
    const again = await runSweepLocal(SPEC, { out: localOut, workers: 3, bin: BIN });
    expect(again.done).toBe(12);
    expect(events(localOut).filter((e) => e.event === 'start')).toHaveLength(12);
    expect(await sweepStatus(localOut)).toEqual({ total: 12, done: 12, running: 0, failed: 0, waiting: 0 });
    const rep = await sweepReport(localOut);
    expect(rep.csv.split('\n')[0]).toMatch(/^id,state,hidden,lr,seed,wall_seconds,epoch,/);
    expect(rep.csv.trim().split('\n')).toHaveLength(13);
  });
});

describe('sweep CLI', () => {
  async function cli(argv: string[]): Promise<string> {
    const program = new Command('genphys').option('--out <path>').option('--quiet', 'quiet', false).exitOverride();
    registerSweep(program);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    try {
      await program.parseAsync(argv, { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it('status, report and a dry run of the local sweep', async () => {
    expect(await cli(['sweep', 'status', '--out', localOut])).toBe(`[${'█'.repeat(40)}] 12 done, 0 running, 0 failed, 0 waiting (12 jobs)\n`);
    expect(await cli(['sweep', 'report', '--format', 'csv', '--out', localOut])).toBe((await sweepReport(localOut)).csv);
    const specFile = join(tmp, 'spec.json');
    writeFileSync(specFile, JSON.stringify(SPEC));
    const lines = (await cli(['sweep', 'run', specFile, '--dry-run', '--out', localOut])).trim().split('\n');
    expect(lines).toHaveLength(12);
    const first = expandSweep(SPEC)[0]!.id;
    expect(lines[0]).toBe(`${first.slice(0, 12)}  genphys rbm train --data bars-and-stripes:3 --epochs 2 --grid-every 0 --quiet --hidden 3 --lr 0.01 --seed 1 --out ${join(localOut, first)}`);
  });

  it('a missing or malformed spec file is a one-line error naming the file', async () => {
    await expect(cli(['sweep', 'run', join(tmp, 'absent.json'), '--out', localOut])).rejects.toThrow(/absent\.json: no such file$/);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"command": "rbm train", "grid": {"hidden": []}}');
    await expect(cli(['sweep', 'run', bad, '--out', localOut])).rejects.toThrow(/bad\.json: grid\.hidden: is an empty axis/);
  });
});

describe.runIf(RUN_QUEUE)('BullMQ queue', () => {
  // Long enough (≈1-3 s) to be stopped after its first checkpoint (every 5 epochs).
  const long = (seed: number) => parseSweepSpec({ command: 'rbm train', base: { data: 'bars-and-stripes:3', hidden: 4, epochs: 100, 'grid-every': 0, 'save-every': 5, quiet: true, seed } });
  const LONG = long(5);
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis(await freePort(), mkdtempSync(join(tmp, 'redis-')));
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('three workers run a 12-job sweep, each job once; enqueueing twice adds nothing; weights equal the local pool', async () => {
    const out = join(tmp, 'queue');
    const ws = [spawnWorker(redis.url, out), spawnWorker(redis.url, out), spawnWorker(redis.url, out)];
    await Promise.all(ws.map(workerReady));
    const first = await enqueueSweep(SPEC, { queue: redis.url, out });
    const second = await enqueueSweep(SPEC, { queue: redis.url, out });
    expect(first).toMatchObject({ jobs: 12, added: 12 });
    expect(second).toMatchObject({ sweepId: first.sweepId, jobs: 12, added: 0 });
    // The parent job writes summary.json once every child has ended.
    await until('summary.json', () => existsSync(join(out, 'summary.json')), 40_000);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { done: number; failed: number };
    expect(summary).toMatchObject({ done: 12, failed: 0 });
    const third = await enqueueSweep(SPEC, { queue: redis.url, out });
    expect(third.added).toBe(0);
    await sleep(500);
    const starts = events(out).filter((e) => e.event === 'start');
    expect(starts.map((e) => e.id).sort()).toEqual(jobIds());
    expect(runDirs(out)).toEqual(jobIds());
    expect(await sweepStatus({ out, queue: redis.url })).toEqual({ total: 12, done: 12, running: 0, failed: 0, waiting: 0 });
    for (const id of jobIds()) expect(weightsHash(join(out, id)), id).toBe(weightsHash(join(localOut, id)));
    await Promise.all(ws.map(stopWorker));
  });

  it('an unreachable Redis is a one-line error within the timeout', async () => {
    const url = `redis://:secret@127.0.0.1:${await freePort()}`;
    for (const attempt of [() => enqueueSweep(SPEC, { queue: url, out: join(tmp, 'nowhere'), timeoutMs: 1500 }), () => startWorker({ queue: url, out: join(tmp, 'nowhere'), timeoutMs: 1500, handleSignals: false })]) {
      const t0 = Date.now();
      const err = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      const ms = Date.now() - t0;
      expect(err).toBeInstanceOf(QueueError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: Redis not reachable within 1\.5 s \(.*ECONNREFUSED.*\)$/);
      expect(msg).not.toContain('secret');
      // Bound: the 1.5 s timeout plus at most 0.5 s for closing, with slack for a loaded machine.
      expect(ms).toBeLessThan(1500 + 1500);
    }
  });

  describe('a worker killed with SIGKILL mid-job', () => {
    const out = join(tmp, 'killed');
    const ref = join(tmp, 'killed-ref');
    let id = '';

    it('is retried on another worker, which resumes the checkpoint', async () => {
      // Its own queue name: BullMQ's stalled check is throttled per queue by the last checker's
      // interval, and the earlier tests' workers used the 30 s default.
      const fast = { lockDuration: 1500, stalledInterval: 500, name: 'genphys-kill' };
      const victim = spawnWorker(redis.url, out, fast);
      await workerReady(victim);
      const r = await enqueueSweep(LONG, { queue: redis.url, out, name: fast.name });
      expect(r.added).toBe(1);
      id = runDirs(out)[0] ?? (await until('run directory', () => runDirs(out)[0], 10_000));
      await until('a checkpoint', () => existsSync(join(out, id, 'checkpoint.json')), 10_000);
      expect(existsSync(join(out, id, 'result.json'))).toBe(false);
      process.kill(-victim.pid!, 'SIGKILL');
      const rescuer = spawnWorker(redis.url, out, fast);
      await workerReady(rescuer);
      await until('result.json', () => existsSync(join(out, id, 'result.json')), 30_000);
      const ev = events(out).filter((e) => e.event === 'start' && e.id === id);
      expect(ev).toHaveLength(2);
      expect(ev[0]!.worker).not.toBe(ev[1]!.worker);
      expect(ev[1]!.resume).toBe(true);
      expect(JSON.parse(readFileSync(join(out, id, 'result.json'), 'utf8'))).toMatchObject({ id, resumed: true });
      await stopWorker(rescuer);
      await runSweepLocal(LONG, { out: ref, workers: 1, bin: BIN });
    });

    it('and its final weights equal an uninterrupted run', () => {
      expect(id).not.toBe('');
      const final = (dir: string) => (JSON.parse(readFileSync(join(dir, id, 'result.json'), 'utf8')) as { metrics: { epoch: number } }).metrics.epoch;
      expect(final(out)).toBe(100);
      expect(weightsHash(join(out, id))).toBe(weightsHash(join(ref, id)));
    });
  });

  it('a failing job is retried with backoff, a usage error is not, and the summary still comes', async () => {
    const out = join(tmp, 'failing');
    const absent = join(tmp, 'absent-spins.txt');
    const spec = parseSweepSpec({ command: 'rbm train', base: { epochs: 1, quiet: true }, grid: { data: ['bars-and-stripes:3', `spins:${absent}`, 'nosuch:3'] } });
    const [ok, missing, usage] = expandSweep(spec).map((j) => j.id) as [string, string, string];
    const w = spawnWorker(redis.url, out, { name: 'genphys-fail' });
    await workerReady(w);
    await enqueueSweep(spec, { queue: redis.url, out, name: 'genphys-fail', attempts: 2, backoffMs: 100 });
    await until('summary.json', () => existsSync(join(out, 'summary.json')), 30_000);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ total: 3, done: 1, failed: 2 });
    const starts = (id: string) => events(out).filter((e) => e.event === 'start' && e.id === id).length;
    expect([starts(ok), starts(missing), starts(usage)]).toEqual([1, 2, 1]);
    const rows = new Map((await sweepReport(out)).rows.map((r) => [r.id, r]));
    expect(rows.get(ok)!.state).toBe('done');
    expect(rows.get(missing)!.error).toBe(`genphys: ${absent}: cannot read spin file (ENOENT)`);
    expect(rows.get(usage)!.error).toMatch(/^genphys: --data 'nosuch:3': /);
    await stopWorker(w);
  });

  it('SIGTERM stops a worker mid-job; the job goes back to the queue without using an attempt and is resumed', async () => {
    const out = join(tmp, 'term');
    const w1 = spawnWorker(redis.url, out);
    await workerReady(w1);
    // One attempt only: had the shutdown counted as a failed attempt, the job would fail for good.
    await enqueueSweep(long(6), { queue: redis.url, out, attempts: 1 });
    const id = await until('run directory', () => runDirs(out)[0], 10_000);
    await until('a checkpoint', () => existsSync(join(out, id, 'checkpoint.json')), 10_000);
    const t0 = Date.now();
    await stopWorker(w1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(existsSync(join(out, id, 'result.json'))).toBe(false);
    const w2 = spawnWorker(redis.url, out);
    await workerReady(w2);
    await until('result.json', () => existsSync(join(out, id, 'result.json')), 20_000);
    const ev = events(out).filter((e) => e.id === id);
    expect(ev.map((e) => e.event)).toEqual(['start', 'interrupted', 'start', 'done']);
    expect(ev[2]!.resume).toBe(true);
    await stopWorker(w2);
  });

  it('workers reconnect after Redis restarts mid-sweep (AOF on) and the sweep finishes', async () => {
    const out = join(tmp, 'restart');
    const spec = parseSweepSpec({ command: 'rbm train', base: { ...SPEC.base, epochs: 3, lr: 0.02 }, grid: { hidden: [3, 4], seed: [1, 2, 3] } });
    const ws = [spawnWorker(redis.url, out), spawnWorker(redis.url, out)];
    await Promise.all(ws.map(workerReady));
    await enqueueSweep(spec, { queue: redis.url, out });
    await until('two finished jobs', () => events(out).filter((e) => e.event === 'done').length >= 2, 30_000);
    await redis.stop();
    await sleep(1000);
    await redis.start();
    await until('summary.json', () => existsSync(join(out, 'summary.json')), 45_000);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ total: 6, done: 6, failed: 0 });
    const starts = events(out).filter((e) => e.event === 'start');
    expect(starts).toHaveLength(6);
    expect(new Set(starts.map((e) => e.id)).size).toBe(6);
    expect(runDirs(out)).toHaveLength(6);
    await Promise.all(ws.map(stopWorker));
  });
});
