// DeadCodeElimination: see passes/passes.h for the contract.
#include <algorithm>
#include <unordered_set>

#include "passes/passes.h"

namespace greenai {

Status DeadCodeElimination::Run(Model& model) {
  Graph& g = *model.graph;
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort());
  std::unordered_set<std::string> live;
  for (const auto& o : g.outputs) live.insert(o.name);
  std::unordered_set<const Node*> dead;
  const auto& nodes = g.nodes();
  // Reverse topological order: a node is needed iff a needed value is one of its outputs.
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const Node& n = **it;
    bool needed = false;
    for (const auto& o : n.outputs)
      if (!o.empty() && live.count(o)) needed = true;
    if (!needed) {
      dead.insert(&n);
      continue;
    }
    for (const auto& r : NodeReads(n)) live.insert(r);
  }
  g.RemoveNodesIf([&](const Node& n) { return dead.count(&n) != 0; });

  std::vector<std::string> unused;
  for (const auto& name : g.initializer_order)
    if (!live.count(name) && !g.IsGraphInput(name)) unused.push_back(name);
  // Initializers missing from initializer_order (a builder that skipped AddInitializer).
  for (const auto& [name, t] : g.initializers)
    if (!live.count(name) && !g.IsGraphInput(name) &&
        std::find(unused.begin(), unused.end(), name) == unused.end())
      unused.push_back(name);
  for (const auto& name : unused) g.RemoveInitializer(name);

  // Types of values that no longer exist only confuse later readers.
  std::unordered_set<std::string> exists(live.begin(), live.end());
  for (const auto& v : g.inputs) exists.insert(v.name);
  for (const auto& n : g.nodes())
    for (const auto& o : n->outputs) exists.insert(o);
  for (auto it = g.value_types.begin(); it != g.value_types.end();)
    it = exists.count(it->first) ? std::next(it) : g.value_types.erase(it);
  return Status::Ok();
}

}  // namespace greenai
