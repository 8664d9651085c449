/**
 * The MC vs RBM vs exact table: exact columns with no value at any temperature are left out,
 * and an RBM value more than 3 combined standard errors from Monte Carlo is marked ‡.
 */
import { describe, expect, it } from 'vitest';
import { comparisonTables, type RbmComparisonRow } from '../src/physics/rbm-pipeline.js';

const est = (value: number, error: number) => ({ value, error });
function row(T: number, rbmE: number): RbmComparisonRow {
  const mc = { energy: est(-1.5, 0.01), absMagnetisation: est(0.7, 0.01), specificHeat: est(1.1, 0.02), susceptibility: est(1.2, 0.05) };
  const rbm = { energy: est(rbmE, 0.01), absMagnetisation: est(0.7, 0.01), specificHeat: est(1.1, 0.02), susceptibility: est(1.2, 0.05) };
  return { T, mc, rbm, exact: { energy: -1.5, specificHeat: 1.1, source: 'Kaufman' }, kl: null, trainSeconds: 1, sampleSeconds: 1, params: { W: new Float32Array(0), a: new Float32Array(0), b: new Float32Array(0) } } as unknown as RbmComparisonRow;
}

describe('comparisonTables', () => {
  it('drops empty exact columns and marks > 3σ deviations', () => {
    // |Δe| = 0.05 > 3·√2·0.01 = 0.042 is marked; 0.04 < 0.042 is not.
    const { markdown } = comparisonTables([row(2.0, -1.45), row(3.0, -1.46)]);
    const header = markdown.split('\n')[0]!;
    expect(header).toContain('e exact');
    expect(header).toContain('C exact');
    expect(header).not.toContain('|m| exact');
    expect(header).not.toContain('χ exact');
    const lines = markdown.split('\n');
    expect(lines[2]).toContain('-1.450 ± 0.010 ‡');
    expect(lines[3]).not.toContain('‡');
    expect(markdown).toContain('‡ RBM − MC exceeds 3 combined standard errors.');
    expect(comparisonTables([row(3.0, -1.5)]).markdown).not.toContain('‡');
  });
});
