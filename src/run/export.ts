/**
 * Export a run's checkpoint for Python users (node-only: reads and writes files).
 *
 * Two formats:
 * - `torch-state-dict`: a safetensors file whose tensor names and layouts are those of
 *   the matching PyTorch module, ready for `module.load_state_dict`. The MLP VAE maps to
 *   the pytorch/examples `vae/main.py` module (`fc1, fc21, fc22, fc3, fc4`, nn.Linear
 *   weights `[out, in]`); an RBM maps to the peer benchmark's `W [nVisible, nHidden]`,
 *   `bv`, `bh` (`/work/shared/bench/torch_peer.py`).
 * - `numpy`: an `.npz` (a zip of stored, uncompressed `.npy` entries, as `numpy.savez`
 *   writes) holding the checkpoint's tensors under their genphys names and layouts
 *   (Keras layout for VAEs), plus `metadata_json` (the metadata as UTF-8 bytes, uint8).
 *
 * Both carry a metadata JSON (safetensors header key `genphys`) with the genphys kind,
 * the model config and the sign conventions, so a reader never guesses.
 */
import { CheckpointError, UsageError } from '../core/errors.js';
import type { EnergyModel } from '../ebm/model.js';
import { loadModel, RBM_CHECKPOINT_KIND } from '../ebm/io.js';
import { loadCheckpoint } from '../io/checkpoint.js';
import { encodeNpy } from '../io/npy.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadVaeCheckpoint } from '../vae/checkpoint.js';
import { parameterSpecs, type VaeConfig } from '../vae/models.js';
import { VERSION } from '../version.js';
// Registers 'lattice-spin-rbm' so its checkpoints load.
import '../physics/lattice-rbm.js';

/** Export formats. */
export type ExportFormat = 'torch-state-dict' | 'numpy';

/** Names of the export formats, for option parsers. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['torch-state-dict', 'numpy'];

/** One exported array: C-order shape and float32 values. */
export interface ExportTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** What {@link exportTensors} produces before anything is written. */
export interface ExportBundle {
  readonly format: ExportFormat;
  /** Tensors by exported name. */
  readonly tensors: Readonly<Record<string, ExportTensor>>;
  /** JSON metadata: genphys kind, model kind, config, conventions. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Sign conventions of the binary RBM energy, written next to every RBM export. */
const RBM_ENERGY = 'E(v,h) = -a.v - b.h - v^T W h, W [nVisible, nHidden]; F(v) = -a.v - sum_j log sum_{h_j} exp(h_j (b_j + (v W)_j)); p(v) = exp(-F(v)) / Z';
const GB_RBM_ENERGY = 'E(v,h) = sum_i (v_i - a_i)^2 / (2 sigma_i^2) - sum_ij (v_i / sigma_i^2) W_ij h_j - b.h, sigma_i^2 = exp(logSigma2_i), h in {0,1}';

/** [rows, cols] row-major → its transpose, row-major. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

function rbmBundle(model: EnergyModel, format: ExportFormat, source: string): ExportBundle {
  const units = model.visibleUnits;
  const metadata = {
    genphysKind: RBM_CHECKPOINT_KIND,
    modelKind: model.kind,
    config: model.config,
    units: { visible: model.visibleUnits, hidden: model.hiddenUnits },
    energy: units === 'gaussian' ? GB_RBM_ENERGY : RBM_ENERGY,
    spins: units === 'pm1' ? 'units take values -1 and +1 (Ising spins); log sum_{h_j} exp(h_j x) = log(2 cosh x)' : 'units take values 0 and 1 where binary',
  };
  const p = model.params;
  const [nv, nh] = [model.nVisible, model.nHidden];
  const tensors: Record<string, ExportTensor> = {};
  if (!p.W || !p.a || !p.b) throw new CheckpointError(source, `model kind '${model.kind}' lacks W, a or b`);
  if (format === 'numpy') {
    for (const [k, v] of Object.entries(p)) tensors[`rbm.${k}`] = { shape: k === 'W' ? [nv, nh] : [v.length], data: v };
  } else {
    // The peer's names (torch_peer.py rbm-cd1 workload): W [nv, nh], bv visible, bh hidden.
    tensors.W = { shape: [nv, nh], data: p.W };
    tensors.bv = { shape: [nv], data: p.a };
    tensors.bh = { shape: [nh], data: p.b };
    if (p.logSigma2) tensors.log_sigma2 = { shape: [nv], data: p.logSigma2 };
    for (const k of Object.keys(p)) if (!['W', 'a', 'b', 'logSigma2'].includes(k)) throw new UsageError(`--format torch-state-dict: RBM kind '${model.kind}' has parameter '${k}' that has no PyTorch name; use --format numpy`);
  }
  return { format, tensors, metadata: { ...metadata, names: format === 'numpy' ? 'rbm.W = W, rbm.a = a (visible bias), rbm.b = b (hidden bias)' : 'W = W, bv = a (visible bias), bh = b (hidden bias)' } };
}

/** The pytorch/examples VAE names of the one-hidden-layer MLP, by genphys layer. */
const TORCH_VAE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['encoder.dense1', 'fc1'],
  ['encoder.mean', 'fc21'],
  ['encoder.logvar', 'fc22'],
  ['decoder.dense1', 'fc3'],
  ['decoder.out', 'fc4'],
];

function vaeBundle(cfg: VaeConfig, weights: ReadonlyMap<string, Float32Array>, format: ExportFormat): ExportBundle {
  const metadata: Record<string, unknown> = {
    genphysKind: 'vae',
    modelKind: `vae-${cfg.arch.kind}`,
    config: cfg,
    inputs: 'x flattened from NHWC images to [batch, rows*cols*channels]',
    posterior: 'q(z|x) = N(mu, diag(exp(logvar))); KL to N(0, I) = -0.5 sum(1 + logvar - mu^2 - exp(logvar))',
    decoderOutput: cfg.decoder === 'bernoulli' || cfg.decoder === 'cbernoulli' ? 'logits' : 'means',
  };
  const tensors: Record<string, ExportTensor> = {};
  const specs = parameterSpecs(cfg);
  if (format === 'numpy') {
    for (const s of specs) tensors[s.name] = { shape: s.shape, data: weights.get(s.name)! };
    metadata.layout = 'Keras: dense kernels [in, out], conv kernels [kh, kw, in, out], transposed-conv kernels [kh, kw, out, in], NHWC images';
    return { format, tensors, metadata };
  }
  const a = cfg.arch;
  if (a.kind !== 'mlp') throw new UsageError(`--format torch-state-dict: VAE kind 'vae-${a.kind}' has no PyTorch module mapping; use --format numpy`);
  const dec = a.decoderHidden ?? [...a.hidden].reverse();
  if (a.hidden.length !== 1 || dec.length !== 1) {
    throw new UsageError(`--format torch-state-dict: only the one-hidden-layer MLP VAE (pytorch/examples fc1…fc4) maps to PyTorch, this one has hidden [${a.hidden.join(', ')}] / decoder [${dec.join(', ')}]; use --format numpy`);
  }
  for (const [ours, theirs] of TORCH_VAE_NAMES) {
    const k = specs.find((s) => s.name === `${ours}.kernel`)!;
    const [nin, nout] = k.shape as [number, number];
    // nn.Linear computes x Wᵀ + b with W [out, in]; ours is x K + b with K [in, out].
    tensors[`${theirs}.weight`] = { shape: [nout, nin], data: transpose(weights.get(k.name)!, nin, nout) };
    tensors[`${theirs}.bias`] = { shape: [nout], data: weights.get(`${ours}.bias`)! };
  }
  if (cfg.decoder === 'gaussian-learned') tensors.logsigma2 = { shape: [1], data: weights.get('decoder.logsigma2')! };
  metadata.layout = 'PyTorch nn.Linear: weight [out, in], y = x W^T + b';
  metadata.module = `h = ${a.activation}(fc1(x)); mu = fc21(h); logvar = fc22(h); out = fc4(${a.activation}(fc3(z)))`;
  return { format, tensors, metadata };
}

/**
 * The tensors and metadata an export of the checkpoint at `path` (a run directory, or a
 * checkpoint's `.json`/`.safetensors`) holds in `format`. Reads only.
 * @throws UsageError naming the kind when the checkpoint's model has no mapping to `format`;
 *   CheckpointError for a missing or corrupt checkpoint
 */
export function exportTensors(path: string, format: ExportFormat): ExportBundle {
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format: unknown format '${String(format)}'; choose one of ${EXPORT_FORMATS.join(', ')}`);
  const kind = loadCheckpoint(path).kind;
  if (kind === RBM_CHECKPOINT_KIND) {
    const { model } = loadModel(path);
    return rbmBundle(model, format, path);
  }
  if (kind === 'vae') {
    const ck = loadVaeCheckpoint(path);
    return vaeBundle(ck.meta.model, ck.weights, format);
  }
  throw new UsageError(`export: checkpoint kind '${kind}' is not supported (supported: ${RBM_CHECKPOINT_KIND}, vae)`);
}

/** The full metadata object written into an export. */
function fullMetadata(b: ExportBundle, source: string): Record<string, unknown> {
  return { format: b.format, genphysVersion: VERSION, source, ...b.metadata };
}

/** Result of {@link exportRun}. */
export interface ExportResult {
  /** The file written. */
  readonly path: string;
  /** Exported tensor names and shapes. */
  readonly tensors: Readonly<Record<string, readonly number[]>>;
}

/**
 * Export the checkpoint of run `run` to `out` (written atomically): a safetensors
 * file for `torch-state-dict`, an `.npz` for `numpy` (see the module comment).
 */
export function exportRun(run: string, format: ExportFormat, out: string): ExportResult {
  const b = exportTensors(run, format);
  const meta = fullMetadata(b, run);
  let bytes: Uint8Array;
  if (format === 'torch-state-dict') {
    bytes = encodeSafetensors(
      Object.fromEntries(Object.entries(b.tensors).map(([k, t]) => [k, { shape: [...t.shape], data: t.data }])),
      { genphys: JSON.stringify(meta) },
    );
  } else {
    const entries: Record<string, Uint8Array> = {};
    for (const [k, t] of Object.entries(b.tensors)) entries[`${k}.npy`] = encodeNpy(t.data, t.shape);
    const json = new TextEncoder().encode(JSON.stringify(meta));
    entries['metadata_json.npy'] = encodeNpy(json, [json.length]);
    bytes = encodeZipStored(entries);
  }
  writeFileAtomic(out, bytes);
  return { path: out, tensors: Object.fromEntries(Object.entries(b.tensors).map(([k, t]) => [k, [...t.shape]])) };
}

let crcTable: Uint32Array | null = null;

/**
 * CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF),
 * the checksum of zip entries (PKWARE APPNOTE.TXT 4.4.7).
 */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive of stored (method 0, uncompressed) entries, in the given order, following
 * PKWARE's APPNOTE.TXT: a local header + data per entry, the central directory, the end
 * record. No zip64, so the archive must stay under 4 GiB and 65535 entries. Timestamps
 * are fixed (1980-01-01) so the same tensors give the same bytes.
 * @throws UsageError when the archive would need zip64
 */
export function encodeZipStored(entries: Readonly<Record<string, Uint8Array>>): Uint8Array {
  const names = Object.keys(entries);
  if (names.length > 0xffff) throw new UsageError(`npz: ${names.length} entries need zip64, which genphys does not write`);
  const enc = new TextEncoder();
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const data = entries[name]!;
    const nb = enc.encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nb.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, 0x0800, true); // bit 11: names are UTF-8
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, 0, true);
    lv.setUint16(12, DOS_DATE, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nb.length, true);
    lv.setUint16(28, 0, true);
    local.set(nb, 30);
    const cd = new Uint8Array(46 + nb.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true); // made by: MS-DOS, 2.0
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, 0, true);
    cv.setUint16(14, DOS_DATE, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nb.length, true);
    // extra, comment, disk number, internal and external attributes: 0
    cv.setUint32(42, offset, true);
    cd.set(nb, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
    if (offset > 0xffffffff) throw new UsageError('npz: the archive would exceed 4 GiB, which needs zip64 (not written by genphys)');
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, names.length, true);
  ev.setUint16(10, names.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let pos = 0;
  for (const p of [...parts, ...central, end]) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
