// Private helpers shared by the elementwise/reduce op definitions (ops/elementwise.cc,
// ops/reduce.cc) and their CPU kernels (backends/cpu/ref_*, fast_elementwise*), so that
// inference and kernels read attributes the same way.
// Not a public interface: only the elementwise family includes it. Pure functions.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"
#include "ops/op_table.h"

namespace greenai::ew {

// Target dtype of Cast ('to' is an int enum since opset 6, a type-name string before).
Result<DType> CastTarget(const Node& node);

// Which axes a Reduce* node reduces.
struct ReduceAxes {
  bool noop = false;          // noop_with_empty_axes=1 and no axes: output = input
  bool known = true;          // false: axes come from an input whose value is unknown
  std::vector<bool> reduce;   // per input dim
  bool keepdims = true;
};
// axes come from input 1 when present (ReduceSum >= 13, others >= 18), else from the
// 'axes' attribute. `axes_value` is input 1's value (nullptr when unknown/absent).
Result<ReduceAxes> ResolveReduceAxes(const Node& node, int rank, bool axes_input_present, const Tensor* axes_value);
// Output shape of a reduction over `in` (keepdims keeps reduced dims as 1).
std::vector<int64_t> ReducedDims(const std::vector<int64_t>& in, const ReduceAxes& ax);

// Softmax family: whether opset < 13 (coerce to 2-D at axis) and the normalized axis.
struct SoftmaxAxis {
  bool coerce_2d = false;
  int64_t axis = 0;
};
Result<SoftmaxAxis> ResolveSoftmaxAxis(const Node& node, int64_t opset, int64_t rank);

// Cost per output element (FLOPs = K * elements, bytes = inputs + outputs).
template <int K>
OpCost CostPerOutput(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = DefaultCost(ctx, outputs);
  c.flops = 0;
  for (const auto& o : outputs) c.flops += K * TypeElements(o);
  return c;
}
// Cost per element of input 0 (reductions, scans).
template <int K>
OpCost CostPerInput(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = DefaultCost(ctx, outputs);
  c.flops = ctx.inputs.empty() ? 0 : K * TypeElements(ctx.inputs[0]);
  return c;
}

}  // namespace greenai::ew
