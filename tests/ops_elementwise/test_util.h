// Helpers for the elementwise op tests: build a one-node graph node and run it eagerly.
#pragma once

#include <string>
#include <vector>

#include "backends/cpu/run_node.h"
#include "graph/ir.h"

namespace greenai::testing_ew {

inline Node MakeNode(const std::string& op, int num_inputs, int num_outputs = 1) {
  Node n;
  n.op_type = op;
  n.name = "n_" + op;
  for (int i = 0; i < num_inputs; ++i) n.inputs.push_back("x" + std::to_string(i));
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  return n;
}

inline Result<std::vector<Tensor>> RunOp(const Node& n, const std::vector<Tensor>& in, int64_t opset = 17,
                                       bool reference_only = true, std::string_view* kernel = nullptr,
                                       ThreadPool* pool = nullptr) {
  RunNodeOptions o;
  o.opset = opset;
  o.reference_only = reference_only;
  o.kernel_name_out = kernel;
  o.pool = pool;
  return RunNode(n, in, o);
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

}  // namespace greenai::testing_ew
