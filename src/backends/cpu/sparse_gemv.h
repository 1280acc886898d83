// Sparse f32 GEMV: y[n] = alpha * sum_k x[k] w[k, n] + beta * c[n] for ONE activation row x[K]
// against a constant weight W [K, N] with many zeros. Used by the CSR kernels of
// sparse_gemm.cc for batch-1 Gemm/MatMul, a 1x1 Conv on one pixel and the single-row tail of
// M = 32k + 1; internal to backends/cpu.
//
// Two forms of the weight, both built once at plan time from the CSR over output channels:
//  - kChannels (AVX2; every x86-64 build with AVX2 + FMA): channel n's non-zeros are
//    [ptr[n], ptr[n + 1]), padded with zero values up to a multiple of 8 so the dot has no
//    scalar tail (pad index: the channel's last real k, so a pad never reads outside x and
//    multiplies 0 by a value the channel already reads). Column indices are uint16 when
//    K <= 65536 (6 bytes per non-zero), else int32. Each y[n] is one dot, 8 lanes then a fixed
//    horizontal sum.
//  - kWindows (AVX-512F builds; the default there): channels in blocks of 16 (one per vector
//    lane) and K in windows of 32 columns (window j starts at min(32 j, K - 32), 0 when K < 32,
//    so it never reads past x). A block's non-zeros in window j become steps[b][j] steps, the
//    largest lane count; a step holds 16 (value, column - window start) pairs, one per lane, a
//    lane with fewer non-zeros padded with value 0 and column 0. Per step the two registers of
//    x's window are permuted by the 16 byte indices (vpermt2ps) and multiplied into the lane
//    sums, so there is no gather and no horizontal sum. ~2x the non-zeros in steps at 90 %
//    random zeros (80 bytes per step).
//  - Result: each y[n] is summed in a fixed order set by the form alone (not by how channels
//    are split across threads, or by Dots ranges): bit-identical for any thread count. The
//    results differ from the dense kernels only by float summation order; a pad multiplies 0 by
//    an x its block reads, so a non-finite x can give NaN where the non-zeros alone would give
//    +-inf (a dense dot over all of K has the same 0 * inf).
//  - Threads (Gemv): contiguous ranges of channels (kChannels) or 16-channel blocks (kWindows)
//    of equal padded work, with a minimum per thread (GemvThreads; the fork/join costs ~1-1.5
//    us, see the .cc files for the measurements). Dots never forks.
//  - No allocation at run time. Thread safety: the weight is read-only after building.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"

namespace greenai::sparse {

enum class RowForm { kChannels, kWindows };

// kWindows where this build has AVX-512F, else kChannels.
RowForm DefaultRowForm();
bool WindowFormAvailable();

struct RowWeight {
  int64_t K = 0, N = 0;
  RowForm form = RowForm::kChannels;
  // kChannels
  std::vector<int64_t> ptr;     // N + 1 offsets into col and val, each a multiple of 8
  std::vector<uint16_t> col16;  // K <= 65536
  std::vector<int32_t> col32;   // K > 65536
  std::vector<float> val;
  // kWindows (blocks = ceil(N / 16), windows = win_x.size())
  std::vector<int64_t> win_x;       // window j's first column
  std::vector<uint8_t> steps;       // [blocks][windows]: steps of block b in window j (<= 32)
  std::vector<int64_t> block_step;  // blocks + 1: block b's steps are [block_step[b], block_step[b + 1])
  std::vector<uint8_t> lane_col;    // 16 per step, column - window start
  std::vector<float> lane_val;      // 16 per step, 0 in a pad lane
  // Multiply-adds per run including pads (the split and cost measure).
  int64_t padded_nnz() const {
    if (form == RowForm::kWindows) return block_step.empty() ? 0 : 16 * block_step.back();
    return ptr.empty() ? 0 : ptr.back();
  }
};

// From the CSR over output channels: channel n's non-zeros are [row_ptr[n], row_ptr[n + 1]) with
// ascending column k in col. REQUIRES: row_ptr.size() == N + 1, all col in [0, K). A form the
// build lacks (kWindows without AVX-512F) gives kChannels.
RowWeight BuildRowWeight(int64_t K, int64_t N, std::span<const int64_t> row_ptr, std::span<const int32_t> col,
                         std::span<const float> val, RowForm form = DefaultRowForm());

// Where the dots go: y[n * y_stride] = act(alpha * dot_n + (c ? beta * c[n * c_stride] : 0)),
// act = max(0, .) when relu (with the Relu kernel's operand order: NaN stays NaN), else none.
struct RowOut {
  float* y = nullptr;
  int64_t y_stride = 1;
  float alpha = 1.f, beta = 0.f;
  const float* c = nullptr;
  int64_t c_stride = 0;  // 0: one C value broadcast to every channel
  bool relu = false;
};

// Channels [n0, n1) of x (K floats) on the calling thread.
void Dots(const RowWeight& w, int64_t n0, int64_t n1, const float* x, const RowOut& out);

// All N channels, split across `pool` by the rule above (pool may be null: one thread).
void Gemv(const RowWeight& w, const float* x, const RowOut& out, ThreadPool* pool);

// Threads Gemv uses for w on a pool of `threads`.
int64_t GemvThreads(const RowWeight& w, int64_t threads);

namespace internal {  // the kWindows form (sparse_gemv_windows.cc)
void BuildWindows(RowWeight& w, std::span<const int64_t> row_ptr, std::span<const int32_t> col,
                  std::span<const float> val);
#if defined(__AVX512F__)
void WindowDots(const RowWeight& w, int64_t n0, int64_t n1, const float* x, const RowOut& out);
#endif
}  // namespace internal

}  // namespace greenai::sparse
