// Tensor-manipulation ops: hand-computed values for the tricky semantics and clear
// errors (naming the node) on bad input. Values come from the ONNX operator docs or are
// worked out by hand in the comments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "ops/op_table.h"
#include "tensor_test_util.h"

namespace greenai::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Reshape, ZeroCopiesDimAndMinusOneInfers) {
  Node n = MakeNode("Reshape", 2);
  auto r = RunOp(n, {F32({2, 3, 4}, Iota(24)), I64({3}, {0, -1, 2})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(Vec<float>((*r)[0]), Iota(24));
}

TEST(Reshape, AllowZeroKeepsLiteralZero) {
  Node n = MakeNode("Reshape", 2);
  n.SetInt("allowzero", 1);
  auto r = RunOp(n, {F32({0, 3, 4}, {}), I64({3}, {3, 4, 0})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{3, 4, 0}));
  // Without allowzero the 0 copies input dim 2 (= 4): [3, 4, 4] has 48 != 0 elements.
  Node m = MakeNode("Reshape", 2, 1, "rs0");
  auto bad = RunOp(m, {F32({0, 3, 4}, {}), I64({3}, {3, 4, 0})});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("Reshape 'rs0'"));
}

TEST(Reshape, IncompatibleSizeIsAnErrorNamingTheNode) {
  Node n = MakeNode("Reshape", 2, 1, "my_reshape");
  auto r = RunOp(n, {F32({2, 3}, Iota(6)), I64({2}, {4, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("Reshape 'my_reshape'"));
  EXPECT_THAT(r.status().message(), HasSubstr("6 elements"));
  auto r2 = RunOp(n, {F32({2, 3}, Iota(6)), I64({2}, {-1, 4})});
  ASSERT_FALSE(r2.ok());
  auto r3 = RunOp(n, {F32({2, 3}, Iota(6)), I64({2}, {-1, -1})});
  ASSERT_FALSE(r3.ok());
  EXPECT_THAT(r3.status().message(), HasSubstr("more than one -1"));
}

TEST(Reshape, UnknownShapeValueGivesUnknownDims) {
  Node n = MakeNode("Reshape", 2);
  InferContext ctx{n, 17, {TensorType::Of(DType::kF32, {2, 3}), TensorType::Of(DType::kI64, {3})}, {nullptr, nullptr}};
  std::vector<TensorType> out;
  ASSERT_TRUE(InferNodeTypes(*OpTable::Get().Find("", "Reshape"), ctx, &out).ok());
  EXPECT_EQ(out[0].dims, (std::vector<int64_t>{-1, -1, -1}));
}

TEST(Slice, NegativeStepAndClamping) {
  Node n = MakeNode("Slice", 5);
  // starts 8, ends 1, step -3 over 0..9 -> 8, 5, 2.
  auto r = RunOp(n, {F32({10}, Iota(10)), I64({1}, {8}), I64({1}, {1}), I64({1}, {0}), I64({1}, {-3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(8, 5, 2));
  // Reverse everything: start clamps to 9, end -INF clamps to -1 (exclusive).
  auto r2 = RunOp(n, {F32({4}, Iota(4)), I64({1}, {-1}), I64({1}, {INT64_MIN}), I64({1}, {0}), I64({1}, {-1})});
  ASSERT_TRUE(r2.ok());
  EXPECT_THAT(Vec<float>((*r2)[0]), ElementsAre(3, 2, 1, 0));
  // Out-of-bounds start and end clamp to [0, dim].
  Node n3 = MakeNode("Slice", 3);
  auto r3 = RunOp(n3, {F32({5}, Iota(5)), I64({1}, {-100}), I64({1}, {1000})});
  ASSERT_TRUE(r3.ok());
  EXPECT_THAT(Vec<float>((*r3)[0]), ElementsAre(0, 1, 2, 3, 4));
  auto r4 = RunOp(n3, {F32({5}, Iota(5)), I64({1}, {10}), I64({1}, {1000})});
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ((*r4)[0].shape(), (Shape{0}));
}

TEST(Slice, OnnxDocExample2D) {
  // data [[1,2,3,4],[5,6,7,8]], axes [0,1], starts [1,0], ends [2,3], steps [1,2] -> [[5,7]]
  Node n = MakeNode("Slice", 5);
  auto r = RunOp(n, {F32({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), I64({2}, {1, 0}), I64({2}, {2, 3}), I64({2}, {0, 1}),
                   I64({2}, {1, 2})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 2}));
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(5, 7));
}

TEST(Slice, AttributesBeforeOpset10) {
  Node n = MakeNode("Slice", 1);
  n.SetInts("starts", {0, 1});
  n.SetInts("ends", {-1, 1000});
  auto r = RunOp(n, {F32({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})}, 9);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(2, 3, 4));
}

TEST(Slice, ZeroStepIsAnError) {
  Node n = MakeNode("Slice", 5, 1, "sl");
  auto r = RunOp(n, {F32({4}, Iota(4)), I64({1}, {0}), I64({1}, {4}), I64({1}, {0}), I64({1}, {0})});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Slice 'sl'"));
}

TEST(Gather, NegativeIndicesWrap) {
  Node n = MakeNode("Gather", 2);
  auto r = RunOp(n, {F32({4}, {10, 20, 30, 40}), I64({3}, {-1, 0, -4})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(40, 10, 10));
}

TEST(Gather, Axis1With2DIndices) {
  // data [[1,2,3],[4,5,6]], indices [[0,2]] axis 1 -> shape [2,1,2] = [[[1,3]],[[4,6]]]
  Node n = MakeNode("Gather", 2);
  n.SetInt("axis", 1);
  auto r = RunOp(n, {F32({2, 3}, {1, 2, 3, 4, 5, 6}), Tensor::FromVector<int32_t>({1, 2}, {0, 2})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 1, 2}));
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 3, 4, 6));
}

TEST(Gather, IndexOutOfRangeIsAnError) {
  Node n = MakeNode("Gather", 2, 1, "g7");
  auto r = RunOp(n, {F32({4}, {10, 20, 30, 40}), I64({2}, {1, 4})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_THAT(r.status().message(), HasSubstr("Gather 'g7'"));
  EXPECT_THAT(r.status().message(), HasSubstr("value 4"));
  auto r2 = RunOp(n, {F32({4}, {10, 20, 30, 40}), I64({1}, {-5})});
  ASSERT_FALSE(r2.ok());
}

TEST(Gather, Strings) {
  Node n = MakeNode("Gather", 2);
  auto r = RunOp(n, {Tensor::FromVector<std::string>({3}, {"a", "bb", "ccc"}), I64({2}, {2, 0})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<std::string>((*r)[0]), ElementsAre("ccc", "a"));
}

TEST(Concat, AxisAndRankMismatch) {
  Node n = MakeNode("Concat", 2, 1, "cat");
  n.SetInt("axis", -1);
  auto r = RunOp(n, {F32({2, 1}, {1, 2}), F32({2, 2}, {3, 4, 5, 6})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 3, 4, 2, 5, 6));
  auto bad = RunOp(n, {F32({2, 1}, {1, 2}), F32({2}, {3, 4})});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("Concat 'cat'"));
  EXPECT_THAT(bad.status().message(), HasSubstr("rank"));
  auto bad2 = RunOp(n, {F32({2, 1}, {1, 2}), F32({3, 1}, {3, 4, 5})});
  ASSERT_FALSE(bad2.ok());
  EXPECT_THAT(bad2.status().message(), HasSubstr("Concat 'cat'"));
}

TEST(Split, InputSizesAtOpset13AttributeBefore) {
  Node n = MakeNode("Split", 2, 2);
  auto r = RunOp(n, {F32({5}, Iota(5)), I64({2}, {2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(0, 1));
  EXPECT_THAT(Vec<float>((*r)[1]), ElementsAre(2, 3, 4));
  Node m = MakeNode("Split", 1, 2);
  m.SetInts("split", {4, 1});
  auto r2 = RunOp(m, {F32({5}, Iota(5))}, 11);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_THAT(Vec<float>((*r2)[1]), ElementsAre(4));
  auto bad = RunOp(MakeNode("Split", 1, 2, "sp"), {F32({5}, Iota(5))});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("Split 'sp'"));
}

TEST(SqueezeUnsqueeze, AxesMoveFromAttributeToInputAtOpset13) {
  Node s = MakeNode("Squeeze", 2);
  auto r = RunOp(s, {F32({1, 3, 1}, {1, 2, 3}), I64({1}, {-1})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 3}));
  Node s11 = MakeNode("Squeeze", 1);
  s11.SetInts("axes", {0});
  auto r2 = RunOp(s11, {F32({1, 3, 1}, {1, 2, 3})}, 11);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ((*r2)[0].shape(), (Shape{3, 1}));
  auto all = RunOp(MakeNode("Squeeze", 1), {F32({1, 3, 1}, {1, 2, 3})});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].shape(), (Shape{3}));
  Node u = MakeNode("Unsqueeze", 2);
  auto r3 = RunOp(u, {F32({3}, {1, 2, 3}), I64({2}, {2, 0})});
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ((*r3)[0].shape(), (Shape{1, 3, 1}));
  auto bad = RunOp(MakeNode("Squeeze", 2, 1, "sq"), {F32({1, 3}, {1, 2, 3}), I64({1}, {1})});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("Squeeze 'sq'"));
}

// Naive transpose: out[j] = in[sum_k idx_k * in_stride[perm[k]]].
std::vector<float> NaiveTranspose(const std::vector<float>& in, const Shape& shape, const std::vector<int64_t>& perm) {
  auto st = RowMajorStrides(shape);
  Shape os;
  for (int64_t p : perm) os.push_back(shape[static_cast<size_t>(p)]);
  std::vector<float> out(in.size());
  std::vector<int64_t> idx(os.size(), 0);
  for (size_t j = 0; j < out.size(); ++j) {
    int64_t src = 0;
    for (size_t k = 0; k < os.size(); ++k) src += idx[k] * st[static_cast<size_t>(perm[k])];
    out[j] = in[static_cast<size_t>(src)];
    for (int k = static_cast<int>(os.size()) - 1; k >= 0; --k) {
      if (++idx[static_cast<size_t>(k)] < os[static_cast<size_t>(k)]) break;
      idx[static_cast<size_t>(k)] = 0;
    }
  }
  return out;
}

TEST(Transpose, MatchesNaiveAcrossShapesAndThreads) {
  std::mt19937 rng(42);
  ThreadPool pool(2);
  struct Case { Shape s; std::vector<int64_t> perm; };
  std::vector<Case> cases = {{{67, 45}, {1, 0}},       {{3, 40, 33}, {0, 2, 1}}, {{2, 3, 4, 5}, {3, 1, 0, 2}},
                             {{5, 1, 7}, {2, 1, 0}},    {{300, 257}, {1, 0}},     {{2, 64, 9, 9}, {0, 2, 3, 1}}};
  for (const auto& c : cases) {
    std::vector<float> v(static_cast<size_t>(NumElements(c.s)));
    for (auto& x : v) x = static_cast<float>(rng() % 1000);
    Node n = MakeNode("Transpose", 1);
    n.SetInts("perm", c.perm);
    RunNodeOptions o;
    o.pool = &pool;
    auto r = RunNode(n, {F32(c.s, v)}, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Vec<float>((*r)[0]), NaiveTranspose(v, c.s, c.perm)) << ShapeToString(c.s);
  }
  // Default perm reverses the axes.
  auto r = RunOp(MakeNode("Transpose", 1), {F32({2, 3}, Iota(6))});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(0, 3, 1, 4, 2, 5));
}

TEST(Pad, ReflectEdgeWrapConstant) {
  Node n = MakeNode("Pad", 2);
  n.SetString("mode", "reflect");
  // [1,2,3,4] with pads (2,3): index -1 -> 1, -2 -> 2, 4 -> 2, 5 -> 1, 6 -> 0.
  auto r = RunOp(n, {F32({4}, {1, 2, 3, 4}), I64({2}, {2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(3, 2, 1, 2, 3, 4, 3, 2, 1));
  n.SetString("mode", "edge");
  r = RunOp(n, {F32({4}, {1, 2, 3, 4}), I64({2}, {2, 1})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 1, 1, 2, 3, 4, 4));
  n.SetString("mode", "wrap");
  r = RunOp(n, {F32({3}, {1, 2, 3}), I64({2}, {2, 2})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(2, 3, 1, 2, 3, 1, 2));
  Node c = MakeNode("Pad", 3);
  // 2-D constant pad of 7 with a negative (cropping) pad: [[1,2],[3,4]] pads (1,-1,0,1).
  auto rc = RunOp(c, {F32({2, 2}, {1, 2, 3, 4}), I64({4}, {1, -1, 0, 1}), F32({}, {7})});
  ASSERT_TRUE(rc.ok()) << rc.status().ToString();
  EXPECT_EQ((*rc)[0].shape(), (Shape{3, 2}));
  EXPECT_THAT(Vec<float>((*rc)[0]), ElementsAre(7, 7, 2, 7, 4, 7));
}

TEST(Pad, OnnxDocReflect2D) {
  Node n = MakeNode("Pad", 2);
  n.SetString("mode", "reflect");
  auto r = RunOp(n, {F32({3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}), I64({4}, {0, 2, 0, 0})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]),
              ElementsAre(1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f));
}

TEST(Unique, SortedAndUnsortedOutputs) {
  // ONNX doc example: X = [2,1,1,3,4,3].
  Node n = MakeNode("Unique", 1, 4);
  n.SetInt("sorted", 0);
  auto r = RunOp(n, {F32({6}, {2, 1, 1, 3, 4, 3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(2, 1, 3, 4));
  EXPECT_THAT(Vec<int64_t>((*r)[1]), ElementsAre(0, 1, 3, 4));
  EXPECT_THAT(Vec<int64_t>((*r)[2]), ElementsAre(0, 1, 1, 2, 3, 2));
  EXPECT_THAT(Vec<int64_t>((*r)[3]), ElementsAre(1, 2, 2, 1));
  n.SetInt("sorted", 1);
  r = RunOp(n, {F32({6}, {2, 1, 1, 3, 4, 3})});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(Vec<int64_t>((*r)[1]), ElementsAre(1, 0, 3, 4));
  EXPECT_THAT(Vec<int64_t>((*r)[2]), ElementsAre(1, 0, 0, 2, 3, 2));
  EXPECT_THAT(Vec<int64_t>((*r)[3]), ElementsAre(2, 1, 2, 1));
}

TEST(Unique, WithAxisComparesWholeSlices) {
  // Rows [1,0],[0,1],[1,0] along axis 0: sorted unique rows [0,1],[1,0].
  Node n = MakeNode("Unique", 1, 4);
  n.SetInt("axis", 0);
  auto r = RunOp(n, {F32({3, 2}, {1, 0, 0, 1, 1, 0})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(0, 1, 1, 0));
  EXPECT_THAT(Vec<int64_t>((*r)[1]), ElementsAre(1, 0));
  EXPECT_THAT(Vec<int64_t>((*r)[2]), ElementsAre(1, 0, 1));
  EXPECT_THAT(Vec<int64_t>((*r)[3]), ElementsAre(1, 2));
}

TEST(NonZero, RowMajorCoordinates) {
  auto r = RunOp(MakeNode("NonZero", 1), {F32({2, 2}, {1, 0, 1, 1})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  EXPECT_THAT(Vec<int64_t>((*r)[0]), ElementsAre(0, 1, 1, 0, 0, 1));
}

TEST(Compress, AxisAndFlattened) {
  Node n = MakeNode("Compress", 2);
  n.SetInt("axis", 1);
  auto c = Tensor::FromVector<bool>({2}, {false, true});
  auto r = RunOp(n, {F32({3, 2}, Iota(6)), c});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 3, 5));
  auto r2 = RunOp(MakeNode("Compress", 2), {F32({3, 2}, Iota(6)), Tensor::FromVector<bool>({3}, {false, true, true})});
  ASSERT_TRUE(r2.ok());
  EXPECT_THAT(Vec<float>((*r2)[0]), ElementsAre(1, 2));
}

TEST(GatherND, BatchDims) {
  // ONNX doc example 5: batch_dims=1.
  Node n = MakeNode("GatherND", 2);
  n.SetInt("batch_dims", 1);
  auto r = RunOp(n, {F32({2, 2, 2}, Iota(8)), I64({2, 1}, {1, 0})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 2}));
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(2, 3, 4, 5));
}

TEST(Scatter, NDAddAndElementsDuplicates) {
  Node n = MakeNode("ScatterND", 3);
  n.SetString("reduction", "add");
  auto r = RunOp(n, {F32({8}, {1, 2, 3, 4, 5, 6, 7, 8}), I64({4, 1}, {4, 3, 1, 7}), F32({4}, {9, 10, 11, 12})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 13, 3, 14, 14, 6, 7, 20));
  Node e = MakeNode("ScatterElements", 3);
  e.SetInt("axis", 1);
  e.SetString("reduction", "add");
  auto r2 = RunOp(e, {F32({1, 5}, {1, 2, 3, 4, 5}), I64({1, 2}, {1, 1}), F32({1, 2}, {1.1f, 2.1f})});
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_THAT(Vec<float>((*r2)[0]), ElementsAre(1, 2 + 1.1f + 2.1f, 3, 4, 5));
}

TEST(DepthToSpace, DcrAndCrdMatchSpecFormula) {
  // Spec: DCR out[n][c][h*b+i][w*b+j] = in[n][(i*b+j)*C' + c][h][w];
  //       CRD out[n][c][h*b+i][w*b+j] = in[n][c*b*b + i*b + j][h][w].
  const int64_t N = 1, C = 8, H = 2, W = 3, b = 2, Cp = C / (b * b);
  auto in = Iota(N * C * H * W);
  for (std::string mode : {"DCR", "CRD"}) {
    Node n = MakeNode("DepthToSpace", 1);
    n.SetInt("blocksize", b);
    n.SetString("mode", mode);
    auto r = RunOp(n, {F32({N, C, H, W}, in)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const float* o = (*r)[0].data<float>();
    for (int64_t c = 0; c < Cp; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < b; ++i)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t j = 0; j < b; ++j) {
              int64_t ic = mode == "DCR" ? (i * b + j) * Cp + c : c * b * b + i * b + j;
              EXPECT_EQ(o[(c * H * b + h * b + i) * W * b + w * b + j], in[static_cast<size_t>((ic * H + h) * W + w)]);
            }
    // SpaceToDepth inverts DCR.
    if (mode == "DCR") {
      Node s = MakeNode("SpaceToDepth", 1);
      s.SetInt("blocksize", b);
      auto back = RunOp(s, {(*r)[0]});
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(Vec<float>((*back)[0]), in);
    }
  }
}

TEST(Misc, TileExpandRangeOneHotTriluEyeLike) {
  auto t = RunOp(MakeNode("Tile", 2), {F32({2, 2}, {1, 2, 3, 4}), I64({2}, {1, 2})});
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(Vec<float>((*t)[0]), ElementsAre(1, 2, 1, 2, 3, 4, 3, 4));
  auto e = RunOp(MakeNode("Expand", 2), {F32({3, 1}, {1, 2, 3}), I64({3}, {2, 1, 2})});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0].shape(), (Shape{2, 3, 2}));
  EXPECT_THAT(Vec<float>((*e)[0]), ElementsAre(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3));
  auto rg = RunOp(MakeNode("Range", 3), {Tensor::Scalar<int32_t>(10), Tensor::Scalar<int32_t>(4), Tensor::Scalar<int32_t>(-3)});
  ASSERT_TRUE(rg.ok());
  EXPECT_THAT(Vec<int32_t>((*rg)[0]), ElementsAre(10, 7));
  Node oh = MakeNode("OneHot", 3);
  oh.SetInt("axis", 0);
  auto o = RunOp(oh, {I64({2}, {-1, 1}), Tensor::Scalar<float>(3), F32({2}, {0, 5})});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ((*o)[0].shape(), (Shape{3, 2}));
  EXPECT_THAT(Vec<float>((*o)[0]), ElementsAre(0, 0, 0, 5, 5, 0));
  Node tl = MakeNode("Trilu", 2);
  tl.SetInt("upper", 0);
  auto tr = RunOp(tl, {F32({2, 3}, {1, 2, 3, 4, 5, 6}), I64({}, {1})});
  ASSERT_TRUE(tr.ok());
  EXPECT_THAT(Vec<float>((*tr)[0]), ElementsAre(1, 2, 0, 4, 5, 6));
  Node ey = MakeNode("EyeLike", 1);
  ey.SetInt("k", -1);
  auto eo = RunOp(ey, {F32({3, 2}, Iota(6))});
  ASSERT_TRUE(eo.ok());
  EXPECT_THAT(Vec<float>((*eo)[0]), ElementsAre(0, 0, 1, 0, 0, 1));
  auto sh = RunOp([] { Node n = MakeNode("Shape", 1); n.SetInt("start", -2); return n; }(), {F32({2, 3, 4}, Iota(24))});
  ASSERT_TRUE(sh.ok());
  EXPECT_THAT(Vec<int64_t>((*sh)[0]), ElementsAre(3, 4));
}

TEST(Constant, ValueAttributes) {
  Node n = MakeNode("Constant", 0);
  n.SetInts("value_ints", {3, 4});
  auto r = RunOp(n, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<int64_t>((*r)[0]), ElementsAre(3, 4));
  Node bad = MakeNode("Constant", 0, 1, "k");
  auto rb = RunOp(bad, {});
  ASSERT_FALSE(rb.ok());
  EXPECT_THAT(rb.status().message(), HasSubstr("Constant 'k'"));
}

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  auto r = RunOp(MakeNode("Dropout", 1, 2), {F32({3}, {1, 2, 3})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 2, 3));
  EXPECT_THAT(Vec<bool>((*r)[1]), ElementsAre(true, true, true));
}

TEST(Cost, DataMovementHasNoFlops) {
  Node n = MakeNode("Transpose", 1);
  InferContext ctx{n, 17, {TensorType::Of(DType::kF32, {4, 8})}, {nullptr}};
  const OpDef* def = OpTable::Get().Find("", "Transpose");
  std::vector<TensorType> out;
  ASSERT_TRUE(InferNodeTypes(*def, ctx, &out).ok());
  OpCost c = NodeCost(*def, ctx, out);
  EXPECT_EQ(c.flops, 0);
  EXPECT_EQ(c.bytes_read, 128);
  EXPECT_EQ(c.bytes_written, 128);
}

}  // namespace
}  // namespace greenai::testing

namespace greenai::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(GatherElements, NegativeIndicesAndShapeCheck) {
  // ONNX doc: data [[1,2,3],[4,5,6],[7,8,9]], indices [[-1,-2,0],[-2,0,0]] axis 0 -> [[7,5,3],[4,2,3]].
  Node n = MakeNode("GatherElements", 2, 1, "ge");
  auto r = RunOp(n, {F32({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), I64({2, 3}, {-1, -2, 0, -2, 0, 0})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(7, 5, 3, 4, 2, 3));
  auto bad = RunOp(n, {F32({2, 1}, {1, 2}), I64({2, 2}, {0, 0, 0, 0})});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("GatherElements 'ge'"));
}

TEST(Pad, AttributesBeforeOpset11) {
  Node n = MakeNode("Pad", 1);
  n.SetInts("pads", {1, 0});
  n.SetFloat("value", 5);
  auto r = RunOp(n, {F32({2}, {1, 2})}, 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(5, 1, 2));
}

TEST(Hostile, HugeOutputsFailCleanly) {
  auto t = RunOp(MakeNode("Tile", 2, 1, "big"), {F32({2}, {1, 2}), I64({1}, {int64_t{1} << 40})});
  ASSERT_FALSE(t.ok());
  auto e = RunOp(MakeNode("Expand", 2, 1, "ex"), {F32({1}, {1}), I64({2}, {-1, 3})});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("Expand 'ex'"));
  auto rg = RunOp(MakeNode("Range", 3), {Tensor::Scalar<float>(0), Tensor::Scalar<float>(1e30f), Tensor::Scalar<float>(1e-30f)});
  ASSERT_FALSE(rg.ok());
  auto oh = RunOp(MakeNode("OneHot", 3), {F32({2}, {1e30f, -1e30f}), Tensor::Scalar<float>(3), F32({2}, {0, 1})});
  ASSERT_TRUE(oh.ok());  // out-of-range indices give all-off rows
  EXPECT_THAT(Vec<float>((*oh)[0]), ElementsAre(0, 0, 0, 0, 0, 0));
}

TEST(Resize, Opset10UsesAsymmetricCoordinates) {
  Node n = MakeNode("Resize", 2);
  n.SetString("mode", "linear");
  // Resize-10: x_ori = o / 2 = 0, 0.5, 1, 1.5 (as asymmetric).
  auto r = RunOp(n, {F32({2}, {1, 2}), F32({1}, {2})}, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(Vec<float>((*r)[0]), ElementsAre(1, 1.5f, 2, 2));
}

}  // namespace
}  // namespace greenai::testing
