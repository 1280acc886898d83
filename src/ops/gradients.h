// Gradient rules: for an op, how to build the nodes that compute its input gradients.
//
// Why a parallel registry instead of a field in OpDef: OpDef is initialized positionally in
// every ops/<family>.cc; adding a member would trip -Wmissing-field-initializers (-Werror)
// in all of them. So rules live here, keyed by (domain, op_type) like the op table, and
// register in ops/gradients*.cc. The op table stays the single source for shapes and costs;
// a rule only emits ops that the op table knows, so the backward graph runs on the same
// kernels, passes and profiler hooks as inference.
//
// Contract of a GradFn:
//  - ctx.node is the forward node; ctx.input_types / output_types its static types (from
//    whole-graph inference; dims may be -1).
//  - ctx.dy[i] names the gradient of output i ("" when no gradient flows into it).
//  - For every input i with ctx.needs[i], the rule sets (*dx)[i] to the name of a value in
//    the graph holding d loss / d input i, with the input's shape and dtype; it may leave
//    "" for inputs that need none (or integer inputs such as Reshape's shape).
//  - Rules append nodes through ctx.b (unique names, constants as initializers) and never
//    edit existing nodes, with one exception: a training-mode Dropout without a mask output
//    gets one named (it changes no value). Errors (an attribute combination the rule does
//    not handle) name the node and the rule.
//  - Backward computations ONNX has no op for are training ops in domain
//    "ai.greenai.training" (ops/training.cc lists them, with their kernels in
//    backends/cpu/training_ref*.cc and onednn_training.cc).
// Broadcasting: BroadcastGrad sums a gradient over the axes an operand was broadcast along,
// found from the operand's static shape alone: all leading axes the operand lacks, plus its
// size-1 axes (reducing a size-1 output axis is a no-op, so an unknown output dim is fine).
// An operand dim that is unknown (-1) is taken as not broadcast.
// Thread safety: the registry is immutable after first use.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"

namespace greenai {

// Appends nodes and constants to a graph under fresh names.
class GradBuilder {
 public:
  GradBuilder(Graph& g, int64_t opset) : g_(g), opset_(opset) {}
  // Adds `op_type` with `inputs`, one output; returns the output name. `set` may set attributes.
  std::string Emit(const std::string& op_type, std::vector<std::string> inputs,
                   const std::function<void(Node&)>& set = {}, const std::string& hint = "");
  // Initializer holding `t`; returns its name.
  std::string Const(Tensor t, const std::string& hint = "const");
  // Scalar constant of a float dtype (f32, f64, f16, bf16).
  std::string ScalarConst(DType dtype, double value);
  // ReduceSum over `axes` (opset-appropriate form); returns x itself when axes is empty.
  std::string ReduceSum(const std::string& x, const std::vector<int64_t>& axes, bool keepdims);
  Graph& graph() { return g_; }
  int64_t opset() const { return opset_; }

 private:
  Graph& g_;
  int64_t opset_;
};

struct GradContext {
  const Node& node;
  std::vector<TensorType> input_types;
  std::vector<TensorType> output_types;
  std::vector<std::string> dy;
  std::vector<bool> needs;
  GradBuilder& b;
};

using GradFn = Status (*)(GradContext& ctx, std::vector<std::string>* dx);

// Sums `grad`, whose static type is `grad_type` (the broadcast result), down to `operand`'s
// static type. Returns `grad` itself when nothing was broadcast.
Result<std::string> BroadcastGrad(GradBuilder& b, const std::string& grad, const TensorType& grad_type,
                                  const TensorType& operand, const std::string& what);

class GradientRegistry {
 public:
  static const GradientRegistry& Get();
  // domain "" and "ai.onnx" are the same; nullptr when the op has no rule.
  GradFn Find(std::string_view domain, std::string_view op_type) const;

 private:
  GradientRegistry();
  struct Entry {
    std::string_view domain, op;
    GradFn fn;
  };
  std::vector<Entry> rules_;
};

// Family registration, one per ops/gradients*.cc.
void AddBasicGradients(std::vector<std::pair<std::string_view, GradFn>>& rules);
void AddNnGradients(std::vector<std::pair<std::string_view, GradFn>>& rules);      // gradients_nn.cc
void AddTensorGradients(std::vector<std::pair<std::string_view, GradFn>>& rules);  // gradients_tensor.cc
void AddQuantGradients(std::vector<std::pair<std::string_view, GradFn>>& rules);   // gradients_quant.cc (STE)

}  // namespace greenai
