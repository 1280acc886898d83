// ResidualFusion (passes/fusion.cc): Conv -> Add(residual) [-> activation] becomes one
// ai.greenai ConvAdd. Oracle: the unfused graph. On the reference kernels the fused graph must
// equal it bit for bit; on the fast kernels (oneDNN's sum post-op, output written in place over
// a residual that dies there) to rounding, including when the residual is read again later
// (then it must not be overwritten) and after ChannelsLastLayout marks the fused node NHWC.
#include <gtest/gtest.h>

#include "bench/models.h"
#include "eager_runner.h"
#include "ops/conv_add.h"
#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::RandomTensor;
using testing::RunWithoutPasses;

enum class Shortcut { kIdentity, kConv, kConvReadAgain };

// x [2, 8, 10, 10] -> conv1 -> Relu -> conv2 -> Add(shortcut) -> Relu -> y. The shortcut is x
// itself (a graph input: never written over), a 1x1 convolution of x (a pool buffer that dies
// at the Add), or that convolution read again by a later Sub (y - s, a second output).
std::unique_ptr<Model> Block(Shortcut sc, bool relu_after = true) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {2, 8, 10, 10}), ""});
  g.AddInitializer("w1", RandomTensor({8, 8, 3, 3}, 1, -0.3f, 0.3f));
  g.AddInitializer("b1", RandomTensor({8}, 2));
  g.AddInitializer("w2", RandomTensor({8, 8, 3, 3}, 3, -0.3f, 0.3f));
  g.AddInitializer("b2", RandomTensor({8}, 4));
  g.AddInitializer("ws", RandomTensor({8, 8, 1, 1}, 5));
  g.AddNode("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1")->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("Relu", {"c1"}, {"a1"}, "relu1");
  g.AddNode("Conv", {"a1", "w2", "b2"}, {"c2"}, "conv2")->SetInts("pads", {1, 1, 1, 1});
  std::string s = "x";
  if (sc != Shortcut::kIdentity) {
    g.AddNode("Conv", {"x", "ws"}, {"s"}, "shortcut");
    s = "s";
  }
  g.AddNode("Add", {"c2", s}, {relu_after ? "r" : "y"}, "add");
  if (relu_after) g.AddNode("Relu", {"r"}, {"y"}, "relu2");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {2, 8, 10, 10}), ""});
  if (sc == Shortcut::kConvReadAgain) {
    g.AddNode("Sub", {"y", s}, {"d"}, "reread");
    g.outputs.push_back({"d", TensorType::Of(DType::kF32, {2, 8, 10, 10}), ""});
  }
  return m;
}

std::unique_ptr<Model> Fused(const Model& m, int* fused) {
  auto r = m.Clone();
  ResidualFusion pass;
  Status st = pass.Run(*r);
  EXPECT_TRUE(st.ok()) << st.ToString();
  *fused = pass.fused();
  return r;
}

int CountConvAdd(const Graph& g) {
  return testing::CountNodes(g, [](const Node& n) { return n.domain == kGreenaiDomain && n.op_type == kConvAdd; });
}

TEST(ResidualFusion, FusesTheBlockAndKeepsItsMeaning) {
  for (Shortcut sc : {Shortcut::kIdentity, Shortcut::kConv, Shortcut::kConvReadAgain})
    for (bool relu_after : {true, false}) {
      auto m = Block(sc, relu_after);
      int fused = 0;
      auto f = Fused(*m, &fused);
      const std::string what = "shortcut " + std::to_string(static_cast<int>(sc)) + " relu " + std::to_string(relu_after);
      EXPECT_EQ(fused, 1) << what;
      EXPECT_EQ(CountConvAdd(*f->graph), 1) << what;
      EXPECT_EQ(CountOps(*f->graph, "Add"), 0) << what;
      EXPECT_EQ(CountOps(*f->graph, "Relu"), 1) << what;  // relu1 stays: ActivationFusion's job
      for (const auto& n : f->graph->nodes())
        if (n->op_type == kConvAdd) {
          EXPECT_EQ(n->GetString(kAttrActivation, ""), relu_after ? "Relu" : "") << what;
        }
      testing::Feeds feeds = {{"x", RandomTensor({2, 8, 10, 10}, 9)}};
      testing::ExpectBitExact(RunWithoutPasses(*f, feeds, true), RunWithoutPasses(*m, feeds, true));
      // Fast kernels (oneDNN; Z copied in, since here the fused output y is a graph output and
      // never takes Z's buffer: ChannelsLastMarksTheFusedNode covers the in-place hazard).
      testing::ExpectClose(RunWithoutPasses(*f, feeds, false), RunWithoutPasses(*m, feeds, true), 1e-4, 1e-5);
    }
}

TEST(ResidualFusion, LeavesWhatIsNotAResidualSum) {
  // conv2's output has a second reader: the sum goes to the shortcut convolution instead
  // (ConvAdd(x, ws, Z = c2)), and with both read twice to neither.
  for (bool both : {false, true}) {
    auto m = Block(Shortcut::kConv);
    Graph& g = *m->graph;
    g.AddNode("Neg", {"c2"}, {"n"}, "neg");
    g.outputs.push_back({"n", TensorType::Of(DType::kF32, {2, 8, 10, 10}), ""});
    if (both) {
      g.AddNode("Neg", {"s"}, {"ns"}, "neg_s");
      g.outputs.push_back({"ns", TensorType::Of(DType::kF32, {2, 8, 10, 10}), ""});
    }
    int fused = 0;
    auto f = Fused(*m, &fused);
    EXPECT_EQ(fused, both ? 0 : 1);
    for (const auto& n : f->graph->nodes())
      if (n->op_type == kConvAdd) {
        EXPECT_EQ(n->name, "shortcut");
        EXPECT_EQ(n->inputs[kConvAddZ], "c2");
      }
    testing::Feeds feeds = {{"x", RandomTensor({2, 8, 10, 10}, 10)}};
    testing::ExpectBitExact(RunWithoutPasses(*f, feeds, true), RunWithoutPasses(*m, feeds, true));
  }
  // The addend broadcasts ([1, 8, 1, 1]), is a constant, or is the convolution itself.
  for (int variant = 0; variant < 3; ++variant) {
    auto m = Block(Shortcut::kConv);
    Graph& g = *m->graph;
    for (const auto& n : g.mutable_nodes()) {
      if (n->op_type != "Add") continue;
      if (variant == 0) {
        g.inputs.push_back({"bc", TensorType::Of(DType::kF32, {1, 8, 1, 1}), ""});
        n->inputs[1] = "bc";
      } else if (variant == 1) {
        g.AddInitializer("k", RandomTensor({2, 8, 10, 10}, 6));
        n->inputs[1] = "k";
      } else {
        n->inputs[1] = "c2";
      }
    }
    int fused = 0;
    Fused(*m, &fused);
    EXPECT_EQ(fused, 0) << "variant " << variant;
  }
  // Shapes unknown: nothing proves the Add does not broadcast.
  {
    auto m = Block(Shortcut::kIdentity);
    m->graph->inputs[0].type = TensorType::Of(DType::kF32, {-1, 8, 10, 10});
    int fused = 0;
    Fused(*m, &fused);
    EXPECT_EQ(fused, 0);
  }
}

// The default pipeline's order with float32 channels-last forced on (as on AVX-512 CPUs):
// ActivationFusion takes relu1, ResidualFusion the Add and relu2, ChannelsLastLayout marks the
// ConvAdd NHWC and lays its residual out too (no transpose between the shortcut and it).
TEST(ResidualFusion, ChannelsLastMarksTheFusedNode) {
  for (Shortcut sc : {Shortcut::kConv, Shortcut::kConvReadAgain}) {
    auto m = Block(sc);
    auto p = m->Clone();
    PipelineOptions o;
    o.residual_fusion = true;
    o.channels_last = true;
    o.channels_last_f32 = true;
    o.blocked_layout = false;
    ASSERT_TRUE(RunPasses(*p, DefaultPasses(o)).ok());
    EXPECT_EQ(CountConvAdd(*p->graph), 1);
    for (const auto& n : p->graph->nodes())
      if (n->op_type == kConvAdd) {
        EXPECT_TRUE(IsChannelsLast(*n));
      }
    // One transpose in (x), one out per output.
    EXPECT_EQ(CountOps(*p->graph, "Transpose"), sc == Shortcut::kConv ? 2 : 3);
    testing::Feeds feeds = {{"x", RandomTensor({2, 8, 10, 10}, 12)}};
    testing::ExpectBitExact(RunWithoutPasses(*p, feeds, true), RunWithoutPasses(*m, feeds, true));
    testing::ExpectClose(RunWithoutPasses(*p, feeds, false), RunWithoutPasses(*m, feeds, true), 1e-4, 1e-5);
  }
}

// ResNet-18 (small image) through a Session with the pipeline forced to the AVX-512 choices:
// one ConvAdd per basic block (8), and the logits agree with the unoptimized reference run.
TEST(ResidualFusion, ResNet18EndToEnd) {
  auto built = bench::BuildResNet18(2, 10, 32);
  ASSERT_TRUE(built.ok());
  auto p = (*built)->Clone();
  PipelineOptions o;
  o.residual_fusion = true;
  o.channels_last_f32 = true;
  o.blocked_layout = false;
  ASSERT_TRUE(RunPasses(*p, DefaultPasses(o)).ok());
  EXPECT_EQ(CountConvAdd(*p->graph), 8);
  EXPECT_EQ(CountOps(*p->graph, "Add"), 0);
  testing::Feeds feeds = {{(*built)->graph->inputs[0].name, RandomTensor({2, 3, 32, 32}, 13)}};
  testing::ExpectClose(RunWithoutPasses(*p, feeds, false), RunWithoutPasses(**built, feeds, true), 1e-4, 1e-4);
}

}  // namespace
}  // namespace greenai
