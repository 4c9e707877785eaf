// Convolutions through oneDNN (see vugrad/onednn.h): which kernel runs conv2d, and the oneDNN path itself.
//
// The oneDNN path runs float32 NCHW / OIHW conv2d (forward with optional bias, weight gradient, input gradient)
// with oneDNN's convolution primitives: the batch is cut into one slice per pool thread, and each slice runs a
// primitive on its images on its own thread, single-threaded (as the gemm path does, so no OpenMP thread ever
// starts). Primitives are cached per shape on each thread. The arrays keep vugrad's plain layouts; the
// primitives use the blocked layouts oneDNN picks, with reorders to and from them in each slice.
#pragma once

#include <cstddef>
#include <string>

namespace vg {

// Whether oneDNN runs float32 conv2d (forward and both gradients) here, and why or why not: the rule
// onednnConvWanted applies per call, in words (it feeds backendInfo().providers.conv2d).
bool onednnRunsConv(std::string* why);

enum class ConvKernel { Forward, BackwardWeight, BackwardInput };

// Whether this float32 conv2d kernel on this shape (c input channels, o filters of kh x kw) should go to oneDNN,
// with bf16 or float32 inputs: the measured rule, or VUGRAD_CONV_PROVIDER=onednn | vugrad. False whenever oneDNN
// is not loaded.
bool onednnConvWanted(ConvKernel kernel, bool bf16, size_t c, size_t o, size_t kh, size_t kw, size_t stride);

// The kernels, whole batches (same arguments and results as vg::conv2d & co. in vugrad/kernels.h), split across
// the pool. bf16: src and weights (or diff_dst) rounded to bfloat16, float32 accumulation and outputs.
// False when oneDNN did not run the call: not loaded, a primitive it refused, or inputs with a NaN or infinity
// (oneDNN skips padded positions where vugrad's im2col path multiplies them by zeros, so 0 * inf would differ).
// The outputs may then hold anything, and the caller runs its own path, which overwrites them.
bool onednnConv2d(const float* x, const float* weight, const float* bias, size_t n, size_t c, size_t h, size_t w,
                  size_t o, size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* out);
bool onednnConv2dBackwardWeight(const float* x, const float* g, size_t n, size_t c, size_t h, size_t w, size_t o,
                                size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* gw);
bool onednnConv2dBackwardInput(const float* g, const float* weight, size_t n, size_t c, size_t h, size_t w, size_t o,
                               size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* gx);

}  // namespace vg
