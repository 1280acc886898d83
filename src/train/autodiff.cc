#include "train/autodiff.h"

#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ops/gradients.h"
#include "ops/shape_inference.h"

namespace greenai::train {
namespace {

TensorType TypeOf(const Graph& g, const std::string& name) {
  if (const Tensor* t = g.FindInitializer(name)) return TensorType::Of(t->dtype(), t->shape());
  auto it = g.value_types.find(name);
  if (it != g.value_types.end()) return it->second;
  for (const auto& in : g.inputs)
    if (in.name == name) return in.type;
  return TensorType{};
}

bool HasValue(const Graph& g, const std::string& name,
              const std::unordered_map<std::string, std::pair<Node*, int>>& producers) {
  if (g.IsInitializer(name) || producers.count(name)) return true;
  for (const auto& in : g.inputs)
    if (in.name == name) return true;
  return false;
}

}  // namespace

Result<GradientGraph> BuildGradientGraph(const Model& model, const std::string& loss,
                                         const std::vector<std::string>& params, const GradientOptions& opts) {
  GradientGraph out;
  out.model = model.Clone();
  Graph& g = *out.model->graph;
  const int64_t opset = out.model->OpsetFor("");
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/true).WithContext("autodiff: forward graph"));

  const auto producers = g.BuildProducerMap();
  if (!HasValue(g, loss, producers)) return NotFound("autodiff: loss value '{}' is not in the graph", loss);
  const TensorType loss_type = TypeOf(g, loss);
  if (!IsFloatDType(loss_type.dtype))
    return InvalidArgument("autodiff: loss '{}' is {} (expects a float type)", loss, DTypeName(loss_type.dtype));
  std::unordered_set<std::string> param_set;
  for (const auto& p : params) {
    if (!g.IsInitializer(p) && !g.IsGraphInput(p))
      return NotFound("autodiff: parameter '{}' is neither an initializer nor a graph input", p);
    const TensorType t = TypeOf(g, p);
    if (!IsFloatDType(t.dtype))
      return InvalidArgument("autodiff: parameter '{}' is {} (expects a float type)", p, DTypeName(t.dtype));
    if (!param_set.insert(p).second) return InvalidArgument("autodiff: parameter '{}' is listed twice", p);
  }

  // Nodes on a path param -> loss: forward-reachable from a param and backward-reachable from loss.
  std::vector<Node*> fwd;
  for (const auto& n : g.nodes()) fwd.push_back(n.get());
  std::unordered_set<std::string> depends(param_set.begin(), param_set.end());
  for (Node* n : fwd) {
    bool any = false;
    for (const auto& in : n->inputs) any = any || (!in.empty() && depends.count(in));
    if (any)
      for (const auto& o : n->outputs)
        if (!o.empty()) depends.insert(o);
  }
  std::unordered_set<std::string> leads{loss};
  std::unordered_set<const Node*> active;
  for (auto it = fwd.rbegin(); it != fwd.rend(); ++it) {
    Node* n = *it;
    bool feeds = false;
    for (const auto& o : n->outputs) feeds = feeds || (!o.empty() && leads.count(o));
    if (!feeds) continue;
    bool on_path = false;
    for (const auto& o : n->outputs) on_path = on_path || (!o.empty() && depends.count(o));
    if (!on_path) continue;
    active.insert(n);
    for (const auto& in : n->inputs)
      if (!in.empty()) leads.insert(in);
  }

  GradBuilder b(g, opset);
  std::unordered_map<std::string, std::vector<std::string>> contrib;
  auto materialize = [&](const std::string& v) -> std::string {
    auto it = contrib.find(v);
    if (it == contrib.end() || it->second.empty()) return "";
    if (it->second.size() > 1) it->second = {b.Emit("Sum", it->second, {}, "grad_sum")};
    return it->second[0];
  };

  if (opts.seed_as_input) {
    out.seed = g.UniqueName(loss + "_grad");
    g.inputs.push_back(ValueInfo{out.seed, loss_type, "seed: d objective / d " + loss});
    contrib[loss].push_back(out.seed);
  } else {
    if (!loss_type.IsFullyKnown())
      return InvalidArgument("autodiff: loss '{}' has type {}; a constant seed needs a fully known shape", loss,
                             loss_type.ToString());
    auto ones = Tensor::Create(loss_type.dtype, loss_type.dims);
    if (!ones.ok()) return ones.status();
    Tensor t = std::move(ones).value();
    for (int64_t i = 0; i < t.numel(); ++i) {
      switch (t.dtype()) {
        case DType::kF64: t.data<double>()[i] = 1.0; break;
        case DType::kF16: t.data<Float16>()[i] = Float16(1.0f); break;
        case DType::kBF16: t.data<BFloat16>()[i] = BFloat16(1.0f); break;
        default: t.data<float>()[i] = 1.0f; break;
      }
    }
    contrib[loss].push_back(b.Const(std::move(t), "grad_seed"));
  }

  for (auto it = fwd.rbegin(); it != fwd.rend(); ++it) {
    const Node& n = **it;
    if (!active.count(&n)) continue;
    GradContext ctx{n, {}, {}, {}, {}, b};
    bool any_dy = false;
    for (const auto& o : n.outputs) {
      ctx.dy.push_back(o.empty() ? "" : materialize(o));
      ctx.output_types.push_back(o.empty() ? TensorType{} : TypeOf(g, o));
      any_dy = any_dy || !ctx.dy.back().empty();
    }
    if (!any_dy) continue;
    bool any_need = false;
    for (const auto& in : n.inputs) {
      TensorType t = in.empty() ? TensorType{} : TypeOf(g, in);
      ctx.needs.push_back(!in.empty() && depends.count(in) && IsFloatDType(t.dtype));
      ctx.input_types.push_back(std::move(t));
      any_need = any_need || ctx.needs.back();
    }
    if (!any_need) continue;
    GradFn fn = GradientRegistry::Get().Find(n.domain, n.op_type);
    if (!fn) return Unimplemented("autodiff: {} has no gradient rule yet", n.Describe());
    std::vector<std::string> dx(n.inputs.size());
    GREENAI_RETURN_IF_ERROR(fn(ctx, &dx));
    for (size_t i = 0; i < dx.size(); ++i) {
      if (!ctx.needs[i]) continue;
      if (dx[i].empty())
        return Internal("autodiff: rule for {} gave no gradient for input '{}'", n.Describe(), n.inputs[i]);
      contrib[n.inputs[i]].push_back(dx[i]);
    }
  }

  for (const auto& p : params) {
    std::string gsum = materialize(p);
    const TensorType t = TypeOf(g, p);
    if (gsum.empty()) gsum = b.Emit("Mul", {p, b.ScalarConst(t.dtype, 0.0)}, {}, "grad_zero");
    const std::string name = g.UniqueName("grad_" + p);
    g.AddNode("Identity", {gsum}, {name}, g.UniqueName(name + "_node"));
    g.outputs.push_back(ValueInfo{name, t, "d objective / d " + p});
    out.grads.push_back(name);
    if (opts.params_as_inputs && g.IsInitializer(p) && !g.IsGraphInput(p)) g.inputs.push_back(ValueInfo{p, t, ""});
  }
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  GREENAI_RETURN_IF_ERROR(InferGraphTypes(g, opset, /*strict=*/true).WithContext("autodiff: gradient graph"));
  return out;
}

}  // namespace greenai::train
