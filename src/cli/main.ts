/**
 * The `genphys` command line: global options, one file per command, and the
 * mapping of errors to one-line messages and exit codes.
 */
import { Command, CommanderError, Option } from 'commander';
import { GenphysError, UsageError } from '../core/errors.js';
import { selectKernels, useKernels } from '../engine/index.js';
import type { Kernels } from '../engine/kernels.js';
import { VERSION } from '../version.js';
import { GLOBAL_VALUE_OPTIONS, intArg } from './common.js';
import { expandConfig } from './config-file.js';
/** A command, loaded only when it runs (start-up stays fast: tfjs and vega load on demand). */
interface CommandEntry {
  readonly name: string;
  /** One line for the root help. */
  readonly summary: string;
  readonly load: () => Promise<{ register(program: Command): void }>;
}

/** Every command, in the root help's order. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'demo', summary: 'the main job: Ising Monte Carlo at a few temperatures, one RBM per temperature, MC vs RBM vs exact table and plot (no download)', load: () => import('./demo.js') },
  { name: 'info', summary: 'show versions, the tensor backend and BLAS, the native addon status, data directories and the CPU', load: () => import('./info.js') },
  { name: 'data', summary: 'image datasets: list sources, show a split, fetch MNIST', load: () => import('./data.js') },
  { name: 'bench', summary: 'time the benchmark workloads (median and min ms per step); --backend all runs every available backend', load: () => import('./bench.js') },
  { name: 'rbm', summary: 'restricted Boltzmann machines: train, sample, evaluate', load: () => import('./rbm.js') },
  { name: 'ising', summary: '2D/1D Ising model: Monte Carlo datasets, exact references, sampler benchmarks, RBM thermodynamics', load: () => import('./ising.js') },
  { name: 'vae', summary: 'Variational autoencoders: train, evaluate (ELBO, IWAE), plot, sample, Ising probe', load: () => import('./vae.js') },
  { name: 'gan', summary: 'generative adversarial networks: train, sample, evaluate (images, 2D toys, Ising spins)', load: () => import('./gan.js') },
  { name: 'diffusion', summary: 'Denoising diffusion models (DDPM/DDIM): train, sample, evaluate', load: () => import('./diffusion.js') },
  { name: 'classifier', summary: 'the LeNet feature classifier for FD-LeNet and KID on image data: train, eval', load: () => import('./classifier.js') },
  { name: 'export', summary: "a run's checkpoint for Python: a PyTorch state dict (safetensors) or a NumPy .npz", load: () => import('./export.js') },
  { name: 'show', summary: 'a run directory on one screen: config, checkpoint, last metrics, evaluations, artifacts', load: () => import('./show.js') },
  { name: 'sweep', summary: 'grids of runs from a JSON spec: locally N at a time, or on a Redis queue served by `genphys worker`', load: () => import('./sweep.js') },
  { name: 'lab', summary: 'serve the browser lab on 127.0.0.1 and print its URL: Ising, RBM, VAE, GAN and diffusion training live in your browser', load: () => import('./lab.js') },
  { name: 'worker', summary: 'take sweep jobs from a Redis queue and run them as child processes into --out (the shared sweep directory)', load: () => import('./worker.js') },
];


/** The command an argv runs (its first word that is not a global option), or null. */
function commandOf(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/**
 * Build the root program. With `argv`, only the command it runs is loaded and the others
 * are listed by name and summary (for the root help); without, every command is loaded.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('genphys')
    .description('Generative models for the physical sciences: RBMs, Ising thermodynamics, VAEs.')
    .version(VERSION)
    .option('--seed <n>', 'seed for every random stream', intArg(0, 2 ** 53), 0)
    .addOption(new Option('--backend <name>', "tensor backend ('all' only for bench)").choices(['auto', 'native', 'wasm', 'cpu', 'all']).default('auto'))
    .option('--out <path>', 'output directory (or file) for artifacts')
    .option('--quiet', 'no progress bars or chatter', false)
    .option('--config <file>', 'run the command and flags of a JSON file: {"genphys": "rbm train", "flags": {...}} (the lab exports these) or a run’s config.json; flags typed after it win')
    .showHelpAfterError('(add --help for usage)')
    // Subcommand help lists --seed, --backend, --out and --quiet too; every default is shown.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      // One line: the error, with commander's "did you mean" suggestion folded in.
      outputError: (str, write) => {
        const [first, ...rest] = str.split('\n');
        const hint = rest.find((l) => /Did you mean/.test(l));
        write(first + (hint ? ` ${hint.trim()}` : '') + '\n');
      },
    });
  const wanted = argv ? commandOf(argv) : null;
  const loadAll = argv === undefined || wanted === 'help';
  for (const c of COMMANDS) {
    if (loadAll || c.name === wanted) (await c.load()).register(program);
    else program.command(c.name).description(c.summary);
  }
  // --backend means the same everywhere: the tfjs backend of autograd models and the dense
  // kernels of energy models; 'all' only makes sense for bench.
  program.hook('preAction', async (_root, action) => {
    const backend = (action.optsWithGlobals() as { backend?: string }).backend ?? 'auto';
    const isBench = action.name() === 'bench' || action.parent?.name() === 'bench';
    if (backend === 'all' && !isBench) throw new UsageError(`--backend all: only 'genphys bench' compares backends; choose auto, native, wasm or cpu`);
    if (backend === 'all') return;
    selectKernels(backend as 'auto' | 'native' | 'wasm' | 'cpu');
    // wasm means XNNPACK products for the energy models too (4–8× the TypeScript loops);
    // 'cpu' keeps the TypeScript reference kernels.
    if (backend === 'wasm') useKernels(await wasmDenseKernels());
  });
  // Every subcommand inherits exitOverride so usage errors come back to main().
  for (const c of program.commands) {
    c.exitOverride();
    c.showHelpAfterError('(add --help for usage)');
    c.configureHelp({ showGlobalOptions: true });
    for (const cc of c.commands) cc.exitOverride();
  }
  return program;
}

/** The wasm dense kernels, starting tfjs's wasm backend (the module loads only when asked for). */
async function wasmDenseKernels(): Promise<Kernels> {
  const [{ initBackend }, { wasmKernels }] = await Promise.all([import('../engine/backend.js'), import('../engine/wasm-kernels.js')]);
  await initBackend('wasm', { quiet: true });
  return wasmKernels();
}

/**
 * Run the CLI on `argv` (without the node and script entries). Returns the exit
 * code instead of exiting, so tests can call it in-process.
 */
export async function main(argvIn: readonly string[]): Promise<number> {
  let argv: string[];
  try {
    argv = await expandConfig(argvIn);
  } catch (err) {
    process.stderr.write(`genphys: ${(err as Error).message}\n`);
    return err instanceof GenphysError ? err.exitCode : 2;
  }
  const program = await buildProgram(argv);
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
