/**
 * Every setting lives in the URL's hash (`#panel=ising&L=64&T=2.269`), so a link
 * reproduces a lab session, as TensorFlow Playground's links do.
 */
import type { Settings } from './protocol.js';

/** The panel and its settings, read from a hash. Numbers and booleans come back typed. */
export function readHash(hash: string): { panel: string | null; settings: Settings } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const settings: Settings = {};
  let panel: string | null = null;
  for (const [k, v] of params) {
    if (k === 'panel') panel = v;
    else settings[k] = v === 'true' ? true : v === 'false' ? false : v !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return { panel, settings };
}

/** The hash for a panel and its settings (keys in the given order). */
export function writeHash(panel: string, settings: Settings): string {
  const params = new URLSearchParams();
  params.set('panel', panel);
  for (const [k, v] of Object.entries(settings)) params.set(k, String(v));
  return `#${params.toString()}`;
}
