/**
 * `--config FILE`: a JSON file that holds a command and its flags, as the lab's
 * "settings JSON" export writes it:
 *
 *     { "genphys": "rbm train", "flags": { "data": "bars-and-stripes:4", "hidden": 16, "epochs": 200 } }
 *
 * It expands to the command line `rbm train --data bars-and-stripes:4 --hidden 16 --epochs 200`;
 * flags typed after it override the file's. `true` is a bare switch, `false` leaves it off.
 *
 * A run's own `config.json` works too (it has `"command": "rbm train"` and the resolved
 * settings): each flag the command records is read back from its place in the config (the
 * same flag → config-path tables that check a resume), so the run is repeated as it was.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { GLOBAL_VALUE_OPTIONS } from './common.js';

/** The words of a command (`rbm train`) from a config file. */
function commandWords(v: unknown, file: string): string[] {
  if (typeof v !== 'string' || !/^[a-z][a-z-]*( [a-z][a-z-]*)*$/.test(v.trim())) {
    throw new UsageError(`--config ${file}: "genphys" must name a command, e.g. "rbm train" (got ${JSON.stringify(v)})`);
  }
  return v.trim().split(' ');
}

/** Where each trainer records its flags in a run's config.json (flag → config path). */
const RUN_CONFIG_FLAGS: Readonly<Record<string, () => Promise<Readonly<Record<string, readonly [string, string]>>>>> = {
  'rbm train': async () => (await import('./rbm.js')).TRAIN_FLAG_PATHS,
  'vae train': async () => (await import('./vae.js')).VAE_FLAG_PATHS,
  'gan train': async () => (await import('./gan.js')).TRAIN_FLAG_PATHS,
  'diffusion train': async () => (await import('./diffusion.js')).TRAIN_FLAG_PATHS,
  'classifier train': async () => (await import('./classifier.js')).FLAG_PATHS,
};

/** The value at a dotted path of a JSON object, or undefined. */
function at(doc: Record<string, unknown>, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A run's config.json as a command and its flags (see the module comment). */
async function runConfigFlags(doc: Record<string, unknown>, file: string): Promise<{ command: string[]; flags: string[] }> {
  const command = commandWords(doc.command, file);
  const table = RUN_CONFIG_FLAGS[command.join(' ')];
  if (!table) throw new UsageError(`--config ${file}: a run config of '${command.join(' ')}' cannot be replayed; replayable: ${Object.keys(RUN_CONFIG_FLAGS).join(', ')}`);
  const flags: string[] = [];
  if (typeof doc.seed === 'number') flags.push('--seed', String(doc.seed));
  for (const [flag, path] of Object.values(await table())) {
    const v = at(doc, path);
    if (v === undefined || v === null || v === false) continue;
    if (v === true) flags.push(flag);
    else if (typeof v === 'number' || typeof v === 'string') flags.push(flag, String(v));
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'string')) flags.push(flag, v.join(','));
    else throw new UsageError(`--config ${file}: '${path}' (${flag}) is ${JSON.stringify(v)}, which no flag value expresses`);
  }
  return { command, flags };
}

/** A config file's command and its flags as argv words. */
export async function readConfigFile(file: string): Promise<{ command: string[]; flags: string[] }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`--config ${file}: must hold a JSON object with "genphys" and "flags" (or be a run's config.json)`);
  const d = doc as Record<string, unknown>;
  if (d.genphys === undefined && typeof d.command === 'string') return runConfigFlags(d, file);
  const command = commandWords(d.genphys, file);
  const flagsIn = d.flags ?? {};
  if (typeof flagsIn !== 'object' || flagsIn === null || Array.isArray(flagsIn)) throw new UsageError(`--config ${file}: "flags" must be an object of flag names and values`);
  const flags: string[] = [];
  for (const [k, v] of Object.entries(flagsIn)) {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(k)) throw new UsageError(`--config ${file}: '${k}' is not a flag name (write it without the leading --)`);
    if (v === true) flags.push(`--${k}`);
    else if (v === false || v === null) continue;
    else if (typeof v === 'number' || typeof v === 'string') flags.push(`--${k}`, String(v));
    else throw new UsageError(`--config ${file}: flag '${k}' must be a number, string or boolean`);
  }
  return { command, flags };
}

/**
 * Expand `--config FILE` in argv. Without a command on the line the file's is used; with
 * one, it must be the file's. The file's flags come first, so flags on the line win.
 */
export async function expandConfig(argv: readonly string[]): Promise<string[]> {
  const i = argv.indexOf('--config');
  if (i < 0) return [...argv];
  const file = argv[i + 1];
  if (file === undefined || file.startsWith('--')) throw new UsageError('--config: needs a file (a JSON {"genphys": "<command>", "flags": {…}})');
  if (argv.indexOf('--config', i + 1) >= 0) throw new UsageError('--config: give it once');
  const rest = [...argv.slice(0, i), ...argv.slice(i + 2)];
  const { command, flags } = await readConfigFile(file);
  // The global options before the command (the only flags that may precede it), then its words.
  const typed: string[] = [];
  let k = 0;
  const before: string[] = [];
  while (k < rest.length) {
    const a = rest[k]!;
    if (GLOBAL_VALUE_OPTIONS.has(a)) {
      before.push(a, rest[k + 1] ?? '');
      k += 2;
    } else if (a === '--quiet') {
      before.push(a);
      k++;
    } else break;
  }
  while (k < rest.length && !rest[k]!.startsWith('-') && typed.length < command.length) typed.push(rest[k++]!);
  if (typed.length > 0 && typed.join(' ') !== command.join(' ')) {
    throw new UsageError(`--config ${file}: it is for 'genphys ${command.join(' ')}', not '${typed.join(' ')}'`);
  }
  return [...before, ...command, ...flags, ...rest.slice(k)];
}
