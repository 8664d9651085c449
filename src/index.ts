/**
 * genphys: generative modelling for the physical sciences.
 *
 * The package entry re-exports each module's public API under a namespace, so
 * names stay unambiguous (`ebm.BernoulliRBM`, `physics.kaufmanSquare`, …). The
 * seeded generator and the error types are exported at the top level.
 */
export { Rng, type RngState } from './core/rng.js';
export * from './core/errors.js';
export { VERSION } from './version.js';
export * as engine from './engine/index.js';
export * as data from './data/index.js';
export * as io from './io/index.js';
export * as viz from './viz/index.js';
export * as ebm from './ebm/index.js';
export * as physics from './physics/index.js';
export * as vae from './vae/index.js';
export * as metrics from './metrics/index.js';
export * as gan from './gan/index.js';
export * as diffusion from './diffusion/index.js';
export * as run from './run/index.js';
