/**
 * Engine entry point: dense kernels for the energy models and tfjs backend
 * selection for the autograd models.
 */
import { UsageError } from '../core/errors.js';
import type { Kernels } from './kernels.js';
import { jsKernels } from './js-kernels.js';
import { nativeKernels } from './native.js';

export type { Kernels, KernelsName } from './kernels.js';
export { jsKernels } from './js-kernels.js';

/**
 * The fastest available dense kernels (native addon if built, else TypeScript).
 * `GENPHYS_KERNELS=js` forces the TypeScript ones.
 */
export function getKernels(): Kernels {
  if (selected) return selected;
  // Read through globalThis: a browser has no `process`.
  if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.GENPHYS_KERNELS === 'js') return jsKernels;
  return nativeKernels ?? jsKernels;
}

let selected: Kernels | null = null;

/**
 * Use `kernels` for models built afterwards (null: back to the fastest available). For
 * kernel sets built at run time, such as the wasm ones of wasm-kernels.ts that the lab's
 * RBM panel trains on; the CLI chooses with {@link selectKernels}.
 */
export function useKernels(kernels: Kernels | null): void {
  selected = kernels;
}

/**
 * Choose the dense kernels as a `--backend` asks: 'native' needs the addon, 'wasm' and
 * 'cpu' use the TypeScript kernels (the same numbers on every machine; the CLI then puts
 * the XNNPACK kernels of wasm-kernels.ts in for 'wasm' with {@link useKernels}, once tfjs's
 * wasm backend has started), 'auto' the fastest available. Applies to models built afterwards.
 * @throws UsageError when 'native' is asked for and the addon is not built
 */
export function selectKernels(backend: 'auto' | 'native' | 'wasm' | 'cpu'): Kernels {
  if (backend === 'native') {
    if (!nativeKernels) throw new UsageError('--backend native: the native addon is not built (install libopenblas-dev, then npm rebuild genphys)');
    selected = nativeKernels;
  } else if (backend === 'wasm' || backend === 'cpu') selected = jsKernels;
  else selected = null;
  return getKernels();
}
