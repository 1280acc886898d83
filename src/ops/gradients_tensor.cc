// Gradient rules for activations and tensor ops: Gelu, Erf, LeakyRelu, Dropout, Concat, Slice,
// Gather, ReduceSum, ReduceMean. Where a standard op does the job exactly it is used (Split for
// Concat, Unsqueeze + Expand for the reductions, Where for Dropout's mask); scatters with
// repeated indices and strided slices go to the training ops SliceGrad/GatherGrad.
// See gradients.h for the contract.
#include <cmath>
#include <numeric>
#include <optional>

#include "ops/gradients.h"
#include "ops/gradients_internal.h"
#include "ops/shape_util.h"

namespace greenai {
namespace {

using grad::EmitTraining;

// Value of a constant input (initializer), or nullptr.
const Tensor* ConstInput(GradContext& c, size_t i) {
  return c.node.HasInput(i) ? c.b.graph().FindInitializer(c.node.inputs[i]) : nullptr;
}

std::string IntsConst(GradBuilder& b, const std::vector<int64_t>& v, const std::string& hint) {
  return b.Const(Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v), hint);
}

Status GeluGrad(GradContext& c, std::vector<std::string>* dx) {
  (*dx)[0] = EmitTraining(c, "GeluGrad", {c.dy[0], c.node.inputs[0]}, {true}, true)[0];
  return Status::Ok();
}

// d erf(x) = 2/sqrt(pi) * exp(-x^2)
Status ErfGrad(GradContext& c, std::vector<std::string>* dx) {
  const std::string& x = c.node.inputs[0];
  const DType t = grad::FloatType(c);
  const std::string e = c.b.Emit("Exp", {c.b.Emit("Neg", {c.b.Emit("Mul", {x, x})})});
  const std::string d = c.b.Emit("Mul", {e, c.b.ScalarConst(t, 2.0 / std::sqrt(M_PI))});
  (*dx)[0] = c.b.Emit("Mul", {c.dy[0], d});
  return Status::Ok();
}

Status LeakyReluGrad(GradContext& c, std::vector<std::string>* dx) {
  const DType t = grad::FloatType(c);
  if (t == DType::kF32 || t == DType::kF64) {  // one fused pass (ReluGrad kernels handle f32/f64)
    (*dx)[0] = EmitTraining(c, "ReluGrad", {c.dy[0], c.node.inputs[0]}, {true}, false,
                            [&](Node& n) { n.SetFloat("alpha", c.node.GetFloat("alpha", 0.01f)); })[0];
    return Status::Ok();
  }
  const double alpha = c.node.GetFloat("alpha", 0.01f);
  const std::string pos = c.b.Emit("Greater", {c.node.inputs[0], c.b.ScalarConst(t, 0.0)});
  const std::string neg = c.b.Emit("Mul", {c.dy[0], c.b.ScalarConst(t, alpha)});
  (*dx)[0] = c.b.Emit("Where", {pos, c.dy[0], neg});
  return Status::Ok();
}

// Training Dropout: Y = X * mask / (1 - ratio), so dX = where(mask, dY / (1 - ratio), 0). The
// mask is the node's second output; when the forward node has none, this rule names one (the
// one edit a rule makes to a forward node: it adds an output and changes no value).
Status DropoutGrad(GradContext& c, std::vector<std::string>* dx) {
  GREENAI_RETURN_IF_ERROR(grad::NoGradInto(c, 1, "mask"));
  const DType t = grad::FloatType(c);
  const bool new_style = c.b.opset() >= 12;
  const Tensor* tm = new_style ? ConstInput(c, 2) : nullptr;
  const bool never_training = !new_style || !c.node.HasInput(2) || (tm && tm->numel() == 1 && tm->GetAsDouble(0) == 0);
  if (never_training) {  // inference form: identity
    (*dx)[0] = c.b.Emit("Identity", {c.dy[0]});
    return Status::Ok();
  }
  double ratio = 0.5;
  if (c.node.HasInput(1)) {
    const Tensor* r = ConstInput(c, 1);
    if (!r || r->numel() != 1)
      return Unimplemented("{}: gradient needs a constant scalar ratio", c.node.Describe());
    ratio = r->GetAsDouble(0);
  }
  if (!(ratio >= 0 && ratio < 1))
    return InvalidArgument("{}: ratio {} is outside [0, 1)", c.node.Describe(), ratio);
  std::string mask = c.node.HasOutput(1) ? c.node.outputs[1] : "";
  if (mask.empty()) {
    Graph& g = c.b.graph();
    mask = g.UniqueName(c.node.outputs[0] + "_mask");
    for (auto& n : g.mutable_nodes())
      if (n.get() == &c.node) {
        n->outputs.resize(2);
        n->outputs[1] = mask;
      }
  }
  std::string scale = c.b.ScalarConst(t, 1.0 / (1.0 - ratio));
  if (!tm) scale = c.b.Emit("Where", {c.node.inputs[2], scale, c.b.ScalarConst(t, 1.0)});  // runtime switch
  (*dx)[0] = c.b.Emit("Where", {mask, c.b.Emit("Mul", {c.dy[0], scale}), c.b.ScalarConst(t, 0.0)});
  return Status::Ok();
}

// Concat: split dY back into the inputs' extents along the axis (static sizes).
Status ConcatGrad(GradContext& c, std::vector<std::string>* dx) {
  const TensorType& yt = c.output_types[0];
  if (!yt.has_shape) return Unimplemented("{}: gradient needs the static rank", c.node.Describe());
  GREENAI_ASSIGN_OR_RETURN(int64_t axis, NormalizeAxis(c.node.GetInt("axis", 0), yt.rank(), c.node.Describe()));
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < c.input_types.size(); ++i) {
    const TensorType& t = c.input_types[i];
    const int64_t d = t.has_shape && t.rank() == yt.rank() ? t.dims[static_cast<size_t>(axis)] : -1;
    if (d < 0)
      return Unimplemented("{}: gradient needs input {}'s size along axis {} statically known", c.node.Describe(), i,
                           axis);
    sizes.push_back(d);
  }
  Graph& g = c.b.graph();
  std::vector<std::string> outs;
  for (size_t i = 0; i < sizes.size(); ++i) outs.push_back(g.UniqueName("grad_concat_" + std::to_string(i)));
  std::vector<std::string> in{c.dy[0]};
  if (c.b.opset() >= 13) in.push_back(IntsConst(c.b, sizes, "grad_split"));
  Node* n = g.AddNode("Split", in, outs, g.UniqueName("grad_split_node"));
  n->SetInt("axis", axis);
  if (c.b.opset() < 13) n->SetInts("split", sizes);
  for (size_t i = 0; i < outs.size(); ++i)
    if (c.needs[i]) (*dx)[i] = outs[i];
  return Status::Ok();
}

Status SliceGrad(GradContext& c, std::vector<std::string>* dx) {
  std::vector<std::string> in{c.dy[0], c.b.Emit("Shape", {c.node.inputs[0]})};
  if (c.b.opset() >= 10) {
    for (size_t i = 1; i < 5; ++i) in.push_back(c.node.HasInput(i) ? c.node.inputs[i] : "");
    while (in.back().empty()) in.pop_back();
  } else {
    in.push_back(IntsConst(c.b, c.node.GetInts("starts"), "grad_starts"));
    in.push_back(IntsConst(c.b, c.node.GetInts("ends"), "grad_ends"));
    if (c.node.HasAttr("axes")) in.push_back(IntsConst(c.b, c.node.GetInts("axes"), "grad_axes"));
  }
  (*dx)[0] = EmitTraining(c, "SliceGrad", in, {true}, false)[0];
  return Status::Ok();
}

Status GatherGrad(GradContext& c, std::vector<std::string>* dx) {
  (*dx)[0] = EmitTraining(c, "GatherGrad", {c.dy[0], c.node.inputs[1], c.b.Emit("Shape", {c.node.inputs[0]})}, {true},
                          false, [&](Node& n) { n.SetInt("axis", c.node.GetInt("axis", 0)); })[0];
  return Status::Ok();
}

// ReduceSum / ReduceMean: dX = expand(unsqueeze(dY)) (times 1/count for the mean).
Status ReduceGrad(GradContext& c, std::vector<std::string>* dx) {
  const bool mean = c.node.op_type == "ReduceMean";
  const bool axes_input = c.b.opset() >= (mean ? 18 : 13);
  const TensorType& xt = c.input_types[0];
  std::vector<int64_t> axes;
  if (axes_input && c.node.HasInput(1)) {
    const Tensor* a = ConstInput(c, 1);
    if (!a) return Unimplemented("{}: gradient needs constant axes", c.node.Describe());
    axes = TensorToInts(*a);
  } else if (!axes_input) {
    axes = c.node.GetInts("axes");
  }
  if (axes.empty() && c.node.GetInt("noop_with_empty_axes", 0) != 0) {
    (*dx)[0] = c.b.Emit("Identity", {c.dy[0]});
    return Status::Ok();
  }
  if (!xt.has_shape) return Unimplemented("{}: gradient needs X's static rank", c.node.Describe());
  const int r = xt.rank();
  if (axes.empty()) {
    axes.resize(static_cast<size_t>(r));
    std::iota(axes.begin(), axes.end(), 0);
  }
  for (int64_t& a : axes) {
    GREENAI_ASSIGN_OR_RETURN(int64_t na, NormalizeAxis(a, r, c.node.Describe()));
    a = na;
  }
  std::sort(axes.begin(), axes.end());
  std::string g = c.dy[0];
  if (c.node.GetInt("keepdims", 1) == 0 && !axes.empty()) {
    if (c.b.opset() >= 13) {
      g = c.b.Emit("Unsqueeze", {g, IntsConst(c.b, axes, "grad_axes")});
    } else {
      g = c.b.Emit("Unsqueeze", {g}, [&](Node& n) { n.SetInts("axes", axes); });
    }
  }
  g = c.b.Emit("Expand", {g, c.b.Emit("Shape", {c.node.inputs[0]})});
  if (mean) {
    double count = 1;
    bool known = true;
    for (int64_t a : axes) {
      const int64_t d = xt.dims[static_cast<size_t>(a)];
      known = known && d >= 0;
      count *= static_cast<double>(d);
    }
    if (known) {
      g = c.b.Emit("Mul", {g, c.b.ScalarConst(xt.dtype, count > 0 ? 1.0 / count : 0.0)});
    } else {
      if (c.b.opset() < 15)
        return Unimplemented("{}: gradient with unknown reduced dims needs opset >= 15 (CastLike)", c.node.Describe());
      // 1/count = size(Y) / size(X), computed at run time.
      const std::string sy = c.b.Emit("CastLike", {c.b.Emit("Size", {c.node.outputs[0]}), c.dy[0]});
      const std::string sx = c.b.Emit("CastLike", {c.b.Emit("Size", {c.node.inputs[0]}), c.dy[0]});
      g = c.b.Emit("Mul", {g, c.b.Emit("Div", {sy, sx})});
    }
  }
  (*dx)[0] = g;
  return Status::Ok();
}

}  // namespace

void AddTensorGradients(std::vector<std::pair<std::string_view, GradFn>>& rules) {
  rules.emplace_back("Gelu", GeluGrad);
  rules.emplace_back("Erf", ErfGrad);
  rules.emplace_back("LeakyRelu", LeakyReluGrad);
  rules.emplace_back("Dropout", DropoutGrad);
  rules.emplace_back("Concat", ConcatGrad);
  rules.emplace_back("Slice", SliceGrad);
  rules.emplace_back("Gather", GatherGrad);
  rules.emplace_back("ReduceSum", ReduceGrad);
  rules.emplace_back("ReduceMean", ReduceGrad);
}

}  // namespace greenai
