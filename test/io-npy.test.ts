import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { decodeNpy, encodeNpy, readNpy, writeNpy, type NpyData } from '../src/io/npy.js';

const PY = '/usr/bin/python3';
const REF = join(import.meta.dirname, 'fixtures', 'io', 'npy_ref.py');
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn(`io-npy: skipping numpy.load/numpy.save tests: ${PY} with NumPy not available`);

const dir = mkdtempSync(join(tmpdir(), 'genphys-io-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 8 seeded 4×4 Ising configurations of ±1 spins. */
function spins(): Int8Array {
  const rng = new Rng(3);
  return Int8Array.from({ length: 8 * 16 }, () => (rng.uniform() < 0.5 ? -1 : 1));
}

const arrays: [string, NpyData, number[]][] = [
  ['spins.npy', spins(), [8, 4, 4]],
  ['u8.npy', Uint8Array.from([0, 255, 7]), [3]],
  ['i32.npy', Int32Array.from([-2147483648, 1, 2147483647, 0]), [2, 2]],
  ['f32.npy', Float32Array.from([0.1, -2.5, 3e38, 1e-45, 0, -0]), [1, 6]],
  ['f64.npy', Float64Array.from([Math.E]), []],
  ['empty.npy', new Float32Array(0), [0, 3]],
];

describe('npy writer and reader', () => {
  it('round-trips every supported dtype and shape', () => {
    for (const [, data, shape] of arrays) {
      const back = decodeNpy(encodeNpy(data, shape));
      expect(back.shape).toEqual(shape);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it('writes format 1.0 with the data starting at a multiple of 64 and a newline-terminated header', () => {
    const bytes = encodeNpy(spins(), [8, 4, 4]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = bytes[8]! | (bytes[9]! << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString('latin1');
    expect(header.endsWith('\n')).toBe(true);
    expect(header.trim()).toBe("{'descr': '|i1', 'fortran_order': False, 'shape': (8, 4, 4), }");
    expect(bytes.length).toBe(10 + hlen + 128);
    expect(Buffer.from(encodeNpy(Uint8Array.from([1]), [1]).subarray(10, 64)).toString('latin1')).toContain("'shape': (1,)");
  });

  it('writes atomically and rejects a shape that does not fit', () => {
    const p = join(dir, 'sub', 'x.npy');
    writeNpy(p, spins(), [8, 16]);
    expect(readNpy(p).shape).toEqual([8, 16]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['x.npy']);
    expect(() => encodeNpy(spins(), [8, 4, 5])).toThrow(ShapeError);
  });

  const good = encodeNpy(Float32Array.from([1, 2, 3, 4]), [2, 2]);
  const withHeader = (h: string): Uint8Array => {
    const text = h.padEnd(Math.ceil((10 + h.length + 1) / 64) * 64 - 11, ' ') + '\n';
    const out = new Uint8Array(10 + text.length + 16);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    out[8] = text.length & 0xff;
    out[9] = text.length >> 8;
    out.set(Buffer.from(text, 'latin1'), 10);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad magic', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), /bad magic/],
    ['version 4.0', Uint8Array.from([...good.subarray(0, 6), 4, 0, ...good.subarray(8)]), /version 4\.0/],
    ['header beyond the file', good.subarray(0, 30), /exceeds the file/],
    ['truncated data', good.subarray(0, good.length - 1), /15 bytes.*needs 16 \(truncated\)/],
    ['trailing bytes', Uint8Array.from([...good, 0]), /trailing bytes/],
    ['unsupported dtype', withHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }"), /unsupported dtype '<i8'/],
    ['big-endian', withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }"), /unsupported dtype '>f4'/],
    ['fortran order', withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), /Fortran-order/],
    ['missing key', withHeader("{'descr': '<f4', 'shape': (4,), }"), /header keys/],
    ['not a dict', withHeader('hello'), /not a Python dict/],
    ['bad shape entry', withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), /non-integer/],
  ];
  for (const [what, bytes, re] of cases) {
    it(`${what} → DataFormatError`, () => {
      let err: unknown;
      try {
        decodeNpy(bytes, 'a.npy');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataFormatError);
      expect((err as Error).message).toMatch(/^a\.npy: /);
      expect((err as Error).message).toMatch(re);
    });
  }

  it('every truncation is rejected; a missing file is named', () => {
    for (let cut = 0; cut < good.length; cut++) expect(() => decodeNpy(good.subarray(0, cut))).toThrow(DataFormatError);
    expect(() => readNpy(join(dir, 'missing.npy'))).toThrow(/missing\.npy: cannot read \(ENOENT\)/);
  });
});

describe('against NumPy', () => {
  it.skipIf(!hasNumpy)('numpy.load reads what genphys writes', () => {
    const paths = arrays.map(([name, data, shape]) => {
      const p = join(dir, name);
      writeNpy(p, data, shape);
      return p;
    });
    const r = spawnSync(PY, [REF, 'read', ...paths], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    const npDtype: Record<string, string> = {
      Int8Array: '|i1',
      Uint8Array: '|u1',
      Int32Array: '<i4',
      Float32Array: '<f4',
      Float64Array: '<f8',
    };
    for (const [name, data, shape] of arrays) {
      expect(out[name]!.dtype).toBe(npDtype[data.constructor.name]);
      expect(out[name]!.shape).toEqual(shape);
      expect(out[name]!.values).toEqual(Array.from(data)); // exact, -0 included
    }
  });

  it.skipIf(!hasNumpy)('genphys reads what numpy.save writes, and rejects what it cannot represent', () => {
    const d = join(dir, 'np');
    mkdirSync(d);
    const r = spawnSync(PY, [REF, 'write', d], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const i8 = readNpy(join(d, 'i8.npy'));
    expect(i8.descr).toBe('|i1');
    expect(i8.shape).toEqual([2, 2, 2]);
    expect(Array.from(i8.data)).toEqual([1, -1, -1, 1, 1, 1, -1, -1]);
    expect(Array.from(readNpy(join(d, 'u8.npy')).data)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(readNpy(join(d, 'i32.npy')).data)).toEqual([-5, 6, 2147483647]);
    const f32 = readNpy(join(d, 'f32.npy'));
    expect(f32.shape).toEqual([3, 4]);
    expect(f32.data[0]).toBe(-1);
    expect(f32.data[11]).toBe(1);
    const f64 = readNpy(join(d, 'f64.npy'));
    expect(f64.shape).toEqual([]);
    expect(Array.from(f64.data)).toEqual([Math.PI]);
    expect(() => readNpy(join(d, 'fortran.npy'))).toThrow(/fortran\.npy: Fortran-order/);
    expect(() => readNpy(join(d, 'i64.npy'))).toThrow(/unsupported dtype '<i8'/);
    expect(() => readNpy(join(d, 'big.npy'))).toThrow(/unsupported dtype '>f4'/);
    // numpy pads its header to 64 bytes too: 8 int8 values after it
    expect((readFileSync(join(d, 'i8.npy')).length - 8) % 64).toBe(0);
  });
});
