/** Goodness-of-fit helpers, shared with the physics module (defined in src/core/stats.ts). */
export { chiSquareTest, gammaQ, logGamma, type ChiSquareResult } from '../core/stats.js';
