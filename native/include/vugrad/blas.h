// What BLAS the addon was built against, and its thread count. Plain C++, no N-API types.
#pragma once

#include <string>

namespace vg {

// The BLAS library and build configuration, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
std::string blasConfig();
// The CPU core type OpenBLAS chose (e.g. "Haswell"); follows OPENBLAS_CORETYPE when that is set.
std::string blasCoreName();
// Called once per addon load (repeat calls do nothing): hands OpenBLAS's thread setting to the kernel pool and
// makes OpenBLAS itself single-threaded (the pool splits gemms, see vugrad/parallel.h).
void blasInit();
// Threads one gemm (and every pooled kernel) uses; process-wide, shared by all addon instances. OpenBLAS keeps this process-wide (not per addon instance).
int blasGetNumThreads();
void blasSetNumThreads(int n);

}  // namespace vg
