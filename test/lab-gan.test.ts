/**
 * The lab's GAN panel in headless Chromium (backend pinned to wasm): one step-mode round
 * takes exactly k_D discriminator and k_G generator steps; playing on ring8 drives the
 * MMD² to the true distribution down by many standard errors; the exported settings run
 * unchanged through `genphys --config` in-process and its first epoch reproduces the
 * panel's first-epoch losses (same data, initial weights and random streams); the
 * panel's checkpoint button exports the run folder the CLI writes (config.json and the
 * checkpoint byte for byte at the end of an epoch), `gan train --resume` finishes a
 * mid-epoch export to the CLI's own epoch exactly, and `gan sample`/`gan eval` open the
 * trained export, whose generator is the panel's; the curves CSV holds the loss history;
 * the Fashion-MNIST mode trains the MLP preset on a server subset, and MNIST (absent
 * here) shows the server's message. Without a browser: the exported flags resolve to
 * the engine's overrides key for key.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overridesFromFlags } from '../src/cli/gan.js';
import { Rng } from '../src/core/rng.js';
import { loadGanRun } from '../src/gan/run.js';
import { ganCliConfig, ganRecipe } from '../lab/src/gan-config.js';
import type { Settings } from '../lab/src/protocol.js';
import { runCli } from './cli-helpers.js';
import { haveChromium, inputLatencies, labSession, lastSnapshot, screenshot, waitForSnapshot, type LabSession, downloads } from './lab-helpers.js';

interface Score {
  step: number;
  mmd2: number;
  se: number;
  modesCovered?: number;
}
interface GanSnap {
  kind: string;
  rounds: number;
  dSteps: number;
  gSteps: number;
  epoch: number;
  unavailable?: string;
  history: { t: Record<string, number>; lossD: Record<string, number>; lossG: Record<string, number> };
  score: Score | null;
  initialScore: Score | null;
  images?: unknown;
  gen?: Record<string, number>;
}

const arr = (a: Record<string, number>): number[] => Object.values(a);

/** Step-mode rounds until the snapshot shows `rounds`. */
async function stepTo(page: Page, rounds: number): Promise<void> {
  const now = (await lastSnapshot<GanSnap>(page))!.snapshot.rounds;
  for (let k = now; k < rounds; k++) await page.click('[data-testid=step]');
  await waitForSnapshot(page, `(l) => l.snapshot.rounds >= ${rounds}`);
}

interface ToyEval {
  modesCovered: { value: number; se: number };
  highQualityFraction: { value: number; se: number };
  kl: { value: number; se: number };
}

/** `genphys gan eval DIR` on a toy run: its eval.json entry. */
async function evalToy(dir: string): Promise<ToyEval> {
  const r = await runCli(['gan', 'eval', dir, '--n', '2000', '--backend', 'wasm', '--quiet']);
  expect(r.code, r.err).toBe(0);
  return Object.values(JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')) as Record<string, ToyEval>)[0]!;
}

/** A checkpoint JSON's fields other than its creation time. */
const manifest = (path: string): Record<string, unknown> => {
  const { created: _c, ...rest } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return rest;
};

describe('lab GAN settings', () => {
  it('export flags that `gan train` resolves to the engine’s own overrides, key for key', () => {
    const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const cases: Settings[] = [
      { data: 'ring8', n: 2048, seed: 3 },
      { data: 'moons', n: 512, loss: 'wgan-gp', kD: 5, batch: 64, lrG: 2e-4, lrD: 5e-4, layers: 2, width: 32, spectralNorm: true, epochs: 7 },
      { data: 'fashion-mnist', n: 512, loss: 'lsgan', spectralNorm: true },
      { data: 'mnist', n: 100 },
    ];
    for (const s of cases) {
      const flags = Object.fromEntries(Object.entries(ganCliConfig(s).flags).map(([k, v]) => [camel(k), v]));
      // The same object in the same key order: config.json is the same text on both sides.
      expect(JSON.stringify(overridesFromFlags(flags))).toBe(JSON.stringify(ganRecipe(s).overrides));
    }
  });
});

describe.skipIf(!haveChromium)('lab: GAN panel', () => {
  let lab: LabSession;
  beforeAll(async () => {
    lab = await labSession();
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('takes exactly k_D D steps and k_G G steps in one step-mode round', async () => {
    const page = await lab.open('#panel=gan&backend=wasm&data=moons&n=512&kD=3&kG=2&seed=4');
    expect(await page.getAttribute('[data-testid=backend]', 'data-backend')).toBe('wasm');
    const s0 = (await lastSnapshot<GanSnap>(page))!.snapshot;
    expect([s0.rounds, s0.dSteps, s0.gSteps]).toEqual([0, 0, 0]);
    await page.click('[data-testid=step]');
    await waitForSnapshot(page, '(l) => l.snapshot.rounds >= 1');
    await page.waitForTimeout(300);
    const s1 = (await lastSnapshot<GanSnap>(page))!.snapshot;
    expect([s1.rounds, s1.dSteps, s1.gSteps]).toEqual([1, 3, 2]);
    await page.click('[data-testid=step]');
    await waitForSnapshot(page, '(l) => l.snapshot.rounds >= 2');
    const s2 = (await lastSnapshot<GanSnap>(page))!.snapshot;
    expect([s2.rounds, s2.dSteps, s2.gSteps]).toEqual([2, 6, 4]);
    // Its checkpoint keeps both step counts and says that the panel took k_G = 2 G steps per round.
    const dir = mkdtempSync(join(tmpdir(), 'genphys-lab-gan-kg-'));
    expect(await downloads(page, '[data-testid=action-checkpoint]', 3, dir)).toEqual(['checkpoint.json', 'checkpoint.w4.safetensors', 'config.json']);
    const ck = manifest(join(dir, 'checkpoint.json')) as { step: number; epoch: number; extra: { trainer: { dSteps: number; batchInEpoch: number }; lab: { kG: number; rounds: number } } };
    // 512 points, 3 × 256 per iteration: one iteration (round) per epoch.
    expect([ck.step, ck.epoch, ck.extra.trainer.dSteps, ck.extra.trainer.batchInEpoch, ck.extra.lab.kG, ck.extra.lab.rounds]).toEqual([4, 2, 6, 0, 2, 2]);
    expect((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { train: { nCritic: number } }).train.nCritic).toBe(3);
    const r = await runCli(['gan', 'sample', dir, '--n', '8', '--grid', join(dir, 's.svg'), '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(8 samples, trained generator, epoch 2)');
    expect((page as unknown as { labErrors: string[] }).labErrors).toEqual([]);
  });

  it('learns ring8: the MMD² falls far below its start, and the exported settings reproduce the run in the CLI', async () => {
    const page = await lab.open('#panel=gan&backend=wasm&data=ring8&n=2048&evalEvery=100&seed=3');
    const t0 = Date.now();
    await page.click('[data-testid=play]');
    // The page answers input within 100 ms while tfjs trains in the worker.
    const lat = await inputLatencies(page, '[data-testid=status]', 6);
    expect(lat).toHaveLength(6);
    expect(Math.max(...lat)).toBeLessThan(100);
    await waitForSnapshot(page, '(l) => l.snapshot.rounds >= 800', 40_000);
    await page.click('[data-testid=play]');
    const secs = (Date.now() - t0) / 1000;
    const s = (await lastSnapshot<GanSnap>(page))!.snapshot;
    console.log(`gan ring8 (wasm): ${s.rounds} rounds in ${secs.toFixed(1)} s, ${(s.rounds / secs).toFixed(0)} rounds/s; MMD² ${s.initialScore!.mmd2.toExponential(2)} ± ${s.initialScore!.se.toExponential(1)} → ${s.score!.mmd2.toExponential(2)} ± ${s.score!.se.toExponential(1)}, modes ${s.score!.modesCovered}`);
    const a = s.initialScore!, b = s.score!;
    expect(b.step).toBeGreaterThanOrEqual(800);
    // The untrained G maps N(0, I) to a small blob near the origin, far from the ring of radius 2:
    // a working trainer brings the MMD² down by far more than its noise.
    expect(a.mmd2 - b.mmd2).toBeGreaterThan(5 * Math.hypot(a.se, b.se));
    expect(b.mmd2).toBeLessThan(a.mmd2 / 3);
    await screenshot(page, 'lab-gan.png');

    // The settings as a config file, run by the CLI for one epoch.
    const doc = (await page.evaluate(() => (window as unknown as { lab: { host: { configDocument(): unknown } } }).lab.host.configDocument())) as { genphys: string; flags: Record<string, unknown> };
    expect(doc.genphys).toBe('gan train');
    expect(doc.flags).toMatchObject({ data: 'toy:ring8:2048', preset: 'toy-mlp', loss: 'ns', 'n-critic': 1, batch: 256, seed: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'genphys-lab-gan-'));
    const file = join(dir, 'gan-config.json');
    writeFileSync(file, JSON.stringify(doc));
    const out = join(dir, 'run');
    const r = await runCli(['--config', file, '--out', out, '--epochs', '1', '--backend', 'wasm', '--quiet', '--save-every', '0']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(out, 'checkpoint.json'))).toBe(true);
    const row = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as { lossD: number; lossG: number; step: number };
    // 2048 points / batch 256 = 8 iterations: the CLI's epoch mean against the panel's first 8 rounds.
    expect(row.step).toBe(8);
    const first = arr(s.history.t).map((t) => t <= 8);
    const lossD = arr(s.history.lossD).filter((_, i) => first[i]);
    const lossG = arr(s.history.lossG).filter((_, i) => first[i]);
    expect(lossD.length).toBe(8);
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    // Both run tfjs's wasm backend on the same numbers: the losses agree to the last bit (observed),
    // while a different data stream alone moves the epoch mean by ~1e-3.
    expect(mean(lossD)).toBeCloseTo(row.lossD, 9);
    expect(mean(lossG)).toBeCloseTo(row.lossG, 9);

    // The trained panel's checkpoint: the run folder `gan sample` and `gan eval` open, with the panel's generator.
    // The worker's last snapshot after the pause (running false) holds the last round's state.
    await waitForSnapshot(page, '(l) => l.running === false');
    const fin = (await lastSnapshot<GanSnap>(page))!.snapshot;
    const trainedDir = join(dir, 'lab-trained');
    mkdirSync(trainedDir);
    expect(await downloads(page, '[data-testid=action-checkpoint]', 3, trainedDir)).toEqual(['checkpoint.json', `checkpoint.w${fin.gSteps}.safetensors`, 'config.json']);
    const ck = manifest(join(trainedDir, 'checkpoint.json')) as { step: number; epoch: number; dataset: unknown; extra: { trainer: { batchInEpoch: number } } };
    expect([ck.step, ck.epoch, ck.extra.trainer.batchInEpoch]).toEqual([fin.gSteps, fin.epoch, fin.rounds % 8]);
    // The fingerprint of the training points is the one the CLI recorded for the same spec and seed.
    expect(ck.dataset).toEqual(manifest(join(out, 'checkpoint.json')).dataset);
    const svg = join(dir, 'samples.svg');
    const rs = await runCli(['gan', 'sample', trainedDir, '--n', '500', '--grid', svg, '--backend', 'wasm']);
    expect(rs.code, rs.err).toBe(0);
    expect(rs.out).toContain(`(500 samples, trained generator, epoch ${fin.epoch})`);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);
    // The CLI's loader gives the panel's generator: G of the fixed noise (stream 5 of the seed) is the panel's scatter.
    const run = loadGanRun(trainedDir);
    const z = run.gan.sampleNoise(new Rng(3).split(5), 1000);
    const g = tf.tidy(() => run.gan.generate(z));
    const mine = Array.from((await g.data()) as Float32Array);
    tf.dispose([z, g]);
    run.gan.dispose();
    const panel = arr(fin.gen!);
    expect(panel.length).toBe(mine.length);
    expect(Math.max(...mine.map((v, i) => Math.abs(v - panel[i]!)))).toBeLessThan(1e-5);
    // And `gan eval` scores it (against the export of the untrained panel, below).
    const ev = await evalToy(trainedDir);

    // The curves CSV: the loss chart holds the snapshot's loss history, row for row.
    const csvDir = join(dir, 'csv');
    mkdirSync(csvDir);
    const csvs = await downloads(page, '[data-testid=export-csv]', 4, csvDir);
    expect(csvs).toEqual(['gan-d-output.csv', 'gan-losses.csv', 'gan-mmd.csv', 'gan-modes.csv']);
    const [head, ...rows] = readFileSync(join(csvDir, 'gan-losses.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(head).toEqual(['round (D loss)', 'D loss', 'D loss σ', 'round (G loss)', 'G loss', 'G loss σ']);
    expect(rows.length).toBe(arr(fin.history.t).length);
    expect(rows.map((r) => Number(r[0]))).toEqual(arr(fin.history.t));
    expect(rows.map((r) => Number(r[1]))).toEqual(arr(fin.history.lossD));
    expect(rows.map((r) => Number(r[4]))).toEqual(arr(fin.history.lossG));

    // A mid-epoch export (4 of the epoch's 8 rounds, same settings, 1 CLI epoch) is the CLI's run folder:
    // config.json is its text, and `gan train --resume` finishes the epoch to the CLI's own numbers and weights.
    const p2 = await lab.open('#panel=gan&backend=wasm&data=ring8&n=2048&evalEvery=100&seed=3&epochs=1');
    const initDir = join(dir, 'lab-init');
    mkdirSync(initDir);
    expect(await downloads(p2, '[data-testid=action-checkpoint]', 3, initDir)).toEqual(['checkpoint.json', 'checkpoint.w0.safetensors', 'config.json']);
    const ev0 = await evalToy(initDir);
    console.log(`gan ring8 export, gan eval: untrained high-quality ${ev0.highQualityFraction.value.toFixed(3)}, KL ${ev0.kl.value.toFixed(2)}; after ${fin.rounds} rounds ${ev.highQualityFraction.value.toFixed(3)} ± ${ev.highQualityFraction.se.toFixed(3)}, KL ${ev.kl.value.toFixed(2)}, modes ${ev.modesCovered.value} / 8`);
    // The untrained G's blob near the origin lies off the ring of radius 2; the trained one puts points on it.
    // (The high-quality fraction of a GAN this young swings between ~0.02 and ~0.1 from round to round; the KL falls steadily.)
    expect(ev0.highQualityFraction.value).toBe(0);
    expect(ev.kl.value).toBeLessThan(ev0.kl.value - 5 * Math.hypot(ev.kl.se, ev0.kl.se));
    await stepTo(p2, 4);
    const mid = join(dir, 'lab-mid');
    mkdirSync(mid);
    expect(await downloads(p2, '[data-testid=action-checkpoint]', 3, mid)).toEqual(['checkpoint.json', 'checkpoint.w4.safetensors', 'config.json']);
    expect(readFileSync(join(mid, 'config.json'), 'utf8')).toBe(readFileSync(join(out, 'config.json'), 'utf8'));
    expect((manifest(join(mid, 'checkpoint.json')) as { extra: unknown }).extra).toMatchObject({ trainer: { batchInEpoch: 4, dSteps: 4 } });
    const rr = await runCli(['gan', 'train', '--resume', '--out', mid, '--backend', 'wasm', '--quiet', '--save-every', '0']);
    expect(rr.code, rr.err).toBe(0);
    const midRow = JSON.parse(readFileSync(join(mid, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as typeof row & { dReal: number; dFake: number };
    const cliRow = row as typeof midRow;
    expect([midRow.step, midRow.lossD, midRow.lossG, midRow.dReal, midRow.dFake]).toEqual([cliRow.step, cliRow.lossD, cliRow.lossG, cliRow.dReal, cliRow.dFake]);
    expect(readFileSync(join(mid, 'checkpoint.w8.safetensors')).equals(readFileSync(join(out, 'checkpoint.w8.safetensors')))).toBe(true);
    // The panel's own export at the end of the epoch is the CLI's checkpoint, byte for byte (but its time).
    await stepTo(p2, 8);
    const end = join(dir, 'lab-end');
    mkdirSync(end);
    expect(await downloads(p2, '[data-testid=action-checkpoint]', 3, end)).toEqual(['checkpoint.json', 'checkpoint.w8.safetensors', 'config.json']);
    expect(readFileSync(join(end, 'checkpoint.w8.safetensors')).equals(readFileSync(join(out, 'checkpoint.w8.safetensors')))).toBe(true);
    expect(manifest(join(end, 'checkpoint.json'))).toEqual(manifest(join(out, 'checkpoint.json')));
    expect((page as unknown as { labErrors: string[] }).labErrors).toEqual([]);
    expect((p2 as unknown as { labErrors: string[] }).labErrors).toEqual([]);
  }, 120_000);

  it('trains the MLP GAN on a Fashion-MNIST subset, and shows the server’s message for missing MNIST', async () => {
    const page = await lab.open('#panel=gan&backend=wasm&data=fashion-mnist&n=512&seed=1');
    const s0 = (await lastSnapshot<GanSnap>(page))!.snapshot;
    const index = (await (await fetch(new URL('/data/index.json', lab.server.url))).json()) as { datasets: { name: string; splits: string[] }[] };
    const have = (name: string) => index.datasets.some((d) => d.name === name && d.splits.includes('train') && d.splits.includes('test'));
    // Where the server has the data the mode must train; only where it has none may it show the message.
    expect(s0.unavailable === undefined, s0.unavailable).toBe(have('fashion-mnist'));
    if (s0.unavailable) {
      // No Fashion-MNIST on this machine: the mode says why instead of training.
      expect(await page.textContent('[data-testid=gan-message]')).toContain(s0.unavailable);
      return;
    }
    const t0 = Date.now();
    await page.click('[data-testid=step]');
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.snapshot.rounds >= 12', 30_000);
    await page.click('[data-testid=play]');
    const s = (await lastSnapshot<GanSnap>(page))!.snapshot;
    console.log(`gan fashion-mnist course-mlp batch 128 (wasm): ${(s.rounds / ((Date.now() - t0) / 1000)).toFixed(1)} rounds/s`);
    expect(s.kind).toBe('image');
    expect(s.gSteps).toBe(s.rounds);
    await screenshot(page, 'lab-gan-fashion.png');
    // The image settings run in the CLI: the course's MLP GAN on the same first 512 images, 4 iterations.
    const doc = (await page.evaluate(() => (window as unknown as { lab: { host: { configDocument(): unknown } } }).lab.host.configDocument())) as { genphys: string; flags: Record<string, unknown> };
    expect(doc.flags).toMatchObject({ data: 'fashion-mnist', limit: 512, preset: 'course-mlp', seed: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'genphys-lab-gan-img-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify(doc));
    const r = await runCli(['--config', join(dir, 'c.json'), '--out', join(dir, 'run'), '--epochs', '1', '--backend', 'wasm', '--quiet', '--save-every', '0']);
    expect(r.code, r.err).toBe(0);
    const row = JSON.parse(readFileSync(join(dir, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as { lossD: number; step: number };
    expect(row.step).toBe(4);
    const first = arr(s.history.t).map((t) => t <= 4);
    expect(arr(s.history.lossD).filter((_, i) => first[i]).reduce((a, b) => a + b, 0) / 4).toBeCloseTo(row.lossD, 9);
    // The export fingerprints the same 512 images mapped to [−1, 1] as the CLI, and its config.json is the CLI's (but for --epochs 1).
    const ex = join(dir, 'export');
    mkdirSync(ex);
    const names = await downloads(page, '[data-testid=action-checkpoint]', 3, ex);
    expect(names[0]).toBe('checkpoint.json');
    expect(manifest(join(ex, 'checkpoint.json')).dataset).toEqual(manifest(join(dir, 'run', 'checkpoint.json')).dataset);
    expect((manifest(join(ex, 'checkpoint.json')).dataset as { name: string; n: number })).toMatchObject({ name: 'fashion-mnist/train', n: 512 });
    const labCfg = JSON.parse(readFileSync(join(ex, 'config.json'), 'utf8')) as { overrides: { train: object }; train: object };
    const one = { ...labCfg, epochs: 1, train: { ...labCfg.train, epochs: 1 }, overrides: { ...labCfg.overrides, train: { ...labCfg.overrides.train, epochs: 1 } } };
    expect(JSON.parse(readFileSync(join(dir, 'run', 'config.json'), 'utf8'))).toEqual(one);
    const missing = await lab.open('#panel=gan&backend=wasm&data=mnist&n=100');
    const m = (await lastSnapshot<GanSnap>(missing))!.snapshot;
    expect(m.unavailable === undefined).toBe(have('mnist'));
    if (m.unavailable) expect(await missing.textContent('[data-testid=gan-message]')).toContain(m.unavailable);
  }, 60_000);
});
