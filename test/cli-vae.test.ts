import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { encodeIdx } from '../src/data/idx.js';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { loadVaeCheckpoint } from '../src/vae/checkpoint.js';
import { PRESETS } from '../src/vae/presets.js';
import { trainRun } from '../src/vae/run.js';
import type { VaeData } from '../src/vae/train.js';
import { runCli } from './cli-helpers.js';

let root: string;

/** A tiny MNIST-format data set: blobs of random position and brightness, 28×28 (or `side`×`side`). */
function writeIdxData(dir: string, nTrain: number, nTest: number, side = 28): void {
  const rng = new Rng(77);
  for (const [prefix, n] of [
    ['train', nTrain],
    ['t10k', nTest],
  ] as const) {
    const px = new Uint8Array(n * side * side);
    const lab = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const cr = 4 + rng.int(side - 8);
      const cc = 4 + rng.int(side - 8);
      lab[i] = rng.int(10);
      for (let r = 0; r < side; r++)
        for (let c = 0; c < side; c++) {
          const d2 = (r - cr) ** 2 + (c - cc) ** 2;
          px[i * side * side + r * side + c] = d2 < 12 ? 200 + rng.int(56) : 0;
        }
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx({ dtype: 'uint8', dims: [n, side, side], data: px }));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx({ dtype: 'uint8', dims: [n], data: lab }));
  }
}

async function cli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const r = await runCli(args);
  return { code: r.code, stderr: r.err, stdout: r.out };
}

const small = ['--preset', 'torch-mlp', '--hidden', '24', '--latent', '2', '--batch', '16', '--backend', 'cpu'];

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'genphys-vae-'));
  writeIdxData(root, 80, 24);
  mkdirSync(join(root, 'small16'));
  writeIdxData(join(root, 'small16'), 8, 4, 16);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('genphys vae (CLI)', () => {
  it('train writes config, metrics, checkpoints; --resume continues to the same weights as a straight run', async () => {
    const a = join(root, 'runA');
    const b = join(root, 'runB');
    const base = ['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--quiet', '--seed', '3'];
    expect((await cli([...base, '--epochs', '2', '--out', a])).code).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.safetensors', 'checkpoint.json', 'best.safetensors']) expect(existsSync(join(a, f)), f).toBe(true);
    const lines = readFileSync(join(a, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const m = JSON.parse(lines[1]!);
    expect(m.epoch).toBe(2);
    expect(m.train.loss).toBeAllClose(m.train.rec + m.train.kl, { rtol: 1e-9 });
    expect(m.val.loss).toBeGreaterThan(0);
    const cfg = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
    expect(cfg.model.arch.hidden).toEqual([24]);
    expect(cfg.train.batchSize).toBe(16);

    expect((await cli([...base, '--epochs', '1', '--out', b])).code).toBe(0);
    expect((await cli([...base, '--epochs', '2', '--out', b, '--resume'])).code).toBe(0);
    expect(readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    const wa = loadVaeCheckpoint(join(a, 'checkpoint.safetensors'));
    const wb = loadVaeCheckpoint(join(b, 'checkpoint.safetensors'));
    expect(wb.trainer!.step).toBe(wa.trainer!.step);
    for (const [name, w] of wa.weights) expect(Array.from(wb.weights.get(name)!), name).toEqual(Array.from(w));
    for (const [name, w] of wa.trainer!.adamV) expect(Array.from(wb.trainer!.adamV.get(name)!), name).toEqual(Array.from(w));
  });

  it('eval, plot and sample write their files; ELBO ≤ IWAE', async () => {
    const a = join(root, 'runA');
    const ev = await cli(['vae', 'eval', a, '--iwae', '20', '--n', '12', '--backend', 'cpu', '--quiet']);
    expect(ev.code, ev.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(a, 'eval.json'), 'utf8'));
    expect(r.n).toBe(12);
    expect(r.elbo).toBeLessThanOrEqual(r.iwae);
    expect(r.nll).toBeAllClose(-r.iwae, { rtol: 1e-12 });
    for (const [what, file] of [
      ['recon', 'recon.png'],
      ['samples', 'samples.png'],
      ['latent-grid', 'latent-grid.png'],
      ['interp', 'interp.png'],
      ['clusters', 'clusters.svg'],
    ] as const) {
      const res = await cli(['vae', 'plot', a, what, '--n', '5', '--backend', 'cpu', '--quiet']);
      expect(res.code, `${what}: ${res.stderr}`).toBe(0);
      expect(existsSync(join(a, file)), file).toBe(true);
    }
    rmSync(join(a, 'samples.png'));
    expect((await cli(['vae', 'sample', a, '--n', '9', '--backend', 'cpu', '--quiet'])).code).toBe(0);
    expect(readFileSync(join(a, 'samples.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('bad input: wrong image size for a preset → one-line error, exit 1, nothing written', async () => {
    const out = join(root, 'bad-size');
    const res = await cli(['vae', 'train', '--preset', 'keras-conv', '--data', 'mnist', '--data-dir', join(root, 'small16'), '--backend', 'cpu', '--quiet', '--out', out]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/mnist\/train: images have 256 values, the model expects 28×28×1 = 784/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad input: a checkpoint of another model kind → one-line error naming the file and kind', async () => {
    saveCheckpoint(root, { kind: 'rbm', config: {}, tensors: { W: { shape: [2, 2], data: new Float32Array(4) } }, step: 0, epoch: 0 }, 'rbm');
    const f = join(root, 'rbm.safetensors');
    const res = await cli(['vae', 'sample', root, '--checkpoint', f, '--backend', 'cpu', '--quiet', '--out', join(root, 'never')]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/rbm\.json: checkpoint is a 'rbm' model, expected 'vae'/);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });

  it('SIGINT during training saves a resumable checkpoint and exits 0', async () => {
    const out = join(root, 'sigint');
    const listeners = process.listenerCount('SIGINT');
    const run = cli(['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--epochs', '100000', '--out', out]);
    // Emit until the run notices (the handler is installed once the data are loaded).
    const timer = setInterval(() => process.emit('SIGINT'), 200);
    const res = await run;
    clearInterval(timer);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/interrupted; resume with --resume/);
    const ck = loadVaeCheckpoint(join(out, 'checkpoint.safetensors'));
    expect(ck.trainer!.epoch).toBeLessThan(100000);
    expect(ck.trainer!.step).toBeGreaterThan(0);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  });

  it('bad flags → exit 2 (usage)', async () => {
    expect((await cli(['vae', 'train', '--decoder', 'poisson', '--out', join(root, 'x'), '--quiet'])).code).toBe(2);
    expect((await cli(['vae', 'train', '--preset', 'nope', '--out', join(root, 'x'), '--quiet'])).code).toBe(2);
    expect((await cli(['vae', 'train', '--epochs', '0', '--out', join(root, 'x'), '--quiet'])).code).toBe(2);
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const haveFashion = existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'));
if (!haveFashion) console.warn(`skipping the Fashion-MNIST check: ${FASHION} not found (apt-get install dataset-fashion-mnist)`);

describe('real data', () => {
  it.skipIf(!haveFashion)('Fashion-MNIST test split loads as 10000 unit-float 28×28 images that fit both presets', async () => {
    const { loadVaeImages } = await import('../src/vae/data.js');
    const { validateData } = await import('../src/vae/train.js');
    const d = loadVaeImages('fashion-mnist', 'test', { dir: FASHION });
    expect([d.n, d.dim]).toEqual([10000, 784]);
    expect(d.shape).toEqual([28, 28, 1]);
    expect(d.classNames).toHaveLength(10);
    for (const p of ['torch-mlp', 'keras-conv']) expect(() => validateData(d, PRESETS[p]!.model, d.name)).not.toThrow();
    expect(Math.max(...d.x.subarray(0, 784))).toBeLessThanOrEqual(1);
  });
});

describe('interrupted training (what SIGINT triggers)', () => {
  it('a stop request mid-epoch saves a resumable checkpoint; resuming gives the straight run bit for bit', async () => {
    const rng = new Rng(8);
    const x = new Float32Array(100 * 36);
    rng.fillUniform(x);
    const data: VaeData = { n: 100, dim: 36, x };
    const model = { ...PRESETS['ising-mlp']!.model, inputShape: [6, 6, 1] as const, arch: { kind: 'mlp' as const, hidden: [8], activation: 'tanh' as const } };
    const train = { ...PRESETS['ising-mlp']!.train, epochs: 2, batchSize: 10, binarize: 'dynamic' as const };
    const common = { preset: null, model, train, seed: 5, trainData: data, valData: null, dataName: 'synthetic' };
    const s = await trainRun({ ...common, dir: join(root, 'straight') });
    let calls = 0;
    const i1 = await trainRun({ ...common, dir: join(root, 'intr'), shouldStop: () => ++calls >= 13 });
    expect(i1.stopped).toBe('interrupted');
    const mid = loadVaeCheckpoint(join(root, 'intr', 'checkpoint.safetensors'));
    expect(mid.trainer!.epoch).toBe(1);
    expect(mid.trainer!.batchInEpoch).toBeGreaterThan(0);
    const i2 = await trainRun({ ...common, dir: join(root, 'intr'), resume: true });
    expect(i2.stopped).toBe('done');
    const ws = s.model.getWeights();
    const wi = i2.model.getWeights();
    for (const [name, w] of ws) expect(Array.from(wi.get(name)!), name).toEqual(Array.from(w));
    for (const r of [s, i1, i2]) r.model.dispose();
    // Resuming on other data is refused, naming the checkpoint.
    const other = { ...data, x: Float32Array.from(x, (v) => 1 - v) };
    await expect(trainRun({ ...common, trainData: other, dir: join(root, 'intr'), resume: true })).rejects.toThrow(/checkpoint\.safetensors: was trained on other data/);
  });
});
