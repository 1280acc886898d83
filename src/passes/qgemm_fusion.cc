// QGemmFusion: see passes/passes.h. Anchored at each QuantizeLinear, recognizes
//
//   acc = MatMulInteger(A, B [, a_zp [, b_zp]])        B constant 2-D, a_zp constant scalar,
//                                                      b_zp constant scalar or [N]
//   pre = Add(acc, bias) or Add(bias, acc)             bias constant int32 [N]   (optional)
//   y   = QuantizeLinear(pre, y_scale, y_zp [, axis])  constant scale and 8-bit zero point,
//                                                      per tensor or per column (last axis)
//
// where acc and pre are read by nothing else (no other node, no graph output), and replaces
// the chain by one ai.greenai QGemm(A, B, a_zp, b_zp, bias, y_scale, y_zp) -> y
// (ops/qgemm.h), which is by definition this chain: preserves outputs exactly. It is what
// QdqFusion writes for a quantized MatMul/Gemm with a bias; the fused kernel then never
// materializes the int32 matrix. Anything else is left alone.
#include "ops/qgemm.h"
#include "passes/fusion_matcher.h"
#include "passes/passes.h"

namespace greenai {
namespace {

class Matcher : FusionMatcher {
 public:
  explicit Matcher(Model& m) : FusionMatcher(*m.graph), model_(m) {}

  int Run() {
    int fused = 0;
    for (const auto& np : g_.nodes())
      if (!removed_.count(np.get()) && IsDefaultOp(*np, "QuantizeLinear") && TryFuse(*np)) ++fused;
    RemoveMatched();
    return fused;
  }

 private:
  const Tensor* Const(const std::string& v) const {
    return !v.empty() && IsConstant(g_, v) ? g_.FindInitializer(v) : nullptr;
  }

  bool TryFuse(Node& q) {
    if (q.inputs.size() != 3 || q.outputs.size() != 1 || q.inputs[0].empty()) return false;
    for (const auto& [k, a] : q.attributes)
      if (k != "axis") return false;  // e.g. opset 21's block_size: another meaning
    const Tensor* ys = Const(q.inputs[1]);
    const Tensor* yz = Const(q.inputs[2]);
    if (!ys || !yz || ys->dtype() != DType::kF32 || !Int8(yz->dtype()) || yz->numel() != ys->numel() ||
        ys->rank() > 1 || ys->numel() < 1)
      return false;
    // The int32 input: Add(acc, bias) or acc itself.
    if (!Sole(q.inputs[0])) return false;
    Node* add = Producer(q.inputs[0]);
    std::string acc = q.inputs[0], bias;
    if (add && IsDefaultOp(*add, "Add")) {
      if (add->inputs.size() != 2 || !add->attributes.empty() || add->outputs.size() != 1) return false;
      const int side = Const(add->inputs[1]) ? 1 : 0;
      bias = add->inputs[static_cast<size_t>(side)];
      acc = add->inputs[static_cast<size_t>(1 - side)];
      if (!Sole(acc)) return false;
    } else {
      add = nullptr;
    }
    Node* mm = Producer(acc);
    if (!mm || !IsDefaultOp(*mm, "MatMulInteger") || !mm->attributes.empty() || mm->outputs.size() != 1 ||
        mm->inputs.size() < 2 || mm->inputs.size() > 4 || mm->inputs[0].empty())
      return false;
    const Tensor* b = Const(mm->inputs[1]);
    if (!b || b->rank() != 2 || !Int8(b->dtype())) return false;
    const int64_t N = b->dim(1);
    const std::string a_zp = mm->HasInput(2) ? mm->inputs[2] : "", b_zp = mm->HasInput(3) ? mm->inputs[3] : "";
    if (!a_zp.empty()) {
      const Tensor* t = Const(a_zp);
      if (!t || t->numel() != 1) return false;  // MatMulInteger also allows per-row; QGemm does not
    }
    if (!b_zp.empty()) {
      const Tensor* t = Const(b_zp);
      if (!t || (t->numel() != 1 && (t->rank() != 1 || t->numel() != N))) return false;
    }
    if (add) {
      const Tensor* bt = Const(bias);
      if (!bt || bt->dtype() != DType::kI32 || bt->rank() != 1 || bt->numel() != N) return false;
    }
    if (ys->numel() > 1 && !PerColumn(q, mm->inputs[0], N, ys->numel())) return false;

    q.op_type = std::string(kQGemm);
    q.domain = std::string(kGreenaiDomain);
    q.inputs = {mm->inputs[0], mm->inputs[1], a_zp, b_zp, bias, q.inputs[1], q.inputs[2]};
    q.attributes.clear();
    std::string base = mm->name;
    if (const std::string suffix = "_MatMulInteger"; base.size() > suffix.size() && base.ends_with(suffix))
      base.resize(base.size() - suffix.size());
    q.name = g_.UniqueName(base + "_QGemm");
    g_.value_types.erase(acc);
    removed_.insert(mm);
    if (add) {
      g_.value_types.erase(add->outputs[0]);
      removed_.insert(add);
    }
    return true;
  }

  // A per-axis y_scale of `count` entries applies along the last axis of MatMulInteger's
  // output (rank: A's, or 1 for a 1-D A), which has N columns; per-axis needs opset 13.
  bool PerColumn(const Node& q, const std::string& a, int64_t N, int64_t count) const {
    if (count != N || DefaultOpset(model_) < 13) return false;
    int64_t axis = q.GetInt("axis", 1);
    if (axis == -1) return true;
    auto it = g_.value_types.find(a);
    if (it == g_.value_types.end() || !it->second.has_shape || axis < 0) return false;
    const int64_t rank = std::max<int64_t>(1, it->second.rank());
    return axis == rank - 1;
  }

  Model& model_;
};

}  // namespace

Status QGemmFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  Matcher m(model);
  fused_ = m.Run();
  // The QGemm node takes the QuantizeLinear's place, after every producer of its inputs.
  return Status::Ok();
}

}  // namespace greenai
