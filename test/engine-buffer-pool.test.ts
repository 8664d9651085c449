/**
 * The native backend recycles kernel output buffers (src/engine/buffer-pool.ts).
 * Recycling must never change an array somebody can still see: a value read
 * with dataSync, a slice view, an array the caller passed to tf.tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferPool } from '../src/engine/buffer-pool.js';
import { initBackend, nativeStatus } from '../src/engine/backend.js';
import { nativeBufferPool } from '../src/engine/native-backend.js';
import { normals } from './engine-helpers.js';

describe('BufferPool bookkeeping', () => {
  it('recycles a released buffer of the same length, and only then', () => {
    const pool = new BufferPool();
    const a = pool.alloc(4096);
    pool.retain(a);
    expect(pool.alloc(4096)).not.toBe(a); // a is still referenced
    pool.release(a);
    expect(pool.bytesFree).toBe(4096 * 4);
    expect(pool.alloc(2048)).not.toBe(a); // other length
    expect(pool.alloc(4096)).toBe(a);
    expect(pool.bytesFree).toBe(0);
  });

  it('counts views of a pooled buffer as references', () => {
    const pool = new BufferPool();
    const a = pool.alloc(4096);
    const view = a.subarray(100, 200);
    pool.retain(a);
    pool.retain(view);
    pool.release(a);
    expect(pool.bytesFree).toBe(0);
    pool.release(view);
    expect(pool.bytesFree).toBe(4096 * 4);
  });

  it('never recycles an escaped buffer, a foreign array or a small one', () => {
    const pool = new BufferPool();
    const a = pool.alloc(4096);
    pool.retain(a);
    pool.escape(a);
    pool.release(a);
    const foreign = new Float32Array(4096);
    pool.retain(foreign);
    pool.release(foreign);
    const small = pool.alloc(16);
    pool.retain(small);
    pool.release(small);
    expect(pool.bytesFree).toBe(0);
  });

  it('keeps at most maxFreeBytes', () => {
    const pool = new BufferPool(3 * 4096 * 4);
    const bufs = Array.from({ length: 5 }, () => pool.alloc(4096));
    for (const b of bufs) pool.retain(b);
    for (const b of bufs) pool.release(b);
    expect(pool.bytesFree).toBe(3 * 4096 * 4);
  });
});

describe('buffer reuse on the native backend', async () => {
  const st = await nativeStatus();
  if (!st.available) console.warn(`buffer pool tests skipped: native backend unavailable (${st.reason})`);
  const run = st.available ? it : it.skip;

  beforeAll(async () => {
    if (st.available) await initBackend('native', { quiet: true });
  });
  afterAll(async () => {
    if (st.available) await initBackend('cpu', { quiet: true });
  });

  run('recycles kernel outputs across steps', () => {
    const pool = nativeBufferPool()!;
    expect(pool).toBeDefined();
    const x = tf.tensor2d(normals(64 * 128, 1), [64, 128]);
    const w = tf.tensor2d(normals(128 * 96, 2), [128, 96]);
    const hits0 = pool.hits;
    for (let i = 0; i < 5; i++) tf.tidy(() => tf.sigmoid(tf.matMul(x, w)).sum());
    expect(pool.hits - hits0).toBeGreaterThanOrEqual(8);
    tf.dispose([x, w]);
  });

  run('an array read with dataSync keeps its values after the tensor is disposed', () => {
    const x = tf.tensor2d(normals(64 * 128, 3), [64, 128]);
    const y = tf.exp(x);
    const seen = y.dataSync() as Float32Array;
    const copy = Float32Array.from(seen);
    y.dispose();
    // Many more outputs of the same length: none may land in `seen`.
    for (let i = 0; i < 6; i++) tf.tidy(() => tf.mul(tf.neg(x), 3).sum());
    expect(seen).toEqual(copy);
    x.dispose();
  });

  run('a slice view outlives the tensor it was cut from', () => {
    const x = tf.tensor2d(normals(64 * 128, 4), [64, 128]);
    const y = tf.relu(x); // pooled output
    const s = tf.slice(y, [8, 0], [16, 128]); // contiguous: the cpu kernel returns a subarray of y's buffer
    const expected = Float32Array.from((tf.relu(x.slice([8, 0], [16, 128])) as tf.Tensor).dataSync());
    y.dispose();
    for (let i = 0; i < 6; i++) tf.tidy(() => tf.sub(x, 1).sum());
    expect(Float32Array.from(s.dataSync())).toEqual(expected);
    tf.dispose([x, s]);
  });

  run('never reuses an array the caller handed to tf.tensor', () => {
    const mine = normals(64 * 128, 5);
    const copy = Float32Array.from(mine);
    const t = tf.tensor2d(mine, [64, 128]);
    tf.tidy(() => tf.add(t, 1).sum());
    t.dispose();
    const x = tf.tensor2d(normals(64 * 128, 6), [64, 128]);
    for (let i = 0; i < 6; i++) tf.tidy(() => tf.square(tf.add(x, 2)).sum());
    expect(mine).toEqual(copy);
    x.dispose();
  });

  run('results with reuse equal results on the cpu backend, with no leaked tensors', async () => {
    const xs = normals(32 * 50, 7);
    const ws = normals(50 * 40, 8);
    const f = (): Float32Array => {
      const out = tf.tidy(() => {
        const x = tf.tensor2d(xs, [32, 50]);
        const w = tf.tensor2d(ws, [50, 40]);
        let h = tf.matMul(x, w);
        for (let i = 0; i < 4; i++) h = tf.tanh(tf.add(tf.mul(h, 0.5), tf.matMul(x, w)));
        return h;
      });
      const a = Float32Array.from(out.dataSync());
      out.dispose();
      return a;
    };
    const before = tf.memory().numTensors;
    const a1 = f();
    const a2 = f(); // second run on recycled buffers
    expect(tf.memory().numTensors).toBe(before);
    await initBackend('cpu', { quiet: true });
    const ref = f();
    await initBackend('native', { quiet: true });
    expect(a2).toEqual(a1);
    expect(a1).toBeAllClose(ref, { rtol: 1e-4, atol: 1e-5 });
  });
});
