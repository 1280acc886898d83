// Quantize(): option parsing, the mode dispatcher, the dynamic (MatMulInteger) rewrite and
// bias correction. See quantize.h.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "compress/quantize/quantize.h"
#include "compress/quantize/quantize_internal.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace greenai::compress {

Result<QuantMode> ParseQuantMode(const std::string& s) {
  if (s == "dynamic") return QuantMode::kDynamic;
  if (s == "static") return QuantMode::kStatic;
  if (s == "qat") return QuantMode::kQat;
  if (s == "fp16") return QuantMode::kFp16;
  if (s == "bf16") return QuantMode::kBf16;
  if (s == "int4-weight") return QuantMode::kInt4Weight;
  return InvalidArgument("--mode '{}' is not one of dynamic, static, qat, fp16, bf16, int4-weight", s);
}

Result<CalibMethod> ParseCalibMethod(const std::string& s) {
  if (s == "minmax") return CalibMethod::kMinMax;
  if (s == "percentile") return CalibMethod::kPercentile;
  if (s == "entropy") return CalibMethod::kEntropy;
  if (s == "mse") return CalibMethod::kMse;
  return InvalidArgument("--calib-method '{}' is not one of minmax, percentile, entropy, mse", s);
}

const char* QuantModeName(QuantMode m) {
  switch (m) {
    case QuantMode::kDynamic: return "dynamic";
    case QuantMode::kStatic: return "static";
    case QuantMode::kQat: return "qat";
    case QuantMode::kFp16: return "fp16";
    case QuantMode::kBf16: return "bf16";
    case QuantMode::kInt4Weight: return "int4-weight";
  }
  return "?";
}

namespace qi {

Result<std::map<std::string, std::vector<double>>> InputMeans(const Model& m, const std::vector<Target>& targets,
                                                              const std::vector<Feeds>& batches) {
  auto probe = m.Clone();
  Graph& g = *probe->graph;
  std::vector<std::string> names;
  for (const Target& t : targets) {
    const std::string& x = t.node->inputs[0];
    if (g.IsInitializer(x) || std::find(names.begin(), names.end(), x) != names.end()) continue;
    names.push_back(x);
    if (!g.IsGraphOutput(x)) g.outputs.push_back(ValueInfo{x, TensorType{DType::kF32, false, {}, {}}, ""});
  }
  SessionOptions so;
  so.optimize = false;
  GREENAI_ASSIGN_OR_RETURN(auto session, Session::Create(*probe, so));
  std::map<std::string, std::vector<double>> sums;
  std::map<std::string, double> counts;
  for (size_t b = 0; b < batches.size(); ++b) {
    auto outs = session->Run(batches[b]);
    if (!outs.ok()) return outs.status().WithContext(fmt::format("bias correction batch {}", b));
    for (const auto& x : names) {
      size_t slot = 0;
      for (size_t j = 0; j < g.outputs.size(); ++j)
        if (g.outputs[j].name == x) slot = j;
      const Tensor& t = (*outs)[slot];
      if (t.dtype() != DType::kF32 || t.rank() < 2) continue;
      // Conv inputs (rank >= 3): channels on axis 1; MatMul/Gemm inputs: the last axis.
      const bool conv = t.rank() >= 3 && std::any_of(targets.begin(), targets.end(), [&](const Target& tg) {
        return tg.node->inputs[0] == x && tg.node->op_type == "Conv";
      });
      const int64_t c = conv ? t.dim(1) : t.dim(-1);
      int64_t inner = 1;
      if (conv)
        for (int i = 2; i < t.rank(); ++i) inner *= t.dim(i);
      auto& s = sums[x];
      s.resize(static_cast<size_t>(c), 0.0);
      const float* d = t.data<float>();
      for (int64_t k = 0; k < t.numel(); ++k) s[static_cast<size_t>(conv ? (k / inner) % c : k % c)] += d[k];
      counts[x] += static_cast<double>(t.numel() / c);
    }
  }
  std::map<std::string, std::vector<double>> means;
  for (const Target& t : targets) {
    auto s = sums.find(t.node->inputs[0]);
    if (s == sums.end()) continue;
    std::vector<double> m2 = s->second;
    for (double& v : m2) v /= std::max(1.0, counts[t.node->inputs[0]]);
    means[t.node->name] = std::move(m2);
  }
  return means;
}

std::vector<float> WeightErrorTimesMean(const Tensor& w, const Tensor& wq, const QParams& p, const Target& t,
                                        const std::vector<double>& mean) {
  std::vector<double> delta(static_cast<size_t>(t.out_channels), 0.0);
  const float* wd = w.data<float>();
  if (t.node->op_type == "Conv") {
    const int64_t m = w.dim(0), cg = w.dim(1), inner = w.numel() / (m * cg);
    const int64_t group = std::max<int64_t>(1, t.node->GetInt("group", 1));
    const int64_t per_group = m / group;
    for (int64_t o = 0; o < m; ++o)
      for (int64_t ic = 0; ic < cg; ++ic) {
        const int64_t ch = (o / per_group) * cg + ic;
        if (ch >= static_cast<int64_t>(mean.size())) continue;
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t k = (o * cg + ic) * inner + i;
          delta[static_cast<size_t>(o)] +=
              (DequantizedWeightAt(wq, p, static_cast<size_t>(o), k) - wd[k]) * mean[static_cast<size_t>(ch)];
        }
      }
  } else {
    const int64_t r = w.dim(0), c = w.dim(1);
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const int64_t k = i * c + j;
        // axis 1: W[K, N] (i = k index); axis 0: W[N, K] (transB).
        const int64_t out = t.axis == 1 ? j : i, in = t.axis == 1 ? i : j;
        if (in >= static_cast<int64_t>(mean.size())) continue;
        delta[static_cast<size_t>(out)] +=
            (DequantizedWeightAt(wq, p, static_cast<size_t>(out), k) - wd[k]) * mean[static_cast<size_t>(in)];
      }
  }
  return std::vector<float>(delta.begin(), delta.end());
}

Status RewriteDynamic(Model& m, const QuantizeOptions& opts, QuantizeReport* report) {
  Graph& g = *m.graph;
  for (const auto& n : g.nodes())
    if (n->name.empty()) n->name = g.UniqueName(n->op_type);
  std::vector<Target> targets = SelectTargets(g, opts, report);
  std::unordered_map<std::string, std::vector<std::string>> dql;  // activation -> (q, scale, zp)
  std::vector<const Node*> removed;
  for (const Target& t : targets) {
    const Node& n = *t.node;
    const Tensor& w0 = *g.FindInitializer(n.inputs[1]);
    Tensor w = w0;
    if (t.axis == 0) {  // Gemm transB: store as [K, N] for MatMulInteger
      const int64_t N = w0.dim(0), K = w0.dim(1);
      w = Tensor::Create(DType::kF32, {K, N}).value();
      for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < K; ++k) w.data<float>()[k * N + i] = w0.data<float>()[i * K + k];
    }
    QParams wp = WeightParams(w, 1, opts.per_channel, opts.symmetric_weights, opts.weight_bits);
    Tensor wq = QuantizeWeight(w, 1, wp);
    const std::string base = n.inputs[1];
    const std::string wq_name = g.UniqueName(base + "_quantized");
    const std::string wz_name = g.UniqueName(base + "_zero_point");
    const std::string ws_name = g.UniqueName(base + "_scale");
    g.AddInitializer(wq_name, wq);
    const int64_t nz = static_cast<int64_t>(wp.zero_point.size());
    if (wp.is_signed) {
      g.AddInitializer(wz_name, Tensor::FromVector<int8_t>(nz > 1 ? Shape{nz} : Shape{},
                                                           std::vector<int8_t>(wp.zero_point.begin(), wp.zero_point.end())));
    } else {
      g.AddInitializer(wz_name, Tensor::FromVector<uint8_t>(
                                    nz > 1 ? Shape{nz} : Shape{}, std::vector<uint8_t>(wp.zero_point.begin(), wp.zero_point.end())));
    }
    g.AddInitializer(ws_name, Tensor::FromVector<float>(nz > 1 ? Shape{nz} : Shape{}, wp.scale));
    const std::string& a = n.inputs[0];
    auto it = dql.find(a);
    if (it == dql.end()) {
      std::vector<std::string> outs = {g.UniqueName(a + "_quantized"), g.UniqueName(a + "_scale"),
                                       g.UniqueName(a + "_zero_point")};
      g.AddNode("DynamicQuantizeLinear", {a}, outs, g.UniqueName(a + "_DynamicQuantizeLinear"));
      it = dql.emplace(a, outs).first;
    }
    const std::string& y = n.outputs[0];
    const std::string acc = g.UniqueName(n.name + "_MatMulInteger_out");
    const std::string accf = g.UniqueName(n.name + "_Cast_out");
    const std::string sc = g.UniqueName(n.name + "_scales_mul");
    g.AddNode("MatMulInteger", {it->second[0], wq_name, it->second[2], wz_name}, {acc}, g.UniqueName(n.name + "_MatMulInteger"));
    g.AddNode("Cast", {acc}, {accf}, g.UniqueName(n.name + "_Cast"))->SetInt("to", static_cast<int64_t>(DType::kF32));
    g.AddNode("Mul", {it->second[1], ws_name}, {sc}, g.UniqueName(n.name + "_scales_Mul"));
    if (t.bias_input >= 0) {
      const std::string mid = g.UniqueName(n.name + "_scaled");
      g.AddNode("Mul", {accf, sc}, {mid}, g.UniqueName(n.name + "_output_Mul"));
      g.AddNode("Add", {mid, n.inputs[2]}, {y}, g.UniqueName(n.name + "_bias_Add"));
    } else {
      g.AddNode("Mul", {accf, sc}, {y}, g.UniqueName(n.name + "_output_Mul"));
    }
    g.value_types.erase(y);
    removed.push_back(&n);
    report->quantized.push_back(n.name);
  }
  g.RemoveNodesIf([&](const Node& n) { return std::find(removed.begin(), removed.end(), &n) != removed.end(); });
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  DeadCodeElimination dce;
  return dce.Run(m);
}

}  // namespace qi

Result<std::unique_ptr<Model>> Quantize(const Model& model, const QuantizeOptions& opts,
                                        const std::vector<Feeds>& calibration, QuantizeReport* report) {
  QuantizeReport local;
  if (!report) report = &local;
  GREENAI_ASSIGN_OR_RETURN(auto m, PrepareForQuantization(model));
  bool any_float = false;
  for (const auto& [name, t] : m->graph->initializers)
    if (t.dtype() == DType::kF32 && !m->graph->IsGraphInput(name)) any_float = true;
  if (!any_float) {
    report->warnings.push_back("model has no float32 weights; nothing to quantize, the model is unchanged");
    return m;
  }
  if (opts.weight_bits != 7 && opts.weight_bits != 8)
    return InvalidArgument("quantize: weight bits must be 7 or 8, got {}", opts.weight_bits);
  switch (opts.mode) {
    case QuantMode::kStatic:
    case QuantMode::kQat:
      GREENAI_RETURN_IF_ERROR(qi::RewriteStatic(*m, opts, calibration, report));
      break;
    case QuantMode::kDynamic:
      GREENAI_RETURN_IF_ERROR(qi::RewriteDynamic(*m, opts, report));
      break;
    case QuantMode::kFp16:
      GREENAI_RETURN_IF_ERROR(qi::ConvertPrecision(*m, DType::kF16, report));
      break;
    case QuantMode::kBf16:
      GREENAI_RETURN_IF_ERROR(qi::ConvertPrecision(*m, DType::kBF16, report));
      break;
    case QuantMode::kInt4Weight:
      GREENAI_RETURN_IF_ERROR(qi::RewriteInt4Weights(*m, opts, report));
      break;
  }
  // Weights replaced by their quantized copies are dropped here.
  DeadCodeElimination dce;
  GREENAI_RETURN_IF_ERROR(dce.Run(*m));
  // Types inferred for the float graph may be stale now; the loader re-infers.
  m->graph->value_types.clear();
  m->producer_name = "greenai";
  return m;
}

}  // namespace greenai::compress
