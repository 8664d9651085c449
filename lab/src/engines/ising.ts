/**
 * The Ising panel's engine: one Markov chain of the 2D Ising model (genphys's own
 * Metropolis, heat-bath and Wolff samplers) on plain typed arrays, with the running
 * estimates of e, |m|, C and χ (binned errors, τ_int) and the exact references at the
 * same L and T: Kaufman's finite-lattice e and C, Onsager's m₀, and full enumeration
 * (|m| and χ too) for L ≤ 4.
 */
import { Rng } from '../../../src/core/rng.js';
import { exactSquare, kaufmanSquare, onsagerMagnetisation, onsagerTc } from '../../../src/physics/exact.js';
import { isingModel, type IsingModel } from '../../../src/physics/lattice.js';
import { thermoEstimates } from '../../../src/physics/observables.js';
import { IsingChain, ISING_ALGORITHMS, type IsingAlgorithm } from '../../../src/physics/samplers.js';
import { choice, num, type Engine, type EngineFactory } from '../engine.js';
import type { Settings } from '../protocol.js';

/** The most recent measurements kept for the estimates (older ones are dropped). */
const KEEP = 1 << 16;
/** Points of the time-series charts. */
const SHOWN = 600;

/** The exact references at (L, T). */
export function isingReference(L: number, T: number): { energy: number; specificHeat: number; absMagnetisation?: number; susceptibility?: number; m0: number } {
  const k = kaufmanSquare(L, T);
  const ex = L <= 4 ? exactSquare(L, T) : null;
  return {
    energy: k.energy,
    specificHeat: k.specificHeat,
    ...(ex ? { absMagnetisation: ex.absMagnetisation!, susceptibility: ex.susceptibility! } : {}),
    m0: onsagerMagnetisation(T),
  };
}

class IsingEngine implements Engine {
  readonly backend = 'typed arrays';
  steps = 0;
  private model: IsingModel;
  private chain: IsingChain;
  private readonly rng: Rng;
  private T: number;
  private algo: IsingAlgorithm;
  private sweepsPerFrame: number;
  private burnIn: number;
  /** Sweeps since the last change of T or algorithm. */
  private sinceChange = 0;
  private e = new Float64Array(KEEP);
  private m = new Float64Array(KEEP);
  private count = 0;
  /** The whole history for the charts: sweep number, e, |m| (decimated as it grows). */
  private hist: { t: number[]; e: number[]; am: number[]; every: number; skip: number } = { t: [], e: [], am: [], every: 1, skip: 0 };

  constructor(settings: Settings) {
    const L = num(settings, 'L', 64, 2, 512);
    this.model = isingModel({ L });
    this.T = num(settings, 'T', onsagerTc(), 0.05, 20);
    this.algo = choice(settings, 'algo', ISING_ALGORITHMS, 'wolff');
    this.sweepsPerFrame = num(settings, 'sweepsPerFrame', 1, 1, 10000);
    this.burnIn = num(settings, 'burnIn', 200, 0, 1e7);
    this.rng = new Rng(num(settings, 'seed', 1, 0, 2 ** 53));
    const init = settings.start === 'cold' ? undefined : randomSpins(this.model.N, this.rng);
    this.chain = this.newChain(this.T, init);
  }

  /**
   * A chain at T from `init`. A Wolff "sweep" is a fixed number of clusters, calibrated
   * from the mean cluster size; from a state far from equilibrium (a hot start, or the last
   * temperature's spins) one calibration is far off (clusters grow as correlations build
   * up), so calibration rounds of 200 clusters are repeated until they have flipped at
   * least 10 N spins and two rounds agree within 10 %. At L = 256 this takes ≈ 1 s.
   */
  private newChain(T: number, init?: Int8Array): IsingChain {
    const chain = new IsingChain(this.model, this.algo, T, init);
    if (this.algo === 'wolff') {
      let prev = 0;
      const u0 = chain.updates;
      for (let r = 0; r < 1000; r++) {
        chain.clustersPerSweep = 0;
        chain.calibrateWolff(this.rng);
        const now = chain.clustersPerSweep;
        if (chain.updates - u0 >= 10 * this.model.N && Math.abs(now - prev) <= 0.1 * prev) break;
        prev = now;
      }
    }
    return chain;
  }

  set(s: Settings): void {
    let rebuild = false;
    if (s.T !== undefined) {
      this.T = num(s, 'T', this.T, 0.05, 20);
      rebuild = true;
    }
    if (s.algo !== undefined) {
      this.algo = choice(s, 'algo', ISING_ALGORITHMS, this.algo);
      rebuild = true;
    }
    if (s.sweepsPerFrame !== undefined) this.sweepsPerFrame = num(s, 'sweepsPerFrame', 1, 1, 10000);
    if (s.burnIn !== undefined) this.burnIn = num(s, 'burnIn', 200, 0, 1e7);
    if (rebuild) {
      // Keep the configuration: a new temperature continues from the current spins.
      this.chain = this.newChain(this.T, this.chain.spins);
      this.sinceChange = 0;
      this.count = 0;
    }
  }

  step(): void {
    const { N } = this.model;
    for (let k = 0; k < this.sweepsPerFrame; k++) {
      this.chain.sweep(this.rng, 1);
      this.steps++;
      this.sinceChange++;
      const e = this.chain.energyPerSite();
      const m = this.chain.magnetisation / N;
      if (this.sinceChange > this.burnIn) {
        if (this.count === KEEP) {
          // Drop the older half: the estimates follow the chain, at bounded cost.
          this.e.copyWithin(0, KEEP / 2);
          this.m.copyWithin(0, KEEP / 2);
          this.count = KEEP / 2;
        }
        this.e[this.count] = e;
        this.m[this.count] = m;
        this.count++;
      }
      this.record(e, Math.abs(m));
    }
  }

  private record(e: number, am: number): void {
    const h = this.hist;
    if (h.skip++ % h.every !== 0) return;
    h.t.push(this.steps);
    h.e.push(e);
    h.am.push(am);
    if (h.t.length >= 2 * SHOWN) {
      // Halve the resolution of the history.
      const keep = (a: number[]) => a.filter((_, i) => i % 2 === 0);
      h.t = keep(h.t);
      h.e = keep(h.e);
      h.am = keep(h.am);
      h.every *= 2;
      h.skip = 1;
    }
  }

  snapshot(): { data: Record<string, unknown>; transfer: Transferable[] } {
    const spins = Int8Array.from(this.chain.spins);
    const n = this.count;
    const est = n >= 64 ? thermoEstimates(this.T, this.model.N, [this.e.subarray(0, n)], [this.m.subarray(0, n)]) : null;
    const t = Float64Array.from(this.hist.t);
    const e = Float64Array.from(this.hist.e);
    const am = Float64Array.from(this.hist.am);
    return {
      data: {
        L: this.model.L,
        T: this.T,
        algo: this.algo,
        spins,
        e: this.chain.energyPerSite(),
        m: this.chain.magnetisation / this.model.N,
        measured: n,
        burnIn: Math.max(0, this.burnIn - this.sinceChange),
        estimates: est
          ? {
              energy: est.energy,
              absMagnetisation: est.absMagnetisation,
              specificHeat: est.specificHeat,
              susceptibility: est.susceptibility,
              tauE: est.tauEnergy.tau,
              tauM: est.tauAbsMagnetisation.tau,
              blockLen: est.blockLen,
              blocks: est.blocks,
            }
          : null,
        reference: isingReference(this.model.L, this.T),
        history: { t, e, am },
      },
      transfer: [spins.buffer, t.buffer, e.buffer, am.buffer],
    };
  }

  /** A temperature sweep: `points` temperatures in [Tmin, Tmax], fresh estimates at each. */
  async action(name: string, args: Record<string, unknown> | undefined): Promise<{ value: unknown }> {
    if (name !== 'sweep') throw new Error(`unknown action '${name}'`);
    const Tmin = Number(args?.Tmin ?? 1.5), Tmax = Number(args?.Tmax ?? 3.5);
    const points = Math.round(Number(args?.points ?? 11));
    const sweeps = Math.round(Number(args?.sweeps ?? 2000));
    const burn = Math.round(Number(args?.burnIn ?? 200));
    if (!(Tmin > 0 && Tmax > Tmin && points >= 2 && points <= 64 && sweeps >= 100)) throw new Error('sweep: need 0 < Tmin < Tmax, 2–64 points and ≥ 100 sweeps');
    const rows = [];
    // From hot to cold, each temperature starting from the last one's configuration.
    let spins: Int8Array | undefined = randomSpins(this.model.N, this.rng);
    for (let i = points - 1; i >= 0; i--) {
      const T = Tmin + ((Tmax - Tmin) * i) / (points - 1);
      const chain: IsingChain = this.newChain(T, spins);
      chain.sweep(this.rng, burn);
      const e = new Float64Array(sweeps);
      const m = new Float64Array(sweeps);
      for (let k = 0; k < sweeps; k++) {
        chain.sweep(this.rng, 1);
        e[k] = chain.energyPerSite();
        m[k] = chain.magnetisation / this.model.N;
      }
      const est = thermoEstimates(T, this.model.N, [e], [m]);
      rows.unshift({ T, energy: est.energy, absMagnetisation: est.absMagnetisation, specificHeat: est.specificHeat, susceptibility: est.susceptibility, tauE: est.tauEnergy.tau });
      spins = chain.spins;
    }
    return { value: { L: this.model.L, algo: this.algo, sweeps, rows } };
  }
}

function randomSpins(N: number, rng: Rng): Int8Array {
  const s = new Int8Array(N);
  for (let i = 0; i < N; i++) s[i] = rng.uniform() < 0.5 ? -1 : 1;
  return s;
}

/** Build the Ising engine. */
export const create: EngineFactory = async (settings) => new IsingEngine(settings);
