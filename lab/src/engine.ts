/**
 * What a panel's worker-side engine implements. The worker owns the loop (play, pause,
 * step, throttled snapshots); an engine only knows how to do one unit of work and how to
 * describe its state.
 */
import type { LabFile, Settings, Snapshot } from './protocol.js';

/** A worker-side engine for one panel. */
export interface Engine {
  /** The tensor backend it runs on ('typed arrays' for engines that use none). */
  readonly backend: string;
  /** Steps done so far (sweeps, updates, …), as the panel counts them. */
  readonly steps: number;
  /** Do one unit of work (a frame's worth); may be async for tfjs reads. */
  step(): void | Promise<void>;
  /** Apply settings that may change while running (e.g. the temperature). */
  set?(settings: Settings): void;
  /** The state to draw, with the buffers that may be transferred. */
  snapshot(): Promise<{ data: Snapshot; transfer: Transferable[] }> | { data: Snapshot; transfer: Transferable[] };
  /** Named actions: exports, a temperature sweep, … */
  action?(name: string, args: Record<string, unknown> | undefined): Promise<{ files?: LabFile[]; value?: unknown }>;
  /** Free tensors. */
  dispose?(): void;
}

/** Builds an engine from the panel's settings (and uploaded files). */
export type EngineFactory = (settings: Settings, files: readonly LabFile[]) => Promise<Engine>;

/** Read a numeric setting, with a default and a range check. */
export function num(s: Settings, key: string, dflt: number, min = -Infinity, max = Infinity): number {
  const v = s[key] ?? dflt;
  const x = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw new Error(`setting '${key}': ${String(v)} is not a number in [${min}, ${max}]`);
  return x;
}

/** Read a string setting from a list of choices. */
export function choice<T extends string>(s: Settings, key: string, choices: readonly T[], dflt: T): T {
  const v = String(s[key] ?? dflt);
  if (!(choices as readonly string[]).includes(v)) throw new Error(`setting '${key}': '${v}' is not one of ${choices.join(', ')}`);
  return v as T;
}
