import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { batchCount, iterateBatches, shuffled, shuffledIndices, trainValSplit } from '../src/data/batch.js';

/** n rows of dim values; row i holds i·1000 + j so a row identifies itself. */
function dataset(n: number, dim: number): Float32Array {
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) x[i * dim + j] = i * 1000 + j;
  return x;
}

describe('shuffles and splits', () => {
  it('shuffledIndices is a seeded permutation', () => {
    const a = shuffledIndices(100, new Rng(1));
    expect(Array.from(a).sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(shuffledIndices(100, new Rng(1))).toEqual(a);
    expect(shuffledIndices(100, new Rng(2))).not.toEqual(a);
  });

  it('shuffled returns a permuted copy and leaves its input alone', () => {
    const idx = Uint32Array.from([5, 6, 7, 8, 9, 10, 11]);
    const s = shuffled(idx, new Rng(4));
    expect(Array.from(idx)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(s).sort((p, q) => p - q)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(s).not.toBe(idx);
  });

  it('trainValSplit partitions 0…n−1 with round(n·f) validation indices, seeded', () => {
    const { train, val } = trainValSplit(1001, 0.1, new Rng(8));
    expect(val.length).toBe(100);
    expect(train.length).toBe(901);
    const all = [...train, ...val].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    for (let i = 1; i < train.length; i++) expect(train[i]!).toBeGreaterThan(train[i - 1]!);
    expect(trainValSplit(1001, 0.1, new Rng(8)).val).toEqual(val);
    expect(trainValSplit(1001, 0.1, new Rng(9)).val).not.toEqual(val);
    expect(trainValSplit(10, 0, new Rng(1)).val.length).toBe(0);
    expect(() => trainValSplit(10, 1, new Rng(1))).toThrow(RangeError);
    expect(() => trainValSplit(10, -0.1, new Rng(1))).toThrow(RangeError);
  });
});

describe('iterateBatches', () => {
  const n = 103;
  const dim = 7;
  const data = dataset(n, dim);

  it('covers every index exactly once per epoch, gathering the right rows and labels', () => {
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const rng = new Rng(21);
    const epochs: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      let count = 0;
      for (const b of iterateBatches(data, dim, { batchSize: 16, shuffle: rng, labels })) {
        expect(b.index).toBe(count++);
        expect(b.size).toBe(b.index < 6 ? 16 : 7);
        expect(b.x.length).toBe(b.size * dim);
        for (let r = 0; r < b.size; r++) {
          const i = b.indices[r]!;
          seen.push(i);
          expect(b.labels![r]).toBe(i % 10);
          for (let j = 0; j < dim; j++) expect(b.x[r * dim + j]).toBe(i * 1000 + j);
        }
      }
      expect(count).toBe(batchCount(n, 16));
      expect([...seen].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
      epochs.push(seen);
    }
    // Shuffled: each epoch's order differs, and none is the identity.
    expect(epochs[1]).not.toEqual(epochs[0]);
    expect(epochs[0]).not.toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('reuses one buffer for every batch and never copies or modifies the dataset', () => {
    const before = data.slice();
    const buffers = new Set<ArrayBufferLike>();
    let batches = 0;
    for (const b of iterateBatches(data, dim, { batchSize: 10, shuffle: new Rng(1) })) {
      buffers.add(b.x.buffer);
      expect(b.x.buffer).not.toBe(data.buffer);
      // The buffer is one batch big, not a dataset copy.
      expect(b.x.buffer.byteLength).toBe(10 * dim * 4);
      batches++;
    }
    expect(batches).toBe(11);
    expect(buffers.size).toBe(1);
    expect(data).toEqual(before);
  });

  it('unshuffled iteration is in order; dropLast skips the short batch', () => {
    const seen: number[] = [];
    for (const b of iterateBatches(data, dim, { batchSize: 25, dropLast: true })) seen.push(...b.indices);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(batchCount(n, 25, true)).toBe(4);
  });

  it('iterates over an index subset (e.g. a validation split) exactly once each', () => {
    const { train, val } = trainValSplit(n, 0.2, new Rng(2));
    const trainCopy = train.slice();
    for (const [idx, name] of [
      [train, 'train'],
      [val, 'val'],
    ] as const) {
      const seen: number[] = [];
      for (const b of iterateBatches(data, dim, { batchSize: 8, indices: idx, shuffle: new Rng(3) })) {
        for (let r = 0; r < b.size; r++) {
          seen.push(b.indices[r]!);
          expect(b.x[r * dim]).toBe(b.indices[r]! * 1000);
        }
      }
      expect(seen.sort((p, q) => p - q), name).toEqual(Array.from(idx));
    }
    expect(train).toEqual(trainCopy); // the caller's index list is not shuffled in place
  });

  it('rejects bad arguments', () => {
    const run = (f: () => Generator) => () => [...f()];
    expect(run(() => iterateBatches(data, 0, { batchSize: 4 }))).toThrow(RangeError);
    expect(run(() => iterateBatches(data, 5, { batchSize: 4 }))).toThrow(/not a multiple/);
    expect(run(() => iterateBatches(data, dim, { batchSize: 0 }))).toThrow(/batchSize/);
    expect(run(() => iterateBatches(data, dim, { batchSize: 4, indices: Uint32Array.from([0, n]) }))).toThrow(/out of range/);
    expect(run(() => iterateBatches(data, dim, { batchSize: 4, labels: new Uint8Array(3) }))).toThrow(/3 labels for 103 rows/);
  });
});
