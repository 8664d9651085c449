import type { Command } from 'commander';

/** Register the `bench` command (placeholder until its issue lands). */
export function register(program: Command): void {
  void program;
}
