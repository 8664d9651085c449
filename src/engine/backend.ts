/**
 * Tensor-backend selection for the autograd models (VAEs and friends).
 *
 * Order of preference: `native` (N-API addon with OpenBLAS, when built) >
 * `wasm` (tfjs's WebAssembly backend with genphys's kernel fixes) > `cpu`
 * (tfjs's plain JavaScript backend). `GENPHYS_BACKEND` or an explicit name
 * forces one.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GenphysError, UsageError } from '../core/errors.js';
import { registerWasmFixes } from './wasm-backend.js';

/** A concrete tensor backend genphys can run on. */
export type BackendName = 'native' | 'wasm' | 'cpu';

/** What {@link initBackend} accepts: a concrete backend or 'auto'. */
export type BackendChoice = 'auto' | BackendName;

/** The accepted backend names, in the order they are listed in messages. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'native', 'wasm', 'cpu'];

/** Description of the active tensor backend. */
export interface BackendInfo {
  /** tfjs backend name. */
  readonly name: BackendName;
  /** Library doing the dense linear algebra, e.g. "OpenBLAS 0.3.21 (pthread)" or "XNNPACK (wasm SIMD)". */
  readonly blas: string;
  /** Threads the heavy kernels use. */
  readonly threads: number;
  /** Whether WebAssembly SIMD is used (wasm backend only). */
  readonly simd?: boolean;
  /** Why a faster backend was not used, when it was not (e.g. why the native addon is missing). */
  readonly fallbackReason?: string;
}

/** How to get the native backend, shown whenever it is missing. */
export const NATIVE_HINT =
  'to get it, install a C++ toolchain and OpenBLAS (apt-get install -y g++ make python3 libopenblas-dev) and run `npm rebuild genphys` (or `npm ci` in a checkout)';

/** Result of probing the native backend module. */
interface NativeProbe {
  readonly ok: boolean;
  readonly reason?: string;
  readonly blas?: string;
  readonly threads?: number;
}

let nativeProbe: Promise<NativeProbe> | null = null;
let wasmPathsSet = false;
let current: BackendInfo | null = null;
let hintPrinted = false;

/**
 * The optional sibling modules, imported by literal specifiers so that the bundled CLI
 * (scripts/bundle-cli.mjs) carries them; a build without them loads without them.
 */
const OPTIONAL_MODULES = {
  './native-backend.js': () => import('./native-backend.js'),
  './native.js': () => import('./native.js'),
} as const;

/** Import an optional sibling module (the native backend), or say why it is absent. */
async function importOptional(spec: keyof typeof OPTIONAL_MODULES): Promise<{ mod: Record<string, unknown> | null; error?: string }> {
  try {
    return { mod: (await OPTIONAL_MODULES[spec]()) as unknown as Record<string, unknown> };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Failed to load url|does not exist/i.test(errorText(e));
    return missing ? { mod: null } : { mod: null, error: errorText(e) };
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** Try to register the native backend once; remember why it failed. */
function probeNative(): Promise<NativeProbe> {
  if (nativeProbe) return nativeProbe;
  nativeProbe = (async (): Promise<NativeProbe> => {
    const { mod, error } = await importOptional('./native-backend.js');
    if (error !== undefined) return { ok: false, reason: `the native backend failed to load (${error})` };
    if (!mod || typeof mod['registerNativeBackend'] !== 'function') {
      return { ok: false, reason: 'this build of genphys has no native backend module' };
    }
    let ok = false;
    try {
      ok = (mod['registerNativeBackend'] as () => boolean)() === true;
    } catch (e) {
      return { ok: false, reason: `the native addon failed to load (${errorText(e)})` };
    }
    const kmod = (await importOptional('./native.js')).mod;
    const reasonExport = kmod?.['nativeLoadError'] ?? mod['nativeLoadError'];
    if (!ok) {
      const why = typeof reasonExport === 'string' && reasonExport !== '' ? reasonExport : 'the native addon is not built';
      return { ok: false, reason: why };
    }
    const k = kmod?.['nativeKernels'] as { blas?: unknown; threads?: unknown } | null | undefined;
    return {
      ok: true,
      blas: typeof k?.blas === 'string' ? k.blas : 'OpenBLAS',
      threads: typeof k?.threads === 'number' ? k.threads : 1,
    };
  })();
  return nativeProbe;
}

/** Directory holding tfjs-backend-wasm's .wasm binaries. */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

function prepareWasm(): void {
  if (wasmPathsSet) return;
  // In Node the .wasm files are not found relative to the bundle; point at the package.
  setWasmPaths(wasmDir());
  registerWasmFixes();
  wasmPathsSet = true;
}

/** Parse a backend name from a flag or the environment. */
function parseChoice(value: string, source: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new UsageError(`${source}: unknown backend '${value}'; choose one of ${BACKEND_CHOICES.join(', ')}.`);
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'wasm') prepareWasm();
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch {
    ok = false;
  }
  if (!ok) return false;
  await tf.ready();
  // tfjs-backend-cpu (also the storage of 'native') prints a multi-line "install
  // tfjs-node" banner on first write in Node; tfjs-node cannot install here, and we
  // report the backend ourselves.
  const be = tf.backend() as unknown as { firstUse?: boolean };
  if ('firstUse' in be) be.firstUse = false;
  return true;
}

function describe(name: BackendName, native: NativeProbe | null, fallbackReason?: string): BackendInfo {
  const extra = fallbackReason !== undefined ? { fallbackReason } : {};
  if (name === 'native') {
    return { name, blas: native?.blas ?? 'OpenBLAS', threads: native?.threads ?? 1, ...extra };
  }
  if (name === 'wasm') {
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    return { name, blas: `XNNPACK (WebAssembly${simd ? ' SIMD' : ''})`, threads: 1, simd, ...extra };
  }
  return { name, blas: 'none (JavaScript loops)', threads: 1, ...extra };
}

/**
 * Register genphys's backends, choose one and make it tfjs's active backend.
 *
 * `name` 'auto' (the default) consults `GENPHYS_BACKEND`, then picks
 * native > wasm > cpu. A forced backend that cannot start is an error (a
 * {@link UsageError} for an unknown name, a {@link GenphysError} saying why and
 * how to get it for a missing native addon). Unless `quiet`, prints one line on
 * stderr when the native addon is not available, naming the backend used
 * instead and how to get the native one.
 */
export async function initBackend(name: BackendChoice = 'auto', opts: { quiet?: boolean } = {}): Promise<BackendInfo> {
  let choice = parseChoice(String(name), '--backend');
  if (choice === 'auto') {
    const env = process.env['GENPHYS_BACKEND'];
    if (env !== undefined && env.trim() !== '') choice = parseChoice(env.trim(), 'GENPHYS_BACKEND');
  }

  const native = await probeNative();
  let info: BackendInfo;
  if (choice === 'native') {
    if (!native.ok) throw new GenphysError(`backend 'native' is not available: ${native.reason}; ${NATIVE_HINT}.`);
    if (!(await activate('native'))) throw new GenphysError(`backend 'native' failed to initialise; ${NATIVE_HINT}.`);
    info = describe('native', native);
  } else if (choice === 'wasm' || choice === 'cpu') {
    if (!(await activate(choice))) throw new GenphysError(`backend '${choice}' failed to initialise.`);
    info = describe(choice, native, native.ok ? undefined : native.reason);
  } else {
    if (native.ok && (await activate('native'))) {
      info = describe('native', native);
    } else if (await activate('wasm')) {
      info = describe('wasm', native, native.ok ? 'the native backend failed to initialise' : native.reason);
    } else if (await activate('cpu')) {
      info = describe('cpu', native, 'neither the native nor the wasm backend could start');
    } else {
      throw new GenphysError('no tensor backend could start (tried native, wasm, cpu).');
    }
  }
  current = info;
  if (!native.ok && !opts.quiet && !hintPrinted) {
    hintPrinted = true;
    process.stderr.write(`genphys: using the ${info.name} backend (native addon not available: ${native.reason}); ${NATIVE_HINT}.\n`);
  }
  return info;
}

/**
 * Description of the backend chosen by the last {@link initBackend} call, or of
 * tfjs's current backend if genphys did not choose one (null if none is active).
 */
export function backendInfo(): BackendInfo | null {
  const active = tf.getBackend() as string | undefined;
  if (current && current.name === active) return current;
  if (active === 'native' || active === 'wasm' || active === 'cpu') return describe(active, null);
  return null;
}

/**
 * Whether the native backend can be used in this process, and why not if not.
 * Does not change the active backend.
 */
export async function nativeStatus(): Promise<{ available: boolean; reason?: string; blas?: string; threads?: number }> {
  const p = await probeNative();
  return p.ok ? { available: true, blas: p.blas!, threads: p.threads! } : { available: false, reason: p.reason! };
}
