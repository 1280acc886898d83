// BlockedLayout (passes/blocked_layout.cc), the NCHW8c machinery it relies on, and fused
// activations on Conv/Gemm (ActivationFusion + backends/cpu/activation_adapter.cc). The oracle
// is always the same graph without the rewrite: layouts and fusions only move data and must
// not change one bit, on the fast kernels (native blocked oneDNN primitives, post-ops) and on
// the reference kernels (run through the layout and activation adapters). The one exception is
// the direct blocked convolution (f32_conv_blocked_avx2.cc): it sums in oneDNN's 3x3 order
// (channel block, kernel row, kernel column, channel within the block), so the small CNN stays
// bit-exact, but not in the order of every oneDNN convolution (ResNet's 1x1 ones), so ResNet
// and the kernel's own test compare to rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "backends/cpu/run_node.h"
#include "bench/models.h"
#include "eager_runner.h"
#include "ops/layout.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::RandomTensor;
using testing::RunWithoutPasses;

int CountBlocked(const Graph& g) { return testing::CountNodes(g, IsBlocked8); }

// The default pipeline up to (not including) the layout passes, optionally with fusion.
std::unique_ptr<Model> Prepared(const Model& m, bool fuse) {
  auto r = m.Clone();
  PipelineOptions o;
  o.fuse_activations = fuse;
  o.residual_fusion = false;  // the AVX2 configuration: ConvAdd has no blocked kernel
  o.channels_last = false;
  o.blocked_layout = false;
  EXPECT_TRUE(RunPasses(*r, DefaultPasses(o)).ok());
  return r;
}

std::unique_ptr<Model> Blocked(const Model& m, int* marked) {
  auto r = m.Clone();
  BlockedLayout pass;
  Status st = pass.Run(*r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  *marked = pass.marked();
  return r;
}

// A small residual CNN with every case the pass handles: a first conv on 3 channels (plain
// input, blocked output), a fused activation, MaxPool, a residual Add whose other operand is
// a plain value (entered with Reshape+Transpose), a depthwise conv, AveragePool, a blocked
// value read as a graph output, GlobalAveragePool feeding a plain Gemm. Batch symbolic.
std::unique_ptr<Model> SmallCnn(const std::string& act) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  TensorType xt = TensorType::Of(DType::kF32, {-1, 3, 20, 18});
  xt.dim_params = {"batch", "", "", ""};
  g.inputs.push_back({"x", xt, ""});
  g.AddInitializer("w1", RandomTensor({16, 3, 3, 3}, 1));
  g.AddInitializer("b1", RandomTensor({16}, 2));
  g.AddInitializer("w2", RandomTensor({16, 16, 3, 3}, 3, -0.3f, 0.3f));
  g.AddInitializer("wd", RandomTensor({16, 1, 3, 3}, 4));
  g.inputs.push_back({"ws", TensorType::Of(DType::kF32, {16, 3, 1, 1}), ""});  // fed: not markable
  g.AddInitializer("wf", RandomTensor({16, 4}, 6));
  g.AddInitializer("lo", Tensor::Scalar<float>(-0.25f));
  g.AddInitializer("hi", Tensor::Scalar<float>(0.5f));
  g.AddNode("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1")->SetInts("pads", {1, 1, 1, 1});
  Node* a = g.AddNode(act, {"c1"}, {"a1"}, "act1");
  if (act == "LeakyRelu") a->SetFloat("alpha", 0.1f);
  if (act == "Clip") a->inputs = {"c1", "lo", "hi"};
  Node* p = g.AddNode("MaxPool", {"a1"}, {"p1"}, "pool1");
  p->SetInts("kernel_shape", {3, 3});
  p->SetInts("strides", {2, 2});
  p->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("Conv", {"p1", "w2"}, {"c2"}, "conv2")->SetInts("pads", {1, 1, 1, 1});
  // Shortcut from the raw input through a Conv whose weight is fed (so it stays plain): a plain
  // value of the same shape as c2 (16 x 10 x 9).
  Node* s = g.AddNode("Conv", {"x", "ws"}, {"sc"}, "shortcut");
  s->SetInts("strides", {2, 2});
  g.AddNode("Add", {"c2", "sc"}, {"r"}, "add");
  g.AddNode("Relu", {"r"}, {"rr"}, "relu");
  Node* d = g.AddNode("Conv", {"rr", "wd"}, {"dw"}, "depthwise");
  d->SetInt("group", 16);
  d->SetInts("pads", {1, 1, 1, 1});
  Node* ap = g.AddNode("AveragePool", {"dw"}, {"ap"}, "avg");
  ap->SetInts("kernel_shape", {2, 2});
  ap->SetInts("strides", {2, 2});
  g.AddNode("GlobalAveragePool", {"ap"}, {"gap"}, "gap");
  g.AddNode("Flatten", {"gap"}, {"flat"}, "flatten");
  g.AddNode("Gemm", {"flat", "wf"}, {"logits"}, "fc");
  g.outputs.push_back({"logits", TensorType::Of(DType::kF32, {-1, 4}), ""});
  g.outputs.push_back({"rr", TensorType::Of(DType::kF32, {-1, 16, 10, 9}), ""});  // a blocked value
  return m;
}

class BlockedCnn : public ::testing::TestWithParam<std::string> {};

TEST_P(BlockedCnn, IsExactOnFastAndReferenceKernels) {
  auto m = SmallCnn(GetParam());
  for (bool fuse : {false, true}) {
    auto plain = Prepared(*m, fuse);
    int marked = 0;
    auto blocked = Blocked(*plain, &marked);
    // conv1, pool1, conv2, depthwise, avg, gap (Add and Relu follow without a mark).
    EXPECT_EQ(marked, 6) << "fuse " << fuse;
    EXPECT_EQ(CountBlocked(*blocked->graph), 6);
    EXPECT_EQ(CountOps(*blocked->graph, "Transpose"), 3);  // sc enters at the Add; rr and gap leave
    for (int64_t batch : {1, 3}) {
      Tensor x = RandomTensor({batch, 3, 20, 18}, 11 + static_cast<uint32_t>(batch));
      testing::Feeds feeds = {{"x", x}, {"ws", RandomTensor({16, 3, 1, 1}, 5)}};
      for (bool ref : {false, true}) {
        auto want = RunWithoutPasses(*plain, feeds, ref);
        auto got = RunWithoutPasses(*blocked, feeds, ref);
        ASSERT_EQ(want.size(), 2u);
        // On AVX-512 CPUs oneDNN serves the plain layout with its avx512 (nhwc) convolutions
        // and the 8-channel blocks with its avx2 ones, which sum in another order; on AVX2
        // CPUs both layouts run the same code and must agree bit for bit.
        if (ref || !__builtin_cpu_supports("avx512f")) {
          testing::ExpectBitExact(got, want);
        } else {
          testing::ExpectClose(got, want, 1e-5, 1e-5);
        }
      }
      // The unfused, unrewritten graph on reference kernels is the oracle for the fused forms.
      testing::ExpectClose(RunWithoutPasses(*blocked, feeds, false), RunWithoutPasses(*m, feeds, true), 1e-4, 1e-4);
      auto eager = testing::RunEager(*blocked, feeds);
      ASSERT_TRUE(eager.ok()) << eager.status().ToString();
      testing::ExpectBitExact(*eager, RunWithoutPasses(*plain, feeds, true));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Activation, BlockedCnn, ::testing::Values("Relu", "LeakyRelu", "Clip", "Sigmoid"));

// Fusion must not change results: the fused graph (post-op or adapter) equals the unfused
// one bit for bit on the same kernels, and the session's default pipeline really fuses.
TEST(FusedActivation, EqualsUnfusedBitForBit) {
  auto m = SmallCnn("Sigmoid");
  Tensor x = RandomTensor({2, 3, 20, 18}, 21);
  testing::Feeds feeds = {{"x", x}, {"ws", RandomTensor({16, 3, 1, 1}, 5)}};
  for (bool ref : {false, true})
    testing::ExpectBitExact(RunWithoutPasses(*Prepared(*m, true), feeds, ref), RunWithoutPasses(*Prepared(*m, false), feeds, ref));
  auto s = Session::Create(*m, SessionOptions{});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(CountOps((*s)->graph(), "Sigmoid"), 0);
  // The default pipeline blocks only where oneDNN's blocked kernels are its fastest
  // (core/cpu_features.h: not on AVX-512 CPUs).
  if (HostCpu().avx512f) {
    EXPECT_EQ(CountBlocked((*s)->graph()), 0);
  } else {
    EXPECT_GT(CountBlocked((*s)->graph()), 0);
  }
}

// A Gemm with a fused activation runs its plain fast kernel plus the activation's kernel.
TEST(FusedActivation, GemmThroughTheAdapter) {
  for (const std::string act : {"Relu", "Tanh", "Clip", "LeakyRelu"}) {
    auto m = std::make_unique<Model>();
    m->opset_imports.push_back({"", 17});
    Graph& g = *m->graph;
    g.inputs.push_back({"x", TensorType::Of(DType::kF32, {5, 37}), ""});
    g.AddInitializer("w", RandomTensor({37, 19}, 7));
    g.AddInitializer("b", RandomTensor({19}, 8));
    g.AddInitializer("lo", Tensor::Scalar<float>(-0.5f));
    g.AddInitializer("hi", Tensor::Scalar<float>(0.75f));
    g.AddNode("Gemm", {"x", "w", "b"}, {"h"}, "fc");
    Node* a = g.AddNode(act, {"h"}, {"y"}, "act");
    if (act == "Clip") a->inputs = {"h", "lo", "hi"};
    if (act == "LeakyRelu") a->SetFloat("alpha", 0.2f);
    g.outputs.push_back({"y", TensorType::Of(DType::kF32, {5, 19}), ""});
    auto fused = Prepared(*m, true);
    EXPECT_EQ(CountOps(*fused->graph, act), 0) << act;
    testing::Feeds feeds = {{"x", RandomTensor({5, 37}, 9, -3.f, 3.f)}};
    for (bool ref : {false, true})
      testing::ExpectBitExact(RunWithoutPasses(*fused, feeds, ref), RunWithoutPasses(*Prepared(*m, false), feeds, ref));
  }
}

// ResNet-18 (small image): every convolution and pool is marked, one exit before Flatten. On
// the reference kernels the blocked graph equals the plain one bit for bit; on the fast kernels
// the blocked convolutions are the direct AVX2 kernel (f32_conv_blocked_avx2.cc), which sums in
// another order than oneDNN's plain-layout convolution, so there the outputs agree to rounding.
TEST(BlockedLayout, ResNetRunsBlockedEndToEnd) {
  auto built = bench::BuildResNet18(2, 10, 32);
  ASSERT_TRUE(built.ok());
  auto plain = Prepared(**built, true);
  int marked = 0;
  auto blocked = Blocked(*plain, &marked);
  EXPECT_EQ(marked, CountOps(*plain->graph, "Conv") + CountOps(*plain->graph, "MaxPool") +
                        CountOps(*plain->graph, "GlobalAveragePool"));
  EXPECT_EQ(CountOps(*blocked->graph, "Transpose"), 1);
  Tensor x = RandomTensor({2, 3, 32, 32}, 5);
  testing::Feeds feeds = {{(*built)->graph->inputs[0].name, x}};
  testing::ExpectBitExact(RunWithoutPasses(*blocked, feeds, true), RunWithoutPasses(*plain, feeds, true));
  testing::ExpectClose(RunWithoutPasses(*blocked, feeds, false), RunWithoutPasses(*plain, feeds, false), 1e-4, 1e-5);
}

TEST(BlockedLayout, SingleConvAndOddChannelsAreLeftAlone) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {1, 8, 6, 6}), ""});
  g.AddInitializer("w1", RandomTensor({8, 8, 3, 3}, 1));
  g.AddInitializer("w2", RandomTensor({6, 8, 3, 3}, 2));  // 6 outputs: not a whole block
  g.AddNode("Conv", {"x", "w1"}, {"h"}, "conv1");
  g.AddNode("Conv", {"h", "w2"}, {"y"}, "conv2");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {1, 6, 2, 2}), ""});
  int marked = -1;
  auto r = Blocked(*m, &marked);
  EXPECT_EQ(marked, 0);
  EXPECT_EQ(CountOps(*r->graph, "Transpose"), 0);
}

// The relayout kernel for the two rank-5 permutations equals the reference Transpose.
TEST(BlockedLayout, TransposeKernelMatchesReference) {
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{0, 1, 3, 4, 2}, std::vector<int64_t>{0, 1, 4, 2, 3}}) {
    Tensor x = RandomTensor({2, 3, 8, 7, 9}, 9);
    Node n;
    n.op_type = "Transpose";
    n.inputs = {"x"};
    n.outputs = {"y"};
    n.SetInts("perm", perm);
    testing::ExpectKernelBitExact(n, {x}, "any_transpose__nhwc");
  }
}

// The blocked AVX2 MaxPool equals the reference (run through the layout adapter) bit for bit,
// over windows with padding, dilation, ceil mode and windows partly outside the input.
TEST(BlockedLayout, MaxPoolKernelMatchesReference) {
  struct Case {
    std::vector<int64_t> k, s, d, pads;
    int64_t ceil;
  };
  const Case cases[] = {{{3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 0}, {{2, 2}, {2, 2}, {1, 1}, {0, 0, 0, 0}, 1},
                        {{3, 2}, {1, 2}, {2, 1}, {2, 0, 1, 1}, 0}, {{1, 1}, {3, 3}, {1, 1}, {0, 0, 0, 0}, 1}};
  for (const Case& c : cases) {
    Node n;
    n.op_type = "MaxPool";
    n.name = "pool";
    n.inputs = {"x"};
    n.outputs = {"y"};
    n.SetInts("kernel_shape", c.k);
    n.SetInts("strides", c.s);
    n.SetInts("dilations", c.d);
    n.SetInts("pads", c.pads);
    n.SetInt("ceil_mode", c.ceil);
    n.SetString(kAttrLayout, kLayoutBlocked8);
    testing::ExpectKernelBitExact(n, {RandomTensor({2, 3, 11, 9, 8}, 17)}, "f32_maxpool__blocked_avx2");
  }
}

// The direct blocked convolution against the reference (through the layout adapter) over
// strides, dilations, asymmetric and no padding, 1x1 and non-square kernels, bias, fused Relu,
// partial pixel tiles, and batches; NaN inputs must stay NaN through the fused Relu. Weights
// whose output channels are not a multiple of 16, and grouped convolutions, go to oneDNN.
TEST(BlockedLayout, DirectConvKernelMatchesReference) {
  struct Case {
    int64_t n, c, m, h, w;
    std::vector<int64_t> k, s, d, pads;
    bool bias, relu;
    std::string kernel;
    int64_t group = 1;
  };
  const std::string direct = "f32_conv__blocked_avx2";
#if !(defined(__AVX2__) && defined(__FMA__) && defined(__x86_64__))
  GTEST_SKIP() << "the direct kernel needs x86-64 AVX2 + FMA";
#endif
  const Case cases[] = {
      {2, 16, 32, 9, 11, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, false, direct},
      {1, 8, 16, 12, 12, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, true, true, direct},
      {3, 24, 48, 7, 5, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}, false, false, direct},
      {1, 16, 16, 10, 9, {5, 3}, {1, 2}, {2, 1}, {2, 0, 1, 1}, false, true, direct},
      // Batches of 2 * threads and more take whole images per thread, padding each into a
      // per-thread scratch that earlier, larger shapes left dirty.
      {5, 16, 16, 10, 9, {5, 3}, {1, 2}, {2, 1}, {2, 0, 1, 1}, true, true, direct},
      {4, 8, 32, 6, 7, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, false, false, direct},
      {1, 8, 16, 1, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, true, direct},
      {1, 16, 8, 6, 6, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, false, "f32_conv__onednn"},
      {1, 16, 32, 6, 6, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, true, false, "f32_conv__onednn", 2},
  };
  uint32_t seed = 30;
  ThreadPool one(1), two(2);
  for (ThreadPool* pool : {&one, &two}) {
    for (const Case& c : cases) {
      Node n;
      n.op_type = "Conv";
      n.name = "conv";
      n.inputs = {"x", "w"};
      if (c.bias) n.inputs.push_back("b");
      n.outputs = {"y"};
      n.SetInts("kernel_shape", c.k);
      n.SetInts("strides", c.s);
      n.SetInts("dilations", c.d);
      n.SetInts("pads", c.pads);
      n.SetInt("group", c.group);
      n.SetString(kAttrLayout, kLayoutBlocked8);
      if (c.relu) n.SetString(kAttrActivation, "Relu");
      Tensor x = RandomTensor({c.n, c.c / 8, c.h, c.w, 8}, ++seed);
      x.data<float>()[3] = std::numeric_limits<float>::quiet_NaN();
      std::vector<Tensor> in = {x, RandomTensor({c.m, c.c / c.group, c.k[0], c.k[1]}, ++seed, -0.5f, 0.5f)};
      if (c.bias) in.push_back(RandomTensor({c.m}, ++seed));
      std::vector<Tensor> y, r;
      std::string_view name;
      // The direct kernel by name: Winograd (f32_conv_winograd_avx2.cc) wins the 3x3 stride-1 cases.
      ASSERT_NO_FATAL_FAILURE(
          testing::RunBestAndReference(n, in, &y, &r, &name, pool, c.kernel == direct ? direct : std::string()));
      EXPECT_EQ(name, c.kernel) << "case M=" << c.m << " group " << c.group;
      ASSERT_EQ(y[0].shape(), r[0].shape());
      int bad = 0, nans = 0;
      for (int64_t i = 0; i < r[0].numel(); ++i) {
        const float a = y[0].data<float>()[i], b = r[0].data<float>()[i];
        nans += std::isnan(b);
        const bool ok = std::isnan(b) ? std::isnan(a) : std::fabs(a - b) <= 1e-5f + 1e-5f * std::fabs(b);
        if (!ok && ++bad <= 3) ADD_FAILURE() << "case M=" << c.m << " k " << c.k[0] << " [" << i << "]: " << a << " vs " << b;
      }
      EXPECT_EQ(bad, 0) << "case N=" << c.n << " M=" << c.m << " on " << pool->num_threads() << " thread(s)";
      EXPECT_GT(nans, 0);  // the NaN input reached some outputs (and the check above kept them NaN)
    }
  }
}

// A marked node whose output channels do not fill blocks is a clear error, not garbage.
TEST(BlockedLayout, BadMarkIsAClearError) {
  Node n;
  n.op_type = "Conv";
  n.name = "c";
  n.inputs = {"x", "w"};
  n.outputs = {"y"};
  n.SetString(kAttrLayout, kLayoutBlocked8);
  RunNodeOptions ro;
  auto y = RunNode(n, {RandomTensor({1, 8, 4, 4}, 1), RandomTensor({5, 8, 1, 1}, 2)}, ro);
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("multiple of 8"), std::string::npos) << y.status().ToString();
}

}  // namespace
}  // namespace greenai
