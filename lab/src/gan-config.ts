/**
 * The GAN panel's settings as genphys's GAN configuration, in one place for both sides:
 * the worker builds its networks and trainer from {@link ganRecipe}, and the panel's
 * "settings JSON" is {@link ganCliConfig}, the `genphys gan train` flags that resolve to
 * the same preset, overrides, data and seed. Browser-safe (no node imports).
 */
import type { GanOverrides } from '../../src/gan/presets.js';
import { TOY_NAMES } from '../../src/data/toys.js';
import type { CliConfig } from './panel.js';
import type { Settings } from './protocol.js';

/** Data the GAN panel offers: the 2D toys and two image sets from the lab server. */
export const GAN_LAB_DATA = [...TOY_NAMES, 'fashion-mnist', 'mnist'] as const;
/** Image data sets (the MLP preset on a subset fetched from the server). */
export const GAN_IMAGE_DATA: readonly string[] = ['fashion-mnist', 'mnist'];

/** What the worker needs to build a run, resolved from the panel's settings. */
export interface GanRecipe {
  /** 'toy' (2D points) or 'image' (28×28 grey levels in [−1, 1]). */
  readonly kind: 'toy' | 'image';
  /** The data name (a toy or an image set). */
  readonly data: string;
  /** Points (toys) or images (the first n of the train split). */
  readonly n: number;
  /** The `--data` spec the CLI gets. */
  readonly spec: string;
  /** The preset: toy-mlp for toys, course-mlp (the course's MLP GAN) for images. */
  readonly preset: 'toy-mlp' | 'course-mlp';
  /** Overrides of the preset, exactly as `genphys gan train`'s flags produce them. */
  readonly overrides: GanOverrides;
  /** D steps per round (the trainer's nCritic). */
  readonly kD: number;
  /** G steps per round (the CLI always takes one; see {@link ganCliConfig}). */
  readonly kG: number;
  readonly seed: number;
}

const int = (s: Settings, k: string, d: number): number => Math.round(Number(s[k] ?? d));
const real = (s: Settings, k: string, d: number): number => Number(s[k] ?? d);

/** The hidden widths of both networks for toys: `layers` layers of `width` units. */
function hidden(s: Settings): number[] {
  return new Array<number>(Math.max(1, int(s, 'layers', 3))).fill(Math.max(1, int(s, 'width', 64)));
}

/** The model section of the overrides (what `--override` carries; toys only). */
function modelOverride(s: Settings): Record<string, unknown> | undefined {
  if (GAN_IMAGE_DATA.includes(String(s.data))) return undefined;
  return { generator: { hidden: hidden(s) }, discriminator: { hidden: hidden(s) } };
}

/** Resolve the panel's settings (defaults filled in by the host) into a run recipe. */
export function ganRecipe(s: Settings): GanRecipe {
  const data = String(s.data ?? 'ring8');
  const kind = GAN_IMAGE_DATA.includes(data) ? 'image' : 'toy';
  const n = int(s, 'n', 2000);
  const model = modelOverride(s);
  // Images keep the course's recipe (Adam 2e-4, batch 128): the toy-sized rates blow the MLP GAN up.
  const sizes = kind === 'toy' ? { batchSize: int(s, 'batch', 256), lrG: real(s, 'lrG', 3e-4), lrD: real(s, 'lrD', 1e-3) } : {};
  // In the order `gan train`'s overridesFromFlags sets them, so config.json comes out the same text.
  const train = { loss: String(s.loss ?? 'ns'), nCritic: int(s, 'kD', 1), epochs: int(s, 'epochs', 100), ...sizes };
  const sn = s.spectralNorm === true;
  const m = { ...(model ?? {}), ...(sn ? { discriminator: { ...((model?.discriminator as object | undefined) ?? {}), spectralNorm: true } } : {}) };
  return {
    kind,
    data,
    n,
    spec: kind === 'toy' ? `toy:${data}:${n}` : data,
    preset: kind === 'toy' ? 'toy-mlp' : 'course-mlp',
    overrides: { ...(Object.keys(m).length > 0 ? { model: m as GanOverrides['model'] } : {}), train: train as GanOverrides['train'] },
    kD: train.nCritic,
    kG: int(s, 'kG', 1),
    seed: int(s, 'seed', 1),
  };
}

/**
 * `genphys gan train` flags that train what the panel trains: same data (the toy points
 * come from the same seeded stream), preset, overrides, initial weights and trainer
 * stream. The CLI takes one G step per iteration, so with k_G > 1 the command runs the
 * k_G = 1 variant (the panel says so).
 */
export function ganCliConfig(s: Settings): CliConfig {
  const r = ganRecipe(s);
  const t = r.overrides.train!;
  const model = modelOverride(s);
  return {
    genphys: 'gan train',
    flags: {
      data: r.spec,
      ...(r.kind === 'image' ? { limit: r.n } : {}),
      preset: r.preset,
      loss: String(t.loss),
      'n-critic': r.kD,
      ...(t.batchSize !== undefined ? { batch: t.batchSize, 'lr-g': Number(t.lrG), 'lr-d': Number(t.lrD) } : {}),
      epochs: Number(t.epochs),
      ...(s.spectralNorm === true ? { 'spectral-norm': true } : {}),
      ...(model ? { override: JSON.stringify({ model }) } : {}),
      seed: r.seed,
    },
  };
}
