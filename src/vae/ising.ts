/**
 * The Ising probe (Wetzel, "Unsupervised learning of phase transitions: from
 * principal component analysis to variational autoencoders", PRE 96, 022140
 * (2017)): a VAE with a 2D latent space trained on configurations from many
 * temperatures learns a latent coordinate that tracks the magnetisation
 * m = (1/N) Σ s_i, and the latent cloud separates the ordered from the disordered
 * phase.
 */
import type { IsingDataset } from '../physics/dataset.js';
import type { VaeDataset } from './data.js';
import { spinsToUnit } from './data.js';

/** Ising configurations as VAE data: spins ±1 → {0, 1}, label = temperature index, plus T and m per example. */
export interface IsingVaeData extends VaeDataset {
  /** Temperature of each example. */
  readonly T: Float64Array;
  /** Magnetisation per site m = (1/N) Σ s_i of each example (signed). */
  readonly m: Float64Array;
  /** Distinct temperatures, in label order. */
  readonly temperatures: readonly number[];
}

/** Flatten an Ising data set (every temperature) into VAE data. */
export function isingVaeData(ds: IsingDataset): IsingVaeData {
  const N = ds.N;
  const n = ds.temperatures.reduce((s, t) => s + t.n, 0);
  const spins = new Int8Array(n * N);
  const labels = new Uint16Array(n);
  const T = new Float64Array(n);
  const m = new Float64Array(n);
  let off = 0;
  ds.temperatures.forEach((t, ti) => {
    spins.set(t.spins, off * N);
    for (let i = 0; i < t.n; i++) {
      labels[off + i] = ti;
      T[off + i] = t.T;
      let s = 0;
      for (let j = 0; j < N; j++) s += t.spins[i * N + j]!;
      m[off + i] = s / N;
    }
    off += t.n;
  });
  const L = ds.manifest.L;
  const square = ds.manifest.geometry === 'square';
  return {
    name: `ising-L${L}`,
    n,
    dim: N,
    x: spinsToUnit(spins),
    labels,
    shape: square ? [L, L, 1] : [1, L, 1],
    T,
    m,
    temperatures: ds.temperatures.map((t) => t.T),
  };
}

/** Pearson correlation coefficient of two equally long series. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/**
 * |corr(μ_j, m)| for each latent coordinate j of the posterior means `mu`
 * (`[n, k]` row-major) against the magnetisation `m`.
 */
export function latentMagnetisationCorrelation(mu: Float32Array, k: number, m: ArrayLike<number>): number[] {
  const n = m.length;
  return Array.from({ length: k }, (_, j) => {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = mu[i * k + j]!;
    return Math.abs(pearson(col, m));
  });
}
