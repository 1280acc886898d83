// Model builders: the graphs pass strict type inference, have the parameter counts computed
// by hand (ResNet-18: the published torchvision figure), are deterministic, and reject bad sizes.
#include <gtest/gtest.h>

#include "bench/models.h"
#include "ops/shape_inference.h"

namespace greenai::bench {
namespace {

// Elements of float initializers whose names pass `keep`.
template <typename Keep>
int64_t CountElements(const Graph& g, Keep keep) {
  int64_t n = 0;
  for (const auto& [name, t] : g.initializers)
    if (t.dtype() == DType::kF32 && keep(name)) n += t.numel();
  return n;
}
bool EndsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

TEST(Models, ResNet18HasTorchvisionParameterCountAndInfersLogits) {
  auto m = BuildResNet18(2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Graph& g = *(*m)->graph;
  // torchvision resnet18: 11,689,512 trainable parameters (running stats are buffers).
  int64_t trainable = CountElements(g, [](const std::string& n) {
    return !EndsWith(n, "running_mean") && !EndsWith(n, "running_var");
  });
  EXPECT_EQ(trainable, 11689512);
  // 20 BatchNormalization layers; channels: 64 + 4*64 + (128*5) + (256*5) + (512*5) = 4800.
  int64_t stats = CountElements(g, [](const std::string& n) {
    return EndsWith(n, "running_mean") || EndsWith(n, "running_var");
  });
  EXPECT_EQ(stats, 2 * 4800);
  ASSERT_TRUE(g.TopologicalSort().ok());
  Status st = InferGraphTypes(g, 17, /*strict=*/true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const TensorType& out = g.value_types.at("logits");
  EXPECT_EQ(out.dims, (std::vector<int64_t>{2, 1000}));
}

TEST(Models, ResNet18SmallImageAndDynamicBatch) {
  auto m = BuildResNet18(0, 10, 64);
  ASSERT_TRUE(m.ok());
  Graph& g = *(*m)->graph;
  EXPECT_EQ(g.inputs[0].type.dims, (std::vector<int64_t>{-1, 3, 64, 64}));
  EXPECT_EQ(g.inputs[0].type.dim_params[0], "batch");
  ASSERT_TRUE(g.TopologicalSort().ok());
  Status st = InferGraphTypes(g, 17, true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const TensorType& out = g.value_types.at("logits");
  ASSERT_EQ(out.rank(), 2);
  EXPECT_EQ(out.dims[1], 10);
  // 11,689,512 - 1000 * 513 (fc) + 10 * 513.
  int64_t trainable = CountElements(g, [](const std::string& n) {
    return !EndsWith(n, "running_mean") && !EndsWith(n, "running_var");
  });
  EXPECT_EQ(trainable, 11689512 - 1000 * 513 + 10 * 513);
}

TEST(Models, MlpParameterCountAndShapes) {
  for (bool gemm : {false, true}) {
    auto m = BuildMlp(8, {784, 512, 256, 10}, gemm);
    ASSERT_TRUE(m.ok());
    Graph& g = *(*m)->graph;
    EXPECT_EQ(CountElements(g, [](const std::string&) { return true; }),
              784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10);
    EXPECT_EQ(g.nodes().size(), gemm ? 5u : 8u);
    ASSERT_TRUE(g.TopologicalSort().ok());
    Status st = InferGraphTypes(g, 17, true);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(g.value_types.at("logits").dims, (std::vector<int64_t>{8, 10}));
  }
}

TEST(Models, BertEncoderParameterCountAndShapes) {
  const int64_t layers = 2, h = 64, heads = 4, seq = 16, batch = 3;
  auto m = BuildBertEncoder(layers, h, heads, seq, batch);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Graph& g = *(*m)->graph;
  const int64_t inter = 4 * h;
  const int64_t per_layer = 4 * (h * h + h)            // Q, K, V, output projections
                            + 2 * h                    // attention LayerNorm
                            + (h * inter + inter)      // intermediate dense
                            + (inter * h + h)          // output dense
                            + 2 * h;                   // output LayerNorm
  EXPECT_EQ(CountElements(g, [](const std::string& n) { return n.rfind("const_", 0) != 0; }), layers * per_layer);
  ASSERT_TRUE(g.TopologicalSort().ok());
  Status st = InferGraphTypes(g, 17, true);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(g.value_types.at("last_hidden_state").dims, (std::vector<int64_t>{batch, seq, h}));
}

TEST(Models, DefaultBertMatchesBenchmarkConfiguration) {
  auto m = BuildBertEncoder();
  ASSERT_TRUE(m.ok());
  // 4 layers, hidden 256: 789,760 parameters per layer (by the formula above).
  EXPECT_EQ(CountElements(*(*m)->graph, [](const std::string& n) { return n.rfind("const_", 0) != 0; }),
            4 * 789760);
}

TEST(Models, SameSeedSameWeightsDifferentSeedDifferentWeights) {
  auto a = BuildMlp(1, {4, 3}, false, 7), b = BuildMlp(1, {4, 3}, false, 7), c = BuildMlp(1, {4, 3}, false, 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const Tensor& wa = (*a)->graph->initializers.at("fc1.weight");
  const Tensor& wb = (*b)->graph->initializers.at("fc1.weight");
  const Tensor& wc = (*c)->graph->initializers.at("fc1.weight");
  for (int64_t i = 0; i < wa.numel(); ++i) EXPECT_EQ(wa.data<float>()[i], wb.data<float>()[i]);
  bool differs = false;
  for (int64_t i = 0; i < wa.numel(); ++i) differs |= wa.data<float>()[i] != wc.data<float>()[i];
  EXPECT_TRUE(differs);
}

TEST(Models, BadSizesAreRejectedWithClearErrors) {
  auto r = BuildResNet18(1, 1000, 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image 16"), std::string::npos) << r.status().message();
  auto b = BuildBertEncoder(2, 100, 3);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("hidden 100"), std::string::npos);
  auto mlp = BuildMlp(-1);
  ASSERT_FALSE(mlp.ok());
  EXPECT_NE(mlp.status().message().find("batch -1"), std::string::npos);
}

}  // namespace
}  // namespace greenai::bench
