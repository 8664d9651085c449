import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { Rng } from '../src/core/rng.js';
import { readSpinText, writeSpinText } from '../src/data/index.js';
import { isBarsAndStripes, loadModel } from '../src/ebm/index.js';
import { loadEbmData } from '../src/ebm/data.js';
import { trainRbmRun } from '../src/ebm/run.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { writeNpy } from '../src/io/npy.js';
import type { RunEvent } from '../src/run/events.js';
import { runCli } from './cli-helpers.js';
import { interruptWhenListening, snapshotDir, weightsFile } from './run-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-rbm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function captureStdout(): { text: () => string; restore: () => void } {
  let buf = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    buf += String(chunk);
    return true;
  });
  return { text: () => buf, restore: () => spy.mockRestore() };
}

describe('genphys rbm', () => {
  const run = join(root, 'bas');

  it('train on bars-and-stripes writes config, metrics, checkpoint, grids and curves', async () => {
    const out = captureStdout();
    const code = await main(['--seed', '3', '--quiet', '--out', run, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '16', '--method', 'pcd', '--k', '10', '--lr', '0.1', '--batch', '14', '--chains', '100', '--epochs', '5000', '--schedule', 'cosine', '--exact-every', '1000', '--grid-every', '0', '--save-every', '1000']);
    out.restore();
    expect(code).toBe(0);
    for (const f of ['config.json', 'metrics.jsonl', 'checkpoint.json', 'chains.png', 'filters.png', 'curve-likelihood.svg', 'curve-reconstruction.svg'])
      expect(existsSync(join(run, f)), f).toBe(true);
    // One weights file, the one the manifest names (5000 epochs × 1 batch of 14 = step 5000).
    expect(readdirSync(run).filter((f) => f.endsWith('.safetensors'))).toEqual([weightsFile(run)]);
    expect(weightsFile(run)).toBe('checkpoint.w5000.safetensors');
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(lines.length).toBe(5000);
    expect(lines[4999]!.testLL).toBeGreaterThan(-Math.log(14) - 0.5);
    const { model, epoch } = loadModel(run);
    expect(epoch).toBe(5000);
    expect(model.nHidden).toBe(16);
  });

  it('--backend wasm trains on the XNNPACK kernels and --backend cpu on the TypeScript ones, to the same model', async () => {
    const ll: number[] = [];
    for (const be of ['wasm', 'cpu']) {
      const dir = join(root, `bas-${be}`);
      const out = captureStdout();
      const code = await main(['--seed', '4', '--quiet', '--backend', be, '--out', dir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '8', '--method', 'pcd', '--k', '1', '--optimizer', 'adam', '--lr', '0.02', '--init-std', '0.5', '--batch', '14', '--epochs', '400', '--exact-every', '400', '--grid-every', '0']);
      out.restore();
      expect(code).toBe(0);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { kernels: string };
      expect(cfg.kernels).toMatch(be === 'wasm' ? /^wasm \(XNNPACK/ : /^js /);
      const last = JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!) as { trainLL: number };
      ll.push(last.trainLL);
    }
    // The kernel sets differ by float32/float64 rounding only, which flips no draw here: the
    // same exact LL to rounding (a flipped draw would change a whole gradient term).
    expect(Math.abs(ll[0]! - ll[1]!), ll.join(' vs ')).toBeLessThan(1e-5);
    expect(ll[0]!).toBeGreaterThan(-9 * Math.log(2) + 1);
  });

  it('eval --exact prints log Z and the exact distribution over visible states', async () => {
    const out = captureStdout();
    const code = await main(['rbm', 'eval', run, '--exact', '--top', '14']);
    out.restore();
    expect(code).toBe(0);
    const all = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as Record<string, { method: string; exactLogZ: number; distribution: Array<{ state: string; p: number }> }>;
    const ev = Object.values(all).at(-1)!;
    expect(ev.method).toBe('exact');
    expect(Number.isFinite(ev.exactLogZ)).toBe(true);
    expect(ev.distribution.length).toBe(14);
    // A trained model puts most of its top mass on valid patterns.
    const valid = ev.distribution.filter((d) => isBarsAndStripes(Array.from(d.state, Number), 3));
    expect(valid.length).toBeGreaterThanOrEqual(10);
    expect(out.text()).toContain('most probable visible states');
  });

  it('eval --ais --reverse agrees with exact log Z', async () => {
    const out = captureStdout();
    const code = await main(['--quiet', 'rbm', 'eval', run, '--exact', '--ais', '--reverse', '--betas', '1000', '--runs', '50']);
    out.restore();
    expect(code).toBe(0);
    const all = JSON.parse(readFileSync(join(run, 'eval.json'), 'utf8')) as Record<string, Record<string, number>>;
    // The earlier exact evaluation is kept beside this one.
    expect(Object.values(all).map((e) => e.method as unknown as string)).toEqual(['exact', 'exact+ais+reverse']);
    const ev = Object.values(all).at(-1)!;
    expect(Math.abs(ev.aisLogZ! - ev.exactLogZ!)).toBeLessThan(Math.max(0.1, 4 * ev.aisStdErr!));
    expect(Math.abs(ev.reverseAisLogZ! - ev.exactLogZ!)).toBeLessThan(Math.max(0.1, 4 * ev.reverseAisStdErr!));
  });

  it('sample writes a PNG grid and spin text', async () => {
    const grid = join(root, 'samples.png');
    const text = join(root, 'samples.txt');
    for (const sampler of ['gibbs', 'mh', 'pt']) {
      const out = captureStdout();
      const code = await main(['--quiet', 'rbm', 'sample', run, '--chains', '16', '--burn-in', '50', '--sampler', sampler, '--grid', grid, '--text', text]);
      out.restore();
      expect(code).toBe(0);
      expect(readFileSync(grid).subarray(1, 4).toString()).toBe('PNG');
      expect(readFileSync(text, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#')).length).toBe(16);
    }
  });

  it('SIGINT during training saves a resumable checkpoint and exits 130 with a one-line note; the resume gives the straight run bit for bit', async () => {
    const dir = join(root, 'interrupted');
    // A constant schedule: a decaying one (the exact method's default cosine) is planned over
    // --epochs, so raising the total on resume re-plans it and cannot match a straight run.
    const flags = ['--data', 'bars-and-stripes:3', '--hidden', '8', '--batch', '1', '--schedule', 'constant', '--exact-every', '0', '--grid-every', '0', '--save-every', '0'];
    const listeners = process.listenerCount('SIGINT');
    const cancel = interruptWhenListening(listeners, 300);
    const res = await runCli(['--quiet', '--seed', '4', '--out', dir, 'rbm', 'train', ...flags, '--epochs', '1000000']);
    cancel();
    expect(res.code, res.err).toBe(130);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
    // The final message is one line that says what happened and how to go on.
    const last = res.err.trim().split('\n').pop()!;
    expect(last).toMatch(/^genphys: interrupted after \d+ complete epochs \(step \d+\); checkpoint saved in .*; continue with --resume --out /);
    expect(last).toContain(dir);
    const ck = loadCheckpoint(dir, { kind: 'rbm', allowExtra: true });
    expect(ck.epoch).toBeGreaterThan(0);
    expect(ck.epoch).toBeLessThan(1000000);
    expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors'))).toEqual([weightsFile(dir)]);
    // Resume needs only --out; --epochs is the total (raised here: the stored one is 10^6).
    // Batches of 1 out of 14 rows: the interrupt may land mid-epoch, which a resume must redo exactly.
    const total = ck.epoch + 2;
    const r2 = await runCli(['--quiet', '--out', dir, 'rbm', 'train', '--resume', '--epochs', String(total)]);
    expect(r2.code, r2.err).toBe(0);
    const straight = join(root, 'interrupted-straight');
    expect((await runCli(['--quiet', '--seed', '4', '--out', straight, 'rbm', 'train', ...flags, '--epochs', String(total)])).code).toBe(0);
    const a = loadModel(dir);
    const b = loadModel(straight);
    expect([a.epoch, a.step]).toEqual([total, b.step]);
    expect(a.step).toBe(14 * total);
    for (const [k, v] of Object.entries(b.model.params)) expect(Array.from(a.model.params[k]!), k).toEqual(Array.from(v));
    const epochs = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    expect(epochs(dir)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('spin data trains a ±1 model whose samples are ±1 configurations; Gaussian visibles train too', async () => {
    const rng = new Rng(5);
    const L = 4;
    const spins = new Float32Array(300 * L * L).map(() => (rng.uniform() < 0.5 ? -1 : 1));
    const file = join(root, 'spins.txt');
    writeSpinText(file, spins, L * L, { convention: 'pm1' });
    const dir = join(root, 'spin-run');
    const out = captureStdout();
    expect(await main(['--quiet', '--out', dir, 'rbm', 'train', '--data', `spins:${file}`, '--hidden', '8', '--epochs', '3', '--batch', '50'])).toBe(0);
    const { model } = loadModel(dir);
    expect(model.visibleUnits).toBe('pm1');
    const text = join(root, 'spin-samples.txt');
    expect(await main(['--quiet', 'rbm', 'sample', dir, '--chains', '10', '--burn-in', '20', '--text', text])).toBe(0);
    const back = readSpinText(text);
    expect(back.convention).toBe('pm1');
    expect(back.n).toBe(10);
    expect(back.dim).toBe(L * L);
    const gdir = join(root, 'gauss-run');
    expect(await main(['--quiet', '--out', gdir, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--visible', 'gaussian', '--hidden', '8', '--epochs', '20', '--batch', '14'])).toBe(0);
    out.restore();
    const g = loadModel(gdir).model;
    expect(g.visibleUnits).toBe('gaussian');
    for (const p of Object.values(g.params)) for (const x of p) expect(Number.isFinite(x)).toBe(true);
  });

  it('--average f trains the same run but keeps the tail average of the parameters', async () => {
    const args = (d: string, f: string) => ['--quiet', '--seed', '3', '--out', d, 'rbm', 'train', '--data', 'bars-and-stripes:3', '--hidden', '6', '--epochs', '4', '--batch', '7', '--average', f];
    const d0 = join(root, 'avg0');
    const d1 = join(root, 'avg1');
    expect(await main(args(d0, '0'))).toBe(0);
    expect(await main(args(d1, '0.5'))).toBe(0);
    expect(JSON.parse(readFileSync(join(d1, 'config.json'), 'utf8')).train.averaging).toBe(0.5);
    const w0 = loadModel(d0).model.params.W!;
    const w1 = loadModel(d1).model.params.W!;
    expect(w1).not.toEqual(w0);
    // The average of iterates that all lie near the last one stays close to it.
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < w0.length; i++) [diff, norm] = [diff + (w1[i]! - w0[i]!) ** 2, norm + w0[i]! ** 2];
    expect(Math.sqrt(diff / norm)).toBeLessThan(0.5);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(args(join(root, 'avg2'), '1.5'))).toBe(2);
    err.mockRestore();
  });

  it('spins:<file.npy> loads one temperature of an Ising dataset; a .npy that is not spins is a one-line error', () => {
    const file = join(root, 'ising.npy');
    const src = Int8Array.from({ length: 3 * 9 }, (_, k) => (k % 4 === 0 ? -1 : 1));
    writeNpy(file, src, [3, 3, 3]);
    const d = loadEbmData(`spins:${file}`);
    expect([d.nVisible, d.units, d.image]).toEqual([9, 'pm1', { height: 3, width: 3 }]);
    expect(Array.from(d.train)).toEqual(Array.from(src));
    expect(loadEbmData(`spins:${file}`, { limit: 2 }).train.length).toBe(18);
    const bad = join(root, 'bad.npy');
    writeNpy(bad, Int8Array.from([1, 0, -1, 1]), [1, 2, 2]);
    expect(() => loadEbmData(`spins:${bad}`)).toThrow(/bad\.npy: mixes 0 and −1 as spin down/);
    const grey = join(root, 'grey.npy');
    writeNpy(grey, Float32Array.from([1, 0.5, 0, 1]), [1, 2, 2]);
    expect(() => loadEbmData(`spins:${grey}`)).toThrow(/grey\.npy: value 0\.5 at flat index 1 is not a spin/);
    const empty = join(root, 'empty.npy');
    writeNpy(empty, new Int8Array(0), [0, 2, 2]);
    expect(() => loadEbmData(`spins:${empty}`)).toThrow(/empty\.npy: shape \[0, 2, 2\]: expected \[n, …\] with n ≥ 1/);
  });

  it('bad flags are usage errors (exit 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['rbm', 'train', '--data', 'nope', '--out', join(root, 'x')])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--lr', '-1'])).toBe(2);
    expect(await main(['rbm', 'train', '--data', 'bars-and-stripes:3', '--method', 'xx'])).toBe(2);
    expect(await main(['rbm', 'eval', join(root, 'missing')])).toBe(2);
    err.mockRestore();
  });
});

describe('genphys rbm train: run directories, --resume, --force, --epochs', () => {
  // Tiny runs: 14 bars-and-stripes rows in batches of 7 (2 updates per epoch).
  // A constant schedule, so that raising --epochs on resume can equal a straight run (see above).
  const flags = ['--data', 'bars-and-stripes:3', '--hidden', '8', '--batch', '7', '--schedule', 'constant', '--exact-every', '0', '--grid-every', '0'];
  const train = (dir: string, ...more: string[]) => runCli(['--quiet', '--seed', '2', '--out', dir, 'rbm', 'train', ...more]);
  const epochsIn = (dir: string) =>
    readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  const sameParams = (a: string, b: string) => {
    const pa = loadModel(a).model.params;
    for (const [k, v] of Object.entries(loadModel(b).model.params)) expect(Array.from(pa[k]!), k).toEqual(Array.from(v));
  };
  const oneLine = (err: string) => {
    expect(err.trim().split('\n')).toHaveLength(1);
    return err.trim();
  };

  it('--epochs is the total; --resume needs only --out and continues to the straight run bit for bit', async () => {
    const a = join(root, 'total-straight');
    const b = join(root, 'total-resumed');
    expect((await train(a, ...flags, '--epochs', '5')).code).toBe(0);
    expect((await train(b, ...flags, '--epochs', '3')).code).toBe(0);
    expect(loadModel(b).epoch).toBe(3);
    // No --data, no --seed: both come from the run. 5 is the total, not 5 more.
    const r = await runCli(['--quiet', '--out', b, 'rbm', 'train', '--resume', '--epochs', '5']);
    expect(r.code, r.err).toBe(0);
    expect([loadModel(b).epoch, loadModel(b).step]).toEqual([5, 10]);
    expect(loadModel(a).step).toBe(10);
    sameParams(b, a);
    expect(epochsIn(b)).toEqual([1, 2, 3, 4, 5]);
    expect((JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as { epochs: number }).epochs).toBe(5);
    // A finished run resumed without --epochs stays at its stored total.
    expect((await runCli(['--quiet', '--out', b, 'rbm', 'train', '--resume'])).code).toBe(0);
    expect(loadModel(b).epoch).toBe(5);
    expect(epochsIn(b)).toEqual([1, 2, 3, 4, 5]);
    sameParams(b, a);
    expect(readdirSync(b).filter((f) => f.endsWith('.safetensors'))).toEqual([weightsFile(b)]);
  });

  it('a flag that conflicts with the stored run is a one-line error naming it and both values, and changes no file', async () => {
    const dir = join(root, 'conflict');
    expect((await train(dir, ...flags, '--epochs', '2')).code).toBe(0);
    const before = snapshotDir(dir);
    for (const [flag, value, was] of [
      ['--hidden', '16', '8'],
      ['--data', 'bars-and-stripes:4', 'bars-and-stripes:3'],
      ['--lr', '0.5', '0.05'],
      ['--batch', '2', '7'],
      ['--method', 'cd', 'exact'],
    ] as const) {
      const r = await runCli(['--quiet', '--out', dir, 'rbm', 'train', '--resume', flag, value, '--epochs', '4']);
      expect(r.code, `${flag}: ${r.err}`).toBe(2);
      expect(oneLine(r.err)).toBe(`genphys: --resume: ${flag} ${value} conflicts with the run in ${dir}, which was started with ${flag} ${was}; drop the flag or train into a new --out`);
    }
    // Fewer total epochs than already done.
    const low = await runCli(['--quiet', '--out', dir, 'rbm', 'train', '--resume', '--epochs', '1']);
    expect(low.code).toBe(2);
    expect(oneLine(low.err)).toMatch(/--epochs 1: the run in .*conflict has already done 2 epochs \(--epochs is the total\)/);
    expect(snapshotDir(dir)).toEqual(before);
    expect(loadModel(dir).epoch).toBe(2);
    // Repeating a stored value is not a conflict.
    const same = await runCli(['--quiet', '--out', dir, 'rbm', 'train', '--resume', '--hidden', '8', '--data', 'bars-and-stripes:3', '--epochs', '3']);
    expect(same.code, same.err).toBe(0);
    expect(loadModel(dir).epoch).toBe(3);
  });

  it('an existing non-empty directory needs --resume or --force; --force replaces a run but never a non-run', async () => {
    const dir = join(root, 'taken');
    expect((await train(dir, ...flags, '--epochs', '2')).code).toBe(0);
    const before = snapshotDir(dir);
    const again = await train(dir, ...flags, '--epochs', '2');
    expect(again.code).toBe(2);
    expect(oneLine(again.err)).toBe(`genphys: --out: ${dir} already exists and is not empty; pass --resume to continue the run in it or --force to replace it`);
    const both = await train(dir, ...flags, '--epochs', '2', '--resume', '--force');
    expect(both.code).toBe(2);
    expect(oneLine(both.err)).toContain('--resume and --force cannot be combined');
    expect(snapshotDir(dir)).toEqual(before);
    // --force: a new run of another shape, with nothing left of the old one.
    const forced = await train(dir, ...flags, '--hidden', '6', '--epochs', '1', '--force');
    expect(forced.code, forced.err).toBe(0);
    const { model, epoch } = loadModel(dir);
    expect([model.nHidden, epoch]).toEqual([6, 1]);
    expect(epochsIn(dir)).toEqual([1]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.safetensors'))).toEqual([weightsFile(dir)]);
    // A directory that is not a run is never deleted, --force or not.
    const other = join(root, 'not-a-run');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    for (const extra of [[], ['--force']]) {
      const r = await train(other, ...flags, '--epochs', '1', ...extra);
      expect(r.code).toBe(2);
      expect(oneLine(r.err)).toContain(other);
    }
    expect(readdirSync(other)).toEqual(['notes.txt']);
    const missing = await runCli(['--quiet', '--out', join(root, 'no-such-run'), 'rbm', 'train', '--resume']);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.err)).toContain('no-such-run does not exist');
    expect(existsSync(join(root, 'no-such-run'))).toBe(false);
  });

  it('a run killed after writing config.json but before its first checkpoint resumes by starting over', async () => {
    const a = join(root, 'restart-straight');
    const b = join(root, 'restart-killed');
    expect((await train(a, ...flags, '--epochs', '3')).code).toBe(0);
    expect((await train(b, ...flags, '--epochs', '3')).code).toBe(0);
    // What such a kill leaves: the config, no checkpoint, maybe a torn metrics line.
    for (const f of readdirSync(b)) if (f !== 'config.json') rmSync(join(b, f));
    writeFileSync(join(b, 'metrics.jsonl'), '{"epoch": 1, "reconstr');
    const r = await runCli(['--quiet', '--out', b, 'rbm', 'train', '--resume']);
    expect(r.code, r.err).toBe(0);
    expect([loadModel(b).epoch, loadModel(b).step]).toEqual([3, 6]);
    sameParams(b, a);
    expect(epochsIn(b)).toEqual([1, 2, 3]);
  });

  it('a run killed between an epoch\'s metrics line and its checkpoint redoes that epoch once on resume', async () => {
    const a = join(root, 'ahead-straight');
    const b = join(root, 'ahead-killed');
    expect((await train(a, ...flags, '--epochs', '3')).code).toBe(0);
    expect((await train(b, ...flags, '--epochs', '2')).code).toBe(0);
    // As if killed after epoch 3's metrics line was appended, before its checkpoint.
    writeFileSync(join(b, 'metrics.jsonl'), readFileSync(join(a, 'metrics.jsonl')));
    expect(epochsIn(b)).toEqual([1, 2, 3]);
    const r = await runCli(['--quiet', '--out', b, 'rbm', 'train', '--resume', '--epochs', '3']);
    expect(r.code, r.err).toBe(0);
    expect(epochsIn(b)).toEqual([1, 2, 3]);
    sameParams(b, a);
  });

  it('--save-every 0 is accepted and checkpoints only at the end; --save-every n at multiples of n and the end', async () => {
    const dir = join(root, 'save-every-0');
    const r = await train(dir, ...flags, '--epochs', '3', '--save-every', '0');
    expect(r.code, r.err).toBe(0);
    expect(loadModel(dir).epoch).toBe(3);
    // Which epochs were saved is visible only as events: count them through the library.
    const saves = async (saveEvery: number, epochs: number) => {
      const at: number[] = [];
      await trainRbmRun({
        dir: join(root, `save-every-lib-${saveEvery}`),
        seed: 2,
        data: { spec: 'bars-and-stripes:3', binarize: 'static' },
        hidden: 8,
        train: { batchSize: 7 },
        epochs,
        exactEvery: 0,
        gridEvery: 0,
        saveEvery,
        onEvent: (e) => {
          if (e.type === 'checkpoint') at.push(e.epoch);
        },
      });
      return at;
    };
    expect(await saves(0, 3)).toEqual([3]);
    expect(await saves(2, 5)).toEqual([2, 4, 5]);
  });

  it('an abort in the middle of an epoch saves the exact step, and resuming gives the straight run bit for bit', async () => {
    // 14 rows in batches of 1: abort after batch 5 of epoch 2, i.e. after update 19.
    const common = {
      seed: 9,
      data: { spec: 'bars-and-stripes:3', binarize: 'static' as const },
      hidden: 8,
      train: { batchSize: 1 },
      epochs: 3,
      exactEvery: 1,
      gridEvery: 0,
      saveEvery: 1,
    };
    const straight = join(root, 'lib-straight');
    const cut = join(root, 'lib-cut');
    await trainRbmRun({ ...common, dir: straight });
    const ac = new AbortController();
    const events: RunEvent[] = [];
    const r1 = await trainRbmRun({
      ...common,
      dir: cut,
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'batch' && e.epoch === 2 && e.batch === 5) ac.abort();
      },
    });
    expect([r1.status, r1.epoch, r1.step]).toEqual(['interrupted', 1, 19]);
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'interrupted', step: 19 });
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([14, 19]);
    expect(loadModel(cut).step).toBe(19);
    const r2 = await trainRbmRun({ ...common, dir: cut, resume: true });
    expect([r2.status, r2.epoch, r2.step]).toEqual(['done', 3, 42]);
    sameParams(cut, straight);
    expect(epochsIn(cut)).toEqual([1, 2, 3]);
    // The resumed run's metrics (exact log-likelihoods included) equal the straight run's.
    const rows = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
      const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, number>;
      return rest;
    });
    expect(rows(cut)).toEqual(rows(straight));
  });
});
