// AMX tiles for the u8 x s8 GEMM kernels that share int8_tile_avx2.h ("u8s8_matmulinteger__avx2_sign"
// and "u8s8_qgemm__avx2"), on CPUs with AMX-TILE and AMX-INT8 (Intel Sapphire Rapids on) where
// Linux grants the process the tile state (core/cpu_features.h, AmxTilesUsable()).
//
// Contract:
//  - Same sums as the direct mode of int8_tile_avx2.h: TDPBUSD multiplies u8 x s8 byte quads
//    and adds them into int32 without saturation (wrapping), like vpdpbusd, and int32 addition
//    is order-free, so the kernels' outputs stay bit-identical to their reference.
//  - A: PrepareRowsAmx copies A's M rows (each byte XOR 0x80 when `flip`) into whole tiles, k
//    zero-padded to kp = K rounded up to 64 and M to a multiple of 16, each tile (16 rows x 64
//    bytes) contiguous and 64-byte aligned, a row tile's k-tiles in order, so a tile load reads
//    1 KB in a row, like B's.
//  - B: a PackedS8 panel (16 columns x k-quads, 64 bytes a quad) is AMX's B layout already:
//    a B tile is 16 consecutive quads, stride 64. A panel's last k-tile reads up to kp - k4
//    quads past its end (into the next panel, or the slack PackedS8 allocates after the last
//    one); A's zero padding multiplies them by 0.
//  - ForEachAmxBlock(pool, parallel, a, kp, M, b, emit): C in blocks of 2 x 2 tiles of 16 x 16
//    int32 (two 16-row tiles of A x two panels; C in tmm0-3, A in tmm4-5, B in tmm6-7), k in
//    steps of 64. emit(p, m0, nr, sums) gets panel p's sums for rows m0 .. m0 + nr - 1 (nr <= 16),
//    sums[r * 16 + j] for row m0 + r and column 16 p + j. Threads split the panel pairs, each
//    pair's two panels (2 x 12.5 KB for K = 784) stay in L1 while the row tiles pass; each
//    thread configures the tiles and releases them when its share is done. Callers pass
//    `parallel` from M * N * K >= kParallelMacs.
//  - SetInt8Amx(false) (a test hook, like SetPackedGemmWide) keeps kernels on the AVX-512 /
//    AVX2 tiles from their next Run on; Int8AmxOn() = the hook && AmxTilesUsable().
//  - The tile code is compiled only with __AMX_TILE__ and __AMX_INT8__ (kAmx); elsewhere the
//    kernels never call it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX2__)
#include <immintrin.h>

#include "backends/cpu/int8_tile_avx2.h"
#endif

namespace greenai {

void SetInt8Amx(bool on);
bool Int8AmxOn();

namespace int8amx {

constexpr int64_t kTileRows = 16;
constexpr int64_t kTileBytes = 64;  // k per tile row: 64 bytes of A, 16 quads of B
// Rows from which a product runs on AMX: a 16-row tile computes padding rows for fewer (not
// measured below 16; batch 1 stays on the one-row VNNI tile, 0.006 ms for the int8 mlp).
constexpr int64_t kMinRows = 16;
// Multiply-adds from which the panel pairs are split over threads. On the 2-vCPU Sapphire
// Rapids VM both int8 mlp layers at batch 64 (25.7M and 8.4M) ran 1.1-1.6x *slower* split in
// two (fc1 28.6 -> 29-34 us, fc2 11.6 -> 18-21 us; greenai run --profile, NOPAR A/B): at
// ~1 TMAC/s a layer is done in the time a parallel region costs. Larger products split.
constexpr int64_t kParallelMacs = int64_t{1} << 27;

inline int64_t PaddedK(int64_t K) { return (K + kTileBytes - 1) / kTileBytes * kTileBytes; }

inline const int8_t* PrepareRowsAmx(const void* a, int64_t M, int64_t K, bool flip, std::vector<int8_t>& scratch) {
  const int64_t kp = PaddedK(K), mp = (M + kTileRows - 1) / kTileRows * kTileRows, ktiles = kp / kTileBytes;
  // 64-byte aligned: a tile row that straddles two cache lines made the loads ~2.5x slower.
  if (scratch.size() < static_cast<size_t>(mp * kp + 64)) scratch.assign(static_cast<size_t>(mp * kp + 64), 0);
  int8_t* base = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  const auto* src = static_cast<const uint8_t*>(a);
  for (int64_t m = 0; m < M; ++m) {
    // Row m's k-tile t goes to tile (m / 16, t), row m % 16.
    auto* dst = reinterpret_cast<uint8_t*>(base) + (m / kTileRows) * ktiles * kTileRows * kTileBytes +
                (m % kTileRows) * kTileBytes;
    const uint8_t* row = src + m * K;
    for (int64_t t = 0; t < ktiles; ++t, dst += kTileRows * kTileBytes) {
      const int64_t k0 = t * kTileBytes, n = std::min(kTileBytes, K - k0);
      if (flip)
        for (int64_t kk = 0; kk < n; ++kk) dst[kk] = row[k0 + kk] ^ 0x80;
      else
        std::memcpy(dst, row + k0, static_cast<size_t>(n));
      if (n < kTileBytes) std::memset(dst + n, 0, static_cast<size_t>(kTileBytes - n));
    }
  }
  return base;
}

#if defined(__AMX_TILE__) && defined(__AMX_INT8__) && defined(__AVX2__)
constexpr bool kAmx = true;

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Every tile in use is 16 rows x 64 bytes.
inline void ConfigureTiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = kTileBytes;
    cfg.rows[t] = kTileRows;
  }
  _tile_loadconfig(&cfg);
}

// R row tiles (a, a + ktiles tiles) x C panels (b0, b1) over `ktiles` k-tiles; out gets tile
// ri * 2 + ci (16 x 16 int32, row stride 16) for row tile ri and panel ci.
template <int R, int C>
inline void Block(const int8_t* a, const int8_t* b0, const int8_t* b1, int64_t ktiles, int32_t (*out)[kTileRows * 16]) {
  constexpr int64_t kTile = kTileRows * kTileBytes;
  _tile_zero(0);
  if constexpr (C > 1) _tile_zero(1);
  if constexpr (R > 1) _tile_zero(2);
  if constexpr (R > 1 && C > 1) _tile_zero(3);
  for (int64_t t = 0; t < ktiles; ++t) {
    _tile_loadd(4, a + t * kTile, kTileBytes);
    _tile_loadd(6, b0 + t * kTileRows * 64, 64);
    _tile_dpbusd(0, 4, 6);
    if constexpr (C > 1) {
      _tile_loadd(7, b1 + t * kTileRows * 64, 64);
      _tile_dpbusd(1, 4, 7);
    }
    if constexpr (R > 1) {
      _tile_loadd(5, a + (ktiles + t) * kTile, kTileBytes);
      _tile_dpbusd(2, 5, 6);
      if constexpr (C > 1) _tile_dpbusd(3, 5, 7);
    }
  }
  _tile_stored(0, out[0], 64);
  if constexpr (C > 1) _tile_stored(1, out[1], 64);
  if constexpr (R > 1) _tile_stored(2, out[2], 64);
  if constexpr (R > 1 && C > 1) _tile_stored(3, out[3], 64);
}

template <typename Emit>
void ForEachAmxBlock(ThreadPool* pool, bool parallel, const int8_t* a, int64_t kp, int64_t M,
                     const int8avx2::PackedS8& b, Emit&& emit) {
  const int64_t ktiles = kp / kTileBytes, rtiles = (M + kTileRows - 1) / kTileRows;
  const int64_t panels = b.panels(), pairs = (panels + 1) / 2;
  auto body = [&](int64_t lo, int64_t hi) {
    ConfigureTiles();
    alignas(64) int32_t sums[4][kTileRows * 16];
    for (int64_t pp = lo; pp < hi; ++pp) {
      const int64_t p = 2 * pp;
      const bool two_panels = p + 1 < panels;
      const int8_t* b0 = b.panel(p);
      const int8_t* b1 = two_panels ? b.panel(p + 1) : b0;
      for (int64_t rt = 0; rt < rtiles; rt += 2) {
        const bool two_rows = rt + 1 < rtiles;
        const int8_t* ar = a + rt * kTileRows * kp;
        if (two_rows && two_panels) Block<2, 2>(ar, b0, b1, ktiles, sums);
        else if (two_rows) Block<2, 1>(ar, b0, b1, ktiles, sums);
        else if (two_panels) Block<1, 2>(ar, b0, b1, ktiles, sums);
        else Block<1, 1>(ar, b0, b1, ktiles, sums);
        for (int ri = 0; ri < (two_rows ? 2 : 1); ++ri) {
          const int64_t m0 = (rt + ri) * kTileRows, nr = std::min(kTileRows, M - m0);
          for (int ci = 0; ci < (two_panels ? 2 : 1); ++ci) emit(p + ci, m0, nr, sums[ri * 2 + ci]);
        }
      }
    }
    _tile_release();
  };
  if (parallel && pool && pool->num_threads() > 1 && pairs > 1) pool->ParallelFor(pairs, 1, body);
  else body(0, pairs);
}
#else
constexpr bool kAmx = false;
#endif

}  // namespace int8amx
}  // namespace greenai
