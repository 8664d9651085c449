import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIsingDataset, loadSpinConfigurations, parseTemperatures } from '../src/physics/dataset.js';
import { DataFormatError, UsageError } from '../src/core/errors.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { exactSquare, onsagerEnergy, onsagerMagnetisation, onsagerSpecificHeat } from '../src/physics/exact.js';
import { runCli } from './cli-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-ising-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = runCli;

describe('genphys ising sample', () => {
  const dir = join(tmp, 'ds');
  it('writes one .npy per temperature and a manifest that loads back', async () => {
    const r = await run(['--seed', '3', '--quiet', '--out', dir, 'ising', 'sample', '--L', '4', '--temps', '1.5:3.5:3', '--n', '50', '--algo', 'metropolis', '--sweeps-between', '2', '--burn-in', '50', '--chains', '2', '--workers', '0']);
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(m.format).toBe('genphys-ising-dataset');
    expect(m.temperatures.map((t: { T: number }) => t.T)).toEqual([1.5, 2.5, 3.5]);
    expect(m).toMatchObject({ L: 4, J: 1, h: 0, algorithm: 'metropolis', seed: 3, sweepsBetween: 2, burnIn: 50 });
    for (const t of m.temperatures) {
      expect(t.tauAbsMagnetisation).toBeGreaterThan(0);
      expect(t.observables.energy.error).toBeGreaterThan(0);
      const a = readNpy(join(dir, t.file));
      expect(a.descr).toBe('|i1');
      expect(a.shape).toEqual([50, 4, 4]);
    }
    const ds = loadIsingDataset(dir);
    expect(ds.temperatures).toHaveLength(3);
    expect(ds.temperatures[0]!.spins.length).toBe(50 * 16);
    // Low T is ordered: |m| of the stored configurations is near 1.
    const s = ds.temperatures[0]!.spins;
    let am = 0;
    for (let k = 0; k < 50; k++) {
      let m1 = 0;
      for (let i = 0; i < 16; i++) m1 += s[k * 16 + i]!;
      am += Math.abs(m1) / 16 / 50;
    }
    expect(am).toBeGreaterThan(0.8);
  });

  it('a corrupt data file gives a one-line error naming the file', async () => {
    const bad = join(tmp, 'bad');
    await run(['--quiet', '--out', bad, 'ising', 'sample', '--L', '2', '--temps', '2', '--n', '4', '--algo', 'heatbath', '--sweeps-between', '1', '--burn-in', '1', '--chains', '1', '--workers', '0']);
    const m = JSON.parse(readFileSync(join(bad, 'manifest.json'), 'utf8'));
    const f = join(bad, m.temperatures[0].file);
    writeFileSync(f, readFileSync(f).subarray(0, 70)); // truncated
    expect(() => loadIsingDataset(bad)).toThrow(DataFormatError);
    try {
      loadIsingDataset(bad);
    } catch (e) {
      expect((e as Error).message).toContain(f);
      expect((e as Error).message).not.toContain('\n');
    }
    writeNpy(f, Int8Array.from([1, -1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), [4, 2, 2]);
    expect(() => loadIsingDataset(bad)).toThrow(/value 2 at flat index 3 is not a spin/);
    writeNpy(f, new Int8Array(12).fill(1), [3, 2, 2]);
    expect(() => loadIsingDataset(bad)).toThrow(/shape \[3, 2, 2\], expected \[4, 2, 2\]/);
    writeFileSync(join(bad, 'manifest.json'), '{ not json');
    expect(() => loadIsingDataset(bad)).toThrow(/manifest.json: not valid JSON/);
    expect(() => loadIsingDataset(join(tmp, 'nowhere'))).toThrow(/missing/);
  });

  it('spin text files and single .npy files load as ±1 configurations', () => {
    const txt = join(tmp, 'spins.txt');
    writeFileSync(txt, '# two configurations\n0 1 1 0\n1 1 1 1\n');
    const a = loadSpinConfigurations(txt);
    expect(a).toMatchObject({ n: 2, dim: 4 });
    expect(Array.from(a.spins)).toEqual([-1, 1, 1, -1, 1, 1, 1, 1]);
    const npy = join(tmp, 'one.npy');
    writeNpy(npy, Int8Array.from([1, -1, -1, 1]), [1, 2, 2]);
    expect(loadSpinConfigurations(npy)).toMatchObject({ n: 1, dim: 4 });
    writeFileSync(join(tmp, 'bad.txt'), '1 0 x\n');
    expect(() => loadSpinConfigurations(join(tmp, 'bad.txt'))).toThrow(/bad.txt: line 1/);
  });
});

describe('bad input gives one-line errors (exit 2 for flags)', () => {
  const cases: [string, string[], RegExp][] = [
    ['L < 2', ['ising', 'sample', '--L', '1'], /--L/],
    ['T ≤ 0 in the list', ['ising', 'sample', '--temps', '1,0,2'], /temperatures must be > 0/],
    ['negative temperature range', ['ising', 'sample', '--temps', '-1:2:3'], /temperatures must be > 0/],
    ['malformed temps', ['ising', 'sample', '--temps', '1:2'], /start:stop:count/],
    ['non-numeric temps', ['ising', 'sample', '--temps', 'hot,cold'], /comma list of numbers/],
    ['unknown algorithm', ['ising', 'sample', '--algo', 'glauber'], /glauber/],
    ['Wolff with a field', ['--out', join(tmp, 'w'), 'ising', 'sample', '--L', '4', '--temps', '2', '--n', '2', '--algo', 'wolff', '--h', '0.5', '--workers', '0'], /needs h = 0/],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const r = await run(['--quiet', ...args]);
      expect(r.code).toBe(2);
      // One error line (commander may add its '(add --help for usage)' hint after it).
      const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('(add --help'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
    });
  }

  it('parseTemperatures', () => {
    expect(parseTemperatures('1.0:3.5:6')).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
    expect(parseTemperatures('2.269')).toEqual([2.269]);
    expect(() => parseTemperatures('1:2:0')).toThrow(UsageError);
    expect(() => parseTemperatures('')).toThrow(UsageError);
  });

  it('ising exact prints Kaufman values', async () => {
    const r = await run(['ising', 'exact', '--L', '4', '--temps', '2.0']);
    expect(r.code).toBe(0);
    // The row's numbers against independent references: ln Z, e and C of the 4×4 lattice by
    // enumeration (exactSquare), and Onsager's infinite-lattice values, as printed (8 / 6 decimals).
    const row = r.out.split('\n').find((l) => l.startsWith('| 2.0000'))!;
    const cells = row.split('|').slice(2, -1).map((c) => Number(c.trim()));
    const en = exactSquare(4, 2.0);
    expect(cells.slice(0, 3)).toBeAllClose([en.logZ, en.energy, en.specificHeat], { atol: 1e-8 });
    expect(cells[1]).toBeAllClose(-1.7553802888, { atol: 1e-8 }); // e(L=4, T=2) by enumeration
    expect(cells.slice(3)).toBeAllClose([onsagerEnergy(2), onsagerSpecificHeat(2), onsagerMagnetisation(2)], { atol: 1e-6 });
    // Far below any physical scale the ground-state limit is printed, never NaN.
    const cold = await run(['ising', 'exact', '--L', '4', '--temps', '1e-300']);
    expect(cold.code).toBe(0);
    expect(cold.out).not.toMatch(/NaN|Infinity/);
    expect(cold.out).toContain('| -2.00000000 | 0.00000000 |');
  });
});
