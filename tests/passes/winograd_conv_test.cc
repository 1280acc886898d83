// The Winograd F(2x2, 3x3) convolution (backends/cpu/f32_conv_winograd_avx2.cc) against the
// reference Conv kernel on the same NCHW8c inputs (run through the layout adapter). Winograd
// sums in another order and through its transforms, so outputs agree to rounding, not bits:
// the tolerance is relative to sum |w| |x| (the scale of the rounding error of any summation
// order), computed by running the reference on |x| and |w|.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backends/cpu/run_node.h"
#include "core/thread_pool.h"
#include "eager_runner.h"
#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using testing::RandomTensor;

struct Case {
  int64_t n, c, m, h, w;
  std::vector<int64_t> s, pads;
  bool bias, relu;
  std::string kernel;
};

Node ConvNode(const Case& c) {
  Node n;
  n.op_type = "Conv";
  n.name = "conv";
  n.inputs = {"x", "w"};
  if (c.bias) n.inputs.push_back("b");
  n.outputs = {"y"};
  n.SetInts("kernel_shape", {3, 3});
  n.SetInts("strides", c.s);
  n.SetInts("pads", c.pads);
  n.SetString(kAttrLayout, kLayoutBlocked8);
  if (c.relu) n.SetString(kAttrActivation, "Relu");
  return n;
}

Tensor Abs(const Tensor& t) {
  Tensor a = t.Clone();
  for (int64_t i = 0; i < a.numel(); ++i) a.data<float>()[i] = std::fabs(a.data<float>()[i]);
  return a;
}

TEST(WinogradConv, MatchesReferenceToRounding) {
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__x86_64__))
  GTEST_SKIP() << "the Winograd kernel needs x86-64 AVX2 + FMA";
#endif
  const std::string wino = "f32_conv__winograd_avx2";
  const Case cases[] = {
      {2, 8, 16, 15, 15, {1, 1}, {1, 1, 1, 1}, true, true, wino},     // odd size: partial tiles
      {1, 24, 32, 20, 18, {1, 1}, {0, 0, 0, 0}, false, false, wino},  // no padding
      {3, 16, 16, 13, 11, {1, 1}, {1, 0, 0, 1}, true, false, wino},   // asymmetric padding
      {1, 64, 64, 28, 28, {1, 1}, {1, 1, 1, 1}, true, true, wino},    // a ResNet layer-2 shape
      {1, 64, 64, 7, 7, {1, 1}, {1, 1, 1, 1}, true, true, wino},      // 16 tiles: one block, stages split
      {2, 16, 32, 5, 5, {1, 1}, {1, 1, 1, 1}, false, true, wino},     // one block across two images
      {1, 8, 16, 30, 30, {2, 2}, {1, 1, 1, 1}, true, true, "f32_conv__blocked_avx2"},  // stride 2
  };
  uint32_t seed = 70;
  ThreadPool one(1), two(2);
  for (ThreadPool* pool : {&one, &two}) {
    for (const Case& c : cases) {
      const Node n = ConvNode(c);
      std::vector<Tensor> in = {RandomTensor({c.n, c.c / 8, c.h, c.w, 8}, ++seed),
                                RandomTensor({c.m, c.c, 3, 3}, ++seed, -0.5f, 0.5f)};
      if (c.bias) in.push_back(RandomTensor({c.m}, ++seed));
      std::vector<Tensor> y, r;
      std::string_view name;
      ASSERT_NO_FATAL_FAILURE(testing::RunBestAndReference(n, in, &y, &r, &name, pool));
      const std::string where = "case N=" + std::to_string(c.n) + " C=" + std::to_string(c.c) + " " +
                                std::to_string(c.h) + "x" + std::to_string(c.w) + " on " +
                                std::to_string(pool->num_threads()) + " thread(s)";
      EXPECT_EQ(name, c.kernel) << where;
      // Scale: the reference on |x|, |w|, |b| without Relu bounds every partial sum.
      Node na = n;
      na.attributes.erase(kAttrActivation);
      std::vector<Tensor> ain = {Abs(in[0]), Abs(in[1])};
      if (c.bias) ain.push_back(Abs(in[2]));
      std::vector<Tensor> ys, scale;
      std::string_view unused;
      ASSERT_NO_FATAL_FAILURE(testing::RunBestAndReference(na, ain, &ys, &scale, &unused, pool));
      ASSERT_EQ(y[0].shape(), r[0].shape()) << where;
      int bad = 0;
      for (int64_t i = 0; i < r[0].numel(); ++i) {
        const float a = y[0].data<float>()[i], b = r[0].data<float>()[i];
        const float tol = 2e-6f * scale[0].data<float>()[i] + 1e-7f;
        if (!(std::fabs(a - b) <= tol) && ++bad <= 3) ADD_FAILURE() << where << " [" << i << "]: " << a << " vs " << b;
      }
      EXPECT_EQ(bad, 0) << where;
    }
  }
}

// Between one block and enough blocks for every thread, the direct kernel runs.
TEST(WinogradConv, TooFewBlocksPerThreadDeclines) {
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__x86_64__))
  GTEST_SKIP() << "the Winograd kernel needs x86-64 AVX2 + FMA";
#endif
  // 10x10 outputs = 25 tiles: more than one block (24), fewer than 2 blocks of 6 per thread on 4.
  const Case c{1, 8, 16, 10, 10, {1, 1}, {1, 1, 1, 1}, true, false, "f32_conv__blocked_avx2"};
  std::vector<Tensor> in = {RandomTensor({c.n, c.c / 8, c.h, c.w, 8}, 81), RandomTensor({c.m, c.c, 3, 3}, 82),
                            RandomTensor({c.m}, 83)};
  ThreadPool one(1), four(4);
  std::vector<Tensor> y, r;
  std::string_view name;
  ASSERT_NO_FATAL_FAILURE(testing::RunBestAndReference(ConvNode(c), in, &y, &r, &name, &four));
  EXPECT_EQ(name, c.kernel);
  ASSERT_NO_FATAL_FAILURE(testing::RunBestAndReference(ConvNode(c), in, &y, &r, &name, &one));
  EXPECT_EQ(name, "f32_conv__winograd_avx2");
}

// A NaN in the input reaches at least every output the reference computes from it (the
// transforms spread it over the whole 2x2 tile, which the contract allows).
TEST(WinogradConv, NaNInputReachesItsOutputs) {
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__x86_64__))
  GTEST_SKIP() << "the Winograd kernel needs x86-64 AVX2 + FMA";
#endif
  const Case c{2, 8, 16, 15, 15, {1, 1}, {1, 1, 1, 1}, false, true, "f32_conv__winograd_avx2"};
  std::vector<Tensor> in = {RandomTensor({c.n, c.c / 8, c.h, c.w, 8}, 91), RandomTensor({c.m, c.c, 3, 3}, 92)};
  in[0].data<float>()[(7 * 15 + 7) * 8 + 3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<Tensor> y, r;
  std::string_view name;
  ASSERT_NO_FATAL_FAILURE(testing::RunBestAndReference(ConvNode(c), in, &y, &r, &name));
  EXPECT_EQ(name, c.kernel);
  int nans = 0;
  for (int64_t i = 0; i < r[0].numel(); ++i)
    if (std::isnan(r[0].data<float>()[i])) {
      ++nans;
      EXPECT_TRUE(std::isnan(y[0].data<float>()[i])) << "[" << i << "]";
    }
  EXPECT_GT(nans, 0);
}

}  // namespace
}  // namespace greenai
