// Jacobi SVD (reconstruction, orthonormality, known spectra) and the low-rank pass (full rank
// reproduces the model, FLOPs by hand, energy rule, budget, errors leave the model unchanged).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analyze/cost_model.h"
#include "bench/models.h"
#include "compress/lowrank/lowrank.h"
#include "compress/lowrank/svd.h"
#include "runtime/session.h"

namespace greenai::compress {
namespace {

std::vector<double> RandomD(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, 1);
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

void CheckSvd(const std::vector<double>& a, int64_t m, int64_t n) {
  auto r = JacobiSvd(a, m, n);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Svd& s = *r;
  ASSERT_EQ(s.r, std::min(m, n));
  for (int64_t k = 1; k < s.r; ++k) EXPECT_GE(s.S[size_t(k - 1)], s.S[size_t(k)]);
  double scale = 0;
  for (double x : a) scale = std::max(scale, std::fabs(x));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t k = 0; k < s.r; ++k) acc += s.U[size_t(i * s.r + k)] * s.S[size_t(k)] * s.Vt[size_t(k * n + j)];
      ASSERT_NEAR(acc, a[size_t(i * n + j)], 1e-10 * (1 + scale)) << m << "x" << n << " (" << i << "," << j << ")";
    }
  // Singular vectors of non-zero singular values are orthonormal (those of 0 may be 0).
  for (int64_t p = 0; p < s.r; ++p)
    for (int64_t q = 0; q < s.r; ++q) {
      double vv = 0, uu = 0;
      for (int64_t j = 0; j < n; ++j) vv += s.Vt[size_t(p * n + j)] * s.Vt[size_t(q * n + j)];
      for (int64_t i = 0; i < m; ++i) uu += s.U[size_t(i * s.r + p)] * s.U[size_t(i * s.r + q)];
      if (s.S[size_t(p)] > 1e-9 && s.S[size_t(q)] > 1e-9) {
        EXPECT_NEAR(vv, p == q ? 1.0 : 0.0, 1e-10);
        EXPECT_NEAR(uu, p == q ? 1.0 : 0.0, 1e-10);
      }
    }
}

TEST(JacobiSvd, ReconstructsRandomMatricesOfEveryShape) {
  uint32_t seed = 1;
  for (auto [m, n] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {1, 5}, {5, 1}, {7, 5}, {5, 7}, {30, 30}, {64, 10}})
    CheckSvd(RandomD(m * n, seed++), m, n);
}

TEST(JacobiSvd, RankDeficientAndKnownSpectrum) {
  // A = x y^T + 2 u v^T with orthonormal pairs has singular values exactly {2, 1, 0, ...}.
  const int64_t m = 6, n = 4;
  std::vector<double> a(size_t(m * n), 0.0);
  const double x[6] = {1, 0, 0, 0, 0, 0}, u[6] = {0, 0.6, 0.8, 0, 0, 0};
  const double y[4] = {0, 0, 0, 1}, v[4] = {0.8, 0, -0.6, 0};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) a[size_t(i * n + j)] = x[i] * y[j] + 2 * u[i] * v[j];
  CheckSvd(a, m, n);
  auto s = JacobiSvd(a, m, n).value();
  EXPECT_NEAR(s.S[0], 2, 1e-12);
  EXPECT_NEAR(s.S[1], 1, 1e-12);
  EXPECT_NEAR(s.S[2], 0, 1e-12);
  CheckSvd(std::vector<double>(12, 0.0), 3, 4);  // all zeros
  EXPECT_FALSE(JacobiSvd({1, NAN}, 1, 2).ok());
  EXPECT_FALSE(JacobiSvd({1, 2}, 1, 3).ok());
}

Tensor RandomT(Shape s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (auto& v : t.span<float>()) v = d(rng);
  return t;
}

Tensor RunModel(const Model& m, const std::string& in, const Tensor& x) {
  auto s = Session::Create(m, {.num_threads = 1, .optimize = true, .reference_only = true});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto o = (*s)->Run({{in, x}});
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return o.ok() ? (*o)[0] : Tensor();
}

void ExpectNear(const Tensor& a, const Tensor& b, float tol) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], tol) << i;
}

TEST(LowRank, FullRankReproducesMlpAndConv) {
  for (bool as_gemm : {true, false}) {
    auto m = std::move(bench::BuildMlp(0, {32, 24, 16, 10}, as_gemm, 4)).value();
    Tensor x = RandomT({3, 32}, 5);
    Tensor before = RunModel(*m, "input", x);
    LowRankOptions o;
    o.energy = 1.0;
    o.force = true;
    auto rep = LowRankFactorize(*m, o);
    ASSERT_TRUE(rep.ok()) << rep.status().ToString();
    int factored = 0;
    for (const auto& l : rep->layers) factored += l.factored;
    EXPECT_EQ(factored, 3);
    ExpectNear(RunModel(*m, "input", x), before, 1e-4f);
  }
  // A 3x3 conv as conv(3x3, r) + conv(1x1).
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {1, 4, 9, 9}), ""});
  g.AddInitializer("w", RandomT({12, 4, 3, 3}, 6));
  g.AddInitializer("b", RandomT({12}, 7));
  Node* c = g.AddNode("Conv", {"x", "w", "b"}, {"y"}, "conv");
  c->SetInts("pads", {1, 1, 1, 1});
  c->SetInts("strides", {2, 2});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {}), ""});
  g.outputs.back().type.has_shape = false;
  Tensor x = RandomT({1, 4, 9, 9}, 8);
  Tensor before = RunModel(*m, "x", x);
  LowRankOptions o;
  o.energy = 1.0;
  o.force = true;
  o.min_dim = 1;
  ASSERT_TRUE(LowRankFactorize(*m, o).ok());
  ASSERT_EQ(m->graph->nodes().size(), 2u);
  ExpectNear(RunModel(*m, "x", x), before, 1e-4f);
}

TEST(LowRank, ExplicitRankFlopsByHand) {
  auto m = std::move(bench::BuildMlp(1, {64, 64, 10}, true, 4)).value();
  const std::string fc = m->graph->nodes()[0]->name;
  LowRankOptions o;
  o.ranks[fc] = 8;
  o.min_dim = 16;  // the 64x10 layer is left alone
  auto rep = LowRankFactorize(*m, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(analyze::AnalyzeModel(*m).value().macs, 64 * 8 + 8 * 64 + 64 * 10);
}

TEST(LowRank, EnergyPicksTheSmallestRankAndSkipsUnprofitable) {
  // W = diag(4, 3, 2, 1) embedded in 16x16: energies 16/30, 25/30, 29/30, 1.
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", 17}};
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {1, 16}), ""});
  Tensor w = Tensor::Create(DType::kF32, {16, 16}).value();
  for (int i = 0; i < 4; ++i) w.data<float>()[i * 16 + i] = float(4 - i);
  g.AddInitializer("w", w);
  g.AddNode("MatMul", {"x", "w"}, {"y"}, "mm");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {}), ""});
  g.outputs.back().type.has_shape = false;
  for (auto [e, r] : std::vector<std::pair<double, int64_t>>{{0.5, 1}, {0.8, 2}, {0.9, 3}, {0.97, 4}}) {
    auto mm = m->Clone();
    LowRankOptions o;
    o.energy = e;
    auto rep = LowRankFactorize(*mm, o).value();
    ASSERT_EQ(rep.layers.size(), 1u);
    EXPECT_EQ(rep.layers[0].rank, r) << e;
    EXPECT_TRUE(rep.layers[0].factored);
  }
  // A random full-rank 16x16 at energy 0.999 needs r ~ 16 > 16*16/32 = 8: not factored.
  g.initializers["w"] = RandomT({16, 16}, 3);
  LowRankOptions o;
  o.energy = 0.999;
  auto rep = LowRankFactorize(*m, o).value();
  EXPECT_FALSE(rep.layers[0].factored);
  EXPECT_EQ(m->graph->nodes().size(), 1u);
}

TEST(LowRank, RankOutOfRangeIsAnErrorAndModelUnchanged) {
  auto m = std::move(bench::BuildMlp(1, {64, 32, 10}, true, 4)).value();
  const std::string fc = m->graph->nodes()[0]->name;
  const size_t nodes = m->graph->nodes().size();
  for (int64_t r : {32, 100, 0}) {
    LowRankOptions o;
    o.ranks[fc] = r;
    auto st = LowRankFactorize(*m, o);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.status().message().find(fc), std::string::npos) << st.status().message();
    EXPECT_NE(st.status().message().find(std::to_string(r)), std::string::npos);
    EXPECT_EQ(m->graph->nodes().size(), nodes);
  }
}

TEST(LowRank, FlopBudgetIsMet) {
  auto m = std::move(bench::BuildMlp(1, {128, 128, 128, 10}, true, 4)).value();
  const double base = analyze::AnalyzeModel(*m).value().flops;
  LowRankOptions o;
  o.flops_budget = 0.6;
  auto rep = LowRankFactorize(*m, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  const double after = analyze::AnalyzeModel(*m).value().flops;
  EXPECT_LE(after, 0.6 * base);
  EXPECT_GT(after, 0.4 * base);  // the largest energy that fits, not rank 1
}

}  // namespace
}  // namespace greenai::compress
