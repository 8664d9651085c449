/**
 * Sweep status and reports: per-job state from the store, a summary, and a table of
 * every job's axes and final metrics as CSV and Markdown. Browser-safe: works on any
 * {@link SweepStore}.
 */
import { UsageError } from '../core/errors.js';
import type { FlagValue, SweepJob } from './spec.js';
import type { SweepStore } from './store.js';

/** State of one job as seen in the store. */
export type JobState = 'done' | 'failed' | 'running' | 'waiting';

/** One row of a sweep report. */
export interface ReportRow {
  readonly id: string;
  readonly state: JobState;
  readonly axes: Readonly<Record<string, FlagValue>>;
  /** Seconds of the successful attempt, or null. */
  readonly seconds: number | null;
  /** Scalar final metrics (numbers and strings) of a done job; empty otherwise. */
  readonly metrics: Readonly<Record<string, number | string>>;
  /** Error line of a failed job, or null. */
  readonly error: string | null;
}

/** What `summary.json` holds. */
export interface SweepSummary {
  readonly sweepId: string;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
  readonly waiting: number;
  readonly rows: readonly ReportRow[];
  readonly written: string;
}

/** A report as text. */
export interface SweepReport {
  readonly rows: readonly ReportRow[];
  readonly csv: string;
  readonly markdown: string;
}

/** Read every job's state, axes and final metrics from the store. */
export async function reportRows(store: SweepStore, jobs: readonly SweepJob[]): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  for (const job of jobs) {
    const result = await store.readResult(job.id);
    const failure = result ? null : await store.readFailure(job.id);
    const running = result || failure ? null : await store.readRunning(job.id);
    const state: JobState = result ? 'done' : failure ? 'failed' : running ? 'running' : 'waiting';
    const metrics: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(result?.metrics ?? {})) if (typeof v === 'number' || typeof v === 'string') metrics[k] = v;
    rows.push({ id: job.id, state, axes: job.axes, seconds: result ? result.seconds : null, metrics, error: failure?.error ?? null });
  }
  return rows;
}

/** Counts of rows by state. */
export function countStates(rows: readonly ReportRow[]): { total: number; done: number; failed: number; running: number; waiting: number } {
  const c = { total: rows.length, done: 0, failed: 0, running: 0, waiting: 0 };
  for (const r of rows) c[r.state]++;
  return c;
}

function columns(rows: readonly ReportRow[]): { axes: string[]; metrics: string[] } {
  const axes = new Set<string>();
  const metrics = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.axes)) axes.add(k);
    for (const k of Object.keys(r.metrics)) metrics.add(k);
  }
  return { axes: [...axes], metrics: [...metrics] };
}

function cells(rows: readonly ReportRow[]): { header: string[]; body: string[][] } {
  const { axes, metrics } = columns(rows);
  const fixed = new Set(['id', 'state', 'wall_seconds', 'error', ...axes]);
  // A metric named like an axis or a fixed column would make two columns of one name.
  const metricHeader = metrics.map((m) => (fixed.has(m) ? `final.${m}` : m));
  const header = ['id', 'state', ...axes, 'wall_seconds', ...metricHeader, 'error'];
  const fmt = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
  const body = rows.map((r) => [r.id.slice(0, 12), r.state, ...axes.map((a) => fmt(r.axes[a])), fmt(r.seconds), ...metrics.map((m) => fmt(r.metrics[m])), fmt(r.error)]);
  return { header, body };
}

/** RFC 4180 CSV of the rows (fields with a comma, quote or newline are quoted). */
export function reportCsv(rows: readonly ReportRow[]): string {
  const { header, body } = cells(rows);
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [header, ...body].map((r) => r.map(q).join(',')).join('\n') + '\n';
}

/** A GitHub-flavoured Markdown table of the rows. */
export function reportMarkdown(rows: readonly ReportRow[]): string {
  const { header, body } = cells(rows);
  const q = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const line = (r: string[]) => `| ${r.map(q).join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...body.map(line)].join('\n') + '\n';
}

/** Build the report of the sweep in `store` from its manifest. */
export async function storeReport(store: SweepStore): Promise<SweepReport> {
  const m = await store.readManifest();
  if (!m) throw new UsageError(`${store.location}: not a sweep directory (no sweep.json)`);
  const rows = await reportRows(store, m.jobs);
  return { rows, csv: reportCsv(rows), markdown: reportMarkdown(rows) };
}

/** Write `summary.json`, `report.csv` and `report.md` for `jobs` into the store and return the summary. */
export async function writeReport(store: SweepStore, sweep: { sweepId: string; jobs: readonly SweepJob[] }): Promise<SweepSummary> {
  const rows = await reportRows(store, sweep.jobs);
  const summary: SweepSummary = { sweepId: sweep.sweepId, ...countStates(rows), rows, written: new Date().toISOString() };
  await store.writeArtifact('summary.json', JSON.stringify(summary, null, 2) + '\n');
  await store.writeArtifact('report.csv', reportCsv(rows));
  await store.writeArtifact('report.md', reportMarkdown(rows));
  return summary;
}

/** One curve of a sweep plot: a metric's mean at each value of the x axis. */
export interface PlotSeries {
  /** `by=value`, or the metric name when there is no `by` axis. */
  readonly name: string;
  readonly x: number[];
  /** Mean over the seeds (the value itself without a `seed` axis). */
  readonly y: number[];
  /** Standard error of the mean over the seeds; absent without a `seed` axis. */
  readonly yErr?: number[];
  /** Jobs averaged at each x. */
  readonly n: number[];
}

/** What to plot: a final metric (or `wall_seconds`) against an axis, one series per value of `by`. */
export interface PlotRequest {
  readonly metric: string;
  readonly x: string;
  readonly by?: string;
}

function metricOf(r: ReportRow, metric: string): number | undefined {
  const v = metric === 'wall_seconds' ? r.seconds : r.metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * The series of `metric` against axis `x` over the done jobs: one series per value of
 * `by`; when the sweep has a `seed` axis, the points are the mean over seeds with the
 * standard error s/√n (s the sample standard deviation, n − 1 in the denominator;
 * 0 when n = 1). Any other axis that varies within a point is an error, since averaging
 * over it would mix different settings.
 */
export function plotSeries(rows: readonly ReportRow[], req: PlotRequest): PlotSeries[] {
  const axes = columns(rows).axes;
  for (const [flag, a] of [['--x', req.x], ['--by', req.by]] as const) {
    if (a !== undefined && !axes.includes(a)) throw new UsageError(`${flag} ${a}: not an axis of this sweep (axes: ${axes.join(', ') || 'none'})`);
  }
  if (req.by !== undefined && req.by === req.x) throw new UsageError(`--by ${req.by}: is also --x; pick another axis`);
  const done = rows.filter((r) => r.state === 'done');
  if (done.length === 0) throw new UsageError('--plot: no job of this sweep is done yet');
  const withMetric = done.filter((r) => metricOf(r, req.metric) !== undefined);
  if (withMetric.length === 0) {
    const names = [...new Set(done.flatMap((r) => Object.keys(r.metrics).filter((k) => typeof r.metrics[k] === 'number')))];
    throw new UsageError(`--plot ${req.metric}: no done job has this numeric final metric (they have: ${[...names, 'wall_seconds'].join(', ')})`);
  }
  const hasSeed = axes.includes('seed') && req.x !== 'seed' && req.by !== 'seed';
  const free = axes.filter((a) => a !== req.x && a !== req.by && !(hasSeed && a === 'seed'));
  for (const a of free) {
    const vals = new Set(withMetric.map((r) => JSON.stringify(r.axes[a])));
    if (vals.size > 1) throw new UsageError(`--plot: axis '${a}' also varies (${vals.size} values); give it as --by ${a}, or plot a sweep that fixes it`);
  }
  const groups = new Map<string, { by: FlagValue | undefined; points: Map<number, number[]> }>();
  for (const r of withMetric) {
    const xv = r.axes[req.x];
    if (typeof xv !== 'number') throw new UsageError(`--x ${req.x}: the value ${JSON.stringify(xv)} is not a number (use a numeric axis for --x, a text one for --by)`);
    const byv = req.by !== undefined ? r.axes[req.by] : undefined;
    const key = JSON.stringify(byv ?? null);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { by: byv, points: new Map() }));
    let p = g.points.get(xv);
    if (!p) g.points.set(xv, (p = []));
    p.push(metricOf(r, req.metric)!);
  }
  const out: PlotSeries[] = [];
  for (const g of groups.values()) {
    const xs = [...g.points.keys()].sort((a, b) => a - b);
    const stats = xs.map((x) => meanSe(g.points.get(x)!));
    out.push({
      name: req.by !== undefined ? `${req.by}=${String(g.by)}` : req.metric,
      x: xs,
      y: stats.map((s) => s.mean),
      ...(hasSeed ? { yErr: stats.map((s) => s.se) } : {}),
      n: stats.map((s) => s.n),
    });
  }
  return out;
}

/** Mean and standard error s/√n of the mean (s with n − 1; 0 for one value). */
export function meanSe(values: readonly number[]): { mean: number; se: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: 0, n };
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  return { mean, se: Math.sqrt(ss / (n - 1) / n), n };
}
