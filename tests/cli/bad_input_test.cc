// Bad input through the greenai binary: every case must end with exactly one stderr line
// "greenai <cmd>: <message>" naming the offending thing, a non-zero exit, and no signal.
// The hostile models are built here with the ONNX protobuf classes (no checked-in binaries).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "cli_test_util.h"
#include "core/npy.h"

namespace greenai {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::RunGreenai;

void SetType(onnx::ValueInfoProto* vi, const std::string& name, int elem, const std::vector<int64_t>& dims) {
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

onnx::ModelProto BaseModel() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("greenai-test");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  m.mutable_graph()->set_name("g");
  return m;
}

// y = Relu(x) with x, y float[2, 3], plus a 64-float initializer feeding nothing (for size).
onnx::ModelProto ValidModel() {
  onnx::ModelProto m = BaseModel();
  auto* g = m.mutable_graph();
  SetType(g->add_input(), "x", onnx::TensorProto::FLOAT, {2, 3});
  SetType(g->add_output(), "y", onnx::TensorProto::FLOAT, {2, 3});
  auto* n = g->add_node();
  n->set_op_type("Relu");
  n->set_name("relu1");
  n->add_input("x");
  n->add_output("y");
  auto* w = g->add_initializer();
  w->set_name("unused_w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(64);
  for (int i = 0; i < 64; ++i) w->add_float_data(static_cast<float>(i));
  return m;
}

void WriteBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

fs::path WriteModel(const fs::path& dir, const std::string& name, const onnx::ModelProto& m) {
  std::string bytes;
  EXPECT_TRUE(m.SerializeToString(&bytes));
  const fs::path p = dir / name;
  WriteBytes(p, bytes);
  return p;
}

fs::path WriteNpy(const fs::path& dir, const std::string& name, const Tensor& t) {
  const fs::path p = dir / name;
  Status st = SaveNpy(t, p.string());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return p;
}

// The common contract of every bad-input case; returns the message after the prefix.
std::string ExpectOneLineError(const CliResult& r, const std::string& cmd) {
  std::cout << "[ stderr   ] " << r.err;  // the message a user sees, for review in test logs
  EXPECT_FALSE(r.signaled) << "killed by signal " << r.signal << "; stderr: " << r.err;
  EXPECT_NE(r.exit_code, 0) << "stderr: " << r.err;
  EXPECT_EQ(testing::CountLines(r.err), 1) << "stderr: " << r.err;
  const std::string prefix = "greenai " + cmd + ": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "stderr: " << r.err;
  EXPECT_TRUE(r.out.empty()) << "stdout: " << r.out;
  return r.err.size() > prefix.size() ? r.err.substr(prefix.size()) : "";
}

bool ContainsI(const std::string& hay, const std::string& pattern) {
  return std::regex_search(hay, std::regex(pattern, std::regex::icase));
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::ScratchDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BadInput, TruncatedModelFile) {
  std::string bytes;
  ASSERT_TRUE(ValidModel().SerializeToString(&bytes));
  WriteBytes(dir_ / "truncated.onnx", bytes.substr(0, bytes.size() / 2));
  const std::string msg = ExpectOneLineError(RunGreenai({"info", (dir_ / "truncated.onnx").string()}, dir_), "info");
  EXPECT_NE(msg.find("truncated.onnx"), std::string::npos) << msg;
}

TEST_F(BadInput, CorruptBytes) {
  std::string bytes;
  ASSERT_TRUE(ValidModel().SerializeToString(&bytes));
  // Eleven 0xFF bytes: a varint longer than protobuf's 10-byte maximum, so no parser can accept it.
  for (size_t i = 0; i < 11 && i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xFF);
  WriteBytes(dir_ / "corrupt.onnx", bytes);
  const std::string msg = ExpectOneLineError(RunGreenai({"info", (dir_ / "corrupt.onnx").string()}, dir_), "info");
  EXPECT_NE(msg.find("corrupt.onnx"), std::string::npos) << msg;
}

TEST_F(BadInput, NodeWithWrongArity) {
  onnx::ModelProto m = BaseModel();
  auto* g = m.mutable_graph();
  SetType(g->add_input(), "a", onnx::TensorProto::FLOAT, {2, 3});
  SetType(g->add_output(), "y", onnx::TensorProto::FLOAT, {2, 3});
  auto* n = g->add_node();
  n->set_op_type("Add");  // Add needs exactly 2 inputs
  n->set_name("add_one_input");
  n->add_input("a");
  n->add_output("y");
  const auto model = WriteModel(dir_, "arity.onnx", m);
  const auto a = WriteNpy(dir_, "a.npy", Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6}));
  const std::string msg =
      ExpectOneLineError(RunGreenai({"run", model.string(), "--input", "a=" + a.string()}, dir_), "run");
  EXPECT_NE(msg.find("add_one_input"), std::string::npos) << msg;
  EXPECT_TRUE(ContainsI(msg, "input")) << msg;
}

TEST_F(BadInput, UnknownOp) {
  onnx::ModelProto m = BaseModel();
  auto* g = m.mutable_graph();
  SetType(g->add_input(), "x", onnx::TensorProto::FLOAT, {2});
  SetType(g->add_output(), "y", onnx::TensorProto::FLOAT, {2});
  auto* n = g->add_node();
  n->set_op_type("FrobnicateXyz");
  n->set_name("frob1");
  n->add_input("x");
  n->add_output("y");
  const auto model = WriteModel(dir_, "unknown_op.onnx", m);
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<float>({2}, {1, 2}));
  const std::string msg =
      ExpectOneLineError(RunGreenai({"run", model.string(), "--input", "x=" + x.string()}, dir_), "run");
  EXPECT_NE(msg.find("FrobnicateXyz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("frob1"), std::string::npos) << msg;

  // info still describes the model and lists the op as unsupported (exit 0).
  CliResult info = RunGreenai({"info", model.string(), "--json"}, dir_);
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("\"unsupported_ops\""), std::string::npos);
  EXPECT_NE(info.out.find("FrobnicateXyz"), std::string::npos) << info.out;
}

TEST_F(BadInput, MismatchedShapes) {
  onnx::ModelProto m = BaseModel();
  auto* g = m.mutable_graph();
  SetType(g->add_input(), "a", onnx::TensorProto::FLOAT, {2, 3});
  SetType(g->add_input(), "b", onnx::TensorProto::FLOAT, {4, 5});
  SetType(g->add_output(), "y", onnx::TensorProto::FLOAT, {});
  g->mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  auto* n = g->add_node();
  n->set_op_type("Add");
  n->set_name("add_mismatch");
  n->add_input("a");
  n->add_input("b");
  n->add_output("y");
  const auto model = WriteModel(dir_, "shapes.onnx", m);
  const auto a = WriteNpy(dir_, "a.npy", Tensor::FromVector<float>({2, 3}, std::vector<float>(6, 1.0f)));
  const auto b = WriteNpy(dir_, "b.npy", Tensor::FromVector<float>({4, 5}, std::vector<float>(20, 1.0f)));
  const std::string msg = ExpectOneLineError(
      RunGreenai({"run", model.string(), "--input", "a=" + a.string(), "--input", "b=" + b.string()}, dir_), "run");
  EXPECT_NE(msg.find("add_mismatch"), std::string::npos) << msg;
  EXPECT_TRUE(ContainsI(msg, "broadcast")) << msg;
}

TEST_F(BadInput, TensorDeclaring2Pow40Elements) {
  onnx::ModelProto m = ValidModel();
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name("huge_w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(int64_t{1} << 20);
  w->add_dims(int64_t{1} << 20);
  w->set_raw_data(std::string(16, '\0'));
  const auto model = WriteModel(dir_, "huge.onnx", m);
  const std::string msg = ExpectOneLineError(RunGreenai({"info", model.string()}, dir_), "info");
  EXPECT_NE(msg.find("huge_w"), std::string::npos) << msg;
}

TEST_F(BadInput, MissingExternalDataFile) {
  onnx::ModelProto m = ValidModel();
  auto* w = m.mutable_graph()->add_initializer();
  w->set_name("ext_w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("missing_weights.bin");
  const auto model = WriteModel(dir_, "external.onnx", m);
  const std::string msg = ExpectOneLineError(RunGreenai({"info", model.string()}, dir_), "info");
  EXPECT_NE(msg.find("missing_weights.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ext_w"), std::string::npos) << msg;
}

TEST_F(BadInput, MissingModelFile) {
  const std::string msg =
      ExpectOneLineError(RunGreenai({"info", (dir_ / "no_such_model.onnx").string()}, dir_), "info");
  EXPECT_NE(msg.find("no_such_model.onnx"), std::string::npos) << msg;
}

// greenai run's own input checks, on a valid Relu model.
class RunInputs : public BadInput {
 protected:
  void SetUp() override {
    BadInput::SetUp();
    model_ = WriteModel(dir_, "relu.onnx", ValidModel()).string();
  }
  std::string model_;
};

TEST_F(RunInputs, MissingInput) {
  const std::string msg = ExpectOneLineError(RunGreenai({"run", model_}, dir_), "run");
  EXPECT_NE(msg.find("missing input 'x'"), std::string::npos) << msg;
}

TEST_F(RunInputs, UnknownInputName) {
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<float>({2, 3}, std::vector<float>(6, 1.0f)));
  const std::string msg = ExpectOneLineError(
      RunGreenai({"run", model_, "--input", "x=" + x.string(), "--input", "bogus=" + x.string()}, dir_), "run");
  EXPECT_NE(msg.find("unknown input 'bogus'"), std::string::npos) << msg;
}

TEST_F(RunInputs, WrongDType) {
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<int32_t>({2, 3}, std::vector<int32_t>(6, 1)));
  const std::string msg = ExpectOneLineError(RunGreenai({"run", model_, "--input", "x=" + x.string()}, dir_), "run");
  EXPECT_NE(msg.find("input 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("int32"), std::string::npos) << msg;
}

TEST_F(RunInputs, WrongShape) {
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<float>({3, 2}, std::vector<float>(6, 1.0f)));
  const std::string msg = ExpectOneLineError(RunGreenai({"run", model_, "--input", "x=" + x.string()}, dir_), "run");
  EXPECT_NE(msg.find("input 'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3, 2]"), std::string::npos) << msg;
}

TEST_F(RunInputs, MalformedInputArgumentAndMissingFile) {
  std::string msg = ExpectOneLineError(RunGreenai({"run", model_, "--input", "x"}, dir_), "run");
  EXPECT_NE(msg.find("NAME=FILE"), std::string::npos) << msg;
  msg = ExpectOneLineError(RunGreenai({"run", model_, "--input", "x=" + (dir_ / "nope.npy").string()}, dir_), "run");
  EXPECT_NE(msg.find("nope.npy"), std::string::npos) << msg;
  msg = ExpectOneLineError(RunGreenai({"run", model_, "--input", "x=" + (dir_ / "x.txt").string()}, dir_), "run");
  EXPECT_NE(msg.find("x.txt"), std::string::npos) << msg;
}

TEST_F(RunInputs, ValidRunWritesOutputs) {
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<float>({2, 3}, {-1, 2, -3, 4, -5, 6}));
  CliResult r = RunGreenai(
      {"run", model_, "--input", "x=" + x.string(), "--output-dir", (dir_ / "out").string(), "--profile"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("latency:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("relu1"), std::string::npos) << r.out;  // the profile table names the node
  auto y = LoadNpy((dir_ / "out" / "y.npy").string());
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  ASSERT_EQ(y->shape(), (Shape{2, 3}));
  const std::vector<float> want = {0, 2, 0, 4, 0, 6};  // relu by hand
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y->data<float>()[i], want[static_cast<size_t>(i)]) << i;
}

// Warm-up runs are neither timed nor profiled: with --warmup 2 --repeat 3 every profiled node
// counts 3 calls, not 5.
TEST_F(RunInputs, WarmupRunsAreNotProfiled) {
  const auto x = WriteNpy(dir_, "x.npy", Tensor::FromVector<float>({2, 3}, {-1, 2, -3, 4, -5, 6}));
  CliResult r = RunGreenai(
      {"run", model_, "--input", "x=" + x.string(), "--warmup", "2", "--repeat", "3", "--profile", "--json"}, dir_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["warmup"], 2);
  EXPECT_EQ(j["repeat"], 3);
  ASSERT_FALSE(j["profile"].empty()) << r.out;
  for (const auto& row : j["profile"]) EXPECT_EQ(row["calls"], 3) << row.dump();
  r = RunGreenai({"run", model_, "--input", "x=" + x.string(), "--warmup", "-1"}, dir_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--warmup"), std::string::npos) << r.err;
}

TEST(ConformanceUsage, MissingDataFolderIsAUsageError) {
  auto dir = testing::ScratchDir("conformance_usage");
  CliResult r = RunGreenai({"conformance", (dir / "nope").string()}, dir);
  EXPECT_FALSE(r.signaled);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("greenai conformance: ", 0), 0u) << r.err;
  r = RunGreenai({"conformance", "--filter", "("}, dir);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--filter"), std::string::npos) << r.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace greenai
