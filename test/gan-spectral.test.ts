/**
 * Spectral normalisation (src/gan/spectral.ts and its use in the discriminator):
 * - power iteration converges to the largest singular value of a matrix built with
 *   known singular values (Householder reflections around a diagonal), from below;
 * - the persistent u of {@link SpectralNorm} makes n single steps equal one n-step run;
 * - W/σ(W) has spectral norm 1;
 * - a spectrally normalised discriminator's gradient (through σ(W)) matches finite
 *   differences, and the matrix view of conv kernels is `[kh·kw·in, out]`.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/engine/backend.js';
import { Rng } from '../src/core/rng.js';
import { Gan, SpectralNorm, getGanPreset, kernelMatrixShape, powerIteration, randomUnitVector, type GanModelConfig } from '../src/gan/index.js';

await initBackend('cpu', { quiet: true });

/** I − 2vvᵀ/vᵀv: an exactly orthogonal n×n matrix (float64). */
function householder(v: number[]): number[][] {
  const vv = v.reduce((s, x) => s + x * x, 0);
  return v.map((a, i) => v.map((b, j) => (i === j ? 1 : 0) - (2 * a * b) / vv));
}

/** H₁ diag(s) H₂ᵀ, `[m, n]` with singular values s (n ≤ m). */
function withSingularValues(m: number, n: number, s: number[], rng: Rng): number[][] {
  const H1 = householder(Array.from({ length: m }, () => rng.normal()));
  const H2 = householder(Array.from({ length: n }, () => rng.normal()));
  return H1.map((row) => H2.map((_, j) => row.reduce((acc, h1ik, k) => acc + (k < n ? h1ik * s[k]! * H2[j]![k]! : 0), 0)));
}

const S = [3, 2.5, 1, 0.5];

describe('power iteration', () => {
  const W = withSingularValues(6, 4, S, new Rng(1));

  it('converges to σ_max = 3 from below; error shrinks like (σ₂/σ₁)^(2k)', () => {
    const w = tf.tensor2d(W);
    const u0 = tf.tensor1d(randomUnitVector(new Rng(2), 4));
    const sig = (k: number) => {
      const r = powerIteration(w, u0, k);
      const v = r.sigma.dataSync()[0]!;
      tf.dispose([r.u, r.v, r.sigma]);
      return v;
    };
    const s1 = sig(1);
    const s5 = sig(5);
    const s60 = sig(60);
    // vᵀWu ≤ σ_max for unit u, v (up to float32 rounding, ~1e-6).
    expect(s1).toBeLessThanOrEqual(3 + 1e-5);
    expect(s5).toBeLessThanOrEqual(3 + 1e-5);
    expect(3 - s5).toBeLessThan(3 - s1 + 1e-6);
    // (2.5/3)^120 ≈ 3e-10 of truncation: only float32 rounding remains.
    expect(s60).toBeAllClose(3, { rtol: 1e-5 });
    tf.dispose([w, u0]);
  });

  it('n persistent single steps equal one n-step run; W/σ(W) then has spectral norm 1', () => {
    const kernel = tf.tensor2d(W);
    const { u, v } = SpectralNorm.randomVectors([6, 4], new Rng(3));
    const sn = new SpectralNorm([6, 4], u, v, 'test', 'sn-test');
    for (let i = 0; i < 60; i++) sn.step(kernel);
    const once = powerIteration(kernel, tf.tensor1d(u), 60);
    const sigma = sn.sigma(kernel);
    expect(sigma.dataSync()[0]!).toBeAllClose(once.sigma.dataSync()[0]!, { rtol: 1e-6 });
    expect(sigma.dataSync()[0]!).toBeAllClose(3, { rtol: 1e-5 });
    const normalized = sn.normalize(kernel) as tf.Tensor2D;
    const check = powerIteration(normalized, tf.tensor1d(randomUnitVector(new Rng(4), 4)), 200);
    expect(check.sigma.dataSync()[0]!).toBeAllClose(1, { rtol: 1e-5 });
    tf.dispose([kernel, once.u, once.v, once.sigma, sigma, normalized, check.u, check.v, check.sigma]);
    sn.dispose();
  });

  it('conv kernels are viewed as [kh·kw·in, out]', () => {
    expect(kernelMatrixShape([5, 5, 64, 128])).toEqual([1600, 128]);
    expect(kernelMatrixShape([784, 1])).toEqual([784, 1]);
    expect(() => kernelMatrixShape([3])).toThrow(/^spectral norm: a kernel needs rank ≥ 2, got shape \[3\]$/);
  });
});

describe('spectrally normalised discriminator', () => {
  const cfg: GanModelConfig = {
    ...getGanPreset('toy-mlp').model,
    discriminator: { kind: 'mlp', hidden: [5], slope: 0.2, dropout: 0, spectralNorm: true },
  };

  it('spectralStep drives each σ estimate to the kernel’s σ_max', () => {
    const gan = Gan.create(cfg, new Rng(5));
    for (let i = 0; i < 300; i++) gan.spectralStep();
    const est = gan.spectralSigmas();
    const k = gan.params.get('discriminator.dense1.kernel')! as tf.Tensor2D;
    // Reference: σ_max² is the largest eigenvalue of the 5×5 Gram matrix KᵀK, by 2000
    // float64 power iterations in JavaScript.
    const K = k.arraySync();
    const G = [0, 1, 2, 3, 4].map((i) => [0, 1, 2, 3, 4].map((j) => K.reduce((s, row) => s + row[i]! * row[j]!, 0)));
    let x = [1, 0.3, -0.2, 0.5, 0.1];
    let lam = 0;
    for (let it = 0; it < 2000; it++) {
      const y = G.map((row) => row.reduce((s, g, j) => s + g * x[j]!, 0));
      lam = Math.hypot(...y);
      x = y.map((v) => v / lam);
    }
    expect(est.get('discriminator.dense1')!).toBeAllClose(Math.sqrt(lam), { rtol: 1e-4 });
    gan.dispose();
  });

  it('the gradient through W/σ(W) matches finite differences (u, v held fixed)', () => {
    const gan = Gan.create(cfg, new Rng(6));
    const x = tf.tensor2d([0.4, -1.3, 1.1, 0.2, -0.6, 0.9], [3, 2]);
    const f = () => tf.sum(tf.square(gan.discriminate(x))) as tf.Scalar;
    const p = gan.params.get('discriminator.dense1.kernel')!;
    const { value, grads } = tf.variableGrads(f, [p]);
    const g = grads[p.name]!.dataSync();
    const w0 = Float32Array.from(p.dataSync() as Float32Array);
    // Outputs of order 0.1–1 in float32 and h = 1e-2: noise ~1e-5, truncation ~1e-5.
    const h = 1e-2;
    const fd = Array.from(w0, (_, i) => {
      const at = (d: number) => {
        const w = Float32Array.from(w0);
        w[i] = w0[i]! + d;
        tf.tidy(() => p.assign(tf.tensor(w, p.shape)));
        const t = f();
        const v = t.dataSync()[0]!;
        t.dispose();
        return v;
      };
      return (at(h) - at(-h)) / (2 * h);
    });
    tf.tidy(() => p.assign(tf.tensor(w0, p.shape)));
    expect(g).toBeAllClose(fd, { atol: 5e-4, rtol: 1e-2 });
    tf.dispose([value, x, ...Object.values(grads)]);
    gan.dispose();
  });
});
