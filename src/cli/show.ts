/**
 * `genphys show RUN`: a run directory on one screen — the command and key settings,
 * the checkpoint, the last epoch's metrics, every stored evaluation, the artifacts.
 */
import type { Command } from 'commander';
import { summarizeRun } from '../run/summary.js';
import { globals } from './common.js';

const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(4) : v.toFixed(4)) : typeof v === 'string' ? v : JSON.stringify(v));

/** Flat `key value` pairs of the scalar fields of an object (nested one level as a.b). */
function scalars(o: Readonly<Record<string, unknown>>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out.push(`${prefix}${k} ${fmt(v)}`);
    else if (!prefix && typeof v === 'object' && !Array.isArray(v)) out.push(...scalars(v as Record<string, unknown>, `${k}.`));
  }
  return out;
}

/** Register `genphys show`. */
export function register(program: Command): void {
  program
    .command('show')
    .description('a run directory on one screen: config, checkpoint, last metrics, evaluations, artifacts')
    .argument('<run>', 'run directory')
    .option('--json', 'print the summary as JSON', false)
    .action((dir: string, o: { json: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const s = summarizeRun(dir);
      if (o.json) {
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
        return;
      }
      if (g.quiet) return;
      const w = (l: string) => process.stdout.write(l + '\n');
      w(`${s.dir}: ${String(s.config.command ?? '?')} (seed ${fmt(s.config.seed ?? '?')})`);
      w(`  config: ${scalars(s.config).filter((l) => !l.startsWith('command ') && !l.startsWith('seed ')).slice(0, 24).join(', ')}`);
      w(s.checkpoint ? `  checkpoint: ${s.checkpoint.kind}, epoch ${s.checkpoint.epoch}, step ${s.checkpoint.step}, ${s.checkpoint.created} (${s.checkpoint.weights})` : '  checkpoint: none');
      w(s.lastMetrics ? `  metrics: ${s.epochs} epochs; last: ${scalars(s.lastMetrics).join(', ')}` : '  metrics: none');
      if (s.evaluations.length === 0) w('  evaluations: none');
      for (const e of s.evaluations) w(`  eval ${e.key}: ${scalars(e.result).filter((l) => !/^(method|date) /.test(l)).slice(0, 12).join(', ')}`);
      w(`  artifacts: ${s.artifacts.length === 0 ? 'none' : s.artifacts.map((a) => a.name).join(', ')}`);
    });
}
