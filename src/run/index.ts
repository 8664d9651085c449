/**
 * The run layer: run directories, checkpoints, resume, signals, progress events and
 * the model registry, below every model family. `loop`, `events` and `registry` run in
 * a browser too; `run-dir`, `paths`, `signals` and `resources` are node-only.
 */
export * from './events.js';
export * from './loop.js';
export * from './registry.js';
export * from './run-dir.js';
export * from './paths.js';
export * from './signals.js';
export * from './resources.js';
export * from './summary.js';
