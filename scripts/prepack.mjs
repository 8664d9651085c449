#!/usr/bin/env node
// `prepack` (runs before `npm pack` and `npm publish`): the tarball ships dist/, so build it
// from scratch here. Steps: src/version.ts from package.json, remove dist/ (files of deleted
// modules would otherwise ship), `npm run build`.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`genphys prepack: could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`genphys prepack: ${[cmd, ...args].join(' ')} exited with ${r.status}; nothing was packed`);
    process.exit(r.status ?? 1);
  }
}

run(process.execPath, [join(root, 'scripts', 'sync-version.mjs')]);
rmSync(join(root, 'dist'), { recursive: true, force: true });
// npm sets npm_execpath to its own CLI script during lifecycle scripts.
const npm = process.env.npm_execpath;
if (npm) run(process.execPath, [npm, 'run', 'build', '--silent']);
else run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent']);
