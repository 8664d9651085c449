/**
 * Resource limits checked before allocating, so an absurd size is a one-line error
 * instead of an out-of-memory crash or a hang.
 */
import { totalmem } from 'node:os';
import { UsageError } from '../core/errors.js';

/** Largest typed-array length V8 allows here. */
const MAX_ELEMENTS = 2 ** 32 - 1;

/**
 * Refuse an allocation of `elements` values of `bytesPer` bytes when it cannot fit: more
 * elements than a typed array holds, or more than half the machine's memory.
 * @param what - names the flag or field, e.g. "--hidden 99999999999 (W: 784 × 99999999999)"
 */
export function checkAllocation(elements: number, bytesPer: number, what: string): void {
  const bytes = elements * bytesPer;
  const limit = totalmem() / 2;
  if (!Number.isFinite(elements) || elements > MAX_ELEMENTS || bytes > limit) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1)} GiB`;
    throw new UsageError(`${what}: needs ${Number.isFinite(bytes) ? gib(bytes) : 'unbounded memory'}, more than half of this machine's ${gib(totalmem())}`);
  }
}
