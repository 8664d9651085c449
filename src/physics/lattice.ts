/**
 * Ising lattices: the 2D square lattice L×L and the 1D chain of L sites, both
 * with periodic boundaries, coupling J and field h. Spins are ±1 in an Int8Array
 * (row-major for the square lattice: site i = row·L + col).
 *
 * Energy convention: E(s) = −J Σ_⟨ij⟩ s_i s_j − h Σ_i s_i, where the bonds are
 * (i, right(i)) and (i, down(i)) for every site, so the square lattice has 2N bonds
 * and the chain N. For L = 2 the right and left neighbours coincide and the pair
 * is joined by two bonds (the same counting as the transfer matrix, and Kaufman).
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Lattice geometry. */
export type IsingGeometry = 'square' | 'chain';

/** Parameters of an Ising model. */
export interface IsingModelOptions {
  /** Linear size: the square lattice has L×L sites, the chain L sites (L ≥ 2). */
  readonly L: number;
  /** 'square' (default) or 'chain'. */
  readonly geometry?: IsingGeometry;
  /** Coupling J (default 1; J > 0 is ferromagnetic). */
  readonly J?: number;
  /** External field h (default 0). */
  readonly h?: number;
}

/** A resolved Ising model: geometry, couplings and the neighbour table. */
export interface IsingModel {
  /** Linear size. */
  readonly L: number;
  /** Geometry. */
  readonly geometry: IsingGeometry;
  /** Number of spins N. */
  readonly N: number;
  /** Coupling. */
  readonly J: number;
  /** Field. */
  readonly h: number;
  /** Coordination number z (4 on the square lattice, 2 on the chain). */
  readonly z: number;
  /** Neighbour table, N×z (right, left, down, up on the square lattice; right, left on the chain). */
  readonly nbr: Int32Array;
  /** Shape of one configuration: [L, L] or [L]. */
  readonly shape: readonly number[];
}

/** Build an {@link IsingModel}; throws a {@link UsageError} for L < 2 or non-finite couplings. */
export function isingModel(opts: IsingModelOptions): IsingModel {
  const L = opts.L;
  const geometry = opts.geometry ?? 'square';
  const J = opts.J ?? 1;
  const h = opts.h ?? 0;
  if (!Number.isInteger(L) || L < 2) throw new UsageError(`--L: lattice size must be an integer ≥ 2, got ${L}`);
  if (!Number.isFinite(J)) throw new UsageError(`--J: coupling must be a finite number, got ${J}`);
  if (!Number.isFinite(h)) throw new UsageError(`--h: field must be a finite number, got ${h}`);
  if (geometry !== 'square' && geometry !== 'chain') throw new UsageError(`unknown geometry '${String(geometry)}' (expected square or chain)`);
  if (geometry === 'square') {
    const N = L * L;
    if (N > 1 << 26) throw new UsageError(`--L: lattice too large (${L}×${L})`);
    const nbr = new Int32Array(N * 4);
    for (let r = 0; r < L; r++) {
      for (let c = 0; c < L; c++) {
        const i = r * L + c;
        nbr[4 * i] = r * L + ((c + 1) % L);
        nbr[4 * i + 1] = r * L + ((c + L - 1) % L);
        nbr[4 * i + 2] = ((r + 1) % L) * L + c;
        nbr[4 * i + 3] = ((r + L - 1) % L) * L + c;
      }
    }
    return { L, geometry, N, J, h, z: 4, nbr, shape: [L, L] };
  }
  const nbr = new Int32Array(L * 2);
  for (let i = 0; i < L; i++) {
    nbr[2 * i] = (i + 1) % L;
    nbr[2 * i + 1] = (i + L - 1) % L;
  }
  return { L, geometry, N: L, J, h, z: 2, nbr, shape: [L] };
}

/**
 * Σ over bonds of s_i s_j (each bond once: the "right" and "down" neighbours of
 * every site). E = −J·bondSum − h·M.
 */
export function bondSum(model: IsingModel, s: Int8Array, offset = 0): number {
  const { N, z, nbr } = model;
  let b = 0;
  // right is slot 0 and down is slot 2: every bond is counted once.
  for (let i = 0; i < N; i++) {
    const si = s[offset + i]!;
    b += si * s[offset + nbr[z * i]!]!;
    if (z === 4) b += si * s[offset + nbr[z * i + 2]!]!;
  }
  return b;
}

/** Total magnetisation Σ s_i of the configuration starting at `offset`. */
export function magnetisation(model: IsingModel, s: Int8Array, offset = 0): number {
  let m = 0;
  for (let i = 0; i < model.N; i++) m += s[offset + i]!;
  return m;
}

/** Total energy E(s) = −J Σ s_i s_j − h Σ s_i. */
export function energy(model: IsingModel, s: Int8Array, offset = 0): number {
  return -model.J * bondSum(model, s, offset) - model.h * magnetisation(model, s, offset);
}

/** A random (infinite-temperature) configuration. */
export function randomSpins(model: IsingModel, rng: Rng): Int8Array {
  const s = new Int8Array(model.N);
  for (let i = 0; i < model.N; i++) s[i] = rng.nextU32() & 1 ? 1 : -1;
  return s;
}

/**
 * Spin–spin correlation G(r) = ⟨s_i s_{i+r}⟩ along the lattice axes, averaged
 * over sites and (on the square lattice) both axes, for r = 0 … ⌊L/2⌋, accumulated
 * over `count` configurations stored back to back in `spins`.
 */
export function correlationFunction(model: IsingModel, spins: Int8Array, count: number): Float64Array {
  const { L, N } = model;
  const R = Math.floor(L / 2);
  const g = new Float64Array(R + 1);
  for (let k = 0; k < count; k++) {
    const off = k * N;
    if (model.geometry === 'chain') {
      for (let r = 0; r <= R; r++) {
        let acc = 0;
        for (let i = 0; i < L; i++) acc += spins[off + i]! * spins[off + ((i + r) % L)]!;
        g[r]! += acc / L;
      }
    } else {
      for (let r = 0; r <= R; r++) {
        let acc = 0;
        for (let y = 0; y < L; y++) {
          for (let x = 0; x < L; x++) {
            const si = spins[off + y * L + x]!;
            acc += si * spins[off + y * L + ((x + r) % L)]! + si * spins[off + ((y + r) % L) * L + x]!;
          }
        }
        g[r]! += acc / (2 * N);
      }
    }
  }
  for (let r = 0; r <= R; r++) g[r]! /= Math.max(count, 1);
  return g;
}

/**
 * The L² translations of the periodic L×L square lattice as site permutations:
 * entry t = ty·L + tx maps site (y, x) to ((y + ty) mod L, (x + tx) mod L), sites
 * row-major. Entry 0 is the identity.
 */
export function squareTranslations(L: number): Int32Array[] {
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`squareTranslations: L must be a positive integer, got ${L}`);
  const out: Int32Array[] = [];
  for (let ty = 0; ty < L; ty++) {
    for (let tx = 0; tx < L; tx++) {
      const p = new Int32Array(L * L);
      for (let y = 0; y < L; y++) for (let x = 0; x < L; x++) p[y * L + x] = ((y + ty) % L) * L + ((x + tx) % L);
      out.push(p);
    }
  }
  return out;
}

/**
 * Symmetry images of square-lattice configurations: for each of the `n` L×L
 * configurations in `spins` (row-major, any numeric type), `copies` configurations
 * — the original, then `copies − 1` images under symmetries of the periodic square
 * lattice drawn uniformly from its 8L² elements (a translation by (dx, dy), then
 * optionally a transpose and reflections of x and y). The Boltzmann distribution
 * of a translation- and rotation-invariant Hamiltonian (the Ising model at any h)
 * is invariant under every one of them, so the images are samples of the same
 * distribution (correlated with their source). Returns a new Float32Array of
 * n·copies configurations; `spins` is not modified.
 */
export function latticeSymmetryImages(spins: ArrayLike<number>, L: number, copies: number, rng: Rng): Float32Array {
  const N = L * L;
  const n = spins.length / N;
  if (!Number.isInteger(n) || !Number.isInteger(copies) || copies < 1) {
    throw new RangeError(`latticeSymmetryImages: ${spins.length} values are not whole ${L}×${L} configurations, or copies = ${copies} is not a positive integer`);
  }
  const out = new Float32Array(n * copies * N);
  let o = 0;
  for (let s = 0; s < n; s++) {
    const base = s * N;
    for (let i = 0; i < N; i++) out[o + i] = spins[base + i]!;
    o += N;
    for (let c = 1; c < copies; c++) {
      const dx = rng.int(L);
      const dy = rng.int(L);
      const g = rng.int(8);
      const transpose = (g & 1) !== 0;
      const flipX = (g & 2) !== 0;
      const flipY = (g & 4) !== 0;
      for (let y = 0; y < L; y++) {
        for (let x = 0; x < L; x++) {
          let sx = (x + dx) % L;
          let sy = (y + dy) % L;
          if (flipX) sx = L - 1 - sx;
          if (flipY) sy = L - 1 - sy;
          const src = transpose ? sx * L + sy : sy * L + sx;
          out[o + y * L + x] = spins[base + src]!;
        }
      }
      o += N;
    }
  }
  return out;
}
