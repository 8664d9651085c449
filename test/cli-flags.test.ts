/**
 * The flag vocabulary: the README's table is the contract, and every flag it lists
 * exists in the `--help` of every command it names; old spellings keep working with a
 * one-line note; combinations that used to be ignored are errors.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { runCli } from './cli-helpers.js';

/** Rows of the README table under "## Flags: one vocabulary": flag → commands. */
function readmeFlags(): Array<{ flag: string; commands: string[] }> {
  const md = readFileSync('README.md', 'utf8');
  const section = md.slice(md.indexOf('## Flags: one vocabulary'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const rows = body.split('\n').filter((l) => /^\| `--/.test(l));
  return rows.map((l) => {
    const cells = l.split('|').map((c) => c.trim());
    return { flag: /`(--[a-z-]+)/.exec(cells[1]!)![1]!, commands: cells[3]!.split(',').map((c) => c.trim()) };
  });
}

function findCommand(root: Command, path: string): Command {
  let cur = root;
  for (const name of path.split(' ')) {
    const next = cur.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`README names a command '${path}' that does not exist`);
    cur = next;
  }
  return cur;
}

const program = await buildProgram();

describe('the README flag table matches --help', () => {
  const rows = readmeFlags();
  it('the table is there and non-trivial', () => {
    expect(rows.length).toBeGreaterThanOrEqual(12);
  });
  for (const { flag, commands } of rows) {
    for (const c of commands) {
      it(`${c} has ${flag}`, () => {
        const help = findCommand(program, c).helpInformation();
        expect(help).toMatch(new RegExp(`(^|\\s)${flag}( |,|$)`, 'm'));
      });
    }
  }
});

describe('old spellings and ignored combinations', () => {
  it('--backend all outside bench is an error naming the flag', async () => {
    const r = await runCli(['ising', 'exact', '--L', '4', '--temps', '2.0', '--backend', 'all']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^genphys: --backend all: only 'genphys bench' compares backends/);
  });
  it('vae ising-probe --temps with a bare count names the new form', async () => {
    const r = await runCli(['vae', 'ising-probe', '--temps', '20', '--out', '/tmp/genphys-never-written']);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/--temps.*'20' is a count; --temps now takes temperatures, e.g\. 1\.5:3\.5:20/);
  });
  it('an ising: data spec is parsed the same way everywhere; a bad one names the forms', async () => {
    const r = await runCli(['rbm', 'train', '--data', 'isingdata', '--out', '/tmp/genphys-never-written-2']);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/--data 'isingdata': expected fashion-mnist \| mnist \| bars-and-stripes:N \| spins:FILE \| ising:DIR\[:T\] \| toy:NAME\[:N\]/);
    const t = await runCli(['rbm', 'train', '--data', 'ising:/nonexistent-genphys', '--out', '/tmp/genphys-never-written-3']);
    expect(t.code).toBe(2);
    expect(t.err.trim()).toMatch(/--data ising:\/nonexistent-genphys: .*manifest\.json is not a readable Ising dataset manifest/);
  });
  it('--binarize dynamic on spin data is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genphys-flags-'));
    const file = join(dir, 'spins.txt');
    writeFileSync(file, '+1 -1 +1 -1\n-1 -1 +1 +1\n');
    const out = join(dir, 'run');
    const r = await runCli(['rbm', 'train', '--data', `spins:${file}`, '--binarize', 'dynamic', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^genphys: --binarize dynamic: spins:.* holds spins, which are already binary$/);
    expect(existsSync(out)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('one run-directory scheme', () => {
  it('--out when given, else runs/<command>-<UTC time>; --resume needs --out', async () => {
    const { runDirectory } = await import('../src/run/paths.js');
    expect(runDirectory('x/y', 'vae')).toBe('x/y');
    expect(runDirectory('x/y', 'vae', true)).toBe('x/y');
    expect(runDirectory(undefined, 'gan')).toMatch(/^runs\/gan-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    expect(() => runDirectory(undefined, 'rbm', true)).toThrow('--resume: give the run directory with --out');
  });
});

describe('train --json', () => {
  it('prints only JSON lines on stdout: start, an epoch line per epoch, end with the run directory', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('./cli-helpers.js');
    const root = mkdtempSync(join(tmpdir(), 'genphys-json-'));
    try {
      const cases: Array<[string, string[]]> = [
        ['rbm train', ['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '6', '--epochs', '2', '--grid-every', '0']],
        ['gan train', ['gan', 'train', '--data', 'toy:ring8:128', '--epochs', '2', '--batch', '64']],
        ['diffusion train', ['diffusion', 'train', '--data', 'toy:ring8:128', '--T', '50', '--batch', '64', '--sample-steps', '3', '--epochs', '2']],
      ];
      for (const [label, args] of cases) {
        const dir = join(root, label.split(' ')[0]!);
        const r = await runCli(['--seed', '1', '--out', dir, ...args, '--json']);
        expect(r.code, r.err).toBe(0);
        const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { command: string; type: string; epoch?: number; dir?: string; status?: string });
        expect(new Set(events.map((e) => e.command))).toEqual(new Set([label]));
        expect(events[0]!.type).toBe('start');
        expect(events.filter((e) => e.type === 'epoch').map((e) => e.epoch)).toEqual([1, 2]);
        expect(events.at(-1)).toMatchObject({ type: 'end', status: 'done', dir });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
