/**
 * Data: IDX readers, dataset sources and download, binarisation, batching and
 * spin text files.
 */
export { DataNotFoundError, IdxFormatError } from './errors.js';
export { encodeIdx, isGzip, parseIdx, readIdx, type IdxArray, type IdxData, type IdxDtype } from './idx.js';
export {
  CLASS_NAMES,
  DATASET_ENV,
  DATASET_NAMES,
  DEBIAN_FASHION_MNIST_DIR,
  cacheRoot,
  datasetDir,
  listDataSources,
  loadImageDataset,
  resolveDatasetDir,
  splitFileNames,
  type DataSource,
  type DatasetName,
  type DirSource,
  type ImageDataset,
  type Split,
} from './datasets.js';
export {
  DEFAULT_MNIST_MIRROR,
  MNIST_BYTES,
  MNIST_FILES,
  MNIST_MIRROR_ENV,
  MNIST_SHA256,
  fetchMnist,
  mnistMirror,
  type FetchMnistOptions,
  type FetchResult,
  type MnistFile,
} from './fetch.js';
export { binarizeDynamic, binarizeStatic, toUnitFloat } from './binarize.js';
export { batchCount, iterateBatches, shuffled, shuffledIndices, trainValSplit, type Batch, type BatchOptions } from './batch.js';
export {
  formatSpinText,
  parseSpinText,
  readSpinText,
  writeSpinText,
  type FormatSpinOptions,
  type SpinConvention,
  type SpinData,
} from './spins.js';
export { DEFAULT_TOY_COUNT, TOY_NAMES, isToySpec, loadToy, parseToySpec, sampleToy, toyModes, type ToyData, type ToyModes, type ToyName, type ToyOptions, type ToySpec } from './toys.js';
