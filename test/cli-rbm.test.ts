import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { isBarsAndStripes, loadModel } from '../src/ebm/index.js';

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
    const code = await main(['--seed', '3', '--quiet', '--out', run, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '16', '--method', 'pcd', '--k', '5', '--lr', '0.1', '--batch', '14', '--chains', '100', '--epochs', '400', '--schedule', 'cosine', '--exact-every', '100', '--grid-every', '0']);
    out.restore();
    expect(code).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.json', 'checkpoint.safetensors', 'chains.png', 'filters.png', 'curve-likelihood.svg', 'curve-reconstruction.svg'])
      expect(existsSync(join(run, f)), f).toBe(true);
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.length).toBe(400);
    expect(lines[399]!.testLL).toBeGreaterThan(-Math.log(14) - 1.0);
    const { model, epoch } = loadModel(run);
    expect(epoch).toBe(400);
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
    const pending = main(['--quiet', '--out', dir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--batch', '2', '--epochs', '1000000', '--exact-every', '0', '--grid-every', '0']);
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

  it('bad flags are usage errors (exit 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['rbm', 'train', '--data', 'nope', '--out', join(root, 'x')])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--lr', '-1'])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--method', 'xx'])).toBe(2);
    expect(await main(['rbm', 'eval', join(root, 'missing')])).toBe(2);
    err.mockRestore();
  });
});
