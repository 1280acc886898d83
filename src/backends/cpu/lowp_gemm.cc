// AVX2/FMA/F16C implementation of the low-precision-weight GEMM core; the contract (layouts,
// paths, rounding, scratch) is at the top of lowp_gemm.h.
#include "backends/cpu/lowp_gemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#ifdef GREENAI_LOWP_AVX2
#include <immintrin.h>

namespace greenai::lowp {

PackedWeight PackInt4(const uint8_t* packed, const float* scales, int64_t K, int64_t N, int64_t block) {
  PackedWeight w;
  w.fmt = WFormat::kInt4;
  w.K = K;
  w.N = N;
  w.block = block;
  w.nb = (K + block - 1) / block;
  w.panels = (N + kNr - 1) / kNr;
  w.q4.assign(static_cast<size_t>(w.panels * K * 8), 0);
  w.scales.assign(static_cast<size_t>(w.panels * w.nb * kNr), 0.f);
  auto q = [&](int64_t k, int64_t n) -> uint8_t {
    if (n >= N) return 8;  // padded column: weight 0 (its scale is 0 too)
    const int64_t i = k * N + n;
    return i % 2 == 0 ? packed[i / 2] & 0x0F : packed[i / 2] >> 4;
  };
  for (int64_t p = 0; p < w.panels; ++p) {
    const int64_t n0 = p * kNr;
    uint8_t* dst = w.q4.data() + p * K * 8;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < 8; ++j) dst[k * 8 + j] = static_cast<uint8_t>(q(k, n0 + j) | q(k, n0 + 8 + j) << 4);
    float* s = w.scales.data() + p * w.nb * kNr;
    for (int64_t b = 0; b < w.nb; ++b)
      for (int64_t j = 0; j < kNr && n0 + j < N; ++j) s[b * kNr + j] = scales[b * N + n0 + j];
  }
  return w;
}

PackedWeight PackHalf(WFormat fmt, const uint16_t* b, int64_t K, int64_t N, bool trans_b) {
  PackedWeight w;
  w.fmt = fmt;
  w.K = K;
  w.N = N;
  w.panels = (N + kNr - 1) / kNr;
  w.h.assign(static_cast<size_t>(w.panels * K * kNr), 0);  // +0.0 in both formats
  for (int64_t p = 0; p < w.panels; ++p) {
    uint16_t* dst = w.h.data() + p * K * kNr;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < kNr && p * kNr + j < N; ++j) {
        const int64_t n = p * kNr + j;
        dst[k * kNr + j] = trans_b ? b[n * K + k] : b[k * N + n];
      }
  }
  return w;
}

namespace {

// Fully unrolls the small loops over rows, columns and unroll sets so that the accumulator
// arrays live in registers (GCC -O2 otherwise keeps them in memory: 3-4x slower).
#define GREENAI_UNROLL _Pragma("GCC unroll 16")

// ---- element conversions (8 lanes) ----

template <WFormat F>
using IoT = std::conditional_t<F == WFormat::kInt4, float, uint16_t>;

template <WFormat F>
inline __m256 Load8(const IoT<F>* p) {
  if constexpr (F == WFormat::kInt4) {
    return _mm256_loadu_ps(p);
  } else if constexpr (F == WFormat::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    const __m256i x = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
  }
}

// Round to nearest even, NaN made quiet: FloatToBFloat16 (core/dtype.cc) on 8 lanes.
inline __m128i FloatToBf16x8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet, nan);
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

template <WFormat F>
inline void Store8(IoT<F>* p, __m256 v) {
  if constexpr (F == WFormat::kInt4) {
    _mm256_storeu_ps(p, v);
  } else if constexpr (F == WFormat::kF16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  } else {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), FloatToBf16x8(v));
  }
}

// Half (A) to float32, n elements.
template <WFormat F>
void ToFloat(const IoT<F>* src, int64_t n, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, Load8<F>(src + i));
  if (i < n) {
    IoT<F> tmp[8] = {};
    float out[8];
    std::memcpy(tmp, src + i, static_cast<size_t>(n - i) * sizeof(IoT<F>));
    _mm256_storeu_ps(out, Load8<F>(tmp));
    std::memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// ---- epilogue: acc [mr][16] -> Y rows m0.., columns n0..n0+nv ----

template <WFormat F>
void StoreTile(const float* acc, int64_t mr, int64_t m0, int64_t n0, int64_t nv, int64_t N, const Epilogue& ep,
               IoT<F>* y) {
  using T = IoT<F>;
  const bool scale = ep.c != nullptr || ep.alpha != 1.f;
  const __m256 alpha = _mm256_set1_ps(ep.alpha), beta = _mm256_set1_ps(ep.beta);
  for (int64_t r = 0; r < mr; ++r) {
    const int64_t m = m0 + r;
    __m256 v[2] = {_mm256_loadu_ps(acc + r * kNr), _mm256_loadu_ps(acc + r * kNr + 8)};
    if (scale) v[0] = _mm256_mul_ps(alpha, v[0]), v[1] = _mm256_mul_ps(alpha, v[1]);
    if (ep.c) {
      const T* c = static_cast<const T*>(ep.c) + m * ep.cm;
      T cbuf[kNr];
      if (ep.cn == 0) {
        std::fill_n(cbuf, kNr, c[0]);
      } else {
        std::memset(cbuf, 0, sizeof(cbuf));
        std::memcpy(cbuf, c + n0, static_cast<size_t>(nv) * sizeof(T));
      }
      v[0] = _mm256_add_ps(v[0], _mm256_mul_ps(beta, Load8<F>(cbuf)));
      v[1] = _mm256_add_ps(v[1], _mm256_mul_ps(beta, Load8<F>(cbuf + 8)));
    }
    T* dst = y + m * N + n0;
    if (nv == kNr) {
      Store8<F>(dst, v[0]);
      Store8<F>(dst + 8, v[1]);
    } else {
      T tmp[kNr];
      Store8<F>(tmp, v[0]);
      Store8<F>(tmp + 8, v[1]);
      std::memcpy(dst, tmp, static_cast<size_t>(nv) * sizeof(T));
    }
  }
}

// ---- GEMV (M <= 4): P panels at a time, weights converted in registers ----

// Panels processed together: M * P * 2 independent accumulators (8 for M <= 2) hide the FMA
// latency, one broadcast of a serves P panels, and the int4 block epilogue needs no
// reduction across unrolled sets (with k unrolled instead, block 32 cost 25 % more).
template <int M>
constexpr int kGemvPanels = M == 1 ? 4 : M == 2 ? 2 : 1;

template <WFormat F, int M, int P>
void GemvHalf(const PackedWeight& w, int64_t p, const float* a, float* out) {
  const int64_t K = w.K;
  const uint16_t* wp[P];
  GREENAI_UNROLL
  for (int j = 0; j < P; ++j) wp[j] = w.h.data() + (p + j) * K * kNr;
  __m256 acc[M][P][2];
  GREENAI_UNROLL
  for (int m = 0; m < M; ++m)
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) acc[m][j][0] = acc[m][j][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    __m256 av[M];
    GREENAI_UNROLL
    for (int m = 0; m < M; ++m) av[m] = _mm256_broadcast_ss(a + m * K + k);
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) {
      const __m256 b0 = Load8<F>(wp[j] + k * kNr), b1 = Load8<F>(wp[j] + k * kNr + 8);
      GREENAI_UNROLL
      for (int m = 0; m < M; ++m) {
        acc[m][j][0] = _mm256_fmadd_ps(av[m], b0, acc[m][j][0]);
        acc[m][j][1] = _mm256_fmadd_ps(av[m], b1, acc[m][j][1]);
      }
    }
  }
  GREENAI_UNROLL
  for (int m = 0; m < M; ++m)
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) {
      _mm256_storeu_ps(out + (j * M + m) * kNr, acc[m][j][0]);
      _mm256_storeu_ps(out + (j * M + m) * kNr + 8, acc[m][j][1]);
    }
}

// asum: [M][nb] sums of a over each block.
template <int M, int P>
void GemvInt4(const PackedWeight& w, int64_t p, const float* a, const float* asum, float* out) {
  const int64_t K = w.K, B = w.block, nb = w.nb;
  const uint8_t* qp[P];
  const float* sp[P];
  GREENAI_UNROLL
  for (int j = 0; j < P; ++j) {
    qp[j] = w.q4.data() + (p + j) * K * 8;
    sp[j] = w.scales.data() + (p + j) * nb * kNr;
  }
  const __m256i low4 = _mm256_set1_epi32(0x0F);
  __m256 tot[M][P][2], acc[M][P][2];
  GREENAI_UNROLL
  for (int m = 0; m < M; ++m)
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) tot[m][j][0] = tot[m][j][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    GREENAI_UNROLL
    for (int m = 0; m < M; ++m)
      GREENAI_UNROLL
      for (int j = 0; j < P; ++j) acc[m][j][0] = acc[m][j][1] = _mm256_setzero_ps();
    const int64_t k1 = std::min(K, (b + 1) * B);
    for (int64_t k = b * B; k < k1; ++k) {
      __m256 av[M];
      GREENAI_UNROLL
      for (int m = 0; m < M; ++m) av[m] = _mm256_broadcast_ss(a + m * K + k);
      GREENAI_UNROLL
      for (int j = 0; j < P; ++j) {  // convert one panel's 16 weights, use them, next panel
        const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qp[j] + k * 8)));
        const __m256 lo = _mm256_cvtepi32_ps(_mm256_and_si256(x, low4));
        const __m256 hi = _mm256_cvtepi32_ps(_mm256_srli_epi32(x, 4));
        GREENAI_UNROLL
        for (int m = 0; m < M; ++m) {
          acc[m][j][0] = _mm256_fmadd_ps(av[m], lo, acc[m][j][0]);
          acc[m][j][1] = _mm256_fmadd_ps(av[m], hi, acc[m][j][1]);
        }
      }
    }
    // y += s * (sum a q - 8 sum a) = s * sum a (q - 8)
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) {
      const __m256 s0 = _mm256_loadu_ps(sp[j] + b * kNr), s1 = _mm256_loadu_ps(sp[j] + b * kNr + 8);
      GREENAI_UNROLL
      for (int m = 0; m < M; ++m) {
        const __m256 corr = _mm256_set1_ps(8.f * asum[m * nb + b]);
        tot[m][j][0] = _mm256_fmadd_ps(s0, _mm256_sub_ps(acc[m][j][0], corr), tot[m][j][0]);
        tot[m][j][1] = _mm256_fmadd_ps(s1, _mm256_sub_ps(acc[m][j][1], corr), tot[m][j][1]);
      }
    }
  }
  GREENAI_UNROLL
  for (int m = 0; m < M; ++m)
    GREENAI_UNROLL
    for (int j = 0; j < P; ++j) {
      _mm256_storeu_ps(out + (j * M + m) * kNr, tot[m][j][0]);
      _mm256_storeu_ps(out + (j * M + m) * kNr + 8, tot[m][j][1]);
    }
}

// Panels [p0, p1): groups of kGemvPanels<M>, then single panels.
template <WFormat F, int M, int P>
int64_t GemvGroups(const PackedWeight& w, int64_t p, int64_t p1, const float* a, const float* asum, const Epilogue& ep,
                   IoT<F>* y) {
  alignas(32) float out[P * M * kNr];
  for (; p + P <= p1; p += P) {
    if constexpr (F == WFormat::kInt4) GemvInt4<M, P>(w, p, a, asum, out);
    else GemvHalf<F, M, P>(w, p, a, out);
    for (int j = 0; j < P; ++j) {
      const int64_t n0 = (p + j) * kNr;
      StoreTile<F>(out + j * M * kNr, M, 0, n0, std::min(kNr, w.N - n0), w.N, ep, y);
    }
  }
  return p;
}

template <WFormat F, int M>
void GemvPanels(const PackedWeight& w, int64_t p0, int64_t p1, const float* a, const float* asum, const Epilogue& ep,
                IoT<F>* y) {
  int64_t p = GemvGroups<F, M, kGemvPanels<M>>(w, p0, p1, a, asum, ep, y);
  if constexpr (kGemvPanels<M> > 2) p = GemvGroups<F, M, 2>(w, p, p1, a, asum, ep, y);
  if constexpr (kGemvPanels<M> > 1) GemvGroups<F, M, 1>(w, p, p1, a, asum, ep, y);
}

// ---- larger M: decode a panel to float32, 6x16 micro-kernel ----

constexpr int64_t kMr = 6;    // rows of A per micro-kernel tile
constexpr int64_t kKc = 256;  // k rows per decoded chunk: 16 KB of B, 6 KB of A per tile (L1)

// Rows [k0, k1) of panel p as float32 [k1 - k0][16]. REQUIRES: k0 a multiple of the block (int4).
template <WFormat F>
void DecodePanel(const PackedWeight& w, int64_t p, int64_t k0, int64_t k1, float* dst) {
  const int64_t K = w.K;
  if constexpr (F == WFormat::kInt4) {
    const uint8_t* qp = w.q4.data() + p * K * 8;
    const float* sp = w.scales.data() + p * w.nb * kNr;
    const __m256i low4 = _mm256_set1_epi32(0x0F);
    const __m256 eight = _mm256_set1_ps(8.f);
    for (int64_t b = k0 / w.block; b * w.block < k1; ++b) {
      const __m256 s0 = _mm256_loadu_ps(sp + b * kNr), s1 = _mm256_loadu_ps(sp + b * kNr + 8);
      const int64_t end = std::min(k1, (b + 1) * w.block);
      for (int64_t k = b * w.block; k < end; ++k) {
        const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qp + k * 8)));
        const __m256 lo = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_and_si256(x, low4)), eight);
        const __m256 hi = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(x, 4)), eight);
        _mm256_storeu_ps(dst + (k - k0) * kNr, _mm256_mul_ps(lo, s0));  // (q - 8) * s, as the reference
        _mm256_storeu_ps(dst + (k - k0) * kNr + 8, _mm256_mul_ps(hi, s1));
      }
    }
  } else {
    const uint16_t* wp = w.h.data() + p * K * kNr;
    for (int64_t k = k0; k < k1; ++k) {
      _mm256_storeu_ps(dst + (k - k0) * kNr, Load8<F>(wp + k * kNr));
      _mm256_storeu_ps(dst + (k - k0) * kNr + 8, Load8<F>(wp + k * kNr + 8));
    }
  }
}

// c[6][16] (+)= A rows [6][kc] (row stride lda) x b[kc][16], b a decoded chunk.
template <int MR>
void Micro(const float* a, int64_t lda, const float* b, int64_t kc, bool first, float* c_io) {
  __m256 c[MR][2];
  GREENAI_UNROLL
  for (int r = 0; r < MR; ++r) {
    c[r][0] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c_io + r * kNr);
    c[r][1] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c_io + r * kNr + 8);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b + k * kNr), b1 = _mm256_loadu_ps(b + k * kNr + 8);
    GREENAI_UNROLL
    for (int r = 0; r < MR; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      c[r][0] = _mm256_fmadd_ps(av, b0, c[r][0]);
      c[r][1] = _mm256_fmadd_ps(av, b1, c[r][1]);
    }
  }
  GREENAI_UNROLL
  for (int r = 0; r < MR; ++r) {
    _mm256_storeu_ps(c_io + r * kNr, c[r][0]);
    _mm256_storeu_ps(c_io + r * kNr + 8, c[r][1]);
  }
}

void MicroRows(int64_t mr, const float* a, int64_t lda, const float* b, int64_t kc, bool first, float* c) {
  switch (mr) {
    case 6: Micro<6>(a, lda, b, kc, first, c); break;
    case 5: Micro<5>(a, lda, b, kc, first, c); break;
    case 4: Micro<4>(a, lda, b, kc, first, c); break;
    case 3: Micro<3>(a, lda, b, kc, first, c); break;
    case 2: Micro<2>(a, lda, b, kc, first, c); break;
    default: Micro<1>(a, lda, b, kc, first, c); break;
  }
}

// Panels [p0, p1) for all M rows of a (float32, row-major); slot: kKc * 16 floats of
// decoded B, then ceil(M / 6) * 96 floats of C tiles.
template <WFormat F>
void PanelGemm(const PackedWeight& w, int64_t p0, int64_t p1, const float* a, int64_t M, float* slot,
               const Epilogue& ep, IoT<F>* y) {
  const int64_t K = w.K;
  float* c = slot + kKc * kNr;
  for (int64_t p = p0; p < p1; ++p) {
    for (int64_t k0 = 0; k0 < K; k0 += kKc) {
      const int64_t kc = std::min(kKc, K - k0);
      DecodePanel<F>(w, p, k0, k0 + kc, slot);
      for (int64_t m0 = 0; m0 < M; m0 += kMr)
        MicroRows(std::min(kMr, M - m0), a + m0 * K + k0, K, slot, kc, k0 == 0, c + m0 * kNr);
    }
    const int64_t n0 = p * kNr, nv = std::min(kNr, w.N - n0);
    for (int64_t m0 = 0; m0 < M; m0 += kMr)
      StoreTile<F>(c + m0 * kNr, std::min(kMr, M - m0), m0, n0, nv, w.N, ep, y);
  }
}

template <WFormat F>
void Run(const PackedWeight& w, const void* a_in, int64_t M, void* y_in, const Epilogue& ep, LowpScratch& s,
         ThreadPool* pool) {
  const int64_t K = w.K;
  IoT<F>* y = static_cast<IoT<F>*>(y_in);
  const int threads = pool->num_threads();
  const bool parallel = threads > 1 && w.panels > 1 &&
                        static_cast<double>(M) * static_cast<double>(K) * static_cast<double>(w.N) >= kParallelMacs;
  if (M <= kGemvMaxRows) {
    const float* a = nullptr;
    const float* asum = nullptr;
    if constexpr (F == WFormat::kInt4) {
      a = static_cast<const float*>(a_in);
      if (s.asum.size() < static_cast<size_t>(M * w.nb)) s.asum.resize(static_cast<size_t>(M * w.nb));
      for (int64_t m = 0; m < M; ++m)
        for (int64_t b = 0; b < w.nb; ++b) {
          float t = 0.f;
          for (int64_t k = b * w.block; k < std::min(K, (b + 1) * w.block); ++k) t += a[m * K + k];
          s.asum[static_cast<size_t>(m * w.nb + b)] = t;
        }
      asum = s.asum.data();
    } else {
      if (s.a.size() < static_cast<size_t>(M * K)) s.a.resize(static_cast<size_t>(M * K));
      ToFloat<F>(static_cast<const uint16_t*>(a_in), M * K, s.a.data());
      a = s.a.data();
    }
    auto body = [&](int64_t p0, int64_t p1) {
      switch (M) {
        case 1: GemvPanels<F, 1>(w, p0, p1, a, asum, ep, y); break;
        case 2: GemvPanels<F, 2>(w, p0, p1, a, asum, ep, y); break;
        case 3: GemvPanels<F, 3>(w, p0, p1, a, asum, ep, y); break;
        default: GemvPanels<F, 4>(w, p0, p1, a, asum, ep, y); break;
      }
    };
    if (parallel) {
      // work items of whole 4-panel groups (the widest GEMV), taken dynamically: a thread
      // that was descheduled on this shared machine does not hold the others up
      pool->ParallelFor(w.panels, 4, body);
    } else {
      body(0, w.panels);
    }
    return;
  }
  const float* a = nullptr;
  if constexpr (F == WFormat::kInt4) {
    a = static_cast<const float*>(a_in);
  } else {
    if (s.a.size() < static_cast<size_t>(M * K)) s.a.resize(static_cast<size_t>(M * K));
    ToFloat<F>(static_cast<const uint16_t*>(a_in), M * K, s.a.data());
    a = s.a.data();
  }
  const int64_t tiles = (M + kMr - 1) / kMr;
  // up to 4 work items per thread (taken dynamically), each with its own scratch slot
  const int64_t chunks = parallel ? std::min<int64_t>(4 * threads, w.panels) : 1;
  const size_t slot = static_cast<size_t>(kKc * kNr + tiles * kMr * kNr);
  if (s.panels.size() < slot * static_cast<size_t>(chunks)) s.panels.resize(slot * static_cast<size_t>(chunks));
  auto body = [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c)
      PanelGemm<F>(w, c * w.panels / chunks, (c + 1) * w.panels / chunks, a, M, s.panels.data() + c * slot, ep, y);
  };
  if (chunks > 1) pool->ParallelFor(chunks, 1, body);
  else body(0, 1);
}

}  // namespace

void LowpGemm(const PackedWeight& w, const void* a, int64_t M, void* y, const Epilogue& ep, LowpScratch& scratch,
              ThreadPool* pool) {
  if (M <= 0) return;
  switch (w.fmt) {
    case WFormat::kInt4: Run<WFormat::kInt4>(w, a, M, y, ep, scratch, pool); break;
    case WFormat::kF16: Run<WFormat::kF16>(w, a, M, y, ep, scratch, pool); break;
    case WFormat::kBF16: Run<WFormat::kBF16>(w, a, M, y, ep, scratch, pool); break;
  }
}

}  // namespace greenai::lowp

#endif  // GREENAI_LOWP_AVX2
