// greenai info / run / conformance on models of the ONNX backend test suite, checked
// against independent oracles: node counts taken straight from the protobuf, and the
// suite's own expected output_0.pb.
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "bench/conformance.h"
#include "cli_test_util.h"
#include "core/npy.h"
#include "graph/tensor_proto.h"

namespace greenai {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::RunGreenai;

const fs::path kData = conformance::kDefaultDataDir;

void CountNodes(const onnx::GraphProto& g, std::map<std::string, int64_t>* hist) {
  for (const auto& n : g.node()) {
    const std::string d = n.domain() == "ai.onnx" ? "" : n.domain();
    (*hist)[d.empty() ? n.op_type() : d + "::" + n.op_type()]++;
    for (const auto& a : n.attribute()) {
      if (a.has_g()) CountNodes(a.g(), hist);
      for (const auto& sg : a.graphs()) CountNodes(sg, hist);
    }
  }
}

TEST(InfoOnSuite, OpHistogramMatchesProtobufCount) {
  const fs::path suite = kData / "pytorch-operator";
  if (!fs::is_directory(suite)) GTEST_SKIP() << suite << " not installed";
  auto scratch = testing::ScratchDir("info_suite");
  int checked = 0;
  std::vector<fs::path> tests;
  for (const auto& e : fs::directory_iterator(suite)) tests.push_back(e.path());
  std::sort(tests.begin(), tests.end());
  for (const auto& t : tests) {
    const fs::path model = t / "model.onnx";
    onnx::ModelProto proto;
    std::ifstream in(model, std::ios::binary);
    ASSERT_TRUE(proto.ParseFromIstream(&in)) << model;
    std::map<std::string, int64_t> want;
    CountNodes(proto.graph(), &want);

    CliResult r = RunGreenai({"info", model.string(), "--json"}, scratch);
    ASSERT_EQ(r.exit_code, 0) << model << ": " << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not one JSON object: " << r.out;
    std::map<std::string, int64_t> got;
    int64_t prev = INT64_MAX;
    for (const auto& e : j["op_histogram"]) {
      got[e["op"].get<std::string>()] = e["count"].get<int64_t>();
      EXPECT_LE(e["count"].get<int64_t>(), prev) << model << ": histogram not sorted by count";
      prev = e["count"].get<int64_t>();
    }
    EXPECT_EQ(got, want) << model;
    EXPECT_EQ(j["node_count"].get<int64_t>(), proto.graph().node_size()) << model;
    EXPECT_EQ(j["ir_version"].get<int64_t>(), proto.ir_version()) << model;
    int64_t params = 0;
    for (const auto& init : proto.graph().initializer()) {
      int64_t n = 1;
      for (auto d : init.dims()) n *= d;
      params += n;
    }
    EXPECT_EQ(j["parameter_count"].get<int64_t>(), params) << model;
    ++checked;
  }
  EXPECT_GT(checked, 10);
  fs::remove_all(scratch);
}

TEST(InfoOnSuite, HumanTableListsInputsAndOps) {
  const fs::path model = kData / "node" / "test_add" / "model.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << model << " not installed";
  auto scratch = testing::ScratchDir("info_human");
  CliResult r = RunGreenai({"info", model.string()}, scratch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("inputs (2):"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("float32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[3, 4, 5]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Add"), std::string::npos) << r.out;
  fs::remove_all(scratch);
}

// Runs `greenai run` on a suite test's data set 0 and compares every output with output_i.pb.
void RunSuiteModel(const fs::path& test_dir) {
  if (!fs::exists(test_dir / "model.onnx")) GTEST_SKIP() << test_dir << " not installed";
  auto scratch = testing::ScratchDir("run_" + test_dir.filename().string());
  onnx::ModelProto proto;
  std::ifstream in(test_dir / "model.onnx", std::ios::binary);
  ASSERT_TRUE(proto.ParseFromIstream(&in));
  std::vector<std::string> inits;
  for (const auto& i : proto.graph().initializer()) inits.push_back(i.name());
  std::vector<std::string> args = {"run", (test_dir / "model.onnx").string(), "--output-dir", (scratch / "out").string()};
  int idx = 0;
  for (const auto& vi : proto.graph().input()) {
    if (std::find(inits.begin(), inits.end(), vi.name()) != inits.end()) continue;
    const fs::path pb = test_dir / "test_data_set_0" / ("input_" + std::to_string(idx++) + ".pb");
    if (!fs::exists(pb)) break;
    args.push_back("--input");
    args.push_back(vi.name() + "=" + pb.string());
  }
  CliResult r = RunGreenai(args, scratch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (int i = 0; i < proto.graph().output_size(); ++i) {
    auto want = LoadTensorProtoFile((test_dir / "test_data_set_0" / ("output_" + std::to_string(i) + ".pb")).string());
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto got = LoadNpy((scratch / "out" / (proto.graph().output(i).name() + ".npy")).string());
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Status st = conformance::CompareTensors(*want, *got, proto.graph().output(i).name());
    EXPECT_TRUE(st.ok()) << st.message();
  }
  fs::remove_all(scratch);
}

TEST(RunOnSuite, ReluReproducesExpectedOutput) { RunSuiteModel(kData / "node" / "test_relu"); }
TEST(RunOnSuite, AddReproducesExpectedOutput) { RunSuiteModel(kData / "node" / "test_add"); }

TEST(ConformanceOnSuite, FilteredRunClassifiesAndWritesJson) {
  if (!fs::is_directory(kData / "node")) GTEST_SKIP();
  auto scratch = testing::ScratchDir("conf_json");
  const fs::path json = scratch / "report.json";
  CliResult r = RunGreenai({"conformance", "--filter", "^node/test_(relu|abs)$", "--json", json.string()}, scratch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("node: "), std::string::npos) << r.out;
  std::ifstream in(json);
  auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  const auto& node = j["suites"]["node"];
  EXPECT_EQ(node["total"].get<int>(), 2);
  EXPECT_EQ(node["passed"].get<int>() + node["failed"].get<int>() + node["unsupported"].get<int>(), 2);
  EXPECT_EQ(j["suites"].size(), 1u);  // suites with no selected test are left out of filtered runs
  fs::remove_all(scratch);
}

TEST(ConformanceBaseline, RegressionIsReportedAndExits1) {
  const fs::path dir = kData / "node" / "test_relu";
  if (!fs::exists(dir)) GTEST_SKIP();
  auto scratch = testing::ScratchDir("conf_baseline");
  // A baseline claiming a test that cannot pass: our own copy of test_relu with a wrong expected output.
  const fs::path root = scratch / "data";
  fs::create_directories(root / "node" / "test_relu_broken" / "test_data_set_0");
  fs::copy_file(dir / "model.onnx", root / "node" / "test_relu_broken" / "model.onnx");
  fs::copy_file(dir / "test_data_set_0" / "input_0.pb", root / "node" / "test_relu_broken" / "test_data_set_0" / "input_0.pb");
  auto want = LoadTensorProtoFile((dir / "test_data_set_0" / "output_0.pb").string());
  ASSERT_TRUE(want.ok());
  Tensor bad = want->Clone();
  bad.data<float>()[0] += 1.0f;
  ASSERT_TRUE(SaveTensorProtoFile(bad, "y", (root / "node" / "test_relu_broken" / "test_data_set_0" / "output_0.pb").string()).ok());
  std::ofstream(scratch / "baseline.json")
      << R"({"suites": {"node": {"min_passed": 1, "passed_tests": ["test_relu_broken"]}}})";
  CliResult r = RunGreenai({"conformance", root.string(), "--check-baseline", (scratch / "baseline.json").string()}, scratch);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("regression: node/test_relu_broken"), std::string::npos) << r.err;

  // The same run against an empty baseline has no regression.
  std::ofstream(scratch / "empty.json") << R"({"suites": {}})";
  r = RunGreenai({"conformance", root.string(), "--check-baseline", (scratch / "empty.json").string()}, scratch);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  fs::remove_all(scratch);
}

}  // namespace
}  // namespace greenai
