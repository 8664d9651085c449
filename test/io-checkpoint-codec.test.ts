import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../src/core/errors.js';
import { sha256Hex } from '../src/core/sha256.js';
import { Rng } from '../src/core/rng.js';
import { rbmCheckpointInput, rbmFromCheckpoint } from '../src/ebm/checkpoint.js';
import { loadModel, saveModel } from '../src/ebm/io.js';
import { BernoulliRBM } from '../src/ebm/rbm.js';
import { barsAndStripesPatterns } from '../src/ebm/bars-and-stripes.js';
import { exactLogZ } from '../src/ebm/partition.js';
import { Trainer } from '../src/ebm/train.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointInput, type EncodedCheckpoint } from '../src/io/checkpoint-codec.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { sha256Hex as sweepSha256Hex } from '../src/sweep/sha256.js';
import { loadVaeCheckpoint } from '../src/vae/checkpoint.js';
import { vaeCheckpointInput, vaeFromCheckpoint, type VaeCheckpointMeta } from '../src/vae/checkpoint-codec.js';
import { parameterSpecs } from '../src/vae/models.js';
import { PRESETS } from '../src/vae/presets.js';
import type { TrainerState as VaeTrainerState } from '../src/vae/train.js';
import { runCli } from './cli-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-ckpt-codec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let nDirs = 0;
const fresh = (): string => {
  const d = join(root, `c${nDirs++}`);
  mkdirSync(d);
  return d;
};

/** What a browser download does: the two files, byte for byte, side by side. */
function writePair(dir: string, enc: EncodedCheckpoint): void {
  writeFileSync(join(dir, enc.jsonName), enc.jsonText);
  writeFileSync(join(dir, enc.weightsFile), enc.weights);
}

const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A small checkpoint with every optional field set; weights from seed 5. */
function sample(): CheckpointInput {
  const rng = new Rng(5);
  const W = new Float32Array(12);
  rng.fillNormal(W);
  const b = new Float32Array(3).map(() => rng.uniform() - 0.5);
  rng.normal(); // a cached spare normal in the state
  return {
    kind: 'toy',
    config: { sizes: [4, 3], note: 'ünïcode ✓' },
    tensors: { W: { shape: [4, 3], data: W }, b: { shape: [3], data: b }, 'optimizer.m.W': { shape: [4, 3], data: W.map((x) => x / 2) } },
    step: 17,
    epoch: 3,
    optimizer: { name: 'adam', lr: 1e-3 },
    rng: rng.getState(),
    dataset: { name: 'toy', split: 'train', n: 6, sha256: 'ab'.repeat(32) },
    extra: { loss: 0.25 },
  };
}

/** A throw's one-line CheckpointError message. */
function failure(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    return msg;
  }
  throw new Error('expected a CheckpointError');
}

describe('pure SHA-256', () => {
  it('equals node:crypto on random bytes across the padding boundaries', () => {
    const rng = new Rng(42);
    for (const n of [0, 55, 56, 63, 64, 65, 1000, 1e6]) {
      // An offset view, so a subarray of a larger buffer is hashed in place correctly.
      const buf = new Uint8Array(n + 3);
      for (let i = 0; i < buf.length; i++) buf[i] = rng.int(256);
      const bytes = buf.subarray(3);
      expect(sha256Hex(bytes), `n = ${n}`).toBe(nodeSha(bytes));
    }
    // FIPS 180-4 appendix B.1 ('abc') and the sweep re-export.
    expect(sweepSha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('encodeCheckpoint / decodeCheckpoint', () => {
  it('files written from memory load through loadCheckpoint exactly as decoded in memory', () => {
    const ck = sample();
    const enc = encodeCheckpoint(ck, { name: 'lab', created: '2026-01-02T03:04:05.000Z' });
    expect([enc.jsonName, enc.weightsFile]).toEqual(['lab.json', 'lab.w17.safetensors']);
    // The default (pure) hash is the one the CLI's node hash would record.
    expect((JSON.parse(enc.jsonText) as { weights: { sha256: string } }).weights.sha256).toBe(nodeSha(enc.weights));
    const dir = fresh();
    writePair(dir, enc);
    const viaFs = loadCheckpoint(dir, { name: 'lab' });
    const inMem = decodeCheckpoint(enc.jsonText, enc.weights, { jsonPath: join(dir, 'lab.json') });
    expect(inMem.weightsPath).toBe(join(dir, 'lab.w17.safetensors'));
    expect(inMem).toEqual(viaFs);
    expect(viaFs.created).toBe('2026-01-02T03:04:05.000Z');
    expect(viaFs.rng).toEqual(ck.rng);
    expect(viaFs.config).toEqual(ck.config);
    for (const [k, t] of Object.entries(ck.tensors)) {
      expect(viaFs.tensors[k]!.shape).toEqual(t.shape);
      expect(viaFs.tensors[k]!.data).toEqual(t.data);
    }
  });

  it('encodes the same bytes as saveCheckpoint, and refuses what it refuses', () => {
    const ck = sample();
    const dir = fresh();
    saveCheckpoint(dir, ck);
    const enc = encodeCheckpoint(ck, { created: 'x' });
    expect(Buffer.from(enc.weights).equals(readFileSync(join(dir, 'checkpoint.w17.safetensors')))).toBe(true);
    const nan = { ...ck, tensors: { ...ck.tensors, b: { shape: [3], data: Float32Array.of(0, NaN, 1) } } };
    expect(() => encodeCheckpoint(nan)).toThrow(/refusing to save tensor 'b': entry 1 is NaN/);
    expect(() => encodeCheckpoint({ ...ck, config: { lr: Infinity } })).toThrow(/not JSON-serialisable: 'lr' is Infinity/);
    expect(() => encodeCheckpoint({ ...ck, step: 1.5 })).toThrow(/step must be a non-negative integer/);
    expect(() => encodeCheckpoint(ck, { weightsFile: '../w.safetensors' })).toThrow(/plain file name/);
    expect(() => encodeCheckpoint(ck, { name: 'a/b' })).toThrow(/checkpoint name 'a\/b'/);
  });

  it('rejects a flipped byte, a truncated file and a wrong kind, each naming the file', () => {
    const enc = encodeCheckpoint(sample(), { name: 'lab' });
    const opts = { jsonPath: 'dl/lab.json' };
    const flipped = enc.weights.slice();
    flipped[flipped.length - 5]! ^= 0x10;
    expect(failure(() => decodeCheckpoint(enc.jsonText, flipped, opts))).toBe(
      'dl/lab.w17.safetensors: weights SHA-256 does not match lab.json (corrupt, or from another save)',
    );
    expect(failure(() => decodeCheckpoint(enc.jsonText, enc.weights.subarray(0, enc.weights.length - 1), opts))).toBe(
      `dl/lab.w17.safetensors: weights file is ${enc.weights.length - 1} bytes but lab.json records ${enc.weights.length} (truncated, or from another save)`,
    );
    expect(failure(() => decodeCheckpoint(enc.jsonText.slice(0, 40), enc.weights, opts))).toMatch(/^dl\/lab\.json: not valid JSON \(/);
    expect(failure(() => decodeCheckpoint(enc.jsonText, enc.weights, { ...opts, kind: 'vae' }))).toBe(
      "dl/lab.json: checkpoint is a 'toy' model, expected 'vae'",
    );
    // The flipped file through the CLI's loader gives the same message with its path.
    const dir = fresh();
    writePair(dir, { ...enc, weights: flipped });
    expect(failure(() => loadCheckpoint(dir, { name: 'lab' }))).toBe(
      `${join(dir, 'lab.w17.safetensors')}: weights SHA-256 does not match lab.json (corrupt, or from another save)`,
    );
  });
});

describe('RBM checkpoints in memory', () => {
  /** A PCD/Adam/centred RBM after two updates, so every kind of trainer tensor exists. */
  function trained(): { model: BernoulliRBM; trainer: Trainer; data: Float32Array } {
    const data = barsAndStripesPatterns(3);
    const model = new BernoulliRBM({ nVisible: 9, nHidden: 4 }, new Rng(1));
    const trainer = new Trainer(model, { method: 'pcd', centering: true, optimizer: 'adam', batchSize: 7 }, new Rng(2));
    trainer.partialFit(data);
    trainer.partialFit(data);
    return { model, trainer, data };
  }

  it('encode/decode with trainer state equals saveModel/loadModel, file for file and update for update', () => {
    const { model, trainer, data } = trained();
    const dir = fresh();
    saveModel(dir, model, { trainer, extra: { note: 'lab' } });
    const input = rbmCheckpointInput(model, { trainer, extra: { note: 'lab' } });
    const onDisk = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { created: string; weights: { file: string } };
    const enc = encodeCheckpoint(input, { created: onDisk.created });
    // Byte-identical files: the CLI cannot tell a lab export from its own save.
    expect(enc.weightsFile).toBe(onDisk.weights.file);
    expect(enc.jsonText).toBe(readFileSync(join(dir, 'checkpoint.json'), 'utf8'));
    expect(Buffer.from(enc.weights).equals(readFileSync(join(dir, enc.weightsFile)))).toBe(true);

    const a = loadModel(dir);
    const b = rbmFromCheckpoint(decodeCheckpoint(enc.jsonText, enc.weights, { kind: 'rbm', allowExtra: true }));
    expect([b.step, b.epoch, b.extra]).toEqual([a.step, a.epoch, a.extra]);
    expect(b.train).toEqual(a.train);
    for (const [k, v] of Object.entries(model.params)) {
      expect(b.model.params[k], k).toEqual(v);
      expect(a.model.params[k], k).toEqual(v);
    }
    // Resumed trainers continue identically to each other and to the original.
    const ta = a.resumeTrainer(new Rng(77));
    const tb = b.resumeTrainer(new Rng(88));
    expect(tb.getState()).toEqual(ta.getState());
    trainer.partialFit(data);
    ta.partialFit(data);
    tb.partialFit(data);
    for (const k of model.trainable) {
      expect(tb.model.params[k], k).toEqual(model.params[k]);
      expect(ta.model.params[k], k).toEqual(model.params[k]);
    }
  });

  it('a lab export in a directory opens with loadModel; the rebuild rejects another kind', () => {
    const { model } = trained();
    const enc = encodeCheckpoint(rbmCheckpointInput(model, { at: { step: 4, epoch: 1 } }));
    const dir = fresh();
    writePair(dir, enc);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'checkpoint.w4.safetensors']);
    const m = loadModel(dir);
    expect([m.step, m.epoch]).toEqual([4, 1]);
    for (const [k, v] of Object.entries(model.params)) expect(m.model.params[k], k).toEqual(v);
    const other = encodeCheckpoint(sample());
    const toy = decodeCheckpoint(other.jsonText, other.weights, { jsonPath: 'x/checkpoint.json' });
    expect(failure(() => rbmFromCheckpoint(toy))).toBe("x/checkpoint.json: checkpoint is a 'toy' model, expected 'rbm'");
  });
});

describe('VAE checkpoints in memory', () => {
  it('vaeCheckpointInput with trainer state → files → loadVaeCheckpoint gives the same weights and state', () => {
    const preset = PRESETS['ising-mlp']!;
    const rng = new Rng(9);
    const weights = new Map<string, Float32Array>();
    const adamM = new Map<string, Float32Array>();
    const adamV = new Map<string, Float32Array>();
    for (const s of parameterSpecs(preset.model)) {
      const n = s.shape.reduce((x, y) => x * y, 1);
      const w = new Float32Array(n);
      rng.fillNormal(w);
      weights.set(s.name, w);
      adamM.set(s.name, w.map((x) => x * 1e-3));
      adamV.set(s.name, w.map((x) => x * x * 1e-6));
    }
    const meta: VaeCheckpointMeta = { preset: 'ising-mlp', model: preset.model, train: preset.train, seed: 3, data: { name: 'ising', split: 'train', n: 10, sha256: '0'.repeat(64) } };
    const trainer: VaeTrainerState = { epoch: 2, batchInEpoch: 1, step: 21, rng: new Rng(4).getState(), partial: [1.5, 0.25, 128], bestVal: null, badEpochs: 0, adamM, adamV };
    const enc = encodeCheckpoint(vaeCheckpointInput(weights, preset.model, meta, trainer));
    const dir = fresh();
    writePair(dir, enc);
    const fromFs = loadVaeCheckpoint(dir);
    const inMem = vaeFromCheckpoint(decodeCheckpoint(enc.jsonText, enc.weights, { kind: 'vae' }));
    for (const got of [fromFs, inMem]) {
      expect(got.meta).toEqual(meta);
      expect([...got.weights.keys()]).toEqual([...weights.keys()]);
      for (const [k, v] of weights) expect(got.weights.get(k), k).toEqual(v);
      expect(got.trainer).toEqual(trainer);
    }
    // An RBM checkpoint is not a VAE.
    const { jsonText, weights: w } = encodeCheckpoint(rbmCheckpointInput(new BernoulliRBM({ nVisible: 2, nHidden: 2 }, new Rng(0))));
    expect(failure(() => vaeFromCheckpoint(decodeCheckpoint(jsonText, w, { jsonPath: 'r/checkpoint.json' })))).toBe(
      "r/checkpoint.json: checkpoint is a 'rbm' model, expected 'vae'",
    );
    // A parameter missing from the weights read off the device is refused before encoding.
    const partial = new Map(weights);
    partial.delete([...weights.keys()][0]!);
    expect(() => vaeCheckpointInput(partial, preset.model, meta, null)).toThrow(/parameter '.+' is missing/);
  });
});

describe('the CLI opens an in-memory export unchanged', () => {
  it('genphys rbm eval DIR and genphys vae sample DIR', async () => {
    const rbmDir = fresh();
    const model = new BernoulliRBM({ nVisible: 4, nHidden: 3, initStd: 0.5 }, new Rng(6));
    writePair(rbmDir, encodeCheckpoint(rbmCheckpointInput(model, { at: { step: 1, epoch: 1 } })));
    // `rbm eval` reads the evaluation data from the run's config.json, which a lab export writes beside the checkpoint.
    writeFileSync(join(rbmDir, 'config.json'), JSON.stringify({ command: 'rbm train', data: { spec: 'bars-and-stripes:2', binarize: 'static' }, seed: 0 }));
    const ev = await runCli(['--quiet', 'rbm', 'eval', rbmDir, '--exact', '--top', '3']);
    expect(ev.code, ev.err).toBe(0);
    const evals = JSON.parse(readFileSync(join(rbmDir, 'eval.json'), 'utf8')) as Record<string, { method: string; exactLogZ: number; distribution: unknown[] }>;
    const last = Object.values(evals).at(-1)!;
    expect([last.method, last.distribution.length]).toEqual(['exact', 3]);
    // The CLI evaluated exactly the exported weights.
    expect(last.exactLogZ).toBeCloseTo(exactLogZ(model), 9);

    const vaeDir = fresh();
    const preset = PRESETS['ising-mlp']!;
    const rng = new Rng(10);
    const weights = new Map<string, Float32Array>();
    for (const s of parameterSpecs(preset.model)) {
      const w = new Float32Array(s.shape.reduce((x, y) => x * y, 1));
      rng.fillNormal(w);
      weights.set(s.name, w.map((x) => x * 0.1));
    }
    const meta: VaeCheckpointMeta = { preset: 'ising-mlp', model: preset.model, train: preset.train, seed: 1, data: null };
    writePair(vaeDir, encodeCheckpoint(vaeCheckpointInput(weights, preset.model, meta, null)));
    const sm = await runCli(['vae', 'sample', vaeDir, '--n', '4', '--backend', 'cpu', '--quiet']);
    expect(sm.code, sm.err).toBe(0);
    expect(readFileSync(join(vaeDir, 'samples.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});
