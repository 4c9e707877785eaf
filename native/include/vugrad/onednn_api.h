// The oneDNN C functions the addon calls, resolved at run time (see vugrad/onednn.h). Only for the addon's
// oneDNN code (native/src/onednn*.cc), and only where the build found oneDNN's headers (VUGRAD_HAVE_ONEDNN).
#pragma once

#ifdef VUGRAD_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>

#include <cstddef>
#include <unordered_map>

#define VG_DNNL_FUNCTIONS(X)                     \
  X(dnnl_version)                                \
  X(dnnl_get_effective_cpu_isa)                  \
  X(dnnl_engine_create)                          \
  X(dnnl_stream_create)                          \
  X(dnnl_stream_wait)                            \
  X(dnnl_stream_destroy)                         \
  X(dnnl_memory_desc_init_by_strides)            \
  X(dnnl_memory_desc_init_by_tag)                \
  X(dnnl_memory_desc_get_size)                   \
  X(dnnl_memory_desc_equal)                      \
  X(dnnl_memory_create)                          \
  X(dnnl_memory_set_data_handle)                 \
  X(dnnl_memory_destroy)                         \
  X(dnnl_matmul_desc_init)                       \
  X(dnnl_convolution_forward_desc_init)          \
  X(dnnl_convolution_backward_data_desc_init)    \
  X(dnnl_convolution_backward_weights_desc_init) \
  X(dnnl_primitive_attr_create)                  \
  X(dnnl_primitive_attr_destroy)                 \
  X(dnnl_primitive_attr_set_output_scales)       \
  X(dnnl_primitive_attr_set_post_ops)            \
  X(dnnl_primitive_attr_set_scratchpad_mode)     \
  X(dnnl_post_ops_create)                        \
  X(dnnl_post_ops_destroy)                       \
  X(dnnl_post_ops_append_sum)                    \
  X(dnnl_post_ops_append_eltwise)                \
  X(dnnl_primitive_desc_create)                  \
  X(dnnl_primitive_desc_destroy)                 \
  X(dnnl_primitive_desc_query_md)                \
  X(dnnl_primitive_desc_query)                   \
  X(dnnl_reorder_primitive_desc_create)          \
  X(dnnl_primitive_create)                       \
  X(dnnl_primitive_destroy)                      \
  X(dnnl_primitive_execute)

namespace vg {

struct DnnlApi {
#define VG_DNNL_MEMBER(name) decltype(&::name) name = nullptr;
  VG_DNNL_FUNCTIONS(VG_DNNL_MEMBER)
#undef VG_DNNL_MEMBER
  dnnl_engine_t engine = nullptr;
};

// The loaded functions and the CPU engine; null unless onednnLoad() returned true.
const DnnlApi* dnnl();
// The calling thread's stream (created on first use), with oneDNN's OpenMP team on this thread set to 1.
dnnl_stream_t dnnlThreadStream();
// True once the process has begun to exit: thread-local caches then leave their handles to the process's end
// (kernels may still run on the pool's threads while it exits).
bool dnnlExiting();

// A thread's primitives by key (one per thread: `thread_local PrimitiveCache<...> cache;`), each made once by
// `make()` and destroyed with `destroyEntry(api, entry)` (found next to the Entry type). Bounded: a program that
// keeps changing shapes starts over.
template <typename Key, typename Entry, typename Hash, size_t Max>
class PrimitiveCache {
 public:
  template <typename Make>
  Entry& get(const Key& key, const Make& make) {
    auto it = map_.find(key);
    if (it == map_.end()) {
      if (map_.size() >= Max) clear();
      it = map_.emplace(key, make()).first;
    }
    return it->second;
  }
  void clear() {
    const DnnlApi* api = dnnl();
    for (auto& kv : map_) destroyEntry(api, kv.second);
    map_.clear();
  }
  ~PrimitiveCache() {
    if (!dnnlExiting()) clear();
  }

 private:
  std::unordered_map<Key, Entry, Hash> map_;
};

}  // namespace vg
#endif
