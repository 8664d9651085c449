#!/usr/bin/env node
// Quick timings of the addon's kernels on the issue-3 workloads (not the official
// `npm run bench`, which lives in src/bench): sgemm 512³ and one RBM CD-1 step
// (784×500, batch 128) made of three fused half-steps and one cdUpdate, exactly
// the calls nativeKernels makes. Usage: node native/bench-kernels.mjs [threads]
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const a = createRequire(import.meta.url)(join(dirname(fileURLToPath(import.meta.url)), '..', 'build', 'Release', 'genphys_native.node'));
const threads = process.argv[2] ?? process.env.GENPHYS_THREADS;
if (threads) a.setThreads(Number(threads));
console.log(a.info());

function timed(label, fn, steps = 100, warm = 10, extra = '') {
  for (let i = 0; i < warm; i++) fn();
  const ts = [];
  const cs = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cs.push((c.user + c.system) / 1000);
  }
  ts.sort((x, y) => x - y);
  cs.sort((x, y) => x - y);
  const med = ts[ts.length >> 1];
  // CPU ms (all threads): load-independent; with 1 thread it estimates idle-machine wall time.
  console.log(`${label}: median ${med.toFixed(3)} ms, min ${ts[0].toFixed(3)} ms, cpu median ${cs[cs.length >> 1].toFixed(3)} ms${extra ? ' ' + extra(med) : ''}`);
  return med;
}

const state = new Uint32Array([0x12345678, 0x9abcdef0, 0x0fedcba9, 0x87654321]);
const rand = (n, f) => { const x = new Float32Array(n); a.fillUniform(state, x); return f ? x.map(f) : x; };

const n = 512;
const A = rand(n * n), B = rand(n * n), C = new Float32Array(n * n);
timed('sgemm-512', () => a.gemm(false, false, n, n, n, 1, A, B, 0, C), 200, 20, (m) => `${((2 * n ** 3) / m / 1e6).toFixed(1)} GFLOP/s`);

const Bt = 128, nv = 784, nh = 500, lr = 0.01;
const v0 = rand(Bt * nv, (u) => (u < 0.3 ? 1 : 0));
const W = rand(nv * nh, (u) => (u - 0.5) * 0.02);
const bv = new Float32Array(nv), bh = new Float32Array(nh);
const ph0 = new Float32Array(Bt * nh), h0 = new Float32Array(Bt * nh);
const pv1 = new Float32Array(Bt * nv), v1 = new Float32Array(Bt * nv), ph1 = new Float32Array(Bt * nh);
const step = () => {
  a.unitLayer(0, v0, W, bh, Bt, nv, nh, false, ph0, h0, state, 1);
  a.unitLayer(0, h0, W, bv, Bt, nh, nv, true, pv1, v1, state, 1);
  a.unitLayer(0, v1, W, bh, Bt, nv, nh, false, ph1, null, null, 1);
  a.cdUpdate(W, bv, bh, v0, ph0, v1, ph1, Bt, nv, nh, lr);
};
timed('rbm-cd1-784x500-b128', step, 100, 10);
timed('  half-step v->h (784->500, sample)', () => a.unitLayer(0, v0, W, bh, Bt, nv, nh, false, ph0, h0, state, 1));
timed('  half-step h->v (500->784, transW, sample)', () => a.unitLayer(0, h0, W, bv, Bt, nh, nv, true, pv1, v1, state, 1));
timed('  gemm only 128x784 @ 784x500', () => a.gemm(false, false, Bt, nh, nv, 1, v0, W, 0, ph0));
timed('  cdUpdate', () => a.cdUpdate(W, bv, bh, v0, ph0, v1, ph1, Bt, nv, nh, 1e-9));
