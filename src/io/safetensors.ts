/**
 * Safetensors files: atomic writes and validated reads on top of the pure codec in
 * `safetensors-codec.ts` (format notes there), which is re-exported here.
 */
import { readFileSync } from 'node:fs';
import { CheckpointError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type TensorInput } from './safetensors-codec.js';

export * from './safetensors-codec.js';

/** Write tensors to a safetensors file atomically (temporary file, then rename). */
export function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Read and validate a safetensors file.
 * @throws CheckpointError when the file is missing or malformed
 */
export function readSafetensors(path: string): DecodedSafetensors {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new CheckpointError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}
