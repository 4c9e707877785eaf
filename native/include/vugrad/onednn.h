// oneDNN as a kernel provider, loaded at run time (dlopen of libdnnl.so.2): the addon builds and runs where
// oneDNN is absent, and then every kernel keeps its OpenBLAS or hand-written path. Plain C++, no N-API types.
//
// Threads: oneDNN runs single-threaded on whichever thread calls it (its OpenMP team is set to 1 on each such
// thread), and the kernel pool (vugrad/parallel.h) splits the work as it does for OpenBLAS. So no OpenMP
// threads are ever started: the threads in use are the pool's, whatever library runs a kernel.
#pragma once

#include <cstdint>
#include <string>

namespace vg {

// Loads oneDNN once (later calls return the first answer). True when it loaded and runs on this CPU.
// VUGRAD_ONEDNN=0 in the environment turns it off; VUGRAD_ONEDNN_PATH names another libdnnl to load.
bool onednnLoad();
// Why oneDNN is not in use ('' when it is), e.g. "libdnnl.so.2: cannot open shared object file".
std::string onednnProblem();
// "oneDNN 2.6.3 (isa avx512_core_bf16)" or '' when not loaded.
std::string onednnDescription();
// '' when bf16 matmul and convolution can run here, else why not.
std::string bf16Problem();
// Whether they can (bf16Problem() is empty), without building the reason: for the kernels' own checks.
bool onednnBf16();

// The matmul and convolution input precision of the calling thread (a JS thread: main or a worker_thread).
void setPrecisionBf16(bool bf16);
bool precisionBf16();

// float32 for the rest of a scope on this thread (restored after): a kernel whose own path has no bf16 version
// (vugrad's convolutions) uses it so that the gemms it calls do not round some images and not others.
class Float32Scope {
 public:
  Float32Scope() : saved_(precisionBf16()) { setPrecisionBf16(false); }
  ~Float32Scope() { setPrecisionBf16(saved_); }
  Float32Scope(const Float32Scope&) = delete;
  Float32Scope& operator=(const Float32Scope&) = delete;

 private:
  bool saved_;
};

// Which library runs float32 gemms: true for oneDNN (the default where it loaded: faster here, see
// docs/performance.md), false for OpenBLAS (VUGRAD_GEMM_PROVIDER=openblas).
bool onednnRunsGemm();
// VUGRAD_ONEDNN_THREADS=openmp (for measurement only): oneDNN runs each gemm whole, on an OpenMP team of
// getNumThreads() threads, instead of single-threaded parts on the kernel pool.
bool onednnOwnThreads();

// C = alpha op(A) op(B) + beta C on the calling thread alone, row-major with leading dimensions, float32 (or
// bfloat16 operands, stored as uint16_t, with float32 accumulation). False when oneDNN could not run it (not
// loaded, or a primitive it refused): the caller then uses OpenBLAS, which gives the same result.
bool onednnGemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                int ldb, float beta, float* c, int ldc);
bool onednnGemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, const uint16_t* a, int lda,
                    const uint16_t* b, int ldb, float beta, float* c, int ldc);

// Which library runs each kernel family and why, as JSON: {"onednn": {...}, "gemm": {...}, "conv2d": {...}}.
std::string providersJson();

// float32 to bfloat16, rounding to nearest even (NaN stays NaN), as the CPU's own conversion does.
void toBf16(const float* x, size_t n, uint16_t* out);

}  // namespace vg
