// GridSample (opset 16, 4-D input) OpDef.
#include "ops/misc_internal.h"

namespace greenai::misc {
namespace {

Status InferGridSample(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  const auto& g = ctx.inputs[1];
  const Node& n = ctx.node;
  if (x.dtype != DType::kF32 || g.dtype != DType::kF32)
    return InvalidArgument("{}: X and grid must be float32 (have {} and {})", n.Describe(), DTypeName(x.dtype),
                           DTypeName(g.dtype));
  const std::string mode = n.GetString("mode", "bilinear"), pad = n.GetString("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return InvalidArgument("{}: mode '{}' is not bilinear, nearest or bicubic", n.Describe(), mode);
  if (pad != "zeros" && pad != "border" && pad != "reflection")
    return InvalidArgument("{}: padding_mode '{}' is not zeros, border or reflection", n.Describe(), pad);
  (*out)[0].dtype = x.dtype;
  if (!x.has_shape || !g.has_shape) return Status::Ok();
  if (x.rank() != 4) return Unimplemented("{}: X has rank {}; only 4-D GridSample is supported", n.Describe(), x.rank());
  if (g.rank() != 4 || (g.dims[3] >= 0 && g.dims[3] != 2) || (g.dims[0] >= 0 && x.dims[0] >= 0 && g.dims[0] != x.dims[0]))
    return InvalidArgument("{}: grid has shape {}, expects [{}, H_out, W_out, 2]", n.Describe(), ShapeToString(g.dims),
                           x.dims[0]);
  (*out)[0] = TensorType::Of(x.dtype, {x.dims[0], x.dims[1], g.dims[1], g.dims[2]});
  return Status::Ok();
}

// Bicubic reads 16 pixels, bilinear 4, nearest 1; ~2 FLOPs per read.
OpCost GridSampleCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const std::string mode = ctx.node.GetString("mode", "bilinear");
  c.flops = TypeElements(outs[0]) * (mode == "bicubic" ? 32 : mode == "bilinear" ? 8 : 1);
  return c;
}

}  // namespace

void AddGridOps(std::vector<OpDef>& ops) {
  ops.push_back({"GridSample", "", 16, 2, 2, 1, 1, InferGridSample, GridSampleCost});
}

}  // namespace greenai::misc
