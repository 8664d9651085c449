/**
 * Statistics of Markov-chain time series: integrated autocorrelation time with
 * Sokal's automatic window, binning (blocking) error bars, the jackknife over
 * blocks for nonlinear observables (C, χ, Binder U), and a chi-square tail
 * probability for goodness-of-fit tests.
 */

/** A value with its one-standard-error uncertainty. */
export interface Estimate {
  /** Point estimate. */
  readonly value: number;
  /** One standard error. */
  readonly error: number;
}

/** Integrated autocorrelation time of a series. */
export interface AutocorrelationTime {
  /** τ_int = ½ + Σ_{t=1}^{W} ρ(t), in units of the series' spacing (sweeps). */
  readonly tau: number;
  /** Its statistical error, τ·√(2(2W+1)/n) (Madras & Sokal 1988). */
  readonly error: number;
  /** The window W chosen. */
  readonly window: number;
}

/** In-place iterative radix-2 complex FFT (length a power of two). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr; im[b] = im[a]! - xi;
        re[a]! += xr; im[a]! += xi;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/**
 * Autocovariance Γ(t), t = 0 … maxLag, of several independent chains of the same
 * process, each centred on the grand mean and averaged with weights n − t (FFT, O(n log n)).
 */
export function autocovariance(chains: readonly Float64Array[], maxLag: number): Float64Array {
  let total = 0, sum = 0;
  for (const c of chains) {
    total += c.length;
    for (let i = 0; i < c.length; i++) sum += c[i]!;
  }
  const mean = sum / Math.max(total, 1);
  const acc = new Float64Array(maxLag + 1);
  const cnt = new Float64Array(maxLag + 1);
  for (const c of chains) {
    const n = c.length;
    if (n === 0) continue;
    let size = 1;
    while (size < 2 * n) size <<= 1;
    const re = new Float64Array(size), im = new Float64Array(size);
    for (let i = 0; i < n; i++) re[i] = c[i]! - mean;
    fft(re, im);
    for (let i = 0; i < size; i++) {
      re[i] = re[i]! * re[i]! + im[i]! * im[i]!;
      im[i] = 0;
    }
    fft(re, im); // inverse up to conjugation and 1/size (the power spectrum is real and even)
    for (let t = 0; t <= Math.min(maxLag, n - 1); t++) {
      acc[t]! += re[t]! / size;
      cnt[t]! += n - t;
    }
  }
  for (let t = 0; t <= maxLag; t++) acc[t] = cnt[t]! > 0 ? acc[t]! / cnt[t]! : 0;
  return acc;
}

/**
 * Integrated autocorrelation time with Sokal's automatic windowing: the smallest
 * W with W ≥ c·τ_int(W) (A. Sokal, "Monte Carlo methods in statistical mechanics",
 * Cargèse lectures 1996, §3; c = 5 by default). Chains are independent runs.
 */
export function integratedAutocorrelationTime(chains: readonly Float64Array[], c = 5): AutocorrelationTime {
  const minLen = Math.min(...chains.map((x) => x.length));
  const total = chains.reduce((s, x) => s + x.length, 0);
  if (!(minLen >= 2)) return { tau: 0.5, error: 0, window: 0 };
  const maxLag = Math.max(1, Math.floor(minLen / 2));
  const gamma = autocovariance(chains, maxLag);
  const g0 = gamma[0]!;
  if (!(g0 > 0)) return { tau: 0.5, error: 0, window: 0 };
  let tau = 0.5;
  let W = 0;
  for (let t = 1; t <= maxLag; t++) {
    tau += gamma[t]! / g0;
    W = t;
    if (t >= c * tau) break;
  }
  tau = Math.max(tau, 0.5);
  return { tau, error: tau * Math.sqrt((2 * (2 * W + 1)) / total), window: W };
}

/**
 * Standard error of the mean from blocks of `blockLen` consecutive values within
 * each chain (blocks never straddle chains; leftover values at a chain's end are dropped).
 */
export function blockingError(chains: readonly Float64Array[], blockLen: number): Estimate & { blocks: number } {
  const means: number[] = [];
  for (const c of chains) {
    const nb = Math.floor(c.length / blockLen);
    for (let b = 0; b < nb; b++) {
      let s = 0;
      for (let i = b * blockLen; i < (b + 1) * blockLen; i++) s += c[i]!;
      means.push(s / blockLen);
    }
  }
  const nb = means.length;
  const mean = means.reduce((a, b) => a + b, 0) / Math.max(nb, 1);
  const v = means.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(nb - 1, 1);
  return { value: mean, error: Math.sqrt(v / Math.max(nb, 1)), blocks: nb };
}

/**
 * Binning analysis: the blocked standard error for block lengths 1, 2, 4, … while
 * at least `minBlocks` blocks remain. A plateau means the error is converged; its
 * ratio to the naive error squared is ≈ 2τ_int.
 */
export function binningCurve(chains: readonly Float64Array[], minBlocks = 32): { blockLen: number; error: number }[] {
  const out: { blockLen: number; error: number }[] = [];
  for (let b = 1; ; b *= 2) {
    const r = blockingError(chains, b);
    if (r.blocks < minBlocks) break;
    out.push({ blockLen: b, error: r.error });
  }
  return out;
}

/**
 * Delete-one jackknife over blocks: `blockSums[k]` holds the block-k sums of the
 * raw moments and `counts[k]` its number of measurements; `f` maps pooled moment
 * means to the observable. Returns the full-sample estimate and the jackknife error
 * (Efron 1982; for Monte Carlo blocks see Berg, "Markov Chain Monte Carlo
 * Simulations and Their Statistical Analysis", 2004, §2.7).
 */
export function jackknife(blockSums: readonly Float64Array[], counts: readonly number[], f: (means: Float64Array) => number): Estimate {
  const nb = blockSums.length;
  const dim = nb > 0 ? blockSums[0]!.length : 0;
  const tot = new Float64Array(dim);
  let n = 0;
  for (let k = 0; k < nb; k++) {
    for (let d = 0; d < dim; d++) tot[d]! += blockSums[k]![d]!;
    n += counts[k]!;
  }
  const full = f(tot.map((x) => x / n));
  if (nb < 2) return { value: full, error: NaN };
  const loo = new Float64Array(nb);
  const tmp = new Float64Array(dim);
  for (let k = 0; k < nb; k++) {
    const nk = n - counts[k]!;
    for (let d = 0; d < dim; d++) tmp[d] = (tot[d]! - blockSums[k]![d]!) / nk;
    loo[k] = f(tmp);
  }
  const mean = loo.reduce((a, b) => a + b, 0) / nb;
  const v = loo.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { value: full, error: Math.sqrt(((nb - 1) / nb) * v) };
}

/** Thermodynamic observables per site with errors, from a set of chains. */
export interface ThermoEstimates {
  /** Temperature. */
  readonly T: number;
  /** ⟨e⟩, energy per site. */
  readonly energy: Estimate;
  /** ⟨|m|⟩, absolute magnetisation per site. */
  readonly absMagnetisation: Estimate;
  /** C = β²N(⟨e²⟩ − ⟨e⟩²), specific heat per site (jackknife error). */
  readonly specificHeat: Estimate;
  /** χ = βN(⟨m²⟩ − ⟨|m|⟩²), susceptibility per site, |m| convention (jackknife error). */
  readonly susceptibility: Estimate;
  /** Binder cumulant U = 1 − ⟨m⁴⟩/(3⟨m²⟩²) (jackknife error). */
  readonly binder: Estimate;
  /** Integrated autocorrelation time of e, in measurement intervals. */
  readonly tauEnergy: AutocorrelationTime;
  /** Integrated autocorrelation time of |m|, in measurement intervals. */
  readonly tauAbsMagnetisation: AutocorrelationTime;
  /** Number of measurements used. */
  readonly measurements: number;
  /** Block length used for the error bars, and the number of blocks. */
  readonly blockLen: number;
  /** Number of blocks. */
  readonly blocks: number;
}

/**
 * Estimate e, |m|, C, χ and U with error bars from per-measurement series of the
 * energy per site `e` and signed magnetisation per site `m` of independent chains.
 * Blocks are ⌈10·max(τ_e, τ_|m|)⌉ measurements long, so that block means are nearly
 * independent, but never so long that fewer than `minBlocks` blocks remain.
 */
export function thermoEstimates(T: number, N: number, e: readonly Float64Array[], m: readonly Float64Array[], minBlocks = 20): ThermoEstimates {
  const absM = m.map((x) => x.map(Math.abs));
  const tauE = integratedAutocorrelationTime(e);
  const tauM = integratedAutocorrelationTime(absM);
  const total = e.reduce((s, x) => s + x.length, 0);
  const minLen = Math.min(...e.map((x) => x.length));
  const want = Math.max(1, Math.ceil(10 * Math.max(tauE.tau, tauM.tau)));
  // Cap so that there are at least minBlocks blocks overall.
  const cap = Math.max(1, Math.floor(total / minBlocks));
  const blockLen = Math.max(1, Math.min(want, cap, minLen));
  const sums: Float64Array[] = [];
  const counts: number[] = [];
  for (let c = 0; c < e.length; c++) {
    const ec = e[c]!, mc = m[c]!;
    const nb = Math.floor(ec.length / blockLen);
    for (let b = 0; b < nb; b++) {
      const s = new Float64Array(5);
      for (let i = b * blockLen; i < (b + 1) * blockLen; i++) {
        const ei = ec[i]!, mi = mc[i]!, a = Math.abs(mi), m2 = mi * mi;
        s[0]! += ei; s[1]! += ei * ei; s[2]! += a; s[3]! += m2; s[4]! += m2 * m2;
      }
      sums.push(s);
      counts.push(blockLen);
    }
  }
  const beta = 1 / T;
  const mean = (k: number) => jackknife(sums, counts, (x) => x[k]!);
  return {
    T,
    energy: mean(0),
    absMagnetisation: mean(2),
    specificHeat: jackknife(sums, counts, (x) => beta * beta * N * (x[1]! - x[0]! * x[0]!)),
    susceptibility: jackknife(sums, counts, (x) => beta * N * (x[3]! - x[2]! * x[2]!)),
    binder: jackknife(sums, counts, (x) => 1 - x[4]! / (3 * x[3]! * x[3]!)),
    tauEnergy: tauE,
    tauAbsMagnetisation: tauM,
    measurements: counts.reduce((a, b) => a + b, 0),
    blockLen,
    blocks: sums.length,
  };
}

export { chiSquareTest, gammaQ, logGamma, type ChiSquareResult } from '../core/stats.js';
