/**
 * Sweeps, the node-only part: the shared-directory store, the child-process runner,
 * the local pool, the BullMQ queue and worker, status and reports from a directory.
 */
export * from './index.js';
export * from './store-fs.js';
export * from './exec.js';
export * from './local.js';
export * from './queue.js';
export * from './status.js';
export * from './gather.js';
export * from './ising.js';
