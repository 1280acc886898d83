// Numerical gradient check shared by the gradcheck_*_test.cc files.
//
// A GradCheck holds a small forward model (graph inputs, nodes, one output). Run() feeds seeded
// random values, builds the gradient graph with BuildGradientGraph, runs it through Session,
// and compares d<R, out>/d input (R a random seed tensor) for every differentiable input with
// central differences of the forward model, also run through Session. Inputs added with
// Fixed() (labels, indices, running statistics) are fed but not differentiated.
// Doubles throughout, so the tolerance can be tight: the check catches a missing term, a
// wrong axis or a wrong scale, not rounding.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "runtime/session.h"
#include "train/autodiff.h"

namespace greenai::train::gradcheck {

struct Spec {
  std::string name;
  Shape shape;
  double lo = -1, hi = 1;  // uniform range
  double min_abs = 0;      // keep |x| >= min_abs (away from kinks such as Relu at 0)
};

inline Tensor RandomF64(const Shape& s, std::mt19937& rng, double lo, double hi, double min_abs) {
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
  explicit GradCheck(int64_t opset = 17) { model_.opset_imports = {{"", opset}}; }
  Graph& g() { return *model_.graph; }
  Model& model() { return model_; }

  // A differentiable f64 graph input.
  void Input(const Spec& s) {
    g().inputs.push_back(ValueInfo{s.name, TensorType::Of(DType::kF64, s.shape), ""});
    specs_.push_back(s);
  }
  // A graph input fed with `value` and not differentiated.
  void Fixed(const std::string& name, Tensor value) {
    g().inputs.push_back(ValueInfo{name, TensorType::Of(value.dtype(), value.shape()), ""});
    fixed_.emplace_back(name, std::move(value));
  }
  void Output(const std::string& name) {
    TensorType t;
    t.dtype = DType::kF64;  // rank left unknown: inference fills it
    g().outputs.push_back(ValueInfo{name, t, ""});
    out_ = name;
  }

  // Checks every Input's gradient; |analytic - numeric| <= tol * (1 + |numeric|).
  void Run(uint32_t seed = 1, double tol = 1e-6, double h = 1e-5) {
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (const auto& s : specs_) feeds.emplace_back(s.name, RandomF64(s.shape, rng, s.lo, s.hi, s.min_abs));
    for (const auto& f : fixed_) feeds.push_back(f);
    auto fwd = Session::Create(model_);
    ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
    auto y0 = (*fwd)->Run(feeds);
    ASSERT_TRUE(y0.ok()) << y0.status().ToString();
    Tensor R = RandomF64((*y0)[0].shape(), rng, -1, 1, 0);

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
    grad_model_ = std::move(gg->model);

    auto objective = [&](const std::vector<std::pair<std::string, Tensor>>& f) {
      auto y = (*fwd)->Run(f);
      EXPECT_TRUE(y.ok()) << y.status().ToString();
      if (!y.ok()) return 0.0;
      double s = 0;
      for (int64_t i = 0; i < R.numel(); ++i) s += R.data<double>()[i] * (*y)[0].data<double>()[i];
      return s;
    };
    for (size_t p = 0; p < specs_.size(); ++p) {
      const Tensor& grad = (*res)[1 + p];
      ASSERT_EQ(grad.shape(), specs_[p].shape) << "gradient of " << specs_[p].name;
      ASSERT_EQ(grad.dtype(), DType::kF64);
      Tensor x = feeds[p].second;
      int bad = 0;
      for (int64_t i = 0; i < x.numel() && bad < 5; ++i) {
        const double orig = x.data<double>()[i];
        auto f = feeds;
        f[p].second = x.Clone();
        f[p].second.data<double>()[i] = orig + h;
        const double fp = objective(f);
        f[p].second.data<double>()[i] = orig - h;
        const double fm = objective(f);
        const double num = (fp - fm) / (2 * h);
        const double got = grad.data<double>()[i];
        if (!(std::abs(got - num) <= tol * (1 + std::abs(num)))) {
          ++bad;
          ADD_FAILURE() << "d/d " << specs_[p].name << "[" << i << "]: gradient graph " << got << ", numerical " << num;
        }
      }
    }
  }

  // The gradient model of the last Run (for checks on which ops it used).
  const Model* grad_model() const { return grad_model_.get(); }

 private:
  Model model_;
  std::vector<Spec> specs_;
  std::vector<std::pair<std::string, Tensor>> fixed_;
  std::string out_;
  std::unique_ptr<Model> grad_model_;
};

}  // namespace greenai::train::gradcheck
