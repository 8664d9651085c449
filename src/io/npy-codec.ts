/**
 * NumPy `.npy` files, written from the published format description
 * (numpy.lib.format, "NPY format"): the magic `\x93NUMPY`, a major/minor version byte
 * pair, the header length (little-endian u16 in version 1.0, u32 in 2.0/3.0), an ASCII
 * Python-dict header `{'descr': '<f4', 'fortran_order': False, 'shape': (n, m), }`
 * padded with spaces and ending in a newline so the data starts at a multiple of 64,
 * then the raw C-order data.
 *
 * genphys writes version 1.0 and reads 1.0, 2.0 and 3.0, for the little-endian types
 * below only.
 *
 * This module is the browser-safe part (encode and decode bytes); src/io/npy.ts adds the files.
 */
import { DataFormatError, ShapeError } from '../core/errors.js';

/** Arrays that can be stored in a `.npy` file. */
export type NpyData = Int8Array | Uint8Array | Int32Array | Float32Array | Float64Array;

/** NumPy dtype descriptors genphys reads and writes. */
export type NpyDescr = '|i1' | '|u1' | '<i4' | '<f4' | '<f8';

/** A decoded `.npy` array. */
export interface NpyArray {
  readonly descr: NpyDescr;
  readonly shape: number[];
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<NpyDescr, { size: number; make: (b: ArrayBuffer) => NpyData }> = {
  '|i1': { size: 1, make: (b) => new Int8Array(b) },
  '|u1': { size: 1, make: (b) => new Uint8Array(b) },
  '<i4': { size: 4, make: (b) => new Int32Array(b) },
  '<f4': { size: 4, make: (b) => new Float32Array(b) },
  '<f8': { size: 8, make: (b) => new Float64Array(b) },
};

/** numpy also spells the one-byte types without the `|` byte-order mark in some writers. */
const ALIASES: Record<string, NpyDescr> = { '<i1': '|i1', '<u1': '|u1', i1: '|i1', u1: '|u1', b: '|i1', B: '|u1' };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function descrOf(data: NpyData): NpyDescr {
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  throw new ShapeError(`npy: unsupported array type ${(data as object).constructor.name}`);
}

function swapIfBigEndian(bytes: Uint8Array, size: number): void {
  if (LITTLE_ENDIAN || size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/**
 * Serialise an array to `.npy` (format 1.0) bytes.
 * @param shape - C-order shape; its product must equal `data.length` (`[]` for a scalar)
 * @throws ShapeError when the shape does not fit the data
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const descr = descrOf(data);
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ShapeError(`npy: invalid shape (${shape.join(', ')})`);
    n *= d;
  }
  if (n !== data.length) throw new ShapeError(`npy: shape (${shape.join(', ')}) needs ${n} elements, got ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // 10 bytes of preamble + header + '\n' must be a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  if (total - 10 > 0xffff) throw new ShapeError(`npy: header too long for format 1.0 (${shape.length} dimensions)`);
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i) & 0xff;
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  swapIfBigEndian(body, data.BYTES_PER_ELEMENT);
  out.set(body, total);
  return out;
}

function bad(file: string, problem: string): never {
  throw new DataFormatError(file, problem);
}

/**
 * Parse `.npy` bytes strictly: magic, version, header dict (exactly the keys `descr`,
 * `fortran_order`, `shape`), a supported little-endian dtype, C order, and a data
 * section of exactly shape × item size bytes.
 *
 * @param file - name used in error messages
 * @throws DataFormatError naming `file` and the problem
 */
export function decodeNpy(bytes: Uint8Array, file = '<npy>'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) bad(file, 'not a .npy file (bad magic)');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (minor !== 0 || major < 1 || major > 3) bad(file, `unsupported .npy format version ${major}.${minor}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else {
    if (bytes.length < 12) bad(file, 'truncated header');
    hlen = dv.getUint32(8, true);
    start = 12;
  }
  if (start + hlen > bytes.length) bad(file, `header length ${hlen} exceeds the file (truncated)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + hlen));
  const m = /^\{\s*(.*?)\s*,?\s*\}\s*$/s.exec(header);
  if (!m) bad(file, `header is not a Python dict: ${JSON.stringify(header.trim().slice(0, 80))}`);
  // Split the dict body into 'key': value pairs; values are a quoted string, a bool or a tuple.
  const pairRe = /\s*'([^']*)'\s*:\s*('[^']*'|"[^"]*"|True|False|\([^)]*\))\s*(?:,|$)/gy;
  const fields = new Map<string, string>();
  const body = m[1]!;
  let consumed = 0;
  for (let pm = pairRe.exec(body); pm; pm = pairRe.exec(body)) {
    if (fields.has(pm[1]!)) bad(file, `header repeats key '${pm[1]}'`);
    fields.set(pm[1]!, pm[2]!);
    consumed = pairRe.lastIndex;
  }
  if (body.slice(consumed).trim() !== '') bad(file, `cannot parse header near ${JSON.stringify(body.slice(consumed, consumed + 40))}`);
  const keys = [...fields.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') bad(file, `header keys are {${keys}}, expected descr, fortran_order, shape`);
  const rawDescr = fields.get('descr')!.slice(1, -1);
  const descr = (Object.prototype.hasOwnProperty.call(DESCR, rawDescr) ? rawDescr : ALIASES[rawDescr]) as
    | NpyDescr
    | undefined;
  if (descr === undefined) bad(file, `unsupported dtype '${rawDescr}' (genphys reads ${Object.keys(DESCR).join(', ')})`);
  if (fields.get('fortran_order') !== 'False') bad(file, 'Fortran-order arrays are not supported (save with C order)');
  const tuple = fields.get('shape')!;
  if (!tuple.startsWith('(')) bad(file, `shape ${tuple} is not a tuple`);
  const inner = tuple.slice(1, -1).trim();
  const parts = inner === '' ? [] : inner.replace(/,\s*$/, '').split(',');
  const shape = parts.map((p) => {
    const t = p.trim().replace(/L$/, '');
    if (!/^\d+$/.test(t)) bad(file, `shape ${tuple} has a non-integer entry '${p.trim()}'`);
    return Number(t);
  });
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + hlen;
  const size = DESCR[descr].size;
  const have = bytes.length - dataStart;
  if (!Number.isSafeInteger(n * size)) bad(file, `shape ${tuple} is too large`);
  if (have < n * size) bad(file, `data section is ${have} bytes, shape ${tuple} × ${descr} needs ${n * size} (truncated)`);
  if (have > n * size) bad(file, `data section is ${have} bytes, shape ${tuple} × ${descr} needs ${n * size} (trailing bytes)`);
  const copy = new Uint8Array(n * size);
  copy.set(bytes.subarray(dataStart, dataStart + n * size));
  swapIfBigEndian(copy, size);
  return { descr, shape, data: DESCR[descr].make(copy.buffer) };
}

