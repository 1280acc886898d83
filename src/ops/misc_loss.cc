// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss OpDefs.
#include "ops/misc_internal.h"

namespace greenai::misc {
namespace {

Status InferLoss(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  const auto& t = ctx.inputs[1];
  const Node& n = ctx.node;
  if (x.dtype != DType::kF32 && x.dtype != DType::kF64)
    return InvalidArgument("{}: input has dtype {}, expects float32 or float64", n.Describe(), DTypeName(x.dtype));
  if (t.dtype != DType::kI32 && t.dtype != DType::kI64)
    return InvalidArgument("{}: target has dtype {}, expects int32 or int64", n.Describe(), DTypeName(t.dtype));
  if (ctx.Has(2) && ctx.inputs[2].dtype != x.dtype)
    return InvalidArgument("{}: weight has dtype {} but input has {} (must match)", n.Describe(),
                           DTypeName(ctx.inputs[2].dtype), DTypeName(x.dtype));
  const std::string red = n.GetString("reduction", "mean");
  if (red != "none" && red != "sum" && red != "mean")
    return InvalidArgument("{}: reduction '{}' is not none, sum or mean", n.Describe(), red);
  (*out)[0].dtype = x.dtype;
  if (out->size() > 1) (*out)[1] = x;
  if (red != "none") (*out)[0] = TensorType::Of(x.dtype, {});
  if (!x.has_shape || !t.has_shape) return Status::Ok();
  if (x.rank() < 2) return InvalidArgument("{}: input has rank {}, expects >= 2 ([N, C, ...])", n.Describe(), x.rank());
  bool ok = t.rank() == x.rank() - 1;
  for (int i = 0; ok && i < t.rank(); ++i) {
    const int64_t a = t.dims[static_cast<size_t>(i)], b = x.dims[static_cast<size_t>(i == 0 ? 0 : i + 1)];
    ok = a < 0 || b < 0 || a == b;
  }
  if (!ok)
    return InvalidArgument("{}: target has shape {} but input {} needs [N, d1, ...] without the class dim",
                           n.Describe(), ShapeToString(t.dims), ShapeToString(x.dims));
  if (ctx.Has(2) && ctx.inputs[2].has_shape &&
      (ctx.inputs[2].rank() != 1 || (x.dims[1] >= 0 && ctx.inputs[2].dims[0] >= 0 && ctx.inputs[2].dims[0] != x.dims[1])))
    return InvalidArgument("{}: weight has shape {}, expects [{}] (one per class)", n.Describe(),
                           ShapeToString(ctx.inputs[2].dims), x.dims[1]);
  if (red == "none") (*out)[0] = TensorType::Of(x.dtype, t.dims);
  return Status::Ok();
}

// SoftmaxCrossEntropyLoss: exp, sum, log, subtract per input element; NLL is a gather.
OpCost SceCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = 5 * TypeElements(ctx.inputs[0]);
  return c;
}

}  // namespace

void AddLossOps(std::vector<OpDef>& ops) {
  ops.push_back({"NegativeLogLikelihoodLoss", "", 12, 2, 3, 1, 1, InferLoss, nullptr});
  ops.push_back({"SoftmaxCrossEntropyLoss", "", 12, 2, 3, 1, 2, InferLoss, SceCost});
}

}  // namespace greenai::misc
