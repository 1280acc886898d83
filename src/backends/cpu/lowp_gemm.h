// Low-precision-weight GEMM core shared by the int4 weight-only and fp16/bf16 kernels
// (lowp_kernels.cc registers them). Private to backends/cpu.
//
// Weights: a constant W[K, N] repacked once at plan time into column panels of kNr = 16
// columns, each panel K rows deep, in its compressed type (it never exists as float32):
//  - int4: row k of panel p is 8 bytes; byte j = q(k, n0 + j) | q(k, n0 + 8 + j) << 4, q the
//    offset-binary value (w = (q - 8) * scale); scales [panels][nb][16]; padded columns have
//    q = 8 and scale 0.
//  - f16 / bf16: row k of panel p is 16 halves (32 bytes); padded columns are 0.
// Computation (Y[M, N] = alpha * A[M, K] @ W + beta * C), float32 accumulation with FMA:
//  - M <= kGemvMaxRows ("GEMV"): every panel is streamed once, 4 panels at a time for one
//    row (2 for two rows) so that 8 independent accumulators hide the FMA latency; for each
//    k row the 16 weights of a panel are converted to float in registers (int4: zero-extend,
//    mask/shift the nibbles, vcvtdq2ps; f16: vcvtph2ps; bf16: 16-bit shift) and FMA'd into
//    the M x 16 accumulators. int4 sums a * q per block and applies the block's scale once:
//    y += s * (sum a q - 8 sum a).
//  - larger M: each panel is decoded 256 k rows at a time into a float32 chunk [256][16]
//    (int4: exactly (q - 8) * s, as the reference; 16 KB, stays in L1) and a 6x16
//    register-blocked FMA micro-kernel runs every 6-row tile of A over it (A read in place,
//    or converted to float32 once per call when half), accumulating across chunks.
//  - panels are split across ctx.pool's threads when M*K*N >= kParallelMacs.
// Epilogue, per element in float32 as the reference kernels: r = acc; r = alpha * r when
// alpha != 1 or C is given; r += beta * C; then stored as the output type, rounded to
// nearest even once (f16 by vcvtps2ph, bf16 as FloatToBFloat16, NaN kept quiet).
// Results differ from the reference only by the float32 accumulation order (and, for int4
// GEMV, by the block-sum form), so they agree within a few float32 ulps of sum |a w|; a
// half output may then round to the neighbouring half.
// Scratch (A converted to float32, decoded panels, block sums) lives in LowpScratch, owned by
// the kernel object, grown only when a larger call needs it: no allocation per run in the
// steady state. Thread safety: one Run at a time per scratch object.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

// The kernels need AVX2, FMA and F16C (-march=native on any x86-64 since 2013); elsewhere
// nothing here is compiled and the factories are not registered.
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define GREENAI_LOWP_AVX2 1
#endif

namespace greenai::lowp {

inline constexpr int64_t kNr = 16;          // panel width (columns)
inline constexpr int64_t kGemvMaxRows = 4;  // GEMV path up to this many rows of A
inline constexpr double kParallelMacs = 1.5e5;

enum class WFormat : uint8_t { kInt4, kF16, kBF16 };

struct PackedWeight {
  WFormat fmt = WFormat::kF16;
  int64_t K = 0, N = 0, panels = 0;
  int64_t block = 0, nb = 0;     // int4: rows per scale block, blocks
  std::vector<uint8_t> q4;       // int4: [panels][K][8]
  std::vector<float> scales;     // int4: [panels][nb][16]
  std::vector<uint16_t> h;       // f16 / bf16: [panels][K][16]
};

// int4 from the MatMulInt4 layout (ops/weight_only.h): packed nibbles of W[Kp, N] and scales
// [Kp / block, N]; only the first K rows are used.
PackedWeight PackInt4(const uint8_t* packed, const float* scales, int64_t K, int64_t N, int64_t block);
// f16 / bf16 bits of B, [K, N] row-major, or [N, K] when trans_b.
PackedWeight PackHalf(WFormat fmt, const uint16_t* b, int64_t K, int64_t N, bool trans_b);

// Element type of A, C and Y: kF32 with int4 weights, the weight's type with f16 / bf16.
struct Epilogue {
  float alpha = 1.f, beta = 0.f;
  const void* c = nullptr;  // C in the output type, or nullptr
  int64_t cm = 0, cn = 0;   // element strides of C over rows and columns (0 = broadcast)
};

struct LowpScratch {
  std::vector<float> a;       // half A as float32 [M][K]
  std::vector<float> asum;    // int4 GEMV: sum of a over each block [M][nb]
  std::vector<float> panels;  // larger M, per parallel chunk: a decoded B chunk, then C tiles
};

// Y[M, N] (row-major, ldy = N) from A[M, K] (row-major, lda = K). REQUIRES: A, C and Y of
// the element type of w.fmt (float32 for int4 weights, else the weight's half type), buffers
// sized, pool not null. Only with GREENAI_LOWP_AVX2.
void LowpGemm(const PackedWeight& w, const void* a, int64_t M, void* y, const Epilogue& ep, LowpScratch& scratch,
              ThreadPool* pool);

}  // namespace greenai::lowp
