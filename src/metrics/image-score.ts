/**
 * The image-sample report of `gan eval` (and `classifier score`): MMD in pixels
 * beside its real-vs-real baseline with a permutation p-value, k-NN precision/recall
 * in pixels, and KID plus the Fréchet distance on a feature classifier's features
 * when one is given (KID in pixels otherwise), each with its uncertainty.
 *
 * The random streams are fixed splits of the caller's Rng (2: MMD, 3: KID, 4: the FD
 * bootstrap), the ones `gan eval` has always used after drawing its samples from
 * split 1, so a sample set scored here and the same samples scored by `gan eval`
 * give the same numbers. Pure TypeScript; browser-safe (the classifier comes in as
 * a callback).
 */
import { ShapeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { frechetDistance } from './frechet.js';
import { kid } from './kid.js';
import { mmdReport } from './mmd.js';
import { precisionRecall } from './prd.js';
import { checkSameWidth, checkSamples, type Samples } from './samples.js';

/** An estimate with its uncertainty (one standard error unless the report says otherwise). */
export interface ScoreValue {
  readonly value: number;
  readonly se: number;
}

/**
 * Features for KID and FD: e.g. the LeNet classifier's penultimate layer, `x`
 * `[n, dim of the images]` in [−1, 1] → `[n, dim]`.
 */
export interface ImageFeatures {
  /** Name recorded in the report, e.g. `LeNet (lenet-fashion-mnist.json)`. */
  readonly name: string;
  readonly embed: (x: Float32Array, n: number) => Float32Array;
  /** Width of the feature vectors. */
  readonly dim: number;
}

/** Options of {@link scoreImageSamples}. */
export interface ImageScoreOptions {
  /** Parent stream; splits 2, 3 and 4 are used (see the module comment). */
  readonly rng: Rng;
  /** Permutations for the MMD p-value (default 200). */
  readonly permutations?: number;
  /** Feature classifier for KID and FD; without it KID is computed in pixels and FD is reported unavailable. */
  readonly features?: ImageFeatures | null;
  /** Why no features were given (recorded in the report). */
  readonly featuresUnavailable?: string;
}

/** Binomial standard error of a fraction p of n. */
const binomSe = (p: number, n: number): number => Math.sqrt(Math.max(p * (1 - p), 0) / n);

/** Fewest examples per set that the report accepts (the k-NN radii and KID subsets need some room). */
export const MIN_IMAGE_SCORE_N = 20;

/**
 * Score generated images against real ones. Both sets hold the same number n of
 * rows (≥ {@link MIN_IMAGE_SCORE_N}) of flattened images in [−1, 1], as float32 (the
 * feature classifier reads float32). Neither input is modified.
 *
 * Returns `{ mmd, precision, recall, kid, fd }`: MMD as `gan eval` reports it
 * (√MMD², MMD² ± SE, kernel, baseline, p-value); precision/recall with k = 3
 * (Kynkäänniemi et al. 2019) and binomial SEs; KID (Bińkowski et al. 2018) on the
 * features over 100 subsets of up to min(1000, n/2), ± the subsets' standard
 * deviation (or in pixels over 10 subsets of up to 500); FD (Heusel et al. 2017) on
 * the features ± the SD over 10 bootstrap resamples of both sets.
 * @throws ShapeError when the sets differ in shape or have fewer than 20 rows
 */
export function scoreImageSamples(real: Samples, fake: Samples, opts: ImageScoreOptions): Record<string, unknown> {
  checkSamples('scoreImageSamples: real', real, MIN_IMAGE_SCORE_N);
  checkSamples('scoreImageSamples: fake', fake, MIN_IMAGE_SCORE_N);
  checkSameWidth('scoreImageSamples', real, fake);
  if (real.n !== fake.n) throw new ShapeError(`scoreImageSamples: ${real.n} real and ${fake.n} generated images; score equal numbers`);
  const n = real.n;
  const P = opts.permutations ?? 200;
  const rep = mmdReport(real, fake, { rng: opts.rng.split(2), permutations: P });
  const pr = precisionRecall(real, fake, { k: 3 });
  const out: Record<string, unknown> = {
    mmd: { sqrtMmd2: rep.mmd, mmd2: { value: rep.mmd2, se: rep.se }, kernel: rep.kernel, baselineSqrtMmd2: rep.baseline?.mmd, baselineMmd2: rep.baseline ? { value: rep.baseline.mmd2, se: rep.baseline.se } : undefined, pValue: rep.pValue, permutations: rep.permutations, features: 'pixels' },
    // Binomial SEs: they ignore the randomness of the k-NN manifolds themselves.
    precision: { value: pr.precision, se: binomSe(pr.precision, n), k: pr.k, features: 'pixels' },
    recall: { value: pr.recall, se: binomSe(pr.recall, n), k: pr.k, features: 'pixels' },
  };
  const kidOf = (a: Samples, b: Samples, subsets: number, size: number, features: string) => {
    // Subsets of at most half the samples, so that they differ; overlapping subsets are not independent,
    // so the uncertainty reported is their standard deviation (Bińkowski et al. 2018), not std/√subsets.
    const k = kid(a, b, { rng: opts.rng.split(3), subsets, subsetSize: Math.min(size, Math.floor(n / 2)) });
    return { value: k.mean, se: k.std, std: k.std, subsets: k.values.length, subsetSize: k.subsetSize, features };
  };
  if (opts.features) {
    const f = opts.features;
    const fr: Samples = { data: f.embed(float32Rows(real), n), n, d: f.dim };
    const ff: Samples = { data: f.embed(float32Rows(fake), n), n, d: f.dim };
    // Bińkowski et al. 2018's reporting: 100 subsets of up to 1000.
    out.kid = kidOf(fr, ff, 100, 1000, f.name);
    out.fd = { ...frechetWithBootstrap(fr.data as Float32Array, ff.data as Float32Array, n, f.dim, opts.rng.split(4)), features: f.name, uncertainty: 'SE from 10 bootstrap resamples of both sets' };
  } else {
    // Pixels cost 784 per kernel value: 10 subsets of up to 500.
    out.kid = kidOf(real, fake, 10, 500, 'pixels');
    out.fd = { available: false, reason: `FD-LeNet is unavailable: ${opts.featuresUnavailable ?? 'no feature classifier given'}` };
  }
  return out;
}

/** The first n·d values of `s` as float32 (the array itself when it already is one). */
function float32Rows(s: Samples): Float32Array {
  const v = s.data.subarray(0, s.n * s.d);
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** FD with a bootstrap SE over 10 resamples of both sets. */
function frechetWithBootstrap(a: Float32Array, b: Float32Array, n: number, d: number, rng: Rng): ScoreValue {
  const value = frechetDistance({ data: a, n, d }, { data: b, n, d });
  const reps: number[] = [];
  for (let r = 0; r < 10; r++) {
    const pick = (x: Float32Array) => {
      const o = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const j = rng.int(n);
        o.set(x.subarray(j * d, (j + 1) * d), i * d);
      }
      return o;
    };
    reps.push(frechetDistance({ data: pick(a), n, d }, { data: pick(b), n, d }));
  }
  const mean = reps.reduce((s, v) => s + v, 0) / reps.length;
  const sd = Math.sqrt(reps.reduce((s, v) => s + (v - mean) ** 2, 0) / (reps.length - 1));
  return { value, se: sd };
}
