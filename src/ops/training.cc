// Training-only ops (domain "ai.greenai.training"): backward computations that ONNX has no
// op for. They are emitted by the gradient rules (ops/gradients_*.cc) and never appear in an
// exported inference model. Each copies the forward node's attributes, so geometry and
// semantics are parsed by the same helpers as the forward op (ops/nn_util.h).
//
//   SoftmaxCrossEntropyLossGrad(dL, scores, labels[, weight]) -> dScores
//       attrs reduction, ignore_index (as the forward); softmax is recomputed from scores.
//   ConvGrad(dY, X, W) -> (dX, dW, dB)              attrs of the Conv; any output may be ""
//   MaxPoolGrad(dY, X) -> dX                        attrs of the MaxPool (first max wins)
//   AveragePoolGrad(dY, X) -> dX                    attrs of the AveragePool; X gives the shape
//   BatchNormalizationGrad(dY, X, scale, mean, var) -> (dX, dScale, dB)
//       training_mode=1: batch statistics recomputed from X (mean/var inputs unused);
//       training_mode=0: the given mean/var are constants.
//   LayerNormalizationGrad(dY, X, scale) -> (dX, dScale, dBias)   attrs axis, epsilon
//   SoftmaxGrad(dY, Y) / LogSoftmaxGrad(dY, Y) -> dX              attr axis (opset 13 form)
//   GeluGrad(dY, X) -> dX                                          attr approximate
//   ReluGrad(dY, X) -> dX = X > 0 ? dY : alpha * dY               attr alpha (0: Relu; LeakyRelu's alpha)
//   SliceGrad(dY, shape, starts, ends[, axes[, steps]]) -> dX     zeros of `shape`, dY scattered
//   GatherGrad(dY, indices, shape) -> dX                           attr axis; scatter-add
#include <algorithm>

#include "ops/nn_util.h"
#include "ops/op_table.h"
#include "ops/shape_util.h"

namespace greenai {
namespace {

constexpr std::string_view kDomain = "ai.greenai.training";

Status SameAs(const InferContext& ctx, size_t in, TensorType* out) {
  if (!ctx.Has(in)) return InvalidArgument("{}: input {} is missing", ctx.node.Describe(), in);
  *out = ctx.inputs[in];
  return Status::Ok();
}

Status InferSce(const InferContext& ctx, std::vector<TensorType>* out) {
  return SameAs(ctx, 1, &(*out)[0]);
}

Status InferConvGrad(const InferContext& ctx, std::vector<TensorType>* out) {
  const TensorType& x = ctx.inputs[1];
  const TensorType& w = ctx.inputs[2];
  if (x.has_shape && w.has_shape && x.rank() != w.rank())
    return InvalidArgument("{}: X has rank {} but W has rank {} (must match)", ctx.node.Describe(), x.rank(),
                           w.rank());
  (*out)[0] = x;
  if (out->size() > 1) (*out)[1] = w;
  if (out->size() > 2) {
    (*out)[2] = TensorType::Of(w.dtype, {w.has_shape && w.rank() > 0 ? w.dims[0] : -1});
  }
  return Status::Ok();
}

Status InferSecond(const InferContext& ctx, std::vector<TensorType>* out) { return SameAs(ctx, 1, &(*out)[0]); }

Status InferFirst(const InferContext& ctx, std::vector<TensorType>* out) { return SameAs(ctx, 0, &(*out)[0]); }

// (dX, dScale, dBias): X's type, then scale's type for the others.
Status InferNormGrad(const InferContext& ctx, std::vector<TensorType>* out) {
  GREENAI_RETURN_IF_ERROR(SameAs(ctx, 1, &(*out)[0]));
  for (size_t i = 1; i < out->size(); ++i) GREENAI_RETURN_IF_ERROR(SameAs(ctx, 2, &(*out)[i]));
  return Status::Ok();
}

// Output of dY's dtype whose shape is the value of input `shape_in` (a 1-D int64 tensor).
Status InferFromShapeInput(const InferContext& ctx, size_t shape_in, std::vector<TensorType>* out) {
  TensorType t;
  t.dtype = ctx.inputs[0].dtype;
  if (const Tensor* v = ctx.Value(shape_in)) {
    if (v->rank() != 1)
      return InvalidArgument("{}: shape input has rank {} (expects 1)", ctx.node.Describe(), v->rank());
    std::vector<int64_t> dims = TensorToInts(*v);
    for (int64_t d : dims)
      if (d < 0) return InvalidArgument("{}: shape input holds {} (expects sizes >= 0)", ctx.node.Describe(), d);
    t = TensorType::Of(t.dtype, dims);
  } else if (ctx.inputs[shape_in].has_shape && ctx.inputs[shape_in].rank() == 1 &&
             ctx.inputs[shape_in].dims[0] >= 0) {
    t = TensorType::Of(t.dtype, std::vector<int64_t>(static_cast<size_t>(ctx.inputs[shape_in].dims[0]), -1));
  }
  (*out)[0] = t;
  return Status::Ok();
}

Status InferSliceGrad(const InferContext& ctx, std::vector<TensorType>* out) {
  return InferFromShapeInput(ctx, 1, out);
}
Status InferGatherGrad(const InferContext& ctx, std::vector<TensorType>* out) {
  return InferFromShapeInput(ctx, 2, out);
}

// Backward of a conv: dX and dW each cost one forward conv's MACs; dB one pass over dY.
OpCost CostConvGrad(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  const TensorType& w = ctx.inputs[2];
  const double wn = TypeElements(w);
  const double m = w.IsFullyKnown() && w.rank() > 0 ? static_cast<double>(std::max<int64_t>(w.dims[0], 1)) : 1;
  const double fwd = TypeElements(ctx.inputs[0]) * wn / m;
  c.macs = 0;
  for (size_t i = 0; i < 2 && i < ctx.node.outputs.size(); ++i)
    if (ctx.node.HasOutput(i)) c.macs += fwd;
  c.flops = 2 * c.macs + TypeElements(ctx.inputs[0]);
  return c;
}

// Window pools: every dY element touches its window (max re-finds the arg max).
OpCost CostPoolGrad(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  double k = 1;
  for (int64_t v : ctx.node.GetInts("kernel_shape")) k *= static_cast<double>(v);
  c.flops = TypeElements(ctx.inputs[0]) * k * (ctx.node.op_type == "MaxPoolGrad" ? 2 : 1) + TypeElements(outs[0]);
  return c;
}

// Normalization backward: about 8 flops per element (two reductions and the dX formula).
OpCost CostNormGrad(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = 8 * TypeElements(ctx.inputs[1]);
  return c;
}

OpCost CostElementwiseGrad(const InferContext& ctx, const std::vector<TensorType>& outs) {
  OpCost c = DefaultCost(ctx, outs);
  c.flops = 4 * TypeElements(outs[0]);
  return c;
}

}  // namespace

void AddTrainingOps(std::vector<OpDef>& ops) {
  ops.push_back({"SoftmaxCrossEntropyLossGrad", kDomain, 1, 3, 4, 1, 1, InferSce, CostElementwiseGrad});
  ops.push_back({"ConvGrad", kDomain, 1, 3, 3, 1, 3, InferConvGrad, CostConvGrad});
  ops.push_back({"MaxPoolGrad", kDomain, 1, 2, 2, 1, 1, InferSecond, CostPoolGrad});
  ops.push_back({"AveragePoolGrad", kDomain, 1, 2, 2, 1, 1, InferSecond, CostPoolGrad});
  ops.push_back({"BatchNormalizationGrad", kDomain, 1, 5, 5, 1, 3, InferNormGrad, CostNormGrad});
  ops.push_back({"LayerNormalizationGrad", kDomain, 1, 3, 3, 1, 3, InferNormGrad, CostNormGrad});
  ops.push_back({"SoftmaxGrad", kDomain, 1, 2, 2, 1, 1, InferFirst, CostElementwiseGrad});
  ops.push_back({"LogSoftmaxGrad", kDomain, 1, 2, 2, 1, 1, InferFirst, CostElementwiseGrad});
  ops.push_back({"GeluGrad", kDomain, 1, 2, 2, 1, 1, InferFirst, CostElementwiseGrad});
  ops.push_back({"ReluGrad", kDomain, 1, 2, 2, 1, 1, InferFirst, CostElementwiseGrad});
  ops.push_back({"SliceGrad", kDomain, 1, 4, 6, 1, 1, InferSliceGrad, nullptr});
  ops.push_back({"GatherGrad", kDomain, 1, 3, 3, 1, 1, InferGatherGrad, nullptr});
}

}  // namespace greenai
