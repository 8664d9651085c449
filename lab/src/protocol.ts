/**
 * Messages between the lab's page and its training worker. Everything a panel shows comes
 * from snapshots, whose numeric arrays travel as transferables (no copies, no dataSync).
 */

/** Panel settings: flat values, so they fit in a URL. */
export type Settings = Record<string, string | number | boolean>;

/** A file a worker hands back (an export). */
export interface LabFile {
  readonly name: string;
  readonly bytes: Uint8Array | string;
  readonly type?: string;
}

/** Page → worker. */
export type ToWorker =
  | { readonly type: 'init'; readonly engine: string; readonly settings: Settings; readonly files?: readonly LabFile[] }
  | { readonly type: 'play' }
  | { readonly type: 'pause' }
  | { readonly type: 'step'; readonly n?: number }
  | { readonly type: 'set'; readonly settings: Settings }
  | { readonly type: 'action'; readonly name: string; readonly id: number; readonly args?: Record<string, unknown> };

/** Worker → page. */
export type FromWorker =
  | { readonly type: 'ready'; readonly backend: string; readonly info?: string }
  | { readonly type: 'snapshot'; readonly steps: number; readonly running: boolean; readonly data: Snapshot }
  | { readonly type: 'result'; readonly id: number; readonly files?: readonly LabFile[]; readonly value?: unknown }
  | { readonly type: 'error'; readonly message: string; readonly id?: number };

/** What an engine shows: named numbers, typed arrays and small JSON values. */
export type Snapshot = Record<string, unknown>;
