/**
 * The package as a user gets it: `npm pack` of a copy of the checkout (prepack builds
 * dist/ from scratch), installed into an empty project, then `npx genphys info` and
 * every subpath export run from there, each in a fresh node process. Also the OpenBLAS
 * search order behind binding.gyp, and the generated version constant.
 *
 * The install uses the npm cache `npm ci` filled (--prefer-offline) and takes ~15 s, the
 * pack ~8 s (tsc), the native compile ~7 s where OpenBLAS is found. Without network
 * and with a cold cache the install cannot work: outside CI that skips with a message;
 * in CI (CI=true) it fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from '../src/version.js';
import { SEARCH_DIRS, findOpenBlas, splitFlags, withRpath, type PkgConfigResult } from '../scripts/openblas.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; exports: Record<string, unknown> };
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

describe('src/version.ts', () => {
  it("is generated from package.json's version", () => {
    expect(VERSION).toBe(PKG.version);
    // Same text as the generator writes (so `npm pack` leaves the checkout unchanged).
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'sync-version.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('findOpenBlas (scripts/openblas.mjs, used by binding.gyp and the install script)', () => {
  const debianInc = '/usr/include/x86_64-linux-gnu/openblas-pthread/';
  const pc = (table: Record<string, PkgConfigResult>) => (args: string[]) => table[args[0]!] ?? { ok: false, error: 'unexpected call' };
  const missing: PkgConfigResult = { ok: false, error: 'Package openblas was not found in the pkg-config search path.' };

  it("takes pkg-config's flags when openblas.pc exists and its cblas.h is there", () => {
    const r = findOpenBlas({
      env: {},
      exists: (p) => p === join(debianInc, 'cblas.h'),
      pkgConfig: pc({
        '--cflags': { ok: true, out: `-I${debianInc}` },
        '--libs': { ok: true, out: '-L/usr/lib/x86_64-linux-gnu/openblas-pthread/ -lopenblas' },
        '--modversion': { ok: true, out: '0.3.21' },
      }),
    });
    // A system directory gets no rpath: ld.so and Debian's BLAS alternatives pick the library.
    expect(r).toEqual({
      found: true,
      source: 'pkg-config',
      version: '0.3.21',
      cflags: [`-I${debianInc}`],
      libs: ['-L/usr/lib/x86_64-linux-gnu/openblas-pthread/', '-lopenblas'],
      reason: null,
    });
  });

  it('adds an rpath for a custom prefix, and splits escaped blanks like pkg-config', () => {
    expect(withRpath(['-L/opt/ob/lib', '-lopenblas', '-L/usr/lib64'])).toEqual(['-L/opt/ob/lib', '-lopenblas', '-L/usr/lib64', '-Wl,-rpath,/opt/ob/lib']);
    expect(withRpath(['-L/usr/local/opt/openblas/lib'])).toEqual(['-L/usr/local/opt/openblas/lib', '-Wl,-rpath,/usr/local/opt/openblas/lib']);
    expect(splitFlags(' -I/a\\ b  -lx\n')).toEqual(['-I/a b', '-lx']);
  });

  it('falls back to the known include directories when pkg-config does not know OpenBLAS', () => {
    const brew = SEARCH_DIRS.find((d) => d.include.startsWith('/opt/homebrew'))!;
    const r = findOpenBlas({ env: {}, exists: (p) => p === join(brew.include, 'cblas.h'), pkgConfig: () => missing });
    expect(r.found).toBe(true);
    expect(r.source).toBe('search');
    expect(r.cflags).toEqual([`-I${brew.include}`]);
    expect(r.libs).toEqual([`-L${brew.lib}`, '-lopenblas', `-Wl,-rpath,${brew.lib}`]);
  });

  it('does not trust an openblas.pc whose cblas.h is missing; GENPHYS_OPENBLAS_SEARCH=0 skips the directories', () => {
    const r = findOpenBlas({
      env: { GENPHYS_OPENBLAS_SEARCH: '0' },
      // Every searched directory has a header, so only the switch can make this "not found".
      exists: (p) => p !== '/gone/cblas.h',
      pkgConfig: pc({ '--cflags': { ok: true, out: '-I/gone' }, '--libs': { ok: true, out: '-lopenblas' } }),
    });
    expect(r.found).toBe(false);
    expect(r.reason).toBe("OpenBLAS not found (pkg-config's openblas has no cblas.h in /gone; directory search off (GENPHYS_OPENBLAS_SEARCH=0))");
  });

  it('reports absence in one line naming what was tried', () => {
    const r = findOpenBlas({ env: {}, exists: () => false, pkgConfig: () => ({ ok: false, error: 'pkg-config is not installed' }) });
    expect(r.found).toBe(false);
    expect(r.source).toBeNull();
    expect(r.reason).toMatch(/^OpenBLAS not found \(pkg-config openblas: pkg-config is not installed; no cblas\.h in \/usr\/include\/x86_64-linux-gnu\/openblas-pthread, /);
    expect(r.reason).not.toContain('\n');
  });
});

/** Run a command; the output of both streams is returned together for messages. */
function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): SpawnSyncReturns<string> & { all: string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_(package|lifecycle)_/.test(k)));
  const r = spawnSync(cmd, args, { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  return Object.assign(r, { all: `${r.stdout ?? ''}${r.stderr ?? ''}` });
}

function lastLines(s: string, n = 25): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

/** npm's ways of saying the registry could not be reached. */
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b|npm error network/;

// Records every resolution into @tensorflow/* with the importing module, in a file: hooks run
// on their own thread, and the import awaits each resolve, so the file is complete once
// import() returns.
const TRACE_HOOKS = `import { appendFileSync } from 'node:fs';
let log = '';
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/node_modules/@tensorflow/')) appendFileSync(log, specifier + ' <- ' + context.parentURL + '\\n');
  return r;
}
`;

// Imports one specifier in a fresh process and says whether tfjs came along, three ways:
// the ESM resolve hook above (catches import from our ESM dist), the CommonJS cache (tfjs
// 4.22 ships CommonJS only, so however it is reached it lands there, also via require()),
// and tfjs-core's engine global (created when tfjs-core is evaluated).
const PROBE = `import { register, createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
const [spec, log, ...names] = process.argv.slice(2);
writeFileSync(log, '');
register('./trace-hooks.mjs', import.meta.url, { data: { log } });
let mod;
try {
  mod = await import(spec);
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e.code ?? e.message) }));
  process.exit(0);
}
const esm = readFileSync(log, 'utf8').split('\\n').filter(Boolean);
const cjs = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/@tensorflow/'));
const types = Object.fromEntries(names.map((n) => [n, typeof mod[n]]));
const extra = typeof mod.onsagerTc === 'function' ? mod.onsagerTc(1) : typeof mod.VERSION === 'string' ? mod.VERSION : null;
process.stdout.write(JSON.stringify({ esm, cjs, engine: '_tfengine' in globalThis, types, extra }));
`;

/** What `npm pack --json` says about the tarball. */
interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

interface Probe {
  readonly error?: string;
  readonly esm: string[];
  readonly cjs: string[];
  readonly engine: boolean;
  readonly types: Record<string, string>;
  readonly extra: number | string | null;
}

/** Each export, names it must provide, and whether importing it may load tfjs. */
const SUBPATHS: readonly { spec: string; names: string[]; tfjs: boolean | null }[] = [
  { spec: 'genphys/core', names: ['Rng', 'UsageError', 'ShapeError', 'GenphysError'], tfjs: false },
  { spec: 'genphys/physics', names: ['kaufmanSquare', 'onsagerTc', 'onsagerMagnetisation'], tfjs: false },
  { spec: 'genphys/ebm', names: ['BernoulliRBM', 'exactLogZ', 'ais', 'Trainer'], tfjs: false },
  { spec: 'genphys/io', names: ['encodeSafetensors', 'decodeSafetensors'], tfjs: false },
  { spec: 'genphys/data', names: ['parseIdx', 'encodeIdx', 'binarizeStatic'], tfjs: false },
  { spec: 'genphys/metrics', names: ['mmd2Unbiased', 'kid', 'frechetDistance'], tfjs: false },
  { spec: 'genphys/run', names: ['runTraining', 'prepareRun', 'registerModel'], tfjs: false },
  { spec: 'genphys/sweep', names: ['parseSweepSpec', 'expandSweep', 'jobId'], tfjs: false },
  { spec: 'genphys/metrics/classifier', names: ['loadFeatureClassifier', 'LeNet'], tfjs: true },
  // The two that do load tfjs are the detector's positive controls.
  { spec: 'genphys/vae', names: ['DiagonalNormal', 'bernoulliLogProb'], tfjs: true },
  { spec: 'genphys/gan', names: ['Gan', 'GanTrainer', 'gradientPenalty'], tfjs: true },
  { spec: 'genphys/diffusion', names: ['NoiseSchedule', 'GaussianDiffusion', 'Unet'], tfjs: true },
  { spec: 'genphys', names: ['Rng', 'VERSION', 'physics', 'ebm', 'vae', 'io', 'data', 'engine'], tfjs: true },
];

describe('the packed tarball, installed into an empty project', () => {
  let work = '';
  let proj = '';
  let packed: PackResult | null = null;
  let install: ReturnType<typeof sh> | null = null;
  let skipReason = '';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'genphys-pack-'));
    // A copy, so prepack's clean rebuild of dist/ never races tests reading the checkout's dist/.
    const copy = join(work, 'checkout');
    mkdirSync(copy);
    const generated = new Set(['node_modules', 'dist', 'build', 'runs', 'coverage', '.git']);
    for (const e of readdirSync(ROOT)) if (!generated.has(e)) cpSync(join(ROOT, e), join(copy, e), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
    const out = join(work, 'out');
    mkdirSync(out);
    const pack = sh('npm', ['pack', '--json', '--pack-destination', out], copy);
    if (pack.status !== 0) throw new Error(`npm pack failed (exit ${pack.status}):\n${lastLines(pack.all)}`);
    packed = (JSON.parse(pack.stdout) as PackResult[])[0]!;

    proj = join(work, 'proj');
    mkdirSync(proj);
    // npm 11 warns about a dependency's install script the project has not allowed, and with
    // strict-allow-scripts refuses to install; allowing it keeps the test independent of that setting.
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'genphys-package-test', private: true, type: 'module', allowScripts: { genphys: true } }));
    writeFileSync(join(proj, 'trace-hooks.mjs'), TRACE_HOOKS);
    writeFileSync(join(proj, 'probe.mjs'), PROBE);
    const empty = join(work, 'no-pkgconfig');
    mkdirSync(empty);
    // First install as on a machine without OpenBLAS: pkg-config's search path replaced by an
    // empty directory (so openblas.pc is not found) and the directory search switched off.
    install = sh(
      'npm',
      ['install', join(out, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
      proj,
      { PKG_CONFIG_LIBDIR: empty, PKG_CONFIG_PATH: '', GENPHYS_OPENBLAS_SEARCH: '0' },
      180_000,
    );
    if (install.status !== 0 && NETWORK_ERROR.test(install.all) && !IN_CI) {
      skipReason = 'npm could not reach the registry and its cache lacks a dependency';
      console.warn(`skipping the installed-package tests: ${skipReason}:\n${lastLines(install.all, 5)}`);
    } else if (install.status !== 0) {
      throw new Error(`npm install of the tarball failed (exit ${install.status}):\n${lastLines(install.all)}`);
    }
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds dist with types, the native sources, binding.gyp and the install scripts, and nothing else', () => {
    const files = packed!.files.map((f) => f.path).sort();
    const top = [...new Set(files.map((f) => f.split('/')[0]!))].sort();
    expect(top).toEqual(['README.md', 'binding.gyp', 'dist', 'models', 'native', 'package.json', 'scripts']);
    expect(files.filter((f) => f.startsWith('scripts/'))).toEqual(['scripts/build-native.mjs', 'scripts/dnnl.mjs', 'scripts/openblas.mjs']);
    expect(files.filter((f) => f.startsWith('native/'))).toEqual(['native/compute.cc', 'native/compute.h', 'native/conv-dnnl.cc', 'native/conv-dnnl.h', 'native/genphys_native.cc']);
    expect(files).toContain('dist/cli/bin.js');
    // Source maps point at src/, which is not shipped.
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const [sub, target] of Object.entries(PKG.exports)) {
      if (typeof target === 'string') continue;
      const t = target as { types: string; import: string };
      expect(files, `${sub} → ${t.import}`).toContain(t.import.slice(2));
      expect(files, `${sub} → ${t.types}`).toContain(t.types.slice(2));
    }
  });

  it('installs without OpenBLAS, saying why, and `genphys info` shows the version and the wasm backend', (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    expect(install!.all).toMatch(/genphys: native backend unavailable \(OpenBLAS not found \(pkg-config openblas: .*directory search off/);
    const info = sh('npx', ['--no', '--', 'genphys', 'info'], proj);
    expect(info.status, info.all).toBe(0);
    const lines = info.stdout.split('\n');
    expect(lines[0]).toBe(`genphys ${PKG.version}`);
    expect(lines[3]).toMatch(/^tensor backend: wasm \(BLAS: XNNPACK.*; threads: \d+/);
    expect(lines[4]).toMatch(/^native addon: not available \(/);
    const v = sh('npx', ['--no', '--', 'genphys', '--version'], proj);
    expect(v.stdout.trim()).toBe(PKG.version);
  });

  it('imports every subpath on its own; core, physics, ebm, io, data and metrics do not load @tensorflow/tfjs', (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    for (const { spec, names, tfjs } of SUBPATHS) {
      const r = sh(process.execPath, ['probe.mjs', spec, join(work, 'trace.log'), ...names], proj);
      expect(r.status, `${spec}: ${r.all}`).toBe(0);
      const p = JSON.parse(r.stdout) as Probe;
      expect(p.error, spec).toBeUndefined();
      expect(p.types, spec).toEqual(Object.fromEntries(names.map((n) => [n, expect.stringMatching(/^(function|object|string)$/)])));
      const loaded = { esm: p.esm.length > 0, cjs: p.cjs.length > 0, engine: p.engine };
      if (tfjs !== null) expect(loaded, `${spec}: ${p.esm.slice(0, 3).join('; ')}`).toEqual({ esm: tfjs, cjs: tfjs, engine: tfjs });
      // The installed code runs, not just loads: Onsager's T_c = 2/ln(1+√2) (Onsager 1944), and the version.
      if (spec === 'genphys/physics') expect(p.extra).toBeCloseTo(2 / Math.log(1 + Math.SQRT2), 14);
      if (spec === 'genphys') expect(p.extra).toBe(PKG.version);
    }
    // Only the export map's paths resolve.
    const deep = sh(process.execPath, ['probe.mjs', 'genphys/dist/physics/index.js', join(work, 'trace.log')], proj);
    expect((JSON.parse(deep.stdout) as Probe).error).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('gives TypeScript the types of every subpath (NodeNext resolution)', (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    writeFileSync(
      join(proj, 'consumer.ts'),
      [
        "import { kaufmanSquare } from 'genphys/physics';",
        "import { Rng, UsageError } from 'genphys/core';",
        "import { BernoulliRBM } from 'genphys/ebm';",
        "import { decodeSafetensors } from 'genphys/io';",
        "import { parseIdx } from 'genphys/data';",
        "import { mmd2Unbiased } from 'genphys/metrics';",
        "import { DiagonalNormal } from 'genphys/vae';",
        "import { VERSION, physics } from 'genphys';",
        "import * as gan from 'genphys/gan';",
        "import * as diffusion from 'genphys/diffusion';",
        'export const logZ: number = kaufmanSquare(4, 2.5).logZ;',
        'export const sameFn: boolean = physics.kaufmanSquare === kaufmanSquare;',
        'export const v: string = VERSION;',
        'export const used = [Rng, UsageError, BernoulliRBM, decodeSafetensors, parseIdx, mmd2Unbiased, DiagonalNormal, gan, diffusion];',
        '// @ts-expect-error the lattice size is a number (proves the types are real, not any)',
        "export const bad: number = kaufmanSquare('4', 2.5).logZ;",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules', '@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], proj);
    expect(tsc.all).toBe('');
    expect(tsc.status).toBe(0);
  });

  // Last: it replaces the wasm fallback checked above.
  it('`npm rebuild genphys` builds the native addon where OpenBLAS is found, and info then reports it', (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const blas = findOpenBlas();
    // .ci/run installs libopenblas-dev, so CI must find it; elsewhere absence is a valid outcome.
    if (IN_CI) expect(blas.reason).toBeNull();
    const rebuild = sh('npm', ['rebuild', 'genphys', '--foreground-scripts'], proj, {}, 180_000);
    expect(rebuild.status, lastLines(rebuild.all)).toBe(0);
    const info = sh('npx', ['--no', '--', 'genphys', 'info'], proj);
    expect(info.status, info.all).toBe(0);
    const lines = info.stdout.split('\n');
    if (blas.found) {
      expect(rebuild.all).toMatch(/genphys: native backend built against OpenBLAS/);
      expect(lines[3]).toMatch(/^tensor backend: native \(BLAS: OpenBLAS/);
      expect(lines[4]).toBe('native addon: available');
    } else {
      expect(rebuild.all).toContain(`genphys: native backend unavailable (${blas.reason})`);
      expect(lines[3]).toMatch(/^tensor backend: wasm /);
    }
  });
});
