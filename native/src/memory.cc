#include "vugrad/memory.h"

#include <cstdlib>  // first: defines __GLIBC__ (through features.h) for the test below
#include <cstring>
#include <mutex>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace vg {

namespace {

std::once_flag initOnce;
bool tuned = false;

#ifdef __GLIBC__
bool userSetMalloc() {
  for (const char* name : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  return tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr;
}
#endif

}  // namespace

void memoryInit() {
  std::call_once(initOnce, [] {
#ifdef __GLIBC__
    // Opt-in: it removes the page faults, but the heap then keeps what it grows to (see vugrad/memory.h).
    const char* opt = std::getenv("VUGRAD_MALLOC_TUNING");
    if (opt == nullptr || std::strcmp(opt, "1") != 0 || userSetMalloc()) return;
    // NOTE: glibc's own heuristic moves to this state by itself once a 32 MB block has been freed (the mmap
    // threshold follows freed mmapped blocks up to 32 MB, the trim threshold is twice it). Until then a
    // training loop's activations (1.6 MB per layer for the course MNIST MLP) are mmapped or trimmed after
    // most garbage collections, and the next batch takes 60-170 page faults to get them back.
    tuned = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
#endif
  });
}

bool memoryTuned() { return tuned; }

bool memoryTrim() {
#ifdef __GLIBC__
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace vg
