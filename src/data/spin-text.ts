/**
 * Spin configurations as plain text: one configuration per line, spins separated
 * by whitespace, written either as 0/1 or as −1/+1 (`-1`, `1`, `+1`). Blank lines
 * and `#` comments (whole-line or trailing) are ignored. The convention is detected
 * from the file; mixing the two, ragged lines, or any other token is an error that
 * names the file and line.
 *
 * This module is browser-safe (parsing and formatting); src/data/spins.ts reads and writes files.
 */
import { DataFormatError, ShapeError } from '../core/errors.js';
import { decodeNpy } from '../io/npy-codec.js';

/** How spins are written: `'01'` (down = 0, up = 1) or `'pm1'` (down = −1, up = +1). */
export type SpinConvention = '01' | 'pm1';

/** Parsed spin configurations. */
export interface SpinData {
  /** Number of configurations (lines with data). */
  readonly n: number;
  /** Spins per configuration. */
  readonly dim: number;
  /**
   * Convention found in the file. A file with only `1` tokens carries no evidence
   * either way and is reported as `'01'`.
   */
  readonly convention: SpinConvention;
  /** `n × dim` row-major values in the file's convention (0/1 or −1/+1). */
  readonly data: Float32Array;
}

/** Accepted tokens: value, and the convention they prove (null: valid in both). */
const TOKENS = new Map<string, readonly [number, SpinConvention | null]>([
  ['1', [1, null]],
  ['0', [0, '01']],
  ['-1', [-1, 'pm1']],
  ['+1', [1, 'pm1']],
]);

/**
 * Parse spin text.
 * @param text - file contents
 * @param file - name used in error messages
 * @throws DataFormatError naming `file`, the line and the problem
 */
export function parseSpinText(text: string, file: string): SpinData {
  let dim = -1;
  let n = 0;
  let convention: SpinConvention | null = null;
  let conventionLine = 0;
  let buf = new Int8Array(1024);
  let len = 0;
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1;
    let line = lines[li]!;
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const tokens = line.split(/[ \t\r\f\v]+/).filter((t) => t !== '');
    if (tokens.length === 0) continue;
    if (dim < 0) dim = tokens.length;
    else if (tokens.length !== dim) {
      throw new DataFormatError(file, `line ${lineNo}: ${tokens.length} spins, expected ${dim} as on the first configuration`);
    }
    if (len + dim > buf.length) {
      const next = new Int8Array(Math.max(buf.length * 2, len + dim));
      next.set(buf.subarray(0, len));
      buf = next;
    }
    for (const t of tokens) {
      const tok = TOKENS.get(t);
      if (tok === undefined) {
        const shown = t.length > 20 ? t.slice(0, 20) + '…' : t;
        throw new DataFormatError(file, `line ${lineNo}: '${shown}' is not a spin (expected 0/1 or -1/+1)`);
      }
      const [v, c] = tok;
      if (c !== null && convention === null) {
        convention = c;
        conventionLine = lineNo;
      } else if (c !== null && c !== convention) {
        throw new DataFormatError(
          file,
          `line ${lineNo}: '${t}' mixes spin conventions (line ${conventionLine} uses ${convention === '01' ? '0/1' : '-1/+1'})`,
        );
      }
      buf[len++] = v;
    }
    n++;
  }
  if (n === 0) throw new DataFormatError(file, 'no spin configurations (only blank or comment lines)');
  const data = new Float32Array(len);
  for (let i = 0; i < len; i++) data[i] = buf[i]!;
  return { n, dim, convention: convention ?? '01', data };
}

/** Options of {@link formatSpinText}. */
export interface FormatSpinOptions {
  /** Convention to write. Default `'pm1'`. */
  readonly convention?: SpinConvention;
  /** Comment written first, each line prefixed with `# `. */
  readonly header?: string;
}

/**
 * Format configurations as spin text, one per line, single-space separated.
 * Input values may use either convention: 1 is up; 0 and −1 are down (but a
 * single array must not contain both 0 and −1).
 *
 * @param data - `n × dim` row-major spins
 * @param dim - spins per configuration
 * @param opts - output convention and optional header comment
 * @throws ShapeError when sizes do not fit or a value is not a spin
 */
export function formatSpinText(data: ArrayLike<number>, dim: number, opts: FormatSpinOptions = {}): string {
  if (!Number.isInteger(dim) || dim < 1) throw new ShapeError(`formatSpinText: dim must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0) throw new ShapeError(`formatSpinText: ${data.length} values is not a multiple of dim ${dim}`);
  const [down, up] = (opts.convention ?? 'pm1') === 'pm1' ? ['-1', '1'] : ['0', '1'];
  let sawZero = false;
  let sawMinus = false;
  const parts: string[] = [];
  if (opts.header !== undefined) for (const h of opts.header.split('\n')) parts.push(`# ${h}\n`);
  const row: string[] = new Array<string>(dim);
  for (let r = 0; r < data.length / dim; r++) {
    for (let j = 0; j < dim; j++) {
      const v = data[r * dim + j]!;
      if (v === 1) row[j] = up;
      else if (v === 0 || v === -1) {
        row[j] = down;
        if (v === 0) sawZero = true;
        else sawMinus = true;
      } else throw new ShapeError(`formatSpinText: value ${v} at row ${r}, column ${j} is not a spin (0/1 or -1/+1)`);
    }
    if (sawZero && sawMinus) throw new ShapeError('formatSpinText: input mixes 0 and -1 as spin down');
    parts.push(row.join(' ') + '\n');
  }
  return parts.join('');
}

/** Write {@link formatSpinText} output to `path` atomically. */
/** Spin configurations for training, whatever file they came in. */
export interface SpinConfigurations {
  /** Number of configurations. */
  readonly n: number;
  /** Spins per configuration. */
  readonly dim: number;
  /** n × dim values ±1. */
  readonly spins: Int8Array;
}

/**
 * Configurations from the bytes of a `.npy` (int8 ±1 or 0/1, any shape [n, …]) or a spin
 * text file, by the file name's extension, converted to ±1. Browser-safe: the lab reads
 * uploads with it; {@link loadSpinConfigurations} reads files.
 * @throws DataFormatError naming the file
 */
export function spinConfigurationsFromBytes(bytes: Uint8Array, file: string): SpinConfigurations {
  if (file.endsWith('.npy')) {
    const arr = decodeNpy(bytes, file);
    if (arr.shape.length < 2 || arr.shape[0]! < 1) throw new DataFormatError(file, `shape [${arr.shape.join(', ')}]: expected [n, …] with n ≥ 1 configurations`);
    const n = arr.shape[0]!;
    const dim = arr.shape.slice(1).reduce((a, b) => a * b, 1);
    const spins = new Int8Array(n * dim);
    let zeros = false, minus = false;
    for (let k = 0; k < spins.length; k++) {
      const v = Number(arr.data[k]);
      if (v === 1) spins[k] = 1;
      else if (v === -1) { spins[k] = -1; minus = true; }
      else if (v === 0) { spins[k] = -1; zeros = true; }
      else throw new DataFormatError(file, `value ${v} at flat index ${k} is not a spin (expected ±1 or 0/1)`);
    }
    if (zeros && minus) throw new DataFormatError(file, 'mixes 0 and −1 as spin down');
    return { n, dim, spins };
  }
  const t = parseSpinText(new TextDecoder('utf-8').decode(bytes), file);
  const spins = new Int8Array(t.data.length);
  for (let k = 0; k < spins.length; k++) spins[k] = t.data[k]! > 0 ? 1 : -1;
  return { n: t.n, dim: t.dim, spins };
}
