/**
 * Special functions and goodness-of-fit tests shared by the samplers of every
 * model family (RBM samplers, Ising samplers) and their tests.
 */

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~1e-15 relative). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(s, x) = Γ(s, x)/Γ(s) (series or continued fraction; Numerical Recipes §6.2). */
export function gammaQ(s: number, x: number): number {
  if (x <= 0) return 1;
  const lg = logGamma(s);
  if (x < s + 1) {
    let sum = 1 / s;
    let term = sum;
    for (let n = 1; n < 10000; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return 1 - sum * Math.exp(-x + s * Math.log(x) - lg);
  }
  let b = x + 1 - s;
  let c = 1 / 1e-300;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (Math.abs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return Math.exp(-x + s * Math.log(x) - lg) * h;
}

/** Result of {@link chiSquareTest}. */
export interface ChiSquareResult {
  /** Pearson's statistic Σ (O − E)²/E over the kept cells. */
  readonly statistic: number;
  /** Degrees of freedom (kept cells − 1). */
  readonly dof: number;
  /** P(χ²_dof ≥ statistic). */
  readonly pValue: number;
}

/**
 * Pearson chi-square goodness of fit of observed counts to expected
 * probabilities. Cells with expected count below `minExpected` (default 5) are
 * pooled into one cell so the χ² approximation holds.
 */
export function chiSquareTest(counts: ArrayLike<number>, probs: ArrayLike<number>, minExpected: number = 5): ChiSquareResult {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  let stat = 0;
  let cells = 0;
  let poolO = 0;
  let poolE = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = n * probs[i]!;
    if (e < minExpected) {
      poolO += counts[i]!;
      poolE += e;
    } else {
      stat += (counts[i]! - e) ** 2 / e;
      cells++;
    }
  }
  if (poolE > 0) {
    stat += (poolO - poolE) ** 2 / poolE;
    cells++;
  }
  const dof = Math.max(1, cells - 1);
  return { statistic: stat, dof, pValue: gammaQ(dof / 2, stat / 2) };
}
