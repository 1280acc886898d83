#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "train/loss.h"

namespace greenai::train {
namespace {

Tensor RandomLogits(Shape s, uint32_t seed, float scale = 2.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  auto t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (float& x : t.span<float>()) x = d(rng);
  return t;
}

// Central differences of f at every element of x, against the analytic gradient.
void CheckGrad(Tensor x, const std::function<Result<LossResult>(const Tensor&)>& f) {
  auto r = f(x);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor analytic = r->grad.Clone();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float orig = x.data<float>()[i];
    const float h = 1e-2f;
    x.data<float>()[i] = orig + h;
    const float xp = x.data<float>()[i];
    const double lp = f(x)->loss;
    x.data<float>()[i] = orig - h;
    const float xm = x.data<float>()[i];
    const double lm = f(x)->loss;
    x.data<float>()[i] = orig;
    const double num = (lp - lm) / (static_cast<double>(xp) - xm);
    EXPECT_NEAR(analytic.data<float>()[i], num, 2e-4 + 1e-3 * std::abs(num)) << "element " << i;
  }
}

TEST(Loss, CrossEntropyHandValues) {
  auto r = SoftmaxCrossEntropy(Tensor::FromVector<float>({1, 3}, {1, 2, 3}), Tensor::FromVector<int64_t>({1}, {2}));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->loss, std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0, 1e-12);
  // Uniform prediction: log C whatever the smoothing; gradient (1/C - q) / N.
  r = SoftmaxCrossEntropy(Tensor::FromVector<float>({2, 2}, {0, 0, 5, 5}), Tensor::FromVector<int64_t>({2}, {0, 1}),
                          0.1);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->loss, std::log(2.0), 1e-12);
  EXPECT_NEAR(r->grad.data<float>()[0], (0.5 - 0.95) / 2, 1e-7);
  EXPECT_NEAR(r->grad.data<float>()[1], (0.5 - 0.05) / 2, 1e-7);
  // Large logits do not overflow.
  r = SoftmaxCrossEntropy(Tensor::FromVector<float>({1, 2}, {1000, 0}), Tensor::FromVector<int64_t>({1}, {1}));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->loss, 1000.0, 1e-9);
}

TEST(Loss, CrossEntropyGradientMatchesNumeric) {
  auto labels = Tensor::FromVector<int64_t>({4}, {0, 3, 2, 4});
  for (double eps : {0.0, 0.2}) {
    CheckGrad(RandomLogits({4, 5}, 11), [&](const Tensor& z) { return SoftmaxCrossEntropy(z, labels, eps); });
  }
}

TEST(Loss, CrossEntropyBadInput) {
  auto z = RandomLogits({2, 3}, 1);
  auto r = SoftmaxCrossEntropy(z, Tensor::FromVector<int64_t>({2}, {0, 3}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("label 3 of sample 1"), std::string::npos) << r.status().message();
  EXPECT_FALSE(SoftmaxCrossEntropy(z, Tensor::FromVector<int64_t>({3}, {0, 0, 0})).ok());
  EXPECT_FALSE(SoftmaxCrossEntropy(z, Tensor::FromVector<int64_t>({2}, {0, 0}), 1.5).ok());
}

TEST(Loss, MseValuesAndGradient) {
  auto r = Mse(Tensor::FromVector<float>({2}, {1, 2}), Tensor::FromVector<float>({2}, {0, 4}));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->loss, 2.5);
  EXPECT_FLOAT_EQ(r->grad.data<float>()[0], 1.0f);
  EXPECT_FLOAT_EQ(r->grad.data<float>()[1], -2.0f);
  auto target = RandomLogits({3, 2}, 5);
  CheckGrad(RandomLogits({3, 2}, 6), [&](const Tensor& p) { return Mse(p, target); });
  EXPECT_FALSE(Mse(target, RandomLogits({2, 3}, 1)).ok());
}

TEST(Loss, DistillKlValuesAndGradient) {
  // teacher softmax [0.25, 0.75], student softmax [0.5, 0.5]:
  // KL = 0.25 ln 0.5 + 0.75 ln 1.5; at T = 2 the logits are doubled and the loss gains T^2 = 4.
  const double kl = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
  auto r = DistillKl(Tensor::FromVector<float>({1, 2}, {0, 0}),
                     Tensor::FromVector<float>({1, 2}, {0, static_cast<float>(std::log(3.0))}), 1.0);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->loss, kl, 1e-7);
  r = DistillKl(Tensor::FromVector<float>({1, 2}, {0, 0}),
                Tensor::FromVector<float>({1, 2}, {0, static_cast<float>(2 * std::log(3.0))}), 2.0);
  EXPECT_NEAR(r->loss, 4 * kl, 1e-6);
  auto same = RandomLogits({3, 4}, 9);
  EXPECT_NEAR(DistillKl(same, same, 3.0)->loss, 0.0, 1e-12);
  auto teacher = RandomLogits({3, 4}, 10);
  for (double T : {1.0, 4.0})
    CheckGrad(RandomLogits({3, 4}, 12), [&](const Tensor& s) { return DistillKl(s, teacher, T); });
  EXPECT_FALSE(DistillKl(same, teacher, 0.0).ok());
}

TEST(Loss, CountCorrect) {
  auto z = Tensor::FromVector<float>({3, 2}, {1, 0, 0, 1, 2, 3});
  EXPECT_EQ(*CountCorrect(z, Tensor::FromVector<int64_t>({3}, {0, 0, 1})), 2);
}

}  // namespace
}  // namespace greenai::train
