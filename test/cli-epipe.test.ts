/**
 * A closed pipe is not an error: `genphys … | head -1` exits 0, prints no stack trace,
 * and a training run piped into `head` still finishes and saves its run.
 * Needs the build (`npm test` builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve('dist/cli/bin.js');
const root = mkdtempSync(join(tmpdir(), 'genphys-epipe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Run genphys, read its first stdout line, then close the pipe (as `head -1` does). */
function firstLineThenClose(args: string[]): Promise<{ code: number | null; line: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let line = '';
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0 && line === '') {
        line = buf.slice(0, i);
        p.stdout.destroy();
      }
    });
    p.on('exit', (code) => res({ code, line, err }));
  });
}

describe('EPIPE', () => {
  it('ising exact | head -1: exit 0, no stack trace', async () => {
    const r = await firstLineThenClose(['ising', 'exact', '--L', '8', '--temps', '1.0:3.5:5000']);
    expect(r.line).toMatch(/^L = 8 periodic/);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/EPIPE|\n\s+at /);
  });

  it('rbm train | head -1: the run still finishes and saves', async () => {
    const out = join(root, 'run');
    const r = await firstLineThenClose(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '4', '--epochs', '30', '--grid-every', '0', '--out', out]);
    expect(r.line).toMatch(/^rbm train: starting in /);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/EPIPE|\n\s+at /);
    expect(existsSync(join(out, 'checkpoint.json'))).toBe(true);
  });
});
