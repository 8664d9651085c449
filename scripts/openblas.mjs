#!/usr/bin/env node
// Where is OpenBLAS? Used by scripts/build-native.mjs (to skip a doomed compile with a
// clear message) and by binding.gyp (`<!@(node scripts/openblas.mjs --cflags)`), so the
// two always agree on the flags.
//
// Order: `pkg-config openblas` first (it honours PKG_CONFIG_PATH / PKG_CONFIG_LIBDIR,
// which is how a user points at an OpenBLAS in a custom prefix), then the include
// directories Debian/Ubuntu, Fedora and Homebrew use, for installs without openblas.pc.
// GENPHYS_OPENBLAS_SEARCH=0 trusts pkg-config alone; together with PKG_CONFIG_LIBDIR set
// to an empty directory that is exactly a machine without OpenBLAS, which is how
// test/package.test.ts exercises the fallback on machines that have it.
//
// CLI: `--cflags` / `--libs` print flags for gyp and always exit 0 (gyp aborts on a
// failing command; with nothing found they print the bare `-lopenblas` guess, so a direct
// node-gyp run fails at the compiler with its own message); `--json` prints the result.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Include directories to search when pkg-config does not know OpenBLAS, each with the
 * library directory that goes with it (null: the linker's default path finds it, as
 * with Debian's alternatives symlink in /usr/lib/<triplet>).
 */
export const SEARCH_DIRS = [
  { include: '/usr/include/x86_64-linux-gnu/openblas-pthread', lib: null },
  { include: '/usr/include/aarch64-linux-gnu/openblas-pthread', lib: null },
  { include: '/usr/include/openblas', lib: null },
  { include: '/opt/homebrew/opt/openblas/include', lib: '/opt/homebrew/opt/openblas/lib' },
  { include: '/usr/local/opt/openblas/include', lib: '/usr/local/opt/openblas/lib' },
];

/** pkg-config prints flags separated by blanks, escaping blanks inside a flag with a backslash. */
export function splitFlags(text) {
  const out = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) cur += text[++i];
    else if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Add a run-time search path for every -L directory outside the system tree: a custom
 * prefix (conda, Homebrew, a home-built OpenBLAS) is not on the loader's path, so without
 * it the addon would link and then fail to load. System directories are left to ld.so,
 * so Debian's BLAS alternatives keep working.
 */
export function withRpath(libs) {
  const out = [...libs];
  for (const f of libs) {
    if (!f.startsWith('-L')) continue;
    const dir = f.slice(2);
    const system = /^\/(usr|lib|lib64)(\/|$)/.test(dir) && !dir.startsWith('/usr/local/opt/');
    if (dir && !system) out.push(`-Wl,-rpath,${dir}`);
  }
  return out;
}

function runPkgConfig(args, env) {
  const r = spawnSync('pkg-config', args, { encoding: 'utf8', env });
  if (r.error) return { ok: false, error: r.error.code === 'ENOENT' ? 'pkg-config is not installed' : r.error.message };
  if (r.status !== 0) return { ok: false, error: (r.stderr || '').trim().split('\n')[0] || `pkg-config exited with ${r.status}` };
  return { ok: true, out: r.stdout.trim() };
}

/**
 * Locate OpenBLAS (types in openblas.d.mts). The environment, file test and pkg-config
 * call are injectable so the search order can be tested without installing anything.
 */
export function findOpenBlas(o = {}) {
  const env = o.env ?? process.env;
  const exists = o.exists ?? existsSync;
  const pkgConfig = o.pkgConfig ?? ((args) => runPkgConfig(args, env));

  const notes = [];
  const cflags = pkgConfig(['--cflags', 'openblas']);
  const libs = cflags.ok ? pkgConfig(['--libs', 'openblas']) : cflags;
  if (cflags.ok && libs.ok) {
    const c = splitFlags(cflags.out);
    const includes = c.filter((f) => f.startsWith('-I')).map((f) => f.slice(2));
    // An openblas.pc without its header (a -dev package half removed) would only fail later, inside the compiler.
    const headerDirs = includes.length > 0 ? includes : ['/usr/include', '/usr/local/include'];
    if (headerDirs.some((d) => exists(join(d, 'cblas.h')))) {
      const v = pkgConfig(['--modversion', 'openblas']);
      return { found: true, source: 'pkg-config', version: v.ok ? v.out : null, cflags: c, libs: withRpath(splitFlags(libs.out)), reason: null };
    }
    notes.push(`pkg-config's openblas has no cblas.h in ${headerDirs.join(', ')}`);
  } else {
    notes.push(`pkg-config openblas: ${cflags.ok ? libs.error : cflags.error}`);
  }

  if (env.GENPHYS_OPENBLAS_SEARCH === '0') {
    notes.push('directory search off (GENPHYS_OPENBLAS_SEARCH=0)');
  } else {
    for (const d of SEARCH_DIRS) {
      if (!exists(join(d.include, 'cblas.h'))) continue;
      const l = d.lib ? [`-L${d.lib}`, '-lopenblas'] : ['-lopenblas'];
      return { found: true, source: 'search', version: null, cflags: [`-I${d.include}`], libs: withRpath(l), reason: null };
    }
    notes.push(`no cblas.h in ${SEARCH_DIRS.map((d) => d.include).join(', ')}`);
  }
  return { found: false, source: null, version: null, cflags: [], libs: ['-lopenblas'], reason: `OpenBLAS not found (${notes.join('; ')})` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = findOpenBlas();
  const arg = process.argv[2];
  if (arg === '--cflags') console.log(r.cflags.join(' '));
  else if (arg === '--libs') console.log(r.libs.join(' '));
  else if (arg === '--json') console.log(JSON.stringify(r));
  else {
    console.error(`scripts/openblas.mjs: expected --cflags, --libs or --json, got ${arg === undefined ? 'nothing' : `'${arg}'`}`);
    process.exit(2);
  }
}
