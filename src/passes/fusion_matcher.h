// FusionMatcher: the bookkeeping shared by the peephole passes that replace matched node chains
// and then drop the matched nodes (qdq_fusion.cc, qgemm_fusion.cc).
//
// Contract:
//  - The producer map and use counts are taken once, at construction, from the graph as it is
//    then; a pass adds its new nodes without updating them (it only ever matches chains of
//    nodes that existed before).
//  - Sole(v): v is read by exactly one node input and is not a graph output.
//  - Producer(v): the node writing v, or nullptr when none or when it is already consumed by a
//    match (in removed_).
//  - RemoveMatched(): deletes every node in removed_ from the graph.
// Internal to src/passes.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "graph/ir.h"

namespace greenai {

inline bool IsDefaultOp(const Node& n, const char* op) {
  return (n.domain.empty() || n.domain == "ai.onnx") && n.op_type == op;
}

inline bool Int8(DType t) { return t == DType::kU8 || t == DType::kI8; }

class FusionMatcher {
 protected:
  explicit FusionMatcher(Graph& g) : g_(g), prod_(g.BuildProducerMap()), uses_(g.BuildUseCounts()) {}

  bool Sole(const std::string& v) const {
    auto u = uses_.find(v);
    return u != uses_.end() && u->second == 1 && !g_.IsGraphOutput(v);
  }
  Node* Producer(const std::string& v) const {
    auto it = prod_.find(v);
    return it == prod_.end() || removed_.count(it->second.first) ? nullptr : it->second.first;
  }
  void RemoveMatched() {
    g_.RemoveNodesIf([&](const Node& n) { return removed_.count(&n) != 0; });
  }

  Graph& g_;
  std::unordered_map<std::string, std::pair<Node*, int>> prod_;
  std::unordered_map<std::string, int> uses_;
  std::unordered_set<const Node*> removed_;
};

}  // namespace greenai
