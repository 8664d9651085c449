/**
 * Modules the browser lab imports must not reach node: each entry below is bundled by
 * esbuild for the browser (TensorFlow.js left external) and the test fails naming the
 * import chain to any `node:` or node built-in module, and any use of node-only globals
 * (`Buffer`, `process`, `require`, `__dirname`) in the bundle.
 */
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Browser-safe modules (paths from the repository root). Append yours. */
export const BROWSER_SAFE_MODULES: string[] = [
  'src/io/safetensors-codec.ts',
  'src/io/checkpoint-codec.ts',
  'src/core/sha256.ts',
  'src/ebm/checkpoint.ts',
  'src/vae/checkpoint-codec.ts',
  'src/gan/checkpoint-codec.ts',
  'src/diffusion/checkpoint-codec.ts',
  // What the lab's engines import (the lab's own build refuses node modules too).
  'src/engine/index.ts',
  'src/engine/adam.ts',
  'src/engine/wasm-backend.ts',
  'src/engine/wasm-kernels.ts',
  'src/ebm/rbm.ts',
  'src/ebm/train.ts',
  'src/ebm/partition.ts',
  'src/ebm/metrics.ts',
  'src/physics/samplers.ts',
  'src/physics/exact.ts',
  'src/physics/observables.ts',
  'src/vae/models.ts',
  'src/vae/train.ts',
  'src/gan/networks.ts',
  'src/gan/train.ts',
  'src/diffusion/process.ts',
  'src/diffusion/train.ts',
  'src/data/toys.ts',
  'src/run/loop.ts',
  'src/data/classes.ts',
  'src/ebm/mixing.ts',
  'src/io/npy-codec.ts',
  'src/data/spin-text.ts',
  'src/viz/grid-svg.ts',
];

/**
 * Node-only modules with a browser twin: the package's `browser` field and the lab's build
 * (lab/vite.config.ts) map one to the other.
 */
const BROWSER_TWINS: Record<string, string> = { 'src/engine/native.ts': 'src/engine/native-browser.ts' };

const ROOT = join(import.meta.dirname, '..');
const BUILTINS = new Set(builtinModules);
const isBuiltin = (spec: string): boolean => spec.startsWith('node:') || BUILTINS.has(spec) || BUILTINS.has(spec.split('/')[0]!);
/** Node-only globals: a bundle that names them fails at run time in a browser, not at import. */
const NODE_GLOBALS = /(?<![\w/.$])(Buffer|process|require|__dirname|__filename)\s*[.(]/g;

interface Report {
  /** Import chains, entry first, each ending in a node module. */
  readonly chains: string[];
  /** Node-only globals the bundle uses, with a little context. */
  readonly globals: string[];
}

/** Bundle `entry` for the browser and report what in it needs node. */
async function check(entry: string): Promise<Report> {
  const result = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    // Strips comments, so prose like "the forward process." is not mistaken for code.
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'silent',
    external: ['@tensorflow/*'],
    plugins: [
      {
        name: 'node-builtins',
        // Without this esbuild refuses to resolve them for the browser; kept external so
        // the metafile records who imports them.
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) => (isBuiltin(a.path) ? { path: a.path, external: true } : undefined));
          b.onResolve({ filter: /native\.js$/ }, (a) => {
            const target = relative(ROOT, join(a.resolveDir, a.path.replace(/\.js$/, '.ts')));
            const twin = BROWSER_TWINS[target];
            return twin ? { path: join(ROOT, twin) } : undefined;
          });
        },
      },
    ],
  });
  const inputs = result.metafile.inputs;
  const start = relative(ROOT, join(ROOT, entry));
  // Breadth-first from the entry, so each chain is a shortest one.
  const parent = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  const chains: string[] = [];
  const path = (f: string): string[] => {
    const out: string[] = [];
    for (let x: string | null = f; x !== null; x = parent.get(x) ?? null) out.unshift(x);
    return out;
  };
  while (queue.length > 0) {
    const f = queue.shift()!;
    for (const imp of inputs[f]?.imports ?? []) {
      if (imp.external && isBuiltin(imp.path)) chains.push([...path(f), imp.path].join(' → '));
      else if (!imp.external && !parent.has(imp.path)) {
        parent.set(imp.path, f);
        queue.push(imp.path);
      }
    }
  }
  const text = result.outputFiles[0]!.text;
  const globals = [...text.matchAll(NODE_GLOBALS)].map((m) => text.slice(Math.max(0, m.index - 30), m.index + 30).replace(/\s+/g, ' '));
  return { chains, globals };
}

describe('browser-safe modules', () => {
  for (const entry of BROWSER_SAFE_MODULES) {
    it(`${entry} bundles for the browser without node`, async () => {
      const { chains, globals } = await check(entry);
      expect(chains, `${entry} reaches node modules:\n  ${chains.join('\n  ')}`).toEqual([]);
      expect(globals, `${entry} uses node-only globals:\n  ${globals.join('\n  ')}`).toEqual([]);
    });
  }

  it('the check itself flags a node module and names the chain', async () => {
    // checkpoint.ts is the node wrapper: it must be caught, with the chain from the entry.
    const { chains } = await check('src/io/checkpoint.ts');
    expect(chains).toContain('src/io/checkpoint.ts → node:fs');
    expect(chains).toContain('src/io/checkpoint.ts → src/io/atomic.ts → node:fs');
  });

  it('the check itself flags a node-only global', async () => {
    // atomic.ts names its temporary files with process.pid.
    const { globals } = await check('src/io/atomic.ts');
    expect(globals.some((g) => g.includes('process.'))).toBe(true);
  });
});
