// Quantization ops: hand-computed cases (rounding ties, saturation, per-axis, zero points),
// ONNX's published examples, optimized-vs-reference sweeps and bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "backends/cpu/run_node.h"
#include "ops/op_table.h"

namespace greenai {
namespace {

Node MakeNode(const std::string& op, int nin, int nout = 1) {
  Node n;
  n.name = "n_" + op;
  n.op_type = op;
  for (int i = 0; i < nin; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (int i = 0; i < nout; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

template <typename T>
std::vector<T> Vals(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

std::vector<Tensor> MustRun(const Node& n, const std::vector<Tensor>& in, bool ref = true, int64_t opset = 13,
                            std::string_view* kname = nullptr) {
  RunNodeOptions o;
  o.reference_only = ref;
  o.opset = opset;
  o.kernel_name_out = kname;
  auto r = RunNode(n, in, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Tensor>{};
}

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturatesU8) {
  Node n = MakeNode("QuantizeLinear", 3);
  auto x = Tensor::FromVector<float>({8}, {0.5f, 1.5f, 2.5f, -0.5f, 3.49f, 300.f, -300.f, 127.5f});
  auto out = MustRun(n, {x, Tensor::Scalar<float>(1.f), Tensor::Scalar<uint8_t>(0)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Vals<uint8_t>(out[0]), (std::vector<uint8_t>{0, 2, 2, 0, 3, 255, 0, 128}));
}

TEST(QuantizeLinear, Int8WithZeroPointAndScale) {
  Node n = MakeNode("QuantizeLinear", 3);
  auto x = Tensor::FromVector<float>({6}, {1.f, 3.f, 5.f, -1.f, -3.f, 1000.f});
  auto out = MustRun(n, {x, Tensor::Scalar<float>(2.f), Tensor::Scalar<int8_t>(-10)});
  // 0.5->0, 1.5->2, 2.5->2, -0.5->-0, -1.5->-2, 500 -> saturate; then + (-10).
  EXPECT_EQ(Vals<int8_t>(out[0]), (std::vector<int8_t>{-10, -8, -8, -10, -12, 127}));
  // Default output type without a zero point is uint8.
  Node n2 = MakeNode("QuantizeLinear", 2);
  auto out2 = MustRun(n2, {x, Tensor::Scalar<float>(2.f)});
  EXPECT_EQ(out2[0].dtype(), DType::kU8);
  EXPECT_EQ(Vals<uint8_t>(out2[0]), (std::vector<uint8_t>{0, 2, 2, 0, 0, 255}));
}

TEST(QuantizeLinear, PerAxisScalesAndZeroPoints) {
  Node n = MakeNode("QuantizeLinear", 3);
  n.SetInt("axis", 1);
  auto x = Tensor::FromVector<float>({2, 3}, {1.f, 4.f, 10.f, -1.f, 5.f, 2.f});
  auto s = Tensor::FromVector<float>({3}, {1.f, 2.f, 4.f});
  auto z = Tensor::FromVector<uint8_t>({3}, {0, 1, 2});
  auto out = MustRun(n, {x, s, z});
  // col0: x/1+0; col1: x/2+1 (2+1=3, 2.5->2 +1=3); col2: x/4+2 (2.5->2 +2=4, 0.5->0 +2=2)
  EXPECT_EQ(Vals<uint8_t>(out[0]), (std::vector<uint8_t>{1, 3, 4, 0, 3, 2}));
}

TEST(QuantizeLinear, ScaleShapeMismatchNamesNode) {
  Node n = MakeNode("QuantizeLinear", 3);
  auto x = Tensor::FromVector<float>({2, 4}, std::vector<float>(8, 1.f));
  auto s = Tensor::FromVector<float>({3}, {1.f, 2.f, 4.f});
  auto z = Tensor::FromVector<uint8_t>({3}, {0, 1, 2});
  RunNodeOptions o;
  o.opset = 13;
  auto r = RunNode(n, {x, s, z}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("n_QuantizeLinear"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("y_scale"), std::string::npos) << r.status().message();
  // Zero point shape differing from scale shape is also rejected.
  auto z2 = Tensor::FromVector<uint8_t>({2}, {0, 1});
  auto x3 = Tensor::FromVector<float>({2, 3}, std::vector<float>(6, 1.f));
  auto r2 = RunNode(n, {x3, s, z2}, o);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("y_zero_point"), std::string::npos) << r2.status().message();
}

TEST(DequantizeLinear, PerTensorPerAxisAndInt32) {
  Node n = MakeNode("DequantizeLinear", 3);
  auto x = Tensor::FromVector<uint8_t>({4}, {0, 3, 128, 255});
  auto out = MustRun(n, {x, Tensor::Scalar<float>(2.f), Tensor::Scalar<uint8_t>(128)});
  EXPECT_EQ(Vals<float>(out[0]), (std::vector<float>{-256.f, -250.f, 0.f, 254.f}));

  auto xi = Tensor::FromVector<int8_t>({1, 2, 2}, {-128, 127, 0, -1});
  auto s = Tensor::FromVector<float>({2}, {0.5f, 3.f});
  auto z = Tensor::FromVector<int8_t>({2}, {0, -1});
  auto out2 = MustRun(n, {xi, s, z});  // axis 1: rows use scale 0.5/zp 0 and 3/zp -1
  EXPECT_EQ(Vals<float>(out2[0]), (std::vector<float>{-64.f, 63.5f, 3.f, 0.f}));

  Node n2 = MakeNode("DequantizeLinear", 2);
  auto x32 = Tensor::FromVector<int32_t>({2}, {-100000, 7});
  auto out3 = MustRun(n2, {x32, Tensor::Scalar<float>(0.25f)});
  EXPECT_EQ(Vals<float>(out3[0]), (std::vector<float>{-25000.f, 1.75f}));
}

TEST(DynamicQuantizeLinear, OnnxPublishedExample) {
  Node n = MakeNode("DynamicQuantizeLinear", 1, 3);
  auto x = Tensor::FromVector<float>({6}, {0.f, 2.f, -3.f, -2.5f, 1.34f, 0.5f});
  auto out = MustRun(n, {x});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Vals<uint8_t>(out[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
  EXPECT_FLOAT_EQ(out[1].data<float>()[0], 5.f / 255.f);
  EXPECT_EQ(out[2].data<uint8_t>()[0], 153);
}

TEST(MatMulInteger, OnnxExampleWithZeroPointWorkedByHand) {
  Node n = MakeNode("MatMulInteger", 4);
  auto a = Tensor::FromVector<uint8_t>({4, 3}, {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0});
  auto b = Tensor::FromVector<uint8_t>({3, 2}, {1, 4, 2, 5, 3, 6});
  for (bool ref : {true, false}) {
    auto out = MustRun(n, {a, b, Tensor::Scalar<uint8_t>(12), Tensor::Scalar<uint8_t>(0)}, ref);
    // row 0: (-1, -5, -9) . (1, 2, 3) = -38 and . (4, 5, 6) = -83
    EXPECT_EQ(Vals<int32_t>(out[0]), (std::vector<int32_t>{-38, -83, -44, -98, -50, -113, -56, -128}));
  }
}

TEST(MatMulInteger, PerRowAndPerColumnZeroPoints) {
  Node n = MakeNode("MatMulInteger", 4);
  auto a = Tensor::FromVector<int8_t>({2, 2}, {1, 2, 3, 4});
  auto b = Tensor::FromVector<int8_t>({2, 2}, {5, 6, 7, 8});
  auto za = Tensor::FromVector<int8_t>({2}, {1, -1});
  auto zb = Tensor::FromVector<int8_t>({2}, {0, 2});
  for (bool ref : {true, false}) {
    auto out = MustRun(n, {a, b, za, zb}, ref);
    // A' = [[0, 1], [4, 5]], B' = [[5, 4], [7, 6]]
    EXPECT_EQ(Vals<int32_t>(out[0]), (std::vector<int32_t>{7, 6, 55, 46}));
  }
}

TEST(QLinearMatMul, RequantizesWithHalfToEvenTies) {
  Node n = MakeNode("QLinearMatMul", 8);
  auto b = Tensor::FromVector<uint8_t>({2, 1}, {1, 2});  // b - 1 = [0, 1]
  for (bool ref : {true, false}) {
    // acc = 3 -> 3 * 0.5 * 0.25 / 0.25 = 1.5 -> 2; acc = 5 -> 2.5 -> 2; acc = 7 -> 3.5 -> 4
    auto a = Tensor::FromVector<uint8_t>({3, 2}, {2, 3, 9, 5, 0, 7});
    auto out = MustRun(n, {a, Tensor::Scalar<float>(0.5f), Tensor::Scalar<uint8_t>(0), b, Tensor::Scalar<float>(0.25f),
                           Tensor::Scalar<uint8_t>(1), Tensor::Scalar<float>(0.25f), Tensor::Scalar<int8_t>(10)},
                       ref);
    EXPECT_EQ(out[0].dtype(), DType::kI8);
    EXPECT_EQ(Vals<int8_t>(out[0]), (std::vector<int8_t>{12, 12, 14}));
  }
}

TEST(ConvInteger, OnnxExampleWithPadding) {
  Node n = MakeNode("ConvInteger", 3);
  n.SetInts("pads", {1, 1, 1, 1});
  auto x = Tensor::FromVector<uint8_t>({1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto w = Tensor::FromVector<uint8_t>({1, 1, 2, 2}, {1, 1, 1, 1});
  for (bool ref : {true, false}) {
    auto out = MustRun(n, {x, w, Tensor::Scalar<uint8_t>(1)}, ref);
    EXPECT_EQ(out[0].shape(), (Shape{1, 1, 4, 4}));
    EXPECT_EQ(Vals<int32_t>(out[0]),
              (std::vector<int32_t>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
  }
}

template <typename T>
Tensor RandomInt8(Shape s, std::mt19937& rng) {
  Tensor t = Tensor::Create(DTypeOf<T>(), s).value();
  std::uniform_int_distribution<int> d(std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(d(rng));
  return t;
}

TEST(MatMulInteger, OptimizedMatchesReferenceOnRandomSweep) {
  std::mt19937 rng(1234);
  Node n = MakeNode("MatMulInteger", 4);
  int cases = 0;
  for (int64_t M : {1, 3, 4, 5, 33})
    for (int64_t N : {1, 15, 16, 17, 40})
      for (int64_t K : {1, 2, 7, 64, 129}) {
        const bool as = (M + N + K) % 2, bs = (M * N + K) % 3 == 0;
        Tensor a = as ? RandomInt8<int8_t>({M, K}, rng) : RandomInt8<uint8_t>({M, K}, rng);
        Tensor b = bs ? RandomInt8<int8_t>({2, K, N}, rng) : RandomInt8<uint8_t>({2, K, N}, rng);
        Tensor za = as ? RandomInt8<int8_t>({M}, rng) : RandomInt8<uint8_t>({M}, rng);
        Tensor zb = bs ? RandomInt8<int8_t>({}, rng) : RandomInt8<uint8_t>({}, rng);
        std::string_view kname;
        auto ref = MustRun(n, {a, b, za, zb}, true);
        auto fast = MustRun(n, {a, b, za, zb}, false, 13, &kname);
        EXPECT_EQ(kname, "i8_matmulinteger__gemm_i16");
        ASSERT_EQ(ref[0].shape(), (Shape{2, M, N}));
        ASSERT_EQ(Vals<int32_t>(ref[0]), Vals<int32_t>(fast[0])) << M << "x" << N << "x" << K;
        ++cases;
      }
  EXPECT_EQ(cases, 125);
}

TEST(QLinearConv, OptimizedMatchesReferenceOnRandomSweep) {
  std::mt19937 rng(99);
  struct Case { int64_t n, c, h, w, m, k, group, stride, pad, dil; };
  const Case cases[] = {{1, 1, 5, 5, 1, 3, 1, 1, 0, 1}, {2, 4, 7, 6, 6, 3, 2, 2, 1, 1},
                        {1, 3, 9, 9, 5, 2, 1, 1, 2, 2}, {1, 8, 6, 6, 8, 3, 8, 1, 1, 1},
                        {1, 16, 10, 10, 33, 1, 1, 1, 0, 1}};
  for (const auto& cs : cases) {
    Node n = MakeNode("QLinearConv", 9);
    n.SetInt("group", cs.group);
    n.SetInts("strides", {cs.stride, cs.stride});
    n.SetInts("pads", {cs.pad, cs.pad, cs.pad, cs.pad});
    n.SetInts("dilations", {cs.dil, cs.dil});
    Tensor x = RandomInt8<uint8_t>({cs.n, cs.c, cs.h, cs.w}, rng);
    Tensor w = RandomInt8<int8_t>({cs.m, cs.c / cs.group, cs.k, cs.k}, rng);
    std::vector<float> ws(static_cast<size_t>(cs.m));
    std::vector<int8_t> wz(static_cast<size_t>(cs.m), 0);
    std::vector<int32_t> bias(static_cast<size_t>(cs.m));
    for (int64_t i = 0; i < cs.m; ++i) {
      ws[static_cast<size_t>(i)] = 0.001f * static_cast<float>(1 + i % 7);
      bias[static_cast<size_t>(i)] = static_cast<int32_t>(i * 37 - 500);
    }
    std::vector<Tensor> in = {x, Tensor::Scalar<float>(0.02f), Tensor::Scalar<uint8_t>(128), w,
                              Tensor::FromVector<float>({cs.m}, ws), Tensor::FromVector<int8_t>({cs.m}, wz),
                              Tensor::Scalar<float>(0.05f), Tensor::Scalar<uint8_t>(100),
                              Tensor::FromVector<int32_t>({cs.m}, bias)};
    std::string_view kname;
    auto ref = MustRun(n, in, true);
    auto fast = MustRun(n, in, false, 13, &kname);
    // Full-range int8 weights: without VNNI the oneDNN int8 kernel would saturate, so it
    // must decline and the exact im2col kernel runs (onednn_int8_test.cc covers 7-bit ones).
    // With VNNI oneDNN takes them; its contract is one quantization step (the float order of
    // its requantization), and steps must be rare.
    if (!__builtin_cpu_supports("avx512vnni")) {
      EXPECT_EQ(kname, "i8_qlinearconv__im2col_gemm_i16");
    }
    if (kname == "i8_qlinearconv__im2col_gemm_i16") {
      ASSERT_EQ(Vals<uint8_t>(ref[0]), Vals<uint8_t>(fast[0])) << "group " << cs.group;
    } else {
      EXPECT_EQ(kname, "i8_qlinearconv__onednn");
      const auto r = Vals<uint8_t>(ref[0]), f = Vals<uint8_t>(fast[0]);
      ASSERT_EQ(r.size(), f.size());
      size_t off = 0;
      for (size_t i = 0; i < r.size(); ++i) {
        const int d = std::abs(static_cast<int>(r[i]) - static_cast<int>(f[i]));
        EXPECT_LE(d, 1) << "group " << cs.group << " at " << i;
        off += d != 0;
      }
      EXPECT_LE(off * 100, r.size()) << "group " << cs.group << ": " << off << " of " << r.size() << " off by one";
    }
    // ConvInteger on the same data agrees too (different zero point on x: 7).
    Node ci = MakeNode("ConvInteger", 4);
    ci.attributes = n.attributes;
    std::vector<Tensor> cin = {x, w, Tensor::Scalar<uint8_t>(7), Tensor::FromVector<int8_t>({cs.m}, wz)};
    auto r2 = MustRun(ci, cin, true);
    auto f2 = MustRun(ci, cin, false);
    ASSERT_EQ(Vals<int32_t>(r2[0]), Vals<int32_t>(f2[0]));
  }
}

TEST(QuantOps, CostReportsMacs) {
  Node n = MakeNode("MatMulInteger", 2);
  const OpDef* def = OpTable::Get().Find("", "MatMulInteger");
  ASSERT_NE(def, nullptr);
  InferContext ctx{n, 13, {TensorType::Of(DType::kU8, {8, 5}), TensorType::Of(DType::kI8, {5, 3})}, {nullptr, nullptr}};
  std::vector<TensorType> outs;
  ASSERT_TRUE(InferNodeTypes(*def, ctx, &outs).ok());
  EXPECT_EQ(outs[0].dims, (std::vector<int64_t>{8, 3}));
  OpCost c = NodeCost(*def, ctx, outs);
  EXPECT_EQ(c.macs, 8 * 3 * 5);
  EXPECT_EQ(c.flops, 2 * 8 * 3 * 5);
  EXPECT_EQ(c.bytes_read, 40 + 15);
  EXPECT_EQ(c.bytes_written, 8 * 3 * 4);
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

// Throughput of the int8 GEMM against the reference loop; prints figures, asserts only that
// both agree. Run: test_ops_quant --gtest_also_run_disabled_tests --gtest_filter='*Perf*'
TEST(Int8GemmPerf, DISABLED_ReportGops) {
  std::mt19937 rng(5);
  Node n = MakeNode("MatMulInteger", 4);
  for (int64_t s : {64, 256, 512}) {
    Tensor a = RandomInt8<uint8_t>({s, s}, rng);
    Tensor b = RandomInt8<int8_t>({s, s}, rng);
    std::vector<Tensor> in = {a, b, Tensor::Scalar<uint8_t>(128), Tensor::Scalar<int8_t>(3)};
    double secs[2] = {0, 0};
    std::vector<int32_t> res[2];
    for (int ref = 0; ref < 2; ++ref) {
      const int reps = ref ? 1 : 10;
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < reps; ++i) res[ref] = Vals<int32_t>(MustRun(n, in, ref == 1)[0]);
      secs[ref] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    }
    ASSERT_EQ(res[0], res[1]);
    const double ops = 2.0 * static_cast<double>(s * s * s);
    std::printf("MatMulInteger %ldx%ldx%ld: gemm_i16 %.2f GOPS, ref %.2f GOPS, speedup %.1fx\n", static_cast<long>(s),
                static_cast<long>(s), static_cast<long>(s), ops / secs[0] * 1e-9, ops / secs[1] * 1e-9,
                secs[1] / secs[0]);
  }
}

}  // namespace
}  // namespace greenai
