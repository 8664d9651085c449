/** File formats: atomic writes, safetensors, checkpoints (safetensors + JSON), NumPy .npy. */
export * from './atomic.js';
export * from './checkpoint.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  checkCheckpointName,
  decodeCheckpoint,
  decodeCheckpointWeights,
  encodeCheckpoint,
  parseCheckpointManifest,
  type CheckpointManifest,
  type DecodeCheckpointOptions,
  type EncodeCheckpointOptions,
  type EncodedCheckpoint,
  type Sha256,
} from './checkpoint-codec.js';
export * from './npy.js';
export * from './safetensors.js';
