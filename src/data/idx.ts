/**
 * Reader for the IDX format of MNIST-style datasets, raw or gzip-compressed.
 *
 * Layout (LeCun, Cortes & Burges, "The MNIST database of handwritten digits",
 * http://yann.lecun.com/exdb/mnist/): two zero bytes, an element-type byte, the
 * number of dimensions, one big-endian uint32 per dimension, then the elements in
 * row-major order, big-endian. Every field is validated and the payload must have
 * exactly the announced length, so a truncated or padded file is an error, never
 * partial data.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataNotFoundError, IdxFormatError } from './errors.js';

export { IdxFormatError } from './errors.js';

/** Element types an IDX file can hold. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed array matching an {@link IdxDtype}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file. */
export interface IdxArray {
  /** Element type as stored in the file. */
  readonly dtype: IdxDtype;
  /** Dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: number[];
  /** Elements in row-major order, converted to native byte order. Owned by the caller. */
  readonly data: IdxData;
}

interface DtypeInfo {
  readonly dtype: IdxDtype;
  readonly code: number;
  readonly size: number;
}

const DTYPES: readonly DtypeInfo[] = [
  { dtype: 'uint8', code: 0x08, size: 1 },
  { dtype: 'int8', code: 0x09, size: 1 },
  { dtype: 'int16', code: 0x0b, size: 2 },
  { dtype: 'int32', code: 0x0c, size: 4 },
  { dtype: 'float32', code: 0x0d, size: 4 },
  { dtype: 'float64', code: 0x0e, size: 8 },
];

/** IDX type code → element description. */
const BY_CODE = new Map(DTYPES.map((d) => [d.code, d]));
/** dtype name → element description. */
const BY_NAME = new Map(DTYPES.map((d) => [d.dtype, d]));

/** True when `buf` starts with the gzip magic bytes 1f 8b (RFC 1952). */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

function hex2(x: number): string {
  return '0x' + x.toString(16).padStart(2, '0');
}

/**
 * Decode an IDX file held in memory. Gzip input (magic 1f 8b) is decompressed
 * first; a corrupt or truncated gzip stream is an error.
 *
 * @param buf - file contents (not modified, not aliased by the result)
 * @param file - name used in error messages
 * @throws IdxFormatError naming `file` and the problem
 */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  let raw: Uint8Array = buf;
  if (isGzip(buf)) {
    try {
      // With the default Z_FINISH flush zlib rejects a stream that ends before its
      // CRC/length trailer, so truncation cannot yield a silently shortened payload.
      // 1 MiB output chunks (default 16 KiB) cut the per-chunk overhead on 47 MB payloads.
      raw = gunzipSync(buf, { chunkSize: 1 << 20 });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new IdxFormatError(file, `corrupt or truncated gzip data (${msg})`);
    }
  }
  return decodeRaw(raw, file, raw !== buf);
}

function decodeRaw(raw: Uint8Array, file: string, owned: boolean): IdxArray {
  if (raw.length < 4) throw new IdxFormatError(file, `too short for an IDX header (${raw.length} bytes)`);
  if (raw[0] !== 0 || raw[1] !== 0) {
    throw new IdxFormatError(file, `bad IDX magic ${hex2(raw[0]!)} ${hex2(raw[1]!)} (expected 0x00 0x00; not an IDX file?)`);
  }
  const info = BY_CODE.get(raw[2]!);
  if (!info) throw new IdxFormatError(file, `unknown IDX element type ${hex2(raw[2]!)}`);
  const ndims = raw[3]!;
  if (ndims === 0) throw new IdxFormatError(file, 'IDX header declares 0 dimensions');
  const headerLen = 4 + 4 * ndims;
  if (raw.length < headerLen) {
    throw new IdxFormatError(file, `truncated IDX header: ${ndims} dimensions need ${headerLen} bytes, file has ${raw.length}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let k = 0; k < ndims; k++) {
    const d = view.getUint32(4 + 4 * k, false);
    dims.push(d);
    count *= d;
  }
  const expected = headerLen + count * info.size;
  if (!Number.isSafeInteger(expected)) throw new IdxFormatError(file, `implausible IDX dimensions ${dims.join('×')}`);
  if (raw.length !== expected) {
    const what = raw.length < expected ? 'truncated' : 'trailing bytes';
    throw new IdxFormatError(
      file,
      `${what}: ${info.dtype} ${dims.join('×')} needs ${expected} bytes, got ${raw.length}`,
    );
  }
  return { dtype: info.dtype, dims, data: decodeElements(raw, view, headerLen, count, info, owned) };
}

function decodeElements(raw: Uint8Array, view: DataView, off: number, count: number, info: DtypeInfo, owned: boolean): IdxData {
  switch (info.dtype) {
    case 'uint8':
      // A buffer we decompressed ourselves can be viewed; a caller's must be copied.
      // A plain Uint8Array (not a Buffer) either way; `new Uint8Array(view)` copies,
      // which `Buffer#slice` would not.
      return owned ? new Uint8Array(raw.buffer, raw.byteOffset + off, count) : new Uint8Array(raw.subarray(off, off + count));
    case 'int8': {
      const out = new Int8Array(count);
      out.set(new Int8Array(raw.buffer, raw.byteOffset + off, count));
      return out;
    }
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(off + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(off + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(off + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(off + 8 * i, false);
      return out;
    }
  }
}

/**
 * Read and decode an IDX file (raw or `.gz`, detected by content, not name).
 * @throws DataNotFoundError when the file cannot be read
 * @throws IdxFormatError when its contents are malformed
 */
export function readIdx(path: string): IdxArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DataNotFoundError(path, `cannot read IDX file (${code})`);
  }
  return parseIdx(buf, path);
}

/**
 * Encode an array as IDX bytes (uncompressed; gzip with `zlib.gzipSync` if
 * wanted). Used for fixtures and for exporting derived datasets.
 *
 * @param arr - dtype, dims and row-major data; `data.length` must equal the product of `dims`
 * @throws RangeError when sizes do not fit the format
 */
export function encodeIdx(arr: { dtype: IdxDtype; dims: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const info = BY_NAME.get(arr.dtype);
  if (!info) throw new RangeError(`encodeIdx: unknown dtype '${arr.dtype}'`);
  if (arr.dims.length < 1 || arr.dims.length > 255) throw new RangeError(`encodeIdx: need 1–255 dimensions, got ${arr.dims.length}`);
  let count = 1;
  for (const d of arr.dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new RangeError(`encodeIdx: bad dimension ${d}`);
    count *= d;
  }
  if (arr.data.length !== count) throw new RangeError(`encodeIdx: dims ${arr.dims.join('×')} need ${count} elements, got ${arr.data.length}`);
  const headerLen = 4 + 4 * arr.dims.length;
  const out = new Uint8Array(headerLen + count * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = arr.dims.length;
  arr.dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  const x = arr.data;
  for (let i = 0; i < count; i++) {
    const p = headerLen + i * info.size;
    switch (info.dtype) {
      case 'uint8':
        view.setUint8(p, x[i]!);
        break;
      case 'int8':
        view.setInt8(p, x[i]!);
        break;
      case 'int16':
        view.setInt16(p, x[i]!, false);
        break;
      case 'int32':
        view.setInt32(p, x[i]!, false);
        break;
      case 'float32':
        view.setFloat32(p, x[i]!, false);
        break;
      case 'float64':
        view.setFloat64(p, x[i]!, false);
        break;
    }
  }
  return out;
}
