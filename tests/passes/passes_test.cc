// Each pass is checked on its claim: same outputs before and after on seeded random inputs
// (bit-exact for kExact, rtol 1e-5 for kTolerance) and the graph actually changed.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "eager_runner.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::ExpectBitExact;
using testing::ExpectClose;
using testing::RandomTensor;
using testing::RunEager;

std::unique_ptr<Model> NewModel() {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  return m;
}

void AddInput(Graph& g, const std::string& name, Shape s) {
  g.inputs.push_back({name, TensorType::Of(DType::kF32, std::move(s)), ""});
}
void AddOutput(Graph& g, const std::string& name) { g.outputs.push_back({name, TensorType{}, ""}); }

// Runs the model before and after `pass` on the same feeds.
struct BeforeAfter {
  std::vector<Tensor> before, after;
};
BeforeAfter RunAround(Model& m, Pass& pass, const testing::Feeds& feeds) {
  BeforeAfter r;
  auto b = RunEager(m, feeds);
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  if (b.ok()) r.before = *b;
  Status st = pass.Run(m);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto a = RunEager(m, feeds);
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  if (a.ok()) r.after = *a;
  return r;
}

// ---------------------------------------------------------------- ConstantFolding

TEST(ConstantFolding, FoldsConstantChainAndStaticShapeBitExact) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {2, 3});
  g.AddInitializer("c1", Tensor::FromVector<float>({3}, {1.5f, -2.f, 0.25f}));
  g.AddInitializer("c2", Tensor::FromVector<float>({3}, {3.f, 0.5f, -4.f}));
  g.AddNode("Add", {"c1", "c2"}, {"s"}, "add_c");
  g.AddNode("Mul", {"s", "c2"}, {"t"}, "mul_c");
  g.AddNode("Add", {"x", "t"}, {"y"}, "add_x");
  g.AddNode("Shape", {"x"}, {"shape_x"}, "shape");
  g.AddNode("Reshape", {"y", "shape_x"}, {"z"}, "reshape");
  AddOutput(g, "z");
  ConstantFolding cf;
  auto r = RunAround(*m, cf, {{"x", RandomTensor({2, 3}, 1)}});
  ExpectBitExact(r.before, r.after);
  EXPECT_EQ(cf.folded(), 3);  // add_c, mul_c, shape
  EXPECT_EQ(g.nodes().size(), 2u);
  ASSERT_TRUE(g.IsInitializer("t"));
  // (c1 + c2) * c2, by hand.
  const float* t = g.FindInitializer("t")->data<float>();
  EXPECT_FLOAT_EQ(t[0], 13.5f);
  EXPECT_FLOAT_EQ(t[1], -0.75f);
  EXPECT_FLOAT_EQ(t[2], 15.f);
  ASSERT_TRUE(g.IsInitializer("shape_x"));
  EXPECT_EQ(g.FindInitializer("shape_x")->dtype(), DType::kI64);
  EXPECT_EQ(g.FindInitializer("shape_x")->GetAsDouble(1), 3.0);
}

TEST(ConstantFolding, ConstantNodeBecomesInitializer) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {4});
  Node* c = g.AddNode("Constant", {}, {"k"}, "const");
  c->SetTensor("value", Tensor::FromVector<float>({4}, {1.f, 2.f, 3.f, 4.f}));
  g.AddNode("Mul", {"x", "k"}, {"y"}, "mul");
  AddOutput(g, "y");
  ConstantFolding cf;
  auto r = RunAround(*m, cf, {{"x", RandomTensor({4}, 2)}});
  ExpectBitExact(r.before, r.after);
  EXPECT_EQ(CountOps(g, "Constant"), 0);
  EXPECT_TRUE(g.IsInitializer("k"));
}

TEST(ConstantFolding, SkipsNondeterministicOpsAndGraphOutputs) {
  auto m = NewModel();
  Graph& g = *m->graph;
  g.AddInitializer("c", Tensor::FromVector<float>({2}, {1.f, 2.f}));
  g.AddNode("RandomNormalLike", {"c"}, {"r"}, "rnd");
  g.AddNode("Neg", {"c"}, {"n"}, "neg");  // all-constant, but a graph output: stays a node
  g.AddNode("Add", {"r", "n"}, {"y"}, "add");
  AddOutput(g, "y");
  AddOutput(g, "n");
  ConstantFolding cf;
  ASSERT_TRUE(cf.Run(*m).ok());
  EXPECT_EQ(cf.folded(), 0);
  EXPECT_EQ(g.nodes().size(), 3u);
}

TEST(ConstantFolding, SkipsFoldsThatWouldBloatTheModel) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {1});
  g.AddInitializer("big_shape", Tensor::FromVector<int64_t>({2}, {2048, 1024}));  // 8 MiB of f32
  g.AddInitializer("small_shape", Tensor::FromVector<int64_t>({2}, {4, 4}));
  g.AddNode("ConstantOfShape", {"big_shape"}, {"big"}, "big");
  g.AddNode("ConstantOfShape", {"small_shape"}, {"small"}, "small");
  g.AddNode("Add", {"big", "x"}, {"y1"}, "add1");
  g.AddNode("Add", {"small", "x"}, {"y2"}, "add2");
  AddOutput(g, "y1");
  AddOutput(g, "y2");
  ConstantFolding cf;
  ASSERT_TRUE(cf.Run(*m).ok());
  EXPECT_EQ(cf.folded(), 1);
  EXPECT_TRUE(g.IsInitializer("small"));
  EXPECT_FALSE(g.IsInitializer("big"));
}

TEST(ConstantFolding, InitializerShadowedByGraphInputIsNotConstant) {
  auto m = NewModel();
  Graph& g = *m->graph;
  g.AddInitializer("w", Tensor::FromVector<float>({2}, {1.f, 2.f}));
  AddInput(g, "w", {2});  // IR < 4 style: a feed may override the default
  g.AddNode("Neg", {"w"}, {"y"}, "neg");
  g.AddNode("Abs", {"y"}, {"z"}, "abs");
  AddOutput(g, "z");
  ConstantFolding cf;
  ASSERT_TRUE(cf.Run(*m).ok());
  EXPECT_EQ(cf.folded(), 0);
}

// ---------------------------------------------------------------- DeadCodeElimination

TEST(DeadCodeElimination, RemovesUnusedNodesAndInitializersBitExact) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {3});
  g.AddInitializer("used", Tensor::FromVector<float>({3}, {1.f, 2.f, 3.f}));
  g.AddInitializer("unused", Tensor::FromVector<float>({3}, {0.f, 0.f, 0.f}));
  g.AddInitializer("dead_only", Tensor::FromVector<float>({3}, {5.f, 5.f, 5.f}));
  g.AddNode("Mul", {"x", "used"}, {"y"}, "live");
  g.AddNode("Add", {"x", "dead_only"}, {"d1"}, "dead1");
  g.AddNode("Relu", {"d1"}, {"d2"}, "dead2");
  AddOutput(g, "y");
  DeadCodeElimination dce;
  auto r = RunAround(*m, dce, {{"x", RandomTensor({3}, 3)}});
  ExpectBitExact(r.before, r.after);
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_TRUE(g.IsInitializer("used"));
  EXPECT_FALSE(g.IsInitializer("unused"));
  EXPECT_FALSE(g.IsInitializer("dead_only"));
}

TEST(DeadCodeElimination, KeepsInitializersThatAreGraphInputs) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {3});
  AddInput(g, "opt", {3});
  g.AddInitializer("opt", Tensor::FromVector<float>({3}, {1.f, 1.f, 1.f}));
  g.AddNode("Relu", {"x"}, {"y"}, "relu");
  AddOutput(g, "y");
  DeadCodeElimination dce;
  ASSERT_TRUE(dce.Run(*m).ok());
  EXPECT_TRUE(g.IsInitializer("opt"));
  EXPECT_TRUE(g.IsGraphInput("opt"));
}

// ---------------------------------------------------------------- ConvBatchNormFolding

void AddBn(Graph& g, const std::string& p, int64_t c, uint32_t seed) {
  g.AddInitializer(p + "_scale", RandomTensor({c}, seed, 0.5f, 1.5f));
  g.AddInitializer(p + "_bias", RandomTensor({c}, seed + 1));
  g.AddInitializer(p + "_mean", RandomTensor({c}, seed + 2));
  g.AddInitializer(p + "_var", RandomTensor({c}, seed + 3, 0.2f, 2.f));
}

std::unique_ptr<Model> ConvBnModel(bool conv_bias, bool second_use) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {2, 3, 7, 7});
  g.AddInitializer("W", RandomTensor({4, 3, 3, 3}, 10));
  std::vector<std::string> ins = {"x", "W"};
  if (conv_bias) {
    g.AddInitializer("B", RandomTensor({4}, 11));
    ins.push_back("B");
  }
  Node* conv = g.AddNode("Conv", ins, {"c"}, "conv");
  conv->SetInts("pads", {1, 1, 1, 1});
  conv->SetInts("strides", {2, 2});
  AddBn(g, "bn", 4, 20);
  Node* bn = g.AddNode("BatchNormalization", {"c", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"y"}, "bn");
  bn->SetFloat("epsilon", 1e-3f);
  AddOutput(g, "y");
  if (second_use) {
    g.AddNode("Relu", {"c"}, {"r"}, "relu");
    AddOutput(g, "r");
  }
  return m;
}

TEST(ConvBatchNormFolding, FoldsWithAndWithoutBiasWithinTolerance) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "conv with bias" : "conv without bias");
    auto m = ConvBnModel(bias, false);
    ConvBatchNormFolding pass;
    auto r = RunAround(*m, pass, {{"x", RandomTensor({2, 3, 7, 7}, 5)}});
    ExpectClose(r.after, r.before, 1e-5, 1e-5);
    EXPECT_EQ(pass.folded(), 1);
    EXPECT_EQ(CountOps(*m->graph, "BatchNormalization"), 0);
    EXPECT_EQ(CountOps(*m->graph, "Conv"), 1);
  }
}

TEST(ConvBatchNormFolding, LeavesConvWhoseOutputIsReadElsewhere) {
  auto m = ConvBnModel(true, true);
  ConvBatchNormFolding pass;
  ASSERT_TRUE(pass.Run(*m).ok());
  EXPECT_EQ(pass.folded(), 0);
  EXPECT_EQ(CountOps(*m->graph, "BatchNormalization"), 1);
}

TEST(ConvBatchNormFolding, DoesNotEditSharedWeightsInPlace) {
  auto m = ConvBnModel(true, false);
  Tensor w = *m->graph->FindInitializer("W");
  std::vector<float> before(w.span<float>().begin(), w.span<float>().end());
  ConvBatchNormFolding pass;
  ASSERT_TRUE(pass.Run(*m).ok());
  ASSERT_EQ(pass.folded(), 1);
  EXPECT_EQ(0, std::memcmp(before.data(), w.data<float>(), before.size() * sizeof(float)));
}

// ---------------------------------------------------------------- MatMulAddFusion

std::unique_ptr<Model> MatMulAddModel(Shape x_shape, Shape bias_shape, bool bias_first) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", x_shape);
  g.AddInitializer("W", RandomTensor({6, 4}, 30));
  g.AddInitializer("b", RandomTensor(bias_shape, 31));
  g.AddNode("MatMul", {"x", "W"}, {"mm"}, "matmul");
  if (bias_first) g.AddNode("Add", {"b", "mm"}, {"y"}, "add");
  else g.AddNode("Add", {"mm", "b"}, {"y"}, "add");
  AddOutput(g, "y");
  return m;
}

TEST(MatMulAddFusion, FusesTwoDimensionalMatMulPlusBiasIntoGemm) {
  for (bool bias_first : {false, true}) {
    for (Shape bshape : {Shape{4}, Shape{1, 4}}) {
      auto m = MatMulAddModel({5, 6}, bshape, bias_first);
      MatMulAddFusion pass;
      auto r = RunAround(*m, pass, {{"x", RandomTensor({5, 6}, 6)}});
      ExpectClose(r.after, r.before, 1e-5, 1e-6);
      EXPECT_EQ(pass.fused(), 1);
      EXPECT_EQ(CountOps(*m->graph, "Gemm"), 1);
      EXPECT_EQ(m->graph->nodes().size(), 1u);
    }
  }
}

// A transformer's [batch, seq, hidden] input: Gemm between two Reshapes, same values.
TEST(MatMulAddFusion, FusesStaticBatchedInputThroughReshapes) {
  auto m3 = MatMulAddModel({2, 5, 6}, {4}, false);
  MatMulAddFusion p1;
  auto r = RunAround(*m3, p1, {{"x", RandomTensor({2, 5, 6}, 7)}});
  ExpectClose(r.after, r.before, 1e-5, 1e-6);
  EXPECT_EQ(p1.fused(), 1);
  EXPECT_EQ(CountOps(*m3->graph, "Gemm"), 1);
  EXPECT_EQ(CountOps(*m3->graph, "Reshape"), 2);
  EXPECT_EQ(CountOps(*m3->graph, "Add"), 0);
  ASSERT_EQ(r.after.size(), 1u);
  EXPECT_EQ(r.after[0].shape(), (Shape{2, 5, 4}));
}

TEST(MatMulAddFusion, LeavesSymbolicBatchedInputAndFullBiasAlone) {
  auto m3 = MatMulAddModel({-1, 5, 6}, {4}, false);
  MatMulAddFusion p1;
  ASSERT_TRUE(p1.Run(*m3).ok());
  EXPECT_EQ(p1.fused(), 0);
  auto mfull = MatMulAddModel({5, 6}, {5, 4}, false);
  MatMulAddFusion p2;
  ASSERT_TRUE(p2.Run(*mfull).ok());
  EXPECT_EQ(p2.fused(), 0);
  EXPECT_EQ(CountOps(*mfull->graph, "MatMul"), 1);
}

// ---------------------------------------------------------------- ActivationFusion

std::unique_ptr<Model> ActivationModel() {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {1, 2, 5, 5});
  g.AddInitializer("W1", RandomTensor({3, 2, 3, 3}, 40));
  g.AddInitializer("B1", RandomTensor({3}, 41));
  g.AddNode("Conv", {"x", "W1", "B1"}, {"c1"}, "conv1");
  g.AddNode("Relu", {"c1"}, {"r1"}, "relu1");
  g.AddInitializer("W2", RandomTensor({3, 3, 1, 1}, 42));
  g.AddNode("Conv", {"r1", "W2"}, {"c2"}, "conv2");
  g.AddNode("LeakyRelu", {"c2"}, {"r2"}, "leaky")->SetFloat("alpha", 0.2f);
  g.AddInitializer("shape", Tensor::FromVector<int64_t>({2}, {1, 27}));
  g.AddNode("Reshape", {"r2", "shape"}, {"flat"}, "flatten");
  g.AddInitializer("Wg", RandomTensor({27, 4}, 43));
  g.AddInitializer("Bg", RandomTensor({4}, 44));
  g.AddNode("Gemm", {"flat", "Wg", "Bg"}, {"gm"}, "gemm");
  g.AddInitializer("lo", Tensor::Scalar<float>(-0.5f));
  g.AddInitializer("hi", Tensor::Scalar<float>(0.5f));
  g.AddNode("Clip", {"gm", "lo", "hi"}, {"y"}, "clip");
  AddOutput(g, "y");
  return m;
}

TEST(ActivationFusion, FusesIntoConvAndGemmAndUnfusesBackExactly) {
  auto m = ActivationModel();
  testing::Feeds feeds = {{"x", RandomTensor({1, 2, 5, 5}, 7, -2.f, 2.f)}};
  ActivationFusion pass;
  auto r = RunAround(*m, pass, feeds);
  ExpectBitExact(r.before, r.after);
  EXPECT_EQ(pass.fused(), 3);
  EXPECT_EQ(m->graph->nodes().size(), 4u);  // conv1, conv2, flatten, gemm
  for (const auto& n : m->graph->nodes()) {
    if (n->op_type == "Conv" || n->op_type == "Gemm") {
      EXPECT_TRUE(n->HasAttr(kAttrActivation)) << n->name;
    }
  }

  ASSERT_TRUE(UnfuseActivations(*m).ok());
  EXPECT_EQ(m->graph->nodes().size(), 7u);
  for (const auto& n : m->graph->nodes()) EXPECT_FALSE(n->HasAttr(kAttrActivation)) << n->name;
  ASSERT_TRUE(m->graph->TopologicalSort().ok());
  auto back = RunEager(*m, feeds);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectBitExact(r.before, *back);
}

TEST(ActivationFusion, UnfuseRejectsUnknownActivation) {
  auto m = NewModel();
  Graph& g = *m->graph;
  AddInput(g, "x", {2, 2});
  g.AddInitializer("w", RandomTensor({2, 2}, 1));
  Node* n = g.AddNode("Gemm", {"x", "w"}, {"y"}, "gemm7");
  n->SetString(kAttrActivation, "Softplus");
  AddOutput(g, "y");
  Status st = UnfuseActivations(*m);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("gemm7"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Softplus"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace greenai
