/**
 * GAN runs on the run layer: exact resume (N straight ≡ k + resumed N − k, byte for
 * byte on the checkpoint's safetensors, which hold G, D, both Adam moments and the EMA),
 * the run directory's files, bad input rejected before anything is written, and the
 * evaluations (toy metrics with replicate SEs; eval.json keeps every earlier entry).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';
import { GenphysError, RunError, ShapeError, UsageError } from '../src/core/errors.js';
import type { RunEvent } from '../src/run/events.js';
import { evaluateGanRun, loadGanRun, recordEval, trainGanRun, type GanRunOptions } from '../src/gan/run.js';
import { checkGanDataSpec, loadGanData, parseIsingSpec, pixelsToSigned } from '../src/gan/data.js';
import { backendsUnderTest } from './engine-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-gan-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend((await backendsUnderTest())[0]!, { quiet: true });
});
let counter = 0;
const fresh = (tag: string) => join(root, `${tag}-${counter++}`);

function weightsHash(dir: string): string {
  const m = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { weights: { file: string } };
  return createHash('sha256').update(readFileSync(join(dir, m.weights.file))).digest('hex');
}

function abortAtBatch(ac: AbortController, n: number): (e: RunEvent) => void {
  let k = 0;
  return (e) => {
    if (e.type === 'batch' && ++k === n) ac.abort();
  };
}

const base = (dir: string, over: Partial<GanRunOptions> = {}): GanRunOptions => ({
  dir,
  seed: 4,
  data: { spec: 'toy:ring8:300' },
  preset: 'toy-mlp',
  overrides: { train: { batchSize: 32 } },
  epochs: 3,
  saveEvery: 1,
  sampleEvery: 0,
  ...over,
});

describe('exact resume of a GAN run (N straight ≡ k + resumed N − k, byte for byte)', () => {
  // ring8:300 at batch 32: 9 iterations per epoch (NS), 1 (WGAN-GP, 5 × 32 per iteration:
  // so there the interrupt falls between epochs, and a second case uses batch 8 → 7).
  const cases: Array<[string, Partial<GanRunOptions>, number]> = [
    ['non-saturating with EMA, interrupted mid-epoch 2', { ema: 0.95 }, 13],
    ['WGAN-GP, 5 critic steps, interrupted mid-epoch 1', { overrides: { train: { loss: 'wgan-gp', nCritic: 5, batchSize: 8 } } }, 4],
  ];
  for (const [name, over, at] of cases) {
    it(name, async () => {
      const a = fresh('straight');
      const b = fresh('split');
      const ra = await trainGanRun(base(a, over));
      expect(ra.status).toBe('done');
      const ac = new AbortController();
      const first = await trainGanRun({ ...base(b, over), signal: ac.signal, onEvent: abortAtBatch(ac, at) });
      expect(first.status).toBe('interrupted');
      expect(first.step).toBe(at);
      const second = await trainGanRun({ ...base(b, over), resume: true });
      expect(second.status).toBe('done');
      expect(second.step).toBe(ra.step);
      expect(weightsHash(b)).toBe(weightsHash(a));
      // The per-epoch metrics agree too, except wall-clock seconds.
      const rows = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => { const { seconds: _s, ...r } = JSON.parse(l) as Record<string, number>; return r; });
      expect(rows(b)).toEqual(rows(a));
      expect(rows(a)).toHaveLength(3);
    }, 60000);
  }

  it('a conflicting flag on resume is an error; --epochs may be raised', async () => {
    const d = fresh('conflict');
    await trainGanRun(base(d, { epochs: 1 }));
    await expect(trainGanRun({ ...base(d), resume: true, given: { '--loss': ['train.loss', 'lsgan'] } })).rejects.toThrow(/--resume: --loss lsgan conflicts with the run .* started with --loss ns/);
    const r = await trainGanRun({ ...base(d), resume: true, epochs: 2, given: { '--epochs': ['epochs', 2] } });
    expect(r.epoch).toBe(2);
  }, 30000);
});

describe('run directory', () => {
  it('writes config, metrics, checkpoint (G, D, moments, EMA), samples and curves', async () => {
    const d = fresh('files');
    await trainGanRun(base(d, { epochs: 2, sampleEvery: 2, ema: 0.9 }));
    const files = readdirSync(d);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.json', 'samples-epoch-002.svg', 'curve-loss.svg', 'curve-d.svg']) expect(files).toContain(f);
    const rows = readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(Object.keys(rows[0]!).sort()).toEqual(['dFake', 'dReal', 'epoch', 'lossD', 'lossG', 'seconds', 'step'].sort());
    // NS outputs are probabilities.
    for (const r of rows) for (const k of ['dReal', 'dFake']) expect(r[k]! > 0 && r[k]! < 1).toBe(true);
    const run = loadGanRun(d);
    expect(run.ema).not.toBeNull();
    expect(run.config.model.generator.kind).toBe('mlp');
    expect(run.state.adamM.has('generator.out.kernel')).toBe(true);
    expect(run.state.adamM.has('discriminator.out.kernel')).toBe(true);
    expect(run.step).toBe(2 * 9);
    run.gan.dispose();
  }, 30000);
});

describe('bad input: one-line errors, nothing written', () => {
  const cases: Array<[string, Partial<GanRunOptions>, RegExp, new (...a: never[]) => GenphysError]> = [
    ['unknown preset', { preset: 'big-gan' }, /^--preset: unknown GAN preset 'big-gan'; choose one of course-mlp, keras-dcgan, toy-mlp$/, UsageError],
    ['unknown loss', { overrides: { train: { loss: 'hinge' as 'ns' } } }, /^train\.loss: unknown GAN loss 'hinge'/, UsageError],
    ['n_critic < 1', { overrides: { train: { nCritic: 0 } } }, /^train\.nCritic: need an integer ≥ 1/, UsageError],
    ['data of the wrong shape for the preset', { preset: 'course-mlp' }, /^toy:ring8:300: examples are 1×1×2 = 2 values, the GAN expects 28×28×1 = 784$/, ShapeError],
    ['unknown data spec', { data: { spec: 'cifar10' } }, /^--data: unknown data spec 'cifar10'; expected fashion-mnist, mnist, toy:<name>\[:N\] or ising:<dir>\[:T\]$/, UsageError],
    ['unknown toy', { data: { spec: 'toy:spiral' } }, /unknown toy 'spiral'/, UsageError],
  ];
  for (const [name, over, msg, cls] of cases) {
    it(name, async () => {
      const d = fresh('bad');
      const err = await trainGanRun(base(d, over)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(cls);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
      expect(existsSync(d)).toBe(false);
    });
  }
  it('images are scaled to [−1, 1] (x/127.5 − 1)', () => {
    expect(Array.from(pixelsToSigned(Uint8Array.from([0, 51, 255])))).toEqual([-1, Math.fround(51 / 127.5 - 1), 1]);
    if (!existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz')) return console.warn('gan-run: Fashion-MNIST check skipped (no data)');
    const d = loadGanData('fashion-mnist', { rng: new Rng(0), limit: 50, dir: '/usr/share/datasets/fashion-mnist' });
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.x.length).toBe(50 * 784);
    // Fashion-MNIST has black backgrounds and saturated pixels: both ends are reached.
    expect(Math.min(...d.x)).toBe(-1);
    expect(Math.max(...d.x)).toBe(1);
  });
  it('spec parsing', () => {
    expect(checkGanDataSpec('fashion-mnist')).toBe('image');
    expect(checkGanDataSpec('toy:moons')).toBe('toy');
    expect(parseIsingSpec('ising:/tmp/a:b:2.5')).toEqual({ dir: '/tmp/a:b', T: 2.5 });
    expect(parseIsingSpec('ising:data/x')).toEqual({ dir: 'data/x' });
    expect(() => parseIsingSpec('ising:')).toThrow(UsageError);
  });
  it('an existing run is not replaced without --force', async () => {
    const d = fresh('exists');
    await trainGanRun(base(d, { epochs: 1 }));
    const before = weightsHash(d);
    await expect(trainGanRun(base(d, { epochs: 1 }))).rejects.toThrow(RunError);
    expect(weightsHash(d)).toBe(before);
  }, 30000);
});

describe('evaluation', () => {
  it('toy: mode coverage, high-quality fraction, KL/JS with replicate SEs; eval.json keeps earlier entries', async () => {
    const d = fresh('eval');
    await trainGanRun(base(d, { epochs: 1 }));
    const r = await evaluateGanRun(d, { rng: new Rng(1), n: 400 });
    expect(r.method).toBe('toy');
    expect(r.nModes).toBe(8);
    const mc = r.modesCovered as { value: number; se: number };
    expect(mc.value).toBeGreaterThanOrEqual(0);
    expect(mc.value).toBeLessThanOrEqual(8);
    for (const k of ['highQualityFraction', 'kl', 'js']) {
      const e = r[k] as { value: number; se: number };
      expect(Number.isFinite(e.value) && e.se >= 0).toBe(true);
    }
    // JS ≤ ln 2 for any pair of distributions.
    expect((r.js as { value: number }).value).toBeLessThanOrEqual(Math.LN2 + 1e-12);
    const k1 = recordEval(d, r, new Date('2026-01-01T00:00:00Z'));
    const k2 = recordEval(d, { ...r, extra: 1 }, new Date('2026-01-01T00:00:00Z'));
    const k3 = recordEval(d, r, new Date('2026-01-02T00:00:00Z'));
    expect(k1).toBe('toy 2026-01-01T00:00:00.000Z');
    expect(k2).toBe('toy 2026-01-01T00:00:00.000Z #2');
    const doc = JSON.parse(readFileSync(join(d, 'eval.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual([k1, k2, k3]);
  }, 30000);

  it('a corrupt eval.json is an error, not overwritten', () => {
    const d = fresh('evalbad');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'eval.json'), '[1, 2]');
    expect(() => recordEval(d, { method: 'toy' })).toThrow(/eval\.json: not a JSON object of earlier evaluations/);
    expect(readFileSync(join(d, 'eval.json'), 'utf8')).toBe('[1, 2]');
  });
});
