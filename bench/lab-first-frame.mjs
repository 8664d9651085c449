// Time to first frame of each lab panel in headless Chromium: from navigation to the first
// snapshot drawn (the worker started, the engine built its data and model, one snapshot
// posted). Run after `npm run build`: node bench/lab-first-frame.mjs
/* global window */
import { chromium } from 'playwright-core';
import { serveLab } from '../dist/serve/lab.js';

const server = await serveLab({ dir: 'dist/lab' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const panels = [
  ['ising L=64', '#panel=ising&L=64'],
  ['ising L=256', '#panel=ising&L=256&algo=metropolis'],
  ['rbm bars-and-stripes', '#panel=rbm&data=bars-and-stripes'],
  ['rbm fashion-mnist 1000', '#panel=rbm&data=fashion-mnist&limit=1000'],
  ['vae ising (simulates 2000 configurations)', '#panel=vae&data=ising&backend=wasm'],
  ['vae fashion-mnist 4000', '#panel=vae&data=fashion-mnist&backend=wasm'],
  ['gan ring8', '#panel=gan&data=ring8&backend=wasm'],
  ['diffusion moons', '#panel=diffusion&backend=wasm'],
];
for (const [name, hash] of panels) {
  const times = [];
  for (let r = 0; r < 3; r++) {
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(server.url + hash);
    await page.waitForFunction(() => (window.lab?.host?.snapshots ?? 0) > 0, null, { timeout: 120_000 });
    times.push(Date.now() - t0);
    await page.close();
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ panel: name, medianMs: times[1], minMs: times[0] }));
}
await browser.close();
await server.close();
