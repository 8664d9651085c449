// Convolutions through oneDNN when the addon is built with it (see conv-dnnl.cc).
#pragma once
#include "compute.h"

namespace gp {
// Whether oneDNN is compiled in, its version ("" without it), and its thread count.
bool dnnlAvailable();
const char* dnnlVersion();
void dnnlSetThreads(int n);
// Route convolutions to oneDNN (true, the default where compiled in) or to im2col + sgemm;
// returns the previous setting (always false without oneDNN). For tests and comparisons.
bool dnnlEnable(bool on);
// How many convolutions ran on oneDNN so far (a geometry it refuses falls back silently).
double dnnlCount();
// How many convolutions oneDNN refused (they ran on im2col instead).
double dnnlRefused();
// Same contracts as conv2d / conv2dBackpropInput / conv2dBackpropFilter in compute.h; false
// (nothing useful written) when oneDNN is absent or refuses the geometry.
bool dnnlConv2d(const ConvGeom& g, const float* x, const float* f, float* y);
bool dnnlConv2dBackpropInput(const ConvGeom& g, const float* dy, const float* f, float* dx);
bool dnnlConv2dBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* df);
}  // namespace gp
