/**
 * tfjs's WebGPU backend in Node, on Dawn's Node bindings (the `webgpu` npm package): the
 * first step of a `--backend webgpu` for the CLI. Node-only.
 *
 * tfjs-backend-webgpu registers itself at import time only if `navigator.gpu` exists, so
 * the Dawn GPU object must be installed as `navigator.gpu` (and the WebGPU constants such as
 * `GPUBufferUsage` as globals) before that module is first imported; both are imported
 * dynamically here for that reason, and because they are optional (dev) dependencies.
 *
 * Dawn needs a Vulkan driver. Without a GPU, Chromium's SwiftShader driver works, but the
 * Vulkan loader is found through LD_LIBRARY_PATH, which the dynamic linker reads once at
 * process start: start Node with {@link SWIFTSHADER_ENV}. Read results with
 * `await t.data()`; a synchronous read (`dataSync`) from webgpu crashes Node under Dawn.
 */
import * as tf from '@tensorflow/tfjs';

/** Chromium's SwiftShader Vulkan driver manifest (Debian's chromium package). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The environment that lets Dawn use SwiftShader; it must be set when Node starts. */
export const SWIFTSHADER_ENV: Readonly<Record<string, string>> = {
  VK_ICD_FILENAMES: SWIFTSHADER_ICD,
  LD_LIBRARY_PATH: '/usr/lib/chromium',
};

/** What the WebGPU adapter says about itself (GPUAdapterInfo). */
export interface WebgpuAdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** The outcome of {@link initWebgpuNode}. */
export type WebgpuNodeStatus = { readonly available: true; readonly adapter: WebgpuAdapterInfo } | { readonly available: false; readonly reason: string };

/** The parts of Dawn's GPU objects used here (the full types come from @webgpu/types). */
interface DawnAdapter {
  readonly info?: Partial<WebgpuAdapterInfo>;
}
interface DawnGpu {
  requestAdapter(opts?: object): Promise<DawnAdapter | null>;
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

let pending: Promise<WebgpuNodeStatus> | null = null;

/**
 * Install Dawn as `navigator.gpu`, register tfjs's 'webgpu' backend, and return the
 * adapter's description, or a one-line reason why WebGPU is unavailable (package missing,
 * no adapter, backend module imported too early). Idempotent. It does not switch the
 * active backend: call `tf.setBackend('webgpu')` next.
 */
export function initWebgpuNode(): Promise<WebgpuNodeStatus> {
  pending ??= setUp();
  return pending;
}

async function optionalImport(name: string): Promise<unknown> {
  // A specifier in a variable: the package is optional, and neither tsc nor a bundler should
  // pull it (or @webgpu/types' global declarations) in.
  return import(name);
}

async function setUp(): Promise<WebgpuNodeStatus> {
  let dawn: DawnModule;
  try {
    dawn = (await optionalImport('webgpu')) as DawnModule;
  } catch (e) {
    return { available: false, reason: `webgpu: the 'webgpu' npm package (Dawn for Node) did not load (${firstLine(e)}); npm install webgpu` };
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const env = Object.entries(SWIFTSHADER_ENV)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return { available: false, reason: `webgpu: Dawn found no GPU adapter (no Vulkan driver); without a GPU, start node with ${env} (Chromium's SwiftShader)` };
  }
  const g = globalThis as Record<string, unknown>;
  // WebGPU's constant namespaces (GPUBufferUsage, GPUMapMode, ...), as a browser has them; never overwrite.
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  const nav = g['navigator'] as { gpu?: unknown } | undefined;
  if (nav === undefined || nav === null) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  else if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  try {
    await optionalImport('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return { available: false, reason: `webgpu: @tensorflow/tfjs-backend-webgpu did not load (${firstLine(e)}); npm install @tensorflow/tfjs-backend-webgpu` };
  }
  if (!tf.findBackendFactory('webgpu')) {
    return { available: false, reason: 'webgpu: @tensorflow/tfjs-backend-webgpu was imported before navigator.gpu existed, so it did not register; call initWebgpuNode() before importing it' };
  }
  const info = adapter.info ?? {};
  return {
    available: true,
    adapter: { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' },
  };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
