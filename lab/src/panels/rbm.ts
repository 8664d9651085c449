/**
 * RBM panel: a Bernoulli restricted Boltzmann machine trained live on Ising
 * configurations, bars-and-stripes or a binarised MNIST / Fashion-MNIST subset, with its
 * filters, samples and persistent chains as images, the exact log-likelihood where the
 * model can be enumerated (else reconstruction error and free-energy gap), and, on Ising
 * data, the samples' e and |m| against Monte Carlo and Kaufman. Its settings map one to
 * one onto `genphys rbm train` flags; its checkpoint is the CLI's.
 */
import { Chart } from '../chart.js';
import { el, type PanelSpec } from '../panel.js';
import type { Settings } from '../protocol.js';
import { drawTiles } from '../rbm-draw.js';
import { UPLOAD_FILE, isingFileName, type Est } from '../rbm-data.js';
import './rbm.css';

interface Metrics {
  step: number;
  ll: number;
  testLL: number;
  recon: number;
  gap: number;
}
interface RbmSnapshot {
  data: string;
  spec: string;
  nVisible: number;
  nHidden: number;
  image: { height: number; width: number };
  method: string;
  optimizer: string;
  k: number;
  batchSize: number;
  learningRate: number;
  epoch: number;
  plannedEpochs: number;
  exact: boolean;
  optimum: number | null;
  hasTest: boolean;
  latest: Metrics | null;
  history: { step: Float64Array; ll: Float64Array; testLL: Float64Array; recon: Float64Array; gap: Float64Array };
  filters: Float32Array;
  filterCount: number;
  samples: Float32Array;
  chains: Float32Array | null;
  ising: { L: number; T: number; mc: { e: Est; absM: Est }; kaufmanE: number; exactAbsM: number | null; rbm: { e: Est; absM: Est; sweeps: number } | null; rbmExact: { e: number; absM: number } | null; measured: { e: Est; absM: Est; sweeps: number; burnIn: number; step: number } | null } | null;
  imported: string | null;
  trainSeconds: number;
  trainUpdates: number;
}

const fmt = (x: number | undefined | null, d = 4) => (x !== undefined && x !== null && Number.isFinite(x) ? x.toFixed(d) : '—');
const pm = (e: Est | undefined | null, d = 4) => (e && Number.isFinite(e.value) ? `${fmt(e.value, d)} ± ${fmt(e.error, d)}` : '—');

/** The `genphys rbm train` data spec of the panel's settings. */
function dataSpec(s: Settings): { data: string; limit?: number } {
  const d = String(s.data);
  if (d === 'bars-and-stripes') return { data: `bars-and-stripes:${Number(s.basSize)}` };
  if (d === 'ising') return { data: `spins:${isingFileName(Number(s.L), Number(s.T))}` };
  if (d === 'upload') return { data: `spins:${UPLOAD_FILE}` };
  return { data: d, limit: Number(s.limit) };
}

/** The controls that belong to one data source (the others are hidden while it is chosen). */
const DATA_CONTROLS: Record<string, string> = {
  basSize: 'bars-and-stripes',
  L: 'ising',
  T: 'ising',
  isingSamples: 'ising',
  isingBurnIn: 'ising',
  isingSpacing: 'ising',
  isingAlgo: 'ising',
  limit: 'image',
};

/** The RBM panel: its controls, the CLI mapping of its settings, exports and the view. */
export const rbm: PanelSpec = {
  id: 'rbm',
  title: 'Restricted Boltzmann machine: training live, exact likelihood where it can be had',
  engine: 'rbm',
  blurb:
    'A Bernoulli RBM (0/1 units) trained by genphys’s Trainer: contrastive divergence (Hinton 2002), persistent CD (Tieleman 2008), parallel tempering (Desjardins et al. 2010), or the exact gradient by enumerating a layer of ≤ 20 units. “auto” and 0 mean the CLI’s defaults. The log-likelihood is exact (log Z by enumeration) where 2ⁿ·visible·hidden ≤ 2²⁶; larger models show the reconstruction error and the free-energy gap F(held-out) − F(train) (Hinton’s practical guide §6). Ising data are sampled here; the RBM’s samples are measured like the Monte Carlo configurations. Settings JSON runs with genphys --config FILE; the checkpoint opens with genphys rbm eval DIR.',
  controls: [
    { key: 'data', label: 'data', kind: 'select', default: 'bars-and-stripes', options: ['bars-and-stripes', 'ising', 'fashion-mnist', 'mnist', 'upload'], help: 'upload: a spin file (.txt 0/1 or ±1 per line, or .npy [n, …]) picked with the file input' },
    { key: 'basSize', label: 'bars n', kind: 'select', default: '3', options: ['2', '3', '4', '5', '6'], help: 'bars-and-stripes: n × n images' },
    { key: 'L', label: 'Ising L', kind: 'select', default: '4', options: ['3', '4', '5', '6', '7', '8'], help: 'Ising: L × L periodic lattice, nVisible = L²' },
    { key: 'T', label: 'Ising T', kind: 'number', default: 2.269, min: 0.1, max: 10, step: 0.001, help: 'Ising: temperature of the Monte Carlo data (T_c ≈ 2.269)' },
    { key: 'isingSamples', label: 'configs', kind: 'number', default: 1000, min: 10, max: 100000, step: 1, help: 'Ising: training configurations (another fifth is held out)' },
    { key: 'isingBurnIn', label: 'burn-in', kind: 'number', default: 1000, min: 0, max: 1e6, step: 1, help: 'Ising: sweeps before the first configuration' },
    { key: 'isingSpacing', label: 'spacing', kind: 'number', default: 10, min: 1, max: 1e4, step: 1, help: 'Ising: sweeps between kept configurations' },
    { key: 'isingAlgo', label: 'MC', kind: 'select', default: 'wolff', options: ['wolff', 'metropolis', 'heatbath'], help: 'Ising: Monte Carlo update' },
    { key: 'limit', label: 'images', kind: 'number', default: 1000, min: 10, max: 60000, step: 1, help: 'MNIST / Fashion-MNIST: the first n training images, binarised at ½ (--limit)' },
    { key: 'hidden', label: 'hidden', kind: 'number', default: 16, min: 1, max: 4096, step: 1, help: '--hidden' },
    { key: 'method', label: 'method', kind: 'select', default: 'auto', options: ['auto', 'cd', 'pcd', 'pt', 'exact'], help: '--method (auto: exact where it costs ≤ 2^26 multiply-adds per update, else pcd)' },
    { key: 'k', label: 'k', kind: 'number', default: 1, min: 1, max: 1000, step: 1, help: '--k: Gibbs steps per update' },
    { key: 'lr', label: 'lr', kind: 'number', default: 0, min: 0, max: 10, step: 0.001, help: '--lr (0: 0.05 with exact, else 0.01)' },
    { key: 'batch', label: 'batch', kind: 'number', default: 100, min: 1, max: 100000, step: 1, help: '--batch' },
    { key: 'optimizer', label: 'optimizer', kind: 'select', default: 'auto', options: ['auto', 'sgd', 'adam'], help: '--optimizer (auto: adam with exact, else sgd)' },
    { key: 'schedule', label: 'schedule', kind: 'select', default: 'auto', options: ['auto', 'constant', 'linear', 'exponential', 'cosine'], help: '--schedule over the planned epochs (auto: cosine with exact, else constant)' },
    { key: 'epochs', label: 'epochs (plan)', kind: 'number', default: 500, min: 1, max: 1e7, step: 1, help: '--epochs: the schedule is planned over these; training goes on past them at the final rate' },
    { key: 'momentum', label: 'momentum', kind: 'number', default: 0, min: 0, max: 0.999, step: 0.01, help: '--momentum (SGD)' },
    { key: 'weightDecay', label: 'weight decay', kind: 'number', default: 0, min: 0, max: 10, step: 0.0001, help: '--weight-decay' },
    { key: 'initStd', label: 'init std', kind: 'number', default: 0, min: 0, max: 10, step: 0.001, help: '--init-std (0: min(1, 2/√visible) with exact, else 0.01)' },
    { key: 'chains', label: 'chains', kind: 'number', default: 0, min: 0, max: 100000, step: 1, help: '--chains for pcd/pt (0: the batch size)' },
    { key: 'ptReplicas', label: 'PT replicas', kind: 'number', default: 10, min: 2, max: 1000, step: 1, help: '--pt-replicas' },
    { key: 'centering', label: 'centring', kind: 'checkbox', default: false, help: '--centering (Melchior et al. 2016)' },
    { key: 'kernels', label: 'kernels', kind: 'select', default: 'wasm', options: ['wasm', 'typescript'], help: 'dense algebra: wasm = XNNPACK products on tfjs-backend-wasm (WebAssembly SIMD), typescript = the reference loops (float64 sums, 4–8× slower); the CLI uses the native OpenBLAS addon' },
    { key: 'updatesPerStep', label: 'updates/step', kind: 'number', default: 1, min: 1, max: 10000, step: 1, live: true, help: 'parameter updates per worker step (the counter counts updates)' },
    { key: 'evalEvery', label: 'eval every', kind: 'number', default: 10, min: 1, max: 1e6, step: 1, live: true, help: 'updates between metric evaluations' },
  ],
  actions: [
    { name: 'checkpoint', label: 'checkpoint (CLI run files)', help: 'config.json, checkpoint.json and checkpoint.w<step>.safetensors: put them in one folder and run genphys rbm eval FOLDER' },
    { name: 'data', label: 'spin data (.txt)', help: 'the Ising or uploaded configurations as a 0/1 spin file, for --data spins:FILE' },
  ],
  importFiles: { label: 'import a CLI checkpoint (.json + .safetensors) or spin data (.txt, .npy):', accept: '.json,.safetensors,.txt,.npy' },
  cli: (s) => {
    const d = dataSpec(s);
    const flags: Record<string, string | number | boolean> = { data: d.data, ...(d.limit !== undefined ? { limit: d.limit, binarize: 'static' } : {}), hidden: Number(s.hidden) };
    if (s.method !== 'auto') flags.method = String(s.method);
    flags.k = Number(s.k);
    flags.epochs = Number(s.epochs);
    if (Number(s.lr) > 0) flags.lr = Number(s.lr);
    flags.batch = Number(s.batch);
    if (s.optimizer !== 'auto') flags.optimizer = String(s.optimizer);
    if (s.schedule !== 'auto') flags.schedule = String(s.schedule);
    if (Number(s.initStd) > 0) flags['init-std'] = Number(s.initStd);
    flags.momentum = Number(s.momentum);
    flags['weight-decay'] = Number(s.weightDecay);
    if (s.centering === true) flags.centering = true;
    if (Number(s.chains) > 0) flags.chains = Number(s.chains);
    flags['pt-replicas'] = Number(s.ptReplicas);
    flags.seed = Number(s.seed);
    return { genphys: 'rbm train', flags };
  },
  build(root, api) {
    root.classList.add('rbm-panel');
    const infoCard = el('div', 'card');
    infoCard.append(el('h3', '', 'training'));
    const readout = el('div', 'readout');
    readout.dataset.testid = 'readout';
    infoCard.append(readout);
    const isingBox = el('div', 'rbm-ising');
    isingBox.dataset.testid = 'ising-table';
    infoCard.append(isingBox);
    const measureRow = el('div', 'controls');
    const measureBtn = el('button', '', 'measure the RBM now (200 + 500 sweeps)');
    measureBtn.type = 'button';
    measureBtn.dataset.testid = 'measure';
    measureBtn.title = 'run the 64 sample chains at the current parameters: 200 sweeps burn-in, then e and |m| after each of 500 sweeps';
    const measureStatus = el('span', 'status');
    measureRow.append(measureBtn, measureStatus);
    infoCard.append(measureRow);
    measureBtn.onclick = async () => {
      measureBtn.disabled = true;
      measureStatus.textContent = 'sampling…';
      try {
        await api.action('measure', { burnIn: 200, sweeps: 500 });
        measureStatus.textContent = 'done';
        measureStatus.dataset.done = 'true';
      } catch (e) {
        measureStatus.textContent = (e as Error).message;
      } finally {
        measureBtn.disabled = false;
      }
    };
    // An imported checkpoint stays with the panel through resets; this drops it for a fresh model.
    const forget = el('button', '', 'drop the imported checkpoint (new model)');
    forget.type = 'button';
    forget.dataset.testid = 'forget-import';
    forget.style.display = 'none';
    forget.onclick = () => {
      forget.style.display = 'none';
      api.resetWith([]);
    };
    root.parentElement?.querySelector('[data-testid=import]')?.addEventListener('change', () => (forget.style.display = ''));
    infoCard.append(forget);
    root.append(infoCard);

    const curveCard = el('div', 'card');
    curveCard.append(el('h3', '', 'metrics'));
    const llEl = el('div');
    const recEl = el('div');
    const gapEl = el('div');
    const llNote = el('p', 'rbm-note');
    curveCard.append(llEl, llNote, recEl, gapEl);
    root.append(curveCard);
    const llChart = new Chart(llEl, {
      title: 'exact log-likelihood per example',
      xLabel: 'update',
      yLabel: 'nats per example',
      series: [
        { label: 'training data', color: '#1f77b4' },
        { label: 'held-out', color: '#2ca02c' },
        { label: 'optimum', color: '#d62728', kind: 'dash' },
      ],
    });
    const recChart = new Chart(recEl, {
      title: 'squared reconstruction error (one mean-field step)',
      xLabel: 'update',
      yLabel: 'error per example',
      series: [{ label: 'training data', color: '#ff7f0e' }],
    });
    const gapChart = new Chart(gapEl, {
      title: 'free-energy gap F(held-out) − F(train)',
      xLabel: 'update',
      yLabel: 'nats',
      series: [{ label: 'gap', color: '#9467bd' }],
    });
    api.addChart('log-likelihood', llChart);
    api.addChart('reconstruction', recChart);
    api.addChart('free-energy-gap', gapChart);

    const imgCard = el('div', 'card');
    imgCard.append(el('h3', '', 'filters, samples, chains'));
    const grids = el('div', 'rbm-grids');
    const grid = (title: string, testid: string, note: string) => {
      const box = el('figure', 'rbm-grid');
      const c = el('canvas', 'pixels');
      c.dataset.testid = testid;
      const cap = el('figcaption', '', title);
      const sub = el('div', 'rbm-note', note);
      box.append(cap, c, sub);
      grids.append(box);
      return { box, canvas: c, sub };
    };
    const filters = grid('filters (weights of each hidden unit)', 'filters', 'blue < 0 < red, each scaled to its largest |w|');
    const samples = grid('model samples (free-running Gibbs chains)', 'samples', '64 chains, one sweep per step');
    const chains = grid('persistent chains (negative phase)', 'chains', 'pcd / pt only');
    imgCard.append(grids);
    root.append(imgCard);

    // Show only the data controls of the chosen source (the host lays out every control).
    const bar = root.parentElement?.querySelector('.controls');
    const dataButton = root.parentElement?.querySelector('[data-testid=action-data]') as HTMLElement | null | undefined;
    const showDataControls = () => {
      const source = String(api.settings().data);
      for (const [key, owner] of Object.entries(DATA_CONTROLS)) {
        const label = bar?.querySelector(`[data-testid=control-${key}]`)?.closest('label') as HTMLElement | null | undefined;
        if (label) label.style.display = owner === source || (owner === 'image' && (source === 'fashion-mnist' || source === 'mnist')) ? '' : 'none';
      }
      if (dataButton) dataButton.style.display = source === 'ising' || source === 'upload' ? '' : 'none';
    };
    showDataControls();
    return {
      render(raw) {
        showDataControls();
        const s = raw as unknown as RbmSnapshot;
        const { height: h, width: w } = s.image;
        const l = s.latest;
        const rows = [
          `data: ${s.data}   (--data ${s.spec})`,
          `model: ${s.nVisible} visible × ${s.nHidden} hidden, 0/1 units${s.imported ? `   imported from ${s.imported}` : ''}`,
          `method: ${s.method}${s.method === 'cd' || s.method === 'pcd' || s.method === 'pt' ? `-${s.k}` : ''}, ${s.optimizer}, batch ${s.batchSize}, lr now ${s.learningRate.toPrecision(3)}`,
          `epoch ${s.epoch} of ${s.plannedEpochs} planned${s.trainSeconds > 0 ? `   ${(s.trainUpdates / s.trainSeconds).toFixed(0)} updates/s (training time only)` : ''}`,
          '',
          s.exact ? `exact log-likelihood: ${fmt(l?.ll)} nats per example${s.optimum !== null ? `   (optimum ${fmt(s.optimum)}, gap ${fmt(l ? s.optimum - l.ll : NaN)})` : ''}` : 'exact log-likelihood: not available (no layer small enough to enumerate)',
          ...(s.exact && s.hasTest && Number.isFinite(l?.testLL ?? NaN) && s.optimum === null ? [`held-out log-likelihood: ${fmt(l?.testLL)}`] : []),
          `reconstruction error: ${fmt(l?.recon, 3)} per example`,
          ...(s.hasTest && s.optimum === null ? [`free-energy gap: ${fmt(l?.gap, 3)} nats`] : []),
        ];
        readout.textContent = rows.join('\n');
        readout.dataset.ll = String(l?.ll ?? NaN);
        readout.dataset.recon = String(l?.recon ?? NaN);

        const hs = s.history;
        llEl.style.display = s.exact ? '' : 'none';
        llNote.textContent = s.exact ? '' : 'Exact log-likelihood: not computed (2ⁿ·visible·hidden > 2²⁶ for both layers); see the monitors below.';
        if (s.exact) {
          const span = hs.step.length > 0 ? [hs.step[0]!, hs.step[hs.step.length - 1]!] : [];
          // Bars-and-stripes holds its patterns out as themselves: the held-out curve would repeat the training one.
          llChart.set([{ x: hs.step, y: hs.ll }, s.hasTest && s.optimum === null ? { x: hs.step, y: hs.testLL } : null, s.optimum !== null ? { x: span, y: span.map(() => s.optimum!) } : null]);
        }
        recChart.set([{ x: hs.step, y: hs.recon }]);
        gapEl.style.display = s.hasTest && s.optimum === null ? '' : 'none';
        if (s.hasTest) gapChart.set([{ x: hs.step, y: hs.gap }]);

        const target = h * w > 100 ? 420 : 260;
        drawTiles(filters.canvas, s.filters, s.filterCount, h, w, 'signed', target);
        filters.sub.textContent = `${s.filterCount} of ${s.nHidden} hidden units; blue < 0 < red, each scaled to its largest |w|`;
        const ns = s.samples.length / s.nVisible;
        drawTiles(samples.canvas, s.samples, ns, h, w, 'binary', target);
        chains.box.style.display = s.chains ? '' : 'none';
        if (s.chains) drawTiles(chains.canvas, s.chains, s.chains.length / s.nVisible, h, w, 'binary', target);

        const is = s.ising;
        isingBox.style.display = is ? '' : 'none';
        measureRow.style.display = is ? '' : 'none';
        if (is) {
          const r = is.rbm;
          isingBox.innerHTML = '';
          isingBox.append(el('h4', '', `Ising observables per site at T = ${is.T}, L = ${is.L}`));
          const table = el('table', 'rbm-table');
          const head = el('tr');
          const ex = is.rbmExact;
          const ms = is.measured;
          for (const t of ['', 'RBM samples, live', ...(ms ? [`RBM at update ${ms.step}`] : []), ...(ex ? ['RBM, exact'] : []), 'Monte Carlo data', 'Ising, exact']) head.append(el('th', '', t));
          table.append(head);
          const row = (name: string, a: Est | undefined, m: Est | undefined, x: number | undefined, b: Est, c: string) => {
            const tr = el('tr');
            tr.append(el('th', '', name), el('td', '', pm(a)), ...(ms ? [el('td', '', pm(m))] : []), ...(ex ? [el('td', '', fmt(x))] : []), el('td', '', pm(b)), el('td', '', c));
            table.append(tr);
          };
          row('e', r?.e, ms?.e, ex?.e, is.mc.e, `${fmt(is.kaufmanE)} (Kaufman)`);
          row('|m|', r?.absM, ms?.absM, ex?.absM, is.mc.absM, is.exactAbsM !== null ? `${fmt(is.exactAbsM)} (enumeration)` : '—');
          isingBox.append(table);
          isingBox.append(el('div', 'rbm-note', (r ? `RBM live: 64 Gibbs chains over the last ${r.sweeps} sweeps while the parameters change (± over chains)${ms ? `; RBM at update ${ms.step}: ${ms.burnIn} + ${ms.sweeps} sweeps at fixed parameters` : ''}; Monte Carlo: the training configurations (± assumes them independent)` : 'RBM samples: press play') + (ex ? '; RBM, exact: Σ over all 2^N visible states of p(v)' : '')));
        }
      },
    };
  },
};
