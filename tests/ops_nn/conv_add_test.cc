// ai.greenai ConvAdd (ops/conv_add.h): the fused Conv + residual Add (+ activation).
// Oracle: the unfused chain on the reference kernels, ONNX Conv -> Add -> activation node by
// node. The reference ConvAdd must equal it bit for bit; oneDNN's (sum post-op) to rounding,
// in NCHW, in NHWC (the layout mark; X and Z transposed in, Y back out), and with output 0
// handed in Z's own buffer as the runtime does when Z dies at the node.
#include <gtest/gtest.h>

#include "nn_test_util.h"
#include "ops/conv_add.h"
#include "ops/layout.h"
#include "passes/passes.h"

namespace greenai {
namespace {

using namespace nntest;

constexpr double kRtol = 1e-4, kAtol = 1e-4;

struct Case {
  Node conv;               // plain ONNX Conv (3 inputs, B possibly omitted)
  std::vector<Tensor> in;  // X, W, B (undefined when omitted)
  std::string act;         // "", "Relu", "LeakyRelu", "Clip"
  std::vector<float> act_params;
};

// The fused node for `c`: Conv's attributes, inputs X, W, B, Z, the activation attributes.
Node Fused(const Case& c) {
  Node n = c.conv;
  n.domain = std::string(kGreenaiDomain);
  n.op_type = std::string(kConvAdd);
  n.inputs = {"in0", "in1", c.in[2].defined() ? "in2" : "", "in3"};
  if (!c.act.empty()) {
    n.SetString(kAttrActivation, c.act);
    n.SetFloats(kAttrActivationParams, c.act_params);
  }
  return n;
}

// Conv -> Add(Z) -> activation, each op by its reference kernel.
Tensor Unfused(const Case& c, const Tensor& z) {
  auto conv = RunRef(c.conv, c.in);
  EXPECT_TRUE(conv.ok()) << conv.status().ToString();
  auto sum = RunRef(MakeNode("Add", 2), {(*conv)[0], z});
  EXPECT_TRUE(sum.ok()) << sum.status().ToString();
  if (c.act.empty()) return (*sum)[0];
  Node a = MakeNode(c.act, 1);
  std::vector<Tensor> in{(*sum)[0]};
  if (c.act == "LeakyRelu") a.SetFloat("alpha", c.act_params[0]);
  if (c.act == "Clip") {
    a = MakeNode("Clip", 3);
    in.push_back(Tensor::Scalar<float>(c.act_params[0]));
    in.push_back(Tensor::Scalar<float>(c.act_params[1]));
  }
  auto y = RunRef(a, in);
  EXPECT_TRUE(y.ok()) << y.status().ToString();
  return (*y)[0];
}

// [N, C, H, W] <-> [N, H, W, C].
Tensor Permute4(const Tensor& t, bool to_nhwc) {
  const int64_t N = t.dim(0), A = t.dim(1), B = t.dim(2), C = t.dim(3);
  Shape s = to_nhwc ? Shape{N, B, C, A} : Shape{N, C, A, B};
  Tensor r = Tensor::Create(DType::kF32, s).value();
  const float* x = t.data<float>();
  float* y = r.data<float>();
  // to_nhwc: t is [N][A=C][B=H][C=W] -> [N][H][W][C]; else t is [N][A=H][B=W][C=C] -> [N][C][H][W].
  for (int64_t n = 0; n < N; ++n)
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) {
          const float v = x[((n * A + a) * B + b) * C + c];
          if (to_nhwc) y[((n * B + b) * C + c) * A + a] = v;
          else y[((n * C + c) * A + a) * B + b] = v;
        }
  return r;
}

std::vector<Case> Cases() {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> pick(0, 1 << 20);
  const std::vector<std::pair<std::string, std::vector<float>>> acts = {
      {"", {}}, {"Relu", {}}, {"LeakyRelu", {0.1f}}, {"Clip", {-0.5f, 0.75f}}};
  std::vector<Case> cases;
  for (int nsp = 1; nsp <= 3; ++nsp)
    for (int t = 0; t < 8; ++t) {
      const int64_t group = t % 3 == 2 ? 2 : 1;
      const int64_t C = group * (1 + pick(rng) % 4), M = group * (1 + pick(rng) % 5);
      Case c;
      c.conv = MakeNode("Conv", 3);
      Shape xs{1 + pick(rng) % 3, C}, ws{M, C / group};
      std::vector<int64_t> strides, pads(static_cast<size_t>(2 * nsp));
      for (int d = 0; d < nsp; ++d) {
        const int64_t k = 1 + pick(rng) % 3;
        strides.push_back(1 + pick(rng) % 2);
        pads[static_cast<size_t>(d)] = pads[static_cast<size_t>(d + nsp)] = k / 2;
        xs.push_back((nsp == 3 ? 3 : 5) + pick(rng) % 5);
        ws.push_back(k);
      }
      c.conv.SetInt("group", group);
      c.conv.SetInts("strides", strides);
      c.conv.SetInts("pads", pads);
      c.in = {RandomF32(xs, rng), RandomF32(ws, rng), t % 2 == 0 ? RandomF32({M}, rng) : Tensor()};
      if (t % 2 != 0) c.conv.inputs[2] = "";
      c.act = acts[static_cast<size_t>(t % 4)].first;
      c.act_params = acts[static_cast<size_t>(t % 4)].second;
      cases.push_back(std::move(c));
    }
  return cases;
}

Tensor ResidualFor(const Case& c, uint32_t seed) {
  auto conv = RunRef(c.conv, c.in);
  EXPECT_TRUE(conv.ok()) << conv.status().ToString();
  std::mt19937 rng(seed);
  return RandomF32((*conv)[0].shape(), rng);
}

std::string Describe(const Case& c) {
  return "x" + ShapeToString(c.in[0].shape()) + " w" + ShapeToString(c.in[1].shape()) + (c.in[2].defined() ? " bias" : "") +
         " act '" + c.act + "'";
}

TEST(ConvAdd, ReferenceEqualsConvThenAddBitForBit) {
  int n = 0;
  for (const Case& c : Cases()) {
    const Tensor z = ResidualFor(c, 100 + static_cast<uint32_t>(n++));
    const Node fused = Fused(c);
    auto got = RunRef(fused, {c.in[0], c.in[1], c.in[2], z});
    ASSERT_TRUE(got.ok()) << Describe(c) << ": " << got.status().ToString();
    const Tensor want = Unfused(c, z);
    ASSERT_EQ((*got)[0].shape(), want.shape()) << Describe(c);
    for (int64_t i = 0; i < want.numel(); ++i)
      ASSERT_EQ((*got)[0].data<float>()[i], want.data<float>()[i]) << Describe(c) << " element " << i;
  }
  EXPECT_EQ(n, 24);
}

TEST(ConvAdd, OneDnnMatchesReferenceCopiedAndInPlace) {
  int n = 0;
  for (const Case& c : Cases()) {
    const Tensor z = ResidualFor(c, 200 + static_cast<uint32_t>(n++));
    const Tensor want = Unfused(c, z);
    for (bool in_place : {false, true}) {
      RunNodeOptions o;
      std::string_view name;
      o.kernel_name_out = &name;
      o.in_place = in_place;
      auto got = RunNode(Fused(c), {c.in[0], c.in[1], c.in[2], z}, o);
      ASSERT_TRUE(got.ok()) << Describe(c) << ": " << got.status().ToString();
      EXPECT_EQ(name, "f32_convadd__onednn") << Describe(c);
      EXPECT_TRUE(AllClose((*got)[0], want, kRtol, kAtol)) << Describe(c) << " in place " << in_place;
    }
  }
}

// 2-D cases marked NHWC: X and Z arrive [N, H, W, C] and Y leaves so. The reference kernel
// behind the layout adapter (which converts Z too) must still equal the chain bit for bit.
TEST(ConvAdd, ChannelsLastMatchesReference) {
  int n = 0;
  for (const Case& c : Cases()) {
    if (c.in[0].rank() != 4) continue;
    const Tensor z = ResidualFor(c, 300 + static_cast<uint32_t>(n++));
    const Tensor want = Unfused(c, z);
    Node fused = Fused(c);
    fused.SetString(kAttrLayout, kLayoutNhwc);
    const std::vector<Tensor> in{Permute4(c.in[0], true), c.in[1], c.in[2], Permute4(z, true)};
    for (bool ref : {true, false})
      for (bool in_place : {false, true}) {
        if (ref && in_place) continue;  // the adapter names no in-place input
        RunNodeOptions o;
        o.reference_only = ref;
        o.in_place = in_place;
        auto got = RunNode(fused, in, o);
        ASSERT_TRUE(got.ok()) << Describe(c) << ": " << got.status().ToString();
        const Tensor y = Permute4((*got)[0], false);
        if (ref) {
          ASSERT_EQ(y.shape(), want.shape());
          for (int64_t i = 0; i < want.numel(); ++i)
            ASSERT_EQ(y.data<float>()[i], want.data<float>()[i]) << Describe(c) << " element " << i;
        } else {
          EXPECT_TRUE(AllClose(y, want, kRtol, kAtol)) << Describe(c) << " in place " << in_place;
        }
      }
  }
  EXPECT_EQ(n, 8);
}

TEST(ConvAdd, ResidualOfAnotherShapeIsAClearError) {
  const Case c = Cases()[8];  // 2-D
  const Tensor z = ResidualFor(c, 1);
  std::mt19937 rng(2);
  Shape wrong = z.shape();
  wrong[1] += 1;
  for (bool ref : {true, false}) {
    RunNodeOptions o;
    o.reference_only = ref;
    auto r = RunNode(Fused(c), {c.in[0], c.in[1], c.in[2], RandomF32(wrong, rng)}, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("residual Z"), std::string::npos) << r.status().message();
  }
  // A missing Z is rejected by shape inference.
  Node three = Fused(c);
  three.inputs.pop_back();
  EXPECT_FALSE(RunRef(three, {c.in[0], c.in[1], c.in[2]}).ok());
}

}  // namespace
}  // namespace greenai
