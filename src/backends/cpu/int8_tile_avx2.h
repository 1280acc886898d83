// Shared pieces of the AVX2 u8 x s8 GEMM kernels: "u8s8_matmulinteger__avx2_sign"
// (int8_gemm_avx2.cc, int32 output) and "u8s8_qgemm__avx2" (int8_qgemm_avx2.cc, ai.greenai
// QGemm, requantized 8-bit output). Private to backends/cpu; compiled only with AVX2.
//
//  - PackedS8: a constant int8 B [K, N] (every value in [-127, 127], zero point 0) packed into
//    16-column panels of k-quads, plus its column sums. Immutable after Pack; shareable.
//  - Row modes (see int8_gemm_avx2.cc's header for why they are exact): "sign" mode shifts
//    A to int8 and moves the sign onto B (any |b| <= 127); "direct" mode (every |b| <= 64)
//    uses A as uint8. RowXor / ColumnCorrection give the byte flip applied to A and the
//    per-column int32 that restores sum_k (a - za) * b.
//  - VNNI builds (__AVXVNNI__ / __AVX512VNNI__, e.g. -march=native on Sapphire Rapids): a row's
//    quad is vpdpbusd (u8 x s8 products summed into int32, no int16 stage, so nothing
//    saturates); every B is then "direct" (PackedS8::direct()), whatever its range, and the
//    same corrections apply. With AVX-512 one zmm vpdpbusd covers the panel's 16 columns
//    (TileZmm). docs/quantization.md has the figures.
//  - AcceptS8Operands: the operand checks both kernels make at plan time.
//  - PrepareRows: A's rows in the layout the tile reads (flipped, zero-padded to a multiple
//    of 4), or A itself when that is already so.
//  - Tile<kDirect, NR>(rows, panel, quads, store): the 4x16 micro-kernel. It calls
//    store(r, lo, hi) for r < NR with the row's 16 int32 sums (columns 0-7 in lo, 8-15 in
//    hi), still in registers: the caller's epilogue adds the correction and stores int32
//    (MatMulInteger) or requantizes to 8 bits (QGemm).
//  - ForEachTile: the loop over 64-row blocks, panels and 4-row tiles, split over threads.
//  - RequantizeQuad: four int32 -> four quantized int32, bit-identical to the reference
//    QuantizeLinear of an int32 input (double division, round half to even, + zero point,
//    saturate) but with a multiply by 1 / scale in the common case.
#pragma once

#if defined(__AVX2__)
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "backends/cpu/kernel.h"
#include "core/thread_pool.h"

namespace greenai::int8avx2 {

constexpr int64_t kPanel = 16;      // columns per panel (two ymm of 8 int32)
constexpr int64_t kRows = 4;        // rows per micro-tile
constexpr int64_t kBlockRows = 64;  // rows per block: 64 x K bytes stay in L2 while panels pass
#if defined(__AVXVNNI__) || defined(__AVX512VNNI__)
constexpr bool kVnni = true;
#else
constexpr bool kVnni = false;
#endif
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
constexpr bool kVnni512 = true;
#else
constexpr bool kVnni512 = false;
#endif

// 64-byte aligned byte storage (the panels are read with aligned loads; a panel's k-quad is
// 64 bytes, one zmm).
class AlignedBytes {
 public:
  void assign(size_t n, int8_t v) {
    p_.reset(static_cast<int8_t*>(std::aligned_alloc(64, (n + 63) / 64 * 64)));
    std::memset(p_.get(), v, n);
  }
  const int8_t* data() const { return p_.get(); }
  int8_t& operator[](size_t i) { return p_.get()[i]; }

 private:
  struct Free {
    void operator()(int8_t* p) const { std::free(p); }
  };
  std::unique_ptr<int8_t, Free> p_;
};

class PackedS8 {
 public:
  static constexpr int64_t kSlack = 1024;
  // REQUIRES: b is K x N row-major and holds no -128.
  void Pack(const int8_t* b, int64_t K, int64_t N) {
    k_ = K;
    n_ = N;
    k4_ = (K + 3) / 4 * 4;
    // + kSlack zero bytes: AMX reads a panel's last k-tile up to 60 quads (960 bytes) past
    // its end (int8_tile_amx.h).
    packed_.assign(static_cast<size_t>(panels() * k4_ * kPanel + kSlack), 0);
    colsum_.assign(static_cast<size_t>(N), 0);
    direct_ = true;
    for (int64_t kk = 0; kk < K; ++kk)
      for (int64_t j = 0; j < N; ++j) {
        const int8_t v = b[kk * N + j];
        const int64_t p = j / kPanel, col = j % kPanel, q = kk / 4;
        packed_[static_cast<size_t>(((p * (k4_ / 4) + q) * kPanel + col) * 4 + kk % 4)] = v;
        colsum_[static_cast<size_t>(j)] += v;
        direct_ = direct_ && v >= -64 && v <= 64;
      }
  }
  int64_t K() const { return k_; }
  int64_t N() const { return n_; }
  int64_t k4() const { return k4_; }
  int64_t quads() const { return k4_ / 4; }
  int64_t panels() const { return (n_ + kPanel - 1) / kPanel; }
  // Every |b| <= 64, or a VNNI build: no sign trick needed.
  bool direct() const { return kVnni || direct_; }
  const int8_t* panel(int64_t p) const { return packed_.data() + p * k4_ * kPanel; }
  const std::vector<int32_t>& colsum() const { return colsum_; }

 private:
  int64_t k_ = 0, n_ = 0, k4_ = 0;
  bool direct_ = false;
  AlignedBytes packed_;
  std::vector<int32_t> colsum_;
};

// What both kernels accept: A (input 0) uint8 or int8; B (input 1) a constant int8 [K, N]
// matrix without -128 (u8 x s8 pairs could saturate); a_zero_point (input `iza`) absent or a
// constant scalar; b_zero_point (input `izb`) absent or constant zeros.
struct S8Operands {
  bool signed_a = false;
  const Tensor* b = nullptr;
  int32_t za = 0;
};
// nullptr and `out` filled when accepted, else why not (for the kernel's Unimplemented).
inline const char* AcceptS8Operands(const KernelInfo& info, size_t iza, size_t izb, S8Operands* out) {
  auto in = [&](size_t i) { return i < info.const_inputs.size() ? info.const_inputs[i] : nullptr; };
  if (info.input_types.size() < 2) return "needs A and B";
  const DType at = info.input_types[0].dtype;
  if (at != DType::kU8 && at != DType::kI8) return "A is not 8-bit";
  const Tensor* b = in(1);
  if (!b || b->dtype() != DType::kI8 || b->rank() != 2) return "B is not a constant int8 matrix";
  if (b->numel() == 0) return "B is empty";
  const int8_t* bd = b->data<int8_t>();
  if (std::find(bd, bd + b->numel(), int8_t{-128}) != bd + b->numel()) return "B holds -128 (pairs could saturate)";
  if (info.node.HasInput(izb)) {
    const Tensor* zb = in(izb);
    if (!zb) return "b_zero_point is not constant";
    for (int64_t i = 0; i < zb->numel(); ++i)
      if (zb->GetAsDouble(i) != 0) return "b_zero_point is not 0";
  }
  out->za = 0;
  if (info.node.HasInput(iza)) {
    const Tensor* t = in(iza);
    if (!t || t->numel() != 1) return "a_zero_point is not a constant scalar";
    out->za = static_cast<int32_t>(t->GetAsDouble(0));
  }
  out->signed_a = at == DType::kI8;
  out->b = b;
  return nullptr;
}

// The byte flip (XOR 0x80) A's rows need: sign mode wants int8 rows (uint8 A shifted by -128),
// direct mode uint8 rows (int8 A shifted by +128).
inline bool RowXor(bool direct, bool signed_a) { return direct ? signed_a : !signed_a; }

// Per-column int32 that turns the tile's sums over the prepared rows into sum_k (a - za) b:
// sign mode sum (a - za) b = sum a' b + (shift - za) colsum with a' = a - shift;
// direct mode sum (a - za) b = sum a' b - (off + za) colsum with a' = a + off.
// Computed modulo 2^32 (the GEMM's int32 arithmetic wraps).
inline std::vector<int32_t> ColumnCorrection(const PackedS8& b, bool direct, bool signed_a, int32_t za) {
  const int32_t shift = signed_a ? 0 : 128, off = signed_a ? 128 : 0;
  const int32_t f = direct ? -(off + za) : shift - za;
  std::vector<int32_t> corr;
  corr.reserve(b.colsum().size());
  for (int32_t cs : b.colsum())
    corr.push_back(static_cast<int32_t>(static_cast<uint32_t>(f) * static_cast<uint32_t>(cs)));
  return corr;
}

// Rows of A (M x K bytes) as the tile reads them: `k4` bytes apart, each XORed with 0x80
// when `flip`, zero-padded to k4. Returns A itself when nothing changes, else `scratch`
// (reused across calls).
inline const int8_t* PrepareRows(const void* a, int64_t M, int64_t K, int64_t k4, bool flip,
                                 std::vector<int8_t>& scratch) {
  if (!flip && K == k4) return static_cast<const int8_t*>(a);
  if (scratch.size() < static_cast<size_t>(M * k4)) scratch.assign(static_cast<size_t>(M * k4), 0);
  const auto* src = static_cast<const uint8_t*>(a);
  const uint8_t x = flip ? 0x80 : 0;
  for (int64_t m = 0; m < M; ++m) {
    int8_t* dst = scratch.data() + m * k4;
    for (int64_t kk = 0; kk < K; ++kk) dst[kk] = static_cast<int8_t>(src[m * K + kk] ^ x);
    for (int64_t kk = K; kk < k4; ++kk) dst[kk] = 0;
  }
  return scratch.data();
}

// acc + the 8 dot products of av's and b's u8 x s8 byte quads (vpdpbusd); VNNI builds only.
inline __m256i DotQuads(__m256i acc, __m256i av, __m256i b) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(acc, av, b);
#elif defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(acc, av, b);
#else
  (void)av;
  (void)b;
  return acc;  // never called: kVnni is false
#endif
}

// One row's multiply-accumulate of a quad (4 k) against the panel's two B vectors.
template <bool kDirect>
inline void RowQuad(const int8_t* row, int64_t q, __m256i b0, __m256i b1, __m256i ones, __m256i& acc0,
                    __m256i& acc1) {
  int32_t quad;
  std::memcpy(&quad, row + q * 4, 4);
  const __m256i av = _mm256_set1_epi32(quad);
  if constexpr (kDirect && kVnni) {
    acc0 = DotQuads(acc0, av, b0);
    acc1 = DotQuads(acc1, av, b1);
    __asm__("" : "+x"(acc0), "+x"(acc1));
    return;
  }
  __m256i t0, t1;
  if constexpr (kDirect) {
    t0 = _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones);
    t1 = _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones);
  } else {
    const __m256i aa = _mm256_abs_epi8(av);
    t0 = _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(b0, av)), ones);
    t1 = _mm256_madd_epi16(_mm256_maddubs_epi16(aa, _mm256_sign_epi8(b1, av)), ones);
  }
  acc0 = _mm256_add_epi32(acc0, t0);
  acc1 = _mm256_add_epi32(acc1, t1);
  // Row by row: without this GCC hoists all four broadcasts, runs out of the 16 ymm
  // registers and keeps two accumulators on the stack (~10 % of the GEMM's time).
  __asm__("" : "+x"(acc0), "+x"(acc1));
}

#if defined(__AVX512VNNI__) && defined(__AVX512F__)
// AVX-512 VNNI: a panel's k-quad (16 columns x 4 k = 64 bytes) is one zmm, so a row's quad is
// one vpdpbusd on 16 int32 sums. Consecutive quads alternate between S accumulators per row
// (S = 4 for one row, 2 otherwise) so at least 4 independent chains hide vpdpbusd's latency;
// they are summed at the end (int32 addition: the same result in any order).
template <int NR, typename Store>
inline void TileZmm(const int8_t* const* rows, const int8_t* bp, int64_t quads, Store&& store) {
  constexpr int S = NR == 1 ? 4 : 2;
  __m512i acc[NR][S];
#pragma GCC unroll 4
  for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) acc[r][s] = _mm512_setzero_si512();
  auto step = [&](int64_t q, int s) {
    const __m512i b = _mm512_load_si512(bp + q * 64);
#pragma GCC unroll 4
    for (int r = 0; r < NR; ++r) {
      int32_t quad;
      std::memcpy(&quad, rows[r] + q * 4, 4);
      acc[r][s] = _mm512_dpbusd_epi32(acc[r][s], _mm512_set1_epi32(quad), b);
    }
  };
  int64_t q = 0;
  for (; q + S <= quads; q += S)
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) step(q + s, s);
  for (; q < quads; ++q) step(q, 0);
#pragma GCC unroll 4
  for (int r = 0; r < NR; ++r) {
    __m512i t = acc[r][0];
#pragma GCC unroll 4
    for (int s = 1; s < S; ++s) t = _mm512_add_epi32(t, acc[r][s]);
    // The halves through memory: GCC 12 flags the undefined operand inside the extract and
    // cast intrinsics as maybe-uninitialized (-Werror).
    alignas(64) int32_t half[16];
    _mm512_store_si512(half, t);
    store(r, _mm256_load_si256(reinterpret_cast<const __m256i*>(half)),
          _mm256_load_si256(reinterpret_cast<const __m256i*>(half + 8)));
  }
}
#endif

// The sums of NR <= 4 prepared rows (rows[r], r < NR) against one panel (`quads` k-quads),
// handed to store(r, lo, hi). Eight named accumulators (not an array) so they live in
// registers; NR is a compile-time constant for the same reason.
template <bool kDirect, int NR, typename Store>
inline void Tile(const int8_t* const* rows, const int8_t* bp, int64_t quads, Store&& store) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
          c31 = c00;
  const int8_t* r0 = rows[0];
  const int8_t* r1 = NR > 1 ? rows[1] : r0;
  const int8_t* r2 = NR > 2 ? rows[2] : r0;
  const int8_t* r3 = NR > 3 ? rows[3] : r0;
#if defined(__AVX512VNNI__) && defined(__AVX512F__)
  if constexpr (kDirect) {
    (void)r1;
    (void)r2;
    (void)r3;
    (void)ones;
    return TileZmm<NR>(rows, bp, quads, store);
  }
#endif
  if constexpr (NR == 1 && kDirect && kVnni) {
    // One row (a batch-1 GEMV): two chains would wait on vpdpbusd's latency, so four k-quads
    // go to four accumulator pairs, summed at the end (int32 addition: the same result).
    int64_t q = 0;
    for (; q + 4 <= quads; q += 4) {
      const int8_t* b = bp + q * 64;
      auto quad = [&](int i, __m256i& lo, __m256i& hi) {
        const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + i * 64));
        const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + i * 64 + 32));
        RowQuad<kDirect>(r0, q + i, b0, b1, ones, lo, hi);
      };
      quad(0, c00, c01);
      quad(1, c10, c11);
      quad(2, c20, c21);
      quad(3, c30, c31);
    }
    for (; q < quads; ++q) {
      const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + q * 64));
      const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + q * 64 + 32));
      RowQuad<kDirect>(r0, q, b0, b1, ones, c00, c01);
    }
    store(0, _mm256_add_epi32(_mm256_add_epi32(c00, c10), _mm256_add_epi32(c20, c30)),
          _mm256_add_epi32(_mm256_add_epi32(c01, c11), _mm256_add_epi32(c21, c31)));
    return;
  }
  for (int64_t q = 0; q < quads; ++q) {
    __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + q * 64));
    __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + q * 64 + 32));
    // Keep the panel quad in two registers: folded into each vpmaddubsw as a memory operand
    // it was re-loaded once per row.
    __asm__("" : "+x"(b0), "+x"(b1));
    RowQuad<kDirect>(r0, q, b0, b1, ones, c00, c01);
    if constexpr (NR > 1) RowQuad<kDirect>(r1, q, b0, b1, ones, c10, c11);
    if constexpr (NR > 2) RowQuad<kDirect>(r2, q, b0, b1, ones, c20, c21);
    if constexpr (NR > 3) RowQuad<kDirect>(r3, q, b0, b1, ones, c30, c31);
  }
  store(0, c00, c01);
  if constexpr (NR > 1) store(1, c10, c11);
  if constexpr (NR > 2) store(2, c20, c21);
  if constexpr (NR > 3) store(3, c30, c31);
}

// Tile with the row count chosen at run time (nr in 1..4).
template <bool kDirect, typename Store>
inline void TileN(const int8_t* const* rows, int64_t nr, const int8_t* bp, int64_t quads, Store&& store) {
  switch (nr) {
    case 4: return Tile<kDirect, 4>(rows, bp, quads, store);
    case 3: return Tile<kDirect, 3>(rows, bp, quads, store);
    case 2: return Tile<kDirect, 2>(rows, bp, quads, store);
    default: return Tile<kDirect, 1>(rows, bp, quads, store);
  }
}

// Calls tile(rows, nr, p, m0) for every 4-row tile (rows m0 .. m0 + nr - 1 of the prepared
// A, `stride` bytes apart) and every panel p of `panels`. Rows go in blocks of kBlockRows and,
// within a block, each panel (k4 x 16 bytes: 12.5 KB for K = 784) stays in L1 while the
// block's tiles pass over it. When `parallel`, threads split the panels (each reads only its
// share of B) in one parallel region for all blocks.
template <typename F>
void ForEachTile(ThreadPool* pool, bool parallel, const int8_t* a, int64_t stride, int64_t M, int64_t panels,
                 F&& tile) {
  auto body = [&](int64_t lo, int64_t hi) {
    const int8_t* rows[kRows];
    for (int64_t b0 = 0; b0 < M; b0 += kBlockRows) {
      const int64_t b1 = std::min(M, b0 + kBlockRows);
      for (int64_t p = lo; p < hi; ++p)
        for (int64_t m0 = b0; m0 < b1; m0 += kRows) {
          const int64_t nr = std::min(kRows, b1 - m0);
          for (int64_t r = 0; r < nr; ++r) rows[r] = a + (m0 + r) * stride;
          tile(rows, nr, p, m0);
        }
    }
  };
  if (parallel && pool && pool->num_threads() > 1 && panels > 1) pool->ParallelFor(panels, 1, body);
  else body(0, panels);
}

// Four int32 -> quantized int32 in [lo, hi], exactly as the reference's double division:
// x * (1 / scale) differs from x / scale by at most |x / scale| * 2.3e-16, so the rounded
// results agree unless the quotient lies within 1e-9 of a rounding tie (checked; then the
// four lanes are divided) or beyond 2^22 in magnitude, where both saturate to lo or hi.
// `scale` is read only in the rare tie case.
inline __m128i RequantizeQuad(__m128i x4, __m256d inv, const double* scale, bool scalar, __m256d zp, __m256d lo,
                              __m256d hi) {
  const __m256d v = _mm256_cvtepi32_pd(x4);
  __m256d r = _mm256_mul_pd(v, inv);
  const __m256d tie = _mm256_andnot_pd(_mm256_set1_pd(-0.0),
                                       _mm256_sub_pd(_mm256_sub_pd(r, _mm256_floor_pd(r)), _mm256_set1_pd(0.5)));
  if (_mm256_movemask_pd(_mm256_cmp_pd(tie, _mm256_set1_pd(1e-9), _CMP_LT_OQ)) != 0)
    r = _mm256_div_pd(v, scalar ? _mm256_set1_pd(scale[0]) : _mm256_loadu_pd(scale));
  __m256d q = _mm256_round_pd(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  q = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(q, zp), lo), hi);
  return _mm256_cvtpd_epi32(q);
}

}  // namespace greenai::int8avx2

#endif  // __AVX2__
