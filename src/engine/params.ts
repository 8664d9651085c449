/**
 * Named parameter sets of the tfjs networks (VAE, diffusion denoisers): the checks and
 * copies every network class needs between flat `name → Float32Array` weights (what
 * checkpoints store) and tfjs variables. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';

/** One parameter: its flat name and shape. */
export interface ParamShape {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Distinguishes tfjs variable names of networks built in one process (tfjs needs them unique). */
let serial = 0;

/**
 * Check that `weights` holds every parameter of `specs` with the right number of values.
 * @param label - the network, for the message (e.g. 'VAE')
 * @throws ShapeError naming the first missing or mis-sized tensor
 */
export function checkWeights(label: string, specs: readonly ParamShape[], weights: ReadonlyMap<string, Float32Array>): void {
  for (const s of specs) {
    const w = weights.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!w) throw new ShapeError(`${label} weights: missing tensor '${s.name}'`);
    if (w.length !== n) throw new ShapeError(`${label} weights: '${s.name}' has ${w.length} values, expected ${n} (shape ${JSON.stringify(s.shape)})`);
  }
}

/**
 * Trainable tfjs variables holding copies of `weights` (checked first, so nothing is
 * created when a tensor is wrong), in `specs` order, named `<prefix><serial>/<name>`.
 */
export function createVariables(label: string, prefix: string, specs: readonly ParamShape[], weights: ReadonlyMap<string, Float32Array>): Map<string, tf.Variable> {
  checkWeights(label, specs, weights);
  const tag = `${prefix}${++serial}`;
  const params = new Map<string, tf.Variable>();
  for (const s of specs) params.set(s.name, tf.variable(tf.tensor(Float32Array.from(weights.get(s.name)!), [...s.shape]), true, `${tag}/${s.name}`));
  return params;
}

/** Copies of the variables' current values, by flat name. */
export function readWeights(params: ReadonlyMap<string, tf.Variable>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of params) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
  return out;
}

/**
 * Overwrite every variable from `weights`; all sizes are checked before anything is assigned.
 * @throws ShapeError naming the first missing or mis-sized tensor
 */
export function assignWeights(label: string, params: ReadonlyMap<string, tf.Variable>, weights: ReadonlyMap<string, Float32Array>): void {
  for (const [name, v] of params) {
    const w = weights.get(name);
    if (!w || w.length !== v.size) throw new ShapeError(`${label} weights: '${name}' missing or wrong size`);
  }
  for (const [name, v] of params) tf.tidy(() => v.assign(tf.tensor(weights.get(name)!, v.shape)));
}

/** Free the variables. */
export function disposeVariables(params: ReadonlyMap<string, tf.Variable>): void {
  for (const v of params.values()) v.dispose();
}
