// Reference kernel of ai.greenai QGemm (ops/qgemm.h), the oracle of the fast kernel in
// int8_qgemm_avx2.cc. It computes what the chain it replaces computes with the reference
// kernels, the plain way: the int32 dot product with zero points (wrapping, as
// i8_matmulinteger__ref), plus the bias (wrapping), then QuantizeLinear of an int32 input:
// double(acc) / double(y_scale), round half to even (std::nearbyint), + zero point, saturate.
// So a graph fused by QGemmFusion gives the unfused graph's bits under the reference kernels.
// Also "i8_qgemm__gemm_i16" (priority 10, portable, see below), like ref_quant.cc keeps the
// int8_gemm.h kernels of MatMulInteger next to its reference.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/cpu/int8_gemm.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/ref_quant_internal.h"
#include "ops/qgemm.h"

namespace greenai {
namespace {

using qk::IntAt;

struct QGemmArgs {
  const Tensor* a = nullptr;
  const Tensor* b = nullptr;
  const Tensor* za = nullptr;
  const Tensor* zb = nullptr;
  const Tensor* bias = nullptr;
  const Tensor* ys = nullptr;
  const Tensor* yz = nullptr;
  int64_t M = 0, K = 0, N = 0;
};

Result<QGemmArgs> CheckArgs(const std::string& who, const KernelContext& ctx) {
  auto in = [&](size_t i) { return i < ctx.inputs.size() ? ctx.inputs[i] : nullptr; };
  QGemmArgs g{in(kQGemmA), in(kQGemmB), in(kQGemmAZero), in(kQGemmBZero), in(kQGemmBias), in(kQGemmYScale),
              in(kQGemmYZero)};
  if (!g.ys || !g.yz) return InvalidArgument("{}: y_scale and y_zero_point are required", who);
  const Tensor& a = *g.a;
  const Tensor& b = *g.b;
  if (b.rank() != 2 || a.rank() < 1 || a.dim(-1) != b.dim(0))
    return InvalidArgument("{}: A {} and B {} do not form [M, K] x [K, N]", who, ShapeToString(a.shape()),
                           ShapeToString(b.shape()));
  g.K = b.dim(0);
  g.N = b.dim(1);
  g.M = 1;  // A's leading dims (not numel / K: K may be 0)
  for (int i = 0; i + 1 < a.rank(); ++i) g.M *= a.dim(i);
  const int64_t ns = g.ys->numel();
  if ((ns != 1 && ns != g.N) || g.yz->numel() != ns || (g.za && g.za->numel() != 1) ||
      (g.zb && g.zb->numel() != 1 && g.zb->numel() != g.N) || (g.bias && g.bias->numel() != g.N))
    return InvalidArgument("{}: y_scale ({}), y_zero_point ({}), a_zero_point, b_zero_point or bias have the wrong "
                           "number of elements for N = {}",
                           who, ns, g.yz->numel(), g.N);
  return g;
}

// Y[m, n] from the int32 sum before the bias: + bias (wrapping), then QuantizeLinear of an
// int32 input exactly as any_quantizelinear__ref computes it.
void StoreRequantized(const QGemmArgs& g, int64_t m, int64_t n, uint32_t acc, Tensor& y) {
  if (g.bias) acc += static_cast<uint32_t>(g.bias->data<int32_t>()[n]);
  const int64_t c = g.ys->numel() == 1 ? 0 : n;
  const double q = std::nearbyint(static_cast<double>(static_cast<int32_t>(acc)) /
                                  static_cast<double>(g.ys->data<float>()[c])) +
                   IntAt(*g.yz, c);
  if (y.dtype() == DType::kU8) y.data<uint8_t>()[m * g.N + n] = qk::QuantOut<uint8_t>(q);
  else y.data<int8_t>()[m * g.N + n] = qk::QuantOut<int8_t>(q);
}

Status RunQGemmRef(const std::string& who, KernelContext& ctx) {
  GREENAI_ASSIGN_OR_RETURN(QGemmArgs g, CheckArgs(who, ctx));
  const int32_t zav = g.za ? IntAt(*g.za, 0) : 0;
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t n = 0; n < g.N; ++n) {
      const int32_t zbv = g.zb ? IntAt(*g.zb, g.zb->numel() == 1 ? 0 : n) : 0;
      uint32_t acc = 0;  // int32 arithmetic that wraps instead of overflowing
      for (int64_t k = 0; k < g.K; ++k)
        acc += static_cast<uint32_t>((IntAt(*g.a, m * g.K + k) - zav) * (IntAt(*g.b, k * g.N + n) - zbv));
      StoreRequantized(g, m, n, acc, *ctx.outputs[0]);
    }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateQGemmRef(const KernelInfo& info) {
  return MakePlannedOutputKernel(
      [who = info.node.Describe()](KernelContext& ctx) -> Status { return RunQGemmRef(who, ctx); });
}

// "i8_qgemm__gemm_i16": any 8-bit A and B with a constant B and b_zero_point, through
// int8_gemm.h (B - zb widened to int16 and packed once; GemmPacked, exact) into an int32
// scratch, then StoreRequantized. For what u8s8_qgemm__avx2 declines (uint8 or -128
// weights, nonzero weight zero points), so a fused graph never falls back to the plain loops.
class QGemmI16 : public Kernel {
 public:
  static Result<std::unique_ptr<Kernel>> Create(const KernelInfo& info) {
    auto c = [&](size_t i) { return i < info.const_inputs.size() ? info.const_inputs[i] : nullptr; };
    const Tensor* b = c(kQGemmB);
    if (!b || b->rank() != 2 || (info.node.HasInput(kQGemmBZero) && !c(kQGemmBZero)))
      return Unimplemented("{}: gemm_i16 qgemm: B or b_zero_point is not constant", info.node.Describe());
    const Tensor* zb = c(kQGemmBZero);
    const int64_t K = b->dim(0), N = b->dim(1);
    if (zb && zb->numel() != 1 && zb->numel() != N)
      return InvalidArgument("{}: b_zero_point has {} elements (expects 1 or {})", info.node.Describe(), zb->numel(), N);
    std::vector<int32_t> zbv(static_cast<size_t>(N), 0);
    for (int64_t j = 0; zb && j < N; ++j) zbv[static_cast<size_t>(j)] = IntAt(*zb, zb->numel() == 1 ? 0 : j);
    auto k = std::unique_ptr<QGemmI16>(new QGemmI16());
    k->who_ = info.node.Describe();
    k->packed_.Pack(K, N, b->raw(), b->dtype() == DType::kI8, N, zbv.data());
    return std::unique_ptr<Kernel>(std::move(k));
  }

  Status Run(KernelContext& ctx) override {
    GREENAI_ASSIGN_OR_RETURN(QGemmArgs g, CheckArgs(who_, ctx));
    if (g.K != packed_.K() || g.N != packed_.N()) return InvalidArgument("{}: B changed shape", who_);
    const std::vector<int32_t> za(static_cast<size_t>(g.M), g.za ? IntAt(*g.za, 0) : 0);
    acc_.resize(static_cast<size_t>(g.M * g.N));
    auto body = [&](int64_t lo, int64_t hi) {
      const int64_t m0 = lo * kRowBlock, m1 = std::min(g.M, hi * kRowBlock);
      int8::GemmPacked(m0, m1, g.a->raw(), g.a->dtype() == DType::kI8, g.K, za.data(), packed_,
                       acc_.data(), g.N);
      for (int64_t m = m0; m < m1; ++m)
        for (int64_t n = 0; n < g.N; ++n)
          StoreRequantized(g, m, n, static_cast<uint32_t>(acc_[static_cast<size_t>(m * g.N + n)]), *ctx.outputs[0]);
    };
    const int64_t blocks = (g.M + kRowBlock - 1) / kRowBlock;
    // Small products run inline: waking workers costs more than the GEMM itself.
    if (ctx.pool && g.M * g.N * g.K >= (int64_t{1} << 21)) ctx.pool->ParallelFor(blocks, 1, body);
    else body(0, blocks);
    return Status::Ok();
  }

 private:
  static constexpr int64_t kRowBlock = 32;
  std::string who_;
  int8::PackedB packed_;
  std::vector<int32_t> acc_;  // scratch (one Run at a time per kernel)
};

}  // namespace

void AddRefQGemmKernels(std::vector<KernelDef>& defs) {
  defs.push_back({kQGemm, kGreenaiDomain, "i8_qgemm__ref", 0, CreateQGemmRef});
  defs.push_back({kQGemm, kGreenaiDomain, "i8_qgemm__gemm_i16", 10, QGemmI16::Create});
}

}  // namespace greenai
