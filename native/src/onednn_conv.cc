// Convolutions through oneDNN (see vugrad/onednn_conv.h).
#include "vugrad/onednn_conv.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "vugrad/finite.h"
#include "vugrad/kernels.h"
#include "vugrad/onednn.h"
#include "vugrad/onednn_api.h"
#include "vugrad/parallel.h"

namespace vg {

namespace {

enum class Provider { Measured, OneDnn, Vugrad };

// VUGRAD_CONV_PROVIDER=onednn | vugrad (anything else, or unset: the measured rule).
Provider providerSetting() {
  static const Provider p = [] {
    const char* v = std::getenv("VUGRAD_CONV_PROVIDER");
    if (v != nullptr && std::strcmp(v, "onednn") == 0) return Provider::OneDnn;
    if (v != nullptr && std::strcmp(v, "vugrad") == 0) return Provider::Vugrad;
    return Provider::Measured;
  }();
  return p;
}

// VUGRAD_ONEDNN_CONV_LAYOUT=plain: the primitives work on the NCHW / OIHW arrays themselves (no reorders);
// anything else: the layouts oneDNN picks (format_tag_any, blocked by 16 channels here), with reorders to and
// from them in each chunk. Measured (benchmarks/conv-providers.ts, 7 alternating rounds, reorders included):
// plain took 1.1-2.9x vugrad's time on the ResNet-style layers where the blocked layouts took 0.64-1.1x, and
// 1.9-7x on LeNet's (blocked: 1.0-6x); oneDNN's plain-layout convolutions are its gemm-based ones.
bool plainLayouts() {
  static const bool plain = [] {
    const char* v = std::getenv("VUGRAD_ONEDNN_CONV_LAYOUT");
    return v != nullptr && std::strcmp(v, "plain") == 0;
  }();
  return plain;
}

// The measured rule (benchmarks/conv-providers.ts: medians of 9 alternating rounds on the shared 2-core AVX-512
// machine, at 2 threads and at 1; ratios oneDNN / vugrad for forward, weight gradient, input gradient, float32):
// - LeNet's conv1 and RGB stems (c = 3, padded to 16 channels by oneDNN) lose: batch 64 2.3-4.5, 1.8-2.7, 11-14;
//   a 3->16 3x3 stem 1.05-1.9, 1.15-1.3, 3.5-6.9. LeNet's conv2 (c = 6, o = 16, 5x5): 0.68-0.72 (batch 4 and
//   64), 1.0-1.06, 1.4-1.6.
// - ResNet-style 3x3 layers, batch 128: 16->16 at 32x32 1.25-1.33, 0.94-1.06, 0.95-1.0 (vugrad's direct
//   convolution, with no reorders, holds its own); 32->32 at 16x16 0.80-0.89, 0.74-0.88, 0.80-0.88; 64->64 at
//   8x8 0.62-0.74, 0.60-0.65, 0.63-0.70; stride 2 (vugrad's im2col + gemm) 16->32 0.58-0.63, 0.58-0.65,
//   0.61-0.67 and 32->64 0.53-0.75, 0.65-0.79, 0.63-0.72.
// The forward pass pays two activation reorders (NCHW to oneDNN's blocked layout and back) for c*o*kh*kw
// multiply-adds per pixel: it wins where that work per reordered channel, c*o*kh*kw / (c + o), is at least ~100
// (LeNet's conv2 109, 32->32 144, 64->64 288; not 16->16 72 or the stems) or where vugrad's alternative is
// im2col (stride 2). The gradients win (or tie) with 16 or more channels on both sides.
// With bf16 inputs (vugrad's own path stays float32) oneDNN wins from LeNet's conv2 on: 0.52-0.60, 0.44-0.53,
// 0.87-0.89 there, 0.74-0.78, 0.79-0.86, 0.75-0.78 for 16->16, 0.36-0.59 for the larger layers; the stems lose.
bool measuredRule(ConvKernel kernel, bool bf16, size_t c, size_t o, size_t kh, size_t kw, size_t stride) {
  if (bf16) return c >= 6 && o >= 16;
  if (kernel == ConvKernel::Forward) {
    return o >= 16 && (c * o * kh * kw >= 100 * (c + o) || (stride > 1 && c >= 16));
  }
  return c >= 16 && o >= 16;
}

}  // namespace

bool onednnConvWanted(ConvKernel kernel, bool bf16, size_t c, size_t o, size_t kh, size_t kw, size_t stride) {
  if (providerSetting() == Provider::Vugrad || !onednnLoad()) return false;
  if (providerSetting() == Provider::OneDnn) return true;
  return measuredRule(kernel, bf16, c, o, kh, kw, stride);
}

bool onednnRunsConv(std::string* why) {
  std::string w;
  bool runs = false;
  if (!onednnLoad()) {
    w = "vugrad's direct convolution or im2col + gemm: " + onednnProblem();
  } else if (providerSetting() == Provider::Vugrad) {
    w = "vugrad's direct convolution or im2col + gemm (VUGRAD_CONV_PROVIDER=vugrad)";
  } else if (providerSetting() == Provider::OneDnn) {
    runs = true;
    w = "float32: oneDNN's convolutions (VUGRAD_CONV_PROVIDER=onednn), single-threaded per slice of the batch; "
        "float64 and data with NaN or infinity: vugrad's own";
  } else {
    runs = true;
    w = "oneDNN's convolutions, single-threaded per slice of the batch, where measured faster "
        "(benchmarks/conv-providers.ts): float32 gradients with 16+ input and output channels, forward passes with "
        "16+ filters and c*o*kh*kw >= 100*(c+o) or stride > 1 (0.6-0.9x the time of ResNet-style 3x3 layers, 0.7x "
        "for LeNet's conv2 forward); bf16 precision: layers with 6+ input and 16+ output channels. vugrad's direct "
        "convolution or im2col + gemm for the rest (LeNet-like layers, RGB stems), float64 and data with NaN or "
        "infinity";
  }
  if (why) *why = w;
  return runs;
}

#ifndef VUGRAD_HAVE_ONEDNN

bool onednnConv2d(const float*, const float*, const float*, size_t, size_t, size_t, size_t, size_t, size_t, size_t,
                  size_t, size_t, bool, float*) {
  return false;
}
bool onednnConv2dBackwardWeight(const float*, const float*, size_t, size_t, size_t, size_t, size_t, size_t, size_t,
                                size_t, size_t, bool, float*) {
  return false;
}
bool onednnConv2dBackwardInput(const float*, const float*, size_t, size_t, size_t, size_t, size_t, size_t, size_t,
                               size_t, size_t, bool, float*) {
  return false;
}

#else

namespace {

enum class Kind : int { Forward = 0, BackwardData = 1, BackwardWeights = 2 };

struct ConvKey {
  Kind kind;
  bool bias, bf16, plain;
  int n, c, h, w, o, kh, kw, stride, pad;
  bool operator==(const ConvKey& k) const {
    return kind == k.kind && bias == k.bias && bf16 == k.bf16 && plain == k.plain && n == k.n && c == k.c &&
           h == k.h && w == k.w && o == k.o && kh == k.kh && kw == k.kw && stride == k.stride && pad == k.pad;
  }
};

struct ConvKeyHash {
  size_t operator()(const ConvKey& k) const {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(static_cast<uint64_t>(k.kind) | (k.bias << 2) | (k.bf16 << 3) | (k.plain << 4));
    for (int v : {k.n, k.c, k.h, k.w, k.o, k.kh, k.kw, k.stride, k.pad}) mix(static_cast<uint32_t>(v));
    return static_cast<size_t>(h);
  }
};

// One of a primitive's three arrays: `user` describes vugrad's plain float32 array (data handle set per call);
// where the primitive wants another layout or type, `inner` describes that (its data in a scratch buffer of the
// thread) and `reorder` converts user -> inner (an input) or inner -> user (an output).
struct Arg {
  dnnl_memory_t user = nullptr, inner = nullptr;
  dnnl_primitive_t reorder = nullptr;
  dnnl_primitive_t reorderAdd = nullptr;  // an output's inner -> user adding to user (made on first use)
  dnnl_memory_desc_t plain{}, want{};  // user's and inner's descriptors
  size_t innerBytes = 0, plainBytes = 0;
};

struct ConvEntry {
  dnnl_primitive_t prim = nullptr;  // nullptr: refused (the key stays, so that it is not asked again)
  Arg a[3];                         // forward: src, weights, dst; backward data: diff_dst, weights, diff_src;
                                    // backward weights: src, diff_dst, diff_weights (inputs first)
  dnnl_memory_t bias = nullptr;
};

void destroyArg(const DnnlApi* api, Arg& a) {
  if (a.reorder) api->dnnl_primitive_destroy(a.reorder);
  if (a.reorderAdd) api->dnnl_primitive_destroy(a.reorderAdd);
  if (a.user) api->dnnl_memory_destroy(a.user);
  if (a.inner) api->dnnl_memory_destroy(a.inner);
  a = Arg{};
}

void destroyEntry(const DnnlApi* api, ConvEntry& e) {
  if (e.prim) api->dnnl_primitive_destroy(e.prim);
  for (Arg& a : e.a) destroyArg(api, a);
  if (e.bias) api->dnnl_memory_destroy(e.bias);
  e = ConvEntry{};
}


// 64-byte aligned scratch of the thread, grown on demand (the inner arrays of the primitives it runs).
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  void* get(size_t n) {
    if (n > bytes) {
      std::free(p);
      p = std::aligned_alloc(64, (n + 63) / 64 * 64);
      bytes = p ? n : 0;
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};

// Makes `a` for a primitive whose array is `want` (queried from its descriptor), vugrad's array being `plain`.
bool makeArg(const DnnlApi* api, const dnnl_memory_desc_t* plain, const dnnl_memory_desc_t* want, bool input,
             Arg& a) {
  if (api->dnnl_memory_create(&a.user, plain, api->engine, DNNL_MEMORY_NONE) != dnnl_success) return false;
  a.plain = *plain;
  a.plainBytes = api->dnnl_memory_desc_get_size(plain);
  if (api->dnnl_memory_desc_equal(plain, want)) return true;
  if (api->dnnl_memory_create(&a.inner, want, api->engine, DNNL_MEMORY_NONE) != dnnl_success) return false;
  a.want = *want;
  a.innerBytes = api->dnnl_memory_desc_get_size(want);
  dnnl_primitive_desc_t pd = nullptr;
  if (api->dnnl_reorder_primitive_desc_create(&pd, input ? plain : want, api->engine, input ? want : plain,
                                              api->engine, nullptr) != dnnl_success)
    return false;
  const bool ok = api->dnnl_primitive_create(&a.reorder, pd) == dnnl_success;
  api->dnnl_primitive_desc_destroy(pd);
  return ok;
}

// inner -> user adding to what user holds (a reorder with a sum post-op): chunks of one slice accumulating their
// weight gradients.
bool makeReorderAdd(const DnnlApi* api, Arg& a) {
  dnnl_primitive_attr_t attr = nullptr;
  dnnl_post_ops_t po = nullptr;
  dnnl_primitive_desc_t pd = nullptr;
  bool ok = api->dnnl_primitive_attr_create(&attr) == dnnl_success && api->dnnl_post_ops_create(&po) == dnnl_success &&
            api->dnnl_post_ops_append_sum(po, 1.0f) == dnnl_success &&
            api->dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success &&
            api->dnnl_reorder_primitive_desc_create(&pd, &a.want, api->engine, &a.plain, api->engine, attr) == dnnl_success &&
            api->dnnl_primitive_create(&a.reorderAdd, pd) == dnnl_success;
  if (pd) api->dnnl_primitive_desc_destroy(pd);
  if (po) api->dnnl_post_ops_destroy(po);
  if (attr) api->dnnl_primitive_attr_destroy(attr);
  if (!ok && a.reorderAdd) {
    api->dnnl_primitive_destroy(a.reorderAdd);
    a.reorderAdd = nullptr;
  }
  return ok;
}

ConvEntry makeEntry(const DnnlApi* api, const ConvKey& k) {
  ConvEntry e;
  const dnnl_data_type_t in = k.bf16 ? dnnl_bf16 : dnnl_f32;
  const dnnl_dims_t srcDims = {k.n, k.c, k.h, k.w}, weiDims = {k.o, k.c, k.kh, k.kw}, biasDims = {k.o};
  const dnnl_dims_t dstDims = {k.n, k.o, convOutSize(k.h, k.kh, k.stride, k.pad),
                               convOutSize(k.w, k.kw, k.stride, k.pad)};
  const dnnl_dims_t strides = {k.stride, k.stride}, padL = {k.pad, k.pad};
  // Right padding = pad: oneDNN's output size, (h - kh + 2 pad) / stride + 1 rounded down, is then vugrad's.
  const dnnl_dims_t padR = {k.pad, k.pad};
  const dnnl_format_tag_t act = k.plain ? dnnl_nchw : dnnl_format_tag_any;
  const dnnl_format_tag_t wei = k.plain ? dnnl_oihw : dnnl_format_tag_any;
  // vugrad's arrays: float32, NCHW / OIHW.
  dnnl_memory_desc_t srcUser, weiUser, dstUser, biasMd;
  if (api->dnnl_memory_desc_init_by_tag(&srcUser, 4, srcDims, dnnl_f32, dnnl_nchw) != dnnl_success ||
      api->dnnl_memory_desc_init_by_tag(&weiUser, 4, weiDims, dnnl_f32, dnnl_oihw) != dnnl_success ||
      api->dnnl_memory_desc_init_by_tag(&dstUser, 4, dstDims, dnnl_f32, dnnl_nchw) != dnnl_success ||
      api->dnnl_memory_desc_init_by_tag(&biasMd, 1, biasDims, dnnl_f32, dnnl_x) != dnnl_success)
    return e;
  // The primitive's: the inputs in `in` (bf16 or f32), outputs float32.
  const bool fwd = k.kind == Kind::Forward, bwdD = k.kind == Kind::BackwardData;
  dnnl_memory_desc_t srcMd, weiMd, dstMd;
  if (api->dnnl_memory_desc_init_by_tag(&srcMd, 4, srcDims, bwdD ? dnnl_f32 : in, act) != dnnl_success ||
      api->dnnl_memory_desc_init_by_tag(&weiMd, 4, weiDims, k.kind == Kind::BackwardWeights ? dnnl_f32 : in, wei) !=
          dnnl_success ||
      api->dnnl_memory_desc_init_by_tag(&dstMd, 4, dstDims, fwd ? dnnl_f32 : in, act) != dnnl_success)
    return e;
  dnnl_convolution_desc_t fd;
  // The forward descriptor: the primitive itself, or the backward primitives' hint (inputs' type throughout).
  dnnl_memory_desc_t hSrc, hWei, hDst;
  if (fwd) {
    hSrc = srcMd, hWei = weiMd, hDst = dstMd;
  } else if (api->dnnl_memory_desc_init_by_tag(&hSrc, 4, srcDims, in, act) != dnnl_success ||
             api->dnnl_memory_desc_init_by_tag(&hWei, 4, weiDims, in, wei) != dnnl_success ||
             api->dnnl_memory_desc_init_by_tag(&hDst, 4, dstDims, in, act) != dnnl_success) {
    return e;
  }
  if (api->dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &hSrc, &hWei,
                                              fwd && k.bias ? &biasMd : nullptr, &hDst, strides, padL,
                                              padR) != dnnl_success)
    return e;
  dnnl_primitive_desc_t fpd = nullptr, pd = nullptr;
  if (api->dnnl_primitive_desc_create(&fpd, &fd, nullptr, api->engine, nullptr) != dnnl_success) return e;
  if (fwd) {
    pd = fpd;
    fpd = nullptr;
  } else {
    dnnl_convolution_desc_t bd;
    const dnnl_status_t s =
        bwdD ? api->dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &srcMd, &weiMd, &dstMd,
                                                             strides, padL, padR)
             : api->dnnl_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &srcMd, &weiMd, nullptr,
                                                                &dstMd, strides, padL, padR);
    if (s != dnnl_success || api->dnnl_primitive_desc_create(&pd, &bd, nullptr, api->engine, fpd) != dnnl_success) {
      api->dnnl_primitive_desc_destroy(fpd);
      return e;
    }
    api->dnnl_primitive_desc_destroy(fpd);
  }
  const dnnl_memory_desc_t* qSrc = api->dnnl_primitive_desc_query_md(pd, bwdD ? dnnl_query_diff_src_md : dnnl_query_src_md, 0);
  const dnnl_memory_desc_t* qWei = api->dnnl_primitive_desc_query_md(
      pd, k.kind == Kind::BackwardWeights ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t* qDst = api->dnnl_primitive_desc_query_md(pd, fwd ? dnnl_query_dst_md : dnnl_query_diff_dst_md, 0);
  bool ok = qSrc != nullptr && qWei != nullptr && qDst != nullptr &&
            api->dnnl_primitive_create(&e.prim, pd) == dnnl_success;
  if (ok) {
    switch (k.kind) {
      case Kind::Forward:
        ok = makeArg(api, &srcUser, qSrc, true, e.a[0]) && makeArg(api, &weiUser, qWei, true, e.a[1]) &&
             makeArg(api, &dstUser, qDst, false, e.a[2]);
        if (ok && k.bias) ok = api->dnnl_memory_create(&e.bias, &biasMd, api->engine, DNNL_MEMORY_NONE) == dnnl_success;
        break;
      case Kind::BackwardData:
        ok = makeArg(api, &dstUser, qDst, true, e.a[0]) && makeArg(api, &weiUser, qWei, true, e.a[1]) &&
             makeArg(api, &srcUser, qSrc, false, e.a[2]);
        break;
      case Kind::BackwardWeights:
        ok = makeArg(api, &srcUser, qSrc, true, e.a[0]) && makeArg(api, &dstUser, qDst, true, e.a[1]) &&
             makeArg(api, &weiUser, qWei, false, e.a[2]);
        break;
    }
  }
  api->dnnl_primitive_desc_destroy(pd);
  if (!ok) destroyEntry(api, e);
  return e;
}

const int kArgIds[3][3] = {
    {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
    {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
    {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS},
};

// Runs one primitive on this thread: the arrays p[0], p[1] (inputs) and p[2] (output), plain float32, for the
// key's images; bias (forward) or nullptr. add: p[2] += the result instead of p[2] = it.
bool runConv(const ConvKey& key, const float* p0, const float* p1, const float* bias, float* p2, bool add) {
  const DnnlApi* api = dnnl();
  if (api == nullptr) return false;
  dnnl_stream_t stream = dnnlThreadStream();  // first: it sets this thread's OpenMP team to 1 before any primitive
  if (stream == nullptr) return false;
  // Primitives of this thread, by shape and slice size.
  thread_local PrimitiveCache<ConvKey, ConvEntry, ConvKeyHash, 128> cache;
  thread_local Scratch scratch[4];
  ConvEntry& e = cache.get(key, [&] { return makeEntry(api, key); });
  if (e.prim == nullptr) return false;
  Arg& out = e.a[2];
  // Adding: through a reorder with a sum post-op where the output has its own layout, else into a scratch
  // array that is then added.
  if (add && out.inner != nullptr && out.reorderAdd == nullptr && !makeReorderAdd(api, out)) return false;
  float* sum = nullptr;
  if (add && out.inner == nullptr) {
    sum = static_cast<float*>(scratch[3].get(out.plainBytes));
    if (sum == nullptr) return false;
  }
  void* ptrs[3] = {const_cast<float*>(p0), const_cast<float*>(p1), sum != nullptr ? sum : p2};
  dnnl_exec_arg_t args[4];
  int nargs = 0;
  for (int i = 0; i < 3; i++) {
    Arg& a = e.a[i];
    api->dnnl_memory_set_data_handle(a.user, ptrs[i]);
    if (a.inner != nullptr) {
      void* buf = scratch[i].get(a.innerBytes);
      if (buf == nullptr) return false;
      api->dnnl_memory_set_data_handle(a.inner, buf);
    }
    args[nargs++] = {kArgIds[static_cast<int>(key.kind)][i], a.inner != nullptr ? a.inner : a.user};
  }
  if (e.bias != nullptr) {
    api->dnnl_memory_set_data_handle(e.bias, const_cast<float*>(bias));
    args[nargs++] = {DNNL_ARG_BIAS, e.bias};
  }
  auto reorder = [&](dnnl_primitive_t r, const Arg& a, bool input) {
    const dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, input ? a.user : a.inner}, {DNNL_ARG_TO, input ? a.inner : a.user}};
    return api->dnnl_primitive_execute(r, stream, 2, ra) == dnnl_success;
  };
  for (int i = 0; i < 2; i++) {
    if (e.a[i].reorder != nullptr && !reorder(e.a[i].reorder, e.a[i], true)) return false;
  }
  if (api->dnnl_primitive_execute(e.prim, stream, nargs, args) != dnnl_success) return false;
  if (out.inner != nullptr && !reorder(add ? out.reorderAdd : out.reorder, out, false)) return false;
  if (api->dnnl_stream_wait(stream) != dnnl_success) return false;
  if (sum != nullptr) {
    const size_t n = out.plainBytes / sizeof(float);
    for (size_t j = 0; j < n; j++) p2[j] += sum[j];
  }
  return true;
}

ConvKey keyOf(Kind kind, bool bias, bool bf16, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh, size_t kw,
              size_t stride, size_t pad) {
  auto I = [](size_t v) { return static_cast<int>(v); };
  return ConvKey{kind, bias, bf16, plainLayouts(), I(n), I(c), I(h), I(w), I(o), I(kh), I(kw), I(stride), I(pad)};
}

bool usable(bool bf16) { return onednnLoad() && (!bf16 || onednnBf16()); }

// NOTE: oneDNN's convolutions skip padded positions, where im2col + gemm (vugrad's path, the JS kernels,
// PyTorch) multiply by zeros: with an infinity in the weights the results differ (finite vs NaN). So data that
// is not all finite goes to vugrad's path: each chunk checks its own images (allFinite, on its thread, just
// before its reorders read them again) and a chunk with a NaN or infinity fails the call.

// Images per primitive call: a slice runs its images in chunks of about this many bytes of input and output, so
// that the copies in oneDNN's layouts stay in cache between the reorders and the convolution.
// VUGRAD_ONEDNN_CONV_CHUNK=<bytes> sets it (0: a whole slice per call). Measured against whole slices (9
// alternating rounds, 2 threads): 512 KB 0.90-0.93x on the 32x32 ResNet layers, 0.98-1.01x on the smaller ones;
// 128 KB 0.86-0.94x and 1.05-1.06x; 2 MB like 512 KB.
size_t chunkBytes() {
  static const size_t bytes = [] {
    const char* v = std::getenv("VUGRAD_ONEDNN_CONV_CHUNK");
    return v != nullptr && *v != '\0' ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : size_t(512) << 10;
  }();
  return bytes;
}

// Runs f(s, i0, i1, add) over the batch: one slice per pool thread (fewer for small batches), slice s = images
// [n s / S, n (s+1) / S), each cut into chunks of nearly equal sizes; add is false for a slice's first chunk.
size_t slicesOf(size_t n) { return std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(parallelThreads()), n)); }

template <typename F>
bool overSlices(size_t n, size_t slices, size_t imageBytes, const F& f) {
  const size_t chunk = chunkBytes() == 0 ? n : std::max<size_t>(1, chunkBytes() / std::max<size_t>(1, imageBytes));
  std::atomic<bool> ok{true};
  parallelFor(slices, 1, [&](size_t s0, size_t s1) {
    for (size_t s = s0; s < s1 && ok.load(); s++) {
      const size_t i0 = n * s / slices, m = n * (s + 1) / slices - i0;
      const size_t q = (m + chunk - 1) / chunk;
      for (size_t j = 0; j < q && ok.load(); j++) {
        if (!f(s, i0 + m * j / q, i0 + m * (j + 1) / q, j > 0)) ok.store(false);
      }
    }
  });
  return ok.load();
}

struct Sizes {
  size_t image, outImage, bytes;
  Sizes(size_t c, size_t h, size_t w, size_t o, size_t kh, size_t kw, size_t stride, size_t pad) {
    image = c * h * w;
    outImage = o * static_cast<size_t>(convOutSize(h, kh, stride, pad)) * static_cast<size_t>(convOutSize(w, kw, stride, pad));
    bytes = (image + outImage) * sizeof(float);
  }
};

}  // namespace

bool onednnConv2d(const float* x, const float* weight, const float* bias, size_t n, size_t c, size_t h, size_t w,
                  size_t o, size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* out) {
  if (!usable(bf16) || !allFinite(weight, o * c * kh * kw)) return false;
  const Sizes S(c, h, w, o, kh, kw, stride, pad);
  return overSlices(n, slicesOf(n), S.bytes, [&](size_t, size_t i0, size_t i1, bool) {
    const ConvKey key = keyOf(Kind::Forward, bias != nullptr, bf16, i1 - i0, c, h, w, o, kh, kw, stride, pad);
    return allFinite(x + i0 * S.image, (i1 - i0) * S.image) && runConv(key, x + i0 * S.image, weight, bias, out + i0 * S.outImage, false);
  });
}

bool onednnConv2dBackwardInput(const float* g, const float* weight, size_t n, size_t c, size_t h, size_t w, size_t o,
                               size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* gx) {
  if (!usable(bf16) || !allFinite(weight, o * c * kh * kw)) return false;
  const Sizes S(c, h, w, o, kh, kw, stride, pad);
  return overSlices(n, slicesOf(n), S.bytes, [&](size_t, size_t i0, size_t i1, bool) {
    const ConvKey key = keyOf(Kind::BackwardData, false, bf16, i1 - i0, c, h, w, o, kh, kw, stride, pad);
    return allFinite(g + i0 * S.outImage, (i1 - i0) * S.outImage) && runConv(key, g + i0 * S.outImage, weight, nullptr, gx + i0 * S.image, false);
  });
}

// Slice s sums its images' gradient into its own buffer (slice 0 into gw); the buffers are added in slice order
// afterwards, so the result does not depend on which thread ran which slice.
bool onednnConv2dBackwardWeight(const float* x, const float* g, size_t n, size_t c, size_t h, size_t w, size_t o,
                                size_t kh, size_t kw, size_t stride, size_t pad, bool bf16, float* gw) {
  if (!usable(bf16)) return false;
  const size_t size = o * c * kh * kw;
  if (n == 0) {
    std::fill(gw, gw + size, 0.0f);
    return true;
  }
  const Sizes S(c, h, w, o, kh, kw, stride, pad);
  const size_t slices = slicesOf(n);
  std::vector<float> partial((slices - 1) * size);
  const bool ok = overSlices(n, slices, S.bytes, [&](size_t s, size_t i0, size_t i1, bool add) {
    const ConvKey key = keyOf(Kind::BackwardWeights, false, bf16, i1 - i0, c, h, w, o, kh, kw, stride, pad);
    float* target = s == 0 ? gw : partial.data() + (s - 1) * size;
    return allFinite(x + i0 * S.image, (i1 - i0) * S.image) && allFinite(g + i0 * S.outImage, (i1 - i0) * S.outImage) &&
           runConv(key, x + i0 * S.image, g + i0 * S.outImage, nullptr, target, add);
  });
  if (!ok) return false;
  for (size_t s = 1; s < slices; s++) {
    const float* p = partial.data() + (s - 1) * size;
    for (size_t j = 0; j < size; j++) gw[j] += p[j];
  }
  return true;
}

#endif

}  // namespace vg
