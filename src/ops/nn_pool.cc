// Op family nn, part 2: pooling ops (MaxPool, AveragePool, LpPool and their Global forms).
// See ops/op_table.h for the contract each OpDef follows.
#include "ops/nn_util.h"
#include "ops/op_table.h"
#include "ops/shape_util.h"

namespace greenai::nn {
namespace {

Status CheckPoolInput(const InferContext& ctx, bool allow_int8) {
  DType t = ctx.inputs[0].dtype;
  bool ok = IsFloatDType(t) || (allow_int8 && (t == DType::kI8 || t == DType::kU8));
  if (!ok)
    return InvalidArgument("{}: input X has dtype {} (expects a float type{})", ctx.node.Describe(), DTypeName(t),
                           allow_int8 ? ", int8 or uint8" : "");
  const TensorType& x = ctx.inputs[0];
  if (x.has_shape && x.rank() < 3)
    return InvalidArgument("{}: input X has rank {} (expects >= 3: N, C, spatial...)", ctx.node.Describe(), x.rank());
  return Status::Ok();
}

Status InferWindowPool(const InferContext& ctx, std::vector<TensorType>* outs, bool allow_int8) {
  GREENAI_RETURN_IF_ERROR(CheckPoolInput(ctx, allow_int8));
  const TensorType& x = ctx.inputs[0];
  (*outs)[0].dtype = x.dtype;
  if (outs->size() > 1) (*outs)[1].dtype = DType::kI64;
  if (!x.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(auto attrs, WindowAttrs::Parse(ctx.node, x.rank() - 2, {}, false));
  std::vector<int64_t> sp(x.dims.begin() + 2, x.dims.end());
  GREENAI_ASSIGN_OR_RETURN(auto g, ComputeForward(ctx.node, attrs, sp));
  Shape out{x.dims[0], x.dims[1]};
  out.insert(out.end(), g.out.begin(), g.out.end());
  (*outs)[0] = TensorType::Of(x.dtype, out);
  if (outs->size() > 1) (*outs)[1] = TensorType::Of(DType::kI64, out);
  return Status::Ok();
}

Status InferMaxPool(const InferContext& ctx, std::vector<TensorType>* outs) {
  int64_t so = ctx.node.GetInt("storage_order", 0);
  if (so != 0 && so != 1)
    return InvalidArgument("{}: storage_order={} must be 0 (row major) or 1 (column major)", ctx.node.Describe(), so);
  return InferWindowPool(ctx, outs, true);
}
Status InferAveragePool(const InferContext& ctx, std::vector<TensorType>* outs) {
  return InferWindowPool(ctx, outs, false);
}
Status InferLpPool(const InferContext& ctx, std::vector<TensorType>* outs) {
  if (ctx.node.GetInt("p", 2) < 1)
    return InvalidArgument("{}: p={} must be >= 1", ctx.node.Describe(), ctx.node.GetInt("p", 2));
  return InferWindowPool(ctx, outs, false);
}

Status InferGlobalPool(const InferContext& ctx, std::vector<TensorType>* outs) {
  GREENAI_RETURN_IF_ERROR(CheckPoolInput(ctx, false));
  const TensorType& x = ctx.inputs[0];
  (*outs)[0].dtype = x.dtype;
  if (!x.has_shape) return Status::Ok();
  Shape out(x.dims.size(), 1);
  out[0] = x.dims[0];
  out[1] = x.dims[1];
  (*outs)[0] = TensorType::Of(x.dtype, out);
  return Status::Ok();
}

// MaxUnpool: output spatial dim = (in-1)*stride + kernel - pads, unless output_shape is given.
Status InferMaxUnpool(const InferContext& ctx, std::vector<TensorType>* outs) {
  const Node& n = ctx.node;
  GREENAI_RETURN_IF_ERROR(CheckPoolInput(ctx, false));
  if (ctx.inputs[1].dtype != DType::kI64)
    return InvalidArgument("{}: input I has dtype {} (expects int64)", n.Describe(), DTypeName(ctx.inputs[1].dtype));
  const TensorType& x = ctx.inputs[0];
  (*outs)[0].dtype = x.dtype;
  if (ctx.Has(2)) {
    const Tensor* v = ctx.Value(2);
    if (!v) return Status::Ok();
    Shape s = TensorToInts(*v);
    if (x.has_shape && static_cast<int>(s.size()) != x.rank())
      return InvalidArgument("{}: output_shape has {} values but X has rank {}", n.Describe(), s.size(), x.rank());
    for (int64_t d : s)
      if (d < 0) return InvalidArgument("{}: output_shape {} has a negative dim", n.Describe(), ShapeToString(s));
    (*outs)[0] = TensorType::Of(x.dtype, s);
    return Status::Ok();
  }
  if (!x.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(auto a, WindowAttrs::Parse(n, x.rank() - 2, {}, false));
  Shape out{x.dims[0], x.dims[1]};
  for (size_t i = 0; i < static_cast<size_t>(a.nsp); ++i) {
    int64_t in = x.dims[i + 2];
    out.push_back(in < 0 ? -1 : (in - 1) * a.strides[i] + a.kernel[i] - a.pads_begin[i] - a.pads_end[i]);
    if (in >= 0 && out.back() < 1)
      return InvalidArgument("{}: output spatial dim {} would be {} (must be >= 1)", n.Describe(), i, out.back());
  }
  (*outs)[0] = TensorType::Of(x.dtype, out);
  return Status::Ok();
}

OpCost CostWindowPool(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = InputBytes(ctx);
  c.bytes_written = OutputBytes(outs);
  if (!outs[0].IsFullyKnown()) return c;
  // One compare/add per window element; the window size comes from kernel_shape.
  std::vector<int64_t> k = ctx.node.GetInts("kernel_shape");
  c.flops = TypeElements(outs[0]) * static_cast<double>(Prod(k));
  return c;
}

OpCost CostGlobalPool(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c;
  c.bytes_read = InputBytes(ctx);
  c.bytes_written = OutputBytes(outs);
  c.flops = TypeElements(ctx.inputs[0]);
  return c;
}

}  // namespace

void AddPoolOps(std::vector<OpDef>& ops) {
  ops.push_back({"MaxPool", "", 1, 1, 1, 1, 2, InferMaxPool, CostWindowPool});
  ops.push_back({"AveragePool", "", 1, 1, 1, 1, 1, InferAveragePool, CostWindowPool});
  ops.push_back({"LpPool", "", 1, 1, 1, 1, 1, InferLpPool, CostWindowPool});
  ops.push_back({"MaxUnpool", "", 9, 2, 3, 1, 1, InferMaxUnpool, nullptr});
  ops.push_back({"GlobalAveragePool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
  ops.push_back({"GlobalMaxPool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
  ops.push_back({"GlobalLpPool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
}

}  // namespace greenai::nn
