/**
 * SHA-256 for sweep job ids; the implementation lives in `src/core/sha256.ts` so
 * checkpoints share it. Re-exported here so existing imports keep working.
 */
export { sha256Hex } from '../core/sha256.js';
