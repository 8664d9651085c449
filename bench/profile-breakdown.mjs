// Where a command's time goes: run it under `node --cpu-prof` and sum the profile's self time
// (1) by phase — each sample goes to the outermost function on its stack that names a phase:
// data decode, training step, evaluation, checkpoint I/O, pictures; module loading is start-up —
// and (2) by layer: per genphys module (dist/<dir>/<file>), per package, Node internals, GC.
//   node bench/profile-breakdown.mjs -- <genphys arguments…>     (after npm run build)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(process.argv.indexOf('--') + 1);
const dir = mkdtempSync(join(tmpdir(), 'genphys-prof-'));
const t0 = Date.now();
execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, 'dist/cli/bin.js', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, GENPHYS_THREADS: process.env.GENPHYS_THREADS ?? '' } });
const wall = (Date.now() - t0) / 1000;
const prof = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))), 'utf8'));
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const bucket = (cf) => {
  const u = cf.url || '';
  if (cf.functionName === '(garbage collector)') return 'GC';
  if (cf.functionName === '(idle)') return 'idle (waiting: other threads, I/O)';
  if (cf.functionName === '(program)') return 'native code outside JS (the addon, tfjs kernels in C++)';
  const p = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (p) return p[1];
  const m = /\/dist\/(?:cli-bundle\/)?([^/]+\/[^/]+)\.js/.exec(u) ?? /\/dist\/([^/]+)\.js/.exec(u);
  if (m) return `genphys ${m[1]}`;
  if (u.startsWith('node:')) return `node ${u.slice(5).split('/').slice(0, 2).join('/')}`;
  return cf.functionName ? `(${cf.functionName})` : '(other)';
};
const PHASES = [
  ['data decode and preparation', /^(loadImageDataset|loadEbmData|loadVaeImages|loadGanData|loadDiffusionData|readIdx|prepareData|prepareRows|dataFingerprint|fingerprint|binarizeStatic|toUnitFloat)$/],
  ['training step', /^(trainSlice|trainEpoch|trainStep|advance|discriminatorStep|generatorStep|trainAndSampleRbm)$/],
  ['evaluation', /^(pseudoLikelihood|freeEnergyGap|exactMetrics|aisSandwich|evaluate|scoreToy|toyMetrics|mmd2Unbiased|thermoEstimates|sampleRbmObservables)$/],
  ['checkpoint and metrics I/O', /^(saveCheckpoint|saveModel|saveVaeCheckpoint|save|appendMetrics|writeFileAtomic)$/],
  ['pictures', /^(writeRbmGrids|writeRbmCurves|writeVaeCurves|writeReconstructions|writeSamples|writeSampleArtifact|writeGanCurves|writeComparison|renderSvg)$/],
  ['Monte Carlo', /^(sweep|simulateTemperatures|runChains)$/],
];
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const phaseOf = (n) => {
  let found = null;
  for (let x = n; x; x = parent.get(x.id)) {
    const p = PHASES.find(([, re]) => re.test(x.callFrame.functionName));
    if (p) found = p[0];
    else if (!found && /internal\/modules/.test(x.callFrame.url)) found = 'start-up (module loading)';
  }
  return found ?? (n.callFrame.functionName === '(garbage collector)' ? 'GC' : n.callFrame.functionName === '(idle)' ? 'idle' : 'other (CLI, run layer, set-up)');
};
const sum = new Map();
const phases = new Map();
for (const n of prof.nodes) {
  const t = (dt.get(n.id) ?? 0) / 1e6;
  if (t <= 0) continue;
  sum.set(bucket(n.callFrame), (sum.get(bucket(n.callFrame)) ?? 0) + t);
  const ph = phaseOf(byId.get(n.id));
  phases.set(ph, (phases.get(ph) ?? 0) + t);
}
const total = [...sum.values()].reduce((a, b) => a + b, 0);
const show = (m, k) => { for (const [name, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, k)) console.log(`  ${v.toFixed(2).padStart(6)} s  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${name}`); };
console.log(`genphys ${args.join(' ')}: ${wall.toFixed(2)} s wall, ${total.toFixed(2)} s profiled (main thread)`);
console.log(' by phase:');
show(phases, 12);
console.log(' by layer:');
show(sum, 10);
