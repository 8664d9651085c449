/**
 * Shared helpers for tests of checkpoints and run directories: the weights file a
 * manifest names, and byte-exact snapshots of a directory to prove "nothing changed".
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The weights file that the manifest `<dir>/<name>.json` names (`weights.file`), e.g.
 * `checkpoint.w12.safetensors`. Throws when the manifest is missing or names none, so
 * a test never silently reads a stale file.
 */
export function weightsFile(dir: string, name = 'checkpoint'): string {
  const doc = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { weights?: { file?: unknown } };
  const file = doc.weights?.file;
  if (typeof file !== 'string' || file === '') throw new Error(`${join(dir, `${name}.json`)}: no weights.file`);
  return file;
}

/** Full path of the weights file the manifest `<dir>/<name>.json` names. */
export function weightsPath(dir: string, name = 'checkpoint'): string {
  return join(dir, weightsFile(dir, name));
}

/**
 * Every file under `dir` (recursively, names relative to `dir`) with the SHA-256 of its
 * bytes, sorted by name: equal snapshots mean no file was added, removed or changed.
 */
export function snapshotDir(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (rel: string): void => {
    for (const f of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? f : join(rel, f);
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else out.push([r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex')]);
    }
  };
  walk('');
  return out;
}

/**
 * Send one SIGINT to this process as soon as a handler beyond the `baseline` count is
 * installed, `delayMs` after that. One signal only: a second SIGINT makes a run exit
 * the process at once (src/run/signals.ts), which would kill the test worker.
 * Returns a function that cancels a signal not yet sent.
 */
export function interruptWhenListening(baseline: number, delayMs = 0): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = setInterval(() => {
    if (process.listenerCount('SIGINT') <= baseline) return;
    clearInterval(poll);
    timer = setTimeout(() => process.emit('SIGINT'), delayMs);
  }, 10);
  return () => {
    clearInterval(poll);
    if (timer !== undefined) clearTimeout(timer);
  };
}
