// Helpers for nn op tests: build a node, run it eagerly, compare tensors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/run_node.h"
#include "graph/ir.h"
#include "ops/op_table.h"

namespace greenai::nntest {

inline Node MakeNode(const std::string& op, int num_inputs, int num_outputs = 1) {
  Node n;
  n.op_type = op;
  n.name = "n1";
  for (int i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

inline Result<std::vector<Tensor>> RunRef(const Node& n, const std::vector<Tensor>& in, int64_t opset = 17) {
  RunNodeOptions o;
  o.reference_only = true;
  o.opset = opset;
  return RunNode(n, in, o);
}

inline std::vector<float> Floats(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = static_cast<float>(t.GetAsDouble(i));
  return v;
}

inline std::vector<float> Iota(int64_t n, float start = 0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i) v[i] = start + static_cast<float>(i);
  return v;
}

inline Tensor RandomF32(Shape s, std::mt19937& rng, float lo = -1, float hi = 1) {
  std::uniform_real_distribution<float> d(lo, hi);
  int64_t n = NumElements(s);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return Tensor::FromVector<float>(std::move(s), v);
}

// Element-wise |a-b| <= atol + rtol*|b|, with shape check; reports the first mismatch.
inline ::testing::AssertionResult AllClose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (a.shape() != b.shape())
    return ::testing::AssertionFailure() << "shape " << ShapeToString(a.shape()) << " vs " << ShapeToString(b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.GetAsDouble(i), y = b.GetAsDouble(i);
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y)))
      return ::testing::AssertionFailure() << "element " << i << ": " << x << " vs " << y;
  }
  return ::testing::AssertionSuccess();
}

// Cost of a node on concrete input shapes (inputs given as types).
inline OpCost CostOf(const Node& n, const std::vector<TensorType>& in, int64_t opset = 17) {
  const OpDef* def = OpTable::Get().Find("", n.op_type);
  EXPECT_NE(def, nullptr);
  InferContext ctx{n, opset, in, std::vector<const Tensor*>(in.size(), nullptr)};
  std::vector<TensorType> outs;
  Status st = InferNodeTypes(*def, ctx, &outs);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return NodeCost(*def, ctx, outs);
}

}  // namespace greenai::nntest
