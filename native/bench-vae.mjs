#!/usr/bin/env node
// Quick timings and per-kernel profiles of the VAE workloads of issue 3 on a tfjs
// backend (not the official `npm run bench`, which lives in src/bench). Models
// follow ../shared/bench/torch_peer.py: the PyTorch-examples MLP VAE (784-400-20)
// and the Keras-example conv VAE (latent 2), batch 128, Adam lr 1e-3, inputs random
// binary images with p = 0.3. Dense and conv layers use tfjs's fused ops, as
// tfjs-layers does.
//
// Usage: node native/bench-vae.mjs [--dist DIR] [--backend native|cpu|wasm] [--only mlp|conv] [--profile] [--steps N] [--tfadam]
import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const dist = resolve(opt('dist', 'dist'));
const backend = opt('backend', 'native');
const only = opt('only', 'all');
const profile = args.includes('--profile');

let makeAdam = (lr) => tf.train.adam(lr);
if (backend === 'native') {
  const nb = await import(pathToFileURL(`${dist}/engine/native-backend.js`).href);
  if (!nb.registerNativeBackend()) throw new Error('native backend unavailable');
  // --tfadam keeps tfjs's op-by-op Adam; the default is the fused native one.
  if (!args.includes('--tfadam')) makeAdam = (lr) => nb.adamOptimizer(lr);
}
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
await tf.ready();
console.log(`backend ${tf.getBackend()}`);

let seed = 1;
const glorot = (shape) => tf.randomUniform(shape, -Math.sqrt(6 / (shape.at(-1) + shape.at(-2))), Math.sqrt(6 / (shape.at(-1) + shape.at(-2))), 'float32', seed++);
const dense = (nin, nout) => ({ w: tf.variable(glorot([nin, nout])), b: tf.variable(tf.zeros([nout])) });
const convK = (fh, fw, cin, cout) => ({ w: tf.variable(tf.randomUniform([fh, fw, cin, cout], -0.1, 0.1, 'float32', seed++)), b: tf.variable(tf.zeros([cout])) });
const fdense = (x, l, act = 'linear') => tf.fused.matMul({ a: x, b: l.w, bias: l.b, activation: act });

function bceSum(logits, x) {
  // max(l, 0) − l·x + log(1 + e^{−|l|})
  return tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}
function kl(mu, lv) {
  return tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, lv), tf.square(mu)), tf.exp(lv))));
}

function mlpVae() {
  const e1 = dense(784, 400), mu = dense(400, 20), lv = dense(400, 20), d1 = dense(20, 400), d2 = dense(400, 784);
  const x = tf.cast(tf.less(tf.randomUniform([128, 784], 0, 1, 'float32', 5), 0.3), 'float32');
  return {
    x,
    loss: () => {
      const h = fdense(x, e1, 'relu');
      const m = fdense(h, mu);
      const l = fdense(h, lv);
      const z = tf.add(m, tf.mul(tf.exp(tf.mul(0.5, l)), tf.randomNormal(m.shape)));
      const logits = fdense(fdense(z, d1, 'relu'), d2);
      return tf.div(tf.add(bceSum(logits, x), kl(m, l)), 128);
    },
  };
}

function convVae() {
  const c1 = convK(3, 3, 1, 32), c2 = convK(3, 3, 32, 64);
  const d = dense(7 * 7 * 64, 16), mu = dense(16, 2), lv = dense(16, 2), e = dense(2, 7 * 7 * 64);
  // conv2dTranspose filters are [fh, fw, outC, inC].
  const tconvK = (fh, fw, cout, cin) => ({ w: convK(fh, fw, cout, cin).w, b: tf.variable(tf.zeros([cout])) });
  const t1 = tconvK(3, 3, 64, 64), t2 = tconvK(3, 3, 32, 64), t3 = tconvK(3, 3, 1, 32);
  const x = tf.cast(tf.less(tf.randomUniform([128, 28, 28, 1], 0, 1, 'float32', 6), 0.3), 'float32');
  const tconv = (h, l, out, s) => tf.add(tf.conv2dTranspose(h, l.w, out, s, 'same'), l.b);
  return {
    x,
    loss: () => {
      let h = tf.fused.conv2d({ x, filter: c1.w, strides: 2, pad: 'same', bias: c1.b, activation: 'relu' });
      h = tf.fused.conv2d({ x: h, filter: c2.w, strides: 2, pad: 'same', bias: c2.b, activation: 'relu' });
      h = fdense(tf.reshape(h, [128, 7 * 7 * 64]), d, 'relu');
      const m = fdense(h, mu);
      const l = fdense(h, lv);
      const z = tf.add(m, tf.mul(tf.exp(tf.mul(0.5, l)), tf.randomNormal(m.shape)));
      let g = tf.reshape(fdense(z, e, 'relu'), [128, 7, 7, 64]);
      g = tf.relu(tconv(g, t1, [128, 14, 14, 64], 2));
      g = tf.relu(tconv(g, t2, [128, 28, 28, 32], 2));
      const logits = tconv(g, t3, [128, 28, 28, 1], 1);
      return tf.div(tf.add(bceSum(logits, x), kl(m, l)), 128);
    },
  };
}

async function run(name, model, steps, warm) {
  const optimizer = makeAdam(1e-3);
  const step = () => {
    const loss = optimizer.minimize(model.loss, true);
    loss.dataSync();
    loss.dispose();
  };
  for (let i = 0; i < warm; i++) step();
  const before = tf.memory().numTensors;
  const ts = [];
  const cs = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  ts.sort((a, b) => a - b);
  cs.sort((a, b) => a - b);
  // CPU ms per step (all threads) is a load-independent figure on a shared machine:
  // with GENPHYS_THREADS=1 it estimates the wall time the step takes on an idle core.
  console.log(
    `${name}: median ${ts[ts.length >> 1].toFixed(2)} ms, min ${ts[0].toFixed(2)} ms, cpu median ${cs[cs.length >> 1].toFixed(2)} ms ` +
      `(${steps} steps; tensors ${before} → ${tf.memory().numTensors})`,
  );
  if (profile) {
    const info = await tf.profile(step);
    const by = new Map();
    for (const k of info.kernels) {
      const r = by.get(k.name) ?? { ms: 0, n: 0 };
      r.ms += k.kernelTimeMs;
      r.n += 1;
      by.set(k.name, r);
    }
    const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20);
    for (const [k, r] of rows) console.log(`  ${k.padEnd(24)} ${r.ms.toFixed(2).padStart(8)} ms  ×${r.n}`);
  }
}

const steps = Number(opt('steps', '30'));
if (only === 'all' || only === 'mlp') await run('vae-mlp-784-400-20-b128', mlpVae(), steps, 5);
if (only === 'all' || only === 'conv') await run('vae-conv-keras-b128', convVae(), Math.min(steps, 30), 3);
