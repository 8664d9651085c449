/**
 * The toy score both generative panels (GAN, diffusion) plot while training: the
 * unbiased MMD² to a fixed reference sample of the true distribution with its jackknife
 * standard error (src/metrics/mmd.ts, as `genphys diffusion eval` reports for toys), and
 * for the Gaussian mixtures the mode coverage, high-quality fraction and grid KL/JS
 * against the exact mixture (src/metrics/toy.ts, as `genphys gan eval` reports). The
 * kernel is chosen once, by the median heuristic on the reference, so that every point
 * of the curve is on one scale. Worker-side, plain typed arrays.
 */
import { mmd2Unbiased } from '../../src/metrics/mmd.js';
import { medianKernel, type Kernel } from '../../src/metrics/kernels.js';
import { sampleGridDivergence, toyMetrics, type MixtureModes } from '../../src/metrics/toy.js';
import type { Samples } from '../../src/metrics/samples.js';

/** One evaluation of a sample. */
export interface ToyScore {
  /** Training step (or round) it was taken at. */
  readonly step: number;
  /** Unbiased MMD² to the reference, and its jackknife SE. */
  readonly mmd2: number;
  readonly se: number;
  /** Mixtures only: modes covered (of nModes) and the fraction within 3σ of a mode. */
  readonly modesCovered?: number;
  readonly nModes?: number;
  readonly highQuality?: number;
  /** KL(reference ‖ samples) on a 30×30 grid, in nats. */
  readonly kl: number;
}

/** Scores samples against one fixed reference sample (see the module comment). */
export class ToyScorer {
  private readonly kernel: Kernel;

  /**
   * @param reference - rows of the true distribution, independent of the training data (not modified)
   * @param modes - the true modes, for the mixtures
   */
  constructor(
    readonly reference: Samples,
    readonly modes: MixtureModes | undefined,
  ) {
    this.kernel = medianKernel(reference, reference);
  }

  /** The kernel's name (e.g. its bandwidth), for the chart's caption. */
  get kernelName(): string {
    return this.kernel.name;
  }

  /** Score `n` rows of `x` (2D points: also the grid divergences). */
  score(step: number, x: Float32Array, n: number): ToyScore {
    const d = this.reference.d;
    const s: Samples = { data: x.subarray(0, n * d), n, d };
    const m = mmd2Unbiased(this.reference, s, this.kernel);
    if (d !== 2) return { step, mmd2: m.value, se: m.se, kl: NaN };
    if (this.modes) {
      const t = toyMetrics(s, this.modes);
      return { step, mmd2: m.value, se: m.se, modesCovered: t.modesCovered, nModes: t.nModes, highQuality: t.highQualityFraction, kl: t.kl };
    }
    return { step, mmd2: m.value, se: m.se, kl: sampleGridDivergence(this.reference, s).kl };
  }
}

/** Score rows as columns (typed arrays) for a snapshot. */
export function scoreColumns(rows: readonly ToyScore[]): { step: Float64Array; mmd2: Float64Array; se: Float64Array; modes: Float64Array; kl: Float64Array } {
  return {
    step: Float64Array.from(rows, (r) => r.step),
    mmd2: Float64Array.from(rows, (r) => r.mmd2),
    se: Float64Array.from(rows, (r) => r.se),
    modes: Float64Array.from(rows, (r) => r.modesCovered ?? NaN),
    kl: Float64Array.from(rows, (r) => r.kl),
  };
}

/**
 * A history of per-step values kept at bounded size: when it reaches 2·`keep` points
 * every other one is dropped and only every 2nd later value is recorded, as the Ising
 * panel's time series does.
 */
export class Decimated {
  private cols: number[][];
  private every = 1;
  private skip = 0;

  constructor(
    readonly width: number,
    readonly keep = 600,
  ) {
    this.cols = Array.from({ length: width }, () => []);
  }

  /** Record one row (its first entry is the x value). */
  push(row: readonly number[]): void {
    if (this.skip++ % this.every !== 0) return;
    row.forEach((v, i) => this.cols[i]!.push(v));
    if (this.cols[0]!.length >= 2 * this.keep) {
      this.cols = this.cols.map((c) => c.filter((_, i) => i % 2 === 0));
      this.every *= 2;
      this.skip = 1;
    }
  }

  /** Copies of the columns. */
  columns(): Float64Array[] {
    return this.cols.map((c) => Float64Array.from(c));
  }
}
