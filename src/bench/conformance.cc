#include "bench/conformance.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "graph/onnx_io.h"
#include "graph/tensor_proto.h"
#include "runtime/session.h"

namespace greenai::conformance {

namespace fs = std::filesystem;

const std::vector<std::string>& SuiteNames() {
  static const std::vector<std::string> kSuites = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  return kSuites;
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPassed: return "passed";
    case Outcome::kFailed: return "failed";
    case Outcome::kUnsupported: return "unsupported";
  }
  return "?";
}

namespace {

template <typename T>
double ToDouble(T x) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return static_cast<double>(static_cast<float>(x));
  } else {
    return static_cast<double>(x);
  }
}

// Element i of a numeric tensor as double; half types go through float.
double ElementAsDouble(const Tensor& t, int64_t i) {
  double v = 0;
  GREENAI_DISPATCH_NUMERIC(t.dtype(), T, { v = ToDouble(t.data<T>()[i]); });
  return v;
}

// Exact equality of element i, by value for bools and strings, by bytes for the rest
// (so int64 values beyond 2^53 are compared exactly).
bool ElementsEqualExact(const Tensor& a, const Tensor& b, int64_t i) {
  if (a.dtype() == DType::kString) return a.data<std::string>()[i] == b.data<std::string>()[i];
  if (a.dtype() == DType::kBool) return a.data<bool>()[i] == b.data<bool>()[i];
  const size_t sz = DTypeSize(a.dtype());
  return std::memcmp(static_cast<const char*>(a.raw()) + i * sz, static_cast<const char*>(b.raw()) + i * sz,
                     sz) == 0;
}

std::string ElementToString(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::kString) return "\"" + t.data<std::string>()[i] + "\"";
  if (IsFloatDType(t.dtype())) return fmt::format("{:.9g}", ElementAsDouble(t, i));
  if (t.dtype() == DType::kU64) return fmt::format("{}", t.data<uint64_t>()[i]);
  if (t.dtype() == DType::kI64) return fmt::format("{}", t.data<int64_t>()[i]);
  return fmt::format("{}", ElementAsDouble(t, i));
}

// "[1, 2]" -> flat index to a multi-index string, for pinpointing a mismatch.
std::string IndexToString(const Shape& shape, int64_t flat) {
  if (shape.empty()) return "[]";
  std::vector<int64_t> idx(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] == 0 ? 0 : flat % shape[k];
    flat = shape[k] == 0 ? 0 : flat / shape[k];
  }
  return ShapeToString(idx);
}

bool CloseEnough(double a, double e, const CompareOptions& o) {
  if (std::isnan(a) || std::isnan(e)) return std::isnan(a) && std::isnan(e);
  if (std::isinf(a) || std::isinf(e)) return a == e;
  return std::fabs(a - e) <= o.atol + o.rtol * std::fabs(e);
}

// Sorted by the number after `prefix` (input_2 before input_10).
std::vector<fs::path> NumberedEntries(const fs::path& dir, const std::string& prefix, const std::string& suffix,
                                      bool want_dirs) {
  std::vector<std::pair<long, fs::path>> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() <= prefix.size() + suffix.size() || n.compare(0, prefix.size(), prefix) != 0) continue;
    if (n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string num = n.substr(prefix.size(), n.size() - prefix.size() - suffix.size());
    if (num.empty() || !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    std::error_code ec2;
    if (want_dirs != e.is_directory(ec2)) continue;
    found.emplace_back(std::stol(num), e.path());
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> out;
  for (auto& [n, p] : found) out.push_back(p);
  return out;
}

// One line: newlines in nested messages would break the per-test report format.
std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

TestResult Classify(TestResult r, const Status& st, const std::string& context) {
  r.outcome = st.code() == StatusCode::kUnimplemented ? Outcome::kUnsupported : Outcome::kFailed;
  r.reason = OneLine(context.empty() ? st.message() : context + ": " + st.message());
  return r;
}

// The suite stores bfloat16 data as UINT16 TensorProtos (numpy has no bfloat16): the same
// 16 bits. Reinterpret them when the other side is bfloat16, so dtype checks stay exact
// everywhere else.
Tensor AsBFloat16IfBits(const Tensor& t, DType want) {
  if (t.dtype() != DType::kU16 || want != DType::kBF16) return t;
  Tensor copy = t.Clone();
  return Tensor::View(DType::kBF16, copy.shape(), copy.raw()).Clone();
}

struct DataSet {
  std::string name;
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::vector<Tensor> expected;
};

TestResult RunTestImpl(const fs::path& dir, const TestOptions& opts, TestResult r) {
  auto model = LoadModel((dir / "model.onnx").string());
  if (!model.ok()) return Classify(std::move(r), model.status(), "load model.onnx");
  const Graph& g = *(*model)->graph;
  std::vector<const ValueInfo*> real_inputs;
  for (const auto& vi : g.inputs)
    if (!g.IsInitializer(vi.name)) real_inputs.push_back(&vi);

  // Data first: a sequence/optional .pb makes the test unsupported before the session
  // trips over the sequence-typed value it would feed.
  const auto data_set_dirs = NumberedEntries(dir, "test_data_set_", "", /*want_dirs=*/true);
  if (data_set_dirs.empty()) {
    r.outcome = Outcome::kFailed;
    r.reason = "no test_data_set_* folder";
    return r;
  }
  std::vector<DataSet> data_sets;
  for (const auto& ds : data_set_dirs) {
    DataSet d;
    d.name = ds.filename().string();
    const auto input_files = NumberedEntries(ds, "input_", ".pb", false);
    const auto output_files = NumberedEntries(ds, "output_", ".pb", false);
    if (input_files.size() > real_inputs.size()) {
      r.outcome = Outcome::kFailed;
      r.reason = fmt::format("{}: {} input files but the graph has {} real inputs", d.name, input_files.size(),
                             real_inputs.size());
      return r;
    }
    for (size_t i = 0; i < input_files.size(); ++i) {
      auto t = LoadTensorProtoFile(input_files[i].string());
      if (!t.ok()) return Classify(std::move(r), t.status(), d.name + "/" + input_files[i].filename().string());
      d.feeds.emplace_back(real_inputs[i]->name, AsBFloat16IfBits(*t, real_inputs[i]->type.dtype));
    }
    for (size_t i = 0; i < output_files.size(); ++i) {
      auto t = LoadTensorProtoFile(output_files[i].string());
      if (!t.ok()) return Classify(std::move(r), t.status(), d.name + "/" + output_files[i].filename().string());
      const DType want = i < g.outputs.size() ? g.outputs[i].type.dtype : DType::kUndefined;
      d.expected.push_back(AsBFloat16IfBits(*t, want));
    }
    data_sets.push_back(std::move(d));
  }

  SessionOptions so;
  so.num_threads = opts.num_threads;
  auto session = Session::Create(**model, so);
  if (!session.ok()) return Classify(std::move(r), session.status(), "");

  for (const auto& d : data_sets) {
    auto outs = (*session)->Run(d.feeds);
    if (!outs.ok()) return Classify(std::move(r), outs.status(), d.name);
    if (outs->size() < d.expected.size()) {
      r.outcome = Outcome::kFailed;
      r.reason = fmt::format("{}: {} outputs produced but {} expected", d.name, outs->size(), d.expected.size());
      return r;
    }
    for (size_t i = 0; i < d.expected.size(); ++i) {
      const std::string oname = i < g.outputs.size() ? g.outputs[i].name : "";
      Status st = CompareTensors(d.expected[i], (*outs)[i], fmt::format("{}: output {} '{}'", d.name, i, oname),
                                 opts.compare);
      if (!st.ok()) return Classify(std::move(r), st, "");
    }
  }
  r.outcome = Outcome::kPassed;
  return r;
}

}  // namespace

Status CompareTensors(const Tensor& expected, const Tensor& actual, std::string_view what,
                      const CompareOptions& opts) {
  if (!actual.defined()) return InvalidArgument("{}: output missing (undefined tensor)", what);
  if (expected.dtype() != actual.dtype())
    return InvalidArgument("{}: dtype {} but expected {}", what, DTypeName(actual.dtype()),
                           DTypeName(expected.dtype()));
  if (expected.shape() != actual.shape())
    return InvalidArgument("{}: shape {} but expected {}", what, ShapeToString(actual.shape()),
                           ShapeToString(expected.shape()));
  const bool is_float = IsFloatDType(expected.dtype());
  int64_t bad = 0, first = -1;
  double max_abs = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    bool ok;
    if (is_float) {
      const double a = ElementAsDouble(actual, i), e = ElementAsDouble(expected, i);
      ok = CloseEnough(a, e, opts);
      if (!ok && std::isfinite(a) && std::isfinite(e)) max_abs = std::max(max_abs, std::fabs(a - e));
    } else {
      ok = ElementsEqualExact(expected, actual, i);
    }
    if (!ok) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return Status::Ok();
  if (is_float)
    return InvalidArgument(
        "{}: {} of {} elements differ beyond atol={:g} + rtol={:g}*|expected|; first at {}: got {}, expected {} "
        "(max abs diff {:.3g})",
        what, bad, expected.numel(), opts.atol, opts.rtol, IndexToString(expected.shape(), first),
        ElementToString(actual, first), ElementToString(expected, first), max_abs);
  return InvalidArgument("{}: {} of {} elements differ (exact match required for {}); first at {}: got {}, expected {}",
                         what, bad, expected.numel(), DTypeName(expected.dtype()),
                         IndexToString(expected.shape(), first), ElementToString(actual, first),
                         ElementToString(expected, first));
}

TestResult RunTest(const std::string& test_dir, const TestOptions& opts) {
  TestResult r;
  const fs::path dir(test_dir);
  r.name = dir.filename().string();
  r.suite = dir.parent_path().filename().string();
  const auto start = std::chrono::steady_clock::now();
  try {
    r = RunTestImpl(dir, opts, std::move(r));
  } catch (const std::exception& e) {
    r.outcome = Outcome::kFailed;
    r.reason = OneLine(std::string("exception: ") + e.what());
  } catch (...) {
    r.outcome = Outcome::kFailed;
    r.reason = "unknown exception";
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

Result<Report> RunConformance(const RunOptions& opts) {
  std::error_code ec;
  if (!fs::is_directory(opts.root, ec))
    return NotFound("conformance data folder '{}' does not exist (install libonnx-testdata)", opts.root);
  std::regex re;
  if (!opts.filter.empty()) {
    try {
      re = std::regex(opts.filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return InvalidArgument("--filter '{}' is not a valid regular expression: {}", opts.filter, e.what());
    }
  }
  struct Item { std::string suite; fs::path dir; };
  std::vector<Item> items;
  Report report;
  std::vector<std::string> suites_present;
  for (const auto& suite : SuiteNames()) {
    const fs::path sdir = fs::path(opts.root) / suite;
    if (!fs::is_directory(sdir, ec)) continue;
    suites_present.push_back(suite);
    std::vector<fs::path> tests;
    for (const auto& e : fs::directory_iterator(sdir, ec))
      if (fs::exists(e.path() / "model.onnx", ec)) tests.push_back(e.path());
    std::sort(tests.begin(), tests.end());
    for (auto& t : tests) {
      if (!opts.filter.empty() && !std::regex_search(suite + "/" + t.filename().string(), re)) {
        report.filtered = true;
        continue;
      }
      items.push_back({suite, t});
    }
  }
  if (suites_present.empty())
    return NotFound("conformance data folder '{}' holds none of the suites node, pytorch-converted, "
                    "pytorch-operator, simple",
                    opts.root);

  std::map<std::string, SuiteSummary> sums;
  for (size_t i = 0; i < items.size(); ++i) {
    if (opts.progress) opts.progress(i, items.size(), items[i].suite, items[i].dir.filename().string());
    TestResult r = RunTest(items[i].dir.string(), opts.test);
    r.suite = items[i].suite;
    SuiteSummary& s = sums[r.suite];
    ++s.total;
    switch (r.outcome) {
      case Outcome::kPassed: ++s.passed; s.passed_tests.push_back(r.name); break;
      case Outcome::kFailed: ++s.failed; s.failed_tests.push_back(r.name); break;
      case Outcome::kUnsupported: ++s.unsupported; s.unsupported_tests.push_back(r.name); break;
    }
    report.results.push_back(std::move(r));
  }
  if (opts.progress) opts.progress(items.size(), items.size(), "", "");
  for (const auto& suite : suites_present) {
    auto it = sums.find(suite);
    if (it == sums.end()) {
      if (report.filtered) continue;  // nothing selected there
      SuiteSummary empty;
      empty.name = suite;
      report.suites.push_back(empty);
      continue;
    }
    it->second.name = suite;
    report.suites.push_back(std::move(it->second));
  }
  return report;
}

std::string ReportToJson(const Report& report) {
  nlohmann::ordered_json suites = nlohmann::ordered_json::object();
  for (const auto& s : report.suites) {
    suites[s.name] = {{"passed", s.passed},         {"failed", s.failed},
                      {"unsupported", s.unsupported}, {"total", s.total},
                      {"failed_tests", s.failed_tests}, {"unsupported_tests", s.unsupported_tests}};
  }
  nlohmann::ordered_json j;
  j["suites"] = std::move(suites);
  return j.dump(2) + "\n";
}

std::string BaselineFromReport(const Report& report) {
  nlohmann::ordered_json suites = nlohmann::ordered_json::object();
  for (const auto& s : report.suites)
    suites[s.name] = {{"min_passed", s.passed}, {"passed_tests", s.passed_tests}};
  nlohmann::ordered_json j;
  j["suites"] = std::move(suites);
  return j.dump(2) + "\n";
}

Result<std::vector<std::string>> FindRegressions(const Report& report, std::string_view baseline_json) {
  nlohmann::json base = nlohmann::json::parse(baseline_json, nullptr, /*allow_exceptions=*/false);
  if (base.is_discarded() || !base.is_object() || !base.contains("suites") || !base["suites"].is_object())
    return InvalidArgument("baseline: not a JSON object with a \"suites\" object");
  std::map<std::string, const TestResult*> ran;  // "suite/test" -> result
  for (const auto& r : report.results) ran[r.suite + "/" + r.name] = &r;
  std::map<std::string, int> passed_now;
  for (const auto& s : report.suites) passed_now[s.name] = s.passed;

  std::vector<std::string> out;
  for (const auto& [suite, entry] : base["suites"].items()) {
    if (!entry.is_object()) return InvalidArgument("baseline: suite '{}' is not an object", suite);
    if (entry.contains("passed_tests")) {
      if (!entry["passed_tests"].is_array())
        return InvalidArgument("baseline: suite '{}': passed_tests is not an array", suite);
      for (const auto& t : entry["passed_tests"]) {
        if (!t.is_string()) return InvalidArgument("baseline: suite '{}': passed_tests holds a non-string", suite);
        const std::string key = suite + "/" + t.get<std::string>();
        auto it = ran.find(key);
        if (it == ran.end()) {
          if (!report.filtered) out.push_back(fmt::format("{}: passed in the baseline but was not found", key));
          continue;
        }
        if (it->second->outcome != Outcome::kPassed)
          out.push_back(fmt::format("{}: passed in the baseline, now {}: {}", key, OutcomeName(it->second->outcome),
                                    it->second->reason));
      }
    }
    if (!report.filtered && entry.contains("min_passed")) {
      if (!entry["min_passed"].is_number_integer())
        return InvalidArgument("baseline: suite '{}': min_passed is not an integer", suite);
      const int min_passed = entry["min_passed"].get<int>();
      const int now = passed_now.count(suite) ? passed_now[suite] : 0;
      if (now < min_passed)
        out.push_back(fmt::format("{}: {} tests passed, baseline minimum is {}", suite, now, min_passed));
    }
  }
  return out;
}

}  // namespace greenai::conformance
