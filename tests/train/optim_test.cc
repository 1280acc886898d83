#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "train/optim.h"

namespace greenai::train {
namespace {

// Gradient of f(w) = sum(c_i * w_i^2 / 2 + d_i * w_i), so each step sees a new gradient.
std::vector<double> Grad(const std::vector<double>& w) {
  std::vector<double> g(w.size());
  for (size_t i = 0; i < w.size(); ++i) g[i] = (0.5 + 0.25 * static_cast<double>(i)) * w[i] + (i % 2 ? -0.3 : 0.2);
  return g;
}

std::vector<double> Init() { return {0.5, -1.25, 2.0, 0.75, -0.1, 3.0}; }

void Fill(Tensor& t, const std::vector<double>& v) {
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = static_cast<float>(v[i]);
}
std::vector<double> Read(const Tensor& t) {
  std::vector<double> v;
  for (float f : t.span<float>()) v.push_back(f);
  return v;
}

// Runs `steps` optimizer steps on a [2,3] tensor, the gradient computed from the current value.
std::vector<double> RunOpt(Optimizer& opt, int steps) {
  auto w = Tensor::Create(DType::kF32, {2, 3}).value();
  auto g = Tensor::Create(DType::kF32, {2, 3}).value();
  Fill(w, Init());
  for (int s = 0; s < steps; ++s) {
    Fill(g, Grad(Read(w)));
    ParamRef p{"w", w, g};
    EXPECT_TRUE(opt.Step({&p, 1}).ok());
  }
  return Read(w);
}

// torch.optim.SGD as documented, written out independently in double.
std::vector<double> SgdRef(int steps, double lr, double mu, double damp, double wd, bool nesterov) {
  auto w = Init();
  std::vector<double> b(w.size());
  for (int t = 1; t <= steps; ++t) {
    auto g = Grad(w);
    for (size_t i = 0; i < w.size(); ++i) {
      double gi = g[i] + wd * w[i];
      if (mu != 0) {
        b[i] = t == 1 ? gi : mu * b[i] + (1 - damp) * gi;
        gi = nesterov ? gi + mu * b[i] : b[i];
      }
      w[i] -= lr * gi;
    }
  }
  return w;
}

std::vector<double> AdamWRef(int steps, double lr, double b1, double b2, double eps, double wd) {
  auto w = Init();
  std::vector<double> m(w.size()), v(w.size());
  for (int t = 1; t <= steps; ++t) {
    auto g = Grad(w);
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] -= lr * wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
      w[i] -= lr * mh / (std::sqrt(vh) + eps);
    }
  }
  return w;
}

void ExpectNear(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol * (1 + std::abs(b[i]))) << "element " << i;
}

TEST(Optim, SgdVariantsMatchTorchFormulas) {
  struct Case { double mu, damp, wd; bool nesterov; };
  for (Case c : {Case{0, 0, 0, false}, Case{0.9, 0, 0, false}, Case{0.9, 0.1, 0.01, false},
                 Case{0.8, 0, 0.05, true}}) {
    SgdOptions o;
    o.lr = 0.1;
    o.momentum = c.mu;
    o.dampening = c.damp;
    o.weight_decay = c.wd;
    o.nesterov = c.nesterov;
    auto opt = Sgd::Create(o).value();
    ExpectNear(RunOpt(*opt, 7), SgdRef(7, 0.1, c.mu, c.damp, c.wd, c.nesterov), 2e-6);
  }
  SgdOptions bad;
  bad.nesterov = true;
  EXPECT_FALSE(Sgd::Create(bad).ok());
}

TEST(Optim, AdamWMatchesTorchFormula) {
  AdamWOptions o;
  o.lr = 0.05;
  o.weight_decay = 0.1;
  auto opt = AdamW::Create(o).value();
  ExpectNear(RunOpt(*opt, 9), AdamWRef(9, 0.05, 0.9, 0.999, 1e-8, 0.1), 2e-6);
  // One step of Adam moves each weight by ~lr (m_hat/sqrt(v_hat) = sign(g)): a hand check.
  AdamWOptions o2;
  o2.lr = 0.01;
  o2.weight_decay = 0;
  auto one = AdamW::Create(o2).value();
  auto w1 = RunOpt(*one, 1);
  auto w0 = Init();
  auto g0 = Grad(w0);
  for (size_t i = 0; i < w0.size(); ++i) EXPECT_NEAR(w1[i], w0[i] - 0.01 * (g0[i] > 0 ? 1 : -1), 1e-6);
}

TEST(Optim, StateRoundTripContinuesIdentically) {
  AdamWOptions o;
  auto a = AdamW::Create(o).value();
  auto w = Tensor::Create(DType::kF32, {2, 3}).value();
  auto g = Tensor::Create(DType::kF32, {2, 3}).value();
  Fill(w, Init());
  auto step = [&](Optimizer& opt, Tensor& wt) {
    Fill(g, Grad(Read(wt)));
    ParamRef p{"w", wt, g};
    ASSERT_TRUE(opt.Step({&p, 1}).ok());
  };
  for (int i = 0; i < 3; ++i) step(*a, w);
  auto state = a->ExportState();
  auto w2 = w.Clone();
  auto b = AdamW::Create(o).value();
  ASSERT_TRUE(b->ImportState(state).ok());
  EXPECT_EQ(b->step_count(), 3);
  for (int i = 0; i < 4; ++i) {
    step(*a, w);
    step(*b, w2);
  }
  EXPECT_EQ(Read(w), Read(w2));
  EXPECT_FALSE(b->ImportState({{"exp_avg", Tensor::Scalar<float>(1)}}).ok());
  // Shape mismatch between a restored buffer and the parameter is an error, not a crash.
  NamedTensors bad = {{"step", Tensor::Scalar<int64_t>(1)}, {"w/exp_avg", Tensor::FromVector<float>({2}, {1, 2})}};
  ASSERT_TRUE(b->ImportState(bad).ok());
  ParamRef p{"w", w2, g};
  EXPECT_FALSE(b->Step({&p, 1}).ok());
}

TEST(Optim, MismatchedGradIsAnError) {
  auto opt = Sgd::Create({}).value();
  ParamRef p{"w", Tensor::FromVector<float>({2}, {1, 2}), Tensor::FromVector<float>({3}, {1, 2, 3})};
  auto st = opt->Step({&p, 1});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'w'"), std::string::npos);
}

TEST(Optim, Schedules) {
  LrSchedule s;
  s.kind = LrSchedule::Kind::kStep;
  s.base_lr = 1.0;
  s.step_size = 3;
  s.gamma = 0.5;
  EXPECT_DOUBLE_EQ(s.LrAt(0), 1.0);
  EXPECT_DOUBLE_EQ(s.LrAt(2), 1.0);
  EXPECT_DOUBLE_EQ(s.LrAt(3), 0.5);
  EXPECT_DOUBLE_EQ(s.LrAt(7), 0.25);
  s.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(s.LrAt(0), 0.25);
  EXPECT_DOUBLE_EQ(s.LrAt(3), 1.0);
  EXPECT_DOUBLE_EQ(s.LrAt(4 + 3), 0.5);
  LrSchedule c;
  c.kind = LrSchedule::Kind::kCosine;
  c.base_lr = 0.1;
  c.min_lr = 0.01;
  c.warmup_steps = 10;
  c.total_steps = 110;
  ASSERT_TRUE(c.Validate().ok());
  EXPECT_DOUBLE_EQ(c.LrAt(4), 0.05);
  EXPECT_DOUBLE_EQ(c.LrAt(10), 0.1);
  EXPECT_NEAR(c.LrAt(60), 0.055, 1e-12);  // halfway: min + (base-min)/2
  EXPECT_NEAR(c.LrAt(110), 0.01, 1e-12);
  EXPECT_NEAR(c.LrAt(500), 0.01, 1e-12);
  c.total_steps = 5;
  EXPECT_FALSE(c.Validate().ok());
}

TEST(Optim, ClipGradNorm) {
  Tensor g1 = Tensor::FromVector<float>({2}, {3, 0});
  Tensor g2 = Tensor::FromVector<float>({1}, {4});
  std::vector<ParamRef> ps = {{"a", g1.Clone(), g1}, {"b", g2.Clone(), g2}};
  auto n = ClipGradNorm(ps, 10.0);
  ASSERT_TRUE(n.ok());
  EXPECT_DOUBLE_EQ(*n, 5.0);
  EXPECT_EQ(g1.data<float>()[0], 3.0f);  // below the limit: untouched
  n = ClipGradNorm(ps, 1.0);
  EXPECT_DOUBLE_EQ(*n, 5.0);
  EXPECT_NEAR(g1.data<float>()[0], 0.6, 1e-6);
  EXPECT_NEAR(g2.data<float>()[0], 0.8, 1e-6);
  g2.data<float>()[0] = std::nanf("");
  EXPECT_FALSE(ClipGradNorm(ps, 1.0).ok());
}

}  // namespace
}  // namespace greenai::train
