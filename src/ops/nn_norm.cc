// Op family nn, part 3: normalization ops (BatchNormalization, LayerNormalization,
// InstanceNormalization, GroupNormalization). See ops/op_table.h for the contract.
#include "ops/nn_util.h"
#include "ops/op_table.h"
#include "ops/shape_util.h"

namespace greenai::nn {
namespace {

// Input i must be 1-D of length `len` (when both are known).
Status CheckVec(const InferContext& ctx, size_t i, const char* what, int64_t len, const char* rule) {
  if (!ctx.Has(i)) return Status::Ok();
  const TensorType& t = ctx.inputs[i];
  if (!IsFloatDType(t.dtype))
    return InvalidArgument("{}: input {} has dtype {} (expects a float type)", ctx.node.Describe(), what,
                           DTypeName(t.dtype));
  if (!t.has_shape) return Status::Ok();
  if (t.rank() != 1 || (len >= 0 && t.dims[0] >= 0 && t.dims[0] != len))
    return InvalidArgument("{}: input {} has shape {} (expects [{}], {})", ctx.node.Describe(), what, t.ToString(), len,
                           rule);
  return Status::Ok();
}

Status InferBatchNorm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 0, "X"));
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 2)
    return InvalidArgument("{}: input X has rank {} (expects >= 2: N, C, ...)", n.Describe(), x.rank());
  int64_t c = x.has_shape ? x.dims[1] : -1;
  const char* names[] = {"", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) GREENAI_RETURN_IF_ERROR(CheckVec(ctx, i, names[i], c, "one per channel"));
  if (ctx.opset >= 14 && outs->size() > 3)
    return InvalidArgument("{}: has {} outputs (expects at most 3 from opset 14)", n.Describe(), outs->size());
  // Opsets 6-8 had `spatial`; 0 (per-activation statistics) is a different operator.
  if (ctx.opset < 9 && n.GetInt("spatial", 1) == 0)
    return Unimplemented("{}: spatial=0 (per-activation statistics) is not supported", n.Describe());
  int64_t tm = n.GetInt("training_mode", 0);
  if (tm != 0 && tm != 1) return InvalidArgument("{}: training_mode={} must be 0 or 1", n.Describe(), tm);
  (*outs)[0] = x;
  DType stat = ctx.inputs[3].dtype;
  for (size_t i = 1; i < outs->size(); ++i) {
    (*outs)[i].dtype = stat;
    if (c >= 0) (*outs)[i] = TensorType::Of(stat, {c});
  }
  return Status::Ok();
}

Status InferLayerNorm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 0, "X"));
  GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 1, "Scale"));
  if (ctx.Has(2)) GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 2, "B"));
  int64_t stash = n.GetInt("stash_type", 1);
  if (stash != 1) return Unimplemented("{}: stash_type={} is not supported (only 1 = float32)", n.Describe(), stash);
  const TensorType& x = ctx.inputs[0];
  (*outs)[0] = x;
  for (size_t i = 1; i < outs->size(); ++i) (*outs)[i].dtype = DType::kF32;
  if (!x.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", -1), x.rank(), n.Describe()));
  std::vector<int64_t> norm_dims(x.dims.begin() + axis, x.dims.end());
  for (size_t i = 1; i < 3 && ctx.Has(i); ++i) {
    if (!ctx.inputs[i].has_shape) continue;
    auto bc = BroadcastDims({norm_dims, ctx.inputs[i].dims}, n.Describe());
    if (!bc.ok() || ctx.inputs[i].rank() > static_cast<int>(norm_dims.size()))
      return InvalidArgument("{}: input {} has shape {} which does not broadcast to the normalized dims {}",
                             n.Describe(), i == 1 ? "Scale" : "B", ctx.inputs[i].ToString(), ShapeToString(norm_dims));
  }
  Shape stat(x.dims.begin(), x.dims.begin() + axis);
  stat.resize(x.dims.size(), 1);
  for (size_t i = 1; i < outs->size(); ++i) (*outs)[i] = TensorType::Of(DType::kF32, stat);
  return Status::Ok();
}

Status InferInstanceNorm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 0, "X"));
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 3)
    return InvalidArgument("{}: input X has rank {} (expects >= 3: N, C, spatial...)", n.Describe(), x.rank());
  int64_t c = x.has_shape ? x.dims[1] : -1;
  GREENAI_RETURN_IF_ERROR(CheckVec(ctx, 1, "scale", c, "one per channel"));
  GREENAI_RETURN_IF_ERROR(CheckVec(ctx, 2, "B", c, "one per channel"));
  (*outs)[0] = x;
  return Status::Ok();
}

Status InferGroupNorm(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(CheckFloatInput(ctx, 0, "X"));
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 3)
    return InvalidArgument("{}: input X has rank {} (expects >= 3: N, C, spatial...)", n.Describe(), x.rank());
  if (!n.HasAttr("num_groups")) return InvalidArgument("{}: attribute num_groups is required", n.Describe());
  int64_t g = n.GetInt("num_groups", 1);
  int64_t c = x.has_shape ? x.dims[1] : -1;
  if (g < 1 || (c >= 0 && c % g != 0))
    return InvalidArgument("{}: num_groups={} must be >= 1 and divide the {} channels", n.Describe(), g, c);
  // Opset 18 semantics: scale and bias hold one value per group.
  GREENAI_RETURN_IF_ERROR(CheckVec(ctx, 1, "scale", g, "one per group (opset 18)"));
  GREENAI_RETURN_IF_ERROR(CheckVec(ctx, 2, "bias", g, "one per group (opset 18)"));
  (*outs)[0] = x;
  return Status::Ok();
}

OpCost CostNormWith(const InferContext& ctx, const std::vector<TensorType>& outs, double flops_per_el) {
  OpCost c;
  c.bytes_read = InputBytes(ctx);
  c.bytes_written = OutputBytes(outs);
  c.flops = TypeElements(ctx.inputs[0]) * flops_per_el;
  return c;
}
// Inference batch norm folds to one multiply-add per element.
OpCost CostBatchNorm(const InferContext& ctx, const std::vector<TensorType>& outs) {
  bool training = ctx.node.GetInt("training_mode", 0) != 0 || outs.size() > 1;
  return CostNormWith(ctx, outs, training ? 7 : 2);
}
// Statistics (sum, sum of squares: 3), normalize (2), affine (2).
OpCost CostStatNorm(const InferContext& ctx, const std::vector<TensorType>& outs) { return CostNormWith(ctx, outs, 7); }

}  // namespace

void AddNormOps(std::vector<OpDef>& ops) {
  ops.push_back({"BatchNormalization", "", 6, 5, 5, 1, 5, InferBatchNorm, CostBatchNorm});
  ops.push_back({"LayerNormalization", "", 17, 2, 3, 1, 3, InferLayerNorm, CostStatNorm});
  ops.push_back({"InstanceNormalization", "", 6, 3, 3, 1, 1, InferInstanceNorm, CostStatNorm});
  ops.push_back({"GroupNormalization", "", 18, 3, 3, 1, 1, InferGroupNorm, CostStatNorm});
}

}  // namespace greenai::nn
