/**
 * The kernel-check page (lab/kernel-check.html) in headless Chromium: every
 * kernel-equivalence case of src/engine/kernel-cases.ts agrees with the cpu backend on
 * webgpu (SwiftShader's Vulkan, via --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader),
 * on webgl (ANGLE on SwiftShader) and on wasm. On wasm that includes the conv-gradient
 * cases, which need Conv2DBackpropFilter: stock tfjs-backend-wasm lacks it, so their passing
 * shows genphys's wasm fixes are registered in the browser too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { kernelCases } from '../src/engine/kernel-cases.js';
import { haveChromium, labSession, screenshot, type LabSession } from './lab-helpers.js';

interface CaseResult {
  name: string;
  convGradient: boolean;
  maxRelErr: number | string | null;
  tol: number;
  pass: boolean;
  ms: number;
  leaked: number;
  error?: string;
}
interface BackendResult {
  available: boolean;
  reason?: string;
  device?: Record<string, unknown>;
  report?: { passed: number; failed: number; ms: number; cases: CaseResult[] };
}
interface KernelResults {
  done: boolean;
  cases: number;
  referenceMs: number;
  backends: Record<string, BackendResult>;
  error?: string;
}

const CASES = kernelCases();

describe.skipIf(!haveChromium)('lab: kernel-check page', () => {
  let lab: LabSession;
  let page: Page;
  let results: KernelResults;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    lab = await labSession();
    page = await lab.browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const t0 = Date.now();
    await page.goto(`${lab.server.url}kernel-check.html`);
    await page.waitForFunction(() => (window as unknown as { kernelResults?: { done: boolean } }).kernelResults?.done === true, null, { timeout: 100_000, polling: 250 });
    results = (await page.evaluate(() => (window as unknown as { kernelResults: unknown }).kernelResults)) as KernelResults;
    const timing = Object.entries(results.backends).map(([n, r]) => `${n} ${r.report ? (r.report.ms / 1000).toFixed(1) + ' s' : 'unavailable'}`);
    console.log(`kernel-check page: ${((Date.now() - t0) / 1000).toFixed(1)} s in all; cpu reference ${(results.referenceMs / 1000).toFixed(1)} s; ${timing.join(', ')}`);
    await screenshot(page, 'lab-kernels.png');
  }, 150_000);

  afterAll(async () => {
    await page?.close().catch(() => {});
    await lab?.close();
  });

  it('the page ran without errors and checked every case', () => {
    expect(results.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
    expect(results.cases).toBe(CASES.length);
  });

  for (const name of ['webgpu', 'webgl', 'wasm']) {
    it(`every case matches cpu on ${name}`, () => {
      const r = results.backends[name]!;
      // No silent skip: a backend that does not start fails here with its reason.
      expect(r.available, `${name}: ${r.reason}`).toBe(true);
      const rep = r.report!;
      expect(rep.cases.map((c) => c.name)).toEqual(CASES.map((c) => c.name));
      const failing = rep.cases.filter((c) => !c.pass).map((c) => `${c.name}: err ${c.maxRelErr} > tol ${c.tol}, leaked ${c.leaked}${c.error ? `, threw ${c.error}` : ''}`);
      expect(failing).toEqual([]);
      for (const c of rep.cases) {
        expect(typeof c.maxRelErr, c.name).toBe('number');
        expect(c.maxRelErr as number, c.name).toBeLessThanOrEqual(c.tol);
      }
      expect(rep.passed).toBe(CASES.length);
    });
  }

  it('webgpu runs on the SwiftShader adapter the flags ask for, and reports it', () => {
    const d = results.backends['webgpu']!.device!;
    expect(d['vendor']).toBe('google');
    expect(d['architecture']).toBe('swiftshader');
  });

  it('wasm has genphys Conv2DBackpropFilter registered and passes every conv-gradient case with it', () => {
    const r = results.backends['wasm']!;
    expect(r.device!['conv2dBackpropFilterRegistered']).toBe(true);
    const conv = r.report!.cases.filter((c) => c.convGradient);
    expect(conv.length).toBe(CASES.filter((c) => c.convGradient).length);
    expect(conv.length).toBeGreaterThanOrEqual(20);
    expect(conv.filter((c) => !c.pass).map((c) => c.name)).toEqual([]);
  });
});
