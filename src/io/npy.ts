/**
 * NumPy `.npy` files, written from the published format description
 * (numpy.lib.format, "NPY format"): the magic `\x93NUMPY`, a major/minor version byte
 * pair, the header length (little-endian u16 in version 1.0, u32 in 2.0/3.0), an ASCII
 * Python-dict header `{'descr': '<f4', 'fortran_order': False, 'shape': (n, m), }`
 * padded with spaces and ending in a newline so the data starts at a multiple of 64,
 * then the raw C-order data.
 *
 * genphys writes version 1.0 and reads 1.0, 2.0 and 3.0, for the little-endian types
 * below only.
 */
import { readFileSync } from 'node:fs';
import { DataFormatError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { decodeNpy, encodeNpy, type NpyArray, type NpyData } from './npy-codec.js';

export { decodeNpy, encodeNpy, type NpyArray, type NpyData, type NpyDescr } from './npy-codec.js';

/**
 * Write an array to a `.npy` file atomically (temporary file, then rename).
 * Ising configurations, for example, go in as `Int8Array` of ±1 with shape `[n, L, L]`.
 */
export function writeNpy(path: string, data: NpyData, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

/**
 * Read a `.npy` file strictly.
 * @throws DataFormatError when the file is missing, malformed, truncated or of an
 *   unsupported dtype or order
 */
export function readNpy(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DataFormatError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeNpy(bytes, path);
}
