/**
 * The diffusion panel's engine: genphys's Gaussian diffusion (src/diffusion: schedule,
 * process, the ToyMlp denoiser and DiffusionTrainer) on a 2D toy. One step is one
 * training batch of DiffusionTrainer.trainEpoch, on the data, initial weights and
 * trainer stream that `genphys diffusion train` derives from the same seed. Every
 * `sampleEvery` steps the EMA weights draw a DDPM sample (keeping its whole reverse
 * trajectory x_T … x_0 for the timestep slider) and a DDIM sample from the same x_T,
 * and both are scored against a fresh sample of the true distribution.
 *
 * The `checkpoint` action exports the run as `genphys diffusion train` would have left it:
 * config.json (for the panel's exported flags) and the checkpoint pair (weights, Adam
 * moments, EMA, trainer stream and position, data fingerprint), all built by the library's
 * codec (src/diffusion/checkpoint-codec.ts) that the CLI's own save uses, so
 * `genphys diffusion sample FOLDER` opens the folder. `cliSample` draws samples on the
 * streams that command uses, to compare the two.
 *
 * Training steps read their loss with `await data()` (the CLI's numbers exactly); on
 * webgl/webgpu the Adam moments and the EMA live on the device, so a training step never
 * stalls the GPU pipeline with a synchronous read. The samplers run the library's async
 * DDPM/DDIM (`ddpmSampleAsync`, `ddimSampleAsync`) with the toy MLP's async denoiser, which
 * reads each reverse step with `await data()` and gives the sync samplers' numbers.
 */
import { Rng } from '../../../src/core/rng.js';
import { loadToy, sampleToy, toyModes, TOY_NAMES, type ToyName } from '../../../src/data/toys.js';
import { encodeCheckpoint } from '../../../src/io/checkpoint-codec.js';
import { diffusionCheckpointInput, diffusionDataFingerprint } from '../../../src/diffusion/checkpoint-codec.js';
import { GaussianDiffusion, type AsyncDenoiser } from '../../../src/diffusion/process.js';
import { toyMlpAsyncDenoiser } from '../../../src/diffusion/toy-mlp.js';
import { DiffusionTrainer, createNetwork, networkFromWeights, type DiffusionData, type DiffusionNetwork } from '../../../src/diffusion/train.js';
import { PREDICTIONS } from '../../../src/diffusion/process.js';
import { choice, num, type Engine, type EngineFactory } from '../engine.js';
import { diffusionRecipe, diffusionRecipeRunConfig, type DiffusionRecipe } from '../diffusion-config.js';
import { Decimated, ToyScorer, scoreColumns, type ToyScore } from '../gan-metrics.js';
import { initTfBackend } from '../tf-backend.js';
import type { LabFile, Settings } from '../protocol.js';
import { LAB_BACKENDS } from '../tf-backend.js';

/** Samples drawn by each sampler (and data points shown on the forward side). */
const SAMPLES = 500;
/** Streams of the seed, as src/diffusion/run.ts numbers them (init 1, trainer 2, samples 5, toy data 11). */
const STREAM = { init: 1, trainer: 2, samples: 5, data: 11 } as const;
/** Batch size of `genphys diffusion sample` (sampleDiffusion's default): batch b draws from `Rng(seed).split(b)`. */
const CLI_SAMPLE_BATCH = 256;

interface Bounds {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
}

class DiffusionEngine implements Engine {
  private readonly trainer: DiffusionTrainer;
  private readonly diffusion: GaussianDiffusion;
  private readonly history = new Decimated(2);
  private readonly ddpmScores: ToyScore[] = [];
  private readonly ddimScores: ToyScore[] = [];
  private readonly noiseScore: ToyScore;
  private readonly scorer: ToyScorer;
  private readonly xT: Float32Array;
  private readonly x0Shown: Float32Array;
  private readonly epsShown: Float32Array;
  private readonly bounds: Bounds;
  private ddimSteps: number;
  private sampleEvery: number;
  private tShow = 0;
  /** The last DDPM run: x_t for t = 0 … T (index t), each [SAMPLES, 2]. */
  private trajectory: Float32Array[] = [];
  private ddim: Float32Array = new Float32Array(0);
  private ddimStale = false;
  private sampledAt = 0;
  private ms = { train: 0, ddpm: 0, ddim: 0 };
  private lastLoss = NaN;
  /** The settings as they are now (the live ones change; the rest reset the engine). */
  private settings: Settings;

  constructor(
    readonly backend: string,
    readonly recipe: DiffusionRecipe,
    private readonly net: DiffusionNetwork,
    private readonly data: DiffusionData,
    reference: Float32Array,
    settings: Settings,
  ) {
    // Adam and the EMA on the device where a synchronous read stalls the GPU; host arrays (the CLI's exact numbers) elsewhere.
    const device = backend === 'webgl' || backend === 'webgpu';
    this.settings = { ...settings };
    this.trainer = new DiffusionTrainer(net, recipe.train, new Rng(recipe.seed).split(STREAM.trainer), { device });
    this.diffusion = this.trainer.diffusion;
    const T = this.diffusion.T;
    this.ddimSteps = Math.min(T, num(settings, 'ddimSteps', 20, 1, 10000));
    this.sampleEvery = num(settings, 'sampleEvery', 500, 1, 1e7);
    this.tShow = Math.min(T, Math.round(T / 2));
    this.scorer = new ToyScorer({ data: reference, n: SAMPLES, d: 2 }, toyModes(recipe.data as ToyName));
    // x_T of both samplers: the first draws of the CLI's sample stream, so DDIM (η = 0) gives the CLI's samples.svg points.
    this.xT = new Float32Array(SAMPLES * 2);
    new Rng(recipe.seed).split(STREAM.samples).fillNormal(this.xT);
    this.noiseScore = this.scorer.score(0, this.xT, SAMPLES);
    const m = Math.min(SAMPLES, data.n);
    this.x0Shown = data.x.slice(0, 2 * m);
    this.epsShown = new Float32Array(2 * m);
    new Rng(recipe.seed).split(0xf0).fillNormal(this.epsShown);
    // The data's box joined with ±3 (where x_T ~ N(0, I) lives), squared, with a margin.
    let lo = -3, hi = 3;
    for (let i = 0; i < data.x.length; i++) {
      lo = Math.min(lo, data.x[i]!);
      hi = Math.max(hi, data.x[i]!);
    }
    const pad = 0.05 * (hi - lo);
    this.bounds = { xMin: lo - pad, xMax: hi + pad, yMin: lo - pad, yMax: hi + pad };
  }

  get steps(): number {
    return this.trainer.step;
  }

  set(s: Settings): void {
    this.settings = { ...this.settings, ...s };
    if (s.ddimSteps !== undefined) {
      this.ddimSteps = Math.min(this.diffusion.T, num(s, 'ddimSteps', 20, 1, 10000));
      this.ddimStale = true;
    }
    if (s.sampleEvery !== undefined) this.sampleEvery = num(s, 'sampleEvery', 500, 1, 1e7);
  }

  async step(): Promise<void> {
    const t0 = performance.now();
    await this.trainer.trainEpochAsync(this.data, { maxBatches: 1, onBatch: (_done, _total, loss) => (this.lastLoss = loss) });
    this.ms.train = 0.9 * this.ms.train + 0.1 * (performance.now() - t0);
    if (!Number.isFinite(this.lastLoss)) throw new Error(`diffusion: the loss became non-finite at step ${this.steps}; lower the learning rate and reset`);
    this.history.push([this.steps, this.lastLoss]);
    if (this.steps % this.sampleEvery === 0) await this.sample();
  }

  /** The EMA network (the one the CLI samples with), for one sampling pass; the caller disposes it. */
  private async emaNet(): Promise<DiffusionNetwork> {
    return networkFromWeights(this.recipe.network, await this.trainer.emaWeightsAsync());
  }

  /** The network as the samplers' async denoiser (the lab trains the toy MLP only). */
  private denoiser(net: DiffusionNetwork): AsyncDenoiser {
    const cfg = this.recipe.network;
    if (cfg.arch !== 'toy-mlp') throw new Error(`diffusion: the lab samples the toy MLP only, not a ${cfg.arch}`);
    return toyMlpAsyncDenoiser(cfg.toy, net.params);
  }

  /** A DDPM sample with its trajectory and a DDIM sample from the same x_T, both scored. */
  async sample(): Promise<void> {
    const T = this.diffusion.T;
    const net = await this.emaNet();
    try {
      const den = this.denoiser(net);
      const traj: Float32Array[] = new Array<Float32Array>(T + 1);
      let t0 = performance.now();
      traj[0] = await this.diffusion.ddpmSampleAsync(den, [SAMPLES, 2], new Rng(this.recipe.seed).split(0xd0 + this.steps), { xT: this.xT, onStep: (e) => (traj[e.t] = e.xt) });
      this.ms.ddpm = performance.now() - t0;
      this.trajectory = traj;
      t0 = performance.now();
      this.ddim = await this.diffusion.ddimSampleAsync(den, [SAMPLES, 2], new Rng(0), { xT: this.xT, steps: this.ddimSteps });
      this.ms.ddim = performance.now() - t0;
    } finally {
      net.dispose();
    }
    this.ddimStale = false;
    this.sampledAt = this.steps;
    this.ddpmScores.push(this.scorer.score(this.steps, this.trajectory[0]!, SAMPLES));
    this.ddimScores.push(this.scorer.score(this.steps, this.ddim, SAMPLES));
  }

  private async redoDdim(): Promise<void> {
    const net = await this.emaNet();
    try {
      const t0 = performance.now();
      this.ddim = await this.diffusion.ddimSampleAsync(this.denoiser(net), [SAMPLES, 2], new Rng(0), { xT: this.xT, steps: this.ddimSteps });
      this.ms.ddim = performance.now() - t0;
    } finally {
      net.dispose();
    }
    this.ddimStale = false;
  }

  async snapshot(): Promise<{ data: Record<string, unknown>; transfer: Transferable[] }> {
    if (this.ddimStale) await this.redoDdim();
    const T = this.diffusion.T;
    const t = Math.min(T, this.tShow);
    const m = this.x0Shown.length / 2;
    const forward = this.diffusion.qSample(this.x0Shown, [m, 2], new Int32Array(m).fill(t), this.epsShown);
    const reverse = Float32Array.from(this.trajectory[t] ?? new Float32Array(0));
    const ddpm = Float32Array.from(this.trajectory[0]!);
    const ddim = Float32Array.from(this.ddim);
    const real = Float32Array.from(this.x0Shown);
    const [ht, hl] = this.history.columns() as [Float64Array, Float64Array];
    const a = scoreColumns(this.ddpmScores);
    const b = scoreColumns(this.ddimScores);
    const s = this.diffusion.schedule;
    return {
      data: {
        data: this.recipe.data,
        T,
        t,
        sqrtAlphaBar: s.sqrtAlphaBar[t],
        steps: this.steps,
        epoch: this.trainer.epoch,
        loss: this.lastLoss,
        ddimSteps: this.ddimSteps,
        sampledAt: this.sampledAt,
        ms: { ...this.ms },
        bounds: this.bounds,
        real,
        forward,
        reverse,
        ddpm,
        ddim,
        history: { t: ht, loss: hl },
        ddpmScores: a,
        ddimScores: b,
        ddpmScore: this.ddpmScores[this.ddpmScores.length - 1],
        ddimScore: this.ddimScores[this.ddimScores.length - 1],
        initialScore: this.ddpmScores[0],
        noiseScore: this.noiseScore,
        kernel: this.scorer.kernelName,
        nModes: this.scorer.modes ? this.scorer.modes.centres.length / 2 : 0,
      },
      transfer: [real.buffer, forward.buffer, reverse.buffer, ddpm.buffer, ddim.buffer, ht.buffer, hl.buffer, a.step.buffer, a.mmd2.buffer, a.se.buffer, a.modes.buffer, a.kl.buffer, b.step.buffer, b.mmd2.buffer, b.se.buffer, b.modes.buffer, b.kl.buffer],
    };
  }

  /**
   * The run as `genphys diffusion train` with the panel's flags leaves it: config.json, and
   * checkpoint.json + checkpoint.w<step>.safetensors with the weights, Adam moments and EMA
   * (read with `await data()`), the trainer's stream and position, and the fingerprint the
   * CLI records of the same toy points.
   */
  private async checkpointFiles(): Promise<LabFile[]> {
    const weights = new Map<string, Float32Array>();
    for (const [name, p] of this.net.params) weights.set(name, (await p.data()) as Float32Array);
    const state = await this.trainer.getStateAsync();
    // The live settings (epochs, DDIM steps) as the panel's exported flags have them now.
    const live = diffusionRecipe(this.settings);
    const r: DiffusionRecipe = { ...this.recipe, epochs: live.epochs, sampleSteps: live.sampleSteps };
    const fp = diffusionDataFingerprint(r.spec, this.data.x, this.data.n);
    const enc = encodeCheckpoint(diffusionCheckpointInput(weights, { network: r.network, train: r.train, seed: r.seed, data: fp }, state));
    return [
      // As writeJsonAtomic writes it.
      { name: 'config.json', bytes: JSON.stringify(diffusionRecipeRunConfig(r, this.data.n), null, 2) + '\n', type: 'application/json' },
      { name: enc.jsonName, bytes: enc.jsonText, type: 'application/json' },
      { name: enc.weightsFile, bytes: enc.weights, type: 'application/octet-stream' },
    ];
  }

  /**
   * `n` samples from the EMA weights on the streams of `genphys diffusion sample --seed`:
   * batches of {@link CLI_SAMPLE_BATCH}, batch b from `Rng(seed).split(b)` (DDPM with all T
   * steps, or DDIM with `steps` and η), as sampleDiffusion (src/diffusion/run.ts) draws them.
   */
  private async cliSample(args: Record<string, unknown> | undefined): Promise<number[]> {
    const T = this.diffusion.T;
    const sampler = args?.sampler ?? 'ddim';
    const steps = Number(args?.steps ?? T);
    const eta = Number(args?.eta ?? 0);
    const n = Number(args?.n ?? 64);
    const seed = Number(args?.seed ?? 1);
    if (sampler !== 'ddpm' && sampler !== 'ddim') throw new Error(`cliSample: sampler must be ddpm or ddim, got '${String(sampler)}'`);
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= T)) throw new Error(`cliSample: steps must be an integer in 1…${T}, got ${String(args?.steps)}`);
    if (!(eta >= 0 && eta <= 1)) throw new Error(`cliSample: eta must be in [0, 1], got ${String(args?.eta)}`);
    if (!(Number.isInteger(n) && n >= 1 && n <= 100000)) throw new Error(`cliSample: n must be an integer in 1…100000, got ${String(args?.n)}`);
    if (!Number.isInteger(seed)) throw new Error(`cliSample: seed must be an integer, got ${String(args?.seed)}`);
    const net = await this.emaNet();
    try {
      const den = this.denoiser(net);
      const rng = new Rng(seed);
      const out = new Float32Array(n * 2);
      for (let lo = 0, b = 0; lo < n; lo += CLI_SAMPLE_BATCH, b++) {
        const size = Math.min(CLI_SAMPLE_BATCH, n - lo);
        const x = sampler === 'ddpm' ? await this.diffusion.ddpmSampleAsync(den, [size, 2], rng.split(b)) : await this.diffusion.ddimSampleAsync(den, [size, 2], rng.split(b), { steps, eta });
        out.set(x, lo * 2);
      }
      return Array.from(out);
    } finally {
      net.dispose();
    }
  }

  /**
   * `timestep` {t}: which x_t the slider shows; `sample`: draw and score new samples now;
   * `checkpoint`: the run folder `genphys diffusion sample` opens; `cliSample` {sampler,
   * steps, eta, n, seed}: samples drawn as that command draws them.
   */
  async action(name: string, args: Record<string, unknown> | undefined): Promise<{ files?: LabFile[]; value?: unknown }> {
    if (name === 'timestep') {
      const t = Math.round(Number(args?.t));
      if (!(t >= 0 && t <= this.diffusion.T)) throw new Error(`timestep: t must be an integer in 0…${this.diffusion.T}, got ${String(args?.t)}`);
      this.tShow = t;
      return { value: t };
    }
    if (name === 'sample') {
      await this.sample();
      return { value: this.steps };
    }
    if (name === 'checkpoint') return { files: await this.checkpointFiles() };
    if (name === 'cliSample') return { value: await this.cliSample(args) };
    throw new Error(`diffusion: unknown action '${name}'`);
  }

  dispose(): void {
    this.trainer.dispose();
    this.net.dispose();
  }
}

/** Build the diffusion engine. */
export const create: EngineFactory = async (settings) => {
  const backend = await initTfBackend(choice(settings, 'backend', LAB_BACKENDS, 'auto'));
  choice(settings, 'data', TOY_NAMES, 'moons');
  choice(settings, 'prediction', PREDICTIONS, 'eps');
  num(settings, 'n', 2000, 16, 1e6);
  num(settings, 'T', 100, 2, 4000);
  const recipe = diffusionRecipe(settings);
  // The CLI's toy points: loadToy of the same spec on stream 11 of the seed (src/diffusion/data.ts).
  const t = loadToy(recipe.spec, new Rng(recipe.seed).split(STREAM.data), { source: 'data' });
  const data: DiffusionData = { n: t.samples.n, dim: 2, x: t.samples.data };
  // A fresh draw of the true distribution for the metric, as `genphys diffusion eval` takes it (seed + 7919).
  const ref = sampleToy(recipe.data as ToyName, SAMPLES, new Rng(recipe.seed + 7919).split(STREAM.data)).samples.data;
  const net = createNetwork(recipe.network, new Rng(recipe.seed).split(STREAM.init));
  try {
    const engine = new DiffusionEngine(backend, recipe, net, data, ref, settings);
    await engine.sample();
    return engine;
  } catch (e) {
    net.dispose();
    throw e;
  }
};
