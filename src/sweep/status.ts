/**
 * `sweepStatus` and `sweepReport` (node-only): what a sweep directory, or the queue,
 * says about a sweep's jobs.
 */
import { queueCounts } from './queue.js';
import { countStates, reportRows, storeReport, type SweepReport } from './report.js';
import { writeSweepOutputs } from './gather.js';
import type { SweepCounts } from './local.js';
import { DirStore } from './store-fs.js';
import { UsageError } from '../core/errors.js';

/**
 * Counts of done/running/failed/waiting jobs of the sweep in `out`: from the queue's
 * job states when `queue` (a redis:// URL) is given, else from the directory (result
 * files, failure records and running markers).
 */
export async function sweepStatus(target: string | { out: string; queue?: string; name?: string; timeoutMs?: number }): Promise<SweepCounts> {
  const t = typeof target === 'string' ? { out: target } : target;
  if (t.queue) return queueCounts({ ...t, queue: t.queue });
  const store = new DirStore(t.out);
  const m = await store.readManifest();
  if (!m) throw new UsageError(`${store.location}: not a sweep directory (no sweep.json)`);
  return countStates(await reportRows(store, m.jobs));
}

/**
 * The table of every job's axes and final metrics of the sweep in `out`, as rows, CSV
 * and Markdown. With `write`, also (re)writes summary.json, report.csv and report.md.
 */
export async function sweepReport(out: string, opts: { write?: boolean } = {}): Promise<SweepReport> {
  const store = new DirStore(out);
  if (opts.write) {
    const m = await store.readManifest();
    if (!m) throw new UsageError(`${store.location}: not a sweep directory (no sweep.json)`);
    await writeSweepOutputs(store, { sweepId: m.sweepId, jobs: m.jobs });
  }
  return storeReport(store);
}
