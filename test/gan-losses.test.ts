/**
 * GAN objectives (src/gan/losses.ts):
 * - every loss's value on hand-picked logits against its closed form;
 * - every loss's gradient w.r.t. the logits against central finite differences;
 * - the WGAN-GP penalty against closed forms (linear and quadratic critics), and its
 *   gradient w.r.t. the discriminator's parameters (double backprop) against finite
 *   differences, for an MLP and a conv discriminator, on every backend of this run;
 * - which ops survive double backprop in tfjs 4.22 (the result the report quotes);
 * - unknown loss names and bad options give one-line errors.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { backendsUnderTest } from './engine-helpers.js';
import { initBackend, type BackendName } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import {
  GAN_LOSS_NAMES,
  Gan,
  getGanLoss,
  gradientPenalty,
  interpolationWeights,
  leakyReluTwice,
  type GanLoss,
  type GanModelConfig,
  TORCH_BATCHNORM,
} from '../src/gan/index.js';

const all: BackendName[] = ['cpu', ...(await backendsUnderTest())];

const ln = Math.log;
const LN3 = Math.fround(ln(3));
const sp = (x: number) => ln(1 + Math.exp(x));

/** Scalar value of a loss built inside a tidy. */
function value(f: () => tf.Scalar): number {
  const t = tf.tidy(f);
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

describe('loss values against closed forms', () => {
  // real logits [0, ln 3], fake logits [−ln 3, 0]: softplus(0) = ln 2,
  // softplus(ln 3) = ln 4, softplus(−ln 3) = ln(4/3).
  const real = () => tf.tensor1d([0, LN3]);
  const fake = () => tf.tensor1d([-LN3, 0]);
  const posR = (ln(2) + ln(4 / 3)) / 2; // mean softplus(−real)
  const negR = (ln(2) + ln(4)) / 2; // mean softplus(real)
  const negF = (ln(4 / 3) + ln(2)) / 2; // mean softplus(fake)
  const posF = (ln(4) + ln(2)) / 2; // mean softplus(−fake)
  // float32 arithmetic on O(1) values: a few ulps (≈ 1e-7 each).
  const tol = { rtol: 1e-6, atol: 1e-6 };

  it('non-saturating: D = ln(8/3), G = (3/2) ln 2; smoothing 0.9 moves 10% of the real term', async () => {
    await initBackend('cpu', { quiet: true });
    const ns = getGanLoss('ns');
    expect(value(() => ns.discriminatorLoss(real(), fake()))).toBeAllClose(ln(8 / 3), tol);
    expect(value(() => ns.generatorLoss(fake()))).toBeAllClose(1.5 * ln(2), tol);
    const smooth = getGanLoss('ns', { realLabel: 0.9 });
    expect(value(() => smooth.discriminatorLoss(real(), fake()))).toBeAllClose(0.9 * posR + 0.1 * negR + negF, tol);
    expect(posF).toBeAllClose(1.5 * ln(2), { rtol: 1e-15 });
  });

  it('minimax: same D loss, G = E log(1 − D(G(z))) = −mean softplus(fake)', async () => {
    await initBackend('cpu', { quiet: true });
    const mm = getGanLoss('minimax');
    expect(value(() => mm.discriminatorLoss(real(), fake()))).toBeAllClose(ln(8 / 3), tol);
    expect(value(() => mm.generatorLoss(fake()))).toBeAllClose(-negF, tol);
  });

  it('least squares (Mao et al. 2017, a = 0, b = c = 1)', async () => {
    await initBackend('cpu', { quiet: true });
    const ls = getGanLoss('lsgan');
    const d = 0.5 * ((1 + (LN3 - 1) ** 2) / 2) + 0.5 * ((LN3 * LN3) / 2);
    expect(value(() => ls.discriminatorLoss(real(), fake()))).toBeAllClose(d, tol);
    expect(value(() => ls.generatorLoss(fake()))).toBeAllClose(0.5 * (((-LN3 - 1) ** 2 + 1) / 2), tol);
  });

  it('Wasserstein: critic E f(fake) − E f(real) = −ln 3, G −E f(fake) = ln 3 / 2', async () => {
    await initBackend('cpu', { quiet: true });
    const w = getGanLoss('wgan-gp');
    expect(w.needsGradientPenalty).toBe(true);
    expect(value(() => w.discriminatorLoss(real(), fake()))).toBeAllClose(-LN3, tol);
    expect(value(() => w.generatorLoss(fake()))).toBeAllClose(LN3 / 2, tol);
  });

  it('cross-entropies stay finite at logits ±100 (softplus form)', async () => {
    await initBackend('cpu', { quiet: true });
    const ns = getGanLoss('ns');
    // A naive log(sigmoid(−100)) underflows to log 0 = −∞ in float32.
    expect(value(() => ns.generatorLoss(tf.tensor1d([-100])))).toBeAllClose(100, { rtol: 1e-6 });
    expect(value(() => ns.discriminatorLoss(tf.tensor1d([-100]), tf.tensor1d([100])))).toBeAllClose(200, { rtol: 1e-6 });
    expect(value(() => ns.discriminatorLoss(tf.tensor1d([100]), tf.tensor1d([-100])))).toBeAllClose(0, { atol: 1e-30 });
  });
});

describe('loss gradients w.r.t. logits: central finite differences', () => {
  // Logits of order 1, losses of order 1 in float32: rounding in each loss value is
  // ~1e-7, so the difference quotient with h = 1e-2 carries ~1e-5 of noise; the
  // truncation error h²·|f'''|/6 is ≲ 2e-5 for softplus and zero for the
  // quadratic and linear losses. atol 2e-4 is ten times the sum.
  const h = 1e-2;
  const rng = new Rng(11);
  const r0 = Array.from({ length: 5 }, () => 2 * rng.normal());
  const f0 = Array.from({ length: 5 }, () => 2 * rng.normal());

  function check(loss: GanLoss): void {
    const dLoss = (r: number[], f: number[]) => value(() => loss.discriminatorLoss(tf.tensor1d(r), tf.tensor1d(f)));
    const gLoss = (f: number[]) => value(() => loss.generatorLoss(tf.tensor1d(f)));
    const [gr, gf] = tf.grads((r: tf.Tensor, f: tf.Tensor) => loss.discriminatorLoss(r, f))([tf.tensor1d(r0), tf.tensor1d(f0)]);
    const gg = tf.grad((f: tf.Tensor) => loss.generatorLoss(f))(tf.tensor1d(f0));
    const fdR: number[] = [];
    const fdF: number[] = [];
    const fdG: number[] = [];
    for (let i = 0; i < 5; i++) {
      const rp = [...r0];
      const rm = [...r0];
      rp[i]! += h;
      rm[i]! -= h;
      fdR.push((dLoss(rp, f0) - dLoss(rm, f0)) / (2 * h));
      const fp = [...f0];
      const fm = [...f0];
      fp[i]! += h;
      fm[i]! -= h;
      fdF.push((dLoss(r0, fp) - dLoss(r0, fm)) / (2 * h));
      fdG.push((gLoss(fp) - gLoss(fm)) / (2 * h));
    }
    expect(gr!.dataSync()).toBeAllClose(fdR, { atol: 2e-4 });
    expect(gf!.dataSync()).toBeAllClose(fdF, { atol: 2e-4 });
    expect(gg.dataSync()).toBeAllClose(fdG, { atol: 2e-4 });
    tf.dispose([gr!, gf!, gg]);
  }

  it.each([
    ['ns', {}],
    ['ns', { realLabel: 0.9 }],
    ['minimax', {}],
    ['lsgan', {}],
    ['wgan-gp', {}],
  ] as const)('%s %j', async (name, opts) => {
    await initBackend('cpu', { quiet: true });
    check(getGanLoss(name, opts));
  });

  it('the analytic NS gradient is σ(l)/n for fakes in D and −σ(−l)/n in G (so the FD check has teeth)', async () => {
    await initBackend('cpu', { quiet: true });
    const ns = getGanLoss('ns');
    const gg = tf.grad((f: tf.Tensor) => ns.generatorLoss(f))(tf.tensor1d(f0));
    expect(gg.dataSync()).toBeAllClose(
      f0.map((l) => -1 / (1 + Math.exp(Math.fround(l))) / 5),
      { rtol: 1e-5, atol: 1e-7 },
    );
    gg.dispose();
    expect(sp(0)).toBeAllClose(ln(2), { rtol: 1e-15 });
  });
});

describe('gradient penalty: closed forms', () => {
  it('a linear critic x·w has ∇ = w everywhere: GP = λ(‖w‖ − 1)² = 10·(5 − 1)² = 160', async () => {
    await initBackend('cpu', { quiet: true });
    const w = tf.tensor2d([3, 4], [2, 1]);
    const critic = (x: tf.Tensor2D) => tf.matMul(x, w).reshape([-1]);
    const real = tf.tensor2d([1, 2, -1, 0.5, 0, 0], [3, 2]);
    const fake = tf.tensor2d([0, 1, 2, 2, -3, 1], [3, 2]);
    const eps = interpolationWeights(new Rng(1), 3);
    // √(25 + 1e-12) − 1 = 4 within float32 rounding.
    expect(value(() => gradientPenalty(critic, real, fake, eps))).toBeAllClose(160, { rtol: 1e-6 });
    expect(value(() => gradientPenalty(critic, real, fake, eps, 2.5))).toBeAllClose(40, { rtol: 1e-6 });
  });

  it('a quadratic critic ½‖x‖² has ∇ = x̂ = ε·real + (1 − ε)·fake', async () => {
    await initBackend('cpu', { quiet: true });
    const critic = (x: tf.Tensor2D) => tf.mul(tf.sum(tf.square(x), 1), 0.5);
    const real = tf.tensor2d([2, 0, 0, 4], [2, 2]);
    const fake = tf.tensor2d([0, 0, 0, 0], [2, 2]);
    const eps = tf.tensor2d([0.25, 0.75], [2, 1]);
    // x̂ = (0.5, 0) and (0, 3): norms 0.5 and 3; GP = 10·((−0.5)² + 2²)/2 = 21.25.
    expect(value(() => gradientPenalty(critic, real, fake, eps))).toBeAllClose(21.25, { rtol: 1e-6 });
  });

  it('ε ~ U[0, 1) is seeded: same seed, same weights; different seeds differ', async () => {
    await initBackend('cpu', { quiet: true });
    const a = interpolationWeights(new Rng(5), 64).dataSync();
    const b = interpolationWeights(new Rng(5), 64).dataSync();
    const c = interpolationWeights(new Rng(6), 64).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
  });
});

/** Tiny GANs whose discriminators the penalty is differentiated through. */
function tinyMlp(dropout: number): GanModelConfig {
  return {
    dataShape: [1, 1, 3],
    noiseDim: 2,
    noise: 'normal',
    generator: { kind: 'mlp', hidden: [3], batchNorm: false, slope: 0.2, bias: true, output: 'linear' },
    discriminator: { kind: 'mlp', hidden: [4], slope: 0.2, dropout, spectralNorm: false },
    init: { kind: 'torch' },
    batchNorm: TORCH_BATCHNORM,
  };
}
const tinyConv: GanModelConfig = {
  dataShape: [4, 4, 1],
  noiseDim: 2,
  noise: 'normal',
  generator: { kind: 'mlp', hidden: [3], batchNorm: false, slope: 0.2, bias: true, output: 'linear' },
  discriminator: { kind: 'dcgan', filters: [2], kernelSize: 3, stride: 2, slope: 0.3, dropout: 0, spectralNorm: false },
  init: { kind: 'keras' },
  batchNorm: TORCH_BATCHNORM,
};

/**
 * Finite-difference check of ∂GP/∂θ_D for every D parameter element. GP is of order
 * 1–10 in float32, so each evaluation carries ~1e-6 relative rounding (≲ 1e-5
 * absolute); with h = 1e-2 the central quotient's noise is ≲ 1e-3 and its truncation
 * error h²·|f'''|/6 ≲ 2e-4 (for a fixed activation pattern GP is a smooth function of
 * the weights; the seeds keep every pre-activation farther than h·|x| from a kink).
 * Hence atol 3e-3 + rtol 1e-2 against gradients of order 1–10.
 */
function checkPenaltyGradient(cfg: GanModelConfig, seed: number): void {
  const gan = Gan.create(cfg, new Rng(seed));
  const dataRng = new Rng(seed + 1);
  const B = 3;
  const D = gan.dataDim;
  const xr = new Float32Array(B * D);
  const xf = new Float32Array(B * D);
  dataRng.fillNormal(xr);
  dataRng.fillNormal(xf);
  const real = tf.tensor2d(xr, [B, D]);
  const fake = tf.tensor2d(xf, [B, D]);
  const eps = interpolationWeights(dataRng, B);
  const maskRng = new Rng(seed + 2);
  // A fresh clone per evaluation: the same dropout masks every time.
  const gp = () => gradientPenalty((x) => gan.discriminate(x, { training: true, rng: maskRng.clone() }), real, fake, eps);
  const vars = [...gan.discriminatorParams.values()];
  const before = tf.memory().numTensors;
  const { value: v0, grads } = tf.variableGrads(gp, vars);
  v0.dispose();
  const h = 1e-2;
  let maxAbs = 0;
  for (const p of vars) {
    const w = Float32Array.from(p.dataSync() as Float32Array);
    const fd = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const at = (delta: number) => {
        const ww = Float32Array.from(w);
        ww[i] = w[i]! + delta;
        tf.tidy(() => p.assign(tf.tensor(ww, p.shape)));
        return value(gp);
      };
      fd[i] = (at(h) - at(-h)) / (2 * h);
    }
    tf.tidy(() => p.assign(tf.tensor(w, p.shape)));
    // tfjs leaves out variables the value does not depend on: GP ignores the output bias.
    const g = grads[p.name]?.dataSync() ?? new Float32Array(p.size);
    for (const x of g) maxAbs = Math.max(maxAbs, Math.abs(x));
    expect(g, p.name).toBeAllClose(fd, { atol: 3e-3, rtol: 1e-2 });
  }
  // The penalty really depends on D's weights (a detached inner gradient gives zeros).
  expect(maxAbs).toBeGreaterThan(0.1);
  tf.dispose(Object.values(grads));
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([real, fake, eps]);
  gan.dispose();
}

describe.each(all)('gradient penalty: double backprop on %s', (backend) => {
  it('∂GP/∂θ_D of an MLP discriminator (with seeded dropout) matches finite differences', async () => {
    await initBackend(backend, { quiet: true });
    checkPenaltyGradient(tinyMlp(0.25), 3);
  });

  it('∂GP/∂θ_D of a conv discriminator (stride 2, same) matches finite differences', async () => {
    await initBackend(backend, { quiet: true });
    checkPenaltyGradient(tinyConv, 4);
  });

  it('which ops differentiate twice: everything D uses; tfjs LeakyRelu and Maximum do not', async () => {
    await initBackend(backend, { quiet: true });
    const w = tf.variable(tf.tensor2d([0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, -0.4, 0.9], [9, 1]));
    const ops: Record<string, (x: tf.Tensor2D) => tf.Tensor> = {
      leakyReluTwice: (x) => leakyReluTwice(tf.matMul(x, w), 0.2),
      tfLeakyRelu: (x) => tf.leakyRelu(tf.matMul(x, w), 0.2),
      maximum: (x) => {
        const y = tf.matMul(x, w);
        return tf.maximum(y, tf.mul(y, 0.2));
      },
      relu: (x) => tf.relu(tf.matMul(x, w)),
      tanh: (x) => tf.tanh(tf.matMul(x, w)),
      sigmoid: (x) => tf.sigmoid(tf.matMul(x, w)),
      softplus: (x) => tf.softplus(tf.matMul(x, w)),
      conv2d: (x) => tf.conv2d(x.reshape([2, 3, 3, 1]) as tf.Tensor4D, w.reshape([3, 3, 1, 1]) as tf.Tensor4D, 2, 'same'),
      conv2dTranspose: (x) => tf.conv2dTranspose(x.reshape([2, 3, 3, 1]) as tf.Tensor4D, w.reshape([3, 3, 1, 1]) as tf.Tensor4D, [2, 6, 6, 1], 2, 'same'),
    };
    const failed: Record<string, string> = {};
    const x = tf.tensor2d(Array.from({ length: 18 }, (_, i) => Math.sin(i + 1)), [2, 9]);
    for (const [name, f] of Object.entries(ops)) {
      try {
        const { value: v, grads } = tf.variableGrads(() => {
          const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(f(xx as tf.Tensor2D))))(x);
          return tf.sum(tf.square(g));
        }, [w]);
        tf.dispose([v, ...Object.values(grads)]);
      } catch (e) {
        failed[name] = (e as Error).message;
      }
    }
    // tfjs-core 4.22 registers no gradient for the comparison kernels Greater and Less,
    // which LeakyRelu's and Maximum's gradients use for their masks. If this changes
    // (a newer tfjs, or genphys registering zero gradients for them), update here.
    expect(Object.keys(failed).sort()).toEqual(['maximum', 'tfLeakyRelu']);
    expect(failed['tfLeakyRelu']).toMatch(/gradient function not found for Greater/);
    expect(failed['maximum']).toMatch(/gradient function not found for Less/);
    tf.dispose([w, x]);
  });
});

describe('bad inputs', () => {
  it('an unknown loss name is a one-line UsageError listing the choices', () => {
    expect(() => getGanLoss('hinge')).toThrow(UsageError);
    expect(() => getGanLoss('hinge')).toThrow(/^--loss: unknown GAN loss 'hinge'; choose one of ns, minimax, lsgan, wgan-gp$/);
    expect(GAN_LOSS_NAMES).toEqual(['ns', 'minimax', 'lsgan', 'wgan-gp']);
  });

  it('label smoothing outside (0, 1] and mismatched penalty batches are rejected', async () => {
    await initBackend('cpu', { quiet: true });
    expect(() => getGanLoss('ns', { realLabel: 1.5 })).toThrow(/^realLabel: need 0 < realLabel ≤ 1, got 1.5$/);
    const a = tf.zeros([3, 2]) as tf.Tensor2D;
    const b = tf.zeros([2, 2]) as tf.Tensor2D;
    const critic = (x: tf.Tensor2D) => tf.sum(x, 1);
    expect(() => gradientPenalty(critic, a, b, tf.zeros([3, 1]) as tf.Tensor2D)).toThrow(/^gradient penalty: real \[3,2\] and fake \[2,2\] batches differ in shape$/);
    expect(() => gradientPenalty(critic, a, a, tf.zeros([3]) as unknown as tf.Tensor2D)).toThrow(/need \[3, 1\]/);
    tf.dispose([a, b]);
  });
});
