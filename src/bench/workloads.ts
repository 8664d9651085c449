/**
 * Benchmark workloads, defined to match the peer script
 * (../shared/bench/torch_peer.py) step for step, so the ratios are fair:
 *
 * - `rbm-cd1-784x500-b128`: one CD-1 update of a 784×500 Bernoulli RBM, batch 128,
 *   learning rate 0.01 (Hinton 2002, "Training products of experts by minimizing
 *   contrastive divergence").
 * - `vae-mlp-784-400-20-b128`: one Adam step (lr 1e-3) of the PyTorch-examples VAE
 *   784-400-(20,20)-400-784, Bernoulli decoder, loss (BCE-with-logits sum + KL)/B
 *   (Kingma & Welling 2014, eq. 10).
 * - `vae-conv-keras-b128`: one Adam step of the Keras-example conv VAE (latent 2),
 *   NHWC; PyTorch's padding=1 / output_padding=1 on stride-2 3×3 layers is 'same'
 *   padding here.
 * - `sgemm-512`: 512×512 @ 512×512 float32 product.
 *
 * Inputs are random binary images with p = 0.3 from a seeded {@link Rng}.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/rng.js';
import type { Kernels } from '../engine/kernels.js';
import { NativeAdamOptimizer, adamOptimizer } from '../engine/native-backend.js';

/** Workload names, in the peer's order. */
export const WORKLOADS = ['rbm-cd1-784x500-b128', 'vae-mlp-784-400-20-b128', 'vae-conv-keras-b128', 'sgemm-512'] as const;

/** One of {@link WORKLOADS}. */
export type WorkloadName = (typeof WORKLOADS)[number];

/** A prepared workload: `step()` runs one complete, finished step. */
export interface PreparedWorkload {
  /** Run one step; returns when its results are computed (a scalar read back where the peer does). */
  step(): void;
  /** Floating-point operations per step, when meaningful (sgemm). */
  readonly flops?: number;
  /** How the step is computed on this backend, e.g. "tfjs ops" or "native fused kernels". */
  readonly impl: string;
  /** Current learned parameters, for checks (RBM workloads: W, bv, bh). */
  params?(): Float32Array[];
  /** Free every tensor and buffer. */
  dispose(): void;
}

/** Random binary images: each entry 1 with probability p (float32 uniform grid). */
export function binaryImages(n: number, p: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  rng.fillUniform(a);
  for (let i = 0; i < n; i++) a[i] = a[i]! < p ? 1 : 0;
  return a;
}

const B = 128;

/** CD-1 on fused dense kernels (typed arrays): three Bernoulli half-steps and one fused update. */
export function rbmCd1Kernels(k: Kernels, seed: number): PreparedWorkload {
  const nv = 784;
  const nh = 500;
  const lr = 0.01;
  const rng = new Rng(seed);
  const v0 = binaryImages(B * nv, 0.3, rng);
  const W = new Float32Array(nv * nh);
  rng.fillNormal(W);
  for (let i = 0; i < W.length; i++) W[i]! *= 0.01;
  const bv = new Float32Array(nv);
  const bh = new Float32Array(nh);
  const ph0 = new Float32Array(B * nh);
  const h0 = new Float32Array(B * nh);
  const pv1 = new Float32Array(B * nv);
  const v1 = new Float32Array(B * nv);
  const ph1 = new Float32Array(B * nh);
  return {
    impl: `${k.name} kernels (3 × bernoulliLayer + cdUpdate)`,
    step() {
      k.bernoulliLayer(v0, W, bh, B, nv, nh, false, ph0, h0, rng);
      k.bernoulliLayer(h0, W, bv, B, nh, nv, true, pv1, v1, rng);
      k.bernoulliLayer(v1, W, bh, B, nv, nh, false, ph1, null, null);
      k.cdUpdate(W, bv, bh, v0, ph0, v1, ph1, B, nv, nh, lr);
    },
    params: () => [W.slice(), bv.slice(), bh.slice()],
    dispose() {},
  };
}

/** CD-1 expressed with tfjs ops on the active backend (matMul + bias + sigmoid, uniforms from our Rng). */
export function rbmCd1Tf(seed: number): PreparedWorkload {
  const nv = 784;
  const nh = 500;
  const lr = 0.01;
  const rng = new Rng(seed);
  const v0 = tf.tensor2d(binaryImages(B * nv, 0.3, rng), [B, nv]);
  const w0 = new Float32Array(nv * nh);
  rng.fillNormal(w0);
  for (let i = 0; i < w0.length; i++) w0[i]! *= 0.01;
  const W = tf.variable(tf.tensor2d(w0, [nv, nh]));
  const bv = tf.variable(tf.zeros([nv]));
  const bh = tf.variable(tf.zeros([nh]));
  const u1 = new Float32Array(B * nh);
  const u2 = new Float32Array(B * nv);
  return {
    impl: 'tfjs ops (matMul+sigmoid, uniforms from Rng)',
    step() {
      rng.fillUniform(u1);
      rng.fillUniform(u2);
      tf.tidy(() => {
        const ph0 = tf.fused.matMul({ a: v0, b: W, bias: bh, activation: 'sigmoid' });
        const h0 = tf.cast(tf.less(tf.tensor2d(u1, [B, nh]), ph0), 'float32');
        // h0·Wᵀ unfused: the engine then picks the cheaper transpose (h0 is smaller than W).
        const pv1 = tf.sigmoid(tf.add(tf.matMul(h0, W, false, true), bv));
        const v1 = tf.cast(tf.less(tf.tensor2d(u2, [B, nv]), pv1), 'float32');
        const ph1 = tf.fused.matMul({ a: v1, b: W, bias: bh, activation: 'sigmoid' });
        // v0ᵀ·ph0 − v1ᵀ·ph1 as one product of stacked batches.
        const dW = tf.matMul(tf.concat([v0, v1], 0), tf.concat([ph0, tf.neg(ph1)], 0), true, false);
        W.assign(tf.add(W, tf.mul(dW, lr / B)));
        bv.assign(tf.add(bv, tf.mul(tf.sum(tf.sub(v0, v1), 0), lr / B)));
        bh.assign(tf.add(bh, tf.mul(tf.sum(tf.sub(ph0, ph1), 0), lr / B)));
      });
      bh.dataSync();
    },
    params: () => [W, bv, bh].map((t) => Float32Array.from(t.dataSync())),
    dispose() {
      tf.dispose([v0, W, bv, bh]);
    },
  };
}

/**
 * Σ BCE(logits, x) = Σ softplus(l) − l·x, the same quantity as PyTorch's
 * max(l,0) − l·x + log(1 + e^{−|l|}) (tfjs's softplus kernel is the stable form).
 */
function bceWithLogitsSum(logits: tf.Tensor, x: tf.Tensor): tf.Scalar {
  return tf.sum(tf.sub(tf.softplus(logits), tf.mul(logits, x)));
}

/** KL(q(z|x) ‖ N(0, I)) summed: −½ Σ (1 + lv − μ² − e^{lv}) (Kingma & Welling 2014, appendix B). */
function klSum(mu: tf.Tensor, lv: tf.Tensor): tf.Scalar {
  return tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, lv), tf.square(mu)), tf.exp(lv))));
}

interface VaeParts {
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  x: tf.Tensor;
  latent: number;
}

/**
 * One Adam step as genphys trains: tfjs layers for the model, and genphys's
 * `adamOptimizer` — tf.train.adam's update, in one native pass per variable on
 * the native backend (as PyTorch's Adam updates all parameters in a few fused
 * loops), tf.train.adam itself elsewhere.
 */
function vaeStep(parts: VaeParts, seed: number): PreparedWorkload {
  const { encoder, decoder, x, latent } = parts;
  const rng = new Rng(seed + 1);
  const vars = [...encoder.trainableWeights, ...decoder.trainableWeights].map((w) => w.read() as tf.Variable);
  const opt = adamOptimizer(1e-3);
  const impl = opt instanceof NativeAdamOptimizer ? 'tfjs layers + native fused Adam' : 'tfjs layers + tf.train.adam';
  const eps = new Float32Array(B * latent);
  return {
    impl,
    step() {
      rng.fillNormal(eps);
      const loss = tf.tidy(() => {
        const e = tf.tensor2d(eps, [B, latent]);
        return opt.minimize(
          () => {
            const [mu, lv] = encoder.apply(x, { training: true }) as tf.Tensor[];
            const z = tf.add(mu!, tf.mul(tf.exp(tf.mul(lv!, 0.5)), e));
            const logits = decoder.apply(z, { training: true }) as tf.Tensor;
            return tf.div(tf.add(bceWithLogitsSum(logits, x), klSum(mu!, lv!)), B) as tf.Scalar;
          },
          true,
          vars,
        )!;
      });
      loss.dataSync();
      loss.dispose();
    },
    dispose() {
      opt.dispose();
      encoder.dispose();
      decoder.dispose();
      x.dispose();
    },
  };
}

/** The PyTorch-examples MLP VAE (784-400-20), one Adam step. */
export function vaeMlp(seed: number): PreparedWorkload {
  const rng = new Rng(seed);
  const inp = tf.input({ shape: [784] });
  const h = tf.layers.dense({ units: 400, activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: 20 }).apply(h) as tf.SymbolicTensor;
  const lv = tf.layers.dense({ units: 20 }).apply(h) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: inp, outputs: [mu, lv] });
  const decoder = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [20], units: 400, activation: 'relu' }), tf.layers.dense({ units: 784 })],
  });
  const x = tf.tensor2d(binaryImages(B * 784, 0.3, rng), [B, 784]);
  return vaeStep({ encoder, decoder, x, latent: 20 }, seed);
}

/** The Keras-example convolutional VAE (latent 2), one Adam step. */
export function vaeConvKeras(seed: number): PreparedWorkload {
  const rng = new Rng(seed);
  const inp = tf.input({ shape: [28, 28, 1] });
  let h = tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 16, activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  const mu = tf.layers.dense({ units: 2 }).apply(h) as tf.SymbolicTensor;
  const lv = tf.layers.dense({ units: 2 }).apply(h) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: inp, outputs: [mu, lv] });
  const decoder = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [2], units: 7 * 7 * 64, activation: 'relu' }),
      tf.layers.reshape({ targetShape: [7, 7, 64] }),
      tf.layers.conv2dTranspose({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2dTranspose({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2dTranspose({ filters: 1, kernelSize: 3, strides: 1, padding: 'same' }),
    ],
  });
  const x = tf.tensor4d(binaryImages(B * 784, 0.3, rng), [B, 28, 28, 1]);
  return vaeStep({ encoder, decoder, x, latent: 2 }, seed);
}

/** 512×512 @ 512×512 with the active backend's matMul (all genphys backends compute synchronously). */
export function sgemm512(seed: number): PreparedWorkload {
  const n = 512;
  const rng = new Rng(seed);
  const da = new Float32Array(n * n);
  const db = new Float32Array(n * n);
  rng.fillNormal(da);
  rng.fillNormal(db);
  const a = tf.tensor2d(da, [n, n]);
  const b = tf.tensor2d(db, [n, n]);
  return {
    impl: 'tf.matMul',
    flops: 2 * n ** 3,
    step() {
      tf.matMul(a, b).dispose();
    },
    dispose() {
      tf.dispose([a, b]);
    },
  };
}
