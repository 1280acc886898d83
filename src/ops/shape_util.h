// Small shape helpers shared by op inference functions and kernels.
// Unknown dims are -1 (see TensorType). Pure functions; thread safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai { struct InferContext; }

namespace greenai {

// Numpy-style multidirectional broadcast of fully or partially known dims.
// Unknown (-1) combined with d>1 gives d; with 1 or -1 gives -1.
// Error (naming `who`) when two known dims differ and neither is 1.
Result<std::vector<int64_t>> BroadcastDims(const std::vector<std::vector<int64_t>>& shapes, const std::string& who);

// Normalizes axis in [-rank, rank) to [0, rank); error names `who` and the rule.
Result<int64_t> NormalizeAxis(int64_t axis, int64_t rank, const std::string& who);

// Reads an integer tensor (i32 or i64) as int64 values.
std::vector<int64_t> TensorToInts(const Tensor& t);

// Element type and shape passthrough from input 0 (for unary ops).
Status InferSameAsInput0(const InferContext& ctx, std::vector<TensorType>* outputs);

}  // namespace greenai
