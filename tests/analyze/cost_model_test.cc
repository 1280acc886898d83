// Cost model tests: MAC/FLOP/parameter counts against values computed by hand here (from
// the op definitions), the published ResNet-18 count, and partial analysis of a model
// whose shapes cannot all be inferred.
#include "analyze/cost_model.h"

#include <gtest/gtest.h>

#include "bench/models.h"

namespace greenai::analyze {
namespace {

// One-graph model builder for hand-made cases (opset 17).
struct TinyModel {
  std::unique_ptr<Model> m = std::make_unique<Model>();
  TinyModel() { m->opset_imports = {{"", 17}}; }
  Graph& g() { return *m->graph; }
  void Input(const std::string& name, DType t, Shape s, std::vector<std::string> params = {}) {
    TensorType tt = TensorType::Of(t, std::move(s));
    tt.dim_params = std::move(params);
    g().inputs.push_back({name, tt, ""});
  }
  void Init(const std::string& name, DType t, Shape s) { g().AddInitializer(name, Tensor::Create(t, std::move(s)).value()); }
  template <typename T> void Scalar(const std::string& name, T v) { g().AddInitializer(name, Tensor::Scalar<T>(v)); }
  void Output(const std::string& name) { g().outputs.push_back({name, {}, ""}); }
};

const NodeCostReport& NodeNamed(const ModelCostReport& r, const std::string& name) {
  for (const auto& n : r.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  static NodeCostReport none;
  return none;
}

TEST(CostModel, ConvWithStridePadsGroups) {
  TinyModel t;
  t.Input("x", DType::kF32, {1, 8, 15, 15});
  t.Init("w", DType::kF32, {12, 4, 3, 3});  // 8 channels in 2 groups of 4
  t.Init("b", DType::kF32, {12});
  Node* n = t.g().AddNode("Conv", {"x", "w", "b"}, {"y"}, "conv");
  n->SetInt("group", 2);
  n->SetInts("strides", {2, 2});
  n->SetInts("pads", {1, 1, 1, 1});
  t.Output("y");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& c = NodeNamed(*r, "conv");
  // H_out = floor((15 + 1 + 1 - 3) / 2) + 1 = 8; each output sums 4 channels x 3 x 3.
  const double outputs = 1 * 12 * 8 * 8;
  EXPECT_EQ(c.output.dims, (Shape{1, 12, 8, 8}));
  EXPECT_EQ(c.macs, outputs * 4 * 3 * 3);             // 27648
  EXPECT_EQ(c.flops, 2 * outputs * 4 * 3 * 3 + outputs);  // + bias add
  EXPECT_EQ(c.params, 12 * 4 * 3 * 3 + 12);
  EXPECT_EQ(c.param_bytes, (12 * 4 * 3 * 3 + 12) * 4);
  EXPECT_EQ(c.bytes_read, (8 * 15 * 15 + 12 * 4 * 9 + 12) * 4.0);
  EXPECT_EQ(c.bytes_written, outputs * 4);
  EXPECT_DOUBLE_EQ(c.intensity(), c.flops / (c.bytes_read + c.bytes_written));
  EXPECT_TRUE(c.known);
}

TEST(CostModel, DepthwiseConv) {
  TinyModel t;
  t.Input("x", DType::kF32, {2, 16, 10, 10});
  t.Init("w", DType::kF32, {16, 1, 3, 3});
  t.g().AddNode("Conv", {"x", "w"}, {"y"}, "dw")->SetInt("group", 16);
  t.Output("y");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok());
  // No padding: 10 - 3 + 1 = 8; one input channel per output channel.
  EXPECT_EQ(NodeNamed(*r, "dw").macs, 2.0 * 16 * 8 * 8 * 9);
  EXPECT_EQ(NodeNamed(*r, "dw").flops, 2 * 2.0 * 16 * 8 * 8 * 9);
}

TEST(CostModel, GemmTransposedWithBias) {
  TinyModel t;
  t.Input("a", DType::kF32, {5, 7});
  t.Init("b", DType::kF32, {3, 7});
  t.Init("c", DType::kF32, {3});
  t.g().AddNode("Gemm", {"a", "b", "c"}, {"y"}, "gemm")->SetInt("transB", 1);
  t.Output("y");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->macs, 5 * 3 * 7);
  EXPECT_EQ(r->flops, 2 * 5 * 3 * 7 + 5 * 3);
  EXPECT_EQ(r->params, 3 * 7 + 3);
}

TEST(CostModel, BatchedBroadcastMatMul) {
  TinyModel t;
  t.Input("a", DType::kF32, {2, 3, 4, 5});
  t.Input("b", DType::kF32, {3, 5, 6});  // no weights: params stay 0
  t.g().AddNode("MatMul", {"a", "b"}, {"y"}, "mm");
  t.Output("y");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok());
  // Batch dims [2,3] x [3]: broadcast to [2,3]; each [4,5]x[5,6] is 4*6*5 MACs.
  EXPECT_EQ(NodeNamed(*r, "mm").output.dims, (Shape{2, 3, 4, 6}));
  EXPECT_EQ(r->macs, 2 * 3 * 4 * 6 * 5);
  EXPECT_EQ(r->params, 0);
  // Activations: both inputs and the output.
  EXPECT_EQ(r->activation_bytes, (2 * 3 * 4 * 5 + 3 * 5 * 6 + 2 * 3 * 4 * 6) * 4.0);
}

TEST(CostModel, MlpWithSymbolicBatchUsesBatchOption) {
  auto m = bench::BuildMlp(/*batch=*/0, {784, 512, 256, 10});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto r = AnalyzeModel(**m, {.batch = 4});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->batch_substituted);
  EXPECT_EQ(r->macs, 4.0 * (784 * 512 + 512 * 256 + 256 * 10));
  EXPECT_EQ(r->params, 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
  for (const auto& n : r->nodes) EXPECT_TRUE(n.known) << n.name << ": " << n.output.ToString();
  auto r1 = AnalyzeModel(**m);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->macs * 4, r->macs);
  EXPECT_FALSE(AnalyzeModel(**m, {.batch = 0}).ok());
}

TEST(CostModel, Int8MatMulIntegerAndQLinearConv) {
  TinyModel t;
  t.Input("a", DType::kU8, {3, 8});
  t.Init("b", DType::kI8, {8, 4});
  t.g().AddNode("MatMulInteger", {"a", "b"}, {"y"}, "mmi");
  t.Input("x", DType::kU8, {1, 3, 6, 6});
  t.Scalar<float>("xs", 0.1f);
  t.Scalar<uint8_t>("xz", 128);
  t.Init("w", DType::kI8, {4, 3, 3, 3});
  t.Scalar<float>("ws", 0.05f);
  t.Scalar<int8_t>("wz", 0);
  t.Scalar<float>("ys", 0.2f);
  t.Scalar<uint8_t>("yz", 128);
  t.g().AddNode("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, {"z"}, "qconv");
  t.Output("y");
  t.Output("z");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(NodeNamed(*r, "mmi").macs, 3 * 4 * 8);
  EXPECT_EQ(NodeNamed(*r, "mmi").compute_dtype, DType::kU8);
  EXPECT_EQ(NodeNamed(*r, "qconv").output.dims, (Shape{1, 4, 4, 4}));
  EXPECT_EQ(NodeNamed(*r, "qconv").macs, 4 * 4 * 4 * 27);
  // Weights are int8: 1 byte each; scales and zero points count as parameters too.
  EXPECT_EQ(NodeNamed(*r, "mmi").param_bytes, 8 * 4);
  EXPECT_EQ(NodeNamed(*r, "qconv").params, 4 * 27 + 6);
}

// torchvision resnet18: 1.814 GMACs (reported as "1.8 GFLOPs"), 11,689,512 parameters.
TEST(CostModel, ResNet18MatchesPublishedCount) {
  auto m = bench::BuildResNet18(1);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto r = AnalyzeModel(**m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Layer list: (output H=W, output channels, MACs per output = Cin/group * k * k).
  struct L { double hw, cout, per_out; int count; };
  const L layers[] = {
      {112, 64, 3 * 49, 1},                                   // conv1 7x7/2
      {56, 64, 64 * 9, 4},                                    // layer1: 4 convs 3x3
      {28, 128, 64 * 9, 1}, {28, 128, 128 * 9, 3}, {28, 128, 64, 1},     // layer2 (+1x1 downsample)
      {14, 256, 128 * 9, 1}, {14, 256, 256 * 9, 3}, {14, 256, 128, 1},   // layer3
      {7, 512, 256 * 9, 1}, {7, 512, 512 * 9, 3}, {7, 512, 256, 1},      // layer4
  };
  double macs = 512 * 1000;  // fc
  for (const L& l : layers) macs += l.hw * l.hw * l.cout * l.per_out * l.count;
  EXPECT_EQ(macs, 1814073344.0);
  EXPECT_EQ(r->macs, macs);
  // ONNX also stores BN running mean/var (2 x 4800 channels), which torchvision counts as buffers.
  EXPECT_EQ(r->params, 11689512.0 + 2 * 4800);
  EXPECT_TRUE(r->inference_errors.empty());
}

TEST(CostModel, UninferableNodeIsNamedAndTheRestAnalyzed) {
  TinyModel t;
  t.Input("x", DType::kF32, {2, 3});
  t.Init("wbad", DType::kF32, {4, 5});
  t.Init("w", DType::kF32, {3, 6});
  t.g().AddNode("MatMul", {"x", "wbad"}, {"h"}, "bad_mm");  // inner dims 3 vs 4
  t.g().AddNode("Relu", {"h"}, {"hr"}, "after_bad");
  t.g().AddNode("FooBar", {"x"}, {"f"}, "mystery");
  t.g().AddNode("MatMul", {"x", "w"}, {"y"}, "good_mm");
  t.Output("hr");
  t.Output("f");
  t.Output("y");
  auto r = AnalyzeModel(*t.m);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->nodes.size(), 4u);
  const auto& bad = NodeNamed(*r, "bad_mm");
  EXPECT_FALSE(bad.known);
  EXPECT_NE(bad.error.find("bad_mm"), std::string::npos) << bad.error;
  EXPECT_FALSE(NodeNamed(*r, "after_bad").known);
  EXPECT_NE(NodeNamed(*r, "mystery").error.find("FooBar"), std::string::npos);
  EXPECT_TRUE(NodeNamed(*r, "good_mm").known);
  EXPECT_EQ(r->macs, 2 * 6 * 3);
  ASSERT_FALSE(r->inference_errors.empty());
  EXPECT_NE(r->inference_errors[0].find("bad_mm"), std::string::npos);
}

}  // namespace
}  // namespace greenai::analyze
