/**
 * The model registry: checkpoint kind → factory that rebuilds an empty model from its
 * stored configuration, so a checkpoint alone is enough to rebuild any model (a lattice
 * RBM with its symmetry included). Families register their kinds when their module
 * loads; there is no hard-coded list.
 */
import { CheckpointError } from '../core/errors.js';

/** Rebuilds a model of one kind from the configuration its checkpoint stores. */
export type ModelFactory<M> = (config: Readonly<Record<string, unknown>>) => M;

const families = new Map<string, Map<string, ModelFactory<unknown>>>();

/** Register `kind` in model family `family` (e.g. 'ebm'). Re-registering replaces it. */
export function registerModel<M>(family: string, kind: string, factory: ModelFactory<M>): void {
  let f = families.get(family);
  if (!f) families.set(family, (f = new Map()));
  f.set(kind, factory as ModelFactory<unknown>);
}

/** Kinds registered in `family`. */
export function registeredKinds(family: string): string[] {
  return [...(families.get(family)?.keys() ?? [])].sort();
}

/**
 * Build a model of `kind` from `config`.
 * @param source - the checkpoint file, for the error message
 * @throws CheckpointError for an unknown kind, or when the factory rejects the config
 */
export function createModel<M>(family: string, kind: string, config: Readonly<Record<string, unknown>>, source: string): M {
  const f = families.get(family)?.get(kind);
  if (!f) throw new CheckpointError(source, `unknown ${family} model kind '${kind}' (known: ${registeredKinds(family).join(', ') || 'none'})`);
  try {
    return f(config) as M;
  } catch (err) {
    throw new CheckpointError(source, `cannot rebuild a '${kind}' model from its config (${(err as Error).message.split('\n')[0]})`);
  }
}
