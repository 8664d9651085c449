/**
 * Diffusion panel: a denoising diffusion model (Ho et al. 2020) on a 2D toy with
 * genphys's ToyMlp denoiser. A timestep slider shows x_t of the forward process on the
 * data next to x_t of the reverse (DDPM) process from the current model; DDPM and DDIM
 * (Song et al. 2021, with its number of steps as a control) samples from the same x_T
 * side by side; the loss curve, and the MMD² of both samplers' output to a fresh sample
 * of the true distribution, with the level of the N(0, I) noise they start from. The
 * checkpoint button exports a run folder `genphys diffusion sample|eval FOLDER` opens.
 */
import { Chart } from '../chart.js';
import { el, type PanelSpec } from '../panel.js';
import { LAB_BACKENDS } from '../tf-backend.js';
import { diffusionCliConfig } from '../diffusion-config.js';
import { Plane, legend, type PlaneBounds } from '../gan-plane.js';
import { TOY_NAMES } from '../../../src/data/toys.js';
import { PREDICTIONS } from '../../../src/diffusion/process.js';
import './gan.css';

interface Score {
  step: number;
  mmd2: number;
  se: number;
  modesCovered?: number;
  nModes?: number;
  kl: number;
}
interface Cols {
  step: Float64Array;
  mmd2: Float64Array;
  se: Float64Array;
  modes: Float64Array;
  kl: Float64Array;
}
interface DiffSnapshot {
  data: string;
  T: number;
  t: number;
  sqrtAlphaBar: number;
  steps: number;
  epoch: number;
  loss: number;
  ddimSteps: number;
  sampledAt: number;
  ms: { train: number; ddpm: number; ddim: number };
  bounds: PlaneBounds;
  real: Float32Array;
  forward: Float32Array;
  reverse: Float32Array;
  ddpm: Float32Array;
  ddim: Float32Array;
  history: { t: Float64Array; loss: Float64Array };
  ddpmScores: Cols;
  ddimScores: Cols;
  ddpmScore: Score;
  ddimScore: Score;
  initialScore: Score;
  noiseScore: Score;
  kernel: string;
  nModes: number;
}

const DATA = '#1a9850';
const MODEL = '#2b6cb0';
const DDIM = '#c05621';
const sci = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toExponential(2) : '—');

function figure(caption: string, plane: Plane): HTMLElement {
  const f = el('figure');
  f.append(plane.canvas, el('figcaption', '', caption));
  return f;
}

export const diffusion: PanelSpec = {
  id: 'diffusion',
  title: 'Diffusion: a denoising diffusion model on 2D toys',
  engine: 'diffusion',
  blurb:
    'genphys’s Gaussian diffusion (src/diffusion) with the ToyMlp denoiser (tiny-diffusion’s residual MLP, sinusoidal time embedding). Training minimises ‖ε − ε̂(x_t, t)‖² at uniformly drawn t (Ho et al. 2020, eq. 14). The slider shows x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε on the data and x_t of the reverse DDPM chain from the model’s EMA weights; DDIM (Song et al. 2021, η = 0) uses the same x_T with fewer steps. Scores: unbiased MMD² to a fresh true sample (±1 SE), with the N(0, I) starting noise for scale.',
  controls: [
    { key: 'backend', label: 'backend', kind: 'select', default: 'auto', options: [...LAB_BACKENDS] },
    { key: 'data', label: 'data', kind: 'select', default: 'moons', options: [...TOY_NAMES] },
    { key: 'n', label: 'points', kind: 'number', default: 2000, min: 16, max: 100000, step: 1 },
    { key: 'T', label: 'T', kind: 'select', default: '100', options: ['50', '100', '200', '500', '1000'], help: 'diffusion steps (the linear schedule is scaled by 1000/T)' },
    { key: 'schedule', label: 'schedule', kind: 'select', default: 'linear', options: ['linear', 'cosine'] },
    { key: 'prediction', label: 'predicts', kind: 'select', default: 'eps', options: [...PREDICTIONS] },
    { key: 'lr', label: 'lr', kind: 'number', default: 0.001, min: 1e-6, max: 1, step: 0.0001 },
    { key: 'batch', label: 'batch', kind: 'number', default: 128, min: 1, max: 4096, step: 1 },
    { key: 'ema', label: 'EMA decay', kind: 'number', default: 0.995, min: 0, max: 0.99999, step: 0.001, help: 'the samplers use the EMA weights (with TensorFlow’s warm-up), as the CLI does' },
    { key: 'ddimSteps', label: 'DDIM steps', kind: 'number', default: 20, min: 1, max: 1000, step: 1, live: true },
    { key: 'sampleEvery', label: 'sample every', kind: 'number', default: 500, min: 1, max: 1e6, step: 1, live: true, help: 'training steps between new DDPM/DDIM samples and scores' },
    { key: 'epochs', label: 'CLI epochs', kind: 'number', default: 20, min: 1, max: 100000, step: 1, live: true, help: 'only for the exported command: epochs of `genphys diffusion train`' },
  ],
  actions: [
    {
      name: 'checkpoint',
      label: 'checkpoint (CLI run folder)',
      help: 'config.json + checkpoint.json + checkpoint.w<step>.safetensors, as `genphys diffusion train` with the exported settings writes them: put the three in one folder and run genphys diffusion sample FOLDER --grid samples.svg (or genphys diffusion eval FOLDER)',
    },
  ],
  cli: (s) => diffusionCliConfig(s),
  build(root, api) {
    const procCard = el('div', 'card');
    procCard.append(el('h3', '', 'forward and reverse process at time step t'));
    const fwd = new Plane(300, 'diff-forward');
    const rev = new Plane(300, 'diff-reverse');
    const row1 = el('div', 'diff-row');
    row1.append(figure('forward q(x_t | x_0) on the data', fwd), figure('reverse: DDPM chain of the model at t', rev));
    const tRow = el('div', 'diff-t');
    const slider = document.createElement('input');
    slider.type = 'range';
    slider.min = '0';
    slider.step = '1';
    slider.dataset.testid = 'diff-t';
    const tLabel = el('span', 'readout');
    tRow.append(el('span', '', 'time step t'), slider, tLabel);
    procCard.append(row1, tRow);
    let sending = false;
    slider.addEventListener('input', () => {
      if (sending) return;
      sending = true;
      api.action('timestep', { t: Number(slider.value) }).finally(() => (sending = false));
    });

    const sampCard = el('div', 'card');
    sampCard.append(el('h3', '', 'samples from the same x_T (EMA weights)'));
    const pDdpm = new Plane(300, 'diff-ddpm');
    const pDdim = new Plane(300, 'diff-ddim');
    const ddpmCap = el('figcaption');
    const ddimCap = el('figcaption');
    const row2 = el('div', 'diff-row');
    const f1 = el('figure');
    f1.append(pDdpm.canvas, ddpmCap);
    const f2 = el('figure');
    f2.append(pDdim.canvas, ddimCap);
    row2.append(f1, f2);
    sampCard.append(
      row2,
      legend([
        [DATA, 'data'],
        [MODEL, 'DDPM / reverse chain'],
        [DDIM, 'DDIM'],
      ]),
    );
    const readout = el('div', 'readout');
    readout.dataset.testid = 'readout';
    sampCard.append(readout);
    const left = el('div', 'gan-left');
    left.append(procCard, sampCard);
    root.append(left);

    const chartsCard = el('div', 'card');
    chartsCard.append(el('h3', '', 'training curves'));
    const lEl = el('div'), mEl = el('div'), kEl = el('div');
    chartsCard.append(lEl, mEl, kEl);
    root.append(chartsCard);
    const lossChart = new Chart(lEl, { title: 'training loss (batch MSE)', xLabel: 'step', yLabel: 'loss', height: 200, series: [{ label: 'loss', color: '#1f77b4' }] });
    const mmdChart = new Chart(mEl, {
      title: 'MMD² to the true distribution (±1 SE)',
      xLabel: 'step',
      yLabel: 'MMD²',
      height: 220,
      series: [
        { label: 'DDPM', color: MODEL },
        { label: 'DDIM', color: DDIM },
        { label: 'N(0, I) noise', color: '#888', kind: 'dash' },
      ],
    });
    const modeChart = new Chart(kEl, {
      title: 'modes covered (mixtures) and grid KL',
      xLabel: 'step',
      yLabel: 'modes, nats',
      height: 180,
      series: [
        { label: 'modes (DDPM)', color: '#2ca02c' },
        { label: 'KL (DDPM)', color: '#9467bd' },
      ],
    });
    api.addChart('loss', lossChart);
    api.addChart('mmd', mmdChart);
    api.addChart('modes', modeChart);

    const draw = (p: Plane, b: PlaneBounds, layers: [Float32Array, string, number][]) => {
      p.begin(b);
      for (const [xy, c, a] of layers) p.points(xy, c, 1.5, a);
      p.end();
    };

    return {
      render(raw) {
        const s = raw as unknown as DiffSnapshot;
        slider.max = String(s.T);
        if (!sending && Number(slider.value) !== s.t) slider.value = String(s.t);
        tLabel.textContent = `t = ${s.t} of ${s.T}, √ᾱ_t = ${s.sqrtAlphaBar.toFixed(3)}`;
        draw(fwd, s.bounds, [[s.forward, DATA, 0.7]]);
        draw(rev, s.bounds, [[s.reverse, MODEL, 0.7]]);
        draw(pDdpm, s.bounds, [
          [s.real, DATA, 0.25],
          [s.ddpm, MODEL, 0.75],
        ]);
        draw(pDdim, s.bounds, [
          [s.real, DATA, 0.25],
          [s.ddim, DDIM, 0.75],
        ]);
        const outside = (xy: Float32Array) => {
          let k = 0;
          for (let i = 0; i + 1 < xy.length; i += 2) if (!(xy[i]! >= s.bounds.xMin && xy[i]! <= s.bounds.xMax && xy[i + 1]! >= s.bounds.yMin && xy[i + 1]! <= s.bounds.yMax)) k++;
          return k > 0 ? `, ${k} of ${xy.length / 2} outside the view` : '';
        };
        ddpmCap.textContent = `DDPM, ${s.T} steps (${(s.ms.ddpm / 1000).toFixed(2)} s${outside(s.ddpm)})`;
        ddimCap.textContent = `DDIM η = 0, ${s.ddimSteps} steps (${(s.ms.ddim / 1000).toFixed(2)} s${outside(s.ddim)})`;
        const a = s.ddpmScore, b = s.ddimScore, n = s.noiseScore;
        readout.textContent = [
          `step ${s.steps} (epoch ${s.epoch + 1}), batch loss ${Number.isFinite(s.loss) ? s.loss.toFixed(4) : '—'}, ${s.ms.train.toFixed(1)} ms per step`,
          `samples from step ${s.sampledAt}:`,
          `  MMD² DDPM  ${sci(a.mmd2)} ± ${sci(a.se)}${a.nModes ? `   modes ${a.modesCovered}/${a.nModes}` : ''}`,
          `  MMD² DDIM  ${sci(b.mmd2)} ± ${sci(b.se)}${b.nModes ? `   modes ${b.modesCovered}/${b.nModes}` : ''}`,
          `  MMD² x_T ~ N(0, I)  ${sci(n.mmd2)} ± ${sci(n.se)}   (untrained model: ${sci(s.initialScore.mmd2)})`,
          `kernel: ${s.kernel}`,
        ].join('\n');
        lossChart.set([{ x: s.history.t, y: s.history.loss }]);
        const d = s.ddpmScores, e = s.ddimScores;
        const span = d.step.length > 0 ? [d.step[0]!, Math.max(d.step[d.step.length - 1]!, s.steps)] : [];
        mmdChart.set([
          { x: d.step, y: d.mmd2, err: d.se },
          { x: e.step, y: e.mmd2, err: e.se },
          { x: span, y: span.map(() => n.mmd2) },
        ]);
        modeChart.set([s.nModes > 0 ? { x: d.step, y: d.modes } : null, { x: d.step, y: d.kl }]);
      },
    };
  },
};
