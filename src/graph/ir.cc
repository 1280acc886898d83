#include "graph/ir.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <unordered_set>

namespace greenai {

std::string TensorType::ToString() const {
  std::string s(DTypeName(dtype));
  if (!has_shape) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    if (i < dim_params.size() && !dim_params[i].empty()) s += dim_params[i];
    else if (dims[i] < 0) s += "?";
    else s += std::to_string(dims[i]);
  }
  return s + "]";
}

const char* AttributeKindName(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kGraph: return "graph";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kTensors: return "tensors";
    case Attribute::Kind::kGraphs: return "graphs";
    case Attribute::Kind::kUndefined: return "undefined";
  }
  return "undefined";
}

const Attribute* Node::FindAttr(const std::string& n) const {
  auto it = attributes.find(n);
  return it == attributes.end() ? nullptr : &it->second;
}

int64_t Node::GetInt(const std::string& n, int64_t def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kInt) return a->i;
  if (a->kind == Attribute::Kind::kFloat) return static_cast<int64_t>(a->f);
  return def;
}
float Node::GetFloat(const std::string& n, float def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kFloat) return a->f;
  if (a->kind == Attribute::Kind::kInt) return static_cast<float>(a->i);
  return def;
}
std::string Node::GetString(const std::string& n, const std::string& def) const {
  const Attribute* a = FindAttr(n);
  return a && a->kind == Attribute::Kind::kString ? a->s : def;
}
std::vector<int64_t> Node::GetInts(const std::string& n, const std::vector<int64_t>& def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kInts) return a->ints;
  if (a->kind == Attribute::Kind::kInt) return {a->i};
  return def;
}
std::vector<float> Node::GetFloats(const std::string& n, const std::vector<float>& def) const {
  const Attribute* a = FindAttr(n);
  if (!a) return def;
  if (a->kind == Attribute::Kind::kFloats) return a->floats;
  if (a->kind == Attribute::Kind::kFloat) return {a->f};
  return def;
}
std::vector<std::string> Node::GetStrings(const std::string& n) const {
  const Attribute* a = FindAttr(n);
  return a && a->kind == Attribute::Kind::kStrings ? a->strings : std::vector<std::string>{};
}
const Tensor* Node::GetTensor(const std::string& n) const {
  const Attribute* a = FindAttr(n);
  return a && a->kind == Attribute::Kind::kTensor ? &a->t : nullptr;
}

void Node::SetInt(const std::string& n, int64_t v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kInt; a.i = v;
}
void Node::SetFloat(const std::string& n, float v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kFloat; a.f = v;
}
void Node::SetString(const std::string& n, std::string v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kString; a.s = std::move(v);
}
void Node::SetInts(const std::string& n, std::vector<int64_t> v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kInts; a.ints = std::move(v);
}
void Node::SetFloats(const std::string& n, std::vector<float> v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kFloats; a.floats = std::move(v);
}
void Node::SetTensor(const std::string& n, Tensor v) {
  Attribute& a = attributes[n];
  a = Attribute{};
  a.name = n; a.kind = Attribute::Kind::kTensor; a.t = std::move(v);
}

std::string Node::Describe() const {
  return name.empty() ? op_type + " (unnamed, output '" + (outputs.empty() ? "" : outputs[0]) + "')"
                      : op_type + " '" + name + "'";
}

Node* Graph::AddNode(std::string op_type, std::vector<std::string> in, std::vector<std::string> out,
                     std::string node_name) {
  auto n = std::make_unique<Node>();
  n->op_type = std::move(op_type);
  n->inputs = std::move(in);
  n->outputs = std::move(out);
  n->name = std::move(node_name);
  nodes_.push_back(std::move(n));
  return nodes_.back().get();
}

Node* Graph::InsertNode(size_t index, std::unique_ptr<Node> node) {
  if (index > nodes_.size()) index = nodes_.size();
  auto it = nodes_.insert(nodes_.begin() + static_cast<std::ptrdiff_t>(index), std::move(node));
  return it->get();
}

void Graph::AddInitializer(const std::string& n, Tensor t) {
  if (!initializers.count(n)) initializer_order.push_back(n);
  initializers[n] = std::move(t);
}

const Tensor* Graph::FindInitializer(const std::string& n) const {
  auto it = initializers.find(n);
  return it == initializers.end() ? nullptr : &it->second;
}

void Graph::RemoveInitializer(const std::string& n) {
  initializers.erase(n);
  std::erase(initializer_order, n);
  std::erase_if(inputs, [&](const ValueInfo& v) { return v.name == n; });
}

bool Graph::IsGraphInput(const std::string& n) const {
  for (const auto& v : inputs)
    if (v.name == n) return true;
  return false;
}
bool Graph::IsGraphOutput(const std::string& n) const {
  for (const auto& v : outputs)
    if (v.name == n) return true;
  return false;
}

std::unordered_map<std::string, std::pair<Node*, int>> Graph::BuildProducerMap() const {
  std::unordered_map<std::string, std::pair<Node*, int>> m;
  for (const auto& n : nodes_)
    for (size_t i = 0; i < n->outputs.size(); ++i)
      if (!n->outputs[i].empty()) m[n->outputs[i]] = {n.get(), static_cast<int>(i)};
  return m;
}

namespace {
// Names a subgraph reads from its enclosing scope (inputs not produced inside it).
void CollectOuterReads(const Graph& g, std::unordered_set<std::string>& out) {
  std::unordered_set<std::string> defined;
  for (const auto& v : g.inputs) defined.insert(v.name);
  for (const auto& [k, v] : g.initializers) defined.insert(k);
  // A nested subgraph may read values this graph defines (e.g. an If inside a Loop body reading
  // a body input); only names undefined here are reads from the enclosing scope.
  for (const auto& n : g.nodes())
    for (const auto& o : n->outputs) defined.insert(o);
  for (const auto& n : g.nodes()) {
    for (const auto& in : n->inputs)
      if (!in.empty() && !defined.count(in)) out.insert(in);
    std::unordered_set<std::string> nested;
    for (const auto& [an, a] : n->attributes) {
      if (a.g) CollectOuterReads(*a.g, nested);
      for (const auto& sg : a.graphs) CollectOuterReads(*sg, nested);
    }
    for (const auto& r : nested)
      if (!defined.count(r)) out.insert(r);
  }
  for (const auto& o : g.outputs)
    if (!defined.count(o.name)) out.insert(o.name);
}
// All values a node reads: its inputs plus implicit reads of its subgraphs.
std::vector<std::string> NodeReads(const Node& n) {
  std::vector<std::string> r;
  for (const auto& in : n.inputs)
    if (!in.empty()) r.push_back(in);
  std::unordered_set<std::string> outer;
  for (const auto& [an, a] : n.attributes) {
    if (a.g) CollectOuterReads(*a.g, outer);
    for (const auto& sg : a.graphs) CollectOuterReads(*sg, outer);
  }
  r.insert(r.end(), outer.begin(), outer.end());
  return r;
}
}  // namespace

std::unordered_map<std::string, int> Graph::BuildUseCounts() const {
  std::unordered_map<std::string, int> m;
  for (const auto& n : nodes_)
    for (const auto& in : NodeReads(*n)) ++m[in];
  for (const auto& o : outputs) ++m[o.name];
  return m;
}

Status Graph::TopologicalSort(const std::vector<std::string>& outer_scope) {
  std::unordered_set<std::string> available(outer_scope.begin(), outer_scope.end());
  for (const auto& v : inputs) available.insert(v.name);
  for (const auto& [k, v] : initializers) available.insert(k);
  std::unordered_map<std::string, size_t> producer;
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (const auto& o : nodes_[i]->outputs)
      if (!o.empty()) producer[o] = i;

  const size_t n = nodes_.size();
  std::vector<std::vector<std::string>> reads(n);
  std::vector<int> pending(n, 0);
  std::unordered_map<std::string, std::vector<size_t>> waiters;
  for (size_t i = 0; i < n; ++i) {
    reads[i] = NodeReads(*nodes_[i]);
    for (const auto& r : reads[i]) {
      if (available.count(r)) continue;
      auto it = producer.find(r);
      if (it == producer.end()) {
        // An outer-scope read from a subgraph we do not know about is allowed only at top level
        // when it is declared; report the first truly undefined name.
        return InvalidArgument("{}: input '{}' is not a graph input, initializer or output of any node",
                               nodes_[i]->Describe(), r);
      }
      ++pending[i];
      waiters[r].push_back(i);
    }
  }
  // Min-heap on original index keeps the original order among ready nodes (stable) in O(n log n).
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  std::vector<size_t> order;
  for (size_t i = 0; i < n; ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<bool> done(n, false);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    done[i] = true;
    for (const auto& o : nodes_[i]->outputs) {
      if (o.empty()) continue;
      auto it = waiters.find(o);
      if (it == waiters.end()) continue;
      for (size_t w : it->second)
        if (--pending[w] == 0) ready.push(w);
      waiters.erase(it);
    }
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (!done[i]) return InvalidArgument("{}: graph has a cycle through this node", nodes_[i]->Describe());
  }
  std::vector<std::unique_ptr<Node>> sorted;
  sorted.reserve(n);
  for (size_t i : order) sorted.push_back(std::move(nodes_[i]));
  nodes_ = std::move(sorted);
  return Status::Ok();
}

std::string Graph::UniqueName(const std::string& base) {
  std::unordered_set<std::string> used;
  for (const auto& v : inputs) used.insert(v.name);
  for (const auto& v : outputs) used.insert(v.name);
  for (const auto& [k, v] : initializers) used.insert(k);
  for (const auto& nd : nodes_) {
    used.insert(nd->name);
    for (const auto& o : nd->outputs) used.insert(o);
  }
  if (!used.count(base)) return base;
  for (;;) {
    std::string c = base + "_" + std::to_string(++unique_counter_);
    if (!used.count(c)) return c;
  }
}

std::unique_ptr<Graph> Graph::Clone() const {
  auto g = std::make_unique<Graph>();
  g->name = name;
  g->inputs = inputs;
  g->outputs = outputs;
  g->initializers = initializers;
  g->initializer_order = initializer_order;
  g->value_types = value_types;
  g->doc_string = doc_string;
  for (const auto& n : nodes_) {
    auto c = std::make_unique<Node>(*n);
    for (auto& [k, a] : c->attributes) {
      if (a.g) a.g = std::shared_ptr<Graph>(a.g->Clone());
      for (auto& sg : a.graphs) sg = std::shared_ptr<Graph>(sg->Clone());
    }
    g->nodes_.push_back(std::move(c));
  }
  return g;
}

int64_t Model::OpsetFor(const std::string& d) const {
  std::string dd = d == "ai.onnx" ? "" : d;
  for (const auto& o : opset_imports) {
    std::string od = o.domain == "ai.onnx" ? "" : o.domain;
    if (od == dd) return o.version;
  }
  return 0;
}

std::unique_ptr<Model> Model::Clone() const {
  auto m = std::make_unique<Model>();
  m->ir_version = ir_version;
  m->opset_imports = opset_imports;
  m->producer_name = producer_name;
  m->producer_version = producer_version;
  m->domain = domain;
  m->model_version = model_version;
  m->doc_string = doc_string;
  m->metadata = metadata;
  m->graph = graph->Clone();
  return m;
}

}  // namespace greenai
