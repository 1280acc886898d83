// MatMulAddFusion, ActivationFusion, ResidualFusion and UnfuseActivations: see passes/passes.h.
#include <cmath>
#include <limits>
#include <unordered_set>

#include "ops/conv_add.h"
#include "ops/layout.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai {

namespace {

bool IsDefault(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// The single node reading `value`, when exactly one node reads it exactly once and it is
// not a graph output; else nullptr.
Node* SoleConsumer(const Graph& g, const std::string& value,
                   const std::unordered_map<std::string, int>& uses,
                   const std::unordered_map<std::string, std::vector<Node*>>& consumers) {
  auto u = uses.find(value);
  if (u == uses.end() || u->second != 1 || g.IsGraphOutput(value)) return nullptr;
  auto c = consumers.find(value);
  return c == consumers.end() || c->second.size() != 1 ? nullptr : c->second[0];
}

bool ScalarConstant(const Graph& g, const Node& n, size_t i, float* out) {
  if (!n.HasInput(i)) return true;  // omitted: caller keeps its default
  if (!IsConstant(g, n.inputs[i])) return false;
  const Tensor* t = g.FindInitializer(n.inputs[i]);
  if (t->numel() != 1 || !IsFloatDType(t->dtype())) return false;
  *out = static_cast<float>(t->GetAsDouble(0));
  return true;
}

// Activation parameters in the fused form, or false when `act` cannot be fused.
bool ActivationParams(const Graph& g, const Node& act, int64_t opset, std::vector<float>* params) {
  if (!IsDefault(act) || act.outputs.size() != 1) return false;
  const std::string& op = act.op_type;
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" ||
      (op == "Gelu" && act.GetString("approximate", "none") == "none")) {  // Gelu: opset 20
    params->clear();
    return true;
  }
  if (op == "LeakyRelu") {
    *params = {act.GetFloat("alpha", 0.01f)};
    return true;
  }
  if (op == "Clip") {
    float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
    if (opset < 11) {
      lo = act.GetFloat("min", lo);
      hi = act.GetFloat("max", hi);
    } else if (!ScalarConstant(g, act, 1, &lo) || !ScalarConstant(g, act, 2, &hi)) {
      return false;
    }
    *params = {lo, hi};
    return true;
  }
  return false;
}

}  // namespace

Status MatMulAddFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  InferenceReport ignored;  // best effort: only the rank of A matters here
  (void)InferGraphTypes(g, DefaultOpset(model), /*strict=*/false, &ignored);
  auto uses = g.BuildUseCounts();
  auto consumers = BuildConsumers(g);
  std::unordered_set<const Node*> removed;
  struct ReshapeNode {
    std::string in, shape, out, name;
  };
  std::vector<ReshapeNode> reshapes;
  for (const auto& np : g.nodes()) {
    Node& mm = *np;
    if (!IsDefault(mm) || mm.op_type != "MatMul" || mm.inputs.size() != 2 || mm.outputs.size() != 1) continue;
    const std::string& a = mm.inputs[0];
    const std::string& w = mm.inputs[1];
    if (a.empty() || !IsConstant(g, w)) continue;
    const Tensor& wt = *g.FindInitializer(w);
    if (wt.rank() != 2 || (wt.dtype() != DType::kF32 && wt.dtype() != DType::kF64)) continue;
    auto at = g.value_types.find(a);
    const Tensor* a_init = g.FindInitializer(a);
    int a_rank = a_init ? a_init->rank() : (at != g.value_types.end() && at->second.has_shape ? at->second.rank() : -1);
    // Rank >= 3 (a transformer's [batch, seq, hidden] activations): only with every dim known,
    // so the Reshapes around the Gemm get constant shapes (they run as views).
    const bool batched = a_rank >= 3 && !a_init && at->second.IsFullyKnown() && at->second.dims.back() == wt.dim(0);
    if (a_rank != 2 && !batched) continue;
    Node* add = SoleConsumer(g, mm.outputs[0], uses, consumers);
    if (!add || removed.count(add) || !IsDefault(*add) || add->op_type != "Add" || add->inputs.size() != 2 ||
        add->outputs.size() != 1)
      continue;
    const std::string& bias = add->inputs[0] == mm.outputs[0] ? add->inputs[1] : add->inputs[0];
    if (!IsConstant(g, bias)) continue;
    const Tensor& bt = *g.FindInitializer(bias);
    const int64_t n = wt.dim(1);
    bool bias_ok = bt.dtype() == wt.dtype() && bt.numel() == n &&
                   ((bt.rank() == 1) || (bt.rank() == 2 && bt.dim(0) == 1));
    if (!bias_ok) continue;
    // Rewrite the MatMul in place so its position (topological order) stays valid. `a` and
    // `w` refer into mm.inputs: not used after it is reassigned.
    g.value_types.erase(mm.outputs[0]);
    mm.op_type = "Gemm";
    mm.attributes.clear();
    mm.inputs = {a, w, bias};
    mm.outputs = {add->outputs[0]};
    if (mm.name.empty()) mm.name = add->name;
    if (batched) {
      // Reshape(A, [M, K]) -> Gemm -> Reshape(Y2, A.dims[:-1] + [N]); the caller sorts.
      std::vector<int64_t> out_dims = at->second.dims;
      const int64_t k = out_dims.back();
      out_dims.back() = n;
      const std::string base = mm.name.empty() ? add->outputs[0] : mm.name;
      const std::string a2 = g.UniqueName(base + "_a2d"), y2 = g.UniqueName(base + "_y2d");
      const std::string s_in = g.UniqueName(base + "_a2d_shape"), s_out = g.UniqueName(base + "_y_shape");
      g.AddInitializer(s_in, Tensor::FromVector<int64_t>({2}, {-1, k}));
      g.AddInitializer(s_out, Tensor::FromVector<int64_t>({static_cast<int64_t>(out_dims.size())}, out_dims));
      // Added after the loop: adding nodes now would invalidate the iteration over nodes().
      reshapes.push_back({mm.inputs[0], s_in, a2, g.UniqueName(base + "_a2d")});
      reshapes.push_back({y2, s_out, add->outputs[0], g.UniqueName(base + "_y")});
      mm.inputs[0] = a2;
      mm.outputs[0] = y2;
    }
    removed.insert(add);
    ++fused_;
  }
  g.RemoveNodesIf([&](const Node& n) { return removed.count(&n) != 0; });
  for (const ReshapeNode& r : reshapes) g.AddNode("Reshape", {r.in, r.shape}, {r.out}, r.name);
  return g.TopologicalSort();
}

Status ActivationFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  const int64_t opset = DefaultOpset(model);
  (void)InferGraphTypes(g, opset, /*strict=*/false);  // best effort: only float32 outputs are fused
  auto uses = g.BuildUseCounts();
  auto consumers = BuildConsumers(g);
  std::unordered_set<const Node*> removed;
  for (const auto& np : g.nodes()) {
    Node& n = *np;
    if (!IsDefault(n) || (n.op_type != "Conv" && n.op_type != "Gemm") || n.outputs.size() != 1) continue;
    if (n.HasAttr(kAttrActivation) || removed.count(&n)) continue;
    auto ty = g.value_types.find(n.outputs[0]);
    if (ty == g.value_types.end() || ty->second.dtype != DType::kF32) continue;
    Node* act = SoleConsumer(g, n.outputs[0], uses, consumers);
    if (!act || removed.count(act) || act->inputs.empty() || act->inputs[0] != n.outputs[0]) continue;
    std::vector<float> params;
    if (!ActivationParams(g, *act, opset, &params)) continue;
    n.SetString(kAttrActivation, act->op_type);
    n.SetFloats(kAttrActivationParams, params);
    g.value_types.erase(n.outputs[0]);
    n.outputs[0] = act->outputs[0];
    removed.insert(act);
    ++fused_;
  }
  g.RemoveNodesIf([&](const Node& n) { return removed.count(&n) != 0; });
  return Status::Ok();
}

Status ResidualFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  const int64_t opset = DefaultOpset(model);
  (void)InferGraphTypes(g, opset, /*strict=*/false);  // shapes decide; unknown ones are left alone
  auto uses = g.BuildUseCounts();
  auto consumers = BuildConsumers(g);
  auto type = [&](const std::string& v) -> const TensorType* {
    auto it = g.value_types.find(v);
    return it == g.value_types.end() || !it->second.has_shape ? nullptr : &it->second;
  };
  // Equal shapes for every run: each dim known and equal, or unknown in both under one name
  // (a symbolic batch "N"); anything else might broadcast.
  auto same_shape = [](const TensorType& a, const TensorType& b) {
    if (a.rank() != b.rank()) return false;
    for (size_t i = 0; i < a.dims.size(); ++i) {
      if (a.dims[i] >= 0 || b.dims[i] >= 0) {
        if (a.dims[i] != b.dims[i]) return false;
        continue;
      }
      const std::string pa = i < a.dim_params.size() ? a.dim_params[i] : "";
      const std::string pb = i < b.dim_params.size() ? b.dim_params[i] : "";
      if (pa.empty() || pa != pb) return false;
    }
    return true;
  };
  std::unordered_set<const Node*> removed;
  for (const auto& np : g.nodes()) {
    Node& conv = *np;
    if (!IsDefault(conv) || conv.op_type != "Conv" || conv.outputs.size() != 1 || conv.inputs.size() < 2 ||
        conv.HasAttr(kAttrActivation) || HasLayoutMark(conv) || removed.count(&conv))
      continue;
    const TensorType* ct = type(conv.outputs[0]);
    if (!ct || ct->dtype != DType::kF32) continue;
    Node* add = SoleConsumer(g, conv.outputs[0], uses, consumers);
    if (!add || removed.count(add) || !IsDefault(*add) || add->op_type != "Add" || add->inputs.size() != 2 ||
        add->outputs.size() != 1 || add->inputs[0] == add->inputs[1])
      continue;
    const std::string z = add->inputs[0] == conv.outputs[0] ? add->inputs[1] : add->inputs[0];
    const TensorType *zt = type(z), *at = type(add->outputs[0]);
    if (!zt || !at || zt->dtype != ct->dtype || !same_shape(*zt, *ct) || !same_shape(*at, *ct) || IsConstant(g, z))
      continue;
    conv.domain = std::string(kGreenaiDomain);
    conv.op_type = std::string(kConvAdd);
    conv.inputs.resize(kConvAddZ, "");  // B stays where it was, or becomes an omitted input
    conv.inputs.push_back(z);
    g.value_types.erase(conv.outputs[0]);
    conv.outputs[0] = add->outputs[0];
    removed.insert(add);
    ++fused_;
    Node* act = SoleConsumer(g, conv.outputs[0], uses, consumers);
    std::vector<float> params;
    if (act && !removed.count(act) && !act->inputs.empty() && act->inputs[0] == conv.outputs[0] &&
        ActivationParams(g, *act, opset, &params) && act->op_type != "Gelu") {
      conv.SetString(kAttrActivation, act->op_type);
      conv.SetFloats(kAttrActivationParams, params);
      g.value_types.erase(conv.outputs[0]);
      conv.outputs[0] = act->outputs[0];
      removed.insert(act);
    }
  }
  if (fused_ == 0) return Status::Ok();
  g.RemoveNodesIf([&](const Node& n) { return removed.count(&n) != 0; });
  return g.TopologicalSort();  // Z may come from a node after the convolution
}

Status UnfuseActivations(Model& model) {
  Graph& g = *model.graph;
  const int64_t opset = DefaultOpset(model);
  auto& nodes = g.mutable_nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& n = *nodes[i];
    if (!n.HasAttr(kAttrActivation)) continue;
    const std::string op = n.GetString(kAttrActivation, "");
    const std::vector<float> params = n.GetFloats(kAttrActivationParams);
    const bool known = op == "Relu" || op == "Sigmoid" || op == "Tanh" || (op == "LeakyRelu" && params.size() == 1) ||
                       (op == "Clip" && params.size() == 2) || (op == "Gelu" && params.empty());
    if (!known || n.outputs.size() != 1)
      return InvalidArgument("{}: fused activation '{}' with {} parameters is not one greenai can unfuse",
                             n.Describe(), op, params.size());
    if (op == "Gelu" && opset < 20)
      return InvalidArgument("{}: a fused Gelu unfuses to the Gelu op, which needs opset 20 (model imports {})",
                             n.Describe(), opset);
    n.attributes.erase(kAttrActivation);
    n.attributes.erase(kAttrActivationParams);
    const std::string out = n.outputs[0];
    const std::string pre = g.UniqueName(out + "_preact");
    n.outputs[0] = pre;
    auto act = std::make_unique<Node>();
    act->op_type = op;
    act->name = g.UniqueName((n.name.empty() ? out : n.name) + "_" + op);
    act->inputs = {pre};
    act->outputs = {out};
    if (op == "LeakyRelu") act->SetFloat("alpha", params[0]);
    if (op == "Clip") {
      if (opset < 11) {
        act->SetFloat("min", params[0]);
        act->SetFloat("max", params[1]);
      } else {
        const std::string lo = g.UniqueName(act->name + "_min");
        g.AddInitializer(lo, Tensor::Scalar<float>(params[0]));
        const std::string hi = g.UniqueName(act->name + "_max");
        g.AddInitializer(hi, Tensor::Scalar<float>(params[1]));
        act->inputs = {pre, lo, hi};
      }
    }
    auto vt = g.value_types.find(out);
    if (vt != g.value_types.end()) g.value_types[pre] = vt->second;
    g.InsertNode(i + 1, std::move(act));
    ++i;  // skip the node just inserted
  }
  return Status::Ok();
}

}  // namespace greenai
