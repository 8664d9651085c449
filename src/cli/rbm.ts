import type { Command } from 'commander';

/** Register the `rbm` command (placeholder until its issue lands). */
export function register(program: Command): void {
  void program;
}
