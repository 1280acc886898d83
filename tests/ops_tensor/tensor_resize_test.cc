// Resize/Upsample coordinate modes against values worked out by hand (see comments),
// plus the ONNX doc example for nearest upsampling.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensor_test_util.h"

namespace greenai::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::Pointwise;

std::vector<float> Resize1D(const std::string& mode, const std::string& coord, const std::vector<float>& x,
                            float scale, const std::string& nearest = "round_prefer_floor") {
  Node n = MakeNode("Resize", 3);
  n.SetString("mode", mode);
  n.SetString("coordinate_transformation_mode", coord);
  n.SetString("nearest_mode", nearest);
  n.inputs[1] = "";  // no roi
  auto r = RunOp(n, {F32({static_cast<int64_t>(x.size())}, x), Tensor(), F32({1}, {scale})});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? Vec<float>((*r)[0]) : std::vector<float>{};
}

TEST(Resize, LinearHalfPixel) {
  // x_ori = (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; edges clamp.
  EXPECT_THAT(Resize1D("linear", "half_pixel", {1, 2}, 2), Pointwise(FloatEq(), {1.0f, 1.25f, 1.75f, 2.0f}));
}

TEST(Resize, LinearAlignCorners) {
  // x_ori = o * (2 - 1) / (4 - 1) = 0, 1/3, 2/3, 1.
  EXPECT_THAT(Resize1D("linear", "align_corners", {1, 2}, 2),
              Pointwise(FloatEq(), {1.0f, 4.0f / 3, 5.0f / 3, 2.0f}));
}

TEST(Resize, LinearAsymmetric) {
  // x_ori = o / 2 = 0, 0.5, 1, 1.5 (last clamps to index 1).
  EXPECT_THAT(Resize1D("linear", "asymmetric", {1, 2}, 2), Pointwise(FloatEq(), {1.0f, 1.5f, 2.0f, 2.0f}));
}

TEST(Resize, LinearPytorchHalfPixelDownsample) {
  // 4 -> 2 (scale 0.5): x_ori = (o + 0.5) * 2 - 0.5 = 0.5, 2.5.
  EXPECT_THAT(Resize1D("linear", "pytorch_half_pixel", {1, 2, 3, 4}, 0.5f), Pointwise(FloatEq(), {1.5f, 3.5f}));
}

TEST(Resize, NearestModes) {
  // asymmetric x_ori = o / 2 = 0, .5, 1, 1.5, 2, 2.5.
  EXPECT_THAT(Resize1D("nearest", "asymmetric", {1, 2, 3}, 2, "floor"), ElementsAre(1, 1, 2, 2, 3, 3));
  EXPECT_THAT(Resize1D("nearest", "asymmetric", {1, 2, 3}, 2, "round_prefer_floor"), ElementsAre(1, 1, 2, 2, 3, 3));
  EXPECT_THAT(Resize1D("nearest", "asymmetric", {1, 2, 3}, 2, "round_prefer_ceil"), ElementsAre(1, 2, 2, 3, 3, 3));
  EXPECT_THAT(Resize1D("nearest", "asymmetric", {1, 2, 3}, 2, "ceil"), ElementsAre(1, 2, 2, 3, 3, 3));
  // half_pixel x_ori = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25 -> round: 0, 0, 1, 1, 2, 2.
  EXPECT_THAT(Resize1D("nearest", "half_pixel", {1, 2, 3}, 2), ElementsAre(1, 1, 2, 2, 3, 3));
  // tf_half_pixel_for_nn x_ori = (o + 0.5) / 2 = 0.25, 0.75, ... -> 0, 1, 1, 2, 2, 3 (clamped to 2).
  EXPECT_THAT(Resize1D("nearest", "tf_half_pixel_for_nn", {1, 2, 3}, 2), ElementsAre(1, 2, 2, 3, 3, 3));
}

TEST(Resize, SizesInputAndCropAndResizeExtrapolation) {
  Node n = MakeNode("Resize", 4);
  n.SetString("mode", "linear");
  n.SetString("coordinate_transformation_mode", "tf_crop_and_resize");
  n.SetFloat("extrapolation_value", 9);
  // roi [0.5, 1.5] of a length-3 axis: x_ori = 1 + o * (1.5-0.5) * 2 / (3-1) = 1, 2, 3 -> 3 is outside [0, 2].
  auto r = RunOp(n, {F32({3}, {1, 2, 3}), F32({2}, {0.5f, 1.5f}), Tensor(), I64({1}, {3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(2, 3, 9));
}

TEST(Upsample, NearestOnnxDocExample) {
  // ONNX doc: [[1,2],[3,4]] with scales [1,1,2,3].
  Node n = MakeNode("Upsample", 2);
  auto r = RunOp(n, {F32({1, 1, 2, 2}, {1, 2, 3, 4}), F32({4}, {1, 1, 2, 3})}, 9);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 4, 6}));
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4));
}

TEST(Resize, BadScalesNameTheNode) {
  Node n = MakeNode("Resize", 3, 1, "rz");
  n.inputs[1] = "";
  auto r = RunOp(n, {F32({2}, {1, 2}), Tensor(), F32({1}, {-1})});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("Resize 'rz'"));
}

}  // namespace
}  // namespace greenai::testing
