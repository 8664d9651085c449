// Pure compute kernels of the genphys native addon (no N-API here).
// Every function trusts its arguments: the bindings in genphys_native.cc
// validate all lengths and shapes before calling in.
#pragma once
#include <cstdint>
#include <cstddef>

namespace gp {

// OpenBLAS version string and thread control.
const char* blasConfig();
int blasThreads();
void setBlasThreads(int n);

// C <- alpha * op(A) * op(B) + beta * C, row-major.
void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C);

// xoshiro128** (Blackman & Vigna 2021) on a four-word state advanced in place.
void fillU32(uint32_t* state, uint32_t* out, size_t n);

// Fused Gibbs half-step. kind 0: Bernoulli {0,1} units, prob = sigmoid(beta*a);
// kind 1: Ising spins {-1,+1}, prob = tanh(beta*a) (the mean), sample = +1 with
// probability sigmoid(2*beta*a).
void unitLayer(int kind, const float* X, const float* W, const float* bias, int rows, int nIn,
               int nOut, bool transW, float* prob, float* sample, uint32_t* state, double beta,
               uint32_t* scratch);

// W += (lr/rows)(v0^T ph0 - vk^T phk); bv += (lr/rows) sum(v0 - vk); bh += (lr/rows) sum(ph0 - phk).
void cdUpdate(float* W, float* bv, float* bh, const float* v0, const float* ph0, const float* vk,
              const float* phk, int rows, int nV, int nH, float lr);

// Batched matmul with batch broadcasting (batchA or batchB may be 1).
void batchMatMul(const float* A, const float* B, float* C, int batch, int batchA, int batchB, int M,
                 int N, int K, bool transA, bool transB);

// Epilogue for fused matmul / conv: C[r, c] = act(C[r, c] + bias[c % biasLen]).
// act: 0 linear, 1 relu, 2 relu6, 3 elu, 4 leakyrelu(alpha), 5 sigmoid.
void biasAct(float* C, size_t rows, size_t cols, const float* bias, size_t biasLen, int act,
             float alpha);

struct ConvGeom {
  int n, h, w, c;           // input NHWC
  int fh, fw, oc;           // filter [fh, fw, c, oc]
  int sh, sw, dh, dw;       // strides, dilations
  int padT, padL;           // top/left padding
  int oh, ow;               // output spatial size
};
void conv2d(const ConvGeom& g, const float* x, const float* f, float* y);
void conv2dBackpropInput(const ConvGeom& g, const float* dy, const float* f, float* dx);
void conv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* df);

// Elementwise. Unary op codes and binary op codes are listed in compute.cc.
void unary(int op, const float* x, float* y, size_t n, float alpha);
// out[i] = a[ia(i)] op b[ib(i)] where a side of length 1 is a scalar and a
// side of length s < n repeats with period s (trailing broadcast), or, when
// rep > 1 and s·rep = n, each of its elements covers rep consecutive outputs
// (leading broadcast: shape [R, 1] against [R, C], rep = C).
void binary(int op, const float* a, size_t na, const float* b, size_t nb, float* out, size_t n,
            size_t rep = 0);
// Reduce rows: out[r] = sum/max/... over the inner `inner` elements of row r.
void reduceRows(int op, const float* x, size_t outer, size_t inner, float* out);
// Reduce columns: out[c] = sum over r of x[r, c] (outer rows, inner cols).
void reduceCols(const float* x, size_t outer, size_t inner, float* out);

// One Adam step (Kingma & Ba 2015) over n parameters, as tfjs's AdamOptimizer:
// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; out = p − lr·(m/c1)/(√(v/c2) + ε),
// with c1 = 1 − β1^t, c2 = 1 − β2^t. m and v are updated in place; out may be p.
void adam(const float* p, const float* g, float* m, float* v, float* out, size_t n, float lr, float b1,
          float b2, float eps, float c1, float c2);

// out[i] = a[i] > b (b of length 1) or a[i] > b[i]; out is a bool mask (0/1 bytes).
void greater(const float* a, size_t na, const float* b, size_t nb, uint8_t* out, size_t n);
// out[i] = cond[i] ? t[i] : e[i].
void select(const uint8_t* cond, const float* t, const float* e, float* out, size_t n);

// GroupNorm over x [B, R, C] (NHWC with R = H·W) in G groups of C/G channels; writes y
// and the per-(example, group) mean and rstd [B, G] that the backward pass reads.
void groupNormForward(const float* x, const float* gamma, const float* beta, int B, int R, int C, int G,
                      float eps, float* y, float* mean, float* rstd);
// dx [B, R, C], dgamma [C], dbeta [C] from dy, x and the forward's mean and rstd.
void groupNormBackward(const float* dy, const float* x, const float* mean, const float* rstd, const float* gamma,
                       int B, int R, int C, int G, float* dx, float* dgamma, float* dbeta);

}  // namespace gp
