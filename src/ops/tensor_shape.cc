// Tensor ops that reshape, transpose or create tensors: Constant, Identity, Reshape,
// Flatten, Transpose, Squeeze, Unsqueeze, Shape, Size, ConstantOfShape, Range, Dropout,
// Expand, Tile, EyeLike, Trilu, DepthToSpace, SpaceToDepth.
#include <cmath>

#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

namespace {

Status InferConstant(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_ASSIGN_OR_RETURN(Tensor t, BuildConstant(ctx.node));
  (*out)[0] = TensorType::Of(t.dtype(), t.shape());
  return Status::Ok();
}

Status InferIdentity(const InferContext& ctx, std::vector<TensorType>* out) {
  (*out)[0] = ctx.inputs[0];
  return Status::Ok();
}

Status InferReshape(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  std::optional<std::vector<int64_t>> target;
  if (ctx.opset != 0 && ctx.opset < 5) {
    if (!n.HasAttr("shape")) return InvalidArgument("{}: attribute 'shape' is required before opset 5", n.Describe());
    target = n.GetInts("shape");
  } else {
    if (!ctx.Has(1)) return InvalidArgument("{}: input 'shape' is required", n.Describe());
    if (ctx.inputs[1].has_shape && ctx.inputs[1].rank() != 1)
      return InvalidArgument("{}: input 'shape' has rank {} (expects 1-D)", n.Describe(), ctx.inputs[1].rank());
    target = ValueInts(ctx, 1);
  }
  if (!target) {
    const TensorType& s = ctx.inputs[1];
    (*out)[0] = s.has_shape && s.rank() == 1 && s.dims[0] >= 0 ? UnknownDims(x.dtype, s.dims[0]) : UnknownShape(x.dtype);
    return Status::Ok();
  }
  bool allowzero = n.GetInt("allowzero", 0) != 0;
  Shape in = x.has_shape ? x.dims : Shape{};
  if (!x.has_shape) {
    // Without the input rank, 0 entries and -1 stay unknown.
    Shape o(target->size(), -1);
    for (size_t i = 0; i < o.size(); ++i)
      if ((*target)[i] > 0 || ((*target)[i] == 0 && allowzero)) o[i] = (*target)[i];
    (*out)[0] = TensorType::Of(x.dtype, o);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(Shape o, ResolveReshape(n, in, *target, allowzero));
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferFlatten(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  if (!x.has_shape) {
    (*out)[0] = UnknownDims(x.dtype, 2);
    return Status::Ok();
  }
  int64_t r = x.rank();
  int64_t axis = ctx.node.GetInt("axis", 1);
  if (axis < -r || axis > r)
    return InvalidArgument("{}: axis {} is out of range for rank {} (expects [-{}, {}])", ctx.node.Describe(), axis,
                           r, r, r);
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) {
    int64_t d = x.dims[static_cast<size_t>(i)];
    int64_t& acc = i < axis ? a : b;
    acc = (acc < 0 || d < 0) ? -1 : acc * d;
  }
  (*out)[0] = TensorType::Of(x.dtype, {a, b});
  return Status::Ok();
}

Status InferTranspose(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  if (!x.has_shape) {
    (*out)[0] = ctx.node.HasAttr("perm") ? UnknownDims(x.dtype, static_cast<int64_t>(ctx.node.GetInts("perm").size()))
                                         : UnknownShape(x.dtype);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(auto perm, ResolvePerm(ctx.node, x.rank()));
  Shape o;
  for (int64_t p : perm) o.push_back(x.dims[static_cast<size_t>(p)]);
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

// Axes of Squeeze/Unsqueeze: attribute before opset 13, input 1 after. Returns false in
// *known when the input exists but its value is not known yet.
std::optional<std::vector<int64_t>> SqueezeAxes(const InferContext& ctx, bool* known) {
  *known = true;
  if (ctx.opset != 0 && ctx.opset < 13) {
    if (ctx.node.HasAttr("axes")) return ctx.node.GetInts("axes");
    return std::nullopt;
  }
  if (!ctx.Has(1)) return std::nullopt;
  auto v = ValueInts(ctx, 1);
  if (!v) *known = false;
  return v;
}

Status InferSqueeze(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  bool known;
  auto axes = SqueezeAxes(ctx, &known);
  if (!known || !x.has_shape) {
    (*out)[0] = x.has_shape && axes ? UnknownDims(x.dtype, x.rank() - static_cast<int64_t>(axes->size()))
                                    : UnknownShape(x.dtype);
    return Status::Ok();
  }
  if (!axes || axes->empty()) {
    for (int64_t d : x.dims)
      if (d < 0) {
        (*out)[0] = UnknownShape(x.dtype);
        return Status::Ok();
      }
  }
  GREENAI_ASSIGN_OR_RETURN(Shape o, ResolveSqueeze(ctx.node, x.dims, axes));
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferUnsqueeze(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  bool known;
  auto axes = SqueezeAxes(ctx, &known);
  if (known && !axes) return InvalidArgument("{}: axes are required", ctx.node.Describe());
  if (!known || !x.has_shape) {
    (*out)[0] = x.has_shape && axes ? UnknownDims(x.dtype, x.rank() + static_cast<int64_t>(axes->size()))
                                    : UnknownShape(x.dtype);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(Shape o, ResolveUnsqueeze(ctx.node, x.dims, *axes));
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferShape(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  if (!x.has_shape) {
    (*out)[0] = UnknownDims(DType::kI64, 1);
    return Status::Ok();
  }
  int64_t r = x.rank();
  int64_t s = ctx.node.GetInt("start", 0), e = ctx.node.GetInt("end", r);
  if (s < 0) s += r;
  if (e < 0) e += r;
  s = std::clamp<int64_t>(s, 0, r);
  e = std::clamp<int64_t>(e, 0, r);
  (*out)[0] = TensorType::Of(DType::kI64, {std::max<int64_t>(0, e - s)});
  return Status::Ok();
}

Status InferSize(const InferContext&, std::vector<TensorType>* out) {
  (*out)[0] = TensorType::Of(DType::kI64, {});
  return Status::Ok();
}

Status InferConstantOfShape(const InferContext& ctx, std::vector<TensorType>* out) {
  DType dt = DType::kF32;
  if (const Tensor* v = ctx.node.GetTensor("value")) {
    if (v->numel() != 1)
      return InvalidArgument("{}: attribute 'value' has {} elements (expects 1)", ctx.node.Describe(), v->numel());
    dt = v->dtype();
  }
  auto shape = ValueInts(ctx, 0);
  if (!shape) {
    const TensorType& s = ctx.inputs[0];
    (*out)[0] = s.has_shape && s.rank() == 1 && s.dims[0] >= 0 ? UnknownDims(dt, s.dims[0]) : UnknownShape(dt);
    return Status::Ok();
  }
  for (int64_t d : *shape)
    if (d < 0) return InvalidArgument("{}: shape has a negative dim {}", ctx.node.Describe(), d);
  (*out)[0] = TensorType::Of(dt, *shape);
  return Status::Ok();
}

Status InferRange(const InferContext& ctx, std::vector<TensorType>* out) {
  DType dt = ctx.inputs[0].dtype;
  for (size_t i = 0; i < 3; ++i) {
    if (ctx.inputs[i].dtype != dt)
      return InvalidArgument("{}: start, limit and delta must share one type (input {} is {}, start is {})",
                             ctx.node.Describe(), i, DTypeName(ctx.inputs[i].dtype), DTypeName(dt));
    if (ctx.inputs[i].has_shape && ctx.inputs[i].rank() != 0 &&
        !(ctx.inputs[i].rank() == 1 && ctx.inputs[i].dims[0] == 1))
      return InvalidArgument("{}: input {} must be a scalar", ctx.node.Describe(), i);
  }
  if (!ctx.Value(0) || !ctx.Value(1) || !ctx.Value(2)) {
    (*out)[0] = UnknownDims(dt, 1);
    return Status::Ok();
  }
  double s = ctx.Value(0)->GetAsDouble(0), l = ctx.Value(1)->GetAsDouble(0), d = ctx.Value(2)->GetAsDouble(0);
  if (d == 0) return InvalidArgument("{}: delta is 0 (must be non-zero)", ctx.node.Describe());
  double cnt = std::ceil((l - s) / d);
  if (!(cnt <= static_cast<double>(kMaxTensorElements)))
    return InvalidArgument("{}: range of {} elements is too large", ctx.node.Describe(), cnt);
  (*out)[0] = TensorType::Of(dt, {cnt > 0 ? static_cast<int64_t>(cnt) : 0});
  return Status::Ok();
}

Status InferDropout(const InferContext& ctx, std::vector<TensorType>* out) {
  (*out)[0] = ctx.inputs[0];
  if (out->size() > 1) {
    (*out)[1] = ctx.inputs[0];
    if (ctx.opset == 0 || ctx.opset >= 10) (*out)[1].dtype = DType::kBool;
  }
  return Status::Ok();
}

Status InferExpand(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  auto shape = ValueInts(ctx, 1);
  if (!shape || !x.has_shape) {
    const TensorType& s = ctx.inputs[1];
    (*out)[0] = UnknownShape(x.dtype);
    if (x.has_shape && s.has_shape && s.rank() == 1 && s.dims[0] >= 0)
      (*out)[0] = UnknownDims(x.dtype, std::max<int64_t>(x.rank(), s.dims[0]));
    return Status::Ok();
  }
  for (int64_t d : *shape)
    if (d < 0) return InvalidArgument("{}: shape has a negative dim {}", ctx.node.Describe(), d);
  GREENAI_ASSIGN_OR_RETURN(auto o, BroadcastDims({x.dims, *shape}, ctx.node.Describe()));
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferTile(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  auto reps = ValueInts(ctx, 1);
  if (!x.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  if (!reps) {
    (*out)[0] = UnknownDims(x.dtype, x.rank());
    return Status::Ok();
  }
  if (static_cast<int64_t>(reps->size()) != x.rank())
    return InvalidArgument("{}: repeats has {} values but the input has rank {}", ctx.node.Describe(), reps->size(),
                           x.rank());
  Shape o = x.dims;
  for (size_t i = 0; i < o.size(); ++i) {
    if ((*reps)[i] < 0) return InvalidArgument("{}: repeats[{}] is negative ({})", ctx.node.Describe(), i, (*reps)[i]);
    if (o[i] >= 0) o[i] *= (*reps)[i];
  }
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferEyeLike(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  DType dt = x.dtype;
  if (ctx.node.HasAttr("dtype")) {
    auto v = ctx.node.GetInt("dtype", 0);
    if (!IsKnownDType(static_cast<int32_t>(v)) || v == static_cast<int64_t>(DType::kString))
      return InvalidArgument("{}: dtype {} is not a supported numeric type", ctx.node.Describe(), v);
    dt = static_cast<DType>(v);
  }
  if (x.has_shape && x.rank() != 2)
    return InvalidArgument("{}: input has rank {} (expects 2-D)", ctx.node.Describe(), x.rank());
  (*out)[0] = x.has_shape ? TensorType::Of(dt, x.dims) : UnknownDims(dt, 2);
  return Status::Ok();
}

Status InferTrilu(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 2)
    return InvalidArgument("{}: input has rank {} (expects >= 2)", ctx.node.Describe(), x.rank());
  (*out)[0] = x;
  return Status::Ok();
}

Status InferDepthSpace(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  const Node& n = ctx.node;
  int64_t b = n.GetInt("blocksize", 0);
  if (b <= 0) return InvalidArgument("{}: blocksize is {} (must be > 0)", n.Describe(), b);
  if (!x.has_shape) {
    (*out)[0] = UnknownDims(x.dtype, 4);
    return Status::Ok();
  }
  if (x.rank() != 4) return InvalidArgument("{}: input has rank {} (expects 4-D NCHW)", n.Describe(), x.rank());
  Shape o = x.dims;
  auto mul = [](int64_t d, int64_t f) { return d < 0 ? -1 : d * f; };
  if (n.op_type == "DepthToSpace") {
    if (o[1] >= 0 && o[1] % (b * b) != 0)
      return InvalidArgument("{}: channels {} are not divisible by blocksize^2 = {}", n.Describe(), o[1], b * b);
    o[1] = o[1] < 0 ? -1 : o[1] / (b * b);
    o[2] = mul(o[2], b);
    o[3] = mul(o[3], b);
  } else {
    for (int i = 2; i < 4; ++i)
      if (o[static_cast<size_t>(i)] >= 0 && o[static_cast<size_t>(i)] % b != 0)
        return InvalidArgument("{}: spatial dim {} ({}) is not divisible by blocksize {}", n.Describe(), i,
                               o[static_cast<size_t>(i)], b);
    o[1] = mul(o[1], b * b);
    o[2] = o[2] < 0 ? -1 : o[2] / b;
    o[3] = o[3] < 0 ? -1 : o[3] / b;
  }
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

}  // namespace

void AddShapeOps(std::vector<OpDef>& ops) {
  ops.push_back({"Constant", "", 1, 0, 0, 1, 1, InferConstant, WriteOnlyCost});
  ops.push_back({"Identity", "", 1, 1, 1, 1, 1, InferIdentity, MoveCost});
  ops.push_back({"Reshape", "", 1, 1, 2, 1, 1, InferReshape, MoveCost});
  ops.push_back({"Flatten", "", 1, 1, 1, 1, 1, InferFlatten, MoveCost});
  ops.push_back({"Transpose", "", 1, 1, 1, 1, 1, InferTranspose, MoveCost});
  ops.push_back({"Squeeze", "", 1, 1, 2, 1, 1, InferSqueeze, MoveCost});
  ops.push_back({"Unsqueeze", "", 1, 1, 2, 1, 1, InferUnsqueeze, MoveCost});
  ops.push_back({"Shape", "", 1, 1, 1, 1, 1, InferShape, WriteOnlyCost});
  ops.push_back({"Size", "", 1, 1, 1, 1, 1, InferSize, WriteOnlyCost});
  ops.push_back({"ConstantOfShape", "", 9, 1, 1, 1, 1, InferConstantOfShape, WriteOnlyCost});
  ops.push_back({"Range", "", 11, 3, 3, 1, 1, InferRange, WriteOnlyCost});
  ops.push_back({"Dropout", "", 1, 1, 3, 1, 2, InferDropout, MoveCost});
  ops.push_back({"Expand", "", 8, 2, 2, 1, 1, InferExpand, MoveCost});
  ops.push_back({"Tile", "", 6, 2, 2, 1, 1, InferTile, MoveCost});
  ops.push_back({"EyeLike", "", 9, 1, 1, 1, 1, InferEyeLike, WriteOnlyCost});
  ops.push_back({"Trilu", "", 14, 1, 2, 1, 1, InferTrilu, MoveCost});
  ops.push_back({"DepthToSpace", "", 1, 1, 1, 1, 1, InferDepthSpace, MoveCost});
  ops.push_back({"SpaceToDepth", "", 1, 1, 1, 1, 1, InferDepthSpace, MoveCost});
}

}  // namespace greenai::tensorops
