#!/usr/bin/env node
// Writes src/version.ts from package.json's "version".
//
// Why a generated constant and not a run-time read of package.json: the library also runs
// in a browser, where there is no node:fs and no package.json beside the code, and a
// JSON import would put package.json (outside src/, the build's rootDir) into the build.
// A literal in a .ts file costs nothing anywhere; the price is keeping it in step, which
// `npm pack` does (prepack runs this) and test/package.test.ts checks.
//
//   node scripts/sync-version.mjs          rewrite src/version.ts if it differs
//   node scripts/sync-version.mjs --check  exit 1, naming both versions, if it differs
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The exact text of src/version.ts for a version string. */
export function versionSource(version) {
  return (
    '// Generated from package.json by scripts/sync-version.mjs (npm pack runs it); do not edit.\n' +
    '/** The genphys version (package.json\'s "version"), stored in every checkpoint. */\n' +
    `export const VERSION = '${version}';\n`
  );
}

/** package.json's version, or an error naming the file. */
export function packageVersion(dir = root) {
  const file = join(dir, 'package.json');
  const v = JSON.parse(readFileSync(file, 'utf8')).version;
  // Semver's alphabet; anything else could not go between quotes in the generated file.
  if (typeof v !== 'string' || !/^[0-9A-Za-z.+-]+$/.test(v)) throw new Error(`${file}: "version" must be a semver string, got ${JSON.stringify(v)}`);
  return v;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`scripts/sync-version.mjs: unknown argument '${unknown[0]}' (expected nothing or --check)`);
    process.exit(2);
  }
  const version = packageVersion();
  const file = join(root, 'src', 'version.ts');
  const want = versionSource(version);
  let have = '';
  try {
    have = readFileSync(file, 'utf8');
  } catch {
    // A missing file is just out of date.
  }
  if (have === want) process.exit(0);
  if (args.includes('--check')) {
    const m = /VERSION\s*=\s*(['"])([^'"]*)\1/.exec(have);
    const why = m && m[2] === version ? 'is not the generated text' : `says ${m ? `'${m[2]}'` : 'no VERSION'} but package.json says '${version}'`;
    console.error(`src/version.ts ${why}; run node scripts/sync-version.mjs`);
    process.exit(1);
  }
  // Rename over the old file so a concurrent build never reads half of it.
  writeFileSync(`${file}.tmp`, want);
  renameSync(`${file}.tmp`, file);
  console.log(`genphys: src/version.ts set to ${version}`);
}
