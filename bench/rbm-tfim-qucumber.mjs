// QuCumber's TFIM1D tutorial setting (10 spins, h = J = 1, 10 hidden units, 10 000 σᶻ samples,
// CD-10, lr 0.01, batch 100, 500 epochs) against genphys's defaults with the same model and budget.
// The data set holds |ψ|² of the exactly diagonalised ground state (largest-remainder rounding to
// 10 000 rows) instead of QuCumber's sampled file. Reports fidelity (Σ √(p q))² and KL.
// Usage (after `npm run build`): node bench/rbm-tfim-qucumber.mjs [epochs=500]
import { tfimGroundStateProblem } from '../dist/ebm/suite.js';
import { trainOnProblem } from '../dist/ebm/suite-train.js';
import { exactPhaseInitStd } from '../dist/ebm/exact-phase.js';

const epochs = Number(process.argv[2] ?? 500);
const p = tfimGroundStateProblem(10, { h: 1 });
const runs = [
  ['QuCumber tutorial settings: CD-10, SGD 0.01, init 0.01', { method: 'cd', k: 10, optimizer: 'sgd', learningRate: 0.01, batchSize: 100 }, 0.01],
  ['genphys defaults (exact, Adam 0.05 with cosine decay), batch 100', { batchSize: 100 }, exactPhaseInitStd(10)],
  ['PCD-10, Adam 0.01, batch 100', { method: 'pcd', k: 10, optimizer: 'adam', learningRate: 0.01, batchSize: 100 }, exactPhaseInitStd(10)],
];
for (const [name, train, initStd] of runs) {
  const r = trainOnProblem(p, { hidden: 10, epochs, rows: 10_000, initStd, train, evalEvery: epochs });
  console.log(`| ${name} | ${r.fidelity.toFixed(4)} | ${r.kl.toFixed(4)} | ${r.gap.toFixed(4)} | ${r.seconds.toFixed(1)} |`);
}
