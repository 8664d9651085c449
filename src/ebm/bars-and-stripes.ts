/**
 * Bars and stripes (MacKay 2003; used by Fischer & Igel 2014 for exact
 * likelihood curves): n × n binary images in which every row is all-on or
 * all-off (bars) or every column is (stripes). There are 2^(n+1) − 2 distinct
 * patterns (14 for n = 3); the target distribution is uniform over them, so the
 * best achievable mean log-likelihood is −log(2^(n+1) − 2).
 */
import type { Rng } from '../core/rng.js';
import { assertShape } from '../core/errors.js';

function check(n: number): void {
  assertShape(Number.isInteger(n) && n >= 1 && n <= 12, `bars-and-stripes size must be an integer in [1, 12], got ${n}`);
}

/** All distinct n × n patterns, row-major, ({0,1} values), each once: (2^(n+1) − 2) × n². */
export function barsAndStripesPatterns(n: number): Float32Array {
  check(n);
  const seen = new Set<string>();
  const rows: Float32Array[] = [];
  for (const stripes of [false, true])
    for (let mask = 0; mask < 2 ** n; mask++) {
      const img = new Float32Array(n * n);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++) img[r * n + c] = Math.floor(mask / 2 ** (stripes ? c : r)) % 2;
      const key = img.join('');
      if (!seen.has(key)) {
        seen.add(key);
        rows.push(img);
      }
    }
  const out = new Float32Array(rows.length * n * n);
  rows.forEach((img, i) => out.set(img, i * n * n));
  return out;
}

/** Number of distinct patterns, 2^(n+1) − 2. */
export function barsAndStripesCount(n: number): number {
  check(n);
  return 2 ** (n + 1) - 2;
}

/** The optimal mean log-likelihood −log(2^(n+1) − 2) (uniform target). */
export function barsAndStripesOptimalLogLikelihood(n: number): number {
  return -Math.log(barsAndStripesCount(n));
}

/** Whether a {0,1} (or ±1) image of n × n values is a bars-and-stripes pattern. */
export function isBarsAndStripes(img: ArrayLike<number>, n: number): boolean {
  const on = (r: number, c: number) => img[r * n + c]! > 0.5;
  let bars = true;
  let stripes = true;
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      if (on(r, c) !== on(r, 0)) bars = false;
      if (on(r, c) !== on(0, c)) stripes = false;
    }
  return bars || stripes;
}

/** `count` i.i.d. draws from the uniform distribution over the distinct patterns. */
export function sampleBarsAndStripes(n: number, count: number, rng: Rng): Float32Array {
  const pats = barsAndStripesPatterns(n);
  const k = barsAndStripesCount(n);
  const d = n * n;
  const out = new Float32Array(count * d);
  for (let i = 0; i < count; i++) {
    const j = rng.int(k);
    out.set(pats.subarray(j * d, (j + 1) * d), i * d);
  }
  return out;
}
