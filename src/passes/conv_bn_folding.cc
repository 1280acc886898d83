// ConvBatchNormFolding: see passes/passes.h for the contract.
//
// BN(y) = scale * (y - mean) / sqrt(var + eps) + beta. With s = scale / sqrt(var + eps) per
// output channel m and y = W*x + b: BN(y) = (s*W)*x + (s*(b - mean) + beta). The new
// parameters are computed in double and rounded once, so the only difference from the
// unfolded graph is float rounding order (hence kTolerance).
#include <cmath>
#include <unordered_set>

#include "passes/passes.h"

namespace greenai {

namespace {

bool IsFloat32or64(const Tensor& t) { return t.dtype() == DType::kF32 || t.dtype() == DType::kF64; }

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kF32) {
    const float* p = t.data<float>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  } else {
    const double* p = t.data<double>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = p[i];
  }
  return v;
}

Result<Tensor> FromDoubles(DType dtype, const Shape& shape, const std::vector<double>& v) {
  GREENAI_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  if (dtype == DType::kF32) {
    float* p = t.data<float>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<float>(v[i]);
  } else {
    double* p = t.data<double>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = v[i];
  }
  return t;
}

bool IsDefault(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

}  // namespace

Status ConvBatchNormFolding::Run(Model& model) {
  folded_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  auto uses = g.BuildUseCounts();
  auto consumers = BuildConsumers(g);
  std::unordered_set<const Node*> removed;
  for (const auto& cp : g.nodes()) {
    Node& conv = *cp;
    if (!IsDefault(conv) || conv.op_type != "Conv" || conv.outputs.size() != 1) continue;
    if (removed.count(&conv)) continue;
    const std::string& y = conv.outputs[0];
    if (uses[y] != 1 || g.IsGraphOutput(y)) continue;
    auto cit = consumers.find(y);
    if (cit == consumers.end() || cit->second.size() != 1) continue;
    Node& bn = *cit->second[0];
    if (!IsDefault(bn) || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5 || bn.inputs[0] != y) continue;
    if (bn.GetInt("training_mode", 0) != 0) continue;
    bool extra_outputs = false;
    for (size_t i = 1; i < bn.outputs.size(); ++i)
      if (!bn.outputs[i].empty()) extra_outputs = true;
    if (extra_outputs || !bn.HasOutput(0)) continue;
    if (!conv.HasInput(1) || !IsConstant(g, conv.inputs[1])) continue;
    if (conv.HasInput(2) && !IsConstant(g, conv.inputs[2])) continue;
    bool params_const = true;
    for (size_t i = 1; i < 5; ++i) params_const = params_const && IsConstant(g, bn.inputs[i]);
    if (!params_const) continue;

    const Tensor& w = *g.FindInitializer(conv.inputs[1]);
    if (!IsFloat32or64(w) || w.rank() < 3) continue;
    const int64_t m = w.dim(0);
    const Tensor* p[4];
    bool ok = true;
    for (size_t i = 0; i < 4; ++i) {
      p[i] = g.FindInitializer(bn.inputs[i + 1]);
      ok = ok && IsFloat32or64(*p[i]) && p[i]->rank() == 1 && p[i]->numel() == m;
    }
    const Tensor* b = conv.HasInput(2) ? g.FindInitializer(conv.inputs[2]) : nullptr;
    if (b) ok = ok && b->dtype() == w.dtype() && b->rank() == 1 && b->numel() == m;
    if (!ok) continue;

    const double eps = bn.GetFloat("epsilon", 1e-5f);
    std::vector<double> scale = ToDoubles(*p[0]), beta = ToDoubles(*p[1]), mean = ToDoubles(*p[2]),
                        var = ToDoubles(*p[3]);
    std::vector<double> wv = ToDoubles(w);
    std::vector<double> bv = b ? ToDoubles(*b) : std::vector<double>(static_cast<size_t>(m), 0.0);
    const size_t per_out = static_cast<size_t>(w.numel() / m);
    for (size_t oc = 0; oc < static_cast<size_t>(m); ++oc) {
      const double s = scale[oc] / std::sqrt(var[oc] + eps);
      for (size_t k = 0; k < per_out; ++k) wv[oc * per_out + k] *= s;
      bv[oc] = s * (bv[oc] - mean[oc]) + beta[oc];
    }
    GREENAI_ASSIGN_OR_RETURN(Tensor nw, FromDoubles(w.dtype(), w.shape(), wv));
    GREENAI_ASSIGN_OR_RETURN(Tensor nb, FromDoubles(w.dtype(), {m}, bv));
    const std::string base = conv.name.empty() ? bn.outputs[0] : conv.name;
    const std::string wname = g.UniqueName(base + "_bnfolded_W");
    g.AddInitializer(wname, std::move(nw));
    const std::string bname = g.UniqueName(base + "_bnfolded_B");
    g.AddInitializer(bname, std::move(nb));
    conv.inputs.resize(3);
    conv.inputs[1] = wname;
    conv.inputs[2] = bname;
    g.value_types.erase(y);
    conv.outputs[0] = bn.outputs[0];
    removed.insert(&bn);
    ++folded_;
  }
  g.RemoveNodesIf([&](const Node& n) { return removed.count(&n) != 0; });
  return Status::Ok();
}

}  // namespace greenai
