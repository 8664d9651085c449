import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type TensorInput,
} from '../src/io/safetensors.js';

const PY = '/usr/bin/python3';
const REF = join(import.meta.dirname, 'fixtures', 'io', 'safetensors_ref.py');
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn(`io-safetensors: skipping independent-reader tests: ${PY} with NumPy not available`);

function py(...args: string[]): string {
  const r = spawnSync(PY, [REF, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

const dir = mkdtempSync(join(tmpdir(), 'genphys-io-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Record<string, TensorInput> {
  const rng = new Rng(7);
  const w = new Float32Array(12);
  rng.fillNormal(w);
  return {
    'encoder.dense1.kernel': { shape: [3, 4], data: w },
    'encoder.dense1.bias': { shape: [4], data: Float32Array.from([0.5, -1, 1e-30, 3.4e38]) },
    'x.f64': { shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    'x.i32': { shape: [1, 3], data: Int32Array.from([-2147483648, 0, 7]) },
    'x.u8': { shape: [3], data: Uint8Array.from([0, 128, 255]) },
    'x.i8': { shape: [2, 2], data: Int8Array.from([-1, 1, 1, -1]) },
    'x.empty': { shape: [0, 5], data: new Float32Array(0) },
    'x.scalar': { shape: [], data: Float32Array.from([2.5]) },
  };
}

describe('safetensors layout', () => {
  it('round-trips every dtype, shape, value and the metadata', () => {
    const t = sample();
    const bytes = encodeSafetensors(t, { note: 'hi', step: '3' });
    const back = decodeSafetensors(bytes);
    expect(back.metadata).toEqual({ note: 'hi', step: '3' });
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(t).sort());
    for (const [name, v] of Object.entries(t)) {
      const b = back.tensors[name]!;
      expect(b.shape).toEqual(v.shape);
      expect(b.data.constructor).toBe(v.data.constructor);
      expect(Array.from(b.data)).toEqual(Array.from(v.data));
      expect(b.data.buffer).not.toBe(bytes.buffer); // copied, not a view of the file
    }
    expect(back.tensors['x.f64']!.dtype).toBe('F64');
  });

  it('pads the header to 8 bytes with spaces and aligns every tensor to its element size', () => {
    const bytes = encodeSafetensors(sample());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const text = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(text.slice(text.lastIndexOf('}') + 1))).toBe(true);
    const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    const size: Record<string, number> = { F64: 8, F32: 4, I32: 4, U8: 1, I8: 1 };
    for (const e of Object.values(header)) expect(e.data_offsets[0] % size[e.dtype]!).toBe(0);
  });

  it('does not mutate or alias the caller arrays', () => {
    const w = Float32Array.from([1, 2, 3]);
    const bytes = encodeSafetensors({ w: { shape: [3], data: w } });
    bytes[bytes.length - 1] = 0xff;
    expect(Array.from(w)).toEqual([1, 2, 3]);
  });

  it('rejects inconsistent input when encoding', () => {
    expect(() => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } })).toThrow(/invalid tensor name/);
    expect(() => encodeSafetensors({ a: { shape: [-1], data: new Float32Array(0) } })).toThrow(/invalid shape/);
  });
});

/** Build a file by hand: 8-byte length, header JSON (unpadded), then `data`. */
function craft(header: unknown, data: Uint8Array, lenOverride?: bigint): Uint8Array {
  const h =
    header instanceof Uint8Array ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors validation', () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short file', new Uint8Array(5), /too short/],
    ['header length beyond the file', craft({}, f32(0), 1000n), /exceeds/],
    ['huge header length', craft({}, f32(0), 2n ** 63n), /exceeds/],
    ['invalid JSON', craft('{"a": ', f32(0)), /not valid JSON/],
    ['invalid UTF-8', craft(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), f32(0)), /not valid UTF-8/],
    ['header not an object', craft([1, 2], f32(0)), /not a JSON object/],
    ['unknown dtype', craft({ a: { dtype: 'BF16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)), /dtype "BF16"/],
    ['bad shape', craft({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1)), /shape/],
    ['shape × size ≠ span', craft({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32(2)), /12 bytes but data_offsets span 8/],
    ['offsets out of range', craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1)), /exceed the 4-byte data section/],
    ['reversed offsets', craft({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32(1)), /begin ≤ end/],
    [
      'overlap',
      craft(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        f32(3),
      ),
      /overlap/,
    ],
    ['gap', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /gap of 4 bytes/],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(2)), /8 bytes but the tensors cover 4/],
    ['metadata not strings', craft({ __metadata__: { a: 1 } }, f32(0)), /__metadata__ 'a'/],
  ];
  for (const [what, bytes, re] of cases) {
    it(`${what} → CheckpointError`, () => {
      let err: unknown;
      try {
        decodeSafetensors(bytes, 'w.safetensors');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CheckpointError);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      expect(msg.startsWith('w.safetensors: ')).toBe(true);
      expect(msg).not.toContain('\n');
    });
  }

  it('every truncation of a valid file is rejected, never partially read', () => {
    const bytes = encodeSafetensors(sample());
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeSafetensors(bytes.subarray(0, cut), 't')).toThrow(CheckpointError);
    }
  });

  it('readSafetensors names a missing file', () => {
    expect(() => readSafetensors(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors: cannot read \(ENOENT\)/);
  });
});

describe('independent NumPy reader (published layout only)', () => {
  it.skipIf(!hasNumpy)('reads what genphys writes, value for value', () => {
    const t = sample();
    const p = join(dir, 'g.safetensors');
    writeSafetensors(p, t, { writer: 'genphys' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const out = JSON.parse(py('read', p)) as {
      dataStart: number;
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
    };
    expect(out.dataStart % 8).toBe(0);
    expect(out.metadata).toEqual({ writer: 'genphys' });
    expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(t).sort());
    for (const [name, v] of Object.entries(t)) {
      expect(out.tensors[name]!.shape).toEqual(v.shape);
      // float32 → float64 → JSON is exact, so equality is exact.
      expect(out.tensors[name]!.values).toEqual(Array.from(v.data));
    }
  });

  it.skipIf(!hasNumpy)('genphys reads a file written by the reference (unpadded, unaligned, reordered)', () => {
    const p = join(dir, 'py.safetensors');
    py('write', p);
    const back = readSafetensors(p);
    expect(back.metadata).toEqual({ writer: 'numpy-reference' });
    expect(back.tensors['a.f64']!.shape).toEqual([2, 2]);
    expect(Array.from(back.tensors['a.f64']!.data)).toEqual([1.5, -2.25, 3.0, 1e-300]);
    expect(Array.from(back.tensors['b.i32']!.data)).toEqual([-7, 0, 2147483647]);
    expect(Array.from(back.tensors['c.u8']!.data)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(back.tensors['d.i8']!.data)).toEqual([-1, 1, 1, -1]);
    expect(back.tensors['e.f32']!.data).toEqual(Float32Array.from([0.1, -3.5, 7.0]));
    // and the bytes we re-encode decode to the same in the reference
    const again = join(dir, 'again.safetensors');
    writeSafetensors(again, back.tensors);
    const out = JSON.parse(py('read', again)) as { tensors: Record<string, { values: number[] }> };
    expect(out.tensors['a.f64']!.values).toEqual([1.5, -2.25, 3.0, 1e-300]);
    expect(readFileSync(again).length).toBeGreaterThan(0);
  });
});
