// The lab RBM panel's CD-1 updates per second (784×64, batch 64, 2000 Fashion-MNIST images) in headless
// Chromium, on each of the panel's kernel sets (wasm: XNNPACK products on tfjs-backend-wasm; typescript:
// the reference loops). Run from the repository root after npm run build: node bench/lab-rbm.mjs [seconds]
// Compare with node bench/lab-rbm-native.mjs (the same Trainer in Node on the native kernels).
/* global window */
import { build } from 'vite';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveLab } from '../dist/serve/lab.js';
import { chromium } from 'playwright-core';

const outDir = mkdtempSync(join(tmpdir(), 'genphys-lab-bench-'));
await build({ configFile: 'lab/vite.config.ts', logLevel: 'error', build: { outDir, emptyOutDir: true } });
const server = await serveLab({ dir: outDir });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
for (const kernels of ['wasm', 'typescript']) {
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
await page.goto(server.url + `#panel=rbm&data=fashion-mnist&limit=2000&hidden=64&method=cd&k=1&batch=64&lr=0.01&updatesPerStep=20&evalEvery=100000&seed=1&kernels=${kernels}`);
await page.waitForFunction(() => (window.lab?.host?.snapshots ?? 0) > 0, null, { timeout: 60000 });
const read = () => page.evaluate(() => { const l = window.lab.host.last; return { steps: l.steps, s: l.snapshot.trainSeconds, u: l.snapshot.trainUpdates, t: performance.now() }; });
await page.click('[data-testid=play]');
await page.waitForTimeout(4000);
const a = await read();
await page.waitForTimeout(Number(process.argv[2] ?? 20) * 1000);
const b = await read();
await page.click('[data-testid=play]');
const badge = await page.getAttribute('[data-testid=backend]', 'data-backend');
console.log(JSON.stringify({ kernels, badge, trainingOnly: (b.u - a.u) / (b.s - a.s), wall: ((b.steps - a.steps) * 1000) / (b.t - a.t), updates: b.u - a.u }));
await page.close();
}
await browser.close();
await server.close();
