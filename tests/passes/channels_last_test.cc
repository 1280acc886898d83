// ChannelsLastLayout (passes/channels_last.cc) and the NHWC machinery it relies on: the pass
// must not change outputs (bit-exact with the same kernels), must mark what it claims, and
// marked nodes must run correctly both on their native NHWC kernels (Session) and through the
// transposing adapter around reference kernels (RunEager, reference_only).
#include <gtest/gtest.h>

#include <random>

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

int CountMarked(const Graph& g) { return testing::CountNodes(g, IsChannelsLast); }

std::unique_ptr<Model> Rewritten(const Model& m, int* marked, bool float32 = false) {
  auto r = m.Clone();
  EXPECT_TRUE(r->graph->TopologicalSort().ok());
  ChannelsLastLayout pass(float32);
  Status st = pass.Run(*r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  *marked = pass.marked();
  return r;
}

// Without the float32 mode (the default on AVX2 CPUs, where oneDNN's nhwc f32 convolutions
// were slower than its blocked ones) float32 stays NCHW: ResNet-18 is left exactly as it was.
TEST(ChannelsLast, FloatResNetIsLeftAlone) {
  auto built = bench::BuildResNet18(1, 10, 32);
  ASSERT_TRUE(built.ok());
  int marked = -1;
  auto cl = Rewritten(**built, &marked);
  EXPECT_EQ(marked, 0);
  EXPECT_EQ(CountMarked(*cl->graph), 0);
  EXPECT_EQ(CountOps(*cl->graph, "Transpose"), 0);
}

// int8: QLinearConv -> MaxPool(u8) -> QLinearConv, with 7-bit weights (oneDNN's int8
// convolution, native NHWC) and with full-range weights (oneDNN declines on AVX2: the
// im2col kernel runs inside the transposing adapter). Every value must equal the
// unrewritten graph's, on fast and on reference kernels.
class ChannelsLastInt8 : public ::testing::TestWithParam<int> {};

TEST_P(ChannelsLastInt8, ConvPoolChainIsExact) {
  const int wmax = GetParam();
  std::mt19937 rng(3);
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kU8, {2, 3, 12, 10}), ""});
  auto ints = [&](Shape s, int lo, int hi) {
    Tensor t = Tensor::Create(DType::kI8, std::move(s)).value();
    std::uniform_int_distribution<int> d(lo, hi);
    for (auto& v : t.span<int8_t>()) v = static_cast<int8_t>(d(rng));
    return t;
  };
  g.AddInitializer("xs", Tensor::Scalar<float>(0.02f));
  g.AddInitializer("xz", Tensor::Scalar<uint8_t>(120));
  g.AddInitializer("w1", ints({8, 3, 3, 3}, -wmax, wmax));
  g.AddInitializer("w2", ints({5, 8, 3, 3}, -wmax, wmax));
  g.AddInitializer("ws", Tensor::Scalar<float>(0.01f));
  g.AddInitializer("wz", Tensor::Scalar<int8_t>(0));
  g.AddInitializer("ys", Tensor::Scalar<float>(0.05f));
  g.AddInitializer("yz", Tensor::Scalar<uint8_t>(10));
  Node* c1 = g.AddNode("QLinearConv", {"x", "xs", "xz", "w1", "ws", "wz", "ys", "yz"}, {"h1"}, "conv1");
  c1->SetInts("pads", {1, 1, 1, 1});
  Node* p = g.AddNode("MaxPool", {"h1"}, {"p1"}, "pool");
  p->SetInts("kernel_shape", {2, 2});
  p->SetInts("strides", {2, 2});
  g.AddNode("QLinearConv", {"p1", "ys", "yz", "w2", "ws", "wz", "ys", "yz"}, {"y"}, "conv2");
  g.outputs.push_back({"y", TensorType::Of(DType::kU8, {2, 5, 4, 3}), ""});
  g.outputs.push_back({"p1", TensorType::Of(DType::kU8, {2, 8, 6, 5}), ""});  // an NHWC value read as a graph output
  int marked = 0;
  auto cl = Rewritten(*m, &marked);
  EXPECT_EQ(marked, 3);
  Tensor x = Tensor::Create(DType::kU8, {2, 3, 12, 10}).value();
  for (auto& v : x.span<uint8_t>()) v = static_cast<uint8_t>(rng() % 256);
  testing::Feeds feeds = {{"x", x}};
  for (bool ref : {false, true}) {
    auto want = RunWithoutPasses(*m, feeds, ref);
    auto got = RunWithoutPasses(*cl, feeds, ref);
    ASSERT_EQ(want.size(), 2u);
    ASSERT_EQ(got.size(), 2u);
    testing::ExpectBitExact(got, want);
  }
  // The eager reference runner (RunNode per node, adapters around reference kernels) agrees.
  auto eager = testing::RunEager(*cl, feeds);
  ASSERT_TRUE(eager.ok()) << eager.status().ToString();
  testing::ExpectBitExact(*eager, RunWithoutPasses(*m, feeds, true));
}

INSTANTIATE_TEST_SUITE_P(WeightRange, ChannelsLastInt8, ::testing::Values(64, 127));

// float32 with the AVX-512 mode on (PipelineOptions::channels_last_f32; forced here so every
// CPU runs it): Conv (+ a fused Relu) -> MaxPool -> Conv -> Add with a residual -> Relu ->
// AveragePool -> GlobalAveragePool -> Flatten -> Gemm. Five nodes marked; a fed weight keeps
// the shortcut Conv plain. Reference kernels (adapters around them) must equal the
// unrewritten graph bit for bit; the fast kernels (oneDNN on nhwc) must agree to rounding,
// as oneDNN may pick another implementation for nhwc than for NCHW.
std::unique_ptr<Model> FloatCnn(bool fused_relu) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  TensorType xt = TensorType::Of(DType::kF32, {-1, 3, 16, 14});
  xt.dim_params = {"batch", "", "", ""};
  g.inputs.push_back({"x", xt, ""});
  g.inputs.push_back({"ws", TensorType::Of(DType::kF32, {8, 3, 1, 1}), ""});
  g.AddInitializer("w1", RandomTensor({8, 3, 3, 3}, 1));
  g.AddInitializer("b1", RandomTensor({8}, 2));
  g.AddInitializer("w2", RandomTensor({8, 8, 3, 3}, 3, -0.3f, 0.3f));
  g.AddInitializer("wf", RandomTensor({8, 4}, 4));
  Node* c1 = g.AddNode("Conv", {"x", "w1", "b1"}, {fused_relu ? "a1" : "c1"}, "conv1");
  c1->SetInts("pads", {1, 1, 1, 1});
  if (fused_relu) c1->SetString(kAttrActivation, "Relu");
  else g.AddNode("Relu", {"c1"}, {"a1"}, "relu1");
  Node* p = g.AddNode("MaxPool", {"a1"}, {"p1"}, "pool1");
  p->SetInts("kernel_shape", {2, 2});
  p->SetInts("strides", {2, 2});
  g.AddNode("Conv", {"p1", "w2"}, {"c2"}, "conv2")->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("Conv", {"x", "ws"}, {"sc"}, "shortcut")->SetInts("strides", {2, 2});
  g.AddNode("Add", {"c2", "sc"}, {"r"}, "add");
  g.AddNode("Relu", {"r"}, {"rr"}, "relu2");
  Node* ap = g.AddNode("AveragePool", {"rr"}, {"ap"}, "avg");
  ap->SetInts("kernel_shape", {3, 3});
  ap->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("GlobalAveragePool", {"ap"}, {"gap"}, "gap");
  g.AddNode("Flatten", {"gap"}, {"flat"}, "flatten");
  g.AddNode("Gemm", {"flat", "wf"}, {"logits"}, "fc");
  g.outputs.push_back({"logits", TensorType::Of(DType::kF32, {-1, 4}), ""});
  g.outputs.push_back({"rr", TensorType::Of(DType::kF32, {-1, 8, 8, 7}), ""});  // an NHWC value read as an output
  return m;
}

class ChannelsLastFloat : public ::testing::TestWithParam<bool> {};

TEST_P(ChannelsLastFloat, CnnIsExactOnReferenceAndCloseOnFastKernels) {
  auto m = FloatCnn(GetParam());
  int marked = 0;
  auto cl = Rewritten(*m, &marked, /*float32=*/true);
  EXPECT_EQ(marked, 5);  // conv1, pool1, conv2, avg, gap
  EXPECT_EQ(CountMarked(*cl->graph), 5);
  int off = -1;
  auto untouched = Rewritten(*m, &off, /*float32=*/false);
  EXPECT_EQ(off, 0);
  for (int64_t batch : {1, 3}) {
    testing::Feeds feeds = {{"x", RandomTensor({batch, 3, 16, 14}, 7 + static_cast<uint32_t>(batch))},
                            {"ws", RandomTensor({8, 3, 1, 1}, 5)}};
    auto want_ref = RunWithoutPasses(*m, feeds, true);
    testing::ExpectBitExact(RunWithoutPasses(*cl, feeds, true), want_ref);
    testing::ExpectClose(RunWithoutPasses(*cl, feeds, false), RunWithoutPasses(*m, feeds, false), 1e-5, 1e-5);
    testing::ExpectClose(RunWithoutPasses(*cl, feeds, false), want_ref, 1e-4, 1e-4);
    auto eager = testing::RunEager(*cl, feeds);
    ASSERT_TRUE(eager.ok()) << eager.status().ToString();
    testing::ExpectBitExact(*eager, want_ref);
  }
  // The marked nodes run oneDNN on nhwc itself, not through a transposing adapter.
  SessionOptions so;
  so.optimize = false;
  auto s = Session::Create(*cl, so);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  int native = 0;
  for (size_t i = 0; i < (*s)->graph().nodes().size(); ++i) {
    const Node& n = *(*s)->graph().nodes()[i];
    if (!IsChannelsLast(n)) continue;
    const std::string_view k = (*s)->kernel_name(i);
    native += k == "f32_conv__onednn" || k == "f32_maxpool__onednn" || k == "f32_averagepool__onednn" ||
              k == "f32_globalaveragepool__onednn";
  }
  EXPECT_EQ(native, 5);
}

INSTANTIATE_TEST_SUITE_P(FusedRelu, ChannelsLastFloat, ::testing::Bool());

TEST(ChannelsLast, SingleConvIsLeftAlone) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {1, 2, 5, 5}), ""});
  g.AddInitializer("w", RandomTensor({4, 2, 3, 3}, 1));
  g.AddNode("Conv", {"x", "w"}, {"y"}, "conv");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {1, 4, 3, 3}), ""});
  int marked = -1;
  auto cl = Rewritten(*m, &marked);
  EXPECT_EQ(marked, 0);
  EXPECT_EQ(CountOps(*cl->graph, "Transpose"), 0);
}

TEST(ChannelsLast, NhwcTransposeKernelMatchesReference) {
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{0, 2, 3, 1}, std::vector<int64_t>{0, 3, 1, 2}})
    for (DType dt : {DType::kF32, DType::kU8}) {
      Tensor x = RandomTensor({3, 5, 17, 19}, 9);
      if (dt == DType::kU8) {
        Tensor b = Tensor::Create(DType::kU8, x.shape()).value();
        for (int64_t i = 0; i < x.numel(); ++i) b.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7);
        x = b;
      }
      Node n;
      n.op_type = "Transpose";
      n.inputs = {"x"};
      n.outputs = {"y"};
      n.SetInts("perm", perm);
      testing::ExpectKernelBitExact(n, {x}, "any_transpose__nhwc");
    }
}

}  // namespace
}  // namespace greenai
