/**
 * Shared helpers for tests that run the CLI in-process through `main()`.
 */
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

/** Capture everything written to stdout and stderr until `vi.restoreAllMocks()`. */
export function captureOutput(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  return { out: () => out, err: () => err };
}

/** Run `genphys argv…` in-process; returns the exit code and what it printed. */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const cap = captureOutput();
  try {
    const code = await main(argv);
    return { code, out: cap.out(), err: cap.err() };
  } finally {
    vi.restoreAllMocks();
  }
}
