// Compute kernels of the genphys native addon. See compute.h for contracts.
//
// Threads: OpenBLAS's own pthreads do every GEMM (2 threads on a 2-core
// machine); everything else here is single-threaded and vectorised. The
// elementwise work between GEMMs is memory-bound and short (tens of
// microseconds), and OpenBLAS's idle workers keep spinning for a while after
// each GEMM, so a second pool of our own would fight them for the two cores.
// Measured numbers that justify this are in the addon's README (native/README.md).
#include "compute.h"
#include "conv-dnnl.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

extern "C" {
char* openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}

// Hot elementwise loops get AVX-512 / AVX2+FMA clones picked at load time, so the
// addon is built for baseline x86-64-v2 and still uses wide vectors where present.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GP_CLONES
#endif

namespace gp {

// Elementwise kernels, GroupNorm and the mask ops split their range over the OpenMP
// threads (the pool oneDNN uses; as many as OpenBLAS's, see setBlasThreads) when it is
// long enough to pay for the hand-off, each thread one contiguous chunk whose bounds are
// multiples of `align` (a broadcast period). Every output element is computed by the same
// arithmetic whatever the split, so results do not depend on the thread count.
static constexpr size_t kParallelMin = static_cast<size_t>(1) << 20;

template <class F>
static void parallelFor(size_t n, size_t align, size_t work, F f) {
#ifdef _OPENMP
  const int T = omp_get_max_threads();
  if (T > 1 && work >= kParallelMin && n / align >= 2) {
    const size_t units = n / align;
#pragma omp parallel num_threads(T)
    {
      const size_t t = static_cast<size_t>(omp_get_thread_num()), nt = static_cast<size_t>(omp_get_num_threads());
      const size_t lo = units * t / nt * align, hi = units * (t + 1) / nt * align;
      if (hi > lo) f(lo, hi);
    }
    return;
  }
#else
  (void)align;
  (void)work;
#endif
  f(0, n);
}

// Thread count for large GEMMs (OpenBLAS's default: all cores, or
// OPENBLAS_NUM_THREADS; GENPHYS_THREADS via setBlasThreads).
static int g_threads = -1;
static int g_current = -1;

// GEMMs under this many multiply-adds run on one thread. OpenBLAS 0.3.21 splits
// anything above 2^18 MACs, and a small split GEMM costs more in the hand-off than
// it saves; on a busy machine, where the second worker may be descheduled, a
// split 128×20×400 product took 3.6 ms against 0.05 ms on one thread.
static const double kSmallGemmMacs = 4.0 * 1024 * 1024;

const char* blasConfig() { return openblas_get_config(); }
int blasThreads() {
  if (g_threads < 0) g_threads = g_current = openblas_get_num_threads();
  return g_threads;
}
void setBlasThreads(int n) {
  openblas_set_num_threads(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  dnnlSetThreads(n);
  g_threads = g_current = n;
}

static void useThreads(int n) {
  if (n != g_current) {
    openblas_set_num_threads(n);
    g_current = n;
  }
}

static std::vector<float>& scratchA() {
  static thread_local std::vector<float> v;  // per thread: the addon may be loaded in worker threads
  return v;
}
static std::vector<float>& scratchB() {
  static thread_local std::vector<float> v;  // per thread: the addon may be loaded in worker threads
  return v;
}
static float* grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
          const float* B, float beta, float* C) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0.0f) {
    const size_t n = static_cast<size_t>(M) * N;
    if (beta == 0.0f)
      std::memset(C, 0, n * sizeof(float));
    else
      for (size_t i = 0; i < n; i++) C[i] *= beta;
    return;
  }
  if (g_threads < 0) blasThreads();
  useThreads(static_cast<double>(M) * N * K < kSmallGemmMacs ? 1 : g_threads);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              M, N, K, alpha, A, transA ? M : K, B, transB ? K : N, beta, C, N);
}

static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

void fillU32(uint32_t* st, uint32_t* out, size_t n) {
  uint32_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
  for (size_t i = 0; i < n; i++) {
    out[i] = rotl(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
  }
  st[0] = s0;
  st[1] = s1;
  st[2] = s2;
  st[3] = s3;
}

// exp in single precision, vectorisable like expd: Cody–Waite reduction by ln 2 (ln 2 split
// into a head exact in float and a tail), a degree-7 Taylor polynomial on |r| ≤ ln2/2
// (truncation ≈ 5e-9 relative), 2^n through the exponent bits. Error ≈ 1–2 ulp; x is
// clamped to [−87.3, 88.7], so the result stays a normal float (no overflow to ∞). Used by
// SiLU, where float32 is the precision of the data anyway.
static inline float expf_(float x) {
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.7f ? 88.7f : x;
  const float shifter = 12582912.0f;  // 1.5 * 2^23
  const float t = x * 1.44269504f + shifter;
  const float n = t - shifter;
  const float r = (x - n * 0.693145751953125f) - n * 1.42860677e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const int32_t e = (bits - 0x4B400000 + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

// exp in double precision, written so GCC vectorises it: Cody–Waite reduction by
// ln 2 and a degree-13 Taylor polynomial on |r| ≤ ln2/2 (truncation ≈ 4e-18
// relative), scale by 2^n through the exponent bits. Error ≈ 1–2 ulp (double), so
// sigmoid rounded to float32 agrees with JavaScript's Math.exp path except when
// the double lands within ~1e-16 of a float32 rounding boundary.
static inline double expd(double x) {
  x = x < -708.0 ? -708.0 : x;
  x = x > 708.0 ? 708.0 : x;
  const double shifter = 6755399441055744.0;  // 1.5 * 2^52
  const double t = x * 1.4426950408889634 + shifter;
  const double n = t - shifter;
  const double r = (x - n * 0.6931471803691238) - n * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const int64_t e = (bits - 0x4338000000000000LL + 1023) << 52;
  double s;
  std::memcpy(&s, &e, sizeof s);
  return p * s;
}

// Natural log in double precision, vectorisable: u = 2^k·m with m in [√½, √2),
// log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, odd series to s^19
// (truncation ≈ 4e-18 relative). Positive normal finite u only; callers handle
// zero, negatives, infinities and NaN.
static inline double logPos(double u) {
  // Only logical shifts, masks and a magic-number int→double conversion, so the
  // AVX2 clone vectorises too (no 64-bit arithmetic shift or cvtqq2pd there).
  uint64_t bits;
  std::memcpy(&bits, &u, sizeof bits);
  const uint64_t mbits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  const uint64_t ebits = 0x4330000000000000ULL | (bits >> 52);
  double m, e;
  std::memcpy(&m, &mbits, sizeof m);
  std::memcpy(&e, &ebits, sizeof e);
  double k = (e - 4503599627370496.0) - 1023.0;
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  k = big ? k + 1.0 : k;
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  p = p * s2 + 1.0;
  return k * 0.6931471805599453 + 2.0 * s * p;
}

// Bernoulli / spin epilogue over one block of rows.
GP_CLONES
static void unitEpilogue(int kind, float* prob, float* sample, const float* bias, int rows, int nOut,
                         double beta, const uint32_t* u) {
  const float twoM24 = 1.0f / 16777216.0f;
  for (int r = 0; r < rows; r++) {
    float* pr = prob + static_cast<size_t>(r) * nOut;
    float* sr = sample ? sample + static_cast<size_t>(r) * nOut : nullptr;
    const uint32_t* ur = u ? u + static_cast<size_t>(r) * nOut : nullptr;
    if (kind == 0) {
      for (int j = 0; j < nOut; j++) {
        const double a = static_cast<double>(pr[j]) + static_cast<double>(bias[j]);
        const double p = 1.0 / (1.0 + expd(-beta * a));
        pr[j] = static_cast<float>(p);
      }
      if (sr)
        for (int j = 0; j < nOut; j++)
          sr[j] = static_cast<float>(ur[j] >> 8) * twoM24 < pr[j] ? 1.0f : 0.0f;
    } else {
      for (int j = 0; j < nOut; j++) {
        const double a = static_cast<double>(pr[j]) + static_cast<double>(bias[j]);
        const double e = expd(-2.0 * beta * a);
        const double p = 1.0 / (1.0 + e);
        const float pf = static_cast<float>(p);
        pr[j] = static_cast<float>((1.0 - e) / (1.0 + e));
        if (sr) sr[j] = static_cast<float>(ur[j] >> 8) * twoM24 < pf ? 1.0f : -1.0f;
      }
    }
  }
}

void unitLayer(int kind, const float* X, const float* W, const float* bias, int rows, int nIn,
               int nOut, bool transW, float* prob, float* sample, uint32_t* state, double beta,
               uint32_t* scratch) {
  gemm(false, transW, rows, nOut, nIn, 1.0f, X, W, 0.0f, prob);
  if (sample) fillU32(state, scratch, static_cast<size_t>(rows) * nOut);
  unitEpilogue(kind, prob, sample, bias, rows, nOut, beta, sample ? scratch : nullptr);
}

void cdUpdate(float* W, float* bv, float* bh, const float* v0, const float* ph0, const float* vk,
              const float* phk, int rows, int nV, int nH, float lr) {
  if (rows == 0) return;
  const float s = lr / static_cast<float>(rows);
  const size_t nv = static_cast<size_t>(rows) * nV, nh = static_cast<size_t>(rows) * nH;
  // One sgemm with K = 2·rows on [v0; −vk]ᵀ·[ph0; phk] reads and writes W once.
  float* A = grow(scratchA(), 2 * nv);
  float* B = grow(scratchB(), 2 * nh);
  std::memcpy(A, v0, nv * sizeof(float));
  for (size_t i = 0; i < nv; i++) A[nv + i] = -vk[i];
  std::memcpy(B, ph0, nh * sizeof(float));
  std::memcpy(B + nh, phk, nh * sizeof(float));
  gemm(true, false, nV, nH, 2 * rows, s, A, B, 1.0f, W);
  std::vector<double> acc(static_cast<size_t>(std::max(nV, nH)));
  std::fill(acc.begin(), acc.begin() + nV, 0.0);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < nV; j++)
      acc[j] += static_cast<double>(A[static_cast<size_t>(r) * nV + j]) + A[nv + static_cast<size_t>(r) * nV + j];
  for (int j = 0; j < nV; j++) bv[j] += static_cast<float>(s * acc[j]);
  std::fill(acc.begin(), acc.begin() + nH, 0.0);
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < nH; j++)
      acc[j] += static_cast<double>(ph0[static_cast<size_t>(r) * nH + j]) - phk[static_cast<size_t>(r) * nH + j];
  for (int j = 0; j < nH; j++) bh[j] += static_cast<float>(s * acc[j]);
}

void batchMatMul(const float* A, const float* B, float* C, int batch, int batchA, int batchB, int M,
                 int N, int K, bool transA, bool transB) {
  const size_t sa = static_cast<size_t>(M) * K, sb = static_cast<size_t>(K) * N,
               sc = static_cast<size_t>(M) * N;
  for (int b = 0; b < batch; b++)
    gemm(transA, transB, M, N, K, 1.0f, A + (batchA == 1 ? 0 : b * sa), B + (batchB == 1 ? 0 : b * sb),
         0.0f, C + b * sc);
}

GP_CLONES
void biasAct(float* C, size_t rows, size_t cols, const float* bias, size_t biasLen, int act,
             float alpha) {
  const size_t n = rows * cols;
  if (bias) {
    if (biasLen == cols) {
      for (size_t r = 0; r < rows; r++) {
        float* c = C + r * cols;
        for (size_t j = 0; j < cols; j++) c[j] += bias[j];
      }
    } else if (biasLen == 1) {
      for (size_t i = 0; i < n; i++) C[i] += bias[0];
    } else {
      for (size_t i = 0; i < n; i++) C[i] += bias[i % biasLen];
    }
  }
  switch (act) {
    case 1:
      for (size_t i = 0; i < n; i++) C[i] = C[i] < 0.0f ? 0.0f : C[i];
      break;
    case 2:
      for (size_t i = 0; i < n; i++) C[i] = C[i] < 0.0f ? 0.0f : (C[i] > 6.0f ? 6.0f : C[i]);
      break;
    case 3:
      for (size_t i = 0; i < n; i++)
        C[i] = C[i] >= 0.0f ? C[i] : static_cast<float>(expd(static_cast<double>(C[i])) - 1.0);
      break;
    case 4:
      for (size_t i = 0; i < n; i++) C[i] = C[i] < 0.0f ? alpha * C[i] : C[i];
      break;
    case 5:
      for (size_t i = 0; i < n; i++)
        C[i] = static_cast<float>(1.0 / (1.0 + expd(-static_cast<double>(C[i]))));
      break;
    default:
      break;
  }
}

// Rows of the im2col matrix for images [n0, n1): row (img, oy, ox), column (ky, kx, c).
static void im2col(const ConvGeom& g, const float* __restrict x, int n0, int n1, float* __restrict col) {
  float* dst = col;
  for (int n = n0; n < n1; n++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        for (int ky = 0; ky < g.fh; ky++) {
          const int iy = oy * g.sh - g.padT + ky * g.dh;
          for (int kx = 0; kx < g.fw; kx++) {
            const int ix = ox * g.sw - g.padL + kx * g.dw;
            // Plain loops: with few channels (the first conv layer has one) a
            // memcpy call per pixel costs more than the copy.
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
              for (int c = 0; c < g.c; c++) dst[c] = 0.0f;
            } else {
              const float* src = x + ((static_cast<size_t>(n) * g.h + iy) * g.w + ix) * g.c;
              for (int c = 0; c < g.c; c++) dst[c] = src[c];
            }
            dst += g.c;
          }
        }
      }
}

GP_CLONES
static void col2imAdd(const ConvGeom& g, const float* col, int n0, int n1, float* x) {
  const float* src = col;
  for (int n = n0; n < n1; n++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++)
        for (int ky = 0; ky < g.fh; ky++) {
          const int iy = oy * g.sh - g.padT + ky * g.dh;
          for (int kx = 0; kx < g.fw; kx++) {
            const int ix = ox * g.sw - g.padL + kx * g.dw;
            if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) {
              float* d = x + ((static_cast<size_t>(n) * g.h + iy) * g.w + ix) * g.c;
              for (int c = 0; c < g.c; c++) d[c] += src[c];
            }
            src += g.c;
          }
        }
}

static bool isPointwise(const ConvGeom& g) {
  return g.fh == 1 && g.fw == 1 && g.sh == 1 && g.sw == 1 && g.padT == 0 && g.padL == 0 &&
         g.oh == g.h && g.ow == g.w;
}

// Images per im2col chunk: keep the patch matrix near 2 MiB (2^19 floats) so it stays in
// cache between im2col and the GEMM, with at least one image. Measured with
// bench/conv-shapes.mjs on the GAN and U-Net shapes (2026-12-02): 2 MiB beat 8 MiB by
// 5–30 % on every shape; 0.25–1 MiB and 4 MiB were in between.
static int chunkImages(const ConvGeom& g) {
  const size_t perImage = static_cast<size_t>(g.oh) * g.ow * g.fh * g.fw * g.c;
  const size_t target = static_cast<size_t>(1) << 19;
  if (perImage == 0) return g.n > 0 ? g.n : 1;
  const size_t k = std::max<size_t>(1, target / perImage);
  return static_cast<int>(std::min<size_t>(k, static_cast<size_t>(std::max(g.n, 1))));
}

void conv2d(const ConvGeom& g, const float* x, const float* f, float* y) {
  if (dnnlConv2d(g, x, f, y)) return;

  const int kc = g.fh * g.fw * g.c;
  const int rowsPerImage = g.oh * g.ow;
  if (isPointwise(g)) {
    gemm(false, false, g.n * rowsPerImage, g.oc, kc, 1.0f, x, f, 0.0f, y);
    return;
  }
  const int step = chunkImages(g);
  float* col = grow(scratchA(), static_cast<size_t>(step) * rowsPerImage * kc);
  for (int n0 = 0; n0 < g.n; n0 += step) {
    const int n1 = std::min(g.n, n0 + step);
    im2col(g, x, n0, n1, col);
    gemm(false, false, (n1 - n0) * rowsPerImage, g.oc, kc, 1.0f, col, f, 0.0f,
         y + static_cast<size_t>(n0) * rowsPerImage * g.oc);
  }
}

void conv2dBackpropInput(const ConvGeom& g, const float* dy, const float* f, float* dx) {
  if (dnnlConv2dBackpropInput(g, dy, f, dx)) return;

  const int kc = g.fh * g.fw * g.c;
  const int rowsPerImage = g.oh * g.ow;
  if (isPointwise(g)) {
    gemm(false, true, g.n * rowsPerImage, kc, g.oc, 1.0f, dy, f, 0.0f, dx);
    return;
  }
  std::memset(dx, 0, static_cast<size_t>(g.n) * g.h * g.w * g.c * sizeof(float));
  const int step = chunkImages(g);
  float* col = grow(scratchA(), static_cast<size_t>(step) * rowsPerImage * kc);
  for (int n0 = 0; n0 < g.n; n0 += step) {
    const int n1 = std::min(g.n, n0 + step);
    gemm(false, true, (n1 - n0) * rowsPerImage, kc, g.oc, 1.0f,
         dy + static_cast<size_t>(n0) * rowsPerImage * g.oc, f, 0.0f, col);
    col2imAdd(g, col, n0, n1, dx);
  }
}

void conv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* df) {
  if (dnnlConv2dBackpropFilter(g, x, dy, df)) return;

  const int kc = g.fh * g.fw * g.c;
  const int rowsPerImage = g.oh * g.ow;
  if (isPointwise(g)) {
    gemm(true, false, kc, g.oc, g.n * rowsPerImage, 1.0f, x, dy, 0.0f, df);
    return;
  }
  if (g.n == 0) {
    std::memset(df, 0, static_cast<size_t>(kc) * g.oc * sizeof(float));
    return;
  }
  const int step = chunkImages(g);
  float* col = grow(scratchA(), static_cast<size_t>(step) * rowsPerImage * kc);
  for (int n0 = 0; n0 < g.n; n0 += step) {
    const int n1 = std::min(g.n, n0 + step);
    im2col(g, x, n0, n1, col);
    gemm(true, false, kc, g.oc, (n1 - n0) * rowsPerImage, 1.0f, col,
         dy + static_cast<size_t>(n0) * rowsPerImage * g.oc, n0 == 0 ? 0.0f : 1.0f, df);
  }
}

// Unary op codes (must match src/engine/native.ts):
// 0 exp, 1 log, 2 sqrt, 3 square, 4 neg, 5 relu, 6 sigmoid, 7 softplus, 8 abs,
// 9 rsqrt, 10 reciprocal, 11 tanh, 12 step(alpha), 13 relu6, 14 elu, 15 leakyrelu(alpha), 16 log1p
GP_CLONES
static void unaryChunk(int op, const float* x, float* y, size_t n, float alpha) {
  switch (op) {
    case 0:
      for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        // expd clamps to ±708; float32 overflows/underflows long before that.
        y[i] = static_cast<float>(expd(static_cast<double>(v)));
      }
      break;
    case 1:
      // Vectorised pass on clamped inputs, then a scalar pass for x ≤ 0, ∞ and NaN
      // (a float's smallest subnormal is still a normal double, so logPos covers x > 0).
      for (size_t i = 0; i < n; i++) {
        const double u = x[i];
        y[i] = static_cast<float>(logPos(u > 0.0 && u < 1e300 ? u : 1.0));
      }
      for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0.0f && x[i] < 1e30f)) y[i] = static_cast<float>(std::log(static_cast<double>(x[i])));
      break;
    case 2:
      for (size_t i = 0; i < n; i++) y[i] = std::sqrt(x[i]);
      break;
    case 3:
      for (size_t i = 0; i < n; i++) y[i] = x[i] * x[i];
      break;
    case 4:
      for (size_t i = 0; i < n; i++) y[i] = -x[i];
      break;
    case 5:
      for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      break;
    case 6:
      for (size_t i = 0; i < n; i++)
        y[i] = static_cast<float>(1.0 / (1.0 + expd(-static_cast<double>(x[i]))));
      break;
    case 7: {
      // Same thresholds as tfjs's cpu Softplus (float32 epsilon based).
      const double threshold = std::log(1.1920928955078125e-7) + 2.0;
      for (size_t i = 0; i < n; i++) {
        const double v = x[i];
        const double e = expd(v);
        // 1 + e is exact enough here: e < 2^24·e^{-threshold} keeps log(1 + e) within double rounding.
        const double mid = logPos(v == v ? 1.0 + e : 1.0);  // logPos needs a positive finite argument
        y[i] = static_cast<float>(v < threshold ? e : (v > -threshold ? v : (v != v ? v : mid)));
      }
      break;
    }
    case 8:
      for (size_t i = 0; i < n; i++) y[i] = std::fabs(x[i]);
      break;
    case 9:
      for (size_t i = 0; i < n; i++) y[i] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(x[i])));
      break;
    case 10:
      for (size_t i = 0; i < n; i++) y[i] = 1.0f / x[i];
      break;
    case 11:
      // tanh|x| = (1 − e)/(1 + e), e = exp(−2|x|); below 1e-4 the series x − x³/3 is
      // exact to float precision and avoids the cancellation in 1 − e.
      for (size_t i = 0; i < n; i++) {
        const double xd = x[i];
        const double ax = xd < 0.0 ? -xd : xd;
        const double e = expd(-2.0 * ax);
        const double t = ax < 1e-4 ? ax - ax * ax * ax / 3.0 : (1.0 - e) / (1.0 + e);
        y[i] = static_cast<float>(xd < 0.0 ? -t : (xd != xd ? xd : t));
      }
      break;
    case 12:
      for (size_t i = 0; i < n; i++) y[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? 1.0f : alpha);
      break;
    case 13:
      for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
      break;
    case 14:
      for (size_t i = 0; i < n; i++)
        y[i] = x[i] >= 0.0f ? x[i] : static_cast<float>(expd(static_cast<double>(x[i])) - 1.0);
      break;
    case 15:
      for (size_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
      break;
    case 16:
      // log1p(x) = log(u)·x/(u − 1) with u = fl(1 + x) (Goldberg 1991, Theorem 4):
      // exact to a few ulp even when x is far below double epsilon.
      for (size_t i = 0; i < n; i++) {
        const double xd = x[i];
        const double u = 1.0 + xd;
        const double l = logPos(u > 0.0 && u < 1e300 ? u : 2.0);
        const double d = u - 1.0;
        y[i] = static_cast<float>(d == 0.0 ? xd : l * (xd / (d == 0.0 ? 1.0 : d)));
      }
      for (size_t i = 0; i < n; i++)
        if (!(x[i] > -1.0f && x[i] < 1e30f)) y[i] = static_cast<float>(std::log1p(static_cast<double>(x[i])));
      break;
    case 17:
      // SiLU (Elfwing et al. 2018): x·σ(x) = x / (1 + e^−x), in float (a few ulp).
      for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf_(-x[i]));
      break;
    default:
      break;
  }
}

void unary(int op, const float* x, float* y, size_t n, float alpha) {
  parallelFor(n, 1, n, [&](size_t lo, size_t hi) { unaryChunk(op, x + lo, y + lo, hi - lo, alpha); });
}

// Binary op codes (must match src/engine/native.ts):
// 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum, 6 squared difference,
// 7 SiLU's gradient: a = x, b = dy → dy·σ(x)·(1 + x·(1 − σ(x)))
template <int OP>
static inline float bop(float a, float b) {
  if (OP == 7) {
    const float s = 1.0f / (1.0f + expf_(-a));
    return b * s * (1.0f + a * (1.0f - s));
  }
  if (OP == 0) return a + b;
  if (OP == 1) return a - b;
  if (OP == 2) return a * b;
  if (OP == 3) return a / b;
  if (OP == 4) return (a != a || b != b) ? a + b : (a > b ? a : b);
  if (OP == 5) return (a != a || b != b) ? a + b : (a < b ? a : b);
  const float d = a - b;
  return d * d;
}

template <int OP>
GP_CLONES static void binaryT(const float* a, size_t na, const float* b, size_t nb, float* out,
                              size_t n, size_t rep) {
  if (rep > 1 && na == n && nb * rep == n) {
    for (size_t r = 0; r < nb; r++) {
      const float s = b[r];
      for (size_t j = 0; j < rep; j++) out[r * rep + j] = bop<OP>(a[r * rep + j], s);
    }
  } else if (rep > 1 && nb == n && na * rep == n) {
    for (size_t r = 0; r < na; r++) {
      const float s = a[r];
      for (size_t j = 0; j < rep; j++) out[r * rep + j] = bop<OP>(s, b[r * rep + j]);
    }
  } else if (na == n && nb == n) {
    for (size_t i = 0; i < n; i++) out[i] = bop<OP>(a[i], b[i]);
  } else if (nb == 1) {
    const float s = b[0];
    for (size_t i = 0; i < n; i++) out[i] = bop<OP>(a[i], s);
  } else if (na == 1) {
    const float s = a[0];
    for (size_t i = 0; i < n; i++) out[i] = bop<OP>(s, b[i]);
  } else if (na == n) {
    for (size_t r = 0; r < n; r += nb)
      for (size_t j = 0; j < nb; j++) out[r + j] = bop<OP>(a[r + j], b[j]);
  } else {
    for (size_t r = 0; r < n; r += na)
      for (size_t j = 0; j < na; j++) out[r + j] = bop<OP>(a[j], b[r + j]);
  }
}

static void binaryRun(int op, const float* a, size_t na, const float* b, size_t nb, float* out, size_t n, size_t rep) {
  switch (op) {
    case 0: binaryT<0>(a, na, b, nb, out, n, rep); break;
    case 1: binaryT<1>(a, na, b, nb, out, n, rep); break;
    case 2: binaryT<2>(a, na, b, nb, out, n, rep); break;
    case 3: binaryT<3>(a, na, b, nb, out, n, rep); break;
    case 4: binaryT<4>(a, na, b, nb, out, n, rep); break;
    case 5: binaryT<5>(a, na, b, nb, out, n, rep); break;
    case 6: binaryT<6>(a, na, b, nb, out, n, rep); break;
    case 7: binaryT<7>(a, na, b, nb, out, n, rep); break;
    default: break;
  }
}

// The same cases as binaryT, each output chunk with the matching slices of a and b.
void binary(int op, const float* a, size_t na, const float* b, size_t nb, float* out, size_t n,
            size_t rep) {
  if (rep > 1 && na == n && nb * rep == n) {
    parallelFor(n, rep, n, [&](size_t lo, size_t hi) { binaryRun(op, a + lo, hi - lo, b + lo / rep, (hi - lo) / rep, out + lo, hi - lo, rep); });
  } else if (rep > 1 && nb == n && na * rep == n) {
    parallelFor(n, rep, n, [&](size_t lo, size_t hi) { binaryRun(op, a + lo / rep, (hi - lo) / rep, b + lo, hi - lo, out + lo, hi - lo, rep); });
  } else if (na == n && nb == n) {
    parallelFor(n, 1, n, [&](size_t lo, size_t hi) { binaryRun(op, a + lo, hi - lo, b + lo, hi - lo, out + lo, hi - lo, 0); });
  } else if (nb == 1) {
    parallelFor(n, 1, n, [&](size_t lo, size_t hi) { binaryRun(op, a + lo, hi - lo, b, 1, out + lo, hi - lo, 0); });
  } else if (na == 1) {
    parallelFor(n, 1, n, [&](size_t lo, size_t hi) { binaryRun(op, a, 1, b + lo, hi - lo, out + lo, hi - lo, 0); });
  } else if (na == n && nb > 0) {
    parallelFor(n, nb, n, [&](size_t lo, size_t hi) { binaryRun(op, a + lo, hi - lo, b, nb, out + lo, hi - lo, 0); });
  } else if (na > 0) {
    parallelFor(n, na, n, [&](size_t lo, size_t hi) { binaryRun(op, a, na, b + lo, hi - lo, out + lo, hi - lo, 0); });
  }
}

// Row reductions: 0 sum, 1 max, 2 min, 3 mean. Double accumulation, as tfjs's cpu
// backend accumulates in JavaScript numbers.
void reduceRows(int op, const float* x, size_t outer, size_t inner, float* out) {
  for (size_t r = 0; r < outer; r++) {
    const float* p = x + r * inner;
    if (op == 0 || op == 3) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t j = 0;
      for (; j + 4 <= inner; j += 4) {
        s0 += p[j];
        s1 += p[j + 1];
        s2 += p[j + 2];
        s3 += p[j + 3];
      }
      for (; j < inner; j++) s0 += p[j];
      const double s = (s0 + s1) + (s2 + s3);
      out[r] = static_cast<float>(op == 3 ? s / static_cast<double>(inner) : s);
    } else {
      float m = p[0];
      for (size_t j = 1; j < inner; j++) {
        const float v = p[j];
        if (v != v) { m = v; break; }
        m = op == 1 ? (v > m ? v : m) : (v < m ? v : m);
      }
      out[r] = m;
    }
  }
}

void reduceCols(const float* x, size_t outer, size_t inner, float* out) {
  std::vector<double> acc(inner, 0.0);
  for (size_t r = 0; r < outer; r++) {
    const float* p = x + r * inner;
    for (size_t j = 0; j < inner; j++) acc[j] += p[j];
  }
  for (size_t j = 0; j < inner; j++) out[j] = static_cast<float>(acc[j]);
}

GP_CLONES
void adam(const float* p, const float* g, float* m, float* v, float* out, size_t n, float lr, float b1,
          float b2, float eps, float c1, float c2) {
  const float a1 = 1.0f - b1, a2 = 1.0f - b2;
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + a1 * gi;
    const float vi = b2 * v[i] + a2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    out[i] = p[i] - lr * (mi / c1) / (std::sqrt(vi / c2) + eps);
  }
}

GP_CLONES
static void affineRows(const float* __restrict x, const float* __restrict sc, const float* __restrict sh,
                       float* __restrict y, int R, int C) {
  for (int r = 0; r < R; r++) {
    const float* p = x + static_cast<size_t>(r) * C;
    float* q = y + static_cast<size_t>(r) * C;
    for (int c = 0; c < C; c++) q[c] = p[c] * sc[c] + sh[c];
  }
}

GP_CLONES
static void gnBackRows(const float* __restrict dy, const float* __restrict x, const float* __restrict k,
                       const float* __restrict a, const float* __restrict b, float* __restrict dx, int R, int C) {
  for (int r = 0; r < R; r++) {
    const size_t o = static_cast<size_t>(r) * C;
    for (int c = 0; c < C; c++) dx[o + c] = k[c] * dy[o + c] + a[c] * x[o + c] + b[c];
  }
}

GP_CLONES
static void greaterChunk(const float* a, size_t na, const float* b, size_t nb, uint8_t* out, size_t n) {
  if (nb == 1) {
    const float t = b[0];
    for (size_t i = 0; i < n; i++) out[i] = a[i] > t ? 1 : 0;
  } else {
    (void)na;
    for (size_t i = 0; i < n; i++) out[i] = a[i] > b[i] ? 1 : 0;
  }
}

GP_CLONES
static void selectChunk(const uint8_t* cond, const float* t, const float* e, float* out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = cond[i] ? t[i] : e[i];
}

void greater(const float* a, size_t na, const float* b, size_t nb, uint8_t* out, size_t n) {
  parallelFor(n, 1, n, [&](size_t lo, size_t hi) {
    if (nb == 1) greaterChunk(a + lo, hi - lo, b, 1, out + lo, hi - lo);
    else greaterChunk(a + lo, hi - lo, b + lo, hi - lo, out + lo, hi - lo);
  });
}

void select(const uint8_t* cond, const float* t, const float* e, float* out, size_t n) {
  parallelFor(n, 1, n, [&](size_t lo, size_t hi) { selectChunk(cond + lo, t + lo, e + lo, out + lo, hi - lo); });
}

// Column sums over R rows of C: acc[c] += Σ_r x[r, c] (double).
GP_CLONES
static void colSums(const float* __restrict x, int R, int C, double* __restrict acc) {
  for (int r = 0; r < R; r++) {
    const float* p = x + static_cast<size_t>(r) * C;
    for (int c = 0; c < C; c++) acc[c] += p[c];
  }
}

// acc[c] += Σ_r (x[r, c] − m[c])² (double).
GP_CLONES
static void colSqDev(const float* __restrict x, int R, int C, const float* __restrict m, double* __restrict acc) {
  for (int r = 0; r < R; r++) {
    const float* p = x + static_cast<size_t>(r) * C;
    for (int c = 0; c < C; c++) {
      const double d = static_cast<double>(p[c]) - m[c];
      acc[c] += d * d;
    }
  }
}

// s1[c] += Σ_r dy[r, c], s2[c] += Σ_r dy[r, c]·(x[r, c] − m[c]) (double).
GP_CLONES
static void colDyStats(const float* __restrict dy, const float* __restrict x, int R, int C, const float* __restrict m,
                       double* __restrict s1, double* __restrict s2) {
  for (int r = 0; r < R; r++) {
    const size_t o = static_cast<size_t>(r) * C;
    for (int c = 0; c < C; c++) {
      s1[c] += dy[o + c];
      s2[c] += static_cast<double>(dy[o + c]) * (static_cast<double>(x[o + c]) - m[c]);
    }
  }
}

// Group normalisation (Wu & He, ECCV 2018), NHWC as [B, R, C] with R = H·W and G groups
// of C/G consecutive channels: μ and σ² (biased) over each example's R·C/G values of a
// group, y = (x − μ)·rstd·γ_c + β_c with rstd = 1/√(σ² + ε). Sums in double, two passes.
// Examples are independent: they are split over the threads.
void groupNormForward(const float* x, const float* gamma, const float* beta, int B, int R, int C, int G,
                      float eps, float* y, float* mean, float* rstd) {
  const int cg = C / G;
  const double n = static_cast<double>(R) * cg;
  const size_t per = static_cast<size_t>(R) * C;
  parallelFor(static_cast<size_t>(B), 1, static_cast<size_t>(B) * per, [&](size_t b0, size_t b1) {
    std::vector<double> acc(static_cast<size_t>(C));
    std::vector<float> mc(static_cast<size_t>(C)), sc(static_cast<size_t>(C)), sh(static_cast<size_t>(C));
    for (size_t b = b0; b < b1; b++) {
      const float* xb = x + b * per;
      std::fill(acc.begin(), acc.end(), 0.0);
      colSums(xb, R, C, acc.data());
      for (int g = 0; g < G; g++) {
        double s = 0;
        for (int c = g * cg; c < (g + 1) * cg; c++) s += acc[c];
        const float m = static_cast<float>(s / n);
        mean[b * G + g] = m;
        for (int c = g * cg; c < (g + 1) * cg; c++) mc[c] = m;
      }
      std::fill(acc.begin(), acc.end(), 0.0);
      colSqDev(xb, R, C, mc.data(), acc.data());
      for (int g = 0; g < G; g++) {
        double s = 0;
        for (int c = g * cg; c < (g + 1) * cg; c++) s += acc[c];
        const float rs = static_cast<float>(1.0 / std::sqrt(s / n + static_cast<double>(eps)));
        rstd[b * G + g] = rs;
        for (int c = g * cg; c < (g + 1) * cg; c++) {
          sc[c] = rs * gamma[c];
          sh[c] = beta[c] - mc[c] * sc[c];
        }
      }
      affineRows(xb, sc.data(), sh.data(), y + b * per, R, C);
    }
  });
}

// Gradients of groupNormForward given dy, x and its saved μ, rstd ([B, G]):
// with x̂ = (x − μ)·rstd, dβ_c = Σ dy, dγ_c = Σ dy·x̂ (over B and R), and per example and
// group dx = rstd·(dy·γ_c − mean(dy·γ) − x̂·mean(dy·γ·x̂)), the means over the group's values.
// The per-example sums and dx are split over the threads; dγ and dβ add the examples up in
// order afterwards, so they do not depend on the split either.
void groupNormBackward(const float* dy, const float* x, const float* mean, const float* rstd, const float* gamma,
                       int B, int R, int C, int G, float* dx, float* dgamma, float* dbeta) {
  const int cg = C / G;
  const double n = static_cast<double>(R) * cg;
  const size_t per = static_cast<size_t>(R) * C;
  std::vector<double> s1(static_cast<size_t>(B) * C, 0.0), s2(static_cast<size_t>(B) * C, 0.0);
  parallelFor(static_cast<size_t>(B), 1, static_cast<size_t>(B) * per, [&](size_t b0, size_t b1) {
    std::vector<float> mc(static_cast<size_t>(C)), a(static_cast<size_t>(C)), bb(static_cast<size_t>(C)),
        k(static_cast<size_t>(C));
    for (size_t b = b0; b < b1; b++) {
      const float* xb = x + b * per;
      const float* dyb = dy + b * per;
      double* t1 = s1.data() + b * C;
      double* t2 = s2.data() + b * C;
      for (int c = 0; c < C; c++) mc[c] = mean[b * G + c / cg];
      colDyStats(dyb, xb, R, C, mc.data(), t1, t2);
      for (int g = 0; g < G; g++) {
        const double rs = rstd[b * G + g];
        double A = 0, Bq = 0;
        for (int c = g * cg; c < (g + 1) * cg; c++) {
          A += gamma[c] * t1[c];
          Bq += gamma[c] * t2[c];
        }
        A /= n;        // mean of dy·γ
        Bq *= rs / n;  // mean of dy·γ·x̂
        // dx = k_c·dy + a_c·x + b_c with k_c = rs·γ_c, a_c = −rs²·Bq, b_c = −rs·A + rs²·Bq·μ.
        for (int c = g * cg; c < (g + 1) * cg; c++) {
          k[c] = static_cast<float>(rs * gamma[c]);
          a[c] = static_cast<float>(-rs * rs * Bq);
          bb[c] = static_cast<float>(-rs * A + rs * rs * Bq * mc[c]);
        }
      }
      gnBackRows(dyb, xb, k.data(), a.data(), bb.data(), dx + b * per, R, C);
    }
  });
  std::vector<double> dg(static_cast<size_t>(C), 0.0), db(static_cast<size_t>(C), 0.0);
  for (int b = 0; b < B; b++)
    for (int c = 0; c < C; c++) {
      dg[c] += s2[static_cast<size_t>(b) * C + c] * static_cast<double>(rstd[b * G + c / cg]);
      db[c] += s1[static_cast<size_t>(b) * C + c];
    }
  for (int c = 0; c < C; c++) {
    dgamma[c] = static_cast<float>(dg[c]);
    dbeta[c] = static_cast<float>(db[c]);
  }
}

}  // namespace gp
