/**
 * The `genphys` command line: global options, one file per command, and the
 * mapping of errors to one-line messages and exit codes.
 */
import { Command, CommanderError, Option } from 'commander';
import { GenphysError, UsageError } from '../core/errors.js';
import { selectKernels } from '../engine/index.js';
import { VERSION } from '../version.js';
import { intArg } from './common.js';
import { register as registerBench } from './bench.js';
import { register as registerData } from './data.js';
import { register as registerDemo } from './demo.js';
import { register as registerInfo } from './info.js';
import { register as registerIsing } from './ising.js';
import { register as registerRbm } from './rbm.js';
import { register as registerVae } from './vae.js';
import { register as registerSweep } from './sweep.js';
import { register as registerWorker } from './worker.js';

/** Build the root program with every command registered. */
export function buildProgram(): Command {
  const program = new Command('genphys')
    .description('Generative models for the physical sciences: RBMs, Ising thermodynamics, VAEs.')
    .version(VERSION)
    .option('--seed <n>', 'seed for every random stream', intArg(0, 2 ** 53), 0)
    .addOption(new Option('--backend <name>', "tensor backend ('all' only for bench)").choices(['auto', 'native', 'wasm', 'cpu', 'all']).default('auto'))
    .option('--out <path>', 'output directory (or file) for artifacts')
    .option('--quiet', 'no progress bars or chatter', false)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(str.split('\n')[0] + '\n'),
    });
  for (const reg of [registerDemo, registerInfo, registerData, registerBench, registerRbm, registerIsing, registerVae, registerSweep, registerWorker]) reg(program);
  // --backend means the same everywhere: the tfjs backend of autograd models and the dense
  // kernels of energy models; 'all' only makes sense for bench.
  program.hook('preAction', (_root, action) => {
    const backend = (action.optsWithGlobals() as { backend?: string }).backend ?? 'auto';
    const isBench = action.name() === 'bench' || action.parent?.name() === 'bench';
    if (backend === 'all' && !isBench) throw new UsageError(`--backend all: only 'genphys bench' compares backends; choose auto, native, wasm or cpu`);
    if (backend !== 'all') selectKernels(backend as 'auto' | 'native' | 'wasm' | 'cpu');
  });
  // Every subcommand inherits exitOverride so usage errors come back to main().
  for (const c of program.commands) {
    c.exitOverride();
    c.showHelpAfterError('(add --help for usage)');
    for (const cc of c.commands) cc.exitOverride();
  }
  return program;
}

/**
 * Run the CLI on `argv` (without the node and script entries). Returns the exit
 * code instead of exiting, so tests can call it in-process.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof GenphysError) {
      process.stderr.write(`genphys: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
