/**
 * What a person sees in a terminal: `rbm train` under a pseudo-terminal (util-linux
 * `script`), its output replayed through a terminal emulator (@xterm/headless). Every
 * epoch's line survives the progress bar, the bar is gone at the end, and the summary
 * names the run directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import xterm from '@xterm/headless';
import { describe, expect, it } from 'vitest';

const haveScript = spawnSync('script', ['--version']).status === 0;
if (!haveScript) console.warn('skipping the terminal test: util-linux `script` is not installed');

/** Run a shell command under a pseudo-terminal of the given size; resolve with its raw output. */
function underPty(command: string, cols: number, rows: number): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn('script', ['-qec', `stty cols ${cols} rows ${rows}; exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('error', fail);
    p.on('exit', (code) => (code === 0 ? ok(out) : fail(new Error(`exit ${code}: ${out.slice(-500)}`))));
  });
}

/** The screen and scrollback after replaying `raw` in a terminal emulator. */
function screen(raw: string, cols: number, rows: number): Promise<string[]> {
  const term = new xterm.Terminal({ cols, rows, scrollback: 10_000, allowProposedApi: true });
  return new Promise((ok) =>
    term.write(raw.replace(/\n/g, '\r\n'), () => {
      const b = term.buffer.active;
      const lines: string[] = [];
      // A line the terminal wrapped is one line of output.
      for (let i = 0; i < b.length; i++) {
        const l = b.getLine(i)!;
        if (l.isWrapped && lines.length > 0) lines[lines.length - 1] += l.translateToString(true);
        else lines.push(l.translateToString(true));
      }
      while (lines.length > 0 && lines.at(-1) === '') lines.pop();
      term.dispose();
      ok(lines);
    }),
  );
}

describe.skipIf(!haveScript)('terminal output', () => {
  it('rbm train: one line per epoch survives the bar; the summary names the run directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'genphys-pty-')), 'run');
    const bin = resolve('dist/cli-bundle/genphys.js');
    const raw = await underPty(`${process.execPath} ${bin} --out ${dir} rbm train --data bars-and-stripes:3 --hidden 8 --epochs 30 --batch 14 --grid-every 0`, 120, 40);
    // The bar really was drawn (this is a terminal, not a pipe) …
    expect(raw).toMatch(/rbm train \[[█░]+\] \d+% \| epoch \d+\/30/);
    const lines = await screen(raw, 120, 40);
    // … and is gone now.
    expect(lines.filter((l) => /\[[█░]{5,}/.test(l))).toEqual([]);
    expect(lines[0]).toMatch(new RegExp(`^rbm train: starting in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, 30 epochs of 1 batches`));
    for (let e = 1; e <= 30; e++) expect(lines.filter((l) => l.startsWith(`epoch ${e} `)), `epoch ${e}`).toHaveLength(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^done: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(epoch 30, step 30\\)`));
  });
});
