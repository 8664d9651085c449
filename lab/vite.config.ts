/**
 * The lab's build: a static folder (dist/lab) that `genphys lab` or any static host serves.
 *
 * The lab imports the genphys library from src/. Node-only modules must never reach it:
 * the one the engine needs has a browser twin (src/engine/native.ts → native-browser.ts,
 * the same mapping as the package's `browser` field), and any other import of a Node
 * built-in from genphys's own code fails the build with the importing file named.
 */
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const nativeTs = resolve(here, '../src/engine/native.ts');
const nativeBrowserTs = resolve(here, '../src/engine/native-browser.ts');
const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Swap node-only library modules for their browser twins; refuse Node built-ins. */
function browserOnly(): Plugin {
  return {
    name: 'genphys-browser-only',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      // Third-party packages (tfjs) guard their Node paths at run time; Vite stubs those imports.
      if ((builtins.has(source) || source.startsWith('node:')) && !importer?.includes('/node_modules/')) {
        this.error(`lab build: ${importer ?? '?'} imports the Node module '${source}'; keep node-only code behind node-only entry points`);
      }
      if (!importer || !/native\.(js|ts)$/.test(source)) return null;
      const r = await this.resolve(source, importer, { ...options, skipSelf: true });
      return r && r.id === nativeTs ? nativeBrowserTs : null;
    },
  };
}

// Cross-origin isolation (SharedArrayBuffer, wasm threads where the browser allows them).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here,
  base: './',
  plugins: [browserOnly()],
  worker: { format: 'es', plugins: () => [browserOnly()] },
  build: {
    outDir: resolve(here, '../dist/lab'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // The lab, and a page that checks the tfjs kernels of every backend against cpu (tests open it).
    rollupOptions: { input: { main: resolve(here, 'index.html'), kernels: resolve(here, 'kernel-check.html') } },
  },
  server: { host: '127.0.0.1', headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
});
