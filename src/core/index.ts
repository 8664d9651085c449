/**
 * Core: the seeded generator and the typed errors every module throws. Pure
 * TypeScript with no dependencies; browser-safe.
 */
export { Rng, type RngState } from './rng.js';
export * from './errors.js';
