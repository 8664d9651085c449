/**
 * The GAN panel's engine: genphys's GAN (src/gan: networks, losses, presets, trainer) on
 * a 2D toy from src/data/toys.ts or on a Fashion-MNIST / MNIST subset from the lab
 * server, trained in rounds of k_D discriminator steps and k_G generator steps (as GAN
 * Lab does). The rounds use the trainer's own discriminatorStep / generatorStep with the
 * batching and random streams of GanTrainer.trainSlice (per-epoch permutation from the
 * epoch-start state, iteration b drawing from its split b), and the data, initial weights
 * and trainer stream come from the seed as `genphys gan train` takes them, so with
 * k_G = 1 a round is one iteration of the CLI's run on the same numbers.
 *
 * The steps read their losses with `await data()` (the CLI's numbers exactly) and the
 * views read with `await data()` too; on webgl/webgpu the Adam moments live on the device,
 * so training never stalls the GPU pipeline with a synchronous read.
 *
 * The 'checkpoint' action exports the run directory `genphys gan train` would hold at this
 * point: config.json for the panel's flags and the checkpoint pair, both built by
 * src/gan/checkpoint-codec.ts as the CLI builds them, with the trainer's position in the
 * epoch, so `genphys gan sample|eval DIR` and `gan train --resume --out DIR` open it.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../../../src/core/errors.js';
import { Rng, type RngState } from '../../../src/core/rng.js';
import { loadToy, sampleToy, toyModes, type ToyName } from '../../../src/data/toys.js';
import { ganCheckpointInput, ganDatasetFingerprint, ganRunConfig, readGanWeights, type GanRunConfig } from '../../../src/gan/checkpoint-codec.js';
import { Gan } from '../../../src/gan/networks.js';
import { resolveGanPreset } from '../../../src/gan/presets.js';
import { GanTrainer, iterationsPerEpoch, type GanData, type GanTrainerState } from '../../../src/gan/train.js';
import { encodeCheckpoint, type DatasetFingerprint } from '../../../src/io/checkpoint-codec.js';
import { fetchImages } from '../datasets.js';
import { choice, num, type Engine, type EngineFactory } from '../engine.js';
import { ganRecipe, type GanRecipe } from '../gan-config.js';
import { Decimated, ToyScorer, scoreColumns, type ToyScore } from '../gan-metrics.js';
import type { LabFile, Settings } from '../protocol.js';
import { initTfBackend } from '../tf-backend.js';
import { LAB_BACKENDS } from '../tf-backend.js';

/** Streams of the run's seed, as src/gan/run.ts numbers them (so the CLI draws the same). */
const STREAM = { init: 1, trainer: 2, fixedNoise: 5, data: 7 } as const;
/** Generated points drawn (the CLI's scatter also shows 1000 from the fixed noise). */
const SHOWN = 1000;
/** Data points drawn. */
const SHOWN_DATA = 1000;
/** Cells per side of the discriminator heatmap. */
const HEAT = 48;
/** Lines per direction and points per line of the noise grid. */
const GRID_LINES = 11;
const GRID_POINTS = 41;
/** Samples per evaluation (toys) and reference images (images). */
const EVAL_TOY = 600;
const EVAL_IMAGES = 300;
/** Images in the sample grid. */
const GRID_IMAGES = 64;

interface Bounds {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

/** A square view around the data with 15% margin on each side. */
function viewBounds(x: Float32Array, n: number): Bounds {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < n; i++) {
    xMin = Math.min(xMin, x[2 * i]!);
    xMax = Math.max(xMax, x[2 * i]!);
    yMin = Math.min(yMin, x[2 * i + 1]!);
    yMax = Math.max(yMax, x[2 * i + 1]!);
  }
  const cx = (xMin + xMax) / 2, cy = (yMin + yMax) / 2;
  const h = 0.65 * Math.max(xMax - xMin, yMax - yMin, 0.5);
  return { xMin: cx - h, xMax: cx + h, yMin: cy - h, yMax: cy + h };
}

/** Run `f` on a tensor built from `x` and read its result back with `await data()` (inference only). */
async function forward(x: Float32Array, shape: [number, number], f: (t: tf.Tensor2D) => tf.Tensor): Promise<Float32Array> {
  const y = tf.tidy(() => f(tf.tensor2d(x, shape)));
  const out = Float32Array.from((await y.data()) as Float32Array);
  y.dispose();
  return out;
}

class GanEngine implements Engine {
  steps = 0;
  private readonly trainer: GanTrainer;
  private readonly batchSize: number;
  private kG: number;
  private evalEvery: number;
  private epochStart: RngState;
  private epochRng: Rng | null = null;
  private perm: Uint32Array | null = null;
  private iteration = 0;
  private epoch = 0;
  private readonly iters: number;
  private readonly history = new Decimated(5);
  private readonly scores: ToyScore[] = [];
  private readonly scorer: ToyScorer;
  private readonly evalRng: Rng;
  private readonly gridZ: Float32Array;
  private readonly heatX: Float32Array;
  private readonly bounds: Bounds | null;
  private last = { lossD: NaN, lossG: NaN, dReal: NaN, dFake: NaN };
  /** Sums over the current epoch's rounds, as GanTrainer keeps them: lossD, lossG, dReal, dFake, rounds, seconds. */
  private partial = [0, 0, 0, 0, 0, 0];
  private fingerprint: DatasetFingerprint | null = null;

  constructor(
    readonly backend: string,
    readonly recipe: GanRecipe,
    private readonly gan: Gan,
    private readonly data: GanData,
    reference: Float32Array,
    refN: number,
    settings: Settings,
    /** The fixed noise of the shown samples (the CLI's stream 5). */
    private readonly fixedZ: Float32Array,
  ) {
    const preset = resolveGanPreset(recipe.preset, recipe.overrides);
    const rng = new Rng(recipe.seed);
    // Adam on the device where a synchronous read stalls the GPU; host arrays (the CLI's exact numbers) elsewhere.
    const device = backend === 'webgl' || backend === 'webgpu';
    this.trainer = new GanTrainer(gan, { ...preset.train, ema: 0, device }, rng.split(STREAM.trainer));
    this.epochStart = rng.split(STREAM.trainer).getState();
    this.batchSize = preset.train.batchSize;
    this.iters = iterationsPerEpoch(data.n, this.batchSize, recipe.kD);
    this.kG = recipe.kG;
    this.evalEvery = num(settings, 'evalEvery', 50, 1, 1e6);
    this.evalRng = new Rng(recipe.seed).split(0xe7a1);
    const d = data.dim;
    const modes = recipe.kind === 'toy' ? toyModes(recipe.data as ToyName) : undefined;
    this.scorer = new ToyScorer({ data: reference, n: refN, d }, modes);
    if (recipe.kind === 'toy') {
      this.bounds = viewBounds(data.x, data.n);
      // z on a regular grid: ±2 for N(0, I) noise (95% of each coordinate), ±1 for U(−1, 1).
      const zr = gan.config.noise === 'normal' ? 2 : 1;
      this.gridZ = new Float32Array(2 * GRID_LINES * GRID_POINTS * 2);
      let k = 0;
      for (const dir of [0, 1])
        for (let l = 0; l < GRID_LINES; l++)
          for (let p = 0; p < GRID_POINTS; p++) {
            const a = -zr + (2 * zr * l) / (GRID_LINES - 1);
            const b = -zr + (2 * zr * p) / (GRID_POINTS - 1);
            this.gridZ[k++] = dir === 0 ? b : a;
            this.gridZ[k++] = dir === 0 ? a : b;
          }
      const bd = this.bounds;
      this.heatX = new Float32Array(HEAT * HEAT * 2);
      for (let iy = 0; iy < HEAT; iy++)
        for (let ix = 0; ix < HEAT; ix++) {
          this.heatX[2 * (iy * HEAT + ix)] = bd.xMin + ((ix + 0.5) * (bd.xMax - bd.xMin)) / HEAT;
          this.heatX[2 * (iy * HEAT + ix) + 1] = bd.yMin + ((iy + 0.5) * (bd.yMax - bd.yMin)) / HEAT;
        }
    } else {
      this.bounds = null;
      this.gridZ = new Float32Array(0);
      this.heatX = new Float32Array(0);
    }
  }

  /** D steps and G steps taken. */
  get dSteps(): number {
    return this.trainer.dSteps;
  }

  set(s: Settings): void {
    if (s.kG !== undefined) this.kG = num(s, 'kG', 1, 1, 100);
    if (s.evalEvery !== undefined) this.evalEvery = num(s, 'evalEvery', 50, 1, 1e6);
  }

  /** One round: k_D discriminator steps, each on its own real minibatch, then k_G generator steps. */
  async step(): Promise<void> {
    const t0 = performance.now();
    const { n, dim: D, x } = this.data;
    const B = this.batchSize;
    const kD = this.recipe.kD;
    if (!this.epochRng || !this.perm) {
      this.epochRng = Rng.fromState(this.epochStart);
      this.perm = this.epochRng.permutation(n);
    }
    const b = this.iteration;
    const r = this.epochRng.split(b);
    const buf = new Float32Array(B * D);
    let lossD = 0, dReal = 0, dFake = 0;
    for (let k = 0; k < kD; k++) {
      const lo = (b * kD + k) * B;
      for (let i = 0; i < B; i++) {
        const row = this.perm[(lo + i) % n]!;
        buf.set(x.subarray(row * D, (row + 1) * D), i * D);
      }
      const real = tf.tensor2d(buf, [B, D]);
      const z = this.gan.sampleNoise(r, B);
      const s = await this.trainer.discriminatorStepAsync(real, z, r);
      tf.dispose([real, z]);
      lossD += s.lossD / kD;
      dReal += s.dReal / kD;
      dFake += s.dFake / kD;
    }
    let lossG = 0;
    for (let k = 0; k < this.kG; k++) {
      const z = this.gan.sampleNoise(r, B);
      lossG += (await this.trainer.generatorStepAsync(z, r)) / this.kG;
      z.dispose();
    }
    this.iteration++;
    // Summed in the trainer's order, so a mid-epoch checkpoint resumes to the CLI's epoch means.
    const p = this.partial;
    this.partial = [p[0]! + lossD, p[1]! + lossG, p[2]! + dReal, p[3]! + dFake, p[4]! + 1, p[5]! + (performance.now() - t0) / 1000];
    if (this.iteration >= this.iters) {
      // The epoch is over: the next one shuffles from the state after this one's permutation.
      this.epochStart = this.epochRng.getState();
      this.epochRng = null;
      this.perm = null;
      this.iteration = 0;
      this.epoch++;
      this.partial = [0, 0, 0, 0, 0, 0];
    }
    this.steps++;
    this.last = { lossD, lossG, dReal, dFake };
    this.history.push([this.steps, lossD, lossG, dReal, dFake]);
    if (!Number.isFinite(lossD) || !Number.isFinite(lossG)) throw new Error(`gan: the losses became non-finite at round ${this.steps} (D ${lossD}, G ${lossG}); lower the learning rates and reset`);
    if (this.steps % this.evalEvery === 0) await this.evaluate();
  }

  /** Score fresh generated samples against the reference (the metric curve). */
  async evaluate(): Promise<void> {
    const m = this.recipe.kind === 'toy' ? EVAL_TOY : EVAL_IMAGES;
    const z = await noise(this.gan, this.evalRng, m);
    const x = await forward(z, [m, this.gan.config.noiseDim], (t) => this.gan.generate(t));
    this.scores.push(this.scorer.score(this.steps, x, m));
  }

  async snapshot(): Promise<{ data: Record<string, unknown>; transfer: Transferable[] }> {
    const r = this.recipe;
    const [t, lossD, lossG, dReal, dFake] = this.history.columns() as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const sc = scoreColumns(this.scores);
    const nz = this.gan.config.noiseDim;
    const transfer: Transferable[] = [t.buffer, lossD.buffer, lossG.buffer, dReal.buffer, dFake.buffer, sc.step.buffer, sc.mmd2.buffer, sc.se.buffer, sc.modes.buffer, sc.kl.buffer];
    const base = {
      kind: r.kind,
      data: r.data,
      rounds: this.steps,
      dSteps: this.trainer.dSteps,
      gSteps: this.trainer.step,
      epoch: this.epoch,
      iteration: this.iteration,
      iterationsPerEpoch: this.iters,
      kD: r.kD,
      kG: this.kG,
      loss: this.trainer.loss.name,
      last: this.last,
      history: { t, lossD, lossG, dReal, dFake },
      scores: sc,
      score: this.scores[this.scores.length - 1] ?? null,
      initialScore: this.scores[0] ?? null,
      kernel: this.scorer.kernelName,
      nModes: this.scorer.modes ? this.scorer.modes.centres.length / 2 : 0,
    };
    if (r.kind === 'image') {
      const images = await forward(this.fixedZ, [GRID_IMAGES, nz], (z) => this.gan.generate(z));
      transfer.push(images.buffer);
      return { data: { ...base, images, nImages: GRID_IMAGES, rows: 28, cols: 28 }, transfer };
    }
    const gen = await forward(this.fixedZ, [SHOWN, nz], (z) => this.gan.generate(z));
    const grid = nz === 2 ? await forward(this.gridZ, [this.gridZ.length / 2, 2], (z) => this.gan.generate(z)) : new Float32Array(0);
    const logits = await forward(this.heatX, [HEAT * HEAT, 2], (x) => this.gan.discriminate(x));
    // Probabilities for the cross-entropy losses, the raw output (LSGAN target 1/0, WGAN critic) otherwise.
    const prob = r.overrides.train?.loss === 'ns' || r.overrides.train?.loss === 'minimax';
    const heat = prob ? logits.map((l) => 1 / (1 + Math.exp(-l))) : logits;
    const m = Math.min(SHOWN_DATA, this.data.n);
    const real = this.data.x.slice(0, 2 * m);
    transfer.push(gen.buffer, grid.buffer, heat.buffer, real.buffer);
    return {
      data: { ...base, bounds: this.bounds, real, gen, grid, gridLines: GRID_LINES, gridPoints: GRID_POINTS, heat, heatSize: HEAT, heatKind: prob ? 'probability' : r.overrides.train?.loss === 'wgan-gp' ? 'critic' : 'score' },
      transfer,
    };
  }

  /** The run configuration `genphys gan train` writes for the panel's flags (see ganCliConfig). */
  runConfig(): GanRunConfig {
    const r = this.recipe;
    return ganRunConfig({
      seed: r.seed,
      data: { spec: r.spec, ...(r.kind === 'image' ? { limit: r.n } : {}) },
      dataKind: r.kind,
      preset: r.preset,
      overrides: r.overrides,
      ema: 0,
      epochs: Number(r.overrides.train!.epochs),
    });
  }

  /**
   * The trainer's state as GanTrainer.trainSlice would hold it here: the Adam moments and
   * step counts are the trainer's own; the epoch, the iteration within it, the epoch-start
   * stream and the partial sums are this loop's (it batches as trainSlice does).
   */
  private async trainerState(): Promise<GanTrainerState> {
    const st = await this.trainer.getStateAsync();
    return { ...st, epoch: this.epoch, batchInEpoch: this.iteration, rng: this.epochStart, partial: [...this.partial] };
  }

  /**
   * The run directory as the CLI's files: config.json, checkpoint.json and its weights
   * (read with `await data()`), with the training data's fingerprint as `gan train`
   * records it (the same float32 values: toy points from the seed's stream, images the
   * first n of the train split mapped to [−1, 1]).
   */
  private async checkpointFiles(): Promise<LabFile[]> {
    const r = this.recipe;
    this.fingerprint ??= ganDatasetFingerprint({ name: r.kind === 'toy' ? r.spec : `${r.data}/train`, n: this.data.n, x: this.data.x });
    const cfg = this.runConfig();
    // The CLI takes one G step per iteration: say so in the checkpoint when the panel took more.
    const extra = this.kG !== 1 ? { lab: { kG: this.kG, rounds: this.steps, note: 'trained with k_G generator steps per round; the CLI takes 1' } } : {};
    const input = ganCheckpointInput(cfg, await readGanWeights(this.gan), await this.trainerState(), this.fingerprint, extra);
    const enc = encodeCheckpoint(input);
    return [
      // writeJsonAtomic's layout, so the file is the CLI's byte for byte.
      { name: 'config.json', bytes: JSON.stringify(cfg, null, 2) + '\n', type: 'application/json' },
      { name: enc.jsonName, bytes: enc.jsonText, type: 'application/json' },
      { name: enc.weightsFile, bytes: enc.weights, type: 'application/octet-stream' },
    ];
  }

  async action(name: string): Promise<{ files?: LabFile[]; value?: unknown }> {
    if (name === 'checkpoint') return { files: await this.checkpointFiles() };
    throw new UsageError(`gan panel: unknown action '${name}'`);
  }

  dispose(): void {
    this.trainer.dispose();
    this.gan.dispose();
  }
}

/** `n` noise vectors from `rng` as the trainer draws them, read with `await data()`. */
async function noise(gan: Gan, rng: Rng, n: number): Promise<Float32Array> {
  const z = gan.sampleNoise(rng, n);
  const a = Float32Array.from((await z.data()) as Float32Array);
  z.dispose();
  return a;
}

/** An image mode whose data the server does not have: it shows the server's message. */
class Unavailable implements Engine {
  readonly steps = 0;
  constructor(
    readonly backend: string,
    readonly recipe: GanRecipe,
    readonly message: string,
  ) {}
  step(): void {}
  action(): Promise<{ files?: LabFile[] }> {
    return Promise.reject(new UsageError(`gan panel: nothing to export, ${this.recipe.data} is not available (${this.message})`));
  }
  snapshot(): { data: Record<string, unknown>; transfer: Transferable[] } {
    return { data: { kind: 'image', data: this.recipe.data, unavailable: this.message, rounds: 0, dSteps: 0, gSteps: 0 }, transfer: [] };
  }
}

/** Build the GAN engine. */
export const create: EngineFactory = async (settings) => {
  const backend = await initTfBackend(choice(settings, 'backend', LAB_BACKENDS, 'auto'));
  const recipe = ganRecipe(settings);
  num(settings, 'n', 2000, 16, 60000);
  if (!(recipe.kD >= 1 && recipe.kD <= 100 && recipe.kG >= 1 && recipe.kG <= 100)) throw new Error(`gan: k_D and k_G must be integers in 1…100, got ${recipe.kD} and ${recipe.kG}`);
  const preset = resolveGanPreset(recipe.preset, recipe.overrides);
  let data: GanData;
  let ref: Float32Array;
  let refN: number;
  if (recipe.kind === 'toy') {
    // The CLI's toy points: loadToy of the same spec on stream 7 of the seed.
    const t = loadToy(recipe.spec, new Rng(recipe.seed).split(STREAM.data), { source: 'data' });
    data = { n: t.samples.n, dim: 2, x: t.samples.data };
    // A fresh draw for the metric, independent of the training points (as `diffusion eval` does).
    refN = EVAL_TOY;
    ref = sampleToy(recipe.data as ToyName, refN, new Rng(recipe.seed + 7919).split(11)).samples.data;
  } else {
    try {
      const img = await fetchImages(recipe.data, 'train', recipe.n);
      const test = await fetchImages(recipe.data, 'test', EVAL_IMAGES);
      // Pixels 0…255 → [−1, 1] for the tanh generator (src/gan/data.ts pixelsToSigned).
      data = { n: img.n, dim: img.rows * img.cols, x: Float32Array.from(img.pixels, (p) => p / 127.5 - 1) };
      refN = test.n;
      ref = Float32Array.from(test.pixels, (p) => p / 127.5 - 1);
    } catch (e) {
      return new Unavailable(backend, recipe, (e as Error).message);
    }
  }
  const gan = Gan.create(preset.model, new Rng(recipe.seed).split(STREAM.init));
  const fixedZ = await noise(gan, new Rng(recipe.seed).split(STREAM.fixedNoise), recipe.kind === 'toy' ? SHOWN : GRID_IMAGES);
  const engine = new GanEngine(backend, recipe, gan, data, ref, refN, settings, fixedZ);
  await engine.evaluate();
  return engine;
};
