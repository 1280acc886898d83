// Calibration and parameter math, checked against hand-computed values.
#include <gtest/gtest.h>

#include "compress/quantize/quantize.h"
#include "quant_test_util.h"

namespace greenai::compress {
namespace {

TEST(QuantParams, AsymmetricUint8ByHand) {
  // [-1, 3]: scale 4/255, zero point round(1 / (4/255)) = round(63.75) = 64.
  QParams p = ActivationParams({-1.f, 3.f}, /*is_signed=*/false, /*symmetric=*/false);
  EXPECT_FLOAT_EQ(p.scale[0], 4.f / 255.f);
  EXPECT_EQ(p.zero_point[0], 64);
  // Range not containing 0 is widened: [2, 5] -> [0, 5], zero point 0.
  p = ActivationParams({2.f, 5.f}, false, false);
  EXPECT_FLOAT_EQ(p.scale[0], 5.f / 255.f);
  EXPECT_EQ(p.zero_point[0], 0);
  // int8 asymmetric [-1, 3]: zero point -128 + 64 = -64.
  p = ActivationParams({-1.f, 3.f}, true, false);
  EXPECT_EQ(p.zero_point[0], -64);
  // Symmetric int8: scale absmax / 127, zero point 0.
  p = ActivationParams({-1.f, 3.f}, true, true);
  EXPECT_FLOAT_EQ(p.scale[0], 3.f / 127.f);
  EXPECT_EQ(p.zero_point[0], 0);
}

TEST(Calibration, PercentileByHand) {
  // 100 bins of |x| with one sample each over [0, 10]: the 50th percentile ends bin 49,
  // threshold 50 * 0.1 = 5.
  std::vector<double> hist(100, 1.0);
  Range r = RangeFromHistogram(hist, -10.f, 10.f, CalibMethod::kPercentile, 50.0, 127);
  EXPECT_NEAR(r.hi, 5.f, 1e-5);
  EXPECT_NEAR(r.lo, -5.f, 1e-5);
  // A non-negative tensor keeps lo = 0.
  r = RangeFromHistogram(hist, 0.f, 10.f, CalibMethod::kPercentile, 50.0, 255);
  EXPECT_EQ(r.lo, 0.f);
  EXPECT_NEAR(r.hi, 5.f, 1e-5);
  // minmax ignores the histogram.
  r = RangeFromHistogram(hist, -2.f, 10.f, CalibMethod::kMinMax, 50.0, 127);
  EXPECT_EQ(r.lo, -2.f);
  EXPECT_EQ(r.hi, 10.f);
}

// A distribution with a huge sparse tail: entropy and MSE clip well below the max; a uniform
// one: both keep (nearly) the whole range.
TEST(Calibration, EntropyAndMseClipOutliers) {
  std::vector<double> tail(2048, 0.0);
  // ~12 million samples in [0, 9.8], one outlier at 100: clipping it costs 90^2 once, while a
  // 10x larger step costs every sample (step^2 / 12 each).
  for (int i = 0; i < 200; ++i) tail[static_cast<size_t>(i)] = 100000.0 - 400 * i;
  tail[2047] = 1;
  for (CalibMethod m : {CalibMethod::kEntropy, CalibMethod::kMse}) {
    Range r = RangeFromHistogram(tail, -100.f, 100.f, m, 0, 127);
    EXPECT_LT(r.hi, 30.f) << static_cast<int>(m);
    EXPECT_GT(r.hi, 5.f) << static_cast<int>(m);
  }
  std::vector<double> uniform(2048, 10.0);
  for (CalibMethod m : {CalibMethod::kEntropy, CalibMethod::kMse}) {
    Range r = RangeFromHistogram(uniform, -100.f, 100.f, m, 0, 127);
    EXPECT_GT(r.hi, 90.f) << static_cast<int>(m);
  }
}

TEST(Calibration, ObservesIntermediateRanges) {
  // y = Gemm(x, W, b); with x in [0, 1] the observed range of x is within [0, 1] and
  // y's range equals the min/max of the float outputs computed directly.
  auto m = quanttest::SingleGemm(4, 8, 3, 11);
  auto batches = quanttest::Batches("x", {4, 8}, 3, 100, 0.f, 1.f);
  auto ranges = CalibrateRanges(*m, {"x", "y"}, batches, CalibMethod::kMinMax);
  ASSERT_TRUE(ranges.ok()) << ranges.status().ToString();
  float lo = 1e9f, hi = -1e9f, ylo = 1e9f, yhi = -1e9f;
  for (const auto& b : batches) {
    for (float v : b[0].second.span<float>()) lo = std::min(lo, v), hi = std::max(hi, v);
    Tensor y = quanttest::RunOne(*m, b);
    for (float v : y.span<float>()) ylo = std::min(ylo, v), yhi = std::max(yhi, v);
  }
  EXPECT_EQ(ranges->at("x").lo, std::min(lo, 0.f));
  EXPECT_EQ(ranges->at("x").hi, hi);
  EXPECT_EQ(ranges->at("y").lo, std::min(ylo, 0.f));
  EXPECT_EQ(ranges->at("y").hi, std::max(yhi, 0.f));
}

TEST(Calibration, WrongShapeIsAnErrorNamingTheInput) {
  auto m = quanttest::SingleGemm(4, 8, 3, 11);
  auto batches = quanttest::Batches("x", {4, 7}, 1, 100);
  auto ranges = CalibrateRanges(*m, {"x", "y"}, batches, CalibMethod::kMinMax);
  ASSERT_FALSE(ranges.ok());
  EXPECT_NE(ranges.status().message().find("x"), std::string::npos) << ranges.status().message();
  QuantizeOptions o;
  QuantizeReport rep;
  auto q = Quantize(*m, o, batches, &rep);
  EXPECT_FALSE(q.ok());
  EXPECT_FALSE(Quantize(*m, o, {}, &rep).ok());  // static without calibration data
}

}  // namespace
}  // namespace greenai::compress
