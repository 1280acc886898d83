// Numerical gradient checks for the activation and tensor gradient rules (gradients_tensor.cc),
// plus Dropout, whose random forward is checked against its own mask.
#include <gtest/gtest.h>

#include "gradcheck_util.h"

namespace greenai::train::gradcheck {
namespace {

Tensor I64(const Shape& s, std::vector<int64_t> v) { return Tensor::FromVector<int64_t>(s, v); }

TEST(GradCheckTensor, GeluBothFormsAndErf) {
  for (std::string approx : {"none", "tanh"}) {
    SCOPED_TRACE(approx);
    GradCheck c(20);
    c.Input({"X", {3, 4}, -3, 3});
    c.g().AddNode("Gelu", {"X"}, {"Y"}, "gelu")->SetString("approximate", approx);
    c.Output("Y");
    c.Run(101);
  }
  GradCheck c(17);
  c.Input({"X", {3, 4}, -2, 2});
  c.g().AddNode("Erf", {"X"}, {"Y"}, "erf");
  c.Output("Y");
  c.Run(102);
}

TEST(GradCheckTensor, LeakyRelu) {
  GradCheck c(17);
  c.Input({"X", {4, 5}, -2, 2, 0.05});
  c.g().AddNode("LeakyRelu", {"X"}, {"Y"}, "lrelu")->SetFloat("alpha", 0.2f);
  c.Output("Y");
  c.Run(103);
}

TEST(GradCheckTensor, ConcatAlongEachAxis) {
  for (int64_t axis : {0, 1, -1}) {
    SCOPED_TRACE(axis);
    GradCheck c(13);
    const Shape a = axis == 0 ? Shape{2, 3, 2} : axis == 1 ? Shape{2, 1, 2} : Shape{2, 3, 1};
    const Shape b = axis == 0 ? Shape{1, 3, 2} : axis == 1 ? Shape{2, 4, 2} : Shape{2, 3, 3};
    c.Input({"A", a});
    c.Input({"B", b});
    c.Input({"C", a});
    c.g().AddNode("Concat", {"A", "B", "C"}, {"Y"}, "cat")->SetInt("axis", axis);
    c.Output("Y");
    c.Run(104);
  }
  GradCheck c(11);  // opset 11: Split takes sizes as an attribute
  c.Input({"A", {2, 2}});
  c.Input({"B", {2, 3}});
  c.g().AddNode("Concat", {"A", "B"}, {"Y"}, "cat")->SetInt("axis", 1);
  c.Output("Y");
  c.Run(105);
}

TEST(GradCheckTensor, SliceWithStepsNegativeIndicesAndAxes) {
  struct Case { std::vector<int64_t> starts, ends, axes, steps; };
  for (const Case& k : {Case{{1, 0}, {3, 5}, {0, 2}, {}}, Case{{-1}, {-5}, {1}, {-2}}, Case{{0, 1}, {100, 4}, {-1, 1}, {2, 2}}}) {
    GradCheck c(13);
    c.Input({"X", {3, 5, 6}});
    c.g().AddInitializer("starts", I64({static_cast<int64_t>(k.starts.size())}, k.starts));
    c.g().AddInitializer("ends", I64({static_cast<int64_t>(k.ends.size())}, k.ends));
    c.g().AddInitializer("axes", I64({static_cast<int64_t>(k.axes.size())}, k.axes));
    std::vector<std::string> in{"X", "starts", "ends", "axes"};
    if (!k.steps.empty()) {
      c.g().AddInitializer("steps", I64({static_cast<int64_t>(k.steps.size())}, k.steps));
      in.push_back("steps");
    }
    c.g().AddNode("Slice", in, {"Y"}, "slice");
    c.Output("Y");
    c.Run(106);
  }
}

TEST(GradCheckTensor, GatherRepeatedAndNegativeIndices) {
  for (int64_t axis : {0, 1}) {
    SCOPED_TRACE(axis);
    GradCheck c(13);
    c.Input({"X", {4, 3, 2}});
    c.Fixed("idx", I64({2, 2}, {0, 2, -1, 0}));  // index 0 twice: contributions add
    c.g().AddNode("Gather", {"X", "idx"}, {"Y"}, "gather")->SetInt("axis", axis);
    c.Output("Y");
    c.Run(107);
  }
}

TEST(GradCheckTensor, ReduceSumAndMeanAcrossOpsets) {
  struct Case { int64_t opset; std::vector<int64_t> axes; int64_t keepdims; };
  for (std::string op : {"ReduceSum", "ReduceMean"})
    for (const Case& k : {Case{13, {1}, 1}, Case{13, {-1, 0}, 0}, Case{13, {}, 0}, Case{11, {1}, 0}, Case{18, {2}, 0}}) {
      SCOPED_TRACE(op + " opset " + std::to_string(k.opset) + " keepdims " + std::to_string(k.keepdims));
      GradCheck c(k.opset);
      c.Input({"X", {2, 3, 4}});
      const bool axes_input = k.opset >= (op == "ReduceMean" ? 18 : 13);
      std::vector<std::string> in{"X"};
      if (axes_input && !k.axes.empty()) {
        c.g().AddInitializer("axes", I64({static_cast<int64_t>(k.axes.size())}, k.axes));
        in.push_back("axes");
      }
      Node* n = c.g().AddNode(op, in, {"Y"}, "reduce");
      if (!axes_input && !k.axes.empty()) n->SetInts("axes", k.axes);
      n->SetInt("keepdims", k.keepdims);
      c.Output("Y");
      c.Run(108);
    }
}

TEST(GradCheckTensor, ReduceMeanWithDynamicBatch) {
  // Batch dim unknown at build time: 1/count comes from Size(Y) / Size(X) at run time.
  Model m;
  m.opset_imports = {{"", 18}};
  Graph& g = *m.graph;
  TensorType xt = TensorType::Of(DType::kF64, {-1, 3});
  g.inputs.push_back(ValueInfo{"X", xt, ""});
  g.AddInitializer("axes", I64({1}, {0}));
  g.AddNode("ReduceMean", {"X", "axes"}, {"Y"}, "mean")->SetInt("keepdims", 0);
  TensorType yt;
  yt.dtype = DType::kF64;
  g.outputs.push_back(ValueInfo{"Y", yt, ""});
  auto gg = BuildGradientGraph(m, "Y", {"X"});
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  auto s = Session::Create(*gg->model);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto r = (*s)->Run({{"X", Tensor::FromVector<double>({4, 3}, std::vector<double>(12, 1.0))},
                      {gg->seed, Tensor::FromVector<double>({3}, {4, 8, -2})}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& dx = (*r)[1];
  ASSERT_EQ(dx.shape(), (Shape{4, 3}));
  for (int64_t i = 0; i < 4; ++i) {  // dX[i, j] = seed[j] / 4
    EXPECT_DOUBLE_EQ(dx.data<double>()[i * 3 + 0], 1.0);
    EXPECT_DOUBLE_EQ(dx.data<double>()[i * 3 + 1], 2.0);
    EXPECT_DOUBLE_EQ(dx.data<double>()[i * 3 + 2], -0.5);
  }
}

// Dropout's forward is random, so central differences do not apply: check dX against the
// mask the same run drew (dX = seed * scale where kept, 0 where dropped), and the drop rate.
TEST(GradCheckTensor, DropoutTrainingUsesItsMask) {
  Model m;
  m.opset_imports = {{"", 13}};
  Graph& g = *m.graph;
  const int64_t n = 4000;
  g.inputs.push_back(ValueInfo{"X", TensorType::Of(DType::kF64, {n}), ""});
  g.AddInitializer("ratio", Tensor::Scalar<double>(0.25));
  g.AddInitializer("train", Tensor::Scalar<bool>(true));
  g.AddNode("Dropout", {"X", "ratio", "train"}, {"Y"}, "drop")->SetInt("seed", 7);
  TensorType yt;
  yt.dtype = DType::kF64;
  g.outputs.push_back(ValueInfo{"Y", yt, ""});
  auto gg = BuildGradientGraph(m, "Y", {"X"});
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  auto s = Session::Create(*gg->model);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::mt19937 rng(5);
  Tensor x = RandomF64({n}, rng, 0.5, 1.5, 0);
  Tensor seed = RandomF64({n}, rng, -1, 1, 0);
  std::vector<double> first;
  for (int run = 0; run < 2; ++run) {
    auto r = (*s)->Run({{"X", x}, {gg->seed, seed}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const double* y = (*r)[0].data<double>();
    const double* dx = (*r)[1].data<double>();
    int64_t dropped = 0;
    for (int64_t i = 0; i < n; ++i) {
      const bool kept = y[i] != 0;  // x > 0.5, so a kept element is never 0
      dropped += kept ? 0 : 1;
      if (kept) {
        EXPECT_NEAR(y[i], x.data<double>()[i] / 0.75, 1e-12);
        EXPECT_NEAR(dx[i], seed.data<double>()[i] / 0.75, 1e-12);
      } else {
        EXPECT_EQ(dx[i], 0.0);
      }
    }
    EXPECT_NEAR(static_cast<double>(dropped) / n, 0.25, 0.03);  // ~7 sigma for n = 4000
    std::vector<double> ys(y, y + n);
    if (run == 0) first = ys;
    else EXPECT_NE(first, ys) << "each Run must draw a fresh mask";
  }
}

TEST(GradCheckTensor, DropoutInferenceIsIdentity) {
  GradCheck c(13);
  c.Input({"X", {3, 4}});
  c.g().AddNode("Dropout", {"X"}, {"Y"}, "drop");
  c.Output("Y");
  c.Run(109);
}

}  // namespace
}  // namespace greenai::train::gradcheck
