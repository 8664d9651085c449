/**
 * Sweep-level outputs beyond the table (node-only): the Monte Carlo vs RBM vs exact
 * comparison gathered from the jobs of an `ising rbm` sweep, and SVG plots of a final
 * metric against an axis.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataFormatError } from '../core/errors.js';
import { writeComparison, type ComparisonFiles, type RbmComparisonRow } from '../physics/rbm-pipeline.js';
import { linePlotSvg, writeSvg } from '../viz/plot.js';
import { plotSeries, reportRows, writeReport, type PlotRequest, type PlotSeries, type SweepSummary } from './report.js';
import { canonicalJson, type Flags, type SweepJob } from './spec.js';
import type { DirStore } from './store-fs.js';

/** One gathered comparison: the rows of the jobs that share every axis but the data (temperature). */
export interface GatheredComparison {
  /** The axes the group's jobs share (without `data`). */
  readonly axes: Flags;
  readonly L: number;
  /** Rows in temperature order, as in each job's `results.json` (no parameters). */
  readonly rows: readonly Omit<RbmComparisonRow, 'params'>[];
  readonly files: ComparisonFiles;
}

function readJsonFile<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new DataFormatError(path, `unreadable JSON (${(err as Error).message.split('\n')[0]})`);
  }
}

/** Empty weights for rows read back from results.json (which leaves them out). */
export const NO_PARAMS: RbmComparisonRow['params'] = { W: new Float32Array(0), a: new Float32Array(0), b: new Float32Array(0) };

/**
 * Gather the `results.json` rows of every done `ising rbm` job into one comparison per
 * group of jobs that differ only in their data (temperature) and write it with
 * {@link writeComparison}: into the sweep directory when there is one group, else into
 * `comparison/<axis=value,…>/`. Returns nothing for other commands.
 */
export async function gatherIsingRbm(store: DirStore, jobs: readonly SweepJob[]): Promise<GatheredComparison[]> {
  const groups = new Map<string, { axes: Flags; L: number; rows: Omit<RbmComparisonRow, 'params'>[] }>();
  for (const job of jobs) {
    if (job.command !== 'ising rbm' || !(await store.readResult(job.id))) continue;
    const dir = store.runDir(job.id);
    const resultsPath = join(dir, 'results.json');
    if (!existsSync(resultsPath)) continue;
    const { L } = readJsonFile<{ L: number }>(join(dir, 'config.json'));
    const axes = Object.fromEntries(Object.entries(job.axes).filter(([k]) => k !== 'data'));
    const key = canonicalJson({ axes, L });
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { axes, L, rows: [] }));
    g.rows.push(...readJsonFile<Omit<RbmComparisonRow, 'params'>[]>(resultsPath));
  }
  const out: GatheredComparison[] = [];
  for (const g of groups.values()) {
    const rows = [...g.rows].sort((a, b) => a.T - b.T);
    const slug = Object.entries(g.axes).map(([k, v]) => `${k}=${String(v)}`).join(',').replace(/[^A-Za-z0-9=,._-]/g, '_');
    const dir = groups.size === 1 ? store.root : join(store.root, 'comparison', slug || `L=${g.L}`);
    // results.json leaves the weights out; the comparison does not use them.
    const files = await writeComparison(dir, rows.map((r) => ({ ...r, params: NO_PARAMS })), g.L);
    out.push({ axes: g.axes, L: g.L, rows, files });
  }
  return out;
}

/** {@link writeReport}, then the gathered comparison of an `ising rbm` sweep. */
export async function writeSweepOutputs(store: DirStore, sweep: { sweepId: string; jobs: readonly SweepJob[] }): Promise<SweepSummary> {
  const s = await writeReport(store, sweep);
  await gatherIsingRbm(store, sweep.jobs);
  return s;
}

/** A written plot. */
export interface SweepPlot {
  readonly path: string;
  readonly series: readonly PlotSeries[];
}

/**
 * Plot a final metric of the sweep in `store` against an axis (mean ± standard error
 * over a `seed` axis, one line per value of `by`) and write the SVG to `path`
 * (default `<sweep>/plot-<metric>-<x>[-<by>].svg`).
 */
export async function writeSweepPlot(store: DirStore, req: PlotRequest, path?: string): Promise<SweepPlot> {
  const m = await store.readManifest();
  if (!m) throw new DataFormatError(join(store.root, 'sweep.json'), 'missing (not a sweep directory)');
  const series = plotSeries(await reportRows(store, m.jobs), req);
  const file = path ?? join(store.root, `plot-${[req.metric, req.x, ...(req.by ? [req.by] : [])].join('-').replace(/[^A-Za-z0-9._-]/g, '_')}.svg`);
  const seeds = series.some((s) => s.yErr);
  const svg = await linePlotSvg({
    title: `${m.spec.command}: ${req.metric} vs ${req.x}${seeds ? ' (mean ± s.e. over seeds)' : ''}`,
    xLabel: req.x,
    yLabel: req.metric,
    series: series.map((s) => ({ name: s.name, x: s.x, y: s.y, ...(s.yErr ? { yErr: s.yErr } : {}) })),
  });
  writeSvg(file, svg);
  return { path: file, series };
}
