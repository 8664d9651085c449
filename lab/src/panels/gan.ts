/**
 * GAN panel, in the manner of GAN Lab (Kahng et al., IEEE VIS 2018) but on genphys's
 * own GAN code: the discriminator's output as a heatmap over the plane, the real and
 * generated points, the generator's image of a regular noise grid, k_D / k_G steps per
 * round, loss curves and the toy metric (MMD² to a fresh sample of the true distribution
 * with its jackknife SE; modes covered for the mixtures). A Fashion-MNIST (or MNIST)
 * mode trains the course's MLP GAN on a subset fetched from the lab server and shows a
 * fixed-noise sample grid. The checkpoint button downloads the run folder `genphys gan
 * sample|eval DIR` opens.
 */
import { Chart } from '../chart.js';
import { el, type PanelSpec } from '../panel.js';
import { LAB_BACKENDS } from '../tf-backend.js';
import { GAN_LAB_DATA, ganCliConfig } from '../gan-config.js';
import { Plane, drawImageGrid, legend, type PlaneBounds } from '../gan-plane.js';
import { GAN_LOSS_NAMES } from '../../../src/gan/presets.js';
import './gan.css';

interface Score {
  step: number;
  mmd2: number;
  se: number;
  modesCovered?: number;
  nModes?: number;
  highQuality?: number;
  kl: number;
}
interface GanSnapshot {
  kind: 'toy' | 'image';
  data: string;
  unavailable?: string;
  rounds: number;
  dSteps: number;
  gSteps: number;
  epoch: number;
  iteration: number;
  iterationsPerEpoch: number;
  kD: number;
  kG: number;
  loss: string;
  last: { lossD: number; lossG: number; dReal: number; dFake: number };
  history: { t: Float64Array; lossD: Float64Array; lossG: Float64Array; dReal: Float64Array; dFake: Float64Array };
  scores: { step: Float64Array; mmd2: Float64Array; se: Float64Array; modes: Float64Array; kl: Float64Array };
  score: Score | null;
  initialScore: Score | null;
  kernel: string;
  nModes: number;
  bounds?: PlaneBounds;
  real?: Float32Array;
  gen?: Float32Array;
  grid?: Float32Array;
  gridLines?: number;
  gridPoints?: number;
  heat?: Float32Array;
  heatSize?: number;
  heatKind?: 'probability' | 'critic' | 'score';
  images?: Float32Array;
  nImages?: number;
  rows?: number;
  cols?: number;
}

const REAL = '#1a9850';
const FAKE = '#7b3294';
const fmt = (x: number | undefined, d = 4) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
const sci = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toExponential(2) : '—');

/** D(x) → colour: purple (judged fake) through white (0.5) to green (judged real), as GAN Lab. */
function heatColor(v: number): [number, number, number] {
  const u = Math.min(1, Math.max(0, v));
  const mix = (a: number, b: number, w: number) => Math.round(a + (b - a) * w);
  if (u >= 0.5) {
    const w = (u - 0.5) * 2 * 0.55;
    return [mix(255, 26, w), mix(255, 152, w), mix(255, 80, w)];
  }
  const w = (0.5 - u) * 2 * 0.55;
  return [mix(255, 123, w), mix(255, 50, w), mix(255, 148, w)];
}

export const gan: PanelSpec = {
  id: 'gan',
  title: 'GAN: adversarial training on 2D toys and Fashion-MNIST',
  engine: 'gan',
  blurb:
    'genphys’s GAN (src/gan) in rounds of k_D discriminator steps, each on its own minibatch, then k_G generator steps (Goodfellow et al. 2014, Algorithm 1). The background is D’s output on the plane (green: judged real, purple: judged fake), the grey lines are G’s image of a regular grid of noise z. The metric is the unbiased MMD² to a fresh sample of the true distribution (Gretton et al. 2012) with its jackknife standard error, and for the Gaussian mixtures the modes covered (VEEGAN’s 3σ rule). Choose fashion-mnist for the course’s MLP GAN (its own recipe: Adam 2e-4, batch 128; batch, learning rates, layers and width apply to the toys) on a subset from the lab server.',
  controls: [
    { key: 'backend', label: 'backend', kind: 'select', default: 'auto', options: [...LAB_BACKENDS] },
    { key: 'data', label: 'data', kind: 'select', default: 'ring8', options: [...GAN_LAB_DATA] },
    { key: 'n', label: 'examples', kind: 'number', default: 2000, min: 16, max: 60000, step: 1, help: 'toy points drawn, or the first n training images' },
    { key: 'loss', label: 'loss', kind: 'select', default: 'ns', options: [...GAN_LOSS_NAMES], help: 'ns: non-saturating; lsgan: least squares; wgan-gp: Wasserstein with gradient penalty' },
    { key: 'kD', label: 'k_D', kind: 'number', default: 1, min: 1, max: 20, step: 1, help: 'discriminator steps per round' },
    { key: 'kG', label: 'k_G', kind: 'number', default: 1, min: 1, max: 20, step: 1, live: true, help: 'generator steps per round (the CLI takes 1)' },
    { key: 'batch', label: 'batch', kind: 'number', default: 256, min: 2, max: 4096, step: 1, help: 'toys; images use the course’s batch 128' },
    { key: 'lrD', label: 'lr D', kind: 'number', default: 0.001, min: 1e-6, max: 1, step: 0.0001, help: 'toys; images use the course’s 2e-4' },
    { key: 'lrG', label: 'lr G', kind: 'number', default: 0.0003, min: 1e-6, max: 1, step: 0.0001, help: 'toys (the toy-mlp preset’s 3e-4: with D’s 1e-3 it keeps G from hopping between modes); images use the course’s 2e-4' },
    { key: 'layers', label: 'layers', kind: 'number', default: 3, min: 1, max: 6, step: 1, help: 'hidden layers of G and D (toys)' },
    { key: 'width', label: 'width', kind: 'number', default: 64, min: 4, max: 512, step: 1, help: 'units per hidden layer (toys)' },
    { key: 'spectralNorm', label: 'spectral norm (D)', kind: 'checkbox', default: false },
    { key: 'evalEvery', label: 'metric every', kind: 'number', default: 50, min: 1, max: 100000, step: 1, live: true, help: 'rounds between evaluations of the metric' },
    { key: 'epochs', label: 'CLI epochs', kind: 'number', default: 100, min: 1, max: 100000, step: 1, live: true, help: 'only for the exported command: epochs of `genphys gan train`' },
  ],
  cli: (s) => ganCliConfig(s),
  actions: [
    {
      name: 'checkpoint',
      label: 'checkpoint (CLI run folder)',
      help: 'config.json + checkpoint.json + checkpoint.w<step>.safetensors, as `genphys gan train` writes them for the exported settings: put the three in a folder and run genphys gan sample FOLDER --grid samples.svg (toys; .png for images), gan eval FOLDER, or gan train --resume --out FOLDER',
    },
  ],
  build(root, api) {
    const planeCard = el('div', 'card gan-plane-card');
    planeCard.append(el('h3', '', 'data space: D(x), real and generated points, G(noise grid)'));
    const plane = new Plane(360, 'gan-plane');
    planeCard.append(
      plane.canvas,
      legend([
        [REAL, 'real data'],
        [FAKE, 'generated G(z)'],
        ['#888', 'G of a regular z grid'],
        ['linear-gradient(90deg,#b98fc4,#fff,#80c59b)', 'D(x): fake → real'],
      ]),
    );
    const imgCard = el('div', 'card');
    imgCard.append(el('h3', '', 'generated images (fixed noise, 8×8)'));
    const imgCanvas = el('canvas', 'pixels');
    imgCanvas.dataset.testid = 'gan-images';
    imgCanvas.style.width = '345px';
    imgCard.append(imgCanvas);
    const msg = el('div', 'card gan-message');
    msg.dataset.testid = 'gan-message';
    const readout = el('div', 'readout');
    readout.dataset.testid = 'readout';
    const note = el('div', 'gan-note');
    const left = el('div', 'gan-left');
    left.append(planeCard, imgCard, msg);
    const info = el('div', 'card');
    info.append(el('h3', '', 'state'), readout, note);
    left.append(info);
    root.append(left);

    const chartsCard = el('div', 'card');
    chartsCard.append(el('h3', '', 'training curves'));
    const lossEl = el('div'), dEl = el('div'), mEl = el('div'), kEl = el('div');
    chartsCard.append(lossEl, dEl, mEl, kEl);
    root.append(chartsCard);
    const lossChart = new Chart(lossEl, {
      title: 'losses per round',
      xLabel: 'round',
      yLabel: 'loss',
      height: 200,
      series: [
        { label: 'D loss', color: '#1f77b4' },
        { label: 'G loss', color: '#d62728' },
      ],
    });
    const dChart = new Chart(dEl, {
      title: 'mean D output (σ(logit) for ns/minimax)',
      xLabel: 'round',
      yLabel: 'D output',
      height: 180,
      series: [
        { label: 'D(x) real', color: REAL },
        { label: 'D(G(z))', color: FAKE },
      ],
    });
    const mmdChart = new Chart(mEl, {
      title: 'MMD² to the true distribution (±1 SE)',
      xLabel: 'round',
      yLabel: 'MMD²',
      height: 200,
      series: [{ label: 'MMD² (generated vs fresh true sample)', color: '#ff7f0e', kind: 'line' }],
    });
    const modeChart = new Chart(kEl, {
      title: 'modes covered and grid KL',
      xLabel: 'round',
      yLabel: 'modes, nats',
      height: 180,
      series: [
        { label: 'modes covered', color: '#2ca02c' },
        { label: 'KL(true ‖ generated), 30×30 grid', color: '#9467bd' },
      ],
    });
    api.addChart('losses', lossChart);
    api.addChart('d-output', dChart);
    api.addChart('mmd', mmdChart);
    api.addChart('modes', modeChart);

    return {
      render(raw) {
        const s = raw as unknown as GanSnapshot;
        const toy = s.kind === 'toy';
        planeCard.style.display = toy && !s.unavailable ? '' : 'none';
        imgCard.style.display = !toy && !s.unavailable ? '' : 'none';
        msg.style.display = s.unavailable ? '' : 'none';
        info.style.display = s.unavailable ? 'none' : '';
        chartsCard.style.display = s.unavailable ? 'none' : '';
        // Modes and the grid KL exist only for 2D points.
        kEl.style.display = toy ? '' : 'none';
        if (s.unavailable) {
          msg.textContent = `${s.data} is not available: ${s.unavailable}`;
          return;
        }
        if (toy && s.bounds && s.heat && s.real && s.gen && s.grid) {
          plane.begin(s.bounds);
          let h: ArrayLike<number> = s.heat;
          if (s.heatKind !== 'probability') {
            // Scores without a fixed scale (LSGAN, WGAN critic): stretch the view's range onto [0, 1].
            let lo = Infinity, hi = -Infinity;
            for (const v of s.heat) {
              lo = Math.min(lo, v);
              hi = Math.max(hi, v);
            }
            h = s.heat.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5));
          }
          plane.heatmap(h, s.heatSize!, heatColor);
          plane.polylines(s.grid, 2 * s.gridLines!, s.gridPoints!, 'rgba(90,90,90,0.55)');
          plane.points(s.real, REAL, 1.6, 0.6);
          plane.points(s.gen, FAKE, 1.6, 0.75);
          plane.end();
        } else if (s.images) {
          drawImageGrid(imgCanvas, s.images, s.nImages!, s.rows!, s.cols!, 8);
        }
        const sc = s.score, s0 = s.initialScore;
        const z = sc && s0 ? (s0.mmd2 - sc.mmd2) / Math.hypot(s0.se, sc.se) : NaN;
        readout.textContent = [
          `round ${s.rounds}  (epoch ${s.epoch + 1}, iteration ${s.iteration}/${s.iterationsPerEpoch})`,
          `D steps ${s.dSteps}, G steps ${s.gSteps}   (k_D = ${s.kD}, k_G = ${s.kG}, loss ${s.loss})`,
          `last round: D loss ${fmt(s.last.lossD)}, G loss ${fmt(s.last.lossG)}, D(x) ${fmt(s.last.dReal, 3)}, D(G(z)) ${fmt(s.last.dFake, 3)}`,
          '',
          `MMD² now      ${sci(sc?.mmd2)} ± ${sci(sc?.se)}  (round ${sc?.step ?? '—'})`,
          `MMD² at start ${sci(s0?.mmd2)} ± ${sci(s0?.se)}`,
          `decrease      ${Number.isFinite(z) ? `${z.toFixed(1)} combined SE` : '—'}`,
          ...(sc?.nModes ? [`modes covered ${sc.modesCovered} / ${sc.nModes}, high-quality fraction ${fmt(sc.highQuality, 3)}, KL ${fmt(sc.kl, 3)} nats`] : []),
          `kernel: ${s.kernel}`,
        ].join('\n');
        note.textContent = s.kG !== 1 ? `k_G = ${s.kG}: the CLI takes one G step per iteration, so the exported command runs k_G = 1.` : '';
        const h = s.history;
        lossChart.set([
          { x: h.t, y: h.lossD },
          { x: h.t, y: h.lossG },
        ]);
        dChart.set([
          { x: h.t, y: h.dReal },
          { x: h.t, y: h.dFake },
        ]);
        const m = s.scores;
        mmdChart.set([{ x: m.step, y: m.mmd2, err: m.se }]);
        modeChart.set([s.nModes > 0 ? { x: m.step, y: m.modes } : null, { x: m.step, y: m.kl }]);
      },
    };
  },
};
