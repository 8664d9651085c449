/**
 * What a browser bundle gets in place of src/engine/native.ts (the N-API addon loader):
 * no addon, so the energy models run on the TypeScript kernels. The lab's build and the
 * package's `browser` field map native.js to this file.
 */
import type { Kernels } from './kernels.js';
import type { NativeAddon } from './native.js';

/** No addon in a browser. */
export const nativeAddon: NativeAddon | null = null;

/** Why the addon is absent. */
export const nativeLoadError: string | null = 'the native addon is not available in a browser';

/** No native kernels in a browser. */
export const nativeKernels: Kernels | null = null;
