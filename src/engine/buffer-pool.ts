/**
 * Reuse of the native backend's output buffers.
 *
 * Every tfjs kernel returns a fresh tensor, so a training step of the MLP VAE
 * allocates ~20 MB of Float32Arrays and frees them again. Each large typed
 * array is an external allocation for V8: zeroed memory from the C heap, counted
 * as external memory pressure, and that pressure triggered a scavenge and a
 * mark-compact GC on every step — measured, those GCs and the page faults of
 * fresh buffers doubled the median step time over the minimum (see
 * native/README.md). Here the backend keeps the buffers of disposed tensors,
 * by exact length, and hands them to the next kernel output of that length.
 *
 * A buffer is only recycled when nobody else can still see it:
 * - only buffers this pool allocated (never an array a caller passed to
 *   `tf.tensor`, which the caller still owns);
 * - only when no stored tensor refers to its memory: every `data.set` of a
 *   pooled buffer, or of a view on it (the cpu backend's Slice returns
 *   subarrays), counts one reference, every `data.delete` removes one;
 * - never once it escaped to user code through `readSync` / `read`
 *   (`dataSync()` on the cpu backend returns the stored array itself).
 * Buffers are handed out dirty: kernels that use {@link BufferPool.alloc} write
 * every element of their output.
 */

interface Owned {
  readonly array: Float32Array;
  /** Stored tensor entries whose values are this buffer or a view of it. */
  refs: number;
  /** Seen by code outside the backend; never recycled. */
  escaped: boolean;
  /** In the free list now. */
  free: boolean;
}

/** Arrays smaller than this many elements live on V8's heap and are not pooled. */
const MIN_POOLED = 1024;

export class BufferPool {
  private readonly owned = new WeakMap<ArrayBufferLike, Owned>();
  private readonly freeLists = new Map<number, Float32Array[]>();
  private freeBytes = 0;
  /** Allocations served from the free lists / freshly allocated (pooled sizes only). */
  hits = 0;
  misses = 0;

  /**
   * @param maxFreeBytes - bytes kept in the free lists at most; beyond it, released buffers go to the GC.
   * 1 GiB: one Adam step of the small U-Net at batch 64 (`ddpm-unet32-b64`) frees ≈ 300 MB of
   * activations and gradients at its end; with the former 256 MiB cap the rest went to the GC
   * and was allocated afresh every step (≈ 270 MB/step of new buffers, six mark-compact GCs and
   * ≈ 10 000 page faults per step; measured 2026-12-02).
   */
  constructor(private readonly maxFreeBytes = 1024 * 1024 * 1024) {}

  /** A Float32Array of length `n` with unspecified contents. */
  alloc(n: number): Float32Array {
    if (n < MIN_POOLED) return new Float32Array(n);
    const list = this.freeLists.get(n);
    const reused = list?.pop();
    if (reused) {
      const rec = this.owned.get(reused.buffer)!;
      rec.free = false;
      rec.refs = 0;
      this.freeBytes -= reused.byteLength;
      this.hits++;
      return reused;
    }
    const array = new Float32Array(n);
    this.owned.set(array.buffer, { array, refs: 0, escaped: false, free: false });
    this.misses++;
    return array;
  }

  /** A stored tensor entry now refers to `values`. */
  retain(values: unknown): void {
    const rec = this.record(values);
    if (rec) rec.refs++;
  }

  /** A stored tensor entry that referred to `values` is gone. */
  release(values: unknown): void {
    const rec = this.record(values);
    if (!rec) return;
    rec.refs--;
    if (rec.refs > 0 || rec.escaped || rec.free) return;
    const a = rec.array;
    if (this.freeBytes + a.byteLength > this.maxFreeBytes) {
      rec.escaped = true; // let the GC have it
      return;
    }
    rec.free = true;
    this.freeBytes += a.byteLength;
    let list = this.freeLists.get(a.length);
    if (!list) this.freeLists.set(a.length, (list = []));
    list.push(a);
  }

  /** `values` (or the buffer under it) became visible outside the backend. */
  escape(values: unknown): void {
    const rec = this.record(values);
    if (rec) rec.escaped = true;
  }

  /** Drop every free buffer. */
  clear(): void {
    for (const list of this.freeLists.values()) for (const a of list) this.owned.get(a.buffer)!.escaped = true;
    this.freeLists.clear();
    this.freeBytes = 0;
  }

  /** Bytes held in the free lists. */
  get bytesFree(): number {
    return this.freeBytes;
  }

  private record(values: unknown): Owned | undefined {
    if (!ArrayBuffer.isView(values)) return undefined;
    return this.owned.get(values.buffer);
  }
}

/** The parts of tfjs-backend-cpu's MathBackendCPU the pool hooks into. */
interface HookableBackend {
  data: {
    set(dataId: object, value: { values?: unknown }): void;
    get(dataId: object): { values?: unknown } | undefined;
    has(dataId: object): boolean;
    delete(dataId: object): boolean;
  };
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
  dispose(): void;
}

/**
 * Attach a {@link BufferPool} to a cpu-storage backend instance: its data
 * storage counts references to pooled buffers and its reads mark them escaped.
 */
export function attachPool(backend: object, pool = new BufferPool()): BufferPool {
  const b = backend as HookableBackend;
  const data = b.data;
  const set = data.set.bind(data);
  // DataStorage.get on a missing id asks the engine to move the data in: look first.
  const get = (id: object): { values?: unknown } | undefined => (data.has(id) ? data.get(id) : undefined);
  const del = data.delete.bind(data);
  data.set = (id, value) => {
    const old = get(id);
    set(id, value);
    pool.retain(value.values);
    if (old) pool.escape(old.values); // overwritten in place by someone: stop tracking it
  };
  data.delete = (id) => {
    const old = get(id);
    const r = del(id);
    if (old) pool.release(old.values);
    return r;
  };
  const readSync = b.readSync.bind(b);
  b.readSync = (id) => {
    const v = readSync(id);
    pool.escape(v);
    return v;
  };
  const read = b.read.bind(b);
  b.read = async (id) => {
    const v = await read(id);
    pool.escape(v);
    return v;
  };
  const dispose = b.dispose.bind(b);
  b.dispose = () => {
    pool.clear();
    dispose();
  };
  return pool;
}
