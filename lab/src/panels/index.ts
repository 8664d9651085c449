/** The lab's panels, in tab order. Each is loaded when its tab opens. */
import type { PanelSpec } from '../panel.js';

/** A tab: its id, title and loader. */
export interface PanelEntry {
  readonly id: string;
  readonly title: string;
  readonly load: () => Promise<PanelSpec>;
}

export const PANELS: readonly PanelEntry[] = [
  { id: 'ising', title: 'Ising', load: async () => (await import('./ising.js')).ising },
  { id: 'rbm', title: 'RBM', load: async () => (await import('./rbm.js')).rbm },
  { id: 'vae', title: 'VAE', load: async () => (await import('./vae.js')).vae },
  { id: 'gan', title: 'GAN', load: async () => (await import('./gan.js')).gan },
  { id: 'diffusion', title: 'Diffusion', load: async () => (await import('./diffusion.js')).diffusion },
];
