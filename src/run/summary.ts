/**
 * What a run directory holds, in one structure: its config, checkpoint, last metrics,
 * stored evaluations and artifacts (`genphys show RUN` prints it; the lab can render it).
 * Node-only (files).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, RunDir, readEvaluations, readRunConfig } from './run-dir.js';

/** A run directory, summarised. */
export interface RunSummary {
  readonly dir: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** The latest checkpoint's manifest fields, or null when none was saved. */
  readonly checkpoint: { readonly kind: string; readonly step: number; readonly epoch: number; readonly created: string; readonly weights: string } | null;
  /** Epochs recorded in metrics.jsonl, and the last line. */
  readonly epochs: number;
  readonly lastMetrics: Readonly<Record<string, unknown>> | null;
  readonly evaluations: ReadonlyArray<{ key: string; result: Record<string, unknown> }>;
  /** Every other file, with its size in bytes (sub-directories listed with a trailing '/'). */
  readonly artifacts: ReadonlyArray<{ name: string; bytes: number }>;
}

/**
 * Summarise the run in `dir`.
 * @throws RunError when `dir` is not a run directory or its config.json is unreadable
 */
export function summarizeRun(dir: string): RunSummary {
  const config = readRunConfig(dir);
  const manifest = join(dir, 'checkpoint.json');
  let checkpoint: RunSummary['checkpoint'] = null;
  if (existsSync(manifest)) {
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { kind: string; step: number; epoch: number; created: string; weights: { file: string } };
      checkpoint = { kind: m.kind, step: m.step, epoch: m.epoch, created: m.created, weights: m.weights.file };
    } catch {
      checkpoint = null;
    }
  }
  const metrics = new RunDir(dir).readMetrics();
  let evaluations: RunSummary['evaluations'] = [];
  try {
    evaluations = readEvaluations(dir);
  } catch {
    evaluations = [];
  }
  const known = new Set<string>([RUN_FILES.config, RUN_FILES.metrics, 'checkpoint.json', 'eval.json', ...(checkpoint ? [checkpoint.weights] : [])]);
  const artifacts = readdirSync(dir)
    .filter((f) => !known.has(f) && !f.startsWith('.'))
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return { name: st.isDirectory() ? `${f}/` : f, bytes: st.isDirectory() ? 0 : st.size };
    });
  return { dir, config, checkpoint, epochs: metrics.length, lastMetrics: metrics.at(-1) ?? null, evaluations, artifacts };
}
