/**
 * Seeded 2D toy distributions for GANs and diffusion models: mixtures of
 * Gaussians with known modes (so mode coverage can be scored) and curves.
 * Browser-safe: no Node imports.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Samples } from '../metrics/samples.js';

/** The toy names, as written in a `toy:<name>` spec. */
export const TOY_NAMES = ['ring8', 'grid25', 'swissroll', 'moons', 'ring', 'line'] as const;
/** One of {@link TOY_NAMES}. */
export type ToyName = (typeof TOY_NAMES)[number];

/** Points per toy when a spec gives no count (tanelp/tiny-diffusion uses 8000). */
export const DEFAULT_TOY_COUNT = 8000;

/** The modes of an equal-weight isotropic Gaussian mixture. */
export interface ToyModes {
  /** Row-major K×2 mode centres. */
  readonly centres: Float64Array;
  /** Per-coordinate standard deviation σ of every component. */
  readonly sigma: number;
}

/** A sampled toy data set. */
export interface ToyData {
  /** Which toy. */
  readonly name: ToyName;
  /** The points, [n, 2] float32. */
  readonly samples: Samples & { readonly data: Float32Array };
  /** For the mixtures (ring8, grid25): the true modes. */
  readonly modes?: ToyModes;
  /** For the mixtures: the component each point was drawn from. */
  readonly labels?: Uint32Array;
}

/** Options of {@link sampleToy}. */
export interface ToyOptions {
  /**
   * Noise scale: the component σ for ring8 (default 0.02) and grid25 (0.05);
   * the isotropic Gaussian noise added to swissroll (0.05), moons (0.05),
   * ring (0.05) and line (0.02).
   */
  readonly noise?: number;
}

const DEFAULT_NOISE: Record<ToyName, number> = { ring8: 0.02, grid25: 0.05, swissroll: 0.05, moons: 0.05, ring: 0.05, line: 0.02 };

/**
 * The true modes of a mixture toy, or undefined for the curves.
 * ring8: 8 centres on the circle of radius 2, σ = 0.02 (Metz et al., "Unrolled
 * GANs", ICLR 2017); grid25: the 5×5 grid {−4, −2, 0, 2, 4}², σ = 0.05
 * (Srivastava et al., VEEGAN, NeurIPS 2017; Lin et al., PacGAN, NeurIPS 2018).
 */
export function toyModes(name: ToyName, opts: ToyOptions = {}): ToyModes | undefined {
  const sigma = checkNoise(name, opts);
  if (name === 'ring8') {
    const c = new Float64Array(16);
    for (let k = 0; k < 8; k++) {
      c[2 * k] = 2 * Math.cos((2 * Math.PI * k) / 8);
      c[2 * k + 1] = 2 * Math.sin((2 * Math.PI * k) / 8);
    }
    return { centres: c, sigma };
  }
  if (name === 'grid25') {
    const c = new Float64Array(50);
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 5; j++) {
        c[2 * (5 * i + j)] = -4 + 2 * i;
        c[2 * (5 * i + j) + 1] = -4 + 2 * j;
      }
    return { centres: c, sigma };
  }
  return undefined;
}

function checkNoise(name: ToyName, opts: ToyOptions): number {
  const s = opts.noise ?? DEFAULT_NOISE[name];
  if (!(s >= 0 && Number.isFinite(s))) throw new UsageError(`toy:${name}: noise must be a finite number ≥ 0, got ${s}`);
  return s;
}

/**
 * Draw `n` points of a toy. Mixtures pick a component uniformly, then add σ·N(0, I).
 * swissroll: t ~ U[1.5π, 4.5π], (t cos t, t sin t)/5 (the 2D slice of
 * scikit-learn's make_swiss_roll, scaled into about [−3, 3]²); moons: θ ~ U[0, π]
 * on either (cos θ, sin θ) or (1 − cos θ, ½ − sin θ), as make_moons; ring: the
 * circle of radius 2 with a uniform angle; line: uniform on the segment from
 * (−1, −1) to (1, 1). The curves get isotropic Gaussian noise of scale `noise`.
 */
export function sampleToy(name: ToyName, n: number, rng: Rng, opts: ToyOptions = {}): ToyData {
  if (!(TOY_NAMES as readonly string[]).includes(name)) throw new UsageError(`toy: unknown toy '${String(name)}'; choose one of ${TOY_NAMES.join(', ')}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new UsageError(`toy:${name}: count must be an integer ≥ 1, got ${n}`);
  const noise = checkNoise(name, opts);
  const data = new Float32Array(2 * n);
  const modes = toyModes(name, opts);
  if (modes) {
    const K = modes.centres.length / 2;
    const labels = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = rng.int(K);
      labels[i] = k;
      data[2 * i] = modes.centres[2 * k]! + modes.sigma * rng.normal();
      data[2 * i + 1] = modes.centres[2 * k + 1]! + modes.sigma * rng.normal();
    }
    return { name, samples: { data, n, d: 2 }, modes, labels };
  }
  for (let i = 0; i < n; i++) {
    let x: number;
    let y: number;
    switch (name) {
      case 'swissroll': {
        const t = 1.5 * Math.PI * (1 + 2 * rng.uniform());
        x = (t * Math.cos(t)) / 5;
        y = (t * Math.sin(t)) / 5;
        break;
      }
      case 'moons': {
        const th = Math.PI * rng.uniform();
        if (rng.uniform() < 0.5) {
          x = Math.cos(th);
          y = Math.sin(th);
        } else {
          x = 1 - Math.cos(th);
          y = 0.5 - Math.sin(th);
        }
        break;
      }
      case 'ring': {
        const th = 2 * Math.PI * rng.uniform();
        x = 2 * Math.cos(th);
        y = 2 * Math.sin(th);
        break;
      }
      default: {
        const u = 2 * rng.uniform() - 1;
        x = u;
        y = u;
      }
    }
    data[2 * i] = x + noise * rng.normal();
    data[2 * i + 1] = y + noise * rng.normal();
  }
  return { name, samples: { data, n, d: 2 } };
}

/** A parsed `toy:<name>[:<count>]` spec. */
export interface ToySpec {
  /** Which toy. */
  readonly name: ToyName;
  /** The count, when the spec gives one. */
  readonly n?: number;
}

/** Whether `spec` is meant as a toy spec (starts with `toy:`). */
export function isToySpec(spec: string): boolean {
  return spec.startsWith('toy:');
}

/**
 * Parse `toy:<name>[:<count>]`, e.g. `toy:ring8` or `toy:grid25:10000`.
 *
 * @param source - what to name in the error, e.g. `--data` (default `toy spec`).
 * @throws UsageError (one line, naming the spec) on anything else.
 */
export function parseToySpec(spec: string, source: string = 'toy spec'): ToySpec {
  const where = `${source} '${spec}'`;
  const parts = spec.split(':');
  if (parts[0] !== 'toy' || parts.length < 2 || parts.length > 3) throw new UsageError(`${where}: expected toy:<name>[:<count>] with <name> one of ${TOY_NAMES.join(', ')}`);
  const name = parts[1]!;
  if (!(TOY_NAMES as readonly string[]).includes(name)) throw new UsageError(`${where}: unknown toy '${name}'; choose one of ${TOY_NAMES.join(', ')}`);
  if (parts.length === 2) return { name: name as ToyName };
  const c = parts[2]!;
  const n = Number(c);
  if (!/^[0-9]+$/.test(c) || !(n >= 1 && n <= 1e8)) throw new UsageError(`${where}: count must be an integer in 1 … 100000000, got '${c}'`);
  return { name: name as ToyName, n };
}

/** Parse a toy spec and draw its points ({@link DEFAULT_TOY_COUNT} when it gives no count). */
export function loadToy(spec: string, rng: Rng, opts: ToyOptions & { readonly source?: string } = {}): ToyData {
  const t = parseToySpec(spec, opts.source);
  return sampleToy(t.name, t.n ?? DEFAULT_TOY_COUNT, rng, opts);
}
