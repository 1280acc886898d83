#include "backends/cpu/int8_gemm.h"

#include <algorithm>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "ops/quant_util.h"
#include "ops/shape_util.h"

namespace greenai::int8 {

void GemmRef(int64_t M, int64_t N, int64_t K, const void* a, bool a_signed, int64_t lda, const int32_t* za,
             const void* b, bool b_signed, int64_t ldb, const int32_t* zb, int32_t* c, int64_t ldc) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += static_cast<int64_t>(Load8(a, a_signed, m * lda + k) - za[m]) * (Load8(b, b_signed, k * ldb + n) - zb[n]);
      c[m * ldc + n] = static_cast<int32_t>(static_cast<uint32_t>(acc));  // wraps like the int32 fast path
    }
}

void PackedB::Pack(int64_t K, int64_t N, const void* b, bool b_signed, int64_t ldb, const int32_t* zb) {
  k_ = K;
  n_ = N;
  const int64_t panels = (N + kPanel - 1) / kPanel;
  data_.assign(static_cast<size_t>(panels * k_pairs() * 2 * kPanel), 0);
  for (int64_t p = 0; p < panels; ++p) {
    int16_t* dst = data_.data() + p * k_pairs() * 2 * kPanel;
    for (int64_t kp = 0; kp < k_pairs(); ++kp)
      for (int64_t j = 0; j < kPanel; ++j) {
        const int64_t n = p * kPanel + j;
        if (n >= N) continue;
        for (int64_t h = 0; h < 2; ++h) {
          const int64_t k = 2 * kp + h;
          if (k >= K) continue;
          dst[(kp * kPanel + j) * 2 + h] = static_cast<int16_t>(Load8(b, b_signed, k * ldb + n) - zb[n]);
        }
      }
  }
}

namespace {

// Row r of A minus its zero point, widened to int16 and padded to an even length.
void WidenRow(const void* a, bool a_signed, int64_t offset, int64_t K, int32_t z, int16_t* dst) {
  if (a_signed) {
    const int8_t* s = static_cast<const int8_t*>(a) + offset;
    for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<int16_t>(s[k] - z);
  } else {
    const uint8_t* s = static_cast<const uint8_t*>(a) + offset;
    for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<int16_t>(s[k] - z);
  }
  if (K % 2) dst[K] = 0;
}

// rows x 16 tile: a16 holds `rows` widened rows of stride kp2 (= 2 * k_pairs).
template <int kRows>
void Tile(const int16_t* a16, int64_t kp2, const int16_t* panel, int64_t k_pairs, int32_t* out /* kRows x 16 */) {
#if defined(__AVX2__)
  __m256i acc[kRows][2];
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int64_t p = 0; p < k_pairs; ++p) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(panel + p * 32 + 16));
    for (int r = 0; r < kRows; ++r) {
      int32_t pair;
      std::memcpy(&pair, a16 + r * kp2 + 2 * p, 4);
      const __m256i av = _mm256_set1_epi32(pair);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, b0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, b1));
    }
  }
  for (int r = 0; r < kRows; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * 16), acc[r][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * 16 + 8), acc[r][1]);
  }
#else
  for (int r = 0; r < kRows; ++r)
    for (int j = 0; j < 16; ++j) {
      uint32_t acc = 0;
      for (int64_t p = 0; p < k_pairs; ++p)
        for (int h = 0; h < 2; ++h)
          acc += static_cast<uint32_t>(static_cast<int32_t>(a16[r * kp2 + 2 * p + h]) * panel[(p * 16 + j) * 2 + h]);
      out[r * 16 + j] = static_cast<int32_t>(acc);
    }
#endif
}

}  // namespace

const char* GemmPackedIsa() {
#if defined(__AVX2__)
  return "avx2_4x16";
#else
  return "scalar";
#endif
}

void GemmPacked(int64_t m_begin, int64_t m_end, const void* a, bool a_signed, int64_t lda, const int32_t* za,
                const PackedB& b, int32_t* c, int64_t ldc) {
  constexpr int kRows = 4;
  const int64_t K = b.K(), N = b.N(), kp2 = 2 * b.k_pairs();
  const int64_t panels = (N + PackedB::kPanel - 1) / PackedB::kPanel;
  alignas(32) int32_t tile[kRows * 16];
  std::vector<int16_t> a16(static_cast<size_t>(kRows * kp2 + 16));
  for (int64_t m0 = m_begin; m0 < m_end; m0 += kRows) {
    const int rows = static_cast<int>(std::min<int64_t>(kRows, m_end - m0));
    for (int r = 0; r < rows; ++r) WidenRow(a, a_signed, (m0 + r) * lda, K, za[m0 + r], a16.data() + r * kp2);
    for (int64_t p = 0; p < panels; ++p) {
      switch (rows) {
        case 4: Tile<4>(a16.data(), kp2, b.panel(p), b.k_pairs(), tile); break;
        case 3: Tile<3>(a16.data(), kp2, b.panel(p), b.k_pairs(), tile); break;
        case 2: Tile<2>(a16.data(), kp2, b.panel(p), b.k_pairs(), tile); break;
        default: Tile<1>(a16.data(), kp2, b.panel(p), b.k_pairs(), tile); break;
      }
      const int64_t n0 = p * PackedB::kPanel;
      const int64_t cols = std::min<int64_t>(PackedB::kPanel, N - n0);
      for (int r = 0; r < rows; ++r)
        std::memcpy(c + (m0 + r) * ldc + n0, tile + r * 16, static_cast<size_t>(cols) * sizeof(int32_t));
    }
  }
}

Result<MatMulPlan> PlanMatMul(const Node& node, const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  MatMulPlan plan;
  GREENAI_ASSIGN_OR_RETURN(plan.out_dims, quant::MatMulDims(node, a, b, &plan.K));
  std::vector<int64_t> a2 = a, b2 = b;
  if (a2.size() == 1) a2.insert(a2.begin(), 1);
  if (b2.size() == 1) b2.push_back(1);
  plan.M = a2[a2.size() - 2];
  plan.N = b2.back();
  std::vector<int64_t> ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  GREENAI_ASSIGN_OR_RETURN(std::vector<int64_t> ob, BroadcastDims({ab, bb}, node.Describe()));
  const size_t r = ob.size();
  ab.insert(ab.begin(), r - ab.size(), 1);
  bb.insert(bb.begin(), r - bb.size(), 1);
  const int64_t total = NumElements(ob);
  std::vector<int64_t> idx(r, 0);
  for (int64_t t = 0; t < total; ++t) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < r; ++d) {
      ia = ia * ab[d] + (ab[d] == 1 ? 0 : idx[d]);
      ib = ib * bb[d] + (bb[d] == 1 ? 0 : idx[d]);
    }
    plan.batches.emplace_back(ia, ib);
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < ob[d]) break;
      idx[d] = 0;
    }
  }
  return plan;
}

}  // namespace greenai::int8
