// ONNX import: every field the IR holds, external data, sparse initializers, subgraphs, and one
// test per kind of hostile input with its error message checked. Models are built byte by byte
// with tests/graph/wire.h, independent of the generated protobuf code the loader uses.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "graph/onnx_io.h"
#include "test_util.h"
#include "wire.h"

namespace greenai {
namespace {

using namespace testwire;  // NOLINT
using testutil::TempDir;

std::string Raw(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// X[batch,3] x W[3,2] -> Y; Y + B -> Z; nodes listed in reverse order to exercise the sort.
Msg SmallGraph() {
  Msg w = TensorMsg("W", 1, {3, 2});
  for (float f : {1.f, 2.f, 3.f, 4.f, 5.f, 6.f}) w.Float(tensor::float_data, f);
  Msg b = TensorMsg("B", 1, {2});
  b.Bytes(tensor::raw_data, Raw({0.5f, -0.5f}));
  Msg add = NodeMsg("Add", {"Y", "B"}, {"Z"}, "add");
  Msg mm = NodeMsg("MatMul", {"X", "W"}, {"Y"}, "mm");
  Msg g;
  g.Sub(graph::node, add).Sub(graph::node, mm).Bytes(graph::name, "small");
  g.Sub(graph::initializer, w).Sub(graph::initializer, b);
  g.Sub(graph::input, ValueInfoMsg("X", 1, {-1, 3}, {"batch", ""}));
  g.Sub(graph::output, ValueInfoMsg("Z", 1, {-1, 2}, {"batch", ""}));
  g.Sub(graph::value_info, ValueInfoMsg("Y", 1, {-1, 2}));
  return g;
}

TEST(OnnxImport, FillsModelGraphTypesAndInitializers) {
  Msg op1, op2, meta;
  op1.Bytes(opset::domain, "").Varint(opset::version, 17);
  op2.Bytes(opset::domain, "com.example").Varint(opset::version, 2);
  meta.Bytes(kv::key, "author").Bytes(kv::value, "me");
  Msg m;
  m.Varint(model::ir_version, 7).Bytes(model::producer_name, "hand").Bytes(model::producer_version, "0.1");
  m.Bytes(model::domain, "org.test").Varint(model::model_version, 3).Bytes(model::doc_string, "doc");
  m.Sub(model::graph, SmallGraph()).Sub(model::opset_import, op1).Sub(model::opset_import, op2);
  m.Sub(model::metadata_props, meta);
  auto r = LoadModelFromBytes(m.b);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Model& model = **r;
  EXPECT_EQ(model.ir_version, 7);
  EXPECT_EQ(model.producer_name, "hand");
  EXPECT_EQ(model.producer_version, "0.1");
  EXPECT_EQ(model.domain, "org.test");
  EXPECT_EQ(model.model_version, 3);
  EXPECT_EQ(model.doc_string, "doc");
  EXPECT_EQ(model.OpsetFor(""), 17);
  EXPECT_EQ(model.OpsetFor("com.example"), 2);
  ASSERT_EQ(model.metadata.size(), 1u);
  EXPECT_EQ(model.metadata[0].second, "me");
  const Graph& g = *model.graph;
  EXPECT_EQ(g.name, "small");
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0].type.ToString(), "float32[batch, 3]");
  EXPECT_EQ(g.inputs[0].type.dims, (std::vector<int64_t>{-1, 3}));
  ASSERT_TRUE(g.value_types.count("Y"));
  EXPECT_EQ(g.value_types.at("Y").ToString(), "float32[?, 2]");
  EXPECT_TRUE(g.value_types.at("Y").dim_params.empty());
  const Tensor* w = g.FindInitializer("W");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape(), (Shape{3, 2}));
  EXPECT_EQ(w->data<float>()[5], 6.f);
  EXPECT_EQ(g.FindInitializer("B")->data<float>()[1], -0.5f);
  EXPECT_EQ(g.initializer_order, (std::vector<std::string>{"W", "B"}));
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.nodes()[0]->name, "mm");  // sorted: producer of Y first
  EXPECT_EQ(g.nodes()[1]->name, "add");
}

TEST(OnnxImport, ReadsEveryAttributeKindAndSubgraphs) {
  Msg t = TensorMsg("", 6, {2});
  t.Varint(tensor::int32_data, 9).Varint(tensor::int32_data, -10);
  Msg body;  // reads outer-scope 'X'
  body.Sub(graph::node, NodeMsg("Identity", {"X"}, {"inner"})).Bytes(graph::name, "body");
  body.Sub(graph::output, ValueInfoMsg("inner", 1, {3}));
  Msg n = NodeMsg("Foo", {"X"}, {"Y"}, "foo");
  n.Bytes(node::domain, "com.example").Bytes(node::doc_string, "node doc");
  auto add_attr = [&n](Msg a) { n.Sub(node::attribute, a); };
  Msg a;
  a = Msg(); a.Bytes(attr::name, "f").Float(attr::f, 1.5f).Varint(attr::type, attr_type::FLOAT); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "i").Varint(attr::i, -3).Varint(attr::type, attr_type::INT); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "s").Bytes(attr::s, "hi").Varint(attr::type, attr_type::STRING); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "t").Sub(attr::t, t).Varint(attr::type, attr_type::TENSOR); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "g").Sub(attr::g, body).Varint(attr::type, attr_type::GRAPH); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "fs").Float(attr::floats, 1.f).Float(attr::floats, 2.f)
                 .Varint(attr::type, attr_type::FLOATS); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "is").Varint(attr::ints, 4).Varint(attr::ints, 5).Varint(attr::ints, 6)
                 .Varint(attr::type, attr_type::INTS); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "ss").Bytes(attr::strings, "a").Bytes(attr::strings, "b")
                 .Varint(attr::type, attr_type::STRINGS); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "ts").Sub(attr::tensors, t).Varint(attr::type, attr_type::TENSORS); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "gs").Sub(attr::graphs, body).Varint(attr::type, attr_type::GRAPHS); add_attr(a);
  a = Msg(); a.Bytes(attr::name, "untyped").Varint(attr::i, 42); add_attr(a);  // pre-IR-v3: type omitted
  Msg g;
  g.Sub(graph::node, n).Sub(graph::input, ValueInfoMsg("X", 1, {3})).Sub(graph::output, ValueInfoMsg("Y", 1, {3}));
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Node& nd = *(*r)->graph->nodes()[0];
  EXPECT_EQ(nd.domain, "com.example");
  EXPECT_EQ(nd.doc_string, "node doc");
  EXPECT_EQ(nd.GetFloat("f", 0), 1.5f);
  EXPECT_EQ(nd.GetInt("i", 0), -3);
  EXPECT_EQ(nd.GetString("s", ""), "hi");
  ASSERT_NE(nd.GetTensor("t"), nullptr);
  EXPECT_EQ(nd.GetTensor("t")->dtype(), DType::kI32);
  EXPECT_EQ(nd.GetTensor("t")->data<int32_t>()[1], -10);
  EXPECT_EQ(nd.GetFloats("fs"), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(nd.GetInts("is"), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(nd.GetStrings("ss"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(nd.FindAttr("ts")->tensors.size(), 1u);
  EXPECT_EQ(nd.GetInt("untyped", 0), 42);
  const Attribute* ga = nd.FindAttr("g");
  ASSERT_TRUE(ga && ga->g);
  EXPECT_EQ(ga->g->name, "body");
  EXPECT_EQ(ga->g->nodes()[0]->op_type, "Identity");
  ASSERT_EQ(nd.FindAttr("gs")->graphs.size(), 1u);
}

TEST(OnnxImport, DensifiesSparseInitializers) {
  Msg vals = TensorMsg("S", 1, {2});
  vals.Bytes(tensor::raw_data, Raw({5.f, 7.f}));
  Msg idx = TensorMsg("", 7, {2});
  idx.Varint(tensor::int64_data, 1).Varint(tensor::int64_data, 10);  // linear indices into [3, 4]
  Msg sp;
  sp.Sub(sparse::values, vals).Sub(sparse::indices, idx).Varint(sparse::dims, 3).Varint(sparse::dims, 4);
  Msg g;
  g.Sub(graph::node, NodeMsg("Identity", {"S"}, {"Y"})).Sub(graph::output, ValueInfoMsg("Y", 1, {3, 4}));
  g.Sub(graph::sparse_initializer, sp);
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor* s = (*r)->graph->FindInitializer("S");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->shape(), (Shape{3, 4}));
  for (int64_t i = 0; i < 12; ++i)
    EXPECT_EQ(s->data<float>()[i], i == 1 ? 5.f : i == 10 ? 7.f : 0.f) << i;
}

// A model whose initializer W lives in `location` (relative to the model's folder).
std::string ExternalModel(const std::string& location, int64_t offset, int64_t length) {
  Msg w = TensorMsg("W", 1, {4});
  Msg e1, e2, e3;
  e1.Bytes(kv::key, "location").Bytes(kv::value, location);
  e2.Bytes(kv::key, "offset").Bytes(kv::value, std::to_string(offset));
  e3.Bytes(kv::key, "length").Bytes(kv::value, std::to_string(length));
  w.Sub(tensor::external_data, e1).Sub(tensor::external_data, e2).Sub(tensor::external_data, e3);
  w.Varint(tensor::data_location, 1);
  Msg g;
  g.Sub(graph::node, NodeMsg("Identity", {"W"}, {"Y"})).Sub(graph::output, ValueInfoMsg("Y", 1, {4}));
  g.Sub(graph::initializer, w);
  return ModelBytes(g);
}

TEST(OnnxImport, ReadsExternalDataRelativeToModelFolder) {
  TempDir dir;
  testutil::WriteBytes(dir / "weights.bin", std::string(8, 'x') + Raw({1.f, 2.f, 3.f, 4.f}));
  testutil::WriteBytes(dir / "m.onnx", ExternalModel("weights.bin", 8, 16));
  auto r = LoadModel(dir / "m.onnx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Tensor* w = (*r)->graph->FindInitializer("W");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data<float>()[0], 1.f);
  EXPECT_EQ(w->data<float>()[3], 4.f);
}

TEST(OnnxImportBad, MissingExternalDataFile) {
  TempDir dir;
  testutil::WriteBytes(dir / "m.onnx", ExternalModel("nope.bin", 0, 16));
  auto r = LoadModel(dir / "m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("tensor 'W': cannot open external data file 'nope.bin'"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, ShortExternalDataFile) {
  TempDir dir;
  testutil::WriteBytes(dir / "w.bin", Raw({1.f, 2.f}));
  testutil::WriteBytes(dir / "m.onnx", ExternalModel("w.bin", 0, 16));
  auto r = LoadModel(dir / "m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has 8 bytes, too short for 16 bytes at offset 0"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, ExternalDataEscapingTheFolder) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "sub");
  testutil::WriteBytes(dir / "secret.bin", Raw({1.f, 2.f, 3.f, 4.f}));
  testutil::WriteBytes(dir / "sub/m.onnx", ExternalModel("../secret.bin", 0, 16));
  auto r = LoadModel(dir / "sub/m.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'../secret.bin' escapes the model's folder"), std::string::npos)
      << r.status().message();
  testutil::WriteBytes(dir / "sub/abs.onnx", ExternalModel(dir / "secret.bin", 0, 16));
  auto r2 = LoadModel(dir / "sub/abs.onnx");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("is absolute"), std::string::npos) << r2.status().message();
  std::filesystem::create_symlink(dir.path() / "secret.bin", dir.path() / "sub/link.bin");
  testutil::WriteBytes(dir / "sub/link.onnx", ExternalModel("link.bin", 0, 16));
  auto r3 = LoadModel(dir / "sub/link.onnx");
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("resolves outside"), std::string::npos) << r3.status().message();
}

TEST(OnnxImportBad, TruncatedFile) {
  std::string bytes = ModelBytes(SmallGraph());
  auto r = LoadModelFromBytes(std::string_view(bytes).substr(0, bytes.size() / 2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("protobuf parse failed"), std::string::npos) << r.status().message();
}

TEST(OnnxImportBad, CorruptBytes) {
  std::string bytes = ModelBytes(SmallGraph());
  bytes[0] = static_cast<char>(0xff);  // wire type 7 does not exist
  auto r = LoadModelFromBytes(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a valid ONNX ModelProto"), std::string::npos) << r.status().message();
  auto r2 = LoadModelFromBytes("");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("has no graph"), std::string::npos) << r2.status().message();
}

Result<std::unique_ptr<Model>> WithInitializer(const Msg& t) {
  Msg g;
  g.Sub(graph::node, NodeMsg("Identity", {"T"}, {"Y"})).Sub(graph::output, ValueInfoMsg("Y", 1, {1}));
  g.Sub(graph::initializer, t);
  return LoadModelFromBytes(ModelBytes(g));
}

TEST(OnnxImportBad, HugeTensorIsRefusedBeforeAllocating) {
  Msg t = TensorMsg("T", 1, {int64_t{1} << 20, int64_t{1} << 20});  // 2^40 elements, no data
  auto r = WithInitializer(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("tensor 'T': shape [1048576, 1048576]: more than 2^34 elements"),
            std::string::npos) << r.status().message();
  // Within the element limit but with no bytes to back it: refused by the size check, not allocated.
  Msg t2 = TensorMsg("T", 1, {int64_t{1} << 33});
  auto r2 = WithInitializer(t2);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find("raw_data has 0 bytes but dims [8589934592] of float32 need 34359738368"),
            std::string::npos) << r2.status().message();
}

TEST(OnnxImportBad, RawDataSizeMismatch) {
  Msg t = TensorMsg("T", 1, {2, 2});
  t.Bytes(tensor::raw_data, std::string(12, '\0'));
  auto r = WithInitializer(t);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tensor 'T': raw_data has 12 bytes but dims [2, 2] of float32 need 16"),
            std::string::npos) << r.status().message();
}

TEST(OnnxImportBad, UnknownDtype) {
  Msg t = TensorMsg("T", 99, {1});
  t.Bytes(tensor::raw_data, std::string(4, '\0'));
  auto r = WithInitializer(t);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tensor 'T': unknown data_type 99"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, NegativeDim) {
  Msg t = TensorMsg("T", 1, {2, -3});
  auto r = WithInitializer(t);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tensor 'T': shape [2, -3]: dim 1 is negative (-3)"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, Cycle) {
  Msg g;
  g.Sub(graph::node, NodeMsg("Relu", {"b"}, {"a"}, "r1")).Sub(graph::node, NodeMsg("Relu", {"a"}, {"b"}, "r2"));
  g.Sub(graph::output, ValueInfoMsg("b", 1, {1}));
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Relu 'r1': graph has a cycle through this node"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, UndefinedInput) {
  Msg g;
  g.Sub(graph::node, NodeMsg("Relu", {"ghost"}, {"y"}, "r")).Sub(graph::output, ValueInfoMsg("y", 1, {1}));
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Relu 'r': input 'ghost' is not a graph input, initializer or output"),
            std::string::npos) << r.status().message();
}

TEST(OnnxImportBad, UndefinedGraphOutput) {
  Msg g;
  g.Sub(graph::input, ValueInfoMsg("x", 1, {1})).Bytes(graph::name, "main");
  g.Sub(graph::node, NodeMsg("Relu", {"x"}, {"y"}, "r")).Sub(graph::output, ValueInfoMsg("z", 1, {1}));
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("graph 'main': output 'z' is not a graph input, initializer or output"),
            std::string::npos) << r.status().message();
}

TEST(OnnxImportBad, ValueAssignedTwice) {
  Msg g;
  g.Sub(graph::input, ValueInfoMsg("x", 1, {1}));
  g.Sub(graph::node, NodeMsg("Relu", {"x"}, {"y"}, "r1")).Sub(graph::node, NodeMsg("Neg", {"x"}, {"y"}, "r2"));
  g.Sub(graph::output, ValueInfoMsg("y", 1, {1}));
  auto r = LoadModelFromBytes(ModelBytes(g));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Neg 'r2': output 'y' is already defined"), std::string::npos)
      << r.status().message();
}

TEST(OnnxImportBad, MissingFileNamesThePath) {
  auto r = LoadModel("/nonexistent/greenai/model.onnx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/greenai/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace greenai
