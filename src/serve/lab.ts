/**
 * The static server behind `genphys lab`: serves the built lab (dist/lab) on 127.0.0.1 by
 * default, with the cross-origin-isolation headers the lab asks for. Node-only.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { GenphysError, UsageError } from '../core/errors.js';
import { DATASET_NAMES, listDataSources, loadImageDataset, type DatasetName, type ImageDataset, type Split } from '../data/datasets.js';

/** Where the built lab lives: dist/lab, a sibling of this module's folder (dist/serve or the CLI bundle's). */
export function defaultLabDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', 'lab');
}

/** Options of {@link serveLab}. */
export interface LabServerOptions {
  /** The built lab folder. Default {@link defaultLabDir}. */
  readonly dir?: string;
  /** Interface to bind. Default 127.0.0.1 (this machine only). */
  readonly host?: string;
  /** Port; 0 (default) picks a free one. */
  readonly port?: number;
  /** Image-dataset directories (as `--data-dir` gives them); default the usual places. */
  readonly dataDirs?: Partial<Record<DatasetName, string>>;
}

/** A running lab server. */
export interface LabServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Whether a host name or address means this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Serve the built lab.
 * @throws UsageError when the folder has no index.html (the lab was not built), or the port is taken
 */
export async function serveLab(opts: LabServerOptions = {}): Promise<LabServer> {
  const dir = opts.dir ?? defaultLabDir();
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  if (!existsSync(join(dir, 'index.html'))) throw new UsageError(`lab: ${dir} has no index.html; build the lab first (npm run lab:build)`);
  const files = sirv(dir, {
    dev: false,
    etag: true,
    setHeaders: (res) => {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    },
  });
  const data = dataHandler(opts.dataDirs ?? {});
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/data/')) return data(req.url, res);
    files(req, res, () => {
      res.statusCode = 404;
      res.end('not found\n');
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(e.code === 'EADDRINUSE' ? new UsageError(`--port ${port}: already in use on ${host}`) : e.code === 'EADDRNOTAVAIL' ? new UsageError(`--host ${host}: not an address of this machine`) : e),
    );
    server.listen(port, host, () => ok());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    host: addr.address,
    port: addr.port,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** The most images one request returns. */
const MAX_IMAGES = 60_000;

/**
 * Read-only access to the image datasets on this machine, so the lab trains on real
 * Fashion-MNIST / MNIST without an upload:
 * - `GET /data/index.json` → `{ datasets: [{ name, splits }] }`;
 * - `GET /data/<name>/<split>/images?n=N` → the first N images, raw uint8, `X-Shape: n,rows,cols`;
 * - `GET /data/<name>/<split>/labels?n=N` → their labels, raw uint8.
 */
function dataHandler(dirs: Partial<Record<DatasetName, string>>): (url: string, res: import('node:http').ServerResponse) => void {
  const cache = new Map<string, ImageDataset>();
  const send = (res: import('node:http').ServerResponse, status: number, body: string | Uint8Array, type: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store', ...headers });
    res.end(body);
  };
  return (url, res) => {
    const u = new URL(url, 'http://lab');
    if (u.pathname === '/data/index.json') {
      const list = listDataSources(dirs).map((d) => ({ name: d.name, splits: d.splits }));
      return send(res, 200, JSON.stringify({ datasets: list }), 'application/json');
    }
    const m = /^\/data\/([a-z-]+)\/(train|test)\/(images|labels)$/.exec(u.pathname);
    if (!m || !(DATASET_NAMES as readonly string[]).includes(m[1]!)) return send(res, 404, 'not found\n', 'text/plain');
    const [, name, split, what] = m as unknown as [string, DatasetName, Split, 'images' | 'labels'];
    const n = Math.min(MAX_IMAGES, Math.max(1, Number(u.searchParams.get('n') ?? 1000) | 0));
    let ds = cache.get(`${name}/${split}`);
    if (!ds) {
      try {
        ds = loadImageDataset(name, split, dirs[name] ? { dir: dirs[name] } : {});
      } catch (e) {
        return send(res, 404, `${e instanceof GenphysError ? e.message : String(e)}\n`, 'text/plain');
      }
      cache.set(`${name}/${split}`, ds);
    }
    const k = Math.min(n, ds.n);
    const px = ds.rows * ds.cols;
    const body = what === 'images' ? ds.pixels.subarray(0, k * px) : ds.labels.subarray(0, k);
    send(res, 200, body, 'application/octet-stream', { 'X-Shape': what === 'images' ? `${k},${ds.rows},${ds.cols}` : `${k}`, 'Access-Control-Expose-Headers': 'X-Shape' });
  };
}
