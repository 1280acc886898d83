// Op family nn, part 2: pooling ops (MaxPool, AveragePool, LpPool and their Global forms).
// See ops/op_table.h for the contract each OpDef follows.
#include "ops/nn_util.h"
#include "ops/op_table.h"

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
  ops.push_back({"GlobalAveragePool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
  ops.push_back({"GlobalMaxPool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
  ops.push_back({"GlobalLpPool", "", 1, 1, 1, 1, 1, InferGlobalPool, CostGlobalPool});
}

}  // namespace greenai::nn
