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

/**
 * An estimate in the compact notation of physics papers, the error in parentheses on the
 * last digits: 1.23456 ± 0.00045 → "1.23456(45)"; two significant digits of error.
 */
export function formatConcise(e: Estimate | undefined): string {
  if (!e || !Number.isFinite(e.value)) return '—';
  if (!(e.error > 0) || !Number.isFinite(e.error)) return e.value.toFixed(4);
  const decimals = Math.min(8, Math.max(0, 1 - Math.floor(Math.log10(e.error))));
  const err = Math.round(e.error * 10 ** decimals);
  return `${e.value.toFixed(decimals)}(${err})`;
}

/**
 * A plain-text table for terminals: columns padded to their widest cell and separated by
 * two spaces, the header underlined; numbers right-aligned (cells that start with a digit,
 * a sign or '—'), text left-aligned.
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const numeric = header.map((_, j) => rows.every((r) => /^[-+−\d.—]/.test(r[j] ?? '—')));
  const line = (cells: readonly string[]) => cells.map((c, j) => (numeric[j] ? c.padStart(width[j]!) : c.padEnd(width[j]!))).join('  ').trimEnd();
  return [line(header), width.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
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
