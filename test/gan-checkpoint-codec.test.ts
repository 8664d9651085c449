/**
 * The browser-safe GAN run codec (src/gan/checkpoint-codec.ts): content → encode →
 * decode → content is the identity (networks with spectral norm and BatchNorm, both Adam
 * moments, the EMA, the mid-epoch counters); the async weight read equals Gan.getWeights;
 * a wrong-size, missing or misplaced tensor is a one-line error naming it; and a tiny
 * `gan train` run's files on disk (config.json, checkpoint.json, the safetensors) are
 * byte for byte what the codec builds from the run's state, so the CLI and the lab's
 * export cannot drift apart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/engine/backend.js';
import { checkGanDataSpec, loadGanData } from '../src/gan/data.js';
import { ganCheckpointInput, ganDatasetFingerprint, ganFromCheckpoint, ganRunConfig, readGanWeights, type GanRunConfig } from '../src/gan/checkpoint-codec.js';
import { Gan } from '../src/gan/networks.js';
import { loadGanRun, loadRunGanData, trainGanRun } from '../src/gan/run.js';
import { GanTrainer, type GanTrainerState } from '../src/gan/train.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint-codec.js';
import { backendsUnderTest } from './engine-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-gan-codec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend((await backendsUnderTest())[0]!, { quiet: true });
});

/** A small toy run's configuration: 2 hidden layers of 8, D spectrally normalised, G with BatchNorm. */
function tinyConfig(ema = 0.9): GanRunConfig {
  return ganRunConfig({
    seed: 5,
    data: { spec: 'toy:ring8:96' },
    dataKind: 'toy',
    preset: 'toy-mlp',
    overrides: { model: { generator: { hidden: [8, 8], batchNorm: true }, discriminator: { hidden: [8, 8], spectralNorm: true } }, train: { batchSize: 16 } },
    ema,
    epochs: 2,
  });
}

/** Train `iters` iterations of the tiny config; returns the networks and the trainer's state. */
function trained(cfg: GanRunConfig, iters: number): { gan: Gan; state: GanTrainerState; data: ReturnType<typeof loadGanData> } {
  const data = loadGanData(cfg.data.spec, { rng: new Rng(cfg.seed).split(7) });
  const gan = Gan.create(cfg.model, new Rng(cfg.seed).split(1));
  const trainer = new GanTrainer(gan, cfg.train, new Rng(cfg.seed).split(2));
  // 96 points / 16 = 6 iterations per epoch: `iters` = 8 ends mid-epoch 2.
  while (trainer.step < iters) trainer.trainSlice(data, { maxBatches: iters - trainer.step });
  const state = trainer.getState();
  trainer.dispose();
  return { gan, state, data };
}

const mapObj = (m: ReadonlyMap<string, Float32Array> | null) => (m ? Object.fromEntries([...m].map(([k, v]) => [k, Array.from(v)])) : null);

describe('GAN checkpoint codec', () => {
  it('round trips: content → encode → decode → the same config, tensors and trainer state', async () => {
    const cfg = tinyConfig();
    const { gan, state, data } = trained(cfg, 8);
    try {
      expect([state.epoch, state.batchInEpoch, state.gSteps, state.dSteps]).toEqual([1, 2, 8, 8]);
      const weights = gan.getWeights();
      // The spectral-norm vectors and BatchNorm statistics are among the tensors saved.
      expect([...weights.keys()].filter((k) => /sn_[uv]$|moving/.test(k)).length).toBeGreaterThanOrEqual(4 + 4);
      const fp = ganDatasetFingerprint(data);
      const enc = encodeCheckpoint(ganCheckpointInput(cfg, weights, state, fp));
      expect(enc.weightsFile).toBe('checkpoint.w8.safetensors');
      const back = ganFromCheckpoint(decodeCheckpoint(enc.jsonText, enc.weights, { kind: 'gan' }));
      expect(back.config).toEqual(cfg);
      expect(mapObj(back.weights)).toEqual(mapObj(weights));
      const { adamM, adamV, ema, ...counters } = back.state;
      const { adamM: m0, adamV: v0, ema: e0, ...counters0 } = state;
      expect(counters).toEqual(counters0);
      expect(mapObj(adamM)).toEqual(mapObj(m0));
      expect(mapObj(adamV)).toEqual(mapObj(v0));
      expect(mapObj(ema)).toEqual(mapObj(e0));
      // The moments are those of the trainable tensors only, the average of G's tensors only.
      expect(adamM.size).toBe(gan.generatorParams.size + gan.discriminatorParams.size);
      expect([...ema!.keys()].every((k) => k.startsWith('generator.'))).toBe(true);
      // The decoded weights rebuild the same networks: D's output on the data is unchanged.
      const g2 = Gan.fromWeights(back.config.model, back.weights);
      const x = tf.tensor2d(data.x.slice(0, 20), [10, 2]);
      const [a, b] = [gan.discriminate(x), g2.discriminate(x)];
      expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
      tf.dispose([x, a, b]);
      g2.dispose();
    } finally {
      gan.dispose();
    }
  });

  it('reads the weights with await data() exactly as Gan.getWeights does, spectral-norm vectors included', async () => {
    const cfg = tinyConfig();
    const { gan } = trained(cfg, 3);
    try {
      const sync = gan.getWeights();
      const async_ = await readGanWeights(gan);
      expect([...async_.keys()]).toEqual([...sync.keys()]);
      expect(mapObj(async_)).toEqual(mapObj(sync));
    } finally {
      gan.dispose();
    }
  });

  it('names a wrong-size, missing or misplaced tensor in a one-line error', () => {
    const cfg = tinyConfig();
    const { gan, state, data } = trained(cfg, 2);
    try {
      const fp = ganDatasetFingerprint(data);
      const w = gan.getWeights();
      const bad = new Map(w);
      bad.set('generator.dense1.kernel', new Float32Array(15));
      expect(() => ganCheckpointInput(cfg, bad, state, fp)).toThrow(ShapeError);
      expect(() => ganCheckpointInput(cfg, bad, state, fp)).toThrow(/^GAN checkpoint: tensor 'generator\.dense1\.kernel' has 15 values, the config needs 16 \(shape \[2, 8\]\)$/);
      const missing = new Map(w);
      missing.delete('discriminator.out.bias');
      expect(() => ganCheckpointInput(cfg, missing, state, fp)).toThrow(/^GAN checkpoint: tensor 'discriminator\.out\.bias' is missing$/);
      // A moment for a tensor no optimiser updates (a BatchNorm statistic) is a misplaced one.
      const stat = [...w.keys()].find((k) => k.includes('moving'))!;
      const m = new Map(state.adamM);
      m.set(stat, w.get(stat)!);
      expect(() => ganCheckpointInput(cfg, w, { ...state, adamM: m }, fp)).toThrow(new RegExp(`^GAN checkpoint: Adam first moment '${stat.replace(/\./g, '\\.')}' is not a trainable tensor of this model$`));
      expect(() => ganDatasetFingerprint({ name: 'x', n: 7, x: new Float32Array(20) })).toThrow(/^GAN data fingerprint: 20 values are not 7 whole examples$/);

      // On the way back: a tensor of the wrong size names the weights file.
      const input = ganCheckpointInput(cfg, w, state, fp);
      const shrunk = { ...input, tensors: { ...input.tensors, 'discriminator.out.bias': { shape: [2], data: new Float32Array(2) } } };
      const enc = encodeCheckpoint(shrunk);
      const decoded = decodeCheckpoint(enc.jsonText, enc.weights, { kind: 'gan', jsonPath: 'run/checkpoint.json' });
      expect(() => ganFromCheckpoint(decoded)).toThrow(CheckpointError);
      expect(() => ganFromCheckpoint(decoded)).toThrow(/^run\/checkpoint\.w2\.safetensors: tensor 'discriminator\.out\.bias' has 2 values, the config needs 1$/);
      const good = encodeCheckpoint(input);
      const ok = decodeCheckpoint(good.jsonText, good.weights, { kind: 'gan', jsonPath: 'run/checkpoint.json' });
      expect(ganFromCheckpoint(ok).state.gSteps).toBe(2);
      expect(() => ganFromCheckpoint({ ...ok, kind: 'vae' })).toThrow(/^run\/checkpoint\.json: checkpoint is a 'vae' model, expected 'gan'$/);
      expect(() => ganFromCheckpoint({ ...ok, extra: {} })).toThrow(/^run\/checkpoint\.json: has no GAN trainer state to resume from$/);
      expect(() => ganFromCheckpoint({ ...ok, tensors: { ...ok.tensors, 'optimizer.m.generator.nope': { shape: [1], data: new Float32Array(1) } } })).toThrow(/^run\/checkpoint\.w2\.safetensors: tensor 'optimizer\.m\.generator\.nope' is not part of the model config 'toy-mlp' records$/);
    } finally {
      gan.dispose();
    }
  });

  it('is what `gan train` writes: config.json, checkpoint.json and the weights, byte for byte', async () => {
    const dir = join(root, 'cli');
    const opts = { seed: 5, data: { spec: 'toy:ring8:96' }, preset: 'toy-mlp', overrides: { train: { batchSize: 16, lrG: 2e-3 } }, ema: 0.9, epochs: 1 };
    await trainGanRun({ dir, ...opts, saveEvery: 0, sampleEvery: 0 });
    const cfg = ganRunConfig({ ...opts, dataKind: checkGanDataSpec(opts.data.spec) });
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(JSON.stringify(cfg, null, 2) + '\n');
    const run = loadGanRun(dir);
    // The trainer's state as a resume restores it (the decoded maps are in the file's sorted order).
    const trainer = new GanTrainer(run.gan, run.config.train, new Rng(0));
    trainer.setState(run.state);
    const state = trainer.getState();
    trainer.dispose();
    try {
      // The fingerprint with the pure SHA-256 (the lab's) is the one node's crypto recorded.
      const fp = ganDatasetFingerprint(loadRunGanData(run.config));
      const json = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
      const stored = JSON.parse(json) as { created: string; weights: { file: string }; dataset: unknown };
      expect(stored.dataset).toEqual(fp);
      expect(fp).toMatchObject({ name: 'toy:ring8:96', split: 'train', n: 96 });
      const enc = encodeCheckpoint(ganCheckpointInput(cfg, run.gan.getWeights(), state, fp), { created: stored.created });
      expect(enc.jsonText).toBe(json);
      expect(enc.weightsFile).toBe(stored.weights.file);
      expect(Buffer.from(enc.weights).equals(readFileSync(join(dir, stored.weights.file)))).toBe(true);
    } finally {
      run.gan.dispose();
    }
  });
});
