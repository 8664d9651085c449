/**
 * Where a sweep keeps its run directories and results. The interface is small and
 * asynchronous so that an object store (S3 and the like) can implement it later; the
 * shared-directory implementation is in `store-fs.ts`. Browser-safe (types only).
 */
import type { Flags, SweepJob, SweepSpec } from './spec.js';

/** What the worker records after a job exits 0 (`result.json` in its run directory). */
export interface JobResult {
  readonly id: string;
  readonly command: string;
  readonly flags: Flags;
  readonly axes: Flags;
  readonly exitCode: 0;
  /** ISO time the last (successful) attempt started and finished. */
  readonly started: string;
  readonly finished: string;
  /** Wall-clock seconds of the last attempt. */
  readonly seconds: number;
  /** Whether the last attempt continued a checkpoint (`--resume`). */
  readonly resumed: boolean;
  /** Which worker ran it (`host:pid`). */
  readonly worker: string;
  /** The run's last `metrics.jsonl` line, or null when the command writes none. */
  readonly metrics: Readonly<Record<string, unknown>> | null;
  readonly genphysVersion: string;
}

/** What the worker records when a job has failed for good. */
export interface JobFailure {
  readonly id: string;
  readonly exitCode: number | null;
  /** The signal that ended the process, if any. */
  readonly signal: string | null;
  /** The last line the command wrote to stderr, or a description. */
  readonly error: string;
  readonly finished: string;
  readonly worker: string;
  readonly attempts: number;
}

/** A job being worked on right now (so a restarted worker can find an orphaned process). */
export interface RunningMarker {
  readonly id: string;
  readonly worker: string;
  readonly host: string;
  /** Process id of the command's child process. */
  readonly pid: number;
  readonly started: string;
}

/** The expanded sweep, written once when the sweep is started or enqueued. */
export interface SweepManifest {
  readonly sweepId: string;
  readonly spec: SweepSpec;
  readonly jobs: readonly SweepJob[];
  readonly created: string;
  readonly genphysVersion: string;
}

/** Storage for one sweep: run directories, results, failures, the manifest, reports. */
export interface SweepStore {
  /** Human-readable location (a directory, a bucket URL). */
  readonly location: string;
  /** A local directory the job's command writes to (`--out`). */
  runDir(id: string): string;
  /** The run directory holds a checkpoint the command can `--resume` from. */
  hasCheckpoint(id: string): Promise<boolean>;
  /** Remove a run directory that holds nothing resumable (a job that died before its first checkpoint). */
  clearRun(id: string): Promise<void>;
  readResult(id: string): Promise<JobResult | null>;
  writeResult(result: JobResult): Promise<void>;
  readFailure(id: string): Promise<JobFailure | null>;
  writeFailure(failure: JobFailure): Promise<void>;
  clearFailure(id: string): Promise<void>;
  readRunning(id: string): Promise<RunningMarker | null>;
  writeRunning(marker: RunningMarker): Promise<void>;
  clearRunning(id: string): Promise<void>;
  /** The run's last metrics line (`metrics.jsonl`), or null. */
  finalMetrics(id: string): Promise<Record<string, unknown> | null>;
  readManifest(): Promise<SweepManifest | null>;
  writeManifest(manifest: SweepManifest): Promise<void>;
  /** Write a sweep-level artifact (summary.json, report.csv …) atomically. */
  writeArtifact(name: string, text: string): Promise<void>;
  /** Append one JSON line to the sweep's event log (start/done/fail of each attempt). */
  logEvent(event: Record<string, unknown>): Promise<void>;
  /** Path of a job's combined stdout/stderr log (local file). */
  logPath(id: string): string;
}
