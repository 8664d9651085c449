/**
 * `genphys gan train|sample|eval` in-process: train → sample → eval on a 2D toy and on
 * Ising spins, resume, and bad flags (exit 2, one line, nothing written).
 */
import { evalReportLines } from '../src/metrics/report-text.js';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { overridesFromFlags } from '../src/cli/gan.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-cli-gan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (tag: string) => join(root, `${tag}-${counter++}`);

describe('gan train → sample → eval (toy)', () => {
  it('trains, resumes to a higher --epochs, samples a scatter plot, records an evaluation', async () => {
    const dir = fresh('toy');
    const t = await runCli(['--seed', '3', '--quiet', '--out', dir, 'gan', 'train', '--data', 'toy:ring8:400', '--epochs', '1', '--batch', '64', '--ema', '0.9']);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const r = await runCli(['--quiet', '--out', dir, 'gan', 'train', '--resume', '--epochs', '2']);
    expect(r.code).toBe(0);
    const rows = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(2);
    const c = await runCli(['--quiet', '--out', dir, 'gan', 'train', '--resume', '--batch', '32']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/^genphys: --resume: --batch 32 conflicts with the run in .*, which was started with --batch 64; drop the flag or train into a new --out\n$/);
    const grid = join(root, 'toy-samples.svg');
    const s = await runCli(['--seed', '1', 'gan', 'sample', dir, '--n', '200', '--grid', grid]);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/wrote .*toy-samples\.svg \(200 samples, EMA generator, epoch 2\)/);
    expect(readFileSync(grid, 'utf8')).toMatch(/^<svg/);
    // A --json path that cannot be written is refused before anything is evaluated or recorded.
    const badJson = await runCli(['gan', 'eval', dir, '--json', join(dir, 'config.json', 'e.json')]);
    expect(badJson.code).not.toBe(0);
    expect(badJson.err).toMatch(/^genphys: --json: .*config\.json is a file, so .* cannot be created under it\n$/);
    expect(existsSync(join(dir, 'eval.json'))).toBe(false);
    const ej = join(root, 'toy-eval.json');
    const e = await runCli(['--seed', '1', 'gan', 'eval', dir, '--n', '300', '--json', ej]);
    expect(e.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    const [key] = Object.keys(doc);
    expect(key).toMatch(/^toy \d{4}-\d\d-\d\dT/);
    expect(doc[key!]!.generator).toBe('EMA (decay 0.9)');
    // --json holds the recorded report; stdout shows it as text.
    expect(JSON.parse(readFileSync(ej, 'utf8'))).toEqual(doc[key!]);
    expect(e.out).toBe(`${evalReportLines(doc[key!]!).join('\n')}\nrecorded in ${join(dir, 'eval.json')} as '${key}' and written to ${ej}\n`);
    expect(e.out).toMatch(/^ {2}modes covered +\d\.\d+ ± \d(\.\d+)? of 8$/m);
    const e2 = await runCli(['--seed', '2', '--quiet', 'gan', 'eval', dir, '--n', '300', '--raw']);
    expect(e2.code).toBe(0);
    const doc2 = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(doc2)).toHaveLength(2);
    expect(Object.values(doc2)[1]!.generator).toBe('trained weights');
  }, 60000);
});

describe('gan on Ising spins', () => {
  it('trains on one temperature and compares e, |m|, C, χ with the Monte Carlo values', async () => {
    const data = fresh('ising-data');
    const mk = await runCli(['--seed', '3', '--quiet', '--out', data, 'ising', 'sample', '--L', '4', '--temps', '2.0,3.0', '--n', '200', '--algo', 'metropolis', '--sweeps-between', '2', '--burn-in', '50', '--chains', '2', '--workers', '0']);
    expect(mk.code).toBe(0);
    const dir = fresh('ising');
    const over = JSON.stringify({ model: { dataShape: [4, 4, 1], noiseDim: 8, generator: { output: 'tanh' } } });
    const amb = await runCli(['--quiet', '--out', dir, 'gan', 'train', '--data', `ising:${data}`, '--epochs', '1', '--batch', '32', '--override', over]);
    expect(amb.code).toBe(2);
    expect(amb.err).toMatch(/holds 2 temperatures \(2, 3\); pick one with ising:<dir>:<T>/);
    expect(existsSync(dir)).toBe(false);
    const t = await runCli(['--quiet', '--out', dir, 'gan', 'train', '--data', `ising:${data}:2`, '--epochs', '2', '--batch', '32', '--override', over]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const e = await runCli(['--quiet', 'gan', 'eval', dir, '--n', '200']);
    expect(e.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, Record<string, { gan: { value: number; se: number }; mc: { value: number; se: number }; z: number }>>;
    const res = Object.values(doc)[0]!;
    for (const k of ['energy', 'absMagnetisation', 'specificHeat', 'susceptibility']) {
      const o = res[k]!;
      expect(Number.isFinite(o.gan.value) && o.gan.se >= 0 && o.mc.se > 0).toBe(true);
      expect(o.z).toBeCloseTo((o.gan.value - o.mc.value) / Math.hypot(o.gan.se, o.mc.se), 10);
    }
    // Signed spins on a 4×4 torus: −2 ≤ e ≤ 2 and 0 ≤ |m| ≤ 1.
    expect(Math.abs(res.energy!.gan.value)).toBeLessThanOrEqual(2);
    expect(res.absMagnetisation!.gan.value).toBeGreaterThanOrEqual(0);
    const grid = join(root, 'ising.png');
    expect((await runCli(['--quiet', 'gan', 'sample', dir, '--n', '16', '--grid', grid])).code).toBe(0);
    expect(readFileSync(grid).subarray(1, 4).toString()).toBe('PNG');
  }, 60000);
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const haveFashion = existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'));
if (!haveFashion) console.warn(`cli-gan: image test skipped (no Fashion-MNIST in ${FASHION})`);

describe.skipIf(!haveFashion)('gan on Fashion-MNIST (course-mlp layers, small widths)', () => {
  it('trains on [−1, 1] pixels, writes a sample grid, reports MMD vs baseline, KID, precision/recall and FD (or why not)', async () => {
    const dir = fresh('fashion');
    const over = JSON.stringify({ model: { generator: { hidden: [32, 64] }, discriminator: { hidden: [64, 32] } } });
    const t = await runCli(['--quiet', '--out', dir, 'gan', 'train', '--data', 'fashion-mnist', '--data-dir', FASHION, '--limit', '256', '--preset', 'course-mlp', '--epochs', '1', '--override', over]);
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    expect(readdirSync(dir)).toContain('samples-epoch-001.png');
    const e = await runCli(['--quiet', 'gan', 'eval', dir, '--n', '100', '--permutations', '20']);
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    const r = Object.values(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>)[0]!;
    expect(r.method as unknown).toBe('images');
    const mmd = r.mmd as { sqrtMmd2: number; baselineSqrtMmd2: number; pValue: number; permutations: number };
    // One epoch of a tiny GAN is far from the data: above the real-vs-real level, p at its floor 1/21.
    expect(mmd.sqrtMmd2).toBeGreaterThan(mmd.baselineSqrtMmd2);
    expect(mmd.pValue).toBeCloseTo(1 / 21, 12);
    for (const k of ['precision', 'recall']) expect((r[k] as { value: number }).value).toBeGreaterThanOrEqual(0);
    const fd = r.fd as { available?: boolean; reason?: string; value?: number; se?: number };
    if (fd.available === false) expect(fd.reason).toMatch(/^FD-LeNet is unavailable: /);
    else expect(Number.isFinite(fd.value) && fd.se! >= 0).toBe(true);
  }, 60000);
});

describe('bad flags: one line (plus commander’s help hint), nothing written', () => {
  // Exit 2 for usage errors, 1 for data that do not fit (ShapeError).
  const cases: Array<[string, string[], RegExp, number?]> = [
    ['unknown preset', ['--preset', 'stylegan'], /--preset.*expected one of course-mlp, keras-dcgan, toy-mlp, got 'stylegan'/],
    ['unknown loss', ['--loss', 'hinge'], /--loss.*expected one of ns, minimax, lsgan, wgan-gp, got 'hinge'/],
    ['n_critic < 1', ['--n-critic', '0'], /--n-critic.*must be between 1 and/],
    ['wrong data shape for the preset', ['--preset', 'keras-dcgan'], /^genphys: toy:ring8:300: examples are 1×1×2 = 2 values, the GAN expects 28×28×1 = 784\n$/, 1],
    ['unknown data spec', ['--data', 'celeba'], /^genphys: --data: unknown data spec 'celeba'/],
    ['bad override JSON', ['--override', '{model:'], /^genphys: --override: not valid JSON/],
    ['unknown override field', ['--override', '{"model":{"width":3}}'], /^genphys: model\.width: unknown setting/],
  ];
  for (const [name, extra, msg, code] of cases) {
    it(name, async () => {
      const dir = fresh('bad');
      const args = ['--quiet', '--out', dir, 'gan', 'train', '--data', 'toy:ring8:300', ...extra];
      const r = await runCli(args);
      expect(r.code).toBe(code ?? 2);
      expect(r.err).toMatch(msg);
      expect(r.err.trim().split('\n').filter((l) => l !== '(add --help for usage)')).toHaveLength(1);
      expect(existsSync(dir)).toBe(false);
    });
  }
  it('--loss wgan-gp brings 5 critic steps unless --n-critic says otherwise', () => {
    expect(overridesFromFlags({ loss: 'wgan-gp' }).train?.nCritic).toBe(5);
    expect(overridesFromFlags({ loss: 'wgan-gp', nCritic: 2 }).train?.nCritic).toBe(2);
    expect(overridesFromFlags({ loss: 'ns' }).train?.nCritic).toBeUndefined();
    expect(overridesFromFlags({ spectralNorm: true, override: '{"model":{"noiseDim":4}}' }).model).toEqual({ noiseDim: 4, discriminator: { spectralNorm: true } });
  });
  it('sample and eval of a directory that is not a run', async () => {
    const dir = fresh('empty');
    const r = await runCli(['gan', 'sample', dir, '--grid', join(root, 'x.png')]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/not a run directory \(no config\.json\)/);
    const e = await runCli(['gan', 'eval', dir]);
    expect(e.err).toMatch(/not a run directory/);
    expect(readdirSync(root)).not.toContain('x.png');
  });
});
