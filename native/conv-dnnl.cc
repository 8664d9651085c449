// Convolutions through oneDNN (Debian's libdnnl-dev), when the addon is built with it
// (GP_DNNL, set by scripts/dnnl.mjs). oneDNN picks its kernels for the CPU at run time
// (AVX-512 brgemm / jit kernels on this machine), where OpenBLAS 0.3.21 is held to its
// Haswell (AVX2) kernels here; on the U-Net and DCGAN shapes that is 2–4× the im2col +
// sgemm path (bench/conv-shapes.mjs). Activations stay NHWC, as tfjs keeps them, so only
// the small HWIO filters are reordered to the primitive's preferred layout.
//
// Each entry point returns false, having written nothing that matters, when oneDNN is
// not compiled in or refuses the geometry; the caller then runs the im2col path.
#include "conv-dnnl.h"

#ifdef GP_DNNL
#include <dnnl.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <tuple>

extern "C" void omp_set_num_threads(int);

namespace gp {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// Engine, stream and plan cache per thread: the addon may be loaded in worker threads,
// and a plan's reorder buffers are scratch space.
dnnl::engine& eng() {
  static thread_local dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& strm() {
  static thread_local dnnl::stream s(eng());
  return s;
}

using Key = std::tuple<int, int, int, int, int, int, int, int, int, int, int, int, int, int, int>;

struct Plan {
  memory::desc src, dst, userW;
  dnnl::convolution_forward::primitive_desc fwdPd;
  dnnl::primitive fwd, bwdData, bwdWeights;
  memory::desc fwdW, bdW, bwW;
  memory fwdWMem, bdWMem, bwWMem;  // reordered weights (owned), when the layout differs
  bool haveBd = false, haveBw = false;
};

memory::dims dims(std::initializer_list<int> v) {
  memory::dims d;
  for (int x : v) d.push_back(x);
  return d;
}

// One plan per geometry; the U-Net and the GANs use a handful of them.
Plan* plan(const ConvGeom& g) {
  static thread_local std::map<Key, std::unique_ptr<Plan>> cache;
  const Key k{g.n, g.h, g.w, g.c, g.fh, g.fw, g.oc, g.sh, g.sw, g.dh, g.dw, g.padT, g.padL, g.oh, g.ow};
  auto it = cache.find(k);
  Plan* p = it == cache.end() ? nullptr : it->second.get();
  if (!p) {
    if (cache.size() >= 256) cache.clear();
    auto fresh = std::make_unique<Plan>();
    p = fresh.get();
    p->src = memory::desc(dims({g.n, g.c, g.h, g.w}), dt::f32, tag::nhwc);
    p->dst = memory::desc(dims({g.n, g.oc, g.oh, g.ow}), dt::f32, tag::nhwc);
    p->userW = memory::desc(dims({g.oc, g.c, g.fh, g.fw}), dt::f32, tag::hwio);
    const memory::desc anyW(dims({g.oc, g.c, g.fh, g.fw}), dt::f32, tag::any);
    const memory::dims strides = dims({g.sh, g.sw});
    const memory::dims dil = dims({g.dh - 1, g.dw - 1});  // oneDNN counts dilation from 0
    const memory::dims padL = dims({g.padT, g.padL});
    // Right/bottom padding so that the output has exactly oh × ow (may be negative: a
    // 'valid' conv that leaves input rows unread).
    const memory::dims padR = dims({(g.oh - 1) * g.sh + (g.fh - 1) * g.dh + 1 - g.h - g.padT,
                                    (g.ow - 1) * g.sw + (g.fw - 1) * g.dw + 1 - g.w - g.padL});
    const dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p->src,
                                             anyW, p->dst, strides, dil, padL, padR);
    p->fwdPd = dnnl::convolution_forward::primitive_desc(fd, eng());
    p->fwd = dnnl::convolution_forward(p->fwdPd);
    p->fwdW = p->fwdPd.weights_desc();
    if (p->fwdW != p->userW) p->fwdWMem = memory(p->fwdW, eng());
    const dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, p->src, anyW, p->dst, strides, dil,
                                                   padL, padR);
    const dnnl::convolution_backward_data::primitive_desc bdPd(bd, eng(), p->fwdPd);
    p->bwdData = dnnl::convolution_backward_data(bdPd);
    p->bdW = bdPd.weights_desc();
    if (p->bdW != p->userW) p->bdWMem = memory(p->bdW, eng());
    const dnnl::convolution_backward_weights::desc bw(dnnl::algorithm::convolution_direct, p->src, anyW, p->dst, strides,
                                                      dil, padL, padR);
    const dnnl::convolution_backward_weights::primitive_desc bwPd(bw, eng(), p->fwdPd);
    p->bwdWeights = dnnl::convolution_backward_weights(bwPd);
    p->bwW = bwPd.diff_weights_desc();
    if (p->bwW != p->userW) p->bwWMem = memory(p->bwW, eng());
    cache.emplace(k, std::move(fresh));
  }
  return p;
}

// Filter in the user's HWIO layout → the layout `want` (into `owned` when it differs).
memory weightsFor(const Plan& p, const memory::desc& want, memory& owned, const float* f) {
  memory user(p.userW, eng(), const_cast<float*>(f));
  if (want == p.userW) return user;
  dnnl::reorder(user, owned).execute(strm(), user, owned);
  return owned;
}

std::atomic<bool> g_enabled{true};
std::atomic<long long> g_count{0};    // convolutions run on oneDNN
std::atomic<long long> g_refused{0};  // convolutions oneDNN refused (they fall back to im2col silently; tests check this)

bool usable(const ConvGeom& g) {
  return g_enabled && g.n > 0 && g.h > 0 && g.w > 0 && g.c > 0 && g.oc > 0 && g.oh > 0 && g.ow > 0 && g.fh > 0 && g.fw > 0 &&
         g.dh >= 1 && g.dw >= 1;
}

}  // namespace

bool dnnlAvailable() { return true; }

const char* dnnlVersion() {
  static std::string s;
  if (s.empty()) {
    const dnnl_version_t* v = dnnl_version();
    s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  }
  return s.c_str();
}

void dnnlSetThreads(int n) { omp_set_num_threads(n); }

double dnnlCount() { return static_cast<double>(g_count.load()); }
double dnnlRefused() { return static_cast<double>(g_refused.load()); }

bool dnnlEnable(bool on) {
  return g_enabled.exchange(on);
}

// Run `body` on the plan for g, counting it; false (counted as refused) when oneDNN throws.
template <class F>
bool run(const ConvGeom& g, F body) {
  if (!usable(g)) return false;
  try {
    body(*plan(g));
    strm().wait();
    g_count++;
    return true;
  } catch (const dnnl::error&) {
    g_refused++;
    return false;
  }
}

bool dnnlConv2d(const ConvGeom& g, const float* x, const float* f, float* y) {
  return run(g, [&](Plan& p) {
    memory w = weightsFor(p, p.fwdW, p.fwdWMem, f);
    memory src(p.src, eng(), const_cast<float*>(x)), dst(p.dst, eng(), y);
    p.fwd.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}});
  });
}

bool dnnlConv2dBackpropInput(const ConvGeom& g, const float* dy, const float* f, float* dx) {
  return run(g, [&](Plan& p) {
    memory w = weightsFor(p, p.bdW, p.bdWMem, f);
    memory ddst(p.dst, eng(), const_cast<float*>(dy)), dsrc(p.src, eng(), dx);
    p.bwdData.execute(strm(), {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dsrc}});
  });
}

bool dnnlConv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* df) {
  return run(g, [&](Plan& p) {
    memory src(p.src, eng(), const_cast<float*>(x)), ddst(p.dst, eng(), const_cast<float*>(dy));
    memory user(p.userW, eng(), df);
    memory& out = p.bwW == p.userW ? user : p.bwWMem;
    p.bwdWeights.execute(strm(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_DIFF_WEIGHTS, out}});
    if (p.bwW != p.userW) dnnl::reorder(p.bwWMem, user).execute(strm(), p.bwWMem, user);
  });
}

}  // namespace gp

#else  // !GP_DNNL

namespace gp {
bool dnnlAvailable() { return false; }
const char* dnnlVersion() { return ""; }
void dnnlSetThreads(int) {}
bool dnnlEnable(bool) { return false; }
double dnnlCount() { return 0; }
double dnnlRefused() { return 0; }
bool dnnlConv2d(const ConvGeom&, const float*, const float*, float*) { return false; }
bool dnnlConv2dBackpropInput(const ConvGeom&, const float*, const float*, float*) { return false; }
bool dnnlConv2dBackpropFilter(const ConvGeom&, const float*, const float*, float*) { return false; }
}  // namespace gp

#endif
