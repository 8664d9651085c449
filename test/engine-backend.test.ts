/**
 * Backend selection: auto picks the best available, names are validated,
 * GENPHYS_BACKEND forces a backend, the chosen backend is really active.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, initBackend, nativeStatus } from '../src/engine/backend.js';
import { GenphysError, UsageError } from '../src/core/errors.js';

const savedEnv = process.env['GENPHYS_BACKEND'];
afterEach(() => {
  if (savedEnv === undefined) delete process.env['GENPHYS_BACKEND'];
  else process.env['GENPHYS_BACKEND'] = savedEnv;
});

describe('initBackend', () => {
  it('auto picks native when available, else wasm', async () => {
    delete process.env['GENPHYS_BACKEND'];
    const st = await nativeStatus();
    const info = await initBackend('auto', { quiet: true });
    expect(info.name).toBe(st.available ? 'native' : 'wasm');
    expect(tf.getBackend()).toBe(info.name);
    expect(backendInfo()).toEqual(info);
    if (!st.available) {
      console.warn(`native backend not available (${st.reason}); auto selection tested for wasm only`);
      expect(info.fallbackReason).toBe(st.reason);
    }
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });

  it('explicit wasm and cpu are honoured and really compute', async () => {
    for (const name of ['wasm', 'cpu'] as const) {
      const info = await initBackend(name, { quiet: true });
      expect(info.name).toBe(name);
      expect(tf.getBackend()).toBe(name);
      const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
      expect(Array.from(y)).toEqual([17, 39]);
    }
    expect((await initBackend('wasm', { quiet: true })).simd).toBe(true);
  });

  it('GENPHYS_BACKEND forces a backend under auto; an explicit name wins over it', async () => {
    process.env['GENPHYS_BACKEND'] = 'cpu';
    expect((await initBackend('auto', { quiet: true })).name).toBe('cpu');
    expect((await initBackend('wasm', { quiet: true })).name).toBe('wasm');
  });

  it('an unknown name is a one-line usage error listing the choices', async () => {
    await expect(initBackend('gpu' as never)).rejects.toThrow(UsageError);
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'; choose one of auto, native, wasm, cpu/);
    process.env['GENPHYS_BACKEND'] = 'tpu';
    await expect(initBackend('auto')).rejects.toThrow(/^GENPHYS_BACKEND: unknown backend 'tpu'/);
  });

  it('a forced native backend that is missing says why and how to get it', async () => {
    const st = await nativeStatus();
    if (st.available) {
      expect((await initBackend('native', { quiet: true })).name).toBe('native');
      return;
    }
    const err = await initBackend('native').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenphysError);
    const msg = (err as Error).message;
    expect(msg).toContain(st.reason);
    expect(msg).toMatch(/libopenblas-dev/);
    expect(msg.includes('\n')).toBe(false);
  });
});
