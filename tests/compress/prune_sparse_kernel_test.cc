// Sparse CPU kernels (backends/cpu/sparse_gemm.cc) against the reference kernels on random
// sparse weights: every path of the CSR kernel (row dots for 1 activation row, 8/16/24/32-row
// tiles with and without K chunks, channel blocks, the parallel split), transB, alpha/beta and
// every C broadcast form, the 1x1 Conv's pixel-major output, static batches run at other batch
// sizes, results independent of the thread count; the cost rule picks CSR / 2:4 / dense.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <string_view>

#include "backends/cpu/run_node.h"
#include "backends/cpu/sparse_gemv.h"
#include "ops/layout.h"
#include "passes/passes.h"
#include "sparse_test_util.h"

namespace greenai {
namespace {

using sparsetest::GemmNode;
using sparsetest::RunPlanned;

Tensor RandomT(Shape s, uint32_t seed, double zero_frac = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (auto& v : t.span<float>()) v = u(rng) < zero_frac ? 0.f : d(rng);
  return t;
}

// Keeps 2 random of every 4 consecutive elements along axis k of a [K, N] (or [N, K]) matrix.
void Make24(Tensor& w, bool k_is_rows, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t R = w.dim(0), C = w.dim(1);
  const int64_t K = k_is_rows ? R : C, N = k_is_rows ? C : R;
  float* d = w.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k0 = 0; k0 < K; k0 += 4) {
      int keep0 = static_cast<int>(rng() % 4), keep1 = static_cast<int>(rng() % 4);
      for (int j = 0; j < 4; ++j) {
        if (j == keep0 || j == keep1) continue;
        const int64_t k = k0 + j;
        d[k_is_rows ? k * C + n : n * C + k] = 0.f;
      }
    }
}

void ExpectClose(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const float x = a.data<float>()[i], y = b.data<float>()[i];
    ASSERT_TRUE(std::isfinite(x)) << what << " element " << i;
    ASSERT_NEAR(x, y, 1e-4f * (1 + std::fabs(y))) << what << " element " << i;
  }
}

std::string RunBoth(const Node& node, const std::vector<Tensor>& in, const std::string& what) {
  RunNodeOptions ref;
  ref.reference_only = true;
  auto r = RunNode(node, in, ref);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::string_view name;
  RunNodeOptions fast;
  fast.kernel_name_out = &name;
  auto f = RunNode(node, in, fast);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  if (r.ok() && f.ok()) ExpectClose((*f)[0], (*r)[0], what + " kernel " + std::string(name));
  return std::string(name);
}

// Runs `node` with the kernel registered as `kernel_name` (bypassing priorities) and compares
// with the reference kernel; returns false when that kernel declined.
bool RunNamed(const Node& node, const std::vector<Tensor>& in, std::string_view kernel_name, const std::string& what) {
  RunNodeOptions ref;
  ref.reference_only = true;
  auto r = RunNode(node, in, ref);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return false;
  std::vector<TensorType> types;
  std::vector<const Tensor*> consts;
  for (const auto& t : in) {
    types.push_back(TensorType::Of(t.dtype(), t.shape()));
    consts.push_back(&t);
  }
  consts[0] = nullptr;  // activations are not constant
  KernelInfo info{node, 17, types, consts, {TensorType::Of(DType::kF32, (*r)[0].shape())}, 1};
  for (const KernelDef* d : KernelRegistry::Get().Candidates("", node.op_type)) {
    if (d->name != kernel_name) continue;
    auto k = d->create(info);
    if (!k.ok()) return false;
    Tensor y = AllocateOutput(info.output_types[0], /*nan_prefill=*/true).value();
    KernelContext ctx;
    for (const auto& t : in) ctx.inputs.push_back(&t);
    ctx.outputs = {&y};
    ctx.pool = &ThreadPool::Default();
    EXPECT_TRUE((*k)->Run(ctx).ok()) << what;
    ExpectClose(y, (*r)[0], what + " kernel " + std::string(kernel_name));
    return true;
  }
  ADD_FAILURE() << "no kernel named " << kernel_name;
  return false;
}

// The cost rule's density limit for a static batch of `rows` activation rows (sparse_gemm.cc);
// one row: 0.30 with the AVX-512 GEMV form (kWindows), else 0.15.
double CsrMaxDensity(int64_t rows) {
  const double one_row = sparse::WindowFormAvailable() ? 0.30 : 0.15;
  return rows >= 4 ? 0.30 : rows >= 2 ? 0.20 : one_row;
}

// Random weight with `zero_frac` zeros, plus channels (along `n_axis`) with no non-zeros, one,
// three and (if `dense_channels`: density ~0.2 overall) all non-zeros, and an all-zero K row.
Tensor SparseWeight(Shape s, int n_axis, uint32_t seed, double zero_frac = 0.9, bool dense_channels = true) {
  Tensor w = RandomT(s, seed, zero_frac);
  const int64_t N = w.dim(n_axis), K = w.dim(1 - n_axis);
  float* d = w.data<float>();
  auto at = [&](int64_t k, int64_t n) -> float& { return n_axis == 0 ? d[n * K + k] : d[k * N + n]; };
  for (int64_t n = 0; n < N; ++n) {
    const int64_t kind = n % 7;  // 0: empty, 1: one non-zero, 2: three, 3: dense, else random
    if (kind > 3 || (kind == 3 && !dense_channels)) continue;
    for (int64_t k = 0; k < K; ++k) at(k, n) = kind == 3 ? 0.25f + static_cast<float>(k % 5) : 0.f;
    for (int64_t j = 0; j < (kind == 1 ? 1 : kind == 2 ? 3 : 0) && j < K; ++j) at((j * 11 + n) % K, n) = 1.5f - j;
  }
  for (int64_t n = 0; n < N; ++n) at(K / 2, n) = 0.f;
  return w;
}


Tensor Reference(const Node& node, const std::vector<Tensor>& in) {
  RunNodeOptions ref;
  ref.reference_only = true;
  auto r = RunNode(node, in, ref);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)[0] : Tensor();
}

bool BitEqual(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.numel()) * 4) == 0;
}

// Every CSR path, planned with a dynamic batch (both CSR forms built): M = 1 (row dots), 2..100
// (8/16/24/32-row tiles, M % 32 tails), K = 37 (one pass), 300 and 784 (K chunks for the wider
// tiles), N = 13 (odd, < 8-channel transposes) and 300 (two channel blocks, parallel split).
TEST(SparseKernel, CsrEveryPathMatchesReference) {
  ThreadPool& pool = ThreadPool::Default();
  uint32_t seed = 500;
  for (int64_t M : {1, 2, 3, 4, 5, 31, 32, 33, 64, 100})
    for (int64_t K : {37, 300, 784})
      for (int64_t N : {13, 300})
        for (bool tb : {false, true}) {
          const Node node = GemmNode(tb, 0.5f, 2.f);
          const std::vector<Tensor> in = {RandomT({M, K}, seed++),
                                          SparseWeight(tb ? Shape{N, K} : Shape{K, N}, tb ? 0 : 1, seed++),
                                          RandomT({N}, seed++)};
          const std::string what = fmt::format("M{} K{} N{} tb{}", M, K, N, tb);
          const Tensor ref = Reference(node, in);
          auto y = RunPlanned(node, in, "f32_gemm__csr", -1, ref.shape(), pool);
          ASSERT_TRUE(y.has_value()) << what;
          ExpectClose(*y, ref, what);
        }
}

// A kernel planned for one static batch builds only the CSR form that batch needs; other batch
// sizes at run time still work (the plain CSR serves every tile width).
TEST(SparseKernel, CsrStaticBatchRunsOtherBatches) {
  ThreadPool& pool = ThreadPool::Default();
  const int64_t K = 784, N = 40;
  const Node node = GemmNode(true, 1.f, 1.f);
  const Tensor w = SparseWeight({N, K}, 0, 7, 0.9, /*dense_channels=*/false), c = RandomT({N}, 8);
  for (int64_t plan : {1, 2, 8, 64})
    for (int64_t M : {1, 2, 7, 8, 33, 64}) {
      const std::vector<Tensor> in = {RandomT({M, K}, static_cast<uint32_t>(M)), w, c};
      const Tensor ref = Reference(node, in);
      auto y = RunPlanned(node, in, "f32_gemm__csr", plan, ref.shape(), pool);
      ASSERT_TRUE(y.has_value()) << "plan " << plan;
      ExpectClose(*y, ref, fmt::format("planned M{} run M{}", plan, M));
    }
}

TEST(SparseKernel, CsrGemmCBroadcastFormsEveryPath) {
  ThreadPool& pool = ThreadPool::Default();
  uint32_t seed = 900;
  for (int64_t M : {1, 5, 33, 100})
    for (int64_t N : {13, 40}) {
      const int64_t K = 300;
      const Tensor a = RandomT({M, K}, seed++), b = SparseWeight({K, N}, 1, seed++);
      for (Shape cs : {Shape{}, Shape{1}, Shape{N}, Shape{1, N}, Shape{M, 1}, Shape{M, N}}) {
        const Node node = GemmNode(false, -0.5f, 1.5f);
        const std::vector<Tensor> in = {a, b, RandomT(cs, seed++)};
        const Tensor ref = Reference(node, in);
        auto y = RunPlanned(node, in, "f32_gemm__csr", -1, ref.shape(), pool);
        ASSERT_TRUE(y.has_value());
        ExpectClose(*y, ref, fmt::format("M{} N{} C{}", M, N, ShapeToString(cs)));
      }
      const Node no_c = GemmNode(false, 2.f, 1.f, /*with_c=*/false);
      const Tensor ref = Reference(no_c, {a, b});
      auto y = RunPlanned(no_c, {a, b}, "f32_gemm__csr", -1, ref.shape(), pool);
      ASSERT_TRUE(y.has_value());
      ExpectClose(*y, ref, fmt::format("M{} N{} no C", M, N));
    }
}

// 1x1 Conv: K-major activations, pixel-major output, bias as C; 1 pixel (row path), 7x7 = 49
// pixels (a 32-row and a 24-row tile) and 4x9, batch 2, planned static and dynamic.
TEST(SparseKernel, CsrConv1x1EveryPath) {
  ThreadPool& pool = ThreadPool::Default();
  uint32_t seed = 1300;
  for (int64_t K : {37, 300})
    for (int64_t N : {13, 300})
      for (auto [H, W] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 7}, {4, 9}})
        for (bool bias : {true, false}) {
          Node node;
          node.op_type = "Conv";
          node.inputs = {"X", "W"};
          if (bias) node.inputs.push_back("B");
          node.outputs = {"Y"};
          const Tensor w = SparseWeight({N, K}, 0, seed++, 0.9, /*dense_channels=*/false);
          std::vector<Tensor> in = {RandomT({2, K, H, W}, seed++), w.Reshaped({N, K, 1, 1})};
          if (bias) in.push_back(RandomT({N}, seed++));
          const Tensor ref = Reference(node, in);
          for (int64_t plan : {int64_t{-1}, H * W}) {
            auto y = RunPlanned(node, in, "f32_conv1x1__csr", plan, ref.shape(), pool);
            ASSERT_TRUE(y.has_value());
            ExpectClose(*y, ref, fmt::format("K{} N{} {}x{} bias{} plan{}", K, N, H, W, bias, plan));
          }
        }
}

// Each output is summed in the same order whatever the split, so any thread count gives the same
// bits (and so does a second run: no state carried between runs).
TEST(SparseKernel, CsrResultsDoNotDependOnThreadCount) {
  ThreadPool one(1), two(2), three(3);
  uint32_t seed = 1700;
  for (int64_t M : {1, 3, 33, 64, 100}) {
    const int64_t K = 784, N = 300;
    const Node node = GemmNode(true, 1.f, 1.f);
    const std::vector<Tensor> in = {RandomT({M, K}, seed++), SparseWeight({N, K}, 0, seed++), RandomT({N}, seed++)};
    const Shape out = {M, N};
    auto y1 = RunPlanned(node, in, "f32_gemm__csr", -1, out, one);
    auto y2 = RunPlanned(node, in, "f32_gemm__csr", -1, out, two);
    auto y2b = RunPlanned(node, in, "f32_gemm__csr", -1, out, two);
    auto y3 = RunPlanned(node, in, "f32_gemm__csr", -1, out, three);
    ASSERT_TRUE(y1 && y2 && y2b && y3);
    EXPECT_TRUE(BitEqual(*y1, *y2)) << "M" << M;
    EXPECT_TRUE(BitEqual(*y2, *y2b)) << "M" << M;
    EXPECT_TRUE(BitEqual(*y1, *y3)) << "M" << M;
    ExpectClose(*y2, Reference(node, in), fmt::format("M{}", M));
  }
}

// The density limit depends on the static batch (1 row: 0.15, or 0.30 with the AVX-512 GEMV
// form; 2-3 rows: 0.20; else or unknown: 0.30); the factory declines above it and the dense
// kernel runs.
TEST(SparseKernel, CsrCostRuleUsesStaticBatch) {
  ThreadPool& pool = ThreadPool::Default();
  const int64_t K = 400, N = 100;
  const Node node = GemmNode(true, 1.f, 1.f);
  for (double density : {0.10, 0.18, 0.25}) {
    Tensor w = RandomT({N, K}, 11);
    for (int64_t i = 0; i < w.numel(); ++i)  // exactly round(density * K) non-zeros per channel
      if (i % K >= static_cast<int64_t>(density * K + 0.5)) w.data<float>()[i] = 0.f;
    for (int64_t plan : {int64_t{1}, int64_t{2}, int64_t{64}, int64_t{-1}}) {
      const int64_t M = plan < 0 ? 5 : plan;
      const std::vector<Tensor> in = {RandomT({M, K}, 12), w, RandomT({N}, 13)};
      const bool accepted = RunPlanned(node, in, "f32_gemm__csr", plan, {M, N}, pool).has_value();
      EXPECT_EQ(accepted, density <= (plan < 0 ? 0.30 : CsrMaxDensity(plan)))
          << "density " << density << " plan " << plan;
    }
    // Through the registry: the chosen kernel follows the same rule.
    const std::vector<Tensor> in1 = {RandomT({1, K}, 14), w, RandomT({N}, 15)};
    EXPECT_EQ(RunBoth(node, in1, "batch 1") == "f32_gemm__csr", density <= CsrMaxDensity(1)) << density;
  }
}

TEST(SparseKernel, GemmCsrMatchesReferenceOverShapes) {
  uint32_t seed = 1;
  for (int64_t M : {1, 2, 3, 4, 15, 16, 17, 64})
    for (int64_t K : {1, 7, 64, 200})
      for (int64_t N : {1, 3, 33})
        for (bool tb : {false, true}) {
          Node node;
          node.op_type = "Gemm";
          node.name = "g";
          node.inputs = {"A", "B", "C"};
          node.outputs = {"Y"};
          if (tb) node.SetInt("transB", 1);
          node.SetFloat("alpha", 0.5f);
          node.SetFloat("beta", 2.f);
          Tensor a = RandomT({M, K}, seed++);
          Tensor b = RandomT(tb ? Shape{N, K} : Shape{K, N}, seed++, 0.9);
          b.data<float>()[0] = 0.f;  // K = N = 1 must still be "sparse enough" for CSR
          Tensor c = RandomT({N}, seed++);
          const std::string what = fmt::format("M{} K{} N{} tb{}", M, K, N, tb);
          const std::string k = RunBoth(node, {a, b, c}, what);
          double nnz = 0;
          for (float v : b.span<float>()) nnz += v != 0.f;
          if (nnz / double(b.numel()) <= CsrMaxDensity(M)) { EXPECT_EQ(k, "f32_gemm__csr") << what; }
        }
}

TEST(SparseKernel, GemmCBroadcastForms) {
  const int64_t M = 20, K = 50, N = 9;
  Tensor a = RandomT({M, K}, 7), b = RandomT({K, N}, 8, 0.95);
  for (Shape cs : {Shape{}, Shape{1}, Shape{N}, Shape{1, N}, Shape{M, 1}, Shape{M, N}}) {
    Node node;
    node.op_type = "Gemm";
    node.inputs = {"A", "B", "C"};
    node.outputs = {"Y"};
    EXPECT_EQ(RunBoth(node, {a, b, RandomT(cs, 9)}, "C" + ShapeToString(cs)), "f32_gemm__csr");
  }
  Node no_c;
  no_c.op_type = "Gemm";
  no_c.inputs = {"A", "B"};
  no_c.outputs = {"Y"};
  EXPECT_EQ(RunBoth(no_c, {a, b}, "no C"), "f32_gemm__csr");
}

TEST(SparseKernel, TwoFourPatternTakesNm24Kernel) {
  uint32_t seed = 100;
  for (int64_t M : {1, 5, 16, 33})
    for (bool tb : {false, true}) {
      const int64_t K = 128, N = 64;
      Node node;
      node.op_type = "Gemm";
      node.inputs = {"A", "B", "C"};
      node.outputs = {"Y"};
      if (tb) node.SetInt("transB", 1);
      Tensor b = RandomT(tb ? Shape{N, K} : Shape{K, N}, seed++);
      Make24(b, !tb, seed++);
      const std::vector<Tensor> in = {RandomT({M, K}, seed++), b, RandomT({N}, seed++)};
      EXPECT_TRUE(RunNamed(node, in, "f32_gemm__nm24", fmt::format("2:4 M{} tb{}", M, tb)));
      // Cost rule: the dense kernel keeps 2:4 weights (the 2:4 kernel is slower on AVX2).
      EXPECT_NE(RunBoth(node, in, "2:4 dense path"), "f32_gemm__nm24");
      Tensor dense_b = RandomT(tb ? Shape{N, K} : Shape{K, N}, seed++);
      EXPECT_FALSE(RunNamed(node, {in[0], dense_b, in[2]}, "f32_gemm__nm24", "not 2:4"));
    }
}

// A Gemm / 1x1 Conv carrying a fused Relu (ActivationFusion's greenai.activation) runs on the
// CSR kernel, which applies max(0, y) in its epilogue: the same bits as the plain node on the
// CSR kernel followed by Relu, at batch 1 (GEMV form), 5 and 40 (tiles) and dynamic. Before,
// the dense kernel took every fused node, so a pruned MLP ran dense. Another activation
// (LeakyRelu) still runs sparse, through the adapter (plain CSR, then the activation kernel).
TEST(SparseKernel, CsrTakesFusedRelu) {
  uint32_t seed = 900;
  for (int64_t M : {1, 5, 40}) {
    const int64_t K = 300, N = 70;
    Node plain = GemmNode(true, 1.f, 1.f);
    Node fused = plain;
    fused.SetString(kAttrActivation, "Relu");
    fused.SetFloats(kAttrActivationParams, {});
    const std::vector<Tensor> in = {RandomT({M, K}, seed++), RandomT({N, K}, seed++, 0.9), RandomT({N}, seed++)};
    const std::string what = fmt::format("M{}", M);
    EXPECT_EQ(RunBoth(fused, in, "fused " + what), "f32_gemm__csr") << what;
    std::string_view pk, fk;
    RunNodeOptions po, fo;
    po.kernel_name_out = &pk;
    fo.kernel_name_out = &fk;
    auto py = RunNode(plain, in, po);
    auto fy = RunNode(fused, in, fo);
    ASSERT_TRUE(py.ok() && fy.ok());
    EXPECT_EQ(pk, "f32_gemm__csr");
    EXPECT_EQ(fk, "f32_gemm__csr");
    const float* p = (*py)[0].data<float>();
    const float* f = (*fy)[0].data<float>();
    int64_t negatives = 0;
    for (int64_t i = 0; i < (*py)[0].numel(); ++i) {
      const float want = 0.f > p[i] ? 0.f : p[i];
      negatives += p[i] < 0.f;
      ASSERT_EQ(std::memcmp(&f[i], &want, 4), 0) << what << " element " << i << ": " << f[i] << " vs " << want;
    }
    EXPECT_GT(negatives, 0) << "the test needs negative pre-activations";
    Node leaky = plain;
    leaky.SetString(kAttrActivation, "LeakyRelu");
    leaky.SetFloats(kAttrActivationParams, {0.1f});
    EXPECT_EQ(RunBoth(leaky, in, "leaky " + what), "f32_gemm__csr") << what;
  }
  // Planned for a dynamic batch, run at 1 and 33 (a single-row tail).
  ThreadPool pool(2);
  Node fused = GemmNode(false, 0.5f, 2.f);
  fused.SetString(kAttrActivation, "Relu");
  const Tensor b = RandomT({200, 48}, 5, 0.92);
  for (int64_t M : {1, 33}) {
    const std::vector<Tensor> in = {RandomT({M, 200}, 6), b, RandomT({48}, 7)};
    RunNodeOptions ref;
    ref.reference_only = true;
    auto r = RunNode(fused, in, ref);
    ASSERT_TRUE(r.ok());
    auto y = RunPlanned(fused, in, "f32_gemm__csr", -1, {M, 48}, pool);
    ASSERT_TRUE(y.has_value()) << "M" << M;
    ExpectClose(*y, (*r)[0], fmt::format("dynamic plan M{}", M));
  }
  Node conv;
  conv.op_type = "Conv";
  conv.inputs = {"X", "W", "B"};
  conv.outputs = {"Y"};
  conv.SetString(kAttrActivation, "Relu");
  for (Shape xs : {Shape{1, 32, 1, 1}, Shape{2, 32, 5, 7}})
    EXPECT_EQ(RunBoth(conv, {RandomT(xs, 8), RandomT({20, 32, 1, 1}, 9, 0.9), RandomT({20}, 10)},
                      "conv " + ShapeToString(xs)),
              "f32_conv1x1__csr");
}

// Under ChannelsLastLayout's NHWC mark (AVX-512 hosts) a sparse 1x1 Conv still runs on the CSR
// kernel, reading X as [N, H, W, C] and writing Y as [N, H, W, Co]; with and without a fused
// Relu, and statically planned at batch 1 (one pixel: the GEMV form). The reference kernel
// runs the node through the layout adapter (NCHW in between).
TEST(SparseKernel, Conv1x1ChannelsLast) {
  uint32_t seed = 1000;
  for (bool relu : {false, true})
    for (Shape xs : {Shape{1, 1, 1, 32}, Shape{2, 5, 7, 32}, Shape{1, 8, 8, 32}}) {
      Node conv;
      conv.op_type = "Conv";
      conv.inputs = {"X", "W", "B"};
      conv.outputs = {"Y"};
      conv.SetString(kAttrLayout, kLayoutNhwc);
      if (relu) conv.SetString(kAttrActivation, "Relu");
      const std::vector<Tensor> in = {RandomT(xs, seed++), RandomT({20, 32, 1, 1}, seed++, 0.9), RandomT({20}, seed++)};
      const std::string what = fmt::format("NHWC X{} relu {}", ShapeToString(xs), relu);
      EXPECT_EQ(RunBoth(conv, in, what), "f32_conv1x1__csr") << what;
      // The plain NCHW node on the same data, transposed, gives the same values.
      Node plain = conv;
      plain.attributes.erase(kAttrLayout);
      Tensor xn = Tensor::Create(DType::kF32, {xs[0], xs[3], xs[1], xs[2]}).value();
      for (int64_t n = 0; n < xs[0]; ++n)
        for (int64_t h = 0; h < xs[1]; ++h)
          for (int64_t w = 0; w < xs[2]; ++w)
            for (int64_t c = 0; c < xs[3]; ++c)
              xn.data<float>()[((n * xs[3] + c) * xs[1] + h) * xs[2] + w] =
                  in[0].data<float>()[((n * xs[1] + h) * xs[2] + w) * xs[3] + c];
      auto yn = RunNode(plain, {xn, in[1], in[2]}, RunNodeOptions{});
      auto yh = RunNode(conv, in, RunNodeOptions{});
      ASSERT_TRUE(yn.ok() && yh.ok());
      ASSERT_EQ((*yh)[0].shape(), (Shape{xs[0], xs[1], xs[2], 20})) << what;
      for (int64_t n = 0; n < xs[0]; ++n)
        for (int64_t p = 0; p < xs[1] * xs[2]; ++p)
          for (int64_t o = 0; o < 20; ++o)
            ASSERT_NEAR((*yh)[0].data<float>()[(n * xs[1] * xs[2] + p) * 20 + o],
                        (*yn)[0].data<float>()[(n * 20 + o) * xs[1] * xs[2] + p], 1e-5f)
                << what << " n " << n << " p " << p << " o " << o;
    }
  ThreadPool pool(2);
  Node conv;
  conv.op_type = "Conv";
  conv.inputs = {"X", "W"};
  conv.outputs = {"Y"};
  conv.SetString(kAttrLayout, kLayoutNhwc);
  const std::vector<Tensor> in = {RandomT({1, 1, 1, 300}, 5), RandomT({64, 300, 1, 1}, 6, 0.93)};
  RunNodeOptions ref;
  ref.reference_only = true;
  auto r = RunNode(conv, in, ref);
  ASSERT_TRUE(r.ok());
  auto y = RunPlanned(conv, in, "f32_conv1x1__csr", 1, {1, 1, 1, 64}, pool);
  ASSERT_TRUE(y.has_value());
  ExpectClose(*y, (*r)[0], "NHWC one pixel planned at batch 1");
}

TEST(SparseKernel, DenseWeightKeepsDenseKernel) {
  Node node;
  node.op_type = "Gemm";
  node.inputs = {"A", "B"};
  node.outputs = {"Y"};
  // 50 % random zeros: neither sparse enough for CSR nor a 2:4 pattern.
  const std::string k = RunBoth(node, {RandomT({8, 128}, 1), RandomT({128, 64}, 2, 0.5)}, "half");
  EXPECT_NE(k, "f32_gemm__csr");
  EXPECT_NE(k, "f32_gemm__nm24");
}

TEST(SparseKernel, MatMulBatchedActivation) {
  Node node;
  node.op_type = "MatMul";
  node.inputs = {"A", "B"};
  node.outputs = {"Y"};
  for (Shape as : {Shape{1, 40}, Shape{3, 40}, Shape{2, 9, 40}, Shape{2, 3, 17, 40}})
    EXPECT_EQ(RunBoth(node, {RandomT(as, 3), RandomT({40, 24}, 4, 0.92)}, "A" + ShapeToString(as)),
              "f32_matmul__csr");
  Tensor b = RandomT({64, 96}, 5);
  Make24(b, true, 6);
  EXPECT_TRUE(RunNamed(node, {RandomT({2, 7, 64}, 7), b}, "f32_matmul__nm24", "2:4"));
  EXPECT_TRUE(RunNamed(node, {RandomT({3, 64}, 7), b}, "f32_matmul__nm24", "2:4 small M"));
}

TEST(SparseKernel, Conv1x1) {
  Node node;
  node.op_type = "Conv";
  node.inputs = {"X", "W", "B"};
  node.outputs = {"Y"};
  for (Shape xs : {Shape{1, 32, 1, 1}, Shape{2, 32, 5, 7}, Shape{1, 32, 8, 8}})
    EXPECT_EQ(RunBoth(node, {RandomT(xs, 1), RandomT({20, 32, 1, 1}, 2, 0.9), RandomT({20}, 3)}, "X" + ShapeToString(xs)),
              "f32_conv1x1__csr");
  Tensor w24 = RandomT({64, 64}, 4);  // [Co, Ci] view of a 1x1 filter bank, 2:4 along Ci
  Make24(w24, /*k_is_rows=*/false, 5);
  EXPECT_TRUE(RunNamed(node, {RandomT({2, 64, 5, 7}, 1), w24.Reshaped({64, 64, 1, 1}), RandomT({64}, 3)},
                       "f32_conv1x1__nm24", "2:4 conv"));
  Node nob = node;
  nob.inputs = {"X", "W"};
  EXPECT_EQ(RunBoth(nob, {RandomT({2, 32, 4, 4}, 1), RandomT({20, 32, 1, 1}, 2, 0.9)}, "no bias"), "f32_conv1x1__csr");
  // Strided 1x1 is not taken (declines to the dense path) but still correct.
  Node strided = node;
  strided.SetInts("strides", {2, 2});
  EXPECT_NE(RunBoth(strided, {RandomT({1, 32, 6, 6}, 1), RandomT({20, 32, 1, 1}, 2, 0.9), RandomT({20}, 3)}, "strided"),
            "f32_conv1x1__csr");
}

}  // namespace
}  // namespace greenai
