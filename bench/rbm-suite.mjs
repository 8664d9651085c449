// The small-problem suite behind the RBM trainer's defaults (issue #15; BENCHMARKS.md "RBM defaults").
// Every problem's data set holds its exact target distribution (each state repeated in proportion,
// largest-remainder rounding); the model has 2·n hidden units and gets the same number of full-batch
// updates under every method; the score is the exact mean log-likelihood against the optimum −H.
// Usage (after `npm run build`): node bench/rbm-suite.mjs [updates=3000] [problem-regex] [--json]
import { defaultSuite } from '../dist/ebm/suite.js';
import { trainOnProblem } from '../dist/ebm/suite-train.js';
import { exactPhaseInitStd } from '../dist/ebm/exact-phase.js';

const args = process.argv.slice(2).filter((a) => a !== '--json');
const json = process.argv.includes('--json');
const updates = Number(args[0] ?? 3000);
const filter = args[1] ? new RegExp(args[1]) : null;
// Each entry: a column of the table. `init: 'exact'` is min(1, 2/√n), the exact method's default.
const METHODS = [
  { name: 'genphys default (exact, Adam 0.05, cosine decay)', train: {}, init: 'exact' },
  { name: 'PCD-1, Adam 0.05', train: { method: 'pcd', optimizer: 'adam', learningRate: 0.05 }, init: 'exact' },
  { name: 'PCD-1, Adam 0.01', train: { method: 'pcd', optimizer: 'adam', learningRate: 0.01 }, init: 'exact' },
  { name: 'CD-1, Adam 0.01', train: { method: 'cd', optimizer: 'adam', learningRate: 0.01 }, init: 'exact' },
  { name: 'PT (10 replicas), Adam 0.01', train: { method: 'pt', optimizer: 'adam', learningRate: 0.01 }, init: 'exact' },
  { name: 'exact, SGD 0.01, init 0.01 (the old defaults with the exact gradient)', train: { method: 'exact', optimizer: 'sgd', learningRate: 0.01 }, init: 0.01 },
  { name: 'PCD-1, SGD 0.01, init 0.01 (the old defaults)', train: { method: 'pcd', optimizer: 'sgd', learningRate: 0.01 }, init: 0.01 },
];
const rowsOut = [];
for (const p of defaultSuite(1).filter((q) => !filter || filter.test(q.name))) {
  const support = p.target.filter((x) => x > 0).length;
  const rows = Math.max(1000, 16 * support);
  for (const m of METHODS) {
    const initStd = m.init === 'exact' ? exactPhaseInitStd(p.nVisible) : m.init;
    // Full-batch updates; PCD/PT run 1000 persistent chains (the batch size of the smaller data sets).
    const r = trainOnProblem(p, { hidden: 2 * p.nVisible, epochs: updates, rows, initStd, train: { batchSize: rows, chains: 1000, ...m.train } });
    const row = { problem: p.name, method: m.name, optimum: r.optimum, ll: r.ll, gap: r.gap, drop: r.bestLL - r.worstAfterBest, kl: r.kl, fidelity: r.fidelity, seconds: r.seconds };
    rowsOut.push(row);
    if (!json) console.error(`${p.name.padEnd(20)} ${m.name.slice(0, 40).padEnd(40)} gap ${r.gap.toFixed(3)} drop ${row.drop.toFixed(3)} ${r.seconds.toFixed(1)} s`);
  }
}
if (json) console.log(JSON.stringify(rowsOut, null, 1));
else {
  const problems = [...new Set(rowsOut.map((r) => r.problem))];
  console.log(`| problem | optimum (−H, nats) | ${METHODS.map((m) => m.name).join(' | ')} |`);
  console.log(`|---|---|${METHODS.map(() => '---').join('|')}|`);
  for (const p of problems) {
    const rs = rowsOut.filter((r) => r.problem === p);
    console.log(`| ${p} | ${rs[0].optimum.toFixed(3)} | ${rs.map((r) => `${r.gap.toFixed(3)}${r.drop > 0.05 ? ` (fell ${r.drop.toFixed(2)})` : ''}`).join(' | ')} |`);
  }
}
