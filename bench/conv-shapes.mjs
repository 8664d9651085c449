// GFLOP/s of the native backend's convolution kernels on the GAN and U-Net bench shapes
// (forward, input gradient, filter gradient), median of 7 calls each.
//   node bench/conv-shapes.mjs [gan|unet]   (after npm run build)
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../dist/engine/backend.js';
await initBackend('native', { quiet: true });
const which = process.argv[2] ?? 'gan';
// [label, N, H, W, C, k, O, stride, pad]
const shapes = which === 'gan'
  ? [['D conv1 1→64 s2', 64, 28, 28, 1, 5, 64, 2, 'same'], ['D conv2 64→128 s2', 64, 14, 14, 64, 5, 128, 2, 'same'], ['G convT1 as conv 128←256 s1', 64, 7, 7, 256, 5, 128, 1, 'same'], ['G convT2: conv 14x14x64 → 7x7x128 s2', 64, 14, 14, 64, 5, 128, 2, 'same']]
  : [['3×3 32→32 @28', 64, 28, 28, 32, 3, 32, 1, 1], ['3×3 64→64 @14', 64, 14, 14, 64, 3, 64, 1, 1], ['3×3 128→128 @7', 64, 7, 7, 128, 3, 128, 1, 1], ['3×3 s2 32→32 28→14', 64, 28, 28, 32, 3, 32, 2, 1]];
const med = (f) => { const ts = []; for (let i = 0; i < 7; i++) { const t0 = performance.now(); const r = f(); r.dataSync(); ts.push(performance.now() - t0); r.dispose(); } ts.sort((a, b) => a - b); return ts[3]; };
for (const [label, N, H, W, C, k, O, s, pad] of shapes) {
  const x = tf.randomNormal([N, H, W, C]);
  const f = tf.randomNormal([k, k, C, O]);
  const y = tf.conv2d(x, f, s, pad);
  const flop = 2 * y.size * k * k * C;
  const tf_ = med(() => tf.conv2d(x, f, s, pad));
  const ti = med(() => tf.conv2dTranspose(y, f, x.shape, s, pad));
  const tb = med(() => tf.backend_util ? tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: y }, { strides: s, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: f.shape }) : null);
  const g = (t) => `${t.toFixed(2).padStart(7)} ms ${(flop / t / 1e6).toFixed(0).padStart(4)} GF/s`;
  console.log(`${label.padEnd(38)} ${(flop / 1e9).toFixed(2)} GFLOP  fwd ${g(tf_)}  dX ${g(ti)}  dW ${g(tb)}`);
  tf.dispose([x, f, y]);
}
