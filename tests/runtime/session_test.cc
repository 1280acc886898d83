// Session tests: results checked against values computed by hand in the test (plain loops),
// dynamic re-planning, ownership of outputs, and clear errors on bad feeds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "runtime/session.h"

namespace greenai {
namespace {

// A float32 input type; -1 dims are symbolic, named by `params`.
TensorType F32Input(std::vector<int64_t> dims, std::vector<std::string> params) {
  TensorType t;
  t.dtype = DType::kF32;
  t.has_shape = true;
  t.dims = std::move(dims);
  t.dim_params = std::move(params);
  return t;
}

// y = Relu(x @ W + b), x: [batch, 4] (batch dynamic), W: [4, 3], b: [3]
std::unique_ptr<Model> MlpModel() {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  const TensorType xt = F32Input({-1, 4}, {"batch", ""});
  g.inputs.push_back({"x", xt, ""});
  std::vector<float> w(12), b(3);
  for (int i = 0; i < 12; ++i) w[static_cast<size_t>(i)] = 0.25f * static_cast<float>(i - 5);
  for (int i = 0; i < 3; ++i) b[static_cast<size_t>(i)] = 0.5f * static_cast<float>(i - 1);
  g.AddInitializer("W", Tensor::FromVector<float>({4, 3}, w));
  g.AddInitializer("b", Tensor::FromVector<float>({3}, b));
  g.AddNode("MatMul", {"x", "W"}, {"xw"}, "mm");
  g.AddNode("Add", {"xw", "b"}, {"h"}, "add");
  g.AddNode("Relu", {"h"}, {"y"}, "relu");
  TensorType yt = xt;
  yt.dims = {-1, 3};
  g.outputs.push_back({"y", yt, ""});
  return m;
}

std::vector<float> MlpReference(const std::vector<float>& x, int batch) {
  std::vector<float> y(static_cast<size_t>(batch) * 3);
  for (int r = 0; r < batch; ++r)
    for (int c = 0; c < 3; ++c) {
      float acc = 0.5f * static_cast<float>(c - 1);
      for (int k = 0; k < 4; ++k) acc += x[static_cast<size_t>(r * 4 + k)] * 0.25f * static_cast<float>(k * 3 + c - 5);
      y[static_cast<size_t>(r * 3 + c)] = acc > 0 ? acc : 0;
    }
  return y;
}

Tensor RandomInput(int batch, uint32_t seed, std::vector<float>* values) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-2, 2);
  values->resize(static_cast<size_t>(batch) * 4);
  for (auto& v : *values) v = dist(rng);
  return Tensor::FromVector<float>({batch, 4}, *values);
}

TEST(Session, RunsGraphAndMatchesHandComputedReference) {
  for (bool ref_only : {true, false}) {
    SessionOptions opts;
    opts.reference_only = ref_only;
    opts.num_threads = 2;
    auto s = Session::Create(*MlpModel(), opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<float> xv;
    Tensor x = RandomInput(5, 1, &xv);
    auto out = (*s)->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), 1u);
    auto want = MlpReference(xv, 5);
    ASSERT_EQ((*out)[0].shape(), (Shape{5, 3}));
    for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR((*out)[0].data<float>()[i], want[i], 1e-5) << i;
  }
}

TEST(Session, ReplansWhenBatchChangesAndOutputsSurviveLaterRuns) {
  auto s = Session::Create(*MlpModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> x1, x2;
  auto o1 = (*s)->Run({{"x", RandomInput(2, 7, &x1)}});
  ASSERT_TRUE(o1.ok()) << o1.status().ToString();
  Tensor first = (*o1)[0];
  std::vector<float> first_copy(first.data<float>(), first.data<float>() + first.numel());
  auto o2 = (*s)->Run({{"x", RandomInput(9, 8, &x2)}});
  ASSERT_TRUE(o2.ok()) << o2.status().ToString();
  EXPECT_EQ((*o2)[0].shape(), (Shape{9, 3}));
  auto want2 = MlpReference(x2, 9);
  for (size_t i = 0; i < want2.size(); ++i) EXPECT_NEAR((*o2)[0].data<float>()[i], want2[i], 1e-5);
  // The first result is untouched by the second run (outputs are never pool memory).
  for (size_t i = 0; i < first_copy.size(); ++i) EXPECT_EQ(first.data<float>()[i], first_copy[i]);
  auto want1 = MlpReference(x1, 2);
  for (size_t i = 0; i < want1.size(); ++i) EXPECT_NEAR(first_copy[i], want1[i], 1e-5);
}

TEST(Session, BadFeedsGiveClearErrors) {
  auto s = Session::Create(*MlpModel());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> xv;
  auto r1 = (*s)->Run({{"nope", RandomInput(1, 1, &xv)}});
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("'nope' is not an input"), std::string::npos) << r1.status().message();
  auto r2 = (*s)->Run({{"x", Tensor::FromVector<double>({1, 4}, {1, 2, 3, 4})}});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("dtype float64 given"), std::string::npos) << r2.status().message();
  auto r3 = (*s)->Run({{"x", Tensor::FromVector<float>({2, 5}, std::vector<float>(10, 1.f))}});
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("shape [2, 5] given"), std::string::npos) << r3.status().message();
  auto r4 = (*s)->Run({});
  ASSERT_FALSE(r4.ok());
  EXPECT_NE(r4.status().message().find("'x'"), std::string::npos);
  // The session stays usable after errors.
  EXPECT_TRUE((*s)->Run({{"x", RandomInput(1, 3, &xv)}}).ok());
}

TEST(Session, UnknownOpIsUnimplementedAndNamesTheNode) {
  auto m = MlpModel();
  m->graph->mutable_nodes()[2]->op_type = "FrobnicateNd";
  auto s = Session::Create(*m);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("'relu'"), std::string::npos) << s.status().message();
}

TEST(Session, MismatchedShapesAreRejectedAtCreate) {
  auto m = MlpModel();
  m->graph->initializers["b"] = Tensor::FromVector<float>({5}, std::vector<float>(5, 0.f));
  auto s = Session::Create(*m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("'add'"), std::string::npos) << s.status().message();
}

struct CountingProfiler : ProfilerHook {
  int runs = 0, nodes = 0;
  void OnRunBegin() override { ++runs; }
  void OnNodeEnd(size_t, const Node&, std::string_view) override { ++nodes; }
};

TEST(Session, ProfilerHookSeesEveryNode) {
  CountingProfiler prof;
  SessionOptions opts;
  opts.profiler = &prof;
  opts.optimize = false;
  auto s = Session::Create(*MlpModel(), opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::vector<float> xv;
  ASSERT_TRUE((*s)->Run({{"x", RandomInput(1, 3, &xv)}}).ok());
  ASSERT_TRUE((*s)->Run({{"x", RandomInput(1, 3, &xv)}}).ok());
  EXPECT_EQ(prof.runs, 2);
  EXPECT_EQ(prof.nodes, 6);
}

// Views (Reshape/Flatten/... share their input's buffer): a = Relu(x); v = Reshape(a) is
// used at the very end, after c = Neg(x) and d = Exp(x) were computed, which would take a's
// buffer if it were returned to the pool at Reshape (a's own last use). Also a view of a
// graph input, a view chain, and a view that is itself a graph output (must be owned).
TEST(Session, ViewOpsKeepTheirBufferAliveUntilTheViewsLastUse) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {2, 6}), ""});
  g.AddInitializer("shape34", Tensor::FromVector<int64_t>({2}, {3, 4}));
  g.AddInitializer("shape26", Tensor::FromVector<int64_t>({2}, {2, 6}));
  g.AddInitializer("axes0", Tensor::FromVector<int64_t>({1}, {0}));
  g.AddNode("Relu", {"x"}, {"a"}, "relu");
  g.AddNode("Reshape", {"a", "shape34"}, {"vo"}, "output_view_of_a");
  g.AddNode("Reshape", {"a", "shape34"}, {"v"}, "view_of_a");
  g.AddNode("Unsqueeze", {"v", "axes0"}, {"v2"}, "view_of_view");
  g.AddNode("Neg", {"x"}, {"c"}, "neg");
  g.AddNode("Exp", {"x"}, {"d"}, "exp");
  g.AddNode("Reshape", {"x", "shape34"}, {"xv"}, "view_of_input");
  g.AddNode("Add", {"c", "d"}, {"cd"}, "add_cd");
  g.AddNode("Reshape", {"cd", "shape34"}, {"cd34"}, "cd_view");
  g.AddNode("Add", {"v2", "cd34"}, {"s"}, "sum");
  g.AddNode("Add", {"s", "xv"}, {"y"}, "plus_x");
  g.AddNode("Reshape", {"y", "shape26"}, {"y26"}, "output_view");
  g.outputs.push_back({"y26", TensorType::Of(DType::kF32, {2, 6}), ""});
  g.outputs.push_back({"vo", TensorType::Of(DType::kF32, {3, 4}), ""});
  for (bool ref_only : {true, false}) {
    SessionOptions opts;
    opts.reference_only = ref_only;
    opts.optimize = false;
    auto s = Session::Create(*m, opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::vector<Tensor> first;
    std::vector<float> first_want;
    for (uint32_t seed : {1u, 2u}) {
      std::mt19937 rng(seed);
      std::uniform_real_distribution<float> dist(-2, 2);
      std::vector<float> xv(12);
      for (auto& v : xv) v = dist(rng);
      auto out = (*s)->Run({{"x", Tensor::FromVector<float>({2, 6}, xv)}});
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ASSERT_EQ((*out)[0].shape(), (Shape{2, 6}));
      ASSERT_EQ((*out)[1].shape(), (Shape{3, 4}));
      std::vector<float> want(12);
      for (size_t i = 0; i < 12; ++i) {
        const float a = std::max(xv[i], 0.f);
        want[i] = a + (-xv[i] + std::exp(xv[i])) + xv[i];
        EXPECT_FLOAT_EQ((*out)[0].data<float>()[i], want[i]) << i;
        EXPECT_EQ((*out)[1].data<float>()[i], a) << i;
      }
      if (seed == 1u) {
        first = *out;
        first_want = want;
      }
    }
    // Outputs of the first run are owned: the second run did not overwrite them.
    for (size_t i = 0; i < 12; ++i) EXPECT_FLOAT_EQ(first[0].data<float>()[i], first_want[i]) << i;
  }
}

TensorType F32Unknown() {
  TensorType t;
  t.dtype = DType::kF32;
  return t;
}

// Relu(x) -> NCHW-to-NHWC Transpose -> Neg (y), and Relu(x) -> Transpose swapping the two
// static axes of extent 3 and 4 -> Neg (z); x is [n, c, 3, 4] with n dynamic and c dynamic
// (c_dim = -1) or the given static extent.
std::unique_ptr<Model> TransposeModel(int64_t c_dim) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", F32Input({-1, c_dim, 3, 4}, {"n", c_dim < 0 ? "c" : "", "", ""}), ""});
  g.AddNode("Relu", {"x"}, {"a"}, "relu");
  g.AddNode("Transpose", {"a"}, {"t"}, "to_nhwc")->SetInts("perm", {0, 2, 3, 1});
  g.AddNode("Transpose", {"a"}, {"u"}, "swap_hw")->SetInts("perm", {0, 1, 3, 2});
  g.AddNode("Neg", {"t"}, {"y"}, "neg_t");
  g.AddNode("Neg", {"u"}, {"z"}, "neg_u");
  g.outputs.push_back({"y", F32Unknown(), ""});
  g.outputs.push_back({"z", F32Unknown(), ""});
  return m;
}

// A Transpose is planned as a view (no kernel, "any_view__alias") only when every axis it moves
// past another is known to have extent 1; an unknown extent counts as not 1. The NHWC
// transpose is a view with c declared 1 and a copy with c dynamic (whatever c turns out to
// be); swapping two non-1 axes never is. Results are checked against a hand-written transpose.
TEST(Session, TransposeOfUnitExtentAxesIsAView) {
  for (int64_t c_dim : {int64_t{-1}, int64_t{1}}) {
    auto m = TransposeModel(c_dim);
    SessionOptions opts;
    opts.optimize = false;
    auto s = Session::Create(*m, opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->kernel_name(1) == "any_view__alias", c_dim == 1) << "c_dim " << c_dim;
    EXPECT_NE((*s)->kernel_name(2), "any_view__alias");
    const std::vector<int64_t> cs = c_dim == 1 ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 3, 1};
    for (int64_t n : {2, 1})
      for (int64_t c : cs) {
        SCOPED_TRACE(::testing::Message() << "c_dim=" << c_dim << " n=" << n << " c=" << c);
        std::vector<float> xv(static_cast<size_t>(n * c * 12));
        for (size_t i = 0; i < xv.size(); ++i) xv[i] = static_cast<float>(i % 7) - 2.5f;
        auto out = (*s)->Run({{"x", Tensor::FromVector<float>({n, c, 3, 4}, xv)}});
        ASSERT_TRUE(out.ok()) << out.status().ToString();
        ASSERT_EQ((*out)[0].shape(), (Shape{n, 3, 4, c}));
        ASSERT_EQ((*out)[1].shape(), (Shape{n, c, 4, 3}));
        for (int64_t b = 0; b < n; ++b)
          for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t h = 0; h < 3; ++h)
              for (int64_t w = 0; w < 4; ++w) {
                const float want = -std::max(xv[static_cast<size_t>(((b * c + ch) * 3 + h) * 4 + w)], 0.f);
                EXPECT_EQ((*out)[0].data<float>()[((b * 3 + h) * 4 + w) * c + ch], want);
                EXPECT_EQ((*out)[1].data<float>()[((b * c + ch) * 4 + w) * 3 + h], want);
              }
      }
  }
}

}  // namespace
}  // namespace greenai
