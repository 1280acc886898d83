// Runtime-internal fused integer GEMM of the domain "ai.greenai" (like MatMulInt4 in
// ops/weight_only.h: made at plan time by a pass, passes/qgemm_fusion.cc, inside a Session's
// private graph, never written to a file). Op definition: ops/qgemm.cc; reference kernel (the
// test oracle): backends/cpu/ref_qgemm.cc; fast kernel: backends/cpu/int8_qgemm_avx2.cc.
//
//   QGemm(A, B, a_zero_point, b_zero_point, bias, y_scale, y_zero_point) -> Y   domain ai.greenai
//     A             uint8 or int8 [..., K] (rank >= 1)
//     B             uint8 or int8 [K, N]
//     a_zero_point  optional, A's dtype, one element
//     b_zero_point  optional, B's dtype, one element or N (per column)
//     bias          optional, int32 [N]
//     y_scale       float32, one element or N (per column), each > 0
//     y_zero_point  uint8 or int8, as many elements as y_scale; its dtype is Y's
//     Y             [..., N] (A's leading dims)
//   Semantics: exactly the chain QdqFusion writes for a quantized MatMul/Gemm with a bias,
//     MatMulInteger(A, B, a_zp, b_zp) -> Add(bias) -> QuantizeLinear(y_scale, y_zp, axis -1),
//   element by element:
//     acc = sum_k (A[m, k] - a_zp) * (B[k, n] - b_zp[n]) + bias[n]        (int32, wrapping)
//     Y[m, n] = saturate(nearbyint(double(acc) / double(y_scale[n])) + y_zero_point[n])
//   with round half to even, as the reference QuantizeLinear of an int32 input computes it.
#pragma once

#include <string_view>

#include "ops/weight_only.h"  // kGreenaiDomain

namespace greenai {

inline constexpr std::string_view kQGemm = "QGemm";

// Input positions of QGemm.
enum QGemmInput : size_t {
  kQGemmA = 0,
  kQGemmB = 1,
  kQGemmAZero = 2,
  kQGemmBZero = 3,
  kQGemmBias = 4,
  kQGemmYScale = 5,
  kQGemmYZero = 6,
};

}  // namespace greenai
