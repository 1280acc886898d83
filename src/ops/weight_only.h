// Runtime-internal weight-only quantized ops (domain "ai.greenai"). They are produced at plan
// time by passes (passes/weight_only_fusion.cc) inside a Session's private graph and never
// appear in an exported model (SaveModel has no business writing them: no other runtime
// knows them). Op definitions: ops/weight_only.cc; reference kernel (the test oracle):
// backends/cpu/ref_weight_only.cc; fast kernels: backends/cpu/lowp_*.cc.
//
//   MatMulInt4(A, P, S[, C]) -> Y            domain ai.greenai
//     A  float32 [..., K] (rank >= 1; exactly 2-D when C is given)
//     P  uint8 1-D [Kp * N / 2], Kp = ceil(K / block_size) * block_size: the int4 weight
//        W[Kp, N] row-major, two offset-binary nibbles per byte, element i = k * N + n in
//        the low nibble of byte i / 2 when i is even, in the high nibble when i is odd
//        (exactly what `greenai quantize --mode int4-weight` writes; rows >= K are padding)
//     S  float32, Kp / block_size * N elements (written as [Kp/B, 1, N]): one scale per
//        (block of block_size rows, column)
//     C  optional float32, unidirectionally broadcastable to [M, N] (the Gemm bias)
//     attrs K, N, block_size (required ints > 0; block_size even), alpha, beta (floats,
//        default 1)
//     Y  float32 [..., N] (A's leading dims)
//   Semantics, element by element in float32 as the standard-op chain it replaces computes
//   them:  W[k, n] = (float(q) - 8) * S[k / block_size, n]   (one rounding: the product)
//          Y = alpha * (A @ W[0:K]) + beta * C   (MatMul form: alpha = 1, no C)
#pragma once

#include <string_view>

namespace greenai {

inline constexpr std::string_view kGreenaiDomain = "ai.greenai";
inline constexpr std::string_view kMatMulInt4 = "MatMulInt4";

}  // namespace greenai
