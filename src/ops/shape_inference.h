// Whole-graph static type and shape inference from the op table.
//
// Walks the graph in node order (call Graph::TopologicalSort first), builds an InferContext
// per node from graph input types, initializer types and values, Constant-node values and
// types inferred so far, and records every output type in Graph::value_types.
//
// Contract:
//  - strict: the first failing node's error is returned (names the node and the rule).
//  - non-strict: failures are collected in `report` (one line per failing node); outputs
//    of a failing node get unknown types and inference continues where it can.
//  - Unknown ops are errors in strict mode, reported in non-strict mode.
//  - Subgraphs are not descended into (their outputs' types come from the op's infer fn).
// Thread safety: edits `graph`; one thread.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "graph/ir.h"
#include "ops/op_table.h"

namespace greenai {

struct InferenceReport {
  std::vector<std::string> errors;  // one line per node that could not be inferred
};

Status InferGraphTypes(Graph& graph, int64_t opset, bool strict, InferenceReport* report = nullptr);

// Builds the InferContext for one node from what `graph` knows (types, initializers,
// Constant values). `constants` maps value names to known values beyond initializers.
InferContext MakeStaticInferContext(const Graph& graph, const Node& node, int64_t opset,
                                    const std::unordered_map<std::string, const Tensor*>& constants);

}  // namespace greenai
