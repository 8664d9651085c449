/**
 * `genphys lab`'s server: it serves the built lab with the cross-origin-isolation headers,
 * binds 127.0.0.1 only unless told otherwise (a connection to the machine's other address
 * is refused), serves local image data read-only, and reports a missing build or a taken
 * port in one line.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImageDataset } from '../src/data/datasets.js';
import { encodeIdx } from '../src/data/idx.js';
import { serveLab, type LabServer } from '../src/serve/lab.js';
import { runCli } from './cli-helpers.js';

/** This machine's first non-loopback IPv4 address, if any. */
function otherAddress(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return null;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      ok(true);
    });
    s.once('error', () => ok(false));
  });
}

/** A fake built lab and a tiny IDX dataset (5 images of 2×3 pixels). */
function fixture(): { lab: string; data: string } {
  const root = mkdtempSync(join(tmpdir(), 'genphys-lab-server-'));
  const lab = join(root, 'lab');
  mkdirSync(join(lab, 'assets'), { recursive: true });
  writeFileSync(join(lab, 'index.html'), '<!doctype html><title>lab</title>');
  writeFileSync(join(lab, 'assets', 'a.js'), 'export const a = 1;\n');
  const data = join(root, 'mnist');
  mkdirSync(data);
  const pixels = Uint8Array.from({ length: 5 * 6 }, (_, i) => (i * 37) % 256);
  writeFileSync(join(data, 't10k-images-idx3-ubyte'), encodeIdx({ dtype: 'uint8', dims: [5, 2, 3], data: pixels }));
  writeFileSync(join(data, 't10k-labels-idx1-ubyte'), encodeIdx({ dtype: 'uint8', dims: [5], data: [3, 1, 4, 1, 5] }));
  return { lab, data };
}

describe('lab server', () => {
  const fx = fixture();
  let s: LabServer;
  beforeAll(async () => {
    s = await serveLab({ dir: fx.lab, dataDirs: { mnist: fx.data } });
  });
  afterAll(async () => {
    await s?.close();
  });

  it('serves the lab on 127.0.0.1 with COOP/COEP headers, and 404s what is not there', async () => {
    expect(s.host).toBe('127.0.0.1');
    expect(s.url).toBe(`http://127.0.0.1:${s.port}/`);
    const r = await fetch(s.url);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>lab</title>');
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await fetch(`${s.url}assets/a.js`)).status).toBe(200);
    expect((await fetch(`${s.url}nope.js`)).status).toBe(404);
    // No way out of the folder.
    expect((await fetch(`${s.url}..%2f..%2fetc%2fpasswd`)).status).toBe(404);
  });

  it('refuses connections to the machine’s other address (bound to 127.0.0.1 only)', async () => {
    const other = otherAddress();
    if (!other) {
      console.warn('lab server: no non-loopback IPv4 address on this machine; the refusal check is skipped');
      return;
    }
    expect(await accepts('127.0.0.1', s.port)).toBe(true);
    expect(await accepts(other, s.port)).toBe(false);
  });

  it('serves local image data read-only: the index, and the first n images and labels', async () => {
    const idx = (await (await fetch(`${s.url}data/index.json`)).json()) as { datasets: { name: string; splits: string[] }[] };
    expect(idx.datasets.find((d) => d.name === 'mnist')?.splits).toEqual(['test']);
    const img = await fetch(`${s.url}data/mnist/test/images?n=3`);
    expect(img.headers.get('x-shape')).toBe('3,2,3');
    const want = loadImageDataset('mnist', 'test', { dir: fx.data });
    expect([...new Uint8Array(await img.arrayBuffer())]).toEqual([...want.pixels.subarray(0, 18)]);
    const lab = await fetch(`${s.url}data/mnist/test/labels?n=99`);
    expect(lab.headers.get('x-shape')).toBe('5');
    expect([...new Uint8Array(await lab.arrayBuffer())]).toEqual([3, 1, 4, 1, 5]);
    const missing = await fetch(`${s.url}data/mnist/train/images`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/train file not found/);
    expect((await fetch(`${s.url}data/cifar/test/images`)).status).toBe(404);
  });

  it('a missing build and a taken port are one-line errors', async () => {
    await expect(serveLab({ dir: join(fx.lab, 'nope') })).rejects.toThrow(/has no index.html; build the lab first \(npm run lab:build\)/);
    await expect(serveLab({ dir: fx.lab, port: s.port })).rejects.toThrow(`--port ${s.port}: already in use on 127.0.0.1`);
    const r = await runCli(['lab', '--dir', join(fx.lab, 'nope')]);
    expect(r.code).not.toBe(0);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^genphys: lab: .* has no index.html/);
  });

  it('`genphys lab` prints its URL, serves until SIGTERM, and warns before binding other interfaces', async () => {
    // The built CLI (npm test builds first), as a user runs it.
    const cli = resolve('dist/cli/bin.js');
    const run = (args: string[]) =>
      new Promise<{ out: string; err: string; code: number | null }>((done, fail) => {
        const p = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', async (d: Buffer) => {
          out += String(d);
          const url = /http:\/\/\S+\//.exec(out)?.[0];
          if (url) {
            try {
              const r = await fetch(url.replace('0.0.0.0', '127.0.0.1'));
              out += `status ${r.status}\n`;
            } finally {
              p.kill('SIGTERM');
            }
          }
        });
        p.stderr.on('data', (d: Buffer) => (err += String(d)));
        p.on('error', fail);
        p.on('exit', (code) => done({ out, err, code }));
      });
    const a = await run(['lab', '--dir', fx.lab]);
    expect(a.out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\nstatus 200\n$/);
    expect(a.err).not.toMatch(/warning/);
    expect(a.code).toBe(0);
    const b = await run(['lab', '--dir', fx.lab, '--host', '0.0.0.0']);
    expect(b.err).toMatch(/warning: --host 0.0.0.0 makes the lab reachable from other machines/);
    expect(b.out).toMatch(/status 200/);
  });
});
