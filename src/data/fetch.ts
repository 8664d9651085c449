/**
 * Download MNIST's four IDX archives into a cache directory, verified against
 * SHA-256 constants.
 *
 * Each file is streamed to a temporary file in the cache directory while being
 * hashed; only when the digest matches is it renamed to its final name. A failed,
 * interrupted or mismatched download removes its temporary file, so the cache
 * holds either a verified file or nothing. Files already present with the right
 * digest are not downloaded again.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DownloadError } from '../core/errors.js';

/** The four MNIST archive names. */
export type MnistFile =
  | 'train-images-idx3-ubyte.gz'
  | 'train-labels-idx1-ubyte.gz'
  | 't10k-images-idx3-ubyte.gz'
  | 't10k-labels-idx1-ubyte.gz';

/** All four MNIST archives, in download order. */
export const MNIST_FILES: readonly MnistFile[] = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];

/**
 * SHA-256 of the published MNIST archives. The two t10k digests were computed
 * from the official test files (whose published MD5 sums they match); the train
 * digests agree across independent published checksum tables (e.g. torchvision's
 * Ruby port, TensorFlow-input-data Nix recipes, several dataset loaders).
 */
export const MNIST_SHA256: Readonly<Record<MnistFile, string>> = {
  'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
  'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
  't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
  't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
};

/** Sizes in bytes of the published archives (for progress totals). */
export const MNIST_BYTES: Readonly<Record<MnistFile, number>> = {
  'train-images-idx3-ubyte.gz': 9_912_422,
  'train-labels-idx1-ubyte.gz': 28_881,
  't10k-images-idx3-ubyte.gz': 1_648_877,
  't10k-labels-idx1-ubyte.gz': 4_542,
};

/**
 * Default mirror: the copy TensorFlow and many loaders use, since the original
 * site (yann.lecun.com) often refuses plain downloads.
 */
export const DEFAULT_MNIST_MIRROR = 'https://storage.googleapis.com/cvdf-datasets/mnist/';

/** Environment variable overriding {@link DEFAULT_MNIST_MIRROR}. */
export const MNIST_MIRROR_ENV = 'GENPHYS_MNIST_MIRROR';

/** Options of {@link fetchMnist}. */
export interface FetchMnistOptions {
  /** Directory to store the archives in (created if missing). */
  readonly cacheDir: string;
  /** Base URL the file names are appended to. Default: `$GENPHYS_MNIST_MIRROR`, else {@link DEFAULT_MNIST_MIRROR}. */
  readonly baseUrl?: string;
  /** No status lines on stderr. Default false. */
  readonly quiet?: boolean;
  /** Called as bytes arrive: file, bytes so far, total bytes if the server said. */
  readonly onProgress?: (file: string, received: number, total: number | undefined) => void;
  /** Which files to fetch. Default: all of {@link MNIST_FILES}. */
  readonly files?: readonly string[];
  /** Expected SHA-256 per file name (hex). Default {@link MNIST_SHA256}; tests inject their own. */
  readonly expected?: Readonly<Record<string, string>>;
  /** Abort a download when no data arrives for this long (ms). Default 30 000. */
  readonly idleTimeoutMs?: number;
}

/** What {@link fetchMnist} did for one file. */
export interface FetchResult {
  /** Archive name. */
  readonly file: string;
  /** Final path in the cache directory. */
  readonly path: string;
  /** `present`: already there with the right digest; `downloaded`: fetched and verified now. */
  readonly status: 'present' | 'downloaded';
  /** Size in bytes. */
  readonly bytes: number;
  /** Verified SHA-256 (hex). */
  readonly sha256: string;
}

function sha256Hex(buf: Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Digest of an existing file, or null when it does not exist or cannot be read. */
function existingDigest(path: string): { sha256: string; bytes: number } | null {
  try {
    const buf = readFileSync(path);
    return { sha256: sha256Hex(buf), bytes: buf.length };
  } catch {
    return null;
  }
}

/** The mirror in effect: explicit option > environment > default; always ends in '/'. */
export function mnistMirror(baseUrl?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const b = baseUrl ?? (env[MNIST_MIRROR_ENV] || DEFAULT_MNIST_MIRROR);
  return b.endsWith('/') ? b : b + '/';
}

/**
 * Download (or confirm) the MNIST archives in `opts.cacheDir`.
 *
 * @returns one result per file, in order
 * @throws DownloadError naming the URL and the problem (HTTP status, dropped
 *   connection, timeout, digest mismatch); nothing partial is left in the cache
 */
export async function fetchMnist(opts: FetchMnistOptions): Promise<FetchResult[]> {
  const base = mnistMirror(opts.baseUrl);
  const expected: Readonly<Record<string, string>> = opts.expected ?? MNIST_SHA256;
  const files = opts.files ?? MNIST_FILES;
  const say = opts.quiet ? () => {} : (msg: string) => process.stderr.write(msg + '\n');
  mkdirSync(opts.cacheDir, { recursive: true });
  const results: FetchResult[] = [];
  for (const file of files) {
    const want = expected[file];
    const url = new URL(file, base).toString();
    if (want === undefined) throw new DownloadError(url, `no SHA-256 known for '${file}'`);
    const path = join(opts.cacheDir, file);
    const have = existingDigest(path);
    if (have !== null && have.sha256 === want.toLowerCase()) {
      say(`${file}: present, SHA-256 ok`);
      results.push({ file, path, status: 'present', bytes: have.bytes, sha256: have.sha256 });
      continue;
    }
    if (have !== null) say(`${file}: present but SHA-256 differs, downloading again`);
    else say(`${file}: downloading ${url}`);
    const got = await downloadVerified(url, path, want.toLowerCase(), opts, file);
    results.push({ file, path, status: 'downloaded', bytes: got.bytes, sha256: got.sha256 });
  }
  return results;
}

/** Stream `url` into a temporary file next to `path`, verify, then rename. */
async function downloadVerified(
  url: string,
  path: string,
  want: string,
  opts: FetchMnistOptions,
  file: string,
): Promise<{ bytes: number; sha256: string }> {
  const tmp = `${path}.${process.pid}.${Date.now()}.part`;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const ctrl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), idleMs);
  };
  let fd = -1;
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: ctrl.signal, redirect: 'follow' });
    } catch (err) {
      throw new DownloadError(url, ctrl.signal.aborted ? `no response within ${idleMs} ms` : `request failed (${describe(err)})`);
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel().catch(() => {});
      throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : undefined;
    const hash = createHash('sha256');
    fd = openSync(tmp, 'wx');
    let received = 0;
    const reader = res.body.getReader();
    try {
      while (true) {
        arm();
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        let off = 0;
        while (off < value.length) off += writeSync(fd, value, off, value.length - off);
        received += value.length;
        opts.onProgress?.(file, received, total);
      }
    } catch (err) {
      throw new DownloadError(
        url,
        ctrl.signal.aborted ? `stalled: no data for ${idleMs} ms after ${received} bytes` : `connection failed after ${received} bytes (${describe(err)})`,
      );
    }
    if (total !== undefined && received !== total) {
      throw new DownloadError(url, `incomplete: got ${received} of ${total} bytes`);
    }
    const digest = hash.digest('hex');
    if (digest !== want) throw new DownloadError(url, `SHA-256 mismatch: got ${digest}, expected ${want}; file discarded`);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
    return { bytes: received, sha256: digest };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const c = cause instanceof Error ? `: ${cause.message}` : '';
    return `${err.message}${c}`.replace(/\s+/g, ' ');
  }
  return String(err);
}
