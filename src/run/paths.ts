/**
 * Output paths checked before anything is written: a one-line error for an empty path,
 * a path under a file, an existing file where a directory is wanted (or the reverse),
 * an unwritable parent, or a pseudo-file system (/proc, /sys, /dev), where Node's
 * recursive mkdir can loop forever.
 */
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RunError, UsageError } from '../core/errors.js';

const PSEUDO = ['/proc', '/sys', '/dev'];

/** The nearest existing ancestor of `p` (or `p` itself). */
function existingAncestor(p: string): string {
  let cur = p;
  while (!existsSync(cur)) {
    const up = dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
  return cur;
}

function checkCommon(path: string, flag: string): { abs: string; anc: string } {
  if (path.trim() === '') throw new RunError(`${flag}: the path is empty`);
  const abs = resolve(path);
  const anc = existingAncestor(abs);
  let real = anc;
  try {
    real = realpathSync(anc);
  } catch {
    // keep the unresolved path
  }
  for (const p of PSEUDO) {
    if (real === p || real.startsWith(p + '/') || abs === p || abs.startsWith(p + '/')) throw new RunError(`${flag}: ${path} is under ${p}, a pseudo-file system; choose a real directory`);
  }
  return { abs, anc };
}

/**
 * Check a directory to be created or reused as output.
 * @returns the absolute path
 * @throws RunError naming `flag` and the problem
 */
export function checkOutputDir(path: string, flag = '--out'): string {
  const { abs, anc } = checkCommon(path, flag);
  if (anc === abs) {
    if (!statSync(abs).isDirectory()) throw new RunError(`${flag}: ${path} is a file, not a directory`);
  } else if (!statSync(anc).isDirectory()) {
    throw new RunError(`${flag}: ${anc} is a file, so ${path} cannot be created under it`);
  }
  try {
    accessSync(anc, constants.W_OK);
  } catch {
    throw new RunError(`${flag}: ${anc} is not writable`);
  }
  return abs;
}

/**
 * Check a file path to be written (a PNG, a text file): not a directory, and its
 * directory can exist.
 * @throws RunError naming `flag` and the problem
 */
export function checkOutputFile(path: string, flag: string): string {
  const { abs, anc } = checkCommon(path, flag);
  if (anc === abs && statSync(abs).isDirectory()) throw new RunError(`${flag}: ${path} is a directory, not a file`);
  if (anc !== abs && !statSync(anc).isDirectory()) throw new RunError(`${flag}: ${anc} is a file, so ${path} cannot be created under it`);
  try {
    accessSync(anc === abs ? dirname(abs) : anc, constants.W_OK);
  } catch {
    throw new RunError(`${flag}: ${anc === abs ? dirname(abs) : anc} is not writable`);
  }
  return abs;
}

/**
 * The run directory of a training command: `--out` when given, else
 * `runs/<name>-<UTC timestamp>` (one scheme for every trainer, e.g.
 * runs/rbm-2026-12-01T15-20-00-000Z). `--resume` needs `--out`: a new name would not
 * find the run.
 */
export function runDirectory(out: string | undefined, name: string, resume = false): string {
  if (out !== undefined) return out;
  if (resume) throw new UsageError('--resume: give the run directory with --out');
  return join('runs', `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}
