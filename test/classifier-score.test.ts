/**
 * `genphys classifier score` and its library (src/metrics/score-file.ts,
 * src/metrics/image-score.ts): every accepted layout reads to the same pixels, bad
 * files fail in one line naming the file, held-out test images score near zero
 * against the test split where noise scores far off, and a GAN run's samples written
 * to .npy and scored here give exactly the numbers `gan eval` reports for that run.
 */
import { evalReportLines, formatPm } from '../src/metrics/report-text.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError, ShapeError, UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { loadImageDataset } from '../src/data/datasets.js';
import { initBackend } from '../src/engine/backend.js';
import { pixelsToSigned } from '../src/gan/data.js';
import { evaluateGanRun, generateSamples, loadGanRun, samplingGan, trainGanRun } from '../src/gan/run.js';
import { writeNpy } from '../src/io/npy.js';
import { scoreImageSamples } from '../src/metrics/image-score.js';
import { lenetFeatures, readImageSamples, scoreImageFile, type LenetFeatures } from '../src/metrics/score-file.js';
import { runCli } from './cli-helpers.js';
import { backendsUnderTest } from './engine-helpers.js';

const FASHION = '/usr/share/datasets/fashion-mnist';
const haveFashion = existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz'));
if (!haveFashion) console.warn(`classifier-score: tests on images skipped (no Fashion-MNIST in ${FASHION})`);
const root = mkdtempSync(join(tmpdir(), 'genphys-classifier-score-'));
let lenet: LenetFeatures;
beforeAll(async () => {
  await initBackend((await backendsUnderTest())[0]!, { quiet: true });
  lenet = await lenetFeatures('fashion-mnist');
});
afterAll(() => {
  lenet?.dispose();
  rmSync(root, { recursive: true, force: true });
});
let counter = 0;
const file = (tag: string) => join(root, `${tag}-${counter++}.npy`);

/** Test images lo…lo+n−1 of Fashion-MNIST in [−1, 1], flattened. */
function testImages(lo: number, n: number): Float32Array {
  const t = loadImageDataset('fashion-mnist', 'test', { dir: FASHION });
  return pixelsToSigned(t.pixels.subarray(lo * 784, (lo + n) * 784));
}

describe('readImageSamples: layouts and bad files', () => {
  it.skipIf(!haveFashion)('reads [n,28,28], [n,28,28,1], [n,1,28,28] and [n,784], float32 and float64, to the same float32 pixels', () => {
    const x = testImages(0, 3);
    const shapes = [[3, 28, 28], [3, 28, 28, 1], [3, 1, 28, 28], [3, 784]];
    for (const shape of shapes) {
      for (const data of [x, Float64Array.from(x)]) {
        const f = file('layout');
        writeNpy(f, data, shape);
        const r = readImageSamples(f);
        expect([r.n, r.d]).toEqual([3, 784]);
        expect(r.shape).toEqual(shape);
        expect(r.x).toBeInstanceOf(Float32Array);
        expect(Array.from(r.x)).toEqual(Array.from(x));
      }
    }
  });

  it('refuses a missing file, another dtype or shape, NaN, ±∞, values outside [−1, 1] and an empty set, in one line naming the file', () => {
    const cases: Array<[string, () => string, RegExp]> = [
      ['missing', () => join(root, 'nope.npy'), /nope\.npy: cannot read \(ENOENT\)$/],
      ['uint8', () => npy(new Uint8Array(784), [1, 28, 28]), /: dtype \|u1; need float32 or float64 images in \[-1, 1\]$/],
      ['32×32', () => npy(new Float32Array(2 * 1024), [2, 32, 32]), /: shape \(2, 32, 32\); need \[n, 28, 28\], \[n, 28, 28, 1\], \[n, 1, 28, 28\] or \[n, 784\]$/],
      ['RGB', () => npy(new Float32Array(784 * 3), [1, 28, 28, 3]), /: shape \(1, 28, 28, 3\); need/],
      ['NaN', () => npy(withValue(2, 800, NaN), [2, 784]), /: value NaN at flat index 800 \(image 1\); need finite values in \[-1, 1\]$/],
      ['∞', () => npy(withValue(1, 5, -Infinity, true), [1, 28, 28]), /: value -Infinity at flat index 5 \(image 0\); need finite/],
      ['above 1', () => npy(withValue(1, 3, 1.0001), [1, 784]), /: value 1\.000\d+ at flat index 3 \(image 0\) is outside \[-1, 1\]; scale pixels p in 0…255 as p\/127\.5 - 1$/],
      ['0…255', () => npy(new Float32Array(784).fill(255), [1, 784]), /: value 255 at flat index 0 \(image 0\) is outside \[-1, 1\]/],
      ['empty', () => npy(new Float32Array(0), [0, 28, 28]), /: holds no images$/],
    ];
    for (const [name, make, re] of cases) {
      const f = make();
      let err: unknown;
      try {
        readImageSamples(f);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(DataFormatError);
      const msg = (err as Error).message;
      expect(msg.startsWith(`${f}: `), name).toBe(true);
      expect(msg, name).toMatch(re);
      expect(msg.includes('\n'), name).toBe(false);
    }
    // Exactly ±1 is in range (tanh outputs and clipped x̂₀ reach it).
    const edge = new Float32Array(784).fill(1);
    edge[0] = -1;
    expect(readImageSamples(npy(edge, [1, 784])).n).toBe(1);
  });
});

function npy(data: Float32Array | Float64Array | Uint8Array, shape: number[]): string {
  const f = file('bad');
  writeNpy(f, data, shape);
  return f;
}
function withValue(n: number, i: number, v: number, f64 = false): Float32Array | Float64Array {
  const a = f64 ? new Float64Array(n * 784) : new Float32Array(n * 784);
  a[i] = v;
  return a;
}

describe.skipIf(!haveFashion)('scoreImageFile against the Fashion-MNIST test split', () => {
  it('held-out test images score near zero and far below uniform noise (FD-LeNet, MMD, precision/recall)', () => {
    const n = 200;
    const held = file('held');
    // Images 5000…5199: the reference is images 0…199, so these are other draws of the same distribution.
    writeNpy(held, testImages(5000, n), [n, 28, 28]);
    const noiseRng = new Rng(3);
    const noise = new Float32Array(n * 784);
    for (let i = 0; i < noise.length; i++) noise[i] = 2 * noiseRng.uniform() - 1;
    const nf = file('noise');
    writeNpy(nf, noise, [n, 1, 28, 28]);
    const opts = { dataset: 'fashion-mnist' as const, dataDir: FASHION, rng: new Rng(1), permutations: 20, features: lenet.features };
    type R = { n: number; data: string; fd: { value: number; se: number }; mmd: { sqrtMmd2: number; pValue: number }; precision: { value: number }; recall: { value: number }; kid: { value: number; se: number } };
    const a = scoreImageFile(held, opts) as unknown as R;
    const b = scoreImageFile(nf, opts) as unknown as R;
    expect(lenet.features).not.toBeNull();
    expect([a.n, a.data]).toEqual([n, 'fashion-mnist/test']);
    // Held-out images: FD is finite-n bias and sampling noise only (measured 25 ± 14 at n = 200,
    // noise 282 ± 30): within 3 bootstrap SEs of zero and under 15 % of the noise's.
    expect(a.fd.value).toBeGreaterThan(0);
    expect(a.fd.value).toBeLessThan(3 * a.fd.se);
    expect(a.fd.value / b.fd.value).toBeLessThan(0.15);
    expect(b.fd.value).toBeGreaterThan(5 * b.fd.se);
    // KID (± the subsets' SD): held-out 6 ± 10, within 3 SD of zero; noise 53 ± 11.
    expect(Math.abs(a.kid.value)).toBeLessThan(3 * a.kid.se);
    expect(b.kid.value).toBeGreaterThan(4 * b.kid.se);
    expect(b.kid.value).toBeGreaterThan(5 * Math.abs(a.kid.value));
    // Pixel MMD: held-out at the real-vs-real level, noise far above it with p at its floor 1/21.
    expect(a.mmd.pValue).toBeGreaterThan(0.05);
    expect(b.mmd.sqrtMmd2).toBeGreaterThan(10 * a.mmd.sqrtMmd2);
    expect(b.mmd.pValue).toBeCloseTo(1 / 21, 12);
    expect(a.precision.value).toBeGreaterThan(0.8);
    expect(a.recall.value).toBeGreaterThan(0.8);
    expect(b.precision.value).toBe(0);
  });

  it('n defaults to min(1000, images in the file); too many or too few is a one-line UsageError', () => {
    const f = file('small');
    writeNpy(f, testImages(100, 30), [30, 784]);
    const o = { dataset: 'fashion-mnist' as const, dataDir: FASHION, rng: new Rng(1), permutations: 0, features: null };
    expect((scoreImageFile(f, o) as { n: number }).n).toBe(30);
    expect(() => scoreImageFile(f, { ...o, n: 31 })).toThrow(new UsageError(`--n: 31 requested, but ${f} holds 30 images`));
    expect(() => scoreImageFile(f, { ...o, n: 19 })).toThrow(new UsageError('--n: image scoring needs at least 20 images, got 19'));
    const tiny = file('tiny');
    writeNpy(tiny, testImages(0, 10), [10, 784]);
    expect(() => scoreImageFile(tiny, o)).toThrow(new UsageError(`--n: image scoring needs at least 20 images, got 10 (${tiny} holds 10)`));
    // Without a classifier, KID is in pixels and FD says why it is missing.
    const r = scoreImageFile(f, { ...o, featuresUnavailable: 'test' }) as { kid: { features: string }; fd: { available: boolean; reason: string } };
    expect(r.kid.features).toBe('pixels');
    expect(r.fd).toEqual({ available: false, reason: 'FD-LeNet is unavailable: test' });
  });

  it('scoreImageSamples refuses sets of different sizes or widths', () => {
    const x = testImages(0, 20);
    const s = { data: x, n: 20, d: 784 };
    expect(() => scoreImageSamples(s, { data: x, n: 19, d: 784 }, { rng: new Rng(0) })).toThrow(ShapeError);
    expect(() => scoreImageSamples(s, { data: x, n: 20, d: 392 }, { rng: new Rng(0) })).toThrow(/two sample sets have 784 and 392 columns/);
  });
});

describe.skipIf(!haveFashion)('the same numbers as gan eval', () => {
  it("a GAN run's samples scored from .npy equal its gan eval report field for field", async () => {
    const dir = join(root, 'gan');
    await trainGanRun({
      dir,
      seed: 2,
      data: { spec: 'fashion-mnist', limit: 256, dir: FASHION },
      preset: 'course-mlp',
      overrides: { model: { generator: { hidden: [32, 64] }, discriminator: { hidden: [64, 32] } } },
      epochs: 1,
      saveEvery: 1,
      sampleEvery: 0,
    });
    const n = 120;
    const seed = 11;
    const ev = await evaluateGanRun(dir, { rng: new Rng(seed), n, permutations: 20, features: lenet.features });
    // gan eval draws its samples from split 1 of its Rng; do the same and save them.
    const run = loadGanRun(dir);
    const { gan } = samplingGan(run, true);
    const x = generateSamples(gan, n, new Rng(seed).split(1));
    if (gan !== run.gan) gan.dispose();
    run.gan.dispose();
    const f = file('gan-samples');
    writeNpy(f, x, [n, 28, 28, 1]);
    const sc = scoreImageFile(f, { dataset: 'fashion-mnist', dataDir: FASHION, n, rng: new Rng(seed), permutations: 20, features: lenet.features });
    for (const k of ['method', 'data', 'n', 'mmd', 'precision', 'recall', 'kid', 'fd']) expect(sc[k], k).toEqual(ev[k]);
    expect((sc.fd as { value: number }).value).toBeGreaterThan(0);
  }, 120000);
});

describe('genphys classifier score (CLI)', () => {
  it.skipIf(!haveFashion)('prints the report and writes the same to --json', async () => {
    const f = file('cli');
    writeNpy(f, testImages(2000, 40), [40, 28, 28]);
    const out = join(root, 'score.json');
    const r = await runCli(['--seed', '5', 'classifier', 'score', f, '--data-dir', FASHION, '--permutations', '10', '--json', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const written = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    // stdout is the text rendering of the very report written to --json.
    expect(r.out).toBe(`${evalReportLines(written).join('\n')}\nwritten to ${out}\n`);
    const fd = written['fd'] as { value: number; se: number };
    expect(r.out).toMatch(new RegExp(`^ {2}FD-LeNet +${formatPm(fd.value, fd.se).replace('.', '\\.')} `, 'm'));
    const lib = scoreImageFile(f, { dataset: 'fashion-mnist', dataDir: FASHION, rng: new Rng(5), permutations: 10, features: lenet.features });
    expect(written).toEqual(JSON.parse(JSON.stringify(lib)));
  });

  it('bad input: one line naming the file, exit 1 (data) or 2 (usage)', async () => {
    const nan = file('cli-nan');
    writeNpy(nan, withValue(1, 0, NaN), [1, 784]);
    const notNpy = join(root, 'text.npy');
    writeFileSync(notNpy, 'hello');
    const cases: Array<[string[], RegExp, number]> = [
      [[join(root, 'missing.npy')], /^genphys: .*missing\.npy: cannot read \(ENOENT\)\n$/, 1],
      [[nan], /^genphys: .*cli-nan-\d+\.npy: value NaN at flat index 0 \(image 0\); need finite values in \[-1, 1\]\n$/, 1],
      [[notNpy], /^genphys: .*text\.npy: not a \.npy file \(bad magic\)\n$/, 1],
      [[nan, '--data', 'cifar10'], /--data/, 2],
    ];
    for (const [args, re, code] of cases) {
      const r = await runCli(['classifier', 'score', ...args]);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.out).toBe('');
      if (code === 1) expect(r.err).toMatch(re);
      else expect(r.err.split('\n')[0]).toMatch(re);
    }
  });
});
