// gemm through cblas, and what BLAS this is.
#include <cblas.h>

#include <algorithm>
#include <atomic>

#include "vugrad/blas.h"
#include "vugrad/kernels.h"

namespace vg {

namespace {

template <typename T>
void scaleC(T beta, T* c, size_t mn) {
  if (beta == T(0)) {
    std::fill(c, c + mn, T(0));  // beta == 0 ignores old C, NaN included
  } else if (beta != T(1)) {
    for (size_t i = 0; i < mn; i++) c[i] *= beta;
  }
}

inline void callGemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a,
                     int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void callGemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a,
                     int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// The thread count set through blasSetNumThreads (0: not set yet, use OpenBLAS's own).
// NOTE: process-wide on purpose: it mirrors OpenBLAS's own process-wide setting (one per process, shared by
// every worker thread); it is not per-addon-instance state.
std::atomic<int> configuredThreads{0};

// Below this much work (m*n*k multiply-adds) a gemm runs on one thread whatever the setting. Measured on the
// 2-core EPYC (npm run bench): OpenBLAS splits gemms from 262,144 multiply-adds up, but waking and joining its
// second thread cost more than it saved for every layer of the MLP and LeNet (6x784x75: 20 us on 1 thread,
// 43 us on 2; 128x300x784: 0.70 ms vs 0.76 ms); only gemms of 1024^3 size gained.
constexpr double kThreadedGemmMinWork = 134217728.0;  // 2^27

}  // namespace

template <typename T>
void gemm(bool transA, bool transB, int m, int n, int k, T alpha, const T* a, const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    // NOTE: handled here rather than trusting each BLAS's degenerate-case rules (k == 0 means op(A)@op(B) = 0).
    scaleC(beta, c, static_cast<size_t>(m) * static_cast<size_t>(n));
    return;
  }
  const int lda = transA ? m : k;  // A stored [k, m] when transposed, else [m, k]
  const int ldb = transB ? k : n;  // B stored [n, k] when transposed, else [k, n]
  const int threads = configuredThreads.load(std::memory_order_relaxed);
  const bool single = threads > 1 && static_cast<double>(m) * n * k < kThreadedGemmMinWork;
  if (single) openblas_set_num_threads(1);
  callGemm(transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
           beta, c, n);
  if (single) openblas_set_num_threads(threads);
}

template void gemm<float>(bool, bool, int, int, int, float, const float*, const float*, float, float*);
template void gemm<double>(bool, bool, int, int, int, double, const double*, const double*, double, double*);

std::string blasConfig() {
  const char* s = openblas_get_config();
  return s ? std::string(s) : std::string("OpenBLAS (unknown configuration)");
}

std::string blasCoreName() {
  const char* s = openblas_get_corename();
  return s ? std::string(s) : std::string();
}

int blasGetNumThreads() {
  const int n = configuredThreads.load(std::memory_order_relaxed);
  return n > 0 ? n : openblas_get_num_threads();
}

void blasSetNumThreads(int n) {
  configuredThreads.store(n < 1 ? 1 : n, std::memory_order_relaxed);
  openblas_set_num_threads(n < 1 ? 1 : n);
}

}  // namespace vg
