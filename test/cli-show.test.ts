/**
 * `genphys show RUN` and the evaluation history: every `rbm eval` is kept in eval.json
 * under its method and date (an exact evaluation does not wipe an AIS one), and `show`
 * lists them with the checkpoint and the last metrics.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/run/summary.js';
import { runCli } from './cli-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-show-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('show and the evaluation history', () => {
  it('keeps every evaluation and shows the run on one screen', async () => {
    const run = join(root, 'run');
    expect((await runCli(['rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '4', '--epochs', '3', '--grid-every', '0', '--quiet', '--out', run])).code).toBe(0);
    expect((await runCli(['rbm', 'eval', run, '--exact', '--ais', '--betas', '200', '--runs', '10', '--quiet'])).code).toBe(0);
    expect((await runCli(['rbm', 'eval', run, '--exact', '--quiet'])).code).toBe(0);
    const ev = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as Record<string, { method: string; aisLogZ?: number; exactLogZ: number }>;
    const entries = Object.entries(ev);
    expect(entries.map(([, e]) => e.method)).toEqual(['exact+ais', 'exact']);
    expect(entries[0]![1].aisLogZ).toBeTypeOf('number'); // the AIS result survived the later exact-only evaluation
    expect(entries[0]![1].exactLogZ).toBe(entries[1]![1].exactLogZ);
    const js = await runCli(['show', run, '--json']);
    expect(js.code).toBe(0);
    const s = JSON.parse(js.out) as RunSummary;
    expect(s.config.command).toBe('rbm train');
    expect(s.checkpoint).toMatchObject({ kind: 'rbm', epoch: 3 });
    expect(s.epochs).toBe(3);
    expect(s.lastMetrics?.epoch).toBe(3);
    expect(s.evaluations).toHaveLength(2);
    expect(s.artifacts.map((a) => a.name)).toContain('curve-likelihood.svg');
    const text = await runCli(['show', run]);
    expect(text.out).toMatch(/rbm train \(seed 0\)/);
    expect(text.out).toMatch(/checkpoint: rbm, epoch 3/);
    expect(text.out.match(/^ {2}eval /gm)).toHaveLength(2);
  });

  it('a directory that is not a run is a one-line error', async () => {
    const r = await runCli(['show', root]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toMatch(/^genphys: .*: not a run directory \(no config\.json\)$/);
  });
});
