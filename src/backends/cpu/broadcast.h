// Broadcast iteration helper for elementwise kernels (numpy multidirectional broadcasting).
//
// Contract:
//  - MakeBroadcastPlan(out_shape, in_shapes) aligns each input's dims to the right of the
//    output's; an input dim must equal the output dim or be 1 (then its stride is 0).
//    Errors (naming `who`) otherwise. The output shape is given by the caller (it comes
//    from the op table's inference), so the plan never allocates outputs.
//  - ForEachBroadcast(plan, fn) calls fn(out_index, offsets) for every output element in
//    row-major order; offsets[k] is the element offset into input k. The innermost
//    loop is a plain stride walk; cost per element is a few adds.
//  - ForEachBroadcastRange does the same over [begin, end) of the output, so callers can
//    split work across a thread pool.
//  - Thread safety: plans are immutable values; iteration is reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai {

struct BroadcastPlan {
  Shape out;                                 // output shape
  std::vector<std::vector<int64_t>> strides; // per input, out.size() entries, 0 on broadcast dims
  int64_t numel = 0;
};

Result<BroadcastPlan> MakeBroadcastPlan(const Shape& out, const std::vector<Shape>& inputs, const std::string& who);

// Numpy broadcast of the given shapes (no unknown dims); error names `who`.
Result<Shape> BroadcastShapes(const std::vector<Shape>& inputs, const std::string& who);

template <typename F>
void ForEachBroadcastRange(const BroadcastPlan& plan, int64_t begin, int64_t end, F&& fn) {
  const size_t rank = plan.out.size();
  const size_t nin = plan.strides.size();
  if (begin >= end) return;
  std::vector<int64_t> idx(rank, 0), off(nin, 0);
  // Decompose `begin` into a multi-index and starting offsets.
  int64_t rem = begin;
  for (size_t d = rank; d-- > 0;) {
    int64_t dim = plan.out[d];
    idx[d] = dim > 0 ? rem % dim : 0;
    rem = dim > 0 ? rem / dim : 0;
  }
  for (size_t k = 0; k < nin; ++k)
    for (size_t d = 0; d < rank; ++d) off[k] += idx[d] * plan.strides[k][d];
  for (int64_t i = begin; i < end; ++i) {
    fn(i, off.data());
    // Odometer increment, carrying into outer dims.
    for (size_t d = rank; d-- > 0;) {
      for (size_t k = 0; k < nin; ++k) off[k] += plan.strides[k][d];
      if (++idx[d] < plan.out[d]) break;
      for (size_t k = 0; k < nin; ++k) off[k] -= plan.strides[k][d] * plan.out[d];
      idx[d] = 0;
    }
  }
}

template <typename F>
void ForEachBroadcast(const BroadcastPlan& plan, F&& fn) {
  ForEachBroadcastRange(plan, 0, plan.numel, fn);
}

}  // namespace greenai
