/**
 * `--config FILE`: a JSON {"genphys": "<command>", "flags": {…}} (what the lab exports)
 * runs exactly as the same command line; flags on the line win; bad files are one-line
 * errors naming the file, and nothing is written.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandConfig } from '../src/cli/config-file.js';
import { runCli } from './cli-helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'genphys-config-'));
const write = (dir: string, doc: unknown): string => {
  const f = join(dir, 'c.json');
  writeFileSync(f, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return f;
};

describe('--config FILE', () => {
  it('expands to the command and flags; booleans are switches; line flags come last and win', async () => {
    const d = tmp();
    const f = write(d, { genphys: 'rbm train', flags: { data: 'bars-and-stripes:3', hidden: 8, force: true, json: false }, lab: { panel: 'rbm' } });
    expect(await expandConfig(['--config', f])).toEqual(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--force']);
    expect(await expandConfig(['--seed', '4', '--config', f, '--hidden', '16'])).toEqual(['--seed', '4', 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--force', '--hidden', '16']);
    expect(await expandConfig(['rbm', 'train', '--config', f, '--epochs', '2'])).toEqual(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--force', '--epochs', '2']);
    expect(await expandConfig(['rbm', 'train', '--epochs', '2'])).toEqual(['rbm', 'train', '--epochs', '2']);
  });

  it('runs the same training as the command line, bit for bit', async () => {
    const d = tmp();
    const flags = { data: 'bars-and-stripes:3', hidden: 6, epochs: 3, batch: 7, 'grid-every': 0, 'save-every': 0 };
    const f = write(d, { genphys: 'rbm train', flags });
    const a = join(d, 'a');
    const b = join(d, 'b');
    expect((await runCli(['--quiet', '--seed', '5', '--out', a, '--config', f])).code).toBe(0);
    const line = Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]);
    expect((await runCli(['--quiet', '--seed', '5', '--out', b, 'rbm', 'train', ...line])).code).toBe(0);
    const weights = (dir: string) => readFileSync(join(dir, JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).weights.file));
    expect(weights(a).equals(weights(b))).toBe(true);
  });

  it('a run’s own config.json replays the run: the same weights, bit for bit (rbm, gan and diffusion on toys)', async () => {
    const d = tmp();
    const file = (dir: string) => readFileSync(join(dir, JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')).weights.file));
    const cases: [string, string[]][] = [
      ['rbm', ['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '5', '--method', 'pcd', '--k', '3', '--epochs', '4', '--batch', '7', '--centering', '--grid-every', '0']],
      ['gan', ['gan', 'train', '--data', 'toy:ring8:256', '--epochs', '1', '--batch', '64', '--ema', '0.9']],
      ['diffusion', ['diffusion', 'train', '--data', 'toy:ring8:256', '--T', '50', '--batch', '64', '--sample-steps', '3', '--epochs', '1']],
    ];
    for (const [name, argv] of cases) {
      const a = join(d, `${name}-a`);
      const b = join(d, `${name}-b`);
      const r = await runCli(['--quiet', '--seed', '9', '--out', a, ...argv]);
      expect(r.code, `${name}: ${r.err}`).toBe(0);
      const again = await runCli(['--quiet', '--out', b, '--config', join(a, 'config.json')]);
      expect(again.code, `${name} replay: ${again.err}`).toBe(0);
      expect(file(a).equals(file(b)), name).toBe(true);
      const cfgA = JSON.parse(readFileSync(join(a, 'config.json'), 'utf8'));
      const cfgB = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8'));
      expect(cfgB.seed).toBe(9);
      // The resolved configuration is the run's (a GAN's record of what was asked for, `overrides`,
      // now lists every setting explicitly: the values are the same).
      const strip = (c: Record<string, unknown>) => JSON.stringify({ ...c, overrides: null });
      expect(strip(cfgB)).toBe(strip(cfgA));
    }
  });

  it('bad files and mismatched commands are one-line errors naming the file; nothing is written', async () => {
    const d = tmp();
    const out = join(d, 'run');
    const cases: [unknown, RegExp][] = [
      ['{ not json', /--config .*c\.json: not valid JSON/],
      [[1, 2], /must hold a JSON object/],
      [{ flags: {} }, /"genphys" must name a command/],
      [{ genphys: 'rbm train', flags: [1] }, /"flags" must be an object/],
      [{ genphys: 'rbm train', flags: { '--hidden': 3 } }, /'--hidden' is not a flag name/],
      [{ genphys: 'rbm train', flags: { hidden: [3] } }, /flag 'hidden' must be a number, string or boolean/],
      [{ genphys: 'rbm train', flags: { data: 'bars-and-stripes:3', hiden: 3 } }, /unknown option '--hiden'/],
    ];
    for (const [doc, re] of cases) {
      const r = await runCli(['--out', out, '--config', write(d, doc)]);
      expect(r.code).not.toBe(0);
      // One line (commander's own usage errors add its "(add --help for usage)" hint).
      expect(r.err.trim().split('\n').filter((l) => l !== '(add --help for usage)')).toHaveLength(1);
      expect(r.err).toMatch(re);
      expect(existsSync(out)).toBe(false);
    }
    const f = write(d, { genphys: 'rbm train', flags: {} });
    const r = await runCli(['vae', 'train', '--config', f]);
    expect(r.err).toMatch(/it is for 'genphys rbm train', not 'vae train'/);
    expect((await runCli(['--config', join(d, 'missing.json')])).err).toMatch(/missing\.json: cannot read it \(ENOENT\)/);
    expect((await runCli(['--config'])).err).toMatch(/--config: needs a file/);
  });
});
