/**
 * The bundled command line (dist/cli-bundle/genphys.js, scripts/bundle-cli.mjs): the
 * package's `bin`, `npm start`, and what sweep jobs spawn. It must behave as the unbundled
 * CLI: the same backend, worker threads and data files found from its own location, and
 * the same numbers for the same seed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/ebm/index.js';
import { collectInfo } from '../src/cli/info.js';
import { runCli } from './cli-helpers.js';

const BUNDLE = join(import.meta.dirname, '..', 'dist', 'cli-bundle', 'genphys.js');
const built = existsSync(BUNDLE);
if (!built) process.stderr.write(`cli-bundle: skipped: ${BUNDLE} is missing (run \`npm run build\`)\n`);

function bundled(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BUNDLE, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(!built)('the bundled CLI', () => {
  const root = mkdtempSync(join(tmpdir(), 'genphys-bundle-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('starts, lists its commands, and selects the same tensor backend as the library', async () => {
    const help = bundled(['--help']);
    expect(help.code, help.err).toBe(0);
    for (const c of ['rbm', 'vae', 'gan', 'diffusion', 'ising', 'sweep', 'worker']) expect(help.out).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
    const info = bundled(['info', '--json']);
    expect(info.code, info.err).toBe(0);
    const here = await collectInfo('auto');
    const there = JSON.parse(info.out) as typeof here;
    expect(there.backend.name).toBe(here.backend.name);
    expect(there.native.available).toBe(here.native.available);
    expect(there.kernels.name).toBe(here.kernels.name);
  });

  it('rbm train gives the same weights as the in-process CLI for the same seed', async () => {
    const args = (dir: string) => ['--quiet', '--seed', '5', '--out', dir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '6', '--epochs', '20', '--grid-every', '0'];
    const a = bundled(args(join(root, 'rbm-bundle')));
    expect(a.code, a.err).toBe(0);
    expect((await runCli(args(join(root, 'rbm-lib')))).code).toBe(0);
    const x = loadModel(join(root, 'rbm-bundle'));
    const y = loadModel(join(root, 'rbm-lib'));
    for (const [k, v] of Object.entries(y.model.params)) expect(Array.from(x.model.params[k]!), k).toEqual(Array.from(v));
  });

  it('trains a GAN and a diffusion model on a toy (tfjs from node_modules), and ising rbm on worker threads', () => {
    const gan = bundled(['--quiet', '--seed', '1', '--out', join(root, 'gan'), 'gan', 'train', '--data', 'toy:ring8:256', '--epochs', '1', '--batch', '64']);
    expect(gan.code, gan.err).toBe(0);
    expect(readdirSync(join(root, 'gan'))).toContain('checkpoint.json');
    const diff = bundled(['--quiet', '--out', join(root, 'diff'), 'diffusion', 'train', '--data', 'toy:ring8:256', '--T', '50', '--batch', '64', '--sample-steps', '3', '--epochs', '1']);
    expect(diff.code, diff.err).toBe(0);
    expect(readdirSync(join(root, 'diff'))).toContain('checkpoint.json');
    // Monte Carlo on two worker threads: the worker script is found from the bundle's location.
    const ising = bundled(['--quiet', '--seed', '2', '--out', join(root, 'ising'), 'ising', 'rbm', '--L', '3', '--temps', '2.5', '--n', '200', '--epochs', '2', '--chains', '2', '--workers', '2', '--rbm-steps', '50', '--rbm-burn-in', '10']);
    expect(ising.code, ising.err).toBe(0);
    expect(readFileSync(join(root, 'ising', 'comparison.md'), 'utf8')).toMatch(/^\| 2\.500 /m);
  });
});
