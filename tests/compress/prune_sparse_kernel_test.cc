// Sparse CPU kernels (backends/cpu/sparse_gemm.cc) against the reference kernels on random
// sparse weights: sizes below, at and above the 16-row tile and the 4-row small-batch switch,
// transB, alpha/beta and every C broadcast form; the cost rule picks CSR / 2:4 / dense.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string_view>

#include "backends/cpu/run_node.h"

namespace greenai {
namespace {

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
          double zeros = 0;
          for (float v : b.span<float>()) zeros += v == 0.f;
          if (zeros / double(b.numel()) >= 0.7) { EXPECT_EQ(k, "f32_gemm__csr") << what; }
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
    EXPECT_EQ(RunBoth(node, {RandomT(as, 3), RandomT({40, 24}, 4, 0.85)}, "A" + ShapeToString(as)),
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
