/**
 * SIGINT/SIGTERM as an AbortSignal: the first signal asks the running loop to stop at
 * the next batch and save a resumable checkpoint; a second SIGINT exits at once (130).
 */

/** An interrupt controller bound to the process's signals until `dispose()`. */
export interface Interrupts {
  readonly signal: AbortSignal;
  /** The signal that arrived ('SIGINT' or 'SIGTERM'), or null. */
  reason(): NodeJS.Signals | null;
  dispose(): void;
}

/** Install handlers; `onInterrupt` prints the user-facing note (e.g. "saving a checkpoint…"). */
export function catchInterrupts(onInterrupt?: (sig: NodeJS.Signals) => void): Interrupts {
  const ac = new AbortController();
  let got: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (got !== null && sig === 'SIGINT') process.exit(130);
    got = sig;
    onInterrupt?.(sig);
    ac.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    reason: () => got,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
