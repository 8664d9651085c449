/**
 * Gaussian diffusion models (Ho et al. 2020; Song et al. 2021): variance
 * schedules, the forward process and the DDPM/DDIM samplers written against a
 * small denoiser interface, the EMA of weights, an exact Gaussian-mixture
 * denoiser for testing, and the residual-MLP toy network. Network, process and
 * trainer are kept apart.
 */
export * from './schedule.js';
export * from './process.js';
export * from './ema.js';
export * from './mixture.js';
export * from './toy-mlp.js';
