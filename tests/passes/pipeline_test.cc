// The default pipeline on the project's own models: it changes the graphs the way it claims
// (MatMul+Add -> Gemm, BN folded into Conv) and outputs stay within tolerance of the
// unoptimized graph, run node by node with the reference kernels.
#include <gtest/gtest.h>

#include "bench/models.h"
#include "eager_runner.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::ExpectClose;
using testing::RandomTensor;
using testing::RunEager;

TEST(Pipeline, MlpMatMulAddBecomesGemm) {
  auto m = bench::BuildMlp(4);
  ASSERT_TRUE(m.ok());
  Model& model = **m;
  testing::Feeds feeds = {{"input", RandomTensor({4, 784}, 100)}};
  auto before = RunEager(model, feeds);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  Status st = RunPasses(model, DefaultPasses());
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(CountOps(*model.graph, "Gemm"), 3);
  EXPECT_EQ(CountOps(*model.graph, "MatMul"), 0);
  EXPECT_EQ(CountOps(*model.graph, "Add"), 0);
  EXPECT_EQ(model.graph->nodes().size(), 3u);  // 3 Gemm, the 2 Relus fused into the first two
  int fused = 0;
  for (const auto& n : model.graph->nodes()) fused += n->GetString(kAttrActivation, "") == "Relu" ? 1 : 0;
  EXPECT_EQ(fused, 2);
  auto after = RunEager(model, feeds);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ExpectClose(*after, *before, 1e-5, 1e-5);
}

TEST(Pipeline, ResNet18FoldsEveryBatchNorm) {
  auto m = bench::BuildResNet18(1, 10, 32);
  ASSERT_TRUE(m.ok());
  Model& model = **m;
  const size_t nodes_before = model.graph->nodes().size();
  testing::Feeds feeds = {{"input", RandomTensor({1, 3, 32, 32}, 101)}};
  auto before = RunEager(model, feeds);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  PipelineOptions po;
  // Node counts below are about BN folding (channels_last_test.cc and blocked_layout_test.cc
  // cover the layouts, blocked_layout_test.cc the activation fusion).
  po.channels_last = false;
  po.blocked_layout = false;
  po.fuse_activations = false;
  po.residual_fusion = false;  // residual_fusion_test.cc
  Status st = RunPasses(model, DefaultPasses(po));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(CountOps(*model.graph, "BatchNormalization"), 0);
  EXPECT_EQ(CountOps(*model.graph, "Conv"), 20);
  EXPECT_EQ(model.graph->nodes().size(), nodes_before - 20);
  // The 20 folded BNs' parameters (4 tensors each) and the 20 original conv weights are gone.
  for (const auto& [name, t] : model.graph->initializers) EXPECT_EQ(name.find("running_mean"), std::string::npos);
  auto after = RunEager(model, feeds);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  // 20 layers of float rounding in a different order: allow a little more than one layer's rtol.
  ExpectClose(*after, *before, 1e-4, 1e-5);
}

TEST(Pipeline, BertEncoderIsUnchangedInMeaning) {
  auto m = bench::BuildBertEncoder(1, 32, 4, 8, 2);
  ASSERT_TRUE(m.ok());
  Model& model = **m;
  Tensor mask = Tensor::Create(DType::kI64, {2, 8}).value();
  for (int64_t i = 0; i < 16; ++i) mask.data<int64_t>()[i] = (i % 8) < 6 ? 1 : 0;
  testing::Feeds feeds = {{"hidden_states", RandomTensor({2, 8, 32}, 102)}, {"attention_mask", mask}};
  auto before = RunEager(model, feeds);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  Status st = RunPasses(model, DefaultPasses());
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto after = RunEager(model, feeds);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  // MatMul+Add on the [batch, seq, hidden] input becomes Reshape-Gemm-Reshape (exact on the
  // reference kernels) and the erf GELU a fused Gelu (1/sqrt 2 multiplied, not divided).
  int gelu = 0;
  for (const auto& n : model.graph->nodes()) gelu += n->GetString(kAttrActivation, "") == "Gelu" ? 1 : 0;
  EXPECT_EQ(gelu, 1);
  testing::ExpectClose(*after, *before, 1e-5, 1e-6);
}

}  // namespace
}  // namespace greenai
