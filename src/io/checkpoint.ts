/**
 * Checkpoints: a pair of files in one directory,
 *
 * - `<name>.safetensors` — the weights, flat names such as `encoder.dense1.kernel`,
 *   float32 little-endian; optimizer moments may sit beside them as `optimizer.<...>`;
 * - `<name>.json` — everything needed to rebuild and resume: model kind, full config,
 *   step, epoch, optimizer state, RNG state, genphys version, dataset fingerprint,
 *   creation time, and the weights file's byte length, SHA-256 and tensor list.
 *
 * Saves are crash-safe by a manifest-last protocol (as SQLite's journal or git's
 * objects-then-ref): the weights go to a new file whose name no manifest refers to yet
 * (`<name>.w<step>.safetensors`), written to a temporary file, fsynced and renamed; then
 * the JSON manifest is written the same way, and its rename is the commit point; then
 * the directory is fsynced and the previous weights file is removed. A SIGKILL at any
 * instant leaves either the old manifest with its old weights or the new manifest with
 * its new weights; what is left over (temporary files, an unreferenced weights file) is
 * removed by {@link cleanCheckpointDir} on the next start.
 *
 * The content of the two files (validation, JSON, safetensors, hashes) is built and
 * checked by the browser-safe codec in `checkpoint-codec.ts`; this module adds the
 * file system: where the files go, the save protocol and cleanup.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import {
  checkCheckpointName,
  decodeCheckpointWeights,
  encodeCheckpoint,
  parseCheckpointManifest,
  type CheckpointInput,
  type DatasetFingerprint,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from './checkpoint-codec.js';

export {
  firstNonFinite,
  type CheckpointInput,
  type CheckpointTensor,
  type DatasetFingerprint,
  type LoadCheckpointOptions,
  type LoadedCheckpoint,
} from './checkpoint-codec.js';

/** node's SHA-256: several times faster than the pure one on large weights files. */
function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Fingerprint a dataset: its name, split and size plus the SHA-256 of its bytes, so a
 * checkpoint records exactly what it was trained on.
 */
export function fingerprint(
  data: ArrayBufferView,
  meta: { name: string; split: string; n: number },
): DatasetFingerprint {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name: meta.name, split: meta.split, n: meta.n, sha256: sha256(bytes) };
}

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions {
  /**
   * Called after each step of the save protocol ('weights', 'manifest', 'cleanup'); tests
   * throw from it to stand for a crash at that instant.
   */
  readonly onStep?: (step: 'weights' | 'manifest' | 'cleanup') => void;
}

/** Weights files of checkpoint `name`: `<name>.w<step>[-<n>].safetensors`. */
function weightsPattern(name: string): RegExp {
  return new RegExp(`^${name.replace(/[.]/g, '\\.')}\\.w\\d+(-\\d+)?\\.safetensors$`);
}

/** The manifest's recorded weights file, or null when there is no readable manifest. */
function referencedWeights(jsonPath: string): string | null {
  try {
    const d = JSON.parse(readFileSync(jsonPath, 'utf8')) as { weights?: { file?: unknown } };
    return typeof d?.weights?.file === 'string' ? d.weights.file : null;
  } catch {
    return null;
  }
}

function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the renames are still atomic.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Save a checkpoint: the manifest `<dir>/<name>.json` and its weights file
 * `<dir>/<name>.w<step>.safetensors`, by the manifest-last protocol described above.
 *
 * Everything is serialised and checked (by `encodeCheckpoint`) before the first byte is
 * written, so bad input (a shape that does not fit, a non-integer step, a config JSON
 * cannot represent, a NaN or infinite value in a tensor) leaves an existing checkpoint
 * untouched.
 *
 * @returns the paths written
 * @throws ShapeError on inconsistent input, DivergenceError on non-finite values;
 *   file-system errors propagate
 */
export function saveCheckpoint(
  dir: string,
  ckpt: CheckpointInput,
  name = 'checkpoint',
  opts: SaveCheckpointOptions = {},
): { json: string; weights: string } {
  // Checked before the name reaches a path, so a bad name never reads outside `dir`.
  checkCheckpointName(name);
  const jsonPath = join(dir, `${name}.json`);
  // A fresh name: never the file the current manifest refers to.
  const current = existsSync(jsonPath) ? referencedWeights(jsonPath) : null;
  let file = `${name}.w${ckpt.step}.safetensors`;
  // An unreferenced file of that name is debris of a killed save, and is overwritten.
  for (let g = 1; file === current; g++) file = `${name}.w${ckpt.step}-${g}.safetensors`;
  const enc = encodeCheckpoint(ckpt, { name, weightsFile: file, sha256 });
  const weightsPath = join(dir, file);
  writeFileAtomic(weightsPath, enc.weights);
  opts.onStep?.('weights');
  writeFileAtomic(jsonPath, enc.jsonText);
  fsyncDir(dir);
  opts.onStep?.('manifest');
  const pattern = weightsPattern(name);
  for (const f of readdirSync(dir)) if (f !== file && pattern.test(f)) rmSync(join(dir, f), { force: true });
  opts.onStep?.('cleanup');
  return { json: jsonPath, weights: weightsPath };
}

/**
 * Remove what killed saves leave behind in `dir`: temporary files of atomic writes
 * (`.<file>.<pid>.<time>.tmp`) and weights files no manifest refers to. Returns the
 * names removed. Safe to call at any time no save is running in `dir`.
 */
export function cleanCheckpointDir(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const referenced = new Set<string>();
  for (const f of names) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const r = referencedWeights(join(dir, f));
    if (r !== null) referenced.add(r);
  }
  for (const f of names) {
    const tmp = /^\..+\.\d+\.\d+\.tmp$/.test(f);
    const orphan = /\.w\d+(-\d+)?\.safetensors$/.test(f) && !referenced.has(f);
    if (tmp || orphan) {
      rmSync(join(dir, f), { force: true });
      removed.push(f);
    }
  }
  return removed;
}

/** Resolve a directory, a `.json` path or a `.safetensors` path to the JSON path. */
function resolveJson(path: string, name: string | undefined): string {
  if (path.endsWith('.json')) return path;
  if (path.endsWith('.safetensors')) return path.slice(0, -'.safetensors'.length).replace(/\.w\d+(-\d+)?$/, '') + '.json';
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new CheckpointError(path, 'no such checkpoint directory or file');
  }
  if (!isDir) throw new CheckpointError(path, 'expected a checkpoint directory, .json or .safetensors file');
  return join(path, `${name ?? 'checkpoint'}.json`);
}

/**
 * Load and validate a checkpoint: the JSON's layout, the model kind, the weights file's
 * length and SHA-256 against the JSON, the safetensors layout, the tensor list against
 * the JSON and against `opts.expect` (the checks of `decodeCheckpoint`, on files).
 *
 * @param path - the checkpoint directory, or the path of its `.json` or `.safetensors`
 * @throws CheckpointError whose one-line message names the file and the problem
 */
export function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const jsonPath = resolveJson(path, opts.name);
  if (!existsSync(jsonPath)) throw new CheckpointError(jsonPath, 'checkpoint metadata file not found');
  let text: string;
  try {
    text = readFileSync(jsonPath, 'utf8');
  } catch (err) {
    throw new CheckpointError(jsonPath, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const manifest = parseCheckpointManifest(text, jsonPath, opts);
  const weightsPath = join(dirname(jsonPath), manifest.weights.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsPath);
  } catch (err) {
    throw new CheckpointError(weightsPath, `cannot read weights (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return decodeCheckpointWeights(manifest, bytes, weightsPath, { ...opts, sha256 });
}
