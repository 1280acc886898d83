// Helpers shared by the graph passes (declared in passes/passes.h).
#include <unordered_set>

#include "passes/passes.h"

namespace greenai {

int64_t DefaultOpset(const Model& model) {
  int64_t v = model.OpsetFor("");
  return v > 0 ? v : 17;
}

bool IsConstant(const Graph& graph, const std::string& name) {
  return !name.empty() && graph.IsInitializer(name) && !graph.IsGraphInput(name);
}

namespace {
// Names a subgraph reads from its enclosing scope. Mirrors the private helper in graph/ir.cc
// (kept local so the IR header stays unchanged).
void CollectOuterReads(const Graph& g, std::unordered_set<std::string>& out) {
  std::unordered_set<std::string> defined;
  for (const auto& v : g.inputs) defined.insert(v.name);
  for (const auto& [k, v] : g.initializers) defined.insert(k);
  for (const auto& n : g.nodes()) {
    for (const auto& in : n->inputs)
      if (!in.empty() && !defined.count(in)) out.insert(in);
    for (const auto& [an, a] : n->attributes) {
      if (a.g) CollectOuterReads(*a.g, out);
      for (const auto& sg : a.graphs) CollectOuterReads(*sg, out);
    }
    for (const auto& o : n->outputs) defined.insert(o);
  }
  for (const auto& o : g.outputs)
    if (!defined.count(o.name)) out.insert(o.name);
}
}  // namespace

std::vector<std::string> NodeReads(const Node& node) {
  std::vector<std::string> r;
  for (const auto& in : node.inputs)
    if (!in.empty()) r.push_back(in);
  std::unordered_set<std::string> outer;
  for (const auto& [an, a] : node.attributes) {
    if (a.g) CollectOuterReads(*a.g, outer);
    for (const auto& sg : a.graphs) CollectOuterReads(*sg, outer);
  }
  r.insert(r.end(), outer.begin(), outer.end());
  return r;
}

std::unordered_map<std::string, std::vector<Node*>> BuildConsumers(const Graph& graph) {
  std::unordered_map<std::string, std::vector<Node*>> m;
  for (const auto& n : graph.nodes())
    for (const auto& r : NodeReads(*n)) {
      auto& v = m[r];
      if (v.empty() || v.back() != n.get()) v.push_back(n.get());
    }
  return m;
}

}  // namespace greenai
