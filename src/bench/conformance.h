// ONNX backend test-suite runner, as a library (the `greenai conformance` command and
// tests call it).
//
// Layout it reads: <root>/<suite>/<test>/{model.onnx, test_data_set_N/{input_i.pb, output_i.pb}}
// for suites node, pytorch-converted, pytorch-operator and simple.
//
// Contract:
//  - Each test is classified as passed, failed or unsupported:
//      unsupported: any step returned StatusCode::kUnimplemented (an op with no OpDef or no
//                   kernel at Session::Create, a sequence/optional .pb, a feature a kernel
//                   declines at run time) -- never counted as passed;
//      failed:      any other error, or an output that does not match;
//      passed:      every data set's outputs match.
//  - Inputs input_<i>.pb (numeric order) bind in order to the graph's real inputs (graph
//    inputs that are not initializers); outputs output_<i>.pb compare in order with the
//    graph outputs.
//  - Comparison follows the ONNX backend runner (numpy.testing.assert_allclose): dtype and
//    shape exact; floats |actual - expected| <= atol + rtol * |expected| with NaN matching
//    NaN at the same position and infinities matching exactly; integers, bools and strings
//    exact. The suite stores bfloat16 data as UINT16 protos (the same bits); those are read as
//    bfloat16 where the graph input/output is bfloat16.
//  - One test's error never stops the run (errors and exceptions are caught per test); a
//    crash (signal) in a kernel still ends the process.
// Thread safety: functions are reentrant; RunConformance runs tests one after another.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace greenai::conformance {

inline constexpr const char* kDefaultDataDir = "/usr/share/libonnx-testdata/data";
// Suites in the order they are run and reported.
const std::vector<std::string>& SuiteNames();

struct CompareOptions {
  double rtol = 1e-3;
  double atol = 1e-7;
};

// OK when `actual` matches `expected` under the rules above; otherwise InvalidArgument
// naming `what` (e.g. "output 0 'y'"), the rule broken, the mismatch count and the first
// mismatching element.
Status CompareTensors(const Tensor& expected, const Tensor& actual, std::string_view what = "tensor",
                      const CompareOptions& opts = {});

enum class Outcome { kPassed, kFailed, kUnsupported };
const char* OutcomeName(Outcome o);

struct TestResult {
  std::string suite;
  std::string name;    // folder name, e.g. "test_abs"
  Outcome outcome = Outcome::kFailed;
  std::string reason;  // one line; empty when passed
  double seconds = 0;
};

struct TestOptions {
  int num_threads = 1;
  CompareOptions compare;
};

// Runs one test folder (holding model.onnx). Never throws.
TestResult RunTest(const std::string& test_dir, const TestOptions& opts = {});

struct SuiteSummary {
  std::string name;
  int passed = 0, failed = 0, unsupported = 0, total = 0;
  std::vector<std::string> failed_tests;       // sorted
  std::vector<std::string> unsupported_tests;  // sorted
  std::vector<std::string> passed_tests;       // sorted
};

struct Report {
  std::vector<SuiteSummary> suites;  // in SuiteNames() order, suites missing on disk omitted
  std::vector<TestResult> results;   // every test run, in run order
  bool filtered = false;             // a filter excluded some tests
};

struct RunOptions {
  std::string root = kDefaultDataDir;
  std::string filter;  // ECMAScript regex searched in "<suite>/<test>"; empty = all
  TestOptions test;
  // Called before each test (index from 0, total, suite, test) and once after the last one
  // with index == total.
  std::function<void(size_t, size_t, const std::string&, const std::string&)> progress;
};

// Lists tests, runs them, summarizes. Errors only for a bad root folder or filter regex.
Result<Report> RunConformance(const RunOptions& opts);

// {"suites": {"node": {"passed": P, "failed": F, "unsupported": U, "total": T,
//  "failed_tests": [...], "unsupported_tests": [...]}, ...}} (pretty-printed).
std::string ReportToJson(const Report& report);

// Baseline file: {"suites": {"node": {"min_passed": P, "passed_tests": [...]}, ...}}.
// A regression is a test listed as passed in the baseline that did not pass now (tests a
// filter excluded are not considered), or a suite with fewer passes than min_passed (only
// checked on unfiltered runs). Returns one line per regression; empty = none. Error when
// the baseline JSON is malformed.
Result<std::vector<std::string>> FindRegressions(const Report& report, std::string_view baseline_json);
// Baseline from a report: passed_tests = tests passing now, min_passed = their count.
std::string BaselineFromReport(const Report& report);

}  // namespace greenai::conformance
