/**
 * One data-spec vocabulary for every command that takes data (`--data`):
 *
 *   fashion-mnist | mnist            image sets (IDX files; `--data-dir` overrides where)
 *   bars-and-stripes:N               the 2^(N+1) − 2 bars-and-stripes patterns of an N×N grid
 *   spins:FILE                       spin configurations: a text file (0/1 or ±1) or an .npy
 *   ising:DIR[:T]                    an `ising sample` dataset (all temperatures, or the one at T)
 *   toy:NAME[:N]                     a 2D toy (ring8, grid25, swissroll, moons, ring, line)
 *
 * Browser-safe (no node imports): parsing only.
 */
import { UsageError } from '../core/errors.js';

/** A parsed data spec. */
export type DataSpec =
  | { readonly kind: 'fashion-mnist' | 'mnist'; readonly spec: string }
  | { readonly kind: 'bars-and-stripes'; readonly spec: string; readonly n: number }
  | { readonly kind: 'spins'; readonly spec: string; readonly file: string }
  | { readonly kind: 'ising'; readonly spec: string; readonly dir: string; readonly T: number | null }
  | { readonly kind: 'toy'; readonly spec: string };

/** The forms, for messages and help texts. */
export const DATA_SPEC_FORMS = 'fashion-mnist | mnist | bars-and-stripes:N | spins:FILE | ising:DIR[:T] | toy:NAME[:N]';

/**
 * Parse a data spec.
 * @param flag - the flag it came from, for messages (default '--data')
 * @param allowed - kinds the command accepts (default: all)
 * @throws UsageError naming the flag, the spec and the forms accepted
 */
export function parseDataSpec(spec: string, flag = '--data', allowed?: readonly DataSpec['kind'][]): DataSpec {
  const s = spec.trim();
  let out: DataSpec | null = null;
  if (s === 'fashion-mnist' || s === 'mnist') out = { kind: s, spec: s };
  else if (s.startsWith('bars-and-stripes:')) {
    const n = Number(s.slice('bars-and-stripes:'.length));
    if (!Number.isInteger(n) || n < 2 || n > 6) throw new UsageError(`${flag} ${spec}: bars-and-stripes size must be an integer 2 … 6`);
    out = { kind: 'bars-and-stripes', spec: s, n };
  } else if (s.startsWith('spins:')) {
    const file = s.slice('spins:'.length);
    if (file === '') throw new UsageError(`${flag} ${spec}: give the file, spins:FILE`);
    out = { kind: 'spins', spec: s, file };
  } else if (s.startsWith('ising:')) {
    const rest = s.slice('ising:'.length);
    // ising:DIR or ising:DIR:T — a trailing ':<number>' is the temperature.
    const m = /^(.*):([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)$/i.exec(rest);
    const dir = m ? m[1]! : rest;
    if (dir === '') throw new UsageError(`${flag} ${spec}: give the dataset directory, ising:DIR[:T]`);
    const T = m ? Number(m[2]) : null;
    if (T !== null && !(T > 0)) throw new UsageError(`${flag} ${spec}: the temperature must be > 0`);
    out = { kind: 'ising', spec: s, dir, T };
  } else if (s.startsWith('toy:')) out = { kind: 'toy', spec: s };
  if (!out) throw new UsageError(`${flag} '${spec}': expected ${DATA_SPEC_FORMS}`);
  if (allowed && !allowed.includes(out.kind)) throw new UsageError(`${flag} ${spec}: this command takes ${allowed.join(', ')} data, not ${out.kind}`);
  return out;
}
