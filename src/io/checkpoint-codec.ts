/**
 * The checkpoint format as a pure, browser-safe codec: checkpoint content in, the two
 * files' bytes out ({@link encodeCheckpoint}), and back ({@link decodeCheckpoint}), with
 * every check the CLI makes. No `node:` imports, so the lab can export a model that
 * `genphys rbm eval DIR` / `genphys vae sample DIR` opens unchanged, and import one the
 * CLI wrote. `checkpoint.ts` wraps these with the file system and the crash-safe save
 * protocol; the layout (`<name>.json` + `<name>.w<step>.safetensors`) is described there.
 */
import { sha256Hex } from '../core/sha256.js';
import { CheckpointError, DivergenceError, ShapeError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import { VERSION } from '../version.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors-codec.js';

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

/** What {@link encodeCheckpoint} (and `saveCheckpoint`) stores. */
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
  /** What the model was trained on; see `fingerprint` in `checkpoint.ts`. */
  readonly dataset?: DatasetFingerprint;
  /** Anything else worth keeping (metrics, notes); JSON-serialisable. */
  readonly extra?: Record<string, unknown>;
}

/** A checkpoint read back by {@link decodeCheckpoint} (or `loadCheckpoint`). */
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

/** Options of {@link decodeCheckpoint} and `loadCheckpoint`. */
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

/** A hash function: lower-case hex SHA-256 of the bytes. */
export type Sha256 = (bytes: Uint8Array) => string;

/** Options of {@link encodeCheckpoint}. */
export interface EncodeCheckpointOptions {
  /** Base name: the manifest is `<name>.json`. Default `checkpoint`. */
  readonly name?: string;
  /** Weights file name recorded in the manifest. Default `<name>.w<step>.safetensors`. */
  readonly weightsFile?: string;
  /** SHA-256 of the weights bytes. Default the pure {@link sha256Hex}; node passes `node:crypto`. */
  readonly sha256?: Sha256;
  /** ISO-8601 creation time to record. Default now. */
  readonly created?: string;
}

/** The two files of a checkpoint, ready to write side by side in one directory. */
export interface EncodedCheckpoint {
  /** File name of the manifest, `<name>.json`. */
  readonly jsonName: string;
  /** The manifest's text (UTF-8, ends in a newline). */
  readonly jsonText: string;
  /** File name of the weights, as the manifest records it. */
  readonly weightsFile: string;
  /** The weights file's bytes (safetensors). */
  readonly weights: Uint8Array;
}

/** Identifies the JSON layout, so a future change can be detected and migrated. */
export const CHECKPOINT_FORMAT = 'genphys-checkpoint';
/** Version of the JSON layout this genphys writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;

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

const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * Check a checkpoint base name (or file name): letters, digits, '_', '.', '-' only, so
 * it can never reach outside its directory.
 * @throws ShapeError otherwise
 */
export function checkCheckpointName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new ShapeError(`checkpoint name '${name}' must use only letters, digits, '_', '.', '-'`);
  }
}

/** Index of the first NaN or ±Infinity in `a`, or −1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/**
 * Serialise a checkpoint to its two files in memory. Everything is checked here, before
 * any caller writes a byte: a shape that does not fit, a non-integer step, a config JSON
 * cannot represent, a NaN or infinite value in a tensor.
 *
 * @throws ShapeError on inconsistent input, DivergenceError on non-finite values
 */
export function encodeCheckpoint(ckpt: CheckpointInput, opts: EncodeCheckpointOptions = {}): EncodedCheckpoint {
  const name = opts.name ?? 'checkpoint';
  checkCheckpointName(name);
  if (typeof ckpt.kind !== 'string' || ckpt.kind === '') throw new ShapeError('checkpoint kind must be a non-empty string');
  for (const [k, v] of [
    ['step', ckpt.step],
    ['epoch', ckpt.epoch],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new ShapeError(`checkpoint ${k} must be a non-negative integer, got ${v}`);
  }
  const file = opts.weightsFile ?? `${name}.w${ckpt.step}.safetensors`;
  if (!NAME_RE.test(file) || file === '.' || file === '..') {
    throw new ShapeError(`checkpoint weights file '${file}' must be a plain file name of letters, digits, '_', '.', '-'`);
  }
  const tensorList: Record<string, { dtype: string; shape: number[] }> = {};
  for (const [tname, t] of Object.entries(ckpt.tensors)) {
    if (!(t.data instanceof Float32Array)) throw new ShapeError(`checkpoint tensor '${tname}' must be a Float32Array`);
    const bad = firstNonFinite(t.data);
    if (bad >= 0) throw new DivergenceError(`refusing to save tensor '${tname}': entry ${bad} is ${t.data[bad]} (training diverged; try a lower --lr)`);
    tensorList[tname] = { dtype: 'F32', shape: [...t.shape] };
  }
  const weights = encodeSafetensors(ckpt.tensors, {
    format: CHECKPOINT_FORMAT,
    kind: ckpt.kind,
    genphys_version: VERSION,
    step: String(ckpt.step),
  });
  const doc: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    kind: ckpt.kind,
    genphysVersion: VERSION,
    created: opts.created ?? new Date().toISOString(),
    step: ckpt.step,
    epoch: ckpt.epoch,
    config: ckpt.config,
    ...(ckpt.optimizer !== undefined ? { optimizer: ckpt.optimizer } : {}),
    ...(ckpt.rng !== undefined ? { rng: { s: [...ckpt.rng.s] as RngState['s'], spareNormal: ckpt.rng.spareNormal } } : {}),
    ...(ckpt.dataset !== undefined ? { dataset: ckpt.dataset } : {}),
    ...(ckpt.extra !== undefined ? { extra: ckpt.extra } : {}),
    weights: { file, bytes: weights.length, sha256: (opts.sha256 ?? sha256Hex)(weights), tensors: tensorList },
  };
  let jsonText: string;
  try {
    // JSON would turn NaN/±Infinity into null silently; a config must come back as it went in.
    jsonText =
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
  return { jsonName: `${name}.json`, jsonText, weightsFile: file, weights };
}

/** A validated manifest: the JSON of a checkpoint before its weights are read. */
export interface CheckpointManifest {
  /** Path (or name) of the JSON, for messages. */
  readonly path: string;
  readonly kind: string;
  readonly config: Record<string, unknown>;
  readonly step: number;
  readonly epoch: number;
  readonly optimizer?: Record<string, unknown>;
  readonly rng?: RngState;
  readonly dataset?: DatasetFingerprint;
  readonly extra?: Record<string, unknown>;
  readonly genphysVersion: string;
  readonly created: string;
  /** What the manifest records of its weights file. */
  readonly weights: {
    readonly file: string;
    readonly bytes: number;
    readonly sha256: string;
    readonly tensors: Readonly<Record<string, unknown>>;
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Last component of a '/'- or '\'-separated path (node's basename, without `node:path`). */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/**
 * Parse and validate a checkpoint's JSON: format and version, model kind (against
 * `opts.kind`), step, epoch, config, the weights record and the generator state.
 *
 * @param jsonPath - the JSON's path or name, used in messages
 * @throws CheckpointError whose one-line message names `jsonPath` and the problem
 */
export function parseCheckpointManifest(jsonText: string, jsonPath: string, opts: Pick<LoadCheckpointOptions, 'kind'> = {}): CheckpointManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(jsonText);
  } catch (err) {
    throw new CheckpointError(jsonPath, `not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const bad = (problem: string): never => {
    throw new CheckpointError(jsonPath, problem);
  };
  if (!isObj(doc) || doc['format'] !== CHECKPOINT_FORMAT) bad(`not a genphys checkpoint (format field is not '${CHECKPOINT_FORMAT}')`);
  const d = doc as Record<string, unknown>;
  if (d['formatVersion'] !== CHECKPOINT_FORMAT_VERSION) {
    bad(`checkpoint format version ${String(d['formatVersion'])} is not supported (this genphys reads ${CHECKPOINT_FORMAT_VERSION})`);
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
  const file = weightsInfo.file;
  // A manifest must not point outside its own directory.
  if (baseName(file) !== file || file === '' || file === '.' || file === '..') bad(`weights file '${file}' must be a plain file name`);
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
  return {
    path: jsonPath,
    kind,
    config: d['config'] as Record<string, unknown>,
    step: d['step'] as number,
    epoch: d['epoch'] as number,
    ...(isObj(d['optimizer']) ? { optimizer: d['optimizer'] } : {}),
    ...(rng !== undefined ? { rng: rng as unknown as RngState } : {}),
    ...(isObj(d['dataset']) ? { dataset: d['dataset'] as unknown as DatasetFingerprint } : {}),
    ...(isObj(d['extra']) ? { extra: d['extra'] } : {}),
    genphysVersion: typeof d['genphysVersion'] === 'string' ? d['genphysVersion'] : 'unknown',
    created: typeof d['created'] === 'string' ? d['created'] : '',
    weights: { file, bytes: weightsInfo.bytes, sha256: weightsInfo.sha256, tensors: weightsInfo.tensors },
  };
}

/**
 * Check a weights file against its validated manifest and decode it: byte length and
 * SHA-256 against the manifest, the safetensors layout, the tensor list and shapes
 * against the manifest, F32 only, no NaN/±Infinity, and `opts.expect`/`opts.allowExtra`.
 *
 * @param weightsPath - the weights file's path or name, used in messages
 * @throws CheckpointError whose one-line message names the offending file
 */
export function decodeCheckpointWeights(
  manifest: CheckpointManifest,
  bytes: Uint8Array,
  weightsPath: string,
  opts: Pick<LoadCheckpointOptions, 'expect' | 'allowExtra'> & { readonly sha256?: Sha256 } = {},
): LoadedCheckpoint {
  const jsonPath = manifest.path;
  const weightsInfo = manifest.weights;
  if (bytes.length !== weightsInfo.bytes) {
    throw new CheckpointError(
      weightsPath,
      `weights file is ${bytes.length} bytes but ${baseName(jsonPath)} records ${weightsInfo.bytes} (truncated, or from another save)`,
    );
  }
  if ((opts.sha256 ?? sha256Hex)(bytes) !== weightsInfo.sha256) {
    throw new CheckpointError(weightsPath, `weights SHA-256 does not match ${baseName(jsonPath)} (corrupt, or from another save)`);
  }
  const { tensors: raw } = decodeSafetensors(bytes, weightsPath);

  const listed = Object.keys(weightsInfo.tensors).sort();
  const inFile = Object.keys(raw).sort();
  if (listed.join('\n') !== inFile.join('\n')) {
    throw new CheckpointError(jsonPath, `tensor list differs from ${weightsInfo.file} (json: ${listed.join(', ')}; file: ${inFile.join(', ')})`);
  }
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [tname, t] of Object.entries(raw)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) {
      throw new CheckpointError(weightsPath, `tensor '${tname}' is ${t.dtype}, checkpoints hold F32`);
    }
    const listedShape = (weightsInfo.tensors[tname] as { shape?: unknown } | undefined)?.shape;
    if (!Array.isArray(listedShape) || !sameShape(listedShape as number[], t.shape)) {
      throw new CheckpointError(weightsPath, `tensor '${tname}' has shape ${fmt(t.shape)} in the file but ${Array.isArray(listedShape) ? fmt(listedShape as number[]) : 'no shape'} in ${baseName(jsonPath)}`);
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
          throw new CheckpointError(weightsPath, `unexpected tensor '${tname}' for a '${manifest.kind}' model`);
        }
      }
    }
  }
  const { weights: _w, ...rest } = manifest;
  return { ...rest, weightsPath, tensors };
}

/** Options of {@link decodeCheckpoint}. */
export interface DecodeCheckpointOptions extends LoadCheckpointOptions {
  /** The JSON's path or name, for messages. Default `<name>.json`. */
  readonly jsonPath?: string;
  /** The weights' path or name, for messages. Default the manifest's file, beside `jsonPath`. */
  readonly weightsPath?: string;
  /** SHA-256 to check the weights with. Default the pure {@link sha256Hex}. */
  readonly sha256?: Sha256;
}

/**
 * Validate and decode a checkpoint from its two files' contents, with every check
 * `loadCheckpoint` makes (see {@link parseCheckpointManifest} and
 * {@link decodeCheckpointWeights}). A browser passes what the user picked.
 *
 * @throws CheckpointError whose one-line message names the offending file
 */
export function decodeCheckpoint(jsonText: string, weights: Uint8Array, opts: DecodeCheckpointOptions = {}): LoadedCheckpoint {
  const jsonPath = opts.jsonPath ?? `${opts.name ?? 'checkpoint'}.json`;
  const manifest = parseCheckpointManifest(jsonText, jsonPath, opts);
  const weightsPath = opts.weightsPath ?? jsonPath.slice(0, jsonPath.length - baseName(jsonPath).length) + manifest.weights.file;
  return decodeCheckpointWeights(manifest, weights, weightsPath, opts);
}
