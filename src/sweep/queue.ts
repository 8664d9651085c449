/**
 * Sweeps on a BullMQ queue backed by Redis (node-only). Each job is a BullMQ job whose
 * id is the sweep job's content hash, so enqueueing a sweep twice adds nothing; a
 * parent job (a BullMQ flow) runs when all children have ended and writes the sweep's
 * summary. Workers on any machine that mounts the sweep directory take jobs, run them
 * as child processes, and on a retry resume the run directory's checkpoint.
 */
import { DelayedError, FlowProducer, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { GenphysError, UsageError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { cpus } from 'node:os';
import { runJob, threadsPerJob, workerName } from './exec.js';
import { writeManifest, type SweepCounts } from './local.js';
import { writeReport } from './report.js';
import { writeSweepOutputs } from './gather.js';
import { jobId, type SweepJob, type SweepSpec } from './spec.js';
import { DirStore } from './store-fs.js';
import type { SweepStore } from './store.js';

/** The queue cannot be reached or used (exit 1). */
export class QueueError extends GenphysError {}

/** Default BullMQ queue name; the gathering parents go to `<name>-gather`. */
export const DEFAULT_QUEUE_NAME = 'genphys-sweep';

/** A parsed `redis://` or `rediss://` address. */
export interface QueueAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
  /** The address with the password masked, for messages. */
  readonly display: string;
}

/**
 * Parse `redis://[user][:password@]host[:port][/db]` (`rediss://` for TLS). User and
 * password are percent-decoded and passed to ioredis as they are.
 */
export function parseQueueUrl(url: string): QueueAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--queue: '${url}' is not a URL (expected redis://host:port)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`--queue: '${u.protocol}' is not supported (expected redis:// or rediss://)`);
  if (u.hostname === '') throw new UsageError(`--queue: '${url}' has no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new UsageError(`--queue: database '${path}' must be a number`);
  const masked = new URL(url);
  if (masked.password) masked.password = '***';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: path === '' ? 0 : Number(path),
    tls: u.protocol === 'rediss:',
    display: masked.toString(),
  };
}

/**
 * ioredis options that retry forever once connected (a Redis restart is survived) but
 * give up on the first connection after `timeoutMs`, so an unreachable server is an
 * error rather than a hang.
 */
function connectionFor(addr: QueueAddress, timeoutMs: number, gate: { ready: boolean; deadline: number }): ConnectionOptions {
  return {
    host: addr.host,
    port: addr.port,
    db: addr.db,
    ...(addr.username ? { username: addr.username } : {}),
    ...(addr.password ? { password: addr.password } : {}),
    ...(addr.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    connectTimeout: timeoutMs,
    retryStrategy: (times: number) => (!gate.ready && Date.now() > gate.deadline ? null : Math.min(100 * times, 1000)),
  };
}

interface Closable {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
  on(event: 'error', fn: (err: Error) => void): unknown;
}

/** Open connections for `make`, waiting at most `timeoutMs` for Redis to answer. */
async function connect<T extends Closable>(url: string, timeoutMs: number, make: (c: ConnectionOptions) => T[]): Promise<T[]> {
  const addr = parseQueueUrl(url);
  // The timer below is what gives up; the retry deadline, a second later, only stops
  // ioredis from reconnecting on its own (its giving up first would leave BullMQ with
  // rejections nobody awaits).
  const gate = { ready: false, deadline: Date.now() + timeoutMs + 1000 };
  const objs = make(connectionFor(addr, timeoutMs, gate));
  let lastError = '';
  for (const o of objs) o.on('error', (e) => void (lastError = e.message));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all(objs.map((o) => o.waitUntilReady())),
      new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), timeoutMs))),
    ]);
    gate.ready = true;
    return objs;
  } catch (err) {
    gate.deadline = 0;
    // close() can wait on a connect attempt in flight; do not let it hold up the error.
    await Promise.race([Promise.allSettled(objs.map((o) => o.close())), new Promise((r) => setTimeout(r, 500))]);
    const why = lastError || (err as Error).message;
    throw new QueueError(`${addr.display}: Redis not reachable within ${(timeoutMs / 1000).toFixed(1)} s (${why})`);
  } finally {
    clearTimeout(timer);
  }
}

/** Data of a BullMQ child job. */
interface RunData {
  readonly job: SweepJob;
}

/** Data of a sweep's gathering parent job. */
interface GatherData {
  readonly sweepId: string;
  readonly jobs: readonly SweepJob[];
}

/** Options of {@link enqueueSweep}. */
export interface EnqueueOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. */
  readonly queue: string;
  /** Sweep root directory; the manifest is written there (workers must see the same path). */
  readonly out: string;
  /** BullMQ queue name (default {@link DEFAULT_QUEUE_NAME}). */
  readonly name?: string;
  /** Attempts per job (default 3). */
  readonly attempts?: number;
  /** First retry delay in ms; doubles each attempt (default 2000). */
  readonly backoffMs?: number;
  /** Give up connecting after this many ms (default 5000). */
  readonly timeoutMs?: number;
  /** A store other than the directory `out`. */
  readonly store?: SweepStore;
}

/** What {@link enqueueSweep} did. */
export interface EnqueueResult {
  readonly sweepId: string;
  readonly jobs: number;
  /** Jobs that were not in the queue before (0 when the same sweep is enqueued again). */
  readonly added: number;
}

/**
 * Put every job of `spec` on the queue, under one parent that writes the sweep's
 * summary when all have ended. Job ids are content hashes: jobs already in the queue
 * (from an earlier enqueue of this or another sweep) are not added again.
 */
export async function enqueueSweep(spec: SweepSpec, opts: EnqueueOptions): Promise<EnqueueResult> {
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  const attempts = opts.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new UsageError(`--attempts: must be a positive integer, got ${attempts}`);
  const store = opts.store ?? new DirStore(opts.out);
  const { sweepId, jobs } = await writeManifest(spec, store);
  const [queue, flow] = (await connect(opts.queue, opts.timeoutMs ?? 5000, (connection) => [new Queue(name, { connection }), new FlowProducer({ connection })])) as [Queue, FlowProducer];
  try {
    let added = 0;
    for (const j of jobs) if ((await queue.getJobState(j.id)) === 'unknown') added++;
    const data: GatherData = { sweepId, jobs };
    await flow.add({
      name: 'gather',
      queueName: `${name}-gather`,
      data,
      opts: { jobId: `sweep-${sweepId}` },
      children: jobs.map((j) => ({
        name: 'run',
        queueName: name,
        data: { job: j } satisfies RunData,
        opts: {
          jobId: j.id,
          attempts,
          backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
          // A job that fails for good must not keep the summary from being written.
          ignoreDependencyOnFailure: true,
        },
      })),
    });
    return { sweepId, jobs: jobs.length, added };
  } finally {
    await Promise.allSettled([queue.close(), flow.close()]);
  }
}

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  readonly queue: string;
  /** Sweep root directory as mounted on this machine. */
  readonly out: string;
  /** Jobs run at the same time by this worker (default 1). */
  readonly concurrency?: number;
  readonly name?: string;
  /** The genphys CLI entry to spawn (default: the package's bundled `dist/cli-bundle/genphys.js`). */
  readonly bin?: string;
  /** Lock time in ms; a job whose worker stops renewing it is retried elsewhere (default 30 000). */
  readonly lockDuration?: number;
  /** How often (ms) to look for stalled jobs (default 30 000). */
  readonly stalledInterval?: number;
  /** Give up the first connection after this many ms (default 5000). */
  readonly timeoutMs?: number;
  /** ms between SIGINT and SIGKILL of a running command at shutdown (default 30 000). */
  readonly graceMs?: number;
  /** Install SIGTERM/SIGINT handlers that shut down gracefully (default true). */
  readonly handleSignals?: boolean;
  /** Where one-line log messages go (default stderr). */
  readonly log?: (line: string) => void;
  readonly store?: SweepStore;
}

/** A running worker. */
export interface SweepWorker {
  /** `host:pid` of this worker. */
  readonly name: string;
  /**
   * Stop taking jobs; running commands get SIGINT (they checkpoint and exit 130) and
   * their jobs go back to the queue without using up an attempt.
   */
  close(): Promise<void>;
  /** Settles when the worker has closed (after {@link SweepWorker.close} or a signal). */
  readonly closed: Promise<void>;
}

/** Connect to the queue and start taking jobs. Rejects within `timeoutMs` when Redis is unreachable. */
export async function startWorker(opts: WorkerOptions): Promise<SweepWorker> {
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  const store = opts.store ?? new DirStore(opts.out);
  const me = workerName();
  const log = opts.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError(`--concurrency: must be a positive integer, got ${concurrency}`);
  const ac = new AbortController();
  let closing: Promise<void> | null = null;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((res) => (markClosed = res));

  const runJobProcessor = async (bj: Job<RunData>, token?: string): Promise<unknown> => {
    const job = bj.data.job;
    // The id is a path component and names the exact work; a mismatch means another genphys version or tampering.
    if (jobId(job.command, job.flags) !== bj.id) throw new UnrecoverableError(`job ${bj.id}: its flags do not hash to its id under genphys ${VERSION} (enqueued by another version?)`);
    const attempt = bj.attemptsMade + 1;
    const outcome = await runJob(job, { store, threads: threadsPerJob(cpus().length, concurrency), signal: ac.signal, worker: me, attempt, ...(opts.bin ? { bin: opts.bin } : {}), ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}) });
    if (outcome.status === 'done' || outcome.status === 'skipped') return { status: outcome.status, seconds: outcome.result.seconds, worker: outcome.result.worker };
    if (outcome.status === 'interrupted') {
      if (ac.signal.aborted) {
        // Our own shutdown: back to the queue at once, without counting an attempt.
        await bj.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      throw new Error(`interrupted (exit ${outcome.exitCode}); will resume from the checkpoint`);
    }
    const f = outcome.failure;
    const final = f.exitCode === 2 || attempt >= (bj.opts.attempts ?? 1);
    if (final) await store.writeFailure(f);
    if (f.exitCode === 2) throw new UnrecoverableError(f.error);
    throw new Error(f.error);
  };

  const gatherProcessor = async (bj: Job<GatherData>): Promise<unknown> => {
    const sweep = { sweepId: bj.data.sweepId, jobs: bj.data.jobs };
    const s = store instanceof DirStore ? await writeSweepOutputs(store, sweep) : await writeReport(store, sweep);
    log(`genphys worker: sweep ${s.sweepId.slice(0, 12)} ended: ${s.done} done, ${s.failed} failed of ${s.total}; summary in ${store.location}`);
    return { total: s.total, done: s.done, failed: s.failed };
  };

  const common = {
    autorun: false,
    lockDuration: opts.lockDuration ?? 30_000,
    stalledInterval: opts.stalledInterval ?? 30_000,
    maxStalledCount: 1,
  };
  const [runner, gatherer] = (await connect(opts.queue, opts.timeoutMs ?? 5000, (connection) => [
    new Worker<RunData>(name, runJobProcessor, { ...common, connection, concurrency }),
    new Worker<GatherData>(`${name}-gather`, gatherProcessor, { ...common, connection, concurrency: 1 }),
  ])) as [Worker<RunData>, Worker<GatherData>];
  let lastError = '';
  for (const w of [runner, gatherer]) {
    w.on('error', (e) => {
      // ioredis repeats the same error while Redis is down; one line per change is enough.
      if (e.message !== lastError) log(`genphys worker: ${e.message}`);
      lastError = e.message;
    });
    w.on('ready', () => void (lastError = ''));
  }
  runner.on('failed', (bj, err) => {
    if (bj && !(err instanceof DelayedError) && err.name !== 'DelayedError') log(`genphys worker: job ${bj.id?.slice(0, 12)} attempt ${bj.attemptsMade} failed: ${err.message}`);
  });
  void runner.run();
  void gatherer.run();

  const onSignal = () => void close();
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (opts.handleSignals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      ac.abort();
      // The running commands get graceMs to checkpoint; a BullMQ close that still hangs
      // after that (seen once after a Redis restart) is forced, so SIGTERM always ends the worker.
      const graceful = Promise.allSettled([runner.close(), gatherer.close()]).then(() => true);
      const limitMs = (opts.graceMs ?? 30_000) + 5_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<false>((res) => (timer = setTimeout(() => res(false), limitMs)));
      const clean = await Promise.race([graceful, timedOut]);
      clearTimeout(timer);
      if (!clean) {
        process.stderr.write(`genphys worker ${me}: the queue connection did not close within ${limitMs / 1000} s; closing it by force\n`);
        await Promise.race([Promise.allSettled([runner.close(true), gatherer.close(true)]), new Promise((res) => setTimeout(res, 2_000))]);
      }
      markClosed();
    })();
    return closing;
  };
  if (opts.handleSignals !== false) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { name: me, close, closed };
}

/** Counts of the sweep in `out`, from the queue's view of each job when `queue` is given, else from the store. */
export async function queueCounts(opts: { queue: string; out: string; name?: string; timeoutMs?: number; store?: SweepStore }): Promise<SweepCounts> {
  const store = opts.store ?? new DirStore(opts.out);
  const m = await store.readManifest();
  if (!m) throw new UsageError(`${store.location}: not a sweep directory (no sweep.json)`);
  const [queue] = (await connect(opts.queue, opts.timeoutMs ?? 5000, (connection) => [new Queue(opts.name ?? DEFAULT_QUEUE_NAME, { connection })])) as [Queue];
  try {
    const c = { total: m.jobs.length, done: 0, running: 0, failed: 0, waiting: 0 };
    for (const j of m.jobs) {
      const st = await queue.getJobState(j.id);
      if (st === 'completed' || (await store.readResult(j.id))) c.done++;
      else if (st === 'failed') c.failed++;
      else if (st === 'active') c.running++;
      else c.waiting++;
    }
    return c;
  } finally {
    await queue.close();
  }
}
