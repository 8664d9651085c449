/** File formats: atomic writes, safetensors, checkpoints (safetensors + JSON), NumPy .npy. */
export * from './atomic.js';
export * from './checkpoint.js';
export * from './npy.js';
export * from './safetensors.js';
