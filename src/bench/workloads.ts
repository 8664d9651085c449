/**
 * Benchmark workloads, defined to match the peer script
 * (../shared/bench/torch_peer.py) step for step, so the ratios are fair:
 *
 * - `rbm-cd1-784x500-b128`: one CD-1 update of a 784×500 Bernoulli RBM, batch 128,
 *   learning rate 0.01 (Hinton 2002, "Training products of experts by minimizing
 *   contrastive divergence"), through the trainer's own step.
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
import { BernoulliRBM } from '../ebm/rbm.js';
import { Trainer } from '../ebm/train.js';
import { adamOptimizer, isNativeAdam } from '../engine/native-backend.js';
import { GaussianDiffusion, randomTimesteps } from '../diffusion/process.js';
import { NoiseSchedule } from '../diffusion/schedule.js';
import { Unet, unetPreset } from '../diffusion/unet.js';

/** Workload names, in the peer's order. */
export const WORKLOADS = ['rbm-cd1-784x500-b128', 'vae-mlp-784-400-20-b128', 'vae-conv-keras-b128', 'sgemm-512', 'gan-dcgan-keras-b64', 'ddpm-unet32-b64'] as const;

/** One of {@link WORKLOADS}. */
export type WorkloadName = (typeof WORKLOADS)[number];

/**
 * End-to-end workloads: one timed step is one whole epoch of a real `genphys … train`
 * run on Fashion-MNIST, through the library's run layer (data in memory, per-epoch
 * metrics, checkpoints into a temporary run directory), as the CLI runs it:
 *
 * - `rbm-pcd1-epoch-fashion`: `rbm train --data fashion-mnist --binarize static --hidden 500
 *   --method pcd --k 1 --batch 128 --lr 0.01` with the command's defaults otherwise
 *   (checkpoint, grids and metrics every epoch); peer bench/rbm_pcd_epoch_torch.py.
 * - `vae-mlp-epoch-fashion`: `vae train --preset torch-mlp --data fashion-mnist` (the test
 *   pass and checkpoint every epoch); peer bench/vae_mlp_torch.py.
 * - `vae-conv-epoch-fashion`: the same with `--preset keras-conv`; peer bench/vae_conv_torch.py.
 */
export const E2E_WORKLOADS = ['rbm-pcd1-epoch-fashion', 'vae-mlp-epoch-fashion', 'vae-conv-epoch-fashion'] as const;

/** One of {@link E2E_WORKLOADS}. */
export type E2eWorkloadName = (typeof E2E_WORKLOADS)[number];

/** Every workload `genphys bench` knows: the peer's microbenchmarks, then the end-to-end epochs. */
export const BENCH_WORKLOADS = [...WORKLOADS, ...E2E_WORKLOADS] as const;

/** One of {@link BENCH_WORKLOADS}. */
export type BenchWorkloadName = (typeof BENCH_WORKLOADS)[number];

/** Whether `w` is an end-to-end (epoch) workload. */
export function isE2e(w: BenchWorkloadName): w is E2eWorkloadName {
  return (E2E_WORKLOADS as readonly string[]).includes(w);
}

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

/**
 * CD-1 as `genphys rbm train --method cd` runs it: one `Trainer.partialFit` of a 784×500
 * Bernoulli RBM on the given dense kernels — positive phase, the reconstruction monitor,
 * the k = 1 Gibbs chain, the negative statistics and the SGD update — so the number the
 * bench prints is the trainer's own step.
 */
export function rbmCd1Trainer(k: Kernels, seed: number): PreparedWorkload {
  const nv = 784;
  const nh = 500;
  const rng = new Rng(seed);
  const v0 = binaryImages(B * nv, 0.3, rng);
  const model = new BernoulliRBM({ nVisible: nv, nHidden: nh, units: '01', initStd: 0.01 }, rng.split(1), k);
  const trainer = new Trainer(model, { method: 'cd', k: 1, batchSize: B, learningRate: 0.01, initVisibleBias: false }, rng.split(2));
  const p = model.params;
  return {
    impl: `${k.name} kernels (Trainer.partialFit: CD-1 with the reconstruction monitor)`,
    step() {
      trainer.partialFit(v0);
    },
    params: () => [p.W!.slice(), p.a!.slice(), p.b!.slice()],
    dispose() {},
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
  const impl = isNativeAdam(opt) ? 'tfjs layers + native fused Adam' : 'tfjs layers + tf.train.adam';
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

/**
 * `ddpm-unet32-b64`: one Adam step (lr 2e-4) of the course's week-14 DDPM U-Net at base
 * 32 (`small-unet`, 1,076,513 parameters, the peer's `UNet` layer for layer), batch 64
 * of 28×28 images uniform in [−1, 1], ε-prediction MSE (Ho et al. 2020 eq. 14), T = 1000
 * with the unscaled linear β from 1e-4 to 0.02 (the peer's `linspace`), t uniform.
 */
export function ddpmUnet32(seed: number): PreparedWorkload {
  const Bd = 64;
  const D = 784;
  const rng = new Rng(seed);
  const net = Unet.create(unetPreset('small-unet', { T: 1000 }), rng.split(1));
  const diffusion = new GaussianDiffusion(NoiseSchedule.linear(1000, { scale: false }));
  const x0d = new Float32Array(Bd * D);
  rng.fillUniform(x0d);
  for (let i = 0; i < x0d.length; i++) x0d[i] = 2 * x0d[i]! - 1;
  const x0 = tf.tensor2d(x0d, [Bd, D]);
  const vars = [...net.params.values()];
  const opt = adamOptimizer(2e-4);
  const impl = isNativeAdam(opt) ? 'tfjs ops + native fused Adam' : 'tfjs ops + tf.train.adam';
  const eps = new Float32Array(Bd * D);
  return {
    impl,
    step() {
      const t = randomTimesteps(rng, Bd, 1000);
      rng.fillNormal(eps);
      const loss = tf.tidy(() => {
        const e = tf.tensor2d(eps, [Bd, D]);
        const tt = tf.tensor1d(t, 'int32');
        return opt.minimize(() => diffusion.lossTf('eps', net.apply(diffusion.qSampleTf(x0, tt, e), tt), x0, e, tt), true, vars)!;
      });
      loss.dataSync();
      loss.dispose();
    },
    dispose() {
      opt.dispose();
      net.dispose();
      x0.dispose();
    },
  };
}

/**
 * `gan-dcgan-keras-b64`: one simultaneous D and G Adam step of the TensorFlow DCGAN
 * tutorial's networks (the `keras-dcgan` preset), batch 64, as the peer does it: one
 * G forward in training mode (BatchNorm on batch statistics), D (dropout 0.3, training
 * mode) on G(z) for G's non-saturating loss BCE(D(G(z)), 1) and on the real batch and
 * the detached G(z) for D's loss BCE(D(x), 1) + BCE(D(G(z)), 0) (Goodfellow et al. 2014,
 * §3); both gradients from the same parameters, then both Adam steps (lr 1e-4, PyTorch's
 * defaults β = (0.9, 0.999), ε = 1e-8). Real images are U(−1, 1); z ~ N(0, I) per step.
 * Not in {@link WORKLOADS} yet: src/bench/run.ts's `prepare` has to dispatch it first.
 */
export async function ganDcganKeras(seed: number): Promise<PreparedWorkload> {
  const { Gan, bceWithLogits, resolveGanPreset } = await import('../gan/index.js');
  const Bg = 64;
  const rng = new Rng(seed);
  const p = resolveGanPreset('keras-dcgan', { train: { batchSize: Bg } });
  const gan = Gan.create(p.model, rng.split(1));
  const real = new Float32Array(Bg * 784);
  rng.fillUniform(real);
  for (let i = 0; i < real.length; i++) real[i] = 2 * real[i]! - 1;
  const x = tf.tensor2d(real, [Bg, 784]);
  const gVars = [...gan.generatorParams.values()];
  const dVars = [...gan.discriminatorParams.values()];
  const optG = adamOptimizer(1e-4, 0.9, 0.999, 1e-8);
  const optD = adamOptimizer(1e-4, 0.9, 0.999, 1e-8);
  const drop = rng.split(2);
  return {
    impl: `genphys Gan (tfjs ops) + ${isNativeAdam(optG) ? 'native fused Adam' : 'tf.train.adam'}`,
    step() {
      const z = gan.sampleNoise(rng, Bg);
      let fake: tf.Tensor2D | null = null;
      const g = tf.variableGrads(() => {
        const f = gan.generate(z, { training: true });
        fake = tf.keep(f);
        return bceWithLogits(gan.discriminate(f, { training: true, rng: drop }), 1);
      }, gVars);
      const d = tf.variableGrads(() => tf.add(bceWithLogits(gan.discriminate(x, { training: true, rng: drop }), 1), bceWithLogits(gan.discriminate(fake!, { training: true, rng: drop }), 0)) as tf.Scalar, dVars);
      // Gradients keyed by variable name, as applyGradients reads them.
      optG.applyGradients(g.grads as unknown as Record<string, tf.Variable>);
      optD.applyGradients(d.grads as unknown as Record<string, tf.Variable>);
      g.value.dataSync();
      tf.dispose([z, fake!, g.value, d.value, ...Object.values(g.grads), ...Object.values(d.grads)]);
    },
    dispose() {
      optG.dispose();
      optD.dispose();
      x.dispose();
      gan.dispose();
    },
  };
}
