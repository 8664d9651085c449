/**
 * The lab's RBM panel in headless Chromium: on bars-and-stripes 3×3 with 16 hidden units
 * (exact log-likelihood available) training raises the exact LL to within 0.1 nat of the
 * optimum −log 14; the checkpoint exported through the download buttons opens in
 * `genphys rbm eval` with the same exact LL; a checkpoint written by `genphys rbm train`
 * imports into the lab with the LL the CLI logged and trains on; the settings JSON runs
 * with `genphys --config`; on Ising L = 3 data the RBM's Gibbs samples agree with its exact
 * averages and the trained model with the Monte Carlo data and Kaufman, and the exported
 * data file is the lab's training rows bit for bit; and a Fashion-MNIST / MNIST subset (where the machine has one)
 * draws filters and lowers the reconstruction error.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barsAndStripesOptimalLogLikelihood } from '../src/ebm/bars-and-stripes.js';
import { kaufmanSquare } from '../src/physics/exact.js';
import { readEvaluations } from '../src/run/run-dir.js';
import { runCli } from './cli-helpers.js';
import { haveChromium, labSession, lastSnapshot, screenshot, waitForSnapshot, type LabSession } from './lab-helpers.js';

interface Metrics {
  step: number;
  ll: number;
  testLL: number;
  recon: number;
  gap: number;
}
interface Est {
  value: number;
  error: number;
}
interface RbmSnap {
  nVisible: number;
  nHidden: number;
  method: string;
  exact: boolean;
  latest: Metrics;
  history: { step: Float64Array; ll: Float64Array; recon: Float64Array };
  filterCount: number;
  imported: string | null;
  ising: { L: number; T: number; mc: { e: Est; absM: Est }; kaufmanE: number; exactAbsM: number | null; rbm: { e: Est; absM: Est; sweeps: number } | null; rbmExact: { e: number; absM: number } | null; measured: { e: Est; absM: Est; sweeps: number; step: number } | null } | null;
}

const OPT3 = barsAndStripesOptimalLogLikelihood(3);

/** Click a button that downloads `count` files and save them into `dir` under their own names. */
async function downloadInto(page: Page, testid: string, count: number, dir: string): Promise<string[]> {
  const got: Download[] = [];
  const onDownload = (d: Download) => void got.push(d);
  page.on('download', onDownload);
  await page.click(`[data-testid=${testid}]`);
  const t0 = Date.now();
  while (got.length < count && Date.now() - t0 < 15_000) await page.waitForTimeout(50);
  page.off('download', onDownload);
  expect(got.length).toBe(count);
  const names: string[] = [];
  for (const d of got) {
    names.push(d.suggestedFilename());
    await d.saveAs(join(dir, d.suggestedFilename()));
  }
  return names.sort();
}

const fresh = (what: string) => mkdtempSync(join(tmpdir(), `genphys-lab-rbm-${what}-`));

describe.skipIf(!haveChromium)('lab: RBM panel', () => {
  let lab: LabSession;
  beforeAll(async () => {
    lab = await labSession();
  });
  afterAll(async () => {
    await lab?.close();
  });

  it('trains bars-and-stripes 3×3 near the optimum; the CLI evaluates its checkpoint to the same exact LL and runs its settings', async () => {
    const page = await lab.open('#panel=rbm&data=bars-and-stripes&basSize=3&hidden=16&method=exact&epochs=600&updatesPerStep=20&evalEvery=20&seed=3');
    const first = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    expect(first.exact).toBe(true);
    expect(first.method).toBe('exact');
    expect(first.latest.step).toBe(0);
    const ll0 = first.latest.ll;
    // A random model spreads its mass over all 512 states: far below −log 14.
    expect(ll0).toBeLessThan(OPT3 - 2);
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.steps >= 600');
    await page.click('[data-testid=play]'); // pause
    const dir = fresh('export');
    const names = await downloadInto(page, 'action-checkpoint', 3, dir);
    expect(names[0]).toBe('checkpoint.json');
    expect(names[1]).toMatch(/^checkpoint\.w\d+\.safetensors$/);
    expect(names[2]).toBe('config.json');
    // The snapshot after the export holds the metrics of the exported parameters.
    await waitForSnapshot(page, `(l) => l.snapshot.latest.step === l.steps && l.steps === ${Number(/w(\d+)/.exec(names[1]!)![1])}`);
    const done = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    const ll = done.latest.ll;
    // 600 exact-gradient updates (Adam 0.05, cosine to 5e-4) reach −2.663 in a node run of the
    // same settings with seed 1 (0.024 nat from −log 14) and −2.689 here (seed 3, from −11.0).
    // 0.1 nat leaves room for the seed; a wrong gradient sign or an untrained model is nats away.
    expect(ll - ll0).toBeGreaterThan(3);
    expect(OPT3 - ll).toBeLessThan(0.1);
    expect(ll).toBeLessThanOrEqual(OPT3 + 1e-9);
    await screenshot(page, 'lab-rbm-bars-and-stripes.png');

    // The CLI opens the exported run: the same exact LL (float32 free energies on other kernels: ≲ 1e-5).
    const ev = await runCli(['rbm', 'eval', dir, '--exact', '--quiet']);
    expect(ev.code, ev.err).toBe(0);
    const res = readEvaluations(dir)[0]!.result as { exactTrainLL: number; exactTestLL: number; epoch: number };
    expect(Math.abs(res.exactTrainLL - ll)).toBeLessThan(1e-4);
    expect(res.epoch).toBe(done.latest.step); // one update per epoch: 14 patterns in one batch

    // The settings JSON runs unchanged and, with the same seed streams, trains to about the same LL.
    const cfgDir = fresh('config');
    const [cfgName] = await downloadInto(page, 'export-config', 1, cfgDir);
    const cfg = JSON.parse(readFileSync(join(cfgDir, cfgName!), 'utf8')) as { genphys: string; flags: Record<string, unknown> };
    expect(cfg.genphys).toBe('rbm train');
    expect(cfg.flags).toMatchObject({ data: 'bars-and-stripes:3', hidden: 16, method: 'exact', epochs: 600, seed: 3 });
    const out = join(cfgDir, 'run');
    // --save-every 0 --grid-every 0 only thin the files written (600 crash-safe checkpoint saves
    // took 16 s of fsync on a loaded machine); the training is the file's.
    const tr = await runCli(['--config', join(cfgDir, cfgName!), '--out', out, '--quiet', '--save-every', '0', '--grid-every', '0']);
    expect(tr.code, tr.err).toBe(0);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; trainLL: number });
    expect(rows.at(-1)!.epoch).toBe(600);
    // Past its plan the lab trains on at lr·0.01 only, so both end near the same optimum of this
    // seed (1.4e-3 apart in a trial run); another hidden size, lr or seed lands elsewhere.
    expect(Math.abs(rows.at(-1)!.trainLL - ll)).toBeLessThan(0.02);
    expect((page as unknown as { labErrors: string[] }).labErrors).toEqual([]);
  }, 60_000);

  it('trains the same model on the wasm (XNNPACK) and the TypeScript kernels', async () => {
    // CD-1 on bars-and-stripes 3×3 with one seed: the kernel sets differ only in float32 vs float64
    // rounding of the products and the sigmoid, so the draws agree (a flip needs u within ~1e-7
    // of p) and the exact LL after 200 updates is the same: 4e-8 apart in a trial run (rounding
    // alone); a flipped draw changes a whole gradient term.
    const lls: number[] = [];
    for (const kernels of ['wasm', 'typescript']) {
      const page = await lab.open(`#panel=rbm&data=bars-and-stripes&basSize=3&hidden=12&method=cd&k=1&optimizer=adam&lr=0.02&initStd=0.5&batch=20&updatesPerStep=50&evalEvery=50&seed=5&kernels=${kernels}`);
      expect(await page.getAttribute('[data-testid=backend]', 'data-backend')).toBe(kernels === 'wasm' ? 'wasm (XNNPACK)' : 'typescript');
      const ll0 = (await lastSnapshot<RbmSnap>(page))!.snapshot.latest.ll;
      await page.click('[data-testid=step]');
      for (let i = 1; i < 4; i++) {
        await waitForSnapshot(page, `(l) => l.snapshot.latest.step === ${50 * i}`);
        await page.click('[data-testid=step]');
      }
      await waitForSnapshot(page, '(l) => l.snapshot.latest.step === 200');
      const ll = (await lastSnapshot<RbmSnap>(page))!.snapshot.latest.ll;
      // The model moved far from its start (CD-1's fixed point is not the LL optimum: no rise asserted).
      console.log(kernels, ll0, ll);
      expect(Math.abs(ll - ll0)).toBeGreaterThan(0.5);
      lls.push(ll);
      await page.close();
    }
    expect(Math.abs(lls[0]! - lls[1]!), `LL ${lls.join(' vs ')}`).toBeLessThan(1e-5);
  }, 60_000);

  it('imports a checkpoint written by genphys rbm train, shows its LL and trains on from it', async () => {
    const dir = fresh('cli');
    const tr = await runCli(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '6', '--epochs', '40', '--seed', '4', '--out', dir, '--quiet']);
    expect(tr.code, tr.err).toBe(0);
    const last = JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!) as { epoch: number; trainLL: number };
    expect(last.epoch).toBe(40);
    const page = await lab.open('#panel=rbm&data=bars-and-stripes&basSize=3&hidden=16&seed=9');
    expect((await lastSnapshot<RbmSnap>(page))!.snapshot.nHidden).toBe(16);
    const files = readdirSync(dir).filter((f) => f === 'checkpoint.json' || /^checkpoint\.w\d+\.safetensors$/.test(f));
    expect(files.length).toBe(2);
    await page.setInputFiles('[data-testid=import]', files.map((f) => join(dir, f)));
    await waitForSnapshot(page, '(l) => l.snapshot.imported !== null');
    const s = (await lastSnapshot<RbmSnap>(page))!;
    expect(s.snapshot.nHidden).toBe(6);
    expect(s.steps).toBe(40);
    expect(s.snapshot.imported).toContain('checkpoint.json');
    expect(Math.abs(s.snapshot.latest.ll - last.trainLL)).toBeLessThan(1e-4);
    expect(await page.textContent('[data-testid=readout]')).toContain(s.snapshot.latest.ll.toFixed(4));
    // It continues from the checkpoint's step with the restored trainer.
    await page.click('[data-testid=step]');
    await waitForSnapshot(page, '(l) => l.steps === 41');
    await screenshot(page, 'lab-rbm-imported.png');
    // Dropping the import gives the panel's own fresh model back.
    await page.click('[data-testid=forget-import]');
    await waitForSnapshot(page, '(l) => l.snapshot.imported === null && l.snapshot.nHidden === 16 && l.steps === 0');
  }, 30_000);

  it('trains with parallel tempering and shows its persistent chains', async () => {
    const page = await lab.open('#panel=rbm&data=bars-and-stripes&basSize=3&hidden=8&method=pt&ptReplicas=4&optimizer=adam&lr=0.02&initStd=0.5&batch=14&updatesPerStep=20&evalEvery=20&seed=5');
    const ll0 = (await lastSnapshot<RbmSnap>(page))!.snapshot.latest.ll;
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.snapshot.latest.step >= 400');
    await page.click('[data-testid=play]');
    const s = (await lastSnapshot<RbmSnap & { chains: Float32Array | null }>(page))!.snapshot;
    expect(s.method).toBe('pt');
    // 14 chains (the batch) of 9 units, drawn because pt keeps them.
    expect(s.chains!.length).toBe(14 * 9);
    expect(await page.isVisible('[data-testid=chains]')).toBe(true);
    // Sampled gradients (PT-1, Adam 0.02, from N(0, 0.5²)) still climb: +2.5 to +3 nats in 400
    // updates for seeds 5–7 in node; from Hinton's 0.01 scale they stall at the saddle W = 0.
    expect(s.latest.ll - ll0).toBeGreaterThan(1.5);
  }, 30_000);

  it('measures the RBM samples of Ising L = 3 data like Monte Carlo, against Kaufman and the exact model average', async () => {
    const page = await lab.open('#panel=rbm&data=ising&L=3&T=2.5&isingSamples=2000&hidden=8&method=exact&epochs=50&updatesPerStep=20&evalEvery=20&seed=2');
    const s0 = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    const ref = kaufmanSquare(3, 2.5).energy;
    expect(s0.ising!.kaufmanE).toBeCloseTo(ref, 12);
    // 2000 Wolff configurations, 10 sweeps apart: σ(e) ≈ 0.015; 5σ.
    expect(Math.abs(s0.ising!.mc.e.value - ref)).toBeLessThan(5 * s0.ising!.mc.e.error);
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.steps >= 1000');
    await page.click('[data-testid=play]');
    await page.click('[data-testid=measure]');
    await page.waitForSelector('[data-done=true]');
    await waitForSnapshot(page, '(l) => l.snapshot.ising.measured !== null');
    const s = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    const is = s.ising!;
    const ms = is.measured!;
    const ex = is.rbmExact!;
    // The panel's Gibbs chains sample the model: their e and |m| agree with Σ_v p(v)·O(v) over all 512 states (5σ, σ over 64 chains).
    expect(ms.sweeps).toBe(500);
    expect(Math.abs(ms.e.value - ex.e)).toBeLessThan(5 * ms.e.error);
    expect(Math.abs(ms.absM.value - ex.absM)).toBeLessThan(5 * ms.absM.error);
    // The trained RBM reproduces its data's e and |m|: 0.036 in e and 0.004 in |m| after ~1500 updates in a trial run; an
    // untrained one (near-uniform states, e ≈ 0, |m| ≈ 0.3) is far off.
    expect(Math.abs(ex.e - is.mc.e.value)).toBeLessThan(0.06);
    expect(Math.abs(ex.absM - is.mc.absM.value)).toBeLessThan(0.04);
    expect(await page.textContent('[data-testid=ising-table]')).toContain('Kaufman');
    await screenshot(page, 'lab-rbm-ising.png');
    // The data file the settings JSON names (--data spins:FILE) is one the CLI reads: 2000 rows of 9 spins, 0/1.
    const dir = fresh('ising');
    const [file] = await downloadInto(page, 'action-data', 1, dir);
    expect(file).toBe('ising-L3-T2.5000.txt');
    const cfg = (await page.evaluate(() => (window as unknown as { lab: { host: { configDocument(): unknown } } }).lab.host.configDocument())) as { flags: { data: string } };
    expect(cfg.flags.data).toBe(`spins:${file}`);
    const run = join(dir, 'run');
    const tr = await runCli(['rbm', 'train', '--data', `spins:${join(dir, file!)}`, '--hidden', '4', '--epochs', '1', '--out', run, '--quiet']);
    expect(tr.code, tr.err).toBe(0);
    const ck = JSON.parse(readFileSync(join(run, 'checkpoint.json'), 'utf8')) as { config: { model: { nVisible: number; units: string } }; dataset: { n: number; sha256: string } };
    expect(ck.config.model).toMatchObject({ nVisible: 9, units: '01' });
    expect(ck.dataset.n).toBe(2000);
    // The same rows bit for bit: the CLI's fingerprint of the file equals the lab's of its training data.
    const exp = fresh('ising-export');
    await downloadInto(page, 'action-checkpoint', 3, exp);
    const labCk = JSON.parse(readFileSync(join(exp, 'checkpoint.json'), 'utf8')) as { dataset: { n: number; sha256: string } };
    expect(labCk.dataset).toMatchObject({ n: 2000, sha256: ck.dataset.sha256 });
  }, 30_000);

  it('trains on an image subset: filters render and the reconstruction error falls', async (ctx) => {
    if (!existsSync('/usr/share/datasets/fashion-mnist') && !existsSync('../shared/data/mnist')) {
      console.warn('skipping the RBM panel image test: neither /usr/share/datasets/fashion-mnist nor ../shared/data/mnist exists');
      ctx.skip();
    }
    const name = existsSync('/usr/share/datasets/fashion-mnist') ? 'fashion-mnist' : 'mnist';
    const page = await lab.open(`#panel=rbm&data=${name}&limit=1000&hidden=32&method=cd&k=1&batch=50&lr=0.05&updatesPerStep=5&evalEvery=20&seed=1`);
    const s0 = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    expect(s0.nVisible).toBe(784);
    expect(s0.exact).toBe(false);
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.snapshot.latest.step >= 200');
    await page.click('[data-testid=play]');
    const s = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    const rec = s.history.recon;
    // Binarised Fashion-MNIST: ~200 squared errors per image at the data-mean start; 200 CD-1 updates at lr 0.05 bring it well under half.
    expect(rec[rec.length - 1]!).toBeLessThan(0.6 * rec[0]!);
    // The filters canvas holds 32 tiles of 28 × 28 with colour (not a blank grid).
    const colours = await page.$eval('[data-testid=filters]', (c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return { w: cv.width, h: cv.height, n: seen.size };
    });
    expect(colours.w).toBe(6 * 29 + 1);
    expect(colours.n).toBeGreaterThan(100);
    await screenshot(page, 'lab-rbm-images.png');
  }, 45_000);
  it('trains on an uploaded spin file (read by the library’s own parser) and hands the same rows to the CLI', async () => {
    const dir = fresh('upload');
    // The 14 bars-and-stripes 3×3 patterns as ±1 text: exact LL available, optimum −log 14.
    const { barsAndStripesPatterns } = await import('../src/ebm/bars-and-stripes.js');
    const pats = barsAndStripesPatterns(3);
    const lines = ['# bars and stripes, ±1'];
    for (let r = 0; r < 14; r++) lines.push(Array.from(pats.subarray(r * 9, (r + 1) * 9), (v) => (v > 0 ? '+1' : '-1')).join(' '));
    const upload = join(dir, 'bas3-pm1.txt');
    writeFileSync(upload, lines.join('\n') + '\n');
    const page = await lab.open('#panel=rbm&data=bars-and-stripes&basSize=3&hidden=16&method=exact&epochs=400&updatesPerStep=20&evalEvery=20&seed=4');
    await page.selectOption('[data-testid=control-data]', 'upload');
    await page.waitForFunction(() => /pick a spin file/.test(document.querySelector('[data-testid=error]')!.textContent ?? ''));
    await page.setInputFiles('[data-testid=import]', upload);
    await waitForSnapshot(page, '(l) => l.snapshot.nVisible === 9');
    expect(await page.textContent('[data-testid=error]')).toBe('');
    await page.click('[data-testid=play]');
    await waitForSnapshot(page, '(l) => l.steps >= 400');
    await page.click('[data-testid=play]');
    const s = (await lastSnapshot<RbmSnap>(page))!.snapshot;
    expect(s.exact).toBe(true);
    expect(OPT3 - s.latest.ll).toBeLessThan(0.2);
    // The data button gives the uploaded rows back as the 0/1 file the settings JSON names.
    const [dataName] = await downloadInto(page, 'action-data', 1, dir);
    expect(dataName).toBe('uploaded-spins.txt');
    const back = readFileSync(join(dir, dataName!), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(back).toEqual(lines.slice(1).map((l) => l.split(' ').map((v) => (v === '+1' ? '1' : '0')).join(' ')));
    const [cfgName] = await downloadInto(page, 'export-config', 1, dir);
    const cfg = JSON.parse(readFileSync(join(dir, cfgName!), 'utf8')) as { flags: Record<string, unknown> };
    expect(cfg.flags.data).toBe('spins:uploaded-spins.txt');
    const tr = await runCli(['--config', join(dir, cfgName!), '--data', `spins:${join(dir, dataName!)}`, '--out', join(dir, 'run'), '--quiet', '--epochs', '20', '--save-every', '0', '--grid-every', '0']);
    expect(tr.code, tr.err).toBe(0);
  }, 60_000);
});
