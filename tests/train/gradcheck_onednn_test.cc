// The oneDNN backward kernels (onednn_training.cc) against the reference training kernels
// (training_ref*.cc, themselves checked numerically in gradcheck_nn_test.cc), op by op over
// the attribute variants, and a whole f32 CNN training graph: Session picks the oneDNN
// kernels at plan time and its gradients match a reference-only Session.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "backends/cpu/run_node.h"
#include "gradcheck_util.h"

namespace greenai::train::gradcheck {
namespace {

constexpr const char* kDomain = "ai.greenai.training";

Tensor RandomF32(const Shape& s, std::mt19937& rng, float lo = -1, float hi = 1) {
  auto t = Tensor::Create(DType::kF32, s).value();
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& x : t.span<float>()) x = d(rng);
  return t;
}

// Runs `node` with reference kernels and with the best kernel; expects the best one to be
// oneDNN and every output to agree within atol + rtol * |ref|.
void ExpectOneDnnMatchesRef(const Node& node, const std::vector<Tensor>& inputs, double tol = 1e-4) {
  RunNodeOptions ref_opts;
  ref_opts.reference_only = true;
  auto ref = RunNode(node, inputs, ref_opts);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  std::string_view name;
  RunNodeOptions fast_opts;
  fast_opts.kernel_name_out = &name;
  auto fast = RunNode(node, inputs, fast_opts);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_NE(name.find("onednn"), std::string_view::npos) << "chose " << name;
  ASSERT_EQ(ref->size(), fast->size());
  for (size_t o = 0; o < ref->size(); ++o) {
    const Tensor &r = (*ref)[o], &f = (*fast)[o];
    if (!r.defined()) continue;
    ASSERT_EQ(r.shape(), f.shape()) << "output " << o;
    double scale = 0;
    for (int64_t i = 0; i < r.numel(); ++i) scale = std::max(scale, std::abs(static_cast<double>(r.data<float>()[i])));
    int bad = 0;
    for (int64_t i = 0; i < r.numel() && bad < 5; ++i) {
      const double a = r.data<float>()[i], b = f.data<float>()[i];
      if (!(std::abs(a - b) <= tol * (1 + scale))) {
        ++bad;
        ADD_FAILURE() << node.op_type << " output " << o << "[" << i << "]: ref " << a << ", oneDNN " << b;
      }
    }
  }
}

Node TrainingNode(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  Node n;
  n.op_type = op;
  n.domain = kDomain;
  n.name = "t";
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

struct ConvCase {
  ConvCase(std::string n, Shape xs, Shape ws, int64_t g = 1, std::vector<int64_t> s = {}, std::vector<int64_t> p = {},
           std::vector<int64_t> d = {}, std::vector<std::string> o = {"dx", "dw", "db"})
      : name(std::move(n)), x(std::move(xs)), w(std::move(ws)), group(g), strides(std::move(s)), pads(std::move(p)),
        dilations(std::move(d)), outs(std::move(o)) {}
  std::string name;
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, pads, dilations;
  std::vector<std::string> outs;
};

TEST(GradCheckOneDnn, ConvGradMatchesReference) {
  const std::vector<ConvCase> cases = {
      {"3x3 pad1", {2, 8, 10, 10}, {16, 8, 3, 3}, 1, {1, 1}, {1, 1, 1, 1}},
      {"7x7 s2 pad3 (resnet stem)", {2, 3, 20, 20}, {8, 3, 7, 7}, 1, {2, 2}, {3, 3, 3, 3}},
      {"1x1 s2", {2, 16, 8, 8}, {32, 16, 1, 1}, 1, {2, 2}},
      {"groups", {2, 8, 9, 9}, {12, 4, 3, 3}, 2, {1, 1}, {1, 1, 1, 1}},
      {"depthwise", {1, 8, 9, 9}, {8, 1, 3, 3}, 8, {2, 2}, {1, 1, 1, 1}},
      {"dilations asym pads", {1, 4, 11, 10}, {4, 4, 3, 3}, 1, {1, 2}, {2, 1, 0, 2}, {2, 2}},
      {"1-D", {2, 4, 15}, {6, 4, 3}, 1, {2}, {1, 1}},
      {"3-D", {1, 2, 5, 6, 6}, {4, 2, 3, 3, 3}, 1, {1, 1, 1}, {1, 1, 1, 1, 1, 1}},
      {"dX only", {2, 4, 6, 6}, {4, 4, 3, 3}, 1, {}, {}, {}, {"dx"}},
      {"dW+dB only", {2, 4, 6, 6}, {4, 4, 3, 3}, 1, {}, {}, {}, {"", "dw", "db"}},
      {"dX+dW (no bias)", {2, 4, 6, 6}, {4, 4, 3, 3}, 1, {}, {}, {}, {"dx", "dw"}},
  };
  std::mt19937 rng(201);
  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    Node n = TrainingNode("ConvGrad", {"dy", "x", "w"}, k.outs);
    if (k.group != 1) n.SetInt("group", k.group);
    if (!k.strides.empty()) n.SetInts("strides", k.strides);
    if (!k.pads.empty()) n.SetInts("pads", k.pads);
    if (!k.dilations.empty()) n.SetInts("dilations", k.dilations);
    // dY's shape: run the forward Conv once for it.
    Node conv;
    conv.op_type = "Conv";
    conv.name = "c";
    conv.inputs = {"x", "w"};
    conv.outputs = {"y"};
    conv.attributes = n.attributes;
    Tensor x = RandomF32(k.x, rng), w = RandomF32(k.w, rng);
    auto y = RunNode(conv, {x, w});
    ASSERT_TRUE(y.ok()) << y.status().ToString();
    ExpectOneDnnMatchesRef(n, {RandomF32((*y)[0].shape(), rng), x, w});
  }
}

struct PoolCase {
  PoolCase(std::string n, Shape xs, std::vector<int64_t> k, std::vector<int64_t> s, std::vector<int64_t> p,
           int64_t c = 0, int64_t ip = 0)
      : name(std::move(n)), x(std::move(xs)), kernel(std::move(k)), strides(std::move(s)), pads(std::move(p)), ceil(c),
        include_pad(ip) {}
  std::string name;
  Shape x;
  std::vector<int64_t> kernel, strides, pads;
  int64_t ceil, include_pad;
};

TEST(GradCheckOneDnn, PoolGradsMatchReference) {
  const std::vector<PoolCase> cases = {
      {"3x3 s2 pad1 (resnet)", {2, 16, 12, 12}, {3, 3}, {2, 2}, {1, 1, 1, 1}},
      {"2x2 s2", {2, 8, 8, 8}, {2, 2}, {2, 2}, {}},
      {"ceil", {1, 8, 7, 7}, {2, 2}, {2, 2}, {}, 1},
      {"include pad", {1, 8, 7, 7}, {3, 3}, {2, 2}, {1, 1, 1, 1}, 0, 1},
      {"1-D", {2, 8, 11}, {3}, {2}, {1, 1}},
      {"odd channels", {2, 5, 6, 6}, {2, 2}, {1, 1}, {}},
      {"3-D", {1, 8, 4, 5, 5}, {2, 2, 2}, {2, 2, 2}, {0, 1, 1, 0, 1, 1}},
  };
  std::mt19937 rng(202);
  for (std::string op : {"MaxPool", "AveragePool"})
    for (const auto& k : cases) {
      SCOPED_TRACE(op + " " + k.name);
      Node fwd;
      fwd.op_type = op;
      fwd.name = "p";
      fwd.inputs = {"x"};
      fwd.outputs = {"y"};
      fwd.SetInts("kernel_shape", k.kernel);
      if (!k.strides.empty()) fwd.SetInts("strides", k.strides);
      if (!k.pads.empty()) fwd.SetInts("pads", k.pads);
      if (k.ceil) fwd.SetInt("ceil_mode", 1);
      if (k.include_pad) fwd.SetInt("count_include_pad", 1);
      Tensor x = RandomF32(k.x, rng);
      auto y = RunNode(fwd, {x});
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      Node n = TrainingNode(op + "Grad", {"dy", "x"}, {"dx"});
      n.attributes = fwd.attributes;
      ExpectOneDnnMatchesRef(n, {RandomF32((*y)[0].shape(), rng), x});
    }
}

TEST(GradCheckOneDnn, BatchNormGradTrainingMatchesReference) {
  std::mt19937 rng(203);
  for (const Shape& s : {Shape{4, 3, 5, 5}, Shape{8, 16}, Shape{2, 8, 3, 4, 4}}) {
    SCOPED_TRACE(ShapeToString(s));
    Node n = TrainingNode("BatchNormalizationGrad", {"dy", "x", "scale", "mean", "var"}, {"dx", "ds", "db"});
    n.SetInt("training_mode", 1);
    n.SetFloat("epsilon", 1e-5f);
    const Shape c{s[1]};
    ExpectOneDnnMatchesRef(n, {RandomF32(s, rng), RandomF32(s, rng, -2, 3), RandomF32(c, rng, 0.5f, 1.5f),
                               RandomF32(c, rng), RandomF32(c, rng, 0.5f, 1.5f)});
  }
}

TEST(GradCheckOneDnn, BatchNormTrainingForwardMatchesReference) {
  std::mt19937 rng(207);
  for (const Shape& s : {Shape{4, 3, 5, 5}, Shape{8, 16}, Shape{2, 8, 3, 4, 4}}) {
    SCOPED_TRACE(ShapeToString(s));
    Node n;
    n.op_type = "BatchNormalization";
    n.name = "bn";
    n.inputs = {"x", "scale", "b", "mean", "var"};
    n.outputs = {"y", "rm", "rv"};
    n.SetInt("training_mode", 1);
    n.SetFloat("momentum", 0.8f);
    const Shape c{s[1]};
    ExpectOneDnnMatchesRef(n, {RandomF32(s, rng, -2, 3), RandomF32(c, rng, 0.5f, 1.5f), RandomF32(c, rng),
                               RandomF32(c, rng), RandomF32(c, rng, 0.5f, 1.5f)});
  }
}

TEST(GradCheckOneDnn, SoftmaxGradsMatchReference) {
  std::mt19937 rng(204);
  for (std::string op : {"Softmax", "LogSoftmax"})
    for (int64_t axis : {-1, 1}) {
      SCOPED_TRACE(op + " axis " + std::to_string(axis));
      Node fwd;
      fwd.op_type = op;
      fwd.name = "s";
      fwd.inputs = {"x"};
      fwd.outputs = {"y"};
      fwd.SetInt("axis", axis);
      const Shape s{3, 10, 4};
      auto y = RunNode(fwd, {RandomF32(s, rng, -3, 3)});
      ASSERT_TRUE(y.ok()) << y.status().ToString();
      Node n = TrainingNode(op + "Grad", {"dy", "y"}, {"dx"});
      n.SetInt("axis", axis);
      ExpectOneDnnMatchesRef(n, {RandomF32(s, rng), (*y)[0]});
    }
}

TEST(GradCheckOneDnn, LayerNormGeluReluGradsMatchReference) {
  std::mt19937 rng(206);
  for (float alpha : {0.0f, 0.2f}) {
    SCOPED_TRACE("ReluGrad alpha " + std::to_string(alpha));
    Node n = TrainingNode("ReluGrad", {"dy", "x"}, {"dx"});
    if (alpha != 0) n.SetFloat("alpha", alpha);
    ExpectOneDnnMatchesRef(n, {RandomF32({7, 45}, rng), RandomF32({7, 45}, rng, -2, 2)}, 0);
  }
  for (int64_t axis : {-1, 1}) {
    SCOPED_TRACE("LayerNormalizationGrad axis " + std::to_string(axis));
    const Shape s{4, 6, 8};
    const Shape ns = axis == -1 ? Shape{8} : Shape{6, 8};
    Node n = TrainingNode("LayerNormalizationGrad", {"dy", "x", "scale"}, {"dx", "ds", "db"});
    n.SetInt("axis", axis);
    ExpectOneDnnMatchesRef(n, {RandomF32(s, rng), RandomF32(s, rng, -2, 3), RandomF32(ns, rng, 0.5f, 1.5f)});
  }
  for (std::string approx : {"none", "tanh"}) {
    SCOPED_TRACE("GeluGrad " + approx);
    Node n = TrainingNode("GeluGrad", {"dy", "x"}, {"dx"});
    n.SetString("approximate", approx);
    ExpectOneDnnMatchesRef(n, {RandomF32({5, 33}, rng), RandomF32({5, 33}, rng, -4, 4)});
  }
}

// Bad inputs to the training ops are errors naming the node, never crashes, on both kernels.
TEST(GradCheckOneDnn, TrainingOpsRejectBadInputs) {
  std::mt19937 rng(208);
  for (bool reference : {true, false}) {
    SCOPED_TRACE(reference ? "reference" : "best kernel");
    RunNodeOptions o;
    o.reference_only = reference;
    Node conv = TrainingNode("ConvGrad", {"dy", "x", "w"}, {"dx", "dw"});
    auto r = RunNode(conv, {RandomF32({1, 2, 5, 5}, rng), RandomF32({1, 3, 6, 6}, rng), RandomF32({2, 3, 3, 3}, rng)}, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("ConvGrad 't'"), std::string::npos) << r.status().message();
    Node pool = TrainingNode("MaxPoolGrad", {"dy", "x"}, {"dx"});
    pool.SetInts("kernel_shape", {2, 2});
    r = RunNode(pool, {RandomF32({1, 2, 2, 2}, rng), RandomF32({1, 2, 4, 4}, rng)}, o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("MaxPoolGrad 't'"), std::string::npos) << r.status().message();
  }
  Node sce = TrainingNode("SoftmaxCrossEntropyLossGrad", {"dl", "s", "l"}, {"ds"});
  auto r = RunNode(sce, {Tensor::Scalar<float>(1.0f), RandomF32({2, 3}, rng), Tensor::FromVector<int64_t>({2}, {0, 3})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("label 3"), std::string::npos) << r.status().message();
  Node gather = TrainingNode("GatherGrad", {"dy", "i", "shape"}, {"dx"});
  r = RunNode(gather, {RandomF32({2}, rng), Tensor::FromVector<int64_t>({2}, {0, 5}), Tensor::FromVector<int64_t>({1}, {4})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("index 5"), std::string::npos) << r.status().message();
}

// A ResNet-style f32 training graph: the planned kernels for the backward ops are oneDNN's,
// and its gradients agree with the reference-only plan.
TEST(GradCheckOneDnn, CnnTrainingGraphPlansOneDnnBackward) {
  Model m;
  m.opset_imports = {{"", 15}};
  Graph& g = *m.graph;
  std::mt19937 rng(205);
  g.inputs.push_back(ValueInfo{"x", TensorType::Of(DType::kF32, {4, 3, 16, 16}), ""});
  g.inputs.push_back(ValueInfo{"labels", TensorType::Of(DType::kI64, {4}), ""});
  g.AddInitializer("w1", RandomF32({8, 3, 3, 3}, rng, -0.3f, 0.3f));
  g.AddInitializer("g1", RandomF32({8}, rng, 0.5f, 1.5f));
  g.AddInitializer("b1", RandomF32({8}, rng));
  g.AddInitializer("rm", RandomF32({8}, rng));
  g.AddInitializer("rv", RandomF32({8}, rng, 0.5f, 1.5f));
  g.AddInitializer("w2", RandomF32({8, 8, 3, 3}, rng, -0.3f, 0.3f));
  g.AddInitializer("cb2", RandomF32({8}, rng));
  g.AddInitializer("fw", RandomF32({10, 8}, rng, -0.3f, 0.3f));
  g.AddNode("Conv", {"x", "w1"}, {"c1"}, "conv1")->SetInts("pads", {1, 1, 1, 1});
  g.AddNode("BatchNormalization", {"c1", "g1", "b1", "rm", "rv"}, {"n1", "rm_o", "rv_o"}, "bn1")
      ->SetInt("training_mode", 1);
  g.AddNode("Relu", {"n1"}, {"r1"}, "relu1");
  Node* mp = g.AddNode("MaxPool", {"r1"}, {"p1"}, "pool1");
  mp->SetInts("kernel_shape", {3, 3});
  mp->SetInts("strides", {2, 2});
  mp->SetInts("pads", {1, 1, 1, 1});
  Node* c2 = g.AddNode("Conv", {"p1", "w2", "cb2"}, {"c2"}, "conv2");
  c2->SetInts("pads", {1, 1, 1, 1});
  Node* ap = g.AddNode("AveragePool", {"c2"}, {"a2"}, "avg");
  ap->SetInts("kernel_shape", {2, 2});
  ap->SetInts("strides", {2, 2});
  g.AddNode("GlobalAveragePool", {"a2"}, {"gp"}, "gap");
  g.AddNode("Flatten", {"gp"}, {"f"}, "flat");
  g.AddNode("Gemm", {"f", "fw"}, {"logits"}, "fc")->SetInt("transB", 1);
  g.AddNode("SoftmaxCrossEntropyLoss", {"logits", "labels"}, {"loss"}, "sce");
  TensorType lt;
  lt.dtype = DType::kF32;
  g.outputs.push_back(ValueInfo{"loss", lt, ""});
  GradientOptions go;
  go.seed_as_input = false;
  auto gg = BuildGradientGraph(m, "loss", {"w1", "g1", "b1", "w2", "cb2", "fw"}, go);
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();

  auto fast = Session::Create(*gg->model);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  std::set<std::string> seen;
  const Graph& planned = (*fast)->graph();
  for (size_t i = 0; i < planned.nodes().size(); ++i) {
    const Node& n = *planned.nodes()[i];
    if (n.domain != kDomain || n.op_type == "SoftmaxCrossEntropyLossGrad") continue;
    seen.insert(n.op_type);
    EXPECT_NE((*fast)->kernel_name(i).find("onednn"), std::string_view::npos)
        << n.op_type << " planned " << (*fast)->kernel_name(i);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"ConvGrad", "BatchNormalizationGrad", "ReluGrad", "MaxPoolGrad",
                                         "AveragePoolGrad"}));

  SessionOptions ro;
  ro.reference_only = true;
  auto ref = Session::Create(*gg->model, ro);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  std::vector<std::pair<std::string, Tensor>> feeds{{"x", RandomF32({4, 3, 16, 16}, rng)},
                                                    {"labels", Tensor::FromVector<int64_t>({4}, {1, 7, 3, 9})}};
  auto a = (*fast)->Run(feeds);
  auto b = (*ref)->Run(feeds);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(a->size(), b->size());
  for (size_t o = 0; o < a->size(); ++o) {
    const Tensor &fa = (*a)[o], &rb = (*b)[o];
    ASSERT_EQ(fa.shape(), rb.shape());
    double scale = 0;
    for (int64_t i = 0; i < rb.numel(); ++i) scale = std::max(scale, std::abs(static_cast<double>(rb.data<float>()[i])));
    for (int64_t i = 0; i < rb.numel(); ++i)
      ASSERT_NEAR(fa.data<float>()[i], rb.data<float>()[i], 1e-4 * (1 + scale)) << "output " << o << "[" << i << "]";
  }
}

}  // namespace
}  // namespace greenai::train::gradcheck
