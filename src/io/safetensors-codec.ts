/**
 * The safetensors format, written from its published layout
 * (https://github.com/huggingface/safetensors, "Format"):
 *
 * ```
 * [8 bytes]  N, unsigned little-endian 64-bit: length of the header
 * [N bytes]  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
 *                          "__metadata__": { "<key>": "<string>" } }   (padded with spaces)
 * [rest]     the byte buffer; offsets are relative to its start, tensors are contiguous,
 *            row-major, little-endian
 * ```
 *
 * The writer pads the header with spaces so the buffer starts at a multiple of 8 and
 * orders tensors by element size (largest first), then name, so every tensor is
 * naturally aligned in the file. The reader checks every field and copies each tensor
 * into its own aligned typed array.
 *
 * This module is the pure, browser-safe codec (bytes in, bytes out; no `node:` imports);
 * `safetensors.ts` adds the file reads and writes.
 */
import { CheckpointError, ShapeError } from '../core/errors.js';

/** Element types genphys reads and writes (safetensors dtype names). */
export type SafetensorsDtype = 'F64' | 'F32' | 'I32' | 'I8' | 'U8';

/** Typed arrays that map to a {@link SafetensorsDtype}. */
export type TensorData = Float64Array | Float32Array | Int32Array | Int8Array | Uint8Array;

/** A tensor to write: row-major `data` of `shape`; the dtype follows from the array type. */
export interface TensorInput {
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** A tensor read from a file. */
export interface DecodedTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly data: TensorData;
}

/** Result of {@link decodeSafetensors}: tensors in file order and the string metadata. */
export interface DecodedSafetensors {
  readonly tensors: Record<string, DecodedTensor>;
  readonly metadata: Record<string, string>;
}

interface DtypeInfo {
  size: number;
  make: (buf: ArrayBuffer) => TensorData;
}

const DTYPES: Record<SafetensorsDtype, DtypeInfo> = {
  F64: { size: 8, make: (b) => new Float64Array(b) },
  F32: { size: 4, make: (b) => new Float32Array(b) },
  I32: { size: 4, make: (b) => new Int32Array(b) },
  I8: { size: 1, make: (b) => new Int8Array(b) },
  U8: { size: 1, make: (b) => new Uint8Array(b) },
};

/** Largest header the reader accepts (the reference implementation's limit, 100 MB). */
const MAX_HEADER = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The safetensors dtype of a typed array. */
export function dtypeOf(data: TensorData): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array) return 'U8';
  throw new ShapeError(`safetensors: unsupported array type ${(data as object).constructor.name}`);
}

function isKnownDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes of `data` in little-endian order (a copy; never aliases the caller's array). */
function leBytes(data: TensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const size = data.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN && size > 1) {
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  return bytes;
}

/**
 * Serialise tensors (and optional string metadata) to safetensors bytes.
 * @throws ShapeError when a shape does not match its data length, a name is empty or
 *   reserved, or a metadata value is not a string
 */
export function encodeSafetensors(
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === '' || name === '__metadata__') throw new ShapeError(`safetensors: invalid tensor name '${name}'`);
    const t = tensors[name]!;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(`safetensors: tensor '${name}' has invalid shape [${t.shape.join(', ')}]`);
      }
    }
    if (product(t.shape) !== t.data.length) {
      throw new ShapeError(
        `safetensors: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} elements`,
      );
    }
  }
  const order = names.slice().sort((a, b) => {
    const da = tensors[a]!.data.BYTES_PER_ELEMENT;
    const db = tensors[b]!.data.BYTES_PER_ELEMENT;
    return da !== db ? db - da : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new ShapeError(`safetensors: metadata '${k}' must be a string`);
    }
    header['__metadata__'] = { ...metadata };
  }
  let offset = 0;
  for (const name of order) {
    const t = tensors[name]!;
    const end = offset + t.data.byteLength;
    header[name] = { dtype: dtypeOf(t.data), shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  // TextEncoder, not Buffer, so this runs in a browser; the UTF-8 bytes are the same.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const name of order) {
    const b = leBytes(tensors[name]!.data);
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

function fail(file: string, problem: string): never {
  throw new CheckpointError(file, problem);
}

/**
 * Parse safetensors bytes, checking the layout: the header length lies within the file,
 * the header is UTF-8 JSON, every dtype is known, shape × element size equals the byte
 * span, offsets lie in the buffer without overlap or gaps, and the buffer has no
 * trailing bytes.
 *
 * @param bytes - the whole file
 * @param file - name used in error messages
 * @throws CheckpointError naming `file` and the first problem found
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<safetensors>'): DecodedSafetensors {
  if (bytes.length < 8) fail(file, `file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    fail(file, `header length ${n64} exceeds the ${bytes.length - 8} bytes after it (truncated or not safetensors)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) fail(file, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (n < 2) fail(file, `header length ${n} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail(file, 'header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(file, `header is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(file, 'header is not a JSON object');
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(file, `__metadata__ '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(file, `tensor '${name}': entry is not an object`);
    const e = raw as Record<string, unknown>;
    if (!isKnownDtype(e['dtype'])) {
      fail(file, `tensor '${name}': unknown or unsupported dtype ${JSON.stringify(e['dtype'])} (supported: ${Object.keys(DTYPES).join(', ')})`);
    }
    const dtype = e['dtype'];
    const shape = e['shape'];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(file, `tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = e['data_offsets'];
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
      (offs[0] as number) > (offs[1] as number)
    ) {
      fail(file, `tensor '${name}': data_offsets ${JSON.stringify(offs)} is not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offs as [number, number];
    const need = product(shape as number[]) * DTYPES[dtype].size;
    if (need !== end - begin) {
      fail(file, `tensor '${name}': shape [${(shape as number[]).join(', ')}] × ${dtype} is ${need} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLen) {
      fail(file, `tensor '${name}': data_offsets [${begin}, ${end}] exceed the ${dataLen}-byte data section (truncated?)`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos) fail(file, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap the previous tensor`);
    if (e.begin > pos) fail(file, `tensor '${e.name}': gap of ${e.begin - pos} bytes before it in the data section`);
    pos = e.end;
  }
  if (pos !== dataLen) {
    fail(file, `data section is ${dataLen} bytes but the tensors cover ${pos} (trailing bytes or wrong header)`);
  }
  const tensors: Record<string, DecodedTensor> = {};
  for (const e of entries) {
    const info = DTYPES[e.dtype];
    // A fresh, exactly sized buffer: aligned for the typed array, and never a view of
    // the file (a subarray or Buffer#slice would alias it).
    const copy = new Uint8Array(e.end - e.begin);
    copy.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    if (!LITTLE_ENDIAN && info.size > 1) {
      for (let i = 0; i < copy.length; i += info.size) copy.subarray(i, i + info.size).reverse();
    }
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: info.make(copy.buffer) };
  }
  return { tensors, metadata };
}
