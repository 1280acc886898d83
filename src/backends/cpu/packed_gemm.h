// Test hook of the packed f32 GEMM (f32_gemm_avx2.cc).
//
// Contract: SetPackedGemmWide(false) makes packed GEMM kernels created afterwards run every A
// on their own 6x16 tiles, as on AVX2 CPUs; true (the default) lets them hand A with more
// than one row to oneDNN's matmul on AVX-512 CPUs. Kernels already created keep their choice.
// Thread-safe; meant for tests, which must exercise the tiles on every CPU.
#pragma once

namespace greenai {

void SetPackedGemmWide(bool on);

}  // namespace greenai
