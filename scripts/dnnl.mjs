#!/usr/bin/env node
// Is oneDNN (Debian's libdnnl-dev) here? binding.gyp asks this script for the flags
// (`<!@(node scripts/dnnl.mjs --cflags)` / `--libs`), and scripts/build-native.mjs for the
// line it prints. oneDNN is optional: with it the addon's convolutions run on oneDNN's
// kernels (native/conv-dnnl.cc), without it on im2col + OpenBLAS. GENPHYS_NO_DNNL=1 builds
// without it even where it is installed (for comparisons, and the fallback's tests).
//
// CLI: `--cflags` / `--libs` print flags (nothing when absent) and always exit 0; `--json`
// prints the result.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const INCLUDE_DIRS = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib', '/opt/homebrew/lib'];

/** { found, include, lib, reason } for oneDNN's C++ header and shared library. */
export function findDnnl() {
  if (process.env.GENPHYS_NO_DNNL === '1') return { found: false, reason: 'disabled by GENPHYS_NO_DNNL=1' };
  const include = INCLUDE_DIRS.find((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')));
  if (!include) return { found: false, reason: 'no oneapi/dnnl/dnnl.hpp (apt-get install libdnnl-dev)' };
  const lib = LIB_DIRS.find((d) => existsSync(join(d, 'libdnnl.so')) || existsSync(join(d, 'libdnnl.dylib')));
  if (!lib) return { found: false, reason: 'no libdnnl.so' };
  return { found: true, include, lib };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = findDnnl();
  const arg = process.argv[2];
  if (arg === '--cflags') console.log(r.found ? `-DGP_DNNL -I${r.include}` : '');
  else if (arg === '--libs') console.log(r.found ? `-L${r.lib} -ldnnl -lgomp` : '');
  else console.log(JSON.stringify(r));
}
