/**
 * Kernel Inception Distance, on whatever features the caller supplies: the
 * unbiased MMD² under the cubic polynomial kernel, averaged over random subsets.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { polynomialKernel, type Kernel } from './kernels.js';
import { mmd2Unbiased } from './mmd.js';
import { checkSameWidth, checkSamples, selectRows, type Samples } from './samples.js';

/** Options of {@link kid}. */
export interface KidOptions {
  /** Random stream for the subsets. */
  readonly rng: Rng;
  /** Rows drawn (without replacement) from each set per subset. Default min(1000, ⌊min(m, n)/2⌋). */
  readonly subsetSize?: number;
  /** Number of subsets. Default 100. */
  readonly subsets?: number;
  /** Kernel; default (xᵀy/d + 1)³. */
  readonly kernel?: Kernel;
}

/** Result of {@link kid}. */
export interface KidResult {
  /** Mean of the per-subset MMD²_u values. */
  readonly mean: number;
  /** Sample standard deviation (n − 1) of the per-subset values. */
  readonly std: number;
  /** The per-subset values. */
  readonly values: Float64Array;
  /** The subset size used. */
  readonly subsetSize: number;
}

/**
 * KID (Bińkowski, Sutherland, Arbel & Gretton, ICLR 2018): MMD²_u with the
 * kernel k(x, y) = (xᵀy/d + 1)³, its mean and std over `subsets` random subsets
 * of `subsetSize` rows from each set (the reporting of their code and of
 * torchmetrics' KernelInceptionDistance). It is unbiased, so ≈ 0 (and can be
 * negative) when both sets come from one distribution.
 */
export function kid(real: Samples, fake: Samples, opts: KidOptions): KidResult {
  checkSamples('kid real', real, 3);
  checkSamples('kid fake', fake, 3);
  checkSameWidth('kid', real, fake);
  // Subsets of at most half of each set, so they differ and their spread means something (a subset of
  // every row would repeat one number: std 0).
  const size = opts.subsetSize ?? Math.min(1000, Math.floor(Math.min(real.n, fake.n) / 2));
  const count = opts.subsets ?? 100;
  if (!(Number.isInteger(size) && size >= 3)) throw new UsageError(`kid: subsetSize must be an integer ≥ 3, got ${size}`);
  if (size > real.n || size > fake.n) throw new UsageError(`kid: subsetSize ${size} exceeds the rows available (real ${real.n}, fake ${fake.n})`);
  if (!(Number.isInteger(count) && count >= 1)) throw new UsageError(`kid: subsets must be an integer ≥ 1, got ${count}`);
  const kernel = opts.kernel ?? polynomialKernel();
  const values = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    const a = size === real.n ? real : selectRows(real, opts.rng.permutation(real.n).subarray(0, size));
    const b = size === fake.n ? fake : selectRows(fake, opts.rng.permutation(fake.n).subarray(0, size));
    values[s] = mmd2Unbiased(a, b, kernel).value;
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= count;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, std: count > 1 ? Math.sqrt(ss / (count - 1)) : 0, values, subsetSize: size };
}
