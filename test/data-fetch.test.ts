/**
 * MNIST download against a local HTTP server on 127.0.0.1 (no internet):
 * verified files land atomically, bad downloads leave nothing behind.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownloadError } from '../src/core/errors.js';
import { DEFAULT_MNIST_MIRROR, MNIST_FILES, MNIST_SHA256, fetchMnist, mnistMirror } from '../src/data/fetch.js';
import { readIdx } from '../src/data/idx.js';
import { synthImages, synthLabels } from './fixtures/data/synth.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-data-fetch-'));
const SHARED_MNIST = join(__dirname, '..', '..', 'shared', 'data', 'mnist');
const haveShared = existsSync(join(SHARED_MNIST, 't10k-images-idx3-ubyte.gz'));
if (!haveShared) console.warn(`skipping real-checksum fetch tests: ${SHARED_MNIST} missing`);

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Fixture archives: small synthetic IDX files with the real names. */
const FIX: Record<string, Buffer> = {
  'train-images-idx3-ubyte.gz': gzipSync(synthImages(40, 4, 4)),
  'train-labels-idx1-ubyte.gz': gzipSync(synthLabels(40)),
  't10k-images-idx3-ubyte.gz': gzipSync(synthImages(10, 4, 4)),
  't10k-labels-idx1-ubyte.gz': gzipSync(synthLabels(10)),
};
const FIX_SHA: Record<string, string> = Object.fromEntries(Object.entries(FIX).map(([k, v]) => [k, sha(v)]));

let server: Server;
let base = '';
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const [, mode, file] = url.split('/');
    const body =
      mode === 'real' && haveShared && file?.startsWith('t10k') ? readFileSync(join(SHARED_MNIST, file)) : FIX[file ?? ''];
    if (body === undefined || mode === 'missing') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (mode === 'good' || mode === 'real') {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } else if (mode === 'corrupt') {
      const bad = Buffer.from(body);
      bad[bad.length >> 1] ^= 0x01;
      res.writeHead(200, { 'content-length': bad.length }).end(bad);
    } else if (mode === 'drop') {
      // Announce the full length, send half, then kill the connection.
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => req.socket.destroy(), 20));
    } else if (mode === 'stall') {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 10)); // …and nothing more until the client gives up
    } else {
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(tmp, { recursive: true, force: true });
});

let dirCount = 0;
function freshDir(): string {
  return join(tmp, `cache-${dirCount++}`);
}

async function expectDownloadError(p: Promise<unknown>, pattern: RegExp): Promise<DownloadError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(DownloadError);
  const err = caught as DownloadError;
  expect(err.message).toMatch(pattern);
  expect(err.message).not.toContain('\n');
  return err;
}

describe('fetchMnist against a local server', () => {
  it('downloads all four files, verifies them, and they parse as IDX', async () => {
    const dir = freshDir();
    const progress: Array<[string, number, number | undefined]> = [];
    const res = await fetchMnist({
      cacheDir: dir,
      baseUrl: `${base}/good`, // no trailing slash: must still resolve under /good/
      expected: FIX_SHA,
      quiet: true,
      onProgress: (f, r, t) => progress.push([f, r, t]),
    });
    expect(res.map((r) => [r.file, r.status, r.bytes, r.sha256])).toEqual(
      MNIST_FILES.map((f) => [f, 'downloaded', FIX[f]!.length, FIX_SHA[f]]),
    );
    expect(readdirSync(dir).sort()).toEqual([...MNIST_FILES].sort());
    for (const f of MNIST_FILES) expect(readFileSync(join(dir, f)).equals(FIX[f]!)).toBe(true);
    expect(readIdx(join(dir, 'train-images-idx3-ubyte.gz')).dims).toEqual([40, 4, 4]);
    // Progress ends at the full size of each file, with the server's total.
    for (const f of MNIST_FILES) {
      const last = progress.filter((p) => p[0] === f).at(-1)!;
      expect(last).toEqual([f, FIX[f]!.length, FIX[f]!.length]);
    }
  });

  it('skips files already present with the right hash, replaces ones with the wrong hash', async () => {
    const dir = freshDir();
    await fetchMnist({ cacheDir: dir, baseUrl: `${base}/good/`, expected: FIX_SHA, quiet: true });
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), 'stale junk');
    const before = hits.get('/good/train-images-idx3-ubyte.gz') ?? 0;
    const beforeLabels = hits.get('/good/t10k-labels-idx1-ubyte.gz') ?? 0;
    const res = await fetchMnist({ cacheDir: dir, baseUrl: `${base}/good/`, expected: FIX_SHA, quiet: true });
    expect(res.map((r) => r.status)).toEqual(['present', 'present', 'present', 'downloaded']);
    expect(hits.get('/good/train-images-idx3-ubyte.gz')).toBe(before);
    expect(hits.get('/good/t10k-labels-idx1-ubyte.gz')).toBe(beforeLabels + 1);
    expect(readFileSync(join(dir, 't10k-labels-idx1-ubyte.gz')).equals(FIX['t10k-labels-idx1-ubyte.gz']!)).toBe(true);
  });

  it('rejects a corrupted file and leaves nothing behind', async () => {
    const dir = freshDir();
    const err = await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/corrupt/`, expected: FIX_SHA, quiet: true }),
      /SHA-256 mismatch: got [0-9a-f]{64}, expected [0-9a-f]{64}; file discarded/,
    );
    expect(err.url).toBe(`${base}/corrupt/train-images-idx3-ubyte.gz`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a corrupted download does not disturb verified files already in the cache', async () => {
    const dir = freshDir();
    await fetchMnist({ cacheDir: dir, baseUrl: `${base}/good/`, expected: FIX_SHA, quiet: true, files: ['t10k-images-idx3-ubyte.gz'] });
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/corrupt/`, expected: FIX_SHA, quiet: true }),
      /SHA-256 mismatch/,
    );
    expect(readdirSync(dir)).toEqual(['t10k-images-idx3-ubyte.gz']);
  });

  it('HTTP 404 is a DownloadError naming the URL; nothing left behind', async () => {
    const dir = freshDir();
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/missing/`, expected: FIX_SHA, quiet: true }),
      new RegExp(`^${base}/missing/train-images-idx3-ubyte\\.gz: HTTP 404`),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a connection dropped mid-body is an error; nothing left behind', async () => {
    const dir = freshDir();
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/drop/`, expected: FIX_SHA, quiet: true }),
      /connection failed after \d+ bytes|incomplete/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stalled server is abandoned after the idle timeout; nothing left behind', async () => {
    const dir = freshDir();
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/stall/`, expected: FIX_SHA, quiet: true, idleTimeoutMs: 300 }),
      /stalled: no data for 300 ms after 10 bytes/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('nothing listening on the port is an error', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dir = freshDir();
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `http://127.0.0.1:${port}/`, expected: FIX_SHA, quiet: true }),
      /request failed/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a file without a known checksum is refused before downloading', async () => {
    const dir = freshDir();
    await expectDownloadError(
      fetchMnist({ cacheDir: dir, baseUrl: `${base}/good/`, expected: {}, quiet: true }),
      /no SHA-256 known for 'train-images-idx3-ubyte.gz'/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('MNIST checksum constants', () => {
  it('mirror: option > GENPHYS_MNIST_MIRROR > default, with a trailing slash', () => {
    expect(mnistMirror('http://a/b', { GENPHYS_MNIST_MIRROR: 'http://env/' })).toBe('http://a/b/');
    expect(mnistMirror(undefined, { GENPHYS_MNIST_MIRROR: 'http://env' })).toBe('http://env/');
    expect(mnistMirror(undefined, {})).toBe(DEFAULT_MNIST_MIRROR);
    expect(DEFAULT_MNIST_MIRROR.startsWith('https://')).toBe(true);
  });

  it.skipIf(!haveShared)('the t10k constants match the official test files in ../shared/data/mnist', () => {
    for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const) {
      expect(sha(readFileSync(join(SHARED_MNIST, f)))).toBe(MNIST_SHA256[f]);
    }
  });

  it.skipIf(!haveShared)('the default checksum table accepts the real t10k files served locally', async () => {
    const dir = freshDir();
    const res = await fetchMnist({
      cacheDir: dir,
      baseUrl: `${base}/real/`,
      quiet: true,
      files: ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'],
    });
    expect(res.map((r) => r.status)).toEqual(['downloaded', 'downloaded']);
    expect(readIdx(join(dir, 't10k-images-idx3-ubyte.gz')).dims).toEqual([10000, 28, 28]);
    // …and rejects a fixture served under a real name.
    await expectDownloadError(
      fetchMnist({ cacheDir: freshDir(), baseUrl: `${base}/good/`, quiet: true, files: ['t10k-labels-idx1-ubyte.gz'] }),
      /SHA-256 mismatch/,
    );
  });
});
