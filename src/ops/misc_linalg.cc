// Det and NonMaxSuppression OpDefs.
#include "ops/misc_internal.h"

namespace greenai::misc {
namespace {

Status InferDet(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  if (x.dtype != DType::kF32 && x.dtype != DType::kF64)
    return InvalidArgument("{}: X has dtype {}, expects float32 or float64", ctx.node.Describe(), DTypeName(x.dtype));
  (*out)[0].dtype = x.dtype;
  if (!x.has_shape) return Status::Ok();
  if (x.rank() < 2) return InvalidArgument("{}: X has rank {}, expects >= 2 ([*, M, M])", ctx.node.Describe(), x.rank());
  const int64_t m = x.dims[x.dims.size() - 2], n = x.dims.back();
  if (m >= 0 && n >= 0 && m != n)
    return InvalidArgument("{}: X has shape {} but the last two dims must be equal (square matrices)",
                           ctx.node.Describe(), ShapeToString(x.dims));
  (*out)[0] = TensorType::Of(x.dtype, std::vector<int64_t>(x.dims.begin(), x.dims.end() - 2));
  return Status::Ok();
}

// LU decomposition: about 2/3 n^3 FLOPs per matrix.
OpCost DetCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const auto& x = ctx.inputs[0];
  if (x.IsFullyKnown() && x.rank() >= 2) {
    const double n = static_cast<double>(x.dims.back());
    c.flops = TypeElements(outs[0]) * 2.0 / 3.0 * n * n * n;
    c.macs = c.flops / 2;
  }
  return c;
}

Status InferNms(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& boxes = ctx.inputs[0];
  const auto& scores = ctx.inputs[1];
  const Node& n = ctx.node;
  if (boxes.dtype != DType::kF32 || scores.dtype != DType::kF32)
    return InvalidArgument("{}: boxes and scores must be float32 (have {} and {})", n.Describe(),
                           DTypeName(boxes.dtype), DTypeName(scores.dtype));
  if (boxes.has_shape && (boxes.rank() != 3 || (boxes.dims[2] >= 0 && boxes.dims[2] != 4)))
    return InvalidArgument("{}: boxes has shape {}, expects [num_batches, spatial_dimension, 4]", n.Describe(),
                           ShapeToString(boxes.dims));
  if (scores.has_shape && scores.rank() != 3)
    return InvalidArgument("{}: scores has shape {}, expects [num_batches, num_classes, spatial_dimension]",
                           n.Describe(), ShapeToString(scores.dims));
  if (boxes.has_shape && scores.has_shape)
    for (auto [bi, si] : {std::pair<size_t, size_t>{0, 0}, {1, 2}})
      if (boxes.dims[bi] >= 0 && scores.dims[si] >= 0 && boxes.dims[bi] != scores.dims[si])
        return InvalidArgument("{}: boxes {} and scores {} disagree on num_batches or spatial_dimension",
                               n.Describe(), ShapeToString(boxes.dims), ShapeToString(scores.dims));
  (*out)[0] = TensorType::Of(DType::kI64, {-1, 3});  // data-dependent: the kernel allocates it
  return Status::Ok();
}

// Pairwise IoU between the candidates of each (batch, class): ~15 FLOPs per pair, worst case.
OpCost NmsCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const auto& s = ctx.inputs[1];
  if (s.IsFullyKnown()) {
    const double spatial = static_cast<double>(s.dims[2]);
    c.flops = static_cast<double>(s.dims[0] * s.dims[1]) * spatial * spatial * 15;
  }
  return c;
}

}  // namespace

void AddLinalgOps(std::vector<OpDef>& ops) {
  ops.push_back({"Det", "", 11, 1, 1, 1, 1, InferDet, DetCost});
  ops.push_back({"NonMaxSuppression", "", 10, 2, 5, 1, 1, InferNms, NmsCost});
}

}  // namespace greenai::misc
