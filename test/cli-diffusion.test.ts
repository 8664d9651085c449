/**
 * `genphys diffusion train|sample|eval` end to end on tiny data (images in IDX files,
 * a 2D toy, an Ising data set), Ctrl-C → exit 130 and resume, and bad input: one-line
 * errors naming the flag, exit 2 (usage) or 1, nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Rng } from '../src/core/rng.js';
import { encodeIdx } from '../src/data/idx.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { runCli } from './cli-helpers.js';
import { interruptWhenListening, snapshotDir } from './run-helpers.js';

let root: string;

/** Tiny MNIST-format images: bright discs at random places, `side`×`side`. */
function writeIdxData(dir: string, nTrain: number, nTest: number, side: number): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(77);
  for (const [prefix, n] of [
    ['train', nTrain],
    ['t10k', nTest],
  ] as const) {
    const px = new Uint8Array(n * side * side);
    for (let i = 0; i < n; i++) {
      const cr = 3 + rng.int(side - 6);
      const cc = 3 + rng.int(side - 6);
      for (let r = 0; r < side; r++) for (let c = 0; c < side; c++) px[i * side * side + r * side + c] = (r - cr) ** 2 + (c - cc) ** 2 < 6 ? 255 : 0;
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), encodeIdx({ dtype: 'uint8', dims: [n, side, side], data: px }));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx({ dtype: 'uint8', dims: [n], data: new Uint8Array(n) }));
  }
}

async function cli(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const r = await runCli(args);
  return { code: r.code, stderr: r.err, stdout: r.out };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'genphys-cli-diffusion-'));
  writeIdxData(join(root, 'img16'), 24, 24, 16);
  writeIdxData(join(root, 'img18'), 8, 4, 18);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const toyTrain = ['diffusion', 'train', '--data', 'toy:ring8:256', '--T', '50', '--lr', '1e-3', '--batch', '64', '--sample-steps', '5', '--quiet'];

describe('genphys diffusion on images', () => {
  it('train (small-unet on 16×16), sample with a strip, eval: files and reports', async () => {
    const out = join(root, 'img-run');
    const tr = await cli(['diffusion', 'train', '--data', 'mnist', '--data-dir', join(root, 'img16'), '--T', '50', '--epochs', '1', '--batch', '12', '--sample-steps', '3', '--quiet', '--out', out]);
    expect(tr.code, tr.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { arch: string; network: { unet: { size: number[] } }; sqrtAlphaBarT: number };
    expect(cfg.arch).toBe('small-unet');
    expect(cfg.network.unet.size).toEqual([16, 16]);
    expect(loadCheckpoint(out, { kind: 'diffusion', allowExtra: true }).step).toBe(2);
    const grid = PNG.sync.read(readFileSync(join(out, 'samples.png')));
    // 64 tiles of 16 px in an 8×8 grid with 2 px padding: 8·16 + 9·2 = 146.
    expect([grid.width, grid.height]).toEqual([146, 146]);
    const g = join(root, 'g.png');
    const s = join(root, 's.png');
    const sm = await cli(['diffusion', 'sample', out, '--sampler', 'ddim', '--steps', '4', '--eta', '0.5', '--n', '5', '--grid', g, '--strip', s, '--frames', '4', '--quiet']);
    expect(sm.code, sm.stderr).toBe(0);
    const strip = PNG.sync.read(readFileSync(s));
    // 5 rows (samples) × 4 frames: width 4·16 + 5·2 = 74, height 5·16 + 6·2 = 92.
    expect([strip.width, strip.height]).toEqual([74, 92]);
    // Fewer than 20 images is refused before any sampling, in one line.
    const few = await cli(['diffusion', 'eval', out, '--n', '12', '--steps', '3', '--quiet']);
    expect(few.code).toBe(2);
    expect(few.stderr.trim()).toBe('genphys: --n: image metrics need at least 20 samples, got 12');
    const ev = await cli(['diffusion', 'eval', out, '--n', '20', '--steps', '3', '--json', join(root, 'ev.json'), '--quiet']);
    expect(ev.code, ev.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(root, 'ev.json'), 'utf8')) as Record<string, unknown>;
    expect(rep.kind).toBe('image');
    // The report of gan eval and classifier score (src/metrics/image-score.ts).
    expect(Object.keys(rep)).toEqual(expect.arrayContaining(['mmd', 'kid', 'precision', 'recall', 'fd']));
    expect(rep.fd).toEqual({ available: false, reason: 'FD-LeNet is unavailable: LeNet features need 28×28 grey images' });
    expect((rep.kid as { features: string }).features).toBe('pixels');
  });
});

describe('genphys diffusion on a toy and on Ising spins', () => {
  it('toy: train, sample an SVG, eval reports mode coverage, KL/JS and MMD', async () => {
    const out = join(root, 'toy-run');
    expect((await cli([...toyTrain, '--epochs', '2', '--out', out])).code).toBe(0);
    expect(readFileSync(join(out, 'samples.svg'), 'utf8')).toMatch(/^<svg/);
    const sv = join(root, 'toy.svg');
    expect((await cli(['diffusion', 'sample', out, '--sampler', 'ddpm', '--n', '50', '--grid', sv, '--quiet'])).code).toBe(0);
    expect(existsSync(sv)).toBe(true);
    const ev = await cli(['diffusion', 'eval', out, '--n', '200', '--json', join(root, 'toy.json'), '--quiet']);
    expect(ev.code, ev.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(root, 'toy.json'), 'utf8')) as { nModes: number; modesCovered: number; kl: number; js: number; mmd: { value: number; baseline: number } };
    expect(rep.nModes).toBe(8);
    expect(rep.modesCovered).toBeGreaterThanOrEqual(0);
    expect(rep.js).toBeGreaterThanOrEqual(0);
    expect(rep.js).toBeLessThanOrEqual(Math.log(2) + 1e-12);
    expect(Number.isFinite(rep.mmd.value) && Number.isFinite(rep.mmd.baseline)).toBe(true);
  });

  it('ising: ising-unet on an 8×8 data set, eval compares e, |m|, C, χ with the Monte Carlo values', async () => {
    const ds = join(root, 'ising-ds');
    const gen = await cli(['ising', 'sample', '--L', '8', '--temps', '2.5', '--n', '64', '--burn-in', '50', '--sweeps-between', '2', '--chains', '2', '--workers', '0', '--quiet', '--out', ds]);
    expect(gen.code, gen.stderr).toBe(0);
    const out = join(root, 'ising-run');
    const tr = await cli(['diffusion', 'train', '--data', `ising:${ds}:2.5`, '--T', '50', '--epochs', '1', '--batch', '32', '--sample-steps', '3', '--quiet', '--out', out]);
    expect(tr.code, tr.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).arch).toBe('ising-unet');
    const ev = await cli(['diffusion', 'eval', out, '--n', '40', '--steps', '3', '--json', join(root, 'is.json'), '--quiet']);
    expect(ev.code, ev.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(root, 'is.json'), 'utf8')) as { model: Record<string, { value: number; error: number }>; mc: Record<string, { value: number }>; z: Record<string, number> };
    for (const k of ['energy', 'absMagnetisation', 'specificHeat', 'susceptibility']) {
      expect(Number.isFinite(rep.model[k]!.value) && rep.model[k]!.error >= 0, k).toBe(true);
      expect(typeof rep.mc[k]!.value).toBe('number');
    }
    // Energies per site of ±1 spins on the square lattice lie in [−2, 2].
    expect(Math.abs(rep.model.energy!.value)).toBeLessThanOrEqual(2);
  });
});

describe('Ctrl-C and resume', () => {
  it('SIGINT saves a checkpoint and exits 130 with a one-line note; --resume finishes the run', async () => {
    const out = join(root, 'sigint');
    const listeners = process.listenerCount('SIGINT');
    const cancel = interruptWhenListening(listeners, 50);
    const res = await cli([...toyTrain, '--epochs', '100000', '--sample-every', '0', '--out', out]);
    cancel();
    expect(res.code, res.stderr).toBe(130);
    const last = res.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/^genphys: interrupted after \d+ complete epochs \(step \d+\); checkpoint saved in .*; continue with --resume --out /);
    const ck = loadCheckpoint(out, { kind: 'diffusion', allowExtra: true });
    const total = ck.epoch + 1;
    const r2 = await cli([...toyTrain, '--resume', '--epochs', String(total), '--sample-every', '0', '--out', out]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(loadCheckpoint(out, { kind: 'diffusion', allowExtra: true }).step).toBe(4 * total);
  });
});

describe('bad input: one line naming the flag, nothing written', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['T < 1', [...toyTrain, '--T', '0'], 2, /--T <n>.*'0' is invalid/],
    ['sample steps > T', [...toyTrain, '--sample-steps', '60'], 2, /--sample-steps: must be at most --T \(50\), got 60/],
    ['EMA decay 1', [...toyTrain, '--ema', '1'], 2, /--ema <d>.*'1' is invalid/],
    ['a linear schedule whose scaled β reaches 1', [...toyTrain, '--T', '20'], 2, /--T 20 with --schedule linear: noise schedule: β_20 = 1 is outside \(0, 1\)/],
    ['unknown toy', ['diffusion', 'train', '--data', 'toy:blob', '--quiet'], 2, /--data 'toy:blob': unknown toy 'blob'/],
    ['a U-Net on 2D points', [...toyTrain, '--arch', 'small-unet'], 2, /--arch small-unet: a U-Net needs images or lattices/],
  ];
  for (const [name, args, code, msg] of cases) {
    it(name, async () => {
      const out = join(root, `bad-${name.replace(/\W+/g, '-')}`);
      const r = await cli([...args, '--out', out]);
      expect(r.code, r.stderr).toBe(code);
      // One error line (commander may add its '(add --help for usage)' hint after it).
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(add --help'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(msg);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('an image size the U-Net cannot halve twice (18×18)', async () => {
    const out = join(root, 'bad-size');
    const r = await cli(['diffusion', 'train', '--data', 'mnist', '--data-dir', join(root, 'img18'), '--quiet', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/U-Net: image size 18×18 does not fit: both sides must be multiples of 4/);
    expect(existsSync(out)).toBe(false);
  });

  it('sample/eval: steps > T, η outside [0, 1], n < 1 are refused and write nothing', async () => {
    const out = join(root, 'toy-for-bad');
    expect((await cli([...toyTrain, '--epochs', '1', '--out', out])).code).toBe(0);
    const before = snapshotDir(out);
    const g = join(root, 'never.svg');
    const bad: Array<[string[], number, RegExp]> = [
      [['diffusion', 'sample', out, '--steps', '51', '--grid', g], 2, /--steps: must be an integer in 1…T = 50, got 51/],
      [['diffusion', 'sample', out, '--eta', '1.5', '--grid', g], 2, /--eta <x>.*'1.5' is invalid/],
      [['diffusion', 'sample', out, '--n', '0', '--grid', g], 2, /--n <n>.*'0' is invalid/],
      [['diffusion', 'eval', out, '--steps', '60', '--json', g], 2, /--steps: must be an integer in 1…T = 50, got 60/],
      [['diffusion', 'sample', out, '--strip', join(root, 'never2.png'), '--grid', g], 2, /--strip: the run in .* holds 2D points/],
    ];
    for (const [args, code, msg] of bad) {
      const r = await cli([...args, '--quiet']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('(add --help'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(msg);
    }
    expect(existsSync(g)).toBe(false);
    expect(existsSync(join(root, 'never2.png'))).toBe(false);
    expect(snapshotDir(out)).toEqual(before);
  });
});
