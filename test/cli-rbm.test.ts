import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { Rng } from '../src/core/rng.js';
import { readSpinText, writeSpinText } from '../src/data/index.js';
import { isBarsAndStripes, loadModel } from '../src/ebm/index.js';
import { loadEbmData } from '../src/ebm/data.js';
import { writeNpy } from '../src/io/npy.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-rbm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function captureStdout(): { text: () => string; restore: () => void } {
  let buf = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    buf += String(chunk);
    return true;
  });
  return { text: () => buf, restore: () => spy.mockRestore() };
}

describe('genphys rbm', () => {
  const run = join(root, 'bas');

  it('train on bars-and-stripes writes config, metrics, checkpoint, grids and curves', async () => {
    const out = captureStdout();
    const code = await main(['--seed', '3', '--quiet', '--out', run, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '16', '--method', 'pcd', '--k', '10', '--lr', '0.1', '--batch', '14', '--chains', '100', '--epochs', '5000', '--schedule', 'cosine', '--exact-every', '1000', '--grid-every', '0', '--save-every', '1000']);
    out.restore();
    expect(code).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.json', 'checkpoint.safetensors', 'chains.png', 'filters.png', 'curve-likelihood.svg', 'curve-reconstruction.svg'])
      expect(existsSync(join(run, f)), f).toBe(true);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.length).toBe(5000);
    expect(lines[4999]!.testLL).toBeGreaterThan(-Math.log(14) - 0.5);
    const { model, epoch } = loadModel(run);
    expect(epoch).toBe(5000);
    expect(model.nHidden).toBe(16);
  });

  it('eval --exact prints log Z and the exact distribution over visible states', async () => {
    const out = captureStdout();
    const code = await main(['rbm', 'eval', run, '--exact', '--top', '14']);
    out.restore();
    expect(code).toBe(0);
    const ev = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as { exactLogZ: number; distribution: Array<{ state: string; p: number }> };
    expect(Number.isFinite(ev.exactLogZ)).toBe(true);
    expect(ev.distribution.length).toBe(14);
    // A trained model puts most of its top mass on valid patterns.
    const valid = ev.distribution.filter((d) => isBarsAndStripes(Array.from(d.state, Number), 3));
    expect(valid.length).toBeGreaterThanOrEqual(10);
    expect(out.text()).toContain('most probable visible states');
  });

  it('eval --ais --reverse agrees with exact log Z', async () => {
    const out = captureStdout();
    const code = await main(['--quiet', 'rbm', 'eval', run, '--exact', '--ais', '--reverse', '--betas', '1000', '--runs', '50']);
    out.restore();
    expect(code).toBe(0);
    const ev = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as Record<string, number>;
    expect(Math.abs(ev.aisLogZ! - ev.exactLogZ!)).toBeLessThan(Math.max(0.1, 4 * ev.aisStdErr!));
    expect(Math.abs(ev.reverseAisLogZ! - ev.exactLogZ!)).toBeLessThan(Math.max(0.1, 4 * ev.reverseAisStdErr!));
  });

  it('sample writes a PNG grid and spin text', async () => {
    const grid = join(root, 'samples.png');
    const text = join(root, 'samples.txt');
    for (const sampler of ['gibbs', 'mh', 'pt']) {
      const out = captureStdout();
      const code = await main(['--quiet', 'rbm', 'sample', run, '--chains', '16', '--steps', '50', '--sampler', sampler, '--grid', grid, '--text', text]);
      out.restore();
      expect(code).toBe(0);
      expect(readFileSync(grid).subarray(1, 4).toString()).toBe('PNG');
      expect(readFileSync(text, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#')).length).toBe(16);
    }
  });

  it('SIGINT during training saves a checkpoint and exits cleanly', async () => {
    const dir = join(root, 'interrupted');
    const out = captureStdout();
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const pending = main(['--quiet', '--out', dir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--batch', '2', '--epochs', '1000000', '--exact-every', '0', '--grid-every', '0', '--save-every', '1000']);
    setTimeout(() => process.emit('SIGINT'), 1500);
    const code = await pending;
    out.restore();
    err.mockRestore();
    expect(code).toBe(0);
    const { epoch } = loadModel(dir);
    expect(epoch).toBeGreaterThan(0);
    expect(epoch).toBeLessThan(1000000);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });

  it('spin data trains a ±1 model whose samples are ±1 configurations; Gaussian visibles train too', async () => {
    const rng = new Rng(5);
    const L = 4;
    const spins = new Float32Array(300 * L * L).map(() => (rng.uniform() < 0.5 ? -1 : 1));
    const file = join(root, 'spins.txt');
    writeSpinText(file, spins, L * L, { convention: 'pm1' });
    const dir = join(root, 'spin-run');
    const out = captureStdout();
    expect(await main(['--quiet', '--out', dir, 'rbm', 'train', '--data', `spins:${file}`, '--hidden', '8', '--epochs', '3', '--batch', '50'])).toBe(0);
    const { model } = loadModel(dir);
    expect(model.visibleUnits).toBe('pm1');
    const text = join(root, 'spin-samples.txt');
    expect(await main(['--quiet', 'rbm', 'sample', dir, '--chains', '10', '--steps', '20', '--text', text])).toBe(0);
    const back = readSpinText(text);
    expect(back.convention).toBe('pm1');
    expect(back.n).toBe(10);
    expect(back.dim).toBe(L * L);
    const gdir = join(root, 'gauss-run');
    expect(await main(['--quiet', '--out', gdir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--visible', 'gaussian', '--hidden', '8', '--epochs', '20', '--batch', '14'])).toBe(0);
    out.restore();
    const g = loadModel(gdir).model;
    expect(g.visibleUnits).toBe('gaussian');
    for (const p of Object.values(g.params)) for (const x of p) expect(Number.isFinite(x)).toBe(true);
  });

  it('--average f trains the same run but keeps the tail average of the parameters', async () => {
    const args = (d: string, f: string) => ['--quiet', '--seed', '3', '--out', d, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '6', '--epochs', '4', '--batch', '7', '--average', f];
    const d0 = join(root, 'avg0');
    const d1 = join(root, 'avg1');
    expect(await main(args(d0, '0'))).toBe(0);
    expect(await main(args(d1, '0.5'))).toBe(0);
    expect(JSON.parse(readFileSync(join(d1, 'config.json'), 'utf8')).train.averaging).toBe(0.5);
    const w0 = loadModel(d0).model.params.W!;
    const w1 = loadModel(d1).model.params.W!;
    expect(w1).not.toEqual(w0);
    // The average of iterates that all lie near the last one stays close to it.
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < w0.length; i++) [diff, norm] = [diff + (w1[i]! - w0[i]!) ** 2, norm + w0[i]! ** 2];
    expect(Math.sqrt(diff / norm)).toBeLessThan(0.5);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(args(join(root, 'avg2'), '1.5'))).toBe(2);
    err.mockRestore();
  });

  it('spins:<file.npy> loads one temperature of an Ising dataset; a .npy that is not spins is a one-line error', () => {
    const file = join(root, 'ising.npy');
    const src = Int8Array.from({ length: 3 * 9 }, (_, k) => (k % 4 === 0 ? -1 : 1));
    writeNpy(file, src, [3, 3, 3]);
    const d = loadEbmData(`spins:${file}`);
    expect([d.nVisible, d.units, d.image]).toEqual([9, 'pm1', { height: 3, width: 3 }]);
    expect(Array.from(d.train)).toEqual(Array.from(src));
    expect(loadEbmData(`spins:${file}`, { limit: 2 }).train.length).toBe(18);
    const bad = join(root, 'bad.npy');
    writeNpy(bad, Int8Array.from([1, 0, -1, 1]), [1, 2, 2]);
    expect(() => loadEbmData(`spins:${bad}`)).toThrow(/bad\.npy: mixes 0 and −1 as spin down/);
    const grey = join(root, 'grey.npy');
    writeNpy(grey, Float32Array.from([1, 0.5, 0, 1]), [1, 2, 2]);
    expect(() => loadEbmData(`spins:${grey}`)).toThrow(/grey\.npy: value 0\.5 at flat index 1 is not a spin/);
    const empty = join(root, 'empty.npy');
    writeNpy(empty, new Int8Array(0), [0, 2, 2]);
    expect(() => loadEbmData(`spins:${empty}`)).toThrow(/empty\.npy: shape \[0, 2, 2\]: expected \[n, …\] with n ≥ 1/);
  });

  it('bad flags are usage errors (exit 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['rbm', 'train', '--data', 'nope', '--out', join(root, 'x')])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--lr', '-1'])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--method', 'xx'])).toBe(2);
    expect(await main(['rbm', 'eval', join(root, 'missing')])).toBe(2);
    err.mockRestore();
  });
});
