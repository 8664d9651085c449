/**
 * The VAE panel's engine: genphys's {@link Vae} and {@link VaeTrainer} (the CLI's model
 * and trainer, unchanged) on tfjs in the worker, trained one Adam step per unit of work
 * on simulated Ising configurations or a Fashion-MNIST / MNIST subset. It reports the
 * ELBO terms per example (train per step, held-out with standard errors at step 0 and
 * after every epoch), the encoder means of the held-out set, a decoded grid over the
 * latent plane, and exports a checkpoint `genphys vae sample DIR` opens.
 *
 * Steps read their losses with `await data()` (the trainer's async loop, the CLI's numbers
 * exactly); on webgl/webgpu the Adam moments also live on the device, so a step never
 * stalls the GPU pipeline with a synchronous read.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../src/core/rng.js';
import { CheckpointError, UsageError } from '../../../src/core/errors.js';
import { sha256Hex } from '../../../src/core/sha256.js';
import { binarizeDynamic, binarizeStatic } from '../../../src/data/binarize.js';
import { decodeCheckpointWeights, encodeCheckpoint, parseCheckpointManifest } from '../../../src/io/checkpoint-codec.js';
import { onsagerTc } from '../../../src/physics/exact.js';
import { vaeCheckpointInput, vaeFromCheckpoint } from '../../../src/vae/checkpoint-codec.js';
import { normalNoise } from '../../../src/vae/distributions.js';
import { Vae, inputDim, validateConfig, type VaeConfig } from '../../../src/vae/models.js';
import { PRESETS, type Binarize, type TrainConfig } from '../../../src/vae/presets.js';
import { VaeTrainer, prepareData, validateData, type LossTerms } from '../../../src/vae/train.js';
import { choice, num, type Engine, type EngineFactory } from '../engine.js';
import type { LabFile, Settings } from '../protocol.js';
import { LAB_BACKENDS, initTfBackend } from '../tf-backend.js';
import { imageDataset, isingDataset, isingSpec, type LabVaeData, type LabVaeDataset } from '../vae-data.js';
import { blockMeans, gridLatents, latentPlane, meanAndError, phaseSeparation, type LatentPlane } from '../vae-stats.js';

/** The data sources of the panel. */
export const VAE_DATA = ['fashion-mnist', 'mnist', 'ising'] as const;
/** The presets the panel offers (src/vae/presets.ts). */
export const VAE_PRESETS = ['torch-mlp', 'keras-conv', 'ising-mlp'] as const;
const BINARIZE: readonly Binarize[] = ['none', 'static', 'dynamic'];

/** Tiles per side of the decoded grid. */
const GRID = 12;
/** Held-out examples whose means the latent plot shows (all of them up to this many). */
const SHOWN = 1000;
/** Most points per loss curve sent to the page. */
const CURVE_POINTS = 400;
/** Least time between recomputations of the latent means and the decoded grid. */
const VIEW_MS = 400;

/** One evaluation of the held-out set: per-example means with standard errors (nats). */
interface HeldOutRow {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lossErr: number;
  readonly rec: number;
  readonly recErr: number;
  readonly kl: number;
  readonly klErr: number;
}

/** The model, training recipe and data the settings (or an imported checkpoint) resolve to. */
interface Resolved {
  readonly preset: string;
  readonly model: VaeConfig;
  readonly train: TrainConfig;
  readonly note: string;
}

/**
 * The model and recipe of the panel's settings, as `genphys vae train` resolves its flags
 * (src/cli/vae.ts): the preset, then --latent, --hidden (decoder mirrored), --beta,
 * --epochs, --batch, --lr, --binarize; the ising-mlp preset takes the data's image shape.
 * Ising data always use ising-mlp (`vae ising-probe`), the only preset sized for them.
 */
export function resolveModel(s: Settings, shape: readonly [number, number, number]): Resolved {
  const data = choice(s, 'data', VAE_DATA, 'fashion-mnist');
  const asked = choice(s, 'preset', VAE_PRESETS, 'torch-mlp');
  const preset = data === 'ising' ? 'ising-mlp' : asked;
  const p = PRESETS[preset]!;
  const hidden = num(s, 'hidden', 0, 0, 4096);
  const arch = p.model.arch;
  if (hidden > 0 && arch.kind !== 'mlp') throw new UsageError(`hidden: preset '${preset}' is convolutional; the hidden width applies to MLP presets (set it to 0)`);
  let model: VaeConfig = {
    ...p.model,
    latent: num(s, 'latent', 2, 1, 64),
    beta: num(s, 'beta', 1, 0, 100),
    arch: hidden > 0 && arch.kind === 'mlp' ? { ...arch, hidden: [hidden], decoderHidden: [hidden] } : arch,
  };
  if (preset === 'ising-mlp') model = { ...model, inputShape: [...shape] as [number, number, number] };
  validateConfig(model);
  const train: TrainConfig = {
    ...p.train,
    epochs: num(s, 'epochs', 10, 1, 10000),
    batchSize: num(s, 'batch', 128, 1, 4096),
    lr: num(s, 'lr', 1e-3, 1e-6, 1),
    binarize: choice(s, 'binarize', BINARIZE, 'none'),
  };
  const note = data === 'ising' && asked !== 'ising-mlp' ? `Ising data use the ising-mlp preset (${shape[0]}×${shape[1]} inputs), not ${asked}` : '';
  return { preset, model, train, note };
}

/** Held-out data as the model is trained on it: static → thresholded, dynamic → one fixed draw (as the CLI evaluates). */
function evalData(d: LabVaeData, mode: Binarize, seed: number): LabVaeData {
  if (mode === 'static') return { ...d, x: binarizeStatic(d.x) };
  if (mode === 'dynamic') return { ...d, x: binarizeDynamic(d.x, new Rng(seed).split(0xe7a1)) };
  return d;
}

/** The imported checkpoint among the user's files: its JSON and the weights file it names. */
function pickCheckpoint(files: readonly LabFile[]): ReturnType<typeof vaeFromCheckpoint> & { name: string } {
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new CheckpointError(files[0]?.name ?? 'import', 'pick the checkpoint.json together with its .safetensors file');
  const text = typeof json.bytes === 'string' ? json.bytes : new TextDecoder().decode(json.bytes);
  const manifest = parseCheckpointManifest(text, json.name, { kind: 'vae' });
  const w = files.find((f) => f.name === manifest.weights.file) ?? files.filter((f) => f.name.endsWith('.safetensors')).at(-1);
  if (!w || typeof w.bytes === 'string') throw new CheckpointError(json.name, `its weights file ${manifest.weights.file} was not picked with it`);
  return { ...vaeFromCheckpoint(decodeCheckpointWeights(manifest, w.bytes, w.name)), name: json.name };
}

class VaeEngine implements Engine {
  private readonly trainer: VaeTrainer;
  private readonly stepsPerFrameInit: number;
  private stepsPerFrame: number;
  /** Held-out set as evaluated (binarised like the training data). */
  private readonly held: LabVaeData;
  private readonly trainData: LabVaeData;
  private readonly trainSteps: number[] = [];
  private readonly trainRec: number[] = [];
  private readonly trainKl: number[] = [];
  private readonly heldRows: HeldOutRow[] = [];
  private readonly epochRows: { epoch: number; step: number; t: LossTerms }[] = [];
  /** Seconds spent in training steps only (no evaluation, no snapshots). */
  private trainSeconds = 0;
  private view: { step: number; at: number; mu: Float32Array; plane: LatentPlane; grid: Float32Array } | null = null;

  constructor(
    readonly backend: string,
    private readonly model: Vae,
    private readonly resolved: Resolved,
    private readonly data: LabVaeDataset,
    private readonly seed: number,
    settings: Settings,
    trainer: VaeTrainer,
    private readonly imported: string | null,
  ) {
    this.trainer = trainer;
    this.trainData = prepareData(data.train, resolved.train.binarize) as LabVaeData;
    this.held = evalData(data.heldOut, resolved.train.binarize, seed);
    this.stepsPerFrameInit = num(settings, 'stepsPerFrame', 1, 1, 1000);
    this.stepsPerFrame = this.stepsPerFrameInit;
  }

  get steps(): number {
    return this.trainer.step;
  }

  private get done(): boolean {
    return this.trainer.epoch >= this.resolved.train.epochs;
  }

  /** Evaluate the held-out set now and record it. */
  async recordHeldOut(): Promise<void> {
    const r = await this.heldOut();
    this.heldRows.push({ step: this.trainer.step, epoch: this.trainer.epoch, ...r });
  }

  /**
   * The held-out negative ELBO, reconstruction and KL terms, per example, each with its
   * standard error over examples. One reparameterised sample per example, with the same
   * noise at every evaluation (a fixed stream), so successive rows differ by the model only.
   */
  async heldOut(): Promise<Omit<HeldOutRow, 'step' | 'epoch'>> {
    const d = this.held;
    const D = d.dim;
    const k = this.model.config.latent;
    const beta = this.model.config.beta;
    const rng = new Rng(this.seed).split(0x7e57);
    const rec = new Float64Array(d.n);
    const kl = new Float64Array(d.n);
    const B = 500;
    for (let lo = 0; lo < d.n; lo += B) {
      const size = Math.min(B, d.n - lo);
      const eps = normalNoise(rng, size, k);
      const [r, q] = tf.tidy(() => {
        const x = tf.tensor2d(d.x.subarray(lo * D, (lo + size) * D), [size, D]);
        const t = this.model.elboTerms(x, eps);
        return [t.rec, t.kl];
      });
      rec.set(await r!.data(), lo);
      kl.set(await q!.data(), lo);
      tf.dispose([r!, q!, eps]);
    }
    const loss = rec.map((v, i) => v + beta * kl[i]!);
    const L = meanAndError(loss);
    const R = meanAndError(rec);
    const K = meanAndError(kl);
    return { loss: L.mean, lossErr: L.error, rec: R.mean, recErr: R.error, kl: K.mean, klErr: K.error };
  }

  async step(): Promise<void> {
    if (this.done) {
      // Trained to the epoch count: idle without spinning the worker's loop.
      await new Promise((r) => setTimeout(r, 100));
      return;
    }
    for (let i = 0; i < this.stepsPerFrame && !this.done; i++) {
      const t0 = performance.now();
      const epochDone = await this.trainer.trainEpochAsync(this.trainData, {
        maxBatches: 1,
        onBatch: (_done, _total, t) => {
          this.trainSteps.push(this.trainer.step);
          this.trainRec.push(t.rec);
          this.trainKl.push(t.kl);
        },
      });
      this.trainSeconds += (performance.now() - t0) / 1000;
      if (epochDone) {
        this.epochRows.push({ epoch: this.trainer.epoch, step: this.trainer.step, t: epochDone });
        await this.recordHeldOut();
      }
    }
  }

  set(s: Settings): void {
    if (s.stepsPerFrame !== undefined) this.stepsPerFrame = num(s, 'stepsPerFrame', this.stepsPerFrameInit, 1, 1000);
  }

  /** Encoder means μ of the first {@link SHOWN} held-out examples, `[n, k]`. */
  async latentMeans(): Promise<Float32Array> {
    const d = this.held;
    const n = Math.min(SHOWN, d.n);
    const mu = tf.tidy(() => this.model.encode(tf.tensor2d(d.x.subarray(0, n * d.dim), [n, d.dim])).mean.clone());
    const out = (await mu.data()) as Float32Array;
    mu.dispose();
    return out;
  }

  /** Decoder means p(x|h) at latent points `z` (`[m, k]`), `[m, D]` pixel values in [0, 1] (Gaussian: clipped). */
  async decodeMeans(z: Float32Array): Promise<Float32Array> {
    const k = this.model.config.latent;
    const t = tf.tidy(() => {
      const out = this.model.decode(tf.tensor2d(z, [z.length / k, k]));
      return this.model.decoderMean(out).clipByValue(0, 1);
    });
    const v = (await t.data()) as Float32Array;
    t.dispose();
    return v;
  }

  private async refreshView(force: boolean): Promise<NonNullable<VaeEngine['view']>> {
    const v = this.view;
    if (v && (v.step === this.trainer.step || (!force && performance.now() - v.at < VIEW_MS))) return v;
    const mu = await this.latentMeans();
    const plane = latentPlane(mu, this.model.config.latent);
    const grid = await this.decodeMeans(gridLatents(plane, GRID, this.model.config.latent));
    this.view = { step: this.trainer.step, at: performance.now(), mu, plane, grid };
    return this.view;
  }

  async snapshot(): Promise<{ data: Record<string, unknown>; transfer: Transferable[] }> {
    const v = await this.refreshView(false);
    const n = Math.min(SHOWN, this.held.n);
    const mu = v.mu.slice();
    const grid = v.grid.slice();
    const labels = this.held.labels.slice(0, n);
    const block = Math.max(1, Math.ceil(this.trainSteps.length / CURVE_POINTS));
    const rec = blockMeans(this.trainSteps, this.trainRec, block);
    const kl = blockMeans(this.trainSteps, this.trainKl, block);
    const cfg = this.model.config;
    const T = this.held.T?.slice(0, n);
    const m = this.held.m?.slice(0, n);
    const separation = T ? phaseSeparation(v.mu, cfg.latent, T, onsagerTc()) : null;
    const h = this.heldRows;
    const col = (f: (r: HeldOutRow) => number) => Float64Array.from(h, f);
    const curves = {
      trainStep: rec.x,
      trainRec: rec.y,
      trainKl: kl.y,
      block,
      heldStep: col((r) => r.step),
      heldLoss: col((r) => r.loss),
      heldLossErr: col((r) => r.lossErr),
      heldRec: col((r) => r.rec),
      heldRecErr: col((r) => r.recErr),
      heldKl: col((r) => r.kl),
      heldKlErr: col((r) => r.klErr),
      epochStep: Float64Array.from(this.epochRows, (r) => r.step),
      epochLoss: Float64Array.from(this.epochRows, (r) => r.t.loss),
    };
    return {
      data: {
        kind: this.data.kind,
        dataName: this.data.name,
        nTrain: this.trainData.n,
        nHeld: this.held.n,
        shape: cfg.inputShape,
        latent: cfg.latent,
        preset: this.resolved.preset,
        config: { model: this.model.config, train: this.resolved.train },
        beta: cfg.beta,
        note: this.resolved.note,
        imported: this.imported,
        params: [...this.model.params.values()].reduce((s, p) => s + p.size, 0),
        epoch: this.trainer.epoch,
        epochs: this.resolved.train.epochs,
        batch: this.resolved.train.batchSize,
        batchesPerEpoch: Math.ceil(this.trainData.n / this.resolved.train.batchSize),
        done: this.done,
        trainStepsPerSec: this.trainSeconds > 0 ? this.trainSteps.length / this.trainSeconds : 0,
        labelNames: this.data.labelNames,
        temperatures: this.data.temperatures ?? null,
        labels,
        mu,
        T: T ?? null,
        m: m ?? null,
        separation,
        plane: v.plane,
        viewStep: v.step,
        grid,
        gridSize: GRID,
        heldOut: h.at(-1) ?? null,
        heldOutFirst: h[0] ?? null,
        curves,
      },
      transfer: [mu.buffer, grid.buffer, labels.buffer, ...(T ? [T.buffer] : []), ...(m ? [m.buffer] : []), ...Object.values(curves).flatMap((c) => (c instanceof Float64Array ? [c.buffer] : []))],
    };
  }

  /** The model and trainer state as the CLI's checkpoint files (weights read with `await data()`). */
  private async checkpointFiles(): Promise<LabFile[]> {
    const weights = new Map<string, Float32Array>();
    for (const [name, p] of this.model.params) weights.set(name, (await p.data()) as Float32Array);
    const x = this.data.train.x;
    const [ds, split] = this.data.name.includes('/') ? (this.data.name.split('/', 2) as [string, string]) : [this.data.name, 'all'];
    // The fingerprint the CLI's dataFingerprint records: SHA-256 of the float32 training values.
    const fp = { name: ds, split, n: this.data.train.n, sha256: sha256Hex(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) };
    const input = vaeCheckpointInput(weights, this.model.config, { preset: this.resolved.preset, model: this.model.config, train: this.resolved.train, seed: this.seed, data: fp }, await this.trainer.getStateAsync());
    const enc = encodeCheckpoint(input);
    return [
      { name: enc.jsonName, bytes: enc.jsonText, type: 'application/json' },
      { name: enc.weightsFile, bytes: enc.weights, type: 'application/octet-stream' },
    ];
  }

  async action(name: string, args: Record<string, unknown> | undefined): Promise<{ files?: LabFile[]; value?: unknown }> {
    switch (name) {
      case 'checkpoint':
        return { files: await this.checkpointFiles() };
      case 'encode': {
        // Draw-a-digit: a drawn image → Q(h|x) → the decoder mean at μ.
        const D = inputDim(this.model.config);
        const px = args?.pixels;
        const x = px instanceof Float32Array ? px : Float32Array.from((px as ArrayLike<number> | undefined) ?? []);
        if (x.length !== D) throw new UsageError(`encode: the drawing has ${x.length} pixels, the model takes ${this.model.config.inputShape.join('×')} = ${D}`);
        const q = tf.tidy(() => {
          const d = this.model.encode(tf.tensor2d(x, [1, D]));
          return [d.mean.clone(), d.logVar.clone()];
        });
        const mu = (await q[0]!.data()) as Float32Array;
        const logVar = (await q[1]!.data()) as Float32Array;
        tf.dispose(q);
        const recon = await this.decodeMeans(mu);
        return { value: { mu: Array.from(mu), logVar: Array.from(logVar), recon } };
      }
      case 'latents': {
        // Fresh means of the shown held-out set, for exact checks (the snapshot's may be up to VIEW_MS old).
        const v = await this.refreshView(true);
        const n = Math.min(SHOWN, this.held.n);
        const T = this.held.T?.slice(0, n);
        return {
          value: {
            step: v.step,
            k: this.model.config.latent,
            mu: Array.from(v.mu),
            labels: Array.from(this.held.labels.subarray(0, n)),
            T: T ? Array.from(T) : null,
            m: this.held.m ? Array.from(this.held.m.subarray(0, n)) : null,
            separation: T ? phaseSeparation(v.mu, this.model.config.latent, T, onsagerTc()) : null,
          },
        };
      }
      case 'heldout':
        return { value: { step: this.trainer.step, ...(await this.heldOut()) } };
      default:
        throw new UsageError(`vae panel: unknown action '${name}'`);
    }
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
  }
}

/** Build the VAE engine: backend, data, model (fresh or from an imported checkpoint), trainer. */
export const create: EngineFactory = async (settings, files) => {
  const backend = await initTfBackend(choice(settings, 'backend', LAB_BACKENDS, 'auto'));
  const seed = num(settings, 'seed', 1, 0, 2 ** 53);
  // Adam on the device where a synchronous read stalls the GPU; host arrays (the CLI's exact numbers) elsewhere.
  const device = backend === 'webgl' || backend === 'webgpu';
  const which = choice(settings, 'data', VAE_DATA, 'fashion-mnist');
  let data: LabVaeDataset;
  if (which === 'ising') {
    const L = num(settings, 'L', 16, 4, 64);
    const spec = isingSpec(L, num(settings, 'tMin', 1.5, 0.05, 20), num(settings, 'tMax', 3.5, 0.05, 20), num(settings, 'nTemps', 8, 1, 64), num(settings, 'perTemp', 250, 8, 20000));
    data = isingDataset(spec, seed);
  } else {
    const n = num(settings, 'n', 4000, 64, 60000);
    data = await imageDataset(which, n, Math.min(1000, Math.max(200, Math.round(n / 4))));
  }
  const shape = data.train.shape;
  let resolved = resolveModel(settings, shape);
  let model: Vae;
  let trainer: VaeTrainer;
  let imported: string | null = null;
  if (files.length > 0) {
    const ck = pickCheckpoint(files);
    const want = ck.meta.model.inputShape;
    if (inputDim(ck.meta.model) !== data.train.dim) {
      throw new UsageError(`${ck.name}: the model takes ${want.join('×')} inputs, the panel's data (${data.name}) are ${shape.join('×')}; pick the data it was trained on`);
    }
    resolved = { preset: ck.meta.preset ?? 'custom', model: ck.meta.model, train: { ...ck.meta.train, epochs: Math.max(ck.meta.train.epochs, resolved.train.epochs) }, note: resolved.note };
    model = Vae.fromWeights(ck.meta.model, ck.weights);
    trainer = new VaeTrainer(model, resolved.train, new Rng(ck.meta.seed).split(2), { device });
    if (ck.trainer) trainer.setState(ck.trainer);
    imported = `${ck.name}: ${ck.meta.preset ?? 'custom'}, trained on ${ck.meta.data ? `${ck.meta.data.name}/${ck.meta.data.split} (n = ${ck.meta.data.n})` : 'unknown data'}, step ${ck.trainer?.step ?? 0}`;
  } else {
    // The streams `genphys vae train` uses: weights from split(1), the trainer from split(2).
    const rng = new Rng(seed);
    model = Vae.create(resolved.model, rng.split(1));
    trainer = new VaeTrainer(model, resolved.train, rng.split(2), { device });
  }
  validateData(data.train, model.config, data.name);
  const engine = new VaeEngine(backend, model, resolved, data, seed, settings, trainer, imported);
  await engine.recordHeldOut();
  return engine;
};
