// Kernels over low-precision constant weights, on the GEMM core of lowp_gemm.h:
//  - "f32_matmulint4__avx2" (priority 10): ai.greenai MatMulInt4 (ops/weight_only.h), the
//    int4 weight-only MatMul/Gemm that WeightOnlyFusion makes; the nibbles and scales are
//    repacked into 16-column panels at plan time and stay 4-bit.
//  - "f16_gemm__avx2_f16c", "f16_matmul__avx2_f16c", "bf16_gemm__avx2", "bf16_matmul__avx2"
//    (priority 20; there is no oneDNN f16/bf16 kernel here): Gemm (transA = 0, any transB,
//    alpha, beta, optional C of the same type) and MatMul (A of rank >= 1) with f16/bf16 A
//    and a constant 2-D B of the same type, what `greenai quantize --mode fp16|bf16` makes.
//    B is packed into 16-column panels of halves at plan time.
//  - the f16/bf16 Cast and Relu kernels of lowp_elementwise.cc are registered here too.
// Contract with the reference kernels (any_gemm__ref, any_matmul__ref,
// f32_matmulint4__ref): same float32 products and epilogue (alpha * acc + beta * C), one
// rounding to the output type; only the accumulation order differs (lowp_gemm.h), so results
// agree within float32 rounding of the dot products (and one half ulp for half outputs).
// Factories decline (Unimplemented: the reference runs) for other types, non-constant
// weights, transA, and nodes carrying greenai.* fused attributes (activations).
#include "backends/cpu/kernel.h"
#include "backends/cpu/lowp_gemm.h"
#include "ops/weight_only.h"

namespace greenai {

// Cast / Relu on f16 and bf16 (lowp_elementwise.cc), registered with this family.
void AddLowpElementwiseKernels(std::vector<KernelDef>& defs);

namespace {
#ifdef GREENAI_LOWP_AVX2

using lowp::Epilogue;
using lowp::LowpScratch;
using lowp::PackedWeight;
using lowp::WFormat;

bool HasFusedAttrs(const Node& n) {
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0) return true;
  return false;
}

// Strides of a C broadcast to [M, N] (as the reference Gemm); false when it does not broadcast.
bool BiasStrides(const Tensor& c, int64_t M, int64_t N, Epilogue* ep) {
  const Shape& cs = c.shape();
  if (cs.size() > 2) return false;
  if (!cs.empty() && cs.back() != 1 && cs.back() != N) return false;
  if (cs.size() == 2 && cs[0] != 1 && cs[0] != M) return false;
  ep->cm = cs.size() == 2 && cs[0] != 1 ? cs[1] : 0;
  ep->cn = !cs.empty() && cs.back() != 1 ? 1 : 0;
  return true;
}

class LowpKernel : public Kernel {
 public:
  // a_rank2: Gemm form (A exactly 2-D; C, when given, is input c_index); else MatMul form (A
  // of rank >= 1, output A.shape[:-1] + [N]).
  LowpKernel(PackedWeight w, DType t, bool a_rank2, size_t c_index, float alpha, float beta, std::string who)
      : w_(std::move(w)), t_(t), a_rank2_(a_rank2), c_index_(c_index), alpha_(alpha), beta_(beta), who_(std::move(who)) {}

  Status Run(KernelContext& ctx) override {
    const Tensor& a = *ctx.inputs[0];
    Tensor* y = ctx.outputs[0];
    if (!y || !y->defined()) return Internal("{}: output was not allocated", who_);
    if (a.dtype() != t_ || a.rank() < 1 || (a_rank2_ && a.rank() != 2) || a.dim(-1) != w_.K)
      return InvalidArgument("{}: A is {} {} (expects {} [..., {}])", who_, DTypeName(a.dtype()),
                             ShapeToString(a.shape()), DTypeName(t_), w_.K);
    const int64_t M = a.numel() / w_.K;
    if (y->dtype() != t_ || y->numel() != M * w_.N)
      return Internal("{}: output {} does not hold [{}, {}]", who_, ShapeToString(y->shape()), M, w_.N);
    Epilogue ep;
    ep.alpha = alpha_;
    const Tensor* c = c_index_ < ctx.inputs.size() ? ctx.inputs[c_index_] : nullptr;
    if (c && c->defined() && beta_ != 0.f) {
      if (c->dtype() != t_ || !BiasStrides(*c, M, w_.N, &ep))
        return InvalidArgument("{}: C is {} {}, not a {} broadcastable to [{}, {}]", who_, DTypeName(c->dtype()),
                               ShapeToString(c->shape()), DTypeName(t_), M, w_.N);
      ep.c = c->raw();
      ep.beta = beta_;
    }
    lowp::LowpGemm(w_, a.raw(), M, y->raw(), ep, scratch_, ctx.pool);
    return Status::Ok();
  }


 private:
  PackedWeight w_;
  DType t_;
  bool a_rank2_;
  size_t c_index_;  // 2 for Gemm, 3 for MatMulInt4
  float alpha_, beta_;
  std::string who_;
  LowpScratch scratch_;
};

WFormat HalfFormat(DType t) { return t == DType::kF16 ? WFormat::kF16 : WFormat::kBF16; }

Result<std::unique_ptr<Kernel>> CreateHalf(const KernelInfo& info, DType t) {
  const Node& n = info.node;
  const bool gemm = n.op_type == "Gemm";
  if (HasFusedAttrs(n) || (gemm && n.GetInt("transA", 0) != 0))
    return Unimplemented("{}: the {} kernel handles plain transA = 0 only", n.Describe(), DTypeName(t));
  const Tensor* b = info.const_inputs.size() > 1 ? info.const_inputs[1] : nullptr;
  if (info.input_types.empty() || info.input_types[0].dtype != t || !b || b->dtype() != t || b->rank() != 2 ||
      b->numel() == 0)
    return Unimplemented("{}: needs {} A and a constant non-empty 2-D {} B", n.Describe(), DTypeName(t), DTypeName(t));
  if (gemm && info.input_types.size() > 2 && info.input_types[2].dtype != DType::kUndefined &&
      info.input_types[2].dtype != t)
    return Unimplemented("{}: C is not {}", n.Describe(), DTypeName(t));
  const bool tb = gemm && n.GetInt("transB", 0) != 0;
  const int64_t K = tb ? b->dim(1) : b->dim(0), N = tb ? b->dim(0) : b->dim(1);
  PackedWeight w = lowp::PackHalf(HalfFormat(t), static_cast<const uint16_t*>(b->raw()), K, N, tb);
  const float alpha = gemm ? n.GetFloat("alpha", 1.f) : 1.f, beta = gemm ? n.GetFloat("beta", 1.f) : 0.f;
  return std::unique_ptr<Kernel>(std::make_unique<LowpKernel>(std::move(w), t, gemm, 2, alpha, beta, n.Describe()));
}

Result<std::unique_ptr<Kernel>> CreateMatMulInt4(const KernelInfo& info) {
  const Node& n = info.node;
  const int64_t K = n.GetInt("K", 0), N = n.GetInt("N", 0), B = n.GetInt("block_size", 0);
  const Tensor* p = info.const_inputs.size() > 1 ? info.const_inputs[1] : nullptr;
  const Tensor* s = info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
  if (K <= 0 || N <= 0 || B <= 0 || B % 2 != 0 || !p || !s || p->dtype() != DType::kU8 || s->dtype() != DType::kF32)
    return Unimplemented("{}: the int4 kernel needs constant packed weights and scales", n.Describe());
  const int64_t nb = (K + B - 1) / B;
  if (p->numel() != nb * B * N / 2 || s->numel() != nb * N)
    return InvalidArgument("{}: P {} and S {} do not match K = {}, N = {}, block_size = {}", n.Describe(),
                           ShapeToString(p->shape()), ShapeToString(s->shape()), K, N, B);
  PackedWeight w = lowp::PackInt4(p->data<uint8_t>(), s->data<float>(), K, N, B);
  const bool with_c = n.HasInput(3);
  return std::unique_ptr<Kernel>(std::make_unique<LowpKernel>(std::move(w), DType::kF32, with_c, 3,
                                                              n.GetFloat("alpha", 1.f), n.GetFloat("beta", 1.f),
                                                              n.Describe()));
}

#endif  // GREENAI_LOWP_AVX2
}  // namespace

void AddLowpKernels(std::vector<KernelDef>& defs) {
  AddLowpElementwiseKernels(defs);
#ifdef GREENAI_LOWP_AVX2
  defs.push_back({kMatMulInt4, kGreenaiDomain, "f32_matmulint4__avx2", 10, CreateMatMulInt4});
  defs.push_back({"Gemm", "", "f16_gemm__avx2_f16c", 20, [](const KernelInfo& i) { return CreateHalf(i, DType::kF16); }});
  defs.push_back(
      {"MatMul", "", "f16_matmul__avx2_f16c", 20, [](const KernelInfo& i) { return CreateHalf(i, DType::kF16); }});
  defs.push_back({"Gemm", "", "bf16_gemm__avx2", 20, [](const KernelInfo& i) { return CreateHalf(i, DType::kBF16); }});
  defs.push_back({"MatMul", "", "bf16_matmul__avx2", 20, [](const KernelInfo& i) { return CreateHalf(i, DType::kBF16); }});
#else
  (void)defs;
#endif
}

}  // namespace greenai
