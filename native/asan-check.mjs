// Exercises every addon entry point on odd shapes under AddressSanitizer (see native/README.md):
//   g++ -shared -fPIC -O1 -g -fsanitize=address -std=c++17 -fexceptions -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS \
//     -I/usr/include/node -Inode_modules/node-addon-api -I/usr/include/x86_64-linux-gnu/openblas-pthread \
//     -fopenmp [-DGP_DNNL] native/genphys_native.cc native/compute.cc native/conv-dnnl.cc -o /tmp/asan/genphys_native.node -lopenblas [-ldnnl]
// (with -DGP_DNNL … -ldnnl the convolutions run once on oneDNN and once on im2col)
//   ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD=$(gcc -print-file-name=libasan.so) node native/asan-check.mjs [addon path]
import { createRequire } from 'node:module';
const a = createRequire(import.meta.url)(process.argv[2] ?? '/tmp/asan/genphys_native.node');
let seed = 1; const r = (n) => { const x = new Float32Array(n); for (let i=0;i<n;i++){ seed = (seed*1103515245+12345)>>>0; x[i] = seed/2**32-0.5; } return x; };
const st = new Uint32Array([1,2,3,4]);
let count = 0;
for (const [M,N,K] of [[1,1,1],[3,5,7],[17,1,9],[1,13,2],[33,65,129]]) for (const ta of [false,true]) for (const tb of [false,true]) { a.gemm(ta,tb,M,N,K,1,r(M*K),r(K*N),0.5,r(M*N)); count++; }
for (const [rows,nIn,nOut] of [[1,1,1],[3,5,7],[9,33,17]]) for (const tw of [false,true]) for (const kind of [0,1]) { a.unitLayer(kind, r(rows*nIn), r(nIn*nOut), r(nOut), rows, nIn, nOut, tw, new Float32Array(rows*nOut), new Float32Array(rows*nOut), st, 1); count++; }
for (const [rows,nV,nH] of [[1,1,1],[5,7,3],[9,33,17]]) { a.cdUpdate(r(nV*nH), r(nV), r(nH), r(rows*nV), r(rows*nH), r(rows*nV), r(rows*nH), rows, nV, nH, 0.1); count++; }
const geoms = [[1,5,3,1,3,2,1,2,1,1,1,1,0,3,2],[2,7,6,3,3,3,5,2,2,1,1,1,1,4,3],[3,4,9,2,2,5,3,1,2,2,1,0,2,2,5],[1,1,1,1,1,1,1,1,1,1,1,0,0,1,1],[2,6,5,3,3,3,4,1,1,1,1,1,1,6,5],[1,8,8,2,1,1,3,1,1,1,1,0,0,8,8]];
for (const dnnl of [true, false]) { a.useDnnl(dnnl); for (const g of geoms) { const [n,h,w,c,fh,fw,oc,,,,,,,oh,ow] = g; const nx=n*h*w*c, nf=fh*fw*c*oc, ny=n*oh*ow*oc;
  a.conv2d(r(nx), r(nf), new Float32Array(ny), g); a.conv2dBackpropInput(r(ny), r(nf), new Float32Array(nx), g); a.conv2dBackpropFilter(r(nx), r(ny), new Float32Array(nf), g); count += 3; } }
a.useDnnl(true);
// Lengths past the OpenMP split (2^20) too, so the chunked paths run.
for (const len of [37, (1 << 20) + 37]) {
  for (let op=0; op<=17; op++) { a.unary(op, r(len), new Float32Array(len), 0.2); count++; }
  for (let op=0; op<=7; op++) for (const [na,nb,n] of [[len,len,len],[len,1,len],[1,len,len]]) { a.binary(op, r(na), r(nb), new Float32Array(n)); count++; }
  a.greater(r(len), r(1), new Uint8Array(len)); a.greater(r(len), r(len), new Uint8Array(len)); a.select(new Uint8Array(len).fill(1), r(len), r(len), new Float32Array(len)); count += 3;
}
for (let op=0; op<=7; op++) for (const [na,nb,n,rep] of [[35,35,35],[35,7,35],[7,35,35],[1,35,35],[35,1,35],[35,5,35,7],[5,35,35,7],[7*(1<<17),7,7*(1<<17)],[7*(1<<17),1<<17,7*(1<<17),7]]) { a.binary(op, r(na), r(nb), new Float32Array(n), rep); count++; }
for (const [B,R,C,G] of [[1,1,1,1],[2,3,4,2],[3,5,6,6],[1,7,12544,12544],[64,49,128,8]]) { const n = B*R*C;
  a.groupNormForward(r(n), r(C), r(C), B, R, C, G, 1e-5, new Float32Array(n), new Float32Array(B*G), new Float32Array(B*G));
  a.groupNormBackward(r(n), r(n), r(B*G), r(B*G).map((v) => v + 1), r(C), B, R, C, G, new Float32Array(n), new Float32Array(C), new Float32Array(C)); count += 2; }
for (let op=0; op<=3; op++) { a.reduceRows(op, r(35), 5, 7, new Float32Array(5)); count++; }
a.reduceCols(r(35), 5, 7, new Float32Array(7)); a.biasAct(r(35), 5, 7, r(7), 5, 0); a.biasAct(r(35), 5, 7, r(5), 1, 0);
a.adam(r(37), r(37), r(37), new Float32Array(37), new Float32Array(37), 0.1, 0.9, 0.999, 1e-7, 0.1, 0.001);
a.fillUniform(st, new Float32Array(101));
for (const bad of [() => a.gemm(false,false,4,5,6,1,r(23),r(30),0,r(20)), () => a.conv2d(r(15), r(18), r(32), [1,4,4,1,3,3,2,1,1,1,1,1,1,4,4])]) { try { bad(); } catch { count++; } }
console.log('asan run ok, calls:', count);
