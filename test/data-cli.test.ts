/**
 * `genphys data list|show|fetch`, run in-process through main().
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEBIAN_FASHION_MNIST_DIR } from '../src/data/datasets.js';
import { writeSyntheticDataset } from './fixtures/data/synth.js';
import { runCli } from './cli-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-data-cli-'));
const haveFashion = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
if (!haveFashion) console.warn(`skipping 'data show fashion-mnist' test: ${DEBIAN_FASHION_MNIST_DIR} missing (apt-get install dataset-fashion-mnist)`);
const SHARED_MNIST = join(__dirname, '..', '..', 'shared', 'data', 'mnist');
const haveShared = existsSync(join(SHARED_MNIST, 't10k-images-idx3-ubyte.gz'));
if (!haveShared) console.warn(`skipping 'data show mnist --split test' test: ${SHARED_MNIST} missing`);

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((_req, res) => res.writeHead(404).end('no'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const run = runCli;

function pngSize(path: string): [number, number] {
  const png = PNG.sync.read(readFileSync(path));
  return [png.width, png.height];
}

describe('genphys data show', () => {
  it.skipIf(!haveFashion)('fashion-mnist --split train: 60000×28×28, 6000 per class, writes the grid', async () => {
    const grid = join(tmp, 'fm-grid.png');
    const r = await run(['data', 'show', 'fashion-mnist', '--split', 'train', '--grid', grid]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('fashion-mnist train (/usr/share/datasets/fashion-mnist): 60000×28×28 uint8');
    expect(r.out).toMatch(/pixel values: min 0, max 255, mean \d+\.\d\d/);
    const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    classes.forEach((c, k) => expect(r.out).toMatch(new RegExp(`^  ${k} ${c.replace('/', '\\/')}\\s+6000\\s+10\\.00%$`, 'm')));
    // 8×8 tiles of 28 px at scale 2 with 2 px padding: 8·56 + 9·2 = 466.
    expect(pngSize(grid)).toEqual([466, 466]);
    expect(r.out).toContain(`wrote grid of the first 64 images: ${grid} (466×466 px)`);
  });

  it.skipIf(!haveShared)('mnist --split test --dir …: default grid path under --out', async () => {
    const out = join(tmp, 'out-mnist');
    const r = await run(['--out', out, 'data', 'show', 'mnist', '--split', 'test', '--data-dir', SHARED_MNIST]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('10000×28×28');
    expect(r.out).toMatch(/^ {2}1 1\s+1135\s+11\.35%$/m);
    expect(pngSize(join(out, 'mnist-test-grid.png'))).toEqual([466, 466]);
  });

  it('synthetic dataset via GENPHYS_MNIST_DIR: fewer than 64 images, exact histogram', async () => {
    const dir = join(tmp, 'synth');
    writeSyntheticDataset(dir, { nTrain: 23, rows: 6, cols: 5 });
    vi.stubEnv('GENPHYS_MNIST_DIR', dir);
    const grid = join(tmp, 'synth.png');
    const r = await run(['data', 'show', 'mnist', '--grid', grid]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`mnist train (${dir}): 23×6×5 uint8`);
    // Labels are i mod 10 for i < 23: classes 0–2 three times, the rest twice.
    expect(r.out).toMatch(/^ {2}0 0\s+3\s+13\.04%$/m);
    expect(r.out).toMatch(/^ {2}9 9\s+2\s+8\.70%$/m);
    expect(r.out).toContain('first 23 images');
    // 8 columns × 3 rows of 10×12-px tiles (scale 2) plus padding.
    expect(pngSize(grid)).toEqual([8 * 10 + 9 * 2, 3 * 12 + 4 * 2]);
  });

  it('a missing directory: exit 1 and a one-line hint', async () => {
    const r = await run(['data', 'show', 'fashion-mnist', '--data-dir', join(tmp, 'nowhere')]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain('apt-get install dataset-fashion-mnist');
  });

  it('the old --dir spelling still works, with a one-line note naming --data-dir', async () => {
    const r = await run(['data', 'show', 'fashion-mnist', '--dir', join(tmp, 'nowhere')]);
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toBe('genphys: note: --dir is deprecated here; use --data-dir');
    expect(lines).toHaveLength(2);
  });

  it('usage errors exit 2: unknown dataset, bad split, unknown flag', async () => {
    for (const argv of [
      ['data', 'show', 'cifar'],
      ['data', 'show', 'mnist', '--split', 'val'],
      ['data', 'show', 'mnist', '--bogus'],
      ['data', 'show'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
    }
  });
});

describe('genphys data list / fetch / help', () => {
  it('list names both datasets with their directories', async () => {
    const dir = join(tmp, 'list');
    writeSyntheticDataset(dir);
    vi.stubEnv('GENPHYS_MNIST_DIR', dir);
    const r = await run(['data', 'list']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^mnist\\s+${dir} \\(env\\) — splits: train, test$`, 'm'));
    expect(r.out).toMatch(/^fashion-mnist\s/m);
  });

  it('--help works for data and each subcommand', async () => {
    for (const argv of [['data', '--help'], ['data', 'show', '--help'], ['data', 'fetch', '--help'], ['data', 'list', '--help']]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out).toContain('Usage:');
    }
  });

  it('fetch refuses fashion-mnist and a non-http mirror with exit 2', async () => {
    const a = await run(['data', 'fetch', 'fashion-mnist']);
    expect(a.code).toBe(2);
    expect(a.err).toContain('apt-get install dataset-fashion-mnist');
    const b = await run(['data', 'fetch', 'mnist', '--data-dir', join(tmp, 'x'), '--mirror', 'ftp://example']);
    expect(b.code).toBe(2);
    expect(b.err).toContain('--mirror');
  });

  it('fetch from a mirror that answers 404: exit 1, URL in the message, empty cache', async () => {
    const dir = join(tmp, 'fetch-cache');
    const r = await run(['--quiet', 'data', 'fetch', 'mnist', '--data-dir', dir, '--mirror', `${base}/m/`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${base}/m/train-images-idx3-ubyte.gz: HTTP 404`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
