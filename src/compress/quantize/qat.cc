// Quantization-aware training support: fake-quant insertion and export to QDQ; see qat.h.
#include "compress/quantize/qat.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "compress/quantize/quantize_internal.h"
#include "passes/passes.h"

namespace greenai::compress {

namespace {

bool IsOp(const Node& n, const char* op) { return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op; }

std::string StripSuffix(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0
             ? s.substr(0, s.size() - suffix.size())
             : "";
}

// Appends the float fake-quant chain x -> out; `s` and `zf` broadcast against x.
void EmitChain(Graph& g, const std::string& x, const std::string& s, const std::string& zf, bool is_signed,
               const std::string& out, int bits = 8) {
  const std::string base = x;
  const std::string lo = g.UniqueName(base + "_fq_qmin"), hi = g.UniqueName(base + "_fq_qmax");
  QParams range;
  range.is_signed = is_signed;
  range.bits = bits;
  g.AddInitializer(lo, Tensor::Scalar<float>(range.qmin()));
  g.AddInitializer(hi, Tensor::Scalar<float>(range.qmax()));
  const std::string a = g.UniqueName(base + "_fq_div"), r = g.UniqueName(base + "_fq_round"),
                    b = g.UniqueName(base + "_fq_add"), c = g.UniqueName(base + "_fq_clip"),
                    d = g.UniqueName(base + "_fq_sub");
  g.AddNode("Div", {x, s}, {a}, g.UniqueName(base + "_FakeQuant_Div"))->doc_string = kFakeQuantTag;
  g.AddNode("Round", {a}, {r}, g.UniqueName(base + "_FakeQuant_Round"));
  g.AddNode("Add", {r, zf}, {b}, g.UniqueName(base + "_FakeQuant_Add"));
  g.AddNode("Clip", {b, lo, hi}, {c}, g.UniqueName(base + "_FakeQuant_Clip"));
  g.AddNode("Sub", {c, zf}, {d}, g.UniqueName(base + "_FakeQuant_Sub"));
  g.AddNode("Mul", {d, s}, {out}, g.UniqueName(base + "_FakeQuant_Mul"));
}

// A scale/zero-point vector shaped to broadcast along `axis` of a rank-`rank` tensor.
Tensor AlongAxis(const Tensor& v, int64_t axis, int rank) {
  std::vector<float> f(static_cast<size_t>(v.numel()));
  for (int64_t i = 0; i < v.numel(); ++i) f[static_cast<size_t>(i)] = static_cast<float>(v.GetAsDouble(i));
  if (v.numel() == 1) return Tensor::Scalar<float>(f[0]);
  Shape s(static_cast<size_t>(rank), 1);
  s[static_cast<size_t>(axis)] = v.numel();
  return Tensor::FromVector<float>(s, f);
}

}  // namespace

Result<std::unique_ptr<Model>> InsertFakeQuant(const Model& model, const QuantizeOptions& opts,
                                               const std::vector<Feeds>& calibration, QuantizeReport* report) {
  QuantizeReport local;
  if (!report) report = &local;  // the report is optional, as for Quantize()
  QuantizeOptions o = opts;
  o.mode = QuantMode::kStatic;
  o.bias_correction = false;  // training adapts the biases itself
  GREENAI_ASSIGN_OR_RETURN(auto m, PrepareForQuantization(model));
  GREENAI_RETURN_IF_ERROR(qi::RewriteStatic(*m, o, calibration, report));
  Graph& g = *m->graph;
  auto prod = g.BuildProducerMap();
  std::vector<const Node*> removed;
  std::vector<Node*> dqs;
  for (const auto& n : g.nodes())
    if (IsOp(*n, "DequantizeLinear")) dqs.push_back(n.get());
  for (Node* dq : dqs) {
    const std::string& in = dq->inputs[0];
    const Tensor& scale = *g.FindInitializer(dq->inputs[1]);
    const Tensor* zp = dq->HasInput(2) ? g.FindInitializer(dq->inputs[2]) : nullptr;
    if (const Tensor* w = g.FindInitializer(in)) {
      const std::string src = StripSuffix(in, "_quantized");
      const Tensor* f = src.empty() ? nullptr : g.FindInitializer(src);
      if (!f || f->dtype() != DType::kF32 || f->shape() != w->shape())
        return Internal("qat: no float source for quantized initializer '{}'", in);
      if (w->dtype() == DType::kI32) {  // bias: trained in float, requantized on export
        for (const auto& n : g.nodes())
          for (auto& i : n->inputs)
            if (i == dq->outputs[0]) i = src;
      } else {
        int64_t axis = dq->GetInt("axis", 1);
        if (axis < 0) axis += w->rank();
        const std::string s = g.UniqueName(src + "_fq_scale"), z = g.UniqueName(src + "_fq_zero_point");
        g.AddInitializer(s, AlongAxis(scale, axis, w->rank()));
        g.AddInitializer(z, zp ? AlongAxis(*zp, axis, w->rank()) : Tensor::Scalar<float>(0.f));
        EmitChain(g, src, s, z, w->dtype() == DType::kI8, dq->outputs[0], opts.weight_bits);
      }
      removed.push_back(dq);
      continue;
    }
    auto p = prod.find(in);
    if (p == prod.end() || !IsOp(*p->second.first, "QuantizeLinear")) continue;
    const Node& q = *p->second.first;
    const std::string z = g.UniqueName(q.inputs[0] + "_fq_zero_point");
    g.AddInitializer(z, Tensor::Scalar<float>(zp ? static_cast<float>(zp->GetAsDouble(0)) : 0.f));
    EmitChain(g, q.inputs[0], dq->inputs[1], z, zp && zp->dtype() == DType::kI8, dq->outputs[0]);
    removed.push_back(dq);
    removed.push_back(&q);
  }
  g.RemoveNodesIf([&](const Node& n) { return std::find(removed.begin(), removed.end(), &n) != removed.end(); });
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  DeadCodeElimination dce;
  GREENAI_RETURN_IF_ERROR(dce.Run(*m));
  g.value_types.clear();
  return m;
}

Result<std::unique_ptr<Model>> FakeQuantToQdq(const Model& model) {
  auto m = model.Clone();
  Graph& g = *m->graph;
  auto consumers = BuildConsumers(g);
  auto next = [&](const Node& n, const char* op) -> Node* {
    auto c = consumers.find(n.outputs[0]);
    if (c == consumers.end() || c->second.size() != 1 || !IsOp(*c->second[0], op)) return nullptr;
    return c->second[0];
  };
  std::vector<const Node*> removed;
  std::vector<Node*> divs;
  for (const auto& n : g.nodes())
    if (IsOp(*n, "Div") && n->doc_string == kFakeQuantTag) divs.push_back(n.get());
  for (Node* div : divs) {
    Node* round = next(*div, "Round");
    Node* add = round ? next(*round, "Add") : nullptr;
    Node* clip = add ? next(*add, "Clip") : nullptr;
    Node* sub = clip ? next(*clip, "Sub") : nullptr;
    Node* mul = sub ? next(*sub, "Mul") : nullptr;
    if (!mul) return InvalidArgument("{}: fake-quant chain is incomplete (expects Div, Round, Add, Clip, Sub, Mul)",
                                     div->Describe());
    const Tensor* s = g.FindInitializer(div->inputs[1]);
    const Tensor* z = g.FindInitializer(add->inputs[1]);
    const Tensor* lo = clip->HasInput(1) ? g.FindInitializer(clip->inputs[1]) : nullptr;
    if (!s || !z || !lo) return InvalidArgument("{}: fake-quant scale/zero point are not constants", div->Describe());
    const bool is_signed = lo->GetAsDouble(0) < 0;
    const Tensor* hi = clip->HasInput(2) ? g.FindInitializer(clip->inputs[2]) : nullptr;
    const std::string& x = div->inputs[0];
    const std::string& out = mul->outputs[0];
    std::vector<float> sv(static_cast<size_t>(s->numel()));
    for (int64_t i = 0; i < s->numel(); ++i) sv[static_cast<size_t>(i)] = static_cast<float>(s->GetAsDouble(i));
    std::vector<int32_t> zv(static_cast<size_t>(z->numel()));
    for (int64_t i = 0; i < z->numel(); ++i) zv[static_cast<size_t>(i)] = static_cast<int32_t>(z->GetAsDouble(i));
    QParams p;
    p.scale = sv;
    p.zero_point = zv;
    p.is_signed = is_signed;
    p.bits = hi && hi->GetAsDouble(0) < (is_signed ? 127.0 : 255.0) ? 7 : 8;  // the chain's clip range
    const bool vec = s->numel() > 1;
    int64_t axis = 0;
    for (int i = 0; i < s->rank(); ++i)
      if (s->dim(i) > 1) axis = i;
    auto zp_tensor = [&](bool vector) {
      Shape sh = vector ? Shape{static_cast<int64_t>(zv.size())} : Shape{};
      if (is_signed) return Tensor::FromVector<int8_t>(sh, std::vector<int8_t>(zv.begin(), zv.end()));
      return Tensor::FromVector<uint8_t>(sh, std::vector<uint8_t>(zv.begin(), zv.end()));
    };
    const std::string sn = g.UniqueName(x + "_scale"), zn = g.UniqueName(x + "_zero_point");
    g.AddInitializer(sn, vec ? Tensor::FromVector<float>({static_cast<int64_t>(sv.size())}, sv) : Tensor::Scalar<float>(sv[0]));
    g.AddInitializer(zn, zp_tensor(vec));
    if (const Tensor* w = IsConstant(g, x) ? g.FindInitializer(x) : nullptr) {
      const std::string qn = g.UniqueName(x + "_quantized");
      g.AddInitializer(qn, qi::QuantizeWeight(*w, axis, p));
      Node* dq = g.AddNode("DequantizeLinear", {qn, sn, zn}, {out}, g.UniqueName(x + "_DequantizeLinear"));
      if (vec) dq->SetInt("axis", axis);
    } else {
      const std::string qv = g.UniqueName(x + "_quantized");
      g.AddNode("QuantizeLinear", {x, sn, zn}, {qv}, g.UniqueName(x + "_QuantizeLinear"));
      g.AddNode("DequantizeLinear", {qv, sn, zn}, {out}, g.UniqueName(x + "_DequantizeLinear"));
    }
    for (const Node* n : {static_cast<const Node*>(div), static_cast<const Node*>(round), static_cast<const Node*>(add),
                          static_cast<const Node*>(clip), static_cast<const Node*>(sub), static_cast<const Node*>(mul)})
      removed.push_back(n);
  }
  g.RemoveNodesIf([&](const Node& n) { return std::find(removed.begin(), removed.end(), &n) != removed.end(); });
  // Float biases of layers whose input and weight are dequantized become int32 (scale s_x * s_w).
  auto prod = g.BuildProducerMap();
  auto dq_of = [&](const std::string& v) -> const Node* {
    auto it = prod.find(v);
    return it != prod.end() && IsOp(*it->second.first, "DequantizeLinear") ? it->second.first : nullptr;
  };
  for (const auto& np : g.nodes()) {
    Node& n = *np;
    if (!(IsOp(n, "Conv") || IsOp(n, "Gemm")) || !n.HasInput(2) || !IsConstant(g, n.inputs[2])) continue;
    const Node* xd = dq_of(n.inputs[0]);
    const Node* wd = dq_of(n.inputs[1]);
    if (!xd || !wd) continue;
    const Tensor& b = *g.FindInitializer(n.inputs[2]);
    const Tensor& xs = *g.FindInitializer(xd->inputs[1]);
    const Tensor& ws = *g.FindInitializer(wd->inputs[1]);
    if (b.dtype() != DType::kF32 || xs.numel() != 1) continue;
    std::vector<int32_t> bq(static_cast<size_t>(b.numel()));
    std::vector<float> bs(static_cast<size_t>(b.numel()));
    for (int64_t c = 0; c < b.numel(); ++c) {
      bs[static_cast<size_t>(c)] = xs.data<float>()[0] * ws.data<float>()[ws.numel() == 1 ? 0 : c];
      bq[static_cast<size_t>(c)] = static_cast<int32_t>(std::nearbyint(b.data<float>()[c] / bs[static_cast<size_t>(c)]));
    }
    const std::string base = n.inputs[2];
    const std::string qn = g.UniqueName(base + "_quantized"), sn = g.UniqueName(base + "_scale"),
                      on = g.UniqueName(base + "_dequantized");
    g.AddInitializer(qn, Tensor::FromVector<int32_t>({b.numel()}, bq));
    g.AddInitializer(sn, Tensor::FromVector<float>({b.numel()}, bs));
    g.AddNode("DequantizeLinear", {qn, sn}, {on}, g.UniqueName(base + "_DequantizeLinear"))->SetInt("axis", 0);
    n.inputs[2] = on;
  }
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  DeadCodeElimination dce;
  GREENAI_RETURN_IF_ERROR(dce.Run(*m));
  g.value_types.clear();
  return m;
}

}  // namespace greenai::compress
