// N-API bindings of the genphys native addon. Every argument is checked here
// (types, integer dimensions, buffer lengths, output/input overlap) and a bad
// one throws a JavaScript TypeError or RangeError, so the compute kernels in
// compute.cc never read or write outside the buffers they were given.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "compute.h"
#include "conv-dnnl.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

constexpr double kMaxDim = 2147483647.0;  // BLAS takes 32-bit ints

[[noreturn]] void typeError(const Napi::Env& env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] void rangeError(const Napi::Env& env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

void argc(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n)
    typeError(info.Env(), std::string(fn) + " expects " + std::to_string(n) + " arguments, got " +
                              std::to_string(info.Length()));
}

struct F32 {
  float* data = nullptr;
  size_t len = 0;
  std::string name;
};

F32 f32(const Napi::CallbackInfo& info, size_t i, const char* name, bool nullable = false) {
  const Napi::Value v = info[i];
  F32 out;
  out.name = name;
  if (nullable && (v.IsNull() || v.IsUndefined())) return out;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    typeError(info.Env(), std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  out.data = a.Data();
  out.len = a.ElementLength();
  return out;
}

int64_t dim(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t minVal = 0) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) typeError(info.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < static_cast<double>(minVal) || d > kMaxDim)
    rangeError(info.Env(), std::string(name) + " must be an integer in [" + std::to_string(minVal) +
                               ", 2^31-1], got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double num(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) typeError(info.Env(), std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool flag(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsBoolean()) typeError(info.Env(), std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// a·b with a check that the product fits BLAS's 32-bit ints.
int64_t prod(const Napi::Env& env, std::initializer_list<int64_t> xs, const char* what) {
  double p = 1;
  int64_t r = 1;
  for (int64_t x : xs) {
    p *= static_cast<double>(x);
    r *= x;
  }
  if (p > kMaxDim) rangeError(env, std::string(what) + " has more than 2^31-1 elements");
  return r;
}

void need(const Napi::Env& env, const F32& a, int64_t n) {
  if (a.data == nullptr && n > 0) typeError(env, a.name + " is missing");
  if (static_cast<int64_t>(a.len) < n)
    rangeError(env, a.name + " has " + std::to_string(a.len) + " elements, needs at least " +
                        std::to_string(n));
}

void exact(const Napi::Env& env, const F32& a, int64_t n) {
  if (static_cast<int64_t>(a.len) != n)
    rangeError(env, a.name + " has " + std::to_string(a.len) + " elements, expected " + std::to_string(n));
}

bool overlaps(const F32& a, const F32& b) {
  if (!a.data || !b.data || a.len == 0 || b.len == 0) return false;
  const uintptr_t a0 = reinterpret_cast<uintptr_t>(a.data), a1 = a0 + a.len * sizeof(float);
  const uintptr_t b0 = reinterpret_cast<uintptr_t>(b.data), b1 = b0 + b.len * sizeof(float);
  return a0 < b1 && b0 < a1;
}

void disjoint(const Napi::Env& env, const F32& out, std::initializer_list<const F32*> ins) {
  for (const F32* in : ins)
    if (overlaps(out, *in)) rangeError(env, out.name + " must not share memory with " + in->name);
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", std::string(gp::blasConfig()));
  o.Set("threads", gp::blasThreads());
  o.Set("dnnl", std::string(gp::dnnlVersion()));
  o.Set("dnnlConvolutions", gp::dnnlCount());
  o.Set("dnnlRefused", gp::dnnlRefused());
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  argc(info, 1, "setThreads");
  const int64_t n = dim(info, 0, "threads", 1);
  if (n > 1024) rangeError(info.Env(), "threads must be at most 1024");
  gp::setBlasThreads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), gp::blasThreads());
}

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 10, "gemm");
  const bool ta = flag(info, 0, "transA"), tb = flag(info, 1, "transB");
  const int64_t M = dim(info, 2, "M"), N = dim(info, 3, "N"), K = dim(info, 4, "K");
  const double alpha = num(info, 5, "alpha"), beta = num(info, 8, "beta");
  F32 A = f32(info, 6, "A"), B = f32(info, 7, "B"), C = f32(info, 9, "C");
  need(env, A, prod(env, {M, K}, "A"));
  need(env, B, prod(env, {K, N}, "B"));
  need(env, C, prod(env, {M, N}, "C"));
  disjoint(env, C, {&A, &B});
  gp::gemm(ta, tb, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
           static_cast<float>(alpha), A.data, B.data, static_cast<float>(beta), C.data);
  return env.Undefined();
}

// unitLayer(kind, X, W, bias, rows, nIn, nOut, transW, prob, sample|null, state|null, beta)
Napi::Value UnitLayer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 12, "unitLayer");
  const int64_t kind = dim(info, 0, "kind");
  if (kind > 1) rangeError(env, "kind must be 0 (bernoulli) or 1 (spin)");
  F32 X = f32(info, 1, "X"), W = f32(info, 2, "W"), bias = f32(info, 3, "bias");
  const int64_t rows = dim(info, 4, "rows"), nIn = dim(info, 5, "nIn"), nOut = dim(info, 6, "nOut");
  const bool transW = flag(info, 7, "transW");
  F32 prob = f32(info, 8, "prob"), sample = f32(info, 9, "sample", true);
  const double beta = num(info, 11, "beta");
  need(env, X, prod(env, {rows, nIn}, "X"));
  need(env, W, prod(env, {nIn, nOut}, "W"));
  need(env, bias, nOut);
  const int64_t nOutTotal = prod(env, {rows, nOut}, "prob");
  need(env, prob, nOutTotal);
  disjoint(env, prob, {&X, &W, &bias});
  uint32_t* state = nullptr;
  if (sample.data) {
    need(env, sample, nOutTotal);
    disjoint(env, sample, {&X, &W, &bias, &prob});
    const Napi::Value s = info[10];
    if (!s.IsTypedArray() || s.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        s.As<Napi::Uint32Array>().ElementLength() != 4)
      typeError(env, "unitLayer needs an Rng state (Uint32Array of 4 words) when sampling");
    state = s.As<Napi::Uint32Array>().Data();
    if ((state[0] | state[1] | state[2] | state[3]) == 0) rangeError(env, "Rng state must not be all zero");
  }
  static thread_local std::vector<uint32_t> scratch;
  if (sample.data && scratch.size() < static_cast<size_t>(nOutTotal)) scratch.resize(nOutTotal);
  gp::unitLayer(static_cast<int>(kind), X.data, W.data, bias.data, static_cast<int>(rows),
                static_cast<int>(nIn), static_cast<int>(nOut), transW, prob.data,
                sample.data, state, beta, scratch.data());
  return env.Undefined();
}

// cdUpdate(W, bv, bh, v0, ph0, vk, phk, rows, nV, nH, lr)
Napi::Value CdUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 11, "cdUpdate");
  F32 W = f32(info, 0, "W"), bv = f32(info, 1, "bv"), bh = f32(info, 2, "bh");
  F32 v0 = f32(info, 3, "v0"), ph0 = f32(info, 4, "ph0"), vk = f32(info, 5, "vk"), phk = f32(info, 6, "phk");
  const int64_t rows = dim(info, 7, "rows"), nV = dim(info, 8, "nV"), nH = dim(info, 9, "nH");
  const double lr = num(info, 10, "lr");
  need(env, W, prod(env, {nV, nH}, "W"));
  need(env, bv, nV);
  need(env, bh, nH);
  need(env, v0, prod(env, {rows, nV}, "v0"));
  need(env, vk, prod(env, {rows, nV}, "vk"));
  need(env, ph0, prod(env, {rows, nH}, "ph0"));
  need(env, phk, prod(env, {rows, nH}, "phk"));
  prod(env, {2, rows, std::max(nV, nH)}, "stacked batch");
  for (const F32* out : {&W, &bv, &bh}) disjoint(env, *out, {&v0, &ph0, &vk, &phk});
  disjoint(env, W, {&bv, &bh});
  disjoint(env, bv, {&bh});
  gp::cdUpdate(W.data, bv.data, bh.data, v0.data, ph0.data, vk.data, phk.data, static_cast<int>(rows),
               static_cast<int>(nV), static_cast<int>(nH), static_cast<float>(lr));
  return env.Undefined();
}

// batchMatMul(A, B, C, batch, batchA, batchB, M, N, K, transA, transB)
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 11, "batchMatMul");
  F32 A = f32(info, 0, "A"), B = f32(info, 1, "B"), C = f32(info, 2, "C");
  const int64_t batch = dim(info, 3, "batch"), ba = dim(info, 4, "batchA"), bb = dim(info, 5, "batchB");
  const int64_t M = dim(info, 6, "M"), N = dim(info, 7, "N"), K = dim(info, 8, "K");
  const bool ta = flag(info, 9, "transA"), tb = flag(info, 10, "transB");
  if ((ba != 1 && ba != batch) || (bb != 1 && bb != batch))
    rangeError(env, "batchMatMul: batch sizes " + std::to_string(ba) + " and " + std::to_string(bb) +
                        " do not broadcast to " + std::to_string(batch));
  prod(env, {M, K}, "A matrix");
  prod(env, {K, N}, "B matrix");
  prod(env, {M, N}, "C matrix");
  need(env, A, ba * M * K);
  need(env, B, bb * K * N);
  need(env, C, batch * M * N);
  disjoint(env, C, {&A, &B});
  gp::batchMatMul(A.data, B.data, C.data, static_cast<int>(batch), static_cast<int>(ba), static_cast<int>(bb),
                  static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), ta, tb);
  return env.Undefined();
}

// biasAct(C, rows, cols, bias|null, act, alpha)
Napi::Value BiasAct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 6, "biasAct");
  F32 C = f32(info, 0, "C");
  const int64_t rows = dim(info, 1, "rows"), cols = dim(info, 2, "cols");
  F32 bias = f32(info, 3, "bias", true);
  const int64_t act = dim(info, 4, "act");
  const double alpha = num(info, 5, "alpha");
  if (act > 5) rangeError(env, "biasAct: unknown activation code " + std::to_string(act));
  const int64_t n = static_cast<int64_t>(static_cast<double>(rows) * static_cast<double>(cols));
  need(env, C, n);
  if (bias.data) {
    if (bias.len == 0 || (bias.len != 1 && static_cast<int64_t>(bias.len) != cols && n % static_cast<int64_t>(bias.len) != 0))
      rangeError(env, "bias has " + std::to_string(bias.len) + " elements, which does not broadcast over " +
                          std::to_string(cols) + " columns");
    disjoint(env, C, {&bias});
  }
  gp::biasAct(C.data, static_cast<size_t>(rows), static_cast<size_t>(cols), bias.data, bias.len,
              static_cast<int>(act), static_cast<float>(alpha));
  return env.Undefined();
}

gp::ConvGeom geom(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[i];
  if (!v.IsArray()) typeError(env, "conv geometry must be an array of 15 integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != 15) typeError(env, "conv geometry must be an array of 15 integers");
  int64_t g[15];
  static const char* names[15] = {"batch", "inHeight", "inWidth", "inChannels", "filterHeight",
                                  "filterWidth", "outChannels", "strideHeight", "strideWidth",
                                  "dilationHeight", "dilationWidth", "padTop", "padLeft", "outHeight",
                                  "outWidth"};
  for (uint32_t k = 0; k < 15; k++) {
    const Napi::Value e = a.Get(k);
    if (!e.IsNumber()) typeError(env, std::string("conv ") + names[k] + " must be a number");
    const double d = e.As<Napi::Number>().DoubleValue();
    const double lo = (k >= 7 && k <= 10) ? 1 : (k == 11 || k == 12) ? -kMaxDim : 0;
    if (!(d == std::floor(d)) || d < lo || d > kMaxDim)
      rangeError(env, std::string("conv ") + names[k] + " must be an integer >= " + std::to_string(static_cast<int64_t>(lo)) +
                          ", got " + std::to_string(d));
    g[k] = static_cast<int64_t>(d);
  }
  gp::ConvGeom c;
  c.n = static_cast<int>(g[0]);
  c.h = static_cast<int>(g[1]);
  c.w = static_cast<int>(g[2]);
  c.c = static_cast<int>(g[3]);
  c.fh = static_cast<int>(g[4]);
  c.fw = static_cast<int>(g[5]);
  c.oc = static_cast<int>(g[6]);
  c.sh = static_cast<int>(g[7]);
  c.sw = static_cast<int>(g[8]);
  c.dh = static_cast<int>(g[9]);
  c.dw = static_cast<int>(g[10]);
  c.padT = static_cast<int>(g[11]);
  c.padL = static_cast<int>(g[12]);
  c.oh = static_cast<int>(g[13]);
  c.ow = static_cast<int>(g[14]);
  // Every index the kernels form must fit in 32-bit ints (BLAS) and in int
  // arithmetic on coordinates (oy*sh + ky*dh, ...).
  prod(env, {g[0], g[1], g[2], g[3]}, "conv input");
  prod(env, {g[0], g[13], g[14], g[6]}, "conv output");
  prod(env, {g[0], g[13], g[14]}, "conv patch rows");
  prod(env, {g[4], g[5], g[3], g[6]}, "conv filter");
  prod(env, {g[13], g[14], g[4], g[5], g[3]}, "conv patches of one image");
  if (static_cast<double>(g[13]) * g[7] + static_cast<double>(g[4]) * g[9] + std::fabs(static_cast<double>(g[11])) > kMaxDim ||
      static_cast<double>(g[14]) * g[8] + static_cast<double>(g[5]) * g[10] + std::fabs(static_cast<double>(g[12])) > kMaxDim)
    rangeError(env, "conv geometry coordinates overflow 32-bit integers");
  return c;
}

int64_t inSize(const gp::ConvGeom& g) { return static_cast<int64_t>(g.n) * g.h * g.w * g.c; }
int64_t outSize(const gp::ConvGeom& g) { return static_cast<int64_t>(g.n) * g.oh * g.ow * g.oc; }
int64_t filterSize(const gp::ConvGeom& g) { return static_cast<int64_t>(g.fh) * g.fw * g.c * g.oc; }

// conv2d(x, filter, y, geometry)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "conv2d");
  F32 x = f32(info, 0, "x"), f = f32(info, 1, "filter"), y = f32(info, 2, "y");
  const gp::ConvGeom g = geom(info, 3);
  need(env, x, inSize(g));
  need(env, f, filterSize(g));
  need(env, y, outSize(g));
  disjoint(env, y, {&x, &f});
  gp::conv2d(g, x.data, f.data, y.data);
  return env.Undefined();
}

// conv2dBackpropInput(dy, filter, dx, geometry)
Napi::Value Conv2dBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "conv2dBackpropInput");
  F32 dy = f32(info, 0, "dy"), f = f32(info, 1, "filter"), dx = f32(info, 2, "dx");
  const gp::ConvGeom g = geom(info, 3);
  need(env, dy, outSize(g));
  need(env, f, filterSize(g));
  need(env, dx, inSize(g));
  disjoint(env, dx, {&dy, &f});
  gp::conv2dBackpropInput(g, dy.data, f.data, dx.data);
  return env.Undefined();
}

// conv2dBackpropFilter(x, dy, dfilter, geometry)
Napi::Value Conv2dBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "conv2dBackpropFilter");
  F32 x = f32(info, 0, "x"), dy = f32(info, 1, "dy"), df = f32(info, 2, "dfilter");
  const gp::ConvGeom g = geom(info, 3);
  need(env, x, inSize(g));
  need(env, dy, outSize(g));
  need(env, df, filterSize(g));
  disjoint(env, df, {&x, &dy});
  gp::conv2dBackpropFilter(g, x.data, dy.data, df.data);
  return env.Undefined();
}

// unary(op, x, y, alpha): y has x's length.
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "unary");
  const int64_t op = dim(info, 0, "op");
  if (op > 17) rangeError(env, "unary: unknown op code " + std::to_string(op));
  F32 x = f32(info, 1, "x"), y = f32(info, 2, "y");
  const double alpha = num(info, 3, "alpha");
  exact(env, y, static_cast<int64_t>(x.len));
  if (x.data != y.data) disjoint(env, y, {&x});  // exact in-place is fine elementwise
  gp::unary(static_cast<int>(op), x.data, y.data, x.len, static_cast<float>(alpha));
  return env.Undefined();
}

// binary(op, a, b, out[, rep]): sides of length 1 are scalars; a shorter side must
// divide out's length and repeats with that period, or with rep > 1 covers rep
// consecutive outputs per element.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "binary");
  const int64_t op = dim(info, 0, "op");
  if (op > 7) rangeError(env, "binary: unknown op code " + std::to_string(op));
  F32 a = f32(info, 1, "a"), b = f32(info, 2, "b"), out = f32(info, 3, "out");
  const size_t n = out.len;
  // Optional rep: leading broadcast of the shorter side (see compute.h).
  const size_t rep = info.Length() > 4 && !info[4].IsUndefined() ? static_cast<size_t>(dim(info, 4, "rep")) : 0;
  if (rep > 1) {
    const size_t shorter = a.len < b.len ? a.len : b.len;
    const size_t longer = a.len < b.len ? b.len : a.len;
    if (longer != n || shorter * rep != n)
      rangeError(env, "binary: with rep " + std::to_string(rep) + " one side must have the output's length " +
                          std::to_string(n) + " and the other " + std::to_string(n / rep));
  }
  for (const F32* s : {&a, &b})
    if (s->len == 0 ? n != 0 : (s->len != 1 && n % s->len != 0) || s->len > n)
      rangeError(env, "binary: " + s->name + " has " + std::to_string(s->len) +
                          " elements, which does not broadcast to " + std::to_string(n));
  if (a.len != n && b.len != n && a.len != 1 && b.len != 1)
    rangeError(env, "binary: one of a, b must have the output's length or length 1");
  disjoint(env, out, {&a, &b});
  if (n > 0) gp::binary(static_cast<int>(op), a.data, a.len, b.data, b.len, out.data, n, rep);
  return env.Undefined();
}

// reduceRows(op, x, outer, inner, out)
Napi::Value ReduceRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 5, "reduceRows");
  const int64_t op = dim(info, 0, "op");
  if (op > 3) rangeError(env, "reduceRows: unknown op code " + std::to_string(op));
  F32 x = f32(info, 1, "x");
  const int64_t outer = dim(info, 2, "outer"), inner = dim(info, 3, "inner");
  F32 out = f32(info, 4, "out");
  if ((op == 1 || op == 2) && inner == 0 && outer > 0) rangeError(env, "reduceRows: max/min of an empty row");
  exact(env, x, static_cast<int64_t>(static_cast<double>(outer) * static_cast<double>(inner)));
  need(env, out, outer);
  disjoint(env, out, {&x});
  gp::reduceRows(static_cast<int>(op), x.data, static_cast<size_t>(outer), static_cast<size_t>(inner), out.data);
  return env.Undefined();
}

// reduceCols(x, outer, inner, out): column sums
Napi::Value ReduceCols(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "reduceCols");
  F32 x = f32(info, 0, "x");
  const int64_t outer = dim(info, 1, "outer"), inner = dim(info, 2, "inner");
  F32 out = f32(info, 3, "out");
  exact(env, x, static_cast<int64_t>(static_cast<double>(outer) * static_cast<double>(inner)));
  need(env, out, inner);
  disjoint(env, out, {&x});
  gp::reduceCols(x.data, static_cast<size_t>(outer), static_cast<size_t>(inner), out.data);
  return env.Undefined();
}

struct U8 {
  uint8_t* data = nullptr;
  size_t len = 0;
};

U8 u8(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    typeError(info.Env(), std::string(name) + " must be a Uint8Array");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return U8{a.Data(), a.ElementLength()};
}

// greater(a, b, out): out[i] = a[i] > b (b of length 1) or a[i] > b[i]; out a Uint8Array of a's length.
Napi::Value Greater(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 3, "greater");
  F32 a = f32(info, 0, "a"), b = f32(info, 1, "b");
  U8 out = u8(info, 2, "out");
  if (b.len != 1 && b.len != a.len) rangeError(env, "greater: b must have length 1 or a's length " + std::to_string(a.len));
  if (out.len != a.len) rangeError(env, "greater: out has " + std::to_string(out.len) + " elements, expected " + std::to_string(a.len));
  gp::greater(a.data, a.len, b.data, b.len, out.data, out.len);
  return env.Undefined();
}

// select(cond, t, e, out): out[i] = cond[i] ? t[i] : e[i], all of one length; out may be t or e exactly.
Napi::Value Select(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 4, "select");
  U8 c = u8(info, 0, "cond");
  F32 t = f32(info, 1, "t"), e = f32(info, 2, "e"), out = f32(info, 3, "out");
  exact(env, t, static_cast<int64_t>(c.len));
  exact(env, e, static_cast<int64_t>(c.len));
  exact(env, out, static_cast<int64_t>(c.len));
  if (out.data != t.data && out.data != e.data) disjoint(env, out, {&t, &e});
  gp::select(c.data, t.data, e.data, out.data, c.len);
  return env.Undefined();
}

// groupNormForward(x, gamma, beta, B, R, C, G, eps, y, mean, rstd): x and y [B·R·C], gamma and
// beta [C], mean and rstd [B·G]; G must divide C.
Napi::Value GroupNormForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 11, "groupNormForward");
  F32 x = f32(info, 0, "x"), gamma = f32(info, 1, "gamma"), beta = f32(info, 2, "beta");
  const int64_t B = dim(info, 3, "B"), R = dim(info, 4, "R"), C = dim(info, 5, "C", 1), G = dim(info, 6, "G", 1);
  const double eps = num(info, 7, "eps");
  F32 y = f32(info, 8, "y"), mean = f32(info, 9, "mean"), rstd = f32(info, 10, "rstd");
  if (C % G != 0) rangeError(env, "groupNormForward: " + std::to_string(G) + " groups do not divide " + std::to_string(C) + " channels");
  if (!(eps >= 0)) rangeError(env, "groupNormForward: eps must be ≥ 0");
  const int64_t n = prod(env, {B, R, C}, "x");
  exact(env, x, n);
  exact(env, y, n);
  exact(env, gamma, C);
  exact(env, beta, C);
  exact(env, mean, prod(env, {B, G}, "mean"));
  exact(env, rstd, B * G);
  disjoint(env, y, {&x, &gamma, &beta, &mean, &rstd});
  disjoint(env, mean, {&x, &gamma, &beta, &rstd});
  disjoint(env, rstd, {&x, &gamma, &beta});
  gp::groupNormForward(x.data, gamma.data, beta.data, static_cast<int>(B), static_cast<int>(R), static_cast<int>(C),
                       static_cast<int>(G), static_cast<float>(eps), y.data, mean.data, rstd.data);
  return env.Undefined();
}

// groupNormBackward(dy, x, mean, rstd, gamma, B, R, C, G, dx, dgamma, dbeta).
Napi::Value GroupNormBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 12, "groupNormBackward");
  F32 dy = f32(info, 0, "dy"), x = f32(info, 1, "x"), mean = f32(info, 2, "mean"), rstd = f32(info, 3, "rstd"),
      gamma = f32(info, 4, "gamma");
  const int64_t B = dim(info, 5, "B"), R = dim(info, 6, "R"), C = dim(info, 7, "C", 1), G = dim(info, 8, "G", 1);
  F32 dx = f32(info, 9, "dx"), dgamma = f32(info, 10, "dgamma"), dbeta = f32(info, 11, "dbeta");
  if (C % G != 0) rangeError(env, "groupNormBackward: " + std::to_string(G) + " groups do not divide " + std::to_string(C) + " channels");
  const int64_t n = prod(env, {B, R, C}, "x");
  exact(env, dy, n);
  exact(env, x, n);
  exact(env, dx, n);
  exact(env, gamma, C);
  exact(env, dgamma, C);
  exact(env, dbeta, C);
  exact(env, mean, prod(env, {B, G}, "mean"));
  exact(env, rstd, B * G);
  disjoint(env, dx, {&dy, &x, &mean, &rstd, &gamma, &dgamma, &dbeta});
  disjoint(env, dgamma, {&dy, &x, &mean, &rstd, &gamma, &dbeta});
  disjoint(env, dbeta, {&dy, &x, &mean, &rstd, &gamma});
  gp::groupNormBackward(dy.data, x.data, mean.data, rstd.data, gamma.data, static_cast<int>(B), static_cast<int>(R),
                        static_cast<int>(C), static_cast<int>(G), dx.data, dgamma.data, dbeta.data);
  return env.Undefined();
}

// useDnnl(on): route convolutions to oneDNN or to im2col + sgemm; returns the previous setting.
Napi::Value UseDnnl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 1, "useDnnl");
  return Napi::Boolean::New(env, gp::dnnlEnable(flag(info, 0, "on")));
}

// fillUniform(state, out): out[i] = (u32 >> 8) · 2^-24, advancing the Rng state.
Napi::Value FillUniform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 2, "fillUniform");
  const Napi::Value s = info[0];
  if (!s.IsTypedArray() || s.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      s.As<Napi::Uint32Array>().ElementLength() != 4)
    typeError(env, "fillUniform needs an Rng state (Uint32Array of 4 words)");
  uint32_t* state = s.As<Napi::Uint32Array>().Data();
  if ((state[0] | state[1] | state[2] | state[3]) == 0) rangeError(env, "Rng state must not be all zero");
  F32 out = f32(info, 1, "out");
  static thread_local std::vector<uint32_t> u;
  if (u.size() < out.len) u.resize(out.len);
  gp::fillU32(state, u.data(), out.len);
  for (size_t i = 0; i < out.len; i++) out.data[i] = static_cast<float>(u[i] >> 8) * (1.0f / 16777216.0f);
  return env.Undefined();
}

// tfjs allocates a fresh Float32Array for every kernel output; at VAE sizes
// (0.1–1.3 MB) glibc serves each from a new mmap and returns it on free, so every
// op pays page faults on fresh zero pages. Serving them from the heap instead
// made a 313,600-element multiply with its output allocation ~2.5× faster
// (≈350 → ≈140 µs). Process-wide; skipped when the user set glibc's own knobs.
void tuneMalloc() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr && std::getenv("GENPHYS_NO_MALLOPT") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
  }
#endif
}

// adam(param, grad, m, v, out, lr, beta1, beta2, eps, c1, c2): all five buffers
// the same length; m and v updated in place; out may be param itself.
Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  argc(info, 11, "adam");
  F32 p = f32(info, 0, "param"), g = f32(info, 1, "grad"), m = f32(info, 2, "m"), v = f32(info, 3, "v"),
      out = f32(info, 4, "out");
  const double lr = num(info, 5, "lr"), b1 = num(info, 6, "beta1"), b2 = num(info, 7, "beta2"),
               eps = num(info, 8, "epsilon"), c1 = num(info, 9, "c1"), c2 = num(info, 10, "c2");
  const int64_t n = static_cast<int64_t>(p.len);
  for (const F32* a : {&g, &m, &v, &out}) exact(env, *a, n);
  disjoint(env, m, {&p, &g, &v, &out});
  disjoint(env, v, {&p, &g, &out});
  if (out.data != p.data) disjoint(env, out, {&p, &g});
  else disjoint(env, out, {&g});
  gp::adam(p.data, g.data, m.data, v.data, out.data, p.len, static_cast<float>(lr), static_cast<float>(b1),
           static_cast<float>(b2), static_cast<float>(eps), static_cast<float>(c1), static_cast<float>(c2));
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  exports.Set("adam", Napi::Function::New(env, Adam));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("unitLayer", Napi::Function::New(env, UnitLayer));
  exports.Set("cdUpdate", Napi::Function::New(env, CdUpdate));
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
  exports.Set("biasAct", Napi::Function::New(env, BiasAct));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2dBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2dBackpropFilter));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("reduceRows", Napi::Function::New(env, ReduceRows));
  exports.Set("reduceCols", Napi::Function::New(env, ReduceCols));
  exports.Set("fillUniform", Napi::Function::New(env, FillUniform));
  exports.Set("greater", Napi::Function::New(env, Greater));
  exports.Set("useDnnl", Napi::Function::New(env, UseDnnl));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("groupNormForward", Napi::Function::New(env, GroupNormForward));
  exports.Set("groupNormBackward", Napi::Function::New(env, GroupNormBackward));
  return exports;
}

}  // namespace

NODE_API_MODULE(genphys_native, Init)
