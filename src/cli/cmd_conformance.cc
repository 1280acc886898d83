// greenai conformance [DIR] [--json FILE] [--filter REGEX] [--verbose] [--threads N]
//                     [--check-baseline FILE] [--write-baseline FILE]
// Runs the ONNX backend test suite (see bench/conformance.h) and prints a summary per suite.
// Exit: 0 when the run completed (failures included), 1 on a baseline regression or an
// I/O error, 2 on a usage error (bad folder, bad regex).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "bench/conformance.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/file_util.h"

namespace greenai::cli {

namespace {

struct ConformanceArgs {
  std::string dir = conformance::kDefaultDataDir;
  std::string json_path;
  std::string filter;
  std::string baseline_path;
  std::string write_baseline_path;
  bool verbose = false;
  int threads = 1;
};

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open '{}'", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IoError("cannot read '{}'", path);
  return ss.str();
}

void PrintNames(const char* label, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::printf("  %s:", label);
  for (const auto& n : names) std::printf(" %s", n.c_str());
  std::printf("\n");
}

int RunConformanceCommand(const ConformanceArgs& a) {
  conformance::RunOptions opts;
  opts.root = a.dir;
  opts.filter = a.filter;
  opts.test.num_threads = a.threads;
  const bool tty = isatty(fileno(stderr));
  opts.progress = [tty](size_t i, size_t n, const std::string& suite, const std::string& test) {
    if (i == n) {
      if (tty) std::fprintf(stderr, "\r\033[K");
      std::fprintf(stderr, "conformance: ran %zu tests\n", n);
      return;
    }
    if (tty) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s/%s", i + 1, n, suite.c_str(), test.c_str());
      std::fflush(stderr);
    } else if (i % 100 == 0) {
      std::fprintf(stderr, "conformance: [%zu/%zu] %s/%s\n", i + 1, n, suite.c_str(), test.c_str());
    }
  };
  auto report = conformance::RunConformance(opts);
  if (!report.ok()) return Fail("conformance", report.status(), 2);

  for (const auto& s : report->suites) {
    std::printf("%s: %d passed, %d failed, %d unsupported of %d\n", s.name.c_str(), s.passed, s.failed,
                s.unsupported, s.total);
    if (!a.verbose) PrintNames("failed", s.failed_tests);
  }
  if (a.verbose) {
    for (const auto& r : report->results)
      if (r.outcome != conformance::Outcome::kPassed)
        std::printf("%-11s %s/%s: %s\n", conformance::OutcomeName(r.outcome), r.suite.c_str(), r.name.c_str(),
                    r.reason.c_str());
  }
  std::fflush(stdout);

  if (!a.json_path.empty()) {
    Status st = WriteFileAtomic(a.json_path, conformance::ReportToJson(*report));
    if (!st.ok()) return Fail("conformance", st, 1);
  }
  int rc = 0;
  if (!a.baseline_path.empty()) {
    auto text = ReadWholeFile(a.baseline_path);
    if (!text.ok()) return Fail("conformance", text.status(), 2);
    auto regs = conformance::FindRegressions(*report, *text);
    if (!regs.ok()) return Fail("conformance", regs.status().WithContext(a.baseline_path), 2);
    if (!regs->empty()) {
      for (const auto& r : *regs) std::fprintf(stderr, "regression: %s\n", r.c_str());
      Fail("conformance", fmt::format("{} regression(s) against baseline {}", regs->size(), a.baseline_path));
      rc = 1;
    } else {
      std::printf("baseline %s: no regressions\n", a.baseline_path.c_str());
    }
  }
  if (!a.write_baseline_path.empty()) {
    if (report->filtered) return Fail("conformance", "--write-baseline needs an unfiltered run (drop --filter)", 2);
    if (rc != 0) return Fail("conformance", "not writing the baseline: the run regressed", 1);
    Status st = WriteFileAtomic(a.write_baseline_path, conformance::BaselineFromReport(*report));
    if (!st.ok()) return Fail("conformance", st, 1);
    std::printf("baseline written to %s\n", a.write_baseline_path.c_str());
  }
  return rc;
}

}  // namespace

void RegisterConformance(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ConformanceArgs>();
  auto* sub = app.add_subcommand("conformance", "Run the ONNX backend test suite and summarize per suite");
  sub->add_option("dir", args->dir, "suite root holding node/, pytorch-converted/, ...")
      ->capture_default_str();
  sub->add_option("--json", args->json_path, "write the per-suite summary as JSON to FILE (atomic)");
  sub->add_option("--filter", args->filter, "only tests whose '<suite>/<test>' matches this regex");
  sub->add_flag("--verbose,-v", args->verbose, "print the reason for every failed/unsupported test");
  sub->add_option("--threads", args->threads, "threads per session (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  sub->add_option("--check-baseline", args->baseline_path,
                  "exit 1 naming every test that passed in this baseline JSON but not now");
  sub->add_option("--write-baseline", args->write_baseline_path,
                  "write a baseline of this run's passing tests to FILE (refused on regression)");
  sub->callback([args, exit_code] { *exit_code = RunConformanceCommand(*args); });
}

}  // namespace greenai::cli
