import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { NoiseSchedule, cosineAlphaBar } from '../src/diffusion/schedule.js';

/** Expect `f` to throw a UsageError whose one-line message matches `re`. */
function expectUsageError(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  const msg = (err as Error).message;
  expect(msg).toMatch(re);
  expect(msg).not.toContain('\n');
}

describe('linear schedule', () => {
  it('runs from 1e-4 to 0.02 at T = 1000 and scales both ends by 1000/T otherwise', () => {
    const s = NoiseSchedule.linear(1000);
    expect(s.beta[0]).toBe(0);
    expect(s.beta[1]).toBeAllClose(1e-4, { rtol: 1e-12 });
    expect(s.beta[1000]).toBeAllClose(0.02, { rtol: 1e-12 });
    const s300 = NoiseSchedule.linear(300);
    expect(s300.beta[1]).toBeAllClose(1e-4 * (1000 / 300), { rtol: 1e-12 });
    expect(s300.beta[300]).toBeAllClose(0.02 * (1000 / 300), { rtol: 1e-12 });
    // Evenly spaced: constant second difference 0.
    for (let t = 2; t < 300; t++) expect(s300.beta[t + 1]! - 2 * s300.beta[t]! + s300.beta[t - 1]!).toBeAllClose(0, { atol: 1e-15 });
  });

  it('unscaled at T = 300 leaves √ᾱ_T ≈ 0.22 of the signal; scaled, x_T is noise', () => {
    // numpy: np.sqrt(np.prod(1 - np.linspace(1e-4, 0.02, 300))) = 0.21922232765914615
    expect(NoiseSchedule.linear(300, { scale: false }).sqrtAlphaBarT).toBeAllClose(0.21922232765914615, { rtol: 1e-9 });
    // scaled: np.sqrt(np.prod(1 - np.linspace(1e-4, 0.02, 300) * 1000 / 300)) = 0.005853329319775601
    expect(NoiseSchedule.linear(300).sqrtAlphaBarT).toBeAllClose(0.005853329319775601, { rtol: 1e-9 });
    // T = 1000 is the same with or without scaling (Ho et al.: √ᾱ_T = 0.00635).
    expect(NoiseSchedule.linear(1000).sqrtAlphaBarT).toBeAllClose(0.006352818087570016, { rtol: 1e-9 });
    expect(NoiseSchedule.linear(1000, { scale: false }).sqrtAlphaBarT).toBe(NoiseSchedule.linear(1000).sqrtAlphaBarT);
  });
});

describe('schedule identities', () => {
  const schedules = [NoiseSchedule.linear(1000), NoiseSchedule.linear(37), NoiseSchedule.cosine(1000), NoiseSchedule.cosine(50)];

  it.each(schedules.map((s) => [`${s.config!.kind} T=${s.T}`, s] as const))('%s: ᾱ_t = Π α_s, α = 1 − β, β̃_t = (1 − ᾱ_{t−1})/(1 − ᾱ_t) β_t', (_n, s) => {
    expect(s.beta.length).toBe(s.T + 1);
    expect(s.alphaBar[0]).toBe(1);
    let prod = 1;
    for (let t = 1; t <= s.T; t++) {
      expect(s.alpha[t]).toBe(1 - s.beta[t]!);
      prod *= s.alpha[t]!;
      expect(s.alphaBar[t]).toBeAllClose(prod, { rtol: 1e-13 });
      expect(s.sqrtAlphaBar[t]! ** 2 + s.sqrtOneMinusAlphaBar[t]! ** 2).toBeAllClose(1, { rtol: 1e-14 });
      const post = ((1 - s.alphaBar[t - 1]!) / (1 - s.alphaBar[t]!)) * s.beta[t]!;
      expect(s.posteriorVariance[t]).toBeAllClose(post, { rtol: 1e-13 });
      // 0 ≤ β̃_t ≤ β_t, with β̃_1 = 0 (the last step is deterministic).
      expect(s.posteriorVariance[t]!).toBeLessThanOrEqual(s.beta[t]!);
    }
    expect(s.posteriorVariance[1]).toBe(0);
    expect(s.sqrtAlphaBarT).toBe(s.sqrtAlphaBar[s.T]);
  });

  it('cosine ᾱ_t follows cos²(π/2 (t/T + s)/(1 + s)) / cos²(π/2 s/(1 + s)) up to the clipped last step', () => {
    const T = 1000;
    const s = NoiseSchedule.cosine(T);
    const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T; t++) {
      expect(s.alphaBar[t]).toBeAllClose(f(t) / f(0), { rtol: 1e-10 });
      expect(cosineAlphaBar(t, T)).toBeAllClose(f(t) / f(0), { rtol: 1e-14 });
    }
    // f(T) = 0 would make β_T = 1; it is clipped to 0.999 (Nichol & Dhariwal 2021).
    expect(s.beta[T]).toBe(0.999);
    expect(s.alphaBar[T]).toBeAllClose(s.alphaBar[T - 1]! * 0.001, { rtol: 1e-13 });
    for (let t = 1; t < T; t++) expect(s.beta[t]!).toBeLessThan(0.999);
    expect(s.sqrtAlphaBarT).toBeLessThan(0.01);
  });

  it('fromBetas copies its input and create() rebuilds from the config', () => {
    const b = [0.1, 0.2, 0.3];
    const s = NoiseSchedule.fromBetas(b);
    b[0] = 0.9;
    expect(s.beta).toEqual([0, 0.1, 0.2, 0.3]);
    expect(s.alphaBar[3]).toBeAllClose(0.9 * 0.8 * 0.7, { rtol: 1e-15 });
    const c = NoiseSchedule.cosine(123, { s: 0.01 });
    expect(NoiseSchedule.create(c.config!).alphaBar).toEqual(c.alphaBar);
    expect(Object.isFrozen(s.alphaBar)).toBe(true);
  });
});

describe('schedule bad inputs', () => {
  it('T < 1 or non-integer T is a one-line error naming T', () => {
    for (const T of [0, -3, 2.5, NaN, Infinity]) {
      expectUsageError(() => NoiseSchedule.linear(T), /noise schedule: T must be an integer ≥ 1, got/);
      expectUsageError(() => NoiseSchedule.cosine(T), /noise schedule: T must be an integer ≥ 1, got/);
    }
  });

  it('a scaled linear schedule whose β reaches 1 is refused; β outside (0, 1) is refused', () => {
    expectUsageError(() => NoiseSchedule.linear(20), /β_20 = 1 is outside \(0, 1\).*scale: false/);
    expect(NoiseSchedule.linear(21).beta[21]!).toBeLessThan(1);
    expectUsageError(() => NoiseSchedule.fromBetas([0.1, 0]), /β_2 = 0 is outside/);
    expectUsageError(() => NoiseSchedule.fromBetas([]), /at least one/);
    expectUsageError(() => NoiseSchedule.cosine(10, { maxBeta: 1 }), /maxBeta must be in \(0, 1\)/);
    expectUsageError(() => NoiseSchedule.create({ kind: 'quadratic', T: 10 } as never), /unknown kind 'quadratic'/);
  });
});
