/* global window */
// The lab's Ising throughput in headless Chromium against the CLI's, and the time to first
// frame. Run after `npm run build`:  node bench/lab-ising.mjs
// For each L and sampler: the lab (one worker, sweeps per step chosen so a step takes a few
// ms) for 6 s after a 2 s warm-up, then `genphys ising bench --workers 1` on the same L.
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { serveLab } from '../dist/serve/lab.js';

const server = await serveLab({ dir: 'dist/lab' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const rows = [];
for (const [L, algo, spf] of [[64, 'metropolis', 20], [256, 'metropolis', 2], [64, 'wolff', 20], [256, 'wolff', 2]]) {
  const page = await browser.newPage();
  const t0 = Date.now();
  await page.goto(`${server.url}#panel=ising&L=${L}&T=2.269&algo=${algo}&sweepsPerFrame=${spf}&seed=1`);
  await page.waitForFunction(() => window.lab?.host?.snapshots > 0);
  const firstFrame = Date.now() - t0;
  await page.click('[data-testid=play]');
  await page.waitForTimeout(2000);
  const a = await page.evaluate(() => ({ steps: window.lab.host.last.steps, t: performance.now() }));
  await page.waitForTimeout(6000);
  const b = await page.evaluate(() => ({ steps: window.lab.host.last.steps, t: performance.now() }));
  const lab = ((b.steps - a.steps) * 1000) / (b.t - a.t);
  await page.close();
  const out = execFileSync(process.execPath, ['dist/cli-bundle/genphys.js', 'ising', 'bench', '--L', String(L), '--workers', '1', '--sweeps', L === 256 ? '300' : '3000'], { encoding: 'utf8' });
  // The CLI's row for this sampler in this thread (workers 0): M spin updates (or flips) per second.
  const row = out.split('\n').find((l) => new RegExp(`^\\|\\s*${algo}\\s*\\|\\s*${L}\\s*\\|[^|]*\\|\\s*0\\s*\\|`).test(l));
  const cliM = Number(row?.split('|')[8]);
  const cliSweeps = (cliM * 1e6) / (L * L);
  rows.push({ L, algo, firstFrameMs: firstFrame, labSweepsPerSec: Math.round(lab), cliSweepsPerSec: Math.round(cliSweeps), ratio: Number((lab / cliSweeps).toFixed(2)) });
  console.log(JSON.stringify(rows.at(-1)));
}
await browser.close();
await server.close();
