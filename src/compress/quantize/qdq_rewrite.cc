// Static (QDQ) and dynamic (MatMulInteger) quantization rewrites; see quantize.h.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "compress/quantize/quantize.h"
#include "compress/quantize/quantize_internal.h"
#include "ops/shape_inference.h"
#include "passes/passes.h"

namespace greenai::compress {

namespace {

using namespace qi;

// Ops whose output keeps the input's scale exactly (max/reorder of values on one grid).
bool IsPassThrough(const Node& n) {
  static const std::unordered_set<std::string> ops = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze",
                                                      "Unsqueeze"};
  return IsDefaultDomain(n) && ops.count(n.op_type) && n.HasInput(0) && n.HasOutput(0) &&
         !(n.op_type == "MaxPool" && n.HasOutput(1));
}

Tensor ScalarOf(float v) { return Tensor::FromVector<float>({}, {v}); }

Tensor ZeroPointTensor(const QParams& p, bool vector) {
  const int64_t n = static_cast<int64_t>(p.zero_point.size());
  Shape shape = vector ? Shape{n} : Shape{};
  if (p.is_signed) {
    std::vector<int8_t> v(p.zero_point.begin(), p.zero_point.end());
    return Tensor::FromVector<int8_t>(shape, v);
  }
  std::vector<uint8_t> v(p.zero_point.begin(), p.zero_point.end());
  return Tensor::FromVector<uint8_t>(shape, v);
}

// Inserts QuantizeLinear -> DequantizeLinear on `value` and points every node reading it
// (other than the new QuantizeLinear) at the dequantized copy.
void InsertActivationQdq(Graph& g, const std::string& value, const QParams& p) {
  const std::string s = g.UniqueName(value + "_scale");
  g.AddInitializer(s, ScalarOf(p.scale[0]));
  const std::string z = g.UniqueName(value + "_zero_point");
  g.AddInitializer(z, ZeroPointTensor(p, false));
  const std::string q = g.UniqueName(value + "_quantized");
  const std::string dq = g.UniqueName(value + "_dequantized");
  std::vector<Node*> readers;
  for (const auto& n : g.nodes())
    for (auto& in : n->inputs)
      if (in == value) readers.push_back(n.get());
  for (Node* n : readers)
    for (auto& in : n->inputs)
      if (in == value) in = dq;
  g.AddNode("QuantizeLinear", {value, s, z}, {q}, g.UniqueName(value + "_QuantizeLinear"));
  g.AddNode("DequantizeLinear", {q, s, z}, {dq}, g.UniqueName(value + "_DequantizeLinear"));
}

struct QuantizedWeight {
  std::string dq_output;
  QParams params;
};

}  // namespace

QParams ActivationParams(Range r, bool is_signed, bool symmetric) {
  const float lo = std::min(r.lo, 0.f), hi = std::max(r.hi, 0.f);
  QParams p;
  p.is_signed = is_signed;
  if (symmetric) {
    const float a = std::max(std::fabs(lo), std::fabs(hi));
    p.scale = {a > 0 ? (is_signed ? a / 127.f : 2 * a / 255.f) : 1.f};
    p.zero_point = {is_signed ? 0 : 128};
    return p;
  }
  const float qmin = is_signed ? -128.f : 0.f, qmax = is_signed ? 127.f : 255.f;
  const float scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1.f;
  p.scale = {scale};
  p.zero_point = {static_cast<int32_t>(std::clamp(std::nearbyint(qmin - lo / scale), qmin, qmax))};
  return p;
}

namespace qi {

bool IsDefaultDomain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

QParams WeightParams(const Tensor& w, int64_t axis, bool per_channel, bool symmetric, int bits) {
  const float* d = w.data<float>();
  int64_t outer = 1, count = 1, inner = 1;
  if (per_channel) {
    for (int64_t i = 0; i < axis; ++i) outer *= w.dim(static_cast<int>(i));
    count = w.dim(static_cast<int>(axis));
    for (int64_t i = axis + 1; i < w.rank(); ++i) inner *= w.dim(static_cast<int>(i));
  } else {
    inner = w.numel();
  }
  std::vector<float> lo(static_cast<size_t>(count), 0.f), hi(static_cast<size_t>(count), 0.f);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < count; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = d[(o * count + c) * inner + i];
        lo[static_cast<size_t>(c)] = std::min(lo[static_cast<size_t>(c)], v);
        hi[static_cast<size_t>(c)] = std::max(hi[static_cast<size_t>(c)], v);
      }
  QParams p;
  p.is_signed = symmetric;
  p.bits = bits;
  for (int64_t c = 0; c < count; ++c) {
    const float l = lo[static_cast<size_t>(c)], h = hi[static_cast<size_t>(c)];
    if (symmetric) {
      const float a = std::max(-l, h);
      p.scale.push_back(a > 0 ? a / p.qmax() : 1.f);
      p.zero_point.push_back(0);
    } else {
      const float s = h > l ? (h - l) / p.qmax() : 1.f;
      p.scale.push_back(s);
      p.zero_point.push_back(static_cast<int32_t>(std::clamp(std::nearbyint(-l / s), 0.f, p.qmax())));
    }
  }
  return p;
}

Tensor QuantizeWeight(const Tensor& w, int64_t axis, const QParams& p) {
  const bool per_channel = p.scale.size() > 1 || (w.rank() > 0 && w.dim(static_cast<int>(axis)) == 1);
  int64_t outer = 1, count = 1, inner = 1;
  if (per_channel) {
    for (int64_t i = 0; i < axis; ++i) outer *= w.dim(static_cast<int>(i));
    count = w.dim(static_cast<int>(axis));
    for (int64_t i = axis + 1; i < w.rank(); ++i) inner *= w.dim(static_cast<int>(i));
  } else {
    inner = w.numel();
  }
  Tensor q = Tensor::Create(p.is_signed ? DType::kI8 : DType::kU8, w.shape()).value();
  const float* d = w.data<float>();
  const float qmin = p.qmin(), qmax = p.qmax();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < count; ++c) {
      const size_t ci = p.scale.size() > 1 ? static_cast<size_t>(c) : 0;
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t k = (o * count + c) * inner + i;
        const float v = std::clamp(std::nearbyint(d[k] / p.scale[ci]) + static_cast<float>(p.zero_point[ci]), qmin, qmax);
        if (p.is_signed) q.data<int8_t>()[k] = static_cast<int8_t>(v);
        else q.data<uint8_t>()[k] = static_cast<uint8_t>(v);
      }
    }
  return q;
}

float DequantizedWeightAt(const Tensor& q, const QParams& p, size_t channel, int64_t k) {
  const size_t ci = p.scale.size() > 1 ? channel : 0;
  const float v = p.is_signed ? static_cast<float>(q.data<int8_t>()[k]) : static_cast<float>(q.data<uint8_t>()[k]);
  return (v - static_cast<float>(p.zero_point[ci])) * p.scale[ci];
}

std::optional<Target> Classify(const Graph& g, const Node& n, QuantMode mode, std::string* why) {
  if (!IsDefaultDomain(n) || n.outputs.size() != 1) return std::nullopt;
  auto const_float = [&](const std::string& v) {
    const Tensor* t = IsConstant(g, v) ? g.FindInitializer(v) : nullptr;
    return t && t->dtype() == DType::kF32 ? t : nullptr;
  };
  Target t;
  t.node = &n;
  if (n.op_type == "Conv") {
    if (mode == QuantMode::kDynamic) {
      *why = "dynamic mode quantizes MatMul/Gemm only";
      return std::nullopt;
    }
    const Tensor* w = n.inputs.size() > 1 ? const_float(n.inputs[1]) : nullptr;
    if (!w || w->rank() < 3) {
      *why = "weight W is not a constant float32 tensor of rank >= 3";
      return std::nullopt;
    }
    t.weight_input = 1;
    t.axis = 0;
    t.out_channels = w->dim(0);
    if (n.HasInput(2)) {
      if (!const_float(n.inputs[2])) {
        *why = "bias B is not a constant float32 tensor";
        return std::nullopt;
      }
      t.bias_input = 2;
    }
    return t;
  }
  if (n.op_type == "MatMul") {
    const Tensor* w = n.inputs.size() > 1 ? const_float(n.inputs[1]) : nullptr;
    if (!w || w->rank() != 2 || IsConstant(g, n.inputs[0])) {
      *why = "B is not a constant float32 2-D weight (activation x activation MatMul stays float)";
      return std::nullopt;
    }
    t.weight_input = 1;
    t.axis = 1;
    t.out_channels = w->dim(1);
    return t;
  }
  if (n.op_type == "Gemm") {
    const Tensor* w = n.inputs.size() > 1 ? const_float(n.inputs[1]) : nullptr;
    if (!w || w->rank() != 2) {
      *why = "B is not a constant float32 2-D weight";
      return std::nullopt;
    }
    if (n.GetFloat("alpha", 1.f) != 1.f || n.GetFloat("beta", 1.f) != 1.f || n.GetInt("transA", 0) != 0) {
      *why = "alpha/beta != 1 or transA = 1 is not supported";
      return std::nullopt;
    }
    const bool trans_b = n.GetInt("transB", 0) != 0;
    t.weight_input = 1;
    t.axis = trans_b ? 0 : 1;
    t.out_channels = w->dim(trans_b ? 0 : 1);
    if (n.HasInput(2)) {
      const Tensor* b = const_float(n.inputs[2]);
      if (!b || b->numel() != t.out_channels || b->rank() > 2) {
        *why = "bias C is not a constant float32 vector of N values";
        return std::nullopt;
      }
      t.bias_input = 2;
    }
    return t;
  }
  return std::nullopt;
}

}  // namespace qi

Result<std::unique_ptr<Model>> PrepareForQuantization(const Model& model) {
  auto m = model.Clone();
  Graph& g = *m->graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<ConstantFolding>());
  passes.push_back(std::make_unique<DeadCodeElimination>());
  passes.push_back(std::make_unique<ConvBatchNormFolding>());
  passes.push_back(std::make_unique<MatMulAddFusion>());
  passes.push_back(std::make_unique<DeadCodeElimination>());
  GREENAI_RETURN_IF_ERROR(RunPasses(*m, passes));
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  InferenceReport report;
  (void)InferGraphTypes(g, DefaultOpset(*m), /*strict=*/false, &report);
  return m;
}

namespace qi {

// Targets of `opts.mode` in `g`, warnings for the quantizable-type nodes left float.
std::vector<Target> SelectTargets(const Graph& g, const QuantizeOptions& opts, QuantizeReport* report) {
  std::vector<Target> out;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    const bool candidate = IsDefaultDomain(n) && (n.op_type == "Conv" || n.op_type == "MatMul" || n.op_type == "Gemm");
    if (!candidate) continue;
    const std::string label = n.Describe();
    if (opts.exclude_nodes.count(n.name) || opts.exclude_op_types.count(n.op_type)) {
      report->warnings.push_back(label + ": excluded by option, stays float");
      continue;
    }
    if (!opts.only_nodes.empty() && !opts.only_nodes.count(n.name)) continue;
    std::string why;
    auto t = Classify(g, n, opts.mode, &why);
    if (!t) {
      report->warnings.push_back(label + ": cannot be quantized (" + why + "), stays float");
      continue;
    }
    out.push_back(*t);
  }
  return out;
}

}  // namespace qi

Result<std::vector<std::string>> QuantizableNodes(const Model& model, const QuantizeOptions& opts) {
  GREENAI_ASSIGN_OR_RETURN(auto m, PrepareForQuantization(model));
  QuantizeReport ignored;
  std::vector<std::string> names;
  for (const auto& t : qi::SelectTargets(*m->graph, opts, &ignored)) names.push_back(t.node->name);
  return names;
}

namespace qi {

Status RewriteStatic(Model& m, const QuantizeOptions& opts, const std::vector<Feeds>& calibration,
                     QuantizeReport* report) {
  Graph& g = *m.graph;
  // Names first: nodes without one get one, so warnings and exclusions can name them.
  for (const auto& n : g.nodes())
    if (n->name.empty()) n->name = g.UniqueName(n->op_type);
  std::vector<Target> targets = SelectTargets(g, opts, report);
  if (targets.empty()) {
    report->warnings.push_back("no node could be quantized; the model is unchanged");
    return Status::Ok();
  }
  const bool per_channel = opts.per_channel && DefaultOpset(m) >= 13;
  if (opts.per_channel && !per_channel)
    report->warnings.push_back(fmt::format("model opset {} < 13 has no per-axis QuantizeLinear: weights per tensor",
                                           DefaultOpset(m)));
  auto uses = g.BuildUseCounts();
  auto consumers = BuildConsumers(g);
  // Values to carry Q/DQ: each target's activation input and its output (after a following Relu).
  std::vector<std::string> values;
  std::unordered_set<std::string> wanted;
  auto want = [&](const std::string& v) {
    if (v.empty() || g.IsInitializer(v) || g.IsGraphOutput(v) || wanted.count(v)) return;
    auto it = g.value_types.find(v);
    if (it != g.value_types.end() && it->second.dtype != DType::kF32) return;
    wanted.insert(v);
    values.push_back(v);
  };
  for (const Target& t : targets) {
    want(t.node->inputs[0]);
    std::string out = t.node->outputs[0];
    auto c = consumers.find(out);
    if (uses[out] == 1 && !g.IsGraphOutput(out) && c != consumers.end() && c->second.size() == 1) {
      const Node& relu = *c->second[0];
      if (IsDefaultDomain(relu) && relu.op_type == "Relu" && !opts.exclude_nodes.count(relu.name) &&
          !opts.exclude_op_types.count("Relu"))
        out = relu.outputs[0];
    }
    want(out);
  }
  GREENAI_ASSIGN_OR_RETURN(auto ranges, CalibrateRanges(m, values, calibration, opts.calibration, opts.percentile));
  std::unordered_map<std::string, QParams> params;
  for (const auto& v : values) {
    auto r = ranges.find(v);
    if (r == ranges.end()) continue;  // never produced a float tensor
    params[v] = ActivationParams(r->second, opts.signed_activations, opts.symmetric_activations);
  }
  // Pass-through ops inherit their input's parameters (topological order carries chains).
  std::vector<std::string> inherited;
  for (const auto& np : g.nodes()) {
    const Node& n = *np;
    if (!IsPassThrough(n) || opts.exclude_nodes.count(n.name) || opts.exclude_op_types.count(n.op_type)) continue;
    auto in = params.find(n.inputs[0]);
    if (in == params.end() || g.IsGraphOutput(n.outputs[0])) continue;
    if (!params.count(n.outputs[0])) values.push_back(n.outputs[0]);
    params[n.outputs[0]] = in->second;
  }
  std::map<std::string, std::vector<double>> means;
  if (opts.bias_correction) {
    GREENAI_ASSIGN_OR_RETURN(means, InputMeans(m, targets, calibration));
  }
  // Weights and biases.
  for (const Target& t : targets) {
    Node& n = *const_cast<Node*>(t.node);
    auto xp = params.find(n.inputs[0]);
    if (xp == params.end()) {
      report->warnings.push_back(n.Describe() + ": input '" + n.inputs[0] +
                                 "' was never observed as float32 in calibration, stays float");
      continue;
    }
    const std::string w_name = n.inputs[static_cast<size_t>(t.weight_input)];
    const Tensor& w = *g.FindInitializer(w_name);
    QParams wp = WeightParams(w, t.axis, per_channel, opts.symmetric_weights, opts.weight_bits);
    Tensor wq = QuantizeWeight(w, t.axis, wp);
    const std::string wq_name = g.UniqueName(w_name + "_quantized");
    const std::string ws_name = g.UniqueName(w_name + "_scale");
    const std::string wz_name = g.UniqueName(w_name + "_zero_point");
    const std::string wdq = g.UniqueName(w_name + "_dequantized");
    g.AddInitializer(wq_name, wq);
    const bool vec = wp.scale.size() > 1;
    g.AddInitializer(ws_name, vec ? Tensor::FromVector<float>({static_cast<int64_t>(wp.scale.size())}, wp.scale)
                                  : ScalarOf(wp.scale[0]));
    g.AddInitializer(wz_name, ZeroPointTensor(wp, vec));
    Node* dq = g.AddNode("DequantizeLinear", {wq_name, ws_name, wz_name}, {wdq}, g.UniqueName(w_name + "_DequantizeLinear"));
    if (vec) dq->SetInt("axis", t.axis);
    n.inputs[static_cast<size_t>(t.weight_input)] = wdq;
    // Bias: int32 with scale x_scale * w_scale (what QLinearConv expects), zero point 0.
    std::vector<float> bias(static_cast<size_t>(t.out_channels), 0.f);
    bool has_bias = t.bias_input >= 0;
    if (has_bias) {
      const Tensor& b = *g.FindInitializer(n.inputs[static_cast<size_t>(t.bias_input)]);
      for (int64_t c = 0; c < t.out_channels; ++c) bias[static_cast<size_t>(c)] = b.data<float>()[c];
    }
    auto mean = means.find(n.name);
    if (mean != means.end()) {
      const std::vector<float> delta = WeightErrorTimesMean(w, wq, wp, t, mean->second);
      for (size_t c = 0; c < bias.size(); ++c) bias[c] -= delta[c];
      if (!has_bias) {
        if (n.op_type == "Conv") {
          has_bias = true;
          n.inputs.resize(3);
        } else if (n.op_type == "Gemm") {
          has_bias = true;
          n.inputs.resize(3);
        } else {
          report->warnings.push_back(n.Describe() + ": no bias input, bias correction skipped");
        }
      }
    }
    if (has_bias) {
      const float xs = xp->second.scale[0];
      std::vector<int32_t> bq(bias.size());
      std::vector<float> bs(bias.size());
      for (size_t c = 0; c < bias.size(); ++c) {
        bs[c] = xs * wp.scale[vec ? c : 0];
        bq[c] = static_cast<int32_t>(std::clamp(std::nearbyint(bias[c] / bs[c]), -2147483520.f, 2147483520.f));
      }
      const std::string base = n.HasInput(2) ? n.inputs[2] : n.name + "_bias";
      const std::string bq_name = g.UniqueName(base + "_quantized");
      const std::string bs_name = g.UniqueName(base + "_scale");
      const std::string bdq = g.UniqueName(base + "_dequantized");
      g.AddInitializer(bq_name, Tensor::FromVector<int32_t>({static_cast<int64_t>(bq.size())}, bq));
      g.AddInitializer(bs_name, vec ? Tensor::FromVector<float>({static_cast<int64_t>(bs.size())}, bs) : ScalarOf(bs[0]));
      Node* bn = g.AddNode("DequantizeLinear", {bq_name, bs_name}, {bdq}, g.UniqueName(base + "_DequantizeLinear"));
      if (vec) bn->SetInt("axis", 0);
      n.inputs[2] = bdq;
    }
    report->quantized.push_back(n.name);
  }
  for (const auto& v : values) {
    auto p = params.find(v);
    if (p != params.end()) InsertActivationQdq(g, v, p->second);
  }
  return g.TopologicalSort();
}

}  // namespace qi

}  // namespace greenai::compress
