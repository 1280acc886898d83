// RunNode: infer, pick a kernel and execute one node eagerly on concrete tensors.
// Used by constant folding and by op tests (reference vs optimized kernels), so that a
// single op can be exercised without building a Session.
//
// Contract: inputs[i] may be an undefined Tensor for an omitted optional input. Output
// shapes come from the op table's inference with all input values known; outputs are
// freshly allocated (prefilled with NaN for float types when `nan_prefill`, so kernels
// that skip elements are caught). Errors name the node.
// Thread safety: reentrant; uses `pool` (or the default pool when null).
#pragma once

#include <string_view>
#include <vector>

#include "backends/cpu/kernel.h"

namespace greenai {

struct RunNodeOptions {
  bool reference_only = false;
  bool nan_prefill = true;
  int64_t opset = 17;
  ThreadPool* pool = nullptr;
  SubgraphRunner* subgraphs = nullptr;
  std::string_view* kernel_name_out = nullptr;  // receives the chosen kernel's name
  // When set: run exactly this registered kernel (by name), e.g. to test one that a
  // higher-priority kernel would win over; it must handle the node's layout mark and fused
  // activation itself, as adapters are skipped. A kernel that declines the node is an error.
  std::string_view kernel = {};
  // When set: output 0 is handed in the buffer of the input the kernel names in
  // Kernel::InPlaceInput() (a copy of that input), as the runtime does when the input dies at
  // the node. A kernel naming none, or a mismatched type, is an error.
  bool in_place = false;
};

Result<std::vector<Tensor>> RunNode(const Node& node, const std::vector<Tensor>& inputs,
                                    const RunNodeOptions& opts = {});

// Allocates tensors for `types` (fully known) with optional NaN prefill. Shared with the runtime.
Result<Tensor> AllocateOutput(const TensorType& type, bool nan_prefill);

}  // namespace greenai
