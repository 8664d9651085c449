/**
 * `genphys data list|show|fetch`: where datasets are found, what a split holds
 * (shape, value range, label histogram, an image grid), and the MNIST download.
 */
import { checkOutputDir, checkOutputFile } from '../run/paths.js';
import { Argument, Option, type Command } from 'commander';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { DATASET_NAMES, datasetDir, listDataSources, loadImageDataset, type DatasetName, type Split } from '../data/datasets.js';
import { MNIST_BYTES, fetchMnist, mnistMirror } from '../data/fetch.js';
import { writeImageGrid } from '../viz/png.js';
import { choiceArg, deprecated, globals, logger, progress } from './common.js';

/** Images shown in the `data show` grid. */
const GRID_IMAGES = 64;

function print(msg: string): void {
  process.stdout.write(msg + '\n');
}

/** Register `genphys data` and its subcommands on the root program. */
export function register(program: Command): void {
  const data = program
    .command('data')
    .description('image datasets: list sources, show a split, fetch MNIST')
    .addHelpText('after', '\nExamples:\n  genphys data list\n  genphys data show fashion-mnist --split train\n  genphys data fetch mnist');

  data
    .command('list')
    .description('show where each dataset is looked for and which splits are present')
    .action(() => {
      for (const s of listDataSources()) {
        const status = !s.exists ? 'missing' : s.splits.length === 0 ? 'no IDX files' : `splits: ${s.splits.join(', ')}`;
        print(`${s.name.padEnd(14)} ${s.dir} (${s.source}) — ${status}`);
        if (s.splits.length < 2) print(`${''.padEnd(14)} to get it: ${s.hint}`);
      }
    });

  data
    .command('show')
    .description('print shape, pixel range and label histogram of a split, and write a PNG grid of its first 64 images')
    .addArgument(new Argument('<name>', 'dataset').choices(DATASET_NAMES))
    .option('--split <split>', 'train or test', choiceArg(['train', 'test'] as const), 'train')
    .option('--data-dir <dir>', 'directory holding the IDX files (overrides the environment and default)')
    .addOption(new Option('--dir <dir>', 'old spelling of --data-dir').hideHelp())
    .option('--grid <path>', 'PNG path for the image grid (default <--out or .>/<name>-<split>-grid.png)')
    .action((name: DatasetName, o: { split: Split; dataDir?: string; dir?: string; grid?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dataDir = deprecated(o.dataDir, o.dir, '--dir', '--data-dir');
      const opts = { ...o, ...(dataDir !== undefined ? { dir: dataDir } : {}) };
      // The grid's path is checked before anything is loaded or printed.
      const path = opts.grid ?? join(g.out ?? '.', `${name}-${opts.split}-grid.png`);
      checkOutputFile(path, opts.grid !== undefined ? '--grid' : '--out');
      const t0 = performance.now();
      const ds = loadImageDataset(name, opts.split, opts.dir !== undefined ? { dir: opts.dir } : {});
      const ms = performance.now() - t0;
      print(`${ds.name} ${ds.split} (${ds.dir}): ${ds.n}×${ds.rows}×${ds.cols} uint8, loaded in ${ms.toFixed(0)} ms`);

      let lo = 255;
      let hi = 0;
      let sum = 0;
      const px = ds.pixels;
      for (let i = 0; i < px.length; i++) {
        const v = px[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        sum += v;
      }
      if (px.length === 0) lo = hi = 0;
      const mean = px.length > 0 ? sum / px.length : 0;
      print(`pixel values: min ${lo}, max ${hi}, mean ${mean.toFixed(2)} (of 0..255; ${(mean / 255).toFixed(4)} as [0,1] intensity)`);

      const counts = new Array<number>(ds.classNames.length).fill(0);
      for (let i = 0; i < ds.n; i++) counts[ds.labels[i]!]!++;
      print('labels:');
      const width = Math.max(...ds.classNames.map((c) => c.length));
      ds.classNames.forEach((c, k) => {
        const pct = ds.n > 0 ? (100 * counts[k]!) / ds.n : 0;
        print(`  ${k} ${c.padEnd(width)} ${String(counts[k]).padStart(7)}  ${pct.toFixed(2).padStart(6)}%`);
      });

      const shown = Math.min(GRID_IMAGES, ds.n);
      if (shown === 0) {
        print('no images, no grid written');
        return;
      }
      const size = writeImageGrid(path, ds.pixels, shown, ds.rows, ds.cols, { cols: 8, pad: 2, scale: 2 });
      print(`wrote grid of the first ${shown} images: ${path} (${size.width}×${size.height} px)`);
    });

  data
    .command('fetch')
    .description('download MNIST (four IDX archives), verify SHA-256, store in the cache')
    .addArgument(new Argument('<name>', 'dataset (only mnist is downloaded)').choices(DATASET_NAMES))
    .option('--data-dir <dir>', 'cache directory (default $GENPHYS_MNIST_DIR, else $GENPHYS_CACHE/mnist or ~/.cache/genphys/mnist)')
    .addOption(new Option('--dir <dir>', 'old spelling of --data-dir').hideHelp())
    .option('--mirror <url>', 'base URL of an MNIST mirror (default $GENPHYS_MNIST_MIRROR or the TensorFlow mirror)')
    .action(async (name: DatasetName, o: { dataDir?: string; dir?: string; mirror?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dataDir = deprecated(o.dataDir, o.dir, '--dir', '--data-dir');
      const opts = { ...o, ...(dataDir !== undefined ? { dir: dataDir } : { dir: undefined }) };
      if (name !== 'mnist') {
        throw new UsageError(`data fetch: ${name} is not downloaded by genphys; install it with 'apt-get install dataset-fashion-mnist'`);
      }
      if (opts.mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(opts.mirror)) {
        throw new UsageError(`--mirror: expected an http(s) URL, got '${opts.mirror}'`);
      }
      const dir = datasetDir('mnist', opts.dir);
      checkOutputDir(dir, '--data-dir');
      const log = logger(g.quiet);
      log(`fetching mnist from ${mnistMirror(opts.mirror)} into ${dir}`);
      const total = Object.values(MNIST_BYTES).reduce((a, b) => a + b, 0);
      const bar = progress(total, 'mnist', g.quiet);
      const seen = new Map<string, number>();
      let results;
      try {
        results = await fetchMnist({
          cacheDir: dir,
          quiet: true,
          ...(opts.mirror !== undefined ? { baseUrl: opts.mirror } : {}),
          onProgress: (file, received) => {
            bar.tick(received - (seen.get(file) ?? 0), file);
            seen.set(file, received);
          },
        });
      } finally {
        bar.stop();
      }
      for (const r of results) {
        const note = r.status === 'present' ? 'already present' : 'downloaded';
        log(`  ${r.file.padEnd(28)} ${String(r.bytes).padStart(9)} bytes  ${note}, SHA-256 ok`);
      }
      log(`mnist ready in ${dir}`);
    });
}
