import { it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { kaufmanSquare, exactLogProbabilities, configIndex } from '../src/physics/exact.js';
import { simulate } from '../src/physics/simulate.js';
import { isingModel } from '../src/physics/lattice.js';
import { chiSquareTest } from '../src/physics/observables.js';
it('x', async () => {
  for (const algorithm of ['metropolis', 'wolff'] as const) for (const T of [2.0, 2.269, 3.0]) {
        const r = await simulate(T, { L: 16, algorithm, chains: 4, burnIn: 1000, sweeps: 20_000 }, new Rng(2024), { workers: 2 });
        const k = kaufmanSquare(16, T); const th = r.thermo;
        console.log(algorithm, T, ((th.energy.value-k.energy)/th.energy.error).toFixed(2), ((th.specificHeat.value-k.specificHeat)/th.specificHeat.error).toFixed(2), th.blocks);
  }
  for (const c of [{ algorithm: 'metropolis', T: 2.0, h: 0 },{ algorithm: 'heatbath', T: 2.0, h: 0 },{ algorithm: 'metropolis', T: 3.0, h: 0.3 },{ algorithm: 'heatbath', T: 3.0, h: 0.3 }] as const) {
      const model = isingModel({ L: 3, h: c.h });
      const r = await simulate(c.T, { L: 3, h: c.h, algorithm: c.algorithm, chains: 4, burnIn: 100, sweeps: 100_000, sampleEvery: 10 }, new Rng(11), { workers: 0 });
      const counts = new Float64Array(512);
      for (let k = 0; k < r.nSamples; k++) counts[configIndex(r.samples, k * 9, 9)]!++;
      const probs = exactLogProbabilities(model, c.T).map(Math.exp);
      const wrong = exactLogProbabilities(model, c.T+0.3).map(Math.exp);
      console.log(c, chiSquareTest(counts, probs), chiSquareTest(counts, wrong).pValue, r.thermo.tauAbsMagnetisation.tau);
  }
});
