import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../src/core/errors.js';
import { facetLinePlotSvg, linePlotSvg, scatterPlotSvg, writeSvg } from '../src/viz/plot.js';

/** Count SVG elements whose aria-roledescription is `role` (one per drawn datum). */
function count(svg: string, role: string): number {
  return svg.split(`aria-roledescription="${role}"`).length - 1;
}

/** All `<text>` contents in the SVG. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

/** The translate(x,y) of each element with the given role, rounded to 0.01 px. */
function positions(svg: string, role: string): [number, number][] {
  const re = new RegExp(`aria-roledescription="${role}"[^>]*transform="translate\\(([-\\d.e]+),([-\\d.e]+)\\)"`, 'g');
  return [...svg.matchAll(re)].map((m) => [Math.round(Number(m[1]) * 100) / 100, Math.round(Number(m[2]) * 100) / 100]);
}

const dir = mkdtempSync(join(tmpdir(), 'genphys-viz-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('linePlotSvg', () => {
  it('draws every series, point, error bar, reference line, title and axis label', async () => {
    const svg = await linePlotSvg({
      title: 'Energy per spin',
      xLabel: 'temperature T',
      yLabel: 'energy E/N',
      series: [
        { name: 'exact', x: [1, 2, 3], y: [1, 2, 3] },
        { name: 'RBM', x: [1, 2], y: [1.5, 2.5], yErr: [0.1, 0.2] },
      ],
      vlines: [{ x: 2.269, label: 'T_c' }],
      width: 480,
      height: 300,
    });
    expect(svg.startsWith('<svg')).toBe(true);
    const t = texts(svg);
    for (const s of ['Energy per spin', 'temperature T', 'energy E/N', 'exact', 'RBM', 'T_c']) expect(t).toContain(s);
    expect(count(svg, 'line mark')).toBe(2); // one path per series
    expect(count(svg, 'point')).toBe(5);
    expect(count(svg, 'rule mark')).toBe(2 + 1); // two error bars, one T_c line
    expect(svg).toMatch(/aria-label="T: 1; E: 1\.4; hi: 1\.6; series: RBM"|hi: 1\.6/);
    expect(svg).toContain('stroke-dasharray="4,3"');
    // x domain [1, 3] onto 0..480, y domain [1, 3] onto 300..0 (zero: false)
    expect(positions(svg, 'point')).toEqual([
      [0, 300],
      [240, 150],
      [480, 0],
      [0, 225],
      [240, 75],
    ]);
  });

  it('logY leaves out non-positive values and spaces decades evenly', async () => {
    const svg = await linePlotSvg({
      xLabel: 'x',
      yLabel: 'y',
      logY: true,
      series: [{ name: 'decay', x: [0, 1, 2, 3], y: [1, 10, 100, 0] }],
      width: 200,
      height: 200,
    });
    expect(count(svg, 'point')).toBe(3);
    const ys = positions(svg, 'point').map((p) => p[1]);
    expect(ys[0]! - ys[1]!).toBeCloseTo(ys[1]! - ys[2]!, 6);
    expect(ys[0]).toBeGreaterThan(ys[2]!);
  });

  it('rejects mismatched lengths and duplicate names with a ShapeError', async () => {
    await expect(linePlotSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', x: [1, 2], y: [1] }] })).rejects.toThrow(
      ShapeError,
    );
    await expect(
      linePlotSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 'a', x: [1], y: [1], yErr: [1, 2] }] }),
    ).rejects.toThrow(/yErr/);
    await expect(
      linePlotSvg({
        xLabel: 'x',
        yLabel: 'y',
        series: [
          { name: 'a', x: [1], y: [1] },
          { name: 'a', x: [1], y: [2] },
        ],
      }),
    ).rejects.toThrow(/used twice/);
  });
});

describe('scatterPlotSvg', () => {
  const points = Array.from({ length: 30 }, (_, i) => ({ x: i, y: (i * 7) % 11, group: `class ${i % 3}` }));

  it('draws one circle per point and a legend entry per category', async () => {
    const svg = await scatterPlotSvg({ title: 'latent space', xLabel: 'z1', yLabel: 'z2', points, colorLabel: 'digit' });
    expect(count(svg, 'circle')).toBe(30);
    const t = texts(svg);
    for (const s of ['latent space', 'z1', 'z2', 'digit', 'class 0', 'class 1', 'class 2']) expect(t).toContain(s);
    const fills = [...svg.matchAll(/aria-roledescription="circle"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(fills.length).toBe(30);
    expect(new Set(fills).size).toBe(3);
    expect(fills[0]).toBe(fills[3]); // same class, same colour
  });

  it('continuous colour gives a gradient legend', async () => {
    const svg = await scatterPlotSvg({
      xLabel: 'z1',
      yLabel: 'z2',
      points: points.map((p, i) => ({ x: p.x, y: p.y, group: 1.5 + i / 10 })),
      colorLabel: 'T',
      continuousColor: true,
    });
    expect(count(svg, 'circle')).toBe(30);
    expect(svg).toContain('<linearGradient');
    expect(texts(svg)).toContain('T');
  });
});

describe('facetLinePlotSvg', () => {
  it('makes a 2×2 panel figure with a T_c line in each panel', async () => {
    const T = [1.5, 2, 2.5, 3];
    const panel = (yLabel: string, f: (t: number) => number) => ({
      yLabel,
      series: [
        { name: 'MC', x: T, y: T.map(f), yErr: T.map(() => 0.01) },
        { name: 'RBM', x: T, y: T.map((t) => f(t) * 1.02) },
      ],
    });
    const svg = await facetLinePlotSvg({
      title: 'Ising L=16',
      xLabel: 'temperature T',
      panels: [
        panel('energy E', (t) => -2 + t / 2),
        panel('magnetisation |M|', (t) => 1 / t),
        panel('specific heat C', (t) => Math.exp(-((t - 2.27) ** 2))),
        panel('susceptibility χ', (t) => 1 + t),
      ],
      vlines: [{ x: 2.269, label: 'T_c' }],
    });
    const t = texts(svg);
    for (const s of ['Ising L=16', 'energy E', 'magnetisation |M|', 'specific heat C', 'susceptibility χ', 'MC', 'RBM']) {
      expect(t).toContain(s);
    }
    expect(t.filter((s) => s === 'temperature T').length).toBe(4);
    expect(t.filter((s) => s === 'T_c').length).toBe(4);
    expect(count(svg, 'line mark')).toBe(8);
    expect(count(svg, 'point')).toBe(32);
    expect(count(svg, 'rule mark')).toBe(4 * 4 + 4); // error bars + T_c lines
    // 2×2 layout: panel k's group is translated to (column offset, row offset).
    const offsets = [...svg.matchAll(/concat_(\d)_group"[^>]*><g transform="translate\(([\d.]+),([\d.]+)\)"/g)].map(
      (m) => [Number(m[1]), Number(m[2]), Number(m[3])],
    );
    expect(offsets.map((o) => o[0])).toEqual([0, 1, 2, 3]);
    const [p0, p1, p2, p3] = offsets as [number[], number[], number[], number[]];
    expect([p0[1], p0[2]]).toEqual([0, 0]);
    expect(p1[1]).toBeGreaterThan(300); // right of a 300-px panel
    expect(p1[2]).toBe(0);
    expect([p2[1], p2[2]]).toEqual([0, p3[2]]);
    expect(p2[2]).toBeGreaterThan(220); // below a 220-px panel
    expect(p3[1]).toBe(p1[1]);
  });

  it('shares one x scale and one colour per series across panels', async () => {
    const svg = await facetLinePlotSvg({
      xLabel: 'T',
      panels: [
        { yLabel: 'A', series: [{ name: 'a', x: [1, 2], y: [1, 2] }] },
        { yLabel: 'B', series: [{ name: 'b', x: [1, 3], y: [1, 2] }, { name: 'a', x: [1, 3], y: [2, 1] }] },
      ],
      width: 300,
    });
    // x domain [1, 3] in both panels: x = 2 sits mid-panel at 150 px
    expect(positions(svg, 'point').map((p) => p[0])).toEqual([0, 150, 0, 300, 0, 300]);
    const strokes = [...svg.matchAll(/aria-roledescription="line mark"[^>]*stroke="([^"]*)"/g)].map((m) => m[1]);
    expect(strokes.length).toBe(3);
    expect(strokes[0]).toBe(strokes[2]); // 'a' has the same colour in both panels
    expect(strokes[1]).not.toBe(strokes[0]);
  });

  it('rejects an empty panel list', async () => {
    await expect(facetLinePlotSvg({ xLabel: 'T', panels: [] })).rejects.toThrow(ShapeError);
  });
});

it('writeSvg writes atomically', async () => {
  const svg = await linePlotSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 's', x: [0, 1], y: [0, 1] }] });
  const p = join(dir, 'sub', 'plot.svg');
  writeSvg(p, svg);
  expect(readFileSync(p, 'utf8')).toBe(svg);
  expect(readdirSync(join(dir, 'sub'))).toEqual(['plot.svg']);
});

describe('plots that explain themselves', () => {
  it('legend entries are never truncated; a reference curve is dashed and unmarked; error bars have caps', async () => {
    const { linePlotSpec } = await import('../src/viz/plot.js');
    const name = 'exact (Kaufman, L=8), a long legend entry that used to be cut off';
    const spec = linePlotSpec({
      xLabel: 'T',
      yLabel: 'e',
      series: [
        { name: 'Monte Carlo', x: [1, 2, 3], y: [1, 2, 3], yErr: [0.1, 0.1, 0.1] },
        { name, x: [1, 1.5, 2, 2.5, 3], y: [1, 1.5, 2, 2.5, 3], style: 'curve' },
      ],
    }) as unknown as { config: { legend: { labelLimit: number } }; layer: { mark: { type: string; strokeDash?: number[] }; data: { values: { series: string }[] } }[] };
    expect(spec.config.legend.labelLimit).toBe(0);
    const of = (type: string) => spec.layer.filter((l) => l.mark.type === type);
    const dashed = of('line').filter((l) => l.mark.strokeDash);
    expect(dashed).toHaveLength(1);
    expect(new Set(dashed[0]!.data.values.map((v) => v.series))).toEqual(new Set([name]));
    expect(of('point').flatMap((l) => l.data.values.map((v) => v.series)).every((s) => s === 'Monte Carlo')).toBe(true);
    expect(of('tick')).toHaveLength(2);
    const svg = await linePlotSvg({ xLabel: 'T', yLabel: 'e', series: [{ name, x: [1, 2], y: [1, 2], style: 'curve' }] });
    expect(texts(svg)).toContain(name);
  });

  it('the Ising comparison draws Kaufman as a dense curve over the sampled range, in units of J', async () => {
    const { comparisonPanels } = await import('../src/physics/rbm-pipeline.js');
    const { kaufmanSquare } = await import('../src/physics/exact.js');
    const est = (value: number) => ({ value, error: 0.01 });
    const row = (T: number) => ({ T, mc: { energy: est(-1), absMagnetisation: est(0.5), specificHeat: est(1), susceptibility: est(1) }, rbm: { energy: est(-1), absMagnetisation: est(0.5), specificHeat: est(1), susceptibility: est(1) }, exact: { energy: -1, specificHeat: 1, source: 'Kaufman' } });
    const panels = comparisonPanels([row(1.5), row(2.5), row(3.5)] as never, 8);
    expect(panels.map((p) => p.yLabel)).toEqual(['e  [J]', '⟨|m|⟩', 'C  [k_B]', 'χ  [1/J]']);
    const e = panels[0]!.series.find((s) => s.name === 'exact (Kaufman, L=8)')!;
    expect(e.style).toBe('curve');
    expect(e.x).toHaveLength(121);
    expect(e.x[0]).toBe(1.5);
    expect(e.x.at(-1)).toBe(3.5);
    for (const i of [0, 37, 60, 120]) expect(e.y[i]).toBeCloseTo(kaufmanSquare(8, e.x[i]!).energy, 12);
    // No exact |m| or χ at L = 8; Onsager's m₀ is the context there.
    expect(panels[1]!.series.map((s) => s.name)).toEqual(['Monte Carlo', 'RBM', 'Onsager m₀ (L=∞)']);
    expect(panels[3]!.series.map((s) => s.name)).toEqual(['Monte Carlo', 'RBM']);
  });
});
