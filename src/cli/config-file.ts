/**
 * `--config FILE`: a JSON file that holds a command and its flags, as the lab's
 * "settings JSON" export writes it:
 *
 *     { "genphys": "rbm train", "flags": { "data": "bars-and-stripes:4", "hidden": 16, "epochs": 200 } }
 *
 * It expands to the command line `rbm train --data bars-and-stripes:4 --hidden 16 --epochs 200`;
 * flags typed after it override the file's. `true` is a bare switch, `false` leaves it off.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';

/** The words of a command (`rbm train`) from a config file. */
function commandWords(v: unknown, file: string): string[] {
  if (typeof v !== 'string' || !/^[a-z][a-z-]*( [a-z][a-z-]*)*$/.test(v.trim())) {
    throw new UsageError(`--config ${file}: "genphys" must name a command, e.g. "rbm train" (got ${JSON.stringify(v)})`);
  }
  return v.trim().split(' ');
}

/** A config file's command and its flags as argv words. */
export function readConfigFile(file: string): { command: string[]; flags: string[] } {
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
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`--config ${file}: must hold a JSON object with "genphys" and "flags"`);
  const d = doc as Record<string, unknown>;
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
export function expandConfig(argv: readonly string[]): string[] {
  const i = argv.indexOf('--config');
  if (i < 0) return [...argv];
  const file = argv[i + 1];
  if (file === undefined || file.startsWith('--')) throw new UsageError('--config: needs a file (a JSON {"genphys": "<command>", "flags": {…}})');
  if (argv.indexOf('--config', i + 1) >= 0) throw new UsageError('--config: give it once');
  const rest = [...argv.slice(0, i), ...argv.slice(i + 2)];
  const { command, flags } = readConfigFile(file);
  // The global options before the command (the only flags that may precede it), then its words.
  const typed: string[] = [];
  let k = 0;
  const globalsWithValue = new Set(['--seed', '--backend', '--out']);
  const before: string[] = [];
  while (k < rest.length) {
    const a = rest[k]!;
    if (globalsWithValue.has(a)) {
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
