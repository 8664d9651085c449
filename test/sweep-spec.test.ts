/**
 * Sweep specs: SHA-256, expansion (grid = product, zip pairs, seeded random draws),
 * job-id stability and uniqueness, and one-line validation errors naming the key path.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { canonicalJson, expandSweep, jobArgv, jobId, parseSweepSpec, sha256Hex, sweepId } from '../src/sweep/index.js';
import { reportCsv, reportMarkdown, type ReportRow } from '../src/sweep/report.js';
import { parseQueueUrl } from '../src/sweep/queue.js';
import { VERSION } from '../src/version.js';
import { jobEnv, threadsPerJob } from '../src/sweep/exec.js';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 vectors and node:crypto on lengths around the padding boundaries', () => {
    // FIPS 180-2 Appendix B.1 and B.2.
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
      const s = 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2);
      expect(sha256Hex(s), `length ${n}`).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });
});

const base = { command: 'rbm train', base: { data: 'bars-and-stripes:3', epochs: 2 } };

describe('expandSweep', () => {
  it('a grid expands to the product of its axes, first axis slowest', () => {
    const jobs = expandSweep(parseSweepSpec({ ...base, grid: { hidden: [16, 64], lr: [0.01, 0.03], seed: [1, 2, 3] } }));
    expect(jobs).toHaveLength(12);
    expect(jobs.map((j) => [j.axes.hidden, j.axes.lr, j.axes.seed]).slice(0, 4)).toEqual([
      [16, 0.01, 1],
      [16, 0.01, 2],
      [16, 0.01, 3],
      [16, 0.03, 1],
    ]);
    expect(jobs[11]!.axes).toEqual({ hidden: 64, lr: 0.03, seed: 3 });
    expect(jobs[11]!.flags).toEqual({ data: 'bars-and-stripes:3', epochs: 2, hidden: 64, lr: 0.03, seed: 3 });
    expect(new Set(jobs.map((j) => j.id)).size).toBe(12);
    expect(jobs.map((j) => j.index)).toEqual([...Array(12).keys()]);
  });

  it('zip axes move together and cross the grid', () => {
    const jobs = expandSweep(parseSweepSpec({ ...base, grid: { seed: [1, 2] }, zip: { hidden: [4, 8, 16], lr: [0.1, 0.05, 0.02] } }));
    expect(jobs).toHaveLength(6);
    expect(jobs.map((j) => `${j.axes.seed}/${j.axes.hidden}/${j.axes.lr}`)).toEqual(['1/4/0.1', '1/8/0.05', '1/16/0.02', '2/4/0.1', '2/8/0.05', '2/16/0.02']);
  });

  it('random draws are reproducible from their seed, stay in range, and change with the seed', () => {
    const spec = (seed: number) =>
      parseSweepSpec({ ...base, random: { count: 200, seed, axes: { lr: { 'log-uniform': [1e-3, 1e-1] }, hidden: { 'int-uniform': [2, 5] }, method: { choice: ['cd', 'pcd'] }, momentum: { uniform: [0, 0.9] } } } });
    const a = expandSweep(spec(7));
    const b = expandSweep(spec(7));
    const c = expandSweep(spec(8));
    expect(a.map((j) => j.id)).toEqual(b.map((j) => j.id));
    expect(a.map((j) => j.id)).not.toEqual(c.map((j) => j.id));
    expect(a).toHaveLength(200);
    const lr = a.map((j) => j.flags.lr as number);
    expect(Math.min(...lr)).toBeGreaterThanOrEqual(1e-3);
    expect(Math.max(...lr)).toBeLessThan(1e-1);
    // log10(lr) is uniform on [-3, -1]: mean -2, sd 2/√12 = 0.577; standard error over 200 draws 0.041, tolerance 4σ.
    const meanLog = lr.reduce((s, x) => s + Math.log10(x), 0) / lr.length;
    expect(Math.abs(meanLog + 2)).toBeLessThan(4 * 0.041);
    const hidden = new Set(a.map((j) => j.flags.hidden));
    expect([...hidden].sort()).toEqual([2, 3, 4, 5]);
    expect(new Set(a.map((j) => j.flags.method))).toEqual(new Set(['cd', 'pcd']));
  });

  it('does not modify the spec it is given', () => {
    const raw = { ...base, grid: { hidden: [16, 64] }, zip: { lr: [0.1] } };
    const copy = JSON.parse(JSON.stringify(raw)) as unknown;
    expandSweep(parseSweepSpec(raw));
    expect(raw).toEqual(copy);
  });

  it('drops false booleans and writes true ones as bare flags', () => {
    const [j] = expandSweep(parseSweepSpec({ ...base, base: { ...base.base, centering: true, quiet: false } }));
    expect(j!.flags).toEqual({ data: 'bars-and-stripes:3', epochs: 2, centering: true });
    expect(jobArgv(j!, '/r/x', true)).toEqual(['rbm', 'train', '--data', 'bars-and-stripes:3', '--epochs', '2', '--centering', '--out', '/r/x', '--resume']);
  });
});

describe('job ids', () => {
  it('are stable: a golden value, independent of key order', () => {
    // The hashed text is '["rbm train",{"epochs":2,"hidden":4,"seed":1},"<VERSION>"]'; node:crypto is the reference.
    const flags = { seed: 1, hidden: 4, epochs: 2 };
    const text = `["rbm train",{"epochs":2,"hidden":4,"seed":1},${JSON.stringify(VERSION)}]`;
    expect(jobId('rbm train', flags)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(jobId('rbm train', { epochs: 2, hidden: 4, seed: 1 })).toBe(jobId('rbm train', flags));
    // Golden value, from: node -e "import('./dist/sweep/spec.js').then(m => console.log(m.jobId('rbm train', {seed: 1, hidden: 4, epochs: 2}, '0.1.0')))"
    expect(jobId('rbm train', flags, '0.1.0')).toBe('785905b68130bd6d74d60fce53b432a7979cc878510bc9ee17881cee7fee2d30');
  });

  it('change with the command, any flag value, a flag type, and the version', () => {
    const f = { seed: 1, hidden: 4 };
    const ids = [jobId('rbm train', f), jobId('vae train', f), jobId('rbm train', { seed: 2, hidden: 4 }), jobId('rbm train', { seed: '1', hidden: 4 }), jobId('rbm train', f, '9.9.9'), jobId('rbm train', { seed: 1 })];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('the sweep id does not depend on job order', () => {
    const a = expandSweep(parseSweepSpec({ ...base, grid: { hidden: [4, 8], seed: [1, 2] } }));
    const b = expandSweep(parseSweepSpec({ ...base, grid: { seed: [1, 2], hidden: [4, 8] } }));
    expect(a.map((j) => j.id)).not.toEqual(b.map((j) => j.id));
    expect(sweepId(a)).toBe(sweepId(b));
  });
});

describe('parseSweepSpec errors', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown top-level key', { ...base, grids: {} }, /^s\.json: grids: unknown key/],
    ['command not allowed', { command: 'rm -rf', grid: {} }, /^s\.json: command: 'rm -rf' is not a sweep command \(allowed: rbm train, vae train, ising sample, ising rbm\)$/],
    ['command wrong type', { command: ['rbm', 'train'] }, /^s\.json: command: must be a string, got an array$/],
    ['empty grid axis', { ...base, grid: { hidden: [] } }, /^s\.json: grid\.hidden: is an empty axis/],
    ['axis not a list', { ...base, grid: { hidden: 16 } }, /^s\.json: grid\.hidden: must be a list of values, got a number$/],
    ['wrong value type', { ...base, grid: { hidden: [16, { n: 3 }] } }, /^s\.json: grid\.hidden\[1\]: must be a string, number or boolean, got an object$/],
    ['repeated value', { ...base, grid: { seed: [1, 2, 1] } }, /^s\.json: grid\.seed\[2\]: repeats the value 1$/],
    ['unequal zip lengths', { ...base, zip: { hidden: [4, 8], lr: [0.1] } }, /^s\.json: zip\.lr: has 1 values but zip\.hidden has 2/],
    ['reserved flag', { ...base, base: { out: 'x' } }, /^s\.json: base\.out: '--out' is set by the sweep runner/],
    ['bad flag name', { ...base, grid: { '--lr': [1] } }, /^s\.json: grid\.--lr: '--lr' is not a flag name/],
    ['flag in two places', { ...base, grid: { epochs: [1, 2] } }, /^s\.json: grid\.epochs: is also set in base$/],
    ['non-finite number', { ...base, base: { lr: Infinity } }, /^s\.json: base\.lr: must be a finite number/],
    ['random count', { ...base, random: { count: 0, seed: 1, axes: { lr: { uniform: [0, 1] } } } }, /^s\.json: random\.count: must be ≥ 1, got 0$/],
    ['random unknown distribution', { ...base, random: { count: 2, seed: 1, axes: { lr: { normal: [0, 1] } } } }, /^s\.json: random\.axes\.lr\.normal: unknown distribution/],
    ['log-uniform low bound', { ...base, random: { count: 2, seed: 1, axes: { lr: { 'log-uniform': [0, 1] } } } }, /^s\.json: random\.axes\.lr\.log-uniform: needs 0 < low/],
    ['random unknown key', { ...base, random: { count: 2, seed: 1, axes: { lr: { uniform: [0, 1] } }, n: 3 } }, /^s\.json: random\.n: unknown key/],
    ['not an object', [1, 2], /^s\.json: \(top level\): must be a JSON object, got an array$/],
  ];
  for (const [what, spec, re] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        parseSweepSpec(spec, 's.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      const msg = (err as Error).message;
      expect(msg).toMatch(re);
      expect(msg).not.toContain('\n');
    });
  }
});

describe('report tables', () => {
  const rows: ReportRow[] = [
    { id: 'a'.repeat(64), state: 'done', axes: { lr: 0.1, seed: 1 }, seconds: 1.5, metrics: { trainLL: -6.2, epoch: 2 }, error: null },
    { id: 'b'.repeat(64), state: 'failed', axes: { lr: 0.2, seed: 1 }, seconds: null, metrics: {}, error: 'bad "flag", really' },
  ];
  it('CSV quotes fields with commas and quotes (RFC 4180)', () => {
    expect(reportCsv(rows)).toBe(
      'id,state,lr,seed,wall_seconds,trainLL,epoch,error\n' + 'aaaaaaaaaaaa,done,0.1,1,1.5,-6.2,2,\n' + 'bbbbbbbbbbbb,failed,0.2,1,,,,"bad ""flag"", really"\n',
    );
  });
  it('Markdown has one header, one rule and one line per job', () => {
    const md = reportMarkdown(rows).trim().split('\n');
    expect(md).toHaveLength(4);
    expect(md[0]).toBe('| id | state | lr | seed | wall_seconds | trainLL | epoch | error |');
    expect(md[1]).toBe('|---|---|---|---|---|---|---|---|');
  });
});

describe('parseQueueUrl', () => {
  it('passes user, password, port, database and TLS through, and masks the password for messages', () => {
    expect(parseQueueUrl('rediss://user:p%40ss@example.org:6380/2')).toEqual({
      host: 'example.org',
      port: 6380,
      username: 'user',
      password: 'p@ss',
      db: 2,
      tls: true,
      display: 'rediss://user:***@example.org:6380/2',
    });
    expect(parseQueueUrl('redis://:secret@10.0.0.1')).toEqual({ host: '10.0.0.1', port: 6379, password: 'secret', db: 0, tls: false, display: 'redis://:***@10.0.0.1' });
  });
  it('rejects other schemes and non-numeric databases in one line', () => {
    expect(() => parseQueueUrl('http://h:1')).toThrow(/^--queue: 'http:' is not supported \(expected redis:\/\/ or rediss:\/\/\)$/);
    expect(() => parseQueueUrl('redis://h:1/x')).toThrow(/^--queue: database 'x' must be a number$/);
    expect(() => parseQueueUrl('localhost:6379')).toThrow(UsageError);
  });
});

describe('threads per job', () => {
  it('splits the cores between concurrent jobs, at least one each', () => {
    expect(threadsPerJob(2, 1)).toBe(2);
    expect(threadsPerJob(2, 2)).toBe(1);
    expect(threadsPerJob(16, 3)).toBe(5);
    expect(threadsPerJob(2, 8)).toBe(1);
  });
  it('sets GENPHYS_THREADS for the job unless the caller chose a thread count', () => {
    const base = { PATH: '/bin' };
    const env = jobEnv(base, 1);
    expect(env).toEqual({ PATH: '/bin', GENPHYS_THREADS: '1' });
    expect(base).toEqual({ PATH: '/bin' }); // the caller's environment is not changed
    expect(jobEnv({ OPENBLAS_NUM_THREADS: '4' }, 1)).toEqual({ OPENBLAS_NUM_THREADS: '4' });
    expect(jobEnv({ GENPHYS_THREADS: '3' }, 1)).toEqual({ GENPHYS_THREADS: '3' });
    expect(jobEnv(base, undefined)).toBe(base);
  });
});
