// Hand-computed cases for the nn reference kernels, shape inference and cost functions.
// Expected values are worked out by hand in the comments (or are the published ONNX
// operator examples), never copied from the code's output.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "nn_test_util.h"

namespace greenai {
namespace {

using namespace nntest;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

// X = 0..24 as 5x5, W = all ones 3x3: each output is the sum of a window.
Tensor X5() { return Tensor::FromVector<float>({1, 1, 5, 5}, Iota(25)); }
Tensor Ones3() { return Tensor::FromVector<float>({1, 1, 3, 3}, std::vector<float>(9, 1.f)); }

TEST(ConvRef, StridePadHandComputed) {
  Node n = MakeNode("Conv", 2);
  n.SetInts("kernel_shape", {3, 3});
  n.SetInts("pads", {1, 1, 1, 1});
  n.SetInts("strides", {2, 2});
  auto r = RunRef(n, {X5(), Ones3()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 3, 3}));
  // Top-left window covers rows/cols -1..1: 0+1+5+6 = 12; centre covers rows 1..3, cols 1..3:
  // (6+7+8)+(11+12+13)+(16+17+18) = 108; bottom-right rows/cols 3..5: 18+19+23+24 = 84.
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(12, 27, 24, 63, 108, 81, 72, 117, 84));
}

TEST(ConvRef, NoPadBiasAndAutoPadSameUpper) {
  Node n = MakeNode("Conv", 3);
  auto r = RunRef(n, {X5(), Ones3(), Tensor::FromVector<float>({1}, {1.f})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Window at (0,0): 0+1+2+5+6+7+10+11+12 = 54, plus bias 1. Moving right adds 3, down adds 15.
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(55, 64, 73, 100, 109, 118, 145, 154, 163));

  Node s = MakeNode("Conv", 2);
  s.SetString("auto_pad", "SAME_UPPER");
  s.SetInts("strides", {2, 2});
  auto rs = RunRef(s, {X5(), Ones3()});
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  // out = ceil(5/2) = 3, total pad = (3-1)*2+3-5 = 2 -> 1 each side: same as pads=1 stride 2.
  EXPECT_THAT(Floats((*rs)[0]), ElementsAre(12, 27, 24, 63, 108, 81, 72, 117, 84));
}

TEST(ConvRef, DepthwiseGroupsAndDilation1D) {
  // Two channels, group 2: channel 0 kernel [1, 0, -1] dilated by 2 over x0 = 0..6,
  // channel 1 kernel [2, 0, 0] over x1 = 10..16.
  Node n = MakeNode("Conv", 2);
  n.SetInt("group", 2);
  n.SetInts("dilations", {2});
  std::vector<float> x = Iota(7);
  for (int i = 0; i < 7; ++i) x.push_back(10.f + static_cast<float>(i));
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 2, 7}, x),
                      Tensor::FromVector<float>({2, 1, 3}, {1, 0, -1, 2, 0, 0})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Effective kernel 5 -> 3 outputs. ch0: x[i] - x[i+4] = -4; ch1: 2*x1[i] = 20, 22, 24.
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 2, 3}));
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(-4, -4, -4, 20, 22, 24));
}

TEST(ConvRef, KernelShapeRankMismatchIsClearError) {
  Node n = MakeNode("Conv", 2);
  n.name = "c1";
  n.SetInts("kernel_shape", {3, 3, 3});
  auto r = RunRef(n, {X5(), Ones3()});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Conv 'c1': kernel_shape has 3 dims but input X is 4-D (expects 2)"));
  Node g = MakeNode("Conv", 2);
  g.SetInt("group", 2);
  auto rg = RunRef(g, {X5(), Ones3()});
  ASSERT_FALSE(rg.ok());
  EXPECT_THAT(rg.status().message(), HasSubstr("channels"));
}

TEST(ConvTransposeRef, OutputPaddingHandComputed) {
  // x = [1, 2], w = [1, 1, 1], stride 2: x0 -> outputs 0..2, x1 -> outputs 2..4;
  // output_padding 1 appends one zero column: [1, 1, 3, 2, 2, 0].
  Node n = MakeNode("ConvTranspose", 2);
  n.SetInts("strides", {2});
  n.SetInts("output_padding", {1});
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 1, 2}, {1, 2}), Tensor::FromVector<float>({1, 1, 3}, {1, 1, 1})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(1, 1, 3, 2, 2, 0));
}

TEST(ConvTransposeRef, PadsBiasAndOutputShape) {
  Node n = MakeNode("ConvTranspose", 3);
  n.SetInts("strides", {2});
  n.SetInts("pads", {1, 1});
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 1, 2}, {1, 2}), Tensor::FromVector<float>({1, 1, 3}, {1, 1, 1}),
                      Tensor::FromVector<float>({1}, {10})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Full result [1, 1, 3, 2, 2] cropped by one on each side, plus bias 10.
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(11, 13, 12));

  // output_shape 6 with natural size 5: total pad -1 -> begin 0, end -1 (one extra zero).
  Node o = MakeNode("ConvTranspose", 2);
  o.SetInts("strides", {2});
  o.SetInts("output_shape", {6});
  auto ro = RunRef(o, {Tensor::FromVector<float>({1, 1, 2}, {1, 2}), Tensor::FromVector<float>({1, 1, 3}, {1, 1, 1})});
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  EXPECT_THAT(Floats((*ro)[0]), ElementsAre(1, 1, 3, 2, 2, 0));
}

TEST(ConvTransposeRef, GroupsScatterToTheirOwnChannels) {
  // 2 input channels, group 2, one output channel per group, kernel [1]: a channel copy scaled.
  Node n = MakeNode("ConvTranspose", 2);
  n.SetInt("group", 2);
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 2, 2}, {1, 2, 3, 4}), Tensor::FromVector<float>({2, 1, 1}, {2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(2, 4, 9, 12));
}

TEST(MaxPoolRef, CeilModeAndIndices) {
  // ONNX example: 4x4 input 1..16, kernel 3, stride 2, ceil_mode -> 2x2 of window maxima.
  Node n = MakeNode("MaxPool", 1, 2);
  n.SetInts("kernel_shape", {3, 3});
  n.SetInts("strides", {2, 2});
  n.SetInt("ceil_mode", 1);
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 1, 4, 4}, Iota(16, 1))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(11, 12, 15, 16));
  // Row-major flat indices of 11, 12, 15, 16 are 10, 11, 14, 15.
  EXPECT_THAT(Floats((*r)[1]), ElementsAre(10, 11, 14, 15));
  n.SetInt("ceil_mode", 0);
  n.SetInt("storage_order", 1);
  auto f = RunRef(n, {Tensor::FromVector<float>({1, 1, 4, 4}, Iota(16, 1))});
  ASSERT_TRUE(f.ok());
  EXPECT_THAT(Floats((*f)[0]), ElementsAre(11));
  // Column-major index of (h=2, w=2) in a 4x4 slice: h + 4*w = 10.
  EXPECT_THAT(Floats((*f)[1]), ElementsAre(10));
}

TEST(AveragePoolRef, CountIncludePad) {
  // 3x3 input 1..9, kernel 2, stride 1, pads 1 -> 4x4 output.
  Node n = MakeNode("AveragePool", 1);
  n.SetInts("kernel_shape", {2, 2});
  n.SetInts("pads", {1, 1, 1, 1});
  n.SetInt("count_include_pad", 1);
  Tensor x = Tensor::FromVector<float>({1, 1, 3, 3}, Iota(9, 1));
  auto r = RunRef(n, {x});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Corner (0,0) sees only x=1 -> 1/4; (1,1) sees 1+2+4+5 = 12 -> 3; (0,1) sees 1+2 -> 3/4.
  auto v = Floats((*r)[0]);
  EXPECT_FLOAT_EQ(v[0], 0.25f);
  EXPECT_FLOAT_EQ(v[1], 0.75f);
  EXPECT_FLOAT_EQ(v[5], 3.f);
  EXPECT_FLOAT_EQ(v[15], 9.f / 4);
  n.SetInt("count_include_pad", 0);
  auto e = RunRef(n, {x});
  ASSERT_TRUE(e.ok());
  auto w = Floats((*e)[0]);
  EXPECT_FLOAT_EQ(w[0], 1.f);
  EXPECT_FLOAT_EQ(w[1], 1.5f);
  EXPECT_FLOAT_EQ(w[15], 9.f);
}

TEST(GlobalPoolRef, AverageMaxLp) {
  Tensor x = Tensor::FromVector<float>({1, 2, 2, 2}, {1, 2, 3, 4, -5, 0, 3, 4});
  auto a = RunRef(MakeNode("GlobalAveragePool", 1), {x});
  auto m = RunRef(MakeNode("GlobalMaxPool", 1), {x});
  auto l = RunRef(MakeNode("GlobalLpPool", 1), {x});
  ASSERT_TRUE(a.ok() && m.ok() && l.ok());
  EXPECT_EQ((*a)[0].shape(), (Shape{1, 2, 1, 1}));
  EXPECT_THAT(Floats((*a)[0]), ElementsAre(2.5f, 0.5f));
  EXPECT_THAT(Floats((*m)[0]), ElementsAre(4, 4));
  // sqrt(1+4+9+16) = sqrt(30); sqrt(25+0+9+16) = sqrt(50).
  EXPECT_THAT(Floats((*l)[0]), Pointwise(FloatNear(1e-5f), std::vector<float>{std::sqrt(30.f), std::sqrt(50.f)}));
}

TEST(GemmRef, TransposeAlphaBetaVectorBias) {
  // A^T with A = [[1, 3], [2, 4]] -> [[1, 2], [3, 4]]; B = I; alpha 2, beta 0.5, C = [10, 20].
  Node n = MakeNode("Gemm", 3);
  n.SetInt("transA", 1);
  n.SetFloat("alpha", 2);
  n.SetFloat("beta", 0.5f);
  auto r = RunRef(n, {Tensor::FromVector<float>({2, 2}, {1, 3, 2, 4}), Tensor::FromVector<float>({2, 2}, {1, 0, 0, 1}),
                      Tensor::FromVector<float>({2}, {10, 20})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(2 + 5, 4 + 10, 6 + 5, 8 + 10));
  Node nb = MakeNode("Gemm", 2);
  nb.SetInt("transB", 1);
  auto rb = RunRef(nb, {Tensor::FromVector<float>({1, 3}, {1, 2, 3}), Tensor::FromVector<float>({2, 3}, {1, 1, 1, 0, 1, 0})});
  ASSERT_TRUE(rb.ok());
  EXPECT_THAT(Floats((*rb)[0]), ElementsAre(6, 2));
}

TEST(MatMulRef, VectorsAndBroadcastBatches) {
  // [1,2,3] . [4,5,6] = 32: both 1-D gives a scalar.
  auto r = RunRef(MakeNode("MatMul", 2), {Tensor::FromVector<float>({3}, {1, 2, 3}), Tensor::FromVector<float>({3}, {4, 5, 6})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), Shape{});
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(32));
  // A: 2 batches of [1x2]; B: one [2x1] broadcast over them. [1,2].[1,1] = 3, [3,4].[1,1] = 7.
  auto b = RunRef(MakeNode("MatMul", 2),
                  {Tensor::FromVector<float>({2, 1, 2}, {1, 2, 3, 4}), Tensor::FromVector<float>({2, 1}, {1, 1})});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].shape(), (Shape{2, 1, 1}));
  EXPECT_THAT(Floats((*b)[0]), ElementsAre(3, 7));
  // int64 is allowed by the spec.
  auto i = RunRef(MakeNode("MatMul", 2), {Tensor::FromVector<int64_t>({1, 2}, {3, 4}), Tensor::FromVector<int64_t>({2, 1}, {5, 6})});
  ASSERT_TRUE(i.ok());
  EXPECT_EQ((*i)[0].GetAsDouble(0), 39);
  auto bad = RunRef(MakeNode("MatMul", 2), {Tensor::FromVector<float>({2, 3}, Iota(6)), Tensor::FromVector<float>({2, 3}, Iota(6))});
  EXPECT_FALSE(bad.ok());
}

TEST(BatchNormRef, InferenceAndTrainingMode) {
  // C = 2, N = 1, 2 elements each. Channel 0: (x-1)/sqrt(4) * 2 + 1; channel 1: identity stats.
  Node n = MakeNode("BatchNormalization", 5);
  n.SetFloat("epsilon", 0);
  Tensor x = Tensor::FromVector<float>({1, 2, 2}, {3, 5, 7, 9});
  auto r = RunRef(n, {x, Tensor::FromVector<float>({2}, {2, 1}), Tensor::FromVector<float>({2}, {1, 0}),
                      Tensor::FromVector<float>({2}, {1, 0}), Tensor::FromVector<float>({2}, {4, 1})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(3, 5, 7, 9));
  // Training: batch mean of channel 0 = 4, var = 1; running_mean = 1*0.9 + 4*0.1 = 1.3,
  // running_var = 4*0.9 + 1*0.1 = 3.7. Y channel 0 = (x-4)/1*2 + 1 -> -1, 3.
  Node t = MakeNode("BatchNormalization", 5, 3);
  t.SetFloat("epsilon", 0);
  t.SetInt("training_mode", 1);
  auto rt = RunRef(t, {x, Tensor::FromVector<float>({2}, {2, 1}), Tensor::FromVector<float>({2}, {1, 0}),
                       Tensor::FromVector<float>({2}, {1, 0}), Tensor::FromVector<float>({2}, {4, 1})}, 15);
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_THAT(Floats((*rt)[0]), Pointwise(FloatNear(1e-5f), std::vector<float>{-1, 3, -1, 1}));
  EXPECT_THAT(Floats((*rt)[1]), Pointwise(FloatNear(1e-5f), std::vector<float>{1.3f, 0.8f}));
  EXPECT_THAT(Floats((*rt)[2]), Pointwise(FloatNear(1e-5f), std::vector<float>{3.7f, 1.0f}));
}

TEST(LayerNormRef, AxisMeanInvStd) {
  // Row [1,2,3,4]: mean 2.5, var 1.25, inv std = 1/sqrt(1.25) = 0.894427.
  Node n = MakeNode("LayerNormalization", 3, 3);
  n.SetFloat("epsilon", 0);
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 4}, {1, 2, 3, 4}), Tensor::FromVector<float>({4}, {1, 1, 1, 2}),
                      Tensor::FromVector<float>({4}, {0, 0, 0, 1})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const float s = 0.894427191f;
  EXPECT_THAT(Floats((*r)[0]), Pointwise(FloatNear(1e-5f), std::vector<float>{-1.5f * s, -0.5f * s, 0.5f * s, 1 + 3 * s}));
  EXPECT_EQ((*r)[1].shape(), (Shape{1, 1}));
  EXPECT_FLOAT_EQ(Floats((*r)[1])[0], 2.5f);
  EXPECT_NEAR(Floats((*r)[2])[0], s, 1e-6);
}

TEST(InstanceAndGroupNormRef, HandComputed) {
  // Each (n, c) row [0, 2]: mean 1, var 1 -> [-1, 1], then scale/bias per channel.
  Tensor x = Tensor::FromVector<float>({1, 2, 2}, {0, 2, 0, 2});
  Node n = MakeNode("InstanceNormalization", 3);
  n.SetFloat("epsilon", 0);
  auto r = RunRef(n, {x, Tensor::FromVector<float>({2}, {1, 3}), Tensor::FromVector<float>({2}, {0, 1})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Floats((*r)[0]), ElementsAre(-1, 1, -2, 4));
  // One group over all 4 values [0,2,0,2] (opset 18 per-group scale/bias).
  Node g = MakeNode("GroupNormalization", 3);
  g.SetFloat("epsilon", 0);
  g.SetInt("num_groups", 1);
  auto rg = RunRef(g, {x, Tensor::FromVector<float>({1}, {2}), Tensor::FromVector<float>({1}, {1})}, 18);
  ASSERT_TRUE(rg.ok()) << rg.status().ToString();
  EXPECT_THAT(Floats((*rg)[0]), ElementsAre(-1, 3, -1, 3));
}

TEST(NnCost, ConvGemmMatMulMacs) {
  Node c = MakeNode("Conv", 3);
  c.SetInt("group", 2);
  c.SetInts("pads", {1, 1, 1, 1});
  // N=1, Cin=4, Cout=8, group 2, 3x3 kernel, 5x5 output: 1*8*25*(4/2)*9 = 3600 MACs.
  OpCost cc = CostOf(c, {TensorType::Of(DType::kF32, {1, 4, 5, 5}), TensorType::Of(DType::kF32, {8, 2, 3, 3}),
                         TensorType::Of(DType::kF32, {8})});
  EXPECT_EQ(cc.macs, 3600);
  EXPECT_EQ(cc.flops, 7200 + 200);  // + one bias add per output element
  EXPECT_EQ(cc.bytes_read, 4.0 * (100 + 144 + 8));
  EXPECT_EQ(cc.bytes_written, 4.0 * 200);
  OpCost g = CostOf(MakeNode("Gemm", 2), {TensorType::Of(DType::kF32, {2, 4}), TensorType::Of(DType::kF32, {4, 3})});
  EXPECT_EQ(g.macs, 24);
  OpCost m = CostOf(MakeNode("MatMul", 2), {TensorType::Of(DType::kF32, {2, 3, 4}), TensorType::Of(DType::kF32, {4, 5})});
  EXPECT_EQ(m.macs, 120);
  EXPECT_EQ(m.flops, 240);
  // ConvTranspose: N=1, Cin=2, 3 inputs, W [2, 4, 3]: 2*3 inputs * 4 * 3 = 72 MACs.
  OpCost t = CostOf(MakeNode("ConvTranspose", 2), {TensorType::Of(DType::kF32, {1, 2, 3}), TensorType::Of(DType::kF32, {2, 4, 3})});
  EXPECT_EQ(t.macs, 72);
}

TEST(NnInfer, PoolShapesSameLowerAndUnknownDims) {
  const OpDef* def = OpTable::Get().Find("", "MaxPool");
  ASSERT_NE(def, nullptr);
  Node n = MakeNode("MaxPool", 1);
  n.SetInts("kernel_shape", {3, 3});
  n.SetInts("strides", {2, 2});
  n.SetString("auto_pad", "SAME_LOWER");
  InferContext ctx{n, 17, {TensorType::Of(DType::kF32, {1, 3, 7, -1})}, {nullptr}};
  std::vector<TensorType> outs;
  ASSERT_TRUE(InferNodeTypes(*def, ctx, &outs).ok());
  EXPECT_EQ(outs[0].dims, (std::vector<int64_t>{1, 3, 4, -1}));
  n.SetInts("strides", {2});
  EXPECT_FALSE(InferNodeTypes(*def, InferContext{n, 17, {TensorType::Of(DType::kF32, {1, 3, 7, 7})}, {nullptr}}, &outs).ok());
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

using namespace nntest;

TEST(MaxUnpoolRef, ScattersToIndicesAndInfersShape) {
  // Pooled 2x2 values with flat indices into a 4x4 slice; default output is (2-1)*2+2 = 4.
  Node n = MakeNode("MaxUnpool", 2);
  n.SetInts("kernel_shape", {2, 2});
  n.SetInts("strides", {2, 2});
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 1, 2, 2}, {5, 6, 7, 8}),
                      Tensor::FromVector<int64_t>({1, 1, 2, 2}, {0, 3, 9, 15})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 4, 4}));
  std::vector<float> want(16, 0.f);
  want[0] = 5;
  want[3] = 6;
  want[9] = 7;
  want[15] = 8;
  EXPECT_EQ(Floats((*r)[0]), want);
  auto bad = RunRef(n, {Tensor::FromVector<float>({1, 1, 1, 1}, {1}), Tensor::FromVector<int64_t>({1, 1, 1, 1}, {99})});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

using namespace nntest;

TEST(MaxUnpoolRef, LargerOutputShapeKeepsCoordinates) {
  // ONNX operator example: indices 5, 7, 13, 15 address a 4x4 unpooled slice, i.e. (1,1),
  // (1,3), (3,1), (3,3); with output_shape 5x5 the values stay at those coordinates.
  Node n = MakeNode("MaxUnpool", 3);
  n.SetInts("kernel_shape", {2, 2});
  n.SetInts("strides", {2, 2});
  auto r = RunRef(n, {Tensor::FromVector<float>({1, 1, 2, 2}, {5, 6, 7, 8}),
                      Tensor::FromVector<int64_t>({1, 1, 2, 2}, {5, 7, 13, 15}),
                      Tensor::FromVector<int64_t>({4}, {1, 1, 5, 5})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<float> want(25, 0.f);
  want[1 * 5 + 1] = 5;
  want[1 * 5 + 3] = 6;
  want[3 * 5 + 1] = 7;
  want[3 * 5 + 3] = 8;
  EXPECT_EQ(Floats((*r)[0]), want);
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

using namespace nntest;

TEST(MaxPoolRef, Uint8KeepsValuesAbove127) {
  Node n = MakeNode("MaxPool", 1);
  n.SetInts("kernel_shape", {2, 2});
  auto r = RunRef(n, {Tensor::FromVector<uint8_t>({1, 1, 2, 3}, {1, 200, 7, 3, 4, 255})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].dtype(), DType::kU8);
  // Windows {1,200,3,4} and {200,7,4,255}.
  EXPECT_EQ(Floats((*r)[0]), (std::vector<float>{200, 255}));
}

}  // namespace
}  // namespace greenai
