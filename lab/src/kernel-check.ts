/**
 * The kernel-check page (lab/kernel-check.html): runs genphys's kernel-equivalence cases
 * (src/engine/kernel-cases.ts) on every tfjs backend this browser has (webgpu, webgl, wasm
 * with genphys's kernel fixes) against cpu, and publishes the result as
 * `window.kernelResults` and as JSON in the page. test/lab-kernels.test.ts reads it.
 */
import * as tf from '@tensorflow/tfjs';
import { initTfBackend } from './tf-backend.js';
import { checkKernels, kernelCases, referenceOutputs, specialValueCases, type CaseResult, type KernelReport } from '../../src/engine/kernel-cases.js';

/** The backends checked, in order. */
const ALL_BACKENDS = ['webgpu', 'webgl', 'wasm'] as const;
type Checked = (typeof ALL_BACKENDS)[number];

// For looking into one failure: ?backends=webgl,wasm runs only those, ?only=conv2d only the
// cases whose name contains that text.
const query = new URLSearchParams(location.search);
const BACKENDS: readonly Checked[] = query.has('backends') ? ALL_BACKENDS.filter((b) => query.get('backends')!.split(',').includes(b)) : ALL_BACKENDS;
const ONLY = query.get('only');

/** One backend's outcome: its report, or why it did not start. */
interface BackendResult {
  readonly available: boolean;
  /** Why the backend did not start. */
  readonly reason?: string;
  /** What the device says about itself (WebGPU adapter info, WebGL renderer, wasm features). */
  readonly device?: Record<string, unknown>;
  readonly report?: KernelReport;
  /**
   * Unary ops on IEEE edge cases (±∞, NaN, 1e-30, 3.4e38, …) against cpu: informative only,
   * since backends legitimately differ there (e.g. GPU tanh at ±∞, log1p of 1e-30).
   */
  readonly special?: KernelReport;
}

/** What the page publishes as `window.kernelResults`. */
interface KernelResults {
  done: boolean;
  userAgent: string;
  cases: number;
  referenceMs: number;
  backends: Partial<Record<Checked, BackendResult>>;
  /** A failure of the page itself (e.g. the cpu reference threw). */
  error?: string;
}

const results: KernelResults = { done: false, userAgent: navigator.userAgent, cases: 0, referenceMs: 0, backends: {} };
(window as unknown as { kernelResults: KernelResults }).kernelResults = results;

const statusEl = document.getElementById('status')!;
const outEl = document.getElementById('out')!;
const tbody = document.querySelector('#summary tbody')!;
const failuresEl = document.getElementById('failures')!;

/** JSON with ±∞ and NaN as strings (JSON has no such numbers). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2);
}

async function webgpuInfo(): Promise<Record<string, unknown>> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown>; features: Set<string> } | null> } }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) return {};
  const info = adapter.info ?? {};
  return { vendor: info['vendor'], architecture: info['architecture'], device: info['device'], description: info['description'], features: [...adapter.features].sort() };
}

function webglInfo(): Record<string, unknown> {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return {};
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return {
    version: gl.getParameter(gl.VERSION),
    vendor: ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR),
    renderer: ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
  };
}

async function wasmInfo(): Promise<Record<string, unknown>> {
  return {
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    // genphys's fix adds this kernel; stock tfjs-backend-wasm has none.
    conv2dBackpropFilterRegistered: tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined,
  };
}

function deviceLabel(name: Checked, d: Record<string, unknown> | undefined): string {
  if (!d) return '';
  if (name === 'webgpu') return ['vendor', 'architecture', 'device', 'description'].map((k) => String(d[k] ?? '')).filter((v) => v !== '').join(', ');
  if (name === 'webgl') return String(d['renderer'] ?? '');
  return `SIMD ${d['simd'] ? 'yes' : 'no'}, threads ${d['threads'] ? 'yes' : 'no'}, Conv2DBackpropFilter ${d['conv2dBackpropFilterRegistered'] ? 'registered' : 'missing'}`;
}

function cell(text: string, cls = ''): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render(): void {
  tbody.replaceChildren();
  failuresEl.replaceChildren();
  for (const name of BACKENDS) {
    const r = results.backends[name];
    if (!r) continue;
    const tr = document.createElement('tr');
    tr.dataset.testid = `row-${name}`;
    tr.append(cell(name), cell(r.available ? deviceLabel(name, r.device) : `not available: ${r.reason ?? ''}`, r.available ? '' : 'na'));
    const rep = r.report;
    if (rep) {
      const worst = Math.max(0, ...rep.cases.map((c) => (c.maxRelErr === null ? Infinity : c.maxRelErr / c.tol)));
      tr.append(cell(String(rep.passed), 'num pass'), cell(String(rep.failed), rep.failed ? 'num fail' : 'num'), cell(worst.toPrecision(2), 'num'), cell((rep.ms / 1000).toFixed(1), 'num'));
      const bad = rep.cases.filter((c) => !c.pass);
      if (bad.length) failuresEl.append(failureTable(name, bad));
    } else {
      tr.append(cell('—', 'na'), cell('—', 'na'), cell('—', 'na'), cell('—', 'na'));
    }
    tbody.append(tr);
  }
  const special = BACKENDS.filter((n) => results.backends[n]?.special?.cases.length);
  if (special.length) failuresEl.append(specialTable(special));
  outEl.textContent = toJson(results);
}

/** Which IEEE edge-case checks match cpu on each backend (informative). */
function specialTable(names: Checked[]): HTMLElement {
  const box = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = 'Unary ops on IEEE edge cases vs cpu (informative, not part of the pass count): max relative error per entry';
  const t = document.createElement('table');
  const head = document.createElement('tr');
  for (const s of ['op', ...names]) {
    const th = document.createElement('th');
    th.textContent = s;
    head.append(th);
  }
  t.append(head);
  const first = results.backends[names[0]!]!.special!.cases;
  first.forEach((c, i) => {
    const tr = document.createElement('tr');
    tr.append(cell(c.name));
    for (const n of names) {
      const r = results.backends[n]!.special!.cases[i]!;
      tr.append(cell(r.error ?? (r.maxRelErr === null ? '—' : r.maxRelErr.toPrecision(2)), r.pass ? 'num pass' : 'num fail'));
    }
    t.append(tr);
  });
  const note = document.createElement('p');
  note.textContent = 'Infinity: a NaN or ±∞ where cpu has a finite value (or the reverse); 1.0: a tiny result flushed to 0 or a wrong sign at ±∞. Tolerance 2e-6 per entry.';
  box.append(h, t, note);
  return box;
}

function failureTable(name: string, bad: CaseResult[]): HTMLElement {
  const box = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = `${name}: failing cases`;
  const t = document.createElement('table');
  const head = document.createElement('tr');
  for (const s of ['case', 'max rel. error', 'tol', 'leaked tensors', 'error']) {
    const th = document.createElement('th');
    th.textContent = s;
    head.append(th);
  }
  t.append(head);
  for (const c of bad) {
    const tr = document.createElement('tr');
    tr.append(cell(c.name), cell(c.maxRelErr === null ? '—' : c.maxRelErr.toPrecision(2), 'num fail'), cell(String(c.tol), 'num'), cell(String(c.leaked), 'num'), cell(c.error ?? ''));
    t.append(tr);
  }
  box.append(h, t);
  return box;
}

async function main(): Promise<void> {
  const cases = kernelCases().filter((c) => ONLY === null || c.name.includes(ONLY));
  results.cases = cases.length;
  statusEl.textContent = `computing the cpu reference for ${cases.length} cases…`;
  const t0 = performance.now();
  // initTfBackend registers genphys's wasm fixes (and the wasm binaries' URLs) on first use.
  await initTfBackend('cpu');
  const want = await referenceOutputs(tf, 'cpu', cases);
  const specialCases = ONLY === null ? specialValueCases() : [];
  const wantSpecial = await referenceOutputs(tf, 'cpu', specialCases);
  results.referenceMs = performance.now() - t0;
  for (const name of BACKENDS) {
    statusEl.textContent = `starting ${name}…`;
    // The threaded wasm build's pthread workers fail to start from the bundled page
    // ("e is not defined" in their blob); tfjs would then wait forever for them. Threads
    // bring nothing here anyway (LAB-NOTES: getThreadsCount() stays 1, tfjs #8513).
    if (name === 'wasm') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    try {
      await initTfBackend(name);
    } catch (e) {
      results.backends[name] = { available: false, reason: (e as Error).message };
      render();
      continue;
    }
    const device = name === 'webgpu' ? await webgpuInfo() : name === 'webgl' ? webglInfo() : await wasmInfo();
    let done = 0;
    const report = await checkKernels(tf, name, 'cpu', {
      cases,
      referenceOutputs: want,
      onCase: () => {
        done++;
        statusEl.textContent = `${name}: ${done}/${cases.length} cases`;
      },
    });
    const special = await checkKernels(tf, name, 'cpu', { cases: specialCases, referenceOutputs: wantSpecial });
    results.backends[name] = { available: true, device, report, special };
    render();
  }
  const summary = BACKENDS.map((n) => {
    const r = results.backends[n];
    return r?.report ? `${n} ${r.report.passed}/${r.report.cases.length}` : `${n} unavailable`;
  });
  statusEl.textContent = `done: ${summary.join(', ')} cases pass`;
}

main()
  .catch((e: unknown) => {
    results.error = e instanceof Error ? e.message : String(e);
    statusEl.textContent = `failed: ${results.error}`;
  })
  .finally(() => {
    results.done = true;
    render();
  });
