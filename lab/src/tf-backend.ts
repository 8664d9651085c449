/**
 * The tfjs backend of a lab worker: webgpu → webgl → wasm → cpu, the first that starts
 * on real hardware (or the one a URL asks for). genphys's wasm kernel fixes are registered first, so conv
 * models train on wasm too (stock wasm lacks Conv2DBackpropFilter). Worker-side only.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmFixes } from '../../src/engine/wasm-backend.js';

/** The backends a lab panel may ask for; 'auto' takes the first that starts, in this order. */
export const LAB_BACKENDS = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type LabBackend = (typeof LAB_BACKENDS)[number];

const ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
let prepared = false;

/**
 * Whether this worker's GPU is a software renderer (SwiftShader, llvmpipe): tfjs on it is
 * much slower than on wasm (the VAE panel: 1.7 against 15–26 steps/s here), so 'auto'
 * passes it over. Returns the renderer's name when it is software, else null.
 */
async function softwareGpu(name: 'webgpu' | 'webgl'): Promise<string | null> {
  const soft = /swiftshader|llvmpipe|software|lavapipe/i;
  try {
    if (name === 'webgpu') {
      const gpu = (globalThis.navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string }; isFallbackAdapter?: boolean } | null> } }).gpu;
      const a = await gpu?.requestAdapter();
      if (!a) return null;
      const text = `${a.info?.vendor ?? ''} ${a.info?.architecture ?? ''} ${a.info?.description ?? ''}`;
      return a.isFallbackAdapter || soft.test(text) ? text.trim() || 'fallback adapter' : null;
    }
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return soft.test(renderer) ? renderer : null;
  } catch {
    return null;
  }
}

/** Why 'auto' passed over a backend (shown next to the badge), from the last {@link initTfBackend}. */
export let backendNote = '';

/**
 * Start a tfjs backend in this worker and return its name. `'auto'` tries webgpu, webgl,
 * wasm, cpu in turn, passing over a GPU backend that runs on a software renderer (and
 * saying so in {@link backendNote}); a named one is used or the call fails with the reason.
 */
export async function initTfBackend(want: LabBackend = 'auto'): Promise<string> {
  if (!prepared) {
    prepared = true;
    // The lab page is cross-origin isolated, so tfjs would pick its multi-threaded wasm
    // build, whose helper workers fail inside a worker ("e is not defined"); and tfjs
    // issue #8513 keeps it at one thread anyway.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
    registerWasmFixes();
  }
  const tries = want === 'auto' ? ORDER : [want];
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const name of tries) {
    if (name === 'webgpu' && !(globalThis.navigator as unknown as { gpu?: unknown } | undefined)?.gpu) {
      failed.push('webgpu: this browser has no WebGPU');
      continue;
    }
    if (want === 'auto' && (name === 'webgpu' || name === 'webgl')) {
      const soft = await softwareGpu(name);
      if (soft) {
        skipped.push(`${name} (software renderer: ${soft})`);
        continue;
      }
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        backendNote = skipped.length > 0 ? `passed over ${skipped.join(', ')}` : '';
        return tf.getBackend();
      }
      failed.push(`${name}: did not start`);
    } catch (e) {
      failed.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no tfjs backend started (${[...skipped, ...failed].join('; ')})`);
}
