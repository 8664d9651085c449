// Per-kernel time of one bench workload's step, from tf.profile (kernelMs summed by kernel
// name over the steps; tfjs measures each kernel call's wall time, synchronously on cpu-storage
// backends), against the step's own wall time.
//   node bench/kernel-profile.mjs gan-dcgan-keras-b64|ddpm-unet32-b64 [--backend native] [--steps 5]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../dist/engine/backend.js';
import { ganDcganKeras, ddpmUnet32 } from '../dist/bench/workloads.js';

const args = process.argv.slice(2);
const name = args[0];
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
await initBackend(opt('--backend', 'native'), { quiet: true });
const steps = Number(opt('--steps', '5'));
const w = name === 'ddpm-unet32-b64' ? ddpmUnet32(0) : await ganDcganKeras(0);
for (let i = 0; i < 3; i++) w.step();
const by = new Map();
let wall = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const info = await tf.profile(() => w.step());
  wall += performance.now() - t0;
  for (const k of info.kernels) {
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.n++;
    by.set(k.name, e);
  }
}
const plain = [];
for (let i = 0; i < steps; i++) { const t0 = performance.now(); w.step(); plain.push(performance.now() - t0); }
plain.sort((a, b) => a - b);
let tot = 0;
for (const e of by.values()) tot += e.ms;
console.log(`${name}: plain step median ${plain[steps >> 1].toFixed(1)} ms; profiled ${(wall / steps).toFixed(1)} ms/step, kernels ${(tot / steps).toFixed(1)} ms/step`);
for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) console.log(`${(e.ms / steps).toFixed(2).padStart(9)} ms ${(e.n / steps).toFixed(0).padStart(5)}×  ${k}`);
w.dispose();
