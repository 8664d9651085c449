import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError, GenphysError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { DataNotFoundError, IdxFormatError } from '../src/data/errors.js';
import { encodeIdx, parseIdx, readIdx, type IdxDtype } from '../src/data/idx.js';
import { synthImages } from './fixtures/data/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-data-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHARED_MNIST_IMAGES = join(__dirname, '..', '..', 'shared', 'data', 'mnist', 't10k-images-idx3-ubyte.gz');
const haveShared = existsSync(SHARED_MNIST_IMAGES);
if (!haveShared) console.warn(`skipping real-file IDX corruption tests: ${SHARED_MNIST_IMAGES} not found`);

/** Values exercising each dtype's extremes (and, for floats, specials). */
const CASES: Record<IdxDtype, number[]> = {
  uint8: [0, 1, 127, 128, 254, 255],
  int8: [-128, -1, 0, 1, 126, 127],
  int16: [-32768, -1, 0, 1, 258, 32767],
  int32: [-2147483648, -1, 0, 1, 16909060, 2147483647],
  float32: [-3.4028234663852886e38, -1.5, 0, 1.401298464324817e-45, 0.1, Infinity],
  float64: [-Number.MAX_VALUE, -0.1, 0, Number.MIN_VALUE, Math.PI, -Infinity],
};

/** Assert `fn` throws an IdxFormatError whose one-line message names `file`. */
function expectIdxError(fn: () => unknown, file: string, pattern?: RegExp): IdxFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(IdxFormatError);
  expect(caught).toBeInstanceOf(DataFormatError);
  const err = caught as IdxFormatError;
  expect(err.file).toBe(file);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  if (pattern) expect(err.message).toMatch(pattern);
  return err;
}

describe('parseIdx round trip', () => {
  for (const dtype of Object.keys(CASES) as IdxDtype[]) {
    it(`${dtype}: encode → parse (raw and gzip) gives the same dims and values`, () => {
      const values = CASES[dtype];
      // 2×3 matrix plus a 3-d shape with one more row, to check row-major dims.
      const data = [...values, ...values.slice().reverse()];
      const arr = { dtype, dims: [2, 2, 3], data };
      const raw = encodeIdx(arr);
      // Header: 00 00 type ndims, then big-endian dims.
      expect(Array.from(raw.subarray(0, 4))).toEqual([0, 0, { uint8: 8, int8: 9, int16: 11, int32: 12, float32: 13, float64: 14 }[dtype], 3]);
      expect(Array.from(raw.subarray(4, 16))).toEqual([0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
      for (const bytes of [raw, gzipSync(raw)]) {
        const got = parseIdx(bytes, 'x.idx');
        expect(got.dtype).toBe(dtype);
        expect(got.dims).toEqual([2, 2, 3]);
        expect(got.data.length).toBe(12);
        expect(Buffer.isBuffer(got.data)).toBe(false);
        const expected = dtype === 'float32' ? Array.from(Float32Array.from(data)) : data;
        expect(Array.from(got.data)).toEqual(expected);
      }
    });
  }

  it('uses big-endian byte order on disk', () => {
    const raw = encodeIdx({ dtype: 'int32', dims: [1], data: [0x01020304] });
    expect(Array.from(raw.subarray(8))).toEqual([1, 2, 3, 4]);
    const f = encodeIdx({ dtype: 'float32', dims: [1], data: [1] });
    expect(Array.from(f.subarray(8))).toEqual([0x3f, 0x80, 0, 0]);
  });

  it('reads files from disk, gzip detected by content not name', () => {
    const raw = synthImages(3, 4, 5);
    const p1 = join(tmp, 'plain.gz'); // misleading name, raw content
    const p2 = join(tmp, 'packed.idx'); // misleading name, gzip content
    writeFileSync(p1, raw);
    writeFileSync(p2, gzipSync(raw));
    const a = readIdx(p1);
    const b = readIdx(p2);
    expect(a.dims).toEqual([3, 4, 5]);
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
  });

  it('neither modifies nor aliases the caller buffer', () => {
    const raw = synthImages(2, 3, 3);
    const copy = raw.slice();
    const got = parseIdx(raw, 'x');
    expect(raw).toEqual(copy);
    (got.data as Uint8Array)[0] = 99;
    expect(raw).toEqual(copy);
    // A Node Buffer (whose slice() is a view) must be copied too, for 1-byte dtypes.
    for (const dtype of ['uint8', 'int8'] as const) {
      const buf = Buffer.from(encodeIdx({ dtype, dims: [3], data: [1, 2, 3] }));
      const before = Buffer.from(buf);
      const arr = parseIdx(buf, 'b');
      expect(arr.data.buffer).not.toBe(buf.buffer);
      arr.data[0] = 42;
      expect(buf.equals(before)).toBe(true);
      expect(Array.from(arr.data)).toEqual([42, 2, 3]);
    }
  });

  it('accepts an empty leading dimension', () => {
    const got = parseIdx(encodeIdx({ dtype: 'uint8', dims: [0, 28, 28], data: [] }), 'empty');
    expect(got.dims).toEqual([0, 28, 28]);
    expect(got.data.length).toBe(0);
  });
});

describe('parseIdx rejects malformed input with IdxFormatError', () => {
  const good = synthImages(4, 3, 2); // 16-byte header + 24 bytes

  it('wrong magic bytes (raw and inside gzip)', () => {
    const bad = good.slice();
    bad[0] = 0x08;
    expectIdxError(() => parseIdx(bad, 'm.idx'), 'm.idx', /bad IDX magic 0x08 0x00/);
    const bad2 = good.slice();
    bad2[1] = 0x01;
    expectIdxError(() => parseIdx(gzipSync(bad2), 'm.gz'), 'm.gz', /bad IDX magic/);
  });

  it('flipped gzip magic: the stream is then not gzip and not IDX', () => {
    const gz = gzipSync(good);
    const flipped = Uint8Array.from(gz);
    flipped[0] = flipped[0]! ^ 0xff;
    expectIdxError(() => parseIdx(flipped, 'f.gz'), 'f.gz', /bad IDX magic/);
    const flipped2 = Uint8Array.from(gz);
    flipped2[1] = flipped2[1]! ^ 0x01;
    expectIdxError(() => parseIdx(flipped2, 'f.gz'), 'f.gz', /bad IDX magic 0x1f 0x8a/);
  });

  it('unknown element type, zero dimensions, short header', () => {
    const t = good.slice();
    t[2] = 0x0a;
    expectIdxError(() => parseIdx(t, 't'), 't', /unknown IDX element type 0x0a/);
    expectIdxError(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), 'z'), 'z', /0 dimensions/);
    expectIdxError(() => parseIdx(Uint8Array.from([0, 0, 8]), 's'), 's', /too short/);
    expectIdxError(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 4]), 'h'), 'h', /truncated IDX header/);
    expectIdxError(() => parseIdx(new Uint8Array(0), 'e'), 'e', /too short/);
  });

  it('payload one byte short or one byte long', () => {
    expectIdxError(() => parseIdx(good.subarray(0, good.length - 1), 'short'), 'short', /truncated: uint8 4×3×2 needs 40 bytes, got 39/);
    const long = new Uint8Array(good.length + 1);
    long.set(good);
    expectIdxError(() => parseIdx(long, 'long'), 'long', /trailing bytes/);
    // Multi-byte dtype: 3 float32 need 12 payload bytes.
    const f = encodeIdx({ dtype: 'float32', dims: [3], data: [1, 2, 3] });
    expectIdxError(() => parseIdx(f.subarray(0, f.length - 2), 'f32'), 'f32', /needs 20 bytes, got 18/);
  });

  it('dimensions whose product cannot fit are rejected without allocating', () => {
    const h = Uint8Array.from([0, 0, 0x0e, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expectIdxError(() => parseIdx(h, 'huge'), 'huge', /implausible|needs/);
  });

  it('gzip truncated at 10 seeded random offsets (synthetic file)', () => {
    const gz = gzipSync(synthImages(40, 7, 9));
    const rng = new Rng(20261121);
    for (let k = 0; k < 10; k++) {
      const cut = 1 + rng.int(gz.length - 1); // 1 … len−1 bytes kept
      const p = join(tmp, `trunc-${k}.gz`);
      writeFileSync(p, gz.subarray(0, cut));
      expectIdxError(() => readIdx(p), p);
    }
  });

  it('gzip with a corrupted body or trailer', () => {
    const gz = gzipSync(synthImages(40, 7, 9));
    for (const pos of [Math.floor(gz.length / 2), gz.length - 6, gz.length - 2]) {
      const bad = Uint8Array.from(gz);
      bad[pos] = bad[pos]! ^ 0x5a;
      expectIdxError(() => parseIdx(bad, 'c.gz'), 'c.gz', /corrupt or truncated gzip|truncated|trailing/);
    }
  });

  it('a missing file is a DataNotFoundError naming it', () => {
    const p = join(tmp, 'nope.gz');
    expect(() => readIdx(p)).toThrow(DataNotFoundError);
    expect(() => readIdx(p)).toThrow(`${p}: cannot read IDX file (ENOENT)`);
    expect(new DataNotFoundError('a', 'b')).toBeInstanceOf(GenphysError);
  });

  it.skipIf(!haveShared)('real MNIST t10k images: parses, then truncation at 10 seeded offsets and a flipped magic each fail', () => {
    const gz = readFileSync(SHARED_MNIST_IMAGES);
    const ok = readIdx(SHARED_MNIST_IMAGES);
    expect(ok.dtype).toBe('uint8');
    expect(ok.dims).toEqual([10000, 28, 28]);
    const rng = new Rng(7);
    for (let k = 0; k < 10; k++) {
      const cut = 1 + rng.int(gz.length - 1);
      const p = join(tmp, `mnist-trunc-${k}.gz`);
      writeFileSync(p, gz.subarray(0, cut));
      expectIdxError(() => readIdx(p), p);
    }
    // Flip the IDX magic inside the compressed stream.
    const raw = gunzipSync(gz);
    raw[0] = 0x01;
    const p = join(tmp, 'mnist-badmagic.gz');
    writeFileSync(p, gzipSync(raw));
    expectIdxError(() => readIdx(p), p, /bad IDX magic 0x01 0x00/);
  });
});
