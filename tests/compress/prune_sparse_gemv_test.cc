// The batch-1 (GEMV) path of the CSR kernels (backends/cpu/sparse_gemv.h and its use in
// sparse_gemm.cc) against the reference kernels on random sparse weights: K and N below, at and
// above multiples of 8 and 16, empty and dense channels, all-zero K rows, fully-zero weights,
// uint16 and (K > 65536) int32 indices, the parallel split and its thread-count independence,
// for both weight forms (kChannels; kWindows where the build has AVX-512F);
// through the registry: Gemm (alpha, beta, C forms, transB), MatMul and the 1x1 Conv on one
// pixel, planned for batch 1, dynamic, 33 (a single-row tail) and 2 (a single row then takes an
// 8-row tile), outputs prefilled with NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string_view>

#include "backends/cpu/run_node.h"
#include "backends/cpu/sparse_gemv.h"
#include "sparse_test_util.h"

namespace greenai {
namespace {

using sparsetest::GemmNode;
using sparsetest::RunPlanned;

// Random [K, N] weight (w[k * N + n]) with `zero_frac` zeros (1: all zero). Otherwise channel
// n % 13 == 0 is empty, n % 13 == 1 dense, n % 13 == 2 holds one non-zero at k = K - 1 (density
// ~0.12 overall at zero_frac 0.95, under the batch-1 CSR limit of 0.15), row k = K / 2 is zero.
std::vector<float> RandomWeight(int64_t K, int64_t N, uint32_t seed, double zero_frac) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> w(static_cast<size_t>(K * N), 0.f);
  if (zero_frac >= 1) return w;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) {
      float v = u(rng) < zero_frac ? 0.f : d(rng);
      if (n % 13 == 0) v = 0.f;
      if (n % 13 == 1) v = d(rng);
      if (n % 13 == 2) v = k == K - 1 ? 1.25f : 0.f;
      if (k == K / 2 && K > 1) v = 0.f;
      w[static_cast<size_t>(k * N + n)] = v;
    }
  return w;
}

// The forms this build can make (kWindows needs AVX-512F).
std::vector<sparse::RowForm> Forms() {
  std::vector<sparse::RowForm> f{sparse::RowForm::kChannels};
  if (sparse::WindowFormAvailable()) f.push_back(sparse::RowForm::kWindows);
  return f;
}

const char* FormName(sparse::RowForm f) { return f == sparse::RowForm::kWindows ? "windows" : "channels"; }

sparse::RowWeight Build(const std::vector<float>& w, int64_t K, int64_t N,
                        sparse::RowForm form = sparse::RowForm::kChannels) {
  std::vector<int64_t> rp{0};
  std::vector<int32_t> col;
  std::vector<float> val;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k)
      if (float v = w[static_cast<size_t>(k * N + n)]; v != 0.f) {
        col.push_back(static_cast<int32_t>(k));
        val.push_back(v);
      }
    rp.push_back(static_cast<int64_t>(val.size()));
  }
  sparse::RowWeight rw = sparse::BuildRowWeight(K, N, rp, col, val, form);
  EXPECT_EQ(rw.form, form);
  return rw;
}

// Dense dot in double over every k (zeros included), the oracle for one row.
std::vector<double> DenseRef(const std::vector<float>& w, const std::vector<float>& x, int64_t K, int64_t N) {
  std::vector<double> r(static_cast<size_t>(N), 0.0);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      r[static_cast<size_t>(n)] += double(w[static_cast<size_t>(k * N + n)]) * x[static_cast<size_t>(k)];
  return r;
}

std::vector<float> RandomVec(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = d(rng);
  return v;
}

TEST(SparseGemv, LayoutPadsEachChannelToEight) {
  const int64_t K = 37, N = 23;
  const auto w = RandomWeight(K, N, 3, 0.8);
  const sparse::RowWeight rw = Build(w, K, N);
  ASSERT_EQ(rw.ptr.size(), static_cast<size_t>(N + 1));
  EXPECT_TRUE(rw.col32.empty());
  ASSERT_EQ(rw.col16.size(), rw.val.size());
  for (int64_t n = 0; n < N; ++n) {
    const int64_t b = rw.ptr[static_cast<size_t>(n)], e = rw.ptr[static_cast<size_t>(n + 1)];
    EXPECT_EQ(b % 8, 0);
    int64_t nnz = 0;
    for (int64_t k = 0; k < K; ++k) nnz += w[static_cast<size_t>(k * N + n)] != 0.f;
    EXPECT_EQ(e - b, (nnz + 7) / 8 * 8) << "channel " << n;
    for (int64_t i = b; i < e; ++i) {
      const int64_t k = rw.col16[static_cast<size_t>(i)];
      ASSERT_LT(k, K);
      // A real entry holds the weight; a pad is zero and repeats the channel's last index.
      if (i - b < nnz) EXPECT_EQ(rw.val[static_cast<size_t>(i)], w[static_cast<size_t>(k * N + n)]);
      else EXPECT_EQ(rw.val[static_cast<size_t>(i)], 0.f);
    }
  }
}

// kWindows: every non-zero sits once in its channel's lane, in the window of its column, with
// its value; a block's step count in a window is its busiest lane's; pads are zero.
TEST(SparseGemv, WindowLayoutHoldsEachNonZeroOnce) {
  if (!sparse::WindowFormAvailable()) GTEST_SKIP() << "kWindows needs an AVX-512F build";
  for (auto [K, N] : std::vector<std::pair<int64_t, int64_t>>{{100, 37}, {20, 5}, {64, 16}}) {
    const auto w = RandomWeight(K, N, 4, 0.8);
    const sparse::RowWeight rw = Build(w, K, N, sparse::RowForm::kWindows);
    const int64_t windows = (K + 31) / 32, blocks = (N + 15) / 16;
    ASSERT_EQ(rw.win_x.size(), static_cast<size_t>(windows));
    ASSERT_EQ(rw.steps.size(), static_cast<size_t>(blocks * windows));
    ASSERT_EQ(rw.block_step.size(), static_cast<size_t>(blocks + 1));
    ASSERT_EQ(rw.lane_col.size(), static_cast<size_t>(16 * rw.block_step.back()));
    ASSERT_EQ(rw.lane_val.size(), rw.lane_col.size());
    std::vector<int> seen(static_cast<size_t>(K * N), 0);
    for (int64_t b = 0; b < blocks; ++b) {
      int64_t step = rw.block_step[static_cast<size_t>(b)];
      for (int64_t j = 0; j < windows; ++j) {
        const int64_t x0 = rw.win_x[static_cast<size_t>(j)], lo = j * 32, hi = std::min(K, lo + 32);
        EXPECT_EQ(x0, K < 32 ? 0 : std::min(j * 32, K - 32));
        int64_t busiest = 0;
        for (int64_t l = 0; l < 16 && b * 16 + l < N; ++l) {
          int64_t nnz = 0;
          for (int64_t k = lo; k < hi; ++k) nnz += w[static_cast<size_t>(k * N + b * 16 + l)] != 0.f;
          busiest = std::max(busiest, nnz);
        }
        const int64_t steps = rw.steps[static_cast<size_t>(b * windows + j)];
        EXPECT_EQ(steps, busiest) << "block " << b << " window " << j;
        for (int64_t s = 0; s < steps; ++s, ++step)
          for (int64_t l = 0; l < 16; ++l) {
            const size_t at = static_cast<size_t>(step * 16 + l);
            const float v = rw.lane_val[at];
            if (v == 0.f) continue;  // a pad
            const int64_t n = b * 16 + l, k = x0 + rw.lane_col[at];
            ASSERT_LT(n, N);
            ASSERT_TRUE(k >= lo && k < hi) << "k " << k << " outside window " << j;
            EXPECT_EQ(v, w[static_cast<size_t>(k * N + n)]);
            ++seen[static_cast<size_t>(k * N + n)];
          }
      }
      EXPECT_EQ(step, rw.block_step[static_cast<size_t>(b + 1)]);
    }
    for (int64_t i = 0; i < K * N; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], w[static_cast<size_t>(i)] != 0.f) << i;
  }
}

// Every K / N around multiples of 8 and 16, sparse and fully zero; alpha, beta and a C row;
// threads 1, 2, 3 give the same bits (the split only moves channel boundaries).
TEST(SparseGemv, MatchesDenseReferenceOverShapes) {
  ThreadPool one(1), two(2), three(3);
  for (sparse::RowForm form : Forms()) {
  uint32_t seed = 10;
  for (int64_t K : {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100, 784})
    for (int64_t N : {1, 3, 8, 13, 16, 17, 64, 300})
      for (double zero_frac : {0.9, 1.0}) {
        const auto w = RandomWeight(K, N, seed++, zero_frac);
        const auto x = RandomVec(K, seed++), c = RandomVec(N, seed++);
        const sparse::RowWeight rw = Build(w, K, N, form);
        const auto ref = DenseRef(w, x, K, N);
        std::vector<float> y1(static_cast<size_t>(N), std::numeric_limits<float>::quiet_NaN()), y2 = y1, y3 = y1;
        sparse::RowOut o{y1.data(), 1, 0.5f, -2.f, c.data(), 1};
        sparse::Gemv(rw, x.data(), o, &one);
        o.y = y2.data();
        sparse::Gemv(rw, x.data(), o, &two);
        o.y = y3.data();
        sparse::Gemv(rw, x.data(), o, &three);
        for (int64_t n = 0; n < N; ++n) {
          const double want = 0.5 * ref[static_cast<size_t>(n)] - 2.0 * c[static_cast<size_t>(n)];
          ASSERT_NEAR(y1[static_cast<size_t>(n)], want, 1e-4 * (1 + std::fabs(want)))
              << FormName(form) << " K" << K << " N" << N << " zeros " << zero_frac << " n " << n;
        }
        EXPECT_EQ(std::memcmp(y1.data(), y2.data(), y1.size() * 4), 0) << FormName(form) << " K" << K << " N" << N;
        EXPECT_EQ(std::memcmp(y1.data(), y3.data(), y1.size() * 4), 0) << FormName(form) << " K" << K << " N" << N;
      }
  }
}

// Big enough to take the parallel split (GemvThreads > 1), with a strided output and a
// broadcast C (c_stride 0), and channel sub-ranges through Dots.
TEST(SparseGemv, ParallelSplitStridesAndRanges) {
  for (sparse::RowForm form : Forms()) {
  SCOPED_TRACE(FormName(form));
  const int64_t K = 784, N = 515;
  const auto w = RandomWeight(K, N, 77, 0.9);
  const auto x = RandomVec(K, 78);
  const sparse::RowWeight rw = Build(w, K, N, form);
  ASSERT_GT(sparse::GemvThreads(rw, 2), 1) << "the weight should be above the parallel threshold";
  EXPECT_EQ(sparse::GemvThreads(rw, 1), 1);
  const auto ref = DenseRef(w, x, K, N);
  const float c = 0.75f;
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    std::vector<float> y(static_cast<size_t>(N * 3), std::numeric_limits<float>::quiet_NaN());
    sparse::Gemv(rw, x.data(), sparse::RowOut{y.data() + 1, 3, 1.f, 2.f, &c, 0}, &pool);
    for (int64_t n = 0; n < N; ++n) {
      const double want = ref[static_cast<size_t>(n)] + 1.5;
      ASSERT_NEAR(y[static_cast<size_t>(n * 3 + 1)], want, 1e-4 * (1 + std::fabs(want))) << threads << " n " << n;
      EXPECT_TRUE(std::isnan(y[static_cast<size_t>(n * 3)]) && std::isnan(y[static_cast<size_t>(n * 3 + 2)]));
    }
  }
  std::vector<float> y(static_cast<size_t>(N), std::numeric_limits<float>::quiet_NaN());
  for (int64_t n0 = 0; n0 < N; n0 += 100)
    sparse::Dots(rw, n0, std::min(N, n0 + 100), x.data(), sparse::RowOut{y.data()});
  for (int64_t n = 0; n < N; ++n) {
    const double want = ref[static_cast<size_t>(n)];
    ASSERT_NEAR(y[static_cast<size_t>(n)], want, 1e-4 * (1 + std::fabs(want))) << n;
  }
  }
}

// RowOut.relu: max(0, y) after alpha and beta * C, the same bits as the plain output through
// the Relu kernel's max(0, y), for both forms, a partial last block and a strided output.
TEST(SparseGemv, FusedReluMatchesPlainThenRelu) {
  for (sparse::RowForm form : Forms()) {
    for (auto [K, N] : std::vector<std::pair<int64_t, int64_t>>{{100, 37}, {784, 300}}) {
      const auto w = RandomWeight(K, N, 21, 0.9);
      const auto x = RandomVec(K, 22), c = RandomVec(N, 23);
      const sparse::RowWeight rw = Build(w, K, N, form);
      std::vector<float> plain(static_cast<size_t>(2 * N), -7.f), relu = plain;
      ThreadPool two(2);
      sparse::RowOut o{plain.data(), 2, 1.5f, 0.5f, c.data(), 1};
      sparse::Gemv(rw, x.data(), o, &two);
      o.y = relu.data();
      o.relu = true;
      sparse::Gemv(rw, x.data(), o, &two);
      int64_t negatives = 0;
      for (int64_t n = 0; n < N; ++n) {
        const float p = plain[static_cast<size_t>(2 * n)], want = 0.f > p ? 0.f : p;
        negatives += p < 0.f;
        EXPECT_EQ(std::memcmp(&relu[static_cast<size_t>(2 * n)], &want, 4), 0) << FormName(form) << " n " << n;
        EXPECT_EQ(relu[static_cast<size_t>(2 * n + 1)], -7.f) << "stride gap written, n " << n;
      }
      EXPECT_GT(negatives, 0);
    }
  }
}

// K > 65536: kChannels stores int32 indices; kWindows has no limit on K.
TEST(SparseGemv, WideKUsesInt32Indices) {
  for (sparse::RowForm form : Forms()) {
  SCOPED_TRACE(FormName(form));
  const int64_t K = 70001, N = 11;
  const auto w = RandomWeight(K, N, 5, 0.97);
  const auto x = RandomVec(K, 6);
  const sparse::RowWeight rw = Build(w, K, N, form);
  if (form == sparse::RowForm::kChannels) {
    EXPECT_TRUE(rw.col16.empty());
    EXPECT_EQ(rw.col32.size(), rw.val.size());
  }
  std::vector<float> y(static_cast<size_t>(N), std::numeric_limits<float>::quiet_NaN());
  ThreadPool two(2);
  sparse::Gemv(rw, x.data(), sparse::RowOut{y.data()}, &two);
  const auto ref = DenseRef(w, x, K, N);
  for (int64_t n = 0; n < N; ++n) {
    const double want = ref[static_cast<size_t>(n)];
    ASSERT_NEAR(y[static_cast<size_t>(n)], want, 1e-3 * (1 + std::fabs(want))) << n;
  }
  }
}

// ---- Through the kernel registry, against the reference kernels. ----

Tensor ToTensor(const std::vector<float>& v, Shape s) {
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  std::memcpy(t.raw(), v.data(), v.size() * 4);
  return t;
}

Tensor Transposed(const std::vector<float>& w, int64_t K, int64_t N) {  // [K, N] -> [N, K]
  std::vector<float> t(w.size());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) t[static_cast<size_t>(n * K + k)] = w[static_cast<size_t>(k * N + n)];
  return ToTensor(t, {N, K});
}

Tensor Reference(const Node& node, const std::vector<Tensor>& in) {
  RunNodeOptions ref;
  ref.reference_only = true;
  auto r = RunNode(node, in, ref);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)[0] : Tensor();
}

void ExpectClose(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float x = a.data<float>()[i], y = b.data<float>()[i];
    ASSERT_TRUE(std::isfinite(x)) << what << " element " << i;
    ASSERT_NEAR(x, y, 1e-4f * (1 + std::fabs(y))) << what << " element " << i;
  }
}

// Batch 1 and 33 (32 + a single-row tail) planned as 1, dynamic, 33 and 2 (no row form: the
// single row takes an 8-row tile), with K/N off multiples of 8, a fully-zero weight and both
// thread counts.
TEST(SparseGemv, GemmBatchOneAndTailRowEveryPlan) {
  uint32_t seed = 300;
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (auto [K, N] : std::vector<std::pair<int64_t, int64_t>>{{37, 13}, {300, 64}, {784, 515}, {9, 1}})
      for (double zero_frac : {0.95, 1.0})
        for (bool tb : {false, true})
          for (int64_t M : {1, 33}) {
            const auto w = RandomWeight(K, N, seed++, zero_frac);
            const Tensor b = tb ? Transposed(w, K, N) : ToTensor(w, {K, N});
            const std::vector<Tensor> in = {ToTensor(RandomVec(M * K, seed++), {M, K}), b,
                                            ToTensor(RandomVec(N, seed++), {N})};
            const Node node = GemmNode(tb, 0.5f, 2.f, true);
            const Tensor ref = Reference(node, in);
            for (int64_t plan : {int64_t{1}, int64_t{-1}, int64_t{33}, int64_t{2}}) {
              const std::string what =
                  fmt::format("K{} N{} zeros {} tb{} M{} plan {} threads {}", K, N, zero_frac, tb, M, plan, threads);
              auto y = RunPlanned(node, in, "f32_gemm__csr", plan, {M, N}, pool);
              ASSERT_TRUE(y.has_value()) << what;
              ExpectClose(*y, ref, what);
            }
          }
  }
}

TEST(SparseGemv, GemmBatchOneCForms) {
  ThreadPool pool(2);
  const int64_t K = 100, N = 40;
  const auto w = RandomWeight(K, N, 9, 0.95);
  const Tensor a = ToTensor(RandomVec(K, 10), {1, K}), b = ToTensor(w, {K, N});
  uint32_t seed = 11;
  for (Shape cs : {Shape{}, Shape{1}, Shape{N}, Shape{1, N}, Shape{1, 1}}) {
    int64_t numel = 1;
    for (int64_t d : cs) numel *= d;
    const Node node = GemmNode(false, -1.5f, 0.25f, true);
    const std::vector<Tensor> in = {a, b, ToTensor(RandomVec(numel, seed++), cs)};
    auto y = RunPlanned(node, in, "f32_gemm__csr", 1, {1, N}, pool);
    ASSERT_TRUE(y.has_value());
    ExpectClose(*y, Reference(node, in), "C" + ShapeToString(cs));
  }
  const Node no_c = GemmNode(false, 3.f, 1.f, false);
  auto y = RunPlanned(no_c, {a, b}, "f32_gemm__csr", 1, {1, N}, pool);
  ASSERT_TRUE(y.has_value());
  ExpectClose(*y, Reference(no_c, {a, b}), "no C");
}

TEST(SparseGemv, MatMulAndConvOnePixel) {
  ThreadPool pool(2);
  uint32_t seed = 600;
  for (auto [K, N] : std::vector<std::pair<int64_t, int64_t>>{{17, 9}, {512, 256}}) {
    const auto w = RandomWeight(K, N, seed++, 0.95);
    Node mm;
    mm.op_type = "MatMul";
    mm.inputs = {"A", "B"};
    mm.outputs = {"Y"};
    const std::vector<Tensor> in = {ToTensor(RandomVec(K, seed++), {1, K}), ToTensor(w, {K, N})};
    for (int64_t plan : {int64_t{1}, int64_t{-1}}) {
      auto y = RunPlanned(mm, in, "f32_matmul__csr", plan, {1, N}, pool);
      ASSERT_TRUE(y.has_value());
      ExpectClose(*y, Reference(mm, in), fmt::format("MatMul K{} N{} plan {}", K, N, plan));
    }
    Node conv;
    conv.op_type = "Conv";
    conv.inputs = {"X", "W", "B"};
    conv.outputs = {"Y"};
    const std::vector<Tensor> cin = {ToTensor(RandomVec(2 * K, seed++), {2, K, 1, 1}),
                                     Transposed(w, K, N).Reshaped({N, K, 1, 1}), ToTensor(RandomVec(N, seed++), {N})};
    for (int64_t plan : {int64_t{1}, int64_t{-1}}) {
      auto y = RunPlanned(conv, cin, "f32_conv1x1__csr", plan, {2, N, 1, 1}, pool);
      ASSERT_TRUE(y.has_value());
      ExpectClose(*y, Reference(conv, cin), fmt::format("Conv K{} N{} plan {}", K, N, plan));
    }
  }
}

}  // namespace
}  // namespace greenai
