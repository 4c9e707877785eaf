// oneDNN loaded at run time, and its gemm (see vugrad/onednn.h).
#include "vugrad/onednn.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "vugrad/onednn_api.h"
#include "vugrad/onednn_conv.h"
#include "vugrad/parallel.h"

#ifdef VUGRAD_HAVE_ONEDNN
#include <dlfcn.h>
#include <immintrin.h>
#endif

namespace vg {

namespace {
thread_local bool tPrecisionBf16 = false;
}  // namespace

void setPrecisionBf16(bool bf16) { tPrecisionBf16 = bf16; }
bool precisionBf16() { return tPrecisionBf16; }

namespace {

// Round to nearest even; a NaN stays a (quiet) NaN.
inline uint16_t bf16Of(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

void toBf16Scalar(const float* x, size_t n, uint16_t* out) {
  for (size_t i = 0; i < n; i++) out[i] = bf16Of(x[i]);
}

}  // namespace

#ifndef VUGRAD_HAVE_ONEDNN

bool onednnLoad() { return false; }
std::string onednnProblem() { return "the addon was built without oneDNN's headers (install libdnnl-dev and rebuild)"; }
std::string onednnDescription() { return ""; }
std::string bf16Problem() { return "bf16 needs oneDNN, and " + onednnProblem(); }
bool onednnRunsGemm() { return false; }
bool onednnBf16() { return false; }
bool onednnOwnThreads() { return false; }
bool onednnGemm(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int) { return false; }
bool onednnGemmBf16(bool, bool, int, int, int, float, const uint16_t*, int, const uint16_t*, int, float, float*, int) {
  return false;
}
void toBf16(const float* x, size_t n, uint16_t* out) { toBf16Scalar(x, n, out); }

#else

namespace {

struct Loaded {
  DnnlApi api;
  bool ok = false;
  std::string problem;
  std::string description;
  bool bf16 = false;          // the CPU (as oneDNN sees it) has AVX512_BF16
  bool gemm = false;          // oneDNN runs float32 gemms
  void (*ompSetNumThreads)(int) = nullptr;
  // VUGRAD_ONEDNN_THREADS=openmp: oneDNN runs each gemm whole on its own OpenMP team (the arrangement vugrad
  // avoids; kept to measure it against, see docs/native.md "Threads with two libraries").
  bool openmp = false;
};

Loaded& loaded() {
  static Loaded* l = new Loaded();  // never destroyed: kernels may run on other threads during exit
  return *l;
}

std::once_flag loadOnce;
// Set at exit: thread-local primitive caches then leave their handles to the process's end.
std::atomic<bool> exiting{false};

const char* isaName(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

bool envIs(const char* name, const char* value) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, value) == 0;
}

void load() {
  Loaded& L = loaded();
  if (envIs("VUGRAD_ONEDNN", "0")) {
    L.problem = "turned off by VUGRAD_ONEDNN=0";
    return;
  }
  const char* path = std::getenv("VUGRAD_ONEDNN_PATH");
  if (path == nullptr || *path == '\0') path = "libdnnl.so.2";
  void* h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = dlerror();
    L.problem = std::string("oneDNN did not load (") + (e ? e : path) + "); install libdnnl2 to use it";
    return;
  }
#define VG_DNNL_RESOLVE(name)                                                                       \
  L.api.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));                               \
  if (L.api.name == nullptr) {                                                                      \
    L.problem = std::string(path) + " lacks " #name " (vugrad calls oneDNN 2.x's API)";            \
    return;                                                                                         \
  }
  VG_DNNL_FUNCTIONS(VG_DNNL_RESOLVE)
#undef VG_DNNL_RESOLVE
  L.ompSetNumThreads = reinterpret_cast<void (*)(int)>(dlsym(h, "omp_set_num_threads"));
  L.openmp = envIs("VUGRAD_ONEDNN_THREADS", "openmp") && L.ompSetNumThreads != nullptr;
  const dnnl_version_t* v = L.api.dnnl_version();
  if (v == nullptr || v->major != 2) {
    L.problem = std::string(path) + " is not oneDNN 2.x";
    return;
  }
  if (L.api.dnnl_engine_create(&L.api.engine, dnnl_cpu, 0) != dnnl_success) {
    L.problem = "oneDNN loaded but could not create a CPU engine";
    return;
  }
  const dnnl_cpu_isa_t isa = L.api.dnnl_get_effective_cpu_isa();
  const unsigned bits = static_cast<unsigned>(isa);
  L.bf16 = (bits & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  const bool avx512 = (bits & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
  // Measured faster than OpenBLAS on AVX-512 cores only (docs/performance.md); elsewhere OpenBLAS keeps gemm
  // unless VUGRAD_GEMM_PROVIDER=onednn asks for oneDNN.
  L.gemm = envIs("VUGRAD_GEMM_PROVIDER", "onednn") || (avx512 && !envIs("VUGRAD_GEMM_PROVIDER", "openblas"));
  L.description = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                  std::to_string(v->patch) + " (isa " + isaName(isa) + ")";
  L.ok = true;
  std::atexit([] { exiting.store(true); });
}

}  // namespace

bool onednnLoad() {
  std::call_once(loadOnce, load);
  return loaded().ok;
}

std::string onednnProblem() {
  onednnLoad();
  return loaded().problem;
}

std::string onednnDescription() {
  onednnLoad();
  return loaded().description;
}

std::string bf16Problem() {
  if (!onednnLoad()) return "bf16 needs oneDNN, and " + loaded().problem;
  if (!loaded().bf16) return "this CPU has no AVX512_BF16 instructions (" + loaded().description + ")";
  return "";
}

bool onednnRunsGemm() { return onednnLoad() && loaded().gemm; }

bool onednnBf16() { return onednnLoad() && loaded().bf16; }

bool onednnOwnThreads() { return onednnLoad() && loaded().openmp; }

const DnnlApi* dnnl() { return onednnLoad() ? &loaded().api : nullptr; }

bool dnnlExiting() { return exiting.load(); }

namespace {

struct ThreadState {
  dnnl_stream_t stream = nullptr;
  ~ThreadState() {
    if (stream != nullptr && !dnnlExiting()) dnnl()->dnnl_stream_destroy(stream);
  }
};

}  // namespace

dnnl_stream_t dnnlThreadStream() {
  thread_local ThreadState state;
  if (state.stream == nullptr) {
    const DnnlApi* api = dnnl();
    if (api == nullptr) return nullptr;
    // oneDNN's OpenMP team on this thread: 1. The kernel pool splits the work; no OpenMP thread ever starts.
    if (loaded().ompSetNumThreads != nullptr) loaded().ompSetNumThreads(loaded().openmp ? parallelThreads() : 1);
    if (api->dnnl_stream_create(&state.stream, api->engine, dnnl_stream_default_flags) != dnnl_success) {
      state.stream = nullptr;
    }
  }
  return state.stream;
}

namespace {

struct GemmKey {
  bool ta, tb, bf16;
  int m, n, k, lda, ldb, ldc;
  uint32_t alpha, beta;
  bool operator==(const GemmKey& o) const {
    return ta == o.ta && tb == o.tb && bf16 == o.bf16 && m == o.m && n == o.n && k == o.k && lda == o.lda &&
           ldb == o.ldb && ldc == o.ldc && alpha == o.alpha && beta == o.beta;
  }
};

struct GemmKeyHash {
  size_t operator()(const GemmKey& g) const {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
    mix(g.ta | (g.tb << 1) | (g.bf16 << 2));
    mix(static_cast<uint32_t>(g.m));
    mix(static_cast<uint32_t>(g.n));
    mix(static_cast<uint32_t>(g.k));
    mix(static_cast<uint32_t>(g.lda));
    mix(static_cast<uint32_t>(g.ldb));
    mix(static_cast<uint32_t>(g.ldc));
    mix(g.alpha);
    mix(g.beta);
    return static_cast<size_t>(h);
  }
};

// One matmul primitive with its three memory objects (data handles set per call). nullptr members: a primitive
// oneDNN refused; the key is kept so that it is not asked again.
struct GemmEntry {
  dnnl_primitive_t prim = nullptr;
  dnnl_memory_t a = nullptr, b = nullptr, c = nullptr;
};

void destroyEntry(const DnnlApi* api, GemmEntry& e) {
  if (e.prim) api->dnnl_primitive_destroy(e.prim);
  if (e.a) api->dnnl_memory_destroy(e.a);
  if (e.b) api->dnnl_memory_destroy(e.b);
  if (e.c) api->dnnl_memory_destroy(e.c);
  e = GemmEntry{};
}

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

GemmEntry makeEntry(const DnnlApi* api, const GemmKey& key, float alpha, float beta) {
  GemmEntry e;
  const dnnl_data_type_t in = key.bf16 ? dnnl_bf16 : dnnl_f32;
  const dnnl_dims_t ad = {key.m, key.k}, bd = {key.k, key.n}, cd = {key.m, key.n};
  const dnnl_dims_t as = {key.ta ? 1 : key.lda, key.ta ? key.lda : 1};
  const dnnl_dims_t bs = {key.tb ? 1 : key.ldb, key.tb ? key.ldb : 1};
  const dnnl_dims_t cs = {key.ldc, 1};
  dnnl_memory_desc_t amd, bmd, cmd;
  if (api->dnnl_memory_desc_init_by_strides(&amd, 2, ad, in, as) != dnnl_success ||
      api->dnnl_memory_desc_init_by_strides(&bmd, 2, bd, in, bs) != dnnl_success ||
      api->dnnl_memory_desc_init_by_strides(&cmd, 2, cd, dnnl_f32, cs) != dnnl_success)
    return e;
  dnnl_matmul_desc_t md;
  if (api->dnnl_matmul_desc_init(&md, &amd, &bmd, nullptr, &cmd) != dnnl_success) return e;
  dnnl_primitive_attr_t attr = nullptr;
  dnnl_post_ops_t po = nullptr;
  bool ok = api->dnnl_primitive_attr_create(&attr) == dnnl_success;
  if (ok && alpha != 1.0f) ok = api->dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha) == dnnl_success;
  if (ok && beta != 0.0f) {
    ok = api->dnnl_post_ops_create(&po) == dnnl_success && api->dnnl_post_ops_append_sum(po, beta) == dnnl_success &&
         api->dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
  }
  dnnl_primitive_desc_t pd = nullptr;
  if (ok) ok = api->dnnl_primitive_desc_create(&pd, &md, attr, api->engine, nullptr) == dnnl_success;
  if (ok) ok = api->dnnl_primitive_create(&e.prim, pd) == dnnl_success;
  if (pd) api->dnnl_primitive_desc_destroy(pd);
  if (po) api->dnnl_post_ops_destroy(po);
  if (attr) api->dnnl_primitive_attr_destroy(attr);
  if (ok) {
    ok = api->dnnl_memory_create(&e.a, &amd, api->engine, DNNL_MEMORY_NONE) == dnnl_success &&
         api->dnnl_memory_create(&e.b, &bmd, api->engine, DNNL_MEMORY_NONE) == dnnl_success &&
         api->dnnl_memory_create(&e.c, &cmd, api->engine, DNNL_MEMORY_NONE) == dnnl_success;
  }
  if (!ok) destroyEntry(api, e);
  return e;
}

bool runGemm(const GemmKey& key, float alpha, float beta, const void* a, const void* b, float* c) {
  const DnnlApi* api = dnnl();
  if (api == nullptr) return false;
  dnnl_stream_t stream = dnnlThreadStream();
  if (stream == nullptr) return false;
  thread_local PrimitiveCache<GemmKey, GemmEntry, GemmKeyHash, 512> cache;
  GemmEntry& e = cache.get(key, [&] { return makeEntry(api, key, alpha, beta); });
  if (e.prim == nullptr) return false;
  api->dnnl_memory_set_data_handle(e.a, const_cast<void*>(a));
  api->dnnl_memory_set_data_handle(e.b, const_cast<void*>(b));
  api->dnnl_memory_set_data_handle(e.c, c);
  const dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e.a}, {DNNL_ARG_WEIGHTS, e.b}, {DNNL_ARG_DST, e.c}};
  if (api->dnnl_primitive_execute(e.prim, stream, 3, args) != dnnl_success) return false;
  return api->dnnl_stream_wait(stream) == dnnl_success;
}

__attribute__((target("avx512f,avx512bf16"))) void toBf16Avx512(const float* x, size_t n, uint16_t* out) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), reinterpret_cast<const __m256i&>(v));
  }
  toBf16Scalar(x + i, n - i, out + i);
}

}  // namespace

bool onednnGemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                int ldb, float beta, float* c, int ldc) {
  const GemmKey key{transA, transB, false, m, n, k, lda, ldb, ldc, bitsOf(alpha), bitsOf(beta)};
  return runGemm(key, alpha, beta, a, b, c);
}

bool onednnGemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, const uint16_t* a, int lda,
                    const uint16_t* b, int ldb, float beta, float* c, int ldc) {
  const GemmKey key{transA, transB, true, m, n, k, lda, ldb, ldc, bitsOf(alpha), bitsOf(beta)};
  return runGemm(key, alpha, beta, a, b, c);
}

void toBf16(const float* x, size_t n, uint16_t* out) {
  if (onednnBf16()) {
    toBf16Avx512(x, n, out);
  } else {
    toBf16Scalar(x, n, out);
  }
}

#endif

namespace {
std::string jsonString(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out + "\"";
}
std::string providerJson(const char* provider, const std::string& why) {
  return std::string("{\"provider\":") + jsonString(provider) + ",\"why\":" + jsonString(why) + "}";
}
}  // namespace

std::string providersJson() {
  const bool loadedOk = onednnLoad();
  std::string gemmWhy;
  if (onednnRunsGemm() && onednnOwnThreads()) {
    gemmWhy = "float32 gemms: oneDNN's matmul on its own OpenMP threads (VUGRAD_ONEDNN_THREADS=openmp, for measurement)";
  } else if (onednnRunsGemm()) {
    gemmWhy = "float32 gemms: oneDNN's matmul, single-threaded per part of the kernel pool (faster than OpenBLAS on "
              "AVX-512 cores); float64 gemms: OpenBLAS";
  } else if (loadedOk) {
    gemmWhy = "OpenBLAS: oneDNN is loaded but not measured faster on this CPU (VUGRAD_GEMM_PROVIDER=onednn to use it)";
  } else {
    gemmWhy = "OpenBLAS: " + onednnProblem();
  }
  std::string out = "{\"onednn\":{\"loaded\":" + std::string(loadedOk ? "true" : "false") +
                    ",\"detail\":" + jsonString(loadedOk ? onednnDescription() : onednnProblem()) +
                    ",\"bf16\":" + jsonString(bf16Problem().empty() ? "supported" : bf16Problem()) + "}";
  out += ",\"gemm\":" + providerJson(onednnRunsGemm() ? "onednn" : "openblas", gemmWhy);
  std::string convWhy;
  const bool conv = onednnRunsConv(&convWhy);
  out += ",\"conv2d\":" + providerJson(conv ? "onednn" : "vugrad", convWhy);
  out += "}";
  return out;
}

}  // namespace vg
