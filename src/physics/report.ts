/**
 * Plain-text reporting for the physics commands: value ± error formatting and
 * simple Markdown / CSV tables.
 */
import type { Estimate } from './observables.js';

/** Format `value ± error` with the error to two significant figures and the value to match. */
export function formatEstimate(e: Estimate | undefined): string {
  if (!e || !Number.isFinite(e.value)) return '—';
  if (!(e.error > 0) || !Number.isFinite(e.error)) return e.value.toFixed(4);
  const decimals = Math.min(8, Math.max(0, 1 - Math.floor(Math.log10(e.error))));
  return `${e.value.toFixed(decimals)} ± ${e.error.toFixed(decimals)}`;
}

/** Format a plain number with 5 decimals (or '—' when missing). */
export function formatNumber(x: number | undefined, decimals = 5): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(decimals);
}

/** A Markdown pipe table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  // A '|' inside a cell (the |m| columns) would end the cell: escape it.
  const esc = (cells: readonly string[]) => cells.map((x) => x.replace(/\|/g, '\\|'));
  return markdownTableRaw(esc(header), rows.map(esc));
}

function markdownTableRaw(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) => '| ' + cells.map((x, c) => x.padEnd(widths[c]!)).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n') + '\n';
}

/** RFC 4180 CSV (fields quoted when they contain a comma, quote or newline). */
export function csvTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const q = (v: string | number) => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(q).join(',')).join('\n') + '\n';
}
