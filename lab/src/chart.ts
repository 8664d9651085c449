/**
 * Line and point charts for the lab (uPlot). Each series has its own x values; they are
 * merged onto one axis. A series with errors draws a ±1σ band. Every chart exports its
 * data as CSV.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** One series' look. */
export interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  /** 'line' (default), 'points' (measurements), or 'dash' (a reference curve). */
  readonly kind?: 'line' | 'points' | 'dash';
}

/** One series' data. `err` is one standard error per point. */
export interface SeriesData {
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  readonly err?: ArrayLike<number>;
}

/** Chart options. */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly SeriesSpec[];
  readonly width?: number;
  readonly height?: number;
  /** A vertical marker line, e.g. T_c. */
  readonly marker?: { readonly x: number; readonly label: string };
}

const alpha = (hex: string, a: number): string => {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
};

/** A chart bound to a DOM element. */
export class Chart {
  private readonly plot: uPlot;
  private data: (SeriesData | null)[] = [];
  /** Column index in uPlot's data of each series' y (and its band's lo, hi). */
  private readonly columns: { y: number; lo?: number; hi?: number }[] = [];

  constructor(
    readonly el: HTMLElement,
    readonly opts: ChartOptions,
  ) {
    const series: uPlot.Series[] = [{ label: opts.xLabel }];
    const bands: uPlot.Band[] = [];
    for (const s of opts.series) {
      const y = series.length;
      const kind = s.kind ?? 'line';
      series.push({
        label: s.label,
        stroke: s.color,
        width: kind === 'points' ? 0 : 1.5,
        spanGaps: true,
        ...(kind === 'dash' ? { dash: [6, 4] } : {}),
        ...(kind === 'points' ? { paths: () => null, points: { show: true, size: 6, fill: s.color } } : { points: { show: false } }),
      });
      const lo = series.length;
      series.push({ label: `${s.label} −σ`, stroke: alpha(s.color, 0.35), width: 1, spanGaps: true, points: { show: false } });
      const hi = series.length;
      series.push({ label: `${s.label} +σ`, stroke: alpha(s.color, 0.35), width: 1, spanGaps: true, points: { show: false } });
      bands.push({ series: [hi, lo], fill: alpha(s.color, 0.15) });
      this.columns.push({ y, lo, hi });
    }
    const marker = opts.marker;
    this.plot = new uPlot(
      {
        title: opts.title,
        width: opts.width ?? 420,
        height: opts.height ?? 220,
        series,
        bands,
        scales: { x: { time: false } },
        axes: [{ label: opts.xLabel }, { label: opts.yLabel }],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        hooks: marker
          ? {
              draw: [
                (u: uPlot) => {
                  const cx = u.valToPos(marker.x, 'x', true);
                  if (!Number.isFinite(cx)) return;
                  const ctx = u.ctx;
                  ctx.save();
                  ctx.strokeStyle = '#888';
                  ctx.setLineDash([3, 3]);
                  ctx.beginPath();
                  ctx.moveTo(cx, u.bbox.top);
                  ctx.lineTo(cx, u.bbox.top + u.bbox.height);
                  ctx.stroke();
                  ctx.fillStyle = '#555';
                  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
                  ctx.fillText(marker.label, cx + 4, u.bbox.top + 12 * devicePixelRatio);
                  ctx.restore();
                },
              ],
            }
          : {},
      },
      [[]],
      el,
    );
    // Hide the band edges from the legend: they are part of their series.
    for (const c of this.columns) for (const i of [c.lo, c.hi]) (this.plot.root.querySelectorAll('.u-series')[i!] as HTMLElement | undefined)?.style.setProperty('display', 'none');
  }

  /** Replace the data; `null` leaves a series empty. */
  set(data: readonly (SeriesData | null)[]): void {
    this.data = [...data];
    const xs = new Set<number>();
    for (const d of data) if (d) for (let i = 0; i < d.x.length; i++) xs.add(d.x[i]!);
    const x = [...xs].sort((a, b) => a - b);
    const at = new Map(x.map((v, i) => [v, i]));
    const cols: (number | null)[][] = [x];
    for (let s = 0; s < this.columns.length; s++) {
      const y: (number | null)[] = new Array(x.length).fill(null);
      const lo: (number | null)[] = new Array(x.length).fill(null);
      const hi: (number | null)[] = new Array(x.length).fill(null);
      const d = data[s];
      if (d) {
        for (let i = 0; i < d.x.length; i++) {
          const j = at.get(d.x[i]!)!;
          const v = d.y[i]!;
          y[j] = Number.isFinite(v) ? v : null;
          const e = d.err?.[i];
          if (e !== undefined && Number.isFinite(e) && Number.isFinite(v)) {
            lo[j] = v - e;
            hi[j] = v + e;
          }
        }
      }
      cols.push(y, lo, hi);
    }
    this.plot.setData(cols as uPlot.AlignedData);
  }

  /** The chart's data as CSV: one block of columns per series (x, y, and σ where known). */
  toCsv(): string {
    const head: string[] = [];
    const blocks: string[][][] = [];
    this.opts.series.forEach((s, i) => {
      const d = this.data[i];
      const name = s.label.replace(/[,\n]/g, ' ');
      head.push(`${this.opts.xLabel.replace(/[,\n]/g, ' ')} (${name})`, name, `${name} σ`);
      const rows: string[][] = [];
      if (d) for (let j = 0; j < d.x.length; j++) rows.push([String(d.x[j]), String(d.y[j]), d.err ? String(d.err[j]) : '']);
      blocks.push(rows);
    });
    const n = Math.max(0, ...blocks.map((b) => b.length));
    const lines = [head.join(',')];
    for (let j = 0; j < n; j++) lines.push(blocks.flatMap((b) => b[j] ?? ['', '', '']).join(','));
    return lines.join('\n') + '\n';
  }

  /** Remove the chart. */
  destroy(): void {
    this.plot.destroy();
  }
}
