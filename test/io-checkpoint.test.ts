import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { fingerprint, loadCheckpoint, saveCheckpoint, type CheckpointInput } from '../src/io/checkpoint.js';
import { VERSION } from '../src/version.js';

const PY = '/usr/bin/python3';
const REF = join(import.meta.dirname, 'fixtures', 'io', 'safetensors_ref.py');
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
if (!hasNumpy) console.warn(`io-checkpoint: skipping independent-reader test: ${PY} with NumPy not available`);

const root = mkdtempSync(join(tmpdir(), 'genphys-io-ckpt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let nDirs = 0;
const fresh = (): string => {
  const d = join(root, `c${nDirs++}`);
  mkdirSync(d);
  return d;
};

const SHAPES = { W: [6, 4], b: [6], c: [4] } as const;

/** A small RBM-like checkpoint whose weights and generator come from seed 11. */
function makeCkpt(): { ckpt: CheckpointInput; rng: Rng } {
  const rng = new Rng(11);
  const W = new Float32Array(24);
  rng.fillNormal(W);
  const b = new Float32Array(6).map(() => rng.uniform() - 0.5);
  const c = new Float32Array(4).map(() => rng.uniform() - 0.5);
  rng.normal(); // leave a cached spare normal in the state
  const data = Uint8Array.from([0, 1, 1, 0, 1, 0]);
  const ckpt: CheckpointInput = {
    kind: 'rbm',
    config: { nVisible: 6, nHidden: 4, lr: 0.01, sampler: { kind: 'pcd', k: 1 }, tags: ['a', 'b'] },
    tensors: {
      W: { shape: [...SHAPES.W], data: W },
      b: { shape: [...SHAPES.b], data: b },
      c: { shape: [...SHAPES.c], data: c },
      'optimizer.m.W': { shape: [6, 4], data: new Float32Array(24).fill(0.25) },
    },
    step: 1234,
    epoch: 5,
    optimizer: { name: 'adam', lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, t: 1234 },
    rng: rng.getState(),
    dataset: fingerprint(data, { name: 'toy', split: 'train', n: 1 }),
    extra: { logLikelihood: -3.25 },
  };
  return { ckpt, rng };
}

function expectCkptError(fn: () => unknown, re: RegExp): CheckpointError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toMatch(re);
  expect((err as Error).message).not.toContain('\n');
  return err as CheckpointError;
}

describe('checkpoint round trip', () => {
  it('restores values, names, shapes, metadata and the RNG stream', () => {
    const dir = fresh();
    const { ckpt, rng } = makeCkpt();
    const paths = saveCheckpoint(dir, ckpt);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.safetensors']);
    const back = loadCheckpoint(dir, { kind: 'rbm', expect: SHAPES });
    expect(back.path).toBe(paths.json);
    expect(back.weightsPath).toBe(paths.weights);
    expect(Object.keys(back.tensors).sort()).toEqual(['W', 'b', 'c', 'optimizer.m.W']);
    for (const [name, t] of Object.entries(ckpt.tensors)) {
      expect(back.tensors[name]!.shape).toEqual(t.shape);
      expect(back.tensors[name]!.data).toEqual(t.data); // bit-exact float32
    }
    expect(back.kind).toBe('rbm');
    expect(back.config).toEqual(ckpt.config);
    expect([back.step, back.epoch]).toEqual([1234, 5]);
    expect(back.optimizer).toEqual(ckpt.optimizer);
    expect(back.dataset).toEqual(ckpt.dataset);
    expect(back.extra).toEqual(ckpt.extra);
    expect(back.genphysVersion).toBe(VERSION);
    expect(Number.isNaN(Date.parse(back.created))).toBe(false);
    // The restored generator continues the original stream exactly (incl. the cached normal).
    expect(back.rng).toEqual(ckpt.rng);
    const restored = Rng.fromState(back.rng!);
    const a = Array.from({ length: 8 }, () => [rng.normal(), rng.uniform(), rng.nextU32()]).flat();
    const r = Array.from({ length: 8 }, () => [restored.normal(), restored.uniform(), restored.nextU32()]).flat();
    expect(r).toEqual(a);
  });

  it('accepts the directory, the .json path or the .safetensors path, and a custom name', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt, 'epoch-5');
    for (const p of [join(dir, 'epoch-5.json'), join(dir, 'epoch-5.safetensors')]) {
      expect(loadCheckpoint(p).step).toBe(1234);
    }
    expect(loadCheckpoint(dir, { name: 'epoch-5' }).epoch).toBe(5);
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.json: checkpoint metadata file not found/);
    expect(() => saveCheckpoint(dir, ckpt, '../escape')).toThrow(ShapeError);
  });

  it('records the weights length and SHA-256 and the dataset fingerprint', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const json = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as {
      weights: { bytes: number; sha256: string };
    };
    const w = readFileSync(join(dir, 'checkpoint.safetensors'));
    expect(json.weights.bytes).toBe(w.length);
    expect(json.weights.sha256).toBe(createHash('sha256').update(w).digest('hex'));
    // sha256 of bytes 00 01 01 00 01 00, from: printf '\x00\x01\x01\x00\x01\x00' | sha256sum
    expect(fingerprint(Uint8Array.from([0, 1, 1, 0, 1, 0]), { name: 'toy', split: 'train', n: 1 }).sha256).toBe(
      createHash('sha256').update(Buffer.from([0, 1, 1, 0, 1, 0])).digest('hex'),
    );
    // a Float32Array is hashed through its bytes
    const f = Float32Array.from([1]);
    expect(fingerprint(f, { name: 'x', split: 's', n: 1 }).sha256).toBe(
      createHash('sha256').update(Buffer.from([0, 0, 0x80, 0x3f])).digest('hex'),
    );
  });
});

describe('checkpoint validation', () => {
  const saved = (): string => {
    const dir = fresh();
    saveCheckpoint(dir, makeCkpt().ckpt);
    return dir;
  };

  it('wrong kind', () => {
    expectCkptError(() => loadCheckpoint(saved(), { kind: 'vae' }), /checkpoint\.json: checkpoint is a 'rbm' model, expected 'vae'/);
  });

  it('wrong shape, missing tensor, unexpected tensor', () => {
    const dir = saved();
    expectCkptError(
      () => loadCheckpoint(dir, { expect: { ...SHAPES, W: [4, 6] } }),
      /tensor 'W' has shape \[6, 4\], expected \[4, 6\]/,
    );
    expectCkptError(() => loadCheckpoint(dir, { expect: { ...SHAPES, d: [3] } }), /missing tensor 'd'/);
    expectCkptError(() => loadCheckpoint(dir, { expect: { W: [6, 4], b: [6] } }), /unexpected tensor 'c' for a 'rbm' model/);
    expect(loadCheckpoint(dir, { expect: { W: [6, 4] }, allowExtra: true }).tensors['c']).toBeDefined();
  });

  it('truncated weights file', () => {
    const dir = saved();
    const p = join(dir, 'checkpoint.safetensors');
    const w = readFileSync(p);
    writeFileSync(p, w.subarray(0, w.length - 3));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.safetensors: weights file is \d+ bytes but checkpoint\.json records \d+/);
  });

  it('corrupted weights byte', () => {
    const dir = saved();
    const p = join(dir, 'checkpoint.safetensors');
    const w = readFileSync(p);
    w[w.length - 5] ^= 0x10;
    writeFileSync(p, w);
    expectCkptError(() => loadCheckpoint(dir), /SHA-256 does not match/);
  });

  it('weights from another save (mismatched pair)', () => {
    const a = saved();
    const other = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(other, { ...ckpt, step: 9 });
    copyFileSync(join(other, 'checkpoint.safetensors'), join(a, 'checkpoint.safetensors'));
    expectCkptError(() => loadCheckpoint(a), /from another save/);
  });

  it('corrupt or foreign JSON, missing weights', () => {
    const dir = saved();
    const jp = join(dir, 'checkpoint.json');
    const good = readFileSync(jp, 'utf8');
    writeFileSync(jp, good.slice(0, 40));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.json: not valid JSON/);
    writeFileSync(jp, JSON.stringify({ hello: 1 }));
    expectCkptError(() => loadCheckpoint(dir), /not a genphys checkpoint/);
    const doc = JSON.parse(good) as Record<string, unknown>;
    writeFileSync(jp, JSON.stringify({ ...doc, step: -1 }));
    expectCkptError(() => loadCheckpoint(dir), /'step' is not a non-negative integer/);
    writeFileSync(jp, JSON.stringify({ ...doc, rng: { s: [1, 2, 3], spareNormal: null } }));
    expectCkptError(() => loadCheckpoint(dir), /'rng' is not a valid generator state/);
    writeFileSync(jp, good);
    rmSync(join(dir, 'checkpoint.safetensors'));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.safetensors: cannot read weights \(ENOENT\)/);
    expectCkptError(() => loadCheckpoint(join(dir, 'nope')), /nope: no such checkpoint/);
  });

  it('a tensor list in the JSON that disagrees with the weights file', () => {
    const dir = saved();
    const jp = join(dir, 'checkpoint.json');
    const doc = JSON.parse(readFileSync(jp, 'utf8')) as { weights: { tensors: Record<string, unknown> } };
    delete doc.weights.tensors['c'];
    writeFileSync(jp, JSON.stringify(doc));
    expectCkptError(() => loadCheckpoint(dir), /tensor list differs/);
  });
});

describe('checkpoint atomicity', () => {
  it('bad input throws before anything is written; the existing checkpoint survives intact', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const before = [readFileSync(join(dir, 'checkpoint.json')), readFileSync(join(dir, 'checkpoint.safetensors'))];
    const W = ckpt.tensors['W']!;
    const bads: CheckpointInput[] = [
      { ...ckpt, step: 99, tensors: { ...ckpt.tensors, W: { shape: [5, 4], data: W.data } } },
      { ...ckpt, step: 99, config: { lr: NaN } },
      { ...ckpt, step: 99, config: { big: 10n } as unknown as Record<string, unknown> },
      { ...ckpt, step: 1.5 },
      { ...ckpt, kind: '' },
    ];
    for (const bad of bads) expect(() => saveCheckpoint(dir, bad)).toThrow(ShapeError);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.safetensors']);
    expect(readFileSync(join(dir, 'checkpoint.json'))).toEqual(before[0]);
    expect(readFileSync(join(dir, 'checkpoint.safetensors'))).toEqual(before[1]);
    expect(loadCheckpoint(dir, { kind: 'rbm', expect: SHAPES }).step).toBe(1234);
  });

  it('a write that fails on disk leaves no temporary file, and a half-finished pair is detected', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    // Make the JSON's rename fail after the weights are in place: a non-empty directory
    // where the new JSON should go (a crash between the two renames looks the same).
    mkdirSync(join(dir, 'next.json', 'blocker'), { recursive: true });
    expect(() => saveCheckpoint(dir, { ...ckpt, step: 2000 }, 'next')).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The untouched checkpoint still loads.
    expect(loadCheckpoint(dir).step).toBe(1234);
    // The failed save's weights did land (they are renamed first) without their JSON.
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.safetensors', 'next.json', 'next.safetensors']);
    // Simulate a crash between the two renames on the real pair: new weights, old JSON.
    copyFileSync(join(dir, 'next.safetensors'), join(dir, 'checkpoint.safetensors'));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.safetensors: weights SHA-256 does not match checkpoint\.json/);
  });
});

describe('independent NumPy reader (published safetensors layout only)', () => {
  it.skipIf(!hasNumpy)('reads a genphys checkpoint and agrees on every value and the file hash', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const r = spawnSync(PY, [REF, 'read', join(dir, 'checkpoint.safetensors')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      metadata: Record<string, string>;
      sha256: string;
      tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
    };
    const json = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { weights: { sha256: string } };
    expect(out.sha256).toBe(json.weights.sha256);
    expect(out.metadata['kind']).toBe('rbm');
    expect(out.metadata['step']).toBe('1234');
    expect(Object.keys(out.tensors).sort()).toEqual(['W', 'b', 'c', 'optimizer.m.W']);
    for (const [name, t] of Object.entries(ckpt.tensors)) {
      expect(out.tensors[name]!.dtype).toBe('F32');
      expect(out.tensors[name]!.shape).toEqual(t.shape);
      expect(out.tensors[name]!.values).toEqual(Array.from(t.data));
    }
  });
});
