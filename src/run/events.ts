/**
 * Progress of a run as plain data: the CLI draws bars and epoch lines from these
 * events, the browser lab draws charts from the same ones.
 */

/** Metric values by name (numbers only, so they can be charted). */
export type Metrics = Readonly<Record<string, number>>;

/** Something that happened in a run. */
export type RunEvent =
  | { readonly type: 'start'; readonly dir: string; readonly resumed: boolean; readonly epoch: number; readonly step: number; readonly epochs: number; readonly batchesPerEpoch: number }
  | { readonly type: 'batch'; readonly epoch: number; readonly batch: number; readonly batchesPerEpoch: number; readonly loss?: number }
  | { readonly type: 'epoch'; readonly epoch: number; readonly step: number; readonly metrics: Metrics }
  | { readonly type: 'checkpoint'; readonly epoch: number; readonly step: number; readonly path: string }
  /** Something the user should know now (divergence, chains that stop mixing, early stopping): one line. */
  | { readonly type: 'warning'; readonly epoch: number; readonly message: string }
  | { readonly type: 'end'; readonly status: RunStatus; readonly epoch: number; readonly step: number; readonly dir: string };

/** How a run ended. */
export type RunStatus = 'done' | 'early' | 'interrupted';

/** Receiver of run events. */
export type RunListener = (e: RunEvent) => void;
