// ai.greenai QGemm (ops/qgemm.h): the reference kernel against the unfused chain it stands
// for (MatMulInteger -> Add -> QuantizeLinear, reference kernels), and the fast kernels
// (u8s8_qgemm__avx2, i8_qgemm__gemm_i16) against the reference, bit for bit, over sizes
// below, at and above the 4x16 tile, per-tensor and per-column scales, uint8 and int8 A and
// outputs, rounding ties and saturation, on one and two threads. The fast-kernel tests run
// with the AMX tiles (int8_tile_amx.h) off and on (skipped on CPUs without them).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include "backends/cpu/kernel.h"
#include "backends/cpu/run_node.h"
#include "../compress/quant_test_util.h"
#include "core/thread_pool.h"
#include "ops/op_table.h"
#include "ops/qgemm.h"

namespace greenai {
namespace {

using quanttest::RandomInts;

Node QGemmNode(bool a_zp, bool b_zp, bool bias) {
  Node n;
  n.name = "qgemm";
  n.op_type = std::string(kQGemm);
  n.domain = std::string(kGreenaiDomain);
  n.inputs = {"a", "b", a_zp ? "za" : "", b_zp ? "zb" : "", bias ? "bias" : "", "ys", "yz"};
  n.outputs = {"y"};
  return n;
}

// Inputs in QGemm's order; omitted optional inputs are undefined tensors.
struct QGemmCase {
  Tensor a, b, za, zb, bias, ys, yz;
  std::vector<Tensor> Inputs() const { return {a, b, za, zb, bias, ys, yz}; }
  Node MakeNode() const { return QGemmNode(za.defined(), zb.defined(), bias.defined()); }
};

// Per-column (or one) y_scale drawn so that both rounding ties (2, 6: acc / s = t + 0.5 for
// many acc; 1 / 6 is inexact, so the kernel's multiply must detect them) and saturation (1,
// 0.37 against sums in the thousands) are frequent, with larger scales in range.
Tensor Scales(int64_t n, std::mt19937& rng) {
  static const float kPick[] = {2.f, 6.f, 1.f, 0.37f, 37.5f, 211.f, 1000.f, 4096.f};
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& s : v) s = kPick[rng() % 8];
  return n == 1 ? Tensor::Scalar<float>(v[0]) : Tensor::FromVector<float>({n}, v);
}

Tensor ZeroPoints(int64_t n, bool u8, std::mt19937& rng) {
  if (u8) {
    std::vector<uint8_t> v(static_cast<size_t>(n));
    for (auto& z : v) z = static_cast<uint8_t>(rng() % 256);
    return n == 1 ? Tensor::Scalar<uint8_t>(v[0]) : Tensor::FromVector<uint8_t>({n}, v);
  }
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& z : v) z = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  return n == 1 ? Tensor::Scalar<int8_t>(v[0]) : Tensor::FromVector<int8_t>({n}, v);
}

// Runs `c` with the reference and with the best kernel; expects `want` chosen and equal bytes.
void ExpectFastEqualsRef(const QGemmCase& c, std::string_view want, const std::string& what, ThreadPool* pool = nullptr) {
  const Node n = c.MakeNode();
  RunNodeOptions fast, ref;
  std::string_view name;
  fast.kernel_name_out = &name;
  fast.pool = pool;
  ref.reference_only = true;
  auto y = RunNode(n, c.Inputs(), fast);
  auto r = RunNode(n, c.Inputs(), ref);
  ASSERT_TRUE(y.ok() && r.ok()) << what << ": " << y.status().ToString() << r.status().ToString();
  EXPECT_EQ(name, want) << what;
  ASSERT_EQ((*y)[0].dtype(), (*r)[0].dtype());
  ASSERT_EQ((*y)[0].shape(), (*r)[0].shape()) << what;
  const auto* yb = static_cast<const uint8_t*>((*y)[0].raw());
  const auto* rb = static_cast<const uint8_t*>((*r)[0].raw());
  for (int64_t i = 0; i < (*r)[0].numel(); ++i) ASSERT_EQ(yb[i], rb[i]) << what << " @" << i;
}

// A random case: A [M, K] (u8 or s8, scalar zero point), int8 B [K, N] in [-wmax, wmax] with
// the extremes present, bias of either sign, scales from Scales().
QGemmCase RandomCase(int64_t M, int64_t K, int64_t N, bool a_signed, int wmax, bool per_column, bool u8_out,
                     bool with_bias, std::mt19937& rng) {
  QGemmCase c;
  c.a = a_signed ? RandomInts<int8_t>({M, K}, -128, 127, rng) : RandomInts<uint8_t>({M, K}, 0, 255, rng);
  c.b = RandomInts<int8_t>({K, N}, -wmax, wmax, rng);
  if (K > 0) {  // the extremes a pair can reach
    if (a_signed) c.a.data<int8_t>()[0] = -128;
    else c.a.data<uint8_t>()[0] = 255;
    c.b.data<int8_t>()[0] = static_cast<int8_t>(-wmax);
    c.b.data<int8_t>()[c.b.numel() - 1] = static_cast<int8_t>(wmax);
  }
  c.za = ZeroPoints(1, !a_signed, rng);
  if (with_bias) c.bias = RandomInts<int32_t>({N}, -20000, 20000, rng);
  c.ys = Scales(per_column ? N : 1, rng);
  c.yz = ZeroPoints(per_column ? N : 1, u8_out, rng);
  return c;
}

class QGemmTiles : public quanttest::AmxOnOff {};
INSTANTIATE_TEST_SUITE_P(Amx, QGemmTiles, ::testing::Bool(), quanttest::AmxParamName);

TEST(QGemm, ReferenceEqualsUnfusedChain) {
  std::mt19937 rng(3);
  int cases = 0;
  for (bool per_column : {false, true})
    for (bool u8_out : {true, false})
      for (bool a_signed : {false, true}) {
        const int64_t M = 7, K = 37, N = 19;
        QGemmCase c = RandomCase(M, K, N, a_signed, 127, per_column, u8_out, true, rng);
        c.zb = ZeroPoints(per_column ? N : 1, false, rng);  // the oracle handles any b_zero_point
        RunNodeOptions ref;
        ref.reference_only = true;
        auto fused = RunNode(c.MakeNode(), c.Inputs(), ref);
        ASSERT_TRUE(fused.ok()) << fused.status().ToString();
        Node mm, add, q;
        mm.op_type = "MatMulInteger";
        mm.inputs = {"a", "b", "za", "zb"};
        mm.outputs = {"acc"};
        add.op_type = "Add";
        add.inputs = {"acc", "bias"};
        add.outputs = {"pre"};
        q.op_type = "QuantizeLinear";
        q.inputs = {"pre", "ys", "yz"};
        q.outputs = {"y"};
        q.SetInt("axis", -1);
        auto acc = RunNode(mm, {c.a, c.b, c.za, c.zb}, ref);
        ASSERT_TRUE(acc.ok()) << acc.status().ToString();
        auto pre = RunNode(add, {(*acc)[0], c.bias}, ref);
        ASSERT_TRUE(pre.ok());
        auto y = RunNode(q, {(*pre)[0], c.ys, c.yz}, ref);
        ASSERT_TRUE(y.ok()) << y.status().ToString();
        ASSERT_EQ((*y)[0].dtype(), (*fused)[0].dtype());
        ASSERT_EQ((*y)[0].shape(), (*fused)[0].shape());
        EXPECT_EQ(0, std::memcmp((*y)[0].raw(), (*fused)[0].raw(), (*y)[0].nbytes()));
        ++cases;
      }
  EXPECT_EQ(cases, 8);
}

TEST_P(QGemmTiles, Avx2MatchesReferenceSweep) {
  std::mt19937 rng(42);
  int cases = 0;
  for (int64_t M : {1, 3, 4, 5, 9, 64, 70})  // 70: a second 64-row block with a partial tile
    for (int64_t K : {1, 3, 4, 7, 33, 70})
      for (int64_t N : {1, 8, 15, 16, 17, 40})
        for (bool a_signed : {false, true})
          for (int wmax : {127, 64}) {  // sign-trick and direct modes
            const bool per_column = cases % 2, u8_out = (cases / 2) % 2, bias = cases % 5 != 0;
            QGemmCase c = RandomCase(M, K, N, a_signed, wmax, per_column, u8_out, bias, rng);
            if (cases % 7 == 0) c.za = Tensor();  // no a_zero_point
            if (cases % 3 == 0) c.zb = Tensor::Scalar<int8_t>(0);
            ExpectFastEqualsRef(c, "u8s8_qgemm__avx2",
                                std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N) +
                                    (a_signed ? " s8" : " u8") + " wmax " + std::to_string(wmax));
            ++cases;
          }
  EXPECT_EQ(cases, 1008);
}

// acc = a[m, 0] - za + bias[n] exactly (B's first row is 1, the rest 0), so the quotients
// acc / s are known: with s = 2 every odd acc is a tie t + 0.5 (half to even: 2.5 -> 2,
// 3.5 -> 4, -2.5 -> -2), with s = 6 every acc = 6t + 3 (and 1 / 6 is inexact); tiny scales
// and the int32 extremes saturate, and a bias near INT32_MAX wraps like the reference's.
TEST_P(QGemmTiles, RoundsTiesHalfToEvenSaturatesAndWrapsLikeReference) {
  std::mt19937 rng(5);
  const int64_t M = 64, K = 8, N = 24;
  for (bool per_column : {false, true})
    for (bool u8_out : {true, false})
      for (bool a_signed : {false, true}) {
        QGemmCase c;
        c.a = a_signed ? RandomInts<int8_t>({M, K}, -128, 127, rng) : RandomInts<uint8_t>({M, K}, 0, 255, rng);
        c.b = Tensor::Create(DType::kI8, {K, N}).value();
        std::memset(c.b.raw(), 0, c.b.nbytes());
        for (int64_t j = 0; j < N; ++j) c.b.data<int8_t>()[j] = 1;
        c.za = a_signed ? Tensor::Scalar<int8_t>(-3) : Tensor::Scalar<uint8_t>(100);
        std::vector<int32_t> bias(static_cast<size_t>(N));
        std::vector<float> sv(static_cast<size_t>(N));
        for (int64_t j = 0; j < N; ++j) {
          bias[static_cast<size_t>(j)] = static_cast<int32_t>(j % 3) - 1;
          sv[static_cast<size_t>(j)] = j % 4 == 0 ? 6.f : j % 4 == 1 ? 2.f : j % 4 == 2 ? 0.001f : 1e9f;
        }
        bias[5] = std::numeric_limits<int32_t>::max() - 100;  // wraps for a[m, 0] - za > 100
        bias[6] = std::numeric_limits<int32_t>::min() + 50;
        c.bias = Tensor::FromVector<int32_t>({N}, bias);
        c.ys = per_column ? Tensor::FromVector<float>({N}, sv) : Tensor::Scalar<float>(a_signed ? 6.f : 2.f);
        c.yz = ZeroPoints(per_column ? N : 1, u8_out, rng);
        // There are ties to round: count them from the known sums.
        int ties = 0;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t j = 0; j < N; ++j) {
            const int64_t av = a_signed ? c.a.data<int8_t>()[m * K] : c.a.data<uint8_t>()[m * K];
            const int64_t acc = av - (a_signed ? -3 : 100) + bias[static_cast<size_t>(j)];
            const double s = per_column ? sv[static_cast<size_t>(j)] : (a_signed ? 6. : 2.);
            const double qv = static_cast<double>(acc) / s;
            ties += std::fabs(qv - std::floor(qv) - 0.5) == 0;
          }
        EXPECT_GT(ties, 20);
        ExpectFastEqualsRef(c, "u8s8_qgemm__avx2", std::string(per_column ? "per column" : "per tensor") +
                                                       (u8_out ? " u8" : " s8") + (a_signed ? " a s8" : " a u8"));
      }
}

// Ties that the multiply by 1 / scale gets wrong (found by search: x / s is exactly t + 0.5
// in double but x * (1 / s) lands one ulp off it and would round the other way), so the
// kernel's tie check and division must run. B is zero, so acc = bias = x per column.
TEST_P(QGemmTiles, DividesNearTiesWhereTheReciprocalMisrounds) {
  const std::vector<int32_t> x = {-1584090, -667800, 301861, -687470, -802587, 151470, -736057, -896070};
  const std::vector<float> s = {211212.f, 29680.f, 20818.f, 28060.f, 31474.f, 1836.f, 2962.f, 7140.f};
  const int64_t N = 8, K = 5, M = 21;  // 21: a 16-row AMX tile and a partial one
  std::mt19937 rng(4);
  QGemmCase c;
  c.a = RandomInts<uint8_t>({M, K}, 0, 255, rng);
  c.b = Tensor::Create(DType::kI8, {K, N}).value();
  std::memset(c.b.raw(), 0, c.b.nbytes());
  c.za = Tensor::Scalar<uint8_t>(17);
  c.bias = Tensor::FromVector<int32_t>({N}, x);
  c.ys = Tensor::FromVector<float>({N}, s);
  std::vector<uint8_t> zp(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) {
    const double q = static_cast<double>(x[static_cast<size_t>(j)]) / static_cast<double>(s[static_cast<size_t>(j)]);
    ASSERT_EQ(q - std::floor(q), 0.5) << j;  // an exact tie in double
    EXPECT_NE(std::nearbyint(static_cast<double>(x[static_cast<size_t>(j)]) * (1.0 / static_cast<double>(s[static_cast<size_t>(j)]))),
              std::nearbyint(q))
        << j;
    zp[static_cast<size_t>(j)] = q < -200 ? 255 : 128;  // keep every result in range
  }
  c.yz = Tensor::FromVector<uint8_t>({N}, zp);
  ExpectFastEqualsRef(c, "u8s8_qgemm__avx2", "misrounding ties");
}

// What the AVX2 kernel declines (uint8 B, -128 in B, nonzero b zero points) runs on the
// int8_gemm.h kernel, still equal to the reference.
TEST(QGemm, GemmI16TakesWhatAvx2Declines) {
  std::mt19937 rng(8);
  int cases = 0;
  for (int variant = 0; variant < 3; ++variant)
    for (int64_t M : {1, 5, 33})
      for (int64_t N : {3, 16, 21}) {
        const int64_t K = 29;
        QGemmCase c = RandomCase(M, K, N, variant == 1, 127, variant != 0, variant != 2, true, rng);
        if (variant == 0) {
          c.b = RandomInts<uint8_t>({K, N}, 0, 255, rng);
          c.zb = Tensor::Scalar<uint8_t>(131);
        } else if (variant == 1) {
          c.b.data<int8_t>()[3] = -128;
        } else {
          c.zb = ZeroPoints(N, false, rng);
        }
        ExpectFastEqualsRef(c, "i8_qgemm__gemm_i16", "variant " + std::to_string(variant));
        ++cases;
      }
  EXPECT_EQ(cases, 27);
  // K = 0: every output is the requantized bias.
  QGemmCase empty = RandomCase(3, 0, 5, false, 127, true, true, true, rng);
  empty.b = Tensor::Create(DType::kI8, {0, 5}).value();
  ExpectFastEqualsRef(empty, "i8_qgemm__gemm_i16", "K = 0");
}

// Large enough (>= 2M multiply-adds) that both fast kernels split the work on two threads;
// N = 129 leaves a one-column last panel, M = 130 three row blocks with a partial tile.
// The AMX tiles split from int8amx::kParallelMacs: 144 x 1024 x 911 reaches it (with a
// single last panel and an odd row tile).
TEST_P(QGemmTiles, TwoThreadsMatchReference) {
  std::mt19937 rng(21);
  ThreadPool pool(2);
  for (bool per_column : {false, true}) {
    QGemmCase c = RandomCase(130, 130, 129, false, 64, per_column, true, true, rng);
    ExpectFastEqualsRef(c, "u8s8_qgemm__avx2", per_column ? "avx2 per column" : "avx2 per tensor", &pool);
    c.zb = Tensor::Scalar<int8_t>(5);
    ExpectFastEqualsRef(c, "i8_qgemm__gemm_i16", "gemm_i16", &pool);
  }
  static_assert(144 * 1024 * 911 >= int8amx::kParallelMacs);
  QGemmCase big = RandomCase(144, 1024, 911, true, 127, true, false, true, rng);
  ExpectFastEqualsRef(big, "u8s8_qgemm__avx2", "144x1024x911 split", &pool);
}

// The AMX tiles' edges: 1, 2 and 3 row tiles with partial ones, K below, at and above one
// and several 64-byte k-tiles, one panel, a pair, a pair and one.
TEST_P(QGemmTiles, TileEdgesMatchReference) {
  std::mt19937 rng(77);
  int cases = 0;
  for (int64_t M : {16, 17, 31, 32, 33, 48})
    for (int64_t K : {1, 63, 64, 65, 130, 784})
      for (int64_t N : {1, 16, 17, 33, 48})
        for (bool a_signed : {false, true}) {
          const bool per_column = cases % 2, u8_out = (cases / 2) % 2;
          QGemmCase c = RandomCase(M, K, N, a_signed, 127, per_column, u8_out, cases % 3 != 0, rng);
          ExpectFastEqualsRef(c, "u8s8_qgemm__avx2",
                              std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N) +
                                  (a_signed ? " s8" : " u8"));
          ++cases;
        }
  EXPECT_EQ(cases, 360);
}

TEST(QGemm, ShapeInferenceRejectsBadOperands) {
  std::mt19937 rng(2);
  RunNodeOptions ref;
  ref.reference_only = true;
  QGemmCase c = RandomCase(4, 6, 5, false, 127, true, true, true, rng);
  ASSERT_TRUE(RunNode(c.MakeNode(), c.Inputs(), ref).ok());
  QGemmCase bad_k = c;
  bad_k.a = RandomInts<uint8_t>({4, 7}, 0, 255, rng);
  EXPECT_EQ(RunNode(c.MakeNode(), bad_k.Inputs(), ref).status().code(), StatusCode::kInvalidArgument);
  QGemmCase bad_bias = c;
  bad_bias.bias = RandomInts<int32_t>({4}, -5, 5, rng);
  EXPECT_EQ(RunNode(c.MakeNode(), bad_bias.Inputs(), ref).status().code(), StatusCode::kInvalidArgument);
  QGemmCase bad_scale = c;
  bad_scale.ys = Tensor::FromVector<float>({3}, {1.f, 2.f, 3.f});
  EXPECT_EQ(RunNode(c.MakeNode(), bad_scale.Inputs(), ref).status().code(), StatusCode::kInvalidArgument);
  QGemmCase bad_type = c;
  bad_type.bias = Tensor::FromVector<float>({5}, {1.f, 2.f, 3.f, 4.f, 5.f});
  EXPECT_EQ(RunNode(c.MakeNode(), bad_type.Inputs(), ref).status().code(), StatusCode::kInvalidArgument);
  // Output shape: A's leading dims and N; the dtype is y_zero_point's.
  QGemmCase three_d = c;
  three_d.a = RandomInts<uint8_t>({2, 3, 6}, 0, 255, rng);
  three_d.yz = ZeroPoints(5, false, rng);
  auto y = RunNode(c.MakeNode(), three_d.Inputs(), ref);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ((*y)[0].shape(), (Shape{2, 3, 5}));
  EXPECT_EQ((*y)[0].dtype(), DType::kI8);
}

// Time of the fused kernel against the chain it replaces (fast kernels of MatMulInteger,
// int32 Add and QuantizeLinear) on the Fashion-MNIST mlp's layers at batch 64; prints
// figures, asserts only that both agree. Run: test_ops_quant --gtest_also_run_disabled_tests
// --gtest_filter='QGemmPerf*' [GREENAI_PERF_THREADS=2]
TEST(QGemmPerf, DISABLED_FusedVsChain) {
  std::mt19937 rng(5);
  const char* th = std::getenv("GREENAI_PERF_THREADS");
  ThreadPool pool(th ? std::atoi(th) : 1);
  struct Shape3 {
    int64_t M, K, N;
  };
  for (Shape3 s : {Shape3{64, 784, 512}, Shape3{64, 512, 256}, Shape3{1, 784, 512}}) {
    QGemmCase c = RandomCase(s.M, s.K, s.N, false, 63, true, true, true, rng);
    c.zb = Tensor::Scalar<int8_t>(0);
    auto make = [&](const Node& n, const std::vector<Tensor>& in) {
      std::vector<TensorType> types;
      std::vector<const Tensor*> consts;
      for (size_t i = 0; i < in.size(); ++i) {
        types.push_back(in[i].defined() ? TensorType::Of(in[i].dtype(), in[i].shape()) : TensorType{});
        consts.push_back(i == 0 || !in[i].defined() ? nullptr : &in[i]);
      }
      KernelInfo info{n, 17, types, consts, {}, pool.num_threads()};
      auto k = CreateKernel(info, false);
      EXPECT_TRUE(k.ok()) << k.status().ToString();
      return std::move(k).value();
    };
    auto fused = make(c.MakeNode(), c.Inputs());
    Node mm, add, q;
    mm.op_type = "MatMulInteger";
    mm.inputs = {"a", "b", "za", "zb"};
    add.op_type = "Add";
    add.inputs = {"acc", "bias"};
    q.op_type = "QuantizeLinear";
    q.inputs = {"pre", "ys", "yz"};
    q.SetInt("axis", -1);
    Tensor acc = Tensor::Create(DType::kI32, {s.M, s.N}).value(), pre = acc.Clone();
    auto k1 = make(mm, {c.a, c.b, c.za, c.zb});
    auto k2 = make(add, {acc, c.bias});
    auto k3 = make(q, {pre, c.ys, c.yz});
    Tensor y1 = Tensor::Create(DType::kU8, {s.M, s.N}).value(), y2 = y1.Clone();
    auto run_fused = [&] {
      KernelContext ctx{{&c.a, &c.b, &c.za, &c.zb, &c.bias, &c.ys, &c.yz}, {&y1}, &pool, nullptr};
      ASSERT_TRUE(fused.kernel->Run(ctx).ok());
    };
    auto run_chain = [&] {
      KernelContext c1{{&c.a, &c.b, &c.za, &c.zb}, {&acc}, &pool, nullptr};
      KernelContext c2{{&acc, &c.bias}, {&pre}, &pool, nullptr};
      KernelContext c3{{&pre, &c.ys, &c.yz}, {&y2}, &pool, nullptr};
      ASSERT_TRUE(k1.kernel->Run(c1).ok() && k2.kernel->Run(c2).ok() && k3.kernel->Run(c3).ok());
    };
    const int reps = s.M == 1 ? 20000 : 1000;
    std::vector<double> tf, tc;
    for (int round = 0; round < 7; ++round)  // interleaved rounds, medians
      for (int which = 0; which < 2; ++which) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) which ? run_chain() : run_fused();
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
        (which ? tc : tf).push_back(us);
      }
    std::sort(tf.begin(), tf.end());
    std::sort(tc.begin(), tc.end());
    ASSERT_EQ(0, std::memcmp(y1.raw(), y2.raw(), y1.nbytes()));
    const double macs = static_cast<double>(s.M * s.K * s.N);
    std::printf("%ldx%ldx%ld (%d threads): fused %.2f us (%.1f GMAC/s, %s), chain %.2f us (%s + %s + %s), "
                "chain/fused %.2f\n",
                static_cast<long>(s.M), static_cast<long>(s.K), static_cast<long>(s.N), pool.num_threads(), tf[3],
                macs / tf[3] * 1e-3, std::string(fused.name).c_str(), tc[3], std::string(k1.name).c_str(),
                std::string(k2.name).c_str(), std::string(k3.name).c_str(), tc[3] / tf[3]);
  }
}

}  // namespace
}  // namespace greenai
