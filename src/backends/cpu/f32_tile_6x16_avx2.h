// The 6 x 16 float32 micro-kernel of greenai's own NCHW8c convolutions (AVX2 + FMA, x86-64):
// f32_conv_blocked_avx2.cc runs it over output pixels and taps, f32_conv_winograd_avx2.cc over
// Winograd tiles (one "tap", input channels in blocks of 8).
//
// Contract:
//  - Tile<P>(xs, w, g, ys, bias, relu), P in 1..6: for P "pixels" p and 16 output channels,
//    out[p][o] = bias[o] (0 when bias is null) + sum over channel blocks c < g.cb, taps
//    (i < g.kh, j < g.kw) and ic < 8 of x(p, c, i, j)[ic] * w[c][i][j][ic][o], where
//    x(p, c, i, j) is the 8-float group at byte offset c * plane_bytes + i * tap_row_bytes +
//    j * tap_col_bytes from xs[p]. w is packed [cb][kh][kw][8][16]. The sum for each output runs
//    in that order (c, i, j, ic) in float, starting from the bias. Then Relu (max(0, v), so NaN
//    stays NaN) when relu, and out[p][0..7] is stored at ys[p], out[p][8..15] at ys[p] + g.yob.
//  - xs and ys must hold six valid pointers even when P < 6 (the asm loads all six; repeat the
//    last one). Nothing is allocated; no alignment is required.
//  - Why inline assembly: written with intrinsics GCC spilled accumulators around the loop and
//    ran at 60 % of this speed. 12 accumulators, two weight vectors and one broadcast register.
#pragma once

#if defined(__AVX2__) && defined(__FMA__) && defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#define GREENAI_TILE_6X16 1

namespace greenai::tile6x16 {

inline constexpr int64_t kPix = 6;    // output pixels per tile
inline constexpr int64_t kOc = 16;    // output channels per group (two 8-channel blocks)

// One input channel block's step of a tile: for ic in 0..7, two weight vectors (16 output
// channels) and, per pixel p, one broadcast of x[p][ic] and two FMAs. Pixel p's input is read at
// (%r(8+p) + off): the six pixel pointers are loaded from xs at the start of the block.
#define GB_BC(r, p, ic)                                     \
  "vbroadcastss " #ic "*4(%%r" #r ",%[off]), %[b]\n\t"      \
  "vfmadd231ps %[w0], %[b], %[a0" #p "]\n\t"                \
  "vfmadd231ps %[w1], %[b], %[a1" #p "]\n\t"
#define GB_P1(ic) GB_BC(8, 0, ic)
#define GB_P2(ic) GB_P1(ic) GB_BC(9, 1, ic)
#define GB_P3(ic) GB_P2(ic) GB_BC(10, 2, ic)
#define GB_P4(ic) GB_P3(ic) GB_BC(11, 3, ic)
#define GB_P5(ic) GB_P4(ic) GB_BC(12, 4, ic)
#define GB_P6(ic) GB_P5(ic) GB_BC(13, 5, ic)
#define GB_IC(P, ic)                        \
  "vmovups " #ic "*64(%[w]), %[w0]\n\t"     \
  "vmovups " #ic "*64+32(%[w]), %[w1]\n\t" GB_P##P(ic)
#define GB_LD                                                                                            \
  "mov 0(%[xs]), %%r8\n\tmov 8(%[xs]), %%r9\n\tmov 16(%[xs]), %%r10\n\tmov 24(%[xs]), %%r11\n\t" \
  "mov 32(%[xs]), %%r12\n\tmov 40(%[xs]), %%r13\n\t"
#define GB_ALL(P) \
  GB_LD GB_IC(P, 0) GB_IC(P, 1) GB_IC(P, 2) GB_IC(P, 3) GB_IC(P, 4) GB_IC(P, 5) GB_IC(P, 6) GB_IC(P, 7)
#define GB_ASM(P)                                                                                     \
  asm volatile(GB_ALL(P)                                                                              \
               : [a00] "+x"(a00), [a01] "+x"(a01), [a02] "+x"(a02), [a03] "+x"(a03), [a04] "+x"(a04), \
                 [a05] "+x"(a05), [a10] "+x"(a10), [a11] "+x"(a11), [a12] "+x"(a12), [a13] "+x"(a13), \
                 [a14] "+x"(a14), [a15] "+x"(a15), [w0] "=&x"(t0), [w1] "=&x"(t1), [b] "=&x"(t2)      \
               : [xs] "r"(xs), [off] "r"(off), [w] "r"(wp)                                            \
               : "r8", "r9", "r10", "r11", "r12", "r13", "memory")

struct TileGeom {
  int64_t cb = 0, kh = 0, kw = 0;         // input channel blocks, kernel size
  int64_t plane_bytes = 0;                // one padded input channel block
  int64_t tap_row_bytes = 0, tap_col_bytes = 0;  // offset between kernel rows / columns
  int64_t yob = 0;                        // floats between the two output channel blocks
};

// See the contract above.
template <int P>
inline void Tile(const float* const* xs, const float* w, const TileGeom& g, float* const* ys, const float* bias,
          bool relu) {
  __m256 a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15, t0, t1, t2;
  const __m256 z = _mm256_setzero_ps();
  const __m256 b0 = bias ? _mm256_loadu_ps(bias) : z, b1 = bias ? _mm256_loadu_ps(bias + 8) : z;
  a00 = a01 = a02 = a03 = a04 = a05 = b0;
  a10 = a11 = a12 = a13 = a14 = a15 = b1;
  const float* wp = w;
  for (int64_t c = 0; c < g.cb; ++c)
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t off = c * g.plane_bytes + i * g.tap_row_bytes;
      for (int64_t j = 0; j < g.kw; ++j, wp += 8 * kOc, off += g.tap_col_bytes) {
        if constexpr (P == 6) GB_ASM(6);
        else if constexpr (P == 5) GB_ASM(5);
        else if constexpr (P == 4) GB_ASM(4);
        else if constexpr (P == 3) GB_ASM(3);
        else if constexpr (P == 2) GB_ASM(2);
        else GB_ASM(1);
      }
    }
  (void)t0;
  (void)t1;
  (void)t2;
#define GB_STORE(p)                                                                 \
  if (p < P) {                                                                      \
    _mm256_storeu_ps(ys[p], relu ? _mm256_max_ps(z, a0##p) : a0##p);                \
    _mm256_storeu_ps(ys[p] + g.yob, relu ? _mm256_max_ps(z, a1##p) : a1##p);        \
  }
  GB_STORE(0) GB_STORE(1) GB_STORE(2) GB_STORE(3) GB_STORE(4) GB_STORE(5)
#undef GB_STORE
}

using TileFn = void (*)(const float* const*, const float*, const TileGeom&, float* const*, const float*, bool);
inline constexpr TileFn kTiles[kPix + 1] = {nullptr, Tile<1>, Tile<2>, Tile<3>, Tile<4>, Tile<5>, Tile<6>};

#undef GB_ALL
#undef GB_ASM
#undef GB_BC
#undef GB_IC
#undef GB_LD
#undef GB_P1
#undef GB_P2
#undef GB_P3
#undef GB_P4
#undef GB_P5
#undef GB_P6
#undef GB_STORE

}  // namespace greenai::tile6x16

#endif
