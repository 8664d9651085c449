/**
 * A suite of small problems with known optima for choosing RBM training defaults.
 * Each problem is an exact target distribution over all 2^n binary visible states
 * (n ≤ 16), indexed as in `partition.ts` (state index bit i = visible unit i; a set
 * bit is the unit's upper state, 1 for '01' units and +1 for 'pm1' spins), so that
 * `exactVisibleLogProbs(rbm)` can be compared with `target` index by index. The best
 * mean log-likelihood any model reaches on a problem is −entropy.
 */
import { Rng } from '../core/rng.js';
import { ShapeError } from '../core/errors.js';
import { barsAndStripesPatterns } from './bars-and-stripes.js';

/** One problem of the suite: an exact target distribution over binary visible states. */
export interface SuiteProblem {
  /** Short identifier, e.g. 'bars-and-stripes-3', 'parity-4', 'tfim-chain-8-h1'. */
  readonly name: string;
  /** Number of visible units (≤ 16). */
  readonly nVisible: number;
  /** Unit convention of the visible states. */
  readonly units: '01' | 'pm1';
  /** Exact target probabilities of all 2^nVisible states (float64, sums to 1; index convention of partition.ts). */
  readonly target: Float64Array;
  /** Shannon entropy of the target in nats: the best mean log-likelihood any model can reach on it is −entropy. */
  readonly entropy: number;
  /** One line: what the problem is and what is known about representing it with an RBM. */
  readonly description: string;
}

/** A fully visible Boltzmann machine problem, with the parameters that define it. */
export interface SparseBoltzmannProblem extends SuiteProblem {
  /** Symmetric n × n couplings J_ij (row-major, zero diagonal). */
  readonly couplings: Float64Array;
  /** Fields h_i. */
  readonly fields: Float64Array;
}

/** A transverse-field Ising ground-state problem, with its energy and amplitudes. */
export interface TfimProblem extends SuiteProblem {
  /** Ground-state energy ⟨ψ|H|ψ⟩ of the returned amplitudes. */
  readonly energy: number;
  /** Normalised, non-negative ground-state amplitudes ψ(s) in the σᶻ basis (target = ψ²). */
  readonly amplitudes: Float64Array;
}

/** −Σ p log p with Neumaier-compensated summation (2^16 terms would otherwise lose ~1e-12 relative). */
function shannonEntropy(p: Float64Array): number {
  let h = 0;
  let comp = 0;
  for (const x of p)
    if (x > 0) {
      const term = -x * Math.log(x);
      const t = h + term;
      comp += Math.abs(h) >= Math.abs(term) ? h - t + term : term - t + h;
      h = t;
    }
  return h + comp;
}

function checkInt(name: string, x: number, lo: number, hi: number): void {
  if (!(Number.isInteger(x) && x >= lo && x <= hi)) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${x}`);
}

function checkFinite(name: string, x: number): void {
  if (!Number.isFinite(x)) throw new RangeError(`${name} must be a finite number, got ${x}`);
}

/** Normalise exp(logw) in float64 (max-shifted). */
function softmax(logw: Float64Array): Float64Array {
  let mx = -Infinity;
  for (const l of logw) mx = Math.max(mx, l);
  const p = new Float64Array(logw.length);
  let z = 0;
  for (let i = 0; i < p.length; i++) z += p[i] = Math.exp(logw[i]! - mx);
  for (let i = 0; i < p.length; i++) p[i]! /= z;
  return p;
}

/** ±1 value of unit i in state index s. */
function spin(s: number, i: number): number {
  return Math.floor(s / 2 ** i) % 2 === 1 ? 1 : -1;
}

/**
 * Bars and stripes (MacKay 2003): uniform over the 2^(n+1) − 2 distinct n × n
 * patterns, pixel r·n + c = visible unit r·n + c ('01'), n ∈ [1, 4].
 */
export function barsAndStripesProblem(n: number): SuiteProblem {
  checkInt('bars-and-stripes size n', n, 1, 4);
  const d = n * n;
  const pats = barsAndStripesPatterns(n);
  const k = pats.length / d;
  const target = new Float64Array(2 ** d);
  for (let r = 0; r < k; r++) {
    let idx = 0;
    for (let i = 0; i < d; i++) if (pats[r * d + i]! > 0.5) idx += 2 ** i;
    target[idx] = 1 / k;
  }
  return {
    name: `bars-and-stripes-${n}`,
    nVisible: d,
    units: '01',
    target,
    entropy: shannonEntropy(target),
    description:
      `uniform over the ${k} ${n}×${n} bars-and-stripes patterns (MacKay 2003); an RBM with k + 1 hidden units approximates any distribution on k ` +
      `states arbitrarily well (Le Roux & Bengio, Neural Comput. 20, 1631 (2008)); Fischer & Igel 2014 use 3×3 for exact likelihood curves`,
  };
}

/**
 * Uniform distribution over the 2^(bits−1) even-parity strings of `bits` ∈ [3, 16] {0,1} units.
 */
export function parityProblem(bits: number): SuiteProblem {
  checkInt('parity bits', bits, 3, 16);
  const target = new Float64Array(2 ** bits);
  const p = 1 / 2 ** (bits - 1);
  for (let s = 0; s < target.length; s++) {
    let ones = 0;
    for (let x = s; x > 0; x >>>= 1) ones += x & 1;
    if (ones % 2 === 0) target[s] = p;
  }
  return {
    name: `parity-${bits}`,
    nVisible: bits,
    units: '01',
    target,
    entropy: shannonEntropy(target),
    description:
      `uniform over even-parity strings of ${bits} bits: every marginal of fewer than ${bits} units is uniform, so a model without hidden units ` +
      `is stuck at KL = log 2 (Ackley, Hinton & Sejnowski 1985), while an RBM with polynomially many hidden units represents it ` +
      `(Martens et al., NIPS 2013)`,
  };
}

/**
 * Two spins ('pm1') with p(s₁, s₂) ∝ exp(J s₁s₂ + h (s₁ + s₂)).
 */
export function isingPairProblem(J: number, h: number = 0): SuiteProblem {
  checkFinite('ising pair J', J);
  checkFinite('ising pair h', h);
  const logw = new Float64Array(4);
  for (let s = 0; s < 4; s++) {
    const s1 = spin(s, 0);
    const s2 = spin(s, 1);
    logw[s] = J * s1 * s2 + h * (s1 + s2);
  }
  const target = softmax(logw);
  return {
    name: `ising-pair-J${J}${h !== 0 ? `-h${h}` : ''}`,
    nVisible: 2,
    units: 'pm1',
    target,
    entropy: shannonEntropy(target),
    description:
      `two coupled spins, p ∝ exp(${J}·s1·s2 + ${h}·(s1 + s2)); exactly an RBM with one ±1 hidden unit: ` +
      `Σ_h exp(h·w(s1 + s2)) ∝ exp(J·s1·s2) with cosh 2w = exp(2|J|) (s2 → −s2 in the weight for J < 0)`,
  };
}

/**
 * A fully visible Boltzmann machine on n ∈ [2, 16] spins ('pm1'),
 * p(s) ∝ exp(Σ_{i<j} J_ij s_i s_j + Σ_i h_i s_i), with each coupling present with
 * probability `density` (default 0.5) and then drawn from N(0, scale²) (default
 * scale 0.5), and fields h_i ~ N(0, (scale/2)²). Draw order: for i < j
 * (row-major) one uniform and, if present, one normal; then the n fields.
 */
export function sparseBoltzmannProblem(n: number, rng: Rng, opts: { density?: number; scale?: number } = {}): SparseBoltzmannProblem {
  checkInt('sparse BM size n', n, 2, 16);
  const density = opts.density ?? 0.5;
  const scale = opts.scale ?? 0.5;
  if (!(density >= 0 && density <= 1)) throw new RangeError(`sparse BM density must be in [0, 1], got ${density}`);
  if (!(Number.isFinite(scale) && scale >= 0)) throw new RangeError(`sparse BM scale must be a finite non-negative number, got ${scale}`);
  const couplings = new Float64Array(n * n);
  let bonds = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (rng.uniform() < density) {
        couplings[i * n + j] = couplings[j * n + i] = scale * rng.normal();
        bonds++;
      }
  const fields = new Float64Array(n);
  for (let i = 0; i < n; i++) fields[i] = 0.5 * scale * rng.normal();
  const logw = new Float64Array(2 ** n);
  const s = new Float64Array(n);
  for (let idx = 0; idx < logw.length; idx++) {
    for (let i = 0; i < n; i++) s[i] = spin(idx, i);
    let e = 0;
    for (let i = 0; i < n; i++) {
      e += fields[i]! * s[i]!;
      for (let j = i + 1; j < n; j++) e += couplings[i * n + j]! * s[i]! * s[j]!;
    }
    logw[idx] = e;
  }
  const target = softmax(logw);
  return {
    name: `sparse-bm-${n}`,
    nVisible: n,
    units: 'pm1',
    target,
    entropy: shannonEntropy(target),
    couplings,
    fields,
    description:
      `fully visible Boltzmann machine on ${n} spins with ${bonds} random couplings N(0, ${scale}²) and fields; exactly an RBM with one ±1 hidden unit ` +
      `per coupling (2cosh(w(s_i ± s_j)) ∝ exp(J_ij s_i s_j), cosh 2w = exp(2|J_ij|)), so ${bonds} hidden units reach KL = 0`,
  };
}

/** Lowest eigenpair of a small dense symmetric matrix by cyclic Jacobi rotations (Jacobi 1846; Golub & Van Loan §8.5). */
function jacobiLowest(a: Float64Array, m: number): { value: number; vector: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(m * m);
  for (let i = 0; i < m; i++) V[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < m; p++) {
      diag += A[p * m + p]! ** 2;
      for (let q = p + 1; q < m; q++) off += A[p * m + q]! ** 2;
    }
    if (off <= 1e-34 * diag || off === 0) break;
    for (let p = 0; p < m; p++)
      for (let q = p + 1; q < m; q++) {
        const apq = A[p * m + q]!;
        if (apq === 0) continue;
        const theta = (A[q * m + q]! - A[p * m + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← PᵀAP with P the (p, q) rotation [c s; −s c]: columns, then rows; V ← VP.
        for (let k = 0; k < m; k++) {
          const akp = A[k * m + p]!;
          const akq = A[k * m + q]!;
          A[k * m + p] = c * akp - s * akq;
          A[k * m + q] = s * akp + c * akq;
          const vkp = V[k * m + p]!;
          const vkq = V[k * m + q]!;
          V[k * m + p] = c * vkp - s * vkq;
          V[k * m + q] = s * vkp + c * vkq;
        }
        for (let k = 0; k < m; k++) {
          const apk = A[p * m + k]!;
          const aqk = A[q * m + k]!;
          A[p * m + k] = c * apk - s * aqk;
          A[q * m + k] = s * apk + c * aqk;
        }
        A[p * m + q] = A[q * m + p] = 0;
      }
  }
  let best = 0;
  for (let i = 1; i < m; i++) if (A[i * m + i]! < A[best * m + best]!) best = i;
  const vector = new Float64Array(m);
  for (let k = 0; k < m; k++) vector[k] = V[k * m + best]!;
  return { value: A[best * m + best]!, vector };
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/**
 * Lowest eigenpair of a symmetric operator by restarted Lanczos with full
 * reorthogonalisation (Lanczos 1950; Golub & Van Loan §10.1): Krylov blocks of at
 * most `block` vectors, each restarted from the previous Ritz vector, until the
 * explicit residual ‖Hx − θx‖₂ ≤ tol (θ = xᵀHx, ‖x‖ = 1).
 */
function lanczosGround(
  apply: (x: Float64Array, out: Float64Array) => void,
  start: Float64Array,
  tol: number,
  block: number = 60,
  maxCycles: number = 200,
): { value: number; vector: Float64Array; residual: number } {
  const dim = start.length;
  const m = Math.min(block, dim);
  let x = Float64Array.from(start);
  const hx = new Float64Array(dim);
  let residual = Infinity;
  let theta = 0;
  for (let cycle = 0; cycle < maxCycles; cycle++) {
    const nx = Math.sqrt(dot(x, x));
    for (let i = 0; i < dim; i++) x[i]! /= nx;
    apply(x, hx);
    theta = dot(x, hx);
    let r2 = 0;
    for (let i = 0; i < dim; i++) r2 += (hx[i]! - theta * x[i]!) ** 2;
    residual = Math.sqrt(r2);
    if (residual <= tol) return { value: theta, vector: x, residual };
    const Q: Float64Array[] = [x];
    const T = new Float64Array(m * m);
    const w = new Float64Array(dim);
    let k = 0;
    for (; k < m; k++) {
      apply(Q[k]!, w);
      T[k * m + k] = dot(Q[k]!, w);
      // Two passes of classical Gram–Schmidt against every basis vector ("twice is enough", Giraud et al. 2005).
      for (let pass = 0; pass < 2; pass++)
        for (const q of Q) {
          const c = dot(q, w);
          for (let i = 0; i < dim; i++) w[i]! -= c * q[i]!;
        }
      const beta = Math.sqrt(dot(w, w));
      if (k + 1 === m || beta <= 1e-14 * Math.max(1, Math.abs(T[k * m + k]!))) break;
      T[k * m + k + 1] = T[(k + 1) * m + k] = beta;
      Q.push(Float64Array.from(w, (v) => v / beta));
    }
    const kk = Q.length;
    const Tk = new Float64Array(kk * kk);
    for (let i = 0; i < kk; i++) for (let j = 0; j < kk; j++) Tk[i * kk + j] = T[i * m + j]!;
    const { vector: y } = jacobiLowest(Tk, kk);
    x = new Float64Array(dim);
    for (let j = 0; j < kk; j++) for (let i = 0; i < dim; i++) x[i]! += y[j]! * Q[j]![i]!;
  }
  throw new Error(`Lanczos did not converge: residual ${residual} > ${tol} after ${maxCycles} restarts`);
}

/**
 * Ground state of the transverse-field Ising chain H = −J Σ σᶻ_i σᶻ_{i+1} − h Σ σˣ_i
 * on n ∈ [2, 12] spins (periodic by default; for n = 2 the periodic chain has the
 * bond twice), J finite, h > 0 (defaults J = 1, h = 1: the critical point).
 * Exact diagonalisation in float64 by restarted Lanczos with full
 * reorthogonalisation from the uniform state, to an explicit residual
 * ‖Hψ − Eψ‖₂ ≤ 1e-12·(n|J| + n h). The off-diagonal elements −h are ≤ 0 and
 * connect all states, so the ground state is unique and positive in the σᶻ basis
 * (Perron–Frobenius); the sign is fixed so and target = ψ², units 'pm1'
 * (σᶻ = +1 ↔ +1). Starting from the uniform state keeps the Krylov space in the
 * spin-flip-even sector bit for bit, so at small h the quasi-degenerate odd state
 * (gap ~ hⁿ) does not slow convergence.
 */
export function tfimGroundStateProblem(n: number, opts: { h?: number; J?: number; periodic?: boolean } = {}): TfimProblem {
  checkInt('TFIM chain length n', n, 2, 12);
  const h = opts.h ?? 1;
  const J = opts.J ?? 1;
  const periodic = opts.periodic ?? true;
  if (!(Number.isFinite(h) && h > 0)) throw new RangeError(`TFIM transverse field h must be a finite positive number, got ${h}`);
  checkFinite('TFIM coupling J', J);
  const dim = 2 ** n;
  const bonds = periodic ? n : n - 1;
  const diag = new Float64Array(dim);
  for (let s = 0; s < dim; s++) {
    let e = 0;
    for (let b = 0; b < bonds; b++) e -= J * spin(s, b) * spin(s, (b + 1) % n);
    diag[s] = e;
  }
  const apply = (x: Float64Array, out: Float64Array): void => {
    for (let s = 0; s < dim; s++) {
      let acc = diag[s]! * x[s]!;
      // σˣ_i flips spin i: ⟨s|σˣ_i|x⟩ = x(s with bit i flipped).
      for (let i = 0; i < n; i++) acc -= h * x[s ^ (1 << i)]!;
      out[s] = acc;
    }
  };
  const tol = 1e-12 * (bonds * Math.abs(J) + n * h);
  const { vector } = lanczosGround(apply, new Float64Array(dim).fill(1), tol);
  let sum = 0;
  for (const v of vector) sum += v;
  // Rounding can leave amplitudes that are zero to double precision slightly negative; the exact ones are > 0.
  const amplitudes = Float64Array.from(vector, (v) => Math.max(0, Math.sign(sum) * v));
  const norm = Math.sqrt(dot(amplitudes, amplitudes));
  for (let i = 0; i < dim; i++) amplitudes[i]! /= norm;
  const hpsi = new Float64Array(dim);
  apply(amplitudes, hpsi);
  const energy = dot(amplitudes, hpsi);
  const target = Float64Array.from(amplitudes, (a) => a * a);
  let tsum = 0;
  for (const t of target) tsum += t;
  for (let i = 0; i < dim; i++) target[i]! /= tsum;
  const tag = `${J !== 1 ? `-J${J}` : ''}${periodic ? '' : '-open'}`;
  return {
    name: `tfim-chain-${n}-h${h}${tag}`,
    nVisible: n,
    units: 'pm1',
    target,
    entropy: shannonEntropy(target),
    energy,
    amplitudes,
    description:
      `|ψ|² of the ground state of the ${periodic ? 'periodic' : 'open'} transverse-field Ising chain, n = ${n}, J = ${J}, h = ${h} ` +
      `(free-fermion solution: Pfeuty, Ann. Phys. 57, 79 (1970)); the positive ground state is learned as an RBM from σᶻ data, ` +
      `fidelity reported as in Torlai et al., Nat. Phys. 14, 447 (2018)`,
  };
}

/**
 * A deterministic data set of `rows` × nVisible values in the problem's units:
 * state s (in index order) repeated c_s times, c_s = ⌊p_s·rows⌋ plus one for the
 * rows − Σ⌊p_s·rows⌋ states with the largest remainders (ties: lower index first),
 * so every |c_s − p_s·rows| < 1 and zero-probability states never appear.
 */
export function problemDataset(p: SuiteProblem, rows: number): Float32Array {
  checkInt('dataset rows', rows, 1, Math.floor(2 ** 31 / Math.max(1, p.nVisible)));
  const n = p.nVisible;
  if (p.target.length !== 2 ** n) throw new ShapeError(`problem '${p.name}' target has ${p.target.length} entries, expected 2^${n}`);
  const counts = new Float64Array(p.target.length);
  const frac: number[] = [];
  let used = 0;
  for (let s = 0; s < counts.length; s++) {
    const x = p.target[s]! * rows;
    counts[s] = Math.floor(x);
    used += counts[s]!;
    if (p.target[s]! > 0) frac.push(s);
  }
  frac.sort((a, b) => p.target[b]! * rows - counts[b]! - (p.target[a]! * rows - counts[a]!) || a - b);
  const extra = Math.max(0, Math.min(rows - used, frac.length));
  for (let k = 0; k < extra; k++) counts[frac[k]!]!++;
  const lo = p.units === 'pm1' ? -1 : 0;
  const out = new Float32Array(rows * n);
  let r = 0;
  for (let s = 0; s < counts.length; s++)
    for (let c = 0; c < counts[s]!; c++, r++) for (let i = 0; i < n; i++) out[r * n + i] = Math.floor(s / 2 ** i) % 2 === 1 ? 1 : lo;
  if (r !== rows) throw new ShapeError(`problem '${p.name}' target does not sum to 1 (dataset got ${r} of ${rows} rows)`);
  return out;
}

/**
 * Shannon entropy (nats) of the empirical distribution of the rows of `data`
 * (rows × nVisible, values all in {0, 1} or all in {−1, +1}): the optimum mean
 * log-likelihood any model reaches on that data set is −empiricalEntropy.
 */
export function empiricalEntropy(data: Float32Array, nVisible: number): number {
  checkInt('nVisible', nVisible, 1, 52);
  const rows = data.length / nVisible;
  if (!(Number.isInteger(rows) && rows >= 1)) throw new ShapeError(`data has ${data.length} values, not a positive multiple of nVisible = ${nVisible}`);
  const counts = new Map<number, number>();
  let sawZero = false;
  let sawMinus = false;
  for (let r = 0; r < rows; r++) {
    let idx = 0;
    for (let i = 0; i < nVisible; i++) {
      const v = data[r * nVisible + i]!;
      if (v === 1) idx += 2 ** i;
      else if (v === 0) sawZero = true;
      else if (v === -1) sawMinus = true;
      else throw new RangeError(`data row ${r} unit ${i} is ${v}, not a binary value (0/1 or −1/+1)`);
    }
    counts.set(idx, (counts.get(idx) ?? 0) + 1);
  }
  if (sawZero && sawMinus) throw new RangeError('data mixes 0 and −1 as the lower unit state');
  let hEmp = 0;
  for (const c of counts.values()) hEmp -= (c / rows) * Math.log(c / rows);
  return hEmp;
}

function checkDistributions(target: Float64Array, modelLogProbs: Float64Array): void {
  if (target.length !== modelLogProbs.length || target.length === 0)
    throw new ShapeError(`target has ${target.length} states but modelLogProbs has ${modelLogProbs.length}`);
  let st = 0;
  let sm = 0;
  for (let i = 0; i < target.length; i++) {
    const p = target[i]!;
    const l = modelLogProbs[i]!;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`target[${i}] = ${p} is not a probability`);
    if (Number.isNaN(l) || l > 1e-9) throw new RangeError(`modelLogProbs[${i}] = ${l} is not a log-probability`);
    st += p;
    sm += Math.exp(l);
  }
  if (Math.abs(st - 1) > 1e-6) throw new RangeError(`target sums to ${st}, not 1`);
  if (Math.abs(sm - 1) > 1e-6) throw new RangeError(`exp(modelLogProbs) sums to ${sm}, not 1 (pass normalised log-probabilities)`);
}

/**
 * KL(target ‖ model) = Σ_s p(s) (log p(s) − log q(s)) in nats, with 0·log 0 = 0
 * (+∞ when the model gives zero probability to a target state).
 */
export function klDivergence(target: Float64Array, modelLogProbs: Float64Array): number {
  checkDistributions(target, modelLogProbs);
  let kl = 0;
  for (let i = 0; i < target.length; i++) {
    const p = target[i]!;
    if (p > 0) kl += p * (Math.log(p) - modelLogProbs[i]!);
  }
  return kl;
}

/**
 * Fidelity |⟨ψ_target|ψ_model⟩|² = (Σ_s √(p(s) q(s)))² of the positive
 * wavefunctions ψ = √p, as QuCumber reports it (Torlai et al., Nat. Phys. 14, 447 (2018)).
 */
export function fidelity(target: Float64Array, modelLogProbs: Float64Array): number {
  checkDistributions(target, modelLogProbs);
  let s = 0;
  for (let i = 0; i < target.length; i++) if (target[i]! > 0) s += Math.sqrt(target[i]!) * Math.exp(0.5 * modelLogProbs[i]!);
  return s * s;
}

/**
 * The default suite: bars-and-stripes 3 and 4, parity 3…6, Ising pairs at J = 0.5
 * and 1, a sparse Boltzmann machine on 8 spins drawn from `seed` (default 1,
 * named 'sparse-bm-8-s<seed>'), and periodic TFIM chains n = 8 and 10 at the
 * critical point h = J = 1.
 */
export function defaultSuite(seed: number = 1): SuiteProblem[] {
  if (!Number.isInteger(seed)) throw new RangeError(`suite seed must be an integer, got ${seed}`);
  return [
    barsAndStripesProblem(3),
    barsAndStripesProblem(4),
    ...[3, 4, 5, 6].map(parityProblem),
    isingPairProblem(0.5),
    isingPairProblem(1),
    { ...sparseBoltzmannProblem(8, new Rng(seed)), name: `sparse-bm-8-s${seed}` },
    tfimGroundStateProblem(8, { h: 1 }),
    tfimGroundStateProblem(10, { h: 1 }),
  ];
}
