// The conv2d kernels of the table: whole batches, images split across the kernel pool. float32 goes to oneDNN's
// convolutions where oneDNN is loaded and measured faster (vugrad/onednn_conv.h). Otherwise each image goes
// through a direct convolution (vugrad/conv_direct.h) where that is faster (stride 1, few channels: LeNet's
// layers), else through im2col and one single-threaded gemm per image.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "vugrad/blas.h"
#include "vugrad/conv_direct.h"
#include "vugrad/finite.h"
#include "vugrad/kernels.h"
#include "vugrad/onednn.h"
#include "vugrad/onednn_conv.h"
#include "vugrad/parallel.h"

namespace vg {

namespace {

struct Geometry {
  size_t n, c, h, w, o, kh, kw, stride, pad;
  size_t oh, ow, l, k, image;
  Geometry(size_t n_, size_t c_, size_t h_, size_t w_, size_t o_, size_t kh_, size_t kw_, size_t stride_, size_t pad_)
      : n(n_), c(c_), h(h_), w(w_), o(o_), kh(kh_), kw(kw_), stride(stride_), pad(pad_) {
    oh = static_cast<size_t>(convOutSize(h, kh, stride, pad));
    ow = static_cast<size_t>(convOutSize(w, kw, stride, pad));
    l = oh * ow;
    k = c * kh * kw;
    image = c * h * w;
  }
  bool direct() const { return stride == 1 && conv2dDirectPreferred(c, o, oh, ow, kh, kw); }
  bool onednn(ConvKernel kernel, bool bf16) const { return onednnConvWanted(kernel, bf16, c, o, kh, kw, stride); }
};

// NOTE: the direct convolution computes padded and surplus positions too (products with zeros it then drops or
// skips); with an infinity in the data those give NaN (0 * inf) where im2col + gemm, the JS kernels and PyTorch
// give a finite value or infinity. So data that is not all finite (allFinite, vugrad/finite.h) takes the im2col
// path; ordinary data keeps the direct one.

}  // namespace

template <typename T>
void conv2d(const T* x, const T* weight, const T* bias, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
            size_t kw, size_t stride, size_t pad, T* out) {
  const Geometry G(n, c, h, w, o, kh, kw, stride, pad);
  // oneDNN refuses data with a NaN or infinity (checked per slice, in parallel): vugrad's path below then runs.
  if constexpr (std::is_same_v<T, float>) {
    const bool bf16 = precisionBf16();
    if (G.onednn(ConvKernel::Forward, bf16) && onednnConv2d(x, weight, bias, n, c, h, w, o, kh, kw, stride, pad, bf16, out))
      return;
  }
  // vugrad's own path is float32 throughout, whatever the thread's precision (its per-image gemms included).
  const Float32Scope float32;
  if (G.direct() && allFinite(x, n * G.image) && allFinite(weight, o * G.k)) {
    parallelFor(n, 1, [&](size_t i0, size_t i1) { conv2dDirectForward(x, i0, i1, c, h, w, weight, o, kh, kw, pad, bias, out); });
    return;
  }
  parallelFor(n, 1, [&](size_t i0, size_t i1) {
    std::vector<T> cols(G.k * G.l);
    for (size_t i = i0; i < i1; i++) {
      im2col(x + i * G.image, c, h, w, kh, kw, stride, pad, cols.data());
      T* y = out + i * o * G.l;  // [o, L]: image i's output, already in NCHW order
      if (bias != nullptr) {
        for (size_t p = 0; p < o; p++) std::fill(y + p * G.l, y + (p + 1) * G.l, bias[p]);
      }
      gemm(false, false, static_cast<int>(o), static_cast<int>(G.l), static_cast<int>(G.k), T(1), weight, cols.data(),
           bias != nullptr ? T(1) : T(0), y);
    }
  });
}

// The batch is cut into one slice per thread; slice s sums its images' gradients into its own buffer (slice 0
// into gw), and the buffers are added in slice order afterwards, so the result does not depend on which
// thread ran which slice.
template <typename T>
void conv2dBackwardWeight(const T* x, const T* g, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
                          size_t kw, size_t stride, size_t pad, T* gw) {
  const Geometry G(n, c, h, w, o, kh, kw, stride, pad);
  const size_t size = o * G.k;
  if constexpr (std::is_same_v<T, float>) {
    const bool bf16 = precisionBf16();
    if (n > 0 && G.onednn(ConvKernel::BackwardWeight, bf16) &&
        onednnConv2dBackwardWeight(x, g, n, c, h, w, o, kh, kw, stride, pad, bf16, gw))
      return;
  }
  // vugrad's own path is float32 throughout, whatever the thread's precision (its per-image gemms included).
  const Float32Scope float32;
  if (n == 0) {
    std::fill(gw, gw + size, T(0));
    return;
  }
  const size_t slices = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(parallelThreads()), n));
  std::vector<std::vector<T>> partial(slices - 1, std::vector<T>(size));
  const bool direct = G.direct() && allFinite(x, n * G.image) && allFinite(g, n * o * G.l);
  parallelFor(slices, 1, [&](size_t s0, size_t s1) {
    std::vector<T> cols(direct ? 0 : G.k * G.l);
    for (size_t s = s0; s < s1; s++) {
      const size_t i0 = n * s / slices, i1 = n * (s + 1) / slices;
      T* target = s == 0 ? gw : partial[s - 1].data();
      if (direct) {
        conv2dDirectWeightGrad(x, g, i0, i1, c, h, w, o, kh, kw, pad, target, false);
        continue;
      }
      for (size_t i = i0; i < i1; i++) {
        im2col(x + i * G.image, c, h, w, kh, kw, stride, pad, cols.data());
        gemm(false, true, static_cast<int>(o), static_cast<int>(G.k), static_cast<int>(G.l), T(1), g + i * o * G.l,
             cols.data(), i == i0 ? T(0) : T(1), target);
      }
    }
  });
  for (const std::vector<T>& p : partial) {
    for (size_t j = 0; j < size; j++) gw[j] += p[j];
  }
}

template <typename T>
void conv2dBackwardInput(const T* g, const T* weight, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
                         size_t kw, size_t stride, size_t pad, T* gx) {
  const Geometry G(n, c, h, w, o, kh, kw, stride, pad);
  if constexpr (std::is_same_v<T, float>) {
    const bool bf16 = precisionBf16();
    if (G.onednn(ConvKernel::BackwardInput, bf16) &&
        onednnConv2dBackwardInput(g, weight, n, c, h, w, o, kh, kw, stride, pad, bf16, gx))
      return;
  }
  // vugrad's own path is float32 throughout, whatever the thread's precision (its per-image gemms included).
  const Float32Scope float32;
  if (G.direct() && allFinite(g, n * o * G.l) && allFinite(weight, o * G.k)) {
    parallelFor(n, 1, [&](size_t i0, size_t i1) { conv2dDirectInputGrad(g, weight, i0, i1, c, h, w, o, kh, kw, pad, gx); });
    return;
  }
  parallelFor(n, 1, [&](size_t i0, size_t i1) {
    std::vector<T> gcols(G.k * G.l);
    for (size_t i = i0; i < i1; i++) {
      gemm(true, false, static_cast<int>(G.k), static_cast<int>(G.l), static_cast<int>(o), T(1), weight,
           g + i * o * G.l, T(0), gcols.data());
      T* gxi = gx + i * G.image;
      std::fill(gxi, gxi + G.image, T(0));
      col2im(gcols.data(), c, h, w, kh, kw, stride, pad, gxi);
    }
  });
}

#define VG_INSTANTIATE(T)                                                                                       \
  template void conv2d<T>(const T*, const T*, const T*, size_t, size_t, size_t, size_t, size_t, size_t, size_t, \
                          size_t, size_t, T*);                                                                  \
  template void conv2dBackwardWeight<T>(const T*, const T*, size_t, size_t, size_t, size_t, size_t, size_t,      \
                                        size_t, size_t, size_t, T*);                                            \
  template void conv2dBackwardInput<T>(const T*, const T*, size_t, size_t, size_t, size_t, size_t, size_t,       \
                                       size_t, size_t, size_t, T*);

VG_INSTANTIATE(float)
VG_INSTANTIATE(double)
#undef VG_INSTANTIATE

}  // namespace vg
