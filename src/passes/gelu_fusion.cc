// GeluFusion: the erf form of GELU as torch.onnx exports it below opset 20,
//   y = Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
// (any operand order of the commutative ops; Mul by 1/sqrt 2 instead of the Div), written on
// a float32 Gemm's output x, becomes that Gemm carrying greenai.activation = "Gelu"
// (passes.h). x may also be a Reshape of the Gemm's output (MatMulAddFusion's form for a
// [batch, seq, hidden] input): the Gelu moves before the Reshape, which commutes with it.
//
// Preserves: tolerance. The fused kernels compute 0.5 x (1 + erf(x / sqrt 2)) with x multiplied
// by 1/sqrt 2 and the products in another order: float rounding only.
// Why: a transformer's FFN ran five elementwise passes (Div, Erf, Add, Mul, Mul) over its
// widest activation after the GEMM; now the GEMM's activation runs one.
#include <cmath>
#include <unordered_set>

#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai {

namespace {

bool IsDefault(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// The scalar value of a constant float input, or NaN.
float ScalarOf(const Graph& g, const std::string& v) {
  if (!IsConstant(g, v)) return NAN;
  const Tensor* t = g.FindInitializer(v);
  if (!t || t->numel() != 1 || !IsFloatDType(t->dtype())) return NAN;
  return static_cast<float>(t->GetAsDouble(0));
}

bool Near(float v, double want) { return std::fabs(v - want) <= 1e-4 * std::fabs(want); }

class Matcher {
 public:
  explicit Matcher(Graph& g) : g_(g), uses_(g.BuildUseCounts()), consumers_(BuildConsumers(g)) {
    for (const auto& np : g.nodes())
      for (const auto& o : np->outputs) producer_[o] = np.get();
  }

  int Run() {
    int fused = 0;
    for (const auto& np : g_.nodes()) {
      Node& erf = *np;
      if (!IsDefault(erf) || erf.op_type != "Erf" || erf.inputs.size() != 1 || removed_.count(&erf)) continue;
      if (TryFuse(erf)) ++fused;
    }
    g_.RemoveNodesIf([&](const Node& n) { return removed_.count(&n) != 0; });
    return fused;
  }

 private:
  Node* Producer(const std::string& v) const {
    auto it = producer_.find(v);
    return it == producer_.end() ? nullptr : it->second;
  }
  // The only node reading v (once), v not a graph output.
  Node* Sole(const std::string& v) const {
    auto u = uses_.find(v);
    if (u == uses_.end() || u->second != 1 || g_.IsGraphOutput(v)) return nullptr;
    auto c = consumers_.find(v);
    return c == consumers_.end() || c->second.size() != 1 ? nullptr : c->second[0];
  }
  // For a binary node reading `v`: its other operand (empty when v is not exactly one of them).
  static std::string Other(const Node& n, const std::string& v) {
    if (n.inputs.size() != 2) return "";
    if (n.inputs[0] == v && n.inputs[1] != v) return n.inputs[1];
    if (n.inputs[1] == v && n.inputs[0] != v) return n.inputs[0];
    return "";
  }
  static bool Is(const Node* n, const char* op) { return n && IsDefault(*n) && n->op_type == op && n->outputs.size() == 1; }

  bool TryFuse(Node& erf) {
    Node* scale = Producer(erf.inputs[0]);  // Div(x, sqrt 2) or Mul(x, 1/sqrt 2)
    if (!(Is(scale, "Div") || Is(scale, "Mul")) || scale->inputs.size() != 2 || Sole(scale->outputs[0]) != &erf)
      return false;
    std::string x = scale->inputs[0], cst = scale->inputs[1];
    if (scale->op_type == "Mul" && IsConstant(g_, x)) std::swap(x, cst);
    const float c = ScalarOf(g_, cst);
    if (scale->op_type == "Div" ? !Near(c, std::sqrt(2.0)) : !Near(c, std::sqrt(0.5))) return false;
    Node* add = Sole(erf.outputs[0]);
    if (!Is(add, "Add") || !Near(ScalarOf(g_, Other(*add, erf.outputs[0])), 1.0)) return false;
    Node* mul = Sole(add->outputs[0]);
    if (!Is(mul, "Mul") || Other(*mul, add->outputs[0]) != x) return false;
    Node* half = Sole(mul->outputs[0]);
    if (!Is(half, "Mul") || !Near(ScalarOf(g_, Other(*half, mul->outputs[0])), 0.5)) return false;
    // x: read exactly by `scale` and `mul`.
    auto cx = consumers_.find(x);
    if (cx == consumers_.end() || cx->second.size() != 2 || uses_[x] != 2 || g_.IsGraphOutput(x)) return false;
    Node* gemm = Producer(x);
    Node* reshape = nullptr;
    if (Is(gemm, "Reshape")) {
      reshape = gemm;
      gemm = Producer(reshape->inputs[0]);
      if (!gemm || Sole(reshape->inputs[0]) != reshape) return false;
    }
    if (!Is(gemm, "Gemm") || !IsDefault(*gemm) || gemm->HasAttr(kAttrActivation) || removed_.count(gemm)) return false;
    auto ty = g_.value_types.find(gemm->outputs[0]);
    if (ty == g_.value_types.end() || ty->second.dtype != DType::kF32) return false;
    gemm->SetString(kAttrActivation, "Gelu");
    gemm->SetFloats(kAttrActivationParams, {});
    const std::string y = half->outputs[0];
    if (reshape) {
      reshape->outputs[0] = y;
    } else {
      g_.value_types.erase(gemm->outputs[0]);
      gemm->outputs[0] = y;
    }
    g_.value_types.erase(x);
    for (Node* n : {scale, &erf, add, mul, half}) removed_.insert(n);
    return true;
  }

  Graph& g_;
  std::unordered_map<std::string, int> uses_;
  std::unordered_map<std::string, std::vector<Node*>> consumers_;
  std::unordered_map<std::string, Node*> producer_;
  std::unordered_set<const Node*> removed_;
};

}  // namespace

Status GeluFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  (void)InferGraphTypes(g, DefaultOpset(model), /*strict=*/false);  // best effort: float32 only
  fused_ = Matcher(g).Run();
  return g.TopologicalSort();
}

}  // namespace greenai
