import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { ShapeError } from '../src/core/errors.js';
import { initBackend, type BackendName } from '../src/engine/backend.js';
import { Unet, circularPad, countUnetParameters, groupNorm, silu, unetPreset, unetSpecs, type UnetConfig } from '../src/diffusion/unet.js';
import { GROUP_NORM, SILU, fusedAvailable } from '../src/engine/fused-ops.js';
import { backendsUnderTest, normals } from './engine-helpers.js';

afterAll(async () => {
  await initBackend('cpu', { quiet: true });
});

/** The hand count of src/diffusion/unet.ts: 927 b² + 1917 b + 65 921 for one input channel. */
const handCount = (b: number) => 927 * b * b + 1917 * b + 65_921;

describe('U-Net presets', () => {
  it('have the hand-counted parameter numbers (course 3,985,601; small 1,076,513; ising 333,905)', () => {
    expect(countUnetParameters(unetPreset('course-unet'))).toBe(3_985_601);
    expect(countUnetParameters(unetPreset('small-unet'))).toBe(1_076_513);
    expect(countUnetParameters(unetPreset('ising-unet', { size: [16, 16] }))).toBe(333_905);
    for (const b of [8, 16, 32, 64]) expect(countUnetParameters({ ...unetPreset('small-unet'), base: b })).toBe(handCount(b));
  });

  it('small-unet has one 1×1 skip per width-changing block and none in mid', () => {
    const names = unetSpecs(unetPreset('small-unet')).map((s) => s.name);
    expect(names.filter((n) => n.endsWith('.skip.kernel'))).toEqual(['unet.enc1.skip.kernel', 'unet.enc2.skip.kernel', 'unet.enc3.skip.kernel', 'unet.dec2.skip.kernel', 'unet.dec1.skip.kernel']);
    expect(new Set(names).size).toBe(names.length);
  });

  it('maps [B, 784] to [B, 784] (course and small) and leaks no tensors', async () => {
    await initBackend((await backendsUnderTest())[0]!, { quiet: true });
    for (const name of ['small-unet', 'course-unet'] as const) {
      const net = Unet.create(unetPreset(name), new Rng(1));
      const before = tf.memory().numTensors;
      const y = tf.tidy(() => net.apply(tf.tensor2d(normals(2 * 784, 3), [2, 784]), tf.tensor1d([1, 1000], 'int32')));
      expect(y.shape).toEqual([2, 784]);
      expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
      y.dispose();
      expect(tf.memory().numTensors).toBe(before);
      net.dispose();
    }
  });

  it('rejects image sizes the two stride-2 levels cannot halve, in one line', () => {
    expect(() => unetPreset('small-unet', { size: [30, 30] })).toThrow(ShapeError);
    expect(() => unetPreset('small-unet', { size: [30, 30] })).toThrow(/U-Net: image size 30×30 does not fit: both sides must be multiples of 4/);
    expect(() => unetPreset('ising-unet', { size: [6, 6] })).toThrow(/6×6/);
  });
});

/** Roll NHWC data by (dy, dx) sites: out[y, x] = in[y − dy, x − dx] (periodic). */
function roll(x: Float32Array, B: number, L: number, dy: number, dx: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let y = 0; y < L; y++)
      for (let xx = 0; xx < L; xx++) out[b * L * L + ((y + dy) % L) * L + ((xx + dx) % L)] = x[b * L * L + y * L + xx]!;
  return out;
}

describe('circular padding', () => {
  it('pads with the periodic continuation', () => {
    tf.setBackend('cpu');
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const p = circularPad(x, 1);
    expect(p.shape).toEqual([1, 5, 5, 1]);
    expect(Array.from(p.dataSync())).toEqual([9, 7, 8, 9, 7, 3, 1, 2, 3, 1, 6, 4, 5, 6, 4, 9, 7, 8, 9, 7, 3, 1, 2, 3, 1]);
    tf.dispose([x, p]);
  });

  it('ising-unet commutes with lattice translations by multiples of 4, not by 1', async () => {
    await initBackend('cpu', { quiet: true });
    const L = 8;
    const B = 2;
    const cfg: UnetConfig = { ...unetPreset('ising-unet', { size: [L, L] }), base: 8 };
    const net = Unet.create(cfg, new Rng(5));
    // Random weights make every layer matter; GroupNorm γ/β are perturbed too.
    const w = net.getWeights();
    const r = new Rng(9);
    for (const [k, v] of w) if (k.includes('norm')) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.3 * r.normal();
    net.setWeights(w);
    const x = normals(B * L * L, 11);
    const t = tf.tensor1d([3, 700], 'int32');
    const run = (inp: Float32Array) => tf.tidy(() => net.apply(tf.tensor2d(inp, [B, L * L]), t)).dataSync() as Float32Array;
    const y = Float32Array.from(run(x));
    for (const [dy, dx] of [
      [4, 0],
      [0, 4],
      [4, 4],
    ] as const) {
      // float32 sums in the same order at every site: agreement to rounding.
      expect(run(roll(x, B, L, dy, dx))).toBeAllClose(roll(y, B, L, dy, dx), { atol: 1e-5, rtol: 1e-5 });
    }
    // A shift by one site moves the stride-2 sampling grid: no equivariance (the test can fail).
    const off = run(roll(x, B, L, 1, 0));
    const ref = roll(y, B, L, 1, 0);
    let maxd = 0;
    for (let i = 0; i < off.length; i++) maxd = Math.max(maxd, Math.abs(off[i]! - ref[i]!));
    expect(maxd).toBeGreaterThan(1e-3);
    t.dispose();
    net.dispose();
  });
});

/** Float64 GroupNorm of NHWC data. */
function groupNorm64(x: Float64Array, [B, H, W, C]: number[], gamma: Float64Array, beta: Float64Array, G: number, eps = 1e-5): Float64Array {
  const out = new Float64Array(x.length);
  const cg = C / G;
  for (let b = 0; b < B; b++)
    for (let g = 0; g < G; g++) {
      let s = 0;
      let n = 0;
      const idx: number[] = [];
      for (let p = 0; p < H * W; p++) for (let c = g * cg; c < (g + 1) * cg; c++) idx.push(b * H * W * C + p * C + c);
      for (const i of idx) {
        s += x[i]!;
        n++;
      }
      const mean = s / n;
      let v = 0;
      for (const i of idx) v += (x[i]! - mean) ** 2;
      v /= n;
      for (const i of idx) out[i] = ((x[i]! - mean) / Math.sqrt(v + eps)) * gamma[i % C]! + beta[i % C]!;
    }
  return out;
}

// [shape, groups]: the U-Net's case (several channels per group), one group (LayerNorm-like),
// one channel per group (InstanceNorm-like), and a wider map with a batch of 3.
const GN_CASES: [[number, number, number, number], number][] = [
  [[2, 3, 3, 4], 2],
  [[2, 3, 3, 4], 1],
  [[1, 2, 5, 6], 6],
  [[3, 4, 4, 8], 4],
];

describe.each(GN_CASES)('GroupNorm of %j in %i groups', async (shape, G) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const C = shape[3];
  const x = normals(n, 21).map((v) => 1.5 * v + 0.7);
  const gamma = normals(C, 22).map((v) => 1 + 0.5 * v);
  const beta = normals(C, 23);
  // Random weights of the scalar loss Σ w ⊙ GN(x): every output element matters.
  const wLoss = normals(n, 24);
  const x64 = Float64Array.from(x);
  const g64 = Float64Array.from(gamma);
  const b64 = Float64Array.from(beta);
  const loss64 = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => {
    const y = groupNorm64(xx, shape, gg, bb, G);
    let s = 0;
    for (let i = 0; i < n; i++) s += wLoss[i]! * y[i]!;
    return s;
  };
  /** Central differences, h = 1e-5, in float64: truncation error O(h²) ≈ 1e-10. */
  const fd = (which: 0 | 1 | 2): Float64Array => {
    const args = [x64, g64, b64];
    const a = args[which]!;
    const out = new Float64Array(a.length);
    const h = 1e-5;
    for (let i = 0; i < a.length; i++) {
      const p = Float64Array.from(a);
      const m = Float64Array.from(a);
      p[i] = p[i]! + h;
      m[i] = m[i]! - h;
      const ap = [...args];
      const am = [...args];
      ap[which] = p;
      am[which] = m;
      out[i] = (loss64(ap[0]!, ap[1]!, ap[2]!) - loss64(am[0]!, am[1]!, am[2]!)) / (2 * h);
    }
    return out;
  };
  const want = { y: groupNorm64(x64, shape, g64, b64, G), dx: fd(0), dg: fd(1), db: fd(2) };
  const backends: BackendName[] = ['cpu', ...(await backendsUnderTest())];

  // On native this is the fused GenphysGroupNorm kernel and its backward kernel; on cpu and
  // wasm the composition of tfjs ops.
  it.each(backends)('forward matches the float64 reference and gradients match finite differences on %s', async (be) => {
    await initBackend(be, { quiet: true });
    expect(fusedAvailable(GROUP_NORM)).toBe(be === 'native');
    const xt = tf.tensor4d(x, shape);
    const gt = tf.tensor1d(gamma);
    const bt = tf.tensor1d(beta);
    const wt = tf.tensor4d(wLoss, shape);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => groupNorm(xt, gt, bt, G));
    // float32 normalisation: relative error a few ulp of the O(1) outputs.
    expect(y.dataSync()).toBeAllClose(want.y, { atol: 2e-5, rtol: 1e-5 });
    const grads = tf.tidy(() => tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(groupNorm(a as tf.Tensor4D, g, b, G), wt)))([xt, gt, bt]));
    expect(grads[0]!.dataSync()).toBeAllClose(want.dx, { atol: 1e-4, rtol: 1e-3 });
    expect(grads[1]!.dataSync()).toBeAllClose(want.dg, { atol: 1e-4, rtol: 1e-3 });
    expect(grads[2]!.dataSync()).toBeAllClose(want.db, { atol: 1e-4, rtol: 1e-3 });
    // Only y and the three gradients are left (the kernel's mean and rstd outputs are freed).
    expect(tf.memory().numTensors - before).toBe(4);
    tf.dispose([xt, gt, bt, wt, y, ...grads]);
  });
});

describe('SiLU', async () => {
  // Special values too: large |x| (σ saturates), zero, tiny.
  const xs = Float32Array.from([...normals(61, 31).map((v) => 3 * v), 0, -0, 1e-8, -1e-8, 30, -30, 88, -88, -104]);
  const sig = (u: number) => 1 / (1 + Math.exp(-u));
  const y64 = Float64Array.from(xs, (u) => u * sig(u));
  // d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x))), checked against central differences of the float64 function.
  const dy64 = Float64Array.from(xs, (u) => sig(u) * (1 + u * (1 - sig(u))));
  const h = 1e-6;
  const fd = Float64Array.from(xs, (u) => ((u + h) * sig(u + h) - (u - h) * sig(u - h)) / (2 * h));
  const backends: BackendName[] = ['cpu', ...(await backendsUnderTest())];

  it('the closed-form derivative agrees with finite differences', () => {
    expect(dy64).toBeAllClose(fd, { atol: 1e-8, rtol: 1e-6 });
  });

  it.each(backends)('forward and gradient match the float64 function on %s (fused kernel on native)', async (be) => {
    await initBackend(be, { quiet: true });
    expect(fusedAvailable(SILU)).toBe(be === 'native');
    const x = tf.tensor1d(xs);
    const w = tf.tensor1d(normals(xs.length, 32));
    const y = tf.tidy(() => silu(x));
    expect(y.dataSync()).toBeAllClose(y64, { atol: 1e-30, rtol: 3e-7 });
    const [g] = tf.tidy(() => tf.grads((a: tf.Tensor) => tf.sum(tf.mul(silu(a), w)))([x]));
    const wv = w.dataSync();
    // atol: the derivative crosses zero near x = −1.28, where float32 rounding of its two terms is absolute.
    expect(g!.dataSync()).toBeAllClose(Float64Array.from(dy64, (d, i) => d * wv[i]!), { atol: 2e-6, rtol: 1e-6 });
    tf.dispose([x, w, y, g!]);
  });
});

/** The peer benchmark script, whose PyTorch U-Net small-unet must equal. */
const PEER = join(process.cwd(), '..', 'shared', 'bench', 'torch_peer.py');
const PY = '/usr/bin/python3';
const hasTorch = existsSync(PEER) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) console.warn(`diffusion-unet: skipping the PyTorch cross-check: ${PY} with torch (apt python3-torch) or ${PEER} not available`);

/**
 * Builds the peer's `UNet` from its own source (the class block of the
 * ddpm-unet32-b64 workload), loads our weights into it (kernels permuted to OIHW,
 * dense kernels transposed) and prints its parameter count at base 32 and the
 * output at the requested base for our input.
 */
const PEER_CHECK = String.raw`
import json, math, sys, torch, torch.nn as nn, torch.nn.functional as F
src = open(sys.argv[1]).read()
a = src.index('        B, T, ch, emb = 64, 1000, 32, 128'); b = src.index('        net = UNet()')
ns = {'torch': torch, 'nn': nn, 'F': F, 'math': math}
exec('\n'.join(l[8:] for l in src[a:b].splitlines()), ns)
count32 = sum(p.numel() for p in ns['UNet']().parameters())
d = json.load(open(sys.argv[2]))
ns['ch'] = d['base']
net = ns['UNet']()
W = {k: torch.tensor(v, dtype=torch.float32).reshape(d['shapes'][k]) for k, v in d['weights'].items()}
blk = {'e1': 'enc1', 'e2': 'enc2', 'e3': 'enc3', 'mid': 'mid', 'x2': 'dec2', 'x1': 'dec1'}
sub = {'c1': 'conv1', 'n1': 'norm1', 'tp': 'temb', 'c2': 'conv2', 'n2': 'norm2', 'rc': 'skip'}
top = {'d1': 'down1', 'd2': 'down2', 'u2': 'up2', 'u1': 'up1', 'out': 'out', 'tm.1': 'time.dense1', 'tm.3': 'time.dense2'}
sd = {}
for name, p in net.named_parameters():
    parts = name.split('.')
    ours = 'unet.' + (blk[parts[0]] + '.' + sub[parts[1]] if parts[0] in blk else top['.'.join(parts[:-1])])
    if 'norm' in ours: v = W[ours + ('.gamma' if parts[-1] == 'weight' else '.beta')]
    elif parts[-1] == 'bias': v = W[ours + '.bias']
    else:
        k = W[ours + '.kernel']
        v = k.t() if k.dim() == 2 else k.permute(3, 2, 0, 1)
    sd[name] = v
net.load_state_dict(sd)
n = len(d['t'])
x = torch.tensor(d['x']).reshape(n, 28, 28, 1).permute(0, 3, 1, 2)
with torch.no_grad(): y = net(x, torch.tensor(d['t'], dtype=torch.float32) / 1000).permute(0, 2, 3, 1).reshape(-1)
print(json.dumps({'count32': count32, 'y': y.tolist()}))
`;

describe('small-unet is the peer benchmark’s PyTorch U-Net', () => {
  it.skipIf(!hasTorch)('same parameter count (1,076,513) and, with the same weights, the same output', async () => {
    await initBackend('cpu', { quiet: true });
    const dir = mkdtempSync(join(tmpdir(), 'genphys-unet-peer-'));
    try {
      // Base 8 keeps the weights file small; the layer structure is the same at every base.
      const cfg: UnetConfig = { ...unetPreset('small-unet'), base: 8 };
      const net = Unet.create(cfg, new Rng(1));
      const w = net.getWeights();
      const r = new Rng(3);
      for (const [k, v] of w) if (k.includes('norm')) for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.3 * r.normal();
      net.setWeights(w);
      const x = normals(2 * 784, 5);
      const t = [7, 613];
      const y = tf.tidy(() => net.apply(tf.tensor2d(x, [2, 784]), tf.tensor1d(t, 'int32'))).dataSync();
      const shapes = Object.fromEntries([...net.params].map(([k, v]) => [k, v.shape]));
      net.dispose();
      writeFileSync(join(dir, 'w.json'), JSON.stringify({ base: 8, weights: Object.fromEntries([...w].map(([k, v]) => [k, Array.from(v)])), shapes, x: Array.from(x), t }));
      writeFileSync(join(dir, 'check.py'), PEER_CHECK);
      const res = spawnSync(PY, [join(dir, 'check.py'), PEER, join(dir, 'w.json')], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
      expect(res.status, res.stderr).toBe(0);
      const peer = JSON.parse(res.stdout) as { count32: number; y: number[] };
      expect(peer.count32).toBe(countUnetParameters(unetPreset('small-unet')));
      // float32 on both sides, different summation orders: outputs O(1), agreement to ~1e-6
      // (seen: 1.5e-6 at base 32); a wrong padding or kernel layout gives O(1) differences.
      expect(y).toBeAllClose(peer.y, { atol: 2e-5, rtol: 1e-5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
