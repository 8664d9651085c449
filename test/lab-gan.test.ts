/**
 * The lab's GAN panel in headless Chromium (backend pinned to wasm): one step-mode round
 * takes exactly k_D discriminator and k_G generator steps; playing on ring8 drives the
 * MMD² to the true distribution down by many standard errors; the exported settings run
 * unchanged through `genphys --config` in-process and its first epoch reproduces the
 * panel's first-epoch losses (same data, initial weights and random streams); the
 * Fashion-MNIST mode trains the MLP preset on a server subset, and MNIST (absent here)
 * shows the server's message.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { haveChromium, inputLatencies, labSession, lastSnapshot, screenshot, waitForSnapshot, type LabSession } from './lab-helpers.js';

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
}

const arr = (a: Record<string, number>): number[] => Object.values(a);

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
  }, 60_000);

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
    const missing = await lab.open('#panel=gan&backend=wasm&data=mnist&n=100');
    const m = (await lastSnapshot<GanSnap>(missing))!.snapshot;
    expect(m.unavailable === undefined).toBe(have('mnist'));
    if (m.unavailable) expect(await missing.textContent('[data-testid=gan-message]')).toContain(m.unavailable);
  }, 60_000);
});
