// Generated from package.json by scripts/sync-version.mjs (npm pack runs it); do not edit.
/** The genphys version (package.json's "version"), stored in every checkpoint. */
export const VERSION = '0.1.0';
