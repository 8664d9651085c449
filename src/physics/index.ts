/**
 * Ising physics: lattices, Monte Carlo samplers, observables with error bars,
 * exact references (enumeration, Kaufman, Onsager) and datasets.
 */
export * from './lattice.js';
export * from './samplers.js';
export * from './observables.js';
export * from './exact.js';
export * from './chains.js';
export * from './simulate.js';
export * from './dataset.js';
export * from './report.js';
export * from './bench.js';
export * from './rbm-pipeline.js';
