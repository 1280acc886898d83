// Tensor ops that select or place elements by position: Concat, Split, Slice, Gather,
// GatherElements, GatherND, ScatterElements, Scatter, ScatterND, OneHot, NonZero, Unique,
// Compress, ReverseSequence.
#include "ops/shape_util.h"
#include "ops/tensor_internal.h"

namespace greenai::tensorops {

namespace {

bool IsIndexType(DType t) { return t == DType::kI32 || t == DType::kI64; }

Status CheckIndexType(const InferContext& ctx, size_t i, const char* what) {
  if (ctx.Has(i) && !IsIndexType(ctx.inputs[i].dtype))
    return InvalidArgument("{}: {} has type {} (expects int32 or int64)", ctx.node.Describe(), what,
                           DTypeName(ctx.inputs[i].dtype));
  return Status::Ok();
}

Status InferConcat(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  if (!n.HasAttr("axis")) return InvalidArgument("{}: attribute 'axis' is required", n.Describe());
  DType dt = ctx.inputs[0].dtype;
  int64_t rank = -1;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const TensorType& t = ctx.inputs[i];
    if (t.dtype != dt)
      return InvalidArgument("{}: input {} has type {} but input 0 has {}", n.Describe(), i, DTypeName(t.dtype),
                             DTypeName(dt));
    if (!t.has_shape) continue;
    if (rank >= 0 && t.rank() != rank)
      return InvalidArgument("{}: input {} has rank {} but earlier inputs have rank {} (ranks must match)",
                             n.Describe(), i, t.rank(), rank);
    rank = t.rank();
  }
  if (rank < 0) {
    (*out)[0] = UnknownShape(dt);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", 0), rank, n.Describe()));
  Shape o(static_cast<size_t>(rank), -1);
  bool first = true;
  int64_t sum = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const TensorType& t = ctx.inputs[i];
    if (!t.has_shape) {
      sum = -1;
      continue;
    }
    for (int64_t d = 0; d < rank; ++d) {
      auto u = static_cast<size_t>(d);
      if (d == axis) continue;
      if (o[u] >= 0 && t.dims[u] >= 0 && o[u] != t.dims[u])
        return InvalidArgument("{}: input {} has dim {} = {} but input 0 has {} (only axis {} may differ)",
                               n.Describe(), i, d, t.dims[u], o[u], axis);
      if (o[u] < 0) o[u] = t.dims[u];
    }
    int64_t ad = t.dims[static_cast<size_t>(axis)];
    sum = (sum < 0 || ad < 0) ? -1 : sum + ad;
    first = false;
  }
  (void)first;
  o[static_cast<size_t>(axis)] = sum;
  (*out)[0] = TensorType::Of(dt, o);
  return Status::Ok();
}

Status InferSplit(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  for (auto& o : *out) o = x.has_shape ? UnknownDims(x.dtype, x.rank()) : UnknownShape(x.dtype);
  if (!x.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", 0), x.rank(), n.Describe()));
  std::vector<int64_t> split;
  if (ctx.opset != 0 && ctx.opset < 13) {
    split = n.GetInts("split");
  } else if (ctx.Has(1)) {
    auto v = ValueInts(ctx, 1);
    if (!v) return Status::Ok();
    split = *v;
  }
  GREENAI_ASSIGN_OR_RETURN(auto sizes, ResolveSplit(n, x.dims[static_cast<size_t>(axis)], split,
                                                    n.GetInt("num_outputs", 0)));
  for (size_t i = 0; i < out->size(); ++i) {
    Shape d = x.dims;
    d[static_cast<size_t>(axis)] = sizes[i];
    (*out)[i] = TensorType::Of(x.dtype, d);
  }
  return Status::Ok();
}

Status InferSlice(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  if (!x.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (ctx.opset != 0 && ctx.opset < 10) {
    if (!n.HasAttr("starts") || !n.HasAttr("ends"))
      return InvalidArgument("{}: attributes 'starts' and 'ends' are required before opset 10", n.Describe());
    starts = n.GetInts("starts");
    ends = n.GetInts("ends");
    if (n.HasAttr("axes")) axes = n.GetInts("axes");
  } else {
    if (ctx.num_inputs() < 3) return InvalidArgument("{}: inputs 'starts' and 'ends' are required", n.Describe());
    for (size_t i = 1; i < 5; ++i) GREENAI_RETURN_IF_ERROR(CheckIndexType(ctx, i, "starts/ends/axes/steps"));
    starts = ValueInts(ctx, 1);
    ends = ValueInts(ctx, 2);
    bool unknown = !starts || !ends;
    if (ctx.Has(3)) {
      axes = ValueInts(ctx, 3);
      unknown |= !axes;
    }
    if (ctx.Has(4)) {
      steps = ValueInts(ctx, 4);
      unknown |= !steps;
    }
    if (unknown) {
      (*out)[0] = UnknownDims(x.dtype, x.rank());
      return Status::Ok();
    }
  }
  GREENAI_ASSIGN_OR_RETURN(SliceSpec s, ResolveSlice(n, x.dims, *starts, *ends, axes, steps));
  (*out)[0] = TensorType::Of(x.dtype, s.count);
  return Status::Ok();
}

Status InferGather(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  const TensorType& idx = ctx.inputs[1];
  GREENAI_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "indices"));
  if (!x.has_shape || !idx.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  if (x.rank() < 1) return InvalidArgument("{}: data is a scalar (expects rank >= 1)", ctx.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.node.GetInt("axis", 0), x.rank(), ctx.node.Describe()));
  Shape o(x.dims.begin(), x.dims.begin() + axis);
  o.insert(o.end(), idx.dims.begin(), idx.dims.end());
  o.insert(o.end(), x.dims.begin() + axis + 1, x.dims.end());
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferGatherElements(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  const TensorType& idx = ctx.inputs[1];
  GREENAI_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "indices"));
  if (x.has_shape && idx.has_shape) {
    if (x.rank() != idx.rank() || x.rank() < 1)
      return InvalidArgument("{}: indices have rank {} but data has rank {} (must match, >= 1)", ctx.node.Describe(),
                             idx.rank(), x.rank());
    GREENAI_RETURN_IF_ERROR(NormalizeAxis(ctx.node.GetInt("axis", 0), x.rank(), ctx.node.Describe()).status());
  }
  (*out)[0] = idx;
  (*out)[0].dtype = x.dtype;
  return Status::Ok();
}

Status InferGatherND(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  const TensorType& idx = ctx.inputs[1];
  if (ctx.Has(1) && idx.dtype != DType::kI64)
    return InvalidArgument("{}: indices have type {} (expects int64)", n.Describe(), DTypeName(idx.dtype));
  if (!x.has_shape || !idx.has_shape || idx.rank() < 1 || idx.dims.back() < 0) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  int64_t b = n.GetInt("batch_dims", 0);
  int64_t r = x.rank(), q = idx.rank(), k = idx.dims.back();
  if (b < 0 || b >= std::min(r, q))
    return InvalidArgument("{}: batch_dims {} must be in [0, min(data rank {}, indices rank {}))", n.Describe(), b, r, q);
  if (k > r - b)
    return InvalidArgument("{}: indices last dim {} exceeds data rank {} minus batch_dims {}", n.Describe(), k, r, b);
  for (int64_t i = 0; i < b; ++i) {
    int64_t a = x.dims[static_cast<size_t>(i)], c = idx.dims[static_cast<size_t>(i)];
    if (a >= 0 && c >= 0 && a != c)
      return InvalidArgument("{}: batch dim {} is {} in data but {} in indices", n.Describe(), i, a, c);
  }
  Shape o(idx.dims.begin(), idx.dims.end() - 1);
  o.insert(o.end(), x.dims.begin() + b + k, x.dims.end());
  (*out)[0] = TensorType::Of(x.dtype, o);
  return Status::Ok();
}

Status InferScatter(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  if (n.op_type != "ScatterND") GREENAI_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "indices"));
  else if (ctx.Has(1) && ctx.inputs[1].dtype != DType::kI64)
    return InvalidArgument("{}: indices have type {} (expects int64)", n.Describe(), DTypeName(ctx.inputs[1].dtype));
  if (ctx.inputs[2].dtype != ctx.inputs[0].dtype)
    return InvalidArgument("{}: updates have type {} but data has {}", n.Describe(), DTypeName(ctx.inputs[2].dtype),
                           DTypeName(ctx.inputs[0].dtype));
  std::string red = n.GetString("reduction", "none");
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    return InvalidArgument("{}: reduction '{}' is not one of none, add, mul, max, min", n.Describe(), red);
  (*out)[0] = ctx.inputs[0];
  return Status::Ok();
}

Status InferOneHot(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& idx = ctx.inputs[0];
  DType dt = ctx.inputs[2].dtype;
  if (ctx.inputs[2].has_shape && (ctx.inputs[2].rank() != 1 || (ctx.inputs[2].dims[0] >= 0 && ctx.inputs[2].dims[0] != 2)))
    return InvalidArgument("{}: values must be a 2-element vector [off, on]", n.Describe());
  if (!idx.has_shape) {
    (*out)[0] = UnknownShape(dt);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", -1), idx.rank() + 1, n.Describe()));
  int64_t depth = -1;
  if (const Tensor* d = ctx.Value(1)) {
    if (d->numel() != 1) return InvalidArgument("{}: depth has {} elements (expects a scalar)", n.Describe(), d->numel());
    double dv = d->GetAsDouble(0);
    if (!(dv >= 1) || dv > static_cast<double>(kMaxTensorElements))
      return InvalidArgument("{}: depth is {} (must be >= 1)", n.Describe(), dv);
    depth = static_cast<int64_t>(dv);
  }
  Shape o = idx.dims;
  o.insert(o.begin() + axis, depth);
  (*out)[0] = TensorType::Of(dt, o);
  return Status::Ok();
}

Status InferNonZero(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[0];
  (*out)[0] = x.has_shape ? TensorType::Of(DType::kI64, {std::max(1, x.rank()), -1}) : UnknownDims(DType::kI64, 2);
  return Status::Ok();
}

Status InferUnique(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  bool has_axis = n.HasAttr("axis");
  TensorType y = UnknownDims(x.dtype, 1), inv = UnknownDims(DType::kI64, 1);
  if (x.has_shape) {
    if (has_axis) {
      GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", 0), x.rank(), n.Describe()));
      y = TensorType::Of(x.dtype, x.dims);
      y.dims[static_cast<size_t>(axis)] = -1;
      inv = TensorType::Of(DType::kI64, {x.dims[static_cast<size_t>(axis)]});
    } else {
      double e = TypeElements(x);
      inv = TensorType::Of(DType::kI64, {x.IsFullyKnown() ? static_cast<int64_t>(e) : -1});
    }
  } else if (has_axis) {
    y = UnknownShape(x.dtype);
  }
  (*out)[0] = y;
  if (out->size() > 1) (*out)[1] = UnknownDims(DType::kI64, 1);
  if (out->size() > 2) (*out)[2] = inv;
  if (out->size() > 3) (*out)[3] = UnknownDims(DType::kI64, 1);
  return Status::Ok();
}

Status InferCompress(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  if (ctx.inputs[1].dtype != DType::kBool)
    return InvalidArgument("{}: condition has type {} (expects bool)", n.Describe(), DTypeName(ctx.inputs[1].dtype));
  if (ctx.inputs[1].has_shape && ctx.inputs[1].rank() != 1)
    return InvalidArgument("{}: condition has rank {} (expects 1-D)", n.Describe(), ctx.inputs[1].rank());
  if (!n.HasAttr("axis")) {
    (*out)[0] = UnknownDims(x.dtype, 1);
    return Status::Ok();
  }
  if (!x.has_shape) {
    (*out)[0] = UnknownShape(x.dtype);
    return Status::Ok();
  }
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(n.GetInt("axis", 0), x.rank(), n.Describe()));
  (*out)[0] = TensorType::Of(x.dtype, x.dims);
  (*out)[0].dims[static_cast<size_t>(axis)] = -1;
  return Status::Ok();
}

Status InferReverseSequence(const InferContext& ctx, std::vector<TensorType>* out) {
  const Node& n = ctx.node;
  const TensorType& x = ctx.inputs[0];
  int64_t ba = n.GetInt("batch_axis", 1), ta = n.GetInt("time_axis", 0);
  if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return InvalidArgument("{}: batch_axis {} and time_axis {} must be 0 and 1 in some order", n.Describe(), ba, ta);
  if (x.has_shape && x.rank() < 2)
    return InvalidArgument("{}: input has rank {} (expects >= 2)", n.Describe(), x.rank());
  GREENAI_RETURN_IF_ERROR(CheckIndexType(ctx, 1, "sequence_lens"));
  (*out)[0] = x;
  return Status::Ok();
}

}  // namespace

void AddIndexOps(std::vector<OpDef>& ops) {
  ops.push_back({"Concat", "", 4, 1, -1, 1, 1, InferConcat, MoveCost});
  ops.push_back({"Split", "", 2, 1, 2, 1, -1, InferSplit, MoveCost});
  ops.push_back({"Slice", "", 1, 1, 5, 1, 1, InferSlice, SubsetCost});
  ops.push_back({"Gather", "", 1, 2, 2, 1, 1, InferGather, SubsetCost});
  ops.push_back({"GatherElements", "", 11, 2, 2, 1, 1, InferGatherElements, SubsetCost});
  ops.push_back({"GatherND", "", 11, 2, 2, 1, 1, InferGatherND, SubsetCost});
  ops.push_back({"ScatterElements", "", 11, 3, 3, 1, 1, InferScatter, MoveCost});
  ops.push_back({"Scatter", "", 9, 3, 3, 1, 1, InferScatter, MoveCost});
  ops.push_back({"ScatterND", "", 11, 3, 3, 1, 1, InferScatter, MoveCost});
  ops.push_back({"OneHot", "", 9, 3, 3, 1, 1, InferOneHot, MoveCost});
  ops.push_back({"NonZero", "", 9, 1, 1, 1, 1, InferNonZero, MoveCost});
  ops.push_back({"Unique", "", 11, 1, 1, 1, 4, InferUnique, MoveCost});
  ops.push_back({"Compress", "", 9, 2, 2, 1, 1, InferCompress, SubsetCost});
  ops.push_back({"ReverseSequence", "", 10, 2, 2, 1, 1, InferReverseSequence, MoveCost});
}

}  // namespace greenai::tensorops
