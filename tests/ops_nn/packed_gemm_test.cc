// The packed f32 Gemm/MatMul kernel (backends/cpu/f32_gemm_avx2.cc) against the reference
// kernel: M around the 6-row tile and the 48-row chunk (M = 1: the four-panel GEMV), N around
// the 16-column panel and the GEMV's four-panel items, K odd
// and across the 256-deep k blocks (partial sums carried through the output),
// transB, alpha/beta, every C broadcast form (constant bias row pre-folded, and the general
// run-time C), MatMul with batch dims, on one thread and on a two-thread pool.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string_view>

#include "backends/cpu/packed_gemm.h"
#include "backends/cpu/run_node.h"
#include "core/thread_pool.h"

namespace greenai {
namespace {

Tensor RandomT(Shape s, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (auto& v : t.span<float>()) v = d(rng);
  return t;
}

void Compare(const Node& n, const std::vector<Tensor>& in, ThreadPool* pool, std::string_view want_kernel,
             const std::string& what) {
  RunNodeOptions ref, fast;
  ref.reference_only = true;
  std::string_view name;
  fast.kernel_name_out = &name;
  fast.pool = pool;
  auto r = RunNode(n, in, ref);
  auto f = RunNode(n, in, fast);
  ASSERT_TRUE(r.ok() && f.ok()) << what << ": " << r.status().ToString() << " / " << f.status().ToString();
  EXPECT_EQ(name, want_kernel) << what;
  ASSERT_EQ((*f)[0].shape(), (*r)[0].shape()) << what;
  for (int64_t i = 0; i < (*r)[0].numel(); ++i) {
    const float x = (*f)[0].data<float>()[i], y = (*r)[0].data<float>()[i];
    ASSERT_NEAR(x, y, 1e-4f * (1 + std::fabs(y))) << what << " element " << i;
  }
}

// Both forms of the kernel on every CPU: its own tiles for every A (wide off), and on AVX-512
// CPUs oneDNN's matmul for A with more than one row (wide on; elsewhere the same as off).
class PackedGemmWide : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { SetPackedGemmWide(GetParam()); }
  void TearDown() override { SetPackedGemmWide(true); }
};

TEST_P(PackedGemmWide, GemmMatchesReference) {
  std::mt19937 rng(3);
  ThreadPool pool(2);
  int cases = 0;
  for (int64_t m : {1, 2, 5, 6, 7, 13, 48, 49, 100})
    for (int64_t k : {1, 3, 37, 300, 513})
      for (int64_t nn : {1, 15, 16, 17, 40, 100})
        for (bool tb : {false, true})
          for (int cform : {0, 1, 2, 3, 4}) {  // none, [N], [1,N], [M,1], [M,N]
            Node n;
            n.op_type = "Gemm";
            n.name = "g";
            n.inputs = {"a", "b"};
            n.outputs = {"y"};
            if (tb) n.SetInt("transB", 1);
            if (cases % 3 == 0) n.SetFloat("alpha", 0.5f);
            if (cases % 4 == 1) n.SetFloat("beta", -1.5f);
            std::vector<Tensor> in = {RandomT({m, k}, rng), RandomT(tb ? Shape{nn, k} : Shape{k, nn}, rng)};
            if (cform > 0) {
              const Shape cs = cform == 1 ? Shape{nn} : cform == 2 ? Shape{1, nn} : cform == 3 ? Shape{m, 1} : Shape{m, nn};
              n.inputs.push_back("c");
              in.push_back(RandomT(cs, rng));
            }
            const std::string what = "Gemm " + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(nn) +
                                     (tb ? " transB" : "") + " C form " + std::to_string(cform);
            Compare(n, in, cases % 2 ? &pool : nullptr, "f32_gemm__packed", what);
            ++cases;
          }
  EXPECT_EQ(cases, 9 * 5 * 6 * 2 * 5);
}

TEST_P(PackedGemmWide, MatMulWithBatchDimsMatchesReference) {
  std::mt19937 rng(4);
  ThreadPool pool(2);
  for (const Shape& as : {Shape{3, 7, 33}, Shape{2, 2, 50, 33}, Shape{1, 33}, Shape{2, 9, 600}})
    for (int64_t nn : {5, 64}) {
      Node n;
      n.op_type = "MatMul";
      n.name = "mm";
      n.inputs = {"a", "b"};
      n.outputs = {"y"};
      Compare(n, {RandomT(as, rng), RandomT({as.back(), nn}, rng)}, &pool, "f32_matmul__packed",
              "MatMul A " + ShapeToString(as) + " N " + std::to_string(nn));
    }
}

INSTANTIATE_TEST_SUITE_P(OneDnnForManyRows, PackedGemmWide, ::testing::Bool());

TEST(PackedGemm, DeclinesTransAAndFusedNodes) {
  std::mt19937 rng(5);
  Node n;
  n.op_type = "Gemm";
  n.name = "g";
  n.inputs = {"a", "b"};
  n.outputs = {"y"};
  n.SetInt("transA", 1);
  Compare(n, {RandomT({4, 3}, rng), RandomT({4, 5}, rng)}, nullptr, "f32_gemm__onednn", "transA");
}

}  // namespace
}  // namespace greenai
