// Einsum equation parsing, shared by the op definition (ops/misc.cc) and the CPU kernels
// (backends/cpu/ref_misc_einsum.cc). Private to the misc family.
//
// Labels: 'a'..'z' -> 0..25, 'A'..'Z' -> 26..51, ellipsis dims -> 52.. (right-aligned, so
// ellipsis dim i of an operand with e ellipsis dims is label 52 + (E - e) + i, E the largest).
// Ellipsis dims broadcast numpy-style (1 stretches); letter dims must agree exactly.
// Output of an implicit equation: the ellipsis dims, then the letters that occur exactly
// once over all inputs, in alphabetical order (ONNX / numpy rule).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace greenai::einsum {

inline constexpr int kEllipsisBase = 52;

struct Spec {
  std::vector<std::vector<int>> inputs;  // labels per input axis
  std::vector<int> output;               // labels per output axis
  int num_labels = kEllipsisBase;        // label ids are < num_labels
  std::vector<int64_t> dims;             // per label (-1 unknown or unused)
};

// Parses `equation` for inputs of the given dims (-1 = unknown). `who` prefixes errors.
Result<Spec> Parse(const std::string& equation, const std::vector<std::vector<int64_t>>& input_dims,
                   const std::string& who);

}  // namespace greenai::einsum
