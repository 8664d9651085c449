/**
 * Energy-based models: RBMs, MCMC samplers, CD/PCD/PT training, exact and AIS
 * partition functions, metrics and the bars-and-stripes benchmark data.
 */
export {
  EXACT_PHASE_DEFAULT_COST,
  EXACT_PHASE_MAX_UNITS,
  ExactPhase,
  exactPhaseCost,
  exactPhaseInitStd,
  exactPhaseIsDefault,
  exactPhaseLayer,
  type ExactPhaseOptions,
} from './exact-phase.js';
export { unitStates, type EnergyModel, type LayerOptions, type Params, type Tempering, type UnitType } from './model.js';
export {
  BernoulliRBM,
  GaussianBernoulliRBM,
  logTwoCosh,
  softplus,
  standardize,
  type BernoulliRBMOptions,
  type GaussianBernoulliRBMOptions,
  type RBMOptions,
  type Standardized,
} from './rbm.js';
export {
  LogSumExp,
  ais,
  betaSchedule,
  bruteForceLogZ,
  enumerableLayer,
  exactLogZ,
  exactSamples,
  exactVisibleLogProbs,
  fillConfigurations,
  hiddenAis,
  logMeanExp,
  modelRateBias,
  reverseAis,
  visibleStateIndex,
  type AISOptions,
  type AISResult,
  type BetaScheduleKind,
  type EnumeratedLayer,
  type ExactOptions,
  type ModelRateOptions,
} from './partition.js';
export { chainFlipRate, freeEnergyDrift, type FreeEnergyDrift } from './mixing.js';
export { freeEnergyGap, logLikelihood, meanFreeEnergy, pseudoLikelihood, reconstructionError, type PseudoLikelihoodOptions } from './metrics.js';
export { gibbsSample, type GibbsDiagnostics } from './samplers/gibbs.js';
export { metropolisSample, type MetropolisDiagnostics, type MetropolisOptions } from './samplers/metropolis.js';
export {
  ParallelTempering,
  temperedSample,
  type LadderOptions,
  type SwapStats,
  type TemperingDiagnostics,
  type TemperingOptions,
} from './samplers/tempering.js';
export { initialStates, type ChainOptions, type SampleResult } from './samplers/common.js';
export {
  Trainer,
  resolveTrainOptions,
  scheduleFactor,
  type EpochInfo,
  type FitOptions,
  type FitResult,
  type LrSchedule,
  type ResolvedTrainOptions,
  type TrainMethod,
  type TrainOptions,
  type TrainerState,
} from './train.js';
export {
  barsAndStripesCount,
  barsAndStripesOptimalLogLikelihood,
  barsAndStripesPatterns,
  isBarsAndStripes,
  sampleBarsAndStripes,
} from './bars-and-stripes.js';
export { chiSquareTest, gammaQ, logGamma, type ChiSquareResult } from './stats.js';
export { RBM_CHECKPOINT_KIND, createModel, loadModel, saveModel, type LoadedModel, type SaveModelOptions } from './io.js';
export { rbmCheckpointInput, rbmFromCheckpoint, type RbmCheckpointOptions, type RbmCheckpointSource } from './checkpoint.js';
export {
  barsAndStripesProblem,
  defaultSuite,
  empiricalEntropy,
  fidelity,
  isingPairProblem,
  klDivergence,
  parityProblem,
  problemDataset,
  sparseBoltzmannProblem,
  tfimGroundStateProblem,
  type SparseBoltzmannProblem,
  type SuiteProblem,
  type TfimProblem,
} from './suite.js';
export { trainOnProblem, type SuiteTrainOptions, type SuiteTrainResult } from './suite-train.js';
