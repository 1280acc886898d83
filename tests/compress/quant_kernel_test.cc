// The AVX2 int8 kernels (backends/cpu/int8_gemm_avx2.cc) against the reference kernels:
// bit-exact, over sizes below, at and above the 4x16 tile and K not a multiple of 4, for
// full-range weights (sign-trick mode) and 7-bit weights in [-64, 64] (direct mode).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "backends/cpu/run_node.h"
#include "quant_test_util.h"
#include "core/thread_pool.h"
#include "ops/layout.h"

namespace greenai {
namespace {

using quanttest::RandomInts;

class Int8Tiles : public quanttest::AmxOnOff {};
INSTANTIATE_TEST_SUITE_P(Amx, Int8Tiles, ::testing::Bool(), quanttest::AmxParamName);

TEST_P(Int8Tiles, MatMulIntegerMatchesReference) {
  std::mt19937 rng(42);
  Node n;
  n.op_type = "MatMulInteger";
  n.name = "mmi";
  n.inputs = {"a", "b", "za", "zb"};
  n.outputs = {"c"};
  int cases = 0;
  for (int64_t m : {1, 3, 4, 5, 9, 64, 130})  // 130: three 64-row blocks; 9 AMX row tiles
    for (int64_t k : {1, 3, 4, 7, 33, 70})
      for (int64_t nn : {1, 8, 16, 17, 40})
        for (bool a_signed : {false, true})
          for (int wmax : {127, 64}) {
          Tensor a = a_signed ? RandomInts<int8_t>({m, k}, -128, 127, rng) : RandomInts<uint8_t>({m, k}, 0, 255, rng);
          Tensor b = RandomInts<int8_t>({k, nn}, -wmax, wmax, rng);
          // The extremes a pair can reach: |a| at its maximum against |b| = wmax of both signs.
          b.data<int8_t>()[0] = static_cast<int8_t>(-wmax);
          b.data<int8_t>()[b.numel() - 1] = static_cast<int8_t>(wmax);
          if (a_signed) a.data<int8_t>()[0] = -128;
          else a.data<uint8_t>()[0] = 255;
          Tensor za = a_signed ? Tensor::Scalar<int8_t>(static_cast<int8_t>(rng() % 256 - 128))
                               : Tensor::Scalar<uint8_t>(static_cast<uint8_t>(rng() % 256));
          Tensor zb = Tensor::Scalar<int8_t>(0);
          RunNodeOptions fast, ref;
          std::string_view name;
          fast.kernel_name_out = &name;
          ref.reference_only = true;
          auto y = RunNode(n, {a, b, za, zb}, fast);
          auto r = RunNode(n, {a, b, za, zb}, ref);
          ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
          EXPECT_EQ(name, "u8s8_matmulinteger__avx2_sign");
          for (int64_t i = 0; i < r->at(0).numel(); ++i)
            ASSERT_EQ((*y)[0].data<int32_t>()[i], (*r)[0].data<int32_t>()[i])
                << m << "x" << k << "x" << nn << " wmax " << wmax << " @" << i;
          ++cases;
        }
  EXPECT_EQ(cases, 840);
}

TEST(Int8Avx2, MatMulIntegerDeclinesMinus128Weights) {
  std::mt19937 rng(1);
  Node n;
  n.op_type = "MatMulInteger";
  n.inputs = {"a", "b"};
  n.outputs = {"c"};
  Tensor a = RandomInts<uint8_t>({2, 8}, 0, 255, rng);
  Tensor b = RandomInts<int8_t>({8, 3}, -127, 127, rng);
  b.data<int8_t>()[5] = -128;  // u8 x s8 pairs could saturate in vpmaddubsw: must not take the fast path
  RunNodeOptions fast;
  std::string_view name;
  fast.kernel_name_out = &name;
  auto y = RunNode(n, {a, b}, fast);
  ASSERT_TRUE(y.ok());
  EXPECT_NE(name, "u8s8_matmulinteger__avx2_sign");
}

// QuantizeLinear(x, s, z) on the best kernel (expected: i32_quantizelinear__avx2) and on the
// reference (per axis on the last axis when `last_axis`); {fast, reference} outputs, or two undefined tensors after a failed expectation.
std::pair<Tensor, Tensor> QuantizeFastAndRef(const Tensor& x, const Tensor& s, const Tensor& z, bool last_axis = false) {
  Node q;
  q.op_type = "QuantizeLinear";
  q.inputs = {"x", "s", "z"};
  q.outputs = {"y"};
  if (last_axis) q.SetInt("axis", -1);
  RunNodeOptions fast, ref;
  std::string_view name;
  fast.kernel_name_out = &name;
  ref.reference_only = true;
  auto y = RunNode(q, {x, s, z}, fast);
  auto r = RunNode(q, {x, s, z}, ref);
  EXPECT_TRUE(y.ok() && r.ok());
  if (!y.ok() || !r.ok()) return {};
  EXPECT_EQ(name, "i32_quantizelinear__avx2");
  return {(*y)[0], (*r)[0]};
}

TEST(Int8Avx2, RequantizeMatchesReference) {
  std::mt19937 rng(7);
  for (bool per_axis : {false, true})
    for (DType out : {DType::kU8, DType::kI8}) {
      const int64_t rows = 5, cols = 13;
      Tensor x = RandomInts<int32_t>({rows, cols}, -200000, 200000, rng);
      // Exact rounding ties (x / scale = k + 0.5 for the per-tensor scale) and values whose
      // quotient saturates far beyond the range, near INT32 limits.
      int32_t* xv = x.data<int32_t>();
      xv[0] = std::numeric_limits<int32_t>::max();
      xv[1] = std::numeric_limits<int32_t>::min();
      std::vector<float> sv;
      for (int64_t i = 0; i < (per_axis ? cols : 1); ++i) sv.push_back(100.f + static_cast<float>(rng() % 1000));
      sv[0] = 6.f;  // ties: x / 6 = t + 0.5 exactly, while 1 / 6 is inexact
      for (int64_t i = 2; i < 20; ++i) {
        const int64_t t = static_cast<int64_t>(rng() % 300) - 150;
        xv[i] = static_cast<int32_t>((2 * t + 1) * 3);
      }
      Tensor s = per_axis ? Tensor::FromVector<float>({cols}, sv) : Tensor::Scalar<float>(sv[0]);
      Tensor z;
      if (out == DType::kU8) {
        std::vector<uint8_t> zv(sv.size(), 3);
        z = per_axis ? Tensor::FromVector<uint8_t>({cols}, zv) : Tensor::Scalar<uint8_t>(3);
      } else {
        std::vector<int8_t> zv(sv.size(), -5);
        z = per_axis ? Tensor::FromVector<int8_t>({cols}, zv) : Tensor::Scalar<int8_t>(-5);
      }
      const auto [y, r] = QuantizeFastAndRef(x, s, z, per_axis);
      ASSERT_TRUE(y.defined() && r.defined());
      for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y.GetAsDouble(i), r.GetAsDouble(i)) << i;
    }
}

TEST(Int8Avx2, FloatQuantizeAndBiasAddMatchReference) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> d(-40.f, 40.f);
  Tensor x = Tensor::Create(DType::kF32, {7, 37}).value();
  for (auto& v : x.span<float>()) v = d(rng);
  x.data<float>()[3] = 0.5f * 0.25f;  // exact half steps exercise round-half-to-even
  x.data<float>()[4] = 1.5f * 0.25f;
  for (bool u8 : {true, false}) {
    const auto [y, r] = QuantizeFastAndRef(x, Tensor::Scalar<float>(0.25f),
                                           u8 ? Tensor::Scalar<uint8_t>(128) : Tensor::Scalar<int8_t>(3));
    ASSERT_TRUE(y.defined() && r.defined());
    for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ(y.GetAsDouble(i), r.GetAsDouble(i)) << i;
  }
  Tensor a = RandomInts<int32_t>({5, 19}, -1000000, 1000000, rng);
  Tensor b = RandomInts<int32_t>({19}, -1000, 1000, rng);
  Node add;
  add.op_type = "Add";
  add.inputs = {"a", "b"};
  add.outputs = {"c"};
  RunNodeOptions fast, ref;
  std::string_view name;
  fast.kernel_name_out = &name;
  ref.reference_only = true;
  auto y = RunNode(add, {a, b}, fast);
  auto r = RunNode(add, {a, b}, ref);
  ASSERT_TRUE(y.ok() && r.ok());
  EXPECT_EQ(name, "i32_add_bias__avx2");
  for (int64_t i = 0; i < a.numel(); ++i) EXPECT_EQ((*y)[0].data<int32_t>()[i], (*r)[0].data<int32_t>()[i]);
}

// float32 QuantizeLinear per tensor multiplies by 1 / scale and divides only near a rounding
// tie: quotients at, just below and just above every half step in the output range (and
// beyond it, and NaN / inf), for scales whose reciprocal is inexact, must give the
// reference's bytes (its float division). 16-lane blocks, 8-lane blocks and a scalar tail.
TEST(Int8Avx2, FloatQuantizeNearTiesMatchesReference) {
  std::mt19937 rng(13);
  const float scales[] = {0.1f, 1.f / 255.f, 3.f, 0.0078431377f, 6.f, 1e-3f, 37.5f, 0.0123f};
  int mismatches_if_multiplied = 0;
  for (float sc : scales) {
    std::vector<float> xs;
    for (int t = -300; t <= 300; ++t) {
      const float tie = (static_cast<float>(t) + 0.5f) * sc;
      xs.push_back(tie);
      xs.push_back(std::nextafter(tie, 1e30f));
      xs.push_back(std::nextafter(tie, -1e30f));
      xs.push_back(std::nextafter(std::nextafter(tie, 1e30f), 1e30f));
      xs.push_back(static_cast<float>(t) * sc);
    }
    std::uniform_real_distribution<float> d(-400.f * sc, 400.f * sc);
    for (int i = 0; i < 500; ++i) xs.push_back(d(rng));
    xs.push_back(std::numeric_limits<float>::quiet_NaN());
    xs.push_back(std::numeric_limits<float>::infinity());
    xs.push_back(-std::numeric_limits<float>::infinity());
    xs.push_back(3e38f);
    xs.push_back(-0.f);
    while (xs.size() % 16 != 11) xs.push_back(d(rng));  // 16-lane blocks, one 8-lane block, a tail
    for (float x : xs)
      mismatches_if_multiplied += std::nearbyint(x * (1.f / sc)) != std::nearbyint(x / sc) && std::isfinite(x);
    Tensor x = Tensor::FromVector<float>({static_cast<int64_t>(xs.size())}, xs);
    for (bool u8 : {true, false}) {
      const auto [y, r] = QuantizeFastAndRef(x, Tensor::Scalar<float>(sc),
                                             u8 ? Tensor::Scalar<uint8_t>(128) : Tensor::Scalar<int8_t>(-7));
      ASSERT_TRUE(y.defined() && r.defined());
      for (int64_t i = 0; i < x.numel(); ++i) {
        if (std::isnan(xs[static_cast<size_t>(i)])) continue;  // no reference rule for NaN
        ASSERT_EQ(y.GetAsDouble(i), r.GetAsDouble(i)) << "scale " << sc << " x " << xs[static_cast<size_t>(i)];
      }
    }
  }
  // The inputs do hold quotients that a bare multiply would round differently.
  EXPECT_GT(mismatches_if_multiplied, 0);
}

TEST(Int8Avx2, MaxPoolMatchesReference) {
  std::mt19937 rng(5);
  struct Case {
    int64_t h, w;
    std::vector<int64_t> kernel, strides, pads, dilations;
    int64_t ceil_mode;
  };
  const std::vector<Case> cases = {
      // The first two take the 2x2 fast paths (NCHW and NHWC), the others the generic loops.
      {28, 28, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},    // the cnn's pool
      {3, 131, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0},    // 65 outputs per row: vector loop + tail
      {7, 9, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},      // ceil_mode: clipped last row/column
      {6, 70, {2, 2}, {2, 2}, {0, 0, 1, 1}, {1, 1}, 0},     // trailing pads
      {9, 11, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0},     // generic window with pads
      {10, 12, {2, 3}, {1, 2}, {0, 1, 1, 0}, {2, 1}, 1},    // dilation, asymmetric
  };
  int checked = 0;
  for (const Case& c : cases)
    for (bool is_signed : {false, true}) {
      // 51 channels: the NHWC form below runs its 32-byte, 16-byte and scalar channel loops.
      const int64_t C = 51;
      Tensor x = is_signed ? RandomInts<int8_t>({2, C, c.h, c.w}, -128, 127, rng)
                           : RandomInts<uint8_t>({2, C, c.h, c.w}, 0, 255, rng);
      Node n;
      n.op_type = "MaxPool";
      n.name = "pool";
      n.inputs = {"x"};
      n.outputs = {"y"};
      n.SetInts("kernel_shape", c.kernel);
      n.SetInts("strides", c.strides);
      n.SetInts("pads", c.pads);
      n.SetInts("dilations", c.dilations);
      n.SetInt("ceil_mode", c.ceil_mode);
      RunNodeOptions fast, ref;
      std::string_view name;
      fast.kernel_name_out = &name;
      ref.reference_only = true;
      auto y = RunNode(n, {x}, fast);
      auto r = RunNode(n, {x}, ref);
      ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
      EXPECT_EQ(name, "i8_maxpool__avx2");
      ASSERT_EQ((*y)[0].shape(), (*r)[0].shape());
      for (int64_t i = 0; i < (*r)[0].numel(); ++i)
        ASSERT_EQ((*y)[0].GetAsDouble(i), (*r)[0].GetAsDouble(i)) << c.h << "x" << c.w << " @" << i;
      // The same pool marked channels-last (ops/layout.h): NHWC in, NHWC out.
      Node nl = n;
      nl.SetString(kAttrLayout, "NHWC");
      const Shape& rs = (*r)[0].shape();
      Tensor xl = Tensor::Create(x.dtype(), {2, c.h, c.w, C}).value();
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t p = 0; p < c.h * c.w; ++p)
            static_cast<uint8_t*>(xl.raw())[(b * c.h * c.w + p) * C + ch] =
                static_cast<const uint8_t*>(x.raw())[(b * C + ch) * c.h * c.w + p];
      auto yl = RunNode(nl, {xl}, fast);
      ASSERT_TRUE(yl.ok()) << yl.status().ToString();
      EXPECT_EQ(name, "i8_maxpool__avx2");
      ASSERT_EQ((*yl)[0].shape(), (Shape{rs[0], rs[2], rs[3], rs[1]}));
      const int64_t hw = rs[2] * rs[3];
      for (int64_t b = 0; b < 2; ++b)
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t p = 0; p < hw; ++p)
            ASSERT_EQ(static_cast<const uint8_t*>((*yl)[0].raw())[(b * hw + p) * C + ch],
                      static_cast<const uint8_t*>((*r)[0].raw())[(b * C + ch) * hw + p])
                << "NHWC " << c.h << "x" << c.w;
      ++checked;
    }
  EXPECT_EQ(checked, 12);
}

// Tensors large enough (>= 256K elements) that the elementwise int8 kernels split their work
// across a two-thread pool, with odd tails.
TEST(Int8Avx2, LargeTensorsOnTwoThreadsMatchReference) {
  std::mt19937 rng(13);
  ThreadPool pool(2);
  auto check = [&](const Node& n, const std::vector<Tensor>& in, std::string_view want) {
    RunNodeOptions fast, ref;
    std::string_view name;
    fast.kernel_name_out = &name;
    fast.pool = &pool;
    ref.reference_only = true;
    auto y = RunNode(n, in, fast);
    auto r = RunNode(n, in, ref);
    ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
    EXPECT_EQ(name, want);
    for (int64_t i = 0; i < (*r)[0].numel(); ++i) ASSERT_EQ((*y)[0].GetAsDouble(i), (*r)[0].GetAsDouble(i)) << n.op_type << " @" << i;
  };
  auto node = [](const char* op, std::vector<std::string> in) {
    Node n;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {"y"};
    return n;
  };
  const int64_t rows = 520, cols = 517;
  Tensor acc = RandomInts<int32_t>({rows, cols}, -300000, 300000, rng);
  std::vector<float> sv(static_cast<size_t>(cols));
  for (auto& v : sv) v = 300.f + static_cast<float>(rng() % 2000);
  Node rq = node("QuantizeLinear", {"x", "s", "z"});
  check(rq, {acc, Tensor::Scalar<float>(977.f), Tensor::Scalar<uint8_t>(3)}, "i32_quantizelinear__avx2");
  rq.SetInt("axis", -1);
  check(rq, {acc, Tensor::FromVector<float>({cols}, sv), Tensor::FromVector<int8_t>({cols}, std::vector<int8_t>(sv.size(), -4))},
        "i32_quantizelinear__avx2");
  Tensor xf = Tensor::Create(DType::kF32, {rows, cols}).value();
  std::uniform_real_distribution<float> d(-30.f, 30.f);
  for (auto& v : xf.span<float>()) v = d(rng);
  check(node("QuantizeLinear", {"x", "s", "z"}), {xf, Tensor::Scalar<float>(0.125f), Tensor::Scalar<uint8_t>(128)},
        "i32_quantizelinear__avx2");
  check(node("DequantizeLinear", {"x", "s", "z"}),
        {RandomInts<uint8_t>({rows, cols}, 0, 255, rng), Tensor::Scalar<float>(0.03f), Tensor::Scalar<uint8_t>(7)},
        "u8_dequantizelinear__avx2");
  check(node("Add", {"a", "b"}), {acc, RandomInts<int32_t>({cols}, -5000, 5000, rng)}, "i32_add_bias__avx2");
}

TEST(Int8Avx2, DequantizeMatchesReference) {
  std::mt19937 rng(11);
  for (bool u8 : {true, false})
    for (bool with_zp : {true, false}) {
      Tensor x = u8 ? RandomInts<uint8_t>({3, 37}, 0, 255, rng) : RandomInts<int8_t>({3, 37}, -128, 127, rng);
      Node n;
      n.op_type = "DequantizeLinear";
      n.inputs = {"x", "s"};
      if (with_zp) n.inputs.push_back("z");
      n.outputs = {"y"};
      std::vector<Tensor> in = {x, Tensor::Scalar<float>(0.0137f)};
      if (with_zp) in.push_back(u8 ? Tensor::Scalar<uint8_t>(131) : Tensor::Scalar<int8_t>(-7));
      RunNodeOptions fast, ref;
      std::string_view name;
      fast.kernel_name_out = &name;
      ref.reference_only = true;
      auto y = RunNode(n, in, fast);
      auto r = RunNode(n, in, ref);
      ASSERT_TRUE(y.ok() && r.ok()) << y.status().ToString() << r.status().ToString();
      EXPECT_EQ(name, "u8_dequantizelinear__avx2");
      for (int64_t i = 0; i < x.numel(); ++i) EXPECT_EQ((*y)[0].data<float>()[i], (*r)[0].data<float>()[i]) << i;
    }
}

}  // namespace
}  // namespace greenai
