/**
 * An image grid (a PNG from src/viz/png.ts) inside an SVG that says what its rows and
 * columns are: a title, a label beside each row that has one (e.g. "input" above
 * "reconstruction"), a label under each column that has one (interpolation weights, latent
 * values), and axis names. Browser-safe: the PNG is embedded as a data URI.
 */

/** Options of {@link labelledGridSvg}. */
export interface LabelledGridOptions {
  /** Tiles per row and per column of the PNG. */
  readonly cols: number;
  readonly rows: number;
  /** Tile pitch in PNG pixels (image size times scale, plus the padding), and the padding. */
  readonly tileWidth: number;
  readonly tileHeight: number;
  readonly pad: number;
  readonly title: string;
  /** One label per row (top first); null or '' leaves a row unlabelled. */
  readonly rowLabels?: readonly (string | null)[];
  /** One label per column (left first). */
  readonly colLabels?: readonly (string | null)[];
  /** Names of the axes, under the column labels and beside the row labels. */
  readonly xName?: string;
  readonly yName?: string;
  /** Display scale of the PNG (nearest-neighbour). Default 1. */
  readonly scale?: number;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Base64 of bytes, without Node's Buffer. */
function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return globalThis.btoa(s);
}

/** The SVG text of a labelled grid. */
export function labelledGridSvg(png: Uint8Array, o: LabelledGridOptions): string {
  const k = o.scale ?? 1;
  const w = (o.cols * o.tileWidth + o.pad) * k;
  const h = (o.rows * o.tileHeight + o.pad) * k;
  const rowText = o.rowLabels?.some((l) => l) ?? false;
  const longest = Math.max(0, ...(o.rowLabels ?? []).map((l) => (l ?? '').length));
  const left = (rowText ? Math.max(40, 7 * longest + 12) : 12) + (o.yName ? 20 : 0);
  const top = 30;
  const bottom = (o.colLabels?.some((l) => l) ? 20 : 6) + (o.xName ? 20 : 0);
  // Wide enough for the title too (bold 13 px sans: ≈ 7.5 px a character), which small grids would clip.
  const width = Math.max(left + w + 12, Math.ceil(7.5 * o.title.length) + 20);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + h + bottom}" font-family="sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(o.title)}</text>`,
    `<image x="${left}" y="${top}" width="${w}" height="${h}" href="data:image/png;base64,${base64(png)}" style="image-rendering:pixelated"/>`,
  ];
  o.rowLabels?.forEach((l, r) => {
    if (l) parts.push(`<text x="${left - 6}" y="${top + (o.pad / 2 + (r + 0.5) * o.tileHeight) * k + 4}" text-anchor="end">${escape(l)}</text>`);
  });
  o.colLabels?.forEach((l, c) => {
    if (l) parts.push(`<text x="${left + (o.pad / 2 + (c + 0.5) * o.tileWidth) * k}" y="${top + h + 15}" text-anchor="middle">${escape(l)}</text>`);
  });
  if (o.xName) parts.push(`<text x="${left + w / 2}" y="${top + h + bottom - 6}" text-anchor="middle">${escape(o.xName)}</text>`);
  if (o.yName) parts.push(`<text x="14" y="${top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + h / 2})">${escape(o.yName)}</text>`);
  parts.push('</svg>', '');
  return parts.join('\n');
}
