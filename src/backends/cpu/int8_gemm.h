// Integer GEMM with zero points, the core of MatMulInteger, QLinearMatMul and (via im2col)
// the integer convolutions:
//
//   C[m, n] = sum_k (A[m, k] - za[m]) * (B[k, n] - zb[n])      (int32, wrapping on overflow)
//
// A and B are uint8 or int8, row-major. za has M entries (per-row) and zb N entries
// (per-column); callers expand a scalar zero point to a vector.
//
// Two implementations with identical results: GemmRef (plain loops, the oracle) and
// PackedB + GemmPacked (AVX2 when compiled with it, else a portable fallback). The fast
// path widens (x - zero point) to int16 — exact, since |x - z| <= 255 — and multiplies
// int16 pairs with vpmaddwd into int32: 255 * 255 * 2 fits in int32, so unlike vpmaddubsw
// nothing saturates and u8 x u8, u8 x s8 and s8 x s8 all take the same path.
//
// Thread safety: PackedB is immutable after Pack and may be shared by threads; GemmPacked
// writes only rows [m_begin, m_end) of C, so disjoint row ranges run concurrently.
#pragma once

#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "graph/ir.h"

namespace greenai::int8 {

// Reads element i of a uint8/int8 buffer as int32.
inline int32_t Load8(const void* p, bool is_signed, int64_t i) {
  return is_signed ? static_cast<int32_t>(static_cast<const int8_t*>(p)[i])
                   : static_cast<int32_t>(static_cast<const uint8_t*>(p)[i]);
}

void GemmRef(int64_t M, int64_t N, int64_t K, const void* a, bool a_signed, int64_t lda, const int32_t* za,
             const void* b, bool b_signed, int64_t ldb, const int32_t* zb, int32_t* c, int64_t ldc);

// B - zb, widened to int16 and laid out in panels of kPanel columns with k in pairs.
class PackedB {
 public:
  static constexpr int64_t kPanel = 16;
  void Pack(int64_t K, int64_t N, const void* b, bool b_signed, int64_t ldb, const int32_t* zb);
  int64_t K() const { return k_; }
  int64_t N() const { return n_; }
  int64_t k_pairs() const { return (k_ + 1) / 2; }
  const int16_t* panel(int64_t p) const { return data_.data() + p * k_pairs() * 2 * kPanel; }

 private:
  int64_t k_ = 0, n_ = 0;
  std::vector<int16_t> data_;
};

// Rows [m_begin, m_end) of C from A (M x K, row-major) and a packed B.
void GemmPacked(int64_t m_begin, int64_t m_end, const void* a, bool a_signed, int64_t lda, const int32_t* za,
                const PackedB& b, int32_t* c, int64_t ldc);

// Name of the micro-kernel GemmPacked uses ("avx2_4x16" or "scalar").
const char* GemmPackedIsa();

// Batched matmul layout with numpy broadcasting (1-D operands promoted).
struct MatMulPlan {
  int64_t M = 1, N = 1, K = 1;
  std::vector<int64_t> out_dims;
  // For each output matrix: index of the A matrix and of the B matrix it reads.
  std::vector<std::pair<int64_t, int64_t>> batches;
};
Result<MatMulPlan> PlanMatMul(const Node& node, const std::vector<int64_t>& a, const std::vector<int64_t>& b);

}  // namespace greenai::int8
