// Structured pruning: removing channels whose filters are already zero gives the masked dense
// model's outputs; FLOPs drop by the hand-computed amount; couplings it cannot follow are
// errors naming the node, with the model unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "analyze/cost_model.h"
#include "bench/models.h"
#include "compress/prune/prune.h"
#include "runtime/session.h"

namespace greenai::compress {
namespace {

Tensor RandomT(Shape s, uint32_t seed, float lo = -0.5f, float hi = 0.5f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t = Tensor::Create(DType::kF32, std::move(s)).value();
  for (auto& v : t.span<float>()) v = d(rng);
  return t;
}

struct Builder {
  std::unique_ptr<Model> m = std::make_unique<Model>();
  uint32_t seed = 10;
  Builder(Shape in) {
    m->opset_imports = {{"", 17}};
    m->graph->inputs.push_back({"x", TensorType::Of(DType::kF32, std::move(in)), ""});
  }
  Graph& g() { return *m->graph; }
  std::string Conv(const std::string& name, const std::string& x, int64_t co, int64_t ci, int64_t k, int64_t group = 1) {
    g().AddInitializer(name + ".weight", RandomT({co, ci / group, k, k}, seed++));
    g().AddInitializer(name + ".bias", RandomT({co}, seed++));
    Node* n = g().AddNode("Conv", {x, name + ".weight", name + ".bias"}, {name + "_out"}, name);
    n->SetInts("pads", std::vector<int64_t>(4, k / 2));
    if (group != 1) n->SetInt("group", group);
    return name + "_out";
  }
  std::string Bn(const std::string& name, const std::string& x, int64_t c) {
    for (const char* p : {".weight", ".bias", ".running_mean"}) g().AddInitializer(name + p, RandomT({c}, seed++));
    g().AddInitializer(name + ".running_var", RandomT({c}, seed++, 0.5f, 1.5f));
    g().AddNode("BatchNormalization", {x, name + ".weight", name + ".bias", name + ".running_mean", name + ".running_var"},
                {name + "_out"}, name);
    return name + "_out";
  }
  std::string Op(const std::string& op, std::vector<std::string> in, const std::string& name) {
    g().AddNode(op, std::move(in), {name + "_out"}, name);
    return name + "_out";
  }
  std::string Gemm(const std::string& name, const std::string& x, int64_t k, int64_t n) {
    g().AddInitializer(name + ".weight", RandomT({n, k}, seed++));
    g().AddInitializer(name + ".bias", RandomT({n}, seed++));
    Node* node = g().AddNode("Gemm", {x, name + ".weight", name + ".bias"}, {name + "_out"}, name);
    node->SetInt("transB", 1);
    return name + "_out";
  }
  void Output(const std::string& v) {
    TensorType t;
    t.dtype = DType::kF32;
    g().outputs.push_back({v, t, ""});
    ASSERT_TRUE(g().TopologicalSort().ok());
  }
};

// conv1-bn1-relu1 -> conv2-bn2 -> Add(relu1) -> relu -> depthwise -> conv3(1x1) -> relu -> maxpool
// -> flatten -> fc (output). Groups: {conv1, conv2} (residual), {conv3}; fc is the output.
std::unique_ptr<Model> ResidualCnn() {
  Builder b({2, 3, 8, 8});
  auto r1 = b.Op("Relu", {b.Bn("bn1", b.Conv("conv1", "x", 8, 3, 3), 8)}, "relu1");
  auto add = b.Op("Add", {b.Bn("bn2", b.Conv("conv2", r1, 8, 8, 3), 8), r1}, "add");
  auto dw = b.Conv("dw", b.Op("Relu", {add}, "relu2"), 8, 8, 3, /*group=*/8);
  auto c3 = b.Op("Relu", {b.Conv("conv3", dw, 16, 8, 1)}, "relu3");
  Node* mp = b.g().AddNode("MaxPool", {c3}, {"mp_out"}, "mp");
  mp->SetInts("kernel_shape", {2, 2});
  mp->SetInts("strides", {2, 2});
  auto fl = b.Op("Flatten", {"mp_out"}, "flatten");
  b.Output(b.Gemm("fc", fl, 16 * 4 * 4, 10));
  return std::move(b.m);
}

// Zeroes channels [0, count) of a producer (weight rows, bias) and, for a following BN, its
// shift, so those channels are exactly 0 everywhere downstream.
void ZeroChannels(Graph& g, const std::string& prefix, int64_t count, const std::string& bn = "") {
  auto zero_rows = [&](const std::string& name) {
    Tensor t = g.FindInitializer(name)->Clone();
    const int64_t inner = t.numel() / t.dim(0);
    for (int64_t i = 0; i < count * inner; ++i) t.data<float>()[i] = 0.f;
    g.initializers[name] = t;
  };
  zero_rows(prefix + ".weight");
  zero_rows(prefix + ".bias");
  if (!bn.empty()) {
    zero_rows(bn + ".bias");
    zero_rows(bn + ".running_mean");
  }
}

std::vector<Tensor> RunRef(const Model& m, const Tensor& x, const std::string& input = "x") {
  auto s = Session::Create(m, {.num_threads = 1, .optimize = true, .reference_only = true});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto o = (*s)->Run({{input, x}});
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return o.ok() ? *o : std::vector<Tensor>{};
}

void ExpectSame(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5f * (1 + std::fabs(b.data<float>()[i]))) << i;
}

TEST(PruneStructured, RemovingZeroedChannelsKeepsOutputs) {
  auto m = ResidualCnn();
  ZeroChannels(*m->graph, "conv1", 4, "bn1");
  ZeroChannels(*m->graph, "conv2", 4, "bn2");
  ZeroChannels(*m->graph, "dw", 0);
  { Tensor t = m->graph->FindInitializer("dw.bias")->Clone(); for (int i = 0; i < 4; ++i) t.data<float>()[i] = 0; m->graph->initializers["dw.bias"] = t; }
  ZeroChannels(*m->graph, "conv3", 8);
  Tensor x = RandomT({2, 3, 8, 8}, 99, -1, 1);
  auto before = RunRef(*m, x);
  StructuredOptions o;
  o.ratio = 0.5;
  auto rep = PruneStructured(*m, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  const Graph& g = *m->graph;
  EXPECT_EQ(g.FindInitializer("conv1.weight")->shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(g.FindInitializer("conv2.weight")->shape(), (Shape{4, 4, 3, 3}));
  EXPECT_EQ(g.FindInitializer("bn2.running_var")->shape(), (Shape{4}));
  EXPECT_EQ(g.FindInitializer("dw.weight")->shape(), (Shape{4, 1, 3, 3}));
  EXPECT_EQ(g.FindInitializer("conv3.weight")->shape(), (Shape{8, 4, 1, 1}));
  EXPECT_EQ(g.FindInitializer("fc.weight")->shape(), (Shape{10, 8 * 16}));
  for (const auto& n : g.nodes())
    if (n->name == "dw") { EXPECT_EQ(n->GetInt("group", 0), 4); }
  auto after = RunRef(*m, x);
  ASSERT_EQ(after.size(), 1u);
  ExpectSame(after[0], before[0]);
  ASSERT_FALSE(rep->notes.empty());  // fc kept: it produces the graph output
  EXPECT_NE(rep->notes[0].find("graph output"), std::string::npos);
}

TEST(PruneStructured, MlpFlopsDropByHandCount) {
  auto m = std::move(bench::BuildMlp(1, {16, 12, 8, 4}, /*as_gemm=*/true, 3)).value();
  auto before = analyze::AnalyzeModel(*m).value();
  EXPECT_EQ(before.macs, 16 * 12 + 12 * 8 + 8 * 4);
  StructuredOptions o;
  o.ratio = 0.5;
  ASSERT_TRUE(PruneStructured(*m, o).ok());
  auto after = analyze::AnalyzeModel(*m).value();
  EXPECT_EQ(after.macs, 16 * 6 + 6 * 4 + 4 * 4);
  // MatMul + Add form (bias as a per-channel constant Add) prunes the same way.
  auto mm = std::move(bench::BuildMlp(1, {16, 12, 8, 4}, /*as_gemm=*/false, 3)).value();
  ASSERT_TRUE(PruneStructured(*mm, o).ok());
  EXPECT_EQ(analyze::AnalyzeModel(*mm).value().macs, 16 * 6 + 6 * 4 + 4 * 4);
  Tensor x = RandomT({1, 16}, 5);
  EXPECT_EQ(RunRef(*mm, x, "input").size(), 1u);
}

TEST(PruneStructured, ChannelMultipleRoundsKeptChannelsUp) {
  auto m = std::move(bench::BuildMlp(1, {16, 20, 12, 4}, true, 3)).value();
  StructuredOptions o;
  o.ratio = 0.5;  // 20 -> 10 -> rounded up to 16; 12 -> 6 -> 8
  o.channel_multiple = 8;
  ASSERT_TRUE(PruneStructured(*m, o).ok());
  EXPECT_EQ(analyze::AnalyzeModel(*m).value().macs, 16 * 16 + 16 * 8 + 8 * 4);
}

TEST(PruneStructured, FlopTargetFindsASmallEnoughRatio) {
  auto m = std::move(bench::BuildMlp(1, {64, 64, 64, 4}, true, 3)).value();
  const double base = analyze::AnalyzeModel(*m).value().flops;
  StructuredOptions o;
  o.ratio = 0.9;
  o.target_flops_reduction = 0.5;
  ASSERT_TRUE(PruneStructured(*m, o).ok());
  const double red = 1 - analyze::AnalyzeModel(*m).value().flops / base;
  EXPECT_GE(red, 0.5);
  EXPECT_LT(red, 0.6);  // the smallest ratio that reaches it, not the 90 % cap
}

void ExpectUnchangedError(Model& m, const std::string& node_fragment) {
  auto snapshot = m.Clone();
  auto st = PruneStructured(m, {});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find(node_fragment), std::string::npos) << st.status().message();
  for (const auto& [name, t] : snapshot->graph->initializers) {
    const Tensor* now = m.graph->FindInitializer(name);
    ASSERT_NE(now, nullptr) << name;
    EXPECT_EQ(now->raw(), t.raw()) << name;  // the very same tensors
  }
}

TEST(PruneStructured, ReshapeIsAnUnsupportedCoupling) {
  Builder b({1, 3, 8, 8});
  auto c = b.Conv("conv1", "x", 8, 3, 3);
  b.g().AddInitializer("const_shape", Tensor::FromVector<int64_t>({2}, {1, -1}));
  auto r = b.Op("Reshape", {c, "const_shape"}, "reshape");
  b.Output(b.Gemm("fc", r, 8 * 64, 10));
  ExpectUnchangedError(*b.m, "Reshape 'reshape'");
}

TEST(PruneStructured, GroupedConvIsAnUnsupportedCoupling) {
  Builder b({1, 3, 8, 8});
  auto c = b.Conv("conv1", "x", 8, 3, 3);
  b.Output(b.Conv("gconv", c, 8, 8, 3, /*group=*/2));
  ExpectUnchangedError(*b.m, "Conv 'gconv'");
}

TEST(PruneStructured, ResidualWithGraphInputIsAnError) {
  Builder b({1, 8, 8, 8});
  auto c = b.Conv("conv1", "x", 8, 8, 3);
  auto a = b.Op("Add", {c, "x"}, "add");
  b.Output(b.Conv("conv2", a, 4, 8, 3));
  ExpectUnchangedError(*b.m, "Add 'add'");
}

TEST(PruneStructured, BadRatioIsAnError) {
  auto m = ResidualCnn();
  StructuredOptions o;
  o.ratio = 1.0;
  EXPECT_FALSE(PruneStructured(*m, o).ok());
  EXPECT_EQ(m->graph->FindInitializer("conv1.weight")->dim(0), 8);
}

}  // namespace
}  // namespace greenai::compress
