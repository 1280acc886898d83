// Sparse f32 GEMV: y[n] = alpha * sum_k x[k] w[k, n] + beta * c[n] for ONE activation row x[K]
// against a constant weight W [K, N] with many zeros. Used by the CSR kernels of
// sparse_gemm.cc for batch-1 Gemm/MatMul, a 1x1 Conv on one pixel and the single-row tail of
// M = 32k + 1; internal to backends/cpu.
//
// Contract:
//  - Layout (built once at plan time by BuildRowWeight from the CSR over output channels):
//    channel n's non-zeros are [ptr[n], ptr[n + 1]), padded with zero values up to a multiple
//    of 8 so the dot has no scalar tail (pad index: the channel's last real k, so a pad never
//    reads outside x and multiplies 0 by a value the channel already reads). Column indices
//    are uint16 when K <= 65536 (6 bytes per non-zero), else int32.
//  - Result: each y[n] is one dot over its non-zeros in a fixed order (8 lanes, then a fixed
//    horizontal sum), so results do not depend on how channels are split across threads
//    (bit-identical for any thread count). They differ from the dense kernels only by float
//    summation order; a non-finite x[k] can turn an infinite output into NaN (the pad's 0 * inf).
//  - Threads (Gemv): the channels are split into GemvThreads ranges of equal padded non-zero
//    count, at least 8192 non-zeros per thread (so 2 threads from 16K on: the fork/join costs
//    ~1-1.5 us, see sparse_gemv.cc for the measurements). Dots never forks.
//  - No allocation at run time. Thread safety: the weight is read-only after building.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"

namespace greenai::sparse {

struct RowWeight {
  int64_t K = 0, N = 0;
  std::vector<int64_t> ptr;     // N + 1 offsets into col and val, each a multiple of 8
  std::vector<uint16_t> col16;  // K <= 65536
  std::vector<int32_t> col32;   // K > 65536
  std::vector<float> val;
  int64_t padded_nnz() const { return ptr.empty() ? 0 : ptr.back(); }
};

// From the CSR over output channels: channel n's non-zeros are [row_ptr[n], row_ptr[n + 1]) with
// ascending column k in col. REQUIRES: row_ptr.size() == N + 1, all col in [0, K).
RowWeight BuildRowWeight(int64_t K, int64_t N, std::span<const int64_t> row_ptr, std::span<const int32_t> col,
                         std::span<const float> val);

// Where the dots go: y[n * y_stride] = alpha * dot_n + (c ? beta * c[n * c_stride] : 0).
struct RowOut {
  float* y = nullptr;
  int64_t y_stride = 1;
  float alpha = 1.f, beta = 0.f;
  const float* c = nullptr;
  int64_t c_stride = 0;  // 0: one C value broadcast to every channel
};

// Channels [n0, n1) of x (K floats) on the calling thread.
void Dots(const RowWeight& w, int64_t n0, int64_t n1, const float* x, const RowOut& out);

// All N channels, split across `pool` by the rule above (pool may be null: one thread).
void Gemv(const RowWeight& w, const float* x, const RowOut& out, ThreadPool* pool);

// Threads Gemv uses for w on a pool of `threads`.
int64_t GemvThreads(const RowWeight& w, int64_t threads);

}  // namespace greenai::sparse
