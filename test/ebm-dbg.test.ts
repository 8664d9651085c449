import { it } from 'vitest';
import { Rng } from '../src/core/rng.js';
import { exactLogZ, fillConfigurations, GaussianBernoulliRBM, Trainer, gibbsSample, standardize } from '../src/ebm/index.js';
function stats(x: Float32Array) { const n = x.length/2; let m0=0,m1=0; for (let r=0;r<n;r++){m0+=x[2*r]!;m1+=x[2*r+1]!;} m0/=n;m1/=n; let c00=0,c01=0,c11=0; for(let r=0;r<n;r++){const a=x[2*r]!-m0,b=x[2*r+1]!-m1;c00+=a*a;c01+=a*b;c11+=b*b;} let left=0; for (let r=0;r<n;r++) if (x[2*r]!<0) left++; return [m0,m1,c00/n,c01/n,c11/n,left/n].map(v=>v.toFixed(3)).join(' '); }
function exactMoments(m: GaussianBernoulliRBM) {
  const nh = m.nHidden; const H = new Float64Array(2**nh*nh); fillConfigurations(0, 2**nh, nh, [0,1], H);
  const G = m.freeEnergyHiddens(H); const lz = exactLogZ(m); let m0=0,m1=0,s00=0,s01=0,s11=0,left=0;
  const W = m.params.W!, a = m.params.a!;
  for (let c=0;c<2**nh;c++){ const p=Math.exp(-G[c]!-lz); let u0=a[0]!,u1=a[1]!; for(let j=0;j<nh;j++){u0+=W[j]!*H[c*nh+j]!;u1+=W[nh+j]!*H[c*nh+j]!;} m0+=p*u0;m1+=p*u1;s00+=p*u0*u0;s01+=p*u0*u1;s11+=p*u1*u1; }
  const v0=Math.exp(m.params.logSigma2![0]!), v1=Math.exp(m.params.logSigma2![1]!);
  return [m0,m1,s00+v0-m0*m0,s01-m0*m1,s11+v1-m1*m1].map(v=>v.toFixed(3)).join(' ');
}
it('dbg', async () => {
  const rng = new Rng(1);
  const n = 4000; const raw = new Float32Array(2*n);
  for (let r=0;r<n;r++){ const c = rng.uniform()<0.4; const z1=rng.normal(), z2=rng.normal(); if (c){raw[2*r]=-2+0.5*z1; raw[2*r+1]=-1+0.3*z1+0.4*z2;} else {raw[2*r]=2+0.6*z1; raw[2*r+1]=1.5-0.3*z1+0.3*z2;} }
  const st = standardize(raw, 2);
  console.log('data', stats(st.data));
  for (const [nh, ep, opt, lr, mom, vs, method] of [[8, 400, 'sgd', 0.01, 0, 0.1, 'pt'],[8, 400, 'sgd', 0.01, 0.9, 0.1, 'pt']] as const) {
    const t0=performance.now();
    const m = new GaussianBernoulliRBM({ nVisible: 2, nHidden: nh }, new Rng(2));
    const tr = new Trainer(m, { optimizer: opt, learningRate: lr, momentum: mom, varianceLrScale: vs, method, ptReplicas: 5 }, new Rng(3));
    await tr.fit(st.data, { epochs: ep, onEpoch: (i) => { if (i.epoch % 50 === 0) console.log('  ', i.epoch, exactMoments(m), Array.from(m.params.logSigma2!).map(v=>Math.exp(v/2).toFixed(3)).join(',')); } });
    const s = gibbsSample(m, new Rng(4), { chains: 4000, burnIn: 1000 });
    console.log(nh, ep, opt, lr, mom, vs, method, stats(s.samples), exactMoments(m), Array.from(m.params.logSigma2!).map(v=>Math.exp(v/2).toFixed(3)).join(','), ((performance.now()-t0)/1000).toFixed(1));
  }
});
