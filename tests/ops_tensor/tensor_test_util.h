// Helpers for tensor op tests: build a node, run it through RunNode (reference kernels),
// and read results back as vectors.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "backends/cpu/run_node.h"
#include "graph/ir.h"

namespace greenai::testing {

inline Node MakeNode(const std::string& op, int num_inputs, int num_outputs = 1, const std::string& name = "n1") {
  Node n;
  n.op_type = op;
  n.name = name;
  for (int i = 0; i < num_inputs; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back("out" + std::to_string(i));
  return n;
}

inline Result<std::vector<Tensor>> RunOp(const Node& n, const std::vector<Tensor>& in, int64_t opset = 17) {
  RunNodeOptions o;
  o.opset = opset;
  o.reference_only = true;
  return RunNode(n, in, o);
}

template <typename T>
std::vector<T> Vec(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

inline Tensor I64(Shape s, std::vector<int64_t> v) { return Tensor::FromVector<int64_t>(std::move(s), v); }
inline Tensor F32(Shape s, std::vector<float> v) { return Tensor::FromVector<float>(std::move(s), v); }
inline std::vector<float> Iota(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return v;
}

}  // namespace greenai::testing
