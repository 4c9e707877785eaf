// Convolutions through oneDNN (see vugrad/onednn.h): which kernel runs conv2d, and the oneDNN path itself.
#pragma once

#include <string>

namespace vg {

// Whether oneDNN runs float32 conv2d (forward and both gradients) here, and why or why not.
bool onednnRunsConv(std::string* why);

}  // namespace vg
