// Bundle the command line (dist/cli/bin.js and what it imports, after `tsc`) into
// dist/cli-bundle/: one entry plus chunks that load per command, instead of ≈ 180 ES
// modules resolved one by one. That is ≈ 60 ms of CPU per start (BENCHMARKS.md "Sweeps":
// every sweep job is a fresh process). The library (dist/*) stays unbundled.
// Kept outside: tfjs (its wasm backend finds its .wasm files next to its own modules),
// bullmq/ioredis (Lua scripts read from their package), and the native addon.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

rmSync('dist/cli-bundle', { recursive: true, force: true });
await build({
  entryPoints: { genphys: 'dist/cli/bin.js' },
  outdir: 'dist/cli-bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@tensorflow/*', 'bullmq', 'ioredis', '*.node'],
  // CommonJS dependencies bundled into ESM call require() for Node built-ins.
  banner: { js: "import { createRequire as __genphysRequire } from 'node:module'; const require = __genphysRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync('dist/cli-bundle/genphys.js', 0o755);
