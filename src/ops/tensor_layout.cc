// Tensor ops that change spatial layout: Pad, Resize, Upsample, CenterCropPad.
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

namespace {

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.GetAsDouble(i);
  return v;
}

Status InferPad(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  GREENAI_RETURN_IF_ERROR(ParsePadMode(n).status());
  if (!x.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  std::optional<std::vector<int64_t>> pads, axes;
  if (ctx.opset != 0 && ctx.opset < 11) {
    const char* name = ctx.opset < 2 ? "paddings" : "pads";
    if (!n.HasAttr(name)) return InvalidArgument("{}: attribute '{}' is required before opset 11", n.Describe(), name);
    pads = n.GetInts(name);
  } else {
    if (!ctx.Has(1)) return InvalidArgument("{}: input 'pads' is required", n.Describe());
    if (ctx.inputs[1].dtype != DType::kI64)
      return InvalidArgument("{}: pads have type {} (expects int64)", n.Describe(), DTypeName(ctx.inputs[1].dtype));
    if (ctx.Has(2) && ctx.inputs[2].dtype != x.dtype)
      return InvalidArgument("{}: constant_value has type {} but data has {}", n.Describe(),
                             DTypeName(ctx.inputs[2].dtype), DTypeName(x.dtype));
    pads = ValueInts(ctx, 1);
    bool unknown = !pads;
    if (ctx.Has(3)) {
      axes = ValueInts(ctx, 3);
      unknown |= !axes;
    }
    if (unknown) {
      (*out)[0] = UnknownDims(x.dtype, x.rank());
      return Status::Ok();
    }
  }
  GREENAI_ASSIGN_OR_RETURN(PadSpec s, ResolvePads(n, x.rank(), *pads, axes));
  Shape o = x.dims;
  for (size_t i = 0; i < o.size(); ++i) {
    if (o[i] < 0) continue;
    o[i] += s.begin[i] + s.end[i];
    if (o[i] < 0)
      return InvalidArgument("{}: pads {} and {} on axis {} of size {} give a negative size", n.Describe(),
                             s.begin[i], s.end[i], i, x.dims[i]);
  }
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferResize(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  GREENAI_ASSIGN_OR_RETURN(ResizeAttrs a, ParseResizeAttrs(n, ctx.opset));
  if (!x.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  std::vector<double> scales = a.attr_scales, roi;
  std::vector<int64_t> sizes;
  bool unknown = false;
  auto read = [&](int i, auto fn) {
    if (i < 0 || !ctx.Has(static_cast<size_t>(i))) return;
    const Tensor* t = ctx.Value(static_cast<size_t>(i));
    if (!t) {
      // An empty tensor stands for "absent" (opset 11-12 style); a known-empty type tells us so.
      if (!(ctx.inputs[static_cast<size_t>(i)].has_shape && TypeElements(ctx.inputs[static_cast<size_t>(i)]) == 0 &&
            ctx.inputs[static_cast<size_t>(i)].IsFullyKnown()))
        unknown = true;
      return;
    }
    fn(*t);
  };
  read(a.scales_input, [&](const Tensor& t) { scales = ToDoubles(t); });
  read(a.sizes_input, [&](const Tensor& t) { sizes = TensorToInts(t); });
  if (a.coord == CoordMode::kTfCropAndResize) read(a.roi_input, [&](const Tensor& t) { roi = ToDoubles(t); });
  if (unknown) {
    (*out)[0] = UnknownDims(x.dtype, x.rank());
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(ResizeSpec s, ResolveResize(n, a, x.dims, scales, sizes, roi));
  (*out)[0] = TensorType::Of(x.dtype, s.out);
  return Status::Ok();
}

Status InferCenterCropPad(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  auto shape = ValueInts(ctx, 1);
  if (!x.has_shape || !shape) {
    (*out)[0] = x.has_shape ? UnknownDims(x.dtype, x.rank()) : UnknownShape(x.dtype);
    return Status::Ok();
  }
  std::vector<int64_t> axes = n.GetInts("axes");
  if (axes.empty())
    for (int64_t i = 0; i < x.rank(); ++i) axes.push_back(i);
  if (axes.size() != shape->size())
    return InvalidArgument("{}: shape has {} values for {} axes", n.Describe(), shape->size(), axes.size());
  Shape o = x.dims;
  for (size_t j = 0; j < axes.size(); ++j) {
    GREENAI_ASSIGN_OR_RETURN(int64_t ax, NormalizeAxis(axes[j], x.rank(), n.Describe()));
    if ((*shape)[j] < 0) return InvalidArgument("{}: shape[{}] is negative ({})", n.Describe(), j, (*shape)[j]);
    o[static_cast<size_t>(ax)] = (*shape)[j];
  }
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

OpCost ResizeCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = MoveCost(ctx, outputs);
  std::string mode = ctx.node.GetString("mode", "nearest");
  int64_t resized = 0;
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && outputs[0].has_shape)
    for (size_t i = 0; i < x.dims.size(); ++i) resized += x.dims[i] != outputs[0].dims[i];
  double taps = mode == "nearest" ? 0 : mode == "cubic" ? 4 : 2;
  // One multiply-add per tap per resized axis (separable interpolation).
  c.macs = TypeElements(outputs[0]) * taps * static_cast<double>(resized);
  c.flops = 2 * c.macs;
  return c;
}

}  // namespace

void AddLayoutOps(std::vector<OpDef>& ops) {
  ops.push_back({"Pad", "", 1, 1, 4, 1, 1, InferPad, MoveCost});
  ops.push_back({"Resize", "", 10, 1, 4, 1, 1, InferResize, ResizeCost});
  ops.push_back({"Upsample", "", 7, 1, 2, 1, 1, InferResize, ResizeCost});
  ops.push_back({"CenterCropPad", "", 18, 2, 2, 1, 1, InferCenterCropPad, MoveCost});
}

}  // namespace greenai::tensorops
