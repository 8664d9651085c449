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
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, DivergenceError, ShapeError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

/** Identifies the data a model was trained on. */
export interface DatasetFingerprint {
  /** Dataset name, e.g. `fashion-mnist` or `ising-L16-T2.27`. */
  readonly name: string;
  /** Split, e.g. `train`. */
  readonly split: string;
  /** Number of examples. */
  readonly n: number;
  /** SHA-256 (hex) of the data bytes as stored in memory (little-endian). */
  readonly sha256: string;
}

/** A float32 tensor of a checkpoint, row-major. */
export interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** What {@link saveCheckpoint} stores. */
export interface CheckpointInput {
  /** Model kind, e.g. `rbm` or `vae`; checked on load. */
  readonly kind: string;
  /** The full model/training configuration (JSON-serialisable). */
  readonly config: Record<string, unknown>;
  /** Weights (and `optimizer.`-prefixed moment tensors) by flat name. */
  readonly tensors: Readonly<Record<string, CheckpointTensor>>;
  /** Optimisation steps taken. */
  readonly step: number;
  /** Epochs completed. */
  readonly epoch: number;
  /** Optimizer hyperparameters and step count (JSON-serialisable). */
  readonly optimizer?: Record<string, unknown>;
  /** Generator state from `Rng.getState()`, to resume the same random stream. */
  readonly rng?: RngState;
  /** What the model was trained on; see {@link fingerprint}. */
  readonly dataset?: DatasetFingerprint;
  /** Anything else worth keeping (metrics, notes); JSON-serialisable. */
  readonly extra?: Record<string, unknown>;
}

/** A checkpoint read back by {@link loadCheckpoint}. */
export interface LoadedCheckpoint {
  /** Path of the JSON file. */
  readonly path: string;
  /** Path of the safetensors file. */
  readonly weightsPath: string;
  readonly kind: string;
  readonly config: Record<string, unknown>;
  readonly tensors: Record<string, { shape: number[]; data: Float32Array }>;
  readonly step: number;
  readonly epoch: number;
  readonly optimizer?: Record<string, unknown>;
  readonly rng?: RngState;
  readonly dataset?: DatasetFingerprint;
  readonly extra?: Record<string, unknown>;
  /** genphys version that wrote it. */
  readonly genphysVersion: string;
  /** ISO-8601 creation time. */
  readonly created: string;
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Required model kind; a different kind is an error. */
  readonly kind?: string;
  /** Base name inside a directory. Default `checkpoint`. */
  readonly name?: string;
  /**
   * Expected tensor shapes by name. Each must be present with exactly this shape; a
   * tensor in the file that is neither expected nor `optimizer.`-prefixed is an error
   * unless `allowExtra` is set.
   */
  readonly expect?: Readonly<Record<string, readonly number[]>>;
  /** Accept tensors not listed in `expect`. Default false. */
  readonly allowExtra?: boolean;
}

/** Identifies the JSON layout, so a future change can be detected and migrated. */
const FORMAT = 'genphys-checkpoint';
const FORMAT_VERSION = 1;

interface CheckpointJson {
  format: string;
  formatVersion: number;
  kind: string;
  genphysVersion: string;
  created: string;
  step: number;
  epoch: number;
  config: Record<string, unknown>;
  optimizer?: Record<string, unknown>;
  rng?: RngState;
  dataset?: DatasetFingerprint;
  extra?: Record<string, unknown>;
  weights: {
    file: string;
    bytes: number;
    sha256: string;
    tensors: Record<string, { dtype: string; shape: number[] }>;
  };
}

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

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new ShapeError(`checkpoint name '${name}' must use only letters, digits, '_', '.', '-'`);
  }
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
 * Everything is serialised and checked before the first byte is written, so bad input
 * (a shape that does not fit, a non-integer step, a config JSON cannot represent, a
 * NaN or infinite value in a tensor) leaves an existing checkpoint untouched.
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
  checkName(name);
  if (typeof ckpt.kind !== 'string' || ckpt.kind === '') throw new ShapeError('checkpoint kind must be a non-empty string');
  for (const [k, v] of [
    ['step', ckpt.step],
    ['epoch', ckpt.epoch],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ShapeError(`checkpoint ${k} must be a non-negative integer, got ${v}`);
  }
  const tensorList: Record<string, { dtype: string; shape: number[] }> = {};
  for (const [tname, t] of Object.entries(ckpt.tensors)) {
    if (!(t.data instanceof Float32Array)) throw new ShapeError(`checkpoint tensor '${tname}' must be a Float32Array`);
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw new DivergenceError(`refusing to save tensor '${tname}': entry ${bad} is ${t.data[bad]} (training diverged; try a lower --lr)`);
    tensorList[tname] = { dtype: 'F32', shape: [...t.shape] };
  }
  const weights = encodeSafetensors(ckpt.tensors, {
    format: FORMAT,
    kind: ckpt.kind,
    genphys_version: VERSION,
    step: String(ckpt.step),
  });
  const jsonPath = join(dir, `${name}.json`);
  // A fresh name: never the file the current manifest refers to.
  const current = existsSync(jsonPath) ? referencedWeights(jsonPath) : null;
  let file = `${name}.w${ckpt.step}.safetensors`;
  // An unreferenced file of that name is debris of a killed save, and is overwritten.
  for (let g = 1; file === current; g++) file = `${name}.w${ckpt.step}-${g}.safetensors`;
  const weightsPath = join(dir, file);
  const doc: CheckpointJson = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    kind: ckpt.kind,
    genphysVersion: VERSION,
    created: new Date().toISOString(),
    step: ckpt.step,
    epoch: ckpt.epoch,
    config: ckpt.config,
    ...(ckpt.optimizer !== undefined ? { optimizer: ckpt.optimizer } : {}),
    ...(ckpt.rng !== undefined ? { rng: { s: [...ckpt.rng.s] as RngState['s'], spareNormal: ckpt.rng.spareNormal } } : {}),
    ...(ckpt.dataset !== undefined ? { dataset: ckpt.dataset } : {}),
    ...(ckpt.extra !== undefined ? { extra: ckpt.extra } : {}),
    weights: { file, bytes: weights.length, sha256: sha256(weights), tensors: tensorList },
  };
  let text: string;
  try {
    // JSON would turn NaN/±Infinity into null silently; a config must come back as it went in.
    text =
      JSON.stringify(
        doc,
        (key, v: unknown) => {
          if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`'${key}' is ${v}`);
          return v;
        },
        2,
      ) + '\n';
  } catch (err) {
    throw new ShapeError(`checkpoint metadata is not JSON-serialisable: ${(err as Error).message}`);
  }
  writeFileAtomic(weightsPath, weights);
  opts.onStep?.('weights');
  writeFileAtomic(jsonPath, text);
  fsyncDir(dir);
  opts.onStep?.('manifest');
  const pattern = weightsPattern(name);
  for (const f of readdirSync(dir)) if (f !== file && pattern.test(f)) rmSync(join(dir, f), { force: true });
  opts.onStep?.('cleanup');
  return { json: jsonPath, weights: weightsPath };
}

/** Index of the first NaN or ±Infinity in `a`, or −1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
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

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Load and validate a checkpoint: the JSON's layout, the model kind, the weights file's
 * length and SHA-256 against the JSON, the safetensors layout, the tensor list against
 * the JSON and against `opts.expect`.
 *
 * @param path - the checkpoint directory, or the path of its `.json` or `.safetensors`
 * @throws CheckpointError whose one-line message names the file and the problem
 */
export function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): LoadedCheckpoint {
  const jsonPath = resolveJson(path, opts.name);
  if (!existsSync(jsonPath)) throw new CheckpointError(jsonPath, 'checkpoint metadata file not found');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (err) {
    throw new CheckpointError(jsonPath, `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const bad = (problem: string): never => {
    throw new CheckpointError(jsonPath, problem);
  };
  if (!isObj(doc) || doc['format'] !== FORMAT) bad(`not a genphys checkpoint (format field is not '${FORMAT}')`);
  const d = doc as Record<string, unknown>;
  if (d['formatVersion'] !== FORMAT_VERSION) {
    bad(`checkpoint format version ${String(d['formatVersion'])} is not supported (this genphys reads ${FORMAT_VERSION})`);
  }
  if (typeof d['kind'] !== 'string') bad('missing model kind');
  const kind = d['kind'] as string;
  if (opts.kind !== undefined && kind !== opts.kind) bad(`checkpoint is a '${kind}' model, expected '${opts.kind}'`);
  for (const k of ['step', 'epoch']) {
    if (!Number.isSafeInteger(d[k]) || (d[k] as number) < 0) bad(`'${k}' is not a non-negative integer`);
  }
  if (!isObj(d['config'])) bad("'config' is missing or not an object");
  const w = d['weights'];
  if (
    !isObj(w) ||
    typeof w['file'] !== 'string' ||
    !Number.isSafeInteger(w['bytes']) ||
    typeof w['sha256'] !== 'string' ||
    !isObj(w['tensors'])
  ) {
    bad("'weights' must record file, bytes, sha256 and tensors");
  }
  const weightsInfo = w as { file: string; bytes: number; sha256: string; tensors: Record<string, unknown> };
  if (basename(weightsInfo.file) !== weightsInfo.file) bad(`weights file '${weightsInfo.file}' must be a plain file name`);
  const rng = d['rng'];
  if (rng !== undefined) {
    if (
      !isObj(rng) ||
      !Array.isArray(rng['s']) ||
      rng['s'].length !== 4 ||
      !rng['s'].every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff) ||
      !(rng['spareNormal'] === null || typeof rng['spareNormal'] === 'number')
    ) {
      bad("'rng' is not a valid generator state");
    }
  }

  const weightsPath = join(dirname(jsonPath), weightsInfo.file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(weightsPath);
  } catch (err) {
    throw new CheckpointError(weightsPath, `cannot read weights (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length !== weightsInfo.bytes) {
    throw new CheckpointError(
      weightsPath,
      `weights file is ${bytes.length} bytes but ${basename(jsonPath)} records ${weightsInfo.bytes} (truncated, or from another save)`,
    );
  }
  if (sha256(bytes) !== weightsInfo.sha256) {
    throw new CheckpointError(weightsPath, `weights SHA-256 does not match ${basename(jsonPath)} (corrupt, or from another save)`);
  }
  const { tensors: raw } = decodeSafetensors(bytes, weightsPath);

  const listed = Object.keys(weightsInfo.tensors).sort();
  const inFile = Object.keys(raw).sort();
  if (listed.join('\n') !== inFile.join('\n')) {
    bad(`tensor list differs from ${weightsInfo.file} (json: ${listed.join(', ')}; file: ${inFile.join(', ')})`);
  }
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [tname, t] of Object.entries(raw)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) {
      throw new CheckpointError(weightsPath, `tensor '${tname}' is ${t.dtype}, checkpoints hold F32`);
    }
    const listedShape = (weightsInfo.tensors[tname] as { shape?: unknown } | undefined)?.shape;
    if (!Array.isArray(listedShape) || !sameShape(listedShape as number[], t.shape)) {
      throw new CheckpointError(weightsPath, `tensor '${tname}' has shape ${fmt(t.shape)} in the file but ${Array.isArray(listedShape) ? fmt(listedShape as number[]) : 'no shape'} in ${basename(jsonPath)}`);
    }
    const nf = firstNonFinite(t.data);
    if (nf >= 0) throw new CheckpointError(weightsPath, `tensor '${tname}' holds ${t.data[nf]} at entry ${nf} (a diverged model cannot be loaded)`);
    tensors[tname] = { shape: t.shape, data: t.data };
  }
  if (opts.expect !== undefined) {
    for (const [tname, shape] of Object.entries(opts.expect)) {
      const t = tensors[tname];
      if (t === undefined) throw new CheckpointError(weightsPath, `missing tensor '${tname}'`);
      if (!sameShape(t.shape, shape)) {
        throw new CheckpointError(weightsPath, `tensor '${tname}' has shape ${fmt(t.shape)}, expected ${fmt(shape)}`);
      }
    }
    if (!opts.allowExtra) {
      for (const tname of inFile) {
        if (!(tname in opts.expect) && !tname.startsWith('optimizer.')) {
          throw new CheckpointError(weightsPath, `unexpected tensor '${tname}' for a '${kind}' model`);
        }
      }
    }
  }
  return {
    path: jsonPath,
    weightsPath,
    kind,
    config: d['config'] as Record<string, unknown>,
    tensors,
    step: d['step'] as number,
    epoch: d['epoch'] as number,
    ...(isObj(d['optimizer']) ? { optimizer: d['optimizer'] } : {}),
    ...(rng !== undefined ? { rng: rng as unknown as RngState } : {}),
    ...(isObj(d['dataset']) ? { dataset: d['dataset'] as unknown as DatasetFingerprint } : {}),
    ...(isObj(d['extra']) ? { extra: d['extra'] } : {}),
    genphysVersion: typeof d['genphysVersion'] === 'string' ? d['genphysVersion'] : 'unknown',
    created: typeof d['created'] === 'string' ? d['created'] : '',
  };
}
