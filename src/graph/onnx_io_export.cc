// ONNX export: Model -> ModelProto bytes/file. Import lives in onnx_io.cc.
#include <algorithm>
#include <climits>

#include <onnx/onnx_pb.h>

#include "core/file_util.h"
#include "graph/onnx_io.h"

namespace greenai {
namespace onnx_internal {
// Defined in tensor_proto.cc (headers under src/ must not mention protobuf types).
Status TensorToProto(const Tensor& t, const std::string& name, onnx::TensorProto* p);
}  // namespace onnx_internal

namespace {

using onnx_internal::TensorToProto;

Status GraphToProto(const Graph& g, onnx::GraphProto* gp);

void TypeToProto(const TensorType& t, onnx::TypeProto* tp) {
  auto* tt = tp->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(t.dtype));
  if (!t.has_shape) return;
  auto* sh = tt->mutable_shape();
  for (size_t i = 0; i < t.dims.size(); ++i) {
    auto* d = sh->add_dim();
    if (i < t.dim_params.size() && !t.dim_params[i].empty()) d->set_dim_param(t.dim_params[i]);
    else if (t.dims[i] >= 0) d->set_dim_value(t.dims[i]);
  }
}

void ValueInfoToProto(const std::string& name, const TensorType& t, const std::string& doc,
                      onnx::ValueInfoProto* vp) {
  vp->set_name(name);
  if (!doc.empty()) vp->set_doc_string(doc);
  // An undefined, shapeless type is what import makes of "no type" (and of non-tensor types).
  if (t.dtype == DType::kUndefined && !t.has_shape) return;
  TypeToProto(t, vp->mutable_type());
}

Status AttributeToProto(const Attribute& a, const std::string& name, onnx::AttributeProto* ap) {
  using A = onnx::AttributeProto;
  using K = Attribute::Kind;
  ap->set_name(name);
  switch (a.kind) {
    case K::kFloat: ap->set_type(A::FLOAT); ap->set_f(a.f); break;
    case K::kInt: ap->set_type(A::INT); ap->set_i(a.i); break;
    case K::kString: ap->set_type(A::STRING); ap->set_s(a.s); break;
    case K::kTensor:
      ap->set_type(A::TENSOR);
      GREENAI_RETURN_IF_ERROR(TensorToProto(a.t, "", ap->mutable_t()));
      break;
    case K::kGraph:
      ap->set_type(A::GRAPH);
      if (!a.g) return InvalidArgument("attribute '{}': graph attribute holds no graph", name);
      GREENAI_RETURN_IF_ERROR(GraphToProto(*a.g, ap->mutable_g()));
      break;
    case K::kFloats: ap->set_type(A::FLOATS); for (float f : a.floats) ap->add_floats(f); break;
    case K::kInts: ap->set_type(A::INTS); for (int64_t i : a.ints) ap->add_ints(i); break;
    case K::kStrings: ap->set_type(A::STRINGS); for (const auto& s : a.strings) ap->add_strings(s); break;
    case K::kTensors:
      ap->set_type(A::TENSORS);
      for (const auto& t : a.tensors) GREENAI_RETURN_IF_ERROR(TensorToProto(t, "", ap->add_tensors()));
      break;
    case K::kGraphs:
      ap->set_type(A::GRAPHS);
      for (const auto& sg : a.graphs) {
        if (!sg) return InvalidArgument("attribute '{}': graphs attribute holds a null graph", name);
        GREENAI_RETURN_IF_ERROR(GraphToProto(*sg, ap->add_graphs()));
      }
      break;
    case K::kUndefined:
      return InvalidArgument("attribute '{}' has kind undefined and cannot be exported", name);
  }
  return Status::Ok();
}

Status GraphToProto(const Graph& g, onnx::GraphProto* gp) {
  gp->set_name(g.name);
  if (!g.doc_string.empty()) gp->set_doc_string(g.doc_string);
  for (const auto& n : g.nodes()) {
    auto* np = gp->add_node();
    np->set_op_type(n->op_type);
    if (!n->name.empty()) np->set_name(n->name);
    if (!n->domain.empty()) np->set_domain(n->domain);
    if (!n->doc_string.empty()) np->set_doc_string(n->doc_string);
    for (const auto& i : n->inputs) np->add_input(i);
    for (const auto& o : n->outputs) np->add_output(o);
    for (const auto& [k, a] : n->attributes) {
      Status st = AttributeToProto(a, k, np->add_attribute());
      if (!st.ok()) return st.WithContext(n->Describe());
    }
  }
  // initializer_order first (deterministic, as imported), then any stragglers sorted by name.
  std::vector<std::string> names;
  for (const auto& k : g.initializer_order)
    if (g.initializers.count(k) && std::find(names.begin(), names.end(), k) == names.end()) names.push_back(k);
  std::vector<std::string> rest;
  for (const auto& [k, t] : g.initializers)
    if (std::find(names.begin(), names.end(), k) == names.end()) rest.push_back(k);
  std::sort(rest.begin(), rest.end());
  names.insert(names.end(), rest.begin(), rest.end());
  for (const auto& k : names) {
    Status st = TensorToProto(g.initializers.at(k), k, gp->add_initializer());
    if (!st.ok()) return st.WithContext("graph '" + g.name + "' initializer");
  }
  for (const auto& v : g.inputs) ValueInfoToProto(v.name, v.type, v.doc_string, gp->add_input());
  for (const auto& v : g.outputs) ValueInfoToProto(v.name, v.type, v.doc_string, gp->add_output());
  std::vector<std::string> vnames;
  for (const auto& [k, t] : g.value_types) vnames.push_back(k);
  std::sort(vnames.begin(), vnames.end());
  for (const auto& k : vnames) ValueInfoToProto(k, g.value_types.at(k), "", gp->add_value_info());
  return Status::Ok();
}

}  // namespace

Result<std::string> SerializeModel(const Model& model) {
  onnx::ModelProto mp;
  mp.set_ir_version(model.ir_version);
  for (const auto& o : model.opset_imports) {
    auto* op = mp.add_opset_import();
    op->set_domain(o.domain);
    op->set_version(o.version);
  }
  if (!model.producer_name.empty()) mp.set_producer_name(model.producer_name);
  if (!model.producer_version.empty()) mp.set_producer_version(model.producer_version);
  if (!model.domain.empty()) mp.set_domain(model.domain);
  if (model.model_version != 0) mp.set_model_version(model.model_version);
  if (!model.doc_string.empty()) mp.set_doc_string(model.doc_string);
  for (const auto& [k, v] : model.metadata) {
    auto* kv = mp.add_metadata_props();
    kv->set_key(k);
    kv->set_value(v);
  }
  if (!model.graph) return InvalidArgument("model has no graph to export");
  GREENAI_RETURN_IF_ERROR(GraphToProto(*model.graph, mp.mutable_graph()));
  size_t size = mp.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX))
    return Unimplemented("model serializes to {} bytes, over the 2 GiB protobuf limit (external data export is "
                         "not implemented)", size);
  std::string out;
  if (!mp.SerializeToString(&out)) return Internal("protobuf serialization of the model failed");
  return out;
}

Status SaveModel(const Model& model, const std::string& path) {
  auto bytes = SerializeModel(model);
  if (!bytes.ok()) return bytes.status().WithContext("saving model '" + path + "'");
  return WriteFileAtomic(path, *bytes);
}

}  // namespace greenai
