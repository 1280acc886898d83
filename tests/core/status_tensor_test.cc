#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace greenai {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("value {} is odd", x);
  return x / 2;
}
Status UseHalf(int x, int* out) {
  GREENAI_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(Status, PropagatesThroughMacros) {
  int v = 0;
  EXPECT_TRUE(UseHalf(4, &v).ok());
  EXPECT_EQ(v, 2);
  Status s = UseHalf(3, &v);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "value 3 is odd");
}

TEST(Tensor, RejectsHugeAndNegativeShapes) {
  EXPECT_FALSE(Tensor::Create(DType::kF32, {int64_t{1} << 20, int64_t{1} << 20}).ok());
  EXPECT_FALSE(Tensor::Create(DType::kF32, {-1, 3}).ok());
  auto r = Tensor::Create(DType::kF32, {2, 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->numel(), 6);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(r->raw()) % 64, 0u);
}

TEST(Tensor, StringTensorsHoldStrings) {
  auto r = Tensor::Create(DType::kString, {3});
  ASSERT_TRUE(r.ok());
  r->data<std::string>()[1] = "hello";
  Tensor c = r->Clone();
  EXPECT_EQ(c.data<std::string>()[1], "hello");
}

// Half conversion against the IEEE 754 definitions of known bit patterns.
TEST(DType, HalfConversionMatchesIeee) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(FloatToHalf(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_FLOAT_EQ(HalfToFloat(0x0001), 5.960464477539063e-08f);
  EXPECT_FLOAT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  // Round-to-nearest-even at the halfway point between 1 and 1+2^-10.
  EXPECT_EQ(FloatToHalf(1.0f + 0.00048828125f), 0x3c00);
  EXPECT_EQ(FloatToHalf(1.0f + 3 * 0.00048828125f), 0x3c02);
  for (uint32_t h = 0; h < 0x7c00; ++h) EXPECT_EQ(FloatToHalf(HalfToFloat(static_cast<uint16_t>(h))), h);
}

TEST(DType, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBFloat16(1.00390625f), 0x3f80);   // halfway, even stays
  EXPECT_EQ(FloatToBFloat16(1.01171875f), 0x3f82);   // halfway, odd rounds up
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  std::vector<int> hits(10007, 0);
  pool.ParallelFor(static_cast<int64_t>(hits.size()), 7, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
  });
  for (int h : hits) ASSERT_EQ(h, 1);
}

}  // namespace
}  // namespace greenai
