/**
 * Drawing 2D point sets on a canvas for the GAN and diffusion panels: a square view of
 * the plane with ticks, a heatmap under the points, point clouds and polylines (the
 * generator's image of the noise grid). Page-side.
 */

/** The part of the plane shown. */
export interface PlaneBounds {
  readonly xMin: number;
  readonly xMax: number;
  readonly yMin: number;
  readonly yMax: number;
}

/** Margin in CSS pixels for the tick labels. */
const PAD = 28;

/** A canvas showing part of the plane. */
export class Plane {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private b: PlaneBounds = { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };

  constructor(
    readonly size = 340,
    testid?: string,
  ) {
    this.canvas = document.createElement('canvas');
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = Math.round(size * dpr);
    this.canvas.height = Math.round(size * dpr);
    this.canvas.style.width = `${size}px`;
    this.canvas.style.height = `${size}px`;
    this.canvas.className = 'plane';
    if (testid) this.canvas.dataset.testid = testid;
    this.ctx = this.canvas.getContext('2d')!;
    this.ctx.scale(dpr, dpr);
  }

  private get inner(): number {
    return this.size - PAD - 6;
  }

  /** Canvas x of plane x. */
  px(x: number): number {
    return PAD + ((x - this.b.xMin) / (this.b.xMax - this.b.xMin)) * this.inner;
  }

  /** Canvas y of plane y (up is +y). */
  py(y: number): number {
    return 6 + (1 - (y - this.b.yMin) / (this.b.yMax - this.b.yMin)) * this.inner;
  }

  /** Start a frame: clear, set the bounds, draw the frame and ticks. */
  begin(b: PlaneBounds): void {
    this.b = b;
    const c = this.ctx;
    c.clearRect(0, 0, this.size, this.size);
    c.fillStyle = '#fff';
    c.fillRect(PAD, 6, this.inner, this.inner);
  }

  /** Finish a frame: border, ticks and axis names. */
  end(xLabel = 'x₁', yLabel = 'x₂'): void {
    const c = this.ctx;
    c.save();
    c.strokeStyle = '#999';
    c.lineWidth = 1;
    c.strokeRect(PAD + 0.5, 6.5, this.inner, this.inner);
    c.fillStyle = '#555';
    c.font = '10px sans-serif';
    const ticks = niceTicks(this.b.xMin, this.b.xMax);
    c.textAlign = 'center';
    for (const t of ticks) {
      const x = this.px(t);
      c.fillRect(x, 6 + this.inner, 1, 3);
      c.fillText(fmtTick(t), x, 6 + this.inner + 12);
    }
    c.textAlign = 'right';
    for (const t of niceTicks(this.b.yMin, this.b.yMax)) {
      const y = this.py(t);
      c.fillRect(PAD - 3, y, 3, 1);
      c.fillText(fmtTick(t), PAD - 4, y + 3);
    }
    c.textAlign = 'left';
    c.fillText(xLabel, PAD + this.inner - 14, 6 + this.inner - 4);
    c.fillText(yLabel, PAD + 4, 16);
    c.restore();
  }

  /**
   * A `cells`×`cells` heatmap filling the view, row iy = 0 at the bottom; values mapped
   * through `color` (v already scaled to [0, 1]).
   */
  heatmap(values: ArrayLike<number>, cells: number, color: (v: number) => [number, number, number]): void {
    const img = new ImageData(cells, cells);
    for (let iy = 0; iy < cells; iy++)
      for (let ix = 0; ix < cells; ix++) {
        const [r, g, b] = color(values[iy * cells + ix]!);
        const o = 4 * ((cells - 1 - iy) * cells + ix);
        img.data[o] = r;
        img.data[o + 1] = g;
        img.data[o + 2] = b;
        img.data[o + 3] = 255;
      }
    const off = new OffscreenCanvas(cells, cells);
    off.getContext('2d')!.putImageData(img, 0, 0);
    const c = this.ctx;
    c.save();
    c.imageSmoothingEnabled = true;
    c.drawImage(off, PAD, 6, this.inner, this.inner);
    c.restore();
  }

  /** Points (x, y pairs) as small discs. */
  points(xy: ArrayLike<number>, color: string, r = 1.8, alpha = 0.8): void {
    const c = this.ctx;
    c.save();
    c.beginPath();
    c.rect(PAD, 6, this.inner, this.inner);
    c.clip();
    c.fillStyle = color;
    c.globalAlpha = alpha;
    for (let i = 0; i + 1 < xy.length; i += 2) {
      const x = this.px(xy[i]!), y = this.py(xy[i + 1]!);
      c.beginPath();
      c.arc(x, y, r, 0, 2 * Math.PI);
      c.fill();
    }
    c.restore();
  }

  /** `lines` polylines of `per` points each, stored one after the other. */
  polylines(xy: ArrayLike<number>, lines: number, per: number, color: string): void {
    const c = this.ctx;
    c.save();
    c.beginPath();
    c.rect(PAD, 6, this.inner, this.inner);
    c.clip();
    c.strokeStyle = color;
    c.lineWidth = 1;
    for (let l = 0; l < lines; l++) {
      c.beginPath();
      for (let p = 0; p < per; p++) {
        const k = 2 * (l * per + p);
        const x = this.px(xy[k]!), y = this.py(xy[k + 1]!);
        if (p === 0) c.moveTo(x, y);
        else c.lineTo(x, y);
      }
      c.stroke();
    }
    c.restore();
  }
}

/** Round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi]. */
export function niceTicks(lo: number, hi: number, want = 5): number[] {
  const raw = (hi - lo) / want;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Math.abs(t) < 1e-12 ? 0 : t);
  return out;
}

function fmtTick(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(1);
}

/** A legend row: coloured swatches with labels. */
export function legend(items: readonly [string, string][]): HTMLElement {
  const d = document.createElement('div');
  d.className = 'plane-legend';
  for (const [color, label] of items) {
    const s = document.createElement('span');
    const sw = document.createElement('i');
    sw.style.background = color;
    s.append(sw, label);
    d.append(s);
  }
  return d;
}

/** Grey-level images in [−1, 1] ([n, rows·cols]) as a grid of `perRow` columns on a canvas. */
export function drawImageGrid(canvas: HTMLCanvasElement, x: Float32Array, n: number, rows: number, cols: number, perRow: number): void {
  const gr = Math.ceil(n / perRow);
  const W = perRow * (cols + 1) + 1, H = gr * (rows + 1) + 1;
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  // Grey separators between the images; pixels as the data set stores them (bright = ink).
  for (let o = 0; o < img.data.length; o += 4) {
    img.data[o] = img.data[o + 1] = img.data[o + 2] = 150;
    img.data[o + 3] = 255;
  }
  for (let k = 0; k < n; k++) {
    const ox = (k % perRow) * (cols + 1) + 1, oy = Math.floor(k / perRow) * (rows + 1) + 1;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const v = Math.round(Math.min(1, Math.max(0, (x[k * rows * cols + i * cols + j]! + 1) / 2)) * 255);
        const o = 4 * ((oy + i) * W + ox + j);
        img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      }
  }
  ctx.putImageData(img, 0, 0);
}
