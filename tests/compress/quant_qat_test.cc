// QAT: fake-quant chains compute what QDQ computes, export back to QDQ, and pass
// straight-through gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "compress/quantize/qat.h"
#include "quant_test_util.h"
#include "train/autodiff.h"

namespace greenai::compress {
namespace {

using quanttest::Batches;
using quanttest::CountOps;
using quanttest::RunOne;

TEST(Qat, FakeQuantMatchesStaticQdqAndExportsToQdq) {
  auto m = quanttest::SmallCnn(2, 5);
  auto calib = Batches("x", {2, 2, 8, 8}, 3, 40);
  QuantizeOptions o;
  QuantizeReport r1, r2;
  auto fq = InsertFakeQuant(*m, o, calib, &r1);
  ASSERT_TRUE(fq.ok()) << fq.status().ToString();
  EXPECT_EQ(CountOps(*(*fq)->graph, "QuantizeLinear"), 0);
  EXPECT_EQ(CountOps(*(*fq)->graph, "Round"), CountOps(*(*fq)->graph, "Clip"));
  EXPECT_GE(CountOps(*(*fq)->graph, "Round"), 6);  // 3 weights + x + 2 relu outputs + pooled + flattened
  // The float weights keep their names, so a trainer updates them in place.
  EXPECT_NE((*fq)->graph->FindInitializer("w1"), nullptr);
  auto st = Quantize(*m, o, calib, &r2);
  ASSERT_TRUE(st.ok());
  auto qdq = FakeQuantToQdq(**fq);
  ASSERT_TRUE(qdq.ok()) << qdq.status().ToString();
  EXPECT_EQ(CountOps(*(*qdq)->graph, "Round"), 0);
  EXPECT_EQ(CountOps(*(*qdq)->graph, "QuantizeLinear"), CountOps(*(*st)->graph, "QuantizeLinear"));
  EXPECT_EQ(CountOps(*(*qdq)->graph, "DequantizeLinear"), CountOps(*(*st)->graph, "DequantizeLinear"));
  for (const auto& feeds : Batches("x", {2, 2, 8, 8}, 2, 70)) {
    Tensor a = RunOne(**fq, feeds, false), b = RunOne(**st, feeds, false), c = RunOne(**qdq, feeds, false);
    ASSERT_TRUE(a.defined() && b.defined() && c.defined());
    float range = 0;
    for (int64_t i = 0; i < a.numel(); ++i) range = std::max(range, std::fabs(b.data<float>()[i]));
    // Same scales and rounding: only the bias differs (float in the fake-quant graph, int32
    // rounded to s_x * s_w in QDQ), far below one output step.
    for (int64_t i = 0; i < a.numel(); ++i) {
      EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 0.01f * range);
      EXPECT_EQ(b.data<float>()[i], c.data<float>()[i]);
    }
  }
}

// Training may push weights past the calibrated range: the fake-quant clip and the export
// keep them inside the 7-bit default range [-64, 63] (so no kernel can saturate).
TEST(Qat, ExportKeepsSevenBitWeightsAfterWeightsGrow) {
  auto m = quanttest::SmallCnn(2, 5);
  auto calib = Batches("x", {2, 2, 8, 8}, 2, 40);
  auto fq = InsertFakeQuant(*m, QuantizeOptions{}, calib, nullptr);
  ASSERT_TRUE(fq.ok()) << fq.status().ToString();
  ASSERT_TRUE((*fq)->graph->IsInitializer("w1"));
  Tensor w1 = (*fq)->graph->initializers.at("w1").Clone();
  for (int64_t i = 0; i < w1.numel(); ++i) w1.data<float>()[i] *= 3.f;
  (*fq)->graph->RemoveInitializer("w1");
  (*fq)->graph->AddInitializer("w1", w1);
  auto qdq = FakeQuantToQdq(**fq);
  ASSERT_TRUE(qdq.ok()) << qdq.status().ToString();
  int weights = 0, at_max = 0;
  for (const auto& [name, t] : (*qdq)->graph->initializers) {
    if (t.dtype() != DType::kI8 || name.find("_quantized") == std::string::npos) continue;
    ++weights;
    for (int64_t i = 0; i < t.numel(); ++i) {
      ASSERT_GE(t.data<int8_t>()[i], -64) << name;
      ASSERT_LE(t.data<int8_t>()[i], 63) << name;
      at_max += name.rfind("w1", 0) == 0 && std::abs(t.data<int8_t>()[i]) >= 63;
    }
  }
  EXPECT_EQ(weights, 3);
  EXPECT_GT(at_max, 0);  // w1 was clipped at the range's ends
}

// y = x @ fake_quant(W); d sum(y) / dW with the straight-through estimator is x^T 1,
// exactly the float gradient (no weight is clipped: the scale comes from max |W|).
TEST(Qat, StraightThroughGradient) {
  auto m = quanttest::NewModel();
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {3, 4}), ""});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {3, 2}), ""});
  g.AddInitializer("W", quanttest::RandomTensor({4, 2}, 8));
  g.AddNode("MatMul", {"x", "W"}, {"y"}, "mm");
  auto calib = Batches("x", {3, 4}, 2, 90);
  QuantizeReport rep;
  auto fq = InsertFakeQuant(*m, QuantizeOptions{}, calib, &rep);
  ASSERT_TRUE(fq.ok()) << fq.status().ToString();
  auto gg = train::BuildGradientGraph(**fq, "y", {"W"});
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  auto s = Session::Create(*gg->model);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = quanttest::RandomTensor({3, 4}, 91);
  Tensor ones = Tensor::Create(DType::kF32, {3, 2}).value();
  for (auto& v : ones.span<float>()) v = 1.f;
  auto out = (*s)->Run({{"x", x}, {"W", *g.FindInitializer("W")}, {gg->seed, ones}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const Tensor& dw = out->back();
  ASSERT_EQ(dw.numel(), 8);
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t n = 0; n < 2; ++n) {
      // The fake-quantized input is what the MatMul sees: sum over rows of fq(x)[r, k].
      double want = 0;
      for (int64_t r = 0; r < 3; ++r) want += x.data<float>()[r * 4 + k];
      EXPECT_NEAR(dw.data<float>()[k * 2 + n], want, 0.02 * (1 + std::fabs(want)));
    }
}

}  // namespace
}  // namespace greenai::compress
