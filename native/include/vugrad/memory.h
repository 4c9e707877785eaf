// How the process's malloc treats the addon's working memory. Plain C++, no N-API types.
#pragma once

namespace vg {

// Called once per process (repeat calls do nothing). With glibc and VUGRAD_MALLOC_TUNING=1, keeps freed blocks
// of up to 32 MB in malloc's heap (up to 64 MB of it unreturned) instead of giving each batch's activations back
// to the system and page-faulting them in again on the next batch. Off by default: the heap then keeps what it
// grows to, and RSS crept 2-3 MB over ten epochs of the MLP memory benchmark before levelling off. Skipped when
// the user set malloc's own knobs (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_,
// GLIBC_TUNABLES with glibc.malloc).
void memoryInit();
// Whether memoryInit's setting is in force.
bool memoryTuned();
// Returns the free memory malloc's heaps hold to the system (glibc's malloc_trim). True when some was released.
bool memoryTrim();

}  // namespace vg
