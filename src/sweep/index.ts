/**
 * Sweeps, the browser-safe part: specs, expansion, job ids, the store interface and
 * report tables. The runners (local pool, queue, directory store) are node-only and
 * live in `./node.js`.
 */
export * from './spec.js';
export * from './sha256.js';
export type * from './store.js';
export * from './report.js';
