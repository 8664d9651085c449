// The same CD-1 workload as bench/lab-rbm.mjs, in Node: updates per second of the Trainer on the
// fastest kernels here (GENPHYS_KERNELS=js for the TypeScript ones). node bench/lab-rbm-native.mjs [updates]
import { Rng } from '../dist/core/rng.js';
import { BernoulliRBM } from '../dist/ebm/rbm.js';
import { Trainer } from '../dist/ebm/train.js';
import { getKernels } from '../dist/engine/index.js';
import { loadImageDataset, toUnitFloat, binarizeStatic } from '../dist/data/index.js';
const tr = loadImageDataset('fashion-mnist', 'train', {});
const n = 2000, nv = 784;
const x = binarizeStatic(toUnitFloat(tr.pixels.subarray(0, n * nv)));
const rng = new Rng(1);
const m = new BernoulliRBM({ nVisible: nv, nHidden: 64 }, rng.split(1));
const t = new Trainer(m, { method: 'cd', k: 1, batchSize: 64, learningRate: 0.01 }, rng.split(2));
const k = getKernels();
for (let i = 0; i < 50; i++) t.trainSlice(x, { maxBatches: 1, plannedEpochs: 1000 });
const N = Number(process.argv[2] ?? 2000);
const t0 = performance.now();
let done = 0;
while (done < N) { const b = t.step; t.trainSlice(x, { maxBatches: N - done, plannedEpochs: 1000 }); done += t.step - b; }
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ kernels: `${k.name} (${k.blas})`, updates: N, seconds: s, perSecond: N / s }));
