/**
 * The RBM panel's engine: genphys's BernoulliRBM trained by its Trainer (cd, pcd, pt or
 * the exact negative phase) on the TypeScript kernels, with the metrics `genphys rbm
 * train` logs: the exact log-likelihood per example where one layer can be enumerated
 * cheaply, else the reconstruction error and the free-energy gap between held-out and
 * training rows. Free-running Gibbs chains give model samples; on Ising data their e and
 * |m| per site are measured as Monte Carlo measures its own configurations. Exports the
 * CLI's run files (config.json, checkpoint.json, checkpoint.w<step>.safetensors) and
 * imports a CLI checkpoint to continue from.
 */
import { CheckpointError, UsageError } from '../../../src/core/errors.js';
import { Rng } from '../../../src/core/rng.js';
import { sha256Hex } from '../../../src/core/sha256.js';
import { rbmCheckpointInput, rbmFromCheckpoint } from '../../../src/ebm/checkpoint.js';
import { exactPhaseInitStd } from '../../../src/ebm/exact-phase.js';
import { freeEnergyGap, logLikelihood, reconstructionError } from '../../../src/ebm/metrics.js';
import type { EnergyModel } from '../../../src/ebm/model.js';
import { enumerableLayer, exactLogZ, exactVisibleLogProbs } from '../../../src/ebm/partition.js';
import { BernoulliRBM } from '../../../src/ebm/rbm.js';
import { Trainer, resolveTrainOptions, type TrainOptions } from '../../../src/ebm/train.js';
import { getKernels, jsKernels, useKernels } from '../../../src/engine/index.js';
import { wasmKernels } from '../../../src/engine/wasm-kernels.js';
import { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from '../../../src/io/checkpoint-codec.js';
import { isingModel, type IsingModel } from '../../../src/physics/lattice.js';
import { ISING_ALGORITHMS } from '../../../src/physics/samplers.js';
import { choice, num, type Engine, type EngineFactory } from '../engine.js';
import { initTfBackend } from '../tf-backend.js';
import type { LabFile, Settings } from '../protocol.js';
import { barsAndStripesData, imageData, isingData, isingRowObservables, meanError, uploadedData, type RbmData } from '../rbm-data.js';

/** The data sources of the panel. */
export const RBM_DATA = ['bars-and-stripes', 'ising', 'fashion-mnist', 'mnist', 'upload'] as const;
/** Largest exact-metric cost, 2^n · nVisible · nHidden multiply-adds (the library's default bound for the exact phase). */
export const EXACT_METRIC_COST = 2 ** 26;
/** Rows of each set the sampled monitors (reconstruction error, free-energy gap) use. */
const MONITOR_ROWS = 500;
/** Free-running Gibbs chains for the model samples. */
const SAMPLE_CHAINS = 64;
/** Sampling sweeps kept for the Ising observables of the RBM's samples. */
const OBS_WINDOW = 100;
/** Largest lattice (sites) whose RBM observables are also summed exactly over all 2^N visible states. */
const EXACT_OBS_SITES = 16;
/** Metric points kept for the charts (halved in resolution when full). */
const HISTORY = 800;

/** The TrainOptions and initial weight scale the panel's settings ask for (the same mapping as `genphys rbm train`'s flags). */
export function trainOptionsFrom(s: Settings): { train: TrainOptions; initStd: number | undefined; hidden: number } {
  const method = choice(s, 'method', ['auto', 'cd', 'pcd', 'pt', 'exact'] as const, 'auto');
  const optimizer = choice(s, 'optimizer', ['auto', 'sgd', 'adam'] as const, 'auto');
  const schedule = choice(s, 'schedule', ['auto', 'constant', 'linear', 'exponential', 'cosine'] as const, 'auto');
  const lr = num(s, 'lr', 0, 0, 10);
  const chains = num(s, 'chains', 0, 0, 100000);
  const initStd = num(s, 'initStd', 0, 0, 10);
  return {
    hidden: num(s, 'hidden', 16, 1, 4096),
    initStd: initStd > 0 ? initStd : undefined,
    train: {
      ...(method !== 'auto' ? { method } : {}),
      k: num(s, 'k', 1, 1, 1000),
      batchSize: num(s, 'batch', 100, 1, 100000),
      ...(lr > 0 ? { learningRate: lr } : {}),
      ...(optimizer !== 'auto' ? { optimizer } : {}),
      momentum: num(s, 'momentum', 0, 0, 0.999),
      weightDecay: num(s, 'weightDecay', 0, 0, 10),
      ...(schedule !== 'auto' ? { schedule } : {}),
      centering: s.centering === true,
      ptReplicas: num(s, 'ptReplicas', 10, 2, 1000),
      ...(chains > 0 ? { chains } : {}),
    },
  };
}

async function loadData(s: Settings, seed: number, files: readonly LabFile[]): Promise<RbmData> {
  const source = choice(s, 'data', RBM_DATA, 'bars-and-stripes');
  if (source === 'bars-and-stripes') return barsAndStripesData(num(s, 'basSize', 3, 2, 6));
  if (source === 'upload') {
    const f = files.filter((x) => /\.(txt|npy)$/.test(x.name));
    if (f.length !== 1) throw new Error(f.length === 0 ? 'data "upload": pick a spin file (.txt or .npy) with the file input' : `data "upload": pick one spin file, not ${f.length}`);
    return uploadedData(f[0]!);
  }
  if (source === 'ising') {
    const n = num(s, 'isingSamples', 1000, 10, 100000);
    return isingData(
      {
        L: num(s, 'L', 4, 3, 8),
        T: num(s, 'T', 2.269, 0.05, 20),
        algo: choice(s, 'isingAlgo', ISING_ALGORITHMS, 'wolff'),
        n,
        nTest: Math.max(10, Math.round(n / 5)),
        burnIn: num(s, 'isingBurnIn', 1000, 0, 1e6),
        spacing: num(s, 'isingSpacing', 10, 1, 1e4),
      },
      // Its own stream, so the data do not move when the model's settings change.
      new Rng(seed).split(11),
    );
  }
  return imageData(source, num(s, 'limit', 1000, 10, 60000), MONITOR_ROWS);
}

/** A checkpoint among the imported files, decoded (null when none was given). */
function importedCheckpoint(files: readonly LabFile[]): { model: EnergyModel; trainer: (rng: Rng) => Trainer | null; from: string; step: number; epoch: number } | null {
  const text = (f: LabFile) => (typeof f.bytes === 'string' ? f.bytes : new TextDecoder().decode(f.bytes));
  const manifests = files.filter((f) => f.name.endsWith('.json')).filter((f) => {
    try {
      return (JSON.parse(text(f)) as { format?: unknown }).format === CHECKPOINT_FORMAT;
    } catch {
      return false;
    }
  });
  const weights = files.filter((f) => f.name.endsWith('.safetensors'));
  if (manifests.length === 0 && weights.length === 0) return null;
  if (manifests.length !== 1) throw new CheckpointError(manifests.length === 0 ? weights[0]!.name : manifests.map((m) => m.name).join(', '), 'import: pick one checkpoint .json with its .safetensors');
  const m = manifests[0]!;
  const want = (JSON.parse(text(m)) as { weights?: { file?: unknown } }).weights?.file;
  const w = weights.find((f) => f.name === want) ?? (weights.length === 1 ? weights[0] : undefined);
  if (!w) throw new CheckpointError(m.name, `import: its weights file ${String(want)} was not picked with it`);
  const bytes = typeof w.bytes === 'string' ? new TextEncoder().encode(w.bytes) : w.bytes;
  const ck = decodeCheckpoint(text(m), bytes, { kind: 'rbm', allowExtra: true, jsonPath: m.name, weightsPath: w.name });
  const lm = rbmFromCheckpoint(ck);
  return { model: lm.model, trainer: (rng) => (lm.train ? lm.resumeTrainer(rng) : null), from: `${m.name} + ${w.name}`, step: lm.step, epoch: lm.epoch };
}

interface Metrics {
  step: number;
  ll: number;
  testLL: number;
  recon: number;
  gap: number;
}

class RbmEngine implements Engine {
  readonly backend: string;
  private readonly model: EnergyModel;
  private readonly trainer: Trainer;
  private readonly sampleRng: Rng;
  private samples: Float32Array;
  private readonly lattice: IsingModel | null;
  private readonly obsE: Float64Array[] = [];
  private readonly obsM: Float64Array[] = [];
  private updatesPerStep: number;
  private evalEvery: number;
  private lastEval = -Infinity;
  private hist: Metrics[] = [];
  private histEvery = 1;
  private histSkip = 0;
  private latest: Metrics | null = null;
  private readonly exactOk: boolean;
  /** Seconds spent in parameter updates (the speed readout counts only these). */
  private trainSeconds = 0;
  private trainUpdates = 0;
  private readonly plannedEpochs: number;
  /** e and |m| of every visible state (state index bit i = site i), for exact model averages on small lattices. */
  private readonly stateObs: { e: Float64Array; absM: Float64Array } | null = null;
  private exactObs: { e: number; absM: number } | null = null;
  /** The last 'measure' action: the current model's chains run long at fixed parameters. */
  private measured: { e: { value: number; error: number }; absM: { value: number; error: number }; sweeps: number; burnIn: number; step: number } | null = null;

  constructor(
    private readonly settings: Settings,
    private readonly data: RbmData,
    imported: ReturnType<typeof importedCheckpoint>,
    private readonly importedFrom: string | null,
  ) {
    const seed = num(settings, 'seed', 1, 0, 2 ** 53);
    const rng = new Rng(seed);
    const o = trainOptionsFrom(settings);
    this.plannedEpochs = num(settings, 'epochs', 500, 1, 1e7);
    this.updatesPerStep = num(settings, 'updatesPerStep', 1, 1, 10000);
    this.evalEvery = num(settings, 'evalEvery', 10, 1, 1e6);
    if (imported) {
      if (imported.model.nVisible !== data.nVisible) {
        throw new CheckpointError(imported.from, `import: the model has ${imported.model.nVisible} visible units, the data (${data.title}) ${data.nVisible}; choose data of that size first`);
      }
      this.model = imported.model;
      // A checkpoint with trainer state resumes exactly (its options, moments, chains); one without trains on with the panel's options.
      this.trainer = imported.trainer(rng.split(2)) ?? new Trainer(imported.model, o.train, rng.split(2));
    } else {
      // The same streams as `genphys rbm train --seed`: weights from split(1), the trainer from split(2).
      const build = (initStd?: number) => new BernoulliRBM({ nVisible: data.nVisible, nHidden: o.hidden, units: '01', ...(initStd !== undefined ? { initStd } : {}) }, rng.split(1));
      let model: EnergyModel = build(o.initStd);
      // As the CLI: the exact method starts from min(1, 2/√nVisible) unless --init-std is given (exact-phase.ts).
      if (o.initStd === undefined && resolveTrainOptions(o.train, model).method === 'exact') model = build(exactPhaseInitStd(data.nVisible));
      this.model = model;
      this.trainer = new Trainer(model, o.train, rng.split(2));
    }
    const k = getKernels();
    this.backend = k.name === 'wasm' ? 'wasm (XNNPACK)' : 'typescript';
    this.sampleRng = rng.split(5);
    const nv = data.nVisible;
    const rows = data.train.length / nv;
    this.samples = new Float32Array(SAMPLE_CHAINS * nv);
    for (let c = 0; c < SAMPLE_CHAINS; c++) {
      const r = this.sampleRng.int(rows);
      this.samples.set(data.train.subarray(r * nv, (r + 1) * nv), c * nv);
    }
    this.lattice = data.ising ? isingModel({ L: data.ising.L }) : null;
    if (this.lattice && this.lattice.N <= EXACT_OBS_SITES) {
      const N = this.lattice.N;
      const all = new Float32Array(2 ** N * N);
      for (let st = 0; st < 2 ** N; st++) for (let i = 0; i < N; i++) all[st * N + i] = (st >> i) & 1;
      this.stateObs = isingRowObservables(all, this.lattice);
    }
    const layer = enumerableLayer(this.model, 20);
    const n = layer === 'hidden' ? this.model.nHidden : this.model.nVisible;
    this.exactOk = layer !== null && 2 ** n * this.model.nVisible * this.model.nHidden <= EXACT_METRIC_COST;
    this.evaluate();
  }

  get steps(): number {
    return this.trainer.step;
  }

  set(s: Settings): void {
    if (s.updatesPerStep !== undefined) this.updatesPerStep = num(s, 'updatesPerStep', 1, 1, 10000);
    if (s.evalEvery !== undefined) this.evalEvery = num(s, 'evalEvery', 10, 1, 1e6);
  }

  step(): void {
    const t0 = performance.now();
    let left = this.updatesPerStep;
    while (left > 0) {
      const before = this.trainer.step;
      this.trainer.trainSlice(this.data.train, { maxBatches: left, plannedEpochs: this.plannedEpochs });
      left -= this.trainer.step - before;
    }
    this.trainSeconds += (performance.now() - t0) / 1000;
    this.trainUpdates += this.updatesPerStep;
    for (const [k, v] of Object.entries(this.model.params)) {
      if (!Number.isFinite(v[0]!) || !Number.isFinite(v[v.length - 1]!)) throw new UsageError(`rbm panel: parameter ${k} is no longer finite at step ${this.trainer.step}: training diverged; lower the learning rate`);
    }
    this.sample();
    if (this.trainer.step - this.lastEval >= this.evalEvery) this.evaluate();
  }

  /** One Gibbs sweep of the free-running sample chains (their own stream), and the Ising observables of the result. */
  private sample(): void {
    this.samples = this.model.gibbs(this.samples, this.sampleRng, 1);
    if (!this.lattice) return;
    const o = isingRowObservables(this.samples, this.lattice);
    this.obsE.push(o.e);
    this.obsM.push(o.absM);
    if (this.obsE.length > OBS_WINDOW) {
      this.obsE.shift();
      this.obsM.shift();
    }
  }

  private evaluate(): void {
    const m = this.model;
    const nv = m.nVisible;
    const head = (x: Float32Array) => x.subarray(0, Math.min(x.length / nv, MONITOR_ROWS) * nv);
    const train = head(this.data.train);
    const test = this.data.test ? head(this.data.test) : null;
    let ll = NaN;
    let testLL = NaN;
    if (this.exactOk) {
      const logZ = exactLogZ(m);
      // Over every training row (as `rbm eval` reports exactTrainLL, up to 10 000 rows).
      ll = logLikelihood(m, this.data.train.subarray(0, Math.min(this.data.train.length / nv, 10000) * nv), logZ);
      if (this.data.test) testLL = logLikelihood(m, this.data.test, logZ);
    }
    if (this.stateObs) {
      // ⟨e⟩ and ⟨|m|⟩ of the model itself: Σ_v p(v)·O(v) over all 2^N states, no sampling noise.
      const lp = exactVisibleLogProbs(m);
      let e = 0;
      let am = 0;
      for (let st = 0; st < lp.length; st++) {
        const p = Math.exp(lp[st]!);
        e += p * this.stateObs.e[st]!;
        am += p * this.stateObs.absM[st]!;
      }
      this.exactObs = { e, absM: am };
    }
    const row: Metrics = {
      step: this.trainer.step,
      ll,
      testLL,
      recon: reconstructionError(m, train),
      gap: test ? freeEnergyGap(m, train, test, MONITOR_ROWS) : NaN,
    };
    this.latest = row;
    this.lastEval = this.trainer.step;
    if (this.histSkip++ % this.histEvery === 0) this.hist.push(row);
    if (this.hist.length >= HISTORY) {
      this.hist = this.hist.filter((_, i) => i % 2 === 0);
      this.histEvery *= 2;
      this.histSkip = 1;
    }
  }

  /** e and |m| of the sample chains over the window: mean over chains of each chain's time average, standard error over chains. */
  private rbmObservables(): { e: { value: number; error: number }; absM: { value: number; error: number }; sweeps: number } | null {
    if (!this.lattice || this.obsE.length === 0) return null;
    return { e: chainMeans(this.obsE), absM: chainMeans(this.obsM), sweeps: this.obsE.length };
  }

  /**
   * Measure the current model (no training): `burnIn` Gibbs sweeps of the sample chains,
   * then e and |m| after each of `sweeps` more. While training runs, the live window mixes
   * samples of earlier parameters; this is the model as it is now.
   */
  private measure(burnIn: number, sweeps: number): NonNullable<RbmEngine['measured']> {
    if (!this.lattice) throw new UsageError('rbm panel, measure: only Ising data have lattice observables');
    if (!(Number.isInteger(burnIn) && burnIn >= 0 && Number.isInteger(sweeps) && sweeps >= 1 && burnIn + sweeps <= 1e5)) throw new UsageError(`rbm panel, measure: need whole burn-in ≥ 0 and sweeps ≥ 1 (≤ 100 000 together), got ${burnIn} and ${sweeps}`);
    if (burnIn > 0) this.samples = this.model.gibbs(this.samples, this.sampleRng, burnIn);
    const e: Float64Array[] = [];
    const am: Float64Array[] = [];
    for (let t = 0; t < sweeps; t++) {
      this.samples = this.model.gibbs(this.samples, this.sampleRng, 1);
      const o = isingRowObservables(this.samples, this.lattice);
      e.push(o.e);
      am.push(o.absM);
    }
    this.measured = { e: chainMeans(e), absM: chainMeans(am), sweeps, burnIn, step: this.trainer.step };
    return this.measured;
  }

  snapshot(): { data: Record<string, unknown>; transfer: Transferable[] } {
    const m = this.model;
    const nv = m.nVisible;
    const nh = m.nHidden;
    const count = Math.min(nh, 64);
    // Each hidden unit's weights as one image (column j of W).
    const filters = new Float32Array(count * nv);
    const W = m.params.W!;
    for (let j = 0; j < count; j++) for (let i = 0; i < nv; i++) filters[j * nv + i] = W[i * nh + j]!;
    const samples = Float32Array.from(this.samples);
    const neg = this.trainer.negativeSamples();
    const chains = neg ? neg.slice(0, Math.min(64, neg.length / nv) * nv) : null;
    const h = this.hist;
    const col = (f: (r: Metrics) => number) => Float64Array.from(h, f);
    const history = { step: col((r) => r.step), ll: col((r) => r.ll), testLL: col((r) => r.testLL), recon: col((r) => r.recon), gap: col((r) => r.gap) };
    const o = this.trainer.options;
    const ising = this.data.ising;
    return {
      data: {
        data: this.data.title,
        spec: this.data.spec,
        nVisible: nv,
        nHidden: nh,
        image: this.data.image,
        method: o.method,
        optimizer: o.optimizer,
        k: o.k,
        batchSize: o.batchSize,
        learningRate: this.trainer.learningRate(),
        epoch: this.trainer.epoch,
        plannedEpochs: this.plannedEpochs,
        exact: this.exactOk,
        optimum: this.data.optimum ?? null,
        hasTest: this.data.test !== null,
        latest: this.latest,
        history,
        filters,
        filterCount: count,
        samples,
        chains,
        ising: ising ? { L: ising.L, T: ising.T, mc: ising.mc, kaufmanE: ising.kaufmanE, exactAbsM: ising.exactAbsM ?? null, rbm: this.rbmObservables(), rbmExact: this.exactObs, measured: this.measured } : null,
        imported: this.importedFrom,
        trainSeconds: this.trainSeconds,
        trainUpdates: this.trainUpdates,
      },
      transfer: [filters.buffer, samples.buffer, ...(chains ? [chains.buffer] : []), ...Object.values(history).map((a) => a.buffer)],
    };
  }

  async action(name: string, args: Record<string, unknown> | undefined): Promise<{ files?: LabFile[]; value?: unknown }> {
    if (name === 'checkpoint') {
      // Fresh metrics of exactly the exported parameters (the panel then shows what `rbm eval` will find).
      if (this.lastEval !== this.trainer.step) this.evaluate();
      return { files: this.runFiles(), value: this.latest };
    }
    if (name === 'data') {
      if (!this.data.file) throw new UsageError(`rbm panel: ${this.data.title} needs no data file (the CLI reads --data ${this.data.spec} itself)`);
      return { files: [this.data.file] };
    }
    if (name === 'measure') return { value: this.measure(Math.round(Number(args?.burnIn ?? 200)), Math.round(Number(args?.sweeps ?? 500))) };
    if (name === 'metrics') return { value: { latest: this.latest, step: this.trainer.step, trainSeconds: this.trainSeconds, trainUpdates: this.trainUpdates } };
    throw new UsageError(`rbm panel: unknown action '${name}'`);
  }

  /** The files `genphys rbm train` leaves in its run directory: config.json and the checkpoint pair. */
  private runFiles(): LabFile[] {
    const m = this.model;
    const t = this.trainer;
    const nv = m.nVisible;
    const train = this.data.train;
    const enc = encodeCheckpoint(
      rbmCheckpointInput(m, {
        trainer: t,
        // The CLI's fingerprint: SHA-256 of the training rows' float32 bytes.
        dataset: { name: this.data.spec, split: 'train', n: train.length / nv, sha256: sha256Hex(new Uint8Array(train.buffer, train.byteOffset, train.byteLength)) },
        // JSON has no NaN: metrics that do not apply are left out.
        extra: { lab: { panel: 'rbm', data: this.data.title, metrics: Object.fromEntries(Object.entries(this.latest ?? {}).filter(([, v]) => Number.isFinite(v))) } },
      }),
    );
    const config = {
      command: 'rbm train',
      seed: num(this.settings, 'seed', 1, 0, 2 ** 53),
      data: { spec: this.data.spec, binarize: 'static', ...(this.data.limit ? { limit: this.data.limit } : {}) },
      image: this.data.image,
      model: { kind: m.kind, ...m.config },
      train: t.options,
      epochs: this.plannedEpochs,
      kernels: `lab: ${this.backend}`,
    };
    return [
      { name: enc.jsonName, bytes: enc.jsonText, type: 'application/json' },
      { name: enc.weightsFile, bytes: enc.weights, type: 'application/octet-stream' },
      { name: 'config.json', bytes: JSON.stringify(config, null, 2) + '\n', type: 'application/json' },
    ];
  }
}

/** Mean over chains of each chain's time average, with the standard error over the (independent) chains. */
function chainMeans(obs: readonly Float64Array[]): { value: number; error: number } {
  const c = new Float64Array(SAMPLE_CHAINS);
  for (const o of obs) for (let i = 0; i < SAMPLE_CHAINS; i++) c[i]! += o[i]! / obs.length;
  return meanError(c);
}

/** The wasm kernels, starting tfjs's wasm backend (with genphys's kernel fixes) in this worker. */
async function startWasmKernels(): Promise<ReturnType<typeof wasmKernels>> {
  await initTfBackend('wasm');
  return wasmKernels();
}

/** Build the RBM engine: the data, then a fresh model or the imported checkpoint's. */
export const create: EngineFactory = async (settings, files) => {
  // The kernels first: the imported or new model takes them when it is built.
  useKernels(choice(settings, 'kernels', ['wasm', 'typescript'] as const, 'wasm') === 'wasm' ? await startWasmKernels() : jsKernels);
  const seed = num(settings, 'seed', 1, 0, 2 ** 53);
  const imported = importedCheckpoint(files);
  const data = await loadData(settings, seed, files);
  return new RbmEngine(settings, data, imported, imported ? `${imported.from} (step ${imported.step}, epoch ${imported.epoch})` : null);
};
