/**
 * Shared matchers: `toBeAllClose(expected, { rtol, atol })` compares numbers or
 * numeric arrays elementwise with |a − b| ≤ atol + rtol·|b| and reports the worst
 * offending index.
 */
import { expect } from 'vitest';

type NumArray = ArrayLike<number>;

interface CloseOpts {
  rtol?: number;
  atol?: number;
}

function toArray(x: number | NumArray): NumArray {
  return typeof x === 'number' ? [x] : x;
}

expect.extend({
  toBeAllClose(received: number | NumArray, expected: number | NumArray, opts: CloseOpts = {}) {
    const rtol = opts.rtol ?? 1e-6;
    const atol = opts.atol ?? 0;
    const a = toArray(received);
    const b = toArray(expected);
    if (a.length !== b.length) {
      return { pass: false, message: () => `length ${a.length} ≠ expected length ${b.length}` };
    }
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < a.length; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      const tol = atol + rtol * Math.abs(bi);
      const d = Math.abs(ai - bi);
      const bad = !(d <= tol) || Number.isNaN(ai) !== Number.isNaN(bi);
      if (bad && (worst < 0 || d - tol > worstExcess || Number.isNaN(d))) {
        worst = i;
        worstExcess = d - tol;
      }
    }
    const pass = worst < 0;
    return {
      pass,
      message: () =>
        pass
          ? `expected arrays not to be close (rtol=${rtol}, atol=${atol})`
          : `index ${worst}: got ${a[worst]}, expected ${b[worst]} (|diff|=${Math.abs(a[worst]! - b[worst]!)}, rtol=${rtol}, atol=${atol})`,
    };
  },
});

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  interface Matchers<T = any> {
    toBeAllClose(expected: number | ArrayLike<number>, opts?: CloseOpts): T;
  }
}
