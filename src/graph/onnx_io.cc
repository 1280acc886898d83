// ONNX import: ModelProto -> Model. Export lives in onnx_io_export.cc.
#include "graph/onnx_io.h"

#include <climits>
#include <filesystem>
#include <unordered_set>

#include <onnx/onnx_pb.h>

#include "core/file_util.h"

namespace greenai {
namespace onnx_internal {
// Defined in tensor_proto.cc (headers under src/ must not mention protobuf types).
Result<Tensor> TensorFromProto(const onnx::TensorProto& p, const std::string& base_dir);
Result<Tensor> SparseTensorToDense(const onnx::SparseTensorProto& sp, const std::string& base_dir);
Result<DType> DTypeFromOnnx(int32_t v, const std::string& what);
}  // namespace onnx_internal

namespace {

using onnx_internal::SparseTensorToDense;
using onnx_internal::TensorFromProto;

Status ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir, Graph* g);

Result<ValueInfo> ConvertValueInfo(const onnx::ValueInfoProto& vp, const std::string& role) {
  ValueInfo v;
  v.name = vp.name();
  v.doc_string = vp.doc_string();
  if (v.name.empty()) return InvalidArgument("{} has an empty name", role);
  const std::string label = role + " '" + v.name + "'";
  if (!vp.has_type() || !vp.type().has_tensor_type()) return v;  // untyped, or sequence/optional/map: see header
  const auto& tt = vp.type().tensor_type();
  if (tt.elem_type() != 0) {
    GREENAI_ASSIGN_OR_RETURN(v.type.dtype, onnx_internal::DTypeFromOnnx(tt.elem_type(), label));
  }
  if (!tt.has_shape()) return v;
  v.type.has_shape = true;
  bool any_param = false;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) return InvalidArgument("{}: dim {} is negative ({})", label, i, d.dim_value());
      v.type.dims.push_back(d.dim_value());
      v.type.dim_params.emplace_back();
    } else {
      v.type.dims.push_back(-1);
      v.type.dim_params.push_back(d.dim_param());
      any_param |= !d.dim_param().empty();
    }
  }
  if (!any_param) v.type.dim_params.clear();
  return v;
}

// ONNX before IR v3 could omit AttributeProto.type; infer it from the field that is set.
int InferAttrType(const onnx::AttributeProto& a) {
  using A = onnx::AttributeProto;
  if (a.type() != A::UNDEFINED) return a.type();
  if (a.has_f()) return A::FLOAT;
  if (a.has_i()) return A::INT;
  if (a.has_s()) return A::STRING;
  if (a.has_t()) return A::TENSOR;
  if (a.has_g()) return A::GRAPH;
  if (a.has_sparse_tensor()) return A::SPARSE_TENSOR;
  if (a.floats_size()) return A::FLOATS;
  if (a.ints_size()) return A::INTS;
  if (a.strings_size()) return A::STRINGS;
  if (a.tensors_size()) return A::TENSORS;
  if (a.graphs_size()) return A::GRAPHS;
  if (a.sparse_tensors_size()) return A::SPARSE_TENSORS;
  return A::UNDEFINED;
}

Result<std::shared_ptr<Graph>> ConvertSubgraph(const onnx::GraphProto& gp, const std::string& base_dir) {
  auto g = std::make_shared<Graph>();
  GREENAI_RETURN_IF_ERROR(ConvertGraph(gp, base_dir, g.get()));
  return g;
}

Status ConvertAttribute(const onnx::AttributeProto& ap, const std::string& base_dir, Attribute* a) {
  using A = onnx::AttributeProto;
  using K = Attribute::Kind;
  a->name = ap.name();
  if (!ap.ref_attr_name().empty())
    return Unimplemented("attribute '{}' refers to function attribute '{}' (only valid inside functions)", ap.name(),
                         ap.ref_attr_name());
  switch (InferAttrType(ap)) {
    case A::FLOAT: a->kind = K::kFloat; a->f = ap.f(); break;
    case A::INT: a->kind = K::kInt; a->i = ap.i(); break;
    case A::STRING: a->kind = K::kString; a->s = ap.s(); break;
    case A::TENSOR: {
      a->kind = K::kTensor;
      GREENAI_ASSIGN_OR_RETURN(a->t, TensorFromProto(ap.t(), base_dir));
      break;
    }
    case A::SPARSE_TENSOR: {  // densified: the IR has one tensor kind
      a->kind = K::kTensor;
      GREENAI_ASSIGN_OR_RETURN(a->t, SparseTensorToDense(ap.sparse_tensor(), base_dir));
      break;
    }
    case A::GRAPH: {
      a->kind = K::kGraph;
      GREENAI_ASSIGN_OR_RETURN(a->g, ConvertSubgraph(ap.g(), base_dir));
      break;
    }
    case A::FLOATS: a->kind = K::kFloats; a->floats.assign(ap.floats().begin(), ap.floats().end()); break;
    case A::INTS: a->kind = K::kInts; a->ints.assign(ap.ints().begin(), ap.ints().end()); break;
    case A::STRINGS: a->kind = K::kStrings; a->strings.assign(ap.strings().begin(), ap.strings().end()); break;
    case A::TENSORS:
      a->kind = K::kTensors;
      for (const auto& tp : ap.tensors()) {
        GREENAI_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(tp, base_dir));
        a->tensors.push_back(std::move(t));
      }
      break;
    case A::SPARSE_TENSORS:
      a->kind = K::kTensors;
      for (const auto& sp : ap.sparse_tensors()) {
        GREENAI_ASSIGN_OR_RETURN(Tensor t, SparseTensorToDense(sp, base_dir));
        a->tensors.push_back(std::move(t));
      }
      break;
    case A::GRAPHS:
      a->kind = K::kGraphs;
      for (const auto& gp : ap.graphs()) {
        GREENAI_ASSIGN_OR_RETURN(auto sg, ConvertSubgraph(gp, base_dir));
        a->graphs.push_back(std::move(sg));
      }
      break;
    case A::TYPE_PROTO:
    case A::TYPE_PROTOS:
      return Unimplemented("attribute '{}' has type TYPE_PROTO(S), which is not supported", ap.name());
    case A::UNDEFINED:
      return InvalidArgument("attribute '{}' has no type and no value", ap.name());
    default:
      return InvalidArgument("attribute '{}' has unknown type {}", ap.name(), static_cast<int>(ap.type()));
  }
  return Status::Ok();
}

Status ConvertNode(const onnx::NodeProto& np, const std::string& base_dir, Node* n) {
  n->name = np.name();
  n->op_type = np.op_type();
  n->domain = np.domain();
  n->doc_string = np.doc_string();
  n->inputs.assign(np.input().begin(), np.input().end());
  n->outputs.assign(np.output().begin(), np.output().end());
  if (n->op_type.empty()) return InvalidArgument("{}: node has an empty op_type", n->Describe());
  for (const auto& ap : np.attribute()) {
    if (ap.name().empty()) return InvalidArgument("{}: attribute with an empty name", n->Describe());
    if (n->attributes.count(ap.name()))
      return InvalidArgument("{}: attribute '{}' appears twice", n->Describe(), ap.name());
    Attribute a;
    Status st = ConvertAttribute(ap, base_dir, &a);
    if (!st.ok()) return st.WithContext(n->Describe());
    n->attributes.emplace(ap.name(), std::move(a));
  }
  return Status::Ok();
}

Status ConvertGraph(const onnx::GraphProto& gp, const std::string& base_dir, Graph* g) {
  g->name = gp.name();
  g->doc_string = gp.doc_string();
  const std::string gl = "graph '" + g->name + "'";
  for (const auto& tp : gp.initializer()) {
    if (tp.name().empty()) return InvalidArgument("{}: initializer with an empty name", gl);
    if (g->IsInitializer(tp.name())) return InvalidArgument("{}: initializer '{}' appears twice", gl, tp.name());
    auto t = TensorFromProto(tp, base_dir);
    if (!t.ok()) return t.status().WithContext("initializer");
    g->AddInitializer(tp.name(), std::move(t).value());
  }
  for (const auto& sp : gp.sparse_initializer()) {
    const std::string& nm = sp.values().name();
    if (nm.empty()) return InvalidArgument("{}: sparse_initializer with an empty name", gl);
    if (g->IsInitializer(nm)) return InvalidArgument("{}: initializer '{}' appears twice", gl, nm);
    auto t = SparseTensorToDense(sp, base_dir);
    if (!t.ok()) return t.status().WithContext("sparse_initializer");
    g->AddInitializer(nm, std::move(t).value());
  }
  std::unordered_set<std::string> defined;
  for (const auto& vp : gp.input()) {
    GREENAI_ASSIGN_OR_RETURN(ValueInfo v, ConvertValueInfo(vp, gl + " input"));
    if (!defined.insert(v.name).second) return InvalidArgument("{}: input '{}' appears twice", gl, v.name);
    g->inputs.push_back(std::move(v));
  }
  for (const auto& vp : gp.output()) {
    GREENAI_ASSIGN_OR_RETURN(ValueInfo v, ConvertValueInfo(vp, gl + " output"));
    g->outputs.push_back(std::move(v));
  }
  for (const auto& vp : gp.value_info()) {
    GREENAI_ASSIGN_OR_RETURN(ValueInfo v, ConvertValueInfo(vp, gl + " value_info"));
    g->value_types[v.name] = std::move(v.type);
  }
  for (const auto& [k, t] : g->initializers) defined.insert(k);
  for (const auto& np : gp.node()) {
    Node* n = g->AddNode("", {}, {});
    GREENAI_RETURN_IF_ERROR(ConvertNode(np, base_dir, n));
    for (const auto& o : n->outputs) {
      if (o.empty()) continue;
      if (!defined.insert(o).second)
        return InvalidArgument("{}: output '{}' is already defined (a graph input, initializer or another node's "
                               "output; values must be assigned once)", n->Describe(), o);
    }
  }
  return Status::Ok();
}

// Sorts `g` and, recursively, its subgraphs; a subgraph sees everything its parent graph defines.
Status SortGraph(Graph& g, const std::vector<std::string>& outer) {
  GREENAI_RETURN_IF_ERROR(g.TopologicalSort(outer));
  bool has_sub = false;
  for (const auto& n : g.nodes())
    for (const auto& [k, a] : n->attributes) has_sub |= a.g != nullptr || !a.graphs.empty();
  if (!has_sub) return Status::Ok();
  std::vector<std::string> scope = outer;
  for (const auto& v : g.inputs) scope.push_back(v.name);
  for (const auto& [k, t] : g.initializers) scope.push_back(k);
  for (const auto& n : g.nodes())
    for (const auto& o : n->outputs)
      if (!o.empty()) scope.push_back(o);
  for (const auto& n : g.nodes()) {
    for (const auto& [k, a] : n->attributes) {
      Status st;
      if (a.g) st = SortGraph(*a.g, scope);
      for (const auto& sg : a.graphs)
        if (st.ok()) st = SortGraph(*sg, scope);
      if (!st.ok()) return st.WithContext(n->Describe() + " attribute '" + k + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> LoadModelFromBytes(std::string_view bytes, const std::string& base_dir) {
  if (bytes.size() > static_cast<size_t>(INT_MAX))
    return Unimplemented("model is {} bytes, over the 2 GiB protobuf limit (use external data)", bytes.size());
  onnx::ModelProto mp;
  if (!mp.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return InvalidArgument("not a valid ONNX ModelProto: protobuf parse failed ({} bytes; truncated or corrupt)",
                           bytes.size());
  if (!mp.has_graph()) return InvalidArgument("ONNX model has no graph (empty or not an ONNX file)");
  auto m = std::make_unique<Model>();
  m->ir_version = mp.ir_version();
  for (const auto& o : mp.opset_import()) {
    if (o.version() < 0) return InvalidArgument("opset import '{}': negative version {}", o.domain(), o.version());
    m->opset_imports.push_back({o.domain(), o.version()});
  }
  m->producer_name = mp.producer_name();
  m->producer_version = mp.producer_version();
  m->domain = mp.domain();
  m->model_version = mp.model_version();
  m->doc_string = mp.doc_string();
  for (const auto& kv : mp.metadata_props()) m->metadata.emplace_back(kv.key(), kv.value());
  GREENAI_RETURN_IF_ERROR(ConvertGraph(mp.graph(), base_dir, m->graph.get()));
  GREENAI_RETURN_IF_ERROR(SortGraph(*m->graph, {}));
  // Subgraph outputs may name outer-scope values; the main graph's must be defined in it.
  const Graph& g = *m->graph;
  const auto producers = g.BuildProducerMap();
  for (const auto& o : g.outputs)
    if (!g.IsGraphInput(o.name) && !g.IsInitializer(o.name) && !producers.count(o.name))
      return InvalidArgument("graph '{}': output '{}' is not a graph input, initializer or output of any node",
                             g.name, o.name);
  return m;
}

Result<std::unique_ptr<Model>> LoadModel(const std::string& path) {
  auto bytes = ReadFileToString(path, static_cast<uint64_t>(INT_MAX));
  if (!bytes.ok()) return bytes.status();
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto m = LoadModelFromBytes(*bytes, dir.empty() ? "." : dir);
  if (!m.ok()) return m.status().WithContext("model '" + path + "'");
  return m;
}

}  // namespace greenai
