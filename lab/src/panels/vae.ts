/**
 * VAE panel: a variational autoencoder (Kingma & Welling, ICLR 2014) from genphys's
 * presets trained live on Fashion-MNIST / MNIST or on Ising configurations at several
 * temperatures, with the 2D latent space of the held-out set coloured by class or
 * temperature, the decoded latent plane, the ELBO terms per example (train and held-out,
 * with standard errors), and a pad to draw an image on and see where it lands.
 */
import { Chart } from '../chart.js';
import { el, type CliConfig, type PanelSpec } from '../panel.js';
import type { Settings } from '../protocol.js';
import { LAB_BACKENDS } from '../tf-backend.js';
import { onsagerTc } from '../../../src/physics/exact.js';
import type { LatentPlane, PhaseSeparation } from '../vae-stats.js';
import { DrawPad, LatentScatter, TAB10, temperatureColor, drawGrid, drawImage } from '../vae-views.js';
import './vae.css';

interface HeldOut {
  step: number;
  epoch: number;
  loss: number;
  lossErr: number;
  rec: number;
  recErr: number;
  kl: number;
  klErr: number;
}

/** What the VAE engine's snapshot holds. */
export interface VaeSnapshot {
  kind: 'ising' | 'images';
  dataName: string;
  nTrain: number;
  nHeld: number;
  shape: [number, number, number];
  latent: number;
  preset: string;
  /** The resolved model and training configuration (as config.json of `vae train` records them). */
  config: { model: Record<string, unknown>; train: Record<string, unknown> };
  beta: number;
  note: string;
  imported: string | null;
  params: number;
  epoch: number;
  epochs: number;
  batch: number;
  batchesPerEpoch: number;
  done: boolean;
  trainStepsPerSec: number;
  labelNames: string[];
  temperatures: number[] | null;
  labels: Uint8Array;
  mu: Float32Array;
  T: Float64Array | null;
  separation: PhaseSeparation | null;
  plane: LatentPlane;
  viewStep: number;
  grid: Float32Array;
  gridSize: number;
  heldOut: HeldOut | null;
  heldOutFirst: HeldOut | null;
  curves: {
    trainStep: Float64Array;
    trainRec: Float64Array;
    trainKl: Float64Array;
    block: number;
    heldStep: Float64Array;
    heldLoss: Float64Array;
    heldLossErr: Float64Array;
    heldRec: Float64Array;
    heldRecErr: Float64Array;
    heldKl: Float64Array;
    heldKlErr: Float64Array;
  };
}

const TC = onsagerTc();
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** Defaults of the ising-mlp preset: Ising settings that `vae ising-probe` reproduces. */
const ISING_PROBE_DEFAULTS = { latent: 2, hidden: 0, batch: 128, lr: 0.001, beta: 1, binarize: 'none' } as const;

/**
 * The command line of the panel's settings. Images: `genphys vae train` with the preset
 * and every override. Ising data: `genphys vae ising-probe`, which simulates the same
 * kind of data (Wolff, L, temperatures, configurations per temperature) and trains the
 * ising-mlp preset; it takes no model flags, so settings that differ from that preset are
 * listed by {@link isingCliGaps}.
 */
export function vaeCli(s: Settings): CliConfig {
  if (s.data === 'ising') {
    return {
      genphys: 'vae ising-probe',
      flags: { L: Number(s.L), temps: `${Number(s.tMin)}:${Number(s.tMax)}:${Number(s.nTemps)}`, 'per-temp': Number(s.perTemp), epochs: Number(s.epochs), seed: Number(s.seed) },
    };
  }
  const flags: Record<string, string | number | boolean> = {
    preset: String(s.preset),
    data: String(s.data),
    limit: Number(s.n),
    epochs: Number(s.epochs),
    batch: Number(s.batch),
    lr: Number(s.lr),
    latent: Number(s.latent),
    beta: Number(s.beta),
    binarize: String(s.binarize),
    seed: Number(s.seed),
  };
  if (Number(s.hidden) > 0) flags.hidden = String(Number(s.hidden));
  // The CLI's tensor backends are auto (native), wasm and cpu; the browser's GPU ones have no CLI twin.
  if (s.backend === 'wasm' || s.backend === 'cpu') flags.backend = String(s.backend);
  return { genphys: 'vae train', flags };
}

/** Ising settings the exported `vae ising-probe` command cannot carry (it trains ising-mlp as is). */
export function isingCliGaps(s: Settings): string[] {
  if (s.data !== 'ising') return [];
  return Object.entries(ISING_PROBE_DEFAULTS)
    .filter(([k, v]) => String(s[k]) !== String(v))
    .map(([k]) => k);
}

/** The VAE panel: controls, exports, and the latent, grid, loss and drawing views. */
export const vae: PanelSpec = {
  id: 'vae',
  title: 'Variational autoencoder: latent space, decoded plane, ELBO',
  engine: 'vae',
  blurb:
    'genphys’s VAE (Kingma & Welling 2014) trained in your browser on tfjs: one Adam step per step, on a Fashion-MNIST / MNIST subset or on 2D Ising configurations simulated here (Wolff) at several temperatures (Wetzel, PRE 96, 022140, 2017). ' +
    'Losses are nats per example: reconstruction −log p(x|h) with one sample h ~ Q(h|x), KL(Q(h|x) ‖ N(0, I)), and the negative ELBO = rec + β·KL; held-out values carry ±1 standard error over examples. ' +
    'The scatter shows the encoder means μ of the held-out set; the decoded grid covers the same square of the latent plane. Draw on the pad to see your image’s latent point and its reconstruction.',
  controls: [
    { key: 'data', label: 'data', kind: 'select', default: 'fashion-mnist', options: ['fashion-mnist', 'mnist', 'ising'], help: 'images come from the genphys lab server; Ising configurations are simulated in the worker' },
    { key: 'preset', label: 'preset', kind: 'select', default: 'torch-mlp', options: ['torch-mlp', 'keras-conv', 'ising-mlp'], help: 'src/vae/presets.ts; Ising data always use ising-mlp' },
    { key: 'n', label: 'images', kind: 'number', default: 4000, min: 64, max: 60000, step: 1, help: 'training images (the first n of the train split); the held-out set is the first n/4 (200–1000) test images' },
    { key: 'L', label: 'Ising L', kind: 'select', default: '16', options: ['8', '16', '32'] },
    { key: 'tMin', label: 'T from', kind: 'number', default: 1.5, min: 0.1, max: 10, step: 0.01 },
    { key: 'tMax', label: 'to', kind: 'number', default: 3.5, min: 0.1, max: 10, step: 0.01 },
    { key: 'nTemps', label: 'temperatures', kind: 'number', default: 8, min: 1, max: 64, step: 1 },
    { key: 'perTemp', label: 'configs/T', kind: 'number', default: 250, min: 8, max: 20000, step: 1, help: 'training configurations per temperature; the held-out set has a quarter as many from an independent chain' },
    { key: 'latent', label: 'latent k', kind: 'number', default: 2, min: 1, max: 64, step: 1, help: 'plots show latent coordinates 1 and 2; the grid holds the others at 0' },
    { key: 'hidden', label: 'hidden', kind: 'number', default: 0, min: 0, max: 4096, step: 1, help: 'MLP hidden width (0: the preset’s)' },
    { key: 'batch', label: 'batch', kind: 'number', default: 128, min: 1, max: 4096, step: 1 },
    { key: 'lr', label: 'lr', kind: 'number', default: 0.001, min: 0, max: 1, step: 0.0001, help: 'Adam learning rate' },
    { key: 'beta', label: 'β', kind: 'number', default: 1, min: 0, max: 100, step: 0.1, help: 'weight on the KL term (1: the ELBO)' },
    { key: 'binarize', label: 'binarize', kind: 'select', default: 'none', options: ['none', 'static', 'dynamic'] },
    { key: 'epochs', label: 'epochs', kind: 'number', default: 10, min: 1, max: 10000, step: 1, help: 'training stops after this many passes' },
    { key: 'stepsPerFrame', label: 'steps/frame', kind: 'number', default: 1, min: 1, max: 1000, step: 1, live: true },
    { key: 'backend', label: 'backend', kind: 'select', default: 'auto', options: [...LAB_BACKENDS] },
  ],
  actions: [{ name: 'checkpoint', label: 'checkpoint (CLI format)', help: 'checkpoint.json + checkpoint.w<step>.safetensors: put both in a folder and run genphys vae sample FOLDER' }],
  importFiles: { label: 'import checkpoint (.json + .safetensors):', accept: '.json,.safetensors' },
  cli: vaeCli,
  build(root, api) {
    const settings = api.settings();
    const latentCard = el('div', 'card');
    latentCard.dataset.testid = 'latent-card';
    root.append(latentCard);
    const scatter = new LatentScatter(latentCard);
    scatter.canvas.dataset.testid = 'latent-plot';
    const latentInfo = el('div', 'readout vae-note');
    latentInfo.dataset.testid = 'latent-info';
    latentCard.append(latentInfo);

    const gridCard = el('div', 'card');
    const gridTitle = el('h3', '', 'decoded latent plane');
    const gridCanvas = el('canvas', 'pixels vae-grid');
    gridCanvas.dataset.testid = 'decoded-grid';
    const gridInfo = el('div', 'vae-note');
    gridCard.append(gridTitle, gridCanvas, gridInfo);
    root.append(gridCard);

    const lossCard = el('div', 'card');
    lossCard.append(el('h3', '', 'ELBO terms per example (nats)'));
    const mkChart = (title: string, y: string) => {
      const d = el('div');
      lossCard.append(d);
      return new Chart(d, {
        title,
        xLabel: 'Adam step',
        yLabel: y,
        width: 420,
        height: 190,
        series: [
          { label: 'train (batch means)', color: '#1f77b4' },
          { label: 'held-out ±1 s.e.', color: '#d62728', kind: 'points' },
        ],
      });
    };
    const lossChart = mkChart('negative ELBO = rec + β·KL', '−ELBO (nats)');
    const recChart = mkChart('reconstruction −log p(x|h)', 'rec (nats)');
    const klChart = mkChart('KL(Q(h|x) ‖ N(0, I))', 'KL (nats)');
    api.addChart('neg-elbo', lossChart);
    api.addChart('reconstruction', recChart);
    api.addChart('kl', klChart);
    const lossNote = el('div', 'vae-note');
    lossCard.append(lossNote);
    root.append(lossCard);

    const drawCard = el('div', 'card');
    const drawTitle = el('h3', '', settings.data === 'ising' ? 'draw a configuration (up spins)' : 'draw a digit or garment');
    drawCard.append(drawTitle);
    const drawRow = el('div', 'vae-draw-row');
    const padWrap = el('div');
    const reconWrap = el('div');
    const recon = el('canvas', 'pixels vae-pad');
    recon.dataset.testid = 'reconstruction';
    padWrap.append(el('div', 'vae-note', 'your drawing (mouse)'));
    reconWrap.append(el('div', 'vae-note', 'decoder mean at μ'), recon);
    drawRow.append(padWrap, reconWrap);
    const drawInfo = el('div', 'readout');
    drawInfo.dataset.testid = 'draw-info';
    const clear = el('button', '', 'clear');
    clear.type = 'button';
    clear.dataset.testid = 'draw-clear';
    drawCard.append(drawRow, clear, drawInfo);
    root.append(drawCard);

    const infoCard = el('div', 'card');
    infoCard.append(el('h3', '', 'run'));
    const readout = el('div', 'readout');
    readout.dataset.testid = 'readout';
    infoCard.append(readout);
    root.append(infoCard);

    let last: VaeSnapshot | null = null;
    let mark: { x: number; y: number; label: string } | null = null;
    let pad: DrawPad | null = null;
    let padShape = '';
    const colorsFor = (s: VaeSnapshot): string[] =>
      s.kind === 'ising' ? s.labelNames.map((_, i) => temperatureColor(s.labelNames.length > 1 ? i / (s.labelNames.length - 1) : 0.5)) : TAB10;
    const drawScatter = (s: VaeSnapshot) => {
      const names = s.kind === 'ising' ? s.labelNames.map((n, i) => `${n}${s.temperatures![i]! < TC ? ' (ordered)' : ''}`) : s.labelNames;
      scatter.draw(
        { mu: s.mu, k: s.latent, labels: s.labels, labelNames: names, colors: colorsFor(s), plane: s.plane, mark },
        `latent means μ of ${s.labels.length} held-out ${s.kind === 'ising' ? 'configurations, by temperature' : 'images, by class'} (step ${s.viewStep})`,
      );
    };
    const encode = async (values: Float32Array) => {
      try {
        const r = await api.action('encode', { pixels: Float32Array.from(values) });
        const v = r.value as { mu: number[]; logVar: number[]; recon: Float32Array };
        const s = last;
        if (!s) return;
        drawImage(recon, v.recon, s.shape[0], s.shape[1], s.kind === 'ising');
        mark = { x: v.mu[0]!, y: v.mu[1] ?? 0, label: 'your drawing' };
        drawInfo.textContent = `μ = (${v.mu.map((x) => fmt(x, 3)).join(', ')})\nσ = (${v.logVar.map((x) => fmt(Math.exp(x / 2), 3)).join(', ')})`;
        drawInfo.dataset.mu = JSON.stringify(v.mu);
        drawScatter(s);
      } catch (e) {
        drawInfo.textContent = (e as Error).message;
      }
    };
    clear.onclick = () => {
      pad?.clear();
      mark = null;
      drawInfo.textContent = '';
      delete drawInfo.dataset.mu;
      if (last) drawScatter(last);
    };

    return {
      render(raw, steps) {
        const s = raw as unknown as VaeSnapshot;
        last = s;
        const [rows, cols] = s.shape;
        const ising = s.kind === 'ising';
        const shapeKey = `${rows}x${cols}:${s.kind}`;
        if (shapeKey !== padShape) {
          padShape = shapeKey;
          padWrap.querySelector('canvas')?.remove();
          pad = new DrawPad(padWrap, rows, cols, ising, (v) => void encode(v));
          recon.style.width = pad.canvas.style.width;
          recon.style.height = pad.canvas.style.height;
          drawImage(recon, new Float32Array(rows * cols), rows, cols, ising);
        }
        drawScatter(s);
        const g = s.gridSize;
        drawGrid(gridCanvas, s.grid, g, rows, cols, ising);
        const px = 400;
        gridCanvas.style.width = `${px}px`;
        gridCanvas.style.height = `${(px * gridCanvas.height) / gridCanvas.width}px`;
        gridTitle.textContent = `decoded latent plane: decoder mean p(x|h) on a ${g}×${g} grid`;
        gridInfo.textContent =
          `μ₁ from ${fmt(s.plane.x[0])} (left) to ${fmt(s.plane.x[1])} (right), μ₂ from ${fmt(s.plane.y[1])} (top) to ${fmt(s.plane.y[0])} (bottom): ` +
          `the square of the scatter plot, i.e. the 1st–99th percentile of the held-out means widened by 10 % (at least ±1)` +
          (s.latent > 2 ? `; latent coordinates 3–${s.latent} held at 0.` : '.');

        const c = s.curves;
        const beta = s.beta;
        const trainLoss = c.trainRec.map((r, i) => r + beta * c.trainKl[i]!);
        lossChart.set([{ x: c.trainStep, y: trainLoss }, { x: c.heldStep, y: c.heldLoss, err: c.heldLossErr }]);
        recChart.set([{ x: c.trainStep, y: c.trainRec }, { x: c.heldStep, y: c.heldRec, err: c.heldRecErr }]);
        klChart.set([{ x: c.trainStep, y: c.trainKl }, { x: c.heldStep, y: c.heldKl, err: c.heldKlErr }]);
        lossNote.textContent =
          `train: each step's batch mean${c.block > 1 ? `, averaged over blocks of ${c.block} steps` : ''}; ` +
          `held-out: all ${s.nHeld} held-out examples at step 0 and after every epoch, one h ~ Q(h|x) each with the same noise every time, ±1 standard error over examples.`;

        const h = s.heldOut;
        const h0 = s.heldOutFirst;
        const sep = s.separation;
        latentInfo.textContent = ising && sep
          ? `ordered (T < T_c = ${fmt(TC, 3)}) vs disordered: mean distance from the disordered centroid ${fmt(sep.rLow)} vs ${fmt(sep.rHigh)}, Cohen's d = ${fmt(sep.d)}`
          : s.latent > 2
            ? `showing latent coordinates 1 and 2 of ${s.latent}`
            : '';
        const gaps = isingCliGaps(api.settings());
        readout.textContent = [
          `data: ${s.dataName}, ${s.nTrain} training and ${s.nHeld} held-out examples of ${rows}×${cols}`,
          `model: ${s.preset}, latent k = ${s.latent}, ${s.params.toLocaleString('en')} parameters${s.note ? `\n  (${s.note})` : ''}`,
          s.imported ? `imported: ${s.imported}` : '',
          `training: epoch ${s.epoch} of ${s.epochs}${s.done ? ' (done)' : ''}, ${s.batchesPerEpoch} steps of batch ${s.batch} per epoch, step ${steps}`,
          `training speed: ${fmt(s.trainStepsPerSec, 1)} Adam steps/s (time in steps only)`,
          h ? `held-out −ELBO ${fmt(h.loss)} ± ${fmt(h.lossErr)} (rec ${fmt(h.rec)} ± ${fmt(h.recErr)}, KL ${fmt(h.kl)} ± ${fmt(h.klErr)}) at step ${h.step}` : '',
          h0 && h && h.step > h0.step ? `  at step 0: ${fmt(h0.loss)} ± ${fmt(h0.lossErr)}` : '',
          gaps.length > 0 ? `note: the exported 'vae ising-probe' command trains the ising-mlp preset as is; it does not carry ${gaps.join(', ')}` : '',
        ]
          .filter((x) => x !== '')
          .join('\n');
      },
    };
  },
};
