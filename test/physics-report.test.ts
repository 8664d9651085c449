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

describe('the terminal tables', () => {
  it('fit 100 columns, in value(error) notation, with the same marks and no empty exact columns', async () => {
    const { formatConcise } = await import('../src/physics/report.js');
    expect(formatConcise({ value: -1.95124, error: 0.00045 })).toBe('-1.95124(45)');
    expect(formatConcise({ value: 0.896, error: 0.011 })).toBe('0.896(11)');
    expect(formatConcise({ value: 12.3, error: 2.5 })).toBe('12.3(25)');
    const withExactRbm = (T: number, e: number) => ({ ...row(T, e), rbmExact: { energy: e, absMagnetisation: 0.7, specificHeat: 1.1, susceptibility: 1.2, source: 'enumeration' }, exact: { energy: -1.5, absMagnetisation: 0.7, specificHeat: 1.1, susceptibility: 1.2, source: 'enumeration' }, kl: 0.0123 }) as unknown as RbmComparisonRow;
    for (const rows of [[row(2.0, -1.45), row(3.0, -1.46)], [withExactRbm(2.0, -1.45), withExactRbm(2.269, -1.5)]]) {
      const t = comparisonTables(rows).terminal;
      for (const line of t.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
      expect(t).toContain('-1.450(10) ‡');
      expect(t).toContain('‡ RBM − MC exceeds 3 combined standard errors.');
    }
    const plain = comparisonTables([row(2.0, -1.45)]).terminal;
    expect(plain).not.toContain('|m| exact');
    expect(plain).not.toContain('χ exact');
    // Enumeration (L ≤ 4): every exact column, the RBM's own exact values and the KL.
    const full = comparisonTables([withExactRbm(2.0, -1.45)]).terminal;
    for (const h of ['|m| exact', 'χ exact', 'e RBM exact', 'KL (nats)']) expect(full).toContain(h);
  });
});
