/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference types="vite/client" />
/**
 * Shared pieces of the browser-lab tests: a fresh build of the lab (into a temporary
 * folder), the lab server on 127.0.0.1, and Debian's Chromium driven by playwright-core
 * (no browser download). Without /usr/bin/chromium the browser tests skip with a message,
 * except under CI, where they fail.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { serveLab, type LabServer } from '../src/serve/lab.js';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI) throw new Error(`lab tests: ${CHROMIUM} is missing, and CI runs every test (apt-get install chromium)`);
  console.warn(`skipping the browser-lab tests: ${CHROMIUM} not found (apt-get install chromium)`);
}

/** Where tests leave screenshots and exported files for a person to look at. */
export const ARTIFACTS = resolve('test-artifacts');

/** Build the lab into a new temporary folder (each test file its own, so files can run in parallel). */
export async function buildLab(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'genphys-lab-'));
  await build({ configFile: resolve('lab/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** Chromium flags: headless, no network services, WebGPU on SwiftShader. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
];

/** Launch Debian's Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A built lab, its server and a browser, for one test file. */
export interface LabSession {
  readonly server: LabServer;
  readonly browser: Browser;
  /** Open the lab at a hash (e.g. `#panel=ising&L=8`); console errors fail the page. */
  open(hash: string): Promise<Page>;
  close(): Promise<void>;
}

/** Start a lab session: build, serve on 127.0.0.1:0, launch Chromium. */
export async function labSession(): Promise<LabSession> {
  const dir = await buildLab();
  const server = await serveLab({ dir });
  const browser = await launchChromium();
  const pages: Page[] = [];
  return {
    server,
    browser,
    async open(hash) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      (page as unknown as { labErrors: string[] }).labErrors = errors;
      pages.push(page);
      await page.goto(server.url + hash);
      await page.waitForFunction(() => ((window as unknown as { lab?: { host?: { snapshots: number } } }).lab?.host?.snapshots ?? 0) > 0, null, { timeout: 30_000 });
      return page;
    },
    async close() {
      for (const p of pages) await p.close().catch(() => {});
      await browser.close();
      await server.close();
    },
  };
}

/** The current panel's last snapshot. */
export function lastSnapshot<T = Record<string, unknown>>(page: Page): Promise<{ snapshot: T; steps: number } | null> {
  return page.evaluate(() => (window as unknown as { lab: { host: { last: unknown } } }).lab.host.last) as Promise<{ snapshot: T; steps: number } | null>;
}

/** Wait until the panel's snapshot satisfies `pred` (a function source run in the page on `last`). */
export async function waitForSnapshot(page: Page, pred: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    (p) => {
      const last = (window as unknown as { lab: { host: { last: unknown } } }).lab.host.last;
      return last !== null && (new Function('last', `return (${p})(last)`) as (l: unknown) => boolean)(last);
    },
    pred,
    { timeout, polling: 100 },
  );
}

/** Save a screenshot under test-artifacts/. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Input latency while training runs: click a control `n` times and take, for each click, the
 * time from the event's creation to its handler running (the main thread's queueing delay).
 */
export async function inputLatencies(page: Page, selector: string, n = 10): Promise<number[]> {
  await page.evaluate((sel) => {
    const w = window as unknown as { latencies: number[] };
    w.latencies = [];
    document.querySelector(sel)!.addEventListener('pointerdown', (ev) => w.latencies.push(performance.now() - ev.timeStamp));
  }, selector);
  for (let i = 0; i < n; i++) {
    await page.hover(selector);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForTimeout(50);
  }
  return page.evaluate(() => (window as unknown as { latencies: number[] }).latencies);
}

/**
 * Click `selector`, save the `count` downloads it triggers into `dir` under their own
 * names, and return the names sorted.
 */
export async function downloads(page: Page, selector: string, count: number, dir: string): Promise<string[]> {
  const names: string[] = [];
  const done = new Promise<void>((resolve) => {
    page.on('download', async (d) => {
      await d.saveAs(join(dir, d.suggestedFilename()));
      names.push(d.suggestedFilename());
      if (names.length === count) resolve();
    });
  });
  await page.click(selector);
  await done;
  page.removeAllListeners('download');
  return names.sort();
}
