// Trace of an Ising RBM's thermodynamics during training (the diagnosis behind the
// `ising rbm` defaults, BENCHMARKS.md "Ising model"). Trains one temperature of a dataset
// written by `genphys ising sample` and, every few epochs, measures ⟨e⟩ and ⟨|m|⟩ of the
// current RBM (the last SGD iterate) and of the running tail average, by block Gibbs
// sampling, relative to the training data.
//
//   npm run build
//   node dist/cli/bin.js --seed 1 ising sample --L 8 --temps 3.0,3.5 --n 10000 --out /tmp/d1
//   node bench/ising-rbm-trace.mjs /tmp/d1 3.5 [key=value ...]
//
// keys: seed (1), epochs (200), every (20), hidden (64), tied (0|1, translation-invariant
// weights), average (0: fraction of training averaged), init (random|bond: start at the
// exact Ising model, needs hidden = 2L² and tied), lr (0.02), momentum (0.5), schedule
// (cosine|constant), k (5), batch (50), chains (= batch), method (pcd|cd).
import { loadIsingDataset } from '../dist/physics/dataset.js';
import { LatticeSpinRBM } from '../dist/physics/lattice-rbm.js';
import { isingModel, squareTranslations } from '../dist/physics/lattice.js';
import { Trainer } from '../dist/ebm/train.js';
import { Rng } from '../dist/core/rng.js';

const [dir, Targ, ...kv] = process.argv.slice(2);
if (!dir || !Targ) {
  console.error('usage: node bench/ising-rbm-trace.mjs <dataset dir> <T> [key=value ...]');
  process.exit(2);
}
const o = Object.fromEntries(kv.map((s) => s.split('=')).map(([k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)]));
const T = Number(Targ);
const ds = loadIsingDataset(dir);
const entry = ds.temperatures.find((t) => Math.abs(t.T - T) < 1e-9);
if (!entry) throw new Error(`${dir}: no temperature ${T} (has ${ds.temperatures.map((t) => t.T).join(', ')})`);
const L = ds.manifest.L;
const N = L * L;
const model = isingModel({ L });
const data = Float32Array.from(entry.spins);
const n = data.length / N;
const H = o.hidden ?? 64;
const epochs = o.epochs ?? 200;
const every = o.every ?? 20;
const root = new Rng(o.seed ?? 1);

/** Mean e and |m| per site of rows × N spins. */
function stats(v, rows) {
  let e = 0;
  let m = 0;
  for (let r = 0; r < rows; r++) {
    let M = 0;
    let b = 0;
    for (let i = 0; i < N; i++) {
      const s = v[r * N + i];
      M += s;
      b += s * (v[r * N + model.nbr[4 * i]] + v[r * N + model.nbr[4 * i + 2]]);
    }
    e += -b / N;
    m += Math.abs(M) / N;
  }
  return [e / rows, m / rows];
}

const rbm = new LatticeSpinRBM({ nVisible: N, nHidden: H, ...(o.tied ? { translations: squareTranslations(L) } : {}) }, root.split(0));
if (o.init === 'bond') {
  // cosh 2w = e^{2/T}: family 0 holds the horizontal bonds, family 1 the vertical ones.
  if (!o.tied || H !== 2 * N) throw new Error('init=bond needs tied=1 hidden=2L²');
  const W = rbm.params.W;
  const w = 0.5 * Math.acosh(Math.exp(2 / T));
  W.fill(0);
  squareTranslations(L).forEach((g, t) => {
    for (const [fam, d] of [[0, 0], [1, 2]]) {
      W[g[0] * H + fam * N + t] = w;
      W[g[model.nbr[d]] * H + fam * N + t] = w;
    }
  });
}
const trainer = new Trainer(
  rbm,
  { method: o.method ?? 'pcd', k: o.k ?? 5, batchSize: o.batch ?? 50, chains: o.chains ?? o.batch ?? 50, learningRate: o.lr ?? 0.02, momentum: o.momentum ?? 0.5, schedule: o.schedule ?? 'cosine', finalLrFactor: 0.01, initVisibleBias: false, averaging: 0 },
  root.split(1),
);
// The tail average is kept here (not by the trainer) so that both models can be measured while training runs.
const avgFrac = o.average ?? 0;
const avg = new Float64Array(rbm.params.W.length);
let avgN = 0;
const step = trainer.partialFit.bind(trainer);
trainer.partialFit = (b) => {
  const r = step(b);
  if (avgFrac > 0 && trainer.progress >= 1 - avgFrac) {
    avgN++;
    const W = rbm.params.W;
    for (let i = 0; i < W.length; i++) avg[i] += (W[i] - avg[i]) / avgN;
  }
  return r;
};

const mrng = new Rng(12345);
function measure(chains = 400, burn = 200, steps = 400) {
  const v = new Float32Array(chains * N);
  for (let c = 0; c < chains; c++) {
    const r = mrng.int(n);
    v.set(data.subarray(r * N, (r + 1) * N), c * N);
  }
  const h = new Float32Array(chains * H);
  const hm = new Float32Array(chains * H);
  const vm = new Float32Array(chains * N);
  let se = 0;
  let sm = 0;
  for (let s = 0; s < burn + steps; s++) {
    rbm.sampleHiddens(v, mrng, { out: h, mean: hm });
    rbm.sampleVisibles(h, mrng, { out: v, mean: vm });
    if (s >= burn) {
      const [e, m] = stats(v, chains);
      se += e;
      sm += m;
    }
  }
  return [se / steps, sm / steps];
}
const [de, dm] = stats(data, n);
const pct = (x, ref) => `${((100 * (x - ref)) / Math.abs(ref)).toFixed(2).padStart(6)} %`;
console.log(`${dir} T = ${T}: ${n} configurations, data e ${de.toFixed(5)}, |m| ${dm.toFixed(5)}; settings ${JSON.stringify(o)}`);
console.log('epoch  lr         | last iterate: Δe      Δ|m|     | tail average: Δe      Δ|m|');
await trainer.fit(data, {
  epochs,
  onEpoch: (info) => {
    if (info.epoch % every !== 0 && info.epoch !== epochs) return;
    const [e, m] = measure();
    let tail = '';
    if (avgN > 0) {
      const W = rbm.params.W;
      const last = Float32Array.from(W);
      for (let i = 0; i < W.length; i++) W[i] = avg[i];
      const [ea, ma] = measure(800, 200, 600);
      W.set(last);
      tail = `${pct(ea, de)} ${pct(ma, dm)}  (${avgN} updates)`;
    }
    console.log(`${String(info.epoch).padStart(5)}  ${info.learningRate.toExponential(2)}   |  ${pct(e, de)} ${pct(m, dm)}   | ${tail}`);
  },
});
