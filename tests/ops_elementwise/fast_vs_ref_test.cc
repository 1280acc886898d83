// Every fast (AVX2, priority 10) kernel against the double-precision reference kernel on
// seeded random inputs, over sizes below, at and above the vector width and the thread
// grain. Outputs are NaN-prefilled by RunNode, so skipped elements fail the comparison.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include "backends/cpu/fast_elementwise_simd.h"
#include "core/thread_pool.h"
#include "ops/op_table.h"
#include "test_util.h"

namespace greenai {
namespace {

using testing_ew::MakeNode;
using testing_ew::RunOp;

const int64_t kSizes[] = {1, 7, 8, 9, 63, 64, 65, 1000, 40000};

Tensor RandomF32(Shape shape, uint32_t seed, float lo = -5, float hi = 5) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  auto t = Tensor::Create(DType::kF32, std::move(shape));
  EXPECT_TRUE(t.ok());
  for (auto& v : t->span<float>()) v = d(rng);
  return *t;
}

ThreadPool& Pool() {
  static ThreadPool pool(3);  // more workers than cores: exercises chunking and joins
  return pool;
}

// Runs `n` through this family's fast kernel, called by its registered factory directly
// (other families, e.g. oneDNN Softmax, may outrank it in normal selection), on
// NaN-prefilled outputs.
Result<std::vector<Tensor>> RunFast(const Node& n, const std::vector<Tensor>& in, int64_t opset) {
  const OpDef* def = OpTable::Get().Find("", n.op_type);
  if (!def) return NotFound("no op {}", n.op_type);
  InferContext ictx{n, opset, {}, {}};
  for (const Tensor& t : in) {
    ictx.inputs.push_back(TensorType::Of(t.dtype(), t.shape()));
    ictx.values.push_back(&t);
  }
  std::vector<TensorType> out_types;
  GREENAI_RETURN_IF_ERROR(InferNodeTypes(*def, ictx, &out_types));
  const KernelDef* fast = nullptr;
  for (const KernelDef* d : KernelRegistry::Get().Candidates("", n.op_type))
    // this family's kernels are f32 ("f32_*__avx2"); f16/bf16 ones (lowp_elementwise.cc) also say avx2
    if (d->name.rfind("f32_", 0) == 0 && d->name.find("avx2") != std::string_view::npos) fast = d;
  if (!fast) return NotFound("no avx2 kernel for {}", n.op_type);
  KernelInfo info{n, opset, ictx.inputs, ictx.values, out_types, Pool().num_threads()};
  GREENAI_ASSIGN_OR_RETURN(auto kernel, fast->create(info));
  std::vector<Tensor> outs;
  KernelContext ctx;
  ctx.pool = &Pool();
  for (const Tensor& t : in) ctx.inputs.push_back(&t);
  for (const auto& t : out_types) {
    GREENAI_ASSIGN_OR_RETURN(Tensor o, AllocateOutput(t, /*nan_prefill=*/true));
    outs.push_back(o);
  }
  for (auto& o : outs) ctx.outputs.push_back(&o);
  GREENAI_RETURN_IF_ERROR(kernel->Run(ctx));
  return outs;
}

// Compares the fast kernel with the reference within |f - r| <= atol + rtol * |r|.
void ExpectFastMatchesRef(const Node& n, const std::vector<Tensor>& in, int64_t opset, double atol, double rtol,
                          const std::string& what) {
  auto fast = RunFast(n, in, opset);
  ASSERT_TRUE(fast.ok()) << what << ": " << fast.status().ToString();
  auto ref = RunOp(n, in, opset, /*reference_only=*/true);
  ASSERT_TRUE(ref.ok()) << what << ": " << ref.status().ToString();
  ASSERT_EQ((*fast)[0].shape(), (*ref)[0].shape()) << what;
  const float* f = (*fast)[0].data<float>();
  const float* r = (*ref)[0].data<float>();
  int bad = 0;
  for (int64_t i = 0; i < (*ref)[0].numel() && bad < 5; ++i) {
    double tol = atol + rtol * std::fabs(r[i]);
    bool ok = (std::isnan(r[i]) && std::isnan(f[i])) || f[i] == r[i] ||
              std::fabs(static_cast<double>(f[i]) - r[i]) <= tol;
    if (!ok) {
      ++bad;
      ADD_FAILURE() << what << " at " << i << ": fast " << f[i] << " ref " << r[i];
    }
  }
}

TEST(FastUnary, MatchesReference) {
  struct Case {
    const char* op;
    float lo, hi;
    double atol, rtol;
    const char* attr = nullptr;
  } cases[] = {
      {"Relu", -5, 5, 0, 0},           {"LeakyRelu", -5, 5, 0, 1e-7},  {"Sigmoid", -20, 20, 1e-7, 1e-6},
      {"Tanh", -10, 10, 1e-7, 1e-6},   {"Gelu", -6, 6, 1e-6, 1e-5},    {"Gelu", -6, 6, 1e-6, 1e-5, "tanh"},
      {"Exp", -80, 80, 0, 3e-7},       {"Erf", -4, 4, 3e-7, 1e-6},     {"Abs", -5, 5, 0, 0},
      {"Neg", -5, 5, 0, 0},            {"Sqrt", 0, 100, 0, 1e-7},      {"Elu", -5, 5, 1e-7, 1e-6},
      {"HardSigmoid", -5, 5, 1e-7, 1e-6}, {"HardSwish", -5, 5, 1e-6, 1e-6},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    Node n = MakeNode(c.op, 1);
    if (c.attr) n.SetString("approximate", c.attr);
    for (int64_t size : kSizes) {
      auto x = RandomF32({size}, seed++, c.lo, c.hi);
      ExpectFastMatchesRef(n, {x}, 20, c.atol, c.rtol, std::string(c.op) + (c.attr ? "/tanh" : "") + " n=" +
                                                            std::to_string(size));
    }
  }
}

TEST(FastUnary, SpecialValues) {
  const float inf = INFINITY, nan = NAN;
  auto x = Tensor::FromVector<float>({9}, {0.0f, -0.0f, inf, -inf, nan, 88.7f, -104.0f, 1e-30f, -1e-30f});
  for (const char* op : {"Relu", "Sigmoid", "Tanh", "Exp", "Erf", "Gelu"}) {
    Node n = MakeNode(op, 1);
    ExpectFastMatchesRef(n, {x}, 20, 1e-37, 1e-6, std::string(op) + " special");
  }
}

TEST(FastBinary, LayoutsMatchReference) {
  uint32_t seed = 100;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    Node n = MakeNode(op, 2);
    for (int64_t size : kSizes) {
      std::string w = std::string(op) + " n=" + std::to_string(size);
      auto a = RandomF32({size}, seed++);
      auto b = RandomF32({size}, seed++, 0.5f, 5);  // keep divisors away from 0
      ExpectFastMatchesRef(n, {a, b}, 17, 0, 0, w + " same");
      ExpectFastMatchesRef(n, {a, Tensor::Scalar<float>(1.75f)}, 17, 0, 0, w + " scalar-b");
      ExpectFastMatchesRef(n, {Tensor::FromVector<float>({1, 1}, {-2.5f}), b}, 17, 0, 0, w + " scalar-a");
      auto m = RandomF32({3, size}, seed++);
      auto row = RandomF32({1, size}, seed++, 0.5f, 5);
      ExpectFastMatchesRef(n, {m, row}, 17, 0, 0, w + " bias-b");
      ExpectFastMatchesRef(n, {RandomF32({size}, seed++), RandomF32({4, size}, seed++, 0.5f, 5)}, 17, 0, 0,
                           w + " bias-a");
    }
  }
}

TEST(FastBinary, DeclinesUncoveredBroadcast) {
  Node n = MakeNode("Add", 2);
  auto r = RunFast(n, {RandomF32({3, 1}, 1), RandomF32({1, 4}, 2)}, 17);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  std::string_view kname;
  auto any = RunOp(n, {RandomF32({3, 1}, 1), RandomF32({1, 4}, 2)}, 17, false, &kname);
  ASSERT_TRUE(any.ok());  // the reference (or another family's kernel) takes over
  EXPECT_EQ(kname.find("avx2"), std::string_view::npos) << kname;
}

TEST(FastReduce, MatchesReferenceOverAxes) {
  uint32_t seed = 500;
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"}) {
    for (int64_t size : kSizes) {
      if (size > 1000) continue;
      struct Layout {
        Shape shape;
        std::vector<int64_t> axes;
      } layouts[] = {{{3, size}, {-1}}, {{size, 3}, {0}}, {{2, size, 3}, {0, 2}}, {{2, size, 3}, {1}},
                     {{4, size}, {}},   {{2, 1, size}, {1, 2}}};
      for (const auto& l : layouts) {
        Node n = MakeNode(op, 2);
        n.SetInt("keepdims", seed % 2);
        std::vector<Tensor> in{RandomF32(l.shape, seed++)};
        in.push_back(Tensor::FromVector<int64_t>({static_cast<int64_t>(l.axes.size())}, l.axes));
        ExpectFastMatchesRef(n, in, 18, 1e-5, 1e-5,
                             std::string(op) + " " + ShapeToString(l.shape) + " axes=" + std::to_string(l.axes.size()));
      }
    }
  }
}

TEST(FastReduce, MaxPropagatesNaN) {
  for (int64_t size : {9, 40, 65}) {
    auto x = RandomF32({2, size}, 7);
    x.data<float>()[size - 1] = NAN;  // in row 0's tail or body depending on size
    x.data<float>()[size + 3] = NAN;
    Node n = MakeNode("ReduceMax", 2);
    ExpectFastMatchesRef(n, {x, Tensor::FromVector<int64_t>({1}, {1})}, 18, 0, 0, "max nan row");
    ExpectFastMatchesRef(n, {x, Tensor::FromVector<int64_t>({1}, {0})}, 18, 0, 0, "max nan col");
  }
}

TEST(FastSoftmax, LastAxisMatchesReference) {
  uint32_t seed = 900;
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    for (int64_t size : kSizes) {
      Node n = MakeNode(op, 1);
      auto x = RandomF32({3, size}, seed++, -30, 30);
      // Log-probabilities near 0 carry the float rounding of sum(exp) ~ 1 (ulp 1.2e-7) as
      // absolute error, so LogSoftmax is held to 1e-6 absolute; Softmax to 1e-7.
      const double atol = std::string(op) == "LogSoftmax" ? 1e-6 : 1e-7;
      ExpectFastMatchesRef(n, {x}, 13, atol, 2e-6, std::string(op) + " n=" + std::to_string(size));
      n.SetInt("axis", 1);
      ExpectFastMatchesRef(n, {x}, 11, atol, 2e-6, std::string(op) + " opset11 n=" + std::to_string(size));
    }
  }
}

#ifdef GREENAI_FAST_EW
TEST(FastSimd, ExpWithinTwoUlpOfLibm) {
  int worst = 0;
  for (float x = -87.0f; x < 88.0f; x += 0.01337f) {
    float e = ew::simd::ExpScalar(x);
    float r = static_cast<float>(std::exp(static_cast<double>(x)));
    int32_t ie, ir;
    std::memcpy(&ie, &e, 4);
    std::memcpy(&ir, &r, 4);
    worst = std::max(worst, std::abs(ie - ir));
  }
  EXPECT_LE(worst, 2);
}
#endif

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

// Throughput of fast vs reference on 2^20 floats (also checked for agreement). Prints one
// line per op; run with --gtest_filter=FastTiming.* to reproduce the report's figures.
// No timing assertion: the machine is shared, so speed is reported, not gated.
TEST(FastTiming, ReportsSpeedupOverReference) {
  using Clock = std::chrono::steady_clock;
  const int64_t n = 1 << 20;
  struct Case {
    const char* op;
    std::vector<Tensor> in;
    int64_t opset;
  };
  auto x = RandomF32({1024, 1024}, 42);
  auto bias = RandomF32({1024}, 43);
  std::vector<Case> cases = {{"Relu", {x}, 17},         {"Gelu", {x}, 20},
                             {"Sigmoid", {x}, 17},      {"Tanh", {x}, 17},
                             {"Add", {x, bias}, 17},    {"ReduceSum", {x, Tensor::FromVector<int64_t>({1}, {-1})}, 18},
                             {"ReduceMean", {x, Tensor::FromVector<int64_t>({1}, {0})}, 18},
                             {"Softmax", {x}, 13}};
  for (auto& c : cases) {
    Node node = MakeNode(c.op, static_cast<int>(c.in.size()));
    auto time_it = [&](bool fast) {
      double best = 1e30;
      for (int rep = 0; rep < 5; ++rep) {
        auto t0 = Clock::now();
        auto r = fast ? RunFast(node, c.in, c.opset) : RunOp(node, c.in, c.opset, true);
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        EXPECT_TRUE(r.ok()) << c.op;
        best = std::min(best, s);
      }
      return best;
    };
    double tr = time_it(false), tf = time_it(true);
    std::printf("%-10s n=%lld ref %.2f ms  fast %.2f ms  speedup %.1fx  (%d threads)\n", c.op,
                static_cast<long long>(n), tr * 1e3, tf * 1e3, tr / tf, Pool().num_threads());
    // A float sum of 1024 terms |x| <= 5 may differ from the double reference by up to
    // about n * ulp(1) * max|x| = 1024 * 1.2e-7 * 5 = 6e-4 when the result cancels to ~0.
    const double atol = std::string(c.op) == "ReduceSum" ? 6e-4 : 1e-5;
    ExpectFastMatchesRef(node, c.in, c.opset, atol, 1e-5, std::string(c.op) + " 1M");
  }
}

}  // namespace
}  // namespace greenai
