// PCD chain count vs the Ising RBM's bias at L = 8 (BENCHMARKS.md "RBM defaults"): the demo's settings with
// a chosen number of persistent chains. Usage (after npm run build): node bench/ising-rbm-pcd-chains.mjs CHAINS K LR EPOCHS SEED [TEMPS]
import { runRbmPipeline } from '../dist/physics/rbm-pipeline.js';
import { Rng } from '../dist/core/rng.js';
const [chains, k, lr, epochs, seed] = process.argv.slice(2).map(Number);
const temps = (process.argv[7] ?? '2.5').split(',').map(Number);
const rows = await runRbmPipeline({ L: 8, temps, algorithm: 'wolff', nTrain: 8000, sweepsBetween: 5, burnIn: 500, chains: 4, workers: 2, rbmWorkers: 0,
  train: { nHidden: 128, method: 'pcd', k, batchSize: 50, pcdChains: chains, learningRate: lr, momentum: 0.5, optimizer: 'sgd', epochs, averaging: 0.3 },
  sample: { chains: 100, burnIn: 300, steps: 1000 } }, new Rng(seed));
const d = (a, b) => (100 * (a - b) / Math.abs(b)).toFixed(1);
for (const r of rows) console.log(`chains ${chains} k ${k} lr ${lr} ep ${epochs} seed ${seed} T=${r.T}: e ${d(r.rbm.energy.value, r.mc.energy.value)}% |m| ${d(r.rbm.absMagnetisation.value, r.mc.absMagnetisation.value)}% C ${d(r.rbm.specificHeat.value, r.mc.specificHeat.value)}% (±${(100*r.rbm.specificHeat.error/r.mc.specificHeat.value).toFixed(1)}) χ ${d(r.rbm.susceptibility.value, r.mc.susceptibility.value)}% (${r.trainSeconds.toFixed(1)} s)`);
