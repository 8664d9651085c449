/**
 * The browser-safe diffusion checkpoint codec (src/diffusion/checkpoint-codec.ts): the
 * parameter shapes it checks against are the networks' own; content → encode → decode →
 * content is the identity; a wrongly sized tensor is a one-line error; and an independent
 * rebuild of a tiny `genphys diffusion train` run (the lab's path: same streams, the
 * codec's input, the pure-JS hash) gives the CLI's checkpoint files byte for byte and its
 * config.json key for key, so the CLI's save and the lab's export cannot drift apart.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, ShapeError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/engine/backend.js';
import { decodeCheckpoint, encodeCheckpoint } from '../src/io/checkpoint-codec.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import {
  diffusionCheckpointInput,
  diffusionDataFingerprint,
  diffusionFromCheckpoint,
  diffusionParamShapes,
  diffusionRunConfig,
  networkFor,
  type DiffusionCheckpointMeta,
} from '../src/diffusion/checkpoint-codec.js';
import { loadDiffusionData } from '../src/diffusion/data.js';
import { trainDiffusionRun } from '../src/diffusion/run.js';
import { DEFAULT_TOY_MLP } from '../src/diffusion/toy-mlp.js';
import { createNetwork, DEFAULT_DIFFUSION_TRAIN, DiffusionTrainer, type DiffusionTrainConfig, type DiffusionTrainerState, type NetworkConfig } from '../src/diffusion/train.js';
import { unetPreset } from '../src/diffusion/unet.js';
import { weightsPath } from './run-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'genphys-diffusion-codec-'));
beforeAll(async () => {
  await initBackend('auto', { quiet: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const toyNet: NetworkConfig = { arch: 'toy-mlp', toy: { ...DEFAULT_TOY_MLP, width: 8, blocks: 1, timeEmbedDim: 4, prediction: 'v' } };
const train: DiffusionTrainConfig = { ...DEFAULT_DIFFUSION_TRAIN, lr: 3e-3, batchSize: 16, emaDecay: 0.9, schedule: { kind: 'cosine', T: 12 } };

/** Random arrays for every parameter of `net`, drawn from `rng`. */
function randomMap(net: NetworkConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of diffusionParamShapes(net)) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    rng.fillNormal(a);
    out.set(name, a);
  }
  return out;
}

function randomState(net: NetworkConfig, rng: Rng): DiffusionTrainerState {
  return {
    epoch: 3,
    batchInEpoch: 2,
    step: 50,
    rng: rng.split(9).getState(),
    partial: [1.25, 32],
    adamM: randomMap(net, rng),
    adamV: randomMap(net, rng),
    ema: { decay: train.emaDecay, warmup: true, step: 47, weights: randomMap(net, rng) },
  };
}

describe('diffusion checkpoint codec', () => {
  it('knows the parameter shapes of the toy MLP and the U-Net exactly as the networks build them', () => {
    const unet: NetworkConfig = { arch: 'unet', unet: unetPreset('small-unet', { size: [8, 8], channels: 1, T: 10, prediction: 'eps' }) };
    for (const cfg of [toyNet, unet]) {
      const net = createNetwork(cfg, new Rng(0));
      try {
        const shapes = diffusionParamShapes(cfg);
        expect([...shapes.keys()]).toEqual([...net.params.keys()]);
        for (const [name, p] of net.params) expect([...shapes.get(name)!]).toEqual(p.shape);
      } finally {
        net.dispose();
      }
    }
  });

  it('round trip: content → encode → decode → content is the identity (weights, Adam, EMA, counters, stream, fingerprint)', () => {
    const rng = new Rng(17);
    const weights = randomMap(toyNet, rng);
    const state = randomState(toyNet, rng);
    const x = new Float32Array([0.5, -1, 2, 3]);
    const meta: DiffusionCheckpointMeta = { network: toyNet, train, seed: 17, data: diffusionDataFingerprint('toy:moons:2', x, 2) };
    const input = diffusionCheckpointInput(weights, meta, state);
    // 4 tensor groups (weights, m, v, EMA) of the MLP's 6 parameters.
    expect(Object.keys(input.tensors)).toHaveLength(4 * 6);
    const enc = encodeCheckpoint(input);
    expect(enc.weightsFile).toBe('checkpoint.w50.safetensors');
    const ck = decodeCheckpoint(enc.jsonText, enc.weights, { kind: 'diffusion' });
    const back = diffusionFromCheckpoint(ck);
    expect(back.meta).toEqual(meta);
    expect(back.weights).toEqual(weights);
    expect(back.ema).toEqual(state.ema.weights);
    expect(back.trainer).toEqual(state);
    // The fingerprint is SHA-256 of the float32 bytes (little-endian), as node:crypto hashes them.
    expect(meta.data).toEqual({ name: 'toy:moons:2', split: 'train', n: 2, sha256: createHash('sha256').update(Buffer.from(x.buffer)).digest('hex') });
    // The caller's arrays are not touched, and the tensors carry the shapes.
    expect(input.tensors['optimizer.ema.toy.in.kernel']!.shape).toEqual([2 + 4, 8]);
    expect(input.tensors['toy.in.kernel']!.data).toBe(weights.get('toy.in.kernel'));
  });

  it('a wrongly sized or missing tensor is a one-line error naming it', () => {
    const rng = new Rng(3);
    const weights = randomMap(toyNet, rng);
    const state = randomState(toyNet, rng);
    const meta: DiffusionCheckpointMeta = { network: toyNet, train, seed: 3, data: null };
    const short = new Map(weights).set('toy.out.bias', new Float32Array(3));
    expect(() => diffusionCheckpointInput(short, meta, state)).toThrow(ShapeError);
    expect(() => diffusionCheckpointInput(short, meta, state)).toThrow(/^diffusion checkpoint: parameter 'toy\.out\.bias' has 3 values, the network config needs 2 \(shape \[2\]\)$/);
    const ema = new Map(state.ema.weights);
    ema.delete('toy.block1.kernel');
    expect(() => diffusionCheckpointInput(weights, meta, { ...state, ema: { ...state.ema, weights: ema } })).toThrow(/^diffusion checkpoint: EMA weight 'toy\.block1\.kernel' is missing or not a Float32Array$/);
    // Decoding against another network: the stored tensor has the wrong size for it.
    const enc = encodeCheckpoint(diffusionCheckpointInput(weights, meta, state));
    const ck = decodeCheckpoint(enc.jsonText, enc.weights, { jsonPath: 'run/checkpoint.json' });
    const wider: NetworkConfig = { arch: 'toy-mlp', toy: { ...toyNet.toy, width: 9 } } as NetworkConfig;
    expect(() => diffusionFromCheckpoint(ck, { network: wider })).toThrow(CheckpointError);
    expect(() => diffusionFromCheckpoint(ck, { network: wider })).toThrow(/^run\/checkpoint\.w50\.safetensors: tensor 'toy\.in\.kernel' has 48 values, the network config needs 54$/);
    expect(() => diffusionFromCheckpoint({ ...ck, kind: 'vae' })).toThrow(/^run\/checkpoint\.json: checkpoint is a 'vae' model, expected 'diffusion'$/);
    const { 'optimizer.ema.toy.out.kernel': _drop, ...fewer } = ck.tensors;
    expect(() => diffusionFromCheckpoint({ ...ck, tensors: fewer })).toThrow(/^run\/checkpoint\.json: lacks tensor 'optimizer\.ema\.toy\.out\.kernel'$/);
    // Without the trainer's position the weights still load, for sampling only.
    expect(diffusionFromCheckpoint({ ...ck, extra: {} }).trainer).toBeNull();
  });

  it('rebuilt the way the lab does it, a tiny run gives the CLI’s checkpoint files byte for byte and its config.json', async () => {
    const dir = join(root, 'tiny');
    const seed = 4;
    const spec = 'toy:ring8:40';
    const tiny: DiffusionTrainConfig = { ...DEFAULT_DIFFUSION_TRAIN, lr: 1e-3, batchSize: 16, emaDecay: 0.95, schedule: { kind: 'linear', T: 50 } };
    // 40 points in batches of 16: 3 steps per epoch; one epoch.
    const res = await trainDiffusionRun({ dir, seed, data: { spec }, train: tiny, epochs: 1, saveEvery: 1, sampleEvery: 0, sampleCount: 8, sampleSteps: 4 });
    expect(res.step).toBe(3);
    const onDisk = loadCheckpoint(dir, { kind: 'diffusion', allowExtra: true });

    // The lab's construction: its data, init and trainer streams of the seed, its reads, the pure-JS SHA-256.
    const data = loadDiffusionData(spec, { seed });
    const network = networkFor('toy-mlp', { spec, dim: 2, shape: null }, 50, 'eps');
    const net = createNetwork(network, new Rng(seed).split(1));
    const trainer = new DiffusionTrainer(net, tiny, new Rng(seed).split(2));
    try {
      expect(trainer.trainEpoch(data)).not.toBeNull();
      const fp = diffusionDataFingerprint(spec, data.x, data.n);
      const enc = encodeCheckpoint(diffusionCheckpointInput(net.getWeights(), { network, train: tiny, seed, data: fp }, trainer.getState()), { created: onDisk.created });
      expect(enc.jsonText).toBe(readFileSync(join(dir, 'checkpoint.json'), 'utf8'));
      expect(Buffer.from(enc.weights).equals(readFileSync(weightsPath(dir)))).toBe(true);
    } finally {
      trainer.dispose();
      net.dispose();
    }
    const config = diffusionRunConfig({ seed, data: { spec }, dataset: { kind: 'toy', shape: null, n: 40 }, arch: 'toy-mlp', network, train: tiny, epochs: 1, sampleSteps: 4 });
    // Same keys in the same order, same values.
    expect(JSON.stringify(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')))).toBe(JSON.stringify(config));
  });
});
