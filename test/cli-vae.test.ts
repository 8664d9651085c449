import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { statSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { encodeIdx } from '../src/data/idx.js';
import { loadModel } from '../src/ebm/index.js';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import type { RunEvent } from '../src/run/events.js';
import { loadVaeCheckpoint } from '../src/vae/checkpoint.js';
import { PRESETS } from '../src/vae/presets.js';
import { trainRun } from '../src/vae/run.js';
import type { VaeData } from '../src/vae/train.js';
import { runCli } from './cli-helpers.js';
import { interruptWhenListening, snapshotDir, weightsFile } from './run-helpers.js';

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
    // Two checkpoints (last and best), each a manifest plus the one weights file it names.
    expect(readdirSync(a).sort()).toEqual(['best.json', weightsFile(a, 'best'), 'checkpoint.json', weightsFile(a), 'config.json', 'curve-loss.svg', 'metrics.jsonl', 'reconstruction.png', 'reconstruction.svg'].sort());
    // 80 examples in batches of 16: 5 steps per epoch, so the last checkpoint is step 10.
    expect(weightsFile(a)).toBe('checkpoint.w10.safetensors');
    expect(weightsFile(a, 'best')).toMatch(/^best\.w\d+(-\d+)?\.safetensors$/);
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
    const wa = loadVaeCheckpoint(join(a, 'checkpoint.json'));
    const wb = loadVaeCheckpoint(b);
    expect([wa.trainer!.epoch, wb.trainer!.epoch]).toEqual([2, 2]);
    expect(wb.trainer!.step).toBe(wa.trainer!.step);
    for (const [name, w] of wa.weights) expect(Array.from(wb.weights.get(name)!), name).toEqual(Array.from(w));
    for (const [name, w] of wa.trainer!.adamV) expect(Array.from(wb.trainer!.adamV.get(name)!), name).toEqual(Array.from(w));
    // The run's config.json, fed back with --config, repeats the run exactly.
    const c = join(root, 'runC');
    expect((await cli(['--quiet', '--out', c, '--backend', 'cpu', '--config', join(a, 'config.json')])).code).toBe(0);
    const wc = loadVaeCheckpoint(c);
    for (const [name, w] of wa.weights) expect(Array.from(wc.weights.get(name)!), name).toEqual(Array.from(w));
  });

  it('eval, plot and sample write their files; ELBO ≤ IWAE', async () => {
    const a = join(root, 'runA');
    const ev = await cli(['vae', 'eval', a, '--iwae', '20', '--limit', '12', '--backend', 'cpu', '--quiet']);
    expect(ev.code, ev.stderr).toBe(0);
    const r = Object.values(JSON.parse(readFileSync(join(a, 'eval.json'), 'utf8')) as Record<string, Record<string, number>>).at(-1)!;
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
    // The latent grid defaults to the prior's quantiles Φ⁻¹((i + ½)/n) (n = 5: ±1.28, ±0.52, 0)
    // and its SVG twin labels both axes with those z values.
    const grid = readFileSync(join(a, 'latent-grid.svg'), 'utf8');
    for (const z of ['-1.28', '0.00', '1.28']) expect(grid).toContain(`>${z === '0.00' ? '0' : z}<`);
    expect(grid).toContain('>z₁<');
    expect(grid).toContain("the prior's quantiles");
    // Training drew the loss curves and the reconstruction grid.
    expect(readFileSync(join(a, 'curve-loss.svg'), 'utf8')).toContain('KL(q(h|x) ‖ p(h))');
    expect(readFileSync(join(a, 'reconstruction.png')).subarray(1, 4).toString()).toBe('PNG');
    // Rows and columns that mean something are named.
    for (const [f, labels] of [['reconstruction.svg', ['>input<', '>reconstruction<']], ['recon.svg', ['>input<', '>reconstruction<']], ['interp.svg', ['>x_0<', '>x_1<', '>0.00<', '>1.00<', '>t<']]] as const) {
      const svg = readFileSync(join(a, f), 'utf8');
      for (const l of labels) expect(svg, `${f} ${l}`).toContain(l);
      expect(svg).toContain('data:image/png;base64,iVBOR');
    }
    // --out naming a file writes that file (and its labelled twin), not a directory of that name.
    const named = join(root, 'pics', 'my-recon.png');
    mkdirSync(join(root, 'pics'), { recursive: true });
    const rp = await cli(['--out', named, 'vae', 'plot', a, 'recon', '--n', '3', '--backend', 'cpu']);
    expect(rp.code, rp.stderr).toBe(0);
    expect(statSync(named).isFile()).toBe(true);
    expect(readFileSync(join(root, 'pics', 'my-recon.svg'), 'utf8')).toContain('>reconstruction<');
    expect(rp.stdout).toContain(`wrote ${named} and ${join(root, 'pics', 'my-recon.svg')}`);
    const wrong = await cli(['--out', join(root, 'pics', 'c.png'), 'vae', 'plot', a, 'clusters', '--backend', 'cpu']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/'clusters' is drawn as \.svg/);
    expect(existsSync(join(root, 'pics', 'c.png'))).toBe(false);
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
    // The weights file the manifest names, the old-style <name>.safetensors and the manifest all resolve to it.
    for (const f of [join(root, weightsFile(root, 'rbm')), join(root, 'rbm.safetensors'), join(root, 'rbm.json')]) {
      const res = await cli(['vae', 'sample', root, '--checkpoint', f, '--backend', 'cpu', '--quiet', '--out', join(root, 'never')]);
      expect(res.code, f).toBe(1);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toMatch(/rbm\.json: checkpoint is a 'rbm' model, expected 'vae'/);
      expect(existsSync(join(root, 'never'))).toBe(false);
    }
  });

  it('SIGINT during training saves a resumable checkpoint and exits 130 with a one-line note; the resume finishes the run', async () => {
    const out = join(root, 'sigint');
    const args = ['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--seed', '6', '--out', out];
    const listeners = process.listenerCount('SIGINT');
    const cancel = interruptWhenListening(listeners, 50);
    const res = await cli([...args, '--epochs', '100000']);
    cancel();
    expect(res.code, res.stderr).toBe(130);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
    const last = res.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/^genphys: interrupted after \d+ complete epochs \(step \d+\); checkpoint saved in .*; continue with --resume --out /);
    expect(last).toContain(out);
    const ck = loadVaeCheckpoint(join(out, 'checkpoint.json'));
    expect(ck.trainer!.epoch).toBeLessThan(100000);
    expect(ck.trainer!.step).toBeGreaterThan(0);
    expect(last).toContain(`interrupted after ${ck.trainer!.epoch} complete epochs (step ${ck.trainer!.step})`);
    // --epochs (the total) lowered to one more than done: the resume finishes, exit 0.
    const total = ck.trainer!.epoch + 1;
    const r2 = await cli([...args, '--resume', '--epochs', String(total), '--quiet']);
    expect(r2.code, r2.stderr).toBe(0);
    const done = loadVaeCheckpoint(out);
    expect(done.trainer!.epoch).toBe(total);
    expect(done.trainer!.step).toBe(5 * total);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(total);
  });

  it('a resume with a conflicting flag, a taken directory and a VAE resume into an RBM run are errors that change nothing; --force replaces', async () => {
    const dir = join(root, 'taken');
    const base = ['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--quiet', '--out', dir];
    expect((await cli([...base, '--epochs', '1'])).code).toBe(0);
    const before = snapshotDir(dir);
    const conflict = await cli([...base, '--epochs', '2', '--resume', '--latent', '3']);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
    expect(conflict.stderr.trim()).toBe(`genphys: --resume: --latent 3 conflicts with the run in ${dir}, which was started with --latent 2; drop the flag or train into a new --out`);
    const lr = await cli([...base, '--resume', '--lr', '0.5']);
    expect(lr.code).toBe(2);
    expect(lr.stderr).toMatch(/--lr 0\.5 conflicts with the run in .*, which was started with --lr 0\.001/);
    const taken = await cli([...base, '--epochs', '1']);
    expect(taken.code).toBe(2);
    expect(taken.stderr.trim()).toBe(`genphys: --out: ${dir} already exists and is not empty; pass --resume to continue the run in it or --force to replace it`);
    expect(snapshotDir(dir)).toEqual(before);
    // --force starts over: a 3-dimensional latent now, one epoch, one metrics line.
    const forced = await cli([...base, '--epochs', '1', '--latent', '3', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const ck = loadVaeCheckpoint(dir);
    expect([ck.meta.model.latent, ck.trainer!.epoch]).toEqual([3, 1]);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);

    // An RBM run is not a VAE run: refused before anything is written, and it still loads.
    const rbm = join(root, 'an-rbm-run');
    const r = await cli(['--quiet', '--out', rbm, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--epochs', '2']);
    expect(r.code, r.stderr).toBe(0);
    const rbmBefore = snapshotDir(rbm);
    const v = await cli(['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--quiet', '--out', rbm, '--resume']);
    expect(v.code).toBe(2);
    expect(v.stderr.trim().split('\n')).toHaveLength(1);
    expect(v.stderr).toContain(`--resume: ${rbm} is a 'rbm train' run, not 'vae train'`);
    expect(snapshotDir(rbm)).toEqual(rbmBefore);
    expect(loadModel(rbm).epoch).toBe(2);
    expect(() => loadVaeCheckpoint(rbm)).toThrow(/checkpoint is a 'rbm' model, expected 'vae'/);
  });

  it('a run killed after writing config.json but before its first checkpoint resumes by starting over', async () => {
    const a = join(root, 'early-straight');
    const k = join(root, 'killed-early');
    const base = ['vae', 'train', ...small, '--data', 'mnist', '--data-dir', root, '--quiet', '--seed', '3'];
    expect((await cli([...base, '--epochs', '2', '--out', a])).code).toBe(0);
    expect((await cli([...base, '--epochs', '2', '--out', k])).code).toBe(0);
    for (const f of readdirSync(k)) if (f !== 'config.json') rmSync(join(k, f));
    writeFileSync(join(k, 'metrics.jsonl'), '{"epoch": 1, "tr');
    const r = await cli([...base, '--out', k, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const wa = loadVaeCheckpoint(a);
    const wk = loadVaeCheckpoint(k);
    expect([wk.trainer!.epoch, wk.trainer!.step]).toEqual([2, wa.trainer!.step]);
    for (const [name, w] of wa.weights) expect(Array.from(wk.weights.get(name)!), name).toEqual(Array.from(w));
    expect(readFileSync(join(k, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch)).toEqual([1, 2]);
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
  it('an abort mid-epoch saves a resumable checkpoint; resuming gives the straight run bit for bit', async () => {
    const rng = new Rng(8);
    const x = new Float32Array(100 * 36);
    rng.fillUniform(x);
    const data: VaeData = { n: 100, dim: 36, x };
    const model = { ...PRESETS['ising-mlp']!.model, inputShape: [6, 6, 1] as const, arch: { kind: 'mlp' as const, hidden: [8], activation: 'tanh' as const } };
    const train = { ...PRESETS['ising-mlp']!.train, epochs: 2, batchSize: 10, binarize: 'dynamic' as const };
    const config = { command: 'vae train', note: 'library run', model, train };
    const common = { preset: null, model, train, seed: 5, trainData: data, valData: null, dataName: 'synthetic', config };
    const s = await trainRun({ ...common, dir: join(root, 'straight') });
    expect([s.stopped, s.epochs, s.step]).toEqual(['done', 2, 20]);
    expect(JSON.parse(readFileSync(join(root, 'straight', 'config.json'), 'utf8'))).toMatchObject(config); // plus what the run layer records (seed, preset, model, train)
    // 10 batches per epoch: abort after batch 3 of epoch 2, i.e. after step 13.
    const ac = new AbortController();
    const batches: Array<[number, number]> = [];
    const i1 = await trainRun({
      ...common,
      dir: join(root, 'intr'),
      signal: ac.signal,
      onEvent: (e: RunEvent) => {
        if (e.type !== 'batch') return;
        batches.push([e.epoch, e.batch]);
        if (batches.length === 13) ac.abort();
      },
    });
    expect([i1.stopped, i1.epochs, i1.step]).toEqual(['interrupted', 1, 13]);
    expect(batches.at(-1)).toEqual([2, 3]);
    const mid = loadVaeCheckpoint(join(root, 'intr', 'checkpoint.json'));
    expect([mid.trainer!.epoch, mid.trainer!.batchInEpoch, mid.trainer!.step]).toEqual([1, 3, 13]);
    expect(weightsFile(join(root, 'intr'))).toBe('checkpoint.w13.safetensors');
    const i2 = await trainRun({ ...common, dir: join(root, 'intr'), resume: true });
    expect([i2.stopped, i2.epochs, i2.step]).toEqual(['done', 2, 20]);
    const ws = s.model.getWeights();
    const wi = i2.model.getWeights();
    for (const [name, w] of ws) expect(Array.from(wi.get(name)!), name).toEqual(Array.from(w));
    for (const r of [s, i1, i2]) r.model.dispose();
    // Resuming on other data is refused, naming the checkpoint, and changes nothing.
    const before = snapshotDir(join(root, 'intr'));
    const other = { ...data, x: Float32Array.from(x, (v) => 1 - v) };
    await expect(trainRun({ ...common, trainData: other, dir: join(root, 'intr'), resume: true })).rejects.toThrow(/checkpoint\.json: was trained on other data/);
    expect(snapshotDir(join(root, 'intr'))).toEqual(before);
  });
});
