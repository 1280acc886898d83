// Numerical gradient checks for every gradient rule: the gradient graph, run by Session in
// double precision, against central differences of the forward model.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ops/gradients.h"
#include "runtime/session.h"
#include "train/autodiff.h"

namespace greenai::train {
namespace {

struct Spec {
  std::string name;
  Shape shape;
  double lo = -1, hi = 1;      // uniform range
  double min_abs = 0;          // keep |x| >= min_abs (away from kinks such as Relu at 0)
};

Tensor Random(const Shape& s, std::mt19937& rng, double lo, double hi, double min_abs) {
  auto t = Tensor::Create(DType::kF64, s).value();
  std::uniform_real_distribution<double> d(lo, hi);
  for (double& x : t.span<double>()) {
    do x = d(rng);
    while (std::abs(x) < min_abs);
  }
  return t;
}

class GradCheck {
 public:
  GradCheck() {
    model_.opset_imports = {{"", 17}};
  }
  Graph& g() { return *model_.graph; }
  void Input(const Spec& s) {
    g().inputs.push_back(ValueInfo{s.name, TensorType::Of(DType::kF64, s.shape), ""});
    specs_.push_back(s);
  }
  void Output(const std::string& name) {
    TensorType t;
    t.dtype = DType::kF64;  // rank left unknown: inference fills it
    g().outputs.push_back(ValueInfo{name, t, ""});
    out_ = name;
  }

  // Checks d<R, out>/d input for every input against central differences.
  void Run(uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (const auto& s : specs_) feeds.emplace_back(s.name, Random(s.shape, rng, s.lo, s.hi, s.min_abs));
    auto fwd = Session::Create(model_);
    ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
    auto y0 = (*fwd)->Run(feeds);
    ASSERT_TRUE(y0.ok()) << y0.status().ToString();
    Tensor R = Random((*y0)[0].shape(), rng, -1, 1, 0);

    std::vector<std::string> params;
    for (const auto& s : specs_) params.push_back(s.name);
    auto gg = BuildGradientGraph(model_, out_, params);
    ASSERT_TRUE(gg.ok()) << gg.status().ToString();
    auto bwd = Session::Create(*gg->model);
    ASSERT_TRUE(bwd.ok()) << bwd.status().ToString();
    auto bfeeds = feeds;
    bfeeds.emplace_back(gg->seed, R);
    auto res = (*bwd)->Run(bfeeds);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    ASSERT_EQ(res->size(), 1 + specs_.size());

    auto objective = [&](const std::vector<std::pair<std::string, Tensor>>& f) {
      auto y = (*fwd)->Run(f);
      EXPECT_TRUE(y.ok());
      double s = 0;
      for (int64_t i = 0; i < R.numel(); ++i) s += R.data<double>()[i] * (*y)[0].data<double>()[i];
      return s;
    };
    for (size_t p = 0; p < specs_.size(); ++p) {
      const Tensor& grad = (*res)[1 + p];
      ASSERT_EQ(grad.shape(), specs_[p].shape) << "gradient of " << specs_[p].name;
      ASSERT_EQ(grad.dtype(), DType::kF64);
      Tensor x = feeds[p].second;
      for (int64_t i = 0; i < x.numel(); ++i) {
        const double orig = x.data<double>()[i], h = 1e-5;
        auto f = feeds;
        f[p].second = x.Clone();
        f[p].second.data<double>()[i] = orig + h;
        const double fp = objective(f);
        f[p].second.data<double>()[i] = orig - h;
        const double fm = objective(f);
        const double num = (fp - fm) / (2 * h);
        EXPECT_NEAR(grad.data<double>()[i], num, 1e-6 * (1 + std::abs(num)))
            << "d/d " << specs_[p].name << "[" << i << "]";
      }
    }
  }

  Model model_;

 private:
  std::vector<Spec> specs_;
  std::string out_;
};

TEST(Autodiff, GemmAllTransposesWithBroadcastBias) {
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      SCOPED_TRACE(testing::Message() << "transA=" << ta << " transB=" << tb);
      GradCheck c;
      c.Input({"A", ta ? Shape{4, 3} : Shape{3, 4}});
      c.Input({"B", tb ? Shape{5, 4} : Shape{4, 5}});
      c.Input({"C", ta ? Shape{5} : Shape{3, 1}});
      Node* n = c.g().AddNode("Gemm", {"A", "B", "C"}, {"Y"}, "gemm");
      n->SetInt("transA", ta);
      n->SetInt("transB", tb);
      n->SetFloat("alpha", 0.75f);
      n->SetFloat("beta", 1.5f);
      c.Output("Y");
      c.Run(static_cast<uint32_t>(10 + ta * 2 + tb));
    }
}

TEST(Autodiff, MatMul2DAndBatchedWithBroadcast) {
  struct Case { Shape a, b; };
  for (const Case& k : {Case{{3, 4}, {4, 2}}, Case{{2, 3, 4}, {4, 5}}, Case{{3, 4}, {2, 4, 2}},
                        Case{{2, 1, 3, 4}, {3, 4, 2}}}) {
    SCOPED_TRACE(ShapeToString(k.a) + " x " + ShapeToString(k.b));
    GradCheck c;
    c.Input({"A", k.a});
    c.Input({"B", k.b});
    c.g().AddNode("MatMul", {"A", "B"}, {"Y"}, "mm");
    c.Output("Y");
    c.Run(3);
  }
}

TEST(Autodiff, BinaryOpsWithBroadcasting) {
  struct Case { Shape a, b; };
  for (std::string op : {"Add", "Sub", "Mul", "Div"})
    for (const Case& k : {Case{{2, 3}, {2, 3}}, Case{{2, 3, 4}, {3, 1}}, Case{{1, 4}, {3, 1}}, Case{{4}, {2, 1, 4}},
                          Case{{2, 3}, {}}}) {
      SCOPED_TRACE(op + " " + ShapeToString(k.a) + " " + ShapeToString(k.b));
      GradCheck c;
      c.Input({"A", k.a});
      // Divisors stay in [0.5, 1.5] so 1/b is smooth at the probe scale.
      if (op == "Div") c.Input({"B", k.b, 0.5, 1.5}); else c.Input({"B", k.b});
      c.g().AddNode(op, {"A", "B"}, {"Y"}, "bin");
      c.Output("Y");
      c.Run(5);
    }
}

TEST(Autodiff, Activations) {
  for (std::string op : {"Relu", "Sigmoid", "Tanh"}) {
    SCOPED_TRACE(op);
    GradCheck c;
    c.Input({"X", {3, 5}, -2, 2, 0.05});
    c.g().AddNode(op, {"X"}, {"Y"}, "act");
    c.Output("Y");
    c.Run(7);
  }
}

TEST(Autodiff, ReshapeFlattenTranspose) {
  {
    GradCheck c;
    c.Input({"X", {2, 3, 4}});
    c.g().AddInitializer("shape", Tensor::FromVector<int64_t>({2}, {4, -1}));
    c.g().AddNode("Reshape", {"X", "shape"}, {"Y"}, "reshape");
    c.Output("Y");
    c.Run(1);
  }
  {
    GradCheck c;
    c.Input({"X", {2, 3, 2, 2}});
    c.g().AddNode("Flatten", {"X"}, {"Y"}, "flatten")->SetInt("axis", 2);
    c.Output("Y");
    c.Run(2);
  }
  for (bool with_perm : {true, false}) {
    GradCheck c;
    c.Input({"X", {2, 3, 4}});
    Node* n = c.g().AddNode("Transpose", {"X"}, {"Y"}, "tr");
    if (with_perm) n->SetInts("perm", {2, 0, 1});
    c.Output("Y");
    c.Run(3);
  }
}

// x feeds two branches, so its gradient is a Sum of two contributions; W is used twice.
TEST(Autodiff, SharedValuesAccumulate) {
  GradCheck c;
  c.Input({"x", {4, 3}});
  c.Input({"W", {3, 3}});
  c.Input({"b", {3}});
  c.g().AddNode("MatMul", {"x", "W"}, {"h"}, "mm1");
  c.g().AddNode("Add", {"h", "b"}, {"h2"}, "add");
  c.g().AddNode("Tanh", {"h2"}, {"a"}, "tanh");
  c.g().AddNode("MatMul", {"a", "W"}, {"o"}, "mm2");
  c.g().AddNode("Mul", {"o", "x"}, {"y"}, "mul");
  c.Output("y");
  c.Run(9);
}

TEST(Autodiff, ErrorsNameTheProblem) {
  GradCheck c;
  c.Input({"X", {2, 3}});
  c.g().AddNode("Sin", {"X"}, {"Y"}, "sm");  // an op without a gradient rule
  c.Output("Y");
  auto r = BuildGradientGraph(c.model_, "Y", {"X"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("Sin 'sm'"), std::string::npos) << r.status().message();
  EXPECT_EQ(BuildGradientGraph(c.model_, "nope", {"X"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(BuildGradientGraph(c.model_, "Y", {"W"}).status().code(), StatusCode::kNotFound);
}

TEST(Autodiff, UnusedParamGetsZeroAndInitializerBecomesInput) {
  Model m;
  m.opset_imports = {{"", 17}};
  Graph& g = *m.graph;
  g.inputs.push_back(ValueInfo{"x", TensorType::Of(DType::kF32, {2}), ""});
  g.AddInitializer("w", Tensor::FromVector<float>({2}, {3, 4}));
  g.AddInitializer("u", Tensor::FromVector<float>({2}, {1, 1}));
  g.AddNode("Mul", {"x", "w"}, {"y"}, "mul");
  TensorType yt;
  yt.dtype = DType::kF32;
  g.outputs.push_back(ValueInfo{"y", yt, ""});
  auto gg = BuildGradientGraph(m, "y", {"w", "u"});
  ASSERT_TRUE(gg.ok()) << gg.status().ToString();
  auto s = Session::Create(*gg->model);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Feed a new w (the initializer is only the default) and a seed of ones: dy/dw = x, dy/du = 0.
  auto r = (*s)->Run({{"x", Tensor::FromVector<float>({2}, {5, 6})},
                      {"w", Tensor::FromVector<float>({2}, {7, 8})},
                      {gg->seed, Tensor::FromVector<float>({2}, {1, 1})}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].data<float>()[0], 35.0f);  // forward used the fed w
  EXPECT_EQ((*r)[1].data<float>()[1], 6.0f);
  EXPECT_EQ((*r)[2].data<float>()[0], 0.0f);
}

}  // namespace
}  // namespace greenai::train
