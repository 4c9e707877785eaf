// A small process-wide thread pool for the kernels: parallelFor splits a range into contiguous parts, one per
// thread, and runs them on the pool's workers and on the calling thread. Plain C++, no N-API types.
//
// Why our own pool rather than OpenBLAS's threads: on the 2-core machine OpenBLAS's threading gained little
// on the gemm shapes of an MLP (300x784x128, two runs of one C harness: 828 / 871 us on 1 thread, 782 / 545 us
// with OpenBLAS's 2 threads, 453 / 384 us as two single-threaded gemms on halves of C), and elementwise
// kernels, im2col and pooling need threads too. With this pool OpenBLAS itself always runs single-threaded
// (see blas.cc).
#pragma once

#include <cstddef>

namespace vg {

// A job over [begin, end): called once per part, possibly on another thread, never concurrently on one part.
using RangeFn = void (*)(void* state, size_t begin, size_t end);

// Runs fn(state, b, e) over [0, n) in at most parallelThreads() parts of at least `grain` items each (fewer
// parts when n is small; one part, on the caller, when n < 2 * grain). Returns when every part is done.
// Thread-safe: when another thread is already inside parallelFor (a second worker_thread using the addon),
// the call runs on the caller alone instead of waiting.
void parallelFor(size_t n, size_t grain, RangeFn fn, void* state);

// Same with a callable: f(b, e).
template <typename F>
void parallelFor(size_t n, size_t grain, const F& f) {
  parallelFor(
      n, grain, [](void* s, size_t b, size_t e) { (*static_cast<const F*>(s))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// Elementwise kernels split in parts of at least this many elements: below it, handing a part to another
// thread costs more than the part.
constexpr size_t kElementGrain = size_t(1) << 15;

// Threads parallelFor uses, the caller included (>= 1). Set by blasSetNumThreads (one setting for all).
int parallelThreads();
// True on a thread while it runs a part of a parallelFor job (a kernel called from inside another kernel).
bool inParallelPart();
void setParallelThreads(int n);

}  // namespace vg
