/**
 * Training and held-out data of the lab's VAE panel: Ising configurations simulated in
 * the worker (genphys's Wolff sampler, no download), or a Fashion-MNIST / MNIST subset
 * from the `genphys lab` server. Pixels and spins become values in [0, 1] as the CLI's
 * `src/vae/data.ts` maps them (that module reads files, so the browser cannot import it).
 */
import { Rng } from '../../src/core/rng.js';
import { UsageError } from '../../src/core/errors.js';
import { isingModel } from '../../src/physics/lattice.js';
import { IsingChain } from '../../src/physics/samplers.js';
import type { VaeData } from '../../src/vae/train.js';
import { fetchImages } from './datasets.js';
import { FASHION_CLASSES, MNIST_CLASSES, isingTemperatures } from './vae-stats.js';

/** One split as the panel uses it: VAE data with labels, plus what the plots need. */
export interface LabVaeData extends VaeData {
  readonly labels: Uint8Array;
  /** Image shape [rows, cols, channels]. */
  readonly shape: readonly [number, number, number];
  /** Temperature per example (Ising only). */
  readonly T?: Float64Array;
  /** Magnetisation per site per example (Ising only). */
  readonly m?: Float64Array;
}

/** Both splits and their names. */
export interface LabVaeDataset {
  /** `fashion-mnist/train`, `ising-L16`: the name checkpoints record. */
  readonly name: string;
  readonly kind: 'ising' | 'images';
  readonly train: LabVaeData;
  readonly heldOut: LabVaeData;
  /** Name of each label value (class names, or 'T = 2.27'). */
  readonly labelNames: readonly string[];
  /** Temperatures in label order (Ising only). */
  readonly temperatures?: readonly number[];
}

/** Settings of the simulated Ising data. */
export interface IsingDataSpec {
  readonly L: number;
  readonly temperatures: readonly number[];
  /** Training configurations per temperature. */
  readonly perTemp: number;
  /** Held-out configurations per temperature (from an independent chain). */
  readonly heldOutPerTemp: number;
}

/** Wolff burn-in and spacing, as `genphys vae ising-probe` simulates (200 sweeps, every 5th). */
const BURN_IN = 200;
const SAMPLE_EVERY = 5;

function randomSpins(N: number, rng: Rng): Int8Array {
  const s = new Int8Array(N);
  for (let i = 0; i < N; i++) s[i] = rng.uniform() < 0.5 ? -1 : 1;
  return s;
}

/** `count` configurations per temperature from one Wolff chain each (hot start, burn-in, thinned). */
function simulate(spec: IsingDataSpec, count: number, rng: Rng): LabVaeData {
  const model = isingModel({ L: spec.L });
  const N = model.N;
  const n = count * spec.temperatures.length;
  const x = new Float32Array(n * N);
  const labels = new Uint8Array(n);
  const T = new Float64Array(n);
  const m = new Float64Array(n);
  spec.temperatures.forEach((t, ti) => {
    const chainRng = rng.split(ti);
    const chain = new IsingChain(model, 'wolff', t, randomSpins(N, chainRng));
    chain.sweep(chainRng, BURN_IN);
    for (let i = 0; i < count; i++) {
      chain.sweep(chainRng, SAMPLE_EVERY);
      const e = ti * count + i;
      const s = chain.spins;
      // Spin +1 ↦ 1, −1 ↦ 0 (src/vae/data.ts spinsToUnit).
      for (let j = 0; j < N; j++) x[e * N + j] = s[j]! > 0 ? 1 : 0;
      labels[e] = ti;
      T[e] = t;
      m[e] = chain.magnetisation / N;
    }
  });
  return { n, dim: N, x, labels, shape: [spec.L, spec.L, 1], T, m };
}

/** Ising configurations at each temperature: training and held-out sets from independent chains. */
export function isingDataset(spec: IsingDataSpec, seed: number): LabVaeDataset {
  if (spec.temperatures.length > 255) throw new UsageError(`nTemps: at most 255 temperatures, got ${spec.temperatures.length}`);
  const rng = new Rng(seed).split(0x15);
  return {
    name: `ising-L${spec.L}`,
    kind: 'ising',
    train: simulate(spec, spec.perTemp, rng.split(1)),
    heldOut: simulate(spec, spec.heldOutPerTemp, rng.split(2)),
    labelNames: spec.temperatures.map((t) => `T = ${t.toFixed(2)}`),
    temperatures: spec.temperatures,
  };
}

/** The Ising data a panel's settings ask for (temperatures as `--temps tMin:tMax:nTemps`). */
export function isingSpec(L: number, tMin: number, tMax: number, nTemps: number, perTemp: number): IsingDataSpec {
  if (!(tMin > 0 && tMax >= tMin)) throw new UsageError(`tMin, tMax: need 0 < tMin ≤ tMax, got ${tMin}, ${tMax}`);
  return { L, temperatures: isingTemperatures(tMin, tMax, nTemps), perTemp, heldOutPerTemp: Math.max(16, Math.round(perTemp / 4)) };
}

function toUnit(pixels: Uint8Array, labels: Uint8Array, rows: number, cols: number): LabVaeData {
  const x = new Float32Array(pixels.length);
  // Bytes 0…255 ↦ [0, 1] (src/data/binarize.ts toUnitFloat).
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i]! / 255;
  return { n: labels.length, dim: rows * cols, x, labels, shape: [rows, cols, 1] };
}

/** The first `n` training and `nHeld` test images of Fashion-MNIST or MNIST from the lab server. */
export async function imageDataset(name: 'fashion-mnist' | 'mnist', n: number, nHeld: number): Promise<LabVaeDataset> {
  const [tr, te] = await Promise.all([fetchImages(name, 'train', n), fetchImages(name, 'test', nHeld)]);
  return {
    name: `${name}/train`,
    kind: 'images',
    train: toUnit(tr.pixels, tr.labels, tr.rows, tr.cols),
    heldOut: toUnit(te.pixels, te.labels, te.rows, te.cols),
    labelNames: name === 'mnist' ? MNIST_CLASSES : FASHION_CLASSES,
  };
}
