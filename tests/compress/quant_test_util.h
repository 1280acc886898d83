// Shared helpers for the quantization tests: small hand-built models and seeded data.
#pragma once

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backends/cpu/int8_tile_amx.h"
#include "compress/quantize/quantize.h"
#include "graph/ir.h"
#include "runtime/session.h"

namespace greenai::quanttest {

// Base of the int8 fast-kernel tests that run twice: with the AMX tiles off (the AVX-512 /
// AVX2 tiles then run every product, on every CPU) and on (products of 16 rows or more take
// int8_tile_amx.h where Int8AmxOn(); elsewhere the test is skipped).
class AmxOnOff : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SetInt8Amx(GetParam());
    if (GetParam() && !Int8AmxOn()) GTEST_SKIP() << "no AMX tiles on this CPU (or Linux refused their state)";
  }
  void TearDown() override { SetInt8Amx(true); }
};
inline std::string AmxParamName(const ::testing::TestParamInfo<bool>& i) { return i.param ? "amx" : "no_amx"; }

// Uniform integers in [lo, hi] as a tensor of T.
template <typename T>
Tensor RandomInts(Shape s, int lo, int hi, std::mt19937& rng) {
  Tensor t = Tensor::Create(DTypeOf<T>(), std::move(s)).value();
  std::uniform_int_distribution<int> d(lo, hi);
  for (auto& v : t.span<T>()) v = static_cast<T>(d(rng));
  return t;
}

inline Tensor RandomTensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t = Tensor::Create(DType::kF32, std::move(shape)).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (auto& v : t.span<float>()) v = d(rng);
  return t;
}

inline std::unique_ptr<Model> NewModel(int64_t opset = 17) {
  auto m = std::make_unique<Model>();
  m->opset_imports = {{"", opset}};
  return m;
}

// x [batch, k] -> Gemm(W [n, k], transB=1, b [n]) -> y (graph output).
inline std::unique_ptr<Model> SingleGemm(int64_t batch, int64_t k, int64_t n, uint32_t seed) {
  auto m = NewModel();
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {batch, k}), ""});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {batch, n}), ""});
  g.AddInitializer("W", RandomTensor({n, k}, seed, -0.5f, 0.5f));
  g.AddInitializer("b", RandomTensor({n}, seed + 1, -0.2f, 0.2f));
  g.AddNode("Gemm", {"x", "W", "b"}, {"y"}, "fc")->SetInt("transB", 1);
  return m;
}

// A small CNN: Conv(3x3, pad 1) -> Relu -> MaxPool 2x2 -> Conv(3x3) -> Relu -> Flatten -> Gemm.
// Input "x" [batch, 2, 8, 8], output "logits" [batch, 5].
inline std::unique_ptr<Model> SmallCnn(int64_t batch, uint32_t seed) {
  auto m = NewModel();
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {batch, 2, 8, 8}), ""});
  g.outputs.push_back({"logits", TensorType::Of(DType::kF32, {batch, 5}), ""});
  g.AddInitializer("w1", RandomTensor({4, 2, 3, 3}, seed, -0.5f, 0.5f));
  g.AddInitializer("b1", RandomTensor({4}, seed + 1, -0.1f, 0.1f));
  g.AddInitializer("w2", RandomTensor({6, 4, 3, 3}, seed + 2, -0.5f, 0.5f));
  g.AddInitializer("b2", RandomTensor({6}, seed + 3, -0.1f, 0.1f));
  g.AddInitializer("w3", RandomTensor({5, 6 * 2 * 2}, seed + 4, -0.5f, 0.5f));
  g.AddInitializer("b3", RandomTensor({5}, seed + 5, -0.1f, 0.1f));
  Node* c1 = g.AddNode("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  c1->SetInts("pads", {1, 1, 1, 1});
  c1->SetInts("kernel_shape", {3, 3});
  g.AddNode("Relu", {"c1"}, {"r1"}, "relu1");
  Node* p = g.AddNode("MaxPool", {"r1"}, {"p1"}, "pool1");
  p->SetInts("kernel_shape", {2, 2});
  p->SetInts("strides", {2, 2});
  Node* c2 = g.AddNode("Conv", {"p1", "w2", "b2"}, {"c2"}, "conv2");
  c2->SetInts("kernel_shape", {3, 3});
  g.AddNode("Relu", {"c2"}, {"r2"}, "relu2");
  g.AddNode("Flatten", {"r2"}, {"f"}, "flatten");
  g.AddNode("Gemm", {"f", "w3", "b3"}, {"logits"}, "fc")->SetInt("transB", 1);
  return m;
}

inline std::vector<compress::Feeds> Batches(const std::string& input, Shape shape, int count, uint32_t seed,
                                            float lo = -1.f, float hi = 1.f) {
  std::vector<compress::Feeds> b;
  for (int i = 0; i < count; ++i) b.push_back({{input, RandomTensor(shape, seed + static_cast<uint32_t>(i), lo, hi)}});
  return b;
}

inline Tensor RunOne(const Model& m, const compress::Feeds& feeds, bool optimize = true) {
  SessionOptions so;
  so.optimize = optimize;
  auto s = Session::Create(m, so);
  if (!s.ok()) return Tensor();
  auto out = (*s)->Run(feeds);
  return out.ok() ? (*out)[0] : Tensor();
}

inline int CountOps(const Graph& g, const std::string& op) {
  int c = 0;
  for (const auto& n : g.nodes()) c += n->op_type == op;
  return c;
}

}  // namespace greenai::quanttest
