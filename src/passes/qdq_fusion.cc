// QdqFusion: turns QuantizeLinear/DequantizeLinear (QDQ) patterns back into integer ops at
// plan time, so a QDQ model runs int8 end to end (see passes/passes.h and
// docs/quantization.md). Patterns, each anchored at the QuantizeLinear that ends it:
//
//  DQ(x) , DQ(W const) [, DQ(b int32) | b float const] -> Conv [-> Relu] -> Q(y)
//      => QLinearConv(x, W, y, b_int32)
//  DQ(x) , DQ(W const) -> MatMul [-> Relu] -> Q(y)
//      => QLinearMatMul(x, W, y)
//  DQ(x) , DQ(W const) , bias -> Gemm/MatMul+bias [-> Relu] -> Q(y)
//      => MatMulInteger(x, W) -> Add(int32 bias) -> QuantizeLinear(int32, s_y / (s_x s_w), z_y)
//  DQ(x) -> MaxPool|Reshape|Flatten|Transpose|Squeeze|Unsqueeze -> Q(y) with y's scale and
//  zero point equal to x's  => the same op on the integers
//
// Relu is folded only when the output zero point is the type's minimum (0 for uint8, -128
// for int8): then saturation already clamps every negative value to the zero point, which
// is exactly Relu. Otherwise the pattern is left as it is.
//
// Preserves: tolerance. The fused result differs from the unfused float evaluation by at
// most one quantization step of y (float re-association in the requantization).
#include <cmath>

#include "passes/fusion_matcher.h"
#include "passes/passes.h"

namespace greenai {

namespace {


struct DqInfo {
  const Node* node = nullptr;
  std::string q, scale, zp;  // zp may be ""
  const Tensor* scale_t = nullptr;
  const Tensor* zp_t = nullptr;
  int64_t axis = 1;
};

// The DequantizeLinear producing `value` with constant scale/zero point, or nullopt.
std::optional<DqInfo> ProducerDq(const Graph& g, const std::unordered_map<std::string, std::pair<Node*, int>>& prod,
                                 const std::string& value) {
  auto it = prod.find(value);
  if (it == prod.end()) return std::nullopt;
  const Node& n = *it->second.first;
  if (!IsDefaultOp(n, "DequantizeLinear") || !n.HasInput(0) || !n.HasInput(1)) return std::nullopt;
  if (!IsConstant(g, n.inputs[1]) || (n.HasInput(2) && !IsConstant(g, n.inputs[2]))) return std::nullopt;
  DqInfo d;
  d.node = &n;
  d.q = n.inputs[0];
  d.scale = n.inputs[1];
  d.zp = n.HasInput(2) ? n.inputs[2] : "";
  d.scale_t = g.FindInitializer(d.scale);
  d.zp_t = d.zp.empty() ? nullptr : g.FindInitializer(d.zp);
  d.axis = n.GetInt("axis", 1);
  if (d.scale_t->dtype() != DType::kF32) return std::nullopt;
  return d;
}


// Activation DQ: per-tensor with an 8-bit zero point (the zero point's dtype tells the data's).
bool PerTensor8(const DqInfo& d) { return d.scale_t->numel() == 1 && d.zp_t && d.zp_t->numel() == 1 && Int8(d.zp_t->dtype()); }

bool SameParams(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.numel() != b.numel()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (a.GetAsDouble(i) != b.GetAsDouble(i)) return false;
  return true;
}

int32_t Zp(const Tensor& z, int64_t i) { return static_cast<int32_t>(z.GetAsDouble(z.numel() == 1 ? 0 : i)); }

class Fuser : FusionMatcher {
 public:
  explicit Fuser(Model& m) : FusionMatcher(*m.graph) {}

  int Run() {
    std::vector<Node*> snapshot;
    for (const auto& n : g_.nodes()) snapshot.push_back(n.get());
    for (Node* q : snapshot) {
      if (removed_.count(q) || !IsDefaultOp(*q, "QuantizeLinear") || !q->HasInput(0) || !q->HasInput(1) ||
          !q->HasInput(2) || !IsConstant(g_, q->inputs[1]) || !IsConstant(g_, q->inputs[2]))
        continue;
      const Tensor& ys = *g_.FindInitializer(q->inputs[1]);
      const Tensor& yz = *g_.FindInitializer(q->inputs[2]);
      if (ys.numel() != 1 || yz.numel() != 1 || !Int8(yz.dtype()) || ys.dtype() != DType::kF32) continue;
      if (TryPassThrough(*q, ys, yz) || TryLinear(*q, ys, yz)) ++fused_;
    }
    RemoveMatched();
    return fused_;
  }

 private:
  std::string Init(const std::string& base, Tensor t) {
    const std::string n = g_.UniqueName(base);
    g_.AddInitializer(n, std::move(t));
    return n;
  }
  // Appends `node`; Run's caller sorts the graph topologically afterwards.
  Node* InsertBefore(const Node& /*anchor*/, std::unique_ptr<Node> node) {
    return g_.InsertNode(g_.nodes().size(), std::move(node));
  }
  std::unique_ptr<Node> MakeNode(std::string op, std::vector<std::string> in, std::vector<std::string> out,
                                 const std::string& base) {
    auto n = std::make_unique<Node>();
    n->op_type = std::move(op);
    n->inputs = std::move(in);
    n->outputs = std::move(out);
    n->name = g_.UniqueName(base);
    return n;
  }

  bool TryPassThrough(Node& q, const Tensor& ys, const Tensor& yz) {
    Node* op = Producer(q.inputs[0]);
    if (!op || !Sole(q.inputs[0])) return false;
    static const char* kOps[] = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"};
    bool ok = false;
    for (const char* o : kOps) ok = ok || IsDefaultOp(*op, o);
    if (!ok || op->outputs.size() != 1 || !op->HasInput(0)) return false;
    auto dq = ProducerDq(g_, prod_, op->inputs[0]);
    if (!dq || !PerTensor8(*dq) || !SameParams(*dq->scale_t, ys) || !SameParams(*dq->zp_t, yz)) return false;
    op->inputs[0] = dq->q;
    g_.value_types.erase(op->outputs[0]);
    op->outputs[0] = q.outputs[0];
    removed_.insert(&q);
    return true;
  }

  bool TryLinear(Node& q, const Tensor& ys, const Tensor& yz) {
    if (!Sole(q.inputs[0])) return false;
    Node* op = Producer(q.inputs[0]);
    Node* relu = nullptr;
    if (op && IsDefaultOp(*op, "Relu")) {
      relu = op;
      if (!relu->HasInput(0) || !Sole(relu->inputs[0])) return false;
      op = Producer(relu->inputs[0]);
      const int32_t qmin = yz.dtype() == DType::kU8 ? 0 : -128;
      if (Zp(yz, 0) != qmin) return false;
    }
    if (!op || op->outputs.size() != 1) return false;
    const bool conv = IsDefaultOp(*op, "Conv"), matmul = IsDefaultOp(*op, "MatMul"), gemm = IsDefaultOp(*op, "Gemm");
    if (!conv && !matmul && !gemm) return false;
    if (op->inputs.size() < 2 || op->HasAttr(kAttrActivation)) return false;
    if (gemm && (op->GetFloat("alpha", 1.f) != 1.f || op->GetFloat("beta", 1.f) != 1.f || op->GetInt("transA", 0)))
      return false;
    auto x = ProducerDq(g_, prod_, op->inputs[0]);
    auto w = ProducerDq(g_, prod_, op->inputs[1]);
    if (!x || !w || !PerTensor8(*x) || !IsConstant(g_, w->q) || !w->zp_t || !Int8(w->zp_t->dtype())) return false;
    const Tensor& wq = *g_.FindInitializer(w->q);
    if (!Int8(wq.dtype()) || wq.dtype() != w->zp_t->dtype()) return false;
    const bool trans_b = gemm && op->GetInt("transB", 0) != 0;
    const int64_t out_axis = conv || trans_b ? 0 : 1;
    if (wq.rank() < 2) return false;
    const int64_t channels = wq.dim(static_cast<int>(out_axis));
    const bool per_channel = w->scale_t->numel() > 1;
    if (per_channel) {
      const int64_t ax = w->axis < 0 ? w->axis + wq.rank() : w->axis;
      if (ax != out_axis || w->scale_t->numel() != channels) return false;
    }
    // Bias: int32 in units of s_x * s_w[c].
    const float xs = x->scale_t->data<float>()[0];
    std::vector<int32_t> bias;
    if (op->HasInput(2) && !matmul) {
      std::vector<float> bf(static_cast<size_t>(channels));
      if (auto b = ProducerDq(g_, prod_, op->inputs[2]); b && IsConstant(g_, b->q)) {
        const Tensor& bq = *g_.FindInitializer(b->q);
        if (bq.dtype() != DType::kI32 || bq.numel() != channels) return false;
        for (int64_t c = 0; c < channels; ++c)
          bf[static_cast<size_t>(c)] = static_cast<float>(bq.data<int32_t>()[c]) *
                                       b->scale_t->data<float>()[b->scale_t->numel() == 1 ? 0 : c];
      } else if (IsConstant(g_, op->inputs[2])) {
        const Tensor& bt = *g_.FindInitializer(op->inputs[2]);
        if (bt.dtype() != DType::kF32 || bt.numel() != channels) return false;
        for (int64_t c = 0; c < channels; ++c) bf[static_cast<size_t>(c)] = bt.data<float>()[c];
      } else {
        return false;
      }
      bias.resize(static_cast<size_t>(channels));
      for (int64_t c = 0; c < channels; ++c) {
        const float s = xs * w->scale_t->data<float>()[per_channel ? c : 0];
        bias[static_cast<size_t>(c)] = static_cast<int32_t>(std::nearbyint(bf[static_cast<size_t>(c)] / s));
      }
    }
    const std::string& y = q.outputs[0];
    if (conv) {
      std::vector<std::string> in = {x->q, x->scale, x->zp, w->q, w->scale, w->zp, q.inputs[1], q.inputs[2]};
      if (!bias.empty()) in.push_back(Init(op->name + "_bias_int32", Tensor::FromVector<int32_t>({channels}, bias)));
      auto n = MakeNode("QLinearConv", in, {y}, op->name + "_QLinearConv");
      for (const auto& [k, a] : op->attributes) n->attributes[k] = a;
      InsertBefore(q, std::move(n));
    } else if (bias.empty() && !trans_b) {
      InsertBefore(q, MakeNode("QLinearMatMul", {x->q, x->scale, x->zp, w->q, w->scale, w->zp, q.inputs[1], q.inputs[2]},
                               {y}, op->name + "_QLinearMatMul"));
    } else {
      // B as [K, N] (transposed when Gemm has transB), zero points per column.
      if (wq.rank() != 2) return false;
      std::string b_name = w->q;
      if (trans_b) {
        Tensor t = Tensor::Create(wq.dtype(), {wq.dim(1), wq.dim(0)}).value();
        const int64_t N = wq.dim(0), K = wq.dim(1);
        const auto* s = static_cast<const uint8_t*>(wq.raw());
        auto* d = static_cast<uint8_t*>(t.raw());
        for (int64_t i = 0; i < N; ++i)
          for (int64_t k = 0; k < K; ++k) d[k * N + i] = s[i * K + k];
        b_name = Init(w->q + "_kn", t);
      }
      const std::string acc = g_.UniqueName(op->name + "_acc_int32");
      InsertBefore(q, MakeNode("MatMulInteger", {x->q, b_name, x->zp, w->zp}, {acc}, op->name + "_MatMulInteger"));
      std::string pre = acc;
      if (!bias.empty()) {
        pre = g_.UniqueName(op->name + "_acc_bias_int32");
        const std::string bn = Init(op->name + "_bias_int32", Tensor::FromVector<int32_t>({channels}, bias));
        InsertBefore(q, MakeNode("Add", {acc, bn}, {pre}, op->name + "_bias_Add"));
      }
      const float yscale = ys.data<float>()[0];
      std::vector<float> rs(static_cast<size_t>(per_channel ? channels : 1));
      for (size_t c = 0; c < rs.size(); ++c) rs[c] = yscale / (xs * w->scale_t->data<float>()[c]);
      std::string rs_name, rz_name;
      if (per_channel) {
        rs_name = Init(op->name + "_requant_scale", Tensor::FromVector<float>({channels}, rs));
        if (yz.dtype() == DType::kU8)
          rz_name = Init(op->name + "_requant_zp", Tensor::FromVector<uint8_t>({channels}, std::vector<uint8_t>(
                                                                                    rs.size(), static_cast<uint8_t>(Zp(yz, 0)))));
        else
          rz_name = Init(op->name + "_requant_zp", Tensor::FromVector<int8_t>({channels}, std::vector<int8_t>(
                                                                                   rs.size(), static_cast<int8_t>(Zp(yz, 0)))));
      } else {
        rs_name = Init(op->name + "_requant_scale", Tensor::Scalar<float>(rs[0]));
        rz_name = q.inputs[2];
      }
      auto rq = MakeNode("QuantizeLinear", {pre, rs_name, rz_name}, {y}, op->name + "_requantize");
      if (per_channel) rq->SetInt("axis", -1);
      InsertBefore(q, std::move(rq));
    }
    g_.value_types.erase(y);
    removed_.insert(&q);
    removed_.insert(op);
    if (relu) removed_.insert(relu);
    return true;
  }

  int fused_ = 0;
};

}  // namespace

Status QdqFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  // Per-axis requantization (QuantizeLinear with a vector scale) needs opset 13.
  if (DefaultOpset(model) < 13) return Status::Ok();
  Fuser f(model);
  fused_ = f.Run();
  if (fused_ == 0) return Status::Ok();
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  DeadCodeElimination dce;
  return dce.Run(model);
}

}  // namespace greenai
