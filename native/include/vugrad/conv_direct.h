// Direct (no im2col) stride-1 2-D convolution: forward, weight gradient and input gradient, float and double.
//
// All arrays contiguous row-major NCHW (x, g, out, gx) / OIHW (weight, gw). Stride 1, zero padding `pad` on every side.
// oh = h + 2*pad - kh + 1, ow = w + 2*pad - kw + 1 (the caller guarantees >= 1).
// Each function handles images [i0, i1) of the batch only (so callers can split a batch across threads); the pointers
// x / g / out / gx are to the WHOLE batch (image i is at offset i * channels * plane). Single-threaded; no state.
//
// When direct beats im2col + sgemm (single thread, OpenBLAS, AMD Zen 3 with AVX2/FMA, batch 64; measured by
// benchmarks/c/conv_direct_check.cc --sweep): LeNet conv1 / conv2 3-8x / 1.6-2.8x; every layer with kh*kw > 1,
// c*o*kh*kw <= ~65k and outputs at least ~8 wide won 1.2-2.6x (e.g. c64 o64 8x8 3x3, c32 o64 14x14 5x5). im2col wins
// for tiny outputs (a 5x5 -> 1x1 "fully connected" conv: most vector lanes wasted, 3-5x slower), big layers
// (c = o = 128 or more: 0.6-0.9x) and is even for 1x1 kernels. conv2dDirectPreferred() encodes that rule.
#pragma once

#include <cstddef>

namespace vg {

// out[i,o,:,:] = bias[o] (or 0 when bias == nullptr) + sum_{c,ky,kx} w[o,c,ky,kx] * xpad[i,c,oy+ky,ox+kx]
template <typename T>
void conv2dDirectForward(const T* x, size_t i0, size_t i1, size_t c, size_t h, size_t w, const T* weight, size_t o,
                         size_t kh, size_t kw, size_t pad, const T* bias, T* out);

// gw[o,c,ky,kx] = (accumulate ? gw : 0) + sum_{i in [i0,i1), oy, ox} g[i,o,oy,ox] * xpad[i,c,oy+ky,ox+kx]
template <typename T>
void conv2dDirectWeightGrad(const T* x, const T* g, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                            size_t kh, size_t kw, size_t pad, T* gw, bool accumulate);

// gx[i,c,iy,ix] = sum_{o,ky,kx} w[o,c,ky,kx] * g[i,o,iy+pad-ky,ix+pad-kx] (terms with an out-of-range output index
// omitted); OVERWRITES gx for images [i0,i1).
template <typename T>
void conv2dDirectInputGrad(const T* g, const T* weight, size_t i0, size_t i1, size_t c, size_t h, size_t w, size_t o,
                           size_t kh, size_t kw, size_t pad, T* gx);

// Heuristic from the measurements: true when the direct kernels are expected to beat im2col + gemm for a stride-1
// convolution with c input channels, o output channels, an oh x ow output and a kh x kw kernel.
bool conv2dDirectPreferred(size_t c, size_t o, size_t oh, size_t ow, size_t kh, size_t kw);

}  // namespace vg
