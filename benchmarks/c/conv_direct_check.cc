// Correctness check and single-thread benchmark of the direct convolution kernels (native/src/conv_direct.cc)
// against a naive reference and against im2col + cblas_sgemm / cblas_dgemm doing the same job.
//
// Build and run (from the repository root; one line):
//   g++ -O3 -fno-trapping-math -std=c++17 -Inative/include benchmarks/c/conv_direct_check.cc native/src/conv_direct.cc $(pkg-config --cflags --libs openblas) -o /tmp/convcheck && /tmp/convcheck
// Options: --no-bench (checks only), --reps N (timing repeats, default 41), --double (also time float64),
// --sweep (also time other layer shapes, float32).
//
// The baselines: "im2col/img" is what the shape suggests (per image: im2col, one gemm with M = o rows);
// "im2col/batch" builds the columns of the whole batch and does one wide gemm (plus the axis swap of the output).
// Times are medians over the repeats, one thread (openblas_set_num_threads(1)).
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "vugrad/conv_direct.h"

extern "C" void openblas_set_num_threads(int);

using vg::conv2dDirectForward;
using vg::conv2dDirectInputGrad;
using vg::conv2dDirectWeightGrad;

namespace {

struct Shape {
  size_t n, c, h, w, o, kh, kw, pad;
  size_t oh() const { return h + 2 * pad - kh + 1; }
  size_t ow() const { return w + 2 * pad - kw + 1; }
};

std::mt19937_64 rng(12345);

template <typename T>
std::vector<T> randomVec(size_t n) {
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& e : v) e = static_cast<T>(d(rng));
  return v;
}

// ---- naive references in double; each also returns the sum of |terms| per element (for the tolerance) ----

template <typename T>
double xpadAt(const std::vector<T>& x, const Shape& s, size_t i, size_t c, ptrdiff_t y, ptrdiff_t xx) {
  y -= static_cast<ptrdiff_t>(s.pad);
  xx -= static_cast<ptrdiff_t>(s.pad);
  if (y < 0 || xx < 0 || y >= static_cast<ptrdiff_t>(s.h) || xx >= static_cast<ptrdiff_t>(s.w)) return 0;
  return x[((i * s.c + c) * s.h + y) * s.w + xx];
}

template <typename T>
void refForward(const std::vector<T>& x, const std::vector<T>& w, const T* bias, const Shape& s,
                std::vector<double>& out, std::vector<double>& mag) {
  out.assign(s.n * s.o * s.oh() * s.ow(), 0);
  mag.assign(out.size(), 0);
  for (size_t i = 0; i < s.n; i++)
    for (size_t o = 0; o < s.o; o++)
      for (size_t oy = 0; oy < s.oh(); oy++)
        for (size_t ox = 0; ox < s.ow(); ox++) {
          double acc = bias ? bias[o] : 0, m = bias ? std::fabs(double(bias[o])) : 0;
          for (size_t c = 0; c < s.c; c++)
            for (size_t ky = 0; ky < s.kh; ky++)
              for (size_t kx = 0; kx < s.kw; kx++) {
                double t = double(w[((o * s.c + c) * s.kh + ky) * s.kw + kx]) * xpadAt(x, s, i, c, oy + ky, ox + kx);
                acc += t;
                m += std::fabs(t);
              }
          size_t idx = ((i * s.o + o) * s.oh() + oy) * s.ow() + ox;
          out[idx] = acc;
          mag[idx] = m;
        }
}

template <typename T>
void refWeightGrad(const std::vector<T>& x, const std::vector<T>& g, const Shape& s, size_t i0, size_t i1,
                   std::vector<double>& gw, std::vector<double>& mag) {
  gw.assign(s.o * s.c * s.kh * s.kw, 0);
  mag.assign(gw.size(), 0);
  for (size_t o = 0; o < s.o; o++)
    for (size_t c = 0; c < s.c; c++)
      for (size_t ky = 0; ky < s.kh; ky++)
        for (size_t kx = 0; kx < s.kw; kx++) {
          double acc = 0, m = 0;
          for (size_t i = i0; i < i1; i++)
            for (size_t oy = 0; oy < s.oh(); oy++)
              for (size_t ox = 0; ox < s.ow(); ox++) {
                double t = double(g[((i * s.o + o) * s.oh() + oy) * s.ow() + ox]) * xpadAt(x, s, i, c, oy + ky, ox + kx);
                acc += t;
                m += std::fabs(t);
              }
          size_t idx = ((o * s.c + c) * s.kh + ky) * s.kw + kx;
          gw[idx] = acc;
          mag[idx] = m;
        }
}

template <typename T>
void refInputGrad(const std::vector<T>& g, const std::vector<T>& w, const Shape& s, std::vector<double>& gx,
                  std::vector<double>& mag) {
  gx.assign(s.n * s.c * s.h * s.w, 0);
  mag.assign(gx.size(), 0);
  const ptrdiff_t OH = s.oh(), OW = s.ow(), P = s.pad;
  for (size_t i = 0; i < s.n; i++)
    for (size_t c = 0; c < s.c; c++)
      for (size_t iy = 0; iy < s.h; iy++)
        for (size_t ix = 0; ix < s.w; ix++) {
          double acc = 0, m = 0;
          for (size_t o = 0; o < s.o; o++)
            for (size_t ky = 0; ky < s.kh; ky++)
              for (size_t kx = 0; kx < s.kw; kx++) {
                ptrdiff_t oy = ptrdiff_t(iy) + P - ptrdiff_t(ky), ox = ptrdiff_t(ix) + P - ptrdiff_t(kx);
                if (oy < 0 || ox < 0 || oy >= OH || ox >= OW) continue;
                double t = double(w[((o * s.c + c) * s.kh + ky) * s.kw + kx]) * g[((i * s.o + o) * OH + oy) * OW + ox];
                acc += t;
                m += std::fabs(t);
              }
          size_t idx = ((i * s.c + c) * s.h + iy) * s.w + ix;
          gx[idx] = acc;
          mag[idx] = m;
        }
}

int failures = 0;

// Compares got[lo, hi) to ref with tolerance tol * (mag + tiny) (+ base for accumulate), and checks that
// everything outside [lo, hi) still equals the sentinel.
template <typename T>
void compare(const char* what, const Shape& s, const std::vector<T>& got, const std::vector<double>& ref,
             const std::vector<double>& mag, const std::common_type_t<std::vector<T>>* base, size_t lo, size_t hi, T sentinel, double tol) {
  double worst = 0;
  size_t bad = 0;
  for (size_t k = 0; k < got.size(); k++) {
    if (k < lo || k >= hi) {
      if (!(got[k] == sentinel)) bad++;
      continue;
    }
    double r = base ? double((*base)[k]) + ref[k] : ref[k];
    double m = mag[k] + (base ? std::fabs(double((*base)[k])) : 0) + 1e-30;
    double e = std::fabs(double(got[k]) - r) / m;
    if (!(e <= tol)) bad++;
    if (e > worst || std::isnan(e)) worst = e;
  }
  if (bad) {
    failures++;
    std::printf("FAIL %-10s %s n=%zu c=%zu h=%zu w=%zu o=%zu k=%zux%zu pad=%zu [%zu,%zu): %zu bad, worst rel %.3g\n",
                what, sizeof(T) == 4 ? "f32" : "f64", s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, lo, hi, bad, worst);
  }
}

template <typename T>
double checkShape(const Shape& s) {
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-13;  // relative to the sum of |terms|
  const T sentinel = T(12345.5);
  auto x = randomVec<T>(s.n * s.c * s.h * s.w);
  auto w = randomVec<T>(s.o * s.c * s.kh * s.kw);
  auto bias = randomVec<T>(s.o);
  auto g = randomVec<T>(s.n * s.o * s.oh() * s.ow());
  std::vector<double> ref, mag;
  const size_t outImg = s.o * s.oh() * s.ow(), inImg = s.c * s.h * s.w;
  // Sub-ranges: the whole batch, and a middle slice when there is one.
  std::vector<std::pair<size_t, size_t>> ranges = {{0, s.n}};
  if (s.n >= 3) ranges.push_back({1, s.n - 1});

  for (int withBias = 0; withBias < 2; withBias++) {
    refForward(x, w, withBias ? bias.data() : nullptr, s, ref, mag);
    for (auto [i0, i1] : ranges) {
      std::vector<T> out(s.n * outImg, sentinel);
      conv2dDirectForward(x.data(), i0, i1, s.c, s.h, s.w, w.data(), s.o, s.kh, s.kw, s.pad,
                          withBias ? bias.data() : nullptr, out.data());
      compare("forward", s, out, ref, mag, nullptr, i0 * outImg, i1 * outImg, sentinel, tol);
    }
  }
  for (auto [i0, i1] : ranges) {
    refWeightGrad(x, g, s, i0, i1, ref, mag);
    std::vector<T> gw(w.size(), sentinel);
    conv2dDirectWeightGrad(x.data(), g.data(), i0, i1, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, gw.data(), false);
    compare("wgrad", s, gw, ref, mag, nullptr, 0, gw.size(), sentinel, tol);
    auto base = randomVec<T>(w.size());
    std::vector<T> gwa = base;
    conv2dDirectWeightGrad(x.data(), g.data(), i0, i1, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, gwa.data(), true);
    compare("wgrad+acc", s, gwa, ref, mag, &base, 0, gwa.size(), sentinel, tol);
  }
  refInputGrad(g, w, s, ref, mag);
  for (auto [i0, i1] : ranges) {
    std::vector<T> gx(s.n * inImg, sentinel);
    conv2dDirectInputGrad(g.data(), w.data(), i0, i1, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, gx.data());
    compare("igrad", s, gx, ref, mag, nullptr, i0 * inImg, i1 * inImg, sentinel, tol);
  }
  return 0;
}

void runChecks() {
  std::vector<Shape> shapes = {
      // n, c, h, w, o, kh, kw, pad
      {3, 3, 32, 32, 6, 5, 5, 0},   // LeNet conv1 (small batch)
      {3, 6, 14, 14, 16, 5, 5, 0},  // LeNet conv2
      {3, 3, 32, 32, 6, 5, 5, 2},   {2, 6, 14, 14, 16, 5, 5, 1},  {2, 1, 28, 28, 8, 3, 3, 1},
      {2, 4, 9, 7, 5, 3, 2, 0},     {2, 2, 5, 11, 3, 2, 4, 1},    {3, 5, 6, 6, 7, 1, 1, 0},
      {2, 3, 8, 8, 4, 1, 1, 2},     {2, 1, 5, 5, 1, 5, 5, 0},     {2, 1, 1, 1, 1, 1, 1, 0},
      {2, 2, 1, 1, 3, 3, 3, 1},     {2, 3, 4, 4, 2, 3, 3, 3},     {2, 2, 3, 5, 2, 2, 2, 4},
      {3, 7, 12, 10, 13, 3, 3, 1},  {1, 16, 8, 8, 32, 3, 3, 1},   {2, 3, 17, 23, 9, 7, 5, 3},
      {2, 2, 2, 30, 6, 1, 7, 0},    {2, 2, 30, 2, 6, 7, 1, 0},    {4, 1, 6, 9, 1, 3, 3, 0},
      {2, 11, 7, 7, 17, 2, 2, 0},   {2, 3, 40, 3, 5, 3, 3, 1},    {2, 6, 33, 33, 6, 5, 5, 2},
  };
  std::mt19937_64 r(7);
  for (int k = 0; k < 40; k++) {  // random small shapes
    Shape s;
    s.n = 1 + r() % 4; s.c = 1 + r() % 8; s.o = 1 + r() % 14;
    s.kh = 1 + r() % 6; s.kw = 1 + r() % 6; s.pad = r() % 4;
    s.h = 1 + r() % 20; s.w = 1 + r() % 20;
    if (s.h + 2 * s.pad < s.kh || s.w + 2 * s.pad < s.kw) continue;
    shapes.push_back(s);
  }
  for (const auto& s : shapes) {
    checkShape<float>(s);
    checkShape<double>(s);
  }
  std::printf("checks: %zu shapes x {f32,f64} x {forward (+/-bias), wgrad (+/-accumulate), igrad} x sub-ranges: %s\n",
              shapes.size(), failures ? "FAILURES" : "all passed");
}

// ---- im2col + gemm baselines ----

template <typename T>
void im2colImage(const T* x, const Shape& s, T* cols, size_t ld) {  // cols[(c,ky,kx)][oy*ow+ox], row stride ld
  const ptrdiff_t OH = s.oh(), OW = s.ow(), P = s.pad, H = s.h, W = s.w;
  size_t row = 0;
  for (size_t c = 0; c < s.c; c++)
    for (size_t ky = 0; ky < s.kh; ky++)
      for (size_t kx = 0; kx < s.kw; kx++, row++) {
        T* d = cols + row * ld;
        for (ptrdiff_t oy = 0; oy < OH; oy++, d += OW) {
          ptrdiff_t iy = oy + ptrdiff_t(ky) - P;
          if (iy < 0 || iy >= H) { std::fill(d, d + OW, T(0)); continue; }
          const T* xr = x + (c * s.h + iy) * s.w;
          ptrdiff_t ix0 = ptrdiff_t(kx) - P;
          if (ix0 >= 0 && ix0 + OW <= W) { std::memcpy(d, xr + ix0, OW * sizeof(T)); continue; }
          for (ptrdiff_t ox = 0; ox < OW; ox++) d[ox] = (ox + ix0 >= 0 && ox + ix0 < W) ? xr[ox + ix0] : T(0);
        }
      }
}

template <typename T>
void col2imImage(const T* cols, const Shape& s, size_t ld, T* x) {  // x += adjoint(im2col)(cols); x pre-zeroed
  const ptrdiff_t OH = s.oh(), OW = s.ow(), P = s.pad, H = s.h, W = s.w;
  size_t row = 0;
  for (size_t c = 0; c < s.c; c++)
    for (size_t ky = 0; ky < s.kh; ky++)
      for (size_t kx = 0; kx < s.kw; kx++, row++) {
        const T* src = cols + row * ld;
        for (ptrdiff_t oy = 0; oy < OH; oy++, src += OW) {
          ptrdiff_t iy = oy + ptrdiff_t(ky) - P;
          if (iy < 0 || iy >= H) continue;
          T* xr = x + (c * s.h + iy) * s.w;
          ptrdiff_t ix0 = ptrdiff_t(kx) - P;
          for (ptrdiff_t ox = 0; ox < OW; ox++)
            if (ox + ix0 >= 0 && ox + ix0 < W) xr[ox + ix0] += src[ox];
        }
      }
}

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, const float* a, size_t lda,
          const float* b, size_t ldb, float beta, float* c, size_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t m, size_t n, size_t k, const double* a, size_t lda,
          const double* b, size_t ldb, double beta, double* c, size_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

double medianMs(const std::function<void()>& f, int reps) {
  f();  // warm-up
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    auto a = std::chrono::steady_clock::now();
    f();
    auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <typename T>
void bench(const char* name, const Shape& s, int reps) {
  const size_t N = s.oh() * s.ow(), K = s.c * s.kh * s.kw, inImg = s.c * s.h * s.w, outImg = s.o * N;
  auto x = randomVec<T>(s.n * inImg);
  auto w = randomVec<T>(s.o * K);
  auto bias = randomVec<T>(s.o);
  auto g = randomVec<T>(s.n * outImg);
  std::vector<T> out(s.n * outImg), gw(s.o * K), gx(s.n * inImg);
  std::vector<T> cols(K * N), colsAll(K * N * s.n), tmp(s.n * outImg);

  // forward
  double dF = medianMs([&] {
    conv2dDirectForward(x.data(), 0, s.n, s.c, s.h, s.w, w.data(), s.o, s.kh, s.kw, s.pad, bias.data(), out.data());
  }, reps);
  double iF = medianMs([&] {
    for (size_t i = 0; i < s.n; i++) {
      im2colImage(x.data() + i * inImg, s, cols.data(), N);
      T* oi = out.data() + i * outImg;
      for (size_t o = 0; o < s.o; o++) std::fill(oi + o * N, oi + (o + 1) * N, bias[o]);
      gemm(CblasNoTrans, CblasNoTrans, s.o, N, K, w.data(), K, cols.data(), N, T(1), oi, N);
    }
  }, reps);
  double bF = medianMs([&] {
    const size_t NN = s.n * N;
    for (size_t i = 0; i < s.n; i++) im2colImage(x.data() + i * inImg, s, colsAll.data() + i * N, NN);
    gemm(CblasNoTrans, CblasNoTrans, s.o, NN, K, w.data(), K, colsAll.data(), NN, T(0), tmp.data(), NN);
    for (size_t o = 0; o < s.o; o++)  // [o][n][N] -> [n][o][N] + bias
      for (size_t i = 0; i < s.n; i++) {
        const T* a = tmp.data() + (o * s.n + i) * N;
        T* d = out.data() + (i * s.o + o) * N;
        for (size_t k = 0; k < N; k++) d[k] = a[k] + bias[o];
      }
  }, reps);

  // weight gradient
  double dW = medianMs([&] {
    conv2dDirectWeightGrad(x.data(), g.data(), 0, s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, gw.data(), false);
  }, reps);
  double iW = medianMs([&] {
    for (size_t i = 0; i < s.n; i++) {
      im2colImage(x.data() + i * inImg, s, cols.data(), N);
      gemm(CblasNoTrans, CblasTrans, s.o, K, N, g.data() + i * outImg, N, cols.data(), N, T(i ? 1 : 0), gw.data(), K);
    }
  }, reps);
  double bW = medianMs([&] {
    const size_t NN = s.n * N;
    for (size_t i = 0; i < s.n; i++) im2colImage(x.data() + i * inImg, s, colsAll.data() + i * N, NN);
    for (size_t i = 0; i < s.n; i++)  // g [n][o][N] -> [o][n][N]
      for (size_t o = 0; o < s.o; o++)
        std::memcpy(tmp.data() + (o * s.n + i) * N, g.data() + (i * s.o + o) * N, N * sizeof(T));
    gemm(CblasNoTrans, CblasTrans, s.o, K, NN, tmp.data(), NN, colsAll.data(), NN, T(0), gw.data(), K);
  }, reps);

  // input gradient
  double dI = medianMs([&] {
    conv2dDirectInputGrad(g.data(), w.data(), 0, s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.pad, gx.data());
  }, reps);
  double iI = medianMs([&] {
    for (size_t i = 0; i < s.n; i++) {
      gemm(CblasTrans, CblasNoTrans, K, N, s.o, w.data(), K, g.data() + i * outImg, N, T(0), cols.data(), N);
      T* xi = gx.data() + i * inImg;
      std::fill(xi, xi + inImg, T(0));
      col2imImage(cols.data(), s, N, xi);
    }
  }, reps);
  double bI = medianMs([&] {
    const size_t NN = s.n * N;
    for (size_t i = 0; i < s.n; i++)
      for (size_t o = 0; o < s.o; o++)
        std::memcpy(tmp.data() + (o * s.n + i) * N, g.data() + (i * s.o + o) * N, N * sizeof(T));
    gemm(CblasTrans, CblasNoTrans, K, NN, s.o, w.data(), K, tmp.data(), NN, T(0), colsAll.data(), NN);
    std::fill(gx.begin(), gx.end(), T(0));
    for (size_t i = 0; i < s.n; i++) col2imImage(colsAll.data() + i * N, s, NN, gx.data() + i * inImg);
  }, reps);

  const double macs = double(s.n) * s.o * N * K;
  auto row = [&](const char* op, double d, double i, double b) {
    std::printf("%-6s %-4s %-12s %8.3f ms %8.3f ms %8.3f ms   x%5.2f   %6.1f GMAC/s\n", name,
                sizeof(T) == 4 ? "f32" : "f64", op, d, i, b, std::min(i, b) / d, macs / d * 1e-6);
  };
  row("forward", dF, iF, bF);
  row("weightgrad", dW, iW, bW);
  row("inputgrad", dI, iI, bI);
}

}  // namespace

int main(int argc, char** argv) {
  bool doBench = true, doDouble = false, doSweep = false;
  int reps = 41;
  for (int a = 1; a < argc; a++) {
    std::string s = argv[a];
    if (s == "--no-bench") doBench = false;
    else if (s == "--double") doDouble = true;
    else if (s == "--sweep") doSweep = true;
    else if (s == "--reps" && a + 1 < argc) reps = std::atoi(argv[++a]);
  }
  openblas_set_num_threads(1);
  runChecks();
  if (doBench) {
    std::printf("\nsingle thread, batch 64, median of %d; MAC rate counts the useful multiply-adds\n", reps);
    std::printf("%-6s %-4s %-12s %11s %11s %11s %8s %s\n", "shape", "type", "op", "direct", "im2col/img",
                "im2col/batch", "speedup", "(direct)");
    const Shape conv1{64, 3, 32, 32, 6, 5, 5, 0}, conv2{64, 6, 14, 14, 16, 5, 5, 0};
    bench<float>("conv1", conv1, reps);
    bench<float>("conv2", conv2, reps);
    if (doDouble) {
      bench<double>("conv1", conv1, reps);
      bench<double>("conv2", conv2, reps);
    }
  }
  if (doSweep) {  // other layer shapes, for the conv2dDirectPreferred rule
    const Shape shapes[] = {
        {64, 1, 28, 28, 32, 5, 5, 2},   {64, 32, 14, 14, 64, 5, 5, 2}, {64, 3, 32, 32, 32, 3, 3, 1},
        {64, 16, 16, 16, 32, 3, 3, 1},  {64, 32, 16, 16, 32, 3, 3, 1}, {64, 64, 8, 8, 64, 3, 3, 1},
        {64, 128, 8, 8, 128, 3, 3, 1},  {64, 64, 16, 16, 64, 1, 1, 0}, {64, 256, 4, 4, 256, 3, 3, 1},
        {64, 16, 5, 5, 120, 5, 5, 0},
    };
    std::printf("\nsweep (f32):\n");
    for (const Shape& s : shapes) {
      char name[64];
      std::snprintf(name, sizeof name, "c%zu o%zu %zux%zu k%zu p%zu", s.c, s.o, s.h, s.w, s.kh, s.pad);
      bench<float>(name, s, std::max(5, reps / 4));
    }
  }
  return failures ? 1 : 0;
}
