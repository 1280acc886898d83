// LRN and MeanVarianceNormalization OpDefs.
#include "ops/misc_internal.h"
#include "ops/shape_util.h"

namespace greenai::misc {
namespace {

Status ExpectFloat(const InferContext& ctx, size_t i, const char* what) {
  const DType t = ctx.inputs[i].dtype;
  if (t != DType::kF32 && t != DType::kF64)
    return InvalidArgument("{}: {} has dtype {}, expects float32 or float64", ctx.node.Describe(), what,
                           DTypeName(t));
  return Status::Ok();
}

Status InferLrn(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectFloat(ctx, 0, "X"));
  const int64_t size = ctx.node.GetInt("size", 0);
  if (size < 1) return InvalidArgument("{}: attribute size is {}, expects >= 1", ctx.node.Describe(), size);
  const auto& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 3)
    return InvalidArgument("{}: X has rank {}, expects >= 3 ([N, C, D1, ...])", ctx.node.Describe(), x.rank());
  (*out)[0] = x;
  return Status::Ok();
}

// Per element: `size` squares and adds, then scale, add bias, pow and divide.
OpCost LrnCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = TypeElements(outs[0]) * (2.0 * static_cast<double>(ctx.node.GetInt("size", 1)) + 4);
  return c;
}

Status InferMvn(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(ExpectFloat(ctx, 0, "X"));
  const auto& x = ctx.inputs[0];
  if (x.has_shape)
    for (int64_t a : ctx.node.GetInts("axes", {0, 2, 3}))
      GREENAI_RETURN_IF_ERROR(NormalizeAxis(a, x.rank(), ctx.node.Describe()).status());
  (*out)[0] = x;
  return Status::Ok();
}

// Two passes (sum, sum of squares) then subtract and divide.
OpCost MvnCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.bytes_read *= 2;
  c.flops = TypeElements(outs[0]) * 5;
  return c;
}

}  // namespace

void AddNormOps(std::vector<OpDef>& ops) {
  ops.push_back({"LRN", "", 1, 1, 1, 1, 1, InferLrn, LrnCost});
  ops.push_back({"MeanVarianceNormalization", "", 9, 1, 1, 1, 1, InferMvn, MvnCost});
}

}  // namespace greenai::misc
