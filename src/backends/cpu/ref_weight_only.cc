// Reference kernel of MatMulInt4 (ops/weight_only.h), the oracle for the fast kernels in
// lowp_*.cc. It computes exactly what the standard-op chain it replaces computes with the
// reference kernels: each weight dequantized in float32 as (float(q) - 8) * scale (one
// rounding), then the plain float32 dot product in k order of any_matmul__ref /
// any_gemm__ref, then alpha * acc + beta * C in float32. So a graph fused by
// WeightOnlyFusion and run with reference kernels gives the unfused graph's bits.
// Scratch: one dequantized weight column (K floats) per call; this is the oracle, not a
// fast path.
#include <vector>

#include "backends/cpu/kernel.h"
#include "ops/weight_only.h"

namespace greenai {
namespace {

Result<std::unique_ptr<Kernel>> CreateMatMulInt4Ref(const KernelInfo& info) {
  const Node& n = info.node;
  const int64_t K = n.GetInt("K", 0), N = n.GetInt("N", 0), B = n.GetInt("block_size", 0);
  if (K <= 0 || N <= 0 || B <= 0 || B % 2 != 0)
    return InvalidArgument("{}: K = {}, N = {}, block_size = {} are not valid", n.Describe(), K, N, B);
  const float alpha = n.GetFloat("alpha", 1.f), beta = n.GetFloat("beta", 1.f);
  return MakePlannedOutputKernel([K, N, B, alpha, beta, who = n.Describe()](KernelContext& ctx) -> Status {
    const Tensor& a = *ctx.inputs[0];
    const Tensor& p = *ctx.inputs[1];
    const Tensor& s = *ctx.inputs[2];
    const Tensor* c = ctx.inputs.size() > 3 ? ctx.inputs[3] : nullptr;
    Tensor& y = *ctx.outputs[0];
    const int64_t nb = (K + B - 1) / B;
    if (a.rank() < 1 || a.dim(-1) != K || p.numel() != nb * B * N / 2 || s.numel() != nb * N)
      return InvalidArgument("{}: A {}, P {}, S {} do not match K = {}, N = {}, block_size = {}", who,
                             ShapeToString(a.shape()), ShapeToString(p.shape()), ShapeToString(s.shape()), K, N, B);
    const int64_t M = a.numel() / K;
    int64_t cm = 0, cn = 0;
    if (c) {
      const Shape& cs = c->shape();
      if (cs.size() == 2) {
        cm = cs[0] == 1 ? 0 : cs[1];
        cn = cs[1] == 1 ? 0 : 1;
      } else if (cs.size() == 1) {
        cn = cs[0] == 1 ? 0 : 1;
      }
    }
    const float* av = a.data<float>();
    const uint8_t* pv = p.data<uint8_t>();
    const float* sv = s.data<float>();
    float* yv = y.data<float>();
    std::vector<float> w(static_cast<size_t>(K));
    for (int64_t j = 0; j < N; ++j) {
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = k * N + j;
        const uint8_t byte = pv[i / 2];
        const int q = i % 2 == 0 ? byte & 0x0F : byte >> 4;
        w[static_cast<size_t>(k)] = (static_cast<float>(q) - 8.f) * sv[(k / B) * N + j];
      }
      for (int64_t m = 0; m < M; ++m) {
        float acc = 0.f;
        const float* am = av + m * K;
        for (int64_t k = 0; k < K; ++k) acc += am[k] * w[static_cast<size_t>(k)];
        float r = acc;
        if (c) {
          r = alpha * acc;
          r += beta * c->data<float>()[m * cm + j * cn];
        } else if (alpha != 1.f) {
          r = alpha * acc;
        }
        yv[m * N + j] = r;
      }
    }
    return Status::Ok();
  });
}

}  // namespace

void AddRefWeightOnlyKernels(std::vector<KernelDef>& defs) {
  defs.push_back({kMatMulInt4, kGreenaiDomain, "f32_matmulint4__ref", 0, CreateMatMulInt4Ref});
}

}  // namespace greenai
