// WeightOnlyFusion (passes/weight_only_fusion.cc) on models written by greenai's own
// `Quantize(..., kInt4Weight)`: the fused session (ai.greenai MatMulInt4, weights kept 4-bit)
// against the same model with the pass off (constant folding expands the weights to float32):
//  - with reference kernels both must give the same bits (the pass's kExact claim);
//  - with the default kernels, within float32 rounding;
//  - the fused node and its kernel must be the ones chosen;
// and the pass must leave the graph alone when any node, attribute or constant of the
// expansion differs from what the quantizer writes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>

#include "backends/cpu/lowp_gemm.h"
#include "bench/models.h"
#include "compress/quantize/quantize.h"
#include "ops/weight_only.h"
#include "passes/passes.h"
#include "quant_test_util.h"

namespace greenai::compress {
namespace {

using quanttest::Batches;
using quanttest::CountOps;

#ifdef GREENAI_LOWP_AVX2
constexpr const char* kFastKernel = "f32_matmulint4__avx2";
#else
constexpr const char* kFastKernel = "f32_matmulint4__ref";
#endif

std::unique_ptr<Model> QuantizeInt4(const Model& m, int block) {
  QuantizeOptions o;
  o.mode = QuantMode::kInt4Weight;
  o.int4_block = block;
  QuantizeReport rep;
  auto q = Quantize(m, o, {}, &rep);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? std::move(q).value() : nullptr;
}

// A session over `m` with the default pipeline but WeightOnlyFusion off.
std::unique_ptr<Session> Unfused(const Model& m, bool reference_only) {
  auto copy = m.Clone();
  PipelineOptions po;
  po.weight_only_fusion = false;
  EXPECT_TRUE(RunPasses(*copy, DefaultPasses(po)).ok());
  SessionOptions so;
  so.optimize = false;
  so.reference_only = reference_only;
  auto s = Session::Create(*copy, so);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

std::unique_ptr<Session> Fused(const Model& m, bool reference_only) {
  SessionOptions so;
  so.reference_only = reference_only;
  auto s = Session::Create(m, so);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

Tensor Run(Session& s, const Feeds& feeds) {
  auto out = s.Run(feeds);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? (*out)[0] : Tensor();
}

// Every MatMulInt4 node of the session runs `kernel`; returns how many there are.
int FusedNodes(const Session& s, std::string_view kernel) {
  int n = 0;
  for (size_t i = 0; i < s.graph().nodes().size(); ++i) {
    const Node& node = *s.graph().nodes()[i];
    if (node.op_type != kMatMulInt4) continue;
    EXPECT_EQ(node.domain, kGreenaiDomain);
    EXPECT_EQ(s.kernel_name(i), kernel) << node.Describe();
    ++n;
  }
  return n;
}

void ExpectSameBits(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]) << what << " @" << i;
}

void ExpectClose(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  float range = 0;
  for (int64_t i = 0; i < b.numel(); ++i) range = std::max(range, std::fabs(b.data<float>()[i]));
  for (int64_t i = 0; i < a.numel(); ++i)
    ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5f * (range + 1.f)) << what << " @" << i;
}

// Fused vs unfused, reference and default kernels, on `feeds`; `layers` MatMul/Gemm nodes.
void CheckFusion(const Model& q, const std::vector<Feeds>& batches, int layers, const std::string& what) {
  auto fused = Fused(q, false), fused_ref = Fused(q, true);
  auto plain = Unfused(q, false), plain_ref = Unfused(q, true);
  ASSERT_TRUE(fused && fused_ref && plain && plain_ref) << what;
  EXPECT_EQ(FusedNodes(*fused, kFastKernel), layers) << what;
  EXPECT_EQ(FusedNodes(*fused_ref, "f32_matmulint4__ref"), layers) << what;
  EXPECT_EQ(CountOps(fused->graph(), "BitShift"), 0) << what << ": the expansion must be gone";
  EXPECT_EQ(CountOps(plain->graph(), std::string(kMatMulInt4)), 0) << what;
  EXPECT_EQ(CountOps(plain->graph(), "BitShift"), 0) << what << ": constant folding expands the weights";
  for (const Feeds& f : batches) {
    ExpectSameBits(Run(*fused_ref, f), Run(*plain_ref, f), what + " (reference kernels)");
    ExpectClose(Run(*fused, f), Run(*plain, f), what + " (default kernels)");
  }
}

TEST(WeightOnlyFusion, Int4MlpMatchesConstantFolding) {
  // K = 100 leaves a partial last block (the Slice form) for every block size; 64 and 48 do
  // for some. Batch 1 runs the GEMV path, batch 9 the panel path.
  auto m = bench::BuildMlp(9, {100, 64, 48, 10}, false, 11);
  ASSERT_TRUE(m.ok());
  for (int block : {32, 64, 128}) {
    auto q = QuantizeInt4(**m, block);
    ASSERT_NE(q, nullptr);
    CheckFusion(*q, Batches("input", {9, 100}, 2, 70), 3, "mlp block " + std::to_string(block));
  }
  auto m1 = bench::BuildMlp(1, {100, 64, 48, 10}, true, 12);  // Gemm with transB in the source
  ASSERT_TRUE(m1.ok());
  auto q1 = QuantizeInt4(**m1, 32);
  ASSERT_NE(q1, nullptr);
  CheckFusion(*q1, Batches("input", {1, 100}, 2, 90), 3, "mlp batch 1");
}

TEST(WeightOnlyFusion, BatchedMatMulAndGemmAlphaBeta) {
  // MatMul with a 3-D A (stays MatMul: MatMulAddFusion needs 2-D A) ...
  auto m = quanttest::NewModel();
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {2, 3, 70}), ""});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {2, 3, 6}), ""});
  g.AddInitializer("W", quanttest::RandomTensor({70, 6}, 21));
  g.AddNode("MatMul", {"x", "W"}, {"y"}, "mm");
  auto q = QuantizeInt4(*m, 64);
  ASSERT_NE(q, nullptr);
  CheckFusion(*q, Batches("x", {2, 3, 70}, 2, 30), 1, "batched MatMul");
  // ... and a Gemm whose alpha and beta the fused node must carry (set after quantizing:
  // the quantizer itself only takes alpha = 1).
  auto m2 = quanttest::SingleGemm(5, 96, 20, 31);
  auto q2 = QuantizeInt4(*m2, 32);
  ASSERT_NE(q2, nullptr);
  for (const auto& n : q2->graph->nodes())
    if (n->op_type == "Gemm") {
      n->SetFloat("alpha", 0.5f);
      n->SetFloat("beta", -2.f);
    }
  CheckFusion(*q2, Batches("x", {5, 96}, 2, 40), 1, "Gemm alpha/beta");
}

// ---- declines ----

Node* FindNode(Graph& g, const std::string& op, const std::string& name_suffix = "") {
  for (const auto& n : g.mutable_nodes())
    if (n->op_type == op && n->name.size() >= name_suffix.size() &&
        n->name.compare(n->name.size() - name_suffix.size(), name_suffix.size(), name_suffix) == 0)
      return n.get();
  return nullptr;
}

void ReplaceConstant(Graph& g, const std::string& name, Tensor t) { g.initializers[name] = std::move(t); }

int FuseCount(Model& m) {
  WeightOnlyFusion pass;
  EXPECT_TRUE(pass.Run(m).ok());
  return pass.fused();
}

TEST(WeightOnlyFusion, DeclinesAnyOtherForm) {
  auto m = quanttest::SingleGemm(2, 70, 12, 5);  // K = 70: the Slice form
  auto q = QuantizeInt4(*m, 32);
  ASSERT_NE(q, nullptr);
  {
    auto ok = q->Clone();
    EXPECT_EQ(FuseCount(*ok), 1) << "the quantizer's own form";
  }
  using Mutation = std::function<void(Graph&)>;
  const std::vector<std::pair<std::string, Mutation>> mutations = {
      {"offset 7", [](Graph& g) { ReplaceConstant(g, FindNode(g, "Sub")->inputs[1], Tensor::Scalar<float>(7.f)); }},
      {"shift 3", [](Graph& g) { ReplaceConstant(g, FindNode(g, "BitShift", "_BitShift_hi")->inputs[1], Tensor::Scalar<uint8_t>(3)); }},
      {"lo shifted left", [](Graph& g) { FindNode(g, "BitShift", "_BitShift_lo")->SetString("direction", "LEFT"); }},
      {"Concat axis 0", [](Graph& g) { FindNode(g, "Concat")->SetInt("axis", 0); }},
      {"hi before lo", [](Graph& g) { std::swap(FindNode(g, "Concat")->inputs[0], FindNode(g, "Concat")->inputs[1]); }},
      {"Cast to f16", [](Graph& g) { FindNode(g, "Cast")->SetInt("to", static_cast<int64_t>(DType::kF16)); }},
      {"Unsqueeze axis 0", [](Graph& g) {
         ReplaceConstant(g, FindNode(g, "Unsqueeze", "_Unsqueeze_lo")->inputs[1], Tensor::FromVector<int64_t>({1}, {0}));
       }},
      {"blocks of 16", [](Graph& g) {
         const Tensor* s = g.FindInitializer(FindNode(g, "Reshape", "_Reshape_blocks")->inputs[1]);
         std::vector<int64_t> v(s->data<int64_t>(), s->data<int64_t>() + 3);
         ReplaceConstant(g, FindNode(g, "Reshape", "_Reshape_blocks")->inputs[1],
                         Tensor::FromVector<int64_t>({3}, {v[0] * 2, v[1] / 2, v[2]}));
       }},
      {"slice end", [](Graph& g) {
         ReplaceConstant(g, FindNode(g, "Slice")->inputs[2], Tensor::FromVector<int64_t>({1}, {60}));
       }},
      {"scales from an input", [](Graph& g) { g.inputs.push_back({FindNode(g, "Mul")->inputs[1], {}, ""}); }},
      {"packed from an input", [](Graph& g) { g.inputs.push_back({FindNode(g, "BitShift", "_BitShift_hi")->inputs[0], {}, ""}); }},
      {"extra Mul attribute", [](Graph& g) { FindNode(g, "Mul")->SetInt("foo", 1); }},
      {"Gemm transB", [](Graph& g) { FindNode(g, "Gemm")->SetInt("transB", 1); }},
      {"Gemm transA", [](Graph& g) { FindNode(g, "Gemm")->SetInt("transA", 1); }},
      {"other domain", [](Graph& g) { FindNode(g, "Cast")->domain = "com.example"; }},
  };
  for (const auto& [what, mutate] : mutations) {
    auto c = q->Clone();
    mutate(*c->graph);
    const size_t nodes = c->graph->nodes().size();
    EXPECT_EQ(FuseCount(*c), 0) << what;
    EXPECT_EQ(c->graph->nodes().size(), nodes) << what << ": the graph must be left alone";
    EXPECT_EQ(CountOps(*c->graph, std::string(kMatMulInt4)), 0) << what;
  }
  // Mul is commutative: scales first is the same expansion.
  auto c = q->Clone();
  std::swap(FindNode(*c->graph, "Mul")->inputs[0], FindNode(*c->graph, "Mul")->inputs[1]);
  EXPECT_EQ(FuseCount(*c), 1);
}

}  // namespace
}  // namespace greenai::compress
