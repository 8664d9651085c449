/**
 * The run layer (src/run/) and the families on it: exact resume (N straight ≡ k +
 * resumed N − k, byte for byte on the saved safetensors, which hold the weights and
 * every piece of trainer state), the model registry, divergence stops, path checks, and
 * the loop's events.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { DivergenceError, RunError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { loadModel, saveModel } from '../src/ebm/io.js';
import { trainRbmRun, type RbmRunOptions } from '../src/ebm/run.js';
import { LatticeSpinRBM } from '../src/physics/lattice-rbm.js';
import { squareTranslations } from '../src/physics/lattice.js';
import { runTraining } from '../src/run/loop.js';
import type { RunEvent } from '../src/run/events.js';
import { checkOutputDir, checkOutputFile } from '../src/run/paths.js';
import { prepareRun } from '../src/run/run-dir.js';
import { createModel, registeredKinds } from '../src/run/registry.js';
import { trainRun, type TrainRunOptions } from '../src/vae/run.js';
import { getPreset } from '../src/vae/presets.js';
import type { VaeData } from '../src/vae/train.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (tag: string) => join(root, `${tag}-${counter++}`);

/** SHA-256 of the weights file the manifest names. */
function weightsHash(dir: string, name = 'checkpoint'): string {
  const m = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { weights: { file: string } };
  return createHash('sha256').update(readFileSync(join(dir, m.weights.file))).digest('hex');
}

/** Abort `ac` at the `n`-th batch event (counted over the whole run). */
function abortAtBatch(ac: AbortController, n: number): (e: RunEvent) => void {
  let k = 0;
  return (e) => {
    if (e.type === 'batch' && ++k === n) ac.abort();
  };
}

const rbmBase = (dir: string, over: Partial<RbmRunOptions> = {}): RbmRunOptions => ({
  dir,
  seed: 5,
  data: { spec: 'bars-and-stripes:3', binarize: 'static' },
  hidden: 6,
  train: { method: 'pcd', batchSize: 3, schedule: 'cosine', averaging: 0.3, optimizer: 'adam', learningRate: 0.05 },
  epochs: 6,
  exactEvery: 2,
  gridEvery: 0,
  saveEvery: 1,
  ...over,
});

describe('exact resume (N straight ≡ k + resumed N − k, byte for byte)', () => {
  // Each case: interrupt mid-epoch at a batch that is not an epoch boundary (14 batches per
  // epoch for bars-and-stripes:3 = 14 patterns at batch 1; 5 at batch 3), then resume.
  const cases: Array<[string, Partial<RbmRunOptions>, number]> = [
    ['PCD, Adam, cosine schedule, tail averaging (in the window)', {}, 23],
    ['PCD, SGD with momentum, interrupted in epoch 1', { train: { method: 'pcd', batchSize: 1, momentum: 0.5, schedule: 'linear' } }, 3],
    ['parallel tempering (replicas, swap parity)', { train: { method: 'pt', batchSize: 3, ptReplicas: 4, schedule: 'cosine' } }, 12],
    ['CD-2 with centring', { train: { method: 'cd', k: 2, batchSize: 2, centering: true } }, 9],
  ];
  for (const [name, over, at] of cases) {
    it(name, async () => {
      const a = fresh('rbm-straight');
      const b = fresh('rbm-split');
      await trainRbmRun(rbmBase(a, over));
      const ac = new AbortController();
      const first = await trainRbmRun({ ...rbmBase(b, over), signal: ac.signal, onEvent: abortAtBatch(ac, at) });
      expect(first.status).toBe('interrupted');
      expect(first.step).toBe(at);
      const second = await trainRbmRun({ ...rbmBase(b, over), resume: true });
      expect(second.status).toBe('done');
      expect(weightsHash(b)).toBe(weightsHash(a));
      // The metrics history is the straight run's, epoch for epoch (timings aside).
      const strip = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => { const r = JSON.parse(l) as Record<string, unknown>; delete r.seconds; return r; });
      expect(strip(b)).toEqual(strip(a));
    });
  }

  const FASHION = '/usr/share/datasets/fashion-mnist';
  const haveFashion = existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'));
  if (!haveFashion && process.env.CI) throw new Error(`${FASHION} is missing on CI (.ci/run installs dataset-fashion-mnist)`);
  if (!haveFashion) console.warn(`skipping the dynamic-binarisation resume check: ${FASHION} not found (apt-get install dataset-fashion-mnist)`);
  it.skipIf(!haveFashion)('dynamic binarisation of Fashion-MNIST: the data stream resumes mid-epoch too', async () => {
    const over: Partial<RbmRunOptions> = { data: { spec: 'fashion-mnist', binarize: 'dynamic', limit: 60, dir: FASHION }, hidden: 8, train: { method: 'pcd', batchSize: 20 }, epochs: 3, exactEvery: 0 };
    const a = fresh('dyn-straight');
    const b = fresh('dyn-split');
    await trainRbmRun(rbmBase(a, over));
    const ac = new AbortController();
    await trainRbmRun({ ...rbmBase(b, over), signal: ac.signal, onEvent: abortAtBatch(ac, 5) });
    await trainRbmRun({ ...rbmBase(b, over), resume: true });
    expect(weightsHash(b)).toBe(weightsHash(a));
  });

  it('spin data through a resume of a lattice (translation-invariant) RBM kind is rebuilt from its checkpoint alone', () => {
    const d = fresh('lattice');
    const m = new LatticeSpinRBM({ nVisible: 9, nHidden: 9, translations: squareTranslations(3) }, new Rng(1));
    saveModel(d, m);
    const back = loadModel(d).model as LatticeSpinRBM;
    expect(back).toBeInstanceOf(LatticeSpinRBM);
    expect(back.kind).toBe('lattice-spin-rbm');
    expect(back.translations?.length).toBe(9);
    expect(Array.from(back.params.W!)).toEqual(Array.from(m.params.W!));
    expect(registeredKinds('ebm')).toEqual(['bernoulli-rbm', 'gaussian-bernoulli-rbm', 'lattice-spin-rbm']);
    expect(() => createModel('ebm', 'no-such-rbm', {}, 'x.json')).toThrow(/x\.json: unknown ebm model kind 'no-such-rbm'/);
  });

  it('--epochs is the total: a resume of a finished run does nothing; raising it trains on', async () => {
    const d = fresh('total');
    await trainRbmRun(rbmBase(d, { epochs: 2 }));
    const h = weightsHash(d);
    const again = await trainRbmRun({ ...rbmBase(d, { epochs: 2 }), resume: true });
    expect(again.epoch).toBe(2);
    expect(weightsHash(d)).toBe(h);
    const more = await trainRbmRun({ ...rbmBase(d, { epochs: 3 }), resume: true, given: { '--epochs': ['epochs', 3] } });
    expect(more.epoch).toBe(3);
    expect(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')).epochs).toBe(3);
  });
});

describe('VAE resume (mid-epoch, on the run layer)', () => {
  const data: VaeData = (() => {
    const rng = new Rng(9);
    const n = 40;
    const x = new Float32Array(n * 36);
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < 0.3 ? 1 : 0;
    return { n, dim: 36, x };
  })();
  const preset = getPreset('ising-mlp');
  const base = (dir: string): TrainRunOptions => ({
    dir,
    preset: null,
    model: { ...preset.model, inputShape: [6, 6, 1] },
    train: { ...preset.train, epochs: 3, batchSize: 8 },
    seed: 4,
    trainData: data,
    valData: data,
    dataName: 'random/train',
    config: { command: 'vae train', note: 'test' },
  });
  it('interrupted at batch 7 (epoch 2 of 5 batches each) and resumed equals the straight run', async () => {
    await tf.setBackend('cpu');
    const a = fresh('vae-straight');
    const b = fresh('vae-split');
    (await trainRun(base(a))).model.dispose();
    const ac = new AbortController();
    const r1 = await trainRun({ ...base(b), signal: ac.signal, onEvent: abortAtBatch(ac, 7) });
    r1.model.dispose();
    expect(r1.stopped).toBe('interrupted');
    expect(r1.step).toBe(7);
    const r2 = await trainRun({ ...base(b), resume: true });
    r2.model.dispose();
    expect(r2.stopped).toBe('done');
    expect(weightsHash(b)).toBe(weightsHash(a));
    expect(weightsHash(b, 'best')).toBe(weightsHash(a, 'best'));
  });

  it('a resume into a run of another command is refused before anything is written', async () => {
    const d = fresh('rbm-for-vae');
    await trainRbmRun(rbmBase(d, { epochs: 1 }));
    const before = readdirSync(d).map((f) => [f, readFileSync(join(d, f)).toString('base64')]);
    await expect(trainRun({ ...base(d), resume: true })).rejects.toThrow(/is a 'rbm train' run, not 'vae train'/);
    expect(readdirSync(d).map((f) => [f, readFileSync(join(d, f)).toString('base64')])).toEqual(before);
    expect(loadModel(d).epoch).toBe(1);
  });
});

describe('divergence', () => {
  it('a huge learning rate stops with a one-line message; the last good checkpoint is kept and loads', async () => {
    const d = fresh('diverge');
    // Gaussian visibles at lr 1000: the parameters overflow within a few epochs (lr 10 trains, 100 and 1000 diverge).
    const opts = rbmBase(d, { data: { spec: 'bars-and-stripes:3', binarize: 'none' }, visible: 'gaussian', train: { method: 'cd', batchSize: 2, learningRate: 1000 }, epochs: 50, exactEvery: 0 });
    let saved = -1;
    await expect(trainRbmRun({ ...opts, onEvent: (e) => void (e.type === 'checkpoint' && (saved = e.epoch)) })).rejects.toThrow(DivergenceError);
    await expect(trainRbmRun(opts)).rejects.toThrow(RunError); // the directory is a run now
    const err = await trainRbmRun({ ...rbmBase(fresh('diverge2')), ...opts, dir: fresh('diverge3') }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^training diverged at epoch \d+, step \d+: .* is not finite; the last good checkpoint is kept; try a lower --lr$/);
    expect(saved).toBeGreaterThanOrEqual(1);
    const back = loadModel(d);
    expect(back.epoch).toBe(saved);
    for (const v of Object.values(back.model.params)) for (const x of v) expect(Number.isFinite(x)).toBe(true);
  });

  it('the loop never saves after a non-finite loss', async () => {
    const saves: number[] = [];
    let step = 0;
    const task = {
      epoch: 0,
      get step() {
        return step;
      },
      batchesPerEpoch: 4,
      advance(_n: number, onBatch?: (b: number, loss: number) => void) {
        step++;
        onBatch?.(step, step === 6 ? NaN : 1);
        if (step % 4 === 0) {
          (this as { epoch: number }).epoch++;
          return { loss: 1 };
        }
        return null;
      },
      nonFinite: () => null,
      save: () => {
        saves.push(step);
        return 'x';
      },
    };
    await expect(runTraining(task, { epochs: 5, saveEvery: 1, dir: 'x', sliceBatches: 1 })).rejects.toThrow(/diverged at epoch 2, step 6: the loss \(NaN\)/);
    expect(saves).toEqual([4]);
  });
});

describe('run directories and paths', () => {
  it('refuses bad --out paths with one line naming the flag', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(() => checkOutputDir('', '--out')).toThrow(/^--out: the path is empty$/);
    expect(() => checkOutputDir(file, '--out')).toThrow(/--out: .*a-file is a file, not a directory/);
    expect(() => checkOutputDir(join(file, 'sub', 'run'), '--out')).toThrow(/a-file is a file, so .* cannot be created under it/);
    expect(() => checkOutputDir('/proc/self/genphys-run', '--out')).toThrow(/under \/proc, a pseudo-file system/);
    expect(() => checkOutputDir('/sys/genphys', '--out')).toThrow(/under \/sys/);
    expect(() => checkOutputFile(root, '--grid')).toThrow(/--grid: .* is a directory, not a file/);
  });

  it('an existing run is never touched without resume or force; force refuses a non-run directory', async () => {
    const d = fresh('exists');
    await trainRbmRun(rbmBase(d, { epochs: 1 }));
    const snapshot = () => readdirSync(d).sort().map((f) => [f, createHash('sha256').update(readFileSync(join(d, f))).digest('hex')]);
    const before = snapshot();
    await expect(trainRbmRun(rbmBase(d, { epochs: 2 }))).rejects.toThrow(/already exists and is not empty; pass --resume to continue the run in it or --force to replace it/);
    await expect(trainRbmRun({ ...rbmBase(d), resume: true, given: { '--hidden': ['model.nHidden', 7] } })).rejects.toThrow(/--resume: --hidden 7 conflicts with the run in .*, which was started with --hidden 6/);
    await expect(trainRbmRun({ ...rbmBase(d), resume: true, data: { spec: 'bars-and-stripes:4', binarize: 'static' }, given: { '--data': ['data.spec', 'bars-and-stripes:4'] } })).rejects.toThrow(/--data bars-and-stripes:4 conflicts/);
    expect(snapshot()).toEqual(before);
    const other = fresh('not-a-run');
    mkdirSync(other);
    writeFileSync(join(other, 'thesis.tex'), 'precious');
    expect(() => prepareRun({ dir: other, command: 'rbm train', force: true })).toThrow(/not a genphys run directory \(no config\.json\); refusing to delete it/);
    expect(readFileSync(join(other, 'thesis.tex'), 'utf8')).toBe('precious');
    const replaced = await trainRbmRun({ ...rbmBase(d, { epochs: 1, seed: 6 }), force: true });
    expect(replaced.epoch).toBe(1);
  });

  it('a torn metrics line (kill mid-append) and stale temporary files are cleaned up on resume', async () => {
    const d = fresh('torn');
    const ac = new AbortController();
    await trainRbmRun({ ...rbmBase(d), signal: ac.signal, onEvent: abortAtBatch(ac, 10) });
    writeFileSync(join(d, 'metrics.jsonl'), readFileSync(join(d, 'metrics.jsonl'), 'utf8') + '{"epoch": 9, "tor');
    writeFileSync(join(d, '.checkpoint.json.123.456.tmp'), 'partial');
    writeFileSync(join(d, 'checkpoint.w999.safetensors'), 'orphan');
    await trainRbmRun({ ...rbmBase(d), resume: true });
    const names = readdirSync(d);
    expect(names.filter((f) => f.endsWith('.tmp') || f === 'checkpoint.w999.safetensors')).toEqual([]);
    const lines = readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number });
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('Gaussian–Bernoulli RBM data units', () => {
  it('every split is standardised with the training set statistics, stored in config.json', async () => {
    const d = fresh('gauss');
    const r = await trainRbmRun(rbmBase(d, { data: { spec: 'bars-and-stripes:3', binarize: 'none' }, visible: 'gaussian', train: { method: 'cd', batchSize: 2, learningRate: 0.01 }, epochs: 1, exactEvery: 0 }));
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as { standardization: { mean: number[]; std: number[] } };
    // The statistics of pixel 0 over the 14 bars-and-stripes:3 patterns, recomputed here from the patterns.
    const pats = (await import('../src/ebm/bars-and-stripes.js')).barsAndStripesPatterns(3);
    const n = pats.length / 9;
    const mean0 = Array.from({ length: n }, (_, i) => pats[i * 9]!).reduce((a, b) => a + b, 0) / n;
    const var0 = Array.from({ length: n }, (_, i) => (pats[i * 9]! - mean0) ** 2).reduce((a, b) => a + b, 0) / (n - 1);
    expect(cfg.standardization.mean[0]).toBeCloseTo(mean0, 12);
    expect(cfg.standardization.std[0]).toBeCloseTo(Math.sqrt(var0), 12);
    expect(r.config.standardization).toEqual(cfg.standardization);
  });
});

describe('a kill before the first config.json', () => {
  it('leaves only a temporary file, which neither blocks a fresh start nor survives it', async () => {
    const d = fresh('tmp-only');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, '.config.json.4242.1700000000000.tmp'), '{"command": "rbm tr');
    const r = await trainRbmRun(rbmBase(d, { epochs: 1 }));
    expect(r.status).toBe('done');
    expect(readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
