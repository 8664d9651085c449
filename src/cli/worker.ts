/**
 * `genphys worker`: serve a sweep queue on this machine until SIGTERM/SIGINT, which
 * stops the running commands at a checkpoint and hands their jobs back to the queue.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { parseQueueUrl, startWorker } from '../sweep/node.js';
import { globals, intArg, logger } from './common.js';

/** Register `genphys worker` on `program`. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('take sweep jobs from a Redis queue and run them as child processes into --out (the shared sweep directory)')
    .requiredOption('--queue <url>', 'redis://[:password@]host:port (rediss:// for TLS)')
    .option('--queue-name <name>', 'BullMQ queue name', 'genphys-sweep')
    .option('--concurrency <n>', 'jobs at the same time', intArg(1, 1024), 1)
    .option('--lock-ms <n>', 'job lock time; a job whose worker dies is retried elsewhere after it', intArg(1000), 30_000)
    .action(async (o: { queue: string; queueName: string; concurrency: number; lockMs: number }, cmd: Command) => {
      const g = globals(cmd);
      const log = logger(g.quiet);
      if (!g.out) throw new UsageError('--out: give the shared sweep directory, as given to `genphys sweep run --queue`');
      const where = parseQueueUrl(o.queue).display;
      const w = await startWorker({ queue: o.queue, out: g.out, name: o.queueName, concurrency: o.concurrency, lockDuration: o.lockMs, stalledInterval: o.lockMs });
      log(`genphys worker ${w.name}: serving ${o.queueName} on ${where} into ${g.out} (${o.concurrency} at a time); SIGTERM to stop`);
      await w.closed;
      log(`genphys worker ${w.name}: stopped`);
    });
}
