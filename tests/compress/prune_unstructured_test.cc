// Unstructured, global, N:M pruning and gradient/Taylor importance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "bench/models.h"
#include "compress/prune/prune.h"
#include "runtime/session.h"
#include "train/loss.h"

namespace greenai::compress {
namespace {

std::unique_ptr<Model> Mlp(bool as_gemm = true, std::vector<int64_t> dims = {64, 48, 32, 10}) {
  return std::move(bench::BuildMlp(0, dims, as_gemm, 5)).value();
}

int64_t Zeros(const Tensor& t) {
  int64_t z = 0;
  for (float v : t.span<float>()) z += v == 0.f;
  return z;
}

std::vector<std::string> Weights(const Model& m) {
  std::vector<std::string> w;
  for (const auto& l : FindPrunableLayers(*m.graph, {})) w.push_back(l.weight);
  return w;
}

TEST(PruneUnstructured, PerLayerMagnitudeDropsTheSmallest) {
  auto m = Mlp();
  auto orig = m->Clone();
  PruneOptions o;
  o.sparsity = 0.9;
  auto rep = PruneUnstructured(*m, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  ASSERT_EQ(rep->layers.size(), 3u);
  for (const auto& w : Weights(*m)) {
    const Tensor& a = *orig->graph->FindInitializer(w);
    const Tensor& b = *m->graph->FindInitializer(w);
    EXPECT_EQ(Zeros(b), static_cast<int64_t>(std::floor(0.9 * double(a.numel())))) << w;
    float max_dropped = 0, min_kept = 1e30f;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const float x = std::fabs(a.data<float>()[i]);
      if (b.data<float>()[i] == 0.f) max_dropped = std::max(max_dropped, x);
      else {
        min_kept = std::min(min_kept, x);
        EXPECT_EQ(b.data<float>()[i], a.data<float>()[i]);  // kept weights untouched
      }
    }
    EXPECT_LE(max_dropped, min_kept) << w;
  }
  // The original tensors (shared with the clone) are not edited in place.
  for (const auto& w : Weights(*orig)) EXPECT_EQ(Zeros(*orig->graph->FindInitializer(w)), 0) << w;
}

TEST(PruneUnstructured, GlobalUsesOneThreshold) {
  auto m = Mlp();
  auto orig = m->Clone();
  PruneOptions o;
  o.sparsity = 0.7;
  o.scope = PruneScope::kGlobal;
  ASSERT_TRUE(PruneUnstructured(*m, o).ok());
  int64_t total = 0, zeros = 0;
  float max_dropped = 0, min_kept = 1e30f;
  for (const auto& w : Weights(*m)) {
    const Tensor& a = *orig->graph->FindInitializer(w);
    const Tensor& b = *m->graph->FindInitializer(w);
    total += a.numel();
    zeros += Zeros(b);
    for (int64_t i = 0; i < a.numel(); ++i) {
      const float x = std::fabs(a.data<float>()[i]);
      if (b.data<float>()[i] == 0.f) max_dropped = std::max(max_dropped, x);
      else min_kept = std::min(min_kept, x);
    }
  }
  EXPECT_EQ(zeros, static_cast<int64_t>(std::floor(0.7 * double(total))));
  EXPECT_LE(max_dropped, min_kept);
}

TEST(PruneUnstructured, ExcludeAndBadSparsityLeaveModelUnchanged) {
  auto m = Mlp();
  PruneOptions o;
  o.sparsity = 1.0;
  auto st = PruneUnstructured(*m, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("sparsity 1"), std::string::npos) << st.status().message();
  for (const auto& w : Weights(*m)) EXPECT_EQ(Zeros(*m->graph->FindInitializer(w)), 0);

  // Scores of the wrong shape: error naming the node, nothing written.
  o.sparsity = 0.5;
  const std::string w0 = Weights(*m)[0];
  o.scores[w0] = Tensor::Create(DType::kF32, {3}).value();
  st = PruneUnstructured(*m, o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("importance scores"), std::string::npos);
  for (const auto& w : Weights(*m)) EXPECT_EQ(Zeros(*m->graph->FindInitializer(w)), 0);

  o.scores.clear();
  o.exclude = {w0};
  ASSERT_TRUE(PruneUnstructured(*m, o).ok());
  EXPECT_EQ(Zeros(*m->graph->FindInitializer(w0)), 0);
}

TEST(PruneNM, TwoFourKeepsTheTwoLargestOfEveryGroup) {
  for (bool as_gemm : {true, false}) {
    auto m = Mlp(as_gemm);
    auto orig = m->Clone();
    ASSERT_TRUE(PruneNM(*m, 2, 4, {}).ok());
    for (const auto& l : FindPrunableLayers(*m->graph, {})) {
      const std::string& w = l.weight;
      const Tensor& a = *orig->graph->FindInitializer(w);
      const Tensor& b = *m->graph->FindInitializer(w);
      // BuildMlp: Gemm weights are [out, in] with transB = 1, MatMul weights [in, out].
      const bool tb = m->graph->nodes()[l.node_index]->GetInt("transB", 0) != 0;
      const int64_t K = tb ? a.dim(1) : a.dim(0), N = tb ? a.dim(0) : a.dim(1);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k0 = 0; k0 < K; k0 += 4) {
          int nz = 0;
          float min_kept = 1e30f, max_dropped = 0;
          for (int64_t k = k0; k < k0 + 4; ++k) {
            const int64_t at = tb ? n * K + k : k * N + n;
            const float bv = b.data<float>()[at], av = std::fabs(a.data<float>()[at]);
            if (bv != 0.f) {
              ++nz;
              min_kept = std::min(min_kept, av);
            } else {
              max_dropped = std::max(max_dropped, av);
            }
          }
          ASSERT_EQ(nz, 2) << w << " n " << n << " k0 " << k0;
          ASSERT_LE(max_dropped, min_kept);
        }
    }
  }
}

TEST(PruneNM, IndivisibleReductionIsAnErrorNamingTheNode) {
  auto m = Mlp(true, {64, 30, 10});  // second layer has K = 30
  auto st = PruneNM(*m, 2, 4, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("not a multiple of M = 4"), std::string::npos) << st.status().message();
  for (const auto& w : Weights(*m)) EXPECT_EQ(Zeros(*m->graph->FindInitializer(w)), 0);
  EXPECT_FALSE(PruneNM(*m, 4, 4, {}).ok());
}

// d(mean CE)/dw by central differences, in the same float session the pass uses.
TEST(PruneImportance, GradientAndTaylorMatchFiniteDifferences) {
  auto m = Mlp(true, {6, 5, 3});
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1, 1);
  LabeledBatch b{Tensor::Create(DType::kF32, {4, 6}).value(), Tensor::FromVector<int64_t>({4}, {0, 2, 1, 2})};
  for (auto& v : b.input.span<float>()) v = d(rng);
  auto grad = ComputeImportance(*m, {b}, ImportanceKind::kGradient);
  ASSERT_TRUE(grad.ok()) << grad.status().ToString();
  auto taylor = ComputeImportance(*m, {b}, ImportanceKind::kTaylor);
  ASSERT_TRUE(taylor.ok());
  auto loss_of = [&](const Model& mm) {
    auto s = Session::Create(mm, {.num_threads = 1, .optimize = false, .reference_only = true}).value();
    auto out = s->Run({{"input", b.input}}).value();
    return train::SoftmaxCrossEntropy(out[0], b.labels).value().loss;
  };
  for (const auto& w : Weights(*m)) {
    const Tensor& wt = *m->graph->FindInitializer(w);
    for (int64_t i = 0; i < wt.numel(); i += 3) {
      const float h = 1e-2f;
      auto plus = m->Clone(), minus = m->Clone();
      Tensor tp = wt.Clone(), tm = wt.Clone();
      tp.data<float>()[i] += h;
      tm.data<float>()[i] -= h;
      plus->graph->initializers[w] = tp;
      minus->graph->initializers[w] = tm;
      const double fd = (loss_of(*plus) - loss_of(*minus)) / (2 * h);
      EXPECT_NEAR(grad->at(w).data<float>()[i], std::fabs(fd), 2e-3) << w << "[" << i << "]";
      EXPECT_NEAR(taylor->at(w).data<float>()[i], std::fabs(fd * wt.data<float>()[i]), 2e-3) << w << "[" << i << "]";
    }
  }
  // Scores drive the mask: Taylor pruning drops the lowest |w g|.
  PruneOptions o;
  o.sparsity = 0.5;
  o.scores = *taylor;
  auto pruned = m->Clone();
  ASSERT_TRUE(PruneUnstructured(*pruned, o).ok());
  for (const auto& w : Weights(*m)) {
    const Tensor& s = taylor->at(w);
    const Tensor& p = *pruned->graph->FindInitializer(w);
    float max_dropped = 0, min_kept = 1e30f;
    for (int64_t i = 0; i < s.numel(); ++i)
      (p.data<float>()[i] == 0.f ? max_dropped : min_kept) =
          p.data<float>()[i] == 0.f ? std::max(max_dropped, s.data<float>()[i]) : std::min(min_kept, s.data<float>()[i]);
    EXPECT_LE(max_dropped, min_kept) << w;
  }
}

}  // namespace
}  // namespace greenai::compress
