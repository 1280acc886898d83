// Hand-computed values for the tricky semantics of the elementwise/reduce reference kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/op_table.h"
#include "test_util.h"

namespace greenai {
namespace {

using testing_ew::MakeNode;
using testing_ew::RunOp;
using testing_ew::Values;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Broadcast, AddRowAndColumn) {
  Node n = MakeNode("Add", 2);
  auto a = Tensor::FromVector<float>({2, 1}, {10, 20});
  auto b = Tensor::FromVector<float>({1, 3}, {1, 2, 3});
  auto r = RunOp(n, {a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{11, 12, 13, 21, 22, 23}));
}

TEST(Broadcast, IncompatibleShapesAreAnErrorNamingTheNode) {
  Node n = MakeNode("Mul", 2);
  auto r = RunOp(n, {Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6}), Tensor::FromVector<float>({2}, {1, 2})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("n_Mul"), std::string::npos) << r.status().message();
}

TEST(Mod, IntegerFollowsDivisorSignUnlessFmod) {
  Node n = MakeNode("Mod", 2);
  auto a = Tensor::FromVector<int32_t>({6}, {-4, 7, 5, 4, -7, 8});
  auto b = Tensor::FromVector<int32_t>({6}, {2, -3, 8, -2, 3, 5});
  auto r = RunOp(n, {a, b});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Python: -4%2=0, 7%-3=-2, 5%8=5, 4%-2=0, -7%3=2, 8%5=3
  EXPECT_EQ(Values<int32_t>((*r)[0]), (std::vector<int32_t>{0, -2, 5, 0, 2, 3}));
  n.SetInt("fmod", 1);
  r = RunOp(n, {a, b});
  ASSERT_TRUE(r.ok());
  // C: sign of the dividend.
  EXPECT_EQ(Values<int32_t>((*r)[0]), (std::vector<int32_t>{0, 1, 5, 0, -1, 3}));
}

TEST(Mod, FloatFmod) {
  Node n = MakeNode("Mod", 2);
  n.SetInt("fmod", 1);
  auto r = RunOp(n, {Tensor::FromVector<float>({3}, {-7, 7, 5.5f}), Tensor::FromVector<float>({3}, {3, -3, 2})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{-1, 1, 1.5f}));
}

TEST(Div, IntegerByZeroIsAnErrorNotATrap) {
  Node n = MakeNode("Div", 2);
  auto r = RunOp(n, {Tensor::FromVector<int32_t>({2}, {1, 2}), Tensor::FromVector<int32_t>({2}, {1, 0})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("division by zero"), std::string::npos);
  // INT_MIN / -1 wraps (numpy) instead of raising SIGFPE.
  r = RunOp(n, {Tensor::FromVector<int32_t>({1}, {std::numeric_limits<int32_t>::min()}),
              Tensor::FromVector<int32_t>({1}, {-1})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].data<int32_t>()[0], std::numeric_limits<int32_t>::min());
}

TEST(Round, HalfToEven) {
  Node n = MakeNode("Round", 1);
  auto r = RunOp(n, {Tensor::FromVector<float>({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f, 2.6f, -2.5f})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{0, 2, 2, -0.0f, -2, 2, 3, -2}));
}

TEST(TopK, TiesKeepLowerIndexFirst) {
  Node n = MakeNode("TopK", 2, 2);
  auto x = Tensor::FromVector<float>({5}, {3, 1, 3, 2, 3});
  auto k = Tensor::FromVector<int64_t>({1}, {2});
  auto r = RunOp(n, {x, k});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{3, 3}));
  EXPECT_EQ(Values<int64_t>((*r)[1]), (std::vector<int64_t>{0, 2}));
  n.SetInt("largest", 0);
  auto x2 = Tensor::FromVector<float>({6}, {2, 1, 5, 1, 2, 0});
  auto k3 = Tensor::FromVector<int64_t>({1}, {4});
  r = RunOp(n, {x2, k3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{0, 1, 1, 2}));
  EXPECT_EQ(Values<int64_t>((*r)[1]), (std::vector<int64_t>{5, 1, 3, 0}));
}

TEST(TopK, KLargerThanAxisIsAnError) {
  Node n = MakeNode("TopK", 2, 2);
  auto r = RunOp(n, {Tensor::FromVector<float>({2}, {1, 2}), Tensor::FromVector<int64_t>({1}, {3})});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Reduce, EmptySetGivesIdentity) {
  auto x = Tensor::Create(DType::kF32, {2, 0});
  ASSERT_TRUE(x.ok());
  auto axes = Tensor::FromVector<int64_t>({1}, {1});
  struct Case {
    const char* op;
    float expect;
  } cases[] = {{"ReduceSum", 0}, {"ReduceProd", 1}, {"ReduceMax", -kInf}, {"ReduceMin", kInf},
               {"ReduceL1", 0}, {"ReduceL2", 0}, {"ReduceSumSquare", 0}, {"ReduceLogSum", -kInf},
               {"ReduceLogSumExp", -kInf}, {"ReduceMean", kNaN}};
  for (const auto& c : cases) {
    Node n = MakeNode(c.op, 2);
    n.SetInt("keepdims", 0);
    for (bool ref : {true, false}) {
      auto r = RunOp(n, {*x, axes}, 18, ref);
      ASSERT_TRUE(r.ok()) << c.op << ": " << r.status().ToString();
      ASSERT_EQ((*r)[0].shape(), (Shape{2})) << c.op;
      for (float v : Values<float>((*r)[0])) {
        if (std::isnan(c.expect)) EXPECT_TRUE(std::isnan(v)) << c.op;
        else EXPECT_EQ(v, c.expect) << c.op;
      }
    }
  }
}

TEST(Reduce, AxesAttributeBeforeOpset18AndInputAfter) {
  auto x = Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Node n = MakeNode("ReduceMean", 1);
  n.SetInts("axes", {1});
  auto r = RunOp(n, {x}, 13);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{2, 5}));
  Node m = MakeNode("ReduceMax", 2);
  m.SetInt("keepdims", 0);
  r = RunOp(m, {x, Tensor::FromVector<int64_t>({1}, {-2})}, 18);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{4, 5, 6}));
  // No axes: reduce all, unless noop_with_empty_axes.
  Node s = MakeNode("ReduceSum", 1);
  r = RunOp(s, {x}, 13);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1}));
  EXPECT_EQ((*r)[0].data<float>()[0], 21);
  s.SetInt("noop_with_empty_axes", 1);
  r = RunOp(s, {x}, 13);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<float>((*r)[0]), Values<float>(x));
}

TEST(Reduce, IntegerSumIsExact) {
  Node n = MakeNode("ReduceSum", 1);
  n.SetInt("keepdims", 0);
  const int64_t big = (int64_t{1} << 53) + 1;  // not representable in double
  auto r = RunOp(n, {Tensor::FromVector<int64_t>({2}, {big, 2})}, 11);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].data<int64_t>()[0], big + 2);
}

TEST(Cast, FloatToStringLikeNumpy) {
  Node n = MakeNode("Cast", 1);
  n.SetInt("to", static_cast<int64_t>(DType::kString));
  auto r = RunOp(n, {Tensor::FromVector<float>({6}, {kNaN, kInf, -kInf, 1.5f, 0.1f, 1e-5f})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<std::string>((*r)[0]), (std::vector<std::string>{"nan", "inf", "-inf", "1.5", "0.1", "1e-05"}));
}

TEST(Cast, StringToFloatParsesNumpySpellings) {
  Node n = MakeNode("Cast", 1);
  n.SetInt("to", static_cast<int64_t>(DType::kF32));
  auto s = Tensor::FromVector<std::string>({5}, {"NaN", "INF", "+INF", "-INF", "0.25"});
  auto r = RunOp(n, {s});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto v = Values<float>((*r)[0]);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], kInf);
  EXPECT_EQ(v[2], kInf);
  EXPECT_EQ(v[3], -kInf);
  EXPECT_EQ(v[4], 0.25f);
  r = RunOp(n, {Tensor::FromVector<std::string>({1}, {"abc"})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'abc'"), std::string::npos);
}

TEST(Cast, NanAndInfToIntAreDefinedAndHalfRoundsToNearestEven) {
  Node n = MakeNode("Cast", 1);
  n.SetInt("to", static_cast<int64_t>(DType::kI32));
  auto r = RunOp(n, {Tensor::FromVector<float>({4}, {kNaN, kInf, -kInf, -2.7f})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<int32_t>((*r)[0]),
            (std::vector<int32_t>{0, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), -2}));
  n.SetInt("to", static_cast<int64_t>(DType::kF16));
  // 1 + 2^-11 is halfway between 1 and the next half (1 + 2^-10): ties to even -> 1.
  r = RunOp(n, {Tensor::FromVector<double>({2}, {1.0 + std::ldexp(1.0, -11), 65520.0})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].data<uint16_t>()[0], 0x3c00);
  EXPECT_EQ((*r)[0].data<uint16_t>()[1], 0x7c00);  // 65520 rounds up to inf in half
  n.SetInt("to", static_cast<int64_t>(DType::kBool));
  r = RunOp(n, {Tensor::FromVector<float>({3}, {0, -0.0f, kNaN})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<bool>((*r)[0]), (std::vector<bool>{false, false, true}));
}

TEST(Softmax, OpsetBefore13CoercesTo2D) {
  Node n = MakeNode("Softmax", 1);
  n.SetInt("axis", 1);
  auto x = Tensor::Create(DType::kF32, {1, 2, 2});
  ASSERT_TRUE(x.ok());
  for (bool ref : {true, false}) {
    auto r11 = RunOp(n, {*x}, 11, ref);
    ASSERT_TRUE(r11.ok()) << r11.status().ToString();
    for (float v : Values<float>((*r11)[0])) EXPECT_FLOAT_EQ(v, 0.25f);  // over 2*2 elements
    auto r13 = RunOp(n, {*x}, 13, ref);
    ASSERT_TRUE(r13.ok());
    for (float v : Values<float>((*r13)[0])) EXPECT_FLOAT_EQ(v, 0.5f);  // over axis 1 only
  }
}

TEST(Softmax, LogSoftmaxAndHardmaxValues) {
  auto x = Tensor::FromVector<float>({1, 3}, {1, 2, 2});
  Node ls = MakeNode("LogSoftmax", 1);
  auto r = RunOp(ls, {x}, 13);
  ASSERT_TRUE(r.ok());
  const double lse = std::log(std::exp(1.0) + 2 * std::exp(2.0));
  EXPECT_NEAR((*r)[0].data<float>()[0], 1 - lse, 1e-6);
  EXPECT_NEAR((*r)[0].data<float>()[2], 2 - lse, 1e-6);
  Node hm = MakeNode("Hardmax", 1);
  r = RunOp(hm, {x}, 13);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{0, 1, 0}));  // first of the tied maxima
}

TEST(Clip, AttributesBeforeOpset11InputsAfter) {
  auto x = Tensor::FromVector<float>({4}, {-3, -0.5f, 0.5f, 3});
  Node a = MakeNode("Clip", 1);
  a.SetFloat("min", -1);
  a.SetFloat("max", 1);
  auto r = RunOp(a, {x}, 6);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{-1, -0.5f, 0.5f, 1}));
  Node b = MakeNode("Clip", 3);
  b.inputs[1] = "";  // min omitted
  r = RunOp(b, {x, Tensor(), Tensor::Scalar<float>(0)}, 13);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{-3, -0.5f, 0, 0}));
  auto xi = Tensor::FromVector<int8_t>({3}, {-128, 5, 127});
  Node c = MakeNode("Clip", 3);
  r = RunOp(c, {xi, Tensor::Scalar<int8_t>(-5), Tensor::Scalar<int8_t>(100)}, 13);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<int8_t>((*r)[0]), (std::vector<int8_t>{-5, 5, 100}));
}

TEST(ArgMax, SelectLastIndexAndKeepdims) {
  auto x = Tensor::FromVector<float>({2, 3}, {1, 5, 5, 7, 7, 2});
  Node n = MakeNode("ArgMax", 1);
  n.SetInt("axis", 1);
  auto r = RunOp(n, {x});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(Values<int64_t>((*r)[0]), (std::vector<int64_t>{1, 0}));
  n.SetInt("select_last_index", 1);
  n.SetInt("keepdims", 0);
  r = RunOp(n, {x});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].shape(), (Shape{2}));
  EXPECT_EQ(Values<int64_t>((*r)[0]), (std::vector<int64_t>{2, 1}));
}

TEST(CumSum, ExclusiveReverse) {
  Node n = MakeNode("CumSum", 2);
  auto x = Tensor::FromVector<int32_t>({3}, {1, 2, 3});
  auto axis = Tensor::Scalar<int64_t>(0);
  auto r = RunOp(n, {x, axis});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<int32_t>((*r)[0]), (std::vector<int32_t>{1, 3, 6}));
  n.SetInt("exclusive", 1);
  n.SetInt("reverse", 1);
  r = RunOp(n, {x, axis});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<int32_t>((*r)[0]), (std::vector<int32_t>{5, 3, 0}));
}

TEST(Compare, StringEqualAndWhereBroadcast) {
  Node eq = MakeNode("Equal", 2);
  auto r = RunOp(eq, {Tensor::FromVector<std::string>({3}, {"a", "b", "c"}), Tensor::FromVector<std::string>({1}, {"b"})},
               19);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<bool>((*r)[0]), (std::vector<bool>{false, true, false}));
  Node w = MakeNode("Where", 3);
  r = RunOp(w, {Tensor::FromVector<bool>({2, 1}, {true, false}), Tensor::FromVector<float>({3}, {1, 2, 3}),
              Tensor::Scalar<float>(-1)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<float>((*r)[0]), (std::vector<float>{1, 2, 3, -1, -1, -1}));
}

TEST(Variadic, MaxBroadcastsAndPropagatesNaN) {
  Node n = MakeNode("Max", 3);
  auto r = RunOp(n, {Tensor::FromVector<float>({3}, {1, 5, kNaN}), Tensor::Scalar<float>(2),
                   Tensor::FromVector<float>({2, 1}, {0, 4})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto v = Values<float>((*r)[0]);
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0], 2);
  EXPECT_EQ(v[1], 5);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 4);
  Node mean = MakeNode("Mean", 2);
  r = RunOp(mean, {Tensor::FromVector<double>({2}, {1, 2}), Tensor::FromVector<double>({2}, {2, 5})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<double>((*r)[0]), (std::vector<double>{1.5, 3.5}));
}

TEST(Pow, MixedBaseAndExponentTypes) {
  Node n = MakeNode("Pow", 2);
  auto r = RunOp(n, {Tensor::FromVector<int32_t>({3}, {2, 3, 4}), Tensor::FromVector<float>({3}, {3, 0.5f, 0.5f})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].dtype(), DType::kI32);
  EXPECT_EQ(Values<int32_t>((*r)[0]), (std::vector<int32_t>{8, 1, 2}));
  r = RunOp(n, {Tensor::FromVector<int64_t>({2}, {3, -2}), Tensor::FromVector<int64_t>({2}, {39, 63})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].data<int64_t>()[0], 4052555153018976267LL);  // 3^39, exact beyond double
  EXPECT_EQ((*r)[0].data<int64_t>()[1], std::numeric_limits<int64_t>::min());  // (-2)^63 wraps
}

TEST(BitShift, LeftRightAndOversizedShift) {
  Node n = MakeNode("BitShift", 2);
  n.SetString("direction", "LEFT");
  auto r = RunOp(n, {Tensor::FromVector<uint8_t>({3}, {1, 3, 255}), Tensor::FromVector<uint8_t>({3}, {7, 1, 9})});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Values<uint8_t>((*r)[0]), (std::vector<uint8_t>{128, 6, 0}));
  n.SetString("direction", "RIGHT");
  r = RunOp(n, {Tensor::FromVector<uint8_t>({2}, {128, 7}), Tensor::FromVector<uint8_t>({2}, {7, 1})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<uint8_t>((*r)[0]), (std::vector<uint8_t>{1, 3}));
}

TEST(Activations, PublishedValues) {
  // Gelu(1) = Phi(1) = 0.8413447460685429; tanh form: 0.8411919906082768 (PyTorch docs/impl).
  Node g = MakeNode("Gelu", 1);
  auto x = Tensor::FromVector<double>({2}, {1.0, -1.0});
  auto r = RunOp(g, {x}, 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR((*r)[0].data<double>()[0], 0.8413447460685429, 1e-15);
  EXPECT_NEAR((*r)[0].data<double>()[1], -0.15865525393145707, 1e-15);
  g.SetString("approximate", "tanh");
  r = RunOp(g, {x}, 20);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<double>()[0], 0.8411919906082768, 1e-12);
  // Selu defaults (Klambauer et al. 2017): selu(1) = 1.0507009873554805, selu(-1) = -1.1113307378125628.
  Node s = MakeNode("Selu", 1);
  r = RunOp(s, {x});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<double>()[0], 1.0507009873554805, 1e-7);
  EXPECT_NEAR((*r)[0].data<double>()[1], -1.1113307378125628, 1e-7);
  // Mish(1) = tanh(ln(1+e)) = 0.8650983882673103.
  Node m = MakeNode("Mish", 1);
  r = RunOp(m, {x}, 18);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR((*r)[0].data<double>()[0], 0.8650983882673103, 1e-12);
}

TEST(Unary, IntegerAbsNegWrapAndIsInfFlags) {
  Node a = MakeNode("Abs", 1);
  auto r = RunOp(a, {Tensor::FromVector<int8_t>({3}, {-128, -3, 4})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<int8_t>((*r)[0]), (std::vector<int8_t>{-128, 3, 4}));
  Node inf = MakeNode("IsInf", 1);
  inf.SetInt("detect_positive", 0);
  r = RunOp(inf, {Tensor::FromVector<float>({3}, {kInf, -kInf, kNaN})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Values<bool>((*r)[0]), (std::vector<bool>{false, true, false}));
  Node sq = MakeNode("Sqrt", 1);
  r = RunOp(sq, {Tensor::FromVector<int32_t>({1}, {4})});
  EXPECT_FALSE(r.ok());  // Sqrt has no integer kernel: an error, not garbage
}

TEST(OpTable, CostFollowsTheDocumentedConvention) {
  const OpDef* add = OpTable::Get().Find("", "Add");
  const OpDef* sig = OpTable::Get().Find("", "Sigmoid");
  const OpDef* cast = OpTable::Get().Find("", "Cast");
  ASSERT_TRUE(add && sig && cast);
  Node n = MakeNode("Add", 2);
  InferContext ctx{n, 17, {TensorType::Of(DType::kF32, {4, 5}), TensorType::Of(DType::kF32, {5})}, {nullptr, nullptr}};
  std::vector<TensorType> out;
  ASSERT_TRUE(InferNodeTypes(*add, ctx, &out).ok());
  OpCost c = NodeCost(*add, ctx, out);
  EXPECT_EQ(c.flops, 20);
  EXPECT_EQ(c.bytes_read, 4 * (20 + 5));
  EXPECT_EQ(c.bytes_written, 4 * 20);
  Node s = MakeNode("Sigmoid", 1);
  InferContext sctx{s, 17, {TensorType::Of(DType::kF32, {10})}, {nullptr}};
  ASSERT_TRUE(InferNodeTypes(*sig, sctx, &out).ok());
  EXPECT_EQ(NodeCost(*sig, sctx, out).flops, 30);  // exp + add + div per element
}

}  // namespace
}  // namespace greenai
