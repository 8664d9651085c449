/**
 * The one training loop every model family runs on: epochs made of slices of
 * batches, a check for divergence after every slice, metrics after every epoch,
 * checkpoints at a cadence and on interrupt, and progress as events. A family supplies
 * only a {@link TrainingTask}: how to advance, how to save, what to measure. Works in
 * Node and in a browser (no node imports): the caller provides the signal and saver.
 */
import { DivergenceError } from '../core/errors.js';
import type { Metrics, RunListener, RunStatus } from './events.js';

/** What a model family provides to {@link runTraining}. */
export interface TrainingTask {
  /** Completed epochs. */
  readonly epoch: number;
  /** Optimisation steps done. */
  readonly step: number;
  /** Batches per epoch (for progress). */
  readonly batchesPerEpoch: number;
  /**
   * Train at most `maxBatches` batches of the current epoch. Returns the finished
   * epoch's training metrics, or null when the epoch is not finished yet; `onBatch`
   * reports each batch's loss.
   */
  advance(maxBatches: number, onBatch?: (batch: number, loss: number) => void): Promise<Metrics | null> | Metrics | null;
  /** The name of a parameter holding NaN/±Infinity, or null when all are finite. */
  nonFinite(): string | null;
  /** Write a resumable checkpoint; returns its path. */
  save(): string;
}

/** Options of {@link runTraining}. */
export interface LoopOptions {
  /** Total epochs of the run (not "more epochs"): the loop stops when `task.epoch` reaches it. */
  readonly epochs: number;
  /** Checkpoint every n epochs (0: only at the end); always on interrupt and at the end. */
  readonly saveEvery: number;
  /** Aborting stops at the next slice boundary with a checkpoint. */
  readonly signal?: AbortSignal;
  /**
   * Batches per slice: the loop yields to the event loop (so a Ctrl-C is seen) between slices.
   * Default: adaptive, sized to about 100 ms of training (1 batch when batches are slow).
   */
  readonly sliceBatches?: number;
  /** Run directory, for the events. */
  readonly dir: string;
  /** Resumed from a checkpoint (for the start event). */
  readonly resumed?: boolean;
  /**
   * After each epoch, with its training metrics: evaluate, write artifacts, append the
   * metrics line. Return 'stop' to end early (e.g. early stopping) after this epoch's save.
   */
  readonly afterEpoch?: (epoch: number, train: Metrics) => Promise<Metrics | 'stop' | void> | Metrics | 'stop' | void;
  /** Receives every event. */
  readonly onEvent?: RunListener;
}

/** How {@link runTraining} ended. */
export interface LoopResult {
  readonly status: RunStatus;
  readonly epoch: number;
  readonly step: number;
}

const yieldToEvents = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * Train `task` to `opts.epochs` total epochs.
 * @throws DivergenceError when a loss or a parameter is non-finite: nothing is saved
 *   after the divergence, so the last checkpoint on disk is the last good state
 */
export async function runTraining(task: TrainingTask, opts: LoopOptions): Promise<LoopResult> {
  const emit = opts.onEvent ?? (() => {});
  // Slices of about 100 ms: responsive to signals whether a batch takes 50 µs or 40 s.
  let slice = opts.sliceBatches ?? 1;
  const adaptive = opts.sliceBatches === undefined;
  emit({ type: 'start', dir: opts.dir, resumed: opts.resumed === true, epoch: task.epoch, step: task.step, epochs: opts.epochs, batchesPerEpoch: task.batchesPerEpoch });
  const save = () => {
    const path = task.save();
    emit({ type: 'checkpoint', epoch: task.epoch, step: task.step, path });
  };
  const diverged = (what: string): never => {
    throw new DivergenceError(`training diverged at epoch ${task.epoch + 1}, step ${task.step}: ${what} is not finite; the last good checkpoint is kept; try a lower --lr`);
  };
  let status: RunStatus = 'done';
  let savedAt = -1;
  while (task.epoch < opts.epochs) {
    if (opts.signal?.aborted) {
      status = 'interrupted';
      break;
    }
    const epoch = task.epoch;
    const t0 = performance.now();
    const m = await task.advance(slice, (batch, loss) => {
      if (!Number.isFinite(loss)) diverged(`the loss (${loss})`);
      emit({ type: 'batch', epoch: epoch + 1, batch, batchesPerEpoch: task.batchesPerEpoch, loss });
    });
    if (adaptive) {
      const ms = performance.now() - t0;
      slice = Math.max(1, Math.min(256, ms > 0 ? Math.round((slice * 100) / ms) : slice * 2));
    }
    const bad = task.nonFinite();
    if (bad !== null) diverged(`parameter '${bad}'`);
    if (m === null) {
      await yieldToEvents();
      continue;
    }
    for (const [k, v] of Object.entries(m)) if (!Number.isFinite(v)) diverged(`the epoch's ${k} (${v})`);
    const extra = opts.afterEpoch ? await opts.afterEpoch(task.epoch, m) : undefined;
    const metrics = extra && extra !== 'stop' ? extra : m;
    for (const [k, v] of Object.entries(metrics)) if (!Number.isFinite(v)) diverged(`the epoch's ${k} (${v})`);
    emit({ type: 'epoch', epoch: task.epoch, step: task.step, metrics });
    const last = task.epoch >= opts.epochs;
    if (last || extra === 'stop' || (opts.saveEvery > 0 && task.epoch % opts.saveEvery === 0)) {
      save();
      savedAt = task.step;
    }
    if (extra === 'stop') {
      status = 'early';
      break;
    }
    await yieldToEvents();
  }
  if (status === 'interrupted' || savedAt !== task.step) save();
  emit({ type: 'end', status, epoch: task.epoch, step: task.step, dir: opts.dir });
  return { status, epoch: task.epoch, step: task.step };
}
