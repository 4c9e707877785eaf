// Reductions, broadcasts, gathers and scatters along an axis, transpose, and the row-wise softmax family.
// Row sums are accumulated in double for both dtypes, like the JS table (whose numbers are doubles).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "vugrad/kernels.h"

namespace vg {

namespace {

template <typename T>
inline T rowMax(const T* x, size_t cols) {
  T m = -std::numeric_limits<T>::infinity();
  for (size_t c = 0; c < cols; c++)
    if (x[c] > m) m = x[c];
  return m;
}

// logsumexp of one row, stable: max + log(sum(exp(x - max))).
template <typename T>
inline double rowLogSumExp(const T* x, size_t cols, T m) {
  double s = 0;
  for (size_t c = 0; c < cols; c++) s += std::exp(static_cast<double>(x[c] - m));
  return static_cast<double>(m) + std::log(s);
}

// probs = softmax of one row; out may alias x.
template <typename T>
inline double rowSoftmax(const T* x, size_t cols, T* out) {
  const T m = rowMax(x, cols);
  double s = 0;
  for (size_t c = 0; c < cols; c++) {
    const T e = std::exp(x[c] - m);
    out[c] = e;
    s += e;
  }
  const T inv = static_cast<T>(1.0 / s);
  for (size_t c = 0; c < cols; c++) out[c] *= inv;
  return static_cast<double>(m) + std::log(s);
}

}  // namespace

template <typename T>
void sumAxis(const T* x, size_t outer, size_t n, size_t inner, T* out) {
  if (inner == 1) {  // row sums: four partial sums instead of one serial chain of adds
    for (size_t o = 0; o < outer; o++) {
      const T* xb = x + o * n;
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      size_t j = 0;
      for (; j + 4 <= n; j += 4) s0 += xb[j], s1 += xb[j + 1], s2 += xb[j + 2], s3 += xb[j + 3];
      for (; j < n; j++) s0 += xb[j];
      out[o] = (s0 + s1) + (s2 + s3);
    }
    return;
  }
  std::fill(out, out + outer * inner, T(0));
  for (size_t o = 0; o < outer; o++) {
    T* ob = out + o * inner;
    for (size_t j = 0; j < n; j++) {
      const T* xb = x + (o * n + j) * inner;
      for (size_t i = 0; i < inner; i++) ob[i] += xb[i];
    }
  }
}

template <typename T>
void maxAxis(const T* x, size_t outer, size_t n, size_t inner, T* out, int32_t* argmax) {
  for (size_t o = 0; o < outer; o++) {
    T* ob = out + o * inner;
    int32_t* ab = argmax + o * inner;
    const T* xb0 = x + o * n * inner;
    for (size_t i = 0; i < inner; i++) {
      ob[i] = xb0[i];
      ab[i] = 0;
    }
    for (size_t j = 1; j < n; j++) {
      const T* xb = xb0 + j * inner;
      for (size_t i = 0; i < inner; i++) {
        if (xb[i] > ob[i]) {
          ob[i] = xb[i];
          ab[i] = static_cast<int32_t>(j);
        }
      }
    }
  }
}

template <typename T>
void broadcastAxis(const T* x, size_t outer, size_t n, size_t inner, T* out) {
  if (inner == 1) {  // a value per row (a conv bias over positions): fill, not a 4-byte memcpy per element
    for (size_t o = 0; o < outer; o++) std::fill(out + o * n, out + (o + 1) * n, x[o]);
    return;
  }
  for (size_t o = 0; o < outer; o++)
    for (size_t j = 0; j < n; j++) std::memcpy(out + (o * n + j) * inner, x + o * inner, inner * sizeof(T));
}

template <typename T>
void scatterAxis(const T* g, const int32_t* idx, size_t outer, size_t n, size_t inner, T* out) {
  for (size_t o = 0; o < outer; o++) {
    for (size_t i = 0; i < inner; i++) {
      const size_t k = o * inner + i;
      out[(o * n + static_cast<size_t>(idx[k])) * inner + i] += g[k];
    }
  }
}

template <typename T>
void gather(const T* x, size_t rows, size_t cols, const int32_t* idx, T* out) {
  for (size_t r = 0; r < rows; r++) out[r] = x[r * cols + static_cast<size_t>(idx[r])];
}

template <typename T>
void transpose(const T* x, size_t rows, size_t cols, T* out) {
  constexpr size_t B = 32;
  for (size_t r0 = 0; r0 < rows; r0 += B) {
    const size_t r1 = std::min(r0 + B, rows);
    for (size_t c0 = 0; c0 < cols; c0 += B) {
      const size_t c1 = std::min(c0 + B, cols);
      for (size_t r = r0; r < r1; r++)
        for (size_t c = c0; c < c1; c++) out[c * rows + r] = x[r * cols + c];
    }
  }
}

template <typename T>
void softmax(const T* x, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) rowSoftmax(x + r * cols, cols, out + r * cols);
}

template <typename T>
void softmaxBackward(const T* y, const T* g, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* yr = y + r * cols;
    const T* gr = g + r * cols;
    T* o = out + r * cols;
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += static_cast<double>(gr[c]) * yr[c];
    const T st = static_cast<T>(s);
    for (size_t c = 0; c < cols; c++) o[c] = yr[c] * (gr[c] - st);
  }
}

template <typename T>
void logSoftmax(const T* x, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* xr = x + r * cols;
    T* o = out + r * cols;
    const T lse = static_cast<T>(rowLogSumExp(xr, cols, rowMax(xr, cols)));
    for (size_t c = 0; c < cols; c++) o[c] = xr[c] - lse;
  }
}

template <typename T>
void logSoftmaxBackward(const T* y, const T* g, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T* yr = y + r * cols;
    const T* gr = g + r * cols;
    T* o = out + r * cols;
    double s = 0;
    for (size_t c = 0; c < cols; c++) s += gr[c];
    const T st = static_cast<T>(s);
    for (size_t c = 0; c < cols; c++) o[c] = gr[c] - std::exp(yr[c]) * st;
  }
}

template <typename T>
void crossEntropy(const T* x, size_t rows, size_t cols, const int32_t* targets, T* losses, T* probs) {
  for (size_t r = 0; r < rows; r++) {
    const T* xr = x + r * cols;
    const double lse = rowSoftmax(xr, cols, probs + r * cols);
    // loss = logsumexp(x) - x[t]: never log of a probability, so it stays finite for logits of +-1000.
    losses[r] = static_cast<T>(lse - static_cast<double>(xr[static_cast<size_t>(targets[r])]));
  }
}

template <typename T>
void crossEntropyBackward(const T* probs, const int32_t* targets, const T* scale, size_t rows, size_t cols, T* out) {
  for (size_t r = 0; r < rows; r++) {
    const T s = scale[r];
    const T* p = probs + r * cols;
    T* o = out + r * cols;
    for (size_t c = 0; c < cols; c++) o[c] = s * p[c];
    o[static_cast<size_t>(targets[r])] -= s;
  }
}

#define VG_INSTANTIATE(T)                                                                       \
  template void sumAxis<T>(const T*, size_t, size_t, size_t, T*);                               \
  template void maxAxis<T>(const T*, size_t, size_t, size_t, T*, int32_t*);                     \
  template void broadcastAxis<T>(const T*, size_t, size_t, size_t, T*);                         \
  template void scatterAxis<T>(const T*, const int32_t*, size_t, size_t, size_t, T*);           \
  template void gather<T>(const T*, size_t, size_t, const int32_t*, T*);                        \
  template void transpose<T>(const T*, size_t, size_t, T*);                                     \
  template void softmax<T>(const T*, size_t, size_t, T*);                                       \
  template void softmaxBackward<T>(const T*, const T*, size_t, size_t, T*);                     \
  template void logSoftmax<T>(const T*, size_t, size_t, T*);                                    \
  template void logSoftmaxBackward<T>(const T*, const T*, size_t, size_t, T*);                  \
  template void crossEntropy<T>(const T*, size_t, size_t, const int32_t*, T*, T*);              \
  template void crossEntropyBackward<T>(const T*, const int32_t*, const T*, size_t, size_t, T*);

VG_INSTANTIATE(float)
VG_INSTANTIATE(double)
#undef VG_INSTANTIATE

}  // namespace vg
