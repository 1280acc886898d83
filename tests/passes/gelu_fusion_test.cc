// GeluFusion (passes/gelu_fusion.cc): the torch-exported erf GELU after a Gemm becomes the
// Gemm's fused activation. Oracle: the unfused graph on reference kernels (tolerance: the
// fused form multiplies by 1/sqrt 2 instead of dividing).
#include <gtest/gtest.h>

#include "bench/models.h"
#include "eager_runner.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::RandomTensor;

// x = Gemm(in, W, b); y = Mul(Mul(x, Add(Erf(Div(x, sqrt2)), 1)), 0.5), operands optionally swapped.
std::unique_ptr<Model> GeluModel(bool swapped, float sqrt2, bool extra_reader) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"in", TensorType::Of(DType::kF32, {3, 10}), ""});
  g.AddInitializer("W", RandomTensor({10, 12}, 1));
  g.AddInitializer("b", RandomTensor({12}, 2));
  g.AddInitializer("s2", Tensor::Scalar<float>(sqrt2));
  g.AddInitializer("one", Tensor::Scalar<float>(1.f));
  g.AddInitializer("half", Tensor::Scalar<float>(0.5f));
  g.AddNode("Gemm", {"in", "W", "b"}, {"x"}, "fc");
  g.AddNode("Div", {"x", "s2"}, {"d"}, "div");
  g.AddNode("Erf", {"d"}, {"e"}, "erf");
  g.AddNode("Add", {swapped ? "one" : "e", swapped ? "e" : "one"}, {"a"}, "add");
  g.AddNode("Mul", {swapped ? "a" : "x", swapped ? "x" : "a"}, {"m"}, "mul");
  g.AddNode("Mul", {swapped ? "half" : "m", swapped ? "m" : "half"}, {"y"}, "half");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {3, 12}), ""});
  if (extra_reader) {
    g.AddNode("Neg", {"x"}, {"nx"}, "neg");
    g.outputs.push_back({"nx", TensorType::Of(DType::kF32, {3, 12}), ""});
  }
  return m;
}

TEST(GeluFusion, FusesIntoGemmWithinTolerance) {
  for (bool swapped : {false, true}) {
    auto m = GeluModel(swapped, 1.4142135f, false);
    testing::Feeds feeds = {{"in", RandomTensor({3, 10}, 5, -2.f, 2.f)}};
    auto before = testing::RunEager(*m, feeds);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    GeluFusion pass;
    ASSERT_TRUE(pass.Run(*m).ok());
    EXPECT_EQ(pass.fused(), 1);
    EXPECT_EQ(m->graph->nodes().size(), 1u);
    EXPECT_EQ(m->graph->nodes()[0]->GetString(kAttrActivation, ""), "Gelu");
    auto after = testing::RunEager(*m, feeds);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    testing::ExpectClose(*after, *before, 1e-5, 1e-6);
    // The session (packed GEMM + the Gelu kernel through the activation adapter) agrees too.
    SessionOptions so;
    so.optimize = false;
    auto s = Session::Create(*m, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto got = (*s)->Run(feeds);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    testing::ExpectClose(*got, *before, 1e-5, 1e-5);
  }
}

TEST(GeluFusion, LeavesOtherShapesAlone) {
  for (bool extra : {false, true}) {
    auto m = GeluModel(false, extra ? 1.4142135f : 1.7320508f, extra);
    GeluFusion pass;
    ASSERT_TRUE(pass.Run(*m).ok());
    EXPECT_EQ(pass.fused(), 0);
    EXPECT_EQ(CountOps(*m->graph, "Erf"), 1);
  }
}

// The BERT encoder's FFN: MatMulAddFusion's Reshape -> Gemm -> Reshape, then the GELU; the
// whole default pipeline keeps the model's meaning and leaves no Erf behind.
TEST(GeluFusion, BertFeedForwardThroughTheReshape) {
  auto built = bench::BuildBertEncoder(2, 64, 4, 16);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const Model& m = **built;
  testing::Feeds feeds;
  for (const auto& in : m.graph->inputs) {
    Tensor t = Tensor::Create(in.type.dtype, in.type.dims).value();
    if (in.type.dtype == DType::kF32) t = RandomTensor(in.type.dims, 3);
    else for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = i % 5 != 0;  // attention mask
    feeds.emplace_back(in.name, t);
  }
  auto want = testing::RunEager(m, feeds);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  auto s = Session::Create(m, SessionOptions{});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(CountOps((*s)->graph(), "Erf"), 0);
  int gelu = 0;
  for (const auto& n : (*s)->graph().nodes()) gelu += n->GetString(kAttrActivation, "") == "Gelu" ? 1 : 0;
  EXPECT_EQ(gelu, 2);
  auto got = (*s)->Run(feeds);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  testing::ExpectClose(*got, *want, 1e-4, 1e-4);
}

// An opset-20 model with the Gelu op itself: ActivationFusion fuses it, and the packed GEMM's
// Gelu epilogue equals the separate Gelu kernel bit for bit (same vector code).
TEST(GeluFusion, Opset20GeluFusesExactly) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 20});
  Graph& g = *m->graph;
  g.inputs.push_back({"in", TensorType::Of(DType::kF32, {7, 30}), ""});
  g.AddInitializer("W", RandomTensor({30, 21}, 1));
  g.AddInitializer("b", RandomTensor({21}, 2));
  g.AddNode("Gemm", {"in", "W", "b"}, {"x"}, "fc");
  g.AddNode("Gelu", {"x"}, {"y"}, "gelu");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {7, 21}), ""});
  testing::Feeds feeds = {{"in", RandomTensor({7, 30}, 5, -3.f, 3.f)}};
  std::vector<std::vector<Tensor>> outs;
  for (bool fuse : {false, true}) {
    auto r = m->Clone();
    PipelineOptions o;
    o.fuse_activations = fuse;
    ASSERT_TRUE(RunPasses(*r, DefaultPasses(o)).ok());
    EXPECT_EQ(CountOps(*r->graph, "Gelu"), fuse ? 0 : 1);
    SessionOptions so;
    so.optimize = false;
    auto s = Session::Create(*r, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    if (fuse) {
      EXPECT_EQ((*s)->kernel_name(0), "f32_gemm__packed");
    }
    auto got = (*s)->Run(feeds);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    outs.push_back(*got);
  }
  testing::ExpectBitExact(outs[1], outs[0]);
}

}  // namespace
}  // namespace greenai
