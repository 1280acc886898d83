// oneDNN kernels against the reference kernels on seeded random sweeps (groups, strides,
// dilations, pads, odd sizes). Each case also checks that the oneDNN kernel was the one picked,
// so a silent fallback cannot make a sweep pass vacuously.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nn_test_util.h"

namespace greenai {
namespace {

using namespace nntest;

constexpr double kRtol = 1e-4, kAtol = 1e-4;

// Runs `n` with the best kernel and with the reference; compares all outputs.
void Check(const Node& n, const std::vector<Tensor>& in, const std::string& want_kernel, const std::string& what,
           int64_t opset = 17) {
  RunNodeOptions fast;
  fast.opset = opset;
  std::string_view name;
  fast.kernel_name_out = &name;
  auto r = RunNode(n, in, fast);
  ASSERT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  auto ref = RunRef(n, in, opset);
  ASSERT_TRUE(ref.ok()) << what << ": " << ref.status().ToString();
  EXPECT_EQ(std::string(name), want_kernel) << what;
  for (size_t i = 0; i < r->size(); ++i) EXPECT_TRUE(AllClose((*r)[i], (*ref)[i], kRtol, kAtol)) << what << " output " << i;
}

TEST(OneDnnVsRef, ConvSweep) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  int cases = 0;
  for (int nsp = 1; nsp <= 3; ++nsp)
    for (int t = 0; t < 12; ++t) {
      const int64_t group = std::vector<int64_t>{1, 2, 3}[static_cast<size_t>(pick(rng) % 3)];
      const bool depthwise = pick(rng) % 4 == 0;
      const int64_t cg = depthwise ? 1 : 1 + pick(rng) % 3;
      const int64_t C = cg * group, M = group * (depthwise ? 1 : 1 + pick(rng) % 3);
      Node n = MakeNode("Conv", 3);
      Shape xs{1 + pick(rng) % 2, C}, ws{M, cg};
      std::vector<int64_t> strides, dil, pads(static_cast<size_t>(2 * nsp));
      for (int d = 0; d < nsp; ++d) {
        int64_t k = 1 + pick(rng) % 3;
        strides.push_back(1 + pick(rng) % 2);
        dil.push_back(1 + pick(rng) % 2);
        pads[static_cast<size_t>(d)] = pick(rng) % 2;
        pads[static_cast<size_t>(d + nsp)] = pick(rng) % 3 == 0 ? 1 : 0;
        xs.push_back((nsp == 3 ? 4 : 6) + pick(rng) % 4 + (k - 1) * dil.back());
        ws.push_back(k);
      }
      n.SetInt("group", group);
      n.SetInts("strides", strides);
      n.SetInts("dilations", dil);
      if (t % 4 == 3) n.SetString("auto_pad", "SAME_UPPER");
      else n.SetInts("pads", pads);
      bool bias = t % 2 == 0;
      if (!bias) n.inputs.pop_back();
      std::vector<Tensor> in{RandomF32(xs, rng), RandomF32(ws, rng)};
      if (bias) in.push_back(RandomF32({M}, rng));
      Check(n, in, "f32_conv__onednn", "conv nsp=" + std::to_string(nsp) + " case " + std::to_string(t) + " x" +
                                           ShapeToString(xs) + " w" + ShapeToString(ws));
      ++cases;
    }
  EXPECT_EQ(cases, 36);
}

TEST(OneDnnVsRef, ConvTransposeSweep) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  for (int nsp = 1; nsp <= 3; ++nsp)
    for (int t = 0; t < 10; ++t) {
      const int64_t group = 1 + pick(rng) % 2;
      const int64_t C = group * (1 + pick(rng) % 3), mg = 1 + pick(rng) % 3;
      Node n = MakeNode("ConvTranspose", 3);
      Shape xs{1 + pick(rng) % 2, C}, ws{C, mg};
      std::vector<int64_t> strides, dil, pads(static_cast<size_t>(2 * nsp)), opad;
      for (int d = 0; d < nsp; ++d) {
        int64_t k = 1 + pick(rng) % 3;
        strides.push_back(1 + pick(rng) % 2);
        dil.push_back(1 + pick(rng) % 2);
        pads[static_cast<size_t>(d)] = pick(rng) % 2;
        pads[static_cast<size_t>(d + nsp)] = 1;
        opad.push_back(pick(rng) % std::max(strides.back(), dil.back()));
        xs.push_back(3 + pick(rng) % 4);
        ws.push_back(k);
      }
      n.SetInt("group", group);
      n.SetInts("strides", strides);
      n.SetInts("dilations", dil);
      n.SetInts("pads", pads);
      n.SetInts("output_padding", opad);
      std::vector<Tensor> in{RandomF32(xs, rng), RandomF32(ws, rng), RandomF32({mg * group}, rng)};
      Check(n, in, "f32_convtranspose__onednn", "convtranspose nsp=" + std::to_string(nsp) + " case " +
                                                    std::to_string(t) + " x" + ShapeToString(xs) + " w" + ShapeToString(ws));
    }
}

TEST(OneDnnVsRef, MatMulSweep) {
  std::mt19937 rng(3);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{7, 13}, {13, 5}},          {{1, 1}, {1, 1}},         {{33}, {33, 17}},       {{9, 33}, {33}},
      {{4}, {4}},                  {{3, 7, 13}, {13, 5}},    {{2, 1, 7, 6}, {3, 6, 9}}, {{5, 8}, {2, 8, 3}},
      {{2, 3, 4, 5, 6}, {6, 2}},   {{65, 129}, {129, 31}}};
  // RunNode hands every input over as a constant: a 2-D B with A of rank >= 2 then goes to
  // the packed kernel (backends/cpu/f32_gemm_avx2.cc), the rest to oneDNN.
  for (const auto& [as, bs] : shapes)
    Check(MakeNode("MatMul", 2), {RandomF32(as, rng), RandomF32(bs, rng)},
          bs.size() == 2 && as.size() >= 2 ? "f32_matmul__packed" : "f32_matmul__onednn",
          "matmul " + ShapeToString(as) + " x " + ShapeToString(bs));
}

TEST(OneDnnVsRef, GemmSweep) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  for (int t = 0; t < 16; ++t) {
    const int64_t M = 1 + pick(rng) % 20, K = 1 + pick(rng) % 20, N = 1 + pick(rng) % 20;
    const bool ta = t & 1, tb = t & 2;
    Node n = MakeNode("Gemm", 3);
    n.SetInt("transA", ta);
    n.SetInt("transB", tb);
    n.SetFloat("alpha", t & 4 ? 0.5f : 1.f);
    n.SetFloat("beta", t & 8 ? 2.f : 1.f);
    const std::vector<Shape> cshapes = {{M, N}, {N}, {1, N}, {M, 1}, {}};
    Shape cs = cshapes[static_cast<size_t>(t % 5)];
    std::vector<Tensor> in{RandomF32(ta ? Shape{K, M} : Shape{M, K}, rng), RandomF32(tb ? Shape{N, K} : Shape{K, N}, rng),
                           RandomF32(cs, rng)};
    if (t % 7 == 6) {
      n.inputs.pop_back();
      in.pop_back();
    }
    // Constant B without transA: the packed kernel; transA: oneDNN.
    Check(n, in, ta ? "f32_gemm__onednn" : "f32_gemm__packed", "gemm case " + std::to_string(t));
  }
}

TEST(OneDnnVsRef, PoolSweep) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  for (int nsp = 1; nsp <= 3; ++nsp)
    for (int t = 0; t < 12; ++t) {
      const bool maxp = t % 2 == 0;
      Node n = MakeNode(maxp ? "MaxPool" : "AveragePool", 1);
      Shape xs{1 + pick(rng) % 2, 1 + pick(rng) % 3};
      std::vector<int64_t> k, s, pads(static_cast<size_t>(2 * nsp));
      for (int d = 0; d < nsp; ++d) {
        k.push_back(1 + pick(rng) % 3);
        s.push_back(1 + pick(rng) % 2);
        pads[static_cast<size_t>(d)] = pick(rng) % 2 && k.back() > 1 ? 1 : 0;
        pads[static_cast<size_t>(d + nsp)] = pick(rng) % 2 && k.back() > 1 ? 1 : 0;
        xs.push_back(5 + pick(rng) % 4);
      }
      n.SetInts("kernel_shape", k);
      n.SetInts("strides", s);
      n.SetInts("pads", pads);
      n.SetInt("ceil_mode", (t / 2) % 2);
      if (!maxp) n.SetInt("count_include_pad", (t / 4) % 2);
      Check(n, {RandomF32(xs, rng)}, maxp ? "f32_maxpool__onednn" : "f32_averagepool__onednn",
            n.op_type + " nsp=" + std::to_string(nsp) + " case " + std::to_string(t) + " x" + ShapeToString(xs));
    }
  std::mt19937 r2(12);
  Check(MakeNode("GlobalAveragePool", 1), {RandomF32({2, 3, 5, 7}, r2)}, "f32_globalaveragepool__onednn", "gap");
  Check(MakeNode("GlobalMaxPool", 1), {RandomF32({2, 3, 9}, r2)}, "f32_globalmaxpool__onednn", "gmp");
}

TEST(OneDnnVsRef, Norms) {
  std::mt19937 rng(13);
  for (const Shape& xs : {Shape{2, 3}, Shape{2, 4, 5}, Shape{1, 3, 4, 5}, Shape{2, 2, 3, 3, 3}}) {
    Node n = MakeNode("BatchNormalization", 5);
    int64_t C = xs[1];
    Check(n, {RandomF32(xs, rng), RandomF32({C}, rng), RandomF32({C}, rng), RandomF32({C}, rng), RandomF32({C}, rng, 0.5f, 2.f)},
          "f32_batchnormalization__onednn", "bn " + ShapeToString(xs));
  }
  for (int64_t axis : {-1, 1, 2}) {
    Node n = MakeNode("LayerNormalization", 3);
    n.SetInt("axis", axis);
    Shape xs{3, 4, 17};
    Shape ns(xs.begin() + (axis < 0 ? axis + 3 : axis), xs.end());
    Check(n, {RandomF32(xs, rng), RandomF32(ns, rng), RandomF32(ns, rng)}, "f32_layernormalization__onednn",
          "ln axis " + std::to_string(axis));
  }
  Node in = MakeNode("InstanceNormalization", 3);
  Check(in, {RandomF32({2, 3, 4, 5}, rng), RandomF32({3}, rng), RandomF32({3}, rng)},
        "f32_instancenormalization__onednn", "instancenorm");
}

TEST(OneDnnVsRef, SoftmaxWhenReferenceExists) {
  if (!OpTable::Get().Find("", "Softmax")) GTEST_SKIP() << "Softmax op not in the table yet";
  std::mt19937 rng(17);
  for (int64_t axis : {-1, 0, 1}) {
    Node n = MakeNode("Softmax", 1);
    n.SetInt("axis", axis);
    Check(n, {RandomF32({3, 4, 5}, rng, -5, 5)}, "f32_softmax__onednn", "softmax axis " + std::to_string(axis));
    Node l = MakeNode("LogSoftmax", 1);
    l.SetInt("axis", axis);
    Check(l, {RandomF32({3, 4, 5}, rng, -5, 5)}, "f32_logsoftmax__onednn", "logsoftmax axis " + std::to_string(axis));
    Check(n, {RandomF32({3, 4, 5}, rng, -5, 5)}, "f32_softmax__onednn", "softmax opset 11", 11);
  }
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

using namespace nntest;

// Plans a kernel the way the runtime does (static types with an unknown batch, constant
// weights) and runs it on two input shapes, alternating, against the reference each time.
TEST(OneDnnPlanning, ConstWeightsAndChangingShapes) {
  std::mt19937 rng(23);
  Node n = MakeNode("Conv", 3);
  n.SetInts("pads", {1, 1, 1, 1});
  Tensor w = RandomF32({8, 3, 3, 3}, rng), b = RandomF32({8}, rng);
  KernelInfo info{n, 17, {TensorType::Of(DType::kF32, {-1, 3, -1, -1}), TensorType::Of(DType::kF32, {8, 3, 3, 3}),
                          TensorType::Of(DType::kF32, {8})},
                  {nullptr, &w, &b}, {TensorType::Of(DType::kF32, {-1, 8, -1, -1})}, 2};
  auto ck = CreateKernel(info, false);
  ASSERT_TRUE(ck.ok()) << ck.status().ToString();
  EXPECT_EQ(ck->name, "f32_conv__onednn");
  ThreadPool pool(2);
  for (int round = 0; round < 4; ++round) {
    Shape xs = round % 2 ? Shape{2, 3, 9, 7} : Shape{1, 3, 16, 16};
    Tensor x = RandomF32(xs, rng);
    Shape ys{xs[0], 8, xs[2], xs[3]};
    Tensor y = AllocateOutput(TensorType::Of(DType::kF32, ys), true).value();
    KernelContext ctx;
    ctx.inputs = {&x, &w, &b};
    ctx.outputs = {&y};
    ctx.pool = &pool;
    ASSERT_TRUE(ck->kernel->Run(ctx).ok());
    auto ref = RunRef(n, {x, w, b});
    ASSERT_TRUE(ref.ok());
    EXPECT_TRUE(AllClose(y, (*ref)[0], kRtol, kAtol)) << "round " << round;
  }
}

TEST(OneDnnPlanning, MatMulConstBPrepackedAcrossBatchSizes) {
  std::mt19937 rng(29);
  Node n = MakeNode("MatMul", 2);
  Tensor b = RandomF32({37, 19}, rng);
  KernelInfo info{n, 17, {TensorType::Of(DType::kF32, {-1, 37}), TensorType::Of(DType::kF32, {37, 19})},
                  {nullptr, &b}, {TensorType::Of(DType::kF32, {-1, 19})}, 2};
  auto ck = CreateKernel(info, false);
  ASSERT_TRUE(ck.ok()) << ck.status().ToString();
  ThreadPool pool(2);
  for (int64_t m : {1, 64, 5, 64}) {
    Tensor a = RandomF32({m, 37}, rng);
    Tensor y = AllocateOutput(TensorType::Of(DType::kF32, {m, 19}), true).value();
    KernelContext ctx;
    ctx.inputs = {&a, &b};
    ctx.outputs = {&y};
    ctx.pool = &pool;
    ASSERT_TRUE(ck->kernel->Run(ctx).ok());
    auto ref = RunRef(n, {a, b});
    ASSERT_TRUE(ref.ok());
    EXPECT_TRUE(AllClose(y, (*ref)[0], kRtol, kAtol)) << "m=" << m;
  }
}

TEST(OneDnnPlanning, DeclinesNonF32AndIndicesOutput) {
  // f64 Conv and MaxPool with Indices must land on the reference kernels.
  std::mt19937 rng(31);
  std::string_view name;
  RunNodeOptions o;
  o.kernel_name_out = &name;
  Node c = MakeNode("Conv", 2);
  auto r = RunNode(c, {Tensor::FromVector<double>({1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                       Tensor::FromVector<double>({1, 1, 2, 2}, std::vector<double>(4, 1.0))}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(name, "any_conv__ref");
  EXPECT_THAT(Floats((*r)[0]), ::testing::ElementsAre(4, 4, 4, 4));
  Node m = MakeNode("MaxPool", 1, 2);
  m.SetInts("kernel_shape", {2, 2});
  auto rm = RunNode(m, {RandomF32({1, 1, 4, 4}, rng)}, o);
  ASSERT_TRUE(rm.ok());
  EXPECT_EQ(name, "any_maxpool__ref");
}

}  // namespace
}  // namespace greenai

namespace greenai {
namespace {

using namespace nntest;

TEST(OneDnnPlanning, EmptyInnerDimMatchesReference) {
  // K = 0: the product is all zeros, so Gemm gives beta*C (here 2*C) and MatMul gives zeros.
  std::mt19937 rng(37);
  Node g = MakeNode("Gemm", 3);
  g.SetFloat("beta", 2.f);
  RunNodeOptions o;
  auto r = RunNode(g, {Tensor::Create(DType::kF32, {2, 0}).value(), Tensor::Create(DType::kF32, {0, 3}).value(),
                       Tensor::FromVector<float>({3}, {1, 2, 3})}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Floats((*r)[0]), (std::vector<float>{2, 4, 6, 2, 4, 6}));
  auto m = RunNode(MakeNode("MatMul", 2), {Tensor::Create(DType::kF32, {3, 0}).value(), Tensor::Create(DType::kF32, {0, 4}).value()}, o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(Floats((*m)[0]), std::vector<float>(12, 0.f));
}

}  // namespace
}  // namespace greenai
