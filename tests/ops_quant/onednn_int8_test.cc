// oneDNN int8 kernels (backends/cpu/onednn_int8.cc) against the reference kernels: random
// sweeps over geometry, activation signedness, zero points and per-channel scales with 7-bit
// weights (the range greenai quantize writes), where the kernels must be chosen and agree
// with the reference to one quantization step.
#include <gtest/gtest.h>

#include <random>

#include "backends/cpu/run_node.h"

namespace greenai {
namespace {

Node MakeNode(const std::string& op, int nin, const std::string& domain = "") {
  Node n;
  n.name = "n_" + op;
  n.op_type = op;
  n.domain = domain;
  for (int i = 0; i < nin; ++i) n.inputs.push_back("in" + std::to_string(i));
  n.outputs.push_back("out");
  return n;
}

template <typename T>
Tensor RandomInts(Shape s, int lo, int hi, std::mt19937& rng) {
  Tensor t = Tensor::Create(DTypeOf<T>(), s).value();
  std::uniform_int_distribution<int> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(d(rng));
  return t;
}

// Largest |a - b| over two 8-bit tensors of the same type and shape.
int MaxDiff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.dtype(), b.dtype());
  int m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const int x = a.dtype() == DType::kU8 ? a.data<uint8_t>()[i] : a.data<int8_t>()[i];
    const int y = b.dtype() == DType::kU8 ? b.data<uint8_t>()[i] : b.data<int8_t>()[i];
    m = std::max(m, std::abs(x - y));
  }
  return m;
}

// Share of elements that differ at all (requantization ties are rare).
double DiffShare(const Tensor& a, const Tensor& b) {
  int64_t n = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    n += static_cast<const uint8_t*>(a.raw())[i] != static_cast<const uint8_t*>(b.raw())[i];
  return static_cast<double>(n) / static_cast<double>(std::max<int64_t>(a.numel(), 1));
}

Result<std::vector<Tensor>> RunOne(const Node& n, const std::vector<Tensor>& in, bool ref, std::string_view* kname) {
  RunNodeOptions o;
  o.reference_only = ref;
  o.opset = 13;
  o.kernel_name_out = kname;
  return RunNode(n, in, o);
}

TEST(OneDnnInt8, QLinearConvMatchesReferenceWithin1Lsb) {
  std::mt19937 rng(7);
  struct Case { int64_t n, c, h, w, m, k, group, stride, pad, dil; bool x_signed, y_signed, per_channel, bias; };
  const Case cases[] = {
      {1, 1, 28, 28, 16, 3, 1, 1, 1, 1, false, false, true, true},  // the cnn's first layer
      {4, 16, 14, 14, 32, 3, 1, 1, 1, 1, false, false, true, true},
      {2, 4, 7, 6, 6, 3, 2, 2, 1, 1, true, true, true, true},
      {1, 3, 9, 9, 5, 2, 1, 1, 2, 2, false, true, false, false},
      {1, 8, 6, 6, 8, 3, 8, 1, 1, 1, true, false, true, true},  // depthwise
      {1, 8, 6, 6, 8, 3, 8, 1, 1, 1, false, true, true, true},
      {3, 16, 10, 10, 33, 1, 1, 1, 0, 1, false, false, false, true},
  };
  for (const auto& cs : cases) {
    SCOPED_TRACE(::testing::Message() << "c" << cs.c << " m" << cs.m << " k" << cs.k << " g" << cs.group << " s"
                                      << cs.stride << " p" << cs.pad << " d" << cs.dil << " xs" << cs.x_signed);
    Node n = MakeNode("QLinearConv", cs.bias ? 9 : 8);
    n.SetInt("group", cs.group);
    n.SetInts("strides", {cs.stride, cs.stride});
    n.SetInts("pads", {cs.pad, cs.pad, cs.pad, cs.pad});
    n.SetInts("dilations", {cs.dil, cs.dil});
    Shape xs{cs.n, cs.c, cs.h, cs.w};
    Tensor x = cs.x_signed ? RandomInts<int8_t>(xs, -128, 127, rng) : RandomInts<uint8_t>(xs, 0, 255, rng);
    Tensor xz = cs.x_signed ? Tensor::Scalar<int8_t>(-3) : Tensor::Scalar<uint8_t>(131);
    Tensor w = RandomInts<int8_t>({cs.m, cs.c / cs.group, cs.k, cs.k}, -64, 64, rng);
    const int64_t ns = cs.per_channel ? cs.m : 1;
    std::vector<float> ws(static_cast<size_t>(ns));
    for (int64_t i = 0; i < ns; ++i) ws[static_cast<size_t>(i)] = 0.0007f * static_cast<float>(1 + i % 5);
    std::vector<int32_t> bias(static_cast<size_t>(cs.m));
    for (int64_t i = 0; i < cs.m; ++i) bias[static_cast<size_t>(i)] = static_cast<int32_t>(i * 311 - 4000);
    Tensor yz = cs.y_signed ? Tensor::Scalar<int8_t>(5) : Tensor::Scalar<uint8_t>(0);
    std::vector<Tensor> in = {x, Tensor::Scalar<float>(0.02f), xz, w,
                              cs.per_channel ? Tensor::FromVector<float>({ns}, ws) : Tensor::Scalar<float>(ws[0]),
                              cs.per_channel ? Tensor::FromVector<int8_t>({ns}, std::vector<int8_t>(ws.size(), 0))
                                             : Tensor::Scalar<int8_t>(0),
                              Tensor::Scalar<float>(0.03f), yz};
    if (cs.bias) in.push_back(Tensor::FromVector<int32_t>({cs.m}, bias));
    std::string_view kname;
    auto ref = RunOne(n, in, true, nullptr);
    auto fast = RunOne(n, in, false, &kname);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ASSERT_TRUE(fast.ok()) << fast.status().ToString();
    // int8 activations take oneDNN only with VNNI (see onednn_int8.cc); the result must
    // match either way.
    if (!cs.x_signed || __builtin_cpu_supports("avx512vnni")) {
      EXPECT_EQ(kname, "i8_qlinearconv__onednn");
    } else {
      EXPECT_EQ(kname, "i8_qlinearconv__im2col_gemm_i16");
    }
    EXPECT_LE(MaxDiff((*ref)[0], (*fast)[0]), 1);
    EXPECT_LT(DiffShare((*ref)[0], (*fast)[0]), 0.01);
  }
}

TEST(OneDnnInt8, QLinearConvDeclinesWhatItCannotDoExactly) {
  std::mt19937 rng(8);
  Node n = MakeNode("QLinearConv", 8);
  n.SetInts("pads", {1, 1, 1, 1});
  Tensor x = RandomInts<uint8_t>({1, 2, 5, 5}, 0, 255, rng);
  auto make_in = [&](const Tensor& w, const Tensor& wz) {
    return std::vector<Tensor>{x, Tensor::Scalar<float>(0.02f), Tensor::Scalar<uint8_t>(3), w,
                               Tensor::Scalar<float>(0.01f), wz, Tensor::Scalar<float>(0.05f),
                               Tensor::Scalar<uint8_t>(0)};
  };
  // A nonzero weight zero point, and uint8 weights: the exact im2col kernel runs.
  Tensor w7 = RandomInts<int8_t>({4, 2, 3, 3}, -64, 64, rng);
  for (const auto& in : {make_in(w7, Tensor::Scalar<int8_t>(2)),
                         make_in(RandomInts<uint8_t>({4, 2, 3, 3}, 0, 255, rng), Tensor::Scalar<uint8_t>(128))}) {
    std::string_view kname;
    auto ref = RunOne(n, in, true, nullptr);
    auto fast = RunOne(n, in, false, &kname);
    ASSERT_TRUE(fast.ok()) << fast.status().ToString();
    EXPECT_EQ(kname, "i8_qlinearconv__im2col_gemm_i16");
    EXPECT_EQ(MaxDiff((*ref)[0], (*fast)[0]), 0);
  }
  // Weight -65 on a CPU without VNNI: would saturate vpmaddubsw, so declined.
  if (!__builtin_cpu_supports("avx512vnni")) {
    w7.data<int8_t>()[5] = -65;
    std::string_view kname;
    ASSERT_TRUE(RunOne(n, make_in(w7, Tensor::Scalar<int8_t>(0)), false, &kname).ok());
    EXPECT_EQ(kname, "i8_qlinearconv__im2col_gemm_i16");
  }
}

// Integer max pooling (kept int8 between quantized convolutions), whichever kernel runs it, must equal the reference
// exactly: a max has no rounding.
TEST(OneDnnInt8, MaxPoolEqualsReference) {
  std::mt19937 rng(9);
  struct Case { Shape x; int64_t k, stride, pad; bool ceil, is_signed; };
  const Case cases[] = {{{2, 16, 28, 28}, 2, 2, 0, false, false}, {{1, 5, 7, 9}, 3, 2, 1, true, true},
                        {{3, 8, 6, 6}, 3, 1, 1, false, false},
                        {{1, 4, 3, 3, 3}, 2, 1, 0, false, false}};
  for (const auto& cs : cases) {
    Node n = MakeNode("MaxPool", 1);
    const size_t nsp = cs.x.size() - 2;
    n.SetInts("kernel_shape", std::vector<int64_t>(nsp, cs.k));
    n.SetInts("strides", std::vector<int64_t>(nsp, cs.stride));
    n.SetInts("pads", std::vector<int64_t>(2 * nsp, cs.pad));
    n.SetInt("ceil_mode", cs.ceil ? 1 : 0);
    Tensor x = cs.is_signed ? RandomInts<int8_t>(cs.x, -128, 127, rng) : RandomInts<uint8_t>(cs.x, 0, 255, rng);
    std::string_view kname;
    auto ref = RunOne(n, {x}, true, nullptr);
    auto fast = RunOne(n, {x}, false, &kname);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ASSERT_TRUE(fast.ok()) << fast.status().ToString();
    // 2-D pools run greenai's own NCHW kernel (backends/cpu/int8_pool_avx2.cc, no reorders);
    // oneDNN's keeps the 3-D ones.
    EXPECT_EQ(kname, nsp == 2 ? "i8_maxpool__avx2" : "i8_maxpool__onednn");
    EXPECT_EQ(MaxDiff((*ref)[0], (*fast)[0]), 0) << n.op_type << " " << cs.x.size();
  }
}

}  // namespace
}  // namespace greenai
