/**
 * The Adam update every genphys trainer uses, browser-safe: a fused native pass is
 * plugged in by the native backend when it loads (src/engine/native-backend.ts), and
 * every other backend (wasm, cpu, webgl in the lab) gets one JavaScript pass per tensor.
 * {@link AdamMoments} keeps a trainer's moments either in host arrays (that path) or, on
 * request, as device variables updated with tfjs ops ({@link adamStepTf}), so that a step
 * on webgl/webgpu reads nothing back; {@link drainSync} / {@link drainAsync} run a
 * trainer's loop with synchronous or awaited reads of its losses.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';

/** Adam hyperparameters of {@link adamUpdate}. */
export interface AdamHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/**
 * A fused Adam step for one backend: updates `m`, `v` in place and assigns the variable,
 * with the bias corrections c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ given; returns false, touching
 * nothing, when it does not apply (another backend is active).
 */
export type FusedAdamStep = (
  variable: tf.Variable,
  grad: tf.Tensor,
  m: Float32Array,
  v: Float32Array,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  c1: number,
  c2: number,
) => boolean;

let fused: FusedAdamStep | null = null;

/**
 * Plug in a backend's fused step. The native backend does this when it is imported;
 * since a tensor can only live on the native backend once that module has loaded, code
 * that never loads it (a browser) never needs the step.
 */
export function registerFusedAdamStep(step: FusedAdamStep): void {
  fused = step;
}

/**
 * One Adam update (Kingma & Ba, ICLR 2015, Algorithm 1) of `variable` at step `t` (1-based):
 * the registered fused pass where it applies; elsewhere one JavaScript pass per tensor
 * (float64 arithmetic, float32 storage) instead of ~8 tfjs ops, which would dominate small
 * models' step time. p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε); `m`, `v` are updated in place.
 */
export function adamUpdate(variable: tf.Variable, grad: tf.Tensor, m: Float32Array, v: Float32Array, h: AdamHyper, t: number): void {
  const { lr, beta1: b1, beta2: b2, eps } = h;
  const c1 = 1 - b1 ** t;
  const bias2 = 1 - b2 ** t;
  if (fused?.(variable, grad, m, v, lr, b1, b2, eps, c1, bias2)) return;
  const c2 = Math.sqrt(bias2);
  const stepSize = lr / c1;
  const g = grad.dataSync() as Float32Array;
  const w = Float32Array.from(variable.dataSync() as Float32Array);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) / c2 + eps);
  }
  tf.tidy(() => variable.assign(tf.tensor(w, variable.shape)));
}

/**
 * The same update with tfjs ops, for moments that live as variables next to the weights
 * (webgl, webgpu): nothing is read back, so the GPU pipeline never stalls. Arithmetic is
 * float32 throughout, so it matches {@link adamUpdate} (float64 arithmetic, float32
 * storage) to float32 rounding, not bit for bit.
 */
export function adamUpdateTf(variable: tf.Variable, grad: tf.Tensor, m: tf.Variable, v: tf.Variable, h: AdamHyper, t: number): void {
  tf.tidy(() => {
    const next = adamStepTf(variable, grad, m, v, h, t);
    m.assign(next.m);
    v.assign(next.v);
    variable.assign(next.w);
  });
}

/**
 * The tensors of {@link adamUpdateTf} without the assignments: new weights and moments for
 * weights `w`, gradient `g`, moments `m`, `v` at step `t`. Call inside tf.tidy.
 */
export function adamStepTf(w: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamHyper, t: number): { w: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const { lr, beta1: b1, beta2: b2, eps } = h;
  const c2 = Math.sqrt(1 - b2 ** t);
  const stepSize = lr / (1 - b1 ** t);
  const mi = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
  const vi = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
  return { w: tf.sub(w, tf.div(tf.mul(mi, stepSize), tf.add(tf.div(tf.sqrt(vi), c2), eps))), m: mi, v: vi };
}

/** Copies of Adam's first and second moments by parameter name. */
export interface MomentArrays {
  readonly m: Map<string, Float32Array>;
  readonly v: Map<string, Float32Array>;
}

/**
 * The Adam moments of one set of named variables, kept where the trainer asked:
 * host Float32Arrays updated by {@link adamUpdate} (the CLI's path; bit-identical resumes),
 * or, with `device`, tf variables updated by {@link adamUpdateTf} (the lab's path on
 * webgl/webgpu: no synchronous reads). The choice is explicit rather than detected from
 * the backend, because it changes the numbers at float32-rounding level and a trainer's
 * results must not depend silently on where it runs.
 */
export class AdamMoments {
  /** Whether the moments live on the device. */
  readonly device: boolean;
  private readonly hostM = new Map<string, Float32Array>();
  private readonly hostV = new Map<string, Float32Array>();
  /**
   * Device path: both moments of all parameters as one flat vector each, parameters in
   * `layout` order, so a step is ~15 kernel launches on the concatenated gradient instead of
   * ~13 per parameter (launches, not flops, dominate small models on a GPU).
   */
  private readonly layout: { readonly name: string; readonly offset: number; readonly size: number }[] = [];
  private devM: tf.Variable | null = null;
  private devV: tf.Variable | null = null;

  /** Zero moments for every variable of `params`. */
  constructor(params: ReadonlyMap<string, tf.Variable>, device = false) {
    this.device = device;
    let offset = 0;
    for (const [name, p] of params) {
      this.layout.push({ name, offset, size: p.size });
      offset += p.size;
      if (!device) {
        this.hostM.set(name, new Float32Array(p.size));
        this.hostV.set(name, new Float32Array(p.size));
      }
    }
    if (device) {
      this.devM = variableOf(tf.zeros([offset]));
      this.devV = variableOf(tf.zeros([offset]));
    }
  }

  /**
   * One Adam update at step `t` (1-based) of every parameter of `params` (the map the
   * moments were made for) with its gradient from `grads`, keyed by variable name as
   * tf.variableGrads returns them; a parameter without one gets a zero gradient.
   */
  apply(params: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>, h: AdamHyper, t: number): void {
    if (!this.device) {
      for (const [name, p] of params) {
        const given = grads[p.name];
        const grad = given ?? tf.zeros(p.shape);
        try {
          adamUpdate(p, grad, this.hostM.get(name)!, this.hostV.get(name)!, h, t);
        } finally {
          if (!given) grad.dispose();
        }
      }
      return;
    }
    const vars = this.layout.map((l) => params.get(l.name)!);
    if (vars.length === 0) return;
    tf.tidy(() => {
      const w = tf.concat(vars.map((p) => tf.reshape(p, [-1])));
      const g = tf.concat(vars.map((p) => tf.reshape(grads[p.name] ?? tf.zeros(p.shape), [-1])));
      const next = adamStepTf(w, g, this.devM!, this.devV!, h, t);
      this.devM!.assign(next.m);
      this.devV!.assign(next.v);
      // Contiguous slices of a flat vector: views on webgl, no copy.
      const parts = tf.split(next.w, this.layout.map((l) => l.size));
      vars.forEach((p, i) => p.assign(tf.reshape(parts[i]!, p.shape)));
    });
  }

  /** Copies of the moments; on the device path this reads synchronously (keep it out of training loops). */
  read(): MomentArrays {
    if (!this.device) return { m: copyMap(this.hostM), v: copyMap(this.hostV) };
    return { m: this.unflatten(this.devM!.dataSync() as Float32Array), v: this.unflatten(this.devV!.dataSync() as Float32Array) };
  }

  /** Copies of the moments, read with `await data()` (never stalls the device). */
  async readAsync(): Promise<MomentArrays> {
    if (!this.device) return this.read();
    const [m, v] = await Promise.all([this.devM!.data(), this.devV!.data()]);
    return { m: this.unflatten(m as Float32Array), v: this.unflatten(v as Float32Array) };
  }

  /** Per-parameter copies of a flat vector in layout order. */
  private unflatten(flat: Float32Array): Map<string, Float32Array> {
    return new Map(this.layout.map((l) => [l.name, flat.slice(l.offset, l.offset + l.size)]));
  }

  /**
   * Load moments (copied) from a saved state, checking every one is present and of the right size.
   * @param what - the state's name for the message
   * @throws ShapeError when a moment is missing or of the wrong size
   */
  restore(m: ReadonlyMap<string, Float32Array>, v: ReadonlyMap<string, Float32Array>, what: string): void {
    for (const [src, host, dev] of [
      [m, this.hostM, this.devM],
      [v, this.hostV, this.devV],
    ] as const) {
      const flat = dev ? new Float32Array(dev.size) : null;
      for (const l of this.layout) {
        const w = src.get(l.name);
        if (!w || w.length !== l.size) throw new ShapeError(`${what}: Adam moment '${l.name}' missing or wrong size`);
        if (flat) flat.set(w, l.offset);
        else host.get(l.name)!.set(w);
      }
      if (dev && flat) tf.tidy(() => dev.assign(tf.tensor1d(flat)));
    }
  }

  /** Free the device variables (host arrays are dropped). */
  dispose(): void {
    this.devM?.dispose();
    this.devV?.dispose();
    this.devM = null;
    this.devV = null;
    this.hostM.clear();
    this.hostV.clear();
  }
}

/**
 * A non-trainable variable holding `t`'s values; `t` is disposed (a variable shares its
 * initial tensor's buffer and holds its own reference, so disposing `t` frees nothing the
 * variable needs, and not disposing it would keep the buffer alive after the variable).
 */
export function variableOf(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}

function copyMap(m: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...m].map(([k, v]) => [k, Float32Array.from(v)]));
}

/**
 * A training loop written once for both read modes: a generator that yields the scalar
 * tensors whose values it needs (losses) and receives their values back. Driven by
 * {@link drainSync} (dataSync, the CLI's path) or {@link drainAsync} (`await data()`),
 * so the sync and async trainers share every line but the read.
 */
export type ScalarReads<R> = Generator<readonly tf.Tensor[], R, number[]>;

/** Run `g`, reading each yielded batch of scalars with `dataSync()` (and disposing them). */
export function drainSync<R>(g: ScalarReads<R>): R {
  let r = g.next();
  while (!r.done) {
    const ts = r.value;
    let vals: number[];
    try {
      vals = ts.map((t) => t.dataSync()[0]!);
    } finally {
      tf.dispose([...ts]);
    }
    r = g.next(vals);
  }
  return r.value;
}

/**
 * Run `g`, reading each yielded batch of scalars with one `await data()` (and disposing
 * them): the scalars are packed into one vector first, since every async read waits for
 * its own fence, and a copy leaves the values unchanged.
 */
export async function drainAsync<R>(g: ScalarReads<R>): Promise<R> {
  let r = g.next();
  while (!r.done) {
    const ts = r.value;
    let vals: number[];
    try {
      const packed = ts.length === 1 ? ts[0]! : tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(t, [1]))));
      try {
        vals = Array.from(await packed.data());
      } finally {
        if (packed !== ts[0]) packed.dispose();
      }
    } finally {
      tf.dispose([...ts]);
    }
    r = g.next(vals);
  }
  return r.value;
}
