/**
 * Explicit, seeded, serialisable random numbers.
 *
 * The generator is xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", ACM TOMS 2021): 128 bits of state, period 2^128 − 1, and
 * cheap enough in both JavaScript and C. The native addon implements the same
 * recurrence on the same four-word state, so a kernel that draws uniforms in C
 * produces exactly the numbers the JavaScript fallback would.
 *
 * There is no global generator: every stochastic function in genphys takes an
 * {@link Rng}. `split` derives independent child streams (e.g. one per worker or
 * per chain) deterministically from the parent's seed and a stream index.
 */

const TWO_POW_M24 = 1 / 16777216; // 2^-24
const TWO_POW_M53 = 1 / 9007199254740992; // 2^-53

/** SplitMix32 step: a good 32-bit mixer for turning seeds into state words. */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Serialisable generator state, stored in checkpoints. */
export interface RngState {
  /** The four xoshiro128** state words. */
  readonly s: readonly [number, number, number, number];
  /** A cached second normal deviate from the polar method, or null. */
  readonly spareNormal: number | null;
}

/** A seeded xoshiro128** generator. */
export class Rng {
  /**
   * The raw state words. Exposed so native kernels can advance the same stream
   * in place; user code should treat it as opaque.
   */
  readonly state: Uint32Array;
  private spare: number | null = null;

  /**
   * @param seed - any integer (negative and > 2^32 values are folded into 32 bits
   *   together with their high part, so 1 and 2^32 + 1 give different streams).
   */
  constructor(seed: number = 0) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    this.state = new Uint32Array(4);
    let x = splitmix32(lo ^ splitmix32(hi));
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x + i);
      this.state[i] = x;
    }
    if ((this.state[0]! | this.state[1]! | this.state[2]! | this.state[3]!) === 0) this.state[0] = 1;
  }

  /** Rebuild a generator from {@link Rng.getState}. */
  static fromState(st: RngState): Rng {
    const r = new Rng(0);
    r.setState(st);
    return r;
  }

  /** Snapshot of the state (for checkpoints). */
  getState(): RngState {
    const s = this.state;
    return { s: [s[0]!, s[1]!, s[2]!, s[3]!], spareNormal: this.spare };
  }

  /** Restore a snapshot taken by {@link Rng.getState}. */
  setState(st: RngState): void {
    if (!Array.isArray(st.s) || st.s.length !== 4) throw new TypeError('RNG state must have four words');
    for (let i = 0; i < 4; i++) this.state[i] = st.s[i]! >>> 0;
    this.spare = st.spareNormal ?? null;
  }

  /** An independent copy with identical future output. */
  clone(): Rng {
    return Rng.fromState(this.getState());
  }

  /**
   * A child generator for stream `index`, derived from this generator's current
   * state without advancing it. Different indices give unrelated streams.
   */
  split(index: number): Rng {
    const s = this.state;
    const child = new Rng(0);
    let x = splitmix32(s[0]! ^ splitmix32(index >>> 0));
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x ^ s[i]! ^ Math.imul(i + 1, 0x632be5ab));
      child.state[i] = x;
    }
    if ((child.state[0]! | child.state[1]! | child.state[2]! | child.state[3]!) === 0) child.state[0] = 1;
    return child;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform float64 in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /**
   * Uniform in [0, 1) on the float32 grid: (u32 >> 8) · 2^-24. This is the
   * formula the native kernels use, so Bernoulli draws agree across backends.
   */
  uniformF32(): number {
    return (this.nextU32() >>> 8) * TWO_POW_M24;
  }

  /** Fill `out` with {@link Rng.uniformF32} draws. */
  fillUniform(out: Float32Array | Float64Array): void {
    // nextU32 with the state in locals (int32 view; >>> 0 only where the unsigned value matters):
    // the same stream, several times faster than a call per draw for the batched samplers.
    const st = this.state;
    let s0 = st[0]! | 0, s1 = st[1]! | 0, s2 = st[2]! | 0, s3 = st[3]! | 0;
    for (let i = 0; i < out.length; i++) {
      const r = Math.imul(s1, 5);
      const result = Math.imul((r << 7) | (r >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = (result >>> 8) * TWO_POW_M24;
    }
    st[0] = s0 >>> 0;
    st[1] = s1 >>> 0;
    st[2] = s2 >>> 0;
    st[3] = s3 >>> 0;
  }

  /** Standard normal deviate (Marsaglia's polar method, the spare is cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /**
   * Fill `out` with standard normal deviates: exactly the sequence of `out.length` calls of
   * {@link Rng.normal} (the cached spare first, a spare left cached when one is over), with
   * the generator state in locals as in {@link Rng.fillUniform}: ≈ 5× faster, which matters
   * for the B × 784 noise of every diffusion and GAN step.
   */
  fillNormal(out: Float32Array | Float64Array): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = this.spare;
      this.spare = null;
    }
    if (i >= n) return;
    const st = this.state;
    let s0 = st[0]! | 0, s1 = st[1]! | 0, s2 = st[2]! | 0, s3 = st[3]! | 0;
    // nextU32, inlined (the same words as the method).
    const next = (): number => {
      const r = Math.imul(s1, 5);
      const result = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      return result;
    };
    while (i < n) {
      // Marsaglia's polar method on uniform()'s 53-bit doubles, as normal() does.
      let u: number, v: number, q: number;
      do {
        u = 2 * ((next() >>> 5) * 67108864 + (next() >>> 6)) * TWO_POW_M53 - 1;
        v = 2 * ((next() >>> 5) * 67108864 + (next() >>> 6)) * TWO_POW_M53 - 1;
        q = u * u + v * v;
      } while (q >= 1 || q === 0);
      const f = Math.sqrt((-2 * Math.log(q)) / q);
      out[i++] = u * f;
      if (i < n) out[i++] = v * f;
      else this.spare = v * f;
    }
    st[0] = s0 >>> 0;
    st[1] = s1 >>> 0;
    st[2] = s2 >>> 0;
    st[3] = s3 >>> 0;
  }

  /** Uniform integer in [0, n), unbiased (Lemire's rejection on 32 bits). */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    if (n === 1) return 0;
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** Fisher–Yates shuffle of `a` in place; returns `a`. */
  shuffleInPlace<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A seeded random permutation of 0 … n−1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffleInPlace(p);
  }
}
