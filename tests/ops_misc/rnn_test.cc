// RNN / GRU / LSTM: single steps computed by hand from the ONNX equations, sequence_lens,
// directions, layout, and shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "backends/cpu/run_node.h"

namespace greenai {
namespace {

double Sig(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Node RnnNode(const std::string& op, std::vector<std::string> inputs, int nout) {
  Node n;
  n.name = "r";
  n.op_type = op;
  n.inputs = std::move(inputs);
  for (int i = 0; i < nout; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

TEST(Lstm, OneStepWithPeepholesMatchesHandComputation) {
  // hidden 1, input 1, gates i, o, f, c.
  Node n = RnnNode("LSTM", {"X", "W", "R", "B", "", "h0", "c0", "P"}, 3);
  n.SetInt("hidden_size", 1);
  auto X = Tensor::FromVector<float>({1, 1, 1}, {1.f});
  auto W = Tensor::FromVector<float>({1, 4, 1}, {0.5f, -0.3f, 0.2f, 0.8f});
  auto R = Tensor::FromVector<float>({1, 4, 1}, {0.1f, 0.2f, -0.1f, 0.4f});
  auto B = Tensor::FromVector<float>({1, 8}, {0.1f, 0, 0, 0, 0, 0, 0.1f, 0});
  auto h0 = Tensor::FromVector<float>({1, 1, 1}, {0.5f});
  auto c0 = Tensor::FromVector<float>({1, 1, 1}, {0.2f});
  auto P = Tensor::FromVector<float>({1, 3}, {0.3f, 0.1f, -0.2f});
  auto r = RunNode(n, {X, W, R, B, Tensor(), h0, c0, P});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const double i = Sig(0.5 + 0.1 * 0.5 + 0.3 * 0.2 + 0.1);
  const double f = Sig(0.2 - 0.1 * 0.5 - 0.2 * 0.2 + 0.1);
  const double cc = std::tanh(0.8 + 0.4 * 0.5);
  const double C = f * 0.2 + i * cc;
  const double o = Sig(-0.3 + 0.2 * 0.5 + 0.1 * C);
  const double H = o * std::tanh(C);
  EXPECT_EQ((*r)[0].shape(), (Shape{1, 1, 1, 1}));
  EXPECT_NEAR((*r)[0].data<float>()[0], H, 1e-6);
  EXPECT_NEAR((*r)[1].data<float>()[0], H, 1e-6);
  EXPECT_NEAR((*r)[2].data<float>()[0], C, 1e-6);
}

TEST(Gru, OneStepBothResetModes) {
  // hidden 1: gates z, r, h.  x = 2, h0 = 0.5.
  auto X = Tensor::FromVector<float>({1, 1, 1}, {2.f});
  auto W = Tensor::FromVector<float>({1, 3, 1}, {0.1f, 0.2f, 0.3f});
  auto R = Tensor::FromVector<float>({1, 3, 1}, {0.4f, 0.5f, 0.6f});
  auto B = Tensor::FromVector<float>({1, 6}, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f, 0.06f});
  auto h0 = Tensor::FromVector<float>({1, 1, 1}, {0.5f});
  const double z = Sig(0.2 + 0.4 * 0.5 + 0.01 + 0.04), rr = Sig(0.4 + 0.5 * 0.5 + 0.02 + 0.05);
  for (int lbr : {0, 1}) {
    Node n = RnnNode("GRU", {"X", "W", "R", "B", "", "h0"}, 2);
    n.SetInt("hidden_size", 1);
    n.SetInt("linear_before_reset", lbr);
    auto r = RunNode(n, {X, W, R, B, Tensor(), h0});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const double h = lbr ? std::tanh(0.6 + 0.03 + rr * (0.6 * 0.5 + 0.06)) : std::tanh(0.6 + 0.03 + (rr * 0.5) * 0.6 + 0.06);
    const double H = (1 - z) * h + z * 0.5;
    EXPECT_NEAR((*r)[1].data<float>()[0], H, 1e-6) << "linear_before_reset " << lbr;
  }
}

TEST(Rnn, SequenceLensBidirectionalAndLayout) {
  // hidden 1, input 1, W = 1, R = 0.5, no bias, f = tanh. Batch 2 with lengths 2 and 1.
  auto X = Tensor::FromVector<float>({2, 2, 1}, {0.1f, 0.2f, 0.3f, 0.4f});  // [seq, batch, input]
  auto W = Tensor::FromVector<float>({2, 1, 1}, {1.f, 1.f});
  auto R = Tensor::FromVector<float>({2, 1, 1}, {0.5f, 0.5f});
  auto lens = Tensor::FromVector<int32_t>({2}, {2, 1});
  Node n = RnnNode("RNN", {"X", "W", "R", "", "lens"}, 2);
  n.SetInt("hidden_size", 1);
  n.SetString("direction", "bidirectional");
  auto r = RunNode(n, {X, W, R, Tensor(), lens});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor& Y = (*r)[0];  // [seq, dirs, batch, hidden]
  ASSERT_EQ(Y.shape(), (Shape{2, 2, 2, 1}));
  auto y = [&](int t, int d, int b) { return Y.data<float>()[(t * 2 + d) * 2 + b]; };
  // Batch 0 forward: x = 0.1, 0.3.
  const double f0 = std::tanh(0.1), f1 = std::tanh(0.3 + 0.5 * f0);
  // Batch 0 reverse: x = 0.3 first, then 0.1.
  const double b1 = std::tanh(0.3), b0 = std::tanh(0.1 + 0.5 * b1);
  EXPECT_NEAR(y(0, 0, 0), f0, 1e-6);
  EXPECT_NEAR(y(1, 0, 0), f1, 1e-6);
  EXPECT_NEAR(y(1, 1, 0), b1, 1e-6);
  EXPECT_NEAR(y(0, 1, 0), b0, 1e-6);
  // Batch 1 has length 1: step 1 is zero in both directions; both see only x = 0.2.
  EXPECT_NEAR(y(0, 0, 1), std::tanh(0.2), 1e-6);
  EXPECT_NEAR(y(0, 1, 1), std::tanh(0.2), 1e-6);
  EXPECT_EQ(y(1, 0, 1), 0.f);
  EXPECT_EQ(y(1, 1, 1), 0.f);
  const Tensor& Yh = (*r)[1];  // [dirs, batch, hidden]
  EXPECT_NEAR(Yh.data<float>()[0], f1, 1e-6);
  EXPECT_NEAR(Yh.data<float>()[1], std::tanh(0.2), 1e-6);
  EXPECT_NEAR(Yh.data<float>()[2], b0, 1e-6);

  // layout = 1 gives the same numbers with batch first.
  Node nl = n;
  nl.SetInt("layout", 1);
  auto Xb = Tensor::FromVector<float>({2, 2, 1}, {0.1f, 0.3f, 0.2f, 0.4f});  // [batch, seq, input]
  auto rl = RunNode(nl, {Xb, W, R, Tensor(), lens}, RunNodeOptions{.opset = 14});
  ASSERT_TRUE(rl.ok()) << rl.status().ToString();
  ASSERT_EQ((*rl)[0].shape(), (Shape{2, 2, 2, 1}));  // [batch, seq, dirs, hidden]
  EXPECT_NEAR((*rl)[0].data<float>()[(0 * 2 + 1) * 2 + 0], f1, 1e-6);  // b0, t1, forward
  EXPECT_NEAR((*rl)[1].data<float>()[0 * 2 + 1], b0, 1e-6);            // Y_h[b0, reverse]
}

TEST(Rnn, ShapeMismatchNamesNode) {
  Node n = RnnNode("LSTM", {"X", "W", "R"}, 1);
  n.SetInt("hidden_size", 3);
  auto X = Tensor::FromVector<float>({1, 1, 2}, {1, 2});
  auto W = Tensor::Create(DType::kF32, {1, 8, 2}).value();  // needs 4 * 3 = 12 rows
  auto R = Tensor::Create(DType::kF32, {1, 8, 3}).value();
  auto r = RunNode(n, {X, W, R});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("LSTM 'r'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("W.shape[1]"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace greenai
