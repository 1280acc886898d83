// Gradient rules for the first ops (Gemm, MatMul, Add/Sub/Mul/Div, Relu, Sigmoid, Tanh,
// Reshape, Flatten, Transpose) and the registry. See gradients.h for the contract.
#include "ops/gradients.h"

#include <algorithm>
#include <numeric>

namespace greenai {

std::string GradBuilder::Emit(const std::string& op_type, std::vector<std::string> inputs,
                              const std::function<void(Node&)>& set, const std::string& hint) {
  std::string out = g_.UniqueName(hint.empty() ? "grad_" + op_type : hint);
  Node* n = g_.AddNode(op_type, std::move(inputs), {out}, g_.UniqueName(out + "_node"));
  if (set) set(*n);
  return out;
}

std::string GradBuilder::Const(Tensor t, const std::string& hint) {
  std::string name = g_.UniqueName(hint);
  g_.AddInitializer(name, std::move(t));
  return name;
}

std::string GradBuilder::ScalarConst(DType dtype, double value) {
  Tensor t;
  switch (dtype) {
    case DType::kF64: t = Tensor::Scalar<double>(value); break;
    case DType::kF16: t = Tensor::Scalar<Float16>(Float16(static_cast<float>(value))); break;
    case DType::kBF16: t = Tensor::Scalar<BFloat16>(BFloat16(static_cast<float>(value))); break;
    default: t = Tensor::Scalar<float>(static_cast<float>(value)); break;
  }
  return Const(std::move(t), "grad_scalar");
}

std::string GradBuilder::ReduceSum(const std::string& x, const std::vector<int64_t>& axes, bool keepdims) {
  if (axes.empty()) return x;
  if (opset_ >= 13) {
    std::string ax = Const(Tensor::FromVector<int64_t>({static_cast<int64_t>(axes.size())}, axes), "grad_axes");
    return Emit("ReduceSum", {x, ax}, [&](Node& n) { n.SetInt("keepdims", keepdims ? 1 : 0); });
  }
  return Emit("ReduceSum", {x}, [&](Node& n) {
    n.SetInts("axes", axes);
    n.SetInt("keepdims", keepdims ? 1 : 0);
  });
}

Result<std::string> BroadcastGrad(GradBuilder& b, const std::string& grad, const TensorType& grad_type,
                                  const TensorType& operand, const std::string& what) {
  if (!operand.has_shape || !grad_type.has_shape)
    return Unimplemented("{}: gradient needs static ranks to undo broadcasting, but {} is unknown", what,
                         operand.has_shape ? "the result's rank" : "the operand's rank");
  const int r = operand.rank(), out_rank = grad_type.rank();
  if (out_rank < r)
    return Internal("{}: result of rank {} is smaller than the operand's rank {}", what, out_rank, r);
  std::vector<int64_t> lead(static_cast<size_t>(out_rank - r));
  std::iota(lead.begin(), lead.end(), 0);
  std::string g = b.ReduceSum(grad, lead, /*keepdims=*/false);
  std::vector<int64_t> ones;
  for (int i = 0; i < r; ++i) {
    const int64_t od = grad_type.dims[static_cast<size_t>(out_rank - r + i)];
    if (operand.dims[static_cast<size_t>(i)] == 1 && od != 1) ones.push_back(i);
  }
  return b.ReduceSum(g, ones, /*keepdims=*/true);
}

namespace {

DType FloatTypeOf(const GradContext& c) {
  return c.input_types.empty() ? DType::kF32 : c.input_types[0].dtype;
}

Status BinaryGrad(GradContext& c, std::vector<std::string>* dx) {
  const std::string& dy = c.dy[0];
  const std::string& A = c.node.inputs[0];
  const std::string& B = c.node.inputs[1];
  const std::string& op = c.node.op_type;
  const TensorType& yt = c.output_types[0];
  for (size_t i = 0; i < 2; ++i) {
    if (!c.needs[i]) continue;
    std::string g;
    if (op == "Add") {
      g = dy;
    } else if (op == "Sub") {
      g = i == 0 ? dy : c.b.Emit("Neg", {dy});
    } else if (op == "Mul") {
      g = c.b.Emit("Mul", {dy, i == 0 ? B : A});
    } else {  // Div: y = a / b; da = dy / b; db = -dy * y / b
      g = i == 0 ? c.b.Emit("Div", {dy, B})
                 : c.b.Emit("Neg", {c.b.Emit("Div", {c.b.Emit("Mul", {dy, c.node.outputs[0]}), B})});
    }
    GREENAI_ASSIGN_OR_RETURN((*dx)[i], BroadcastGrad(c.b, g, yt, c.input_types[i],
                                                     c.node.Describe() + " input " + std::to_string(i)));
  }
  return Status::Ok();
}

Status GemmGrad(GradContext& c, std::vector<std::string>* dx) {
  const std::string& dy = c.dy[0];
  const std::string& A = c.node.inputs[0];
  const std::string& B = c.node.inputs[1];
  const int64_t ta = c.node.GetInt("transA", 0), tb = c.node.GetInt("transB", 0);
  const float alpha = c.node.GetFloat("alpha", 1.0f), beta = c.node.GetFloat("beta", 1.0f);
  auto gemm = [&](const std::string& x, const std::string& y, int64_t tx, int64_t ty) {
    return c.b.Emit("Gemm", {x, y}, [&](Node& n) {
      n.SetInt("transA", tx);
      n.SetInt("transB", ty);
      if (alpha != 1.0f) n.SetFloat("alpha", alpha);
    });
  };
  // With A' = op(A), B' = op(B): dA' = alpha dY B'^T and dB' = alpha A'^T dY; transposed
  // operands take the transpose of those products, written as Gemm flags (no Transpose nodes).
  if (c.needs[0]) (*dx)[0] = ta ? gemm(B, dy, tb, 1) : gemm(dy, B, 0, tb ? 0 : 1);
  if (c.needs[1]) (*dx)[1] = tb ? gemm(dy, A, 1, ta) : gemm(A, dy, ta ? 0 : 1, 0);
  if (c.needs.size() > 2 && c.needs[2]) {
    std::string g = dy;
    if (beta != 1.0f) g = c.b.Emit("Mul", {dy, c.b.ScalarConst(FloatTypeOf(c), beta)});
    GREENAI_ASSIGN_OR_RETURN((*dx)[2], BroadcastGrad(c.b, g, c.output_types[0], c.input_types[2],
                                                     c.node.Describe() + " input C"));
  }
  return Status::Ok();
}

// Swaps the last two axes of a value of rank r.
std::string SwapLast2(GradBuilder& b, const std::string& x, int r) {
  std::vector<int64_t> perm(static_cast<size_t>(r));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[static_cast<size_t>(r - 2)], perm[static_cast<size_t>(r - 1)]);
  return b.Emit("Transpose", {x}, [&](Node& n) { n.SetInts("perm", perm); });
}

Status MatMulGrad(GradContext& c, std::vector<std::string>* dx) {
  const TensorType &at = c.input_types[0], &bt = c.input_types[1], &yt = c.output_types[0];
  if (!at.has_shape || !bt.has_shape || !yt.has_shape)
    return Unimplemented("{}: MatMul gradient needs static ranks of A, B and Y", c.node.Describe());
  if (at.rank() < 2 || bt.rank() < 2)
    return Unimplemented("{}: MatMul gradient with a 1-D operand (A rank {}, B rank {}) is not supported yet",
                         c.node.Describe(), at.rank(), bt.rank());
  const std::string& dy = c.dy[0];
  const int yr = yt.rank();
  // Type of an un-reduced operand gradient: Y's batch dims, then the operand's matrix dims.
  auto full = [&](const TensorType& op) {
    TensorType t = yt;
    t.dims[static_cast<size_t>(yr - 2)] = op.dims[static_cast<size_t>(op.rank() - 2)];
    t.dims[static_cast<size_t>(yr - 1)] = op.dims[static_cast<size_t>(op.rank() - 1)];
    t.dim_params.clear();
    return t;
  };
  if (c.needs[0]) {
    std::string g = c.b.Emit("MatMul", {dy, SwapLast2(c.b, c.node.inputs[1], bt.rank())});
    GREENAI_ASSIGN_OR_RETURN((*dx)[0], BroadcastGrad(c.b, g, full(at), at, c.node.Describe() + " input A"));
  }
  if (c.needs[1]) {
    std::string g = c.b.Emit("MatMul", {SwapLast2(c.b, c.node.inputs[0], at.rank()), dy});
    GREENAI_ASSIGN_OR_RETURN((*dx)[1], BroadcastGrad(c.b, g, full(bt), bt, c.node.Describe() + " input B"));
  }
  return Status::Ok();
}

Status ReluGrad(GradContext& c, std::vector<std::string>* dx) {
  const DType t = FloatTypeOf(c);
  if (t == DType::kF32 || t == DType::kF64) {  // one fused pass: training op ReluGrad (ops/training.cc)
    const std::string out = c.b.graph().UniqueName("grad_ReluGrad");
    Node* n = c.b.graph().AddNode("ReluGrad", {c.dy[0], c.node.inputs[0]}, {out}, c.b.graph().UniqueName(out + "_node"));
    n->domain = "ai.greenai.training";
    (*dx)[0] = out;
    return Status::Ok();
  }
  const std::string zero = c.b.ScalarConst(t, 0.0);
  const std::string pos = c.b.Emit("Greater", {c.node.inputs[0], zero});
  (*dx)[0] = c.b.Emit("Where", {pos, c.dy[0], zero});
  return Status::Ok();
}

Status SigmoidGrad(GradContext& c, std::vector<std::string>* dx) {
  const std::string& y = c.node.outputs[0];
  const std::string one = c.b.ScalarConst(FloatTypeOf(c), 1.0);
  const std::string d = c.b.Emit("Mul", {y, c.b.Emit("Sub", {one, y})});
  (*dx)[0] = c.b.Emit("Mul", {c.dy[0], d});
  return Status::Ok();
}

Status TanhGrad(GradContext& c, std::vector<std::string>* dx) {
  const std::string& y = c.node.outputs[0];
  const std::string one = c.b.ScalarConst(FloatTypeOf(c), 1.0);
  const std::string d = c.b.Emit("Sub", {one, c.b.Emit("Mul", {y, y})});
  (*dx)[0] = c.b.Emit("Mul", {c.dy[0], d});
  return Status::Ok();
}

// Reshape and Flatten only move data: reshape the gradient back to X's runtime shape.
Status ReshapeLikeInputGrad(GradContext& c, std::vector<std::string>* dx) {
  if (c.b.opset() < 5)
    return Unimplemented("{}: gradient needs opset >= 5 (Reshape with a shape input), model has {}",
                         c.node.Describe(), c.b.opset());
  const std::string shape = c.b.Emit("Shape", {c.node.inputs[0]});
  const bool allowzero = c.b.opset() >= 14;  // a 0 in X's shape means size 0, not "copy"
  (*dx)[0] = c.b.Emit("Reshape", {c.dy[0], shape}, [&](Node& n) {
    if (allowzero) n.SetInt("allowzero", 1);
  });
  return Status::Ok();
}

Status TransposeGrad(GradContext& c, std::vector<std::string>* dx) {
  std::vector<int64_t> perm = c.node.GetInts("perm");
  if (perm.empty()) {  // reversed axes: its own inverse
    (*dx)[0] = c.b.Emit("Transpose", {c.dy[0]});
    return Status::Ok();
  }
  std::vector<int64_t> inv(perm.size(), -1);
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(perm.size()) || inv[static_cast<size_t>(perm[i])] != -1)
      return InvalidArgument("{}: perm is not a permutation of 0..{}", c.node.Describe(), perm.size() - 1);
    inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  }
  (*dx)[0] = c.b.Emit("Transpose", {c.dy[0]}, [&](Node& n) { n.SetInts("perm", inv); });
  return Status::Ok();
}

}  // namespace

void AddBasicGradients(std::vector<std::pair<std::string_view, GradFn>>& rules) {
  for (auto op : {"Add", "Sub", "Mul", "Div"}) rules.emplace_back(op, BinaryGrad);
  rules.emplace_back("Gemm", GemmGrad);
  rules.emplace_back("MatMul", MatMulGrad);
  rules.emplace_back("Relu", ReluGrad);
  rules.emplace_back("Sigmoid", SigmoidGrad);
  rules.emplace_back("Tanh", TanhGrad);
  rules.emplace_back("Reshape", ReshapeLikeInputGrad);
  rules.emplace_back("Flatten", ReshapeLikeInputGrad);
  rules.emplace_back("Transpose", TransposeGrad);
}

GradientRegistry::GradientRegistry() {
  std::vector<std::pair<std::string_view, GradFn>> rules;
  AddBasicGradients(rules);
  AddNnGradients(rules);
  AddTensorGradients(rules);
  AddQuantGradients(rules);
  for (auto& [op, fn] : rules) rules_.push_back(Entry{"", op, fn});
}

const GradientRegistry& GradientRegistry::Get() {
  static const GradientRegistry* r = new GradientRegistry();
  return *r;
}

GradFn GradientRegistry::Find(std::string_view domain, std::string_view op_type) const {
  if (domain == "ai.onnx") domain = "";
  for (const auto& e : rules_)
    if (e.domain == domain && e.op == op_type) return e.fn;
  return nullptr;
}

}  // namespace greenai
