/**
 * Gaussian diffusion models (Ho et al. 2020; Song et al. 2021): variance
 * schedules, the forward process and the DDPM/DDIM samplers written against a
 * small denoiser interface, the EMA of weights, an exact Gaussian-mixture
 * denoiser for testing, the residual-MLP toy network, the course's U-Net, the
 * trainer (Adam + EMA, exact resume), the browser-safe checkpoint and run-config
 * codec shared by the CLI and the lab, and, Node-only, data sources and the run
 * directory with sampling and evaluation. Network, process and trainer are kept apart.
 */
export * from './schedule.js';
export * from './process.js';
export * from './ema.js';
export * from './mixture.js';
export * from './toy-mlp.js';
export * from './unet.js';
export * from './train.js';
export * from './checkpoint-codec.js';
// Node-only (files): data sources and the run directory, as in the VAE family.
export * from './data.js';
export * from './run.js';
