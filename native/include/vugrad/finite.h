// Whether every value of an array is finite, for the convolution paths that must not see a NaN or infinity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vg {

// No NaN, no infinity: an exponent test on the bits, an integer OR that gcc vectorizes (a float sum would not
// be, without -ffast-math), a few microseconds for LeNet's largest input.
template <typename T>
bool allFinite(const T* p, size_t n) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  const U mask = sizeof(T) == 4 ? U(0x7f800000u) : U(0x7ff0000000000000ull);
  U bad = 0;
  for (size_t i = 0; i < n; i++) {
    U b;
    std::memcpy(&b, p + i, sizeof b);
    bad |= static_cast<U>((b & mask) == mask);
  }
  return bad == 0;
}

}  // namespace vg
