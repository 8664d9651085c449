/**
 * The pseudo-likelihood of a binary RBM's visible marginal and its exact gradient
 * (Besag, J. R. Stat. Soc. D 24, 179 (1975); for RBMs: Marlin, Swersky, Chen & de Freitas,
 * AISTATS 2010, "Inductive principles for RBM learning"):
 *
 *   PL(v) = Σ_i log p(v_i | v_{−i}) = −Σ_i softplus(Δ_i),   Δ_i = log p̃(v^{(i)}) − log p̃(v),
 *
 * where v^{(i)} is v with unit i flipped and log p̃(v) = a·v + Σ_j φ(x_j) is the unnormalised
 * log marginal, x = b + vW, φ = softplus for 0/1 hidden units and log 2cosh for ±1 ones. Flipping
 * unit i changes v_i by d_i (1 − 2v_i for 0/1 units, −2v_i for ±1) and x_j by d_i·W_ij, so
 *
 *   Δ_i = a_i d_i + Σ_j [φ(x_j + d_i W_ij) − φ(x_j)],
 *
 * and no partition function appears: the gradient is exact, with no Markov chain. With
 * σ_i = σ(Δ_i) and t_ij = φ'(x_j + d_i W_ij) (φ' = σ or tanh):
 *
 *   ∂PL/∂a_i = −σ_i d_i,   ∂PL/∂b_j = −(u_j − S φ'(x_j)),
 *   ∂PL/∂W_kj = −v_k (u_j − S φ'(x_j)) − σ_k d_k t_kj,   u_j = Σ_i σ_i t_ij,  S = Σ_i σ_i.
 *
 * The maximiser is a consistent estimator of the parameters when the data come from a model
 * of the family (Besag 1975), which is how the inverse Ising problem is solved in practice
 * (Aurell & Ekeberg, PRL 108, 090201 (2012)). Cost per row: O(sites · nHidden) transcendentals
 * plus O(nVisible · nHidden) multiply-adds; `sites` < nVisible samples the sites (an unbiased
 * estimate of the full sum, scaled by nVisible/sites).
 */
import { ShapeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Params } from './model.js';

/** What the pseudo-likelihood needs of an RBM: binary units and W (nv × nh), a, b. */
export interface BinaryRbmLike {
  readonly nVisible: number;
  readonly nHidden: number;
  readonly visibleUnits: string;
  readonly hiddenUnits: string;
  readonly params: Params;
}

const softplus = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const logTwoCosh = (x: number): number => {
  const a = Math.abs(x);
  return a + Math.log1p(Math.exp(-2 * a));
};
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Options of {@link pseudoLikelihood}. */
export interface PseudoLikelihoodOptions {
  /**
   * Add the ascent gradient of the mean (over rows) pseudo-likelihood into these arrays
   * (any of W, a, b; the others are skipped), scaled by `scale` (default 1).
   */
  readonly grads?: Params;
  readonly scale?: number;
  /** Sites per row (default all); fewer draws them at random from `rng`, without replacement. */
  readonly sites?: number;
  readonly rng?: Rng;
  /**
   * Which weights are free (nVisible × nHidden, 1 = free; the others are zero and stay
   * so, as a local filter's outside): the sums then run over the free weights only, so a
   * sparse model costs in proportion to its free weights. Default: all free.
   */
  readonly mask?: Uint8Array | null;
}

/** Per visible unit, the hidden units of its free weights (cached per mask). */
const columnsOf = new WeakMap<Uint8Array, Int32Array[]>();
function maskColumns(mask: Uint8Array, nv: number, nh: number): Int32Array[] {
  let cols = columnsOf.get(mask);
  if (!cols) {
    cols = [];
    for (let i = 0; i < nv; i++) {
      const c: number[] = [];
      for (let j = 0; j < nh; j++) if (mask[i * nh + j]) c.push(j);
      cols.push(Int32Array.from(c));
    }
    columnsOf.set(mask, cols);
  }
  return cols;
}

/**
 * The mean over rows of PL(v) (nats per row, summed over the row's sites; with sampled
 * sites, the unbiased estimate nv/K · Σ over the K sampled sites), adding its gradient into
 * `o.grads` when given. `batch` is rows × nVisible of 0/1 (or ±1) values.
 * @throws ShapeError for Gaussian (non-binary) units, a ragged batch, or sampled sites without an Rng
 */
export function pseudoLikelihood(model: BinaryRbmLike, batch: Float32Array, o: PseudoLikelihoodOptions = {}): number {
  const nv = model.nVisible;
  const nh = model.nHidden;
  const binary = (u: string) => u === '01' || u === 'pm1';
  if (!binary(model.visibleUnits) || !binary(model.hiddenUnits)) {
    throw new ShapeError(`pseudo-likelihood needs binary units, the model has ${model.visibleUnits} visible and ${model.hiddenUnits} hidden units`);
  }
  const rows = batch.length / nv;
  if (!Number.isInteger(rows) || rows < 1) throw new ShapeError(`batch has ${batch.length} values, not whole rows of ${nv} visible units`);
  const K = o.sites ?? nv;
  if (!(Number.isInteger(K) && K >= 1 && K <= nv)) throw new ShapeError(`sites must be an integer in 1…${nv}, got ${K}`);
  if (K < nv && !o.rng) throw new ShapeError('sampled pseudo-likelihood sites need an Rng');
  const pmV = model.visibleUnits === 'pm1';
  const pmH = model.hiddenUnits === 'pm1';
  if (o.mask && o.mask.length !== nv * nh) throw new ShapeError(`pseudo-likelihood mask has ${o.mask.length} entries, the weights ${nv * nh}`);
  return sparsePL(model, batch, rows, K, o, maskColumns(o.mask ?? fullMask(nv, nh), nv, nh), pmV, pmH);
}

/** All weights free, one mask per shape (so its column lists are cached too). */
const fullMasks = new Map<string, Uint8Array>();
function fullMask(nv: number, nh: number): Uint8Array {
  const key = `${nv}x${nh}`;
  let m = fullMasks.get(key);
  if (!m) fullMasks.set(key, (m = new Uint8Array(nv * nh).fill(1)));
  return m;
}

/**
 * {@link pseudoLikelihood} summed over the free weights of `cols` (every weight when no
 * mask is given). Unit i's flip moves only the x_j of its free weights, so with
 * u'_j = Σ_i σ_i (t_ij − φ'(x_j)) over those (a fixed x_j contributes t_ij = φ'(x_j)):
 * ∂PL/∂b_j = −u'_j and ∂PL/∂W_kj = −v_k u'_j − σ_k d_k t_kj on the free (k, j).
 */
function sparsePL(model: BinaryRbmLike, batch: Float32Array, rows: number, K: number, o: PseudoLikelihoodOptions, cols: readonly Int32Array[], pmV: boolean, pmH: boolean): number {
  const nv = model.nVisible;
  const nh = model.nHidden;
  const { W, a, b } = model.params as { W: Float32Array; a: Float32Array; b: Float32Array };
  const phi = pmH ? logTwoCosh : softplus;
  const dphi = pmH ? Math.tanh : sigmoid;
  const gW = o.grads?.W ?? null;
  const ga = o.grads?.a ?? null;
  const gb = o.grads?.b ?? null;
  const siteScale = nv / K;
  const scale = ((o.scale ?? 1) * siteScale) / rows;
  const x = new Float64Array(nh);
  const fx = new Float64Array(nh);
  const dx = new Float64Array(nh);
  const u = new Float64Array(nh);
  const tt = new Float64Array(nh);
  const order = new Int32Array(nv);
  for (let i = 0; i < nv; i++) order[i] = i;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * nv;
    for (let j = 0; j < nh; j++) x[j] = b[j]!;
    for (let i = 0; i < nv; i++) {
      const vi = batch[off + i]!;
      if (vi === 0) continue;
      const c = cols[i]!;
      const wr = i * nh;
      for (let q = 0; q < c.length; q++) x[c[q]!]! += vi * W[wr + c[q]!]!;
    }
    for (let j = 0; j < nh; j++) {
      fx[j] = phi(x[j]!);
      dx[j] = dphi(x[j]!);
    }
    if (K < nv) {
      for (let k = 0; k < K; k++) {
        const m = k + o.rng!.int(nv - k);
        const t = order[k]!;
        order[k] = order[m]!;
        order[m] = t;
      }
    }
    u.fill(0);
    for (let k = 0; k < K; k++) {
      const i = order[k]!;
      const vi = batch[off + i]!;
      const d = pmV ? -2 * vi : 1 - 2 * vi;
      const c = cols[i]!;
      const wr = i * nh;
      let delta = a[i]! * d;
      for (let q = 0; q < c.length; q++) {
        const j = c[q]!;
        const y = x[j]! + d * W[wr + j]!;
        if (pmH) {
          // One exp for both: log 2cosh y = |y| + log1p(e), tanh y = sign(y)(1 − e)/(1 + e), e = exp(−2|y|).
          const ay = Math.abs(y);
          const e = Math.exp(-2 * ay);
          delta += ay + Math.log1p(e) - fx[j]!;
          tt[q] = (y < 0 ? e - 1 : 1 - e) / (1 + e);
        } else {
          delta += phi(y) - fx[j]!;
          tt[q] = dphi(y);
        }
      }
      total -= softplus(delta);
      if (!o.grads) continue;
      const s = sigmoid(delta);
      if (ga) ga[i]! -= scale * s * d;
      const cs = scale * s * d;
      for (let q = 0; q < c.length; q++) {
        const j = c[q]!;
        const t = tt[q]!;
        u[j]! += s * (t - dx[j]!);
        if (gW) gW[wr + j]! -= cs * t;
      }
    }
    if (!o.grads) continue;
    if (gb) for (let j = 0; j < nh; j++) gb[j]! -= scale * u[j]!;
    if (gW) {
      for (let k = 0; k < nv; k++) {
        const vk = batch[off + k]!;
        if (vk === 0) continue;
        const cv = scale * vk;
        const c = cols[k]!;
        const wr = k * nh;
        for (let q = 0; q < c.length; q++) gW[wr + c[q]!]! -= cv * u[c[q]!]!;
      }
    }
  }
  return (total * siteScale) / rows;
}
