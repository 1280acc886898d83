// Sparse f32 GEMV (contract in sparse_gemv.h): the kChannels form, the dispatch between the
// forms and the thread split. The kWindows form (AVX-512) is in sparse_gemv_windows.cc.
//
// Why the kChannels form: for one activation row the dot per output channel ("row of W^T") keeps x
// (K floats, 3 KB for the mlp) in L1 and streams each non-zero's value and index once; the
// other order (x[k] broadcast over row k's non-zeros, scattered into y) needs a load and a
// store of y per non-zero. Per 8 non-zeros: four 32-bit index loads, 8 loads of x (six of them
// as the memory operand of an insert), one 128-bit insert and one FMA taking the 8 values from
// memory; per 8 channels one 8-lane horizontal sum and a vector epilogue. ~0.27 ns (0.8 cycles)
// per non-zero on an idle core, bound by the loads and inserts of x.
//
// Measured on the 2-vCPU AMD EPYC (Zen 3) VM, stand-alone loops over the mlp's 784x512 and
// 512x256 weights at 90 % zeros (medians of 21-31 interleaved runs; other processes busy):
//  - kept: padding each channel to a multiple of 8 (no scalar tail) ~10 %; one horizontal sum
//    per 8 channels instead of one per channel 5-8 %; uint16 indices read two per 32-bit load
//    8 % (against four per 64-bit load, which cost a move, a shift and a zero-extension for
//    the middle two); inserts with a memory operand ~5 %. uint16 indices also cut the bytes by
//    25 % (the 784x512 copy is 250 KB and stays in a core's 512 KB L2).
//  - rejected: AVX2 vgatherdps, 1.4-1.6x slower (microcoded on Zen 3); SELL-8 (8 channels per
//    vector, no horizontal sums) 1.1-1.2x slower; a permute form (8 x values in a register,
//    vpermps selecting per 8 channels, 2.5x padding) 1.4-2.3x slower; broadcasts and blends in
//    place of inserts, channels ordered by length, 4 channels in lockstep instead of 2, or
//    128-bit halves instead of one 256-bit FMA: equal or 2-7 % slower.
#include "backends/cpu/sparse_gemv.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace greenai::sparse {

namespace {

// Each thread gets at least this many padded non-zeros, so 2 threads from 16K on. Dots alone on
// random 90 %-zero weights, 2 threads / 1 thread (2-vCPU VM, pool threads awake, median of 15
// interleaved runs, 3 runs): 1.6-1.8 at 1.9K non-zeros, 1.2-1.3 at 3.6K, 0.85-0.97 at 7.1K,
// 0.77-0.79 at 10.6K, 0.69-0.72 at 14K (512x256), 0.58-0.60 at 42K (784x512): the fork/join
// costs ~1-1.5 us. Through the whole kernel (bench_sparse, session 6, 3 alternations of 5
// interleaved repetitions on 2 threads) the 512x256 layer's 14K took 5.6-6.5 us split in two
// and 5.1-5.6 us on one thread (the threshold was 4096 until then); the 784x512 layer's 42K
// still gains from the split.
constexpr int64_t kGemvMinNonZerosPerThread = 8192;
constexpr int64_t kMaxParts = 64;
// kWindows: padded multiply-adds (16 per step) per thread at least, ~1.2 us of work. On the
// Sapphire Rapids VM an empty ParallelFor costs ~0.9 us and each half runs ~7 % slower beside
// the other: 512x256 at 90 % zeros (27K padded) took 2.0-2.3 us split against 1.7 whole, the
// 784x512 (82K) 4.1 against 5.4 (stand-alone, before the prefetch).
constexpr int64_t kWindowMinPaddedPerThread = 24576;

#if defined(__AVX2__) && defined(__FMA__)
// Lane j: the sum of a_j's 8 lanes as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), 8
// channels' horizontal sums in 9 instructions instead of 8 x 5.
__attribute__((always_inline)) inline __m256 Sum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5,
                                                   __m256 a6, __m256 a7) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// x[c[0..7]] as one vector: lanes 1-3 of each half set by element assignment, which GCC emits
// as vinsertps with a memory operand (one instruction per value; _mm_insert_ps of _mm_load_ss
// took two). uint16 indices are read two per 32-bit load: the high one needs only a shift
// (reading four per 64-bit load cost a move, a shift and a zero-extension for each of the
// middle two: 8 % slower).
inline __m256 Gather8(const float* x, const uint16_t* c) {
  uint32_t p0, p1, p2, p3;
  std::memcpy(&p0, c, 4);
  std::memcpy(&p1, c + 2, 4);
  std::memcpy(&p2, c + 4, 4);
  std::memcpy(&p3, c + 6, 4);
  __m128 lo = _mm_load_ss(x + (p0 & 0xffff)), hi = _mm_load_ss(x + (p2 & 0xffff));
  lo[1] = x[p0 >> 16];
  hi[1] = x[p2 >> 16];
  lo[2] = x[p1 & 0xffff];
  hi[2] = x[p3 & 0xffff];
  lo[3] = x[p1 >> 16];
  hi[3] = x[p3 >> 16];
  return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

inline __m256 Gather8(const float* x, const int32_t* c) {
  __m128 lo = _mm_load_ss(x + c[0]), hi = _mm_load_ss(x + c[4]);
  lo[1] = x[c[1]];
  hi[1] = x[c[5]];
  lo[2] = x[c[2]];
  hi[2] = x[c[6]];
  lo[3] = x[c[3]];
  hi[3] = x[c[7]];
  return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

template <typename Idx>
__attribute__((always_inline)) inline __m256 Step(const float* v, const Idx* c, int64_t i, const float* x, __m256 acc) {
  return _mm256_fmadd_ps(_mm256_loadu_ps(v + i), Gather8(x, c + i), acc);
}

// Dots of channels n and n + 1 into a0, a1, advancing in lockstep (two independent
// load/insert/FMA streams); each channel's sum is formed the same way whatever its partner.
template <typename Idx>
__attribute__((always_inline)) inline void Pair(const int64_t* p, const float* v, const Idx* c, int64_t n,
                                                const float* x, __m256& a0, __m256& a1) {
  int64_t i = p[n], j = p[n + 1];
  const int64_t e = p[n + 1], f = p[n + 2];
  a0 = a1 = _mm256_setzero_ps();
  for (; i < e && j < f; i += 8, j += 8) {
    a0 = Step(v, c, i, x, a0);
    a1 = Step(v, c, j, x, a1);
  }
  for (; i < e; i += 8) a0 = Step(v, c, i, x, a0);
  for (; j < f; j += 8) a1 = Step(v, c, j, x, a1);
}

template <typename Idx>
__attribute__((always_inline)) inline __m256 Single(const int64_t* p, const float* v, const Idx* c, int64_t n,
                                                    const float* x) {
  __m256 a = _mm256_setzero_ps();
  for (int64_t i = p[n]; i < p[n + 1]; i += 8) a = Step(v, c, i, x, a);
  return a;
}

// y[(n + j) * y_stride] = alpha * s[j] + beta * c[(n + j) * c_stride] for j < count (<= 8).
void Put8(const RowOut& o, int64_t n, int64_t count, __m256 s) {
  __m256 r = _mm256_mul_ps(_mm256_set1_ps(o.alpha), s);
  if (o.c) {
    __m256 cv;
    if (o.c_stride == 0) {
      cv = _mm256_broadcast_ss(o.c);
    } else if (o.c_stride == 1 && count == 8) {
      cv = _mm256_loadu_ps(o.c + n);
    } else {
      alignas(32) float t[8] = {};
      for (int64_t j = 0; j < count; ++j) t[j] = o.c[(n + j) * o.c_stride];
      cv = _mm256_load_ps(t);
    }
    r = _mm256_add_ps(r, _mm256_mul_ps(_mm256_set1_ps(o.beta), cv));
  }
  if (o.relu) r = _mm256_max_ps(_mm256_setzero_ps(), r);  // the Relu kernel's operand order
  if (o.y_stride == 1 && count == 8) {
    _mm256_storeu_ps(o.y + n, r);
    return;
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, r);
  for (int64_t j = 0; j < count; ++j) o.y[(n + j) * o.y_stride] = t[j];
}

// Channels 8 at a time (4 lockstep pairs, then one 8-lane horizontal sum and epilogue); a last
// group of fewer than 8 goes through the same sum and epilogue with zero accumulators for the
// missing channels, so every channel's result is the same bits whatever the range split.
template <typename Idx>
void DotsT(const RowWeight& w, const Idx* c, int64_t n0, int64_t n1, const float* x, const RowOut& o) {
  const int64_t* p = w.ptr.data();
  const float* v = w.val.data();
  int64_t n = n0;
  for (; n + 8 <= n1; n += 8) {
    __m256 a0, a1, a2, a3, a4, a5, a6, a7;
    Pair(p, v, c, n, x, a0, a1);
    Pair(p, v, c, n + 2, x, a2, a3);
    Pair(p, v, c, n + 4, x, a4, a5);
    Pair(p, v, c, n + 6, x, a6, a7);
    Put8(o, n, 8, Sum8(a0, a1, a2, a3, a4, a5, a6, a7));
  }
  if (n == n1) return;
  __m256 a[8];
  for (int64_t j = 0; j < 8; ++j) a[j] = n + j < n1 ? Single(p, v, c, n + j, x) : _mm256_setzero_ps();
  Put8(o, n, n1 - n, Sum8(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]));
}
#else
template <typename Idx>
void DotsT(const RowWeight& w, const Idx* c, int64_t n0, int64_t n1, const float* x, const RowOut& o) {
  for (int64_t n = n0; n < n1; ++n) {
    float s = 0.f;
    for (int64_t i = w.ptr[static_cast<size_t>(n)]; i < w.ptr[static_cast<size_t>(n + 1)]; ++i)
      s += w.val[static_cast<size_t>(i)] * x[c[i]];
    float r = o.alpha * s;
    if (o.c) r += o.beta * o.c[n * o.c_stride];
    if (o.relu) r = 0.f > r ? 0.f : r;
    o.y[n * o.y_stride] = r;
  }
}
#endif

}  // namespace

RowForm DefaultRowForm() { return WindowFormAvailable() ? RowForm::kWindows : RowForm::kChannels; }

bool WindowFormAvailable() {
#if defined(__AVX512F__)
  return true;
#else
  return false;
#endif
}

RowWeight BuildRowWeight(int64_t K, int64_t N, std::span<const int64_t> row_ptr, std::span<const int32_t> col,
                         std::span<const float> val, RowForm form) {
  RowWeight w;
  w.K = K;
  w.N = N;
  if (form == RowForm::kWindows && WindowFormAvailable()) {
    internal::BuildWindows(w, row_ptr, col, val);
    return w;
  }
  const bool narrow = K <= 65536;
  w.ptr.assign(static_cast<size_t>(N + 1), 0);
  int64_t total = 0;
  for (int64_t n = 0; n < N; ++n) {
    total += (row_ptr[static_cast<size_t>(n + 1)] - row_ptr[static_cast<size_t>(n)] + 7) / 8 * 8;
    w.ptr[static_cast<size_t>(n + 1)] = total;
  }
  w.val.assign(static_cast<size_t>(total), 0.f);
  if (narrow) w.col16.assign(static_cast<size_t>(total), 0);
  else w.col32.assign(static_cast<size_t>(total), 0);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t b = row_ptr[static_cast<size_t>(n)], e = row_ptr[static_cast<size_t>(n + 1)];
    const int64_t dst = w.ptr[static_cast<size_t>(n)], end = w.ptr[static_cast<size_t>(n + 1)];
    for (int64_t i = dst; i < end; ++i) {
      const int64_t src = std::min(b + (i - dst), e - 1);  // pads repeat the last index, value 0
      const int32_t k = col[static_cast<size_t>(src)];
      if (narrow) w.col16[static_cast<size_t>(i)] = static_cast<uint16_t>(k);
      else w.col32[static_cast<size_t>(i)] = k;
      if (src == b + (i - dst)) w.val[static_cast<size_t>(i)] = val[static_cast<size_t>(src)];
    }
  }
  return w;
}

void Dots(const RowWeight& w, int64_t n0, int64_t n1, const float* x, const RowOut& out) {
#if defined(__AVX512F__)
  if (w.form == RowForm::kWindows) {
    internal::WindowDots(w, n0, n1, x, out);
    return;
  }
#endif
  if (w.col32.empty()) DotsT(w, w.col16.data(), n0, n1, x, out);
  else DotsT(w, w.col32.data(), n0, n1, x, out);
}

int64_t GemvThreads(const RowWeight& w, int64_t threads) {
  if (w.form == RowForm::kWindows)
    return std::max<int64_t>(1, std::min({threads, kMaxParts, static_cast<int64_t>(w.block_step.size()) - 1,
                                          w.padded_nnz() / kWindowMinPaddedPerThread}));
  return std::max<int64_t>(1, std::min({threads, kMaxParts, w.N, w.padded_nnz() / kGemvMinNonZerosPerThread}));
}

void Gemv(const RowWeight& w, const float* x, const RowOut& out, ThreadPool* pool) {
  const int64_t parts = pool ? GemvThreads(w, pool->num_threads()) : 1;
  if (parts <= 1) {
    Dots(w, 0, w.N, x, out);
    return;
  }
  // Channel ranges (kWindows: whole 16-channel blocks) of equal padded work.
  std::array<int64_t, kMaxParts + 1> bounds{};
  const bool windows = w.form == RowForm::kWindows;
  const std::vector<int64_t>& prefix = windows ? w.block_step : w.ptr;
  const int64_t units = static_cast<int64_t>(prefix.size()) - 1, total = prefix.back();
  for (int64_t q = 1; q < parts; ++q) {
    const int64_t b = std::lower_bound(prefix.begin(), prefix.end(), total * q / parts) - prefix.begin();
    bounds[static_cast<size_t>(q)] = std::clamp<int64_t>(b, bounds[static_cast<size_t>(q - 1)], units);
  }
  bounds[static_cast<size_t>(parts)] = units;
  if (windows)
    for (int64_t q = 1; q <= parts; ++q) bounds[static_cast<size_t>(q)] = std::min(w.N, bounds[static_cast<size_t>(q)] * 16);
  pool->ParallelFor(parts, 1, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q)
      Dots(w, bounds[static_cast<size_t>(q)], bounds[static_cast<size_t>(q + 1)], x, out);
  });
}

}  // namespace greenai::sparse
