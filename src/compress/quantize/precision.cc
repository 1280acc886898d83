// fp16/bf16 conversion and int4 weight-only quantization; see quantize.h and
// docs/quantization.md for the ONNX forms written.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "compress/quantize/quantize_internal.h"
#include "passes/passes.h"

namespace greenai::compress::qi {

namespace {

Tensor ToHalf(const Tensor& t, DType to) {
  Tensor h = Tensor::Create(to, t.shape()).value();
  const float* s = t.data<float>();
  uint16_t* d = static_cast<uint16_t*>(h.raw());
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = to == DType::kF16 ? FloatToHalf(s[i]) : FloatToBFloat16(s[i]);
  return h;
}

// Inputs that ONNX requires to stay float32 whatever the compute type (sizes, scales).
bool MustStayFloat(const Node& n, size_t input) {
  if (n.op_type == "Resize") return input == 1 || input == 2;
  if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") return true;
  return false;
}

}  // namespace

Status ConvertPrecision(Model& m, DType to, QuantizeReport* report) {
  Graph& g = *m.graph;
  std::unordered_set<std::string> keep_float;
  for (const auto& n : g.nodes())
    for (size_t i = 0; i < n->inputs.size(); ++i)
      if (MustStayFloat(*n, i)) keep_float.insert(n->inputs[i]);
  for (auto& [name, t] : g.initializers)
    if (t.dtype() == DType::kF32 && !g.IsGraphInput(name) && !keep_float.count(name)) t = ToHalf(t, to);
  for (const auto& n : g.nodes()) {
    if (n->op_type == "Cast" && n->GetInt("to", 0) == static_cast<int64_t>(DType::kF32))
      n->SetInt("to", static_cast<int64_t>(to));
    if (n->op_type == "Constant")
      if (const Tensor* t = n->GetTensor("value"); t && t->dtype() == DType::kF32) n->SetTensor("value", ToHalf(*t, to));
    if (n->op_type == "ConstantOfShape")
      if (const Tensor* t = n->GetTensor("value"); t && t->dtype() == DType::kF32) n->SetTensor("value", ToHalf(*t, to));
  }
  // Boundaries: float32 graph inputs are cast down, float32 graph outputs cast back up.
  for (const auto& in : g.inputs) {
    if (in.type.dtype != DType::kF32 || g.IsInitializer(in.name)) continue;
    const std::string low = g.UniqueName(in.name + (to == DType::kF16 ? "_fp16" : "_bf16"));
    for (const auto& n : g.nodes())
      for (size_t i = 0; i < n->inputs.size(); ++i)
        if (n->inputs[i] == in.name && !MustStayFloat(*n, i)) n->inputs[i] = low;
    g.AddNode("Cast", {in.name}, {low}, g.UniqueName(in.name + "_Cast"))->SetInt("to", static_cast<int64_t>(to));
  }
  for (const auto& out : g.outputs) {
    if (out.type.dtype != DType::kF32) continue;
    const std::string low = g.UniqueName(out.name + (to == DType::kF16 ? "_fp16" : "_bf16"));
    bool produced = false;
    for (const auto& n : g.nodes()) {
      for (auto& o : n->outputs)
        if (o == out.name) o = low, produced = true;
      for (auto& i : n->inputs)
        if (i == out.name) i = low;
    }
    if (!produced) {
      report->warnings.push_back("graph output '" + out.name + "' is not computed by a node; left as is");
      continue;
    }
    g.AddNode("Cast", {low}, {out.name}, g.UniqueName(out.name + "_Cast"))->SetInt("to", static_cast<int64_t>(DType::kF32));
  }
  for (const auto& n : g.nodes()) report->quantized.push_back(n->name.empty() ? n->op_type : n->name);
  g.value_types.clear();
  return g.TopologicalSort();
}

// Weight W[K, N] -> packed uint8 (two offset-binary nibbles per byte, element 2i in the low
// nibble) and per-block scales [K/B, 1, N]; the graph rebuilds W with standard ops:
//   lo = (P << 4) >> 4, hi = P >> 4 (BitShift on uint8), interleave (Unsqueeze + Concat),
//   Cast to float, - 8, Reshape [K/B, B, N], * scales, Reshape [K, N].
Status RewriteInt4Weights(Model& m, const QuantizeOptions& opts, QuantizeReport* report) {
  Graph& g = *m.graph;
  const int64_t block = opts.int4_block;
  if (block != 32 && block != 64 && block != 128)
    return InvalidArgument("int4-weight: block size {} is not one of 32, 64, 128", block);
  if (DefaultOpset(m) < 13) {
    report->warnings.push_back(fmt::format("int4-weight: model opset {} < 13 (Unsqueeze takes axes as an input from 13); "
                                           "the model is unchanged", DefaultOpset(m)));
    return Status::Ok();
  }
  for (const auto& n : g.nodes())
    if (n->name.empty()) n->name = g.UniqueName(n->op_type);
  const std::string four = g.UniqueName("int4_shift4");
  const std::string eight = g.UniqueName("int4_offset8");
  const std::string axes1 = g.UniqueName("int4_axes1");
  g.AddInitializer(four, Tensor::Scalar<uint8_t>(4));
  g.AddInitializer(eight, Tensor::Scalar<float>(8.f));
  g.AddInitializer(axes1, Tensor::FromVector<int64_t>({1}, {1}));
  std::vector<Node*> nodes;
  for (const auto& n : g.nodes()) nodes.push_back(n.get());
  bool any = false;
  for (Node* n : nodes) {
    if (!IsDefaultDomain(*n) || (n->op_type != "MatMul" && n->op_type != "Gemm")) continue;
    if (opts.exclude_nodes.count(n->name) || opts.exclude_op_types.count(n->op_type)) {
      report->warnings.push_back(n->Describe() + ": excluded by option, stays float");
      continue;
    }
    const Tensor* w = n->inputs.size() > 1 && IsConstant(g, n->inputs[1]) ? g.FindInitializer(n->inputs[1]) : nullptr;
    const bool trans = n->op_type == "Gemm" && n->GetInt("transB", 0) != 0;
    if (!w || w->dtype() != DType::kF32 || w->rank() != 2) {
      report->warnings.push_back(n->Describe() + ": weight is not a constant float32 matrix, stays float");
      continue;
    }
    if (n->op_type == "Gemm" && (n->GetFloat("alpha", 1.f) != 1.f || n->GetInt("transA", 0) != 0)) {
      report->warnings.push_back(n->Describe() + ": Gemm with alpha != 1 or transA is not supported, stays float");
      continue;
    }
    Tensor wkn = *w;
    if (trans) {  // Gemm transB: blocks run along K, so store [K, N] and clear transB
      wkn = Tensor::Create(DType::kF32, {w->dim(1), w->dim(0)}).value();
      for (int64_t i = 0; i < w->dim(0); ++i)
        for (int64_t k = 0; k < w->dim(1); ++k) wkn.data<float>()[k * w->dim(0) + i] = w->data<float>()[i * w->dim(1) + k];
      w = &wkn;
    }
    const int64_t K = w->dim(0), N = w->dim(1);
    // A last partial block is padded with zeros (packed as 0 + 8) and sliced off after expansion.
    const int64_t nb = (K + block - 1) / block, Kp = nb * block;
    std::vector<float> scales(static_cast<size_t>(nb * N));
    std::vector<uint8_t> packed(static_cast<size_t>(Kp * N / 2), 0x88);
    const float* d = w->data<float>();
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t j = 0; j < N; ++j) {
        const int64_t k_end = std::min(K, (b + 1) * block);
        float a = 0;
        for (int64_t k = b * block; k < k_end; ++k) a = std::max(a, std::fabs(d[k * N + j]));
        const float s = a > 0 ? a / 7.f : 1.f;
        scales[static_cast<size_t>(b * N + j)] = s;
        for (int64_t k = b * block; k < k_end; ++k) {
          const int64_t idx = k * N + j;
          const int q = static_cast<int>(std::clamp(std::nearbyint(d[idx] / s), -8.f, 7.f)) + 8;
          uint8_t& byte = packed[static_cast<size_t>(idx / 2)];
          byte = static_cast<uint8_t>(idx % 2 == 0 ? (byte & 0xF0) | q : (byte & 0x0F) | (q << 4));
        }
      }
    const std::string base = n->inputs[1];
    auto name = [&](const char* suffix) { return g.UniqueName(base + suffix); };
    const std::string p = name("_int4_packed"), sc = name("_int4_scale"), shape3 = name("_int4_shape3"),
                      shape2 = name("_int4_shape2");
    g.AddInitializer(p, Tensor::FromVector<uint8_t>({Kp * N / 2}, packed));
    g.AddInitializer(sc, Tensor::FromVector<float>({nb, 1, N}, scales));
    g.AddInitializer(shape3, Tensor::FromVector<int64_t>({3}, {nb, block, N}));
    g.AddInitializer(shape2, Tensor::FromVector<int64_t>({2}, {Kp, N}));
    const std::string t0 = name("_int4_shl"), lo = name("_int4_lo"), hi = name("_int4_hi"), lo2 = name("_int4_lo2"),
                      hi2 = name("_int4_hi2"), cat = name("_int4_pairs"), f = name("_int4_float"),
                      c = name("_int4_centered"), r3 = name("_int4_blocks"), sc3 = name("_int4_scaled"),
                      wd = name("_int4_dequantized");
    g.AddNode("BitShift", {p, four}, {t0}, name("_BitShift_left"))->SetString("direction", "LEFT");
    g.AddNode("BitShift", {t0, four}, {lo}, name("_BitShift_lo"))->SetString("direction", "RIGHT");
    g.AddNode("BitShift", {p, four}, {hi}, name("_BitShift_hi"))->SetString("direction", "RIGHT");
    g.AddNode("Unsqueeze", {lo, axes1}, {lo2}, name("_Unsqueeze_lo"));
    g.AddNode("Unsqueeze", {hi, axes1}, {hi2}, name("_Unsqueeze_hi"));
    g.AddNode("Concat", {lo2, hi2}, {cat}, name("_Concat"))->SetInt("axis", 1);
    g.AddNode("Cast", {cat}, {f}, name("_Cast"))->SetInt("to", static_cast<int64_t>(DType::kF32));
    g.AddNode("Sub", {f, eight}, {c}, name("_Sub"));
    g.AddNode("Reshape", {c, shape3}, {r3}, name("_Reshape_blocks"));
    g.AddNode("Mul", {r3, sc}, {sc3}, name("_Mul_scale"));
    if (Kp == K) {
      g.AddNode("Reshape", {sc3, shape2}, {wd}, name("_Reshape_weight"));
    } else {
      const std::string full = name("_int4_padded"), st = name("_int4_slice_start"), en = name("_int4_slice_end");
      g.AddNode("Reshape", {sc3, shape2}, {full}, name("_Reshape_weight"));
      g.AddInitializer(st, Tensor::FromVector<int64_t>({1}, {0}));
      g.AddInitializer(en, Tensor::FromVector<int64_t>({1}, {K}));
      g.AddNode("Slice", {full, st, en}, {wd}, name("_Slice_weight"));  // axes default: 0
    }
    n->inputs[1] = wd;
    if (trans) n->SetInt("transB", 0);
    report->quantized.push_back(n->name);
    any = true;
  }
  if (!any) report->warnings.push_back("int4-weight: no MatMul/Gemm weight could be quantized; the model is unchanged");
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  DeadCodeElimination dce;
  return dce.Run(m);
}

}  // namespace greenai::compress::qi
