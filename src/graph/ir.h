// Graph IR: the one in-memory form of a model that import, passes, analysis, compression,
// training and the runtime all share.
//
// Design: values are linked by name, as in ONNX. A Node lists the names of its inputs
// ("" = an omitted optional input) and outputs. Graph owns nodes, initializers (constant
// tensors), graph inputs/outputs and known value types. Subgraphs (If/Loop/Scan bodies)
// hang off graph-valued attributes.
//
// Contract:
//  - Graph::nodes() is in topological order after TopologicalSort() (import calls it).
//  - Passes that add/remove nodes keep names unique (use Graph::UniqueName).
//  - Thread safety: none; a Graph is built and edited by one thread. A Session copies what
//    it needs at plan time, so a Graph may be discarded after Session::Create.
// Protobuf never appears here; see graph/onnx_io.h for import/export.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai {

class Graph;

// Static type of a value: dtype and (possibly partially unknown) shape.
// dims[i] == -1 means unknown; dim_params[i] optionally names a symbolic dim ("batch").
struct TensorType {
  DType dtype = DType::kUndefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<int64_t> dims;
  std::vector<std::string> dim_params;  // same length as dims, or empty

  static TensorType Of(DType t, Shape s) {
    TensorType tt;
    tt.dtype = t;
    tt.has_shape = true;
    tt.dims = std::move(s);
    return tt;
  }
  bool IsFullyKnown() const {
    if (!has_shape) return false;
    for (int64_t d : dims) if (d < 0) return false;
    return true;
  }
  int rank() const { return static_cast<int>(dims.size()); }
  std::string ToString() const;  // "float32[batch, 3, 224, 224]"
};

struct Attribute {
  enum class Kind { kUndefined, kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kTensors, kGraphs };
  std::string name;
  Kind kind = Kind::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
};
const char* AttributeKindName(Attribute::Kind k);

class Node {
 public:
  std::string name;
  std::string op_type;
  std::string domain;  // "" or "ai.onnx" = default domain
  std::vector<std::string> inputs;   // "" = omitted optional input
  std::vector<std::string> outputs;  // "" = omitted optional output
  std::map<std::string, Attribute> attributes;
  std::string doc_string;

  // Input i present (non-empty name)?
  bool HasInput(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  bool HasOutput(size_t i) const { return i < outputs.size() && !outputs[i].empty(); }
  bool HasAttr(const std::string& n) const { return attributes.count(n) != 0; }
  const Attribute* FindAttr(const std::string& n) const;

  // Typed accessors with defaults. They do not check the kind beyond what is needed
  // to return something meaningful; use the Checked* variants on untrusted input.
  int64_t GetInt(const std::string& n, int64_t def) const;
  float GetFloat(const std::string& n, float def) const;
  std::string GetString(const std::string& n, const std::string& def) const;
  std::vector<int64_t> GetInts(const std::string& n, const std::vector<int64_t>& def = {}) const;
  std::vector<float> GetFloats(const std::string& n, const std::vector<float>& def = {}) const;
  std::vector<std::string> GetStrings(const std::string& n) const;
  const Tensor* GetTensor(const std::string& n) const;

  void SetInt(const std::string& n, int64_t v);
  void SetFloat(const std::string& n, float v);
  void SetString(const std::string& n, std::string v);
  void SetInts(const std::string& n, std::vector<int64_t> v);
  void SetFloats(const std::string& n, std::vector<float> v);
  void SetTensor(const std::string& n, Tensor v);

  // "Conv 'conv1'" for error messages.
  std::string Describe() const;
};

struct ValueInfo {
  std::string name;
  TensorType type;
  std::string doc_string;
};

class Graph {
 public:
  std::string name;
  std::vector<ValueInfo> inputs;    // may include initializer names (ONNX IR < 4 style)
  std::vector<ValueInfo> outputs;
  std::unordered_map<std::string, Tensor> initializers;
  std::vector<std::string> initializer_order;  // for deterministic export
  std::unordered_map<std::string, TensorType> value_types;  // value_info + inferred types
  std::string doc_string;

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  std::vector<std::unique_ptr<Node>>& mutable_nodes() { return nodes_; }

  Node* AddNode(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                std::string name = "");
  // Inserts at position `index` in nodes().
  Node* InsertNode(size_t index, std::unique_ptr<Node> node);
  // Removes nodes for which pred(node) is true.
  template <typename Pred> void RemoveNodesIf(Pred pred);

  void AddInitializer(const std::string& name, Tensor t);
  bool IsInitializer(const std::string& name) const { return initializers.count(name) != 0; }
  const Tensor* FindInitializer(const std::string& name) const;
  void RemoveInitializer(const std::string& name);
  // True if `name` is a real graph input (not one that merely shadows an initializer).
  bool IsGraphInput(const std::string& name) const;
  bool IsGraphOutput(const std::string& name) const;

  // Producer index: value name -> (node, output index). Rebuilt on demand.
  std::unordered_map<std::string, std::pair<Node*, int>> BuildProducerMap() const;
  // Consumer counts: value name -> number of node inputs + graph outputs reading it.
  std::unordered_map<std::string, int> BuildUseCounts() const;

  // Orders nodes so every node follows its producers. Error names a node on a cycle or
  // reading an undefined value. `outer_scope` names values visible from an enclosing graph.
  Status TopologicalSort(const std::vector<std::string>& outer_scope = {});

  // A fresh name "<base>", "<base>_1", ... not used by any value or node.
  std::string UniqueName(const std::string& base);

  // Deep copy (tensors shared: they are immutable by convention once in a graph).
  std::unique_ptr<Graph> Clone() const;

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  uint64_t unique_counter_ = 0;
};

template <typename Pred>
void Graph::RemoveNodesIf(Pred pred) {
  std::vector<std::unique_ptr<Node>> kept;
  kept.reserve(nodes_.size());
  for (auto& n : nodes_)
    if (!pred(*n)) kept.push_back(std::move(n));
  nodes_ = std::move(kept);
}

struct OpsetImport {
  std::string domain;  // "" = ai.onnx
  int64_t version = 0;
};

class Model {
 public:
  int64_t ir_version = 8;
  std::vector<OpsetImport> opset_imports;
  std::string producer_name = "greenai";
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc_string;
  std::vector<std::pair<std::string, std::string>> metadata;
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();

  // Opset version of `domain` ("" and "ai.onnx" are the same); 0 if not imported.
  int64_t OpsetFor(const std::string& domain) const;
  std::unique_ptr<Model> Clone() const;
};

}  // namespace greenai
