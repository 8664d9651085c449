import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataNotFoundError, IdxFormatError } from '../src/data/errors.js';
import {
  CLASS_NAMES,
  DEBIAN_FASHION_MNIST_DIR,
  datasetDir,
  listDataSources,
  loadImageDataset,
  resolveDatasetDir,
} from '../src/data/datasets.js';
import { encodeIdx } from '../src/data/idx.js';
import { synthPixel, writeSyntheticDataset } from './fixtures/data/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-data-ds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const haveFashion = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
if (!haveFashion) console.warn(`skipping Fashion-MNIST tests: ${DEBIAN_FASHION_MNIST_DIR} missing (apt-get install dataset-fashion-mnist)`);
const SHARED_MNIST = join(__dirname, '..', '..', 'shared', 'data', 'mnist');
const haveShared = existsSync(join(SHARED_MNIST, 't10k-images-idx3-ubyte.gz'));
if (!haveShared) console.warn(`skipping real MNIST test-set tests: ${SHARED_MNIST} missing`);

function catchErr(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('datasetDir resolution', () => {
  it('explicit dir > environment variable > default', () => {
    const env = { GENPHYS_FASHION_MNIST_DIR: '/env/fm', GENPHYS_MNIST_DIR: '/env/m', GENPHYS_CACHE: '/c' };
    expect(datasetDir('fashion-mnist', '/flag', env)).toBe('/flag');
    expect(resolveDatasetDir('fashion-mnist', undefined, env)).toEqual({ dir: '/env/fm', source: 'env' });
    expect(resolveDatasetDir('mnist', undefined, env)).toEqual({ dir: '/env/m', source: 'env' });
    expect(resolveDatasetDir('fashion-mnist', undefined, {})).toEqual({ dir: DEBIAN_FASHION_MNIST_DIR, source: 'default' });
    expect(resolveDatasetDir('mnist', undefined, { GENPHYS_CACHE: '/c' })).toEqual({ dir: '/c/mnist', source: 'default' });
    expect(datasetDir('mnist', undefined, {})).toBe(join(homedir(), '.cache', 'genphys', 'mnist'));
    // Empty strings count as unset.
    expect(datasetDir('mnist', '', { GENPHYS_MNIST_DIR: '', GENPHYS_CACHE: '' })).toBe(join(homedir(), '.cache', 'genphys', 'mnist'));
  });
});

describe('loadImageDataset on synthetic files', () => {
  const dir = join(tmp, 'synth');
  writeSyntheticDataset(dir, { nTrain: 50, nTest: 20, rows: 6, cols: 5 });

  it('loads both splits with the right shapes, pixels and labels', () => {
    for (const [split, n] of [
      ['train', 50],
      ['test', 20],
    ] as const) {
      const ds = loadImageDataset('mnist', split, { dir });
      expect([ds.n, ds.rows, ds.cols]).toEqual([n, 6, 5]);
      expect(ds.split).toBe(split);
      expect(ds.dir).toBe(dir);
      expect(ds.classNames).toBe(CLASS_NAMES.mnist);
      expect(ds.pixels.length).toBe(n * 30);
      for (const [i, r, c] of [
        [0, 0, 0],
        [n - 1, 5, 4],
        [3, 2, 1],
      ] as const) {
        expect(ds.pixels[(i * 6 + r) * 5 + c]).toBe(synthPixel(i, r, c));
      }
      expect(Array.from(ds.labels)).toEqual(Array.from({ length: n }, (_, i) => i % 10));
    }
  });

  it('reads uncompressed files too', () => {
    const raw = join(tmp, 'raw');
    writeSyntheticDataset(raw, { gz: false, nTrain: 12 });
    expect(loadImageDataset('fashion-mnist', 'train', { dir: raw }).n).toBe(12);
  });

  it('image/label count mismatch names both files', () => {
    const bad = join(tmp, 'mismatch');
    writeSyntheticDataset(bad, { nTrain: 30, nTrainLabels: 29 });
    const err = catchErr(() => loadImageDataset('mnist', 'train', { dir: bad }));
    expect(err).toBeInstanceOf(IdxFormatError);
    expect(err.message).toBe(
      `${join(bad, 'train-images-idx3-ubyte.gz')} and ${join(bad, 'train-labels-idx1-ubyte.gz')}: image count 30 ≠ label count 29`,
    );
  });

  it('labels out of range and wrong ranks are format errors', () => {
    const bad = join(tmp, 'badlabels');
    writeSyntheticDataset(bad, { nTrain: 5 });
    writeFileSync(join(bad, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx({ dtype: 'uint8', dims: [5], data: [0, 1, 10, 2, 3] })));
    expect(catchErr(() => loadImageDataset('mnist', 'train', { dir: bad })).message).toMatch(/label 10 at index 2 is outside 0…9/);
    writeFileSync(join(bad, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx({ dtype: 'int32', dims: [5], data: [0, 1, 2, 2, 3] })));
    expect(catchErr(() => loadImageDataset('mnist', 'train', { dir: bad }))).toBeInstanceOf(IdxFormatError);
    writeFileSync(join(bad, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx({ dtype: 'uint8', dims: [5, 4], data: new Uint8Array(20) })));
    expect(catchErr(() => loadImageDataset('mnist', 'train', { dir: bad })).message).toMatch(/expected uint8 images n×rows×cols, got uint8 5×4/);
  });

  it('a missing directory or file says how to get the data', () => {
    const nowhere = join(tmp, 'does-not-exist');
    const e1 = catchErr(() => loadImageDataset('fashion-mnist', 'train', { dir: nowhere }));
    expect(e1).toBeInstanceOf(DataNotFoundError);
    expect(e1.message).toContain(nowhere);
    expect(e1.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e1.message).not.toContain('\n');
    const e2 = catchErr(() => loadImageDataset('mnist', 'test', { dir: nowhere }));
    expect(e2.message).toContain('genphys data fetch mnist');
    // Test-only directory: train split missing, test split fine.
    const testOnly = join(tmp, 'testonly');
    writeSyntheticDataset(testOnly);
    rmSync(join(testOnly, 'train-images-idx3-ubyte.gz'));
    const e3 = catchErr(() => loadImageDataset('mnist', 'train', { dir: testOnly }));
    expect(e3.message).toContain(join(testOnly, 'train-images-idx3-ubyte.gz'));
    expect(e3.message).toContain('genphys data fetch mnist');
    expect(loadImageDataset('mnist', 'test', { dir: testOnly }).n).toBe(20);
  });
});

describe('listDataSources', () => {
  it('reports directory, source, existence and complete splits', () => {
    const testOnly = join(tmp, 'list-testonly');
    writeSyntheticDataset(testOnly);
    rmSync(join(testOnly, 'train-labels-idx1-ubyte.gz'));
    const env = { GENPHYS_MNIST_DIR: testOnly };
    const got = listDataSources({ 'fashion-mnist': join(tmp, 'missing') }, env);
    expect(got.map((s) => s.name)).toEqual(['fashion-mnist', 'mnist']);
    expect(got[0]).toMatchObject({ dir: join(tmp, 'missing'), source: 'flag', exists: false, splits: [] });
    expect(got[0]!.hint).toContain('apt-get install dataset-fashion-mnist');
    expect(got[1]).toMatchObject({ dir: testOnly, source: 'env', exists: true, splits: ['test'] });
  });
});

describe('real datasets', () => {
  it.skipIf(!haveFashion)('Fashion-MNIST train: 60000×28×28, 6000 per class; test: 10000, 1000 per class', () => {
    for (const [split, n] of [
      ['train', 60000],
      ['test', 10000],
    ] as const) {
      const ds = loadImageDataset('fashion-mnist', split, { dir: DEBIAN_FASHION_MNIST_DIR });
      expect([ds.n, ds.rows, ds.cols]).toEqual([n, 28, 28]);
      const counts = new Array<number>(10).fill(0);
      for (const l of ds.labels) counts[l]!++;
      expect(counts).toEqual(new Array<number>(10).fill(n / 10));
      let max = 0;
      const px = ds.pixels;
      for (let i = 0; i < px.length; i++) if (px[i]! > max) max = px[i]!;
      expect(max).toBe(255);
    }
  });

  it.skipIf(!haveShared)('MNIST test set: 10000×28×28 with the published per-digit counts', () => {
    const ds = loadImageDataset('mnist', 'test', { dir: SHARED_MNIST });
    expect([ds.n, ds.rows, ds.cols]).toEqual([10000, 28, 28]);
    const counts = new Array<number>(10).fill(0);
    for (const l of ds.labels) counts[l]!++;
    // Test-set digit counts 0…9 as published with the dataset (LeCun et al.).
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });
});
