import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, DivergenceError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { cleanCheckpointDir, fingerprint, loadCheckpoint, saveCheckpoint, type CheckpointInput } from '../src/io/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../src/io/safetensors.js';
import { VERSION } from '../src/version.js';
import { snapshotDir, weightsFile, weightsPath } from './run-helpers.js';

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

/**
 * Replace the weights file of `<dir>/checkpoint.json` with `tensors` re-encoded (same
 * metadata), and patch the manifest's byte length and SHA-256 to match, so the
 * length/hash checks pass and only what `tensors` changed can be caught.
 */
function rewriteWeights(dir: string, edit: (t: Record<string, TensorInput>) => void): void {
  const p = weightsPath(dir);
  const dec = decodeSafetensors(readFileSync(p), p);
  const tensors: Record<string, TensorInput> = {};
  for (const [k, t] of Object.entries(dec.tensors)) tensors[k] = { shape: [...t.shape], data: t.data.slice() };
  edit(tensors);
  const bytes = encodeSafetensors(tensors, dec.metadata);
  writeFileSync(p, bytes);
  const jp = join(dir, 'checkpoint.json');
  const doc = JSON.parse(readFileSync(jp, 'utf8')) as { weights: { bytes: number; sha256: string } };
  doc.weights.bytes = bytes.length;
  doc.weights.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(jp, JSON.stringify(doc, null, 2));
}

describe('checkpoint round trip', () => {
  it('restores values, names, shapes, metadata and the RNG stream', () => {
    const dir = fresh();
    const { ckpt, rng } = makeCkpt();
    const paths = saveCheckpoint(dir, ckpt);
    // The manifest plus one weights file named after the step; no fixed checkpoint.safetensors.
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w1234.safetensors']);
    expect(weightsFile(dir)).toBe('checkpoint.w1234.safetensors');
    const back = loadCheckpoint(dir, { kind: 'rbm', expect: SHAPES });
    expect(back.path).toBe(paths.json);
    expect(back.weightsPath).toBe(paths.weights);
    expect(paths.weights).toBe(join(dir, 'checkpoint.w1234.safetensors'));
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

  it('accepts the directory, the .json path, the weights path or <name>.safetensors, and a custom name', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt, 'epoch-5');
    expect(readdirSync(dir).sort()).toEqual(['epoch-5.json', 'epoch-5.w1234.safetensors']);
    // <name>.safetensors does not exist any more but still resolves to <name>.json.
    for (const p of [join(dir, 'epoch-5.json'), join(dir, weightsFile(dir, 'epoch-5')), join(dir, 'epoch-5.safetensors')]) {
      const back = loadCheckpoint(p);
      expect([back.step, back.path, back.weightsPath]).toEqual([1234, join(dir, 'epoch-5.json'), join(dir, 'epoch-5.w1234.safetensors')]);
    }
    expect(loadCheckpoint(dir, { name: 'epoch-5' }).epoch).toBe(5);
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.json: checkpoint metadata file not found/);
    expect(() => saveCheckpoint(dir, ckpt, '../escape')).toThrow(ShapeError);
    // The default name, through the old fixed weights path.
    const d2 = fresh();
    saveCheckpoint(d2, ckpt);
    expect(loadCheckpoint(join(d2, 'checkpoint.safetensors')).path).toBe(join(d2, 'checkpoint.json'));
    expect(loadCheckpoint(join(d2, 'checkpoint.json')).weightsPath).toBe(join(d2, 'checkpoint.w1234.safetensors'));
  });

  it('a new save replaces the old weights file; saving the same step again picks a fresh name', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, { ...ckpt, step: 7 });
    saveCheckpoint(dir, { ...ckpt, step: 8 });
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w8.safetensors']);
    // Same step: the current manifest's file is never overwritten in place.
    saveCheckpoint(dir, { ...ckpt, step: 8, epoch: 6 });
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w8-1.safetensors']);
    expect(loadCheckpoint(dir).epoch).toBe(6);
    saveCheckpoint(dir, { ...ckpt, step: 8, epoch: 7 });
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w8.safetensors']);
    expect(loadCheckpoint(dir).epoch).toBe(7);
    // Another checkpoint in the same directory keeps its own weights.
    saveCheckpoint(dir, { ...ckpt, step: 9 }, 'best');
    saveCheckpoint(dir, { ...ckpt, step: 10 });
    expect(readdirSync(dir).sort()).toEqual(['best.json', 'best.w9.safetensors', 'checkpoint.json', 'checkpoint.w10.safetensors']);
    expect([loadCheckpoint(dir, { name: 'best' }).step, loadCheckpoint(dir).step]).toEqual([9, 10]);
  });

  it('records the weights length and SHA-256 and the dataset fingerprint', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const json = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as {
      weights: { file: string; bytes: number; sha256: string };
    };
    const w = readFileSync(join(dir, json.weights.file));
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
    const p = weightsPath(dir);
    const w = readFileSync(p);
    writeFileSync(p, w.subarray(0, w.length - 3));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.w1234\.safetensors: weights file is \d+ bytes but checkpoint\.json records \d+/);
  });

  it('corrupted weights byte', () => {
    const dir = saved();
    const p = weightsPath(dir);
    const w = readFileSync(p);
    w[w.length - 5] ^= 0x10;
    writeFileSync(p, w);
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.w1234\.safetensors: weights SHA-256 does not match/);
  });

  it('weights from another save (mismatched pair)', () => {
    const a = saved();
    const other = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(other, { ...ckpt, step: 9 });
    copyFileSync(weightsPath(other), weightsPath(a));
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
    const doc = JSON.parse(good) as Record<string, unknown> & { weights: Record<string, unknown> };
    writeFileSync(jp, JSON.stringify({ ...doc, step: -1 }));
    expectCkptError(() => loadCheckpoint(dir), /'step' is not a non-negative integer/);
    writeFileSync(jp, JSON.stringify({ ...doc, rng: { s: [1, 2, 3], spareNormal: null } }));
    expectCkptError(() => loadCheckpoint(dir), /'rng' is not a valid generator state/);
    // The manifest names the weights file; it must stay inside the checkpoint's directory.
    writeFileSync(jp, JSON.stringify({ ...doc, weights: { ...doc.weights, file: '../elsewhere.safetensors' } }));
    expectCkptError(() => loadCheckpoint(dir), /weights file '\.\.\/elsewhere\.safetensors' must be a plain file name/);
    writeFileSync(jp, good);
    rmSync(weightsPath(dir));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.w1234\.safetensors: cannot read weights \(ENOENT\)/);
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

  it('a tensor whose shape in the weights file differs from the JSON (same names, length and hash recorded)', () => {
    const dir = saved();
    // Re-encoding unchanged reproduces the file byte for byte, so the crafted file
    // below differs from a genuine one only in W's shape.
    const before = readFileSync(weightsPath(dir));
    rewriteWeights(dir, () => {});
    expect(readFileSync(weightsPath(dir))).toEqual(before);
    expect(loadCheckpoint(dir).tensors['W']!.shape).toEqual([6, 4]);
    rewriteWeights(dir, (t) => {
      t['W'] = { ...t['W']!, shape: [4, 6] };
    });
    expect(readFileSync(weightsPath(dir)).length).toBe(before.length);
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.w1234\.safetensors: tensor 'W' has shape \[4, 6\] in the file but \[6, 4\] in checkpoint\.json/);
  });

  it('a tensor holding NaN or ±Infinity is refused on load, naming the tensor', () => {
    for (const [name, at, value, text] of [
      ['W', 3, NaN, 'NaN'],
      ['b', 0, Infinity, 'Infinity'],
      ['optimizer.m.W', 23, -Infinity, '-Infinity'],
    ] as const) {
      const dir = saved();
      rewriteWeights(dir, (t) => {
        (t[name]!.data as Float32Array)[at] = value;
      });
      expectCkptError(() => loadCheckpoint(dir), new RegExp(`tensor '${name.replace('.', '\\.')}' holds ${text} at entry ${at}`));
    }
  });
});

describe('checkpoint atomicity', () => {
  it('bad input throws before anything is written; the existing checkpoint survives intact', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const before = snapshotDir(dir);
    expect(before.map(([f]) => f)).toEqual(['checkpoint.json', 'checkpoint.w1234.safetensors']);
    const W = ckpt.tensors['W']!;
    const bads: CheckpointInput[] = [
      { ...ckpt, step: 99, tensors: { ...ckpt.tensors, W: { shape: [5, 4], data: W.data } } },
      { ...ckpt, step: 99, config: { lr: NaN } },
      { ...ckpt, step: 99, config: { big: 10n } as unknown as Record<string, unknown> },
      { ...ckpt, step: 1.5 },
      { ...ckpt, kind: '' },
    ];
    for (const bad of bads) expect(() => saveCheckpoint(dir, bad)).toThrow(ShapeError);
    expect(snapshotDir(dir)).toEqual(before);
    expect(loadCheckpoint(dir, { kind: 'rbm', expect: SHAPES }).step).toBe(1234);
  });

  it('NaN or ±Infinity in any tensor is a DivergenceError naming the tensor, and nothing is written', () => {
    const { ckpt } = makeCkpt();
    const dir = fresh();
    saveCheckpoint(dir, ckpt);
    const before = snapshotDir(dir);
    const empty = fresh();
    for (const [name, at, value] of [
      ['W', 0, NaN],
      ['c', 3, Infinity],
      ['optimizer.m.W', 17, -Infinity],
    ] as const) {
      const t = ckpt.tensors[name]!;
      const data = t.data.slice();
      data[at] = value;
      const bad: CheckpointInput = { ...ckpt, step: 2000, tensors: { ...ckpt.tensors, [name]: { shape: t.shape, data } } };
      for (const d of [dir, empty]) {
        let err: unknown;
        try {
          saveCheckpoint(d, bad);
        } catch (e) {
          err = e;
        }
        expect(err, `${name} in ${d}`).toBeInstanceOf(DivergenceError);
        expect((err as Error).message).toContain(`tensor '${name}': entry ${at} is ${value}`);
        expect((err as Error).message).not.toContain('\n');
      }
    }
    expect(snapshotDir(dir)).toEqual(before);
    expect(readdirSync(empty)).toEqual([]);
    // The caller's arrays were not touched.
    expect(ckpt.tensors['W']!.data.every(Number.isFinite)).toBe(true);
  });

  it('a write that fails on disk leaves no temporary file; the old checkpoint loads; cleanup removes the orphan', () => {
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
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w1234.safetensors', 'next.json', 'next.w2000.safetensors']);
    // Weights another save wrote, put under the name a manifest refers to, are detected.
    const orig = readFileSync(weightsPath(dir));
    copyFileSync(join(dir, 'next.w2000.safetensors'), weightsPath(dir));
    expectCkptError(() => loadCheckpoint(dir), /checkpoint\.w1234\.safetensors: weights SHA-256 does not match checkpoint\.json/);
    writeFileSync(weightsPath(dir), orig);
    // The unreferenced weights are debris; cleaning keeps what the manifest names.
    expect(cleanCheckpointDir(dir)).toEqual(['next.w2000.safetensors']);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w1234.safetensors', 'next.json']);
    expect(loadCheckpoint(dir).step).toBe(1234);
  });
});

describe('crash injection: a kill at any instant of a save leaves the old or the new checkpoint', () => {
  /** A checkpoint whose every tensor differs from makeCkpt()'s, at `step`. */
  const version = (step: number): CheckpointInput => {
    const { ckpt } = makeCkpt();
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(ckpt.tensors)) tensors[k] = { shape: [...t.shape], data: t.data.map((v) => v + step) };
    return { ...ckpt, step, epoch: step, tensors, extra: { version: step } };
  };
  const A = version(1);
  const B = version(2);
  const expectExactly = (dir: string, want: CheckpointInput): void => {
    const back = loadCheckpoint(dir, { kind: 'rbm', expect: SHAPES });
    expect([back.step, back.epoch, back.extra]).toEqual([want.step, want.epoch, want.extra]);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(want.tensors).sort());
    for (const [k, t] of Object.entries(want.tensors)) expect(back.tensors[k]!.data, k).toEqual(t.data);
  };
  const template = fresh();
  saveCheckpoint(template, A);

  // Where each protocol step leaves the directory, and which checkpoint is then current.
  const cases = [
    { at: 'weights', survivor: A, files: ['checkpoint.json', 'checkpoint.w1.safetensors', 'checkpoint.w2.safetensors'] },
    { at: 'manifest', survivor: B, files: ['checkpoint.json', 'checkpoint.w1.safetensors', 'checkpoint.w2.safetensors'] },
    { at: 'cleanup', survivor: B, files: ['checkpoint.json', 'checkpoint.w2.safetensors'] },
  ] as const;

  it.each(cases)('killed after $at', ({ at, survivor, files }) => {
    const dir = fresh();
    cpSync(template, dir, { recursive: true });
    const seen: string[] = [];
    const kill = new Error(`killed after ${at}`);
    expect(() =>
      saveCheckpoint(dir, B, 'checkpoint', {
        onStep: (s) => {
          seen.push(s);
          if (s === at) throw kill;
        },
      }),
    ).toThrow(kill);
    // The protocol's steps come in this order, and none ran after the kill.
    expect(seen).toEqual(['weights', 'manifest', 'cleanup'].slice(0, seen.length));
    expect(seen[seen.length - 1]).toBe(at);
    expect(readdirSync(dir).sort()).toEqual(files);
    expectExactly(dir, survivor);
    // A kill in the middle of an atomic write leaves its temporary file too.
    const tmp = `.checkpoint.w3.safetensors.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(join(dir, tmp), 'partial');
    const removed = cleanCheckpointDir(dir).sort();
    const keep = weightsFile(dir);
    expect(removed).toEqual([tmp, ...files.filter((f) => f !== 'checkpoint.json' && f !== keep)].sort());
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', keep]);
    expect(keep).toBe(`checkpoint.w${survivor.step}.safetensors`);
    expectExactly(dir, survivor);
    // A further save works and becomes the only checkpoint.
    const C = version(3);
    saveCheckpoint(dir, C);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w3.safetensors']);
    expectExactly(dir, C);
  });

  it('a save that completes runs every step once, and an uninterrupted directory needs no cleaning', () => {
    const dir = fresh();
    cpSync(template, dir, { recursive: true });
    const seen: string[] = [];
    saveCheckpoint(dir, B, 'checkpoint', { onStep: (s) => seen.push(s) });
    expect(seen).toEqual(['weights', 'manifest', 'cleanup']);
    expect(cleanCheckpointDir(dir)).toEqual([]);
    expectExactly(dir, B);
    expect(existsSync(join(template, 'checkpoint.w1.safetensors'))).toBe(true);
  });
});

describe('independent NumPy reader (published safetensors layout only)', () => {
  it.skipIf(!hasNumpy)('reads a genphys checkpoint and agrees on every value and the file hash', () => {
    const dir = fresh();
    const { ckpt } = makeCkpt();
    saveCheckpoint(dir, ckpt);
    const r = spawnSync(PY, [REF, 'read', weightsPath(dir)], { encoding: 'utf8' });
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
