// A tiny protobuf wire-format writer for tests: builds ONNX messages (valid or hostile) by hand,
// independently of the generated protobuf code the loader uses. Field numbers are from
// onnx/onnx.proto (ONNX 1.12).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace greenai::testwire {

struct Msg {
  std::string b;
  void Tag(int field, int wire) { Raw(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      b.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    b.push_back(static_cast<char>(v));
  }
  Msg& Varint(int field, int64_t v) {
    Tag(field, 0);
    Raw(static_cast<uint64_t>(v));
    return *this;
  }
  Msg& Bytes(int field, std::string_view s) {
    Tag(field, 2);
    Raw(s.size());
    b.append(s);
    return *this;
  }
  Msg& Sub(int field, const Msg& m) { return Bytes(field, m.b); }
  Msg& Float(int field, float f) {
    Tag(field, 5);
    char c[4];
    std::memcpy(c, &f, 4);
    b.append(c, 4);
    return *this;
  }
};

// Field numbers.
namespace model { enum { ir_version = 1, producer_name = 2, producer_version = 3, domain = 4, model_version = 5,
                         doc_string = 6, graph = 7, opset_import = 8, metadata_props = 14 }; }
namespace opset { enum { domain = 1, version = 2 }; }
namespace kv { enum { key = 1, value = 2 }; }
namespace graph { enum { node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12,
                         value_info = 13, sparse_initializer = 15 }; }
namespace node { enum { input = 1, output = 2, name = 3, op_type = 4, attribute = 5, doc_string = 6, domain = 7 }; }
namespace attr { enum { name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8, strings = 9,
                        tensors = 10, graphs = 11, type = 20, sparse_tensor = 22 }; }
namespace attr_type { enum { FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7,
                             STRINGS = 8, TENSORS = 9, GRAPHS = 10, SPARSE_TENSOR = 11 }; }
namespace tensor { enum { dims = 1, data_type = 2, float_data = 4, int32_data = 5, string_data = 6,
                          int64_data = 7, name = 8, raw_data = 9, double_data = 10, uint64_data = 11,
                          external_data = 13, data_location = 14 }; }
namespace sparse { enum { values = 1, indices = 2, dims = 3 }; }
namespace vi { enum { name = 1, type = 2 }; }
namespace type { enum { tensor_type = 1 }; }
namespace ttype { enum { elem_type = 1, shape = 2 }; }
namespace shape { enum { dim = 1 }; }
namespace dim { enum { dim_value = 1, dim_param = 2 }; }

inline Msg TensorMsg(const std::string& name, int dtype, std::initializer_list<int64_t> dims) {
  Msg t;
  for (int64_t d : dims) t.Varint(tensor::dims, d);
  t.Varint(tensor::data_type, dtype);
  t.Bytes(tensor::name, name);
  return t;
}
inline Msg ValueInfoMsg(const std::string& name, int dtype, std::initializer_list<int64_t> dims,
                        std::initializer_list<std::string> params = {}) {
  Msg sh;
  auto p = params.begin();
  for (int64_t d : dims) {
    Msg dm;
    if (p != params.end() && !p->empty()) dm.Bytes(dim::dim_param, *p);
    else if (d >= 0) dm.Varint(dim::dim_value, d);
    if (p != params.end()) ++p;
    sh.Sub(shape::dim, dm);
  }
  Msg tt;
  tt.Varint(ttype::elem_type, dtype).Sub(ttype::shape, sh);
  Msg ty;
  ty.Sub(type::tensor_type, tt);
  Msg v;
  v.Bytes(vi::name, name).Sub(vi::type, ty);
  return v;
}
inline Msg NodeMsg(const std::string& op, std::initializer_list<std::string> in, std::initializer_list<std::string> out,
                   const std::string& name = "") {
  Msg n;
  for (const auto& i : in) n.Bytes(node::input, i);
  for (const auto& o : out) n.Bytes(node::output, o);
  if (!name.empty()) n.Bytes(node::name, name);
  n.Bytes(node::op_type, op);
  return n;
}
inline std::string ModelBytes(const Msg& graph_msg, int64_t opset = 13) {
  Msg op;
  op.Bytes(opset::domain, "").Varint(opset::version, opset);
  Msg m;
  m.Varint(model::ir_version, 8).Sub(model::opset_import, op).Sub(model::graph, graph_msg);
  return m.b;
}

}  // namespace greenai::testwire
