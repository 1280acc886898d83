// WeightOnlyFusion: see passes/passes.h. Recognizes exactly the int4 weight expansion that
// `greenai quantize --mode int4-weight` writes (compress/quantize/precision.cc):
//
//   t0 = BitShift(P, 4, LEFT); lo = BitShift(t0, 4, RIGHT); hi = BitShift(P, 4, RIGHT)
//   pairs = Concat(Unsqueeze(lo, [1]), Unsqueeze(hi, [1]), axis 1)
//   Wq = Reshape(Sub(Cast(pairs, FLOAT), 8), [nb, B, N]) * S          S: float [nb, 1, N]
//   W  = Reshape(Wq, [nb * B, N])   [ -> Slice(W, [0], [K]) when K is not a multiple of B ]
//
// feeding input B of MatMul (2-D weight) or Gemm (transA = transB = 0, any alpha/beta/C), and
// turns that MatMul/Gemm into ai.greenai MatMulInt4(A, P, S[, C]) (ops/weight_only.h). Every
// node, attribute and constant of the chain is checked; anything else is left alone. The
// chain itself is not edited (other readers of W keep it); dead-code removal drops it.
// Preserves: exact under the reference kernels (MatMulInt4's reference computes the chain's
// float32 weights and the same dot products); fast kernels: within float32 rounding.
#include <optional>

#include "ops/weight_only.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using ProducerMap = std::unordered_map<std::string, std::pair<Node*, int>>;

bool IsDefault(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// The default-domain node producing `value` with op `op`, `nin` inputs (all present), one
// output and no attributes other than `allowed` (checked by the caller); else nullptr.
const Node* Producer(const ProducerMap& prod, const std::string& value, std::string_view op, size_t nin,
                     std::initializer_list<std::string_view> allowed = {}) {
  auto it = prod.find(value);
  if (it == prod.end()) return nullptr;
  const Node* n = it->second.first;
  if (!IsDefault(*n) || n->op_type != op || n->inputs.size() != nin || n->outputs.size() != 1) return nullptr;
  for (const auto& in : n->inputs)
    if (in.empty()) return nullptr;
  for (const auto& [k, a] : n->attributes) {
    bool ok = false;
    for (auto name : allowed) ok = ok || k == name;
    if (!ok) return nullptr;
  }
  return n;
}

// A constant (initializer, not shadowed by a graph input) of dtype `t` and `numel` elements.
const Tensor* Const(const Graph& g, const std::string& name, DType t, int64_t numel) {
  if (!IsConstant(g, name)) return nullptr;
  const Tensor* v = g.FindInitializer(name);
  return v->dtype() == t && v->numel() == numel ? v : nullptr;
}

bool IntsEqual(const Graph& g, const std::string& name, const std::vector<int64_t>& want) {
  const Tensor* v = Const(g, name, DType::kI64, static_cast<int64_t>(want.size()));
  if (!v || v->rank() != 1) return false;
  for (size_t i = 0; i < want.size(); ++i)
    if (v->data<int64_t>()[i] != want[i]) return false;
  return true;
}

bool ScalarIs(const Graph& g, const std::string& name, DType t, double value) {
  const Tensor* v = Const(g, name, t, 1);
  return v && v->rank() <= 1 && v->GetAsDouble(0) == value;
}

struct Int4Weight {
  std::string packed, scales;
  int64_t K = 0, N = 0, block = 0;
};

// Unsqueeze(x, axes [1] or [-1]) -> x, or "" when `value` is not that.
std::string UnsqueezedFrom(const Graph& g, const ProducerMap& prod, const std::string& value) {
  const Node* u = Producer(prod, value, "Unsqueeze", 2);
  if (!u || !(IntsEqual(g, u->inputs[1], {1}) || IntsEqual(g, u->inputs[1], {-1}))) return "";
  return u->inputs[0];
}

bool IsShift(const Graph& g, const Node* n, const char* direction) {
  return n && n->GetString("direction", "") == direction && ScalarIs(g, n->inputs[1], DType::kU8, 4);
}

std::optional<Int4Weight> MatchInt4(const Graph& g, const ProducerMap& prod, const std::string& w) {
  Int4Weight m;
  std::string full = w;
  int64_t k_slice = -1;
  if (const Node* sl = Producer(prod, w, "Slice", 3)) {  // axes/steps omitted: axis 0, step 1
    const Tensor* en = Const(g, sl->inputs[2], DType::kI64, 1);
    if (!IntsEqual(g, sl->inputs[1], {0}) || !en || en->rank() != 1) return std::nullopt;
    k_slice = en->data<int64_t>()[0];
    full = sl->inputs[0];
  }
  const Node* rw = Producer(prod, full, "Reshape", 2, {"allowzero"});
  if (!rw || rw->GetInt("allowzero", 0) != 0) return std::nullopt;
  const Node* mul = Producer(prod, rw->inputs[0], "Mul", 2);
  if (!mul) return std::nullopt;
  const Node* rb = nullptr;
  std::string scales;
  for (int side = 0; side < 2 && !rb; ++side) {
    rb = Producer(prod, mul->inputs[static_cast<size_t>(side)], "Reshape", 2, {"allowzero"});
    scales = mul->inputs[static_cast<size_t>(1 - side)];
  }
  if (!rb || rb->GetInt("allowzero", 0) != 0 || !IsConstant(g, rb->inputs[1]) || !IsConstant(g, rw->inputs[1]))
    return std::nullopt;
  const Tensor& s3 = *g.FindInitializer(rb->inputs[1]);
  if (s3.dtype() != DType::kI64 || s3.rank() != 1 || s3.numel() != 3) return std::nullopt;
  const int64_t nb = s3.data<int64_t>()[0], B = s3.data<int64_t>()[1], N = s3.data<int64_t>()[2];
  if (nb <= 0 || B <= 0 || B % 2 != 0 || N <= 0 || nb > (int64_t{1} << 30) || B > (int64_t{1} << 20) ||
      N > (int64_t{1} << 30))
    return std::nullopt;
  const int64_t Kp = nb * B;
  if (!IntsEqual(g, rw->inputs[1], {Kp, N})) return std::nullopt;
  const Tensor* st = Const(g, scales, DType::kF32, nb * N);
  if (!st || st->rank() != 3 || st->dim(0) != nb || st->dim(1) != 1 || st->dim(2) != N) return std::nullopt;
  if (k_slice != -1 && (k_slice <= Kp - B || k_slice > Kp)) return std::nullopt;  // only the last block is partial
  // Sub(Cast(Concat(...), FLOAT), 8)
  const Node* sub = Producer(prod, rb->inputs[0], "Sub", 2);
  if (!sub || !ScalarIs(g, sub->inputs[1], DType::kF32, 8.0)) return std::nullopt;
  const Node* cast = Producer(prod, sub->inputs[0], "Cast", 1, {"to"});
  if (!cast || cast->GetInt("to", 0) != static_cast<int64_t>(DType::kF32)) return std::nullopt;
  const Node* cat = Producer(prod, cast->inputs[0], "Concat", 2, {"axis"});
  if (!cat || (cat->GetInt("axis", 0) != 1 && cat->GetInt("axis", 0) != -1)) return std::nullopt;
  const std::string lo = UnsqueezedFrom(g, prod, cat->inputs[0]), hi = UnsqueezedFrom(g, prod, cat->inputs[1]);
  if (lo.empty() || hi.empty()) return std::nullopt;
  const Node* shr_lo = Producer(prod, lo, "BitShift", 2, {"direction"});
  const Node* shr_hi = Producer(prod, hi, "BitShift", 2, {"direction"});
  if (!IsShift(g, shr_lo, "RIGHT") || !IsShift(g, shr_hi, "RIGHT")) return std::nullopt;
  const Node* shl = Producer(prod, shr_lo->inputs[0], "BitShift", 2, {"direction"});
  if (!IsShift(g, shl, "LEFT") || shl->inputs[0] != shr_hi->inputs[0]) return std::nullopt;
  const Tensor* p = Const(g, shl->inputs[0], DType::kU8, Kp * N / 2);
  if (!p || p->rank() != 1) return std::nullopt;
  m.packed = shl->inputs[0];
  m.scales = scales;
  m.K = k_slice == -1 ? Kp : k_slice;
  m.N = N;
  m.block = B;
  return m;
}

bool OnlyAttrs(const Node& n, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, a] : n.attributes) {
    bool ok = false;
    for (auto name : allowed) ok = ok || k == name;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status WeightOnlyFusion::Run(Model& model) {
  fused_ = 0;
  Graph& g = *model.graph;
  const ProducerMap prod = g.BuildProducerMap();
  for (const auto& np : g.nodes()) {
    Node& n = *np;
    if (!IsDefault(n) || n.outputs.size() != 1 || n.inputs.size() < 2 || n.inputs[0].empty()) continue;
    const bool gemm = n.op_type == "Gemm";
    if (gemm) {
      if (n.inputs.size() > 3 || !OnlyAttrs(n, {"alpha", "beta", "transA", "transB"}) ||
          n.GetInt("transA", 0) != 0 || n.GetInt("transB", 0) != 0)
        continue;
    } else if (n.op_type != "MatMul" || n.inputs.size() != 2 || !n.attributes.empty()) {
      continue;
    }
    if (auto it = g.value_types.find(n.inputs[0]); it != g.value_types.end() && it->second.dtype != DType::kUndefined &&
                                                  it->second.dtype != DType::kF32)
      continue;
    const std::optional<Int4Weight> w = MatchInt4(g, prod, n.inputs[1]);
    if (!w) continue;
    const float alpha = n.GetFloat("alpha", 1.f), beta = n.GetFloat("beta", 1.f);
    std::vector<std::string> inputs = {n.inputs[0], w->packed, w->scales};
    if (gemm && n.HasInput(2)) inputs.push_back(n.inputs[2]);
    n.op_type = std::string(kMatMulInt4);
    n.domain = std::string(kGreenaiDomain);
    n.inputs = std::move(inputs);
    n.attributes.clear();
    n.SetInt("K", w->K);
    n.SetInt("N", w->N);
    n.SetInt("block_size", w->block);
    if (alpha != 1.f) n.SetFloat("alpha", alpha);
    if (beta != 1.f) n.SetFloat("beta", beta);
    ++fused_;
  }
  if (fused_ == 0) return Status::Ok();
  DeadCodeElimination dce;  // the expansions, so constant folding does not expand them anyway
  return dce.Run(model);
}

}  // namespace greenai
