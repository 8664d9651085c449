/**
 * Line, scatter and panel plots rendered to SVG in Node: a Vega-Lite spec is compiled
 * by vega-lite and rendered by vega's headless `View` (`renderer: 'none'`), so no
 * browser or canvas is needed. The `…Spec` builders return the Vega-Lite spec itself,
 * for callers (a browser page, a notebook) that render it elsewhere.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ShapeError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/** One curve of a line plot. */
export interface LineSeries {
  /** Legend entry; must be unique within a plot. */
  readonly name: string;
  readonly x: readonly number[];
  readonly y: readonly number[];
  /** Symmetric error (e.g. one standard error); drawn as a vertical bar y ± yErr with caps. */
  readonly yErr?: readonly number[];
  /**
   * 'points' (default): a line through marked samples, as for measurements; 'curve': a
   * dashed line without markers, as for a reference curve on a dense grid.
   */
  readonly style?: 'points' | 'curve';
}

/** A labelled vertical reference line (e.g. the critical temperature T_c). */
export interface VLine {
  readonly x: number;
  readonly label: string;
}

/** Options of {@link linePlotSvg}. */
export interface LinePlotOptions {
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly vlines?: readonly VLine[];
  /**
   * Logarithmic y axis. Points with y ≤ 0 are left out (they have no place on it) and a
   * lower error end ≤ 0 is drawn at y/10.
   */
  readonly logY?: boolean;
  /** Plot-area width in pixels. Default 480. */
  readonly width?: number;
  /** Plot-area height in pixels. Default 300. */
  readonly height?: number;
}

/** One point of a scatter plot. */
export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  /** Colour group: a class label, or a value on a continuous scale. */
  readonly group?: string | number;
}

/** Options of {@link scatterPlotSvg}. */
export interface ScatterPlotOptions {
  readonly title?: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ScatterPoint[];
  /** Legend title for the colour. Default "group". */
  readonly colorLabel?: string;
  /** Colour `group` on a continuous (viridis) scale instead of as categories. */
  readonly continuousColor?: boolean;
  /** Plot-area width in pixels. Default 400. */
  readonly width?: number;
  /** Plot-area height in pixels. Default 400. */
  readonly height?: number;
  /** Point area in square pixels. Default 16. */
  readonly pointSize?: number;
}

/** One panel of {@link facetLinePlotSvg}: an observable against the shared x. */
export interface FacetPanel {
  /** Panel title (e.g. "specific heat"); optional. */
  readonly title?: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly logY?: boolean;
}

/** Options of {@link facetLinePlotSvg}. */
export interface FacetLinePlotOptions {
  readonly title?: string;
  /** Label of the shared x axis (e.g. "temperature T"). */
  readonly xLabel: string;
  readonly panels: readonly FacetPanel[];
  /** Reference lines drawn in every panel. */
  readonly vlines?: readonly VLine[];
  /** Panels per row. Default 2 (four observables give a 2×2 figure). */
  readonly columns?: number;
  /** Width of each panel. Default 300. */
  readonly width?: number;
  /** Height of each panel. Default 220. */
  readonly height?: number;
}

type Json = Record<string, unknown>;

/** Shared look: legend entries never truncated, titles centred with room above the plots. */
const CONFIG: Json = {
  legend: { labelLimit: 0, symbolStrokeWidth: 2 },
  title: { anchor: 'middle', fontSize: 15, offset: 12 },
  view: { stroke: '#ccc' },
};

/**
 * The specs are assembled as plain objects (Vega-Lite's spec types are deep unions that
 * make incremental building verbose); vega-lite's compiler checks them at render time,
 * and the tests render every builder.
 */
function asSpec(spec: Json): TopLevelSpec {
  return spec as unknown as TopLevelSpec;
}

interface LineRow {
  series: string;
  x: number;
  y: number;
  lo?: number;
  hi?: number;
}

function checkSize(v: number | undefined, name: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
    throw new ShapeError(`plot: ${name} must be a positive integer, got ${v}`);
  }
}

function lineRows(series: readonly LineSeries[], logY: boolean, where: string): LineRow[] {
  if (series.length === 0) throw new ShapeError(`${where}: no series given`);
  const seen = new Set<string>();
  const rows: LineRow[] = [];
  for (const s of series) {
    if (seen.has(s.name)) throw new ShapeError(`${where}: series name '${s.name}' used twice`);
    seen.add(s.name);
    if (s.x.length !== s.y.length) {
      throw new ShapeError(`${where}: series '${s.name}' has ${s.x.length} x values but ${s.y.length} y values`);
    }
    if (s.yErr !== undefined && s.yErr.length !== s.y.length) {
      throw new ShapeError(`${where}: series '${s.name}' has ${s.yErr.length} yErr values but ${s.y.length} y values`);
    }
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      // Non-finite points cannot be drawn; a gap is more honest than an invented value.
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
      const row: LineRow = { series: s.name, x, y };
      const e = s.yErr?.[i];
      if (e !== undefined && Number.isFinite(e)) {
        const lo = y - Math.abs(e);
        row.lo = logY && lo <= 0 ? y / 10 : lo;
        row.hi = y + Math.abs(e);
      }
      rows.push(row);
    }
  }
  return rows;
}

/** Layers (line, points, error bars, reference lines) of one line panel. */
function lineLayers(
  series: readonly LineSeries[],
  xLabel: string,
  yLabel: string,
  logY: boolean,
  vlines: readonly VLine[],
  where: string,
): Json[] {
  const rows = lineRows(series, logY, where);
  const names = series.map((s) => s.name);
  const x = { field: 'x', type: 'quantitative', title: xLabel, scale: { zero: false } };
  const y = {
    field: 'y',
    type: 'quantitative',
    title: yLabel,
    scale: logY ? { type: 'log' } : { zero: false },
  };
  const color = { field: 'series', type: 'nominal', title: null, scale: { domain: names } };
  const curves = new Set(series.filter((s) => s.style === 'curve').map((s) => s.name));
  const measured = rows.filter((r) => !curves.has(r.series));
  const reference = rows.filter((r) => curves.has(r.series));
  const layers: Json[] = [];
  if (reference.length > 0) layers.push({ data: { values: reference }, mark: { type: 'line', strokeWidth: 1.5, strokeDash: [6, 3] }, encoding: { x, y, color } });
  if (measured.length > 0) {
    layers.push(
      { data: { values: measured }, mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } },
      { data: { values: measured }, mark: { type: 'point', filled: true, size: 30 }, encoding: { x, y, color } },
    );
  }
  const errRows = rows.filter((r) => r.lo !== undefined);
  if (errRows.length > 0) {
    // Bars with caps, thick enough to see at a glance.
    layers.push(
      { data: { values: errRows }, mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
      { data: { values: errRows }, mark: { type: 'tick', orient: 'horizontal', size: 9, thickness: 1.5 }, encoding: { x, y: { ...y, field: 'lo' }, color } },
      { data: { values: errRows }, mark: { type: 'tick', orient: 'horizontal', size: 9, thickness: 1.5 }, encoding: { x, y: { ...y, field: 'hi' }, color } },
    );
  }
  if (vlines.length > 0) {
    for (const v of vlines) {
      if (!Number.isFinite(v.x)) throw new ShapeError(`${where}: vline '${v.label}' has non-finite x ${v.x}`);
    }
    const vals = vlines.map((v) => ({ x: v.x, label: v.label }));
    layers.push(
      {
        data: { values: vals },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
      {
        data: { values: vals },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 3, color: '#333' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  return layers;
}

/**
 * The Vega-Lite spec of {@link linePlotSvg}: one line per series in the given order
 * (colour legend), a point at each sample, error bars where `yErr` is given, and
 * dashed labelled vertical lines for `vlines`.
 * @throws ShapeError on mismatched lengths or duplicate series names
 */
export function linePlotSpec(opts: LinePlotOptions): TopLevelSpec {
  checkSize(opts.width, 'width');
  checkSize(opts.height, 'height');
  const spec: Json = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: opts.width ?? 480,
    height: opts.height ?? 300,
    layer: lineLayers(opts.series, opts.xLabel, opts.yLabel, opts.logY ?? false, opts.vlines ?? [], 'linePlot'),
  };
  if (opts.title !== undefined) spec['title'] = opts.title;
  return asSpec(spec);
}

/**
 * The Vega-Lite spec of {@link scatterPlotSvg}.
 * @throws ShapeError on non-finite coordinates
 */
export function scatterPlotSpec(opts: ScatterPlotOptions): TopLevelSpec {
  checkSize(opts.width, 'width');
  checkSize(opts.height, 'height');
  const hasGroup = opts.points.some((p) => p.group !== undefined);
  const values = opts.points.map((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      throw new ShapeError(`scatterPlot: point ${i} has non-finite coordinates (${p.x}, ${p.y})`);
    }
    return hasGroup ? { x: p.x, y: p.y, group: p.group ?? null } : { x: p.x, y: p.y };
  });
  const encoding: Json = {
    x: { field: 'x', type: 'quantitative', title: opts.xLabel, scale: { zero: false } },
    y: { field: 'y', type: 'quantitative', title: opts.yLabel, scale: { zero: false } },
  };
  if (hasGroup) {
    encoding['color'] = opts.continuousColor
      ? { field: 'group', type: 'quantitative', title: opts.colorLabel ?? 'group', scale: { scheme: 'viridis' } }
      : { field: 'group', type: 'nominal', title: opts.colorLabel ?? 'group' };
  }
  const spec: Json = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    width: opts.width ?? 400,
    height: opts.height ?? 400,
    data: { values },
    mark: { type: 'circle', size: opts.pointSize ?? 16, opacity: 0.8 },
    encoding,
  };
  if (opts.title !== undefined) spec['title'] = opts.title;
  return asSpec(spec);
}

/**
 * The Vega-Lite spec of {@link facetLinePlotSvg}: panels laid out `columns` per row,
 * one x scale for all, each panel its own y scale, a shared series colour legend and
 * the same `vlines` in every panel.
 * @throws ShapeError when there are no panels or a panel's series do not fit
 */
export function facetLinePlotSpec(opts: FacetLinePlotOptions): TopLevelSpec {
  if (opts.panels.length === 0) throw new ShapeError('facetLinePlot: no panels given');
  checkSize(opts.columns, 'columns');
  checkSize(opts.width, 'width');
  checkSize(opts.height, 'height');
  const concat = opts.panels.map((p, i) => {
    const panel: Json = {
      width: opts.width ?? 300,
      height: opts.height ?? 220,
      layer: lineLayers(p.series, opts.xLabel, p.yLabel, p.logY ?? false, opts.vlines ?? [], `facetLinePlot panel ${i}`),
    };
    if (p.title !== undefined) panel['title'] = p.title;
    return panel;
  });
  // One colour domain across panels, so a series keeps its colour everywhere.
  const names: string[] = [];
  for (const p of opts.panels) for (const s of p.series) if (!names.includes(s.name)) names.push(s.name);
  for (const panel of concat) {
    for (const layer of panel['layer'] as Json[]) {
      const enc = layer['encoding'] as Json;
      const color = enc['color'] as Json | undefined;
      if (color) enc['color'] = { ...color, scale: { domain: names } };
    }
  }
  const spec: Json = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    columns: opts.columns ?? 2,
    concat,
    // concat views default to independent scales; the x axis is meant to be common.
    resolve: { scale: { x: 'shared', y: 'independent', color: 'shared' } },
  };
  if (opts.title !== undefined) spec['title'] = opts.title;
  return asSpec(spec);
}

/**
 * Render any Vega-Lite spec to an SVG string with vega's headless view (no browser).
 * Text widths are estimated, since there is no canvas to measure fonts.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega and vega-lite take ~0.3 s to import: loaded on the first plot, not at start-up.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Line plot with optional error bars, log-y axis and labelled vertical lines, as SVG.
 * @example
 * ```ts
 * const svg = await linePlotSvg({ xLabel: 'epoch', yLabel: 'log-likelihood',
 *   series: [{ name: 'train', x: [1, 2, 3], y: [-120, -105, -99] }] });
 * ```
 */
export async function linePlotSvg(opts: LinePlotOptions): Promise<string> {
  return renderSvg(linePlotSpec(opts));
}

/** Scatter plot (e.g. a 2-d latent space coloured by class or by temperature), as SVG. */
export async function scatterPlotSvg(opts: ScatterPlotOptions): Promise<string> {
  return renderSvg(scatterPlotSpec(opts));
}

/**
 * Several observables against one x in a grid of panels, as SVG — e.g. energy, |M|,
 * specific heat and susceptibility against temperature with a T_c line in a 2×2 figure.
 */
export async function facetLinePlotSvg(opts: FacetLinePlotOptions): Promise<string> {
  return renderSvg(facetLinePlotSpec(opts));
}

/** Write an SVG string to `path` atomically (temporary file, then rename). */
export function writeSvg(path: string, svg: string): void {
  writeFileAtomic(path, svg);
}
