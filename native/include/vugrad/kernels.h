// vugrad's native kernels: a plain C++ API (no N-API types), one function per entry of the TypeScript
// KernelTable (lib/kernels/names.ts), for float and double. The elementwise family is also a table
// (ElementwiseKernel below): a kernel added to it is declared nowhere else.
//
// Conventions, the same as the TypeScript table:
// - arrays are contiguous and row-major; sizes are element counts;
// - the caller has checked every length and index range (native/src/addon.cc does, before each call);
// - `out` may alias an input only where names.ts says so;
// - nothing here keeps a pointer past the call, and nothing here has mutable static state;
// - large calls split their work across the kernel thread pool (vugrad/parallel.h) and return when all of it is
//   done, so to the caller every kernel is an ordinary synchronous call.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vg {

// Same order as the UnaryOp / BinaryOp unions in lib/kernels/names.ts; the TypeScript wrapper sends the index.
enum class UnaryOp : int { Neg = 0, Exp, Log, Sigmoid, Relu, Tanh, Sqrt, Abs, Square, Reciprocal, Count };
enum class BinaryOp : int { Add = 0, Sub, Mul, Div, Max, Min, Count };

// C = alpha * op(A) @ op(B) + beta * C through cblas_?gemm. op(A) is [m, k], op(B) is [k, n], C is [m, n].
// With beta == 0 the old contents of C are ignored (NaN included). Sizes must fit in an int (checked by caller).
template <typename T>
void gemm(bool transA, bool transB, int m, int n, int k, T alpha, const T* a, const T* b, T beta, T* c);

template <typename T> void unary(UnaryOp op, const T* x, T* out, size_t n);
template <typename T> void unaryBackward(UnaryOp op, const T* x, const T* y, const T* g, T* out, size_t n);
template <typename T> void binary(BinaryOp op, const T* a, const T* b, T* out, size_t n);
template <typename T> void binaryScalar(BinaryOp op, const T* a, T s, T* out, size_t n);
template <typename T> void axpy(T alpha, const T* x, T* y, size_t n);
template <typename T> void axpby(T alpha, const T* x, T beta, const T* y, T* out, size_t n);
// SGD with momentum, fused: buf = momentum buf + (1 - dampening) g; param -= lr (nesterov ? g + momentum buf : buf).
template <typename T>
void sgdMomentum(T* param, const T* grad, T* buf, T lr, T momentum, T dampening, bool nesterov, size_t n);
// Adam, fused: m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2; with vmax (AMSGrad, may be null)
// vmax = max(vmax, v) and used for v below; param -= stepSize m / (sqrt(v) / bc2Sqrt + eps).
template <typename T>
void adam(T* param, const T* grad, T* m, T* v, T* vmax, T beta1, T beta2, T stepSize, T bc2Sqrt, T eps, size_t n);
// RMSprop, fused: sq = alpha sq + (1 - alpha) g^2; centered (gAvg not null): gAvg = alpha gAvg + (1 - alpha) g,
// d = g / (sqrt(sq - gAvg^2) + eps), else d = g / (sqrt(sq) + eps); with buf (not null): buf = momentum buf + d,
// param -= lr buf, else param -= lr d.
template <typename T>
void rmsprop(T* param, const T* grad, T* sq, T* gAvg, T* buf, T lr, T alpha, T eps, T momentum, size_t n);
// Adagrad, fused: sum += g^2; param -= clr g / (sqrt(sum) + eps).
template <typename T>
void adagrad(T* param, const T* grad, T* sum, T clr, T eps, size_t n);
// Adamax, fused: m = beta1 m + (1 - beta1) g; u = max(beta2 u, |g| + eps); param -= stepSize m / u.
template <typename T>
void adamax(T* param, const T* grad, T* m, T* u, T beta1, T beta2, T stepSize, T eps, size_t n);
// Adadelta, fused: sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps) g;
// acc = rho acc + (1 - rho) delta^2; param -= lr delta.
template <typename T>
void adadelta(T* param, const T* grad, T* sq, T* acc, T lr, T rho, T eps, size_t n);
// Rprop, per element: the step size times etaplus where g and prev agree in sign, etaminus where they differ
// (that g then counts as 0), clamped to [minStep, maxStep]; param -= sign(g) stepSize; prev = g.
template <typename T>
void rprop(T* param, const T* grad, T* prev, T* stepSize, T etaminus, T etaplus, T minStep, T maxStep, size_t n);
// ASGD, fused: param = param decay - eta g; ax += mu (param - ax), or ax = param when mu == 1.
template <typename T>
void asgd(T* param, const T* grad, T* ax, T decay, T eta, T mu, size_t n);
template <typename T> void fill(T* out, T value, size_t n);
template <typename T> double sumAll(const T* x, size_t n);
template <typename T> double dot(const T* a, const T* b, size_t n);

// The elementwise family as one table (native/src/elementwise.cc), so that a new elementwise kernel is written in
// that one C++ file: its loop and its entry here; addon.cc exports a handler for each entry (reading and checking
// the arguments as the entry says) and nothing in this header changes. An entry's arguments are, in order, one
// letter each: 'o' an op code (an integer below opCount), 'a' a float array (named by `arrays`, in order), 's' a
// number (named by `numbers`). Every array has the dtype and length of array `ref`. f32 / f64 run the kernel
// on the arrays' data (the numbers cast to the element type) and return its value (0 when it returns nothing).
struct ElementwiseKernel {
  static constexpr size_t kMaxArrays = 6, kMaxNumbers = 6;
  const char* name;
  const char* signature;
  int opCount;
  size_t ref;
  const char* arrays[kMaxArrays];
  const char* numbers[kMaxNumbers];
  bool returnsNumber;
  double (*f32)(int op, float* const* a, const float* s, size_t n);
  double (*f64)(int op, double* const* a, const double* s, size_t n);
};
// The table: `*count` entries, immutable, valid for the life of the process.
const ElementwiseKernel* elementwiseKernels(size_t* count);

template <typename T> void sumAxis(const T* x, size_t outer, size_t n, size_t inner, T* out);
template <typename T> void maxAxis(const T* x, size_t outer, size_t n, size_t inner, T* out, int32_t* argmax);
template <typename T> void broadcastAxis(const T* x, size_t outer, size_t n, size_t inner, T* out);
template <typename T>
void scatterAxis(const T* g, const int32_t* idx, size_t outer, size_t n, size_t inner, T* out);
template <typename T> void gather(const T* x, size_t rows, size_t cols, const int32_t* idx, T* out);
template <typename T> void transpose(const T* x, size_t rows, size_t cols, T* out);

template <typename T> void softmax(const T* x, size_t rows, size_t cols, T* out);
template <typename T> void softmaxBackward(const T* y, const T* g, size_t rows, size_t cols, T* out);
template <typename T> void logSoftmax(const T* x, size_t rows, size_t cols, T* out);
template <typename T> void logSoftmaxBackward(const T* y, const T* g, size_t rows, size_t cols, T* out);
// Fused, stable softmax cross-entropy: losses[r] = logsumexp(x[r]) - x[r, t[r]], probs = softmax(x).
template <typename T>
void crossEntropy(const T* x, size_t rows, size_t cols, const int32_t* targets, T* losses, T* probs);
template <typename T>
void crossEntropyBackward(const T* probs, const int32_t* targets, const T* scale, size_t rows, size_t cols, T* out);

// Output size of a convolution or pooling window along one axis; may be <= 0 (caller rejects that).
inline int64_t convOutSize(int64_t size, int64_t k, int64_t stride, int64_t pad) {
  const int64_t span = size + 2 * pad - k;
  if (span < 0) return 0;
  return span / stride + 1;
}

template <typename T>
void im2col(const T* x, size_t c, size_t h, size_t w, size_t kh, size_t kw, size_t stride, size_t pad, T* out);
template <typename T>
void col2im(const T* cols, size_t c, size_t h, size_t w, size_t kh, size_t kw, size_t stride, size_t pad, T* out);
// Whole-batch 2-D convolution (native/src/conv2d.cc): x [n, c, h, w], weight [o, c, kh, kw], bias [o] or nullptr,
// out [n, o, oh, ow], all overwritten outputs; see conv2d in lib/kernels/names.ts.
template <typename T>
void conv2d(const T* x, const T* weight, const T* bias, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
            size_t kw, size_t stride, size_t pad, T* out);
template <typename T>
void conv2dBackwardWeight(const T* x, const T* g, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
                          size_t kw, size_t stride, size_t pad, T* gw);
template <typename T>
void conv2dBackwardInput(const T* g, const T* weight, size_t n, size_t c, size_t h, size_t w, size_t o, size_t kh,
                         size_t kw, size_t stride, size_t pad, T* gx);

template <typename T>
void maxPool2d(const T* x, size_t planes, size_t h, size_t w, size_t k, size_t stride, T* out, int32_t* argmax);
template <typename T>
void maxPool2dBackward(const T* g, const int32_t* argmax, size_t planes, size_t h, size_t w, size_t oh, size_t ow,
                       T* out);

}  // namespace vg
