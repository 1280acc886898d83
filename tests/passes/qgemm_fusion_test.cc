// QGemmFusion (passes/qgemm_fusion.cc) on its claim, kExact: the fused graph gives the unfused
// graph's bits under the reference kernels, on hand-built integer MLPs and on a QDQ MLP written
// by greenai quantize after QdqFusion; a whole Session (default pipeline, fast kernels, one
// and two threads) gives the unfused reference's bits too; and chains whose int32
// intermediates have another reader, or that are not exactly the pattern, are left alone.
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "bench/models.h"
#include "compress/quantize/quantize.h"
#include "eager_runner.h"
#include "ops/qgemm.h"
#include "passes/passes.h"
#include "runtime/session.h"

namespace greenai {
namespace {

using testing::CountOps;
using testing::ExpectBitExact;
using testing::RunEager;

template <typename T>
Tensor RandomInts(Shape s, int lo, int hi, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor t = Tensor::Create(DTypeOf<T>(), std::move(s)).value();
  std::uniform_int_distribution<int> d(lo, hi);
  for (auto& v : t.span<T>()) v = static_cast<T>(d(rng));
  return t;
}

struct Layer {
  int64_t in = 0, out = 0;
  bool bias = true, bias_first = false;  // Add(bias, acc) instead of Add(acc, bias)
  bool per_column = true;
  bool s8_out = false;
  int wmax = 63;
};

// An integer MLP as QdqFusion writes it: per layer MatMulInteger(h, W, zh, zw) [-> Add bias]
// -> QuantizeLinear(int32, scale, zero point [per column, axis -1]). Input "x" uint8 [B, in].
std::unique_ptr<Model> IntegerMlp(int64_t batch, const std::vector<Layer>& layers, uint32_t seed) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kU8, {batch, layers[0].in}), ""});
  std::string h = "x";
  bool h_s8 = false;
  std::mt19937 rng(seed);
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& L = layers[i];
    const std::string p = "l" + std::to_string(i) + "_";
    g.AddInitializer(p + "W", RandomInts<int8_t>({L.in, L.out}, -L.wmax, L.wmax, seed + 10 * static_cast<uint32_t>(i)));
    g.AddInitializer(p + "zh", h_s8 ? Tensor::Scalar<int8_t>(-3) : Tensor::Scalar<uint8_t>(7));
    g.AddInitializer(p + "zw", Tensor::Scalar<int8_t>(0));
    g.AddNode("MatMulInteger", {h, p + "W", p + "zh", p + "zw"}, {p + "acc"}, p + "MatMulInteger");
    std::string pre = p + "acc";
    if (L.bias) {
      g.AddInitializer(p + "bias", RandomInts<int32_t>({L.out}, -3000, 3000, seed + 10 * static_cast<uint32_t>(i) + 1));
      pre = p + "pre";
      if (L.bias_first) g.AddNode("Add", {p + "bias", p + "acc"}, {pre}, p + "bias_Add");
      else g.AddNode("Add", {p + "acc", p + "bias"}, {pre}, p + "bias_Add");
    }
    const int64_t ns = L.per_column ? L.out : 1;
    std::vector<float> sv(static_cast<size_t>(ns));
    for (auto& s : sv) s = 50.f + static_cast<float>(rng() % 400) * 0.5f;  // even integer scales give exact ties
    g.AddInitializer(p + "ys", L.per_column ? Tensor::FromVector<float>({ns}, sv) : Tensor::Scalar<float>(sv[0]));
    if (L.s8_out)
      g.AddInitializer(p + "yz", L.per_column ? Tensor::FromVector<int8_t>({ns}, std::vector<int8_t>(sv.size(), -128))
                                              : Tensor::Scalar<int8_t>(-128));
    else
      g.AddInitializer(p + "yz", L.per_column ? Tensor::FromVector<uint8_t>({ns}, std::vector<uint8_t>(sv.size(), 0))
                                              : Tensor::Scalar<uint8_t>(0));
    Node* q = g.AddNode("QuantizeLinear", {pre, p + "ys", p + "yz"}, {p + "y"}, p + "requantize");
    if (L.per_column) q->SetInt("axis", -1);
    h = p + "y";
    h_s8 = L.s8_out;
  }
  g.outputs.push_back({h, TensorType::Of(h_s8 ? DType::kI8 : DType::kU8, {batch, layers.back().out}), ""});
  return m;
}

testing::Feeds IntFeeds(int64_t batch, int64_t in, uint32_t seed) {
  return {{"x", RandomInts<uint8_t>({batch, in}, 0, 255, seed)}};
}

// Session over `m` (default pipeline: QGemmFusion on, fast kernels) with `threads` threads.
std::vector<Tensor> RunSession(const Model& m, const testing::Feeds& feeds, int threads, int* qgemm_fast = nullptr) {
  SessionOptions so;
  so.num_threads = threads;
  auto s = Session::Create(m, so);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  if (qgemm_fast) {
    *qgemm_fast = 0;
    for (size_t i = 0; i < (*s)->graph().nodes().size(); ++i) *qgemm_fast += (*s)->kernel_name(i) == "u8s8_qgemm__avx2";
  }
  auto y = (*s)->Run(feeds);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return y.ok() ? *y : std::vector<Tensor>{};
}

TEST(QGemmFusion, IntegerMlpFusedBitExact) {
  const std::vector<Layer> layers = {
      {40, 33, true, false, true, false, 63},    // per column, bias, u8 out (direct-mode weights)
      {33, 16, false, false, false, false, 127}, // per tensor, no bias (sign-mode weights)
      {16, 10, true, true, true, true, 100},     // Add(bias, acc), int8 out
  };
  for (int64_t batch : {1, 5, 64}) {
    auto m = IntegerMlp(batch, layers, 11);
    const auto feeds = IntFeeds(batch, 40, 3 + static_cast<uint32_t>(batch));
    auto before = RunEager(*m, feeds);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    auto fused = m->Clone();
    QGemmFusion pass;
    ASSERT_TRUE(pass.Run(*fused).ok());
    EXPECT_EQ(pass.fused(), 3);
    const Graph& g = *fused->graph;
    EXPECT_EQ(CountOps(g, std::string(kQGemm)), 3);
    EXPECT_EQ(CountOps(g, "MatMulInteger") + CountOps(g, "Add") + CountOps(g, "QuantizeLinear"), 0);
    auto after = RunEager(*fused, feeds);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    ExpectBitExact(*before, *after);
    // The whole runtime, fast kernels included, on one and two threads.
    for (int threads : {1, 2}) {
      int fast = 0;
      ExpectBitExact(*before, RunSession(*m, feeds, threads, &fast));
      EXPECT_EQ(fast, 3) << "threads " << threads;
    }
  }
}

// The QDQ file greenai quantize writes (per-channel int8 weights, int32 biases, uint8
// activations): after QdqFusion, QGemmFusion changes nothing in the outputs under the
// reference kernels; fc1 and fc2 (quantized outputs) fuse, the last Gemm's float output does not.
TEST(QGemmFusion, QdqMlpAfterQdqFusionBitExact) {
  auto mlp = bench::BuildMlp(8, {64, 48, 32, 10}, true, 4);
  ASSERT_TRUE(mlp.ok());
  std::vector<compress::Feeds> calib;
  for (uint32_t i = 0; i < 3; ++i) calib.push_back({{"input", testing::RandomTensor({8, 64}, 100 + i, 0.f, 1.f)}});
  auto q = compress::Quantize(**mlp, compress::QuantizeOptions{}, calib, nullptr);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  QdqFusion qdq;
  ASSERT_TRUE(qdq.Run(**q).ok());
  ASSERT_GE(CountOps(*(*q)->graph, "MatMulInteger"), 2);
  for (uint32_t seed : {7u, 8u}) {
    const testing::Feeds feeds = {{"input", testing::RandomTensor({8, 64}, seed, 0.f, 1.f)}};
    auto before = RunEager(**q, feeds);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    auto fused = (*q)->Clone();
    QGemmFusion pass;
    ASSERT_TRUE(pass.Run(*fused).ok());
    EXPECT_EQ(pass.fused(), 2);
    EXPECT_EQ(CountOps(*fused->graph, "MatMulInteger"), 0);
    auto after = RunEager(*fused, feeds);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    ExpectBitExact(*before, *after);
  }
}

// One case per way the pattern can be broken; each must leave the graph (and so its outputs) alone.
TEST(QGemmFusion, LeavesOtherReadersAndOtherFormsAlone) {
  // Batch 20 = N, so that a per-axis scale on axis 0 is valid (and still not the last axis).
  const int64_t kBatch = 20;
  const std::vector<Layer> one = {{24, 20, true, false, true, false, 63}};
  struct Case {
    const char* what;
    void (*edit)(Model&);
  };
  const Case cases[] = {
      {"acc is also a graph output", [](Model& m) { m.graph->outputs.push_back({"l0_acc", TensorType{}, ""}); }},
      {"pre is also a graph output", [](Model& m) { m.graph->outputs.push_back({"l0_pre", TensorType{}, ""}); }},
      {"acc has a second reader",
       [](Model& m) {
         m.graph->AddNode("Neg", {"l0_acc"}, {"neg"}, "neg");
         m.graph->outputs.push_back({"neg", TensorType{}, ""});
       }},
      {"pre has a second reader",
       [](Model& m) {
         m.graph->AddNode("Abs", {"l0_pre"}, {"abs"}, "abs");
         m.graph->outputs.push_back({"abs", TensorType{}, ""});
       }},
      {"bias is a graph input",
       [](Model& m) {
         m.graph->RemoveInitializer("l0_bias");
         m.graph->inputs.push_back({"l0_bias", TensorType::Of(DType::kI32, {20}), ""});
       }},
      {"bias is [1, N]",
       [](Model& m) {
         Tensor b = m.graph->FindInitializer("l0_bias")->Clone();
         m.graph->RemoveInitializer("l0_bias");
         m.graph->AddInitializer("l0_bias", Tensor::FromVector<int32_t>({1, 20}, std::vector<int32_t>(
                                                                                  b.data<int32_t>(), b.data<int32_t>() + 20)));
       }},
      {"per-axis scale on axis 0",
       [](Model& m) {
         for (auto& n : m.graph->mutable_nodes())
           if (n->op_type == "QuantizeLinear") n->SetInt("axis", 0);
       }},
      {"weight is not constant",
       [](Model& m) {
         m.graph->RemoveInitializer("l0_W");
         m.graph->inputs.push_back({"l0_W", TensorType::Of(DType::kI8, {24, 20}), ""});
       }},
      {"per-row a_zero_point",
       [](Model& m) {
         m.graph->RemoveInitializer("l0_zh");
         m.graph->AddInitializer("l0_zh", Tensor::FromVector<uint8_t>({20}, std::vector<uint8_t>(20, 9)));
       }},
  };
  for (const Case& c : cases) {
    auto m = IntegerMlp(kBatch, one, 5);
    c.edit(*m);
    testing::Feeds feeds = IntFeeds(kBatch, 24, 9);
    if (m->graph->IsGraphInput("l0_bias")) feeds.push_back({"l0_bias", RandomInts<int32_t>({20}, -99, 99, 1)});
    if (m->graph->IsGraphInput("l0_W")) feeds.push_back({"l0_W", RandomInts<int8_t>({24, 20}, -63, 63, 2)});
    auto before = RunEager(*m, feeds);
    ASSERT_TRUE(before.ok()) << c.what << ": " << before.status().ToString();
    QGemmFusion pass;
    ASSERT_TRUE(pass.Run(*m).ok()) << c.what;
    EXPECT_EQ(pass.fused(), 0) << c.what;
    EXPECT_EQ(CountOps(*m->graph, std::string(kQGemm)), 0) << c.what;
    EXPECT_EQ(CountOps(*m->graph, "MatMulInteger"), 1) << c.what;
    auto after = RunEager(*m, feeds);
    ASSERT_TRUE(after.ok()) << c.what << ": " << after.status().ToString();
    ExpectBitExact(*before, *after);
  }
  // Control: the unedited layer fuses.
  auto m = IntegerMlp(kBatch, one, 5);
  QGemmFusion pass;
  ASSERT_TRUE(pass.Run(*m).ok());
  EXPECT_EQ(pass.fused(), 1);
}

}  // namespace
}  // namespace greenai
