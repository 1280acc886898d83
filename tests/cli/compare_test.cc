// The conformance comparison (numpy.testing.assert_allclose semantics, rtol=1e-3, atol=1e-7)
// on hand-made tensors whose expected verdicts follow from the formula
// |actual - expected| <= atol + rtol * |expected|.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "bench/conformance.h"

namespace greenai {
namespace {

using conformance::CompareTensors;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Status Cmp(const std::vector<float>& expected, const std::vector<float>& actual) {
  const Shape s = {static_cast<int64_t>(expected.size())};
  return CompareTensors(Tensor::FromVector<float>(s, expected), Tensor::FromVector<float>(s, actual), "out");
}

TEST(CompareTensors, IdenticalFloatsMatch) {
  EXPECT_TRUE(Cmp({1.5f, -2.0f, 0.0f}, {1.5f, -2.0f, 0.0f}).ok());
}

TEST(CompareTensors, AbsoluteToleranceEdgeAtZero) {
  // expected 0: only atol (1e-7) applies.
  EXPECT_TRUE(Cmp({0.0f}, {9e-8f}).ok());
  EXPECT_FALSE(Cmp({0.0f}, {2e-7f}).ok());
  EXPECT_FALSE(Cmp({0.0f}, {-2e-7f}).ok());
}

TEST(CompareTensors, RelativeToleranceEdge) {
  // expected 1000: bound is 1e-7 + 1e-3 * 1000 = 1.0000001.
  EXPECT_TRUE(Cmp({1000.0f}, {1001.0f}).ok());
  EXPECT_TRUE(Cmp({1000.0f}, {999.0f}).ok());
  EXPECT_FALSE(Cmp({1000.0f}, {1001.01f}).ok());
  // The tolerance is relative to the expected value, not the actual one (asymmetric, like numpy):
  // expected 1, actual 1.0015 fails although 0.0015 < 1e-3 * 1.5.
  EXPECT_FALSE(Cmp({1.0f}, {1.0015f}).ok());
}

TEST(CompareTensors, NaNMatchesNaNOnlyAtSamePosition) {
  EXPECT_TRUE(Cmp({kNaN, 1.0f}, {kNaN, 1.0f}).ok());
  EXPECT_FALSE(Cmp({kNaN, 1.0f}, {1.0f, kNaN}).ok());
  EXPECT_FALSE(Cmp({1.0f}, {kNaN}).ok());
  EXPECT_FALSE(Cmp({kNaN}, {0.0f}).ok());
}

TEST(CompareTensors, InfinityMustMatchExactly) {
  EXPECT_TRUE(Cmp({kInf, -kInf}, {kInf, -kInf}).ok());
  EXPECT_FALSE(Cmp({kInf}, {-kInf}).ok());
  EXPECT_FALSE(Cmp({kInf}, {std::numeric_limits<float>::max()}).ok());
  EXPECT_FALSE(Cmp({std::numeric_limits<float>::max()}, {kInf}).ok());
}

TEST(CompareTensors, DTypeMismatchFailsEvenWithEqualValues) {
  Tensor e = Tensor::FromVector<float>({2}, {1.0f, 2.0f});
  Tensor a = Tensor::FromVector<double>({2}, {1.0, 2.0});
  Status st = CompareTensors(e, a, "output 0 'y'");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("output 0 'y'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("dtype float64"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("float32"), std::string::npos) << st.message();
}

TEST(CompareTensors, ShapeMismatchFailsEvenWithSameElementCount) {
  Tensor e = Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor a = Tensor::FromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  Status st = CompareTensors(e, a, "y");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("shape [3, 2]"), std::string::npos) << st.message();
  // Scalar vs 1-element vector differ too.
  EXPECT_FALSE(CompareTensors(Tensor::Scalar<float>(1.0f), Tensor::FromVector<float>({1}, {1.0f}), "y").ok());
}

TEST(CompareTensors, IntegersAreExactBeyondDoublePrecision) {
  const int64_t big = int64_t{1} << 53;
  // big and big+1 are the same double; an exact comparison must still see them differ.
  Tensor e = Tensor::FromVector<int64_t>({2}, {big, 7});
  Tensor a = Tensor::FromVector<int64_t>({2}, {big + 1, 7});
  Status st = CompareTensors(e, a, "idx");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("9007199254740993"), std::string::npos) << st.message();
  EXPECT_TRUE(CompareTensors(e, e.Clone(), "idx").ok());
  // Integers get no tolerance at all.
  EXPECT_FALSE(CompareTensors(Tensor::FromVector<int32_t>({1}, {1000}), Tensor::FromVector<int32_t>({1}, {1001}),
                              "i").ok());
}

TEST(CompareTensors, BoolsAndStringsAreExact) {
  EXPECT_TRUE(CompareTensors(Tensor::FromVector<bool>({2}, {true, false}), Tensor::FromVector<bool>({2}, {true, false}),
                             "b").ok());
  EXPECT_FALSE(CompareTensors(Tensor::FromVector<bool>({2}, {true, false}),
                              Tensor::FromVector<bool>({2}, {true, true}), "b").ok());
  EXPECT_TRUE(CompareTensors(Tensor::FromVector<std::string>({1}, {"abc"}),
                             Tensor::FromVector<std::string>({1}, {"abc"}), "s").ok());
  EXPECT_FALSE(CompareTensors(Tensor::FromVector<std::string>({1}, {"abc"}),
                              Tensor::FromVector<std::string>({1}, {"abd"}), "s").ok());
}

TEST(CompareTensors, HalfPrecisionUsesItsValue) {
  // Next float16 after 1.0 is 1 + 2^-10 = 1.0009765625: inside 1e-3 relative; two steps are not.
  Tensor e = Tensor::FromVector<Float16>({1}, {Float16(1.0f)});
  EXPECT_TRUE(CompareTensors(e, Tensor::FromVector<Float16>({1}, {Float16(1.0009765625f)}), "h").ok());
  EXPECT_FALSE(CompareTensors(e, Tensor::FromVector<Float16>({1}, {Float16(1.001953125f)}), "h").ok());
}

TEST(CompareTensors, MessageCountsMismatchesAndNamesFirstIndex) {
  Tensor e = Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4});
  Tensor a = Tensor::FromVector<float>({2, 2}, {1, 2, 3.5f, 5});
  Status st = CompareTensors(e, a, "z");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("2 of 4 elements"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("first at [1, 0]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("got 3.5, expected 3"), std::string::npos) << st.message();
}

TEST(CompareTensors, EmptyTensorsMatch) {
  auto e = Tensor::Create(DType::kF32, {0, 3});
  auto a = Tensor::Create(DType::kF32, {0, 3});
  ASSERT_TRUE(e.ok() && a.ok());
  EXPECT_TRUE(CompareTensors(*e, *a, "e").ok());
}

}  // namespace
}  // namespace greenai
