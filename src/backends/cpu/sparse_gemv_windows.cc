// Sparse f32 GEMV, the kWindows form (contract in sparse_gemv.h): 16 output channels per
// AVX-512 vector, K in windows of 32 columns whose x values sit in two registers.
//
// Why this form (AVX-512 hosts): the kChannels form builds each 8-lane vector of x from 8
// scalar loads and inserts (the inserts all go to one shuffle port), ~0.23 ns per non-zero on
// this Sapphire Rapids VM, and then needs a horizontal sum per channel. Here one vpermt2ps
// picks 16 x values for 16 channels out of the window's 32, so a step costs one 16-byte index
// load and zero-extension, one permute and one FMA with the 16 values from memory, and the lane
// sums are already the outputs. The price is padding: a block's step count in a window is its
// busiest lane's, ~2x the non-zeros at 90 % random zeros (E[max of 16 Binomial(32, 0.1)] ~ 6.4
// against a mean of 3.2).
//
// Measured on the 2-vCPU Sapphire Rapids VM (stand-alone loop over random 90 %-zero weights,
// medians of 15 x 2000 calls, 1 thread): 784x512 4.0-4.1 us (kChannels 9.2-9.5, dense packed
// GEMV ~13.6 in bench_sparse), 512x256 1.35 us (3.1-3.2; dense ~3.9), ~0.8 ns per step.
//  - kept: software prefetch 24 steps ahead of both streams, 4.8-4.9 -> 4.0-4.1 us and
//    1.6 -> 1.35 (the hardware prefetchers left the 80-byte steps waiting on L2; 8 steps
//    ahead gained half of it, 12-48 all of it).
//  - rejected: four accumulators instead of two, 2-4 % faster without the prefetch and slower
//    with it; int32 indices (no zero-extension, 128 bytes per step) 1.4-1.5x slower; indices
//    of 4 steps packed per dword and shifted out (fewer shuffle uops) no faster; one flat loop
//    over steps each naming its window (x reloaded per step, no per-window trip count) 1.5x
//    slower; evening out the trip counts (to test branch mispredictions) changed nothing.
//  - not built: windows placed per block where its next non-zero is, with the step count
//    chosen for the best fill; a simulation gave 21 % fewer steps for 70 % more windows, each
//    costing two unaligned x loads and a branch.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/sparse_gemv.h"

namespace greenai::sparse::internal {

namespace {
constexpr int64_t kLanes = 16, kWindow = 32;
// Software prefetch distance, in elements of the value and index streams (24 steps ahead).
constexpr int64_t kPrefetch = 384;
}  // namespace

void BuildWindows(RowWeight& w, std::span<const int64_t> row_ptr, std::span<const int32_t> col,
                  std::span<const float> val) {
  const int64_t K = w.K, N = w.N;
  const int64_t windows = (K + kWindow - 1) / kWindow, blocks = (N + kLanes - 1) / kLanes;
  w.form = RowForm::kWindows;
  w.win_x.resize(static_cast<size_t>(windows));
  for (int64_t j = 0; j < windows; ++j)
    w.win_x[static_cast<size_t>(j)] = K < kWindow ? 0 : std::min(j * kWindow, K - kWindow);
  w.steps.assign(static_cast<size_t>(blocks * windows), 0);
  w.block_step.assign(static_cast<size_t>(blocks + 1), 0);
  w.lane_col.clear();
  w.lane_val.clear();
  int64_t total = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t cur[kLanes], end[kLanes];  // each lane's next non-zero and end in the CSR
    for (int64_t l = 0; l < kLanes; ++l) {
      const int64_t n = b * kLanes + l;
      cur[l] = n < N ? row_ptr[static_cast<size_t>(n)] : 0;
      end[l] = n < N ? row_ptr[static_cast<size_t>(n + 1)] : 0;
    }
    for (int64_t j = 0; j < windows; ++j) {
      const int64_t k_end = std::min(K, (j + 1) * kWindow), x0 = w.win_x[static_cast<size_t>(j)];
      int64_t first[kLanes], count[kLanes], steps = 0;
      for (int64_t l = 0; l < kLanes; ++l) {
        first[l] = cur[l];
        while (cur[l] < end[l] && col[static_cast<size_t>(cur[l])] < k_end) ++cur[l];
        count[l] = cur[l] - first[l];
        steps = std::max(steps, count[l]);
      }
      w.steps[static_cast<size_t>(b * windows + j)] = static_cast<uint8_t>(steps);
      const size_t at = w.lane_col.size();
      w.lane_col.resize(at + static_cast<size_t>(steps * kLanes), 0);
      w.lane_val.resize(at + static_cast<size_t>(steps * kLanes), 0.f);
      for (int64_t s = 0; s < steps; ++s)
        for (int64_t l = 0; l < kLanes; ++l) {
          if (s >= count[l]) continue;  // pad: value 0, column 0 of the window
          const size_t src = static_cast<size_t>(first[l] + s), dst = at + static_cast<size_t>(s * kLanes + l);
          w.lane_col[dst] = static_cast<uint8_t>(col[src] - x0);
          w.lane_val[dst] = val[src];
        }
      total += steps;
    }
    w.block_step[static_cast<size_t>(b + 1)] = total;
  }
}

#if defined(__AVX512F__)
namespace {

__attribute__((always_inline)) inline __m512 Step(__m512 x0, __m512 x1, const uint8_t* c, const float* v, __m512 acc) {
  // maskz with all lanes: the plain intrinsic's _mm512_undefined_epi32 trips GCC 12's
  // -Wmaybe-uninitialized; the same vpmovzxbd is emitted.
  const __m512i idx = _mm512_maskz_cvtepu8_epi32(0xffff, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
  return _mm512_fmadd_ps(_mm512_loadu_ps(v), _mm512_permutex2var_ps(x0, idx, x1), acc);
}

// The 16 lane sums of block b. Within a window the steps alternate between two accumulators
// (one FMA chain waited on the FMA latency), added at the end: a fixed order per lane.
__m512 BlockSums(const RowWeight& w, int64_t b, const float* x) {
  const int64_t windows = static_cast<int64_t>(w.win_x.size());
  const uint8_t* steps = w.steps.data() + b * windows;
  const int64_t s0 = w.block_step[static_cast<size_t>(b)];
  const uint8_t* c = w.lane_col.data() + s0 * kLanes;
  const float* v = w.lane_val.data() + s0 * kLanes;
  const int64_t* wx = w.win_x.data();
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  for (int64_t j = 0; j < windows; ++j) {
    int64_t n = steps[j];
    if (n == 0) continue;
    const __m512 x0 = _mm512_loadu_ps(x + wx[j]), x1 = _mm512_loadu_ps(x + wx[j] + kLanes);
    for (; n >= 2; n -= 2, c += 2 * kLanes, v += 2 * kLanes) {
      _mm_prefetch(reinterpret_cast<const char*>(v + kPrefetch), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(v + kPrefetch + kLanes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + kPrefetch), _MM_HINT_T0);
      a0 = Step(x0, x1, c, v, a0);
      a1 = Step(x0, x1, c + kLanes, v + kLanes, a1);
    }
    if (n) {
      a0 = Step(x0, x1, c, v, a0);
      c += kLanes;
      v += kLanes;
    }
  }
  return _mm512_add_ps(a0, a1);
}

}  // namespace

void WindowDots(const RowWeight& w, int64_t n0, int64_t n1, const float* x, const RowOut& o) {
  if (n0 >= n1) return;
  alignas(64) float xs[kWindow];
  if (w.K < kWindow) {  // the one window would read past x: a zero-filled copy
    std::memset(xs, 0, sizeof(xs));
    std::memcpy(xs, x, static_cast<size_t>(w.K) * sizeof(float));
    x = xs;
  }
  const __m512 alpha = _mm512_set1_ps(o.alpha), beta = _mm512_set1_ps(o.beta);
  for (int64_t b = n0 / kLanes; b * kLanes < n1; ++b) {
    const int64_t lo = std::max(n0, b * kLanes), hi = std::min(n1, (b + 1) * kLanes);
    const __mmask16 keep = static_cast<__mmask16>(((1u << (hi - b * kLanes)) - 1) & ~((1u << (lo - b * kLanes)) - 1));
    __m512 r = _mm512_mul_ps(alpha, BlockSums(w, b, x));
    if (o.c) {
      __m512 cv;
      if (o.c_stride == 0) {
        cv = _mm512_set1_ps(*o.c);
      } else if (o.c_stride == 1) {
        cv = _mm512_maskz_loadu_ps(keep, o.c + b * kLanes);
      } else {
        alignas(64) float t[kLanes] = {};
        for (int64_t n = lo; n < hi; ++n) t[n - b * kLanes] = o.c[n * o.c_stride];
        cv = _mm512_load_ps(t);
      }
      r = _mm512_add_ps(r, _mm512_mul_ps(beta, cv));
    }
    // the Relu kernel's operand order; maskz over all lanes for GCC 12 (see Step)
    if (o.relu) r = _mm512_maskz_max_ps(0xffff, _mm512_setzero_ps(), r);
    if (o.y_stride == 1) {
      _mm512_mask_storeu_ps(o.y + b * kLanes, keep, r);
    } else {
      alignas(64) float t[kLanes];
      _mm512_store_ps(t, r);
      for (int64_t n = lo; n < hi; ++n) o.y[n * o.y_stride] = t[n - b * kLanes];
    }
  }
}
#endif  // __AVX512F__

}  // namespace greenai::sparse::internal
