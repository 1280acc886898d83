// Op family: reductions (Reduce*, ArgMax/ArgMin, TopK), softmax family (Softmax,
// LogSoftmax, Hardmax) and CumSum. See ops/op_table.h for the contract each OpDef follows.
//
// FLOP convention (see ops/elementwise.cc): per element of the input, 1 FLOP for
// Sum/Mean/Max/Min/Prod/L1 (one accumulate), 2 for SumSquare/L2 (mul + add), 3 for
// LogSumExp (sub, exp, add); the final per-output op (divide, sqrt, log) is ignored.
// Softmax: 5 per element (max, sub, exp, add, div); LogSoftmax 5; Hardmax 1.
// TopK: n * log2(k + 1) compares per input row.
#include <algorithm>
#include <cmath>

#include "ops/elementwise_internal.h"
#include "ops/shape_util.h"

namespace greenai {
namespace ew {

Result<ReduceAxes> ResolveReduceAxes(const Node& node, int rank, bool axes_input_present, const Tensor* axes_value) {
  ReduceAxes r;
  r.keepdims = node.GetInt("keepdims", 1) != 0;
  bool noop_empty = node.GetInt("noop_with_empty_axes", 0) != 0;
  std::vector<int64_t> axes;
  if (axes_input_present) {
    if (!axes_value) {
      r.known = false;
      return r;
    }
    if (axes_value->dtype() != DType::kI64 && axes_value->dtype() != DType::kI32)
      return InvalidArgument("{}: axes input is {} (expects int64)", node.Describe(), DTypeName(axes_value->dtype()));
    axes = TensorToInts(*axes_value);
  } else {
    axes = node.GetInts("axes");
  }
  r.reduce.assign(static_cast<size_t>(rank), false);
  if (axes.empty()) {
    if (noop_empty) {
      r.noop = true;
      return r;
    }
    r.reduce.assign(static_cast<size_t>(rank), true);
    return r;
  }
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return InvalidArgument("{}: axis {} is out of range for rank {} (expects [-{}, {}))", node.Describe(), a, rank,
                             rank, rank);
    r.reduce[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  return r;
}

std::vector<int64_t> ReducedDims(const std::vector<int64_t>& in, const ReduceAxes& ax) {
  if (ax.noop) return in;
  std::vector<int64_t> out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!ax.reduce[i]) out.push_back(in[i]);
    else if (ax.keepdims) out.push_back(1);
  }
  return out;
}

Result<SoftmaxAxis> ResolveSoftmaxAxis(const Node& node, int64_t opset, int64_t rank) {
  SoftmaxAxis s;
  s.coerce_2d = opset != 0 && opset < 13;
  int64_t axis = node.GetInt("axis", s.coerce_2d ? 1 : -1);
  // A 0-D input is treated as 1-D by both conventions.
  GREENAI_ASSIGN_OR_RETURN(s.axis, NormalizeAxis(axis, std::max<int64_t>(rank, 1), node.Describe()));
  return s;
}

}  // namespace ew

namespace {

Status InferReduce(const InferContext& ctx, std::vector<TensorType>* outputs) {
  const TensorType& in = ctx.inputs[0];
  TensorType& o = (*outputs)[0];
  o.dtype = in.dtype;
  if (!in.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(ew::ReduceAxes ax, ew::ResolveReduceAxes(ctx.node, in.rank(), ctx.Has(1), ctx.Value(1)));
  if (!ax.known) {
    if (ax.keepdims) {
      o.has_shape = true;
      o.dims.assign(in.dims.size(), -1);
    }
    return Status::Ok();
  }
  o.has_shape = true;
  o.dims = ew::ReducedDims(in.dims, ax);
  return Status::Ok();
}

Status InferArg(const InferContext& ctx, std::vector<TensorType>* outputs) {
  const TensorType& in = ctx.inputs[0];
  TensorType& o = (*outputs)[0];
  o.dtype = DType::kI64;
  if (!in.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.node.GetInt("axis", 0), in.rank(), ctx.node.Describe()));
  bool keep = ctx.node.GetInt("keepdims", 1) != 0;
  o.has_shape = true;
  for (int i = 0; i < in.rank(); ++i) {
    if (i != axis) o.dims.push_back(in.dims[static_cast<size_t>(i)]);
    else if (keep) o.dims.push_back(1);
  }
  if (in.rank() > 0 && in.dims[static_cast<size_t>(axis)] == 0)
    return InvalidArgument("{}: cannot take {} over an empty axis {}", ctx.node.Describe(), ctx.node.op_type, axis);
  return Status::Ok();
}

Status InferTopK(const InferContext& ctx, std::vector<TensorType>* outputs) {
  const TensorType& in = ctx.inputs[0];
  (*outputs)[0].dtype = in.dtype;
  if (outputs->size() > 1) (*outputs)[1].dtype = DType::kI64;
  if (!in.has_shape) return Status::Ok();
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(ctx.node.GetInt("axis", -1), in.rank(), ctx.node.Describe()));
  int64_t k = -1;
  if (ctx.Has(1)) {
    if (const Tensor* kt = ctx.Value(1)) {
      if (kt->numel() != 1 || (kt->dtype() != DType::kI64 && kt->dtype() != DType::kI32))
        return InvalidArgument("{}: K must be a 1-element int64 tensor (got {} with {} elements)", ctx.node.Describe(),
                               DTypeName(kt->dtype()), kt->numel());
      k = TensorToInts(*kt)[0];
    }
  } else {
    k = ctx.node.GetInt("k", -1);
    if (k < 0) return InvalidArgument("{}: attribute k is required before opset 10", ctx.node.Describe());
  }
  int64_t n = in.dims[static_cast<size_t>(axis)];
  if (k < 0 && k != -1) return InvalidArgument("{}: K = {} (expects >= 0)", ctx.node.Describe(), k);
  if (k >= 0 && n >= 0 && k > n)
    return InvalidArgument("{}: K = {} exceeds axis {} size {}", ctx.node.Describe(), k, axis, n);
  for (auto& o : *outputs) {
    o.has_shape = true;
    o.dims = in.dims;
    o.dims[static_cast<size_t>(axis)] = k;
  }
  return Status::Ok();
}

Status InferSoftmax(const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (ctx.inputs[0].has_shape)
    GREENAI_RETURN_IF_ERROR(ew::ResolveSoftmaxAxis(ctx.node, ctx.opset, ctx.inputs[0].rank()).status());
  return InferSameAsInput0(ctx, outputs);
}

Status InferCumSum(const InferContext& ctx, std::vector<TensorType>* outputs) {
  if (ctx.inputs[1].IsFullyKnown() && TypeElements(ctx.inputs[1]) != 1)
    return InvalidArgument("{}: axis input has shape {} (expects a scalar)", ctx.node.Describe(),
                           ctx.inputs[1].ToString());
  return InferSameAsInput0(ctx, outputs);
}

OpCost TopKCost(const InferContext& ctx, const std::vector<TensorType>& outputs) {
  OpCost c = DefaultCost(ctx, outputs);
  c.flops = 0;
  const TensorType& in = ctx.inputs[0];
  if (outputs.empty() || !outputs[0].IsFullyKnown() || !in.IsFullyKnown()) return c;
  auto axis = NormalizeAxis(ctx.node.GetInt("axis", -1), in.rank(), ctx.node.Describe());
  if (!axis.ok()) return c;
  double k = static_cast<double>(outputs[0].dims[static_cast<size_t>(*axis)]);
  c.flops = TypeElements(in) * std::log2(k + 1);
  return c;
}

}  // namespace

void AddReduceOps(std::vector<OpDef>& ops) {
  using ew::CostPerInput;
  auto reduce = [&](std::string_view n, CostFn cost) {
    ops.push_back(OpDef{n, "", 1, 1, 2, 1, 1, InferReduce, cost});
  };
  for (auto n : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1"})
    reduce(n, CostPerInput<1>);
  for (auto n : {"ReduceSumSquare", "ReduceL2", "ReduceLogSum"}) reduce(n, CostPerInput<2>);
  reduce("ReduceLogSumExp", CostPerInput<3>);
  ops.push_back(OpDef{"ArgMax", "", 1, 1, 1, 1, 1, InferArg, CostPerInput<1>});
  ops.push_back(OpDef{"ArgMin", "", 1, 1, 1, 1, 1, InferArg, CostPerInput<1>});
  ops.push_back(OpDef{"TopK", "", 1, 1, 2, 2, 2, InferTopK, TopKCost});
  ops.push_back(OpDef{"Softmax", "", 1, 1, 1, 1, 1, InferSoftmax, CostPerInput<5>});
  ops.push_back(OpDef{"LogSoftmax", "", 1, 1, 1, 1, 1, InferSoftmax, CostPerInput<5>});
  ops.push_back(OpDef{"Hardmax", "", 1, 1, 1, 1, 1, InferSoftmax, CostPerInput<1>});
  ops.push_back(OpDef{"CumSum", "", 11, 2, 2, 1, 1, InferCumSum, CostPerInput<1>});
}

}  // namespace greenai
