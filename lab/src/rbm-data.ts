/**
 * Training data of the lab's RBM panel, built in the worker: Ising configurations sampled
 * by genphys's own Markov chains (as 0/1 visibles), bars-and-stripes, or a binarised
 * MNIST / Fashion-MNIST subset from the lab server. Each comes with the `--data` spec
 * that makes `genphys rbm train` train on the same rows, and Ising data with its Monte
 * Carlo observables and the exact references at the same L and T.
 */
import { UsageError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { binarizeStatic, toUnitFloat } from '../../src/data/binarize.js';
import { barsAndStripesOptimalLogLikelihood, barsAndStripesPatterns } from '../../src/ebm/bars-and-stripes.js';
import { exactSquare, kaufmanSquare } from '../../src/physics/exact.js';
import { bondSum, isingModel, magnetisation, randomSpins, type IsingModel } from '../../src/physics/lattice.js';
import { IsingChain, type IsingAlgorithm } from '../../src/physics/samplers.js';
import { formatSpinText, spinConfigurationsFromBytes } from '../../src/data/spin-text.js';
import { fetchImages } from './datasets.js';
import type { LabFile } from './protocol.js';

/** A mean and its standard error. */
export interface Est {
  readonly value: number;
  readonly error: number;
}

/** What the panel knows about Ising training data. */
export interface IsingDataInfo {
  readonly L: number;
  readonly T: number;
  readonly algo: IsingAlgorithm;
  readonly burnIn: number;
  readonly spacing: number;
  /** e and |m| per site of the Monte Carlo training configurations. */
  readonly mc: { readonly e: Est; readonly absM: Est };
  /** Kaufman's exact finite-lattice energy per site at (L, T) (Kaufman, Phys. Rev. 76, 1232 (1949)). */
  readonly kaufmanE: number;
  /** ⟨|m|⟩ by full enumeration, for L ≤ 4. */
  readonly exactAbsM?: number;
}

/** The rows an RBM trains on. */
export interface RbmData {
  /** What the panel calls it, e.g. 'bars-and-stripes 3×3'. */
  readonly title: string;
  /** The `genphys rbm train --data` spec that gives the same training rows. */
  readonly spec: string;
  /** `--limit` of the same run (image subsets). */
  readonly limit?: number;
  /** Training rows, 0/1 values, rows × nVisible. */
  readonly train: Float32Array;
  /** Held-out rows (the free-energy gap), or null. */
  readonly test: Float32Array | null;
  readonly nVisible: number;
  readonly image: { readonly height: number; readonly width: number };
  /** Best achievable mean log-likelihood, where known (bars-and-stripes). */
  readonly optimum?: number;
  readonly ising?: IsingDataInfo;
  /** The training rows as a file the CLI reads (`spins:FILE`), for data the CLI cannot make itself. */
  readonly file?: LabFile;
}

/** Per-row energy and |m| per site of 0/1 (or ±1) rows on the periodic L×L lattice (J = 1, h = 0). */
export function isingRowObservables(rows: Float32Array, model: IsingModel, first = 0, count = rows.length / model.N - first): { e: Float64Array; absM: Float64Array } {
  const N = model.N;
  const s = new Int8Array(N);
  const e = new Float64Array(count);
  const absM = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    const off = (first + r) * N;
    // 0 → −1 and 1 → +1; ±1 rows pass through (v > 0 is up in both conventions).
    for (let i = 0; i < N; i++) s[i] = rows[off + i]! > 0.5 ? 1 : -1;
    e[r] = -bondSum(model, s) / N;
    absM[r] = Math.abs(magnetisation(model, s)) / N;
  }
  return { e, absM };
}

/** Mean and naive standard error (independent rows). */
export function meanError(x: ArrayLike<number>): Est {
  const n = x.length;
  if (n === 0) return { value: NaN, error: NaN };
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i]!;
  const m = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - m) ** 2;
  return { value: m, error: n > 1 ? Math.sqrt(v / (n - 1) / n) : NaN };
}

/** The name of the spin file the lab writes for Ising data at (L, T) (the CLI's `--data spins:NAME`). */
export function isingFileName(L: number, T: number): string {
  return `ising-L${L}-T${T.toFixed(4)}.txt`;
}

/** Options of {@link isingData}. */
export interface IsingDataOptions {
  readonly L: number;
  readonly T: number;
  readonly algo: IsingAlgorithm;
  /** Training configurations. */
  readonly n: number;
  /** Held-out configurations drawn after them. */
  readonly nTest: number;
  readonly burnIn: number;
  /** Sweeps between kept configurations. */
  readonly spacing: number;
}

/**
 * Ising configurations from one chain: `burnIn` sweeps from a hot start, then one
 * configuration every `spacing` sweeps (n for training, then nTest held out), as 0/1.
 */
export function isingData(o: IsingDataOptions, rng: Rng): RbmData {
  if (!(Number.isInteger(o.L) && o.L >= 3 && o.L <= 8)) throw new UsageError(`rbm panel, L: the Ising lattice must be 3 … 8 (nVisible = L² ≤ 64), got ${o.L}`);
  const model = isingModel({ L: o.L });
  const N = model.N;
  const chain = new IsingChain(model, o.algo, o.T, randomSpins(model, rng));
  chain.sweep(rng, o.burnIn);
  const total = o.n + o.nTest;
  const rows = new Float32Array(total * N);
  for (let r = 0; r < total; r++) {
    chain.sweep(rng, o.spacing);
    for (let i = 0; i < N; i++) rows[r * N + i] = chain.spins[i]! > 0 ? 1 : 0;
  }
  const train = rows.slice(0, o.n * N);
  const test = o.nTest > 0 ? rows.slice(o.n * N) : null;
  const obs = isingRowObservables(train, model);
  const Ttag = o.T.toFixed(4);
  const name = isingFileName(o.L, o.T);
  const lines = [`# genphys lab: ${o.n} Ising configurations, L = ${o.L}, T = ${Ttag}, ${o.algo}, burn-in ${o.burnIn}, every ${o.spacing} sweeps; 0 = down, 1 = up`];
  for (let r = 0; r < o.n; r++) lines.push(Array.from(train.subarray(r * N, (r + 1) * N)).join(' '));
  return {
    title: `Ising L = ${o.L}, T = ${o.T}`,
    spec: `spins:${name}`,
    train,
    test,
    nVisible: N,
    image: { height: o.L, width: o.L },
    ising: {
      L: o.L,
      T: o.T,
      algo: o.algo,
      burnIn: o.burnIn,
      spacing: o.spacing,
      mc: { e: meanError(obs.e), absM: meanError(obs.absM) },
      kaufmanE: kaufmanSquare(o.L, o.T).energy,
      ...(o.L <= 4 ? { exactAbsM: exactSquare(o.L, o.T).absMagnetisation! } : {}),
    },
    file: { name, bytes: lines.join('\n') + '\n', type: 'text/plain' },
  };
}

/** The name of the spin file an upload is re-exported as (what the settings JSON names). */
export const UPLOAD_FILE = 'uploaded-spins.txt';

/**
 * Spin configurations the user uploaded: a spin text file (0/1 or ±1, one configuration per
 * line) or a `.npy` of shape [n, …], read with the library's own parser (the CLI's
 * `--data spins:FILE`), as 0/1 visibles; an L×L image when the size is a square. Like the
 * CLI, nothing is held out. The rows are offered back as {@link UPLOAD_FILE}.
 */
export function uploadedData(file: LabFile): RbmData {
  const bytes = typeof file.bytes === 'string' ? new TextEncoder().encode(file.bytes) : file.bytes;
  const c = spinConfigurationsFromBytes(bytes, file.name);
  const train = Float32Array.from(c.spins, (v) => (v > 0 ? 1 : 0));
  const L = Math.round(Math.sqrt(c.dim));
  const image = L * L === c.dim ? { height: L, width: L } : { height: 1, width: c.dim };
  const text = formatSpinText(train, c.dim, { convention: '01', header: `genphys lab: ${c.n} configurations uploaded as ${file.name}` });
  return {
    title: `${file.name}: ${c.n} configurations of ${c.dim} spins`,
    spec: `spins:${UPLOAD_FILE}`,
    train,
    test: null,
    nVisible: c.dim,
    image,
    file: { name: UPLOAD_FILE, bytes: text, type: 'text/plain' },
  };
}

/** The 2^(n+1) − 2 distinct bars-and-stripes patterns, held out as themselves (as the CLI does). */
export function barsAndStripesData(n: number): RbmData {
  if (!(Number.isInteger(n) && n >= 2 && n <= 6)) throw new UsageError(`rbm panel, bars-and-stripes size: must be 2 … 6, got ${n}`);
  const pats = barsAndStripesPatterns(n);
  return { title: `bars-and-stripes ${n}×${n}`, spec: `bars-and-stripes:${n}`, train: pats, test: pats, nVisible: n * n, image: { height: n, width: n }, optimum: barsAndStripesOptimalLogLikelihood(n) };
}

/** The first `n` training images (and `nTest` test images) of a server data set, binarised at ½ (`--binarize static`). */
export async function imageData(name: 'fashion-mnist' | 'mnist', n: number, nTest: number): Promise<RbmData> {
  const tr = await fetchImages(name, 'train', n);
  const te = await fetchImages(name, 'test', nTest);
  const nv = tr.rows * tr.cols;
  return {
    title: `${name}, ${tr.n} training images`,
    spec: name,
    limit: tr.n,
    train: binarizeStatic(toUnitFloat(tr.pixels)),
    test: binarizeStatic(toUnitFloat(te.pixels)),
    nVisible: nv,
    image: { height: tr.rows, width: tr.cols },
  };
}
