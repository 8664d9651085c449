/**
 * Exact references for the Ising model:
 * - full enumeration of every configuration for N ≤ 25 spins (density of states
 *   g(bondSum, M), then any β and h),
 * - Kaufman's partition function of the finite m×n periodic square lattice with its
 *   first two β-derivatives in closed form (energy and specific heat),
 * - Onsager's critical temperature, spontaneous magnetisation, and the
 *   infinite-lattice energy and specific heat.
 */
import { UsageError } from '../core/errors.js';
import { isingModel, type IsingModel } from './lattice.js';

/** Exact thermodynamics of one model at one temperature (all per site except logZ). */
export interface ExactThermo {
  /** Temperature T (k_B = 1). */
  readonly T: number;
  /** ln Z. */
  readonly logZ: number;
  /** Mean energy per site ⟨E⟩/N. */
  readonly energy: number;
  /** Specific heat per site C = β²(⟨E²⟩ − ⟨E⟩²)/N. */
  readonly specificHeat: number;
  /** ⟨|M|⟩/N (enumeration only). */
  readonly absMagnetisation?: number;
  /** ⟨M²⟩/N² (enumeration only). */
  readonly m2?: number;
  /** ⟨M⁴⟩/N⁴ (enumeration only). */
  readonly m4?: number;
  /** χ = βN(⟨m²⟩ − ⟨|m|⟩²) (enumeration only; the finite-size "|m|" convention). */
  readonly susceptibility?: number;
  /** Binder cumulant U = 1 − ⟨m⁴⟩/(3⟨m²⟩²) (enumeration only). */
  readonly binder?: number;
}

// ---------------------------------------------------------------- Onsager

/** Onsager's critical temperature T_c = 2J / ln(1 + √2) ≈ 2.269185 (Onsager, Phys. Rev. 65, 117 (1944)). */
export function onsagerTc(J = 1): number {
  return (2 * J) / Math.log(1 + Math.SQRT2);
}

/** The error for a temperature so small that ln Z (≈ N·2J/T) exceeds the largest double. */
function lnZOverflow(T: number): UsageError {
  return new UsageError(`temperature ${T} is too small: ln Z overflows double precision`);
}

/** Throws the one-line {@link UsageError} for a temperature that is not finite and > 0. */
function checkTemperature(T: number): void {
  if (!(T > 0) || !Number.isFinite(T)) throw new UsageError(`temperature must be > 0 and finite, got ${T}`);
}

/**
 * Spontaneous magnetisation per site of the infinite square lattice,
 * (1 − sinh⁻⁴(2J/T))^{1/8} below T_c and 0 above (Yang, Phys. Rev. 85, 808 (1952)).
 */
export function onsagerMagnetisation(T: number, J = 1): number {
  checkTemperature(T);
  const x = 1 - Math.pow(Math.sinh((2 * J) / T), -4);
  return x > 0 ? Math.pow(x, 1 / 8) : 0;
}

/** Complete elliptic integrals K(k) and E(k) (modulus k) by the arithmetic–geometric mean. */
export function ellipticKE(k: number): { K: number; E: number } {
  let a = 1;
  let b = Math.sqrt(Math.max(0, 1 - k * k));
  let c = k;
  let sum = 0.5 * c * c;
  let pow2 = 0.5;
  for (let i = 0; i < 60 && Math.abs(c) > 1e-17; i++) {
    const an = 0.5 * (a + b);
    const bn = Math.sqrt(a * b);
    c = 0.5 * (a - b);
    pow2 *= 2;
    sum += pow2 * c * c;
    a = an;
    b = bn;
  }
  const K = Math.PI / (2 * a);
  return { K, E: K * (1 - sum) };
}

/**
 * Energy per site of the infinite square lattice at h = 0:
 * u = −J coth 2K [1 + (2/π)(2 tanh² 2K − 1) K₁(κ)], κ = 2 sinh 2K / cosh² 2K
 * (Onsager 1944; as written in Huang, Statistical Mechanics, §15.3).
 */
export function onsagerEnergy(T: number, J = 1): number {
  checkTemperature(T);
  const K = J / T;
  const t = Math.tanh(2 * K);
  // 2 sinh/cosh² written as 2 tanh/cosh, which tends to 0 instead of ∞/∞ at large K.
  const kap = (2 * t) / Math.cosh(2 * K);
  const { K: K1 } = ellipticKE(Math.min(kap, 1 - 1e-16));
  return (-J / t) * (1 + (2 / Math.PI) * (2 * t * t - 1) * K1);
}

/**
 * Specific heat per site of the infinite square lattice at h = 0:
 * c = (4/π)(K coth 2K)² [K₁ − E₁ − (1 − tanh² 2K)(π/2 + (2 tanh² 2K − 1)K₁)]
 * (Onsager 1944; Huang, Statistical Mechanics, §15.3). Diverges logarithmically at T_c.
 */
export function onsagerSpecificHeat(T: number, J = 1): number {
  checkTemperature(T);
  const K = J / T;
  const t = Math.tanh(2 * K);
  const kap = (2 * t) / Math.cosh(2 * K);
  const { K: K1, E: E1 } = ellipticKE(Math.min(kap, 1 - 1e-16));
  const bracket = K1 - E1 - (1 - t * t) * (Math.PI / 2 + (2 * t * t - 1) * K1);
  // Deep in the ordered phase the bracket (≈ e^{−4K}) underflows to 0 while K² may overflow.
  return bracket === 0 ? 0 : (4 / Math.PI) * (K / t) ** 2 * bracket;
}

// ---------------------------------------------------------------- Kaufman

interface Factor {
  /** ln|f|, (ln|f|)', (ln|f|)'' with respect to K. */
  l: number;
  d1: number;
  d2: number;
  sign: number;
}

/** x = (m/2)γ with its K-derivatives. */
function gammaK(k: number, n: number, K: number): { g: number; g1: number; g2: number } {
  const s = Math.sinh(2 * K);
  const ch = Math.cosh(2 * K);
  if (k === 0) {
    // γ₀ = 2K + ln tanh K, signed: it changes sign at T_c.
    return { g: 2 * K + Math.log(Math.tanh(K)), g1: 2 + 2 / s, g2: (-4 * ch) / (s * s) };
  }
  // cosh γ_k = cosh 2K coth 2K − cos(πk/n) = 1 + d with d written without cancellation.
  const half = Math.sin((Math.PI * k) / (2 * n));
  const d = (s - 1) ** 2 / s + 2 * half * half;
  const g = Math.log1p(d + Math.sqrt(d * (d + 2)));
  const sinhG = Math.sqrt(d * (d + 2));
  const c1 = 2 * ch * (1 - 1 / (s * s));
  const c2 = 4 * s - 4 / s + (8 * ch * ch) / (s * s * s);
  const g1 = c1 / sinhG;
  const g2 = (c2 - (1 + d) * g1 * g1) / sinhG;
  return { g, g1, g2 };
}

function logCoshFactor(x: number, x1: number, x2: number): Factor {
  const ax = Math.abs(x);
  const th = Math.tanh(x);
  const sech2 = 1 - th * th;
  return { l: ax + Math.log1p(Math.exp(-2 * ax)), d1: th * x1, d2: sech2 * x1 * x1 + th * x2, sign: 1 };
}

function logSinhFactor(x: number, x1: number, x2: number): Factor {
  const ax = Math.abs(x);
  const coth = 1 / Math.tanh(x);
  const csch2 = coth * coth - 1;
  return { l: ax + Math.log(-Math.expm1(-2 * ax)), d1: coth * x1, d2: -csch2 * x1 * x1 + coth * x2, sign: Math.sign(x) };
}

/** Exact ln Z, d lnZ/dK and d² lnZ/dK² of the m×n periodic lattice (internal). */
function kaufmanDerivs(m: number, n: number, K: number): { logZ: number; d1: number; d2: number } {
  // Kaufman, Phys. Rev. 76, 1232 (1949), eq. (39):
  // Z = ½(2 sinh 2K)^{mn/2} [Π 2cosh(mγ_{2k+1}/2) + Π 2sinh(mγ_{2k+1}/2) + Π 2cosh(mγ_{2k}/2) + Π 2sinh(mγ_{2k}/2)],
  // products over k = 0 … n−1, cosh γ_k = cosh 2K coth 2K − cos(πk/n).
  const half = m / 2;
  // Each of the four terms: sign·exp(R)·ρ, where ρ is a raw (non-log) factor kept only for
  // the sinh(mγ₀/2) factor when it is near zero (at T_c), to stay smooth through its zero.
  const terms: { R: number; R1: number; R2: number; sign: number; rho: number; rho1: number; rho2: number }[] = [];
  for (let t = 0; t < 4; t++) {
    const odd = t < 2;
    const useSinh = t === 1 || t === 3;
    let R = 0, R1 = 0, R2 = 0, sign = 1, rho = 1, rho1 = 0, rho2 = 0;
    for (let k = 0; k < n; k++) {
      const idx = odd ? 2 * k + 1 : 2 * k;
      // γ_idx for idx ≥ 2n is γ_{idx} with cos(π idx / n) periodic in 2n: reduce the index.
      const r = idx % (2 * n);
      const { g, g1, g2 } = gammaK(r, n, K);
      const x = half * g, x1 = half * g1, x2 = half * g2;
      if (useSinh && r === 0 && Math.abs(x) < 1) {
        rho = 2 * Math.sinh(x);
        rho1 = 2 * Math.cosh(x) * x1;
        rho2 = 2 * Math.sinh(x) * x1 * x1 + 2 * Math.cosh(x) * x2;
        continue;
      }
      const f = useSinh ? logSinhFactor(x, x1, x2) : logCoshFactor(x, x1, x2);
      R += f.l;
      R1 += f.d1;
      R2 += f.d2;
      sign *= f.sign;
    }
    terms.push({ R, R1, R2, sign, rho, rho1, rho2 });
  }
  const M = Math.max(...terms.map((t) => t.R));
  let S = 0, S1 = 0, S2 = 0;
  for (const t of terms) {
    const w = t.sign * Math.exp(t.R - M);
    S += w * t.rho;
    S1 += w * (t.rho * t.R1 + t.rho1);
    S2 += w * (t.rho * (t.R2 + t.R1 * t.R1) + 2 * t.rho1 * t.R1 + t.rho2);
  }
  const N = m * n;
  const s2K = Math.sinh(2 * K);
  const c2K = Math.cosh(2 * K);
  const logZ = -Math.LN2 + (N / 2) * Math.log(2 * s2K) + M + Math.log(S);
  const d1 = N * (c2K / s2K) + S1 / S;
  const d2 = (-2 * N) / (s2K * s2K) + S2 / S - (S1 / S) ** 2;
  return { logZ, d1, d2 };
}

/**
 * Kaufman's exact thermodynamics of the m×n square lattice with periodic
 * boundaries at h = 0 and temperature T (coupling J > 0): ln Z, and energy and
 * specific heat per site from the analytic first and second K-derivatives of
 * ln Z (no finite differences; accurate to ~1e-12 relative away from T_c and
 * ~1e-10 at T_c for L ≤ 256). Works for any m, n ≥ 2 (odd sizes included). Far
 * below T_c, where the two ground states hold all the mass to double precision, it
 * returns that limit (ln Z = ln 2 + 2NJ/T, e = −2J, C = 0) instead of overflowing.
 * @throws UsageError for bad sizes, J ≤ 0, T not finite and > 0, or T so small that ln Z overflows
 */
export function kaufman(m: number, n: number, T: number, J = 1): ExactThermo {
  if (!(Number.isInteger(m) && Number.isInteger(n) && m >= 2 && n >= 2)) throw new UsageError(`Kaufman: lattice sizes must be integers ≥ 2, got ${m}×${n}`);
  checkTemperature(T);
  if (!(J > 0)) throw new UsageError(`Kaufman's formula here needs J > 0, got ${J}`);
  const K = J / T;
  const N = m * n;
  // Ground-state limit. A configuration is fixed up to a global flip by its set of broken bonds,
  // and any excitation of the torus breaks b ≥ 2 of the 2N bonds, each costing e^{−2K}; so
  // Z/(2e^{2NK}) − 1 ≤ (1 + x/2N)^{2N} − 1 − x ≤ x², x = 2N e^{−2K}. Once x² < 2⁻⁶⁰ the two
  // ordered states hold all the mass to double precision: ln Z = ln 2 + 2NK, e = −2J, and
  // C = 0 (the true C is below ~1e−15 there). The closed form overflows (sinh 2K) for K ≳ 355.
  const x = 2 * N * Math.exp(-2 * K);
  if (x * x < 2 ** -60) {
    if (!Number.isFinite(2 * N * K)) throw lnZOverflow(T);
    return { T, logZ: Math.LN2 + 2 * N * K, energy: -2 * J, specificHeat: 0 };
  }
  const { logZ, d1, d2 } = kaufmanDerivs(m, n, K);
  // K = βJ: ⟨E⟩ = −∂lnZ/∂β = −J·dlnZ/dK, C = β²∂²lnZ/∂β² = K²·d²lnZ/dK².
  return { T, logZ, energy: (-J * d1) / N, specificHeat: (K * K * d2) / N };
}

/** {@link kaufman} for the square L×L lattice. */
export function kaufmanSquare(L: number, T: number, J = 1): ExactThermo {
  return kaufman(L, L, T, J);
}

// ---------------------------------------------------------------- enumeration

/** Density of states of a small model: counts of (bondSum, M) over all 2^N configurations. */
export interface DensityOfStates {
  /** The model enumerated. */
  readonly model: IsingModel;
  /** Number of bonds B (bondSum ranges over −B … B). */
  readonly bonds: number;
  /** counts[(b + B)·(N+1) + (M + N)/2] = number of configurations with bondSum b and magnetisation M. */
  readonly counts: Float64Array;
}

/** The most spins {@link enumerate} accepts. */
export const MAX_ENUMERATION_SPINS = 25;

/**
 * Enumerate all 2^N configurations of a model with N ≤ 25 spins (Gray-code order:
 * one spin flip per step) and tabulate the density of states g(bondSum, M).
 */
export function enumerate(model: IsingModel): DensityOfStates {
  const { N, z, nbr } = model;
  if (N > MAX_ENUMERATION_SPINS) throw new UsageError(`enumeration needs N ≤ ${MAX_ENUMERATION_SPINS} spins, got ${N}`);
  const B = model.geometry === 'square' ? 2 * N : N;
  const counts = new Float64Array((2 * B + 1) * (N + 1));
  const s = new Int8Array(N).fill(-1);
  let b = B; // all spins equal
  let M = -N;
  counts[(b + B) * (N + 1) + (M + N) / 2]! += 1;
  const total = 2 ** N;
  for (let g = 1; g < total; g++) {
    // Gray code: flip the bit at the position of the lowest set bit of g.
    const i = 31 - Math.clz32(g & -g);
    let nsum = 0;
    for (let a = 0; a < z; a++) nsum += s[nbr[z * i + a]!]!;
    const si = s[i]!;
    b -= 2 * si * nsum;
    M -= 2 * si;
    s[i] = -si as -1 | 1;
    counts[(b + B) * (N + 1) + (M + N) / 2]! += 1;
  }
  return { model, bonds: B, counts };
}

/**
 * Exact thermodynamics at temperature T from a density of states (the model's J
 * and h apply). All moments of m = M/N are exact; χ uses the |m| convention
 * χ = βN(⟨m²⟩ − ⟨|m|⟩²), which stays finite on a finite lattice at h = 0.
 */
export function exactFromDos(dos: DensityOfStates, T: number): ExactThermo {
  checkTemperature(T);
  const { model, bonds: B, counts } = dos;
  const { N, J, h } = model;
  const beta = 1 / T;
  // log-weights, then log-sum-exp.
  let maxLw = -Infinity;
  for (let bi = 0; bi <= 2 * B; bi++) {
    for (let mi = 0; mi <= N; mi++) {
      if (counts[bi * (N + 1) + mi] === 0) continue;
      const E = -J * (bi - B) - h * (2 * mi - N);
      maxLw = Math.max(maxLw, -beta * E);
    }
  }
  if (!Number.isFinite(maxLw)) throw lnZOverflow(T);
  // Moments of βE are taken about its minimum (d = βE − min βE ≥ 0) and states whose weight
  // underflows are skipped, so C stays finite at tiny T, where β² alone overflows.
  let Z = 0, e1 = 0, d1 = 0, d2 = 0, am = 0, m2 = 0, m4 = 0;
  for (let bi = 0; bi <= 2 * B; bi++) {
    for (let mi = 0; mi <= N; mi++) {
      const c = counts[bi * (N + 1) + mi]!;
      if (c === 0) continue;
      const Mv = 2 * mi - N;
      const E = -J * (bi - B) - h * Mv;
      const d = beta * E + maxLw;
      const w = c * Math.exp(-d);
      if (w === 0) continue;
      const m = Mv / N;
      Z += w;
      e1 += w * E;
      d1 += w * d;
      d2 += w * d * d;
      am += w * Math.abs(m);
      m2 += w * m * m;
      m4 += w * m ** 4;
    }
  }
  e1 /= Z; d1 /= Z; d2 /= Z; am /= Z; m2 /= Z; m4 /= Z;
  return {
    T,
    logZ: Math.log(Z) + maxLw,
    energy: e1 / N,
    specificHeat: (d2 - d1 * d1) / N,
    absMagnetisation: am,
    m2,
    m4,
    susceptibility: beta * N * (m2 - am * am),
    binder: 1 - m4 / (3 * m2 * m2),
  };
}

/** Exact thermodynamics of the L×L periodic lattice by enumeration (L ≤ 5). */
export function exactSquare(L: number, T: number, J = 1, h = 0): ExactThermo {
  return exactFromDos(enumerate(isingModel({ L, J, h })), T);
}

/**
 * The exact Boltzmann log-probability of every configuration of a model with N ≤ 25
 * spins; configuration index c has spin i = +1 when bit i of c is set.
 */
export function exactLogProbabilities(model: IsingModel, T: number): Float64Array {
  checkTemperature(T);
  const { N, z, nbr, J, h } = model;
  if (N > MAX_ENUMERATION_SPINS) throw new UsageError(`enumeration needs N ≤ ${MAX_ENUMERATION_SPINS} spins, got ${N}`);
  const total = 2 ** N;
  const lp = new Float64Array(total);
  const beta = 1 / T;
  let maxLw = -Infinity;
  for (let c = 0; c < total; c++) {
    let b = 0, M = 0;
    for (let i = 0; i < N; i++) {
      const si = (c >>> i) & 1 ? 1 : -1;
      M += si;
      const right = nbr[z * i]!;
      b += si * ((c >>> right) & 1 ? 1 : -1);
      if (z === 4) {
        const down = nbr[z * i + 2]!;
        b += si * ((c >>> down) & 1 ? 1 : -1);
      }
    }
    const lw = -beta * (-J * b - h * M);
    lp[c] = lw;
    if (lw > maxLw) maxLw = lw;
  }
  if (!Number.isFinite(maxLw)) throw lnZOverflow(T);
  let Z = 0;
  for (let c = 0; c < total; c++) Z += Math.exp(lp[c]! - maxLw);
  // (lw − max) − ln Σ e^{lw − max}: subtracting ln Z = ln Σ + max in one go would lose ln Σ
  // against a huge max at tiny T.
  const logSum = Math.log(Z);
  for (let c = 0; c < total; c++) lp[c] = lp[c]! - maxLw - logSum;
  return lp;
}

/** Index of a ±1 configuration in the ordering of {@link exactLogProbabilities}. */
export function configIndex(s: Int8Array, offset = 0, N = s.length - offset): number {
  let c = 0;
  for (let i = 0; i < N; i++) if (s[offset + i]! > 0) c += 2 ** i;
  return c;
}
