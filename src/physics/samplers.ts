/**
 * Markov-chain samplers for the Ising model: Metropolis single-spin flip,
 * heat-bath (Gibbs) single-spin updates, and Wolff's single-cluster algorithm.
 *
 * One sweep is N attempted single-spin updates at uniformly random sites
 * (random-site selection keeps each update reversible; sequential sweeps are not
 * ergodic at T = ∞). For Wolff, one sweep is a fixed number of clusters,
 * round(N / ⟨cluster size⟩), calibrated once (see {@link IsingChain.calibrateWolff}),
 * so that a sweep flips about N spins and costs about the same across algorithms.
 * The number must be fixed: stopping "when N spins have flipped" makes the
 * measurement time depend on the clusters and biases the measured state.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { bondSum, magnetisation, type IsingModel } from './lattice.js';

/** The samplers available. */
export const ISING_ALGORITHMS = ['metropolis', 'heatbath', 'wolff'] as const;
/** One of {@link ISING_ALGORITHMS}. */
export type IsingAlgorithm = (typeof ISING_ALGORITHMS)[number];

const TWO32 = 4294967296;

/** Validate an algorithm name (one-line {@link UsageError} otherwise). */
export function parseAlgorithm(name: string): IsingAlgorithm {
  if ((ISING_ALGORITHMS as readonly string[]).includes(name)) return name as IsingAlgorithm;
  throw new UsageError(`--algo: unknown algorithm '${name}' (expected ${ISING_ALGORITHMS.join(', ')})`);
}

/** Validate a temperature (one-line {@link UsageError} for T ≤ 0 or non-finite). */
export function checkTemperature(T: number): number {
  if (!Number.isFinite(T) || !(T > 0)) throw new UsageError(`temperature must be a finite number > 0, got ${T}`);
  return T;
}

/**
 * A single Markov chain on one model at one temperature. It tracks the bond sum
 * and magnetisation incrementally, so E and M are available after every sweep.
 */
export class IsingChain {
  /** The spins (owned by the chain; copy before keeping). */
  readonly spins: Int8Array;
  /** Current Σ_bonds s_i s_j. */
  bondSum: number;
  /** Current Σ s_i. */
  magnetisation: number;
  /** Single-spin updates attempted, or spins flipped by clusters (Wolff), so far. */
  updates = 0;
  /** Accepted flips (Metropolis / heat-bath changes) or Wolff clusters built so far. */
  accepted = 0;
  /** Wolff clusters built so far. */
  clusters = 0;
  /** Wolff clusters per sweep (0 until calibrated; then fixed). */
  clustersPerSweep = 0;

  private readonly beta: number;
  private readonly table: Float64Array;
  private readonly limit: number;
  private readonly stack: Int32Array;
  private readonly mark: Int32Array;
  private gen = 0;

  /**
   * @param model - the lattice and couplings
   * @param algorithm - sampler
   * @param T - temperature (> 0)
   * @param init - starting configuration (copied); default all +1 (cold start)
   */
  constructor(
    readonly model: IsingModel,
    readonly algorithm: IsingAlgorithm,
    readonly T: number,
    init?: Int8Array,
  ) {
    checkTemperature(T);
    parseAlgorithm(algorithm);
    this.beta = 1 / T;
    const { N, z, J, h } = model;
    if (algorithm === 'wolff' && h !== 0) throw new UsageError(`--algo wolff: the Wolff cluster algorithm needs h = 0, got h = ${h} (use metropolis or heatbath)`);
    if (init && init.length !== N) throw new UsageError(`initial configuration has ${init.length} spins, the model has ${N}`);
    this.spins = init ? Int8Array.from(init) : new Int8Array(N).fill(1);
    this.bondSum = bondSum(model, this.spins);
    this.magnetisation = magnetisation(model, this.spins);
    this.limit = TWO32 - (TWO32 % N);
    this.stack = new Int32Array(algorithm === 'wolff' ? N : 0);
    this.mark = new Int32Array(algorithm === 'wolff' ? N : 0);
    // Tables indexed by (s_i = +1 ? 1 : 0)·(z+1) + (Σ_nbr s_j + z)/2.
    this.table = new Float64Array(2 * (z + 1));
    for (let si = 0; si < 2; si++) {
      const s = si ? 1 : -1;
      for (let k = 0; k <= z; k++) {
        const nsum = 2 * k - z;
        const local = J * nsum + h;
        if (algorithm === 'metropolis') {
          // Metropolis et al., J. Chem. Phys. 21, 1087 (1953): accept with min(1, e^{−βΔE}), ΔE = 2 s_i (J Σ s_j + h).
          const dE = 2 * s * local;
          this.table[si * (z + 1) + k] = dE <= 0 ? TWO32 : Math.exp(-this.beta * dE) * TWO32;
        } else if (algorithm === 'heatbath') {
          // Glauber / heat-bath: P(s_i = +1 | rest) = 1 / (1 + e^{−2β(J Σ s_j + h)}).
          this.table[si * (z + 1) + k] = TWO32 / (1 + Math.exp(-2 * this.beta * local));
        }
      }
    }
    if (algorithm === 'wolff') {
      // Wolff, PRL 62, 361 (1989): add a satisfied bond's neighbour with p = 1 − e^{−2β|J|}.
      this.table[0] = -Math.expm1(-2 * this.beta * Math.abs(J)) * TWO32;
    }
  }

  /** Run `n` sweeps. */
  sweep(rng: Rng, n = 1): void {
    for (let t = 0; t < n; t++) {
      if (this.algorithm === 'metropolis') this.metropolisSweep(rng);
      else if (this.algorithm === 'heatbath') this.heatbathSweep(rng);
      else this.wolffSweep(rng);
    }
  }

  /** Energy per site of the current configuration. */
  energyPerSite(): number {
    return (-this.model.J * this.bondSum - this.model.h * this.magnetisation) / this.model.N;
  }

  private metropolisSweep(rng: Rng): void {
    const { N, z, nbr } = this.model;
    const s = this.spins;
    const table = this.table;
    const limit = this.limit;
    // The generator's xoshiro128** recurrence (Rng.nextU32) inlined on local copies of
    // its state words, written back at the end: identical numbers, ~2× the speed.
    const st = rng.state;
    let s0 = st[0]! | 0, s1 = st[1]! | 0, s2 = st[2]! | 0, s3 = st[3]! | 0;
    let b = this.bondSum, M = this.magnetisation, acc = 0;
    for (let u = 0; u < N; u++) {
      let x: number;
      do {
        const m5 = Math.imul(s1, 5);
        x = Math.imul((m5 << 7) | (m5 >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
      } while (x >= limit);
      const i = x % N;
      let nsum = 0;
      const base = z * i;
      for (let a = 0; a < z; a++) nsum += s[nbr[base + a]!]!;
      const si = s[i]!;
      const thr = table[(si > 0 ? z + 1 : 0) + ((nsum + z) >> 1)]!;
      let accept = thr >= TWO32;
      if (!accept) {
        const m5 = Math.imul(s1, 5);
        const y = Math.imul((m5 << 7) | (m5 >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        accept = y < thr;
      }
      if (accept) {
        s[i] = -si;
        b -= 2 * si * nsum;
        M -= 2 * si;
        acc++;
      }
    }
    st[0] = s0; st[1] = s1; st[2] = s2; st[3] = s3;
    this.bondSum = b;
    this.magnetisation = M;
    this.updates += N;
    this.accepted += acc;
  }

  private heatbathSweep(rng: Rng): void {
    const { N, z, nbr } = this.model;
    const s = this.spins;
    const table = this.table;
    const limit = this.limit;
    let b = this.bondSum, M = this.magnetisation, acc = 0;
    for (let u = 0; u < N; u++) {
      let x: number;
      do x = rng.nextU32();
      while (x >= limit);
      const i = x % N;
      let nsum = 0;
      const base = z * i;
      for (let a = 0; a < z; a++) nsum += s[nbr[base + a]!]!;
      const si = s[i]!;
      const sn = rng.nextU32() < table[z + 1 + ((nsum + z) >> 1)]! ? 1 : -1;
      if (sn !== si) {
        s[i] = sn;
        b += (sn - si) * nsum;
        M += sn - si;
        acc++;
      }
    }
    this.bondSum = b;
    this.magnetisation = M;
    this.updates += N;
    this.accepted += acc;
  }

  /** Grow and flip one Wolff cluster; returns its size. */
  wolffCluster(rng: Rng): number {
    const { N, z, nbr, J } = this.model;
    const s = this.spins;
    const stack = this.stack;
    const mark = this.mark;
    const padd = this.table[0]!;
    const gen = ++this.gen;
    if (gen === 0x7fffffff) {
      mark.fill(0);
      this.gen = 1;
    }
    const g = this.gen;
    let x: number;
    do x = rng.nextU32();
    while (x >= this.limit);
    const seed = x % N;
    const sign = J >= 0 ? 1 : -1;
    let top = 0;
    stack[top++] = seed;
    mark[seed] = g;
    let size = 0;
    while (top > 0) {
      const i = stack[--top]!;
      const orig = s[i]!;
      s[i] = -orig;
      size++;
      // A bond is satisfied when J s_i s_j > 0: neighbour spin equal to sign·orig.
      const want = sign * orig;
      const base = z * i;
      for (let a = 0; a < z; a++) {
        const j = nbr[base + a]!;
        if (mark[j] !== g && s[j] === want && rng.nextU32() < padd) {
          mark[j] = g;
          stack[top++] = j;
        }
      }
    }
    this.clusters++;
    this.accepted++;
    this.updates += size;
    return size;
  }

  /**
   * Fix the number of Wolff clusters per sweep at round(N / mean cluster size),
   * the mean measured over `clusters` clusters grown from the current state (these
   * are proper updates too, and serve as burn-in).
   */
  calibrateWolff(rng: Rng, clusters = 200): void {
    let total = 0;
    for (let c = 0; c < clusters; c++) total += this.wolffCluster(rng);
    this.clustersPerSweep = Math.max(1, Math.round((this.model.N * clusters) / total));
    this.bondSum = bondSum(this.model, this.spins);
    this.magnetisation = magnetisation(this.model, this.spins);
  }

  private wolffSweep(rng: Rng): void {
    if (this.clustersPerSweep === 0) this.calibrateWolff(rng);
    for (let c = 0; c < this.clustersPerSweep; c++) this.wolffCluster(rng);
    this.bondSum = bondSum(this.model, this.spins);
    this.magnetisation = magnetisation(this.model, this.spins);
  }
}
