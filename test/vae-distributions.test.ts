import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import {
  DiagonalNormal,
  bceWithLogits,
  cbLogNormaliser,
  cbLogNormaliser64,
  cbMean,
  gaussianLogProb,
  klDiagonal64,
  klGaussians,
  standardNormalLogProb,
} from '../src/vae/distributions.js';
import { Vae, type VaeConfig } from '../src/vae/models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LOG_2PI = Math.log(2 * Math.PI);

describe('DiagonalNormal', () => {
  const mu = [0.3, -1.2, 2.0];
  const lv = [-0.7, 0.4, -2.1];

  it('closed-form KL to N(0, I) equals a 1e5-sample Monte-Carlo estimate within 4 standard errors', () => {
    const n = 100_000;
    const rng = new Rng(11);
    const eps = new Float32Array(n * 3);
    rng.fillNormal(eps);
    const [kl, mc] = tf.tidy(() => {
      const q = new DiagonalNormal(tf.tensor2d(mu, [1, 3]).tile([n, 1]) as tf.Tensor2D, tf.tensor2d(lv, [1, 3]).tile([n, 1]) as tf.Tensor2D);
      const z = q.sample(tf.tensor2d(eps, [n, 3]));
      return [q.klToStdNormal().slice(0, 1), q.logProb(z).sub(standardNormalLogProb(z))];
    });
    const klv = kl!.dataSync()[0]!;
    const w = mc!.dataSync();
    tf.dispose([kl!, mc!]);
    let s = 0;
    let s2 = 0;
    for (const v of w) {
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const se = Math.sqrt((s2 / n - mean * mean) / n);
    // Float64 closed form as a third opinion.
    const exact = -0.5 * mu.reduce((a, m, i) => a + 1 + lv[i]! - m * m - Math.exp(lv[i]!), 0);
    expect(klv).toBeAllClose(exact, { rtol: 1e-5 });
    expect(Math.abs(mean - exact)).toBeLessThan(4 * se);
  });

  it('logProb and entropy match the float64 formulas', () => {
    const z = [0.1, 0.5, -0.3];
    const [lp, ent] = tf.tidy(() => {
      const q = new DiagonalNormal(tf.tensor2d(mu, [1, 3]), tf.tensor2d(lv, [1, 3]));
      return [q.logProb(tf.tensor2d(z, [1, 3])).dataSync()[0]!, q.entropy().dataSync()[0]!];
    });
    let e = 0;
    let h = 0;
    for (let i = 0; i < 3; i++) {
      e += -0.5 * ((z[i]! - mu[i]!) ** 2 / Math.exp(lv[i]!) + lv[i]! + LOG_2PI);
      h += 0.5 * (1 + LOG_2PI + lv[i]!);
    }
    expect(lp).toBeAllClose(e, { rtol: 1e-5 });
    expect(ent).toBeAllClose(h, { rtol: 1e-5 });
  });

  it('reparameterised samples have the right mean and variance (4 standard errors)', () => {
    const n = 50_000;
    const rng = new Rng(3);
    const eps = new Float32Array(n);
    rng.fillNormal(eps);
    const z = tf.tidy(() => new DiagonalNormal(tf.fill([n, 1], 1.5) as tf.Tensor2D, tf.fill([n, 1], Math.log(0.25)) as tf.Tensor2D).sample(tf.tensor2d(eps, [n, 1])).dataSync() as Float32Array);
    const m = z.reduce((a, b) => a + b, 0) / n;
    const v = z.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1);
    expect(Math.abs(m - 1.5)).toBeLessThan(4 * Math.sqrt(0.25 / n));
    // Var of the sample variance of a normal: 2σ⁴/(n−1).
    expect(Math.abs(v - 0.25)).toBeLessThan(4 * Math.sqrt((2 * 0.25 ** 2) / (n - 1)));
  });
});

describe('klGaussians (full covariance, float64)', () => {
  it('is 0 for identical distributions', () => {
    const S = [
      [2, 0.3, -0.1],
      [0.3, 1, 0.2],
      [-0.1, 0.2, 0.5],
    ];
    expect(Math.abs(klGaussians([1, 2, 3], S, [1, 2, 3], S))).toBeLessThan(1e-14);
  });

  it('equals the diagonal formula (and the tfjs closed form) for diagonal covariances', () => {
    const mu1 = [0.3, -1.2, 2.0];
    const lv1 = [-0.7, 0.4, -2.1];
    const mu2 = [1, 0, -0.5];
    const lv2 = [0.2, -0.3, 1.1];
    const diag = (lv: number[]) => lv.map((l, i) => lv.map((_, j) => (i === j ? Math.exp(l) : 0)));
    expect(klGaussians(mu1, diag(lv1), mu2, diag(lv2))).toBeAllClose(klDiagonal64(mu1, lv1, mu2, lv2), { rtol: 1e-13 });
    const tfKl = tf.tidy(() => new DiagonalNormal(tf.tensor2d(mu1, [1, 3]), tf.tensor2d(lv1, [1, 3])).klToStdNormal().dataSync()[0]!);
    expect(klGaussians(mu1, diag(lv1), [0, 0, 0], diag([0, 0, 0]))).toBeAllClose(tfKl, { rtol: 1e-5 });
  });

  it('matches a hand-computed 1D value and is asymmetric', () => {
    // KL(N(0,1) ‖ N(1,4)) = ½(1/4 + 1/4 − 1 + ln 4).
    expect(klGaussians([0], [[1]], [1], [[4]])).toBeAllClose(0.5 * (0.5 - 1 + Math.log(4)), { rtol: 1e-14 });
    expect(klGaussians([1], [[4]], [0], [[1]])).not.toBeAllClose(klGaussians([0], [[1]], [1], [[4]]), { rtol: 1e-3 });
  });

  it('equals a Monte-Carlo estimate for correlated covariances within 4 standard errors', () => {
    const mu1 = [0.5, -0.2];
    const S1 = [
      [1.0, 0.6],
      [0.6, 0.8],
    ];
    const mu2 = [0, 0.3];
    const S2 = [
      [1.5, -0.4],
      [-0.4, 1.0],
    ];
    const logN = (x: number[], m: number[], S: number[][]) => {
      const det = S[0]![0]! * S[1]![1]! - S[0]![1]! * S[1]![0]!;
      const d0 = x[0]! - m[0]!;
      const d1 = x[1]! - m[1]!;
      const q = (S[1]![1]! * d0 * d0 - 2 * S[0]![1]! * d0 * d1 + S[0]![0]! * d1 * d1) / det;
      return -0.5 * (q + Math.log(det) + 2 * LOG_2PI);
    };
    const l11 = Math.sqrt(S1[0]![0]!);
    const l21 = S1[1]![0]! / l11;
    const l22 = Math.sqrt(S1[1]![1]! - l21 * l21);
    const rng = new Rng(5);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const e0 = rng.normal();
      const e1 = rng.normal();
      const x = [mu1[0]! + l11 * e0, mu1[1]! + l21 * e0 + l22 * e1];
      const w = logN(x, mu1, S1) - logN(x, mu2, S2);
      s += w;
      s2 += w * w;
    }
    const mean = s / n;
    const se = Math.sqrt((s2 / n - mean * mean) / n);
    expect(Math.abs(mean - klGaussians(mu1, S1, mu2, S2))).toBeLessThan(4 * se);
  });

  it('rejects a covariance that is not positive definite with a one-line error', () => {
    expect(() => klGaussians([0, 0], [[1, 2], [2, 1]], [0, 0], [[1, 0], [0, 1]])).toThrow(/sigma1 is not positive definite/);
  });
});

describe('decoder likelihoods', () => {
  it('BCE with logits is finite for huge logits and equals −log Bernoulli for moderate ones', () => {
    const l = [-100, -3, 0, 2.5, 100];
    const x = [1, 0, 1, 1, 0];
    const v = tf.tidy(() => bceWithLogits(tf.tensor1d(x), tf.tensor1d(l)).dataSync());
    for (let i = 0; i < l.length; i++) {
      const p = 1 / (1 + Math.exp(-l[i]!));
      const ref = i === 0 ? 100 : i === 4 ? 100 : -(x[i]! * Math.log(p) + (1 - x[i]!) * Math.log(1 - p));
      expect(v[i]!).toBeAllClose(ref, { rtol: 1e-5 });
    }
  });

  it('Gaussian log-likelihood includes the −½ D ln(2πσ²) constant', () => {
    const x = [0.1, 0.9, 0.4];
    const m = [0.2, 0.7, 0.4];
    const s2 = 0.3;
    const v = tf.tidy(() => gaussianLogProb(tf.tensor2d(x, [1, 3]), tf.tensor2d(m, [1, 3]), Math.log(s2)).dataSync()[0]!);
    const ref = x.reduce((a, xi, i) => a - 0.5 * ((xi - m[i]!) ** 2 / s2 + Math.log(2 * Math.PI * s2)), 0);
    expect(v).toBeAllClose(ref, { rtol: 1e-6 });
  });

  it('continuous-Bernoulli normaliser: float32 tensor version matches float64 across η, including η → 0', () => {
    const etas = [-30, -5, -1, -0.2, -0.0501, -0.0499, -1e-3, -1e-7, 0, 1e-7, 1e-3, 0.0499, 0.0501, 0.2, 1, 5, 30];
    const v = tf.tidy(() => cbLogNormaliser(tf.tensor1d(etas)).dataSync());
    etas.forEach((e, i) => {
      // Direct definition in λ, float64, where it is well conditioned.
      const lam = 1 / (1 + Math.exp(-e));
      const direct =
        Math.abs(e) > 1e-2 && Math.abs(e) <= 5
          ? Math.log((2 * Math.atanh(1 - 2 * lam)) / (1 - 2 * lam))
          : Math.abs(e) > 5
            ? Math.log(Math.abs(e) / Math.tanh(Math.abs(e) / 2))
            : cbLogNormaliser64(e);
      expect(cbLogNormaliser64(e)).toBeAllClose(direct, { rtol: 1e-9 });
      expect(v[i]!).toBeAllClose(direct, { rtol: 2e-6, atol: 1e-6 });
    });
    expect(v[8]!).toBeAllClose(Math.LN2, { rtol: 1e-7 });
  });

  it('continuous-Bernoulli density integrates to 1 on [0, 1], and its mean matches the integral', () => {
    for (const eta of [-4, -0.7, -0.01, 0, 1e-5, 0.3, 2.5]) {
      const lam = 1 / (1 + Math.exp(-eta));
      const logC = cbLogNormaliser64(eta);
      // Simpson's rule, 2000 intervals: the integrand is smooth (exponential in x).
      const N = 2000;
      let z = 0;
      let m = 0;
      for (let i = 0; i <= N; i++) {
        const x = i / N;
        const w = i === 0 || i === N ? 1 : i % 2 ? 4 : 2;
        const p = Math.exp(x * Math.log(lam) + (1 - x) * Math.log(1 - lam) + logC);
        z += w * p;
        m += w * x * p;
      }
      z /= 3 * N;
      m /= 3 * N;
      expect(z).toBeAllClose(1, { rtol: 1e-9 });
      const mt = tf.tidy(() => cbMean(tf.scalar(eta)).dataSync()[0]!);
      expect(mt).toBeAllClose(m, { rtol: 1e-5 });
    }
  });
});

describe('gradient through the reparameterised sample', () => {
  const cases = [
    ['bernoulli', 'mlp'],
    ['gaussian', 'mlp'],
    ['gaussian-learned', 'mlp'],
    ['cbernoulli', 'mlp'],
    ['bernoulli', 'conv'],
  ] as const;
  for (const [decoder, kind] of cases) {
    it(`matches central finite differences (${kind}, ${decoder} decoder, fixed ε)`, () => {
      const cfg: VaeConfig = {
        inputShape: kind === 'mlp' ? [2, 3, 1] : [4, 4, 1],
        latent: 2,
        arch: kind === 'mlp' ? { kind: 'mlp', hidden: [5], activation: 'tanh' } : { kind: 'conv', filters: [2, 3], kernelSize: 3, dense: 4, activation: 'tanh' },
        decoder,
        sigma2: 0.5,
        beta: 0.7,
        init: 'torch',
      };
      const rng = new Rng(21);
      const model = Vae.create(cfg, rng);
      const D = kind === 'mlp' ? 6 : 16;
      const xv = new Float32Array(4 * D);
      rng.fillUniform(xv);
      const ev = new Float32Array(4 * 2);
      rng.fillNormal(ev);
      const x = tf.tensor2d(xv, [4, D]);
      const eps = tf.tensor2d(ev, [4, 2]);
      const lossAt = () => tf.tidy(() => model.loss(x, eps).dataSync()[0]!);
      const vars = [...model.params.values()];
      const { value, grads } = tf.variableGrads(() => model.loss(x, eps), vars);
      value.dispose();
      const h = 1e-2;
      let checked = 0;
      for (const [name, p] of model.params) {
        const g = grads[p.name]!.dataSync();
        const w = Float32Array.from(p.dataSync() as Float32Array);
        // A few coordinates of every tensor (all of small ones).
        for (let i = 0; i < Math.min(w.length, 4); i++) {
          const j = (i * 7) % w.length;
          const set = (d: number) => {
            const c = Float32Array.from(w);
            c[j] = w[j]! + d;
            tf.tidy(() => p.assign(tf.tensor(c, p.shape)));
          };
          set(h);
          const up = lossAt();
          set(-h);
          const dn = lossAt();
          set(0);
          const fd = (up - dn) / (2 * h);
          expect(g[j]!, `${name}[${j}]`).toBeAllClose(fd, { rtol: 2e-2, atol: 2e-3 });
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(20);
      tf.dispose(Object.values(grads));
      tf.dispose([x, eps]);
      model.dispose();
    });
  }
});
