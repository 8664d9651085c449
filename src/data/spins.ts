/**
 * Spin configurations as plain text: one configuration per line, spins separated
 * by whitespace, written either as 0/1 or as −1/+1 (`-1`, `1`, `+1`). Blank lines
 * and `#` comments (whole-line or trailing) are ignored. The convention is detected
 * from the file; mixing the two, ragged lines, or any other token is an error that
 * names the file and line.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { DataFormatError } from '../core/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { DataNotFoundError } from './errors.js';
import { formatSpinText, parseSpinText, spinConfigurationsFromBytes, type FormatSpinOptions, type SpinConfigurations, type SpinData } from './spin-text.js';

export { formatSpinText, parseSpinText, spinConfigurationsFromBytes, type FormatSpinOptions, type SpinConfigurations, type SpinConvention, type SpinData } from './spin-text.js';

/**
 * Read a spin text file (see {@link parseSpinText}).
 * @throws DataNotFoundError when the file cannot be read
 * @throws DataFormatError when its contents are malformed
 */
export function readSpinText(path: string): SpinData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DataNotFoundError(path, `cannot read spin file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseSpinText(text, path);
}

export function writeSpinText(path: string, data: ArrayLike<number>, dim: number, opts: FormatSpinOptions = {}): void {
  writeFileAtomic(path, formatSpinText(data, dim, opts));
}

/**
 * Load configurations from a single `.npy` (int8 ±1 or 0/1, any shape [n, …]) or a
 * spin text file (0/1 or ±1; see src/data/spin-text.ts), converted to ±1.
 * For a dataset directory use {@link loadIsingDataset}.
 * @throws DataFormatError naming the file; DataNotFoundError when it cannot be read
 */
export function loadSpinConfigurations(path: string): SpinConfigurations {
  if (existsSync(path) && statSync(path).isDirectory()) throw new DataFormatError(path, 'is a directory; load it with loadIsingDataset');
  if (path.endsWith('.npy')) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new DataFormatError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return spinConfigurationsFromBytes(bytes, path);
  }
  const t = readSpinText(path);
  const spins = new Int8Array(t.data.length);
  for (let k = 0; k < spins.length; k++) spins[k] = t.data[k]! > 0 ? 1 : -1;
  return { n: t.n, dim: t.dim, spins };
}
