// Gradient rules for the nn ops: SoftmaxCrossEntropyLoss, Conv, MaxPool, AveragePool,
// GlobalAveragePool, BatchNormalization (training and inference form), LayerNormalization,
// Softmax, LogSoftmax. Backward computations ONNX has no op for go to the training ops of
// ops/training.cc (domain ai.greenai.training), which copy the forward node's attributes so
// kernels parse the geometry exactly as the forward kernels do. See gradients.h.
#include <algorithm>
#include <numeric>

#include "ops/gradients.h"
#include "ops/gradients_internal.h"

namespace greenai {
namespace grad {

std::vector<std::string> EmitTraining(GradContext& c, const std::string& op, std::vector<std::string> inputs,
                                      const std::vector<bool>& want, bool copy_attrs,
                                      const std::function<void(Node&)>& set) {
  Graph& g = c.b.graph();
  std::vector<std::string> outs;
  // UniqueName only avoids names already in the graph, so each slot gets its own base.
  for (size_t i = 0; i < want.size(); ++i)
    outs.push_back(want[i] ? g.UniqueName("grad_" + op + "_" + std::to_string(i)) : "");
  while (!outs.empty() && outs.back().empty()) outs.pop_back();
  Node* n = g.AddNode(op, std::move(inputs), outs, g.UniqueName("grad_" + op + "_node"));
  n->domain = std::string(kTrainingDomain);
  if (copy_attrs) n->attributes = c.node.attributes;
  if (set) set(*n);
  outs.resize(want.size());
  return outs;
}

DType FloatType(const GradContext& c) {
  for (const auto& t : c.input_types)
    if (IsFloatDType(t.dtype)) return t.dtype;
  return DType::kF32;
}

Status NoGradInto(const GradContext& c, size_t out, const char* what) {
  if (out < c.dy.size() && !c.dy[out].empty())
    return Unimplemented("{}: gradient through its {} output is not supported", c.node.Describe(), what);
  return Status::Ok();
}

}  // namespace grad

namespace {

using grad::EmitTraining;

Status SceGrad(GradContext& c, std::vector<std::string>* dx) {
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 1, "log_prob"));
  if (c.needs.size() > 2 && c.needs[2])
    return Unimplemented("{}: gradient with respect to the class weights is not supported", c.node.Describe());
  std::vector<std::string> in{c.dy[0], c.node.inputs[0], c.node.inputs[1]};
  if (c.node.HasInput(2)) in.push_back(c.node.inputs[2]);
  (*dx)[0] = EmitTraining(c, "SoftmaxCrossEntropyLossGrad", in, {true}, /*copy_attrs=*/true)[0];
  return Status::Ok();
}

Status ConvGrad(GradContext& c, std::vector<std::string>* dx) {
  if (c.node.HasAttr("greenai.activation"))
    return Unimplemented("{}: gradient of a fused activation; differentiate the unfused graph", c.node.Describe());
  const bool has_b = c.node.HasInput(2);
  std::vector<bool> want{c.needs[0], c.needs[1], has_b && c.needs[2]};
  auto outs = EmitTraining(c, "ConvGrad", {c.dy[0], c.node.inputs[0], c.node.inputs[1]}, want, true);
  for (size_t i = 0; i < 3 && i < dx->size(); ++i) (*dx)[i] = outs[i];
  return Status::Ok();
}

Status MaxPoolGrad(GradContext& c, std::vector<std::string>* dx) {
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 1, "Indices"));
  (*dx)[0] = EmitTraining(c, "MaxPoolGrad", {c.dy[0], c.node.inputs[0]}, {true}, true)[0];
  return Status::Ok();
}

Status AveragePoolGrad(GradContext& c, std::vector<std::string>* dx) {
  (*dx)[0] = EmitTraining(c, "AveragePoolGrad", {c.dy[0], c.node.inputs[0]}, {true}, true)[0];
  return Status::Ok();
}

// Y = mean over spatial dims: dX = expand(dY) / (spatial size).
Status GlobalAveragePoolGrad(GradContext& c, std::vector<std::string>* dx) {
  const TensorType& xt = c.input_types[0];
  if (!xt.has_shape || xt.rank() < 3)
    return Unimplemented("{}: gradient needs X's static rank (>= 3)", c.node.Describe());
  double count = 1;
  for (int i = 2; i < xt.rank(); ++i) {
    const int64_t d = xt.dims[static_cast<size_t>(i)];
    if (d < 0) return Unimplemented("{}: gradient needs X's spatial dims statically known", c.node.Describe());
    count *= static_cast<double>(d);
  }
  const std::string e = c.b.Emit("Expand", {c.dy[0], c.b.Emit("Shape", {c.node.inputs[0]})});
  (*dx)[0] = c.b.Emit("Mul", {e, c.b.ScalarConst(xt.dtype, 1.0 / count)});
  return Status::Ok();
}

Status BatchNormGrad(GradContext& c, std::vector<std::string>* dx) {
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 1, "running_mean"));
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 2, "running_var"));
  size_t nout = 0;
  for (size_t i = 0; i < c.node.outputs.size(); ++i)
    if (c.node.HasOutput(i)) nout = i + 1;
  if (nout > 3) return Unimplemented("{}: saved_mean/saved_var outputs (opset < 14) are not supported", c.node.Describe());
  const bool training = c.b.opset() >= 14 ? c.node.GetInt("training_mode", 0) != 0 : nout > 1;
  if (!training && (c.needs[3] || c.needs[4]))
    return Unimplemented("{}: gradient with respect to input_mean/input_var (inference form) is not supported",
                         c.node.Describe());
  std::vector<std::string> outs(3);
  if (c.needs[0] || c.needs[1] || c.needs[2])
    outs = EmitTraining(c, "BatchNormalizationGrad",
                       {c.dy[0], c.node.inputs[0], c.node.inputs[1], c.node.inputs[3], c.node.inputs[4]},
                       {c.needs[0], c.needs[1], c.needs[2]}, false, [&](Node& n) {
                         n.SetFloat("epsilon", c.node.GetFloat("epsilon", 1e-5f));
                         n.SetInt("training_mode", training ? 1 : 0);
                       });
  for (size_t i = 0; i < 3; ++i) (*dx)[i] = outs[i];
  // In training mode Y does not depend on the running statistics fed in.
  for (size_t i = 3; i < 5; ++i)
    if (c.needs[i]) (*dx)[i] = c.b.Emit("Mul", {c.node.inputs[i], c.b.ScalarConst(c.input_types[i].dtype, 0.0)});
  return Status::Ok();
}

Status LayerNormGrad(GradContext& c, std::vector<std::string>* dx) {
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 1, "Mean"));
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 2, "InvStdDev"));
  const bool has_b = c.node.HasInput(2);
  auto outs = EmitTraining(c, "LayerNormalizationGrad", {c.dy[0], c.node.inputs[0], c.node.inputs[1]},
                           {c.needs[0], c.needs[1], has_b && c.needs[2]}, true);
  for (size_t i = 0; i < 3 && i < dx->size(); ++i) (*dx)[i] = outs[i];
  if (has_b && c.needs[2]) {
    // dBias has scale's shape; a B broadcast to fewer dims sums over the rest.
    GREENAI_ASSIGN_OR_RETURN((*dx)[2], BroadcastGrad(c.b, outs[2], c.input_types[1], c.input_types[2],
                                                     c.node.Describe() + " input B"));
  }
  return Status::Ok();
}

Status SoftmaxLikeGrad(GradContext& c, std::vector<std::string>* dx) {
  const TensorType& yt = c.output_types[0];
  const bool legacy = c.b.opset() < 13;
  int64_t axis = c.node.GetInt("axis", legacy ? 1 : -1);
  if (legacy) {
    // Before opset 13 the op flattened to 2-D at `axis`; that equals the per-axis form only on the last axis.
    if (!yt.has_shape)
      return Unimplemented("{}: opset {} gradient needs the static rank", c.node.Describe(), c.b.opset());
    const int64_t r = yt.rank();
    if ((axis < 0 ? axis + r : axis) != r - 1)
      return Unimplemented("{}: opset {} coerces to 2-D at axis {}; only the last axis is supported", c.node.Describe(),
                           c.b.opset(), axis);
    axis = r - 1;
  }
  const std::string op = c.node.op_type == "Softmax" ? "SoftmaxGrad" : "LogSoftmaxGrad";
  (*dx)[0] = EmitTraining(c, op, {c.dy[0], c.node.outputs[0]}, {true}, false,
                          [&](Node& n) { n.SetInt("axis", axis); })[0];
  return Status::Ok();
}

}  // namespace

void AddNnGradients(std::vector<std::pair<std::string_view, GradFn>>& rules) {
  rules.emplace_back("SoftmaxCrossEntropyLoss", SceGrad);
  rules.emplace_back("Conv", ConvGrad);
  rules.emplace_back("MaxPool", MaxPoolGrad);
  rules.emplace_back("AveragePool", AveragePoolGrad);
  rules.emplace_back("GlobalAveragePool", GlobalAveragePoolGrad);
  rules.emplace_back("BatchNormalization", BatchNormGrad);
  rules.emplace_back("LayerNormalization", LayerNormGrad);
  rules.emplace_back("Softmax", SoftmaxLikeGrad);
  rules.emplace_back("LogSoftmax", SoftmaxLikeGrad);
}

}  // namespace greenai
