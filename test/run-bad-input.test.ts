/**
 * Bad input, table-driven: each case is one command line against a real run directory.
 * Each must give a one-line message naming the file or flag (no stack trace), the
 * stated exit code, and leave every file of the run directory unchanged (hashes before
 * and after).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/io/checkpoint.js';
import { runCli } from './cli-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-bad-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const RUN = join(root, 'run');
const FILE = join(root, 'a-file');

/** Every file under `dir` with its SHA-256 (recursively), sorted. */
function snapshot(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.push([p.slice(root.length), createHash('sha256').update(readFileSync(p)).digest('hex')]);
    }
  };
  walk(dir);
  return out;
}

/** A copy of the good run with one file replaced. */
function variant(name: string, edit: (dir: string) => void): string {
  const d = join(root, name);
  cpSync(RUN, d, { recursive: true });
  edit(d);
  return d;
}

const rbmCkpt = (d: string, W: { shape: number[]; data: Float32Array }, model: Record<string, unknown>) =>
  saveCheckpoint(d, {
    kind: 'rbm',
    config: { model: { kind: 'bernoulli-rbm', nVisible: 9, nHidden: 4, units: '01', initStd: 0.01, ...model } },
    tensors: { 'rbm.W': W, 'rbm.a': { shape: [9], data: new Float32Array(9) }, 'rbm.b': { shape: [4], data: new Float32Array(4) } },
    step: 1,
    epoch: 1,
  });

beforeAll(async () => {
  writeFileSync(FILE, 'not a directory');
  const r = await runCli(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '4', '--epochs', '2', '--grid-every', '0', '--quiet', '--out', RUN]);
  expect(r.code, r.err).toBe(0);
});

// [name, argv (RUN / FILE substituted), exit code, message pattern, directory to hash (default RUN)]
type Case = [string, () => string[], number, RegExp, (() => string)?];
const cases: Case[] = [
  ['--out is an existing file', () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--out', FILE], 2, /--out: .*a-file is a file, not a directory/],
  ["--out ''", () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--out', ''], 2, /--out: the path is empty/],
  ['--out under a file', () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--out', join(FILE, 'run')], 2, /a-file is a file, so .* cannot be created under it/],
  ['--out under /proc (Node would loop forever)', () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--out', '/proc/self/genphys'], 2, /under \/proc, a pseudo-file system/],
  ['--out under /sys', () => ['vae', 'train', '--preset', 'ising-mlp', '--data', `ising:${RUN}`, '--out', '/sys/genphys'], 2, /under \/sys/],
  ['unbounded --hidden', () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '99999999999', '--out', join(root, 'big')], 2, /--hidden 99999999999 .*needs .* GiB, more than half of this machine's/],
  ['an existing run without --resume or --force', () => ['rbm', 'train', '--data', 'bars-and-stripes:3', '--out', RUN], 2, /already exists and is not empty; pass --resume .* or --force/],
  ['--resume with a conflicting model flag', () => ['rbm', 'train', '--resume', '--hidden', '9', '--out', RUN], 2, /--resume: --hidden 9 conflicts with the run in .*, which was started with --hidden 4/],
  ['--resume with other data', () => ['rbm', 'train', '--resume', '--data', 'bars-and-stripes:4', '--out', RUN], 2, /--resume: --data bars-and-stripes:4 conflicts .* started with --data bars-and-stripes:3/],
  ['--resume --force', () => ['rbm', 'train', '--resume', '--force', '--out', RUN], 2, /--resume and --force cannot be combined/],
  ['a VAE --resume into an RBM run', () => ['vae', 'train', '--preset', 'ising-mlp', '--data', `ising:${join(root, 'nope')}`, '--resume', '--out', RUN], 2, /is a 'rbm train' run, not 'vae train'|nope/],
  ['--grid is a directory', () => ['rbm', 'sample', RUN, '--grid', root], 2, /--grid: .* is a directory, not a file/],
  ['--text is a directory', () => ['rbm', 'sample', RUN, '--text', root], 2, /--text: .* is a directory, not a file/],
  ['data fetch --data-dir is a file', () => ['data', 'fetch', 'mnist', '--data-dir', FILE], 2, /--data-dir: .*a-file is a file, not a directory/],
  ['rbm eval --reverse without --ais', () => ['rbm', 'eval', RUN, '--reverse'], 2, /--reverse needs --ais/],
  ['config.json is not JSON', () => ['rbm', 'eval', variant('cfg-bad', (d) => writeFileSync(join(d, 'config.json'), '{ not json')), '--exact'], 2, /config\.json: not valid JSON/, () => join(root, 'cfg-bad')],
  ['config.json is null', () => ['rbm', 'sample', variant('cfg-null', (d) => writeFileSync(join(d, 'config.json'), 'null'))], 2, /config\.json: expected a JSON object, got null/, () => join(root, 'cfg-null')],
  ['config.json is []', () => ['rbm', 'eval', variant('cfg-arr', (d) => writeFileSync(join(d, 'config.json'), '[]'))], 2, /config\.json: expected a JSON object, got an array/, () => join(root, 'cfg-arr')],
  ['a transposed rbm.W (right count, wrong shape)', () => ['rbm', 'sample', variant('transposed', (d) => rbmCkpt(d, { shape: [4, 9], data: new Float32Array(36) }, {}))], 1, /tensor 'rbm\.W' has shape \[4, 9\], the model needs \[9, 4\]/, () => join(root, 'transposed')],
  ['nHidden: 1e12 in a checkpoint', () => ['rbm', 'sample', variant('huge', (d) => rbmCkpt(d, { shape: [9, 4], data: new Float32Array(36) }, { nHidden: 1e12 }))], 1, /asks for 9 × 1000000000000 weights/, () => join(root, 'huge')],
  [
    'NaN weights in a checkpoint',
    () => [
      'rbm',
      'eval',
      variant('nan', (d) => {
        const m = JSON.parse(readFileSync(join(d, 'checkpoint.json'), 'utf8')) as { weights: { file: string } };
        const p = join(d, m.weights.file);
        const b = readFileSync(p);
        // The first float of the first tensor's data (after the 8-byte length and the header).
        const off = 8 + Number(b.readBigUInt64LE(0));
        b.writeFloatLE(NaN, off);
        writeFileSync(p, b);
        // Re-record length and hash so only the NaN is wrong.
        const j = JSON.parse(readFileSync(join(d, 'checkpoint.json'), 'utf8')) as { weights: { sha256: string } };
        j.weights.sha256 = createHash('sha256').update(b).digest('hex');
        writeFileSync(join(d, 'checkpoint.json'), JSON.stringify(j));
      }),
    ],
    1,
    /tensor '.*' holds NaN at entry 0 \(a diverged model cannot be loaded\)/,
    () => join(root, 'nan'),
  ],
];

describe('bad input: one line, the exit code, nothing changed on disk', () => {
  for (const [name, argv, code, pattern, dirOf] of cases) {
    it(name, async () => {
      const args = argv();
      const dir = dirOf ? dirOf() : RUN;
      const before = snapshot(dir);
      const r = await runCli(args);
      expect(r.code, r.err).toBe(code);
      const lines = r.err.trim().split('\n');
      expect(lines, r.err).toHaveLength(1);
      expect(lines[0]).toMatch(/^genphys: /);
      expect(lines[0]).toMatch(pattern);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(snapshot(dir)).toEqual(before);
      expect(existsSync(join(root, 'big'))).toBe(false);
    });
  }

  it('the good run still loads and resumes after all of the above', async () => {
    const r = await runCli(['rbm', 'train', '--resume', '--epochs', '3', '--quiet', '--out', RUN]);
    expect(r.code, r.err).toBe(0);
    mkdirSync(join(root, 'x'), { recursive: true });
  });
});
