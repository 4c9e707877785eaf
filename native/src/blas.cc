// gemm through cblas, and what BLAS this is.
#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <type_traits>
#include <vector>

#include "vugrad/blas.h"
#include "vugrad/kernels.h"
#include "vugrad/onednn.h"
#include "vugrad/parallel.h"

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

// float32: oneDNN where it runs gemms (faster on AVX-512 cores, see vugrad/onednn.h), else OpenBLAS.
inline void callGemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a,
                     int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  if (onednnRunsGemm() && onednnGemm(ta == CblasTrans, tb == CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    return;
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void callGemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a,
                     int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Below this much work (m*n*k multiply-adds) a gemm runs on the calling thread alone: handing half of it to
// the pool's worker costs a few microseconds, more than it saves.
constexpr double kSplitMinWork = 262144.0;  // 2^18, where OpenBLAS itself starts splitting
// Rows (or columns) per part at least: OpenBLAS's float kernels work on 16-row, 8-column tiles.
constexpr size_t kMinRows = 32;
constexpr size_t kMinCols = 16;
// An operand of at least this many elements (4 MB of float32) is read by only one part where possible.
constexpr size_t kLargeOperand = size_t(1) << 20;

std::once_flag initOnce;

}  // namespace

void blasInit() {
  std::call_once(initOnce, [] {
    // OpenBLAS's own setting (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or the core count) becomes the pool's; from
    // here on OpenBLAS itself runs single-threaded and the pool splits gemms (see vugrad/parallel.h).
    setParallelThreads(openblas_get_num_threads());
    openblas_set_num_threads(1);
  });
}

namespace {

// Splits C = op(A) op(B) into parts of rows (or, when C has few rows, of columns) and runs one single-threaded
// gemm per part on the pool, `part(m, n, a, b, c)` with its sizes and slices: each part reads its own
// slice of op(A) (or op(B)) and writes its own slice of C. E is the operands' element type (T, or uint16_t for
// bf16 operands of a float gemm); A is stored [m, k] ([k, m] when transposed), B [k, n] ([n, k]), C [m, n].
template <typename E, typename T, typename Part>
void splitGemm(bool transA, bool transB, int m, int n, int k, const E* a, const E* b, T* c, const Part& part) {
  const int threads = parallelThreads();
  const size_t M = static_cast<size_t>(m), N = static_cast<size_t>(n);
  const bool split = threads > 1 && static_cast<double>(m) * n * k >= kSplitMinWork;
  // Parts by rows each read all of op(B); parts by columns each read all of op(A). Rows, unless op(B) is both
  // the larger and too large to stay in cache while each part streams it (the course MLP's forward,
  // 128x3136x784: 6.6 ms by rows, 4.6 ms by columns; 128x300x784: 0.41 ms by rows, 0.48 ms by columns).
  const size_t sizeA = M * static_cast<size_t>(k), sizeB = static_cast<size_t>(k) * N;
  const bool byColumns = sizeB > sizeA && sizeB >= kLargeOperand;
  if (split && M >= kMinRows * 2 && !(byColumns && N >= kMinCols * 2)) {
    parallelFor(M, kMinRows, [&](size_t r0, size_t r1) {
      const E* ap = transA ? a + r0 : a + r0 * static_cast<size_t>(k);
      part(static_cast<int>(r1 - r0), n, ap, b, c + r0 * N);
    });
  } else if (split && N >= kMinCols * 2) {
    parallelFor(N, kMinCols, [&](size_t c0, size_t c1) {
      const E* bp = transB ? b + c0 * static_cast<size_t>(k) : b + c0;
      part(m, static_cast<int>(c1 - c0), a, bp, c + c0);
    });
  } else {
    part(m, n, a, b, c);
  }
}

// bf16 operands of a float gemm, rounded once per call (the conversion split across the pool) into buffers of
// the calling thread, reused from call to call.
bool gemmBf16(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, const float* b, float beta,
              float* c) {
  if (!onednnBf16()) return false;
  thread_local std::vector<uint16_t> a16, b16;
  const size_t sizeA = static_cast<size_t>(m) * static_cast<size_t>(k);
  const size_t sizeB = static_cast<size_t>(k) * static_cast<size_t>(n);
  if (a16.size() < sizeA) a16.resize(sizeA);
  if (b16.size() < sizeB) b16.resize(sizeB);
  uint16_t* pa = a16.data();
  uint16_t* pb = b16.data();
  parallelFor(sizeA + sizeB, 16384, [&](size_t i0, size_t i1) {
    if (i0 < sizeA) toBf16(a + i0, std::min(i1, sizeA) - i0, pa + i0);
    if (i1 > sizeA) {
      const size_t j0 = i0 > sizeA ? i0 - sizeA : 0;
      toBf16(b + j0, i1 - sizeA - j0, pb + j0);
    }
  });
  const int lda = transA ? m : k, ldb = transB ? k : n;
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
  splitGemm(transA, transB, m, n, k, pa, pb, c, [&](int pm, int pn, const uint16_t* ap, const uint16_t* bp, float* cp) {
    if (onednnGemmBf16(transA, transB, pm, pn, k, alpha, ap, lda, bp, ldb, beta, cp, n)) return;
    // A refused primitive wrote nothing: this part (only this one, so beta = 1 never adds twice) in float32.
    callGemm(ta, tb, pm, pn, k, alpha, a + (ap - pa), lda, b + (bp - pb), ldb, beta, cp, n);
  });
  return true;
}

}  // namespace

template <typename T>
void gemm(bool transA, bool transB, int m, int n, int k, T alpha, const T* a, const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == T(0)) {
    // NOTE: handled here rather than trusting each BLAS's degenerate-case rules (k == 0 means op(A)@op(B) = 0).
    scaleC(beta, c, static_cast<size_t>(m) * static_cast<size_t>(n));
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    // The calling thread's precision (pool threads are always float32; vugrad's convolutions hold their gemms
    // to float32 with a Float32Scope).
    if (precisionBf16() && gemmBf16(transA, transB, m, n, k, alpha, a, b, beta, c)) return;
  }
  const int lda = transA ? m : k;  // A stored [k, m] when transposed, else [m, k]
  const int ldb = transB ? k : n;  // B stored [n, k] when transposed, else [k, n]
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    if (onednnOwnThreads() && !inParallelPart() && onednnRunsGemm() &&
        onednnGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, n))
      return;
  }
  splitGemm(transA, transB, m, n, k, a, b, c, [&](int pm, int pn, const T* ap, const T* bp, T* cp) {
    callGemm(ta, tb, pm, pn, k, alpha, ap, lda, bp, ldb, beta, cp, n);
  });
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
  blasInit();
  return parallelThreads();
}

void blasSetNumThreads(int n) {
  blasInit();
  setParallelThreads(n < 1 ? 1 : n);
}

}  // namespace vg
