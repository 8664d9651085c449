/**
 * Canvas views of the lab's VAE panel: images from [0, 1] values, the decoded grid, the
 * scatter of latent means with its legend and axes, and the pad the user draws on.
 */
import type { LatentPlane } from './vae-stats.js';

/** Ten distinguishable colours (matplotlib's tab10), for class labels. */
export const TAB10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/**
 * A colour for temperature position t ∈ [0, 1]: hue from blue (cold) through green to red
 * (hot) at constant saturation and lightness, so every temperature stays visible on white.
 */
export function temperatureColor(t: number): string {
  const u = Math.min(1, Math.max(0, t));
  return `hsl(${Math.round(240 * (1 - u))}, 80%, 42%)`;
}

/**
 * Paint values in [0, 1] (`rows`×`cols`, row-major) into `img` at (x0, y0): images white on
 * black as the data sets store them; Ising spins up (1) dark and down (0) light, as the
 * Ising panel draws them.
 */
export function paintValues(img: ImageData, values: ArrayLike<number>, offset: number, rows: number, cols: number, x0: number, y0: number, ising: boolean): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = Math.min(1, Math.max(0, values[offset + r * cols + c]!));
      const p = 4 * ((y0 + r) * img.width + x0 + c);
      if (ising) {
        img.data[p] = Math.round(240 - 220 * v);
        img.data[p + 1] = Math.round(240 - 220 * v);
        img.data[p + 2] = Math.round(240 - 180 * v);
      } else {
        const g = Math.round(255 * v);
        img.data[p] = g;
        img.data[p + 1] = g;
        img.data[p + 2] = g;
      }
      img.data[p + 3] = 255;
    }
  }
}

/** Draw one image into a canvas whose pixel size is the image's. */
export function drawImage(canvas: HTMLCanvasElement, values: ArrayLike<number>, rows: number, cols: number, ising: boolean): void {
  if (canvas.width !== cols || canvas.height !== rows) {
    canvas.width = cols;
    canvas.height = rows;
  }
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(cols, rows);
  paintValues(img, values, 0, rows, cols, 0, 0, ising);
  ctx.putImageData(img, 0, 0);
}

/** Draw a g×g grid of images (`[g·g, rows·cols]`) with a one-pixel gap between tiles. */
export function drawGrid(canvas: HTMLCanvasElement, values: Float32Array, g: number, rows: number, cols: number, ising: boolean): void {
  const W = g * (cols + 1) - 1;
  const H = g * (rows + 1) - 1;
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  img.data.fill(255);
  for (let t = 0; t < g * g; t++) paintValues(img, values, t * rows * cols, rows, cols, (t % g) * (cols + 1), Math.floor(t / g) * (rows + 1), ising);
  ctx.putImageData(img, 0, 0);
}

/** What the scatter shows. */
export interface ScatterData {
  /** Means `[n, k]` row-major; coordinates 1 and 2 are drawn. */
  readonly mu: Float32Array;
  readonly k: number;
  readonly labels: ArrayLike<number>;
  readonly labelNames: readonly string[];
  /** Colour of each label value. */
  readonly colors: readonly string[];
  readonly plane: LatentPlane;
  /** A highlighted point (the user's drawing), if any. */
  readonly mark?: { readonly x: number; readonly y: number; readonly label: string } | null;
}

/** ~5 round tick values across [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

/** A scatter plot of latent means on a canvas, with axes and a legend at the right. */
export class LatentScatter {
  readonly canvas: HTMLCanvasElement;
  private readonly W = 560;
  private readonly H = 420;
  /** Plot area in CSS pixels. */
  private readonly box = { left: 48, top: 26, size: 350 };

  constructor(parent: HTMLElement) {
    this.canvas = document.createElement('canvas');
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = this.W * dpr;
    this.canvas.height = this.H * dpr;
    this.canvas.style.width = `${this.W}px`;
    this.canvas.style.height = `${this.H}px`;
    parent.append(this.canvas);
  }

  /** Canvas (CSS pixel) position of a latent point. */
  toPixel(plane: LatentPlane, x: number, y: number): { px: number; py: number } {
    const { left, top, size } = this.box;
    return { px: left + ((x - plane.x[0]) / (plane.x[1] - plane.x[0])) * size, py: top + size - ((y - plane.y[0]) / (plane.y[1] - plane.y[0])) * size };
  }

  /** Redraw: axes with ticks, the points coloured by label, the marked point, the legend. */
  draw(d: ScatterData, title: string): void {
    const dpr = globalThis.devicePixelRatio || 1;
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.W, this.H);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, this.W, this.H);
    const { left, top, size } = this.box;
    const { plane } = d;
    ctx.font = 'bold 13px sans-serif';
    ctx.fillStyle = '#222';
    ctx.fillText(title, left, 16);
    ctx.font = '11px sans-serif';
    ctx.strokeStyle = '#999';
    ctx.strokeRect(left, top, size, size);
    ctx.fillStyle = '#444';
    ctx.textAlign = 'center';
    for (const t of ticks(plane.x[0], plane.x[1])) {
      const { px } = this.toPixel(plane, t, plane.y[0]);
      ctx.fillRect(px, top + size, 1, 4);
      ctx.fillText(String(t), px, top + size + 15);
    }
    ctx.textAlign = 'right';
    for (const t of ticks(plane.y[0], plane.y[1])) {
      const { py } = this.toPixel(plane, plane.x[0], t);
      ctx.fillRect(left - 4, py, 4, 1);
      ctx.fillText(String(t), left - 6, py + 4);
    }
    ctx.textAlign = 'center';
    ctx.fillText('μ₁ (encoder mean, latent coordinate 1)', left + size / 2, top + size + 30);
    ctx.save();
    ctx.translate(12, top + size / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(d.k > 1 ? 'μ₂ (latent coordinate 2)' : 'μ₂ = 0 (1-D latent)', 0, 0);
    ctx.restore();
    ctx.textAlign = 'left';
    // Points, clipped to the plot box.
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, size, size);
    ctx.clip();
    ctx.globalAlpha = 0.7;
    const n = d.labels.length;
    for (let i = 0; i < n; i++) {
      const { px, py } = this.toPixel(plane, d.mu[i * d.k]!, d.k > 1 ? d.mu[i * d.k + 1]! : 0);
      ctx.fillStyle = d.colors[d.labels[i]!] ?? '#000';
      ctx.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
    ctx.globalAlpha = 1;
    if (d.mark) {
      const { px, py } = this.toPixel(plane, d.mark.x, d.mark.y);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 2.5;
      ctx.beginPath();
      ctx.arc(px, py, 7, 0, 2 * Math.PI);
      ctx.moveTo(px - 11, py);
      ctx.lineTo(px + 11, py);
      ctx.moveTo(px, py - 11);
      ctx.lineTo(px, py + 11);
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    ctx.restore();
    // Legend.
    const lx = left + size + 16;
    let ly = top + 6;
    ctx.fillStyle = '#222';
    for (let c = 0; c < d.labelNames.length; c++) {
      ctx.fillStyle = d.colors[c] ?? '#000';
      ctx.fillRect(lx, ly - 7, 9, 9);
      ctx.fillStyle = '#222';
      ctx.fillText(d.labelNames[c]!, lx + 14, ly + 1);
      ly += 15;
    }
    if (d.mark) {
      ly += 6;
      ctx.strokeStyle = '#000';
      ctx.beginPath();
      ctx.arc(lx + 4, ly - 3, 5, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillText(d.mark.label, lx + 14, ly + 1);
    }
  }
}

/**
 * A pad to draw an image on with the mouse: `rows`×`cols` values in [0, 1], shown enlarged.
 * Strokes are a soft round brush (about two pixels wide, like MNIST's pen); Ising pads
 * paint up spins with a hard one-pixel brush. `onStroke` runs when the button is released.
 */
export class DrawPad {
  readonly canvas: HTMLCanvasElement;
  readonly values: Float32Array;
  private last: { x: number; y: number } | null = null;

  constructor(
    parent: HTMLElement,
    readonly rows: number,
    readonly cols: number,
    private readonly ising: boolean,
    private readonly onStroke: (values: Float32Array) => void,
    cssSize = 224,
  ) {
    this.values = new Float32Array(rows * cols);
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'pixels vae-pad';
    this.canvas.style.width = `${cssSize}px`;
    this.canvas.style.height = `${(cssSize * rows) / cols}px`;
    this.canvas.dataset.testid = 'draw-pad';
    parent.append(this.canvas);
    this.canvas.addEventListener('pointerdown', (e) => {
      this.canvas.setPointerCapture(e.pointerId);
      this.last = this.at(e);
      this.paint(this.last, this.last);
    });
    this.canvas.addEventListener('pointermove', (e) => {
      if (!this.last) return;
      const p = this.at(e);
      this.paint(this.last, p);
      this.last = p;
    });
    const end = () => {
      if (!this.last) return;
      this.last = null;
      this.onStroke(this.values);
    };
    this.canvas.addEventListener('pointerup', end);
    this.canvas.addEventListener('pointercancel', end);
    this.redraw();
  }

  private at(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * this.cols, y: ((e.clientY - r.top) / r.height) * this.rows };
  }

  /** Paint the segment a → b (pad pixel coordinates). */
  private paint(a: { x: number; y: number }, b: { x: number; y: number }): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) * 3));
    for (let s = 0; s <= steps; s++) {
      const x = a.x + ((b.x - a.x) * s) / steps;
      const y = a.y + ((b.y - a.y) * s) / steps;
      if (this.ising) {
        const c = Math.floor(x);
        const r = Math.floor(y);
        if (r >= 0 && r < this.rows && c >= 0 && c < this.cols) this.values[r * this.cols + c] = 1;
        continue;
      }
      for (let r = Math.floor(y - 2); r <= Math.ceil(y + 2); r++) {
        for (let c = Math.floor(x - 2); c <= Math.ceil(x + 2); c++) {
          if (r < 0 || r >= this.rows || c < 0 || c >= this.cols) continue;
          const d = Math.hypot(c + 0.5 - x, r + 0.5 - y);
          const v = Math.min(1, Math.max(0, 1.7 - d));
          const i = r * this.cols + c;
          if (v > this.values[i]!) this.values[i] = v;
        }
      }
    }
    this.redraw();
  }

  /** Erase the drawing. */
  clear(): void {
    this.values.fill(0);
    this.redraw();
  }

  private redraw(): void {
    drawImage(this.canvas, this.values, this.rows, this.cols, this.ising);
  }
}
