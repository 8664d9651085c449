/**
 * Scoring an external set of 28×28 images (e.g. a PyTorch model's samples, saved as
 * `.npy`) against a data set's test split, with the report `gan eval` gives a GAN run
 * ({@link scoreImageSamples}): the same real images (the first n of the test split,
 * scaled to [−1, 1] as the GANs' data), the same committed LeNet features, the same
 * random streams. Node-only (files); `genphys classifier score` is the CLI.
 */
import { DataFormatError, UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { loadImageDataset } from '../data/datasets.js';
import { pixelsToSigned } from '../gan/data.js';
import { readNpy } from '../io/npy.js';
import { loadFeatureClassifier, type ClassifierDataset } from './classifier.js';
import { MIN_IMAGE_SCORE_N, scoreImageSamples, type ImageFeatures } from './image-score.js';

/** Side of the square grey images that can be scored (both data sets are 28×28). */
const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** Images read from a `.npy` file: n flattened 28×28 images in [−1, 1] as float32. */
export interface ImageSampleFile {
  readonly file: string;
  readonly x: Float32Array;
  readonly n: number;
  /** Values per image (784). */
  readonly d: number;
  /** Shape as stored in the file. */
  readonly shape: readonly number[];
}

/**
 * Read generated images from a `.npy` file: float32 or float64, shape `[n, 28, 28]`,
 * `[n, 28, 28, 1]`, `[n, 1, 28, 28]` or `[n, 784]`, every value finite and in
 * [−1, 1] (pixels p ∈ 0…255 map to p/127.5 − 1, the GANs' and diffusion models'
 * scale). Single-channel NHWC and NCHW lay the pixels out identically, so both are read
 * as is.
 * @throws DataFormatError naming the file: missing, not .npy, other dtype or shape, NaN/∞, out of range, empty
 */
export function readImageSamples(file: string): ImageSampleFile {
  const a = readNpy(file);
  if (a.descr !== '<f4' && a.descr !== '<f8') throw new DataFormatError(file, `dtype ${a.descr}; need float32 or float64 images in [-1, 1]`);
  const s = a.shape;
  const ok = (s.length === 2 && s[1] === PIXELS) || (s.length === 3 && s[1] === SIDE && s[2] === SIDE) || (s.length === 4 && ((s[1] === SIDE && s[2] === SIDE && s[3] === 1) || (s[1] === 1 && s[2] === SIDE && s[3] === SIDE)));
  if (!ok) throw new DataFormatError(file, `shape (${s.join(', ')}); need [n, 28, 28], [n, 28, 28, 1], [n, 1, 28, 28] or [n, 784]`);
  const n = s[0]!;
  if (n === 0) throw new DataFormatError(file, 'holds no images');
  const v = a.data as Float32Array | Float64Array;
  for (let i = 0; i < v.length; i++) {
    const t = v[i]!;
    if (!Number.isFinite(t)) throw new DataFormatError(file, `value ${t} at flat index ${i} (image ${Math.floor(i / PIXELS)}); need finite values in [-1, 1]`);
    if (t < -1 || t > 1) throw new DataFormatError(file, `value ${t} at flat index ${i} (image ${Math.floor(i / PIXELS)}) is outside [-1, 1]; scale pixels p in 0…255 as p/127.5 - 1`);
  }
  const x = v instanceof Float32Array ? v : Float32Array.from(v);
  return { file, x, n, d: PIXELS, shape: s };
}

/** The committed LeNet classifier's features for KID and FD, or why there are none. */
export interface LenetFeatures {
  readonly features: ImageFeatures | null;
  /** Set when `features` is null. */
  readonly reason?: string;
  /** Frees the classifier's tensors. */
  dispose(): void;
}

/**
 * The committed LeNet feature classifier of `dataset` (the one `gan eval` uses), or
 * the first line of the reason it cannot be loaded. Needs an initialised backend.
 */
export async function lenetFeatures(dataset: ClassifierDataset): Promise<LenetFeatures> {
  try {
    const c = await loadFeatureClassifier(dataset);
    return { features: { name: `LeNet (${c.info.source.split('/').pop()})`, dim: c.featureDim, embed: (x, n) => c.features(x, n) }, dispose: () => c.dispose() };
  } catch (err) {
    return { features: null, dispose() {}, reason: (err as Error).message.split('\n')[0]! };
  }
}

/** Options of {@link scoreImageFile}. */
export interface ScoreImageFileOptions {
  readonly dataset: ClassifierDataset;
  /** IDX directory override (as `--data-dir`). */
  readonly dataDir?: string;
  /** Images compared from each side (default min(1000, the file's count, the test split's)). */
  readonly n?: number;
  readonly rng: Rng;
  /** Permutations for the MMD p-value (default 200). */
  readonly permutations?: number;
  readonly features: ImageFeatures | null;
  readonly featuresUnavailable?: string;
}

/**
 * Score the first n images of a `.npy` file (a path, or the file as
 * {@link readImageSamples} read it) against the first n images of the data set's test
 * split: `{ method, file, data, n, …scoreImageSamples }`.
 * @throws DataFormatError for a bad file ({@link readImageSamples}); UsageError when n is too large or below 20
 */
export function scoreImageFile(samples: string | ImageSampleFile, opts: ScoreImageFileOptions): Record<string, unknown> {
  const s = typeof samples === 'string' ? readImageSamples(samples) : samples;
  const file = s.file;
  const test = loadImageDataset(opts.dataset, 'test', opts.dataDir !== undefined ? { dir: opts.dataDir } : {});
  if (test.rows !== SIDE || test.cols !== SIDE) throw new DataFormatError(test.dir, `${opts.dataset} test images are ${test.rows}×${test.cols}, not 28×28`);
  if (opts.n !== undefined && opts.n > s.n) throw new UsageError(`--n: ${opts.n} requested, but ${file} holds ${s.n} images`);
  if (opts.n !== undefined && opts.n > test.n) throw new UsageError(`--n: ${opts.n} requested, but the ${opts.dataset} test split holds ${test.n} images`);
  const n = opts.n ?? Math.min(1000, s.n, test.n);
  if (n < MIN_IMAGE_SCORE_N) throw new UsageError(`--n: image scoring needs at least ${MIN_IMAGE_SCORE_N} images, got ${n}${opts.n === undefined ? ` (${file} holds ${s.n})` : ''}`);
  const real = { data: pixelsToSigned(test.pixels.subarray(0, n * PIXELS)), n, d: PIXELS };
  const fake = { data: s.x.subarray(0, n * PIXELS), n, d: PIXELS };
  const score = scoreImageSamples(real, fake, {
    rng: opts.rng,
    ...(opts.permutations !== undefined ? { permutations: opts.permutations } : {}),
    features: opts.features,
    ...(opts.featuresUnavailable !== undefined ? { featuresUnavailable: opts.featuresUnavailable } : {}),
  });
  return { method: 'images', file, data: `${opts.dataset}/test`, n, ...score };
}
