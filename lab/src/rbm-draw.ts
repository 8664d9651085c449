/**
 * Image grids for the RBM panel: binary samples as black-on-white tiles, and filters
 * (one hidden unit's weights per tile) on a diverging blue–white–red scale, each tile
 * scaled to its own largest |w| so weak and strong filters both show their shape.
 */

/** How a tile's values become colours. */
export type TileMode = 'binary' | 'signed';

/** Layout of a tile grid. */
export interface TileGrid {
  readonly cols: number;
  readonly rows: number;
  /** CSS pixels per image pixel. */
  readonly scale: number;
}

/** Columns, rows and scale for `count` tiles `w` pixels wide in about `target` CSS pixels wide. */
export function tileLayout(count: number, w: number, target = 300): TileGrid {
  const cols = Math.max(1, Math.min(count, Math.ceil(Math.sqrt(count))));
  const rows = Math.max(1, Math.ceil(count / cols));
  const scale = Math.max(1, Math.floor(target / (cols * (w + 1) + 1)));
  return { cols, rows, scale };
}

/**
 * Draw `count` images (rows of `values`, h × w each) into `canvas` as a grid with 1-pixel
 * gaps; returns the layout used.
 */
export function drawTiles(canvas: HTMLCanvasElement, values: Float32Array, count: number, h: number, w: number, mode: TileMode, target = 300): TileGrid {
  const g = tileLayout(count, w, target);
  const W = g.cols * (w + 1) + 1;
  const H = g.rows * (h + 1) + 1;
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  canvas.style.width = `${W * g.scale}px`;
  canvas.style.height = `${H * g.scale}px`;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(W, H);
  img.data.fill(200);
  const n = h * w;
  for (let t = 0; t < count; t++) {
    const ox = 1 + (t % g.cols) * (w + 1);
    const oy = 1 + Math.floor(t / g.cols) * (h + 1);
    let scale = 1;
    if (mode === 'signed') {
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(values[t * n + i]!));
      scale = m > 0 ? 1 / m : 1;
    }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = values[t * n + y * w + x]!;
        const p = 4 * ((oy + y) * W + ox + x);
        if (mode === 'binary') {
          const c = Math.round(255 * (1 - Math.min(1, Math.max(0, v))));
          img.data[p] = c;
          img.data[p + 1] = c;
          img.data[p + 2] = c;
        } else {
          // Diverging: negative blue, zero white, positive red.
          const u = Math.max(-1, Math.min(1, v * scale));
          const a = Math.round(255 * (1 - Math.abs(u)));
          img.data[p] = u > 0 ? 255 : a;
          img.data[p + 1] = a;
          img.data[p + 2] = u < 0 ? 255 : a;
        }
        img.data[p + 3] = 255;
      }
  }
  for (let i = 3; i < img.data.length; i += 4) img.data[i] = 255;
  ctx.putImageData(img, 0, 0);
  return g;
}
