// FindRegressions / BaselineFromReport on hand-made reports.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/conformance.h"

namespace greenai::conformance {
namespace {

Report MakeReport(bool filtered) {
  Report r;
  r.filtered = filtered;
  SuiteSummary s;
  s.name = "node";
  s.passed = 1;
  s.failed = 1;
  s.unsupported = 1;
  s.total = 3;
  s.passed_tests = {"test_a"};
  s.failed_tests = {"test_b"};
  s.unsupported_tests = {"test_c"};
  r.suites.push_back(s);
  r.results = {{"node", "test_a", Outcome::kPassed, "", 0},
               {"node", "test_b", Outcome::kFailed, "output 0 'y': mismatch", 0},
               {"node", "test_c", Outcome::kUnsupported, "no kernel", 0}};
  return r;
}

TEST(Baseline, NoRegressionWhenBaselinePassesStillPass) {
  auto regs = FindRegressions(MakeReport(false), R"({"suites": {"node": {"min_passed": 1, "passed_tests": ["test_a"]}}})");
  ASSERT_TRUE(regs.ok()) << regs.status().ToString();
  EXPECT_TRUE(regs->empty());
}

TEST(Baseline, EveryLostPassIsNamed) {
  auto regs = FindRegressions(MakeReport(false),
                              R"({"suites": {"node": {"min_passed": 3, "passed_tests": ["test_a", "test_b", "test_c", "test_gone"]}}})");
  ASSERT_TRUE(regs.ok());
  ASSERT_EQ(regs->size(), 4u);  // test_b, test_c, test_gone, and the count 1 < 3
  EXPECT_NE((*regs)[0].find("node/test_b: passed in the baseline, now failed: output 0 'y': mismatch"), std::string::npos)
      << (*regs)[0];
  EXPECT_NE((*regs)[1].find("node/test_c"), std::string::npos);
  EXPECT_NE((*regs)[2].find("node/test_gone"), std::string::npos);
  EXPECT_NE((*regs)[3].find("1 tests passed, baseline minimum is 3"), std::string::npos) << (*regs)[3];
}

TEST(Baseline, FilteredRunsIgnoreUnrunTestsAndCounts) {
  auto regs = FindRegressions(MakeReport(true),
                              R"({"suites": {"node": {"min_passed": 9, "passed_tests": ["test_a", "test_gone"]}}})");
  ASSERT_TRUE(regs.ok());
  EXPECT_TRUE(regs->empty());
}

TEST(Baseline, MalformedBaselineIsAnError) {
  EXPECT_FALSE(FindRegressions(MakeReport(false), "not json").ok());
  EXPECT_FALSE(FindRegressions(MakeReport(false), R"({"suites": []})").ok());
  EXPECT_FALSE(FindRegressions(MakeReport(false), R"({"suites": {"node": {"passed_tests": [1]}}})").ok());
}

TEST(Baseline, RoundTripFromReportHasNoRegression) {
  Report r = MakeReport(false);
  const std::string text = BaselineFromReport(r);
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["suites"]["node"]["min_passed"].get<int>(), 1);
  EXPECT_EQ(j["suites"]["node"]["passed_tests"], nlohmann::json::array({"test_a"}));
  auto regs = FindRegressions(r, text);
  ASSERT_TRUE(regs.ok());
  EXPECT_TRUE(regs->empty());
}

TEST(Baseline, ReportJsonHasExactlyTheDocumentedKeys) {
  auto j = nlohmann::json::parse(ReportToJson(MakeReport(false)));
  ASSERT_EQ(j.size(), 1u);
  const auto& node = j["suites"]["node"];
  EXPECT_EQ(node.size(), 6u);
  EXPECT_EQ(node["passed"], 1);
  EXPECT_EQ(node["failed"], 1);
  EXPECT_EQ(node["unsupported"], 1);
  EXPECT_EQ(node["total"], 3);
  EXPECT_EQ(node["failed_tests"], nlohmann::json::array({"test_b"}));
  EXPECT_EQ(node["unsupported_tests"], nlohmann::json::array({"test_c"}));
}

}  // namespace
}  // namespace greenai::conformance
