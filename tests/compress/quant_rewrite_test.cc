// Quantization rewrites: QDQ structure, error bounds from the scales, fusion, bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "compress/quantize/quantize.h"
#include "bench/models.h"
#include "graph/onnx_io.h"
#include "passes/passes.h"
#include "quant_test_util.h"

namespace greenai::compress {
namespace {

using quanttest::Batches;
using quanttest::CountOps;
using quanttest::RunOne;

const Tensor& Init(const Model& m, const std::string& name) { return *m.graph->FindInitializer(name); }

// Single Gemm, static per-channel: |y_q - y| <= sum_k |x_k| sw_n / 2 + (|W_nk| + sw_n / 2) sx / 2
// + sx sw_n / 2 (bias rounding), the bound from the scales written in the file.
TEST(QuantStatic, SingleGemmWithinScaleBound) {
  const int64_t B = 8, K = 32, N = 6;
  auto m = quanttest::SingleGemm(B, K, N, 5);
  auto calib = Batches("x", {B, K}, 4, 200, -1.f, 1.f);
  QuantizeOptions o;
  QuantizeReport rep;
  auto q = Quantize(*m, o, calib, &rep);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(rep.quantized, std::vector<std::string>{"fc"});
  const Graph& g = *(*q)->graph;
  EXPECT_EQ(CountOps(g, "QuantizeLinear"), 1);    // x only: y is a graph output
  EXPECT_EQ(CountOps(g, "DequantizeLinear"), 3);  // x, W, b
  const Tensor& sw = Init(**q, "W_scale");
  ASSERT_EQ(sw.numel(), N);
  const float sx = Init(**q, "x_scale").data<float>()[0];
  const Tensor& W = Init(*m, "W");
  for (int i = 0; i < 4; ++i) {
    const auto& feeds = calib[static_cast<size_t>(i)];
    Tensor y = RunOne(*m, feeds), yq = RunOne(**q, feeds);
    ASSERT_TRUE(yq.defined());
    const float* x = feeds[0].second.data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t n = 0; n < N; ++n) {
        const float s = sw.data<float>()[n];
        double bound = sx * s / 2;
        for (int64_t k = 0; k < K; ++k)
          bound += std::fabs(x[b * K + k]) * s / 2 + (std::fabs(W.data<float>()[n * K + k]) + s / 2) * sx / 2;
        EXPECT_LE(std::fabs(yq.data<float>()[b * N + n] - y.data<float>()[b * N + n]), bound * 1.001 + 1e-6);
      }
  }
}

// Weight bits: by default every channel's absmax maps to 63 (7 bits, so u8 x s8 kernels
// without VNNI cannot saturate); --weight-bits 8 maps it to 127. Checked on the stored ints.
TEST(QuantStatic, WeightBitsSetTheStoredRange) {
  const int64_t B = 8, K = 32, N = 6;
  auto m = quanttest::SingleGemm(B, K, N, 5);
  auto calib = Batches("x", {B, K}, 2, 200, -1.f, 1.f);
  for (int bits : {7, 8}) {
    QuantizeOptions o;
    o.weight_bits = bits;
    auto q = Quantize(*m, o, calib, nullptr);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    const Tensor& wq = Init(**q, "W_quantized");
    ASSERT_EQ(wq.dtype(), DType::kI8);
    ASSERT_EQ(wq.numel(), K * N);
    const int qmax = bits == 7 ? 63 : 127;
    // Stored as [K, N] or [N, K]: per output channel n, the largest |w| is exactly qmax.
    const bool kn = wq.dim(0) == K;
    for (int64_t n = 0; n < N; ++n) {
      int absmax = 0;
      for (int64_t k = 0; k < K; ++k) absmax = std::max(absmax, std::abs(static_cast<int>(
                                                                    wq.data<int8_t>()[kn ? k * N + n : n * K + k])));
      EXPECT_EQ(absmax, qmax) << "bits " << bits << " channel " << n;
    }
  }
  QuantizeOptions bad;
  bad.weight_bits = 6;
  EXPECT_EQ(Quantize(*m, bad, calib, nullptr).status().code(), StatusCode::kInvalidArgument);
}

// The fused int8 graph agrees with the unfused QDQ graph (optimize off = DQ/Q in float)
// within one quantization step of every quantized value: here the graph output is
// DequantizeLinear(Q(Relu(Conv))), so the step is the output scale.
TEST(QdqFusionTest, ConvReluWithinOneStep) {
  auto m = quanttest::SmallCnn(2, 7);
  // Make relu2's quantized output the graph output so one scale bounds the difference.
  auto calib = Batches("x", {2, 2, 8, 8}, 3, 300);
  QuantizeOptions o;
  QuantizeReport rep;
  auto q = Quantize(*m, o, calib, &rep);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(rep.quantized.size(), 3u);
  Model& qm = **q;
  Graph& g = *qm.graph;
  // Cut the graph after relu2's DequantizeLinear.
  std::string r2dq;
  for (const auto& n : g.nodes())
    if (n->op_type == "DequantizeLinear" && n->inputs[0].rfind("r2_quantized", 0) == 0) r2dq = n->outputs[0];
  ASSERT_FALSE(r2dq.empty());
  g.outputs = {{r2dq, TensorType::Of(DType::kF32, {2, 6, 2, 2}), ""}};
  float step = 0;
  for (const auto& n : g.nodes())
    if (n->outputs[0] == r2dq) step = g.FindInitializer(n->inputs[1])->data<float>()[0];
  ASSERT_GT(step, 0);
  auto fused = Session::Create(qm);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  int qconv = 0;
  for (const auto& n : (*fused)->graph().nodes()) qconv += n->op_type == "QLinearConv";
  EXPECT_EQ(qconv, 2);
  EXPECT_EQ(CountOps((*fused)->graph(), "Conv"), 0);
  EXPECT_EQ(CountOps((*fused)->graph(), "Relu"), 0);
  for (const auto& feeds : Batches("x", {2, 2, 8, 8}, 3, 900)) {
    Tensor a = RunOne(qm, feeds, /*optimize=*/false);
    auto b = (*fused)->Run(feeds);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    ASSERT_TRUE(a.defined());
    for (int64_t i = 0; i < a.numel(); ++i)
      EXPECT_LE(std::fabs(a.data<float>()[i] - (*b)[0].data<float>()[i]), step * 1.0001f) << i;
  }
}

TEST(QdqFusionTest, MlpRunsInt8AndStaysCloseToFloat) {
  auto m = bench::BuildMlp(16, {64, 48, 32, 10}, false, 3);
  ASSERT_TRUE(m.ok());
  auto calib = Batches("input", {16, 64}, 4, 400, 0.f, 1.f);
  QuantizeOptions o;
  QuantizeReport rep;
  auto q = Quantize(**m, o, calib, &rep);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(rep.quantized.size(), 3u);
  auto s = Session::Create(**q);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GE(CountOps((*s)->graph(), "QGemm"), 2);  // QdqFusion's MatMulInteger chains, fused by QGemmFusion
  EXPECT_EQ(CountOps((*s)->graph(), "Relu"), 0);
  int agree = 0, total = 0;
  for (const auto& feeds : Batches("input", {16, 64}, 4, 800, 0.f, 1.f)) {
    Tensor y = RunOne(**m, feeds);
    auto yq = (*s)->Run(feeds);
    ASSERT_TRUE(yq.ok());
    Tensor unfused = RunOne(**q, feeds, false);
    float range = 0, err = 0, ferr = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      range = std::max(range, std::fabs(y.data<float>()[i]));
      err = std::max(err, std::fabs(y.data<float>()[i] - (*yq)[0].data<float>()[i]));
      ferr = std::max(ferr, std::fabs(unfused.data<float>()[i] - (*yq)[0].data<float>()[i]));
    }
    EXPECT_LT(err, 0.05f * range);
    EXPECT_LT(ferr, 0.02f * range);
    for (int64_t b = 0; b < 16; ++b) {
      auto arg = [&](const float* p) { return std::max_element(p + b * 10, p + b * 10 + 10) - (p + b * 10); };
      agree += arg(y.data<float>()) == arg((*yq)[0].data<float>());
      ++total;
    }
  }
  EXPECT_GE(agree, total * 9 / 10);
}

TEST(QuantDynamic, MlpUsesMatMulIntegerAndStaysClose) {
  auto m = bench::BuildMlp(4, {64, 32, 10}, true, 9);
  ASSERT_TRUE(m.ok());
  QuantizeOptions o;
  o.mode = QuantMode::kDynamic;
  QuantizeReport rep;
  auto q = Quantize(**m, o, {}, &rep);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(rep.quantized.size(), 2u);
  EXPECT_EQ(CountOps(*(*q)->graph, "MatMulInteger"), 2);
  EXPECT_EQ(CountOps(*(*q)->graph, "DynamicQuantizeLinear"), 2);
  EXPECT_EQ(CountOps(*(*q)->graph, "Gemm"), 0);
  for (const auto& feeds : Batches("input", {4, 64}, 3, 50)) {
    Tensor y = RunOne(**m, feeds), yq = RunOne(**q, feeds);
    ASSERT_TRUE(yq.defined());
    float range = 0, err = 0;
    for (int64_t i = 0; i < y.numel(); ++i) {
      range = std::max(range, std::fabs(y.data<float>()[i]));
      err = std::max(err, std::fabs(y.data<float>()[i] - yq.data<float>()[i]));
    }
    EXPECT_LT(err, 0.03f * range);
  }
}

TEST(QuantFp16, MlpHalfWeightsFloatBoundary) {
  auto m = bench::BuildMlp(2, {32, 16, 4}, true, 4);
  ASSERT_TRUE(m.ok());
  for (QuantMode mode : {QuantMode::kFp16, QuantMode::kBf16}) {
    QuantizeOptions o;
    o.mode = mode;
    QuantizeReport rep;
    auto q = Quantize(**m, o, {}, &rep);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    for (const auto& [name, t] : (*q)->graph->initializers)
      EXPECT_EQ(t.dtype(), mode == QuantMode::kFp16 ? DType::kF16 : DType::kBF16) << name;
    EXPECT_EQ((*q)->graph->outputs[0].type.dtype, DType::kF32);
    for (const auto& feeds : Batches("input", {2, 32}, 2, 60)) {
      Tensor y = RunOne(**m, feeds), yq = RunOne(**q, feeds);
      ASSERT_TRUE(yq.defined()) << QuantModeName(mode);
      ASSERT_EQ(yq.dtype(), DType::kF32);
      const float tol = mode == QuantMode::kFp16 ? 5e-3f : 4e-2f;
      for (int64_t i = 0; i < y.numel(); ++i)
        EXPECT_NEAR(yq.data<float>()[i], y.data<float>()[i], tol * (1 + std::fabs(y.data<float>()[i])));
    }
  }
}

// int4 block-wise: |y_q - y| <= sum_k |x_k| * s(block(k), n) / 2, for a MatMul [K, N] with K a
// multiple of the block and a Gemm with transB whose K = 70 leaves a partial last block.
TEST(QuantInt4, BlockwiseWithinBound) {
  for (int64_t K : {64, 70}) {
    const bool gemm = K == 70;
    const int64_t N = 5, B = 32;
    auto m = quanttest::NewModel();
    Graph& g = *m->graph;
    g.inputs.push_back({"x", TensorType::Of(DType::kF32, {3, K}), ""});
    g.outputs.push_back({"y", TensorType::Of(DType::kF32, {3, N}), ""});
    Tensor W = quanttest::RandomTensor({K, N}, 77);  // [K, N] view used for the bound
    if (gemm) {
      Tensor wt = Tensor::Create(DType::kF32, {N, K}).value();
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) wt.data<float>()[n * K + k] = W.data<float>()[k * N + n];
      g.AddInitializer("W", wt);
      g.AddNode("Gemm", {"x", "W"}, {"y"}, "mm")->SetInt("transB", 1);
    } else {
      g.AddInitializer("W", W);
      g.AddNode("MatMul", {"x", "W"}, {"y"}, "mm");
    }
    QuantizeOptions o;
    o.mode = QuantMode::kInt4Weight;
    o.int4_block = static_cast<int>(B);
    QuantizeReport rep;
    auto q = Quantize(*m, o, {}, &rep);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    ASSERT_EQ(rep.quantized.size(), 1u) << K;
    const int64_t Kp = (K + B - 1) / B * B;
    const Tensor* packed = nullptr;
    for (const auto& [name, t] : (*q)->graph->initializers)
      if (t.dtype() == DType::kU8 && t.numel() == Kp * N / 2) packed = &t;
    ASSERT_NE(packed, nullptr) << "two int4 values per byte";
    auto feeds = Batches("x", {3, K}, 1, 5)[0];
    Tensor y = RunOne(*m, feeds), yq = RunOne(**q, feeds);
    ASSERT_TRUE(yq.defined());
    const float* x = feeds[0].second.data<float>();
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t n = 0; n < N; ++n) {
        double bound = 0;
        for (int64_t b = 0; b * B < K; ++b) {
          const int64_t end = std::min(K, (b + 1) * B);
          float a = 0;
          for (int64_t k = b * B; k < end; ++k) a = std::max(a, std::fabs(W.data<float>()[k * N + n]));
          for (int64_t k = b * B; k < end; ++k) bound += std::fabs(x[r * K + k]) * (a / 7) / 2;
        }
        EXPECT_LE(std::fabs(yq.data<float>()[r * N + n] - y.data<float>()[r * N + n]), bound * 1.001 + 1e-6) << K;
      }
  }
}

TEST(QuantBadInput, NoFloatWeightsWarnsAndKeepsModel) {
  auto m = quanttest::NewModel();
  Graph& g = *m->graph;
  g.inputs.push_back({"a", TensorType::Of(DType::kF32, {2, 3}), ""});
  g.inputs.push_back({"b", TensorType::Of(DType::kF32, {3, 2}), ""});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {2, 2}), ""});
  g.AddNode("MatMul", {"a", "b"}, {"y"}, "mm");
  QuantizeOptions o;
  o.mode = QuantMode::kDynamic;
  QuantizeReport rep;
  auto q = Quantize(*m, o, {}, &rep);
  ASSERT_TRUE(q.ok());
  ASSERT_FALSE(rep.warnings.empty());
  EXPECT_TRUE(rep.quantized.empty());
  EXPECT_EQ(CountOps(*(*q)->graph, "MatMul"), 1);
}

TEST(QuantBadInput, ExclusionsAndUnquantizableNodesAreNamed) {
  auto m = quanttest::SmallCnn(1, 3);
  auto calib = Batches("x", {1, 2, 8, 8}, 2, 10);
  QuantizeOptions o;
  o.exclude_nodes = {"conv2"};
  QuantizeReport rep;
  auto q = Quantize(*m, o, calib, &rep);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(rep.quantized, (std::vector<std::string>{"conv1", "fc"}));
  bool named = false;
  for (const auto& w : rep.warnings) named = named || w.find("conv2") != std::string::npos;
  EXPECT_TRUE(named);
  // conv2 still reads a float weight.
  for (const auto& n : (*q)->graph->nodes()) {
    if (n->name == "conv2") {
      EXPECT_EQ(n->inputs[1], "w2");
    }
  }
  // Dynamic mode leaves Conv float with a warning naming each conv.
  o = {};
  o.mode = QuantMode::kDynamic;
  rep = {};
  q = Quantize(*m, o, {}, &rep);
  ASSERT_TRUE(q.ok());
  int conv_warnings = 0;
  for (const auto& w : rep.warnings) conv_warnings += w.find("Conv 'conv") != std::string::npos;
  EXPECT_EQ(conv_warnings, 2);
  EXPECT_EQ(rep.quantized, std::vector<std::string>{"fc"});
}

TEST(QuantStatic, BiasCorrectionReducesMeanError) {
  // Per-tensor weights (coarse) and inputs with a large mean: weight rounding shifts the
  // output mean; bias correction removes most of that shift.
  const int64_t B = 32, K = 64, N = 8;
  auto m = quanttest::SingleGemm(B, K, N, 21);
  auto calib = Batches("x", {B, K}, 4, 500, 0.5f, 1.5f);
  double shift[2] = {0, 0};
  for (int bc = 0; bc < 2; ++bc) {
    QuantizeOptions o;
    o.per_channel = false;
    o.bias_correction = bc == 1;
    QuantizeReport rep;
    auto q = Quantize(*m, o, calib, &rep);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    std::vector<double> mean(N, 0.0);
    for (const auto& feeds : calib) {
      Tensor y = RunOne(*m, feeds), yq = RunOne(**q, feeds);
      for (int64_t i = 0; i < y.numel(); ++i) mean[static_cast<size_t>(i % N)] += yq.data<float>()[i] - y.data<float>()[i];
    }
    for (double v : mean) shift[bc] += std::fabs(v) / (B * 4);
  }
  EXPECT_LT(shift[1], shift[0] * 0.5) << shift[0] << " -> " << shift[1];
}

TEST(QuantExport, QdqModelRoundTripsThroughOnnx) {
  auto m = quanttest::SmallCnn(1, 3);
  auto calib = Batches("x", {1, 2, 8, 8}, 2, 10);
  QuantizeReport rep;
  auto q = Quantize(*m, QuantizeOptions{}, calib, &rep);
  ASSERT_TRUE(q.ok());
  auto bytes = SerializeModel(**q);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = LoadModelFromBytes(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto feeds = calib[0];
  Tensor a = RunOne(**q, feeds), b = RunOne(**back, feeds);
  ASSERT_TRUE(a.defined() && b.defined());
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
}

}  // namespace
}  // namespace greenai::compress
