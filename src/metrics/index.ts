/**
 * Sample-quality metrics shared by every generative model family: MMD, KID,
 * Fréchet distance, k-NN precision/recall and the 2D toy metrics. Pure
 * TypeScript on row-major {@link Samples}; browser-safe.
 */
export { checkSameWidth, checkSamples, concatRows, dotRows, samples, selectRows, sqDist, type Samples } from './samples.js';
export {
  gaussianKernel,
  meanSqDistance,
  meanSqDistanceKernel,
  medianBandwidth,
  medianKernel,
  polynomialKernel,
  type BandwidthOptions,
  type GaussianKernel,
  type Kernel,
  type PolynomialKernelOptions,
} from './kernels.js';
export {
  MAX_PERMUTATION_POINTS,
  chooseKernel,
  mmd,
  mmd2Unbiased,
  mmdBaseline,
  mmdPermutationTest,
  mmdReport,
  type BandwidthChoice,
  type Estimate,
  type MmdOptions,
  type MmdReport,
  type MmdReportOptions,
  type MmdResult,
  type PermutationOptions,
  type PermutationResult,
} from './mmd.js';
export { kid, type KidOptions, type KidResult } from './kid.js';
export {
  frechetDistance,
  frechetFromStats,
  gaussianStats,
  sqrtPsd,
  symmetricEigen,
  type EigenOptions,
  type GaussianStats,
  type SymmetricEigen,
} from './frechet.js';
export { MIN_IMAGE_SCORE_N, scoreImageSamples, type ImageFeatures, type ImageScoreOptions, type ScoreValue } from './image-score.js';
export { knnRadii2, precisionRecall, type PrecisionRecallOptions, type PrecisionRecallResult } from './prd.js';
export {
  DEFAULT_GRID_EPS,
  gridForModes,
  gridForSamples,
  histogram2d,
  jsDivergence,
  klDivergence,
  mixtureGridProbs,
  modeCoverage,
  sampleGridDivergence,
  toyMetrics,
  type Grid2d,
  type GridDivergences,
  type GridOptions,
  type MixtureModes,
  type ModeCoverage,
  type ModeCoverageOptions,
  type ToyMetrics,
} from './toy.js';
// The LeNet feature classifier (FD-LeNet, KID on features) builds a tfjs network, so it has its
// own entry point, 'genphys/metrics/classifier', and the metrics above stay free of tfjs.
export { evalReportLines, formatPm, imageScoreLines, observableLines, toyScoreLines, OBSERVABLE_NAMES, type ObservableRow } from './report-text.js';
