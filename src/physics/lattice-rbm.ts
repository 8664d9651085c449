/**
 * ±1-spin RBMs with the symmetries of a zero-field lattice model built in, as
 * linear constraints that the trainer restores after every update through the
 * model's `project()` (projected gradient ascent). Everything else — Gibbs
 * sampling, free energy, every trainer and estimator — is `BernoulliRBM`'s.
 *
 * - Spin-flip symmetry (a = b = 0): F(−v) = F(v), like the Ising model at h = 0.
 * - Translation invariance (Carleo & Troyer, Science 355, 602 (2017), for the same
 *   construction in neural-network quantum states): the hidden units come in
 *   F = nHidden / |G| families of |G| units, one per lattice translation g, and unit
 *   (φ, g) sees the lattice through the translated filter W[g(i), (φ, g)] = f_φ[i].
 *   The marginal p(v) is then exactly invariant under every translation, as the
 *   Boltzmann distribution on a torus is, and the model has F·N weights instead of
 *   nHidden·N. With F = 2 it contains the Ising model exactly (one family per bond
 *   direction: f = w on a bond's two sites, cosh 2w = e^{2βJ}).
 * - Local filters (optional `filterSize` k): each filter lives on a k × k patch.
 */
import { Rng } from '../core/rng.js';
import { assertShape } from '../core/errors.js';
import { BernoulliRBM } from '../ebm/rbm.js';
import { registerModel } from '../run/registry.js';
import { squareTranslations } from './lattice.js';

function isPermutation(p: Int32Array): boolean {
  const seen = new Uint8Array(p.length);
  for (const x of p) {
    if (!(x >= 0 && x < p.length) || seen[x]) return false;
    seen[x] = 1;
  }
  return true;
}

function isClosed(G: readonly Int32Array[]): boolean {
  const key = (p: ArrayLike<number>) => Array.prototype.join.call(p, ',');
  const keys = new Set(G.map(key));
  const c = new Int32Array(G[0]!.length);
  for (const g of G) {
    for (const h of G) {
      for (let i = 0; i < c.length; i++) c[i] = g[h[i]!]!;
      if (!keys.has(key(c))) return false;
    }
  }
  return true;
}

/** Checkpoint kind of {@link LatticeSpinRBM}. */
export const LATTICE_RBM_KIND = 'lattice-spin-rbm';

function sameGroup(a: readonly Int32Array[], b: readonly Int32Array[]): boolean {
  return a.length === b.length && a.every((g, k) => g.length === b[k]!.length && g.every((v, i) => v === b[k]![i]));
}

/** The translations a checkpoint config names: 'square:L' or explicit permutations. */
export function translationsFromConfig(t: unknown): Int32Array[] | undefined {
  if (t === null || t === undefined) return undefined;
  if (typeof t === 'string') {
    const m = /^square:(\d+)$/.exec(t);
    if (!m) throw new Error(`unknown translation group '${t}'`);
    return squareTranslations(Number(m[1]));
  }
  if (Array.isArray(t) && t.every((g) => Array.isArray(g))) return t.map((g) => Int32Array.from(g as number[]));
  throw new Error('translations must be a group name or a list of permutations');
}

/** Options of {@link LatticeSpinRBM}. */
export interface LatticeSpinRBMOptions {
  /** Spins (visible units). */
  readonly nVisible: number;
  /** Hidden ±1 units; a multiple of the number of translations when `translations` is given. */
  readonly nHidden: number;
  /** Standard deviation of the initial weights (default 0.1). */
  readonly initStd?: number;
  /** Zero biases, so that F(−v) = F(v) (default true). */
  readonly spinFlipSymmetric?: boolean;
  /**
   * Site permutations of the lattice's translation group (entry 0 the identity), e.g.
   * `squareTranslations(L)`; ties the weights (and biases) so that p(v) is invariant
   * under every one of them. Omit for an unconstrained weight matrix.
   */
  readonly translations?: readonly Int32Array[];
  /**
   * Name of the translation group, stored in checkpoints instead of the permutations:
   * 'square:L' for `squareTranslations(L)`. Set automatically when omitted and the
   * translations are those of a square lattice.
   */
  readonly group?: string;
  /**
   * Side k of the square patch a filter may cover (square:L groups only; default 0: the
   * whole lattice): filter weights outside the k × k patch of sites (x, y), 0 ≤ x, y < k,
   * are held at zero, as a convolutional RBM's receptive field (Lee et al., ICML 2009).
   * k = 2 already contains the Ising model (a bond in each direction inside the patch) with
   * 4 weights per family instead of L², so the fit estimates far fewer parameters.
   */
  readonly filterSize?: number;
}

/** A ±1-spin RBM whose parameters stay in the subspace of the chosen lattice symmetries. */
export class LatticeSpinRBM extends BernoulliRBM {
  override readonly kind: string = LATTICE_RBM_KIND;
  /** Zero biases. */
  readonly spinFlipSymmetric: boolean;
  /** The translation group, or null. */
  readonly translations: readonly Int32Array[] | null;
  private readonly filter: Float64Array;
  /** 1 where a filter may be non-zero (all ones without a filter size). */
  private readonly support: Uint8Array | null;
  private mask: Uint8Array | null = null;

  /**
   * @param opts - sizes and symmetries
   * @param rng - draws the initial weights N(0, initStd²) (with translations: the filters)
   */
  constructor(opts: LatticeSpinRBMOptions, rng: Rng) {
    super({ nVisible: opts.nVisible, nHidden: opts.nHidden, units: 'pm1', initStd: opts.initStd ?? 0.1 }, rng);
    this.spinFlipSymmetric = opts.spinFlipSymmetric ?? true;
    this.translations = opts.translations ?? null;
    const L = Math.round(Math.sqrt(opts.nVisible));
    const group = opts.group ?? (this.translations && L * L === opts.nVisible && this.translations.length === opts.nVisible && sameGroup(this.translations, squareTranslations(L)) ? `square:${L}` : null);
    // The checkpoint config names everything needed to rebuild the model with its symmetries.
    const k = opts.filterSize ?? 0;
    assertShape(Number.isInteger(k) && k >= 0, `filterSize must be a non-negative integer, got ${k}`);
    if (k > 0) {
      assertShape(group === `square:${L}`, 'filterSize needs the translations of a square lattice (square:L)');
      assertShape(k <= L, `filterSize ${k} exceeds the lattice side ${L}`);
      this.support = new Uint8Array(opts.nVisible);
      for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) this.support[y * L + x] = 1;
    } else this.support = null;
    (this as { config: LatticeSpinRBM['config'] }).config = {
      ...this.config,
      spinFlipSymmetric: this.spinFlipSymmetric,
      translations: this.translations === null ? null : group ?? this.translations.map((g) => Array.from(g)),
      ...(k > 0 ? { filterSize: k } : {}),
    };
    this.filter = new Float64Array(opts.nVisible);
    const G = this.translations;
    if (G) {
      const N = opts.nVisible;
      assertShape(G.length >= 1 && G.every((g) => g.length === N && isPermutation(g)), `translations must be permutations of the ${N} sites`);
      assertShape(G[0]!.every((s, i) => s === i), 'translations[0] must be the identity');
      // Closure (g∘h ∈ G) is what makes the tied marginal invariant; checked when cheap.
      if (G.length * G.length * N <= 1e7) assertShape(isClosed(G), 'translations must form a group (closed under composition)');
      assertShape(opts.nHidden % G.length === 0, `translation-invariant weights need a multiple of ${G.length} hidden units (one family per ${G.length} translations), got ${opts.nHidden}`);
      // Tile each family's filter from the i.i.d. initial weights of its identity unit,
      // so the filters have the requested spread (averaging would shrink it by √|G|).
      const W = this.params.W!;
      const H = opts.nHidden;
      for (let f = 0; f < H / G.length; f++) {
        const j0 = f * G.length;
        for (let i = 0; i < N; i++) this.filter[i] = W[i * H + j0]!;
        for (let g = 0; g < G.length; g++) {
          const p = G[g]!;
          for (let i = 0; i < N; i++) W[p[i]! * H + j0 + g] = this.filter[i]!;
        }
      }
    }
    this.project();
  }

  /**
   * Which weights can be non-zero (nVisible × nHidden, 1 = free), for a model with local
   * filters; null when every weight is free. The pseudo-likelihood gradient then sums over
   * the free weights only.
   */
  weightMask(): Uint8Array | null {
    if (!this.support || !this.translations) return null;
    if (!this.mask) {
      const G = this.translations;
      const N = this.nVisible;
      const H = this.nHidden;
      const m = new Uint8Array(N * H);
      for (let fam = 0; fam < H / G.length; fam++)
        for (let g = 0; g < G.length; g++) for (let i = 0; i < N; i++) if (this.support[i]) m[G[g]![i]! * H + fam * G.length + g] = 1;
      this.mask = m;
    }
    return this.mask;
  }

  /** Restore the constraints: zero (or tie) the biases, tie the weights to their orbit average. */
  project(): void {
    const a = this.params.a!;
    const b = this.params.b!;
    if (this.spinFlipSymmetric) {
      a.fill(0);
      b.fill(0);
    }
    const G = this.translations;
    if (!G) return;
    const N = this.nVisible;
    const H = this.nHidden;
    const nG = G.length;
    const W = this.params.W!;
    const f = this.filter;
    for (let fam = 0; fam < H / nG; fam++) {
      const j0 = fam * nG;
      f.fill(0);
      for (let g = 0; g < nG; g++) {
        const p = G[g]!;
        for (let i = 0; i < N; i++) f[i]! += W[p[i]! * H + j0 + g]!;
      }
      if (this.support) for (let i = 0; i < N; i++) if (!this.support[i]) f[i] = 0;
      for (let g = 0; g < nG; g++) {
        const p = G[g]!;
        for (let i = 0; i < N; i++) W[p[i]! * H + j0 + g] = f[i]! / nG;
      }
      if (!this.spinFlipSymmetric) {
        let s = 0;
        for (let g = 0; g < nG; g++) s += b[j0 + g]!;
        b.fill(s / nG, j0, j0 + nG);
      }
    }
    if (!this.spinFlipSymmetric) {
      // A translation-invariant marginal needs a uniform visible bias when the group is transitive.
      let s = 0;
      for (let i = 0; i < N; i++) s += a[i]!;
      a.fill(s / N);
    }
  }
}

registerModel('ebm', LATTICE_RBM_KIND, (c) => {
  const translations = translationsFromConfig(c.translations);
  const group = typeof c.translations === 'string' ? c.translations : undefined;
  return new LatticeSpinRBM(
    {
      nVisible: c.nVisible as number,
      nHidden: c.nHidden as number,
      initStd: c.initStd as number,
      spinFlipSymmetric: c.spinFlipSymmetric !== false,
      ...(translations ? { translations } : {}),
      ...(group ? { group } : {}),
      ...(typeof c.filterSize === 'number' ? { filterSize: c.filterSize } : {}),
    },
    new Rng(0),
  );
});
