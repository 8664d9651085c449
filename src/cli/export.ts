/**
 * `genphys export RUN --format torch-state-dict|numpy --out FILE`: a run's checkpoint
 * as a PyTorch state dict (safetensors) or a NumPy `.npz`; see src/run/export.ts.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { EXPORT_FORMATS, exportRun, type ExportFormat } from '../run/export.js';
import { checkOutputFile } from '../run/paths.js';
import { globals } from './common.js';

/** Register `genphys export`. */
export function register(program: Command): void {
  program
    .command('export')
    .description("a run's checkpoint for Python: a PyTorch state dict (safetensors) or a NumPy .npz (names, layouts and conventions in the README's 'Python interop')")
    .argument('<run>', 'run directory (or a checkpoint .json/.safetensors)')
    .addOption(new Option('--format <name>', 'torch-state-dict: the PyTorch module’s names and layouts; numpy: genphys names and layouts').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .action((run: string, o: { format: ExportFormat }, cmd: Command) => {
      const g = globals(cmd);
      if (!g.out) throw new UsageError('--out: give the file to write (e.g. --out model.safetensors)');
      const out = checkOutputFile(g.out, '--out');
      const r = exportRun(run, o.format, out);
      if (!g.quiet) {
        const list = Object.entries(r.tensors).map(([k, s]) => `${k} [${s.join(', ')}]`);
        process.stdout.write(`wrote ${r.path} (${o.format}): ${list.join(', ')}\n`);
      }
    });
}
