// Sparse f32 kernels for Gemm, MatMul and 1x1 Conv whose weight is a constant with many zeros
// (what `greenai prune` produces). Two formats, both built once at plan time:
//  - f32_*__csr: the weight as CSR over output channels (rows of W^T), int32 column indices;
//    plus, when a 32-row activation tile of K rows exceeds L1 (K > 224), a second copy of the
//    non-zeros ordered by K chunk (see Computation); plus, when a call can have a single
//    activation row (static rows 1 or 32k + 1, or unknown), a GEMV form of sparse_gemv.h
//    (AVX-512 builds: 16-channel blocks x 32-column windows, ~2x the non-zeros in 80-byte
//    steps; AVX2: each channel padded to a multiple of 8, uint16 indices, 6 bytes per non-zero).
//  - f32_*__nm24: 2:4 semi-structured (every aligned group of 4 along K holds at most 2
//    non-zeros): 2 values + one byte holding two 2-bit positions per group.
// Cost rule (plan time; the factories decline with Unimplemented otherwise, so the dense
// oneDNN kernel runs):
//  - CSR takes a weight whose density (non-zeros / K*N) is at most 0.15 when the activation
//    rows per call are statically 1 (batch-1 Gemm/MatMul, 1x1 Conv on one pixel; 0.30 with the
//    AVX-512 GEMV form), 0.20 when statically 2-3, and 0.30 when >= 4 or not static (dynamic
//    batch). The crossovers, measured on the 2-core AMD EPYC (Zen 3) at 1 thread: at batch 1
//    the row path costs ~0.3-0.45 ns per non-zero against ~0.07 ns per weight for oneDNN's
//    matvec (784x512: 37 vs 33 us at 20 % density, 27 vs 32 us at 15 %); at batch 2, 512x256
//    at 30 % took 21 vs 19 us; from 4 rows on CSR stayed >= 1.7x faster up to 30 % (batch 64
//    784x512: 400 vs 1016 us; even the 256->10 layer: 5.4 vs 11.8 us). The AVX-512 GEMV form
//    on the Sapphire Rapids VM (bench_sparse with GREENAI_BENCH_ZEROS, 3 interleaved
//    repetitions, dense / CSR at 1 and 2 threads): 784x512 2.4x / 1.8x at 15 % density, 1.5x /
//    1.4x at 30 %, 1.3x / 1.0x at 40 %; 512x256 2.0x / 1.7x, 1.3x / 1.1x, 1.1x / 1.0x.
//  - 2:4 accepts a weight whose groups all satisfy the pattern when K % 4 == 0 and
//    K * N >= kNmMinWeights, but is registered below the dense oneDNN kernel (kNm24Priority).
//  - Only the plain forms: Gemm transA = 0, MatMul with a 2-D weight, Conv 1x1 with group 1,
//    stride 1, no padding (in NCHW, or NHWC under ChannelsLastLayout's mark, where it is a
//    row-major Gemm over every pixel; layout_adapter.cc lists it). A fused Relu
//    (ActivationFusion's greenai.activation) is applied in the epilogue as max(0, y), the Relu
//    kernel's operand order, so the result is the plain node's then Relu's bit for bit; these
//    kernels are in activation_adapter.cc's native list (tried before the dense ones). Other
//    greenai.* attributes (another activation, a blocked layout) are declined; for another
//    activation the adapter then runs the plain node here and the activation after.
// Computation (AVX2 + FMA). Every output element is summed in a fixed order by one work unit,
// so results do not depend on the thread count (bit-identical); they differ from the dense
// kernel only by summation order.
//  - One activation row (batch 1, or the last row of M = 32k + 1): sparse_gemv.h (AVX2: per
//    output channel a dot over its padded non-zeros 8 at a time, two channels in lockstep, one
//    horizontal sum per 8 channels; AVX-512: 16 channels per vector, x's 32-column windows
//    permuted into the lanes). Batch 1 splits the channels across threads by its own rule
//    (GemvThreads); the tail row of M = 32k + 1 runs inside its tile's work unit. A static batch planned without the GEMV
//    form (e.g. 2) runs a single row as an 8-row tile.
//  - More rows: 32 at a time (the last tile 8, 16 or 24 wide) are packed into [K][T] tiles
//    (8x8 transposes). Per output channel each non-zero is one broadcast and T/8 FMAs into one
//    of S accumulator sets (S = 4 for T <= 16, else 2; non-zeros taken S at a time, the sets
//    summed at the end), so S*T/8 FMA chains are in flight instead of T/8: one set was bound
//    by FMA latency. When [K][T] exceeds 28 KB the non-zeros are visited K chunk by K chunk
//    so a chunk's activations stay in L1 across a block of 256 channels. The block's [256][T]
//    sums go through 8x8 transposes into row-major y (alpha and beta * C applied there), or
//    straight into the pixel-major y of the 1x1 Conv. 2:4 weights use the same tiles (two
//    positions per group of 4, whole K) and a scalar row path.
//  - Threads (2+ rows): parallel when (non-zeros x 8-row groups) > 10^4, ~3 us of work, which
//    pays for the ~1-2 us fork. Work units are (tile, channel range): whole tiles when they divide
//    evenly among the threads, else each tile's channels split into per-thread ranges of equal
//    non-zero count. Each unit packs its own tile into thread-local scratch, reused across
//    runs (no allocation once warm).
// Measured (bench/prune/bench_sparse.cc --benchmark_repetitions=7
// --benchmark_enable_random_interleaving=true: Gemm, transB = 1, 90 % unstructured zeros, dense
// = f32_gemm__packed; us, median over 7 runs (6 at batch 64) spread over 45 minutes on the
// 2-vCPU VM while other jobs ran, load 0.6-2.8; ratio = median of the per-run ratios):
//                 1 thread dense / CSR            2 threads
//   batch 1   784x512  33.7 / 13.4 (2.5x)       21.1 / 10.0 (2.1x)
//             512x256  11.3 / 5.3 (2.1x)        8.6 / 5.5 (1.6x)
//             256x10   0.36 / 0.18 (1.9x)       0.36 / 0.17 (2.0x)
//   batch 64  784x512  638 / 137 (4.7x)         358 / 82 (4.5x)
//             512x256  220 / 50 (4.4x)          122 / 31 (3.9x)
//             256x10   7.3 / 3.9 (1.9x)         7.2 / 3.8 (1.9x)
// The previous row path (unpadded int32 CSR, a horizontal sum per channel) in the same runs:
// 2.3x / 1.9x at 1 thread, 1.75x / 1.55x at 2 threads. Per-run ratios at batch 1 swing by
// 1.2-1.8x with the other jobs (2 threads 512x256: 1.4-2.5x): the 2-thread GEMV split is worth
// 1.4x alone on a quiet second vCPU (sparse_gemv.cc), about nothing when another job holds it.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/sparse_gemv.h"
#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {
#if defined(__AVX2__) && defined(__FMA__)
namespace {

constexpr double kCsrMaxDensity = 0.30;     // batch unknown or >= 4 rows
constexpr double kCsrMaxDensitySmall = 0.20;  // static batch of 2-3 rows
constexpr double kCsrMaxDensityRow = 0.15;    // static batch of 1 row, kChannels GEMV form
constexpr double kCsrMaxDensityRowWindows = 0.30;  // static batch of 1 row, kWindows (AVX-512)
constexpr int64_t kNmMinWeights = 4096;
// The 2:4 kernels sit below oneDNN (priority 10): on AVX2 without sparse hardware, halving the
// MACs does not pay for the index decoding (at the mlp's 784x512: ~4x slower than the dense
// GEMM at batch 1, about equal at batch 64 on the tiles below), so the dense kernel keeps 2:4
// weights; the 2:4 kernel runs only where no dense kernel accepts the node, and is tested
// directly.
constexpr int kNm24Priority = 5;
constexpr int64_t kTile = 32;           // activation rows per tile (4 ymm); the last is 8, 16, 24 or 32 wide
constexpr int64_t kChunkFloats = 7168;  // a packed [kc][T] activation chunk of up to 28 KB stays in L1d (32 KB)
constexpr int64_t kColBlock = 256;      // output channels per accumulator block: [256][32] floats = 32 KB
constexpr int64_t kMinTileRows = 2;     // a tile narrower than this takes the row path (if built)
constexpr int64_t kMaxParts = 64;    // channel ranges per tile at most (threads beyond it idle)
// Parallel above this many (non-zero x 8 activation rows) units, ~1 cycle each: below it the
// fork/join (~1-2 us) costs more than the second core saves.
constexpr double kParallelWork = 10000;

// Weight in logical [K, N] form (y[m, n] = sum_k a[m, k] w[k, n]), stored per output n.
struct SparseWeight {
  int64_t K = 0, N = 0;
  bool nm24 = false;
  // CSR: the non-zeros of channel n are [row_ptr[n], row_ptr[n + 1]) (row path, and tiles whose
  // packed activations fit in L1 whole).
  std::vector<int64_t> row_ptr;  // N + 1
  std::vector<int32_t> col;      // k of each non-zero
  std::vector<float> val;
  // The same non-zeros split along K into `chunks` chunks of kc rows, for tiles whose [K][T]
  // activations exceed kChunkFloats: chunk q of channel n is [chunk_ptr[q * (N + 1) + n],
  // chunk_ptr[q * (N + 1) + n + 1]). Built only when the widest tile the static batch allows
  // (32 rows if unknown) exceeds kChunkFloats, so it can be missing (chunks = 0).
  int64_t kc = 0, chunks = 0;
  std::vector<int64_t> chunk_ptr;
  std::vector<int32_t> chunk_col;
  std::vector<float> chunk_val;
  // CSR only: the single-row (GEMV) form of sparse_gemv.h, built when a call can have a single
  // activation row (static rows unknown or 32k + 1); without it such a row takes an 8-row tile.
  sparse::RowWeight row;
  bool has_row = false;
  // 2:4: per n, K/4 groups: val24[(n*G+g)*2 + {0,1}], pos24[n*G+g] = i0 | i1 << 2
  std::vector<float> val24;
  std::vector<uint8_t> pos24;
};

// w_at(k, n) reads the logical weight; max_rows: the static activation rows (-1 unknown).
template <typename F>
SparseWeight BuildCsr(int64_t K, int64_t N, F w_at, int64_t max_rows) {
  SparseWeight s;
  s.K = K;
  s.N = N;
  s.row_ptr.assign(static_cast<size_t>(N + 1), 0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) {
      float v = w_at(k, n);
      if (v != 0.f) {
        s.col.push_back(static_cast<int32_t>(k));
        s.val.push_back(v);
      }
    }
    s.row_ptr[static_cast<size_t>(n + 1)] = static_cast<int64_t>(s.val.size());
  }
  if (max_rows < 0 || max_rows % kTile == 1) {
    s.row = sparse::BuildRowWeight(K, N, s.row_ptr, s.col, s.val);
    s.has_row = true;
  }
  if (max_rows >= 0 && max_rows < kMinTileRows) return s;  // the row path only
  const int64_t widest = max_rows < 0 ? kTile : std::min(kTile, (max_rows + 7) / 8 * 8);
  if (K * widest > kChunkFloats) {
    s.chunks = (K * kTile + kChunkFloats - 1) / kChunkFloats;
    s.kc = (K + s.chunks - 1) / s.chunks;
    s.chunk_ptr.assign(static_cast<size_t>(s.chunks * (N + 1)), 0);
    s.chunk_col.reserve(s.col.size());
    s.chunk_val.reserve(s.val.size());
    std::vector<int64_t> cursor(s.row_ptr.begin(), s.row_ptr.end() - 1);  // next non-zero of each n
    for (int64_t q = 0; q < s.chunks; ++q) {
      const int64_t k_end = std::min(K, (q + 1) * s.kc);
      for (int64_t n = 0; n < N; ++n) {
        int64_t& i = cursor[static_cast<size_t>(n)];
        for (; i < s.row_ptr[static_cast<size_t>(n + 1)] && s.col[static_cast<size_t>(i)] < k_end; ++i) {
          s.chunk_col.push_back(s.col[static_cast<size_t>(i)]);
          s.chunk_val.push_back(s.val[static_cast<size_t>(i)]);
        }
        s.chunk_ptr[static_cast<size_t>(q * (N + 1) + n + 1)] = static_cast<int64_t>(s.chunk_val.size());
      }
      if (q + 1 < s.chunks)
        s.chunk_ptr[static_cast<size_t>((q + 1) * (N + 1))] = static_cast<int64_t>(s.chunk_val.size());
    }
  }
  return s;
}

template <typename F>
bool BuildNm24(int64_t K, int64_t N, F w_at, SparseWeight& s) {
  if (K % 4 != 0) return false;
  const int64_t G = K / 4;
  s.K = K;
  s.N = N;
  s.nm24 = true;
  s.val24.assign(static_cast<size_t>(N * G * 2), 0.f);
  s.pos24.assign(static_cast<size_t>(N * G), 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g) {
      int cnt = 0;
      int pos[2] = {0, 1};
      float v[2] = {0.f, 0.f};
      for (int i = 0; i < 4; ++i) {
        float x = w_at(4 * g + i, n);
        if (x == 0.f) continue;
        if (cnt == 2) return false;
        pos[cnt] = i;
        v[cnt] = x;
        ++cnt;
      }
      if (cnt == 1 && pos[0] == 1) pos[1] = 0;  // keep the two positions distinct; v[1] = 0
      const size_t gi = static_cast<size_t>(n * G + g);
      s.val24[gi * 2] = v[0];
      s.val24[gi * 2 + 1] = v[1];
      s.pos24[gi] = static_cast<uint8_t>(pos[0] | (pos[1] << 2));
    }
  return true;
}

int64_t NonZeros(const SparseWeight& s) {
  return s.nm24 ? static_cast<int64_t>(s.val24.size()) : s.row_ptr.back();
}

// Epilogue: y = act(alpha * acc + beta * C(m, n)) (+ conv bias handled as C with m-stride 0);
// act = a fused Relu, max(0, y) in the Relu kernel's operand order (NaN stays NaN), or none.
struct Epilogue {
  float alpha = 1.f, beta = 0.f;
  const float* c = nullptr;
  int64_t cm = 0, cn = 0;  // element strides of C over m and n (0 = broadcast)
  bool relu = false;
  float Apply(float acc, int64_t m, int64_t n) const {
    float r = alpha * acc;
    if (c) r += beta * c[m * cm + n * cn];
    return relu && 0.f > r ? 0.f : r;  // as _mm256_max_ps(0, r)
  }
  __m256 Act(__m256 v) const { return relu ? _mm256_max_ps(_mm256_setzero_ps(), v) : v; }
};

// Output of one SpMM call: y[m * N + n], or y[n * M + m] when nmajor (1x1 Conv: pixel-major).
struct Out {
  float* y;
  bool nmajor;
  int64_t M, N;
  const Epilogue& ep;
};

// Per-thread scratch reused across runs (grown, never shrunk; no allocation once warm), 64-byte
// aligned so packed rows never straddle cache lines: 0 = a unit's packed tile (or K-major row),
// 1 = its accumulators (or dots).
float* Scratch(int which, int64_t floats) {
  thread_local std::vector<float> buf[2];
  std::vector<float>& b = buf[which];
  if (static_cast<int64_t>(b.size()) < floats + 16) b.resize(static_cast<size_t>(floats + 16));
  const uintptr_t p = reinterpret_cast<uintptr_t>(b.data());
  return b.data() + ((64 - p % 64) % 64) / sizeof(float);
}

// ---- Row path (a single activation row). CSR weights: sparse_gemv.h. 2:4 weights: per
// channel a scalar dot over its K/4 groups (the 2:4 kernel runs only where no dense kernel
// accepts the node). ----
void RowDotsNm24(const SparseWeight& s, int64_t n0, int64_t n1, const float* a, float* out) {
  const int64_t G = s.K / 4;
  for (int64_t n = n0; n < n1; ++n) {
    const float* vv = s.val24.data() + n * G * 2;
    const uint8_t* pp = s.pos24.data() + n * G;
    float p0 = 0, p1 = 0;
    for (int64_t g = 0; g < G; ++g) {
      p0 += vv[2 * g] * a[4 * g + (pp[g] & 3)];
      p1 += vv[2 * g + 1] * a[4 * g + ((pp[g] >> 2) & 3)];
    }
    out[n - n0] = p0 + p1;
  }
}

// ---- Tile path: activations packed as [K][T] (T = 8V rows), one channel at a time. ----

// Written out (no loops over r[]): at -O2 GCC kept loop-indexed __m256 arrays on the stack.
__attribute__((always_inline)) inline void Transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Packs activation rows [m0, m0 + mw) into at[k * T + j] (zero for mw <= j < T): row-major A
// by 8x8 transposes (rows past mw read as zeros), K-major A by row copies.
void PackTile(const float* a, bool a_kmajor, int64_t M, int64_t K, int64_t m0, int64_t mw, int64_t T, float* at) {
  if (a_kmajor) {
    for (int64_t k = 0; k < K; ++k) {
      std::memcpy(at + k * T, a + k * M + m0, static_cast<size_t>(mw) * 4);
      std::memset(at + k * T + mw, 0, static_cast<size_t>(T - mw) * 4);
    }
    return;
  }
  const int64_t k8 = K / 8 * 8;
  for (int64_t j0 = 0; j0 < T; j0 += 8) {
    const int64_t rows = std::clamp<int64_t>(mw - j0, 0, 8);
    const float* src[8];
    for (int64_t i = 0; i < 8; ++i) src[i] = i < rows ? a + (m0 + j0 + i) * K : nullptr;
    for (int64_t k0 = 0; k0 < k8; k0 += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(src[i] + k0) : _mm256_setzero_ps();
      Transpose8(r);
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(at + (k0 + i) * T + j0, r[i]);
    }
    for (int64_t k = k8; k < K; ++k)
      for (int64_t i = 0; i < 8; ++i) at[k * T + j0 + i] = i < rows ? src[i][k] : 0.f;
  }
}

// acc[0, 8V) (+)= sum over non-zeros [b, e) of val * at[col * 8V + (0, 8V)]. S = 4 / 2
// non-zeros at a time go into S accumulator sets (S * V independent FMA chains: one chain per
// vector made this loop FMA-latency bound), summed at the end in a fixed order.
template <int V, int S = (V <= 2 ? 4 : 2)>
__attribute__((always_inline)) inline void TileCol(const int32_t* col, const float* val, int64_t b, int64_t e,
                                                   const float* at, float* acc, bool add) {
  constexpr int64_t T = 8 * V;
  __m256 p[S][V];
#pragma GCC unroll 4
  for (int u = 0; u < S; ++u)
#pragma GCC unroll 4
    for (int j = 0; j < V; ++j) p[u][j] = u == 0 && add ? _mm256_loadu_ps(acc + 8 * j) : _mm256_setzero_ps();
  int64_t i = b;
  for (; i + S <= e; i += S) {
#pragma GCC unroll 4
    for (int u = 0; u < S; ++u) {
      const __m256 v = _mm256_broadcast_ss(val + i + u);
      const float* r = at + static_cast<int64_t>(col[i + u]) * T;
#pragma GCC unroll 4
      for (int j = 0; j < V; ++j) p[u][j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8 * j), p[u][j]);
    }
  }
#pragma GCC unroll 4
  for (int u = 0; u < S - 1; ++u) {  // the last < S non-zeros, one per set (constant u: a
    if (i + u >= e) break;           // run-time set index put the accumulators on the stack)
    const __m256 v = _mm256_broadcast_ss(val + i + u);
    const float* r = at + static_cast<int64_t>(col[i + u]) * T;
#pragma GCC unroll 4
    for (int j = 0; j < V; ++j) p[u][j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8 * j), p[u][j]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < V; ++j) {
    __m256 t = p[0][j];
#pragma GCC unroll 4
    for (int u = 1; u < S; ++u) t = _mm256_add_ps(t, p[u][j]);
    _mm256_storeu_ps(acc + 8 * j, t);
  }
}

// 2:4 channel over the whole of K: the group's two non-zeros feed the two accumulator sets.
template <int V>
__attribute__((always_inline)) inline void TileColNm24(const float* vv, const uint8_t* pp, int64_t G, const float* at,
                                                       float* acc) {
  constexpr int64_t T = 8 * V;
  __m256 p[V], q[V];
#pragma GCC unroll 4
  for (int j = 0; j < V; ++j) p[j] = q[j] = _mm256_setzero_ps();
  for (int64_t g = 0; g < G; ++g) {
    const float* base = at + g * 4 * T;
    const __m256 v = _mm256_broadcast_ss(vv + 2 * g), w = _mm256_broadcast_ss(vv + 2 * g + 1);
    const float* r = base + (pp[g] & 3) * T;
    const float* s = base + ((pp[g] >> 2) & 3) * T;
#pragma GCC unroll 4
    for (int j = 0; j < V; ++j) {
      p[j] = _mm256_fmadd_ps(v, _mm256_loadu_ps(r + 8 * j), p[j]);
      q[j] = _mm256_fmadd_ps(w, _mm256_loadu_ps(s + 8 * j), q[j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < V; ++j) _mm256_storeu_ps(acc + 8 * j, _mm256_add_ps(p[j], q[j]));
}

// Writes acc[(n - n0) * T + j] (rows m0 + j < m0 + mw, channels [n0, n1)) through the epilogue:
// row-major y by 8x8 transposes, n-major y by contiguous runs.
void StoreTile(const float* acc, int64_t T, int64_t m0, int64_t mw, int64_t n0, int64_t n1, const Out& o) {
  const Epilogue& ep = o.ep;
  const __m256 alpha = _mm256_set1_ps(ep.alpha), beta = _mm256_set1_ps(ep.beta);
  if (o.nmajor) {
    for (int64_t n = n0; n < n1; ++n) {
      const float* src = acc + (n - n0) * T;
      float* dst = o.y + n * o.M + m0;
      int64_t j = 0;
      if (!ep.c || ep.cm == 0) {
        const __m256 cv = _mm256_set1_ps(ep.c ? ep.beta * ep.c[n * ep.cn] : 0.f);
        for (; j + 8 <= mw; j += 8) {
          const __m256 r = _mm256_mul_ps(alpha, _mm256_loadu_ps(src + j));
          _mm256_storeu_ps(dst + j, ep.Act(ep.c ? _mm256_add_ps(r, cv) : r));
        }
      }
      for (; j < mw; ++j) dst[j] = ep.Apply(src[j], m0 + j, n);
    }
    return;
  }
  for (int64_t j0 = 0; j0 < mw; j0 += 8) {
    const int64_t rows = std::min<int64_t>(8, mw - j0);
    int64_t n = n0;
    for (; n + 8 <= n1; n += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(acc + (n - n0 + i) * T + j0);
      Transpose8(r);  // r[i]: row m0 + j0 + i, channels n..n+7
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        if (i >= rows) break;
        const int64_t m = m0 + j0 + i;
        __m256 v = _mm256_mul_ps(alpha, r[i]);
        if (ep.c) {
          const float* cr = ep.c + m * ep.cm + n * ep.cn;
          v = _mm256_add_ps(v, _mm256_mul_ps(beta, ep.cn ? _mm256_loadu_ps(cr) : _mm256_broadcast_ss(cr)));
        }
        _mm256_storeu_ps(o.y + m * o.N + n, ep.Act(v));
      }
    }
    for (; n < n1; ++n)
      for (int64_t i = 0; i < rows; ++i)
        o.y[(m0 + j0 + i) * o.N + n] = ep.Apply(acc[(n - n0) * T + j0 + i], m0 + j0 + i, n);
  }
}

// Rows [m0, m0 + mw) (packed at `at`, T = 8V) x channels [n0, n1), per block of kColBlock
// channels: when [K][T] exceeds kChunkFloats, every K chunk in turn (its [kc][T] slice of `at`
// stays in L1 across the block's channels), else the plain CSR in one pass; then the store.
template <int V>
void TileRange(const SparseWeight& s, const float* at, int64_t m0, int64_t mw, int64_t n0, int64_t n1, float* acc,
               const Out& o) {
  constexpr int64_t T = 8 * V;
  const bool chunked = s.chunks > 0 && s.K * T > kChunkFloats;
  const int64_t chunks = chunked ? s.chunks : 1, stride = s.N + 1;
  const int64_t* ptr = chunked ? s.chunk_ptr.data() : s.row_ptr.data();
  const int32_t* col = chunked ? s.chunk_col.data() : s.col.data();
  const float* val = chunked ? s.chunk_val.data() : s.val.data();
  for (int64_t b0 = n0; b0 < n1; b0 += kColBlock) {
    const int64_t b1 = std::min(n1, b0 + kColBlock);
    if (s.nm24) {
      const int64_t G = s.K / 4;
      for (int64_t n = b0; n < b1; ++n)
        TileColNm24<V>(s.val24.data() + n * G * 2, s.pos24.data() + n * G, G, at, acc + (n - b0) * T);
    } else {
      for (int64_t q = 0; q < chunks; ++q) {
        const int64_t* cp = ptr + q * stride;
        for (int64_t n = b0; n < b1; ++n) TileCol<V>(col, val, cp[n], cp[n + 1], at, acc + (n - b0) * T, q > 0);
      }
    }
    StoreTile(acc, T, m0, mw, b0, b1, o);
  }
}

// Splits channels into `parts` ranges of about equal non-zero count: bounds[p], bounds[p + 1].
void SplitChannels(const SparseWeight& s, int64_t parts, int64_t* bounds) {
  const int64_t N = s.N, nnz = NonZeros(s);
  bounds[0] = 0;
  for (int64_t p = 1; p < parts; ++p) {
    int64_t b = N * p / parts;
    if (!s.nm24) {
      const int64_t target = nnz * p / parts;
      b = std::lower_bound(s.row_ptr.begin(), s.row_ptr.end(), target) - s.row_ptr.begin();
    }
    bounds[p] = std::clamp<int64_t>(b, bounds[p - 1], N);
  }
  bounds[parts] = N;
}

// Where row m's GEMV results go (sparse_gemv.h): y row m (or column m when n-major), C row m.
sparse::RowOut RowTarget(int64_t m, const Out& o) {
  sparse::RowOut r;
  r.y = o.nmajor ? o.y + m : o.y + m * o.N;
  r.y_stride = o.nmajor ? o.M : 1;
  r.alpha = o.ep.alpha;
  r.beta = o.ep.beta;
  r.c = o.ep.c ? o.ep.c + m * o.ep.cm : nullptr;
  r.c_stride = o.ep.cn;
  r.relu = o.ep.relu;
  return r;
}

// Row m (activations `row`) x channels [n0, n1) by the row path, through the epilogue.
void RowRange(const SparseWeight& s, const float* row, int64_t m, int64_t n0, int64_t n1, const Out& o) {
  if (!s.nm24) {
    sparse::Dots(s.row, n0, n1, row, RowTarget(m, o));
    return;
  }
  float* dots = Scratch(1, n1 - n0);
  RowDotsNm24(s, n0, n1, row, dots);
  for (int64_t n = n0; n < n1; ++n) {
    const float r = o.ep.Apply(dots[n - n0], m, n);
    if (o.nmajor) o.y[n * o.M + m] = r;
    else o.y[m * o.N + n] = r;
  }
}

// Activations A [M, K] (row-major, or K-major a[k * M + m] for the 1x1 Conv) -> o.y.
void SpMM(const SparseWeight& s, const float* a, bool a_kmajor, int64_t M, const Out& o, ThreadPool* pool) {
  const int64_t K = s.K;
  if (M <= 0) return;
  if (M == 1 && s.has_row) {  // GEMV (a K-major single pixel is contiguous too)
    sparse::Gemv(s.row, a, RowTarget(0, o), pool);
    return;
  }
  const int64_t threads = pool ? std::min<int64_t>(pool->num_threads(), kMaxParts) : 1;
  const int64_t tiles = (M + kTile - 1) / kTile;
  const int64_t lane_groups = (M / kTile) * (kTile / 8) + (M % kTile + 7) / 8;
  const bool parallel =
      threads > 1 && static_cast<double>(NonZeros(s)) * static_cast<double>(lane_groups) > kParallelWork;
  // Units are (tile, channel range), each packing its tile privately (packing once and sharing
  // the tile made the other core fetch it: 1.2-1.4x slower at 2 threads). When the tiles share
  // the threads evenly a unit is a whole tile, else the channels are split too, one range per
  // thread (finer ranges, or claiming the range a thread ran last time, measured no better).
  const bool whole = !parallel || (tiles % threads == 0 && M % kTile == 0);
  const int64_t parts = whole ? 1 : threads;
  std::array<int64_t, kMaxParts + 1> bounds;
  SplitChannels(s, parts, bounds.data());
  auto unit = [&](int64_t u) {
    const int64_t t = u / parts, p = u % parts;
    const int64_t m0 = t * kTile, mw = std::min(kTile, M - m0), V = (mw + 7) / 8;
    const int64_t n0 = bounds[static_cast<size_t>(p)], n1 = bounds[static_cast<size_t>(p + 1)];
    // A single row (the last of M = 32k + 1) takes the row path where its form was built; else
    // (a static batch planned without one) an 8-row tile.
    if (mw < kMinTileRows && (s.nm24 || s.has_row)) {
      const float* row = a + m0 * K;
      if (a_kmajor) {
        float* r = Scratch(0, K);
        for (int64_t k = 0; k < K; ++k) r[k] = a[k * M + m0];
        row = r;
      }
      RowRange(s, row, m0, n0, n1, o);
      return;
    }
    float* at = Scratch(0, K * 8 * V);
    PackTile(a, a_kmajor, M, K, m0, mw, 8 * V, at);
    float* acc = Scratch(1, kColBlock * kTile);
    switch (V) {
      case 1: TileRange<1>(s, at, m0, mw, n0, n1, acc, o); break;
      case 2: TileRange<2>(s, at, m0, mw, n0, n1, acc, o); break;
      case 3: TileRange<3>(s, at, m0, mw, n0, n1, acc, o); break;
      default: TileRange<4>(s, at, m0, mw, n0, n1, acc, o); break;
    }
  };
  if (parallel) {
    pool->ParallelFor(tiles * parts, 1, [&](int64_t u0, int64_t u1) {
      for (int64_t u = u0; u < u1; ++u) unit(u);
    });
  } else {
    for (int64_t u = 0; u < tiles * parts; ++u) unit(u);
  }
}

enum class Format { kCsr, kNm24 };

// Builds the sparse weight if the cost rule accepts it for `fmt`. rows: the activation rows per
// SpMM call when static (batch for Gemm/MatMul, H * W for Conv), else -1.
template <typename F>
Result<SparseWeight> Choose(const Node& node, Format fmt, int64_t K, int64_t N, F w_at, int64_t rows) {
  if (K <= 0 || N <= 0) return Unimplemented("{}: empty weight", node.Describe());
  int64_t nnz = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) nnz += w_at(k, n) != 0.f;
  const double density = static_cast<double>(nnz) / static_cast<double>(K * N);
  if (fmt == Format::kCsr) {
    const double max_density = rows < 0 || rows >= 4 ? kCsrMaxDensity
                               : rows >= kMinTileRows ? kCsrMaxDensitySmall
                               : sparse::DefaultRowForm() == sparse::RowForm::kWindows ? kCsrMaxDensityRowWindows
                                                                                        : kCsrMaxDensityRow;
    if (density > max_density)
      return Unimplemented("{}: weight density {:.2f} above the CSR threshold {} for {} activation rows",
                           node.Describe(), density, max_density, rows);
    return BuildCsr(K, N, w_at, rows);
  }
  if (K * N < kNmMinWeights) return Unimplemented("{}: weight too small for the 2:4 kernel", node.Describe());
  SparseWeight s;
  if (!BuildNm24(K, N, w_at, s)) return Unimplemented("{}: weight is not 2:4 sparse", node.Describe());
  return s;
}

// Product of dims [first, last) of a static type, or -1 when unknown.
int64_t StaticRows(const TensorType& t, int first, int last) {
  if (!t.has_shape || last > t.rank()) return -1;
  int64_t r = 1;
  for (int i = first; i < last; ++i) {
    if (t.dims[static_cast<size_t>(i)] < 0) return -1;
    r *= t.dims[static_cast<size_t>(i)];
  }
  return r;
}

// A fused Relu (passes.h kAttrActivation, no parameters) is applied in the epilogue; any other
// greenai.* attribute (another activation, a layout mark) makes the factories decline.
bool FusedRelu(const Node& n) {
  return n.GetString(kAttrActivation, "") == "Relu" && n.GetFloats(kAttrActivationParams).empty();
}

// nhwc_ok: an NHWC layout mark is handled too (the 1x1 Conv).
bool HasFusedAttrs(const Node& n, bool nhwc_ok = false) {
  const bool relu = FusedRelu(n), nhwc = nhwc_ok && IsChannelsLast(n);
  for (const auto& [k, a] : n.attributes)
    if (k.rfind("greenai.", 0) == 0 && !(relu && (k == kAttrActivation || k == kAttrActivationParams)) &&
        !(nhwc && k == kAttrLayout))
      return true;
  return false;
}

bool IsF32(const TensorType& t) { return t.dtype == DType::kF32; }

Status CheckOut(KernelContext& ctx) {
  if (!ctx.outputs[0] || !ctx.outputs[0]->defined()) return Internal("sparse kernel: output was not allocated");
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateGemm(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node) || node.GetInt("transA", 0) != 0)
    return Unimplemented("{}: sparse gemm handles plain transA = 0 only", node.Describe());
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.const_inputs[1]->rank() != 2 || info.input_types.empty() || !IsF32(info.input_types[0]))
    return Unimplemented("{}: sparse gemm needs a constant f32 2-D B", node.Describe());
  const Tensor& b = *info.const_inputs[1];
  const bool tb = node.GetInt("transB", 0) != 0;
  const int64_t K = tb ? b.dim(1) : b.dim(0), N = tb ? b.dim(0) : b.dim(1);
  const float* w = b.data<float>();
  auto w_at = [&](int64_t k, int64_t n) { return tb ? w[n * K + k] : w[k * N + n]; };
  const TensorType& at = info.input_types[0];
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, K, N, w_at, at.rank() == 2 ? StaticRows(at, 0, 1) : -1));
  const float alpha = node.GetFloat("alpha", 1.f), beta = node.GetFloat("beta", 1.f);
  const bool relu = FusedRelu(node);
  return MakeLambdaKernel([s = std::move(s), alpha, beta, relu, who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& a = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (a.dtype() != DType::kF32 || a.rank() != 2 || a.dim(1) != s.K)
      return InvalidArgument("{}: A {} does not match the sparse weight's K = {}", who, ShapeToString(a.shape()), s.K);
    Epilogue ep;
    ep.alpha = alpha;
    ep.relu = relu;
    const Tensor* c = ctx.inputs.size() > 2 ? ctx.inputs[2] : nullptr;
    if (c && c->defined() && beta != 0.f) {
      const Shape& cs = c->shape();
      ep.beta = beta;
      ep.c = c->data<float>();
      if (cs.size() == 2) {
        ep.cm = cs[0] == 1 ? 0 : cs[1];
        ep.cn = cs[1] == 1 ? 0 : 1;
      } else if (cs.size() == 1) {
        ep.cn = cs[0] == 1 ? 0 : 1;
      }
    }
    SpMM(s, a.data<float>(), false, a.dim(0), Out{y.data<float>(), false, a.dim(0), s.N, ep}, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateMatMul(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node)) return Unimplemented("{}: fused attributes", node.Describe());
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.const_inputs[1]->rank() != 2 || info.input_types.empty() || !IsF32(info.input_types[0]) ||
      (info.input_types[0].has_shape && info.input_types[0].rank() < 2))
    return Unimplemented("{}: sparse matmul needs A of rank >= 2 and a constant f32 2-D B", node.Describe());
  const Tensor& b = *info.const_inputs[1];
  const int64_t K = b.dim(0), N = b.dim(1);
  const float* w = b.data<float>();
  const TensorType& at = info.input_types[0];
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, K, N, [&](int64_t k, int64_t n) { return w[k * N + n]; },
                                                  StaticRows(at, 0, at.rank() - 1)));
  const bool relu = FusedRelu(node);
  return MakeLambdaKernel([s = std::move(s), relu, who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& a = *ctx.inputs[0];
    if (a.dtype() != DType::kF32 || a.rank() < 2 || a.dim(-1) != s.K)
      return InvalidArgument("{}: A {} does not match the sparse weight's K = {}", who, ShapeToString(a.shape()), s.K);
    const int64_t M = a.numel() / s.K;
    Epilogue ep;
    ep.relu = relu;
    SpMM(s, a.data<float>(), false, M, Out{ctx.outputs[0]->data<float>(), false, M, s.N, ep}, ctx.pool);
    return Status::Ok();
  });
}

Result<std::unique_ptr<Kernel>> CreateConv(const KernelInfo& info, Format fmt) {
  const Node& node = info.node;
  if (HasFusedAttrs(node, /*nhwc_ok=*/true)) return Unimplemented("{}: fused attributes", node.Describe());
  const bool nhwc = IsChannelsLast(node);  // X [N, H, W, C], Y [N, H, W, Co]: a row-major Gemm
  if (info.const_inputs.size() < 2 || !info.const_inputs[1] || info.const_inputs[1]->dtype() != DType::kF32 ||
      info.input_types.empty() || !IsF32(info.input_types[0]))
    return Unimplemented("{}: sparse conv needs a constant f32 weight", node.Describe());
  const Tensor& w = *info.const_inputs[1];
  auto all_eq = [](const std::vector<int64_t>& v, int64_t x) {
    return std::all_of(v.begin(), v.end(), [x](int64_t e) { return e == x; });
  };
  if (w.rank() != 4 || w.dim(2) != 1 || w.dim(3) != 1 || node.GetInt("group", 1) != 1 ||
      !all_eq(node.GetInts("strides"), 1) || !all_eq(node.GetInts("pads"), 0) ||
      node.GetString("auto_pad", "NOTSET") != "NOTSET")
    return Unimplemented("{}: sparse conv handles 2-D 1x1, group 1, stride 1, no padding", node.Describe());
  const Tensor* bias = info.const_inputs.size() > 2 ? info.const_inputs[2] : nullptr;
  if (node.HasInput(2) && !bias) return Unimplemented("{}: sparse conv needs a constant bias", node.Describe());
  const int64_t Co = w.dim(0), Ci = w.dim(1);
  const float* wd = w.data<float>();
  const TensorType& xt = info.input_types[0];
  auto w_at = [&](int64_t k, int64_t n) { return wd[n * Ci + k]; };
  const int64_t rows = xt.rank() != 4 ? -1 : nhwc ? StaticRows(xt, 0, 3) : StaticRows(xt, 2, 4);
  GREENAI_ASSIGN_OR_RETURN(SparseWeight s, Choose(node, fmt, Ci, Co, w_at, rows));
  Tensor b = bias ? *bias : Tensor();
  const bool relu = FusedRelu(node);
  return MakeLambdaKernel([s = std::move(s), b, relu, nhwc, who = node.Describe()](KernelContext& ctx) -> Status {
    GREENAI_RETURN_IF_ERROR(CheckOut(ctx));
    const Tensor& x = *ctx.inputs[0];
    Tensor& y = *ctx.outputs[0];
    if (x.dtype() != DType::kF32 || x.rank() != 4 || x.dim(nhwc ? 3 : 1) != s.K)
      return InvalidArgument("{}: X {} ({}) does not match the weight's {} input channels", who,
                             ShapeToString(x.shape()), nhwc ? "NHWC" : "NCHW", s.K);
    Epilogue ep;
    ep.relu = relu;
    if (b.defined()) {
      ep.c = b.data<float>();
      ep.beta = 1.f;
      ep.cn = 1;
    }
    if (nhwc) {  // every pixel of every image is one row of a [N*H*W, Ci] x [Ci, Co] product
      const int64_t M = x.dim(0) * x.dim(1) * x.dim(2);
      SpMM(s, x.data<float>(), false, M, Out{y.data<float>(), false, M, s.N, ep}, ctx.pool);
      return Status::Ok();
    }
    const int64_t P = x.dim(2) * x.dim(3);
    for (int64_t i = 0; i < x.dim(0); ++i)
      SpMM(s, x.data<float>() + i * s.K * P, true, P, Out{y.data<float>() + i * s.N * P, true, P, s.N, ep}, ctx.pool);
    return Status::Ok();
  });
}

}  // namespace
#endif

void AddSparseKernels(std::vector<KernelDef>& defs) {
#if defined(__AVX2__) && defined(__FMA__)
  defs.push_back({"Gemm", "", "f32_gemm__csr", 30, [](const KernelInfo& i) { return CreateGemm(i, Format::kCsr); }});
  defs.push_back({"Gemm", "", "f32_gemm__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateGemm(i, Format::kNm24); }});
  defs.push_back({"MatMul", "", "f32_matmul__csr", 30, [](const KernelInfo& i) { return CreateMatMul(i, Format::kCsr); }});
  defs.push_back(
      {"MatMul", "", "f32_matmul__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateMatMul(i, Format::kNm24); }});
  defs.push_back({"Conv", "", "f32_conv1x1__csr", 30, [](const KernelInfo& i) { return CreateConv(i, Format::kCsr); }});
  defs.push_back({"Conv", "", "f32_conv1x1__nm24", kNm24Priority, [](const KernelInfo& i) { return CreateConv(i, Format::kNm24); }});
#else
  (void)defs;
#endif
}

}  // namespace greenai
