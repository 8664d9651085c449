/**
 * The convolutional denoiser of the course (week 14): a two-level U-Net
 * (Ronneberger et al. 2015) with ResBlocks conditioned on the time step, as in
 * Ho et al. 2020 App. B but without attention.
 *
 *   ResBlock(i → o):  h = SiLU(GN(conv3(x))) + Linear(SiLU(temb)),
 *                     out = SiLU(GN(conv3(h))) + skip(x)   (skip: 1×1 conv when i ≠ o)
 *   enc1 (c→b) @ S, down1 (3×3 s2) → enc2 (b→2b) @ S/2, down2 → enc3 (2b→4b) @ S/4,
 *   mid (4b→4b), up2 (4×4 s2 transposed) ⊕ enc2 → dec2 (4b→2b), up1 ⊕ enc1 → dec1 (2b→b),
 *   out 1×1 conv (b→c).
 *   temb = MLP(sinusoidal(t/T)): 128 → 256 → SiLU → 128.
 *
 * Parameter count for c = 1 input channel, base b, embedding E = 128, hidden 256
 * (counted by hand, per block: conv k²·i·o + o, GN 2o, time Linear 128·o + o):
 *   time MLP 2·128·256 + 256 + 128          = 65 920
 *   enc1  9b² + 146b      down1  9b² + b      enc2  56b² + 272b     down2 36b² + 2b
 *   enc3  224b² + 544b    mid    288b² + 540b up2   128b² + 2b      dec2  116b² + 272b
 *   up1   32b² + b        dec1   29b² + 136b   out   b + 1
 *   total = 927 b² + 1917 b + 65 921
 *   b = 64 (course-unet): 3 985 601;  b = 32 (small-unet): 1 076 513;  b = 16 (ising-unet): 333 905.
 * The b = 32 net is the peer benchmark's `ddpm-unet32-b64` network, layer for layer.
 *
 * Built from plain tfjs variables with flat names (`unet.enc1.conv1.kernel`,
 * `unet.up2.kernel`, …), NHWC; convolution kernels `[kh, kw, in, out]`,
 * transposed-convolution kernels `[kh, kw, out, in]`. Initialisation follows
 * PyTorch's defaults (U(±1/√fan_in), GroupNorm γ = 1, β = 0), drawn from our {@link Rng}.
 *
 * Padding 'zeros' is PyTorch's padding = 1; 'circular' wraps the lattice (periodic
 * boundary conditions for L×L Ising configurations), done by slicing and
 * concatenating followed by 'valid' convolutions, so the network commutes with
 * lattice translations by multiples of 4 (the two stride-2 levels).
 */
import * as tf from '@tensorflow/tfjs';
import { assignWeights, createVariables, disposeVariables, readWeights } from '../engine/params.js';
import { GROUP_NORM, SILU, fusedAvailable, groupNormFused, siluFused } from '../engine/fused-ops.js';
import { ShapeError, UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { BatchShape, Denoiser, Prediction } from './process.js';
import { PREDICTIONS } from './process.js';
import { timestepEmbedding } from './toy-mlp.js';

/** How convolutions treat the image border. */
export type UnetPadding = 'zeros' | 'circular';

/** Hyperparameters of a U-Net denoiser (everything needed to rebuild it). */
export interface UnetConfig {
  /** Image height and width; both must be divisible by 4. */
  readonly size: readonly [number, number];
  /** Image channels (1 for grey-level images and spins). */
  readonly channels: number;
  /** Base width b: the levels have b, 2b and 4b channels (course: 64). */
  readonly base: number;
  /** GroupNorm groups (course: 8); must divide b. */
  readonly groups: number;
  /** Size of the sinusoidal time embedding (course: 128). */
  readonly timeEmbedDim: number;
  /** Hidden width of the time MLP (course: 256). */
  readonly timeHidden: number;
  /** Border handling of every convolution. */
  readonly padding: UnetPadding;
  /** Number of diffusion steps T: the network sees t/T (the course's scaling). */
  readonly T: number;
  /** What the network is trained to output. */
  readonly prediction: Prediction;
}

/** Names of the U-Net presets. */
export const UNET_PRESETS = ['course-unet', 'small-unet', 'ising-unet'] as const;
/** One of {@link UNET_PRESETS}. */
export type UnetPreset = (typeof UNET_PRESETS)[number];

/**
 * A preset for an image of `size` (default 28×28): course-unet (base 64), small-unet
 * (base 32, the benchmark's net) and ising-unet (base 16, circular padding).
 */
export function unetPreset(name: UnetPreset, opts: { size?: readonly [number, number]; channels?: number; T?: number; prediction?: Prediction } = {}): UnetConfig {
  const base = name === 'course-unet' ? 64 : name === 'small-unet' ? 32 : name === 'ising-unet' ? 16 : NaN;
  if (Number.isNaN(base)) throw new UsageError(`U-Net preset: unknown '${name as string}'; choose one of ${UNET_PRESETS.join(', ')}`);
  const cfg: UnetConfig = {
    size: opts.size ?? [28, 28],
    channels: opts.channels ?? 1,
    base,
    groups: 8,
    timeEmbedDim: 128,
    timeHidden: 256,
    padding: name === 'ising-unet' ? 'circular' : 'zeros',
    T: opts.T ?? 1000,
    prediction: opts.prediction ?? 'eps',
  };
  validateUnetConfig(cfg);
  return cfg;
}

/** Check a configuration; throws a one-line ShapeError/UsageError naming the field. */
export function validateUnetConfig(cfg: UnetConfig): void {
  const [h, w] = cfg.size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 4 && w >= 4 && h % 4 === 0 && w % 4 === 0)) {
    throw new ShapeError(`U-Net: image size ${h}×${w} does not fit: both sides must be multiples of 4 (two stride-2 levels), at least 4`);
  }
  for (const k of ['channels', 'base', 'groups', 'timeHidden', 'T'] as const) if (!(Number.isInteger(cfg[k]) && cfg[k] >= 1)) throw new UsageError(`U-Net: ${k} must be an integer ≥ 1, got ${cfg[k]}`);
  if (cfg.base % cfg.groups !== 0) throw new UsageError(`U-Net: groups (${cfg.groups}) must divide the base width (${cfg.base})`);
  if (!(Number.isInteger(cfg.timeEmbedDim) && cfg.timeEmbedDim >= 4 && cfg.timeEmbedDim % 2 === 0)) throw new UsageError(`U-Net: timeEmbedDim must be an even integer ≥ 4, got ${cfg.timeEmbedDim}`);
  if (cfg.padding !== 'zeros' && cfg.padding !== 'circular') throw new UsageError(`U-Net: padding must be zeros or circular, got '${cfg.padding as string}'`);
  if (!PREDICTIONS.includes(cfg.prediction)) throw new UsageError(`U-Net: prediction must be one of ${PREDICTIONS.join(', ')}, got '${cfg.prediction}'`);
}

/** Shape and initialisation of one parameter. */
export interface UnetParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** U(−bound, bound); 0 with `value` for constants. */
  readonly bound: number;
  readonly value?: number;
}

/** The ResBlocks in order, with their input and output widths. */
function resBlocks(cfg: UnetConfig): [string, number, number][] {
  const b = cfg.base;
  return [
    ['enc1', cfg.channels, b],
    ['enc2', b, 2 * b],
    ['enc3', 2 * b, 4 * b],
    ['mid', 4 * b, 4 * b],
    ['dec2', 4 * b, 2 * b],
    ['dec1', 2 * b, b],
  ];
}

/** The parameters of a U-Net, in a fixed order. */
export function unetSpecs(cfg: UnetConfig): UnetParamSpec[] {
  validateUnetConfig(cfg);
  const specs: UnetParamSpec[] = [];
  const b = cfg.base;
  const E = cfg.timeEmbedDim;
  const dense = (name: string, nin: number, nout: number) => {
    const bound = 1 / Math.sqrt(nin);
    specs.push({ name: `${name}.kernel`, shape: [nin, nout], bound }, { name: `${name}.bias`, shape: [nout], bound });
  };
  const conv = (name: string, k: number, nin: number, nout: number) => {
    const bound = 1 / Math.sqrt(k * k * nin);
    specs.push({ name: `${name}.kernel`, shape: [k, k, nin, nout], bound }, { name: `${name}.bias`, shape: [nout], bound });
  };
  // PyTorch's ConvTranspose2d takes fan_in from weight.size(1) = out channels.
  const convT = (name: string, k: number, nin: number, nout: number) => {
    const bound = 1 / Math.sqrt(k * k * nout);
    specs.push({ name: `${name}.kernel`, shape: [k, k, nout, nin], bound }, { name: `${name}.bias`, shape: [nout], bound });
  };
  const norm = (name: string, c: number) => specs.push({ name: `${name}.gamma`, shape: [c], bound: 0, value: 1 }, { name: `${name}.beta`, shape: [c], bound: 0, value: 0 });
  dense('unet.time.dense1', E, cfg.timeHidden);
  dense('unet.time.dense2', cfg.timeHidden, E);
  const block = (name: string, i: number, o: number) => {
    conv(`unet.${name}.conv1`, 3, i, o);
    norm(`unet.${name}.norm1`, o);
    dense(`unet.${name}.temb`, E, o);
    conv(`unet.${name}.conv2`, 3, o, o);
    norm(`unet.${name}.norm2`, o);
    if (i !== o) conv(`unet.${name}.skip`, 1, i, o);
  };
  const blocks = resBlocks(cfg);
  block(...blocks[0]!);
  conv('unet.down1', 3, b, b);
  block(...blocks[1]!);
  conv('unet.down2', 3, 2 * b, 2 * b);
  block(...blocks[2]!);
  block(...blocks[3]!);
  convT('unet.up2', 4, 4 * b, 2 * b);
  block(...blocks[4]!);
  convT('unet.up1', 4, 2 * b, b);
  block(...blocks[5]!);
  conv('unet.out', 1, b, cfg.channels);
  return specs;
}

/** Number of learned parameters. */
export function countUnetParameters(cfg: UnetConfig): number {
  let n = 0;
  for (const s of unetSpecs(cfg)) n += s.shape.reduce((a, c) => a * c, 1);
  return n;
}

/** Initial weights drawn from `rng` in {@link unetSpecs} order. */
export function initialUnetWeights(cfg: UnetConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const s of unetSpecs(cfg)) {
    const n = s.shape.reduce((a, c) => a * c, 1);
    const w = new Float32Array(n);
    if (s.value !== undefined) w.fill(s.value);
    else for (let i = 0; i < n; i++) w[i] = (2 * rng.uniform() - 1) * s.bound;
    out.set(s.name, w);
  }
  return out;
}

/** SiLU(x) = x·σ(x) (Elfwing et al. 2018; Ho et al.'s "swish"). */
export function silu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === 'float32' && fusedAvailable(SILU)) return siluFused(x);
  return tf.mul(x, tf.sigmoid(x));
}

/** [C, G] indicator of which group each channel belongs to (contiguous blocks of C/G). */
function groupIndicator(C: number, G: number): tf.Tensor2D {
  const a = new Float32Array(C * G);
  const cg = C / G;
  for (let c = 0; c < C; c++) a[c * G + Math.floor(c / cg)] = 1;
  return tf.tensor2d(a, [C, G]);
}

/**
 * x [B, H·W, C] repeated from v [B, C] over the H·W rows, as an outer product with a
 * column of ones (a batched matmul: cheaper here than a broadcast over a middle axis,
 * and its gradient is a matmul too).
 */
function repeatRows(v: tf.Tensor2D, rows: number): tf.Tensor3D {
  const [B, C] = v.shape;
  return tf.matMul(tf.ones([1, rows, 1]), tf.reshape(v, [B, 1, C])) as tf.Tensor3D;
}

/** Σ over the H·W rows of x [B, H·W, C] → [B, C], as a matmul with a row of ones. */
function sumRows(x: tf.Tensor3D): tf.Tensor2D {
  const [B, R, C] = x.shape;
  return tf.reshape(tf.matMul(tf.ones([1, 1, R]), x), [B, C]) as tf.Tensor2D;
}

/**
 * Group normalisation (Wu & He 2018) of NHWC `x` with `groups` groups over the
 * channels: each example's group is normalised by the mean and (biased) variance
 * over H, W and its C/G channels, then scaled by γ and shifted by β per channel;
 * eps 1e-5 as PyTorch. The group sums are written as matmuls with ones and a
 * channel-to-group indicator instead of reshapes to [B, H, W, G, C/G] with
 * middle-axis moments: the same arithmetic, but every op (and every gradient op) is
 * a matmul, an equal-shape elementwise op or a trailing broadcast, which all
 * backends run fast.
 */
export function groupNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, groups: number, eps = 1e-5): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  if (C % groups !== 0) throw new ShapeError(`GroupNorm: ${groups} groups do not divide ${C} channels`);
  if (x.dtype === 'float32' && fusedAvailable(GROUP_NORM)) return groupNormFused(x, gamma, beta, groups, eps);
  return tf.tidy(() => {
    const R = H * W;
    const n = R * (C / groups);
    const P = groupIndicator(C, groups);
    const xr = tf.reshape(x, [B, R, C]) as tf.Tensor3D;
    const meanG = tf.div(tf.matMul(sumRows(xr), P), n) as tf.Tensor2D;
    const d = tf.sub(xr, repeatRows(tf.matMul(meanG, P, false, true), R)) as tf.Tensor3D;
    const varG = tf.div(tf.matMul(sumRows(tf.mul(d, d) as tf.Tensor3D), P), n);
    const scale = tf.mul(tf.matMul(tf.rsqrt(tf.add(varG, eps)) as tf.Tensor2D, P, false, true), gamma) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.mul(d, repeatRows(scale, R)), beta), [B, H, W, C]) as tf.Tensor4D;
  });
}

/** Pad H and W of NHWC `x` by `p` on each side with the periodic continuation (circular padding). */
export function circularPad(x: tf.Tensor4D, p: number): tf.Tensor4D {
  if (p === 0) return x;
  const [, H, W] = x.shape;
  if (p > H || p > W) throw new ShapeError(`circular padding ${p} exceeds the image (${H}×${W})`);
  const rows = tf.concat([tf.slice(x, [0, H - p, 0, 0], [-1, p, -1, -1]), x, tf.slice(x, [0, 0, 0, 0], [-1, p, -1, -1])], 1);
  return tf.concat([tf.slice(rows, [0, 0, W - p, 0], [-1, -1, p, -1]), rows, tf.slice(rows, [0, 0, 0, 0], [-1, -1, p, -1])], 2) as tf.Tensor4D;
}

/**
 * Fold the `p` overhanging rows and columns of a 'valid' transposed convolution back
 * onto the opposite border: the circular transposed convolution. `y` is [B, H+2p, W+2p, C].
 */
function circularFold(y: tf.Tensor4D, p: number): tf.Tensor4D {
  const [B, Hp, Wp, C] = y.shape;
  const H = Hp - 2 * p;
  const W = Wp - 2 * p;
  // Rows: core rows p … p+H−1; row i < p wraps to H−p+i, row p+H+i wraps to i.
  const core = tf.slice(y, [0, p, 0, 0], [-1, H, -1, -1]);
  const top = tf.slice(y, [0, 0, 0, 0], [-1, p, -1, -1]);
  const bottom = tf.slice(y, [0, p + H, 0, 0], [-1, p, -1, -1]);
  const zr = tf.zeros([B, H - 2 * p, Wp, C]);
  const r = tf.add(core, tf.concat([bottom, zr, top], 1)) as tf.Tensor4D;
  const coreC = tf.slice(r, [0, 0, p, 0], [-1, -1, W, -1]);
  const left = tf.slice(r, [0, 0, 0, 0], [-1, -1, p, -1]);
  const right = tf.slice(r, [0, 0, p + W, 0], [-1, -1, p, -1]);
  const zc = tf.zeros([B, H, W - 2 * p, C]);
  return tf.add(coreC, tf.concat([right, zc, left], 2)) as tf.Tensor4D;
}

/**
 * The U-Net's output for flattened x `[B, H·W·C]` at time steps t `[B]` (1…T),
 * flattened the same way. `params` maps the flat names of {@link unetSpecs} to
 * tensors or variables. Call inside tf.tidy.
 */
export function unetForward(cfg: UnetConfig, params: ReadonlyMap<string, tf.Tensor>, x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
  const [H, W] = cfg.size;
  const C = cfg.channels;
  if (x.shape[1] !== H * W * C) throw new ShapeError(`U-Net: inputs have ${x.shape[1]} values per example, the model expects ${H}×${W}×${C} = ${H * W * C}`);
  if (t.shape[0] !== x.shape[0]) throw new ShapeError(`U-Net: ${t.shape[0]} time steps for a batch of ${x.shape[0]}`);
  const p = (name: string): tf.Tensor => {
    const v = params.get(name);
    if (!v) throw new ShapeError(`U-Net: no parameter '${name}'`);
    return v;
  };
  const circ = cfg.padding === 'circular';
  // The bias rides in the convolution (tfjs's fused conv2d: the native backend adds it to the
  // output in place, one pass fewer; the same sum, so the same numbers).
  const conv = (h: tf.Tensor4D, name: string, k: number, stride: number): tf.Tensor4D => {
    const pad = (k - 1) / 2;
    const filter = p(`${name}.kernel`) as tf.Tensor4D;
    const bias = p(`${name}.bias`);
    if (circ) return tf.fused.conv2d({ x: circularPad(h, pad), filter, strides: stride, pad: 'valid', bias });
    return tf.fused.conv2d({ x: h, filter, strides: stride, pad: pad === 0 ? 'valid' : pad, bias });
  };
  /** Stride-1 conv of the channel concatenation of `parts`, one kernel slice per part. */
  const convParts = (parts: tf.Tensor4D[], name: string, k: number): tf.Tensor4D => {
    if (parts.length === 1) return conv(parts[0]!, name, k, 1);
    const kern = p(`${name}.kernel`) as tf.Tensor4D;
    const pad = (k - 1) / 2;
    let off = 0;
    let y: tf.Tensor4D | null = null;
    for (const h of parts) {
      const c = h.shape[3];
      const kp = tf.slice(kern, [0, 0, off, 0], [-1, -1, c, -1]) as tf.Tensor4D;
      off += c;
      const yi = circ ? tf.conv2d(circularPad(h, pad), kp, 1, 'valid') : tf.conv2d(h, kp, 1, pad === 0 ? 'valid' : pad);
      y = y ? (tf.add(y, yi) as tf.Tensor4D) : yi;
    }
    return tf.add(y!, p(`${name}.bias`)) as tf.Tensor4D;
  };
  // 4×4 stride-2 transposed conv with PyTorch's padding = 1: 'same' in TF's convention is the same crop of 1 per side.
  const up = (h: tf.Tensor4D, name: string): tf.Tensor4D => {
    const kern = p(`${name}.kernel`) as tf.Tensor4D;
    const [B, h0, w0] = h.shape;
    const o = kern.shape[2];
    const y = circ ? circularFold(tf.conv2dTranspose(h, kern, [B, 2 * h0 + 2, 2 * w0 + 2, o], 2, 'valid'), 1) : tf.conv2dTranspose(h, kern, [B, 2 * h0, 2 * w0, o], 2, 'same');
    return tf.add(y, p(`${name}.bias`)) as tf.Tensor4D;
  };
  const dense = (h: tf.Tensor, name: string) => tf.add(tf.matMul(h as tf.Tensor2D, p(`${name}.kernel`) as tf.Tensor2D), p(`${name}.bias`));
  const gn = (h: tf.Tensor4D, name: string) => groupNorm(h, p(`${name}.gamma`), p(`${name}.beta`), cfg.groups);
  const B = x.shape[0];
  // The course feeds t/T to the sinusoidal embedding.
  const emb = timestepEmbedding(tf.div(t.toFloat(), cfg.T) as tf.Tensor1D, cfg.timeEmbedDim);
  const temb = silu(dense(silu(dense(emb, 'unet.time.dense1')), 'unet.time.dense2'));
  /**
   * Add the per-example time projection [B, o] to every site of h [B, H, W, o]: a [B, 1, 1, o]
   * broadcast, whose gradient sums over H and W (the native backend runs both as per-example
   * trailing broadcasts and column sums; tfjs's other backends broadcast themselves).
   */
  const addTime = (h: tf.Tensor4D, proj: tf.Tensor2D): tf.Tensor4D => tf.add(h, tf.reshape(proj, [B, 1, 1, h.shape[3]])) as tf.Tensor4D;
  /**
   * A ResBlock; `skip` (the encoder feature map of a decoder block) is concatenated to
   * h along the channels, written as convolutions with the two halves of each kernel
   * (conv(h ⊕ s, K) = conv(h, K_h) + conv(s, K_s)), which avoids the concat and its split gradient.
   */
  const res = (h: tf.Tensor4D, name: string, i: number, o: number, skip?: tf.Tensor4D): tf.Tensor4D => {
    const proj = dense(temb, `unet.${name}.temb`) as tf.Tensor2D;
    const parts = skip ? [h, skip] : [h];
    const a = addTime(silu(gn(convParts(parts, `unet.${name}.conv1`, 3), `unet.${name}.norm1`)) as tf.Tensor4D, proj);
    const s = i !== o ? convParts(parts, `unet.${name}.skip`, 1) : h;
    return tf.add(silu(gn(conv(a, `unet.${name}.conv2`, 3, 1), `unet.${name}.norm2`)), s) as tf.Tensor4D;
  };
  const b = cfg.base;
  const img = tf.reshape(x, [B, H, W, C]) as tf.Tensor4D;
  const e1 = res(img, 'enc1', C, b);
  const e2 = res(conv(e1, 'unet.down1', 3, 2), 'enc2', b, 2 * b);
  const m = res(res(conv(e2, 'unet.down2', 3, 2), 'enc3', 2 * b, 4 * b), 'mid', 4 * b, 4 * b);
  const d2 = res(up(m, 'unet.up2'), 'dec2', 4 * b, 2 * b, e2);
  const d1 = res(up(d2, 'unet.up1'), 'dec1', 2 * b, b, e1);
  return tf.reshape(conv(d1, 'unet.out', 1, 1), [B, H * W * C]) as tf.Tensor2D;
}

/** A U-Net denoiser: immutable config plus learned tfjs variables by flat name. */
export class Unet {
  /** Learned parameters by flat name, in {@link unetSpecs} order. */
  readonly params: ReadonlyMap<string, tf.Variable>;

  private constructor(
    readonly config: UnetConfig,
    params: Map<string, tf.Variable>,
  ) {
    this.params = params;
  }

  /** A freshly initialised network. */
  static create(config: UnetConfig, rng: Rng): Unet {
    return Unet.fromWeights(config, initialUnetWeights(config, rng));
  }

  /**
   * A network with the given weights (copied).
   * @throws ShapeError if a tensor is missing or has the wrong size
   */
  static fromWeights(config: UnetConfig, weights: ReadonlyMap<string, Float32Array>): Unet {
    return new Unet(config, createVariables('U-Net', 'unet', unetSpecs(config), weights));
  }

  /** Values per flattened example. */
  get dim(): number {
    return this.config.size[0] * this.config.size[1] * this.config.channels;
  }

  /** Output for flattened x `[B, D]` at time steps t `[B]`. Call inside tf.tidy. */
  apply(x: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    return unetForward(this.config, this.params, x, t);
  }

  /** This network as a {@link Denoiser} (uses the live variables). */
  denoiser(): Denoiser {
    const cfg = this.config;
    const params = this.params;
    return {
      prediction: cfg.prediction,
      predict(xt: Float32Array, shape: BatchShape, t: Int32Array): Float32Array {
        const [B, D] = shape;
        if (xt.length !== B * D || t.length !== B) throw new ShapeError(`U-Net denoiser: ${xt.length} values and ${t.length} time steps do not fit shape [${B}, ${D}]`);
        const y = tf.tidy(() => unetForward(cfg, params, tf.tensor2d(xt, [B, D]), tf.tensor1d(t, 'int32')));
        const out = Float32Array.from(y.dataSync() as Float32Array);
        y.dispose();
        return out;
      },
    };
  }

  /** Copies of the current weights, by flat name. */
  getWeights(): Map<string, Float32Array> {
    return readWeights(this.params);
  }

  /** Overwrite the weights (sizes must match). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    assignWeights('U-Net', this.params, weights);
  }

  /** Free the variables. */
  dispose(): void {
    disposeVariables(this.params);
  }
}
