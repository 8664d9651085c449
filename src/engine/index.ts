/**
 * Engine entry point: dense kernels for the energy models and tfjs backend
 * selection for the autograd models.
 */
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
  if (process.env.GENPHYS_KERNELS === 'js') return jsKernels;
  return nativeKernels ?? jsKernels;
}
