/**
 * The lab's diffusion panel in headless Chromium (backend pinned to wasm): playing on
 * moons brings the loss down and the DDPM and DDIM samples' MMD² to the true
 * distribution far below that of the N(0, I) noise they start from; the timestep slider
 * shows x_0 = the data on the forward side and x_0 = the DDPM sample on the reverse side at
 * t = 0; the DDIM steps apply live; and the exported settings run unchanged through
 * `genphys --config` in-process, whose first epoch reproduces the panel's first-epoch loss.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-helpers.js';
import { haveChromium, labSession, lastSnapshot, screenshot, waitForSnapshot, type LabSession } from './lab-helpers.js';

interface Score {
  step: number;
  mmd2: number;
  se: number;
}
interface DiffSnap {
  T: number;
  t: number;
  steps: number;
  sampledAt: number;
  ddimSteps: number;
  real: Record<string, number>;
  forward: Record<string, number>;
  reverse: Record<string, number>;
  ddpm: Record<string, number>;
  ddim: Record<string, number>;
  history: { t: Record<string, number>; loss: Record<string, number> };
  ddpmScore: Score;
  ddimScore: Score;
  initialScore: Score;
  noiseScore: Score;
}

const arr = (a: Record<string, number>): number[] => Object.values(a);
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;

describe.skipIf(!haveChromium)('lab: diffusion panel', () => {
  let lab: LabSession;
  beforeAll(async () => {
    lab = await labSession();
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('learns moons: loss falls, DDPM and DDIM samples are far closer to the data than the noise; the CLI reproduces epoch 1', async () => {
    const page = await lab.open('#panel=diffusion&backend=wasm&data=moons&n=2048&T=100&sampleEvery=1500&seed=2');
    expect(await page.getAttribute('[data-testid=backend]', 'data-backend')).toBe('wasm');
    const t0 = Date.now();
    await page.click('[data-testid=play]');
    // The first epoch's batch losses, read before the history is thinned out (it keeps ≤ 1200 points).
    await waitForSnapshot(page, '(l) => l.snapshot.steps >= 16');
    const early = (await lastSnapshot<DiffSnap>(page))!.snapshot.history;
    const epoch1 = arr(early.loss).filter((_, i) => arr(early.t)[i]! <= 16);
    expect(epoch1.length).toBe(16);
    await waitForSnapshot(page, '(l) => l.snapshot.sampledAt >= 1500', 45_000);
    await page.click('[data-testid=play]');
    const secs = (Date.now() - t0) / 1000;
    const s = (await lastSnapshot<DiffSnap>(page))!.snapshot;
    const loss = arr(s.history.loss);
    const f = (x: Score) => `${x.mmd2.toExponential(2)} ± ${x.se.toExponential(1)}`;
    console.log(`diffusion moons T=100 (wasm): ${s.steps} steps in ${secs.toFixed(1)} s (incl. 2 DDPM+DDIM samplings), ${(s.steps / secs).toFixed(0)} steps/s; loss ${mean(epoch1).toFixed(3)} (epoch 1) → ${mean(loss.slice(-100)).toFixed(3)}; MMD² noise ${f(s.noiseScore)}, untrained ${f(s.initialScore)}, DDPM ${f(s.ddpmScore)}, DDIM(${s.ddimSteps}) ${f(s.ddimScore)}`);
    // ε-prediction starts near E‖ε‖²/D = 1; a trained denoiser on moons is far below.
    expect(mean(loss.slice(-100))).toBeLessThan(0.5 * mean(epoch1));
    const noise = s.noiseScore;
    for (const x of [s.ddpmScore, s.ddimScore]) {
      expect(x.step).toBe(1500);
      // Observed (seed 2): noise 0.103 ± 0.012, DDPM 0.0024 ± 0.0025, DDIM 0.0017 ± 0.0019, about 8 combined
      // (jackknife, conservative) SE apart; an untrained model lands at 0.57, far above the noise.
      expect(noise.mmd2 - x.mmd2).toBeGreaterThan(5 * Math.hypot(noise.se, x.se));
      expect(x.mmd2).toBeLessThan(noise.mmd2 / 10);
    }
    await screenshot(page, 'lab-diffusion.png');

    const doc = (await page.evaluate(() => (window as unknown as { lab: { host: { configDocument(): unknown } } }).lab.host.configDocument())) as { genphys: string; flags: Record<string, unknown> };
    expect(doc.genphys).toBe('diffusion train');
    expect(doc.flags).toMatchObject({ data: 'toy:moons:2048', arch: 'toy-mlp', T: 100, batch: 128, seed: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'genphys-lab-diffusion-'));
    const file = join(dir, 'diffusion-config.json');
    writeFileSync(file, JSON.stringify(doc));
    const out = join(dir, 'run');
    const r = await runCli(['--config', file, '--out', out, '--epochs', '1', '--backend', 'wasm', '--quiet']);
    expect(r.code, r.err).toBe(0);
    const row = JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')[0]!) as { loss: number; step: number };
    // 2048 points / batch 128 = 16 batches: the CLI's epoch mean against the panel's first 16 steps.
    expect(row.step).toBe(16);
    // Both on tfjs's wasm backend with the same data, weights and streams: equal to rounding.
    expect(mean(epoch1)).toBeCloseTo(row.loss, 9);
  }, 60_000);

  it('shows x_t on both sides of the slider and applies the DDIM steps live', async () => {
    const page = await lab.open('#panel=diffusion&backend=wasm&data=ring8&n=512&T=50&sampleEvery=100000&seed=5');
    const host = (n: string, a: object) => page.evaluate(([name, args]) => (window as unknown as { lab: { host: { action(n: string, a: object): Promise<unknown> } } }).lab.host.action(name as string, args as object), [n, a] as const);
    await host('timestep', { t: 0 });
    await waitForSnapshot(page, '(l) => l.snapshot.t === 0');
    let s = (await lastSnapshot<DiffSnap>(page))!.snapshot;
    // At t = 0 the forward marginal is the data itself (ᾱ_0 = 1) and the reverse chain has reached its sample.
    expect(arr(s.forward)).toEqual(arr(s.real));
    expect(arr(s.reverse)).toEqual(arr(s.ddpm));
    await host('timestep', { t: 50 });
    await waitForSnapshot(page, '(l) => l.snapshot.t === 50');
    s = (await lastSnapshot<DiffSnap>(page))!.snapshot;
    // At t = T the forward side is almost pure noise: per-coordinate variance ≈ ᾱ_T·Var(x_0) + 1 − ᾱ_T ≈ 1.
    const fw = arr(s.forward);
    const v = mean(fw.map((x) => x * x)) - mean(fw) ** 2;
    expect(Math.abs(v - 1)).toBeLessThan(0.15);
    const before = arr(s.ddim);
    await page.fill('[data-testid=control-ddimSteps]', '5');
    await page.dispatchEvent('[data-testid=control-ddimSteps]', 'change');
    await waitForSnapshot(page, '(l) => l.snapshot.ddimSteps === 5');
    s = (await lastSnapshot<DiffSnap>(page))!.snapshot;
    expect(s.steps).toBe(0);
    expect(arr(s.ddim)).not.toEqual(before);
    await screenshot(page, 'lab-diffusion-slider.png');
    expect((page as unknown as { labErrors: string[] }).labErrors).toEqual([]);
  });
});
