// The low-precision-weight kernels (backends/cpu/lowp_*.cc) against the reference kernels:
//  - ai.greenai MatMulInt4 (int4 weights, blocks 32/64/128, full and padded last blocks,
//    MatMul and Gemm forms with alpha/beta/C), f16/bf16 MatMul and Gemm (transB, C, alpha,
//    beta) over M in {1,2,3,4,5,17,64} (the GEMV path up to 4 rows, 6-row tiles above),
//    K in {32,64,96,784}, N in {1,7,16,33,512} (panel tails), with 1 and 2 threads; outputs
//    NaN-prefilled (RunNode), compared within float32 rounding of the dot products (plus one
//    half ulp for half outputs): a wrong column, block, scale or tail is off by O(1).
//  - f16/bf16 Cast and Relu: bit-identical to the reference on every 16-bit pattern and on
//    float32 rounding ties, subnormals, overflow and NaNs (widened signalling NaNs may differ
//    in the quiet bit only: see lowp_elementwise.cc).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "backends/cpu/lowp_gemm.h"
#include "backends/cpu/run_node.h"
#include "ops/weight_only.h"

namespace greenai {
namespace {

#ifdef GREENAI_LOWP_AVX2
constexpr bool kFast = true;
#else
constexpr bool kFast = false;
#endif

float ToF(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::kF32) return t.data<float>()[i];
  const uint16_t b = static_cast<const uint16_t*>(t.raw())[i];
  return t.dtype() == DType::kF16 ? HalfToFloat(b) : BFloat16ToFloat(b);
}

Tensor RandomT(DType t, Shape s, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor x = Tensor::Create(t, std::move(s)).value();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float v = d(rng);
    if (t == DType::kF32) x.data<float>()[i] = v;
    else static_cast<uint16_t*>(x.raw())[i] = t == DType::kF16 ? FloatToHalf(v) : FloatToBFloat16(v);
  }
  return x;
}

// |fast - ref| <= rel * S[i] + (half ulp of ref when the output is 16-bit), where S[i] is the
// sum of |a w| (and |beta c|) for that output: float32 rounding of two different summation
// orders stays far below it, a wrong weight does not.
void ExpectClose(const Tensor& fast, const Tensor& ref, const std::vector<double>& S, double rel,
                 const std::string& what) {
  ASSERT_EQ(fast.shape(), ref.shape()) << what;
  ASSERT_EQ(fast.dtype(), ref.dtype()) << what;
  const double half_ulp = ref.dtype() == DType::kF16 ? std::ldexp(1.0, -10) : ref.dtype() == DType::kBF16 ? std::ldexp(1.0, -7) : 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double f = ToF(fast, i), r = ToF(ref, i);
    const double tol = rel * S[static_cast<size_t>(i)] + half_ulp * std::fabs(r) + 1e-30;
    ASSERT_TRUE(std::isfinite(f)) << what << " @" << i;
    ASSERT_LE(std::fabs(f - r), tol) << what << " @" << i << ": fast " << f << " ref " << r;
  }
}

// S[m, n] = sum_k |a[m, k] w(k, n)| + |beta c(m, n)|.
template <typename W, typename C>
std::vector<double> Magnitudes(const Tensor& a, int64_t M, int64_t K, int64_t N, W w, C c) {
  std::vector<double> S(static_cast<size_t>(M * N), 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = c(m, n);
      for (int64_t k = 0; k < K; ++k) s += std::fabs(static_cast<double>(ToF(a, m * K + k)) * w(k, n));
      S[static_cast<size_t>(m * N + n)] = s;
    }
  return S;
}

constexpr int64_t kMs[] = {1, 2, 3, 4, 5, 17, 64};
constexpr int64_t kKs[] = {32, 64, 96, 784};
constexpr int64_t kNs[] = {1, 7, 16, 33, 512};

TEST(LowpGemm, Int4MatchesReference) {
  std::mt19937 rng(5);
  ThreadPool two(2);
  int cases = 0;
  for (int64_t block : {32, 64, 128})
    for (int64_t K : kKs)
      for (int64_t N : kNs)
        for (int64_t M : kMs) {
          const bool gemm = (M + K + N + block) % 2 == 0;  // half the cases in the Gemm form
          const int64_t nb = (K + block - 1) / block;
          Tensor p = Tensor::Create(DType::kU8, {nb * block * N / 2}).value();
          for (auto& v : p.span<uint8_t>()) v = static_cast<uint8_t>(rng());
          Tensor s = RandomT(DType::kF32, {nb, 1, N}, rng, 0.01f, 0.2f);
          Tensor a = RandomT(DType::kF32, {M, K}, rng);
          Node n;
          n.name = "mm4";
          n.op_type = std::string(kMatMulInt4);
          n.domain = std::string(kGreenaiDomain);
          n.inputs = {"a", "p", "s"};
          n.outputs = {"y"};
          n.SetInt("K", K);
          n.SetInt("N", N);
          n.SetInt("block_size", block);
          std::vector<Tensor> in = {a, p, s};
          float alpha = 1.f, beta = 1.f;
          Tensor c;
          if (gemm) {
            alpha = 0.75f;
            beta = -1.5f;
            n.SetFloat("alpha", alpha);
            n.SetFloat("beta", beta);
            n.inputs.push_back("c");
            c = RandomT(DType::kF32, M % 3 == 0 ? Shape{M, N} : Shape{N}, rng);
            in.push_back(c);
          }
          // |q| <= 15: the fast GEMV sums a * q per block before subtracting 8 * sum a
          auto w = [&](int64_t k, int64_t j) { return std::fabs(alpha) * 15.0 * s.data<float>()[(k / block) * N + j]; };
          auto cm = [&](int64_t m, int64_t j) {
            if (!gemm) return 0.0;
            return std::fabs(static_cast<double>(beta) * (c.rank() == 2 ? c.data<float>()[m * N + j] : c.data<float>()[j]));
          };
          const std::vector<double> S = Magnitudes(a, M, K, N, w, cm);
          std::string_view name;
          RunNodeOptions fast, ref;
          fast.kernel_name_out = &name;
          fast.pool = cases % 2 == 0 ? &two : nullptr;
          ref.reference_only = true;
          auto y = RunNode(n, in, fast);
          auto r = RunNode(n, in, ref);
          ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
          EXPECT_EQ(name, kFast ? "f32_matmulint4__avx2" : "f32_matmulint4__ref");
          ExpectClose((*y)[0], (*r)[0], S, 2e-5,
                      fmt::format("int4 M={} K={} N={} block={} gemm={}", M, K, N, block, gemm));
          ++cases;
        }
  EXPECT_EQ(cases, 3 * 4 * 5 * 7);
}

// f16 / bf16 MatMul and Gemm with a constant B.
void HalfCase(DType t, bool gemm, int64_t M, int64_t K, int64_t N, bool trans_b, bool with_c, ThreadPool* pool,
              std::mt19937& rng) {
  Tensor a = RandomT(t, {M, K}, rng);
  Tensor b = RandomT(t, trans_b ? Shape{N, K} : Shape{K, N}, rng);
  Node n;
  n.name = "mm16";
  n.op_type = gemm ? "Gemm" : "MatMul";
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  std::vector<Tensor> in = {a, b};
  float alpha = 1.f, beta = 1.f;
  Tensor c;
  if (gemm) {
    if (trans_b) n.SetInt("transB", 1);
    if (with_c) {
      alpha = 0.5f;
      beta = 2.f;
      n.SetFloat("alpha", alpha);
      n.SetFloat("beta", beta);
      n.inputs.push_back("c");
      c = RandomT(t, M % 2 == 0 ? Shape{1, N} : Shape{M, 1}, rng);
      in.push_back(c);
    }
  }
  auto w = [&](int64_t k, int64_t j) { return std::fabs(alpha * ToF(b, trans_b ? j * K + k : k * N + j)); };
  auto cm = [&](int64_t m, int64_t j) {
    if (!c.defined()) return 0.0;
    return std::fabs(static_cast<double>(beta) * ToF(c, c.numel() == 1 ? 0 : c.dim(0) == 1 ? j : m));  // [1, N] or [M, 1]
  };
  const std::vector<double> S = Magnitudes(a, M, K, N, w, cm);
  std::string_view name;
  RunNodeOptions fast, ref;
  fast.kernel_name_out = &name;
  fast.pool = pool;
  ref.reference_only = true;
  auto y = RunNode(n, in, fast);
  auto r = RunNode(n, in, ref);
  ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
  const std::string want = t == DType::kF16 ? (gemm ? "f16_gemm__avx2_f16c" : "f16_matmul__avx2_f16c")
                                            : (gemm ? "bf16_gemm__avx2" : "bf16_matmul__avx2");
  if (kFast) {
    EXPECT_EQ(name, want);
  }
  ExpectClose((*y)[0], (*r)[0], S, 2e-5,
              fmt::format("{} {} M={} K={} N={} transB={} C={}", DTypeName(t), n.op_type, M, K, N, trans_b, with_c));
}

TEST(LowpGemm, HalfMatchesReference) {
  std::mt19937 rng(7);
  ThreadPool two(2);
  int cases = 0;
  for (DType t : {DType::kF16, DType::kBF16})
    for (int64_t K : kKs)
      for (int64_t N : kNs)
        for (int64_t M : kMs) {
          const int v = cases % 4;  // MatMul, Gemm, Gemm transB, Gemm transB + C/alpha/beta
          HalfCase(t, v > 0, M, K, N, v >= 2, v == 3, cases % 3 == 0 ? &two : nullptr, rng);
          if (HasFatalFailure()) return;
          ++cases;
        }
  EXPECT_EQ(cases, 2 * 4 * 5 * 7);
}

TEST(LowpGemm, HalfMatMulBatchedAndVectorA) {
  // A of rank 3 and rank 1 (output [2, 3, N] and [N]) against the reference.
  std::mt19937 rng(9);
  for (DType t : {DType::kF16, DType::kBF16})
    for (const Shape& as : {Shape{2, 3, 40}, Shape{40}}) {
      Tensor a = RandomT(t, as, rng), b = RandomT(t, {40, 21}, rng);
      Node n;
      n.op_type = "MatMul";
      n.inputs = {"a", "b"};
      n.outputs = {"y"};
      std::string_view name;
      RunNodeOptions fast, ref;
      fast.kernel_name_out = &name;
      ref.reference_only = true;
      auto y = RunNode(n, {a, b}, fast);
      auto r = RunNode(n, {a, b}, ref);
      ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
      if (kFast) {
        EXPECT_NE(name.find("matmul__avx2"), std::string_view::npos) << name;
      }
      const int64_t M = a.numel() / 40;
      std::vector<double> S = Magnitudes(
          a, M, 40, 21, [&](int64_t k, int64_t j) { return std::fabs(ToF(b, k * 21 + j)); },
          [](int64_t, int64_t) { return 0.0; });
      ExpectClose((*y)[0], (*r)[0], S, 2e-5, "batched/vector A");
    }
}

// ---- Cast / Relu on f16 and bf16: bit-exact ----

void ExpectBitExact(const Node& n, const Tensor& x, const std::string& want) {
  std::string_view name;
  RunNodeOptions fast, ref;
  fast.kernel_name_out = &name;
  ref.reference_only = true;
  auto y = RunNode(n, {x}, fast);
  auto r = RunNode(n, {x}, ref);
  ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
  if (kFast) {
    EXPECT_EQ(name, want);
  }
  const Tensor &a = (*y)[0], &b = (*r)[0];
  ASSERT_EQ(a.nbytes(), b.nbytes());
  const size_t w = DTypeSize(a.dtype());
  int snans = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(static_cast<const char*>(a.raw()) + i * w, static_cast<const char*>(b.raw()) + i * w, w) == 0)
      continue;
    // The one allowed difference: a signalling NaN widened to float32 may come out quiet in
    // either (the reference's float -> double -> float trip quiets it or not with the build's
    // optimization); sign and payload must match.
    ASSERT_EQ(a.dtype(), DType::kF32) << n.op_type << " " << want << " element " << i;
    uint32_t fa, fb;
    std::memcpy(&fa, a.data<float>() + i, 4);
    std::memcpy(&fb, b.data<float>() + i, 4);
    ASSERT_TRUE(std::isnan(a.data<float>()[i]) && (fa | 0x00400000u) == (fb | 0x00400000u))
        << n.op_type << " " << want << " element " << i << std::hex << ": " << fa << " vs " << fb;
    ++snans;
  }
  EXPECT_LE(snans, 2 * 1024) << "only signalling NaN inputs may differ";
}

TEST(LowpElementwise, EveryHalfPatternBitExact) {
  for (DType t : {DType::kF16, DType::kBF16}) {
    const bool f16 = t == DType::kF16;
    Tensor all = Tensor::Create(t, {65536 + 5}).value();  // + 5: a vector tail
    for (int64_t i = 0; i < all.numel(); ++i) static_cast<uint16_t*>(all.raw())[i] = static_cast<uint16_t>(i);
    Node up;
    up.op_type = "Cast";
    up.inputs = {"x"};
    up.outputs = {"y"};
    up.SetInt("to", static_cast<int64_t>(DType::kF32));
    ExpectBitExact(up, all, f16 ? "f16_cast__f16c" : "bf16_cast__avx2");
    Node relu;
    relu.op_type = "Relu";
    relu.inputs = {"x"};
    relu.outputs = {"y"};
    ExpectBitExact(relu, all, f16 ? "f16_relu__avx2" : "bf16_relu__avx2");
  }
}

TEST(LowpElementwise, FloatToHalfBitExact) {
  std::mt19937 rng(3);
  std::vector<float> v;
  std::uniform_real_distribution<float> d(-70000.f, 70000.f);
  for (int i = 0; i < 20000; ++i) v.push_back(d(rng));
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {  // every exponent, NaNs with payloads included
    const uint32_t u = bits(rng);
    float f;
    std::memcpy(&f, &u, 4);
    v.push_back(f);
  }
  // Ties at both precisions, subnormal halves, the overflow boundary, signed zeros.
  for (uint32_t u : {0x3f801000u, 0x3f803000u, 0x3f800800u, 0x3f818000u, 0x3f808000u, 0x33000000u, 0x33800000u,
                     0x387fc000u, 0x477fefffu, 0x477ff000u, 0x47800000u, 0x7f800000u, 0xff800000u, 0x7fc00001u,
                     0x7f800001u, 0xffbfffffu, 0x80000000u, 0x00000001u, 0x7f7fffffu})
    for (float sign : {1.f, -1.f}) {
      float f;
      std::memcpy(&f, &u, 4);
      v.push_back(sign * f);
    }
  Tensor x = Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v);
  for (DType t : {DType::kF16, DType::kBF16}) {
    Node down;
    down.op_type = "Cast";
    down.inputs = {"x"};
    down.outputs = {"y"};
    down.SetInt("to", static_cast<int64_t>(t));
    ExpectBitExact(down, x, t == DType::kF16 ? "f16_cast__f16c" : "bf16_cast__avx2");
  }
}

}  // namespace
}  // namespace greenai
