// LRN, MeanVarianceNormalization and the loss ops on hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/run_node.h"

namespace greenai {
namespace {

Node Make(const std::string& op, int nin, int nout = 1) {
  Node n;
  n.name = "m";
  n.op_type = op;
  for (int i = 0; i < nin; ++i) n.inputs.push_back("x" + std::to_string(i));
  for (int i = 0; i < nout; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

std::vector<float> Floats(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

TEST(Lrn, OddAndEvenWindowSizes) {
  Node n = Make("LRN", 1);
  n.SetInt("size", 3);
  n.SetFloat("alpha", 0.3f);  // alpha / size = 0.1
  n.SetFloat("beta", 1.f);
  auto x = Tensor::FromVector<float>({1, 3, 1, 1}, {1, 2, 3});
  auto r = RunNode(n, {x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto y = Floats((*r)[0]);
  EXPECT_NEAR(y[0], 1 / (1 + 0.1 * 5), 1e-6);   // channels 0..1
  EXPECT_NEAR(y[1], 2 / (1 + 0.1 * 14), 1e-6);  // channels 0..2
  EXPECT_NEAR(y[2], 3 / (1 + 0.1 * 13), 1e-6);  // channels 1..2
  n.SetInt("size", 2);                          // window [c, c + 1]
  n.SetFloat("alpha", 0.2f);
  r = RunNode(n, {x});
  ASSERT_TRUE(r.ok());
  y = Floats((*r)[0]);
  EXPECT_NEAR(y[0], 1 / (1 + 0.1 * 5), 1e-6);
  EXPECT_NEAR(y[1], 2 / (1 + 0.1 * 13), 1e-6);
  EXPECT_NEAR(y[2], 3 / (1 + 0.1 * 9), 1e-6);
}

TEST(MeanVarianceNormalization, PerChannelDefaultAxes) {
  Node n = Make("MeanVarianceNormalization", 1);
  auto x = Tensor::FromVector<float>({2, 2, 1, 1}, {1, 5, 3, 5});  // channel 0: 1, 3; channel 1: 5, 5
  auto r = RunNode(n, {x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto y = Floats((*r)[0]);
  EXPECT_NEAR(y[0], -1, 1e-6);
  EXPECT_NEAR(y[2], 1, 1e-6);
  EXPECT_NEAR(y[1], 0, 1e-6);
  EXPECT_NEAR(y[3], 0, 1e-6);
}

TEST(NegativeLogLikelihoodLoss, WeightsIgnoreIndexAndReductions) {
  auto x = Tensor::FromVector<float>({3, 3}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  auto t = Tensor::FromVector<int64_t>({3}, {2, 0, 1});
  auto w = Tensor::FromVector<float>({3}, {0.5f, 1.f, 2.f});
  Node n = Make("NegativeLogLikelihoodLoss", 3);
  n.SetString("reduction", "none");
  auto r = RunNode(n, {x, t, w});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Floats((*r)[0]), (std::vector<float>{6, 2, 8}));  // 3*2, 4*0.5, 8*1
  n.SetString("reduction", "mean");
  n.SetInt("ignore_index", 0);  // drops sample 1 (target 0)
  r = RunNode(n, {x, t, w});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<float>()[0], (6.0 + 8.0) / (2.0 + 1.0), 1e-6);
  n.SetString("reduction", "sum");
  r = RunNode(n, {x, t, w});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<float>()[0], 14.0, 1e-6);
  // Out-of-range target names the node.
  auto bad = Tensor::FromVector<int64_t>({3}, {2, 3, 1});
  auto rb = RunNode(n, {x, bad, w});
  ASSERT_FALSE(rb.ok());
  EXPECT_NE(rb.status().message().find("NegativeLogLikelihoodLoss 'm'"), std::string::npos);
}

TEST(SoftmaxCrossEntropyLoss, LogProbOutputAndMean) {
  Node n = Make("SoftmaxCrossEntropyLoss", 2, 2);
  auto x = Tensor::FromVector<float>({2, 2}, {0.f, std::log(3.f), 0.f, 0.f});  // softmax [0.25, 0.75], [0.5, 0.5]
  auto t = Tensor::FromVector<int32_t>({2}, {1, 0});
  auto r = RunNode(n, {x, t});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR((*r)[0].data<float>()[0], (-std::log(0.75) - std::log(0.5)) / 2, 1e-6);
  auto lp = Floats((*r)[1]);
  EXPECT_NEAR(lp[0], std::log(0.25), 1e-6);
  EXPECT_NEAR(lp[1], std::log(0.75), 1e-6);
  EXPECT_NEAR(lp[3], std::log(0.5), 1e-6);
}

TEST(Det, BatchOfMatricesIncludingSingular) {
  Node n = Make("Det", 1);
  // [[1, 2], [3, 4]] -> -2; [[0, 1], [1, 0]] -> -1 (needs a pivot swap); [[2, 4], [1, 2]] -> 0
  auto x = Tensor::FromVector<float>({3, 2, 2}, {1, 2, 3, 4, 0, 1, 1, 0, 2, 4, 1, 2});
  auto r = RunNode(n, {x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)[0].shape(), (Shape{3}));
  auto y = Floats((*r)[0]);
  EXPECT_NEAR(y[0], -2, 1e-5);
  EXPECT_NEAR(y[1], -1, 1e-5);
  EXPECT_NEAR(y[2], 0, 1e-5);
  auto x3 = Tensor::FromVector<float>({3, 3}, {2, -3, 1, 2, 0, -1, 1, 4, 5});  // 2(0+4) +3(10+1) +1(8) = 49
  r = RunNode(n, {x3});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<float>()[0], 49, 1e-4);
}

TEST(NonMaxSuppression, OnnxSuppressByIouExample) {
  Node n = Make("NonMaxSuppression", 5);
  auto boxes = Tensor::FromVector<float>({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                                                     0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
  auto scores = Tensor::FromVector<float>({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f});
  auto r = RunNode(n, {boxes, scores, Tensor::FromVector<int64_t>({1}, {3}), Tensor::FromVector<float>({1}, {0.5f}),
                       Tensor::FromVector<float>({1}, {0.f})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& y = (*r)[0];
  ASSERT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + 9),
            (std::vector<int64_t>{0, 0, 3, 0, 0, 0, 0, 0, 5}));
}

TEST(Windows, PeriodicAndSymmetricValues) {
  auto run = [](const std::string& op, int64_t size, int periodic) {
    Node n = Make(op, 1);
    n.SetInt("periodic", periodic);
    auto r = RunNode(n, {Tensor::Scalar<int64_t>(size)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Floats((*r)[0]) : std::vector<float>{};
  };
  auto near = [](const std::vector<float>& got, const std::vector<double>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << i;
  };
  near(run("HannWindow", 4, 1), {0, 0.5, 1, 0.5});
  near(run("HannWindow", 5, 0), {0, 0.5, 1, 0.5, 0});
  near(run("HammingWindow", 2, 0), {4.0 / 46, 4.0 / 46});
  near(run("BlackmanWindow", 4, 1), {0, 0.34, 1, 0.34});
}

TEST(RoiAlign, BilinearSamplesInBothCoordinateModes) {
  Node n = Make("RoiAlign", 3);
  n.SetInt("sampling_ratio", 1);
  n.SetString("coordinate_transformation_mode", "output_half_pixel");
  auto x = Tensor::FromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  auto idx = Tensor::FromVector<int64_t>({1}, {0});
  auto r = RunNode(n, {x, Tensor::FromVector<float>({1, 4}, {0, 0, 1, 1}), idx});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR((*r)[0].data<float>()[0], 2.5, 1e-6);  // centre of the four pixels
  n.SetString("coordinate_transformation_mode", "half_pixel");
  r = RunNode(n, {x, Tensor::FromVector<float>({1, 4}, {0, 0, 1, 1}), idx});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<float>()[0], 1.0, 1e-6);  // shifted by half a pixel onto pixel (0, 0)
  n.SetString("coordinate_transformation_mode", "output_half_pixel");
  n.SetInt("output_height", 2);
  n.SetInt("output_width", 2);
  r = RunNode(n, {x, Tensor::FromVector<float>({1, 4}, {0, 0, 2, 2}), idx});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Floats((*r)[0]), (std::vector<float>{2.5f, 3.f, 3.5f, 4.f}));  // edge samples clamp to the border
  auto bad = RunNode(n, {x, Tensor::FromVector<float>({1, 4}, {0, 0, 2, 2}), Tensor::FromVector<int64_t>({1}, {3})});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("RoiAlign 'm'"), std::string::npos);
}

TEST(GridSample, IdentityGridMidpointsAndPadding) {
  auto x = Tensor::FromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  Node n = Make("GridSample", 2);
  n.SetInt("align_corners", 1);
  // (x, y) pairs: the four corners (identity), the centre, and a point far right of the image.
  auto grid = Tensor::FromVector<float>({1, 1, 6, 2}, {-1, -1, 1, -1, -1, 1, 1, 1, 0, 0, 3, -1});
  auto r = RunNode(n, {x, grid});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto y = Floats((*r)[0]);
  EXPECT_EQ(std::vector<float>(y.begin(), y.begin() + 5), (std::vector<float>{1, 2, 3, 4, 2.5f}));
  EXPECT_EQ(y[5], 0.f);  // zeros padding: x = 2 lies a full pixel outside
  n.SetString("padding_mode", "border");
  r = RunNode(n, {x, grid});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].data<float>()[5], 2.f);  // clamped to the right edge of row 0
}

TEST(Dft, ForwardOnesidedAndInverse) {
  Node n = Make("DFT", 1);
  auto x = Tensor::FromVector<float>({1, 4, 1}, {1, 0, -1, 0});  // X[k] = 1 - (-1)^k
  auto r = RunNode(n, {x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)[0].shape(), (Shape{1, 4, 2}));
  auto y = Floats((*r)[0]);
  const std::vector<float> want = {0, 0, 2, 0, 0, 0, 2, 0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << i;
  n.SetInt("onesided", 1);
  r = RunNode(n, {x});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 3, 2}));
  Node inv = Make("DFT", 1);
  inv.SetInt("inverse", 1);
  auto back = RunNode(inv, {Tensor::FromVector<float>({1, 4, 2}, want)});
  ASSERT_TRUE(back.ok());
  const std::vector<float> orig = {1, 0, 0, 0, -1, 0, 0, 0};
  y = Floats((*back)[0]);
  for (size_t i = 0; i < orig.size(); ++i) EXPECT_NEAR(y[i], orig[i], 1e-6) << i;
}

}  // namespace
}  // namespace greenai
