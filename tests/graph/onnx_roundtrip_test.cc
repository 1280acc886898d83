// Export: load -> serialize -> load keeps the whole IR (initializer bytes exactly) for every
// model of the ONNX backend test suite, and SaveModel is atomic.
#include <sys/resource.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "graph/onnx_io.h"
#include "test_util.h"

namespace greenai {
namespace {

constexpr const char* kSuite = "/usr/share/libonnx-testdata/data";

bool SameTensor(const Tensor& a, const Tensor& b, std::string* why) {
  if (a.defined() != b.defined() || a.dtype() != b.dtype() || a.shape() != b.shape()) {
    *why = fmt::format("{}{} vs {}{}", DTypeName(a.dtype()), ShapeToString(a.shape()), DTypeName(b.dtype()),
                       ShapeToString(b.shape()));
    return false;
  }
  if (!a.defined()) return true;
  if (a.dtype() == DType::kString) {
    for (int64_t i = 0; i < a.numel(); ++i)
      if (a.data<std::string>()[i] != b.data<std::string>()[i]) return *why = "string element differs", false;
    return true;
  }
  if (a.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) != 0) return *why = "bytes differ", false;
  return true;
}

bool SameType(const TensorType& a, const TensorType& b) {
  return a.dtype == b.dtype && a.has_shape == b.has_shape && a.dims == b.dims && a.dim_params == b.dim_params;
}

void ExpectSameGraph(const Graph& a, const Graph& b, const std::string& where);

void ExpectSameAttr(const Attribute& a, const Attribute& b, const std::string& where) {
  ASSERT_EQ(a.kind, b.kind) << where;
  std::string why;
  switch (a.kind) {
    case Attribute::Kind::kFloat: EXPECT_EQ(std::memcmp(&a.f, &b.f, 4), 0) << where; break;
    case Attribute::Kind::kInt: EXPECT_EQ(a.i, b.i) << where; break;
    case Attribute::Kind::kString: EXPECT_EQ(a.s, b.s) << where; break;
    case Attribute::Kind::kTensor: EXPECT_TRUE(SameTensor(a.t, b.t, &why)) << where << ": " << why; break;
    case Attribute::Kind::kGraph: ExpectSameGraph(*a.g, *b.g, where + "/" + a.g->name); break;
    case Attribute::Kind::kFloats:
      ASSERT_EQ(a.floats.size(), b.floats.size()) << where;
      if (!a.floats.empty()) {
        EXPECT_EQ(std::memcmp(a.floats.data(), b.floats.data(), a.floats.size() * 4), 0) << where;
      }
      break;
    case Attribute::Kind::kInts: EXPECT_EQ(a.ints, b.ints) << where; break;
    case Attribute::Kind::kStrings: EXPECT_EQ(a.strings, b.strings) << where; break;
    case Attribute::Kind::kTensors:
      ASSERT_EQ(a.tensors.size(), b.tensors.size()) << where;
      for (size_t i = 0; i < a.tensors.size(); ++i)
        EXPECT_TRUE(SameTensor(a.tensors[i], b.tensors[i], &why)) << where << ": " << why;
      break;
    case Attribute::Kind::kGraphs:
      ASSERT_EQ(a.graphs.size(), b.graphs.size()) << where;
      for (size_t i = 0; i < a.graphs.size(); ++i) ExpectSameGraph(*a.graphs[i], *b.graphs[i], where);
      break;
    case Attribute::Kind::kUndefined: break;
  }
}

void ExpectSameValues(const std::vector<ValueInfo>& a, const std::vector<ValueInfo>& b, const std::string& where) {
  ASSERT_EQ(a.size(), b.size()) << where;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name) << where;
    EXPECT_EQ(a[i].doc_string, b[i].doc_string) << where;
    EXPECT_TRUE(SameType(a[i].type, b[i].type)) << where << " " << a[i].name << ": " << a[i].type.ToString()
                                                << " vs " << b[i].type.ToString();
  }
}

void ExpectSameGraph(const Graph& a, const Graph& b, const std::string& where) {
  EXPECT_EQ(a.name, b.name) << where;
  EXPECT_EQ(a.doc_string, b.doc_string) << where;
  ExpectSameValues(a.inputs, b.inputs, where + " inputs");
  ExpectSameValues(a.outputs, b.outputs, where + " outputs");
  EXPECT_EQ(a.initializer_order, b.initializer_order) << where;
  ASSERT_EQ(a.initializers.size(), b.initializers.size()) << where;
  for (const auto& [k, t] : a.initializers) {
    ASSERT_TRUE(b.initializers.count(k)) << where << " initializer " << k;
    std::string why;
    EXPECT_TRUE(SameTensor(t, b.initializers.at(k), &why)) << where << " initializer " << k << ": " << why;
  }
  ASSERT_EQ(a.value_types.size(), b.value_types.size()) << where;
  for (const auto& [k, t] : a.value_types) {
    ASSERT_TRUE(b.value_types.count(k)) << where << " value_info " << k;
    EXPECT_TRUE(SameType(t, b.value_types.at(k))) << where << " value_info " << k;
  }
  ASSERT_EQ(a.nodes().size(), b.nodes().size()) << where;
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node& x = *a.nodes()[i];
    const Node& y = *b.nodes()[i];
    const std::string w = where + " " + x.Describe();
    EXPECT_EQ(x.name, y.name) << w;
    EXPECT_EQ(x.op_type, y.op_type) << w;
    EXPECT_EQ(x.domain, y.domain) << w;
    EXPECT_EQ(x.doc_string, y.doc_string) << w;
    EXPECT_EQ(x.inputs, y.inputs) << w;
    EXPECT_EQ(x.outputs, y.outputs) << w;
    ASSERT_EQ(x.attributes.size(), y.attributes.size()) << w;
    for (const auto& [k, at] : x.attributes) {
      ASSERT_TRUE(y.attributes.count(k)) << w << " attribute " << k;
      ExpectSameAttr(at, y.attributes.at(k), w + " attribute " + k);
    }
  }
}

void ExpectSameModel(const Model& a, const Model& b, const std::string& where) {
  EXPECT_EQ(a.ir_version, b.ir_version) << where;
  ASSERT_EQ(a.opset_imports.size(), b.opset_imports.size()) << where;
  for (size_t i = 0; i < a.opset_imports.size(); ++i) {
    EXPECT_EQ(a.opset_imports[i].domain, b.opset_imports[i].domain) << where;
    EXPECT_EQ(a.opset_imports[i].version, b.opset_imports[i].version) << where;
  }
  EXPECT_EQ(a.producer_name, b.producer_name) << where;
  EXPECT_EQ(a.producer_version, b.producer_version) << where;
  EXPECT_EQ(a.domain, b.domain) << where;
  EXPECT_EQ(a.model_version, b.model_version) << where;
  EXPECT_EQ(a.doc_string, b.doc_string) << where;
  EXPECT_EQ(a.metadata, b.metadata) << where;
  ExpectSameGraph(*a.graph, *b.graph, where);
}

TEST(OnnxRoundTrip, EverySuiteModel) {
  if (!std::filesystem::exists(kSuite)) GTEST_SKIP() << "ONNX test data not installed at " << kSuite;
  int loaded = 0, unsupported = 0, with_initializers = 0, with_subgraphs = 0;
  for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"}) {
    for (const auto& e : std::filesystem::directory_iterator(std::string(kSuite) + "/" + folder)) {
      std::string path = (e.path() / "model.onnx").string();
      if (!std::filesystem::exists(path)) continue;
      auto m = LoadModel(path);
      if (!m.ok()) {
        // Only "valid but unsupported" is acceptable for the official suite.
        EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented) << m.status().ToString();
        ++unsupported;
        continue;
      }
      ++loaded;
      with_initializers += !(*m)->graph->initializers.empty();
      for (const auto& n : (*m)->graph->nodes())
        for (const auto& [k, a] : n->attributes) with_subgraphs += a.g != nullptr;
      auto bytes = SerializeModel(**m);
      ASSERT_TRUE(bytes.ok()) << path << ": " << bytes.status().ToString();
      auto m2 = LoadModelFromBytes(*bytes, e.path().string());
      ASSERT_TRUE(m2.ok()) << path << ": " << m2.status().ToString();
      ExpectSameModel(**m, **m2, path);
      // Export is deterministic: serializing the reloaded model gives the same bytes.
      auto bytes2 = SerializeModel(**m2);
      ASSERT_TRUE(bytes2.ok());
      EXPECT_EQ(*bytes, *bytes2) << path;
    }
  }
  // ONNX 1.12's suite: 1072 models; only test_if_opt (TYPE_PROTO attribute) is unsupported.
  EXPECT_GE(loaded, 1070);
  EXPECT_LE(unsupported, 2);
  EXPECT_GT(with_initializers, 50);
  EXPECT_GT(with_subgraphs, 5);
  RecordProperty("loaded", loaded);
}

std::unique_ptr<Model> TinyModel(int64_t n_weights) {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 13});
  Graph& g = *m->graph;
  g.name = "tiny";
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {n_weights}), ""});
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {n_weights}), ""});
  std::vector<float> w(static_cast<size_t>(n_weights));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i) * 0.25f;
  g.AddInitializer("w", Tensor::FromVector<float>({n_weights}, w));
  g.AddNode("Add", {"x", "w"}, {"y"}, "add");
  return m;
}

TEST(OnnxSave, WritesAndReloads) {
  testutil::TempDir dir;
  auto m = TinyModel(5);
  ASSERT_TRUE(SaveModel(*m, dir / "t.onnx").ok());
  auto r = LoadModel(dir / "t.onnx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameModel(*m, **r, "tiny");
  EXPECT_EQ((*r)->graph->FindInitializer("w")->data<float>()[4], 1.0f);
}

TEST(OnnxSave, FailedSaveLeavesOldFileIntact) {
  testutil::TempDir dir;
  const std::string path = dir / "m.onnx";
  ASSERT_TRUE(SaveModel(*TinyModel(4), path).ok());
  const std::string before = testutil::ReadBytes(path);
  ASSERT_FALSE(before.empty());

  // 1) A model that cannot be exported: nothing is written at all.
  auto bad = TinyModel(4);
  Attribute a;
  a.name = "broken";  // kind stays kUndefined
  bad->graph->mutable_nodes()[0]->attributes["broken"] = a;
  Status s1 = SaveModel(*bad, path);
  EXPECT_FALSE(s1.ok());
  EXPECT_NE(s1.message().find("attribute 'broken' has kind undefined"), std::string::npos) << s1.message();
  EXPECT_EQ(testutil::ReadBytes(path), before);

  // 2) The write itself fails half way (file size limit => EFBIG, like a full disk).
  struct rlimit old {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  auto prev = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s2 = SaveModel(*TinyModel(100000), path);  // ~400 KB
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, prev);
  EXPECT_FALSE(s2.ok());
  EXPECT_EQ(s2.code(), StatusCode::kResourceExhausted) << s2.ToString();
  EXPECT_NE(s2.message().find(path), std::string::npos) << s2.message();
  EXPECT_EQ(testutil::ReadBytes(path), before);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 1) << "temp file left behind";
}

}  // namespace
}  // namespace greenai
