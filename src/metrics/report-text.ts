/**
 * Plain-text renderings of the evaluation reports that `gan eval`, `diffusion eval` and
 * `classifier score` print (the reports themselves stay JSON, in `eval.json` or `--json`).
 * Pure string formatting; browser-safe.
 */
import { formatEstimate } from '../physics/report.js';

/** An estimate with an uncertainty, as the reports store it. */
interface Pm {
  readonly value: number;
  readonly se?: number;
  readonly error?: number;
}

/**
 * `value ± se`, with the value rounded to the uncertainty's second significant digit
 * (e.g. 115.3 ± 6.1, 0.290 ± 0.014: the physics tables' {@link formatEstimate}); `digits`
 * decimals when the uncertainty is 0 or absent.
 */
export function formatPm(value: number, se: number | undefined, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (se === undefined || !Number.isFinite(se) || se <= 0) return se === 0 ? `${value.toFixed(digits)} ± 0` : value.toFixed(digits);
  return formatEstimate({ value, error: se });
}

const pm = (v: Pm | undefined): string => (v === undefined ? '—' : formatPm(v.value, v.se ?? v.error));
const num = (v: unknown, digits = 3): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');

/** Label and value columns, the labels padded to one width. */
function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
}

/**
 * The image report of `scoreImageSamples` (src/metrics/image-score.ts) as lines:
 * FD-LeNet, KID, √MMD² beside its real-vs-real baseline and p-value, precision, recall.
 */
export function imageScoreLines(r: Record<string, unknown>): string[] {
  const fd = r['fd'] as (Pm & { features?: string; uncertainty?: string; available?: boolean; reason?: string }) | undefined;
  const kid = r['kid'] as (Pm & { subsets?: number; subsetSize?: number; features?: string }) | undefined;
  const mmd = r['mmd'] as { sqrtMmd2?: number; mmd2?: Pm; baselineSqrtMmd2?: number; baselineMmd2?: Pm; pValue?: number; permutations?: number; kernel?: string; features?: string } | undefined;
  const pr = (k: 'precision' | 'recall') => r[k] as (Pm & { k?: number; features?: string }) | undefined;
  const rows: Array<[string, string]> = [];
  if (fd) rows.push(['FD-LeNet', fd.available === false ? (fd.reason ?? 'unavailable') : `${pm(fd)}   (${fd.features ?? ''}; ± the SD of 10 bootstrap resamples)`]);
  if (kid) rows.push(['KID', `${pm(kid)}   (${kid.features ?? ''}; ± the SD over ${kid.subsets ?? '?'} subsets of ${kid.subsetSize ?? '?'})`]);
  if (mmd) {
    const p = mmd.pValue !== undefined ? `; p = ${mmd.pValue.toPrecision(2)} from ${mmd.permutations ?? '?'} permutations` : '';
    const base = mmd.baselineMmd2 ? ` against ${pm(mmd.baselineMmd2)} real vs real` : '';
    rows.push([`√MMD² (${mmd.features ?? 'pixels'})`, `${num(mmd.sqrtMmd2)}   (real vs real ${num(mmd.baselineSqrtMmd2)}; MMD² ${pm(mmd.mmd2)}${base}${p}; ${mmd.kernel ?? ''})`]);
  }
  for (const k of ['precision', 'recall'] as const) {
    const v = pr(k);
    if (v) rows.push([k, `${pm(v)}   (${v.features ?? 'pixels'}, k = ${v.k ?? 3}; binomial SE)`]);
  }
  return table(rows);
}

/** One observable of a model-vs-Monte-Carlo comparison. */
export interface ObservableRow {
  readonly name: string;
  readonly model: Pm;
  readonly mc: Pm;
  readonly z: number;
}

/** A model-vs-Monte-Carlo observables table (e, |m|, C, χ per spin), with the z column. */
export function observableLines(rows: readonly ObservableRow[], modelLabel: string): string[] {
  const cells = rows.map((r) => [r.name, pm(r.model), pm(r.mc), Number.isFinite(r.z) ? r.z.toFixed(1) : '—'] as const);
  const head = ['', modelLabel, 'Monte Carlo', 'z'] as const;
  const w = [0, 1, 2, 3].map((i) => Math.max(head[i]!.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `  ${c[0]!.padEnd(w[0]!)}  ${c[1]!.padStart(w[1]!)}  ${c[2]!.padStart(w[2]!)}  ${c[3]!.padStart(w[3]!)}`;
  return [line(head), ...cells.map(line)];
}

/** The observables' display names, by report key. */
export const OBSERVABLE_NAMES: Readonly<Record<string, string>> = { energy: 'e', absMagnetisation: '|m|', specificHeat: 'C', susceptibility: 'χ' };

/** 2D-toy scores (modes covered, high-quality fraction, KL/JS on the grid, optionally MMD) as lines. */
export function toyScoreLines(r: Record<string, unknown>): string[] {
  const rows: Array<[string, string]> = [];
  const v = (k: string): Pm | undefined => {
    const x = r[k];
    return typeof x === 'number' ? { value: x } : (x as Pm | undefined);
  };
  if (r['modesCovered'] !== undefined) rows.push(['modes covered', `${pm(v('modesCovered'))}${r['nModes'] !== undefined ? ` of ${String(r['nModes'])}` : ''}`]);
  if (r['highQualityFraction'] !== undefined) rows.push(['high-quality fraction', pm(v('highQualityFraction'))]);
  if (r['kl'] !== undefined) rows.push(['KL(data ‖ samples)', pm(v('kl'))]);
  if (r['klReverse'] !== undefined) rows.push(['KL(samples ‖ data)', pm(v('klReverse'))]);
  if (r['js'] !== undefined) rows.push(['JS', pm(v('js'))]);
  const mmd = r['mmd'] as { value?: number; baseline?: number } | undefined;
  if (mmd?.value !== undefined) rows.push(['√MMD²', `${num(mmd.value)}   (real vs real ${num(mmd.baseline)})`]);
  return table(rows);
}

/**
 * Any evaluation report as text: a header line (what was scored against what), then the
 * scores. Reads the reports of `gan eval` (`method`: images, toy, ising), `diffusion eval`
 * (`kind`: image, toy, ising) and `classifier score`.
 */
export function evalReportLines(r: Record<string, unknown>): string[] {
  const kind = String(r['method'] ?? r['kind'] ?? '');
  const what: string[] = [];
  if (r['epoch'] !== undefined) what.push(`epoch ${String(r['epoch'])}, step ${String(r['step'])}`);
  if (typeof r['generator'] === 'string') what.push(r['generator']);
  if (typeof r['sampler'] === 'string') what.push(r['sampler'] === 'ddim' ? `DDIM, ${String(r['steps'])} steps, η = ${String(r['eta'])}` : 'DDPM ancestral sampling');
  const source = String(r['run'] ?? r['file'] ?? '');
  const against = kind === 'ising' ? `T = ${String(r['T'])}, L = ${String(r['L'])}` : String(r['data'] ?? r['toy'] ?? '');
  const head = `${source}${what.length > 0 ? ` (${what.join('; ')})` : ''}: ${String(r['n'])} samples against ${against}`;
  if (kind === 'images' || kind === 'image') return [head, ...imageScoreLines(r)];
  if (kind === 'toy') return [head, ...toyScoreLines(r)];
  if (kind === 'ising') {
    const keys = Object.keys(OBSERVABLE_NAMES);
    const model = r['model'] as Record<string, Pm> | undefined;
    const rows: ObservableRow[] = model
      ? keys.map((k) => ({ name: OBSERVABLE_NAMES[k]!, model: model[k]!, mc: (r['mc'] as Record<string, Pm>)[k]!, z: (r['z'] as Record<string, number>)[k]! }))
      : keys.map((k) => {
          const o = r[k] as { gan: Pm; mc: Pm; z: number };
          return { name: OBSERVABLE_NAMES[k]!, model: o.gan, mc: o.mc, z: o.z };
        });
    return [head, ...observableLines(rows, model ? 'diffusion' : 'GAN'), '  (per spin; the sign of each output is the spin; z = difference / combined SE)'];
  }
  return [head];
}
