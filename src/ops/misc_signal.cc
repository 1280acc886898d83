// HannWindow, HammingWindow, BlackmanWindow, DFT (opset 17) and RoiAlign OpDefs.
#include "ops/misc_internal.h"

namespace greenai::misc {
namespace {

Status InferWindow(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& s = ctx.inputs[0];
  if (s.dtype != DType::kI32 && s.dtype != DType::kI64)
    return InvalidArgument("{}: size has dtype {}, expects int32 or int64", ctx.node.Describe(), DTypeName(s.dtype));
  const int64_t odt = ctx.node.GetInt("output_datatype", 1);
  const DType t = static_cast<DType>(odt);
  if (t != DType::kF32 && t != DType::kF64)
    return Unimplemented("{}: output_datatype {} is not supported (float32 or float64)", ctx.node.Describe(), odt);
  int64_t n = -1;
  if (const Tensor* v = ctx.Value(0)) {
    if (v->numel() != 1)
      return InvalidArgument("{}: size has {} elements, expects a scalar", ctx.node.Describe(), v->numel());
    n = static_cast<int64_t>(v->GetAsDouble(0));
    if (n < 0 || n > (int64_t{1} << 30))
      return InvalidArgument("{}: size is {}, expects 0..2^30", ctx.node.Describe(), n);
  }
  (*out)[0] = TensorType::Of(t, {n});
  return Status::Ok();
}

Status InferRoiAlign(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  const auto& rois = ctx.inputs[1];
  const auto& idx = ctx.inputs[2];
  const Node& n = ctx.node;
  if (x.dtype != DType::kF32 || rois.dtype != DType::kF32)
    return InvalidArgument("{}: X and rois must be float32 (have {} and {})", n.Describe(), DTypeName(x.dtype),
                           DTypeName(rois.dtype));
  if (idx.dtype != DType::kI64)
    return InvalidArgument("{}: batch_indices has dtype {}, expects int64", n.Describe(), DTypeName(idx.dtype));
  const std::string mode = n.GetString("mode", "avg");
  if (mode != "avg" && mode != "max") return InvalidArgument("{}: mode '{}' is not avg or max", n.Describe(), mode);
  if (x.has_shape && x.rank() != 4)
    return InvalidArgument("{}: X has shape {}, expects [N, C, H, W]", n.Describe(), ShapeToString(x.dims));
  if (rois.has_shape && (rois.rank() != 2 || (rois.dims[1] >= 0 && rois.dims[1] != 4)))
    return InvalidArgument("{}: rois has shape {}, expects [num_rois, 4]", n.Describe(), ShapeToString(rois.dims));
  if (rois.has_shape && idx.has_shape &&
      (idx.rank() != 1 || (idx.dims[0] >= 0 && rois.dims[0] >= 0 && idx.dims[0] != rois.dims[0])))
    return InvalidArgument("{}: batch_indices has shape {}, expects [{}] (one per roi)", n.Describe(),
                           ShapeToString(idx.dims), rois.dims[0]);
  const int64_t oh = n.GetInt("output_height", 1), ow = n.GetInt("output_width", 1);
  if (oh < 1 || ow < 1)
    return InvalidArgument("{}: output_height/output_width are {}/{}, expect >= 1", n.Describe(), oh, ow);
  (*out)[0] = TensorType::Of(DType::kF32, {rois.has_shape ? rois.dims[0] : -1, x.has_shape ? x.dims[1] : -1, oh, ow});
  return Status::Ok();
}

// Each output averages (or maxes) bilinear samples: ~10 FLOPs per sample of 4 reads.
OpCost RoiAlignCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const int64_t sr = ctx.node.GetInt("sampling_ratio", 0);
  c.flops = TypeElements(outs[0]) * static_cast<double>(sr > 0 ? sr * sr : 4) * 10;
  return c;
}

Status InferDft(const InferContext& ctx, std::vector<TensorType>* out) {
  const auto& x = ctx.inputs[0];
  const Node& n = ctx.node;
  if (x.dtype != DType::kF32 && x.dtype != DType::kF64)
    return InvalidArgument("{}: input has dtype {}, expects float32 or float64", n.Describe(), DTypeName(x.dtype));
  (*out)[0].dtype = x.dtype;
  if (!x.has_shape) return Status::Ok();
  if (x.rank() < 2 || (x.dims.back() >= 0 && x.dims.back() != 1 && x.dims.back() != 2))
    return InvalidArgument("{}: input has shape {}, expects [..., 1] (real) or [..., 2] (complex)", n.Describe(),
                           ShapeToString(x.dims));
  int64_t axis = n.GetInt("axis", 1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank() - 1)
    return InvalidArgument("{}: axis {} is out of range for input {} (the last dim holds re/im)", n.Describe(),
                           n.GetInt("axis", 1), ShapeToString(x.dims));
  int64_t len = x.dims[static_cast<size_t>(axis)];
  if (ctx.Has(1)) {
    const Tensor* v = ctx.Value(1);
    len = v && v->numel() == 1 ? static_cast<int64_t>(v->GetAsDouble(0)) : -1;
    if (v && len < 1) return InvalidArgument("{}: dft_length is {}, expects >= 1", n.Describe(), len);
  }
  const bool onesided = n.GetInt("onesided", 0) != 0;
  if (onesided && n.GetInt("inverse", 0) != 0)
    return Unimplemented("{}: inverse with onesided output is not supported", n.Describe());
  std::vector<int64_t> d = x.dims;
  d[static_cast<size_t>(axis)] = len < 0 ? -1 : (onesided ? len / 2 + 1 : len);
  d.back() = 2;
  (*out)[0] = TensorType::Of(x.dtype, d);
  return Status::Ok();
}

// Direct DFT: one complex multiply-add (4 real MACs) per input sample per output bin.
OpCost DftCost(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const auto& x = ctx.inputs[0];
  if (x.IsFullyKnown() && outs[0].IsFullyKnown()) {
    int64_t axis = ctx.node.GetInt("axis", 1);
    if (axis < 0) axis += x.rank();
    c.macs = TypeElements(outs[0]) / 2 * static_cast<double>(x.dims[static_cast<size_t>(axis)]) * 4;
    c.flops = 2 * c.macs;
  }
  return c;
}

}  // namespace

void AddSignalOps(std::vector<OpDef>& ops) {
  ops.push_back({"HannWindow", "", 17, 1, 1, 1, 1, InferWindow, nullptr});
  ops.push_back({"HammingWindow", "", 17, 1, 1, 1, 1, InferWindow, nullptr});
  ops.push_back({"BlackmanWindow", "", 17, 1, 1, 1, 1, InferWindow, nullptr});
  ops.push_back({"DFT", "", 17, 1, 2, 1, 1, InferDft, DftCost});
  ops.push_back({"RoiAlign", "", 10, 3, 3, 1, 1, InferRoiAlign, RoiAlignCost});
}

}  // namespace greenai::misc
