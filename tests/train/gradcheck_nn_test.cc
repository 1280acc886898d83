// Numerical gradient checks for the nn gradient rules (gradients_nn.cc): the gradient graph,
// run by Session in double precision, against central differences of the forward model.
#include <gtest/gtest.h>

#include "gradcheck_util.h"

namespace greenai::train::gradcheck {
namespace {

Tensor Labels(const Shape& s, std::vector<int64_t> v) { return Tensor::FromVector<int64_t>(s, v); }

TEST(GradCheckNn, SoftmaxCrossEntropyLossReductions) {
  for (std::string red : {"mean", "sum", "none"}) {
    SCOPED_TRACE(red);
    GradCheck c(13);
    c.Input({"scores", {4, 5}, -2, 2});
    c.Fixed("labels", Labels({4}, {0, 3, 4, 3}));
    c.g().AddNode("SoftmaxCrossEntropyLoss", {"scores", "labels"}, {"loss"}, "sce")->SetString("reduction", red);
    c.Output("loss");
    c.Run(11);
  }
}

TEST(GradCheckNn, SoftmaxCrossEntropyLossWeightsIgnoreIndexAndSpatial) {
  GradCheck c(13);
  c.Input({"scores", {2, 3, 4}, -2, 2});  // [N, C, D]
  c.Fixed("labels", Labels({2, 4}, {0, 2, -1, 1, 1, -1, 0, 2}));
  c.Fixed("w", Tensor::FromVector<double>({3}, {0.5, 2.0, 1.25}));
  Node* n = c.g().AddNode("SoftmaxCrossEntropyLoss", {"scores", "labels", "w"}, {"loss", "logp"}, "sce");
  n->SetInt("ignore_index", -1);
  c.Output("loss");
  c.Run(12);
}

TEST(GradCheckNn, SoftmaxCrossEntropyLossInsideMlp) {
  // The training graph shape the trainer uses: Gemm -> Relu -> Gemm -> loss, one scalar output.
  GradCheck c(17);
  c.Input({"x", {3, 4}});
  c.Input({"W1", {4, 5}});
  c.Input({"W2", {5, 3}});
  c.Fixed("labels", Labels({3}, {2, 0, 1}));
  c.g().AddNode("Gemm", {"x", "W1"}, {"h"}, "fc1");
  c.g().AddNode("Relu", {"h"}, {"a"}, "relu");
  c.g().AddNode("Gemm", {"a", "W2"}, {"logits"}, "fc2");
  c.g().AddNode("SoftmaxCrossEntropyLoss", {"logits", "labels"}, {"loss"}, "sce");
  c.Output("loss");
  c.Run(13);
}

struct ConvCase {
  ConvCase(std::string n, Shape xs, Shape ws, int64_t g = 1, std::vector<int64_t> s = {}, std::vector<int64_t> p = {},
           std::vector<int64_t> d = {}, bool b = true, std::string ap = "")
      : name(std::move(n)), x(std::move(xs)), w(std::move(ws)), group(g), strides(std::move(s)), pads(std::move(p)),
        dilations(std::move(d)), bias(b), auto_pad(std::move(ap)) {}
  std::string name;
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, pads, dilations;
  bool bias;
  std::string auto_pad;
};

TEST(GradCheckNn, ConvAttributeVariants) {
  const std::vector<ConvCase> cases = {
      {"plain", {2, 3, 5, 5}, {4, 3, 3, 3}},
      {"strides+pads", {1, 2, 6, 5}, {3, 2, 3, 2}, 1, {2, 2}, {1, 0, 1, 1}},
      {"dilations", {1, 2, 7, 7}, {2, 2, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}, {2, 2}},
      {"groups", {2, 4, 5, 5}, {6, 2, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}},
      {"depthwise+stride", {1, 3, 6, 6}, {3, 1, 3, 3}, 3, {2, 2}, {1, 1, 1, 1}},
      {"no bias", {1, 2, 4, 4}, {2, 2, 2, 2}, 1, {}, {}, {}, false},
      {"1-D", {2, 2, 7}, {3, 2, 3}, 1, {2}, {1, 1}, {2}},
      {"3-D", {1, 2, 3, 4, 4}, {2, 2, 2, 3, 3}, 1, {1, 2, 1}, {0, 1, 1, 1, 0, 1}},
      {"same_upper", {1, 2, 5, 5}, {2, 2, 3, 3}, 1, {2, 2}, {}, {}, true, "SAME_UPPER"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    GradCheck c;
    c.Input({"X", k.x});
    c.Input({"W", k.w});
    std::vector<std::string> in{"X", "W"};
    if (k.bias) {
      c.Input({"B", {k.w[0]}});
      in.push_back("B");
    }
    Node* n = c.g().AddNode("Conv", in, {"Y"}, "conv");
    if (k.group != 1) n->SetInt("group", k.group);
    if (!k.strides.empty()) n->SetInts("strides", k.strides);
    if (!k.pads.empty()) n->SetInts("pads", k.pads);
    if (!k.dilations.empty()) n->SetInts("dilations", k.dilations);
    if (!k.auto_pad.empty()) n->SetString("auto_pad", k.auto_pad);
    c.Output("Y");
    c.Run(21);
  }
}

struct PoolCase {
  PoolCase(std::string n, Shape xs, std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p,
           int64_t c = 0, int64_t ip = 0, std::vector<int64_t> d = {})
      : name(std::move(n)), x(std::move(xs)), kernel(std::move(k)), strides(std::move(s)), pads(std::move(p)), ceil(c),
        include_pad(ip), dilations(std::move(d)) {}
  std::string name;
  Shape x;
  std::vector<int64_t> kernel, strides, pads;
  int64_t ceil, include_pad;
  std::vector<int64_t> dilations;
};

TEST(GradCheckNn, MaxPoolVariants) {
  const std::vector<PoolCase> cases = {
      {"2x2 s2", {2, 2, 4, 4}, {2, 2}, {2, 2}, {}},
      {"3x3 s2 pads", {1, 3, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
      {"ceil", {1, 2, 5, 5}, {2, 2}, {2, 2}, {}, 1},
      {"dilations", {1, 1, 6, 6}, {2, 2}, {1, 1}, {}, 0, 0, {2, 2}},
      {"1-D", {2, 2, 7}, {3}, {2}, {1, 1}},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    GradCheck c;
    c.Input({"X", k.x});
    Node* n = c.g().AddNode("MaxPool", {"X"}, {"Y"}, "pool");
    n->SetInts("kernel_shape", k.kernel);
    if (!k.strides.empty()) n->SetInts("strides", k.strides);
    if (!k.pads.empty()) n->SetInts("pads", k.pads);
    if (k.ceil) n->SetInt("ceil_mode", 1);
    if (!k.dilations.empty()) n->SetInts("dilations", k.dilations);
    c.Output("Y");
    c.Run(31);
  }
}

TEST(GradCheckNn, AveragePoolVariants) {
  const std::vector<PoolCase> cases = {
      {"2x2 s2", {2, 2, 4, 4}, {2, 2}, {2, 2}, {}},
      {"3x3 s2 pads exclude", {1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 0},
      {"3x3 s2 pads include", {1, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 1},
      {"ceil", {1, 2, 5, 5}, {2, 2}, {2, 2}, {}, 1},
      {"asymmetric pads s1", {1, 1, 4, 5}, {2, 3}, {1, 1}, {0, 1, 1, 0}, 0, 1},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    GradCheck c;
    c.Input({"X", k.x});
    Node* n = c.g().AddNode("AveragePool", {"X"}, {"Y"}, "pool");
    n->SetInts("kernel_shape", k.kernel);
    if (!k.strides.empty()) n->SetInts("strides", k.strides);
    if (!k.pads.empty()) n->SetInts("pads", k.pads);
    if (k.ceil) n->SetInt("ceil_mode", 1);
    if (k.include_pad) n->SetInt("count_include_pad", 1);
    c.Output("Y");
    c.Run(41);
  }
}

TEST(GradCheckNn, GlobalAveragePool) {
  GradCheck c;
  c.Input({"X", {2, 3, 4, 5}});
  c.g().AddNode("GlobalAveragePool", {"X"}, {"Y"}, "gap");
  c.Output("Y");
  c.Run(51);
}

TEST(GradCheckNn, BatchNormalizationTrainingWithRunningStats) {
  for (bool stats_outputs : {true, false}) {
    SCOPED_TRACE(stats_outputs ? "with running_mean/var outputs" : "Y only");
    GradCheck c(15);
    c.Input({"X", {3, 2, 3, 2}});
    c.Input({"scale", {2}, 0.5, 1.5});
    c.Input({"B", {2}});
    c.Fixed("mean", Tensor::FromVector<double>({2}, {0.1, -0.2}));
    c.Fixed("var", Tensor::FromVector<double>({2}, {1.5, 0.7}));
    std::vector<std::string> outs{"Y"};
    if (stats_outputs) outs = {"Y", "rm", "rv"};
    Node* n = c.g().AddNode("BatchNormalization", {"X", "scale", "B", "mean", "var"}, outs, "bn");
    n->SetInt("training_mode", 1);
    n->SetFloat("epsilon", 1e-3f);
    c.Output("Y");
    c.Run(61, 1e-5);
  }
}

TEST(GradCheckNn, BatchNormalizationOpset12TrainingByOutputCount) {
  // Before opset 14 there is no training_mode: running-statistics outputs mean training.
  GradCheck c(12);
  c.Input({"X", {4, 2, 3}});
  c.Input({"scale", {2}, 0.5, 1.5});
  c.Input({"B", {2}});
  c.Fixed("mean", Tensor::FromVector<double>({2}, {0.3, -0.1}));
  c.Fixed("var", Tensor::FromVector<double>({2}, {0.9, 1.7}));
  c.g().AddNode("BatchNormalization", {"X", "scale", "B", "mean", "var"}, {"Y", "rm", "rv"}, "bn");
  c.Output("Y");
  c.Run(63, 1e-5);
}

TEST(GradCheckNn, BatchNormalizationInferenceForm) {
  GradCheck c(15);
  c.Input({"X", {2, 3, 4}});
  c.Input({"scale", {3}, 0.5, 1.5});
  c.Input({"B", {3}});
  c.Fixed("mean", Tensor::FromVector<double>({3}, {0.1, -0.2, 0.3}));
  c.Fixed("var", Tensor::FromVector<double>({3}, {1.5, 0.7, 0.2}));
  c.g().AddNode("BatchNormalization", {"X", "scale", "B", "mean", "var"}, {"Y"}, "bn");
  c.Output("Y");
  c.Run(62);
}

TEST(GradCheckNn, BatchNormalizationRunningStatsFollowOnnxFormula) {
  // running = input * momentum + batch * (1 - momentum), batch var biased (ONNX spec).
  GradCheck c(15);
  c.Input({"X", {2, 1, 2}});
  Tensor x = Tensor::FromVector<double>({2, 1, 2}, {1, 2, 3, 6});  // mean 3, var (4+1+0+9)/4 = 3.5
  Model& m = c.model();
  m.graph->AddInitializer("s", Tensor::FromVector<double>({1}, {1}));
  m.graph->AddInitializer("b", Tensor::FromVector<double>({1}, {0}));
  m.graph->AddInitializer("m", Tensor::FromVector<double>({1}, {1}));
  m.graph->AddInitializer("v", Tensor::FromVector<double>({1}, {2}));
  Node* n = c.g().AddNode("BatchNormalization", {"X", "s", "b", "m", "v"}, {"Y", "rm", "rv"}, "bn");
  n->SetInt("training_mode", 1);
  n->SetFloat("momentum", 0.75f);
  for (const char* o : {"Y", "rm", "rv"}) c.Output(o);
  auto s = Session::Create(m);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto r = (*s)->Run({{"X", x}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR((*r)[1].data<double>()[0], 1 * 0.75 + 3 * 0.25, 1e-12);
  EXPECT_NEAR((*r)[2].data<double>()[0], 2 * 0.75 + 3.5 * 0.25, 1e-12);
}

TEST(GradCheckNn, LayerNormalizationAxes) {
  for (int64_t axis : {-1, 1}) {
    SCOPED_TRACE(axis);
    GradCheck c(17);
    c.Input({"X", {2, 3, 4}});
    const Shape ns = axis == -1 ? Shape{4} : Shape{3, 4};
    c.Input({"scale", ns, 0.5, 1.5});
    c.Input({"B", ns});
    c.g().AddNode("LayerNormalization", {"X", "scale", "B"}, {"Y"}, "ln")->SetInt("axis", axis);
    c.Output("Y");
    c.Run(71, 1e-5);
  }
}

TEST(GradCheckNn, SoftmaxAndLogSoftmaxAxes) {
  for (std::string op : {"Softmax", "LogSoftmax"})
    for (int64_t axis : {-1, 0, 1}) {
      SCOPED_TRACE(op + " axis " + std::to_string(axis));
      GradCheck c(13);
      c.Input({"X", {2, 3, 4}, -2, 2});
      c.g().AddNode(op, {"X"}, {"Y"}, "sm")->SetInt("axis", axis);
      c.Output("Y");
      c.Run(81);
    }
  // Opset 11 (2-D coercion) on the last axis.
  GradCheck c(11);
  c.Input({"X", {3, 5}, -2, 2});
  c.g().AddNode("Softmax", {"X"}, {"Y"}, "sm");
  c.Output("Y");
  c.Run(82);
}

TEST(GradCheckNn, SmallCnnEndToEnd) {
  // Conv -> BN(training) -> Relu -> MaxPool -> Conv -> GlobalAveragePool -> Flatten -> Gemm -> loss.
  GradCheck c(15);
  c.Input({"x", {2, 2, 6, 6}});
  c.Input({"w1", {3, 2, 3, 3}});
  c.Input({"g1", {3}, 0.5, 1.5});
  c.Input({"b1", {3}});
  c.Input({"w2", {4, 3, 2, 2}});
  c.Input({"fw", {4, 3}});
  c.Fixed("rm", Tensor::FromVector<double>({3}, {0, 0, 0}));
  c.Fixed("rv", Tensor::FromVector<double>({3}, {1, 1, 1}));
  c.Fixed("labels", Labels({2}, {1, 2}));
  c.g().AddNode("Conv", {"x", "w1"}, {"c1"}, "conv1")->SetInts("pads", {1, 1, 1, 1});
  c.g().AddNode("BatchNormalization", {"c1", "g1", "b1", "rm", "rv"}, {"n1", "rm_out", "rv_out"}, "bn1")
      ->SetInt("training_mode", 1);
  c.g().AddNode("Relu", {"n1"}, {"r1"}, "relu1");
  Node* mp = c.g().AddNode("MaxPool", {"r1"}, {"p1"}, "pool1");
  mp->SetInts("kernel_shape", {2, 2});
  mp->SetInts("strides", {2, 2});
  c.g().AddNode("Conv", {"p1", "w2"}, {"c2"}, "conv2");
  c.g().AddNode("GlobalAveragePool", {"c2"}, {"gp"}, "gap");
  c.g().AddNode("Flatten", {"gp"}, {"f"}, "flat");
  c.g().AddNode("Gemm", {"f", "fw"}, {"logits"}, "fc");
  c.g().AddNode("SoftmaxCrossEntropyLoss", {"logits", "labels"}, {"loss"}, "sce");
  c.Output("loss");
  c.Run(91, 1e-5);
}

TEST(GradCheckNn, UnsupportedCasesNameTheNode) {
  GradCheck c(13);
  c.Input({"X", {2, 3, 4}});
  c.g().AddNode("MaxPool", {"X"}, {"Y", "I"}, "mp")->SetInts("kernel_shape", {2});
  c.g().AddNode("Cast", {"I"}, {"If"}, "cast")->SetInt("to", 11);
  c.g().AddNode("Add", {"Y", "If"}, {"Z"}, "add");
  c.Output("Z");
  // The Indices output feeds the loss only through a Cast of integers (no gradient), so this works...
  auto ok = BuildGradientGraph(c.model(), "Z", {"X"});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  // ...while a gradient into SoftmaxCrossEntropyLoss's class weights is refused by name.
  GradCheck d(13);
  d.Input({"s", {2, 3}});
  d.Input({"w", {3}});
  d.Fixed("l", Labels({2}, {0, 1}));
  d.g().AddNode("SoftmaxCrossEntropyLoss", {"s", "l", "w"}, {"loss"}, "sce");
  d.Output("loss");
  auto r = BuildGradientGraph(d.model(), "loss", {"s", "w"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("SoftmaxCrossEntropyLoss 'sce'"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace greenai::train::gradcheck
