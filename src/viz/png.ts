/**
 * Greyscale PNG grids for image batches and RBM weight filters, encoded with pngjs.
 *
 * Layout (both grids): tiles of `height × width` pixels, each upscaled by an integer
 * `scale`, placed row-major in `cols` columns, with `pad` pixels of `padValue` between
 * tiles and around the border. Cells after the last image are filled with `padValue`.
 */
import { PNG } from 'pngjs';
import { ShapeError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { labelledGridSvg, type LabelledGridOptions } from './grid-svg.js';

/** Options shared by {@link imageGridPng} and {@link filterGridPng}. */
export interface GridOptions {
  /** Tiles per row (at most `n` are used). Default `ceil(sqrt(n))`. */
  readonly cols?: number;
  /** Pixels between tiles and around the border (not scaled). Default 2. */
  readonly pad?: number;
  /** Integer upscale factor per image pixel (nearest neighbour). Default 1. */
  readonly scale?: number;
  /** Grey level 0–255 of padding and empty cells. Default 128 (mid grey). */
  readonly padValue?: number;
}

/** Options of {@link imageGridPng}. */
export interface ImageGridOptions extends GridOptions {
  /**
   * Input values mapped to black and white; values outside are clipped, NaN is black.
   * Default `[0, 1]` for floating-point input and `[0, 255]` for `Uint8Array`.
   */
  readonly range?: readonly [number, number];
}

/** How {@link filterGridPng} maps each filter's weights to grey levels. */
export type FilterNormalisation = 'minmax' | 'symmetric';

/** Options of {@link filterGridPng}. */
export interface FilterGridOptions extends GridOptions {
  /**
   * `'minmax'` (default): each filter is stretched from its own minimum (black) to its
   * own maximum (white). `'symmetric'`: a diverging grey map centred on zero — each
   * filter is scaled by its own `max |w|`, so `-max → black`, `0 → grey 128`,
   * `+max → white`; the sign of a weight can then be read off the image.
   */
  readonly normalise?: FilterNormalisation;
  /** Show only the first `count` hidden units. Default: all `nHidden`. */
  readonly count?: number;
}

interface Layout {
  cols: number;
  rows: number;
  pad: number;
  scale: number;
  padValue: number;
  outW: number;
  outH: number;
}

function checkPosInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${name} must be a positive integer, got ${v}`);
}

function layout(n: number, height: number, width: number, opts: GridOptions): Layout {
  checkPosInt(n, 'n');
  checkPosInt(height, 'height');
  checkPosInt(width, 'width');
  const cols = Math.min(opts.cols ?? Math.ceil(Math.sqrt(n)), n);
  checkPosInt(cols, 'cols');
  const pad = opts.pad ?? 2;
  if (!Number.isInteger(pad) || pad < 0) throw new ShapeError(`pad must be a non-negative integer, got ${pad}`);
  const scale = opts.scale ?? 1;
  checkPosInt(scale, 'scale');
  const padValue = opts.padValue ?? 128;
  if (!(padValue >= 0 && padValue <= 255)) throw new ShapeError(`padValue must be in [0, 255], got ${padValue}`);
  const rows = Math.ceil(n / cols);
  const outW = cols * width * scale + (cols + 1) * pad;
  const outH = rows * height * scale + (rows + 1) * pad;
  return { cols, rows, pad, scale, padValue: Math.round(padValue), outW, outH };
}

/**
 * Paint `n` tiles into a greyscale buffer. `grey(k, p)` returns the 0–255 level of pixel
 * `p` (row-major within a tile) of tile `k`.
 */
function paint(
  n: number,
  height: number,
  width: number,
  lay: Layout,
  grey: (k: number, p: number) => number,
): Buffer {
  const { cols, pad, scale, outW, outH } = lay;
  const out = Buffer.alloc(outW * outH, lay.padValue);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (width * scale + pad);
    const y0 = pad + Math.floor(k / cols) * (height * scale + pad);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const g = grey(k, r * width + c);
        for (let dy = 0; dy < scale; dy++) {
          const row = (y0 + r * scale + dy) * outW + x0 + c * scale;
          out.fill(g, row, row + scale);
        }
      }
    }
  }
  return out;
}

function encodeGrey(grey: Buffer, w: number, h: number): Buffer {
  // colorType 0 in and out at 8 bits: pngjs writes the one-byte-per-pixel buffer as is.
  const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  png.data = grey;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}

function toGrey(v: number, lo: number, span: number): number {
  const t = (v - lo) / span;
  if (!(t > 0)) return 0; // also NaN
  if (t >= 1) return 255;
  return Math.round(t * 255);
}

/**
 * Encode the first `n` images of a batch as a greyscale PNG grid.
 *
 * @param images - row-major batch, image `k` at `[k*height*width, (k+1)*height*width)`;
 *   may hold more than `n` images (the rest are ignored)
 * @param n - number of images to show
 * @param height - image height in pixels
 * @param width - image width in pixels
 * @param opts - layout and value range, see {@link ImageGridOptions}
 * @returns the PNG file bytes
 * @throws ShapeError when the batch is too short or an option is out of range
 */
export function imageGridPng(
  images: Float32Array | Float64Array | Uint8Array,
  n: number,
  height: number,
  width: number,
  opts: ImageGridOptions = {},
): Buffer {
  const lay = layout(n, height, width, opts);
  const px = height * width;
  if (images.length < n * px) {
    throw new ShapeError(`imageGridPng: need ${n}×${height}×${width} = ${n * px} values, got ${images.length}`);
  }
  const [lo, hi] = opts.range ?? (images instanceof Uint8Array ? [0, 255] : [0, 1]);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new ShapeError(`imageGridPng: range must be finite with lo < hi, got [${lo}, ${hi}]`);
  }
  const span = hi - lo;
  const grey = paint(n, height, width, lay, (k, p) => toGrey(images[k * px + p]!, lo, span));
  return encodeGrey(grey, lay.outW, lay.outH);
}

/**
 * Write {@link imageGridPng} to `path` atomically (temporary file, then rename).
 * @returns the image size in pixels
 */
export function writeImageGrid(
  path: string,
  images: Float32Array | Float64Array | Uint8Array,
  n: number,
  height: number,
  width: number,
  opts: ImageGridOptions = {},
): { width: number; height: number } {
  const buf = imageGridPng(images, n, height, width, opts);
  writeFileAtomic(path, buf);
  const lay = layout(n, height, width, opts);
  return { width: lay.outW, height: lay.outH };
}

/**
 * Encode RBM weight filters as a greyscale PNG grid: the column of `W` belonging to
 * hidden unit `j` (its receptive field, `W[i*nHidden + j]` for visible `i`) is shown as
 * a `height × width` image, normalised per filter as chosen by `opts.normalise`.
 * A constant filter is drawn mid grey (128).
 *
 * @param W - weights, `nVisible × nHidden`, row-major
 * @param nVisible - number of visible units, must equal `height * width`
 * @param nHidden - number of hidden units
 * @returns the PNG file bytes
 * @throws ShapeError when sizes do not fit
 */
export function filterGridPng(
  W: Float32Array | Float64Array,
  nVisible: number,
  nHidden: number,
  height: number,
  width: number,
  opts: FilterGridOptions = {},
): Buffer {
  checkPosInt(nVisible, 'nVisible');
  checkPosInt(nHidden, 'nHidden');
  if (nVisible !== height * width) {
    throw new ShapeError(`filterGridPng: nVisible ${nVisible} != height×width = ${height}×${width}`);
  }
  if (W.length !== nVisible * nHidden) {
    throw new ShapeError(`filterGridPng: W has ${W.length} values, expected ${nVisible}×${nHidden}`);
  }
  const count = opts.count ?? nHidden;
  checkPosInt(count, 'count');
  if (count > nHidden) throw new ShapeError(`filterGridPng: count ${count} > nHidden ${nHidden}`);
  const mode = opts.normalise ?? 'minmax';
  if (mode !== 'minmax' && mode !== 'symmetric') throw new ShapeError(`filterGridPng: unknown normalise '${String(mode)}'`);
  const lay = layout(count, height, width, opts);
  // Per-filter [lo, span]; span 0 marks a constant filter.
  const lo = new Float64Array(count);
  const span = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < nVisible; i++) {
      const v = W[i * nHidden + j]!;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (mode === 'symmetric') {
      const m = Math.max(Math.abs(mn), Math.abs(mx));
      lo[j] = -m;
      span[j] = 2 * m;
    } else {
      lo[j] = mn;
      span[j] = mx - mn;
    }
  }
  const grey = paint(count, height, width, lay, (k, p) =>
    span[k]! > 0 && Number.isFinite(span[k]!) ? toGrey(W[p * nHidden + k]!, lo[k]!, span[k]!) : 128,
  );
  return encodeGrey(grey, lay.outW, lay.outH);
}

/**
 * Write {@link filterGridPng} to `path` atomically.
 * @returns the image size in pixels
 */
export function writeFilterGrid(
  path: string,
  W: Float32Array | Float64Array,
  nVisible: number,
  nHidden: number,
  height: number,
  width: number,
  opts: FilterGridOptions = {},
): { width: number; height: number } {
  const buf = filterGridPng(W, nVisible, nHidden, height, width, opts);
  writeFileAtomic(path, buf);
  const lay = layout(opts.count ?? nHidden, height, width, opts);
  return { width: lay.outW, height: lay.outH };
}

/**
 * {@link writeImageGrid} to `pngPath`, and the same PNG (encoded once) inside an SVG at
 * `svgPath` whose rows, columns and axes carry the given labels (src/viz/grid-svg.ts). The
 * SVG's geometry follows from the grid's, so callers give only what the labels say.
 */
export function writeLabelledImageGrid(
  pngPath: string,
  svgPath: string,
  images: Float32Array | Float64Array | Uint8Array,
  n: number,
  height: number,
  width: number,
  opts: ImageGridOptions,
  labels: Omit<LabelledGridOptions, 'cols' | 'rows' | 'tileWidth' | 'tileHeight' | 'pad'>,
): void {
  const buf = imageGridPng(images, n, height, width, opts);
  const { cols, rows, pad, scale } = layout(n, height, width, opts);
  writeFileAtomic(pngPath, buf);
  writeFileAtomic(svgPath, labelledGridSvg(buf, { ...labels, cols, rows, tileWidth: width * scale + pad, tileHeight: height * scale + pad, pad }));
}
