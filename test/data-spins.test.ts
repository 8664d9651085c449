import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFormatError, ShapeError } from '../src/core/errors.js';
import { DataNotFoundError } from '../src/data/errors.js';
import { formatSpinText, parseSpinText, readSpinText, writeSpinText } from '../src/data/spins.js';
import { evenlySpacedRows } from '../src/physics/dataset.js';

const tmp = mkdtempSync(join(tmpdir(), 'genphys-data-spins-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function errorOf(text: string): DataFormatError {
  try {
    parseSpinText(text, 'spins.txt');
  } catch (e) {
    expect(e).toBeInstanceOf(DataFormatError);
    expect((e as Error).message).not.toContain('\n');
    return e as DataFormatError;
  }
  throw new Error('expected a DataFormatError');
}

describe('parseSpinText', () => {
  it('reads 0/1 with comments, blank lines, tabs and CRLF', () => {
    const text = '# L=2 Ising, T=2.27\n\n0 1 1 0\r\n1\t1  0 0   # trailing comment\n   \n0 0 0 0\n';
    const s = parseSpinText(text, 'a.txt');
    expect(s).toMatchObject({ n: 3, dim: 4, convention: '01' });
    expect(Array.from(s.data)).toEqual([0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('reads ±1 with -1, 1 and +1', () => {
    const s = parseSpinText('1 -1 +1\n-1 -1 1\n', 'b.txt');
    expect(s).toMatchObject({ n: 2, dim: 3, convention: 'pm1' });
    expect(Array.from(s.data)).toEqual([1, -1, 1, -1, -1, 1]);
  });

  it('a file of only 1s is reported as 0/1 (no evidence either way)', () => {
    expect(parseSpinText('1 1\n1 1\n', 'c').convention).toBe('01');
  });

  it('ragged lines: error names the file and line', () => {
    const e = errorOf('# header\n0 1 0\n1 1 1\n\n1 0\n');
    expect(e.file).toBe('spins.txt');
    expect(e.message).toBe('spins.txt: line 5: 2 spins, expected 3 as on the first configuration');
  });

  it('other symbols: error names the line and token', () => {
    expect(errorOf('0 1\n1 2\n').message).toBe("spins.txt: line 2: '2' is not a spin (expected 0/1 or -1/+1)");
    expect(errorOf('1 -1\n1 1.0\n').message).toMatch(/^spins\.txt: line 2: '1\.0' is not a spin/);
    expect(errorOf('up down\n').message).toMatch(/line 1: 'up'/);
    expect(errorOf('1,0\n').message).toMatch(/line 1: '1,0'/);
  });

  it('mixed conventions: error names the conflicting line and the first one', () => {
    expect(errorOf('1 1\n0 1\n1 1\n-1 1\n').message).toBe("spins.txt: line 4: '-1' mixes spin conventions (line 2 uses 0/1)");
    expect(errorOf('+1 0\n').message).toMatch(/line 1: '0' mixes spin conventions \(line 1 uses -1\/\+1\)/);
  });

  it('no configurations at all is an error', () => {
    expect(errorOf('# only a comment\n\n').message).toMatch(/no spin configurations/);
    expect(errorOf('').message).toMatch(/no spin configurations/);
  });

  it('handles many lines (buffer growth)', () => {
    const lines = Array.from({ length: 3000 }, (_, i) => Array.from({ length: 9 }, (_, j) => ((i + j) % 3 === 0 ? '-1' : '1')).join(' '));
    const s = parseSpinText(lines.join('\n'), 'big');
    expect([s.n, s.dim, s.convention]).toEqual([3000, 9, 'pm1']);
    const expected = Float32Array.from({ length: 3000 * 9 }, (_, k) => ((Math.floor(k / 9) + (k % 9)) % 3 === 0 ? -1 : 1));
    expect(s.data).toEqual(expected);
  });
});

describe('formatSpinText / files', () => {
  it('round-trips both conventions and converts between them', () => {
    const pm = Float32Array.from([1, -1, -1, 1, 1, 1]);
    const t = formatSpinText(pm, 3, { convention: 'pm1', header: 'two configs\nL=3' });
    expect(t).toBe('# two configs\n# L=3\n1 -1 -1\n1 1 1\n');
    expect(Array.from(parseSpinText(t, 'x').data)).toEqual(Array.from(pm));
    const t01 = formatSpinText(pm, 3, { convention: '01' });
    expect(t01).toBe('1 0 0\n1 1 1\n');
    const back = parseSpinText(t01, 'y');
    expect(back.convention).toBe('01');
    expect(formatSpinText(back.data, 3)).toBe('1 -1 -1\n1 1 1\n');
  });

  it('rejects non-spin values, mixed 0/−1 input and bad shapes', () => {
    expect(() => formatSpinText([1, 0.5], 2)).toThrow(ShapeError);
    expect(() => formatSpinText([1, 0, -1, 1], 2)).toThrow(/mixes 0 and -1/);
    expect(() => formatSpinText([1, 0, 1], 2)).toThrow(/not a multiple/);
    expect(() => formatSpinText([1], 0)).toThrow(ShapeError);
  });

  it('writes atomically and reads back; a missing file is DataNotFoundError', () => {
    const p = join(tmp, 'sub', 'spins.txt');
    writeSpinText(p, [0, 1, 1, 0], 2, { convention: '01' });
    expect(readFileSync(p, 'utf8')).toBe('0 1\n1 0\n');
    expect(readSpinText(p)).toMatchObject({ n: 2, dim: 2, convention: '01' });
    expect(() => readSpinText(join(tmp, 'none.txt'))).toThrow(DataNotFoundError);
  });

  it('errors from files carry the path', () => {
    const p = join(tmp, 'bad.txt');
    writeSpinText(p, [1, -1], 2);
    const text = readFileSync(p, 'utf8') + '1\n';
    expect(() => parseSpinText(text, p)).toThrow(`${p}: line 2: 1 spins, expected 2`);
  });
});

describe('evenlySpacedRows', () => {
  it('takes rows ⌊k·rows/n⌋, so a subset of chain-by-chain data covers every chain; n ≥ rows keeps all', () => {
    // 4 chains × 5 rows of 2 spins; row r holds the values (r, −r) so the chosen rows are visible.
    const spins = Int8Array.from({ length: 20 * 2 }, (_, k) => (k % 2 === 0 ? 1 : -1) * Math.floor(k / 2));
    const sub = evenlySpacedRows(spins, 2, 4);
    expect(Array.from(sub.filter((_, k) => k % 2 === 0))).toEqual([0, 5, 10, 15]);
    expect(Array.from(evenlySpacedRows(spins, 2, 3).filter((_, k) => k % 2 === 0))).toEqual([0, 6, 13]);
    expect(evenlySpacedRows(spins, 2, 20)).toBe(spins);
    expect(evenlySpacedRows(spins, 2, 99)).toBe(spins);
    expect(spins[2]).toBe(1); // input untouched
  });
});
