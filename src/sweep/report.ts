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
