// N-API glue, and only glue: read the arguments, check them again (the TypeScript wrapper already did), call
// the vg:: kernel. A bad argument throws a JS error; nothing is ever read or written out of bounds.
//
// Context-aware (Napi::Addon, no static mutable state), so it loads in several worker_threads at once. Typed
// array pointers are borrowed for the length of one call and never kept.
//
// Handlers come in families, each a template that reads and checks its arguments, so a kernel of a family is one
// statement: elementwise (unary ... axpby, fill, and the sumAll/dot reductions: one handler, `Elementwise`,
// exported once per entry of vg::elementwiseKernels(), the table in elementwise.cc, so nothing here names them),
// optimizer updates (`optimizerUpdate<>`), axis reductions (`Axis<>`), row-wise softmax (`RowWise<>`, `RowWiseBackward<>`),
// im2col/col2im (`Conv<>`) and the conv2d gradients (`ConvBackward<>`). The kernels with index arrays (gather,
// scatterAxis, crossEntropy*, maxAxis, maxPool2d*) are written out: each has its own shape, and each copies its
// indices before checking them (CheckedIndices). lib/kernels/specs.ts declares the same arguments for the
// TypeScript side; test/kernels/specs.test.ts checks that every kernel declared there is exported here.
#include <napi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "vugrad/blas.h"
#include "vugrad/kernels.h"
#include "vugrad/onednn.h"
#include "vugrad/memory.h"

namespace {

using Info = Napi::CallbackInfo;

[[noreturn]] void fail(const Info& info, const std::string& kernel, const std::string& msg) {
  throw Napi::Error::New(info.Env(), "vugrad native " + kernel + ": " + msg);
}
[[noreturn]] void failType(const Info& info, const std::string& kernel, const std::string& msg) {
  throw Napi::TypeError::New(info.Env(), "vugrad native " + kernel + ": " + msg);
}

enum class DType { F32, F64 };

struct FloatArg {
  void* data;
  size_t length;
  DType dtype;
};

struct IntArg {
  int32_t* data;
  size_t length;
};

// Reads a typed array argument: its type, element count and data pointer (napi adjusts it by byteOffset).
void typedArrayInfo(const Info& info, size_t i, const char* kernel, const char* name, napi_typedarray_type* type,
                    size_t* length, void** data) {
  if (i >= info.Length()) fail(info, kernel, std::string("missing argument '") + name + "'");
  // NOTE: napi_get_typedarray_info fails (napi_invalid_arg) for anything that is not a typed array, so no
  // separate napi_is_typedarray. No arraybuffer/byte_offset out-parameters: they cost a handle per call, and
  // `data` already points at the view's first element. Most of the remaining per-call cost (measured with
  // perf) is N-API finding the element type through a chain of IsInt8Array, IsUint8Array, ... checks.
  if (napi_get_typedarray_info(info.Env(), info[i], type, length, data, nullptr, nullptr) != napi_ok)
    failType(info, kernel, std::string("'") + name + "' must be a typed array");
}

FloatArg floatArg(const Info& info, size_t i, const char* kernel, const char* name) {
  napi_typedarray_type type;
  FloatArg a{};
  typedArrayInfo(info, i, kernel, name, &type, &a.length, &a.data);
  if (type == napi_float32_array) a.dtype = DType::F32;
  else if (type == napi_float64_array) a.dtype = DType::F64;
  else failType(info, kernel, std::string("'") + name + "' must be a Float32Array or Float64Array");
  if (a.length > 0 && a.data == nullptr) fail(info, kernel, std::string("'") + name + "' has no data (detached?)");
  return a;
}

IntArg intArg(const Info& info, size_t i, const char* kernel, const char* name) {
  napi_typedarray_type type;
  IntArg a{};
  void* data;
  typedArrayInfo(info, i, kernel, name, &type, &a.length, &data);
  if (type != napi_int32_array) failType(info, kernel, std::string("'") + name + "' must be an Int32Array");
  if (a.length > 0 && data == nullptr) fail(info, kernel, std::string("'") + name + "' has no data (detached?)");
  a.data = static_cast<int32_t*>(data);
  return a;
}

// A size: an integer in [0, 2^31 - 1] (BLAS takes int; no kernel here needs more per dimension).
size_t sizeArg(const Info& info, size_t i, const char* kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) failType(info, kernel, std::string("'") + name + "' must be a number");
  const double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 2147483647.0 || std::floor(d) != d)
    fail(info, kernel, std::string("'") + name + "' must be an integer in [0, 2^31), got " + std::to_string(d));
  return static_cast<size_t>(d);
}

double numberArg(const Info& info, size_t i, const char* kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) failType(info, kernel, std::string("'") + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// Product of sizes, or a JS error if it overflows.
size_t product(const Info& info, const char* kernel, std::initializer_list<size_t> sizes) {
  size_t p = 1;
  for (size_t s : sizes)
    if (__builtin_mul_overflow(p, s, &p)) fail(info, kernel, "sizes overflow");
  return p;
}

void expectLength(const Info& info, const char* kernel, const char* name, size_t got, size_t want) {
  if (got != want)
    fail(info, kernel, std::string("'") + name + "' has length " + std::to_string(got) + ", expected " +
                           std::to_string(want));
}

void sameDType(const Info& info, const char* kernel, const FloatArg& a, const FloatArg& b, const char* name) {
  if (a.dtype != b.dtype) failType(info, kernel, std::string("'") + name + "' has a different dtype than the first array");
}

// The indices a kernel reads, in memory this call owns, each one checked against `bound`.
// NOTE: the caller's Int32Array may be a view of a SharedArrayBuffer that another thread rewrites while this
// call runs. Checking it in place and then letting the kernel read it again leaves a window in which a checked
// index turns into an unchecked one (time of check to time of use): an out-of-bounds read or write, a SIGSEGV.
// So the indices are copied once (one memcpy, no value is read twice), the copy is checked, and the kernel
// reads only the copy. Small arrays (a batch of labels) stay on the stack.
class CheckedIndices {
 public:
  CheckedIndices(const Info& info, const char* kernel, const char* name, const IntArg& idx, size_t bound) {
    int32_t* dst = small_;
    if (idx.length > kSmall) {
      heap_.reset(new int32_t[idx.length]);
      dst = heap_.get();
    }
    if (idx.length > 0) std::memcpy(dst, idx.data, idx.length * sizeof(int32_t));
    for (size_t i = 0; i < idx.length; i++) {
      const int32_t v = dst[i];
      if (v < 0 || static_cast<size_t>(v) >= bound)
        fail(info, kernel, std::string(name) + "[" + std::to_string(i) + "] = " + std::to_string(v) +
                               " is out of range [0, " + std::to_string(bound) + ")");
    }
    data_ = dst;
  }
  CheckedIndices(const CheckedIndices&) = delete;
  CheckedIndices& operator=(const CheckedIndices&) = delete;
  const int32_t* data() const { return data_; }

 private:
  static constexpr size_t kSmall = 256;
  int32_t small_[kSmall];
  std::unique_ptr<int32_t[]> heap_;
  const int32_t* data_ = nullptr;
};

size_t elementSize(const FloatArg& a) { return a.dtype == DType::F32 ? sizeof(float) : sizeof(double); }

// The written array `w` shares no memory with `o` (names.ts, KERNEL_ALIASING: the TypeScript checks refuse it
// on both backends; this is for callers of the raw addon). BLAS clears C before reading A and B when beta = 0,
// so a C that is A or B gave zeros.
void apart(const Info& info, const char* kernel, const char* wName, const FloatArg& w, const char* oName,
           const FloatArg& o) {
  if (w.length == 0 || o.length == 0) return;
  const auto w0 = reinterpret_cast<uintptr_t>(w.data), o0 = reinterpret_cast<uintptr_t>(o.data);
  const uintptr_t w1 = w0 + w.length * elementSize(w), o1 = o0 + o.length * elementSize(o);
  if (w0 < o1 && o0 < w1)
    fail(info, kernel, std::string("'") + wName + "' shares memory with '" + oName + "'; '" + wName +
                           "' is written, so it must be a separate array");
}

template <typename T>
T* ptr(const FloatArg& a) {
  return static_cast<T*>(a.data);
}

// Calls f with a null pointer of the element type: f(static_cast<float*>(nullptr)) or the double one.
template <typename F>
auto byDType(DType d, F&& f) {
  return d == DType::F32 ? f(static_cast<float*>(nullptr)) : f(static_cast<double*>(nullptr));
}

// An elementwise kernel's arguments, read and checked as its entry in vg::elementwiseKernels() says (see
// ElementwiseKernel in vugrad/kernels.h): in argument order, an op code below opCount, float arrays, numbers;
// then every array against array `ref`, dtype first, then length. The checks and messages of a handler
// written out.
struct ElementwiseArgs {
  static constexpr size_t kA = vg::ElementwiseKernel::kMaxArrays, kS = vg::ElementwiseKernel::kMaxNumbers;
  int op = 0;
  size_t na = 0, ns = 0;
  std::array<FloatArg, kA> a{};
  std::array<double, kS> s{};

  ElementwiseArgs(const Info& info, const vg::ElementwiseKernel& k) {
    const char* K = k.name;
    for (size_t i = 0; k.signature[i] != '\0'; i++) {
      const char c = k.signature[i];
      if (c == 'o') {
        const size_t code = sizeArg(info, i, K, "op");
        if (code >= static_cast<size_t>(k.opCount)) fail(info, K, "unknown op code " + std::to_string(code));
        op = static_cast<int>(code);
      } else if (c == 'a') {
        a[na] = floatArg(info, i, K, k.arrays[na]);
        na++;
      } else {
        s[ns] = numberArg(info, i, K, k.numbers[ns]);
        ns++;
      }
    }
    for (size_t j = 0; j < na; j++)
      if (j != k.ref) sameDType(info, K, a[k.ref], a[j], k.arrays[j]);
    for (size_t j = 0; j < na; j++)
      if (j != k.ref) expectLength(info, K, k.arrays[j], a[j].length, a[k.ref].length);
  }

  // Runs the kernel for the arrays' element type (the numbers cast to it); returns what it returns.
  double call(const vg::ElementwiseKernel& k) const {
    return byDType(a[k.ref].dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::array<T*, kA> p{};
      for (size_t j = 0; j < na; j++) p[j] = ptr<T>(a[j]);
      std::array<T, kS> v{};
      for (size_t j = 0; j < ns; j++) v[j] = static_cast<T>(s[j]);
      if constexpr (std::is_same_v<T, float>) return k.f32(op, p.data(), v.data(), a[k.ref].length);
      else return k.f64(op, p.data(), v.data(), a[k.ref].length);
    });
  }
};

// The same reading for a signature known at compile time (Sig: its letters), unrolled as a handler written out
// would be. Handlers for the signatures of the table's entries today are compiled in (fixedHandler below); an
// entry with another signature gets the loop above, a few nanoseconds slower per call until its signature is
// listed there too.
template <char... Sig>
struct FixedArgs {
  static constexpr char kSig[] = {Sig...};
  static constexpr size_t A = ((Sig == 'a' ? 1 : 0) + ... + 0);
  static constexpr size_t S = ((Sig == 's' ? 1 : 0) + ... + 0);
  int op = 0;
  std::array<FloatArg, A> a{};
  std::array<double, S> s{};

  static constexpr size_t before(char c, size_t i) {
    size_t n = 0;
    for (size_t j = 0; j < i; j++) n += kSig[j] == c ? 1 : 0;
    return n;
  }

  // The reference array's index (wellFormed checked k.ref < A when the addon loaded; the min tells the compiler).
  static size_t refOf(const vg::ElementwiseKernel& k) { return k.ref < A ? k.ref : 0; }

  FixedArgs(const Info& info, const vg::ElementwiseKernel& k) {
    readAll(info, k, std::make_index_sequence<sizeof...(Sig)>{});
    const size_t ref = refOf(k);
    for (size_t j = 0; j < A; j++)
      if (j != ref) sameDType(info, k.name, a[ref], a[j], k.arrays[j]);
    for (size_t j = 0; j < A; j++)
      if (j != ref) expectLength(info, k.name, k.arrays[j], a[j].length, a[ref].length);
  }

  template <size_t... I>
  void readAll(const Info& info, const vg::ElementwiseKernel& k, std::index_sequence<I...>) {
    (read<I>(info, k), ...);
  }

  template <size_t I>
  void read(const Info& info, const vg::ElementwiseKernel& k) {
    if constexpr (kSig[I] == 'o') {
      const size_t code = sizeArg(info, I, k.name, "op");
      if (code >= static_cast<size_t>(k.opCount)) fail(info, k.name, "unknown op code " + std::to_string(code));
      op = static_cast<int>(code);
    } else if constexpr (kSig[I] == 'a') {
      constexpr size_t j = before('a', I);
      std::get<j>(a) = floatArg(info, I, k.name, k.arrays[j]);
    } else {
      constexpr size_t j = before('s', I);
      std::get<j>(s) = numberArg(info, I, k.name, k.numbers[j]);
    }
  }

  double call(const vg::ElementwiseKernel& k) const {
    const size_t ref = refOf(k);
    return byDType(a[ref].dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::array<T*, (A > 0 ? A : 1)> p{};
      for (size_t j = 0; j < A; j++) p[j] = ptr<T>(a[j]);
      std::array<T, (S > 0 ? S : 1)> v{};
      for (size_t j = 0; j < S; j++) v[j] = static_cast<T>(s[j]);
      if constexpr (std::is_same_v<T, float>) return k.f32(op, p.data(), v.data(), a[ref].length);
      else return k.f64(op, p.data(), v.data(), a[ref].length);
    });
  }
};

// A table entry is well formed: its letters are o, a and s, at most one o, and it names each array and number.
// Checked once when the addon loads (a malformed entry throws there, and the loader falls back to JS).
bool wellFormed(const vg::ElementwiseKernel& k) {
  size_t o = 0, na = 0, ns = 0;
  for (const char* c = k.signature; *c != '\0'; c++) {
    if (*c == 'o') o++;
    else if (*c == 'a') na++;
    else if (*c == 's') ns++;
    else return false;
  }
  if (o > 1 || (o == 1) != (k.opCount > 0) || na == 0 || na > vg::ElementwiseKernel::kMaxArrays ||
      ns > vg::ElementwiseKernel::kMaxNumbers || k.ref >= na || k.f32 == nullptr || k.f64 == nullptr)
    return false;
  for (size_t j = 0; j < vg::ElementwiseKernel::kMaxArrays; j++)
    if ((k.arrays[j] != nullptr) != (j < na)) return false;
  for (size_t j = 0; j < vg::ElementwiseKernel::kMaxNumbers; j++)
    if ((k.numbers[j] != nullptr) != (j < ns)) return false;
  return true;
}

class VugradAddon : public Napi::Addon<VugradAddon> {
 public:
  VugradAddon(Napi::Env env, Napi::Object exports) {
    vg::blasInit();
    vg::memoryInit();
    DefineAddon(exports, {
                             InstanceMethod("gemm", &VugradAddon::Gemm),
                             InstanceMethod("sgdMomentum", &VugradAddon::SgdMomentum),
                             InstanceMethod("adam", &VugradAddon::Adam),
                             InstanceMethod("rmsprop", &VugradAddon::Rmsprop),
                             InstanceMethod("adagrad", &VugradAddon::Adagrad),
                             InstanceMethod("adamax", &VugradAddon::Adamax),
                             InstanceMethod("adadelta", &VugradAddon::Adadelta),
                             InstanceMethod("rprop", &VugradAddon::Rprop),
                             InstanceMethod("asgd", &VugradAddon::Asgd),
                             InstanceMethod("sumAxis", &VugradAddon::SumAxis),
                             InstanceMethod("maxAxis", &VugradAddon::MaxAxis),
                             InstanceMethod("broadcastAxis", &VugradAddon::BroadcastAxis),
                             InstanceMethod("scatterAxis", &VugradAddon::ScatterAxis),
                             InstanceMethod("gather", &VugradAddon::Gather),
                             InstanceMethod("transpose", &VugradAddon::Transpose),
                             InstanceMethod("softmax", &VugradAddon::Softmax),
                             InstanceMethod("softmaxBackward", &VugradAddon::SoftmaxBackward),
                             InstanceMethod("logSoftmax", &VugradAddon::LogSoftmax),
                             InstanceMethod("logSoftmaxBackward", &VugradAddon::LogSoftmaxBackward),
                             InstanceMethod("crossEntropy", &VugradAddon::CrossEntropy),
                             InstanceMethod("crossEntropyBackward", &VugradAddon::CrossEntropyBackward),
                             InstanceMethod("im2col", &VugradAddon::Im2col),
                             InstanceMethod("col2im", &VugradAddon::Col2im),
                             InstanceMethod("conv2d", &VugradAddon::Conv2d),
                             InstanceMethod("conv2dBackwardWeight", &VugradAddon::Conv2dBackwardWeight),
                             InstanceMethod("conv2dBackwardInput", &VugradAddon::Conv2dBackwardInput),
                             InstanceMethod("maxPool2d", &VugradAddon::MaxPool2d),
                             InstanceMethod("maxPool2dBackward", &VugradAddon::MaxPool2dBackward),
                             InstanceMethod("blasConfig", &VugradAddon::BlasConfig),
                             InstanceMethod("blasCoreName", &VugradAddon::BlasCoreName),
                             InstanceMethod("getNumThreads", &VugradAddon::GetNumThreads),
                             InstanceMethod("trimMemory", &VugradAddon::TrimMemory),
                             InstanceMethod("mallocTuned", &VugradAddon::MallocTuned),
                             InstanceMethod("setNumThreads", &VugradAddon::SetNumThreads),
                             InstanceMethod("setPrecision", &VugradAddon::SetPrecision),
                             InstanceMethod("bf16Support", &VugradAddon::Bf16Support),
                             InstanceMethod("providers", &VugradAddon::Providers),
                         });
    // The elementwise family, one export per entry of its table (native/src/elementwise.cc).
    size_t count = 0;
    const vg::ElementwiseKernel* table = vg::elementwiseKernels(&count);
    for (size_t i = 0; i < count; i++) {
      if (!wellFormed(table[i]))
        throw Napi::Error::New(env, std::string("vugrad native: malformed elementwise kernel entry '") +
                                        (table[i].name ? table[i].name : "?") + "'");
      DefineProperties(exports, {InstanceMethod(table[i].name, elementwiseHandler(table[i].signature), napi_default,
                                                const_cast<vg::ElementwiseKernel*>(&table[i]))});
    }
  }

 private:
  // gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
  Napi::Value Gemm(const Info& info) {
    const char* K = "gemm";
    const bool ta = info[0].ToBoolean(), tb = info[1].ToBoolean();
    const size_t m = sizeArg(info, 2, K, "m"), n = sizeArg(info, 3, K, "n"), k = sizeArg(info, 4, K, "k");
    const double alpha = numberArg(info, 5, K, "alpha");
    const FloatArg a = floatArg(info, 6, K, "a"), b = floatArg(info, 7, K, "b");
    const double beta = numberArg(info, 8, K, "beta");
    const FloatArg c = floatArg(info, 9, K, "c");
    sameDType(info, K, a, b, "b");
    sameDType(info, K, a, c, "c");
    expectLength(info, K, "a", a.length, product(info, K, {m, k}));
    expectLength(info, K, "b", b.length, product(info, K, {k, n}));
    expectLength(info, K, "c", c.length, product(info, K, {m, n}));
    apart(info, K, "c", c, "a", a);
    apart(info, K, "c", c, "b", b);
    byDType(a.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::gemm<T>(ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), static_cast<T>(alpha),
                  ptr<T>(a), ptr<T>(b), static_cast<T>(beta), ptr<T>(c));
      return 0;
    });
    return info.Env().Undefined();
  }

  // The elementwise family: one handler for every entry of vg::elementwiseKernels(), its entry in info.Data().
  template <typename Args>
  Napi::Value Elementwise(const Info& info) {
    const auto& k = *static_cast<const vg::ElementwiseKernel*>(info.Data());
    const Args args(info, k);
    const double r = args.call(k);
    return k.returnsNumber ? Napi::Value(Napi::Number::New(info.Env(), r)) : info.Env().Undefined();
  }

  // The handler for an entry: an unrolled one for the signatures listed here, else the generic reader.
  using Method = Napi::Value (VugradAddon::*)(const Info&);
  static Method elementwiseHandler(const char* sig) {
    const std::string s(sig);
    if (s == "oaa") return &VugradAddon::Elementwise<FixedArgs<'o', 'a', 'a'>>;
    if (s == "oaaaa") return &VugradAddon::Elementwise<FixedArgs<'o', 'a', 'a', 'a', 'a'>>;
    if (s == "oaaa") return &VugradAddon::Elementwise<FixedArgs<'o', 'a', 'a', 'a'>>;
    if (s == "oasa") return &VugradAddon::Elementwise<FixedArgs<'o', 'a', 's', 'a'>>;
    if (s == "saa") return &VugradAddon::Elementwise<FixedArgs<'s', 'a', 'a'>>;
    if (s == "sasaa") return &VugradAddon::Elementwise<FixedArgs<'s', 'a', 's', 'a', 'a'>>;
    if (s == "as") return &VugradAddon::Elementwise<FixedArgs<'a', 's'>>;
    if (s == "a") return &VugradAddon::Elementwise<FixedArgs<'a'>>;
    if (s == "aa") return &VugradAddon::Elementwise<FixedArgs<'a', 'a'>>;
    return &VugradAddon::Elementwise<ElementwiseArgs>;
  }

  // An optimizer update: param, then A state arrays (param's dtype and length; those flagged in `nullable` may
  // be null: an option that is off), then S numbers. Calls update(param, arrays, numbers, n) for param's dtype,
  // with a null pointer for each null array.
  template <size_t A, size_t S, typename Update>
  static Napi::Value optimizerUpdate(const Info& info, const char* K, const std::array<const char*, A>& arrays,
                                     const std::array<bool, A>& nullable, const std::array<const char*, S>& numbers,
                                     Update update) {
    const FloatArg param = floatArg(info, 0, K, "param");
    std::array<FloatArg, A> state{};
    for (size_t j = 0; j < A; j++) {
      if (nullable[j] && info[1 + j].IsNull()) {
        state[j] = FloatArg{nullptr, param.length, param.dtype};
        continue;
      }
      state[j] = floatArg(info, 1 + j, K, arrays[j]);
      sameDType(info, K, param, state[j], arrays[j]);
      expectLength(info, K, arrays[j], state[j].length, param.length);
    }
    std::array<double, S> values{};
    for (size_t j = 0; j < S; j++) values[j] = numberArg(info, 1 + A + j, K, numbers[j]);
    byDType(param.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      std::array<T*, A> ptrs{};
      for (size_t j = 0; j < A; j++) ptrs[j] = state[j].data != nullptr ? ptr<T>(state[j]) : nullptr;
      std::array<T, S> scalars{};
      for (size_t j = 0; j < S; j++) scalars[j] = static_cast<T>(values[j]);
      update(ptr<T>(param), ptrs, scalars, param.length);
      return 0;
    });
    return info.Env().Undefined();
  }

  // sgdMomentum(param, grad, buf, lr, momentum, dampening, nesterov 0|1)
  Napi::Value SgdMomentum(const Info& info) {
    return optimizerUpdate<2, 4>(info, "sgdMomentum", {"grad", "buf"}, {false, false},
                                 {"lr", "momentum", "dampening", "nesterov"}, [](auto* p, auto a, auto s, size_t n) {
                                   vg::sgdMomentum(p, a[0], a[1], s[0], s[1], s[2], s[3] != 0, n);
                                 });
  }

  // adam(param, grad, m, v, vmax | null, beta1, beta2, stepSize, bc2Sqrt, eps)
  Napi::Value Adam(const Info& info) {
    return optimizerUpdate<4, 5>(info, "adam", {"grad", "m", "v", "vmax"}, {false, false, false, true},
                                 {"beta1", "beta2", "stepSize", "bc2Sqrt", "eps"}, [](auto* p, auto a, auto s, size_t n) {
                                   vg::adam(p, a[0], a[1], a[2], a[3], s[0], s[1], s[2], s[3], s[4], n);
                                 });
  }

  // rmsprop(param, grad, sq, gAvg | null, buf | null, lr, alpha, eps, momentum)
  Napi::Value Rmsprop(const Info& info) {
    return optimizerUpdate<4, 4>(info, "rmsprop", {"grad", "sq", "gAvg", "buf"}, {false, false, true, true},
                                 {"lr", "alpha", "eps", "momentum"}, [](auto* p, auto a, auto s, size_t n) {
                                   vg::rmsprop(p, a[0], a[1], a[2], a[3], s[0], s[1], s[2], s[3], n);
                                 });
  }

  // adagrad(param, grad, sum, clr, eps)
  Napi::Value Adagrad(const Info& info) {
    return optimizerUpdate<2, 2>(info, "adagrad", {"grad", "sum"}, {false, false}, {"clr", "eps"},
                                 [](auto* p, auto a, auto s, size_t n) { vg::adagrad(p, a[0], a[1], s[0], s[1], n); });
  }

  // adamax(param, grad, m, u, beta1, beta2, stepSize, eps)
  Napi::Value Adamax(const Info& info) {
    return optimizerUpdate<3, 4>(info, "adamax", {"grad", "m", "u"}, {false, false, false},
                                 {"beta1", "beta2", "stepSize", "eps"}, [](auto* p, auto a, auto s, size_t n) {
                                   vg::adamax(p, a[0], a[1], a[2], s[0], s[1], s[2], s[3], n);
                                 });
  }

  // adadelta(param, grad, sq, acc, lr, rho, eps)
  Napi::Value Adadelta(const Info& info) {
    return optimizerUpdate<3, 3>(info, "adadelta", {"grad", "sq", "acc"}, {false, false, false}, {"lr", "rho", "eps"},
                                 [](auto* p, auto a, auto s, size_t n) {
                                   vg::adadelta(p, a[0], a[1], a[2], s[0], s[1], s[2], n);
                                 });
  }

  // rprop(param, grad, prev, stepSize, etaminus, etaplus, minStep, maxStep)
  Napi::Value Rprop(const Info& info) {
    return optimizerUpdate<3, 4>(info, "rprop", {"grad", "prev", "stepSize"}, {false, false, false},
                                 {"etaminus", "etaplus", "minStep", "maxStep"}, [](auto* p, auto a, auto s, size_t n) {
                                   vg::rprop(p, a[0], a[1], a[2], s[0], s[1], s[2], s[3], n);
                                 });
  }
  // asgd(param, grad, ax, decay, eta, mu)
  Napi::Value Asgd(const Info& info) {
    return optimizerUpdate<2, 3>(info, "asgd", {"grad", "ax"}, {false, false}, {"decay", "eta", "mu"},
                                 [](auto* p, auto a, auto s, size_t n) { vg::asgd(p, a[0], a[1], s[0], s[1], s[2], n); });
  }


  // sumAxis(x, outer, n, inner, out): x [outer, n, inner] -> out [outer, inner]; broadcastAxis the other way.
  template <bool Broadcast>
  Napi::Value Axis(const Info& info) {
    const char* K = Broadcast ? "broadcastAxis" : "sumAxis";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t outer = sizeArg(info, 1, K, "outer"), n = sizeArg(info, 2, K, "n"), inner = sizeArg(info, 3, K, "inner");
    const FloatArg out = floatArg(info, 4, K, "out");
    sameDType(info, K, x, out, "out");
    const size_t full = product(info, K, {outer, n, inner}), reduced = product(info, K, {outer, inner});
    expectLength(info, K, "x", x.length, Broadcast ? reduced : full);
    expectLength(info, K, "out", out.length, Broadcast ? full : reduced);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (Broadcast) vg::broadcastAxis<T>(ptr<T>(x), outer, n, inner, ptr<T>(out));
      else vg::sumAxis<T>(ptr<T>(x), outer, n, inner, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value SumAxis(const Info& info) { return Axis<false>(info); }
  Napi::Value BroadcastAxis(const Info& info) { return Axis<true>(info); }

  // maxAxis(x, outer, n, inner, out, argmax)
  Napi::Value MaxAxis(const Info& info) {
    const char* K = "maxAxis";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t outer = sizeArg(info, 1, K, "outer"), n = sizeArg(info, 2, K, "n"), inner = sizeArg(info, 3, K, "inner");
    const FloatArg out = floatArg(info, 4, K, "out");
    const IntArg am = intArg(info, 5, K, "argmax");
    if (n < 1) fail(info, K, "n must be >= 1, got 0");
    sameDType(info, K, x, out, "out");
    expectLength(info, K, "x", x.length, product(info, K, {outer, n, inner}));
    expectLength(info, K, "out", out.length, product(info, K, {outer, inner}));
    expectLength(info, K, "argmax", am.length, out.length);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::maxAxis<T>(ptr<T>(x), outer, n, inner, ptr<T>(out), am.data);
      return 0;
    });
    return info.Env().Undefined();
  }

  // scatterAxis(g, idx, outer, n, inner, out)
  Napi::Value ScatterAxis(const Info& info) {
    const char* K = "scatterAxis";
    const FloatArg g = floatArg(info, 0, K, "g");
    const IntArg idx = intArg(info, 1, K, "idx");
    const size_t outer = sizeArg(info, 2, K, "outer"), n = sizeArg(info, 3, K, "n"), inner = sizeArg(info, 4, K, "inner");
    const FloatArg out = floatArg(info, 5, K, "out");
    sameDType(info, K, g, out, "out");
    expectLength(info, K, "g", g.length, product(info, K, {outer, inner}));
    expectLength(info, K, "idx", idx.length, g.length);
    expectLength(info, K, "out", out.length, product(info, K, {outer, n, inner}));
    const CheckedIndices safe(info, K, "idx", idx, n);
    byDType(g.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::scatterAxis<T>(ptr<T>(g), safe.data(), outer, n, inner, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  // gather(x, rows, cols, idx, out)
  Napi::Value Gather(const Info& info) {
    const char* K = "gather";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t rows = sizeArg(info, 1, K, "rows"), cols = sizeArg(info, 2, K, "cols");
    const IntArg idx = intArg(info, 3, K, "idx");
    const FloatArg out = floatArg(info, 4, K, "out");
    sameDType(info, K, x, out, "out");
    expectLength(info, K, "x", x.length, product(info, K, {rows, cols}));
    expectLength(info, K, "idx", idx.length, rows);
    expectLength(info, K, "out", out.length, rows);
    const CheckedIndices safe(info, K, "idx", idx, cols);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::gather<T>(ptr<T>(x), rows, cols, safe.data(), ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  // transpose(x, rows, cols, out)
  Napi::Value Transpose(const Info& info) {
    const char* K = "transpose";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t rows = sizeArg(info, 1, K, "rows"), cols = sizeArg(info, 2, K, "cols");
    const FloatArg out = floatArg(info, 3, K, "out");
    sameDType(info, K, x, out, "out");
    expectLength(info, K, "x", x.length, product(info, K, {rows, cols}));
    expectLength(info, K, "out", out.length, x.length);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::transpose<T>(ptr<T>(x), rows, cols, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  // softmax / logSoftmax (x, rows, cols, out)
  template <bool Log>
  Napi::Value RowWise(const Info& info) {
    const char* K = Log ? "logSoftmax" : "softmax";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t rows = sizeArg(info, 1, K, "rows"), cols = sizeArg(info, 2, K, "cols");
    const FloatArg out = floatArg(info, 3, K, "out");
    sameDType(info, K, x, out, "out");
    expectLength(info, K, "x", x.length, product(info, K, {rows, cols}));
    expectLength(info, K, "out", out.length, x.length);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (Log) vg::logSoftmax<T>(ptr<T>(x), rows, cols, ptr<T>(out));
      else vg::softmax<T>(ptr<T>(x), rows, cols, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Softmax(const Info& info) { return RowWise<false>(info); }
  Napi::Value LogSoftmax(const Info& info) { return RowWise<true>(info); }

  // softmaxBackward / logSoftmaxBackward (y, g, rows, cols, out)
  template <bool Log>
  Napi::Value RowWiseBackward(const Info& info) {
    const char* K = Log ? "logSoftmaxBackward" : "softmaxBackward";
    const FloatArg y = floatArg(info, 0, K, "y"), g = floatArg(info, 1, K, "g");
    const size_t rows = sizeArg(info, 2, K, "rows"), cols = sizeArg(info, 3, K, "cols");
    const FloatArg out = floatArg(info, 4, K, "out");
    sameDType(info, K, y, g, "g");
    sameDType(info, K, y, out, "out");
    expectLength(info, K, "y", y.length, product(info, K, {rows, cols}));
    expectLength(info, K, "g", g.length, y.length);
    expectLength(info, K, "out", out.length, y.length);
    byDType(y.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (Log) vg::logSoftmaxBackward<T>(ptr<T>(y), ptr<T>(g), rows, cols, ptr<T>(out));
      else vg::softmaxBackward<T>(ptr<T>(y), ptr<T>(g), rows, cols, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value SoftmaxBackward(const Info& info) { return RowWiseBackward<false>(info); }
  Napi::Value LogSoftmaxBackward(const Info& info) { return RowWiseBackward<true>(info); }

  // crossEntropy(x, rows, cols, targets, losses, probs)
  Napi::Value CrossEntropy(const Info& info) {
    const char* K = "crossEntropy";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t rows = sizeArg(info, 1, K, "rows"), cols = sizeArg(info, 2, K, "cols");
    const IntArg t = intArg(info, 3, K, "targets");
    const FloatArg losses = floatArg(info, 4, K, "losses"), probs = floatArg(info, 5, K, "probs");
    sameDType(info, K, x, losses, "losses");
    sameDType(info, K, x, probs, "probs");
    expectLength(info, K, "x", x.length, product(info, K, {rows, cols}));
    expectLength(info, K, "targets", t.length, rows);
    expectLength(info, K, "losses", losses.length, rows);
    expectLength(info, K, "probs", probs.length, x.length);
    const CheckedIndices safe(info, K, "targets", t, cols);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::crossEntropy<T>(ptr<T>(x), rows, cols, safe.data(), ptr<T>(losses), ptr<T>(probs));
      return 0;
    });
    return info.Env().Undefined();
  }

  // crossEntropyBackward(probs, targets, scale, rows, cols, out)
  Napi::Value CrossEntropyBackward(const Info& info) {
    const char* K = "crossEntropyBackward";
    const FloatArg probs = floatArg(info, 0, K, "probs");
    const IntArg t = intArg(info, 1, K, "targets");
    const FloatArg scale = floatArg(info, 2, K, "scale");
    const size_t rows = sizeArg(info, 3, K, "rows"), cols = sizeArg(info, 4, K, "cols");
    const FloatArg out = floatArg(info, 5, K, "out");
    sameDType(info, K, probs, scale, "scale");
    sameDType(info, K, probs, out, "out");
    expectLength(info, K, "probs", probs.length, product(info, K, {rows, cols}));
    expectLength(info, K, "targets", t.length, rows);
    expectLength(info, K, "scale", scale.length, rows);
    expectLength(info, K, "out", out.length, probs.length);
    const CheckedIndices safe(info, K, "targets", t, cols);
    byDType(probs.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::crossEntropyBackward<T>(ptr<T>(probs), safe.data(), ptr<T>(scale), rows, cols, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  // im2col / col2im (src, c, h, w, kh, kw, stride, pad, dst)
  template <bool Backward>
  Napi::Value Conv(const Info& info) {
    const char* K = Backward ? "col2im" : "im2col";
    const FloatArg src = floatArg(info, 0, K, Backward ? "cols" : "x");
    const size_t c = sizeArg(info, 1, K, "c"), h = sizeArg(info, 2, K, "h"), w = sizeArg(info, 3, K, "w");
    const size_t kh = sizeArg(info, 4, K, "kh"), kw = sizeArg(info, 5, K, "kw");
    const size_t stride = sizeArg(info, 6, K, "stride"), pad = sizeArg(info, 7, K, "pad");
    const FloatArg dst = floatArg(info, 8, K, "out");
    sameDType(info, K, src, dst, "out");
    if (kh < 1 || kw < 1 || stride < 1) fail(info, K, "kh, kw and stride must be >= 1");
    if (kh > h + 2 * pad || kw > w + 2 * pad) fail(info, K, "the kernel is larger than the padded image");
    const size_t oh = static_cast<size_t>(vg::convOutSize(h, kh, stride, pad));
    const size_t ow = static_cast<size_t>(vg::convOutSize(w, kw, stride, pad));
    const size_t image = product(info, K, {c, h, w});
    const size_t colsLen = product(info, K, {c, kh, kw, oh, ow});
    expectLength(info, K, Backward ? "cols" : "x", src.length, Backward ? colsLen : image);
    expectLength(info, K, "out", dst.length, Backward ? image : colsLen);
    byDType(src.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (Backward) vg::col2im<T>(ptr<T>(src), c, h, w, kh, kw, stride, pad, ptr<T>(dst));
      else vg::im2col<T>(ptr<T>(src), c, h, w, kh, kw, stride, pad, ptr<T>(dst));
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Im2col(const Info& info) { return Conv<false>(info); }
  Napi::Value Col2im(const Info& info) { return Conv<true>(info); }

  // The sizes of a conv2d call (arguments first..first+8: n, c, h, w, o, kh, kw, stride, pad), checked.
  struct ConvSizes {
    size_t n, c, h, w, o, kh, kw, stride, pad, x, weight, y;
  };
  ConvSizes convSizes(const Info& info, size_t first, const char* K) {
    ConvSizes s{};
    const char* names[] = {"n", "c", "h", "w", "o", "kh", "kw", "stride", "pad"};
    size_t* fields[] = {&s.n, &s.c, &s.h, &s.w, &s.o, &s.kh, &s.kw, &s.stride, &s.pad};
    for (size_t i = 0; i < 9; i++) *fields[i] = sizeArg(info, first + i, K, names[i]);
    if (s.kh < 1 || s.kw < 1 || s.stride < 1) fail(info, K, "kh, kw and stride must be >= 1");
    if (s.kh > s.h + 2 * s.pad || s.kw > s.w + 2 * s.pad) fail(info, K, "the kernel is larger than the padded image");
    const size_t oh = static_cast<size_t>(vg::convOutSize(s.h, s.kh, s.stride, s.pad));
    const size_t ow = static_cast<size_t>(vg::convOutSize(s.w, s.kw, s.stride, s.pad));
    s.x = product(info, K, {s.n, s.c, s.h, s.w});
    s.weight = product(info, K, {s.o, s.c, s.kh, s.kw});
    s.y = product(info, K, {s.n, s.o, oh, ow});
    if (s.c > 0 && s.kh * s.kw > 0 && product(info, K, {s.c, s.kh, s.kw, oh, ow}) > 2147483647u)
      fail(info, K, "one image's columns exceed 2^31 values");
    return s;
  }

  // conv2d(x, weight, bias | null, n, c, h, w, o, kh, kw, stride, pad, out)
  Napi::Value Conv2d(const Info& info) {
    const char* K = "conv2d";
    const FloatArg x = floatArg(info, 0, K, "x"), weight = floatArg(info, 1, K, "weight");
    const bool hasBias = info.Length() > 2 && !info[2].IsNull() && !info[2].IsUndefined();
    const FloatArg bias = hasBias ? floatArg(info, 2, K, "bias") : FloatArg{nullptr, 0, x.dtype};
    const ConvSizes s = convSizes(info, 3, K);
    const FloatArg out = floatArg(info, 12, K, "out");
    sameDType(info, K, x, weight, "weight");
    sameDType(info, K, x, out, "out");
    expectLength(info, K, "x", x.length, s.x);
    expectLength(info, K, "weight", weight.length, s.weight);
    if (hasBias) {
      sameDType(info, K, x, bias, "bias");
      expectLength(info, K, "bias", bias.length, s.o);
    }
    expectLength(info, K, "out", out.length, s.y);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::conv2d<T>(ptr<T>(x), ptr<T>(weight), hasBias ? ptr<T>(bias) : nullptr, s.n, s.c, s.h, s.w, s.o, s.kh, s.kw,
                    s.stride, s.pad, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  // conv2dBackwardWeight(x, g, n, c, h, w, o, kh, kw, stride, pad, gw)
  // conv2dBackwardInput(g, weight, n, c, h, w, o, kh, kw, stride, pad, gx)
  template <bool Input>
  Napi::Value ConvBackward(const Info& info) {
    const char* K = Input ? "conv2dBackwardInput" : "conv2dBackwardWeight";
    const char* names[] = {Input ? "g" : "x", Input ? "weight" : "g", Input ? "gx" : "gw"};
    const FloatArg a = floatArg(info, 0, K, names[0]), b = floatArg(info, 1, K, names[1]);
    const ConvSizes s = convSizes(info, 2, K);
    const FloatArg out = floatArg(info, 11, K, names[2]);
    sameDType(info, K, a, b, names[1]);
    sameDType(info, K, a, out, names[2]);
    expectLength(info, K, names[0], a.length, Input ? s.y : s.x);
    expectLength(info, K, names[1], b.length, Input ? s.weight : s.y);
    expectLength(info, K, names[2], out.length, Input ? s.x : s.weight);
    byDType(a.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      if (Input) vg::conv2dBackwardInput<T>(ptr<T>(a), ptr<T>(b), s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.stride, s.pad, ptr<T>(out));
      else vg::conv2dBackwardWeight<T>(ptr<T>(a), ptr<T>(b), s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.stride, s.pad, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }
  Napi::Value Conv2dBackwardWeight(const Info& info) { return ConvBackward<false>(info); }
  Napi::Value Conv2dBackwardInput(const Info& info) { return ConvBackward<true>(info); }

  // maxPool2d(x, planes, h, w, k, stride, out, argmax)
  Napi::Value MaxPool2d(const Info& info) {
    const char* K = "maxPool2d";
    const FloatArg x = floatArg(info, 0, K, "x");
    const size_t planes = sizeArg(info, 1, K, "planes"), h = sizeArg(info, 2, K, "h"), w = sizeArg(info, 3, K, "w");
    const size_t k = sizeArg(info, 4, K, "k"), stride = sizeArg(info, 5, K, "stride");
    const FloatArg out = floatArg(info, 6, K, "out");
    const IntArg am = intArg(info, 7, K, "argmax");
    sameDType(info, K, x, out, "out");
    if (k < 1 || stride < 1) fail(info, K, "k and stride must be >= 1");
    if (k > h || k > w) fail(info, K, "the window is larger than the plane");
    const size_t oh = static_cast<size_t>(vg::convOutSize(h, k, stride, 0));
    const size_t ow = static_cast<size_t>(vg::convOutSize(w, k, stride, 0));
    expectLength(info, K, "x", x.length, product(info, K, {planes, h, w}));
    expectLength(info, K, "out", out.length, product(info, K, {planes, oh, ow}));
    expectLength(info, K, "argmax", am.length, out.length);
    byDType(x.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::maxPool2d<T>(ptr<T>(x), planes, h, w, k, stride, ptr<T>(out), am.data);
      return 0;
    });
    return info.Env().Undefined();
  }

  // maxPool2dBackward(g, argmax, planes, h, w, oh, ow, out)
  Napi::Value MaxPool2dBackward(const Info& info) {
    const char* K = "maxPool2dBackward";
    const FloatArg g = floatArg(info, 0, K, "g");
    const IntArg am = intArg(info, 1, K, "argmax");
    const size_t planes = sizeArg(info, 2, K, "planes"), h = sizeArg(info, 3, K, "h"), w = sizeArg(info, 4, K, "w");
    const size_t oh = sizeArg(info, 5, K, "oh"), ow = sizeArg(info, 6, K, "ow");
    const FloatArg out = floatArg(info, 7, K, "out");
    sameDType(info, K, g, out, "out");
    expectLength(info, K, "g", g.length, product(info, K, {planes, oh, ow}));
    expectLength(info, K, "argmax", am.length, g.length);
    expectLength(info, K, "out", out.length, product(info, K, {planes, h, w}));
    const CheckedIndices safe(info, K, "argmax", am, product(info, K, {h, w}));
    byDType(g.dtype, [&](auto* tag) {
      using T = std::remove_pointer_t<decltype(tag)>;
      vg::maxPool2dBackward<T>(ptr<T>(g), safe.data(), planes, h, w, oh, ow, ptr<T>(out));
      return 0;
    });
    return info.Env().Undefined();
  }

  Napi::Value BlasConfig(const Info& info) { return Napi::String::New(info.Env(), vg::blasConfig()); }
  Napi::Value BlasCoreName(const Info& info) { return Napi::String::New(info.Env(), vg::blasCoreName()); }
  Napi::Value GetNumThreads(const Info& info) { return Napi::Number::New(info.Env(), vg::blasGetNumThreads()); }
  // Returns memory that freed blocks still hold in malloc's heaps to the system (glibc's malloc_trim), so a
  // process whose worker threads come and go does not keep their peak. True when memory was released.
  Napi::Value TrimMemory(const Info& info) { return Napi::Boolean::New(info.Env(), vg::memoryTrim()); }
  // Whether vg::memoryInit's malloc setting is in force (see vugrad/memory.h).
  Napi::Value MallocTuned(const Info& info) { return Napi::Boolean::New(info.Env(), vg::memoryTuned()); }
  Napi::Value SetNumThreads(const Info& info) {
    const size_t n = sizeArg(info, 0, "setNumThreads", "n");
    if (n < 1) fail(info, "setNumThreads", "n must be >= 1");
    vg::blasSetNumThreads(static_cast<int>(n));
    return info.Env().Undefined();
  }
  // setPrecision(code): 0 float32, 1 bf16 matmul and convolution inputs, for the calling thread.
  Napi::Value SetPrecision(const Info& info) {
    const size_t code = sizeArg(info, 0, "setPrecision", "code");
    if (code > 1) fail(info, "setPrecision", "code must be 0 (fp32) or 1 (bf16)");
    if (code == 1) {
      const std::string why = vg::bf16Problem();
      if (!why.empty()) fail(info, "setPrecision", why.c_str());
    }
    vg::setPrecisionBf16(code == 1);
    return info.Env().Undefined();
  }
  Napi::Value Bf16Support(const Info& info) { return Napi::String::New(info.Env(), vg::bf16Problem()); }
  // Which library runs each kernel family, and why: a JSON object (BackendInfo.providers).
  Napi::Value Providers(const Info& info) {
    return Napi::String::New(info.Env(), vg::providersJson());
  }
};

}  // namespace

NODE_API_ADDON(VugradAddon)
