#!/usr/bin/env node
// Builds the optional native engine (native/, binding.gyp → build/Release/genphys_native.node).
// Runs as the package's `install` script during `npm ci`. A failed build is not an
// install failure: genphys falls back to the wasm / TypeScript engines, so this
// prints one line saying how to get the native backend and exits 0. OpenBLAS is located
// by scripts/openblas.mjs (pkg-config, then the usual directories); when it is absent the
// compile is not attempted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { findOpenBlas } from './openblas.mjs';
import { findDnnl } from './dnnl.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose') || process.env.GENPHYS_BUILD_VERBOSE === '1';

function nodeGypCommand() {
  // npm sets npm_config_node_gyp to its bundled node-gyp during lifecycle scripts.
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(dirname(process.execPath)), 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, [c]];
  return [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--no-install', 'node-gyp']];
}

function nodedirArgs() {
  // Build against the running Node's own headers instead of downloading them.
  if (process.env.npm_config_nodedir) return [`--nodedir=${process.env.npm_config_nodedir}`];
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return [`--nodedir=${prefix}`];
  return [];
}

function unavailable(reason) {
  console.log(
    `genphys: native backend unavailable (${reason}); using wasm/js. ` +
      'To get it: apt-get install libopenblas-dev libdnnl-dev && npm rebuild genphys (or re-run node scripts/build-native.mjs)',
  );
  process.exit(0);
}

if (process.env.GENPHYS_SKIP_NATIVE_BUILD === '1') unavailable('GENPHYS_SKIP_NATIVE_BUILD=1');
try {
  createRequire(join(root, 'package.json')).resolve('node-addon-api');
} catch {
  unavailable('node-addon-api is not installed');
}

// Without OpenBLAS the compile can only fail, after a minute of the user's time; say why now.
// binding.gyp asks scripts/openblas.mjs for the same flags.
const blas = findOpenBlas();
if (!blas.found) unavailable(blas.reason);

const [cmd, pre] = nodeGypCommand();
const res = spawnSync(cmd, [...pre, 'rebuild', ...nodedirArgs()], {
  cwd: root,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
});
const built = join(root, 'build', 'Release', 'genphys_native.node');
if (res.error) unavailable(`could not run node-gyp: ${res.error.message}`);
if (res.status !== 0 || !existsSync(built)) {
  const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
  const why = /cblas\.h|openblas/i.test(out) && /No such file|cannot find/i.test(out)
    ? 'OpenBLAS headers or library not found'
    : `node-gyp exited with ${res.status}; re-run with --verbose for the log`;
  unavailable(why);
}
// A build that links but cannot load (e.g. missing libopenblas.so at run time) is unavailable too.
const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(built)}).info()`], { encoding: 'utf8' });
if (probe.status !== 0) unavailable(`built addon does not load: ${(probe.stderr || '').trim().split('\n')[0]}`);
const against = `OpenBLAS${blas.version ? ` ${blas.version}` : ''} via ${blas.source === 'pkg-config' ? 'pkg-config' : blas.cflags.join(' ')}`;
const dnnl = findDnnl();
const convs = dnnl.found ? 'convolutions on oneDNN' : `convolutions on im2col + OpenBLAS: ${dnnl.reason}`;
console.log(`genphys: native backend built against ${against}, ${convs} (${built})`);
