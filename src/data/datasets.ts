/**
 * Image datasets in IDX format: where they live and how to load them.
 *
 * - `fashion-mnist` (Xiao, Rasul & Vollgraf, arXiv:1708.07747, 2017): by default from
 *   Debian's `dataset-fashion-mnist` package in /usr/share/datasets/fashion-mnist.
 * - `mnist` (LeCun et al. 1998): a directory the user names, or the cache that
 *   `genphys data fetch mnist` fills.
 *
 * Directory resolution, first match wins: an explicit directory (the `--data-dir` flag),
 * the environment variable (`GENPHYS_FASHION_MNIST_DIR`, `GENPHYS_MNIST_DIR`), the
 * default location.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataNotFoundError, IdxFormatError } from './errors.js';
import { readIdx } from './idx.js';

import { CLASS_NAMES, DATASET_NAMES, type DatasetName } from './classes.js';

export { CLASS_NAMES, DATASET_NAMES, type DatasetName } from './classes.js';

/** Dataset split: the 60 000-image training set or the 10 000-image test set. */
export type Split = 'train' | 'test';


/** A loaded image dataset: greyscale images with one label each. */
export interface ImageDataset {
  /** Dataset name. */
  readonly name: DatasetName;
  /** Which split was loaded. */
  readonly split: Split;
  /** Number of images. */
  readonly n: number;
  /** Image height in pixels. */
  readonly rows: number;
  /** Image width in pixels. */
  readonly cols: number;
  /** Pixels, `n × rows × cols` row-major, values 0..255. */
  readonly pixels: Uint8Array;
  /** Labels, `n` values in 0 … classNames.length − 1. */
  readonly labels: Uint8Array;
  /** Class name for each label value. */
  readonly classNames: readonly string[];
  /** Directory the files were read from. */
  readonly dir: string;
}

/** Environment variable that overrides each dataset's default directory. */
export const DATASET_ENV: Readonly<Record<DatasetName, string>> = {
  'fashion-mnist': 'GENPHYS_FASHION_MNIST_DIR',
  mnist: 'GENPHYS_MNIST_DIR',
};

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The genphys download cache: `$GENPHYS_CACHE` if set, else `~/.cache/genphys`.
 * @param env - environment to consult (default `process.env`)
 */
export function cacheRoot(env: Env = process.env): string {
  const c = env['GENPHYS_CACHE'];
  return c !== undefined && c !== '' ? c : join(homedir(), '.cache', 'genphys');
}

/** How a dataset directory was chosen. */
export type DirSource = 'flag' | 'env' | 'default';

/**
 * Resolve a dataset's directory and say where the choice came from.
 * @param name - dataset
 * @param override - explicit directory (e.g. `--data-dir`); wins when given
 * @param env - environment to consult (default `process.env`)
 */
export function resolveDatasetDir(name: DatasetName, override?: string, env: Env = process.env): { dir: string; source: DirSource } {
  if (override !== undefined && override !== '') return { dir: override, source: 'flag' };
  const fromEnv = env[DATASET_ENV[name]];
  if (fromEnv !== undefined && fromEnv !== '') return { dir: fromEnv, source: 'env' };
  const dir = name === 'fashion-mnist' ? DEBIAN_FASHION_MNIST_DIR : join(cacheRoot(env), 'mnist');
  return { dir, source: 'default' };
}

/**
 * A dataset's directory: explicit `override` > environment variable > default
 * (/usr/share/datasets/fashion-mnist, or `<cache>/mnist`). Does not check existence.
 */
export function datasetDir(name: DatasetName, override?: string, env: Env = process.env): string {
  return resolveDatasetDir(name, override, env).dir;
}

/** How a user obtains each dataset; appended to "not found" messages. */
function howToGet(name: DatasetName): string {
  return name === 'fashion-mnist'
    ? `install it with 'apt-get install dataset-fashion-mnist', or point --data-dir or ${DATASET_ENV[name]} at a directory holding the IDX files`
    : `download it with 'genphys data fetch mnist', or point --data-dir or ${DATASET_ENV[name]} at a directory holding the IDX files`;
}

/** Base names of the image and label files of a split (without `.gz`). */
export function splitFileNames(split: Split): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** `dir/base.gz` if present, else `dir/base` if present, else null. */
function findFile(dir: string, base: string): string | null {
  for (const f of [`${base}.gz`, base]) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return null;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Load one split of an image dataset. Files may be gzip-compressed (`.gz`,
 * preferred when both exist) or raw.
 *
 * @param name - `fashion-mnist` or `mnist`
 * @param split - `train` or `test`
 * @param opts.dir - directory overriding the environment variable and default
 * @throws DataNotFoundError when the directory or a file is missing (with how to get it)
 * @throws IdxFormatError when a file is malformed or images and labels disagree
 */
export function loadImageDataset(name: DatasetName, split: Split, opts: { dir?: string } = {}): ImageDataset {
  const dir = datasetDir(name, opts.dir);
  if (!isDir(dir)) throw new DataNotFoundError(dir, `${name} directory not found; ${howToGet(name)}`);
  const names = splitFileNames(split);
  const imgPath = findFile(dir, names.images);
  const labPath = findFile(dir, names.labels);
  for (const [p, base] of [
    [imgPath, names.images],
    [labPath, names.labels],
  ] as const) {
    if (p === null) throw new DataNotFoundError(join(dir, `${base}.gz`), `${name} ${split} file not found; ${howToGet(name)}`);
  }
  const img = readIdx(imgPath!);
  const lab = readIdx(labPath!);
  if (img.dtype !== 'uint8' || img.dims.length !== 3) {
    throw new IdxFormatError(imgPath!, `expected uint8 images n×rows×cols, got ${img.dtype} ${img.dims.join('×')}`);
  }
  if (lab.dtype !== 'uint8' || lab.dims.length !== 1) {
    throw new IdxFormatError(labPath!, `expected uint8 labels of 1 dimension, got ${lab.dtype} ${lab.dims.join('×')}`);
  }
  const [n, rows, cols] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) {
    throw new IdxFormatError(`${imgPath} and ${labPath}`, `image count ${n} ≠ label count ${lab.dims[0]}`);
  }
  const classNames = CLASS_NAMES[name];
  const labels = lab.data as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (labels[i]! >= classNames.length) {
      throw new IdxFormatError(labPath!, `label ${labels[i]} at index ${i} is outside 0…${classNames.length - 1}`);
    }
  }
  return { name, split, n, rows, cols, pixels: img.data as Uint8Array, labels, classNames, dir };
}

/** What {@link listDataSources} found for one dataset. */
export interface DataSource {
  /** Dataset name. */
  readonly name: DatasetName;
  /** Resolved directory. */
  readonly dir: string;
  /** Whether the directory came from the override, the environment or the default. */
  readonly source: DirSource;
  /** Whether the directory exists. */
  readonly exists: boolean;
  /** Splits whose image and label files are both present. */
  readonly splits: readonly Split[];
  /** How to obtain the dataset when something is missing. */
  readonly hint: string;
}

/**
 * Where each dataset would be read from and which splits are present there
 * (files are only looked for, not parsed). Used by `genphys info` and `genphys data list`.
 *
 * @param overrides - explicit directories per dataset (as `--data-dir` would give)
 * @param env - environment to consult (default `process.env`)
 */
export function listDataSources(overrides: Partial<Record<DatasetName, string>> = {}, env: Env = process.env): DataSource[] {
  return DATASET_NAMES.map((name) => {
    const { dir, source } = resolveDatasetDir(name, overrides[name], env);
    const exists = isDir(dir);
    const splits: Split[] = [];
    if (exists) {
      for (const split of ['train', 'test'] as const) {
        const f = splitFileNames(split);
        if (findFile(dir, f.images) !== null && findFile(dir, f.labels) !== null) splits.push(split);
      }
    }
    return { name, dir, source, exists, splits, hint: howToGet(name) };
  });
}
