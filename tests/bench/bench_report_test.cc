// Tests for bench/svg.h and bench/report.h: Pareto fronts and ticks by hand, escaping, chart
// structure, CSV/JSON content, the folder rules, and the HTML report rendered by headless
// Chromium (skipped when chromium is not installed).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/report.h"
#include "bench/svg.h"

namespace greenai::bench {
namespace {

namespace fs = std::filesystem;

size_t Count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}

TEST(BenchSvg, ParetoFrontByHand) {
  // Lower x (energy) and higher y (accuracy) are better.
  std::vector<ScatterPoint> p = {
      {"a", 1.0, 80},  // front: cheapest
      {"b", 2.0, 90},  // front
      {"c", 3.0, 85},  // dominated by b
      {"d", 4.0, 95},  // front: most accurate
      {"e", 2.0, 70},  // dominated by a (and b)
      {"f", std::numeric_limits<double>::quiet_NaN(), 99},  // never on the front
  };
  EXPECT_EQ(ParetoFront(p), (std::vector<size_t>{0, 1, 3}));
  // Equal points do not dominate each other.
  EXPECT_EQ(ParetoFront({{"x", 1, 1}, {"y", 1, 1}}), (std::vector<size_t>{0, 1}));
  EXPECT_TRUE(ParetoFront({}).empty());
}

TEST(BenchSvg, NiceTicksCoverTheRange) {
  EXPECT_EQ(NiceTicks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(NiceTicks(0, 1, 4), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  std::vector<double> t = NiceTicks(63.2, 91.7, 5);
  EXPECT_LE(t.front(), 63.2);
  EXPECT_GE(t.back(), 91.7);
  EXPECT_EQ(t.front(), 60);
  EXPECT_GE(NiceTicks(5, 5).size(), 2u);  // a flat range still gets an axis
  EXPECT_EQ(ShortNumber(0.25), "0.25");
  EXPECT_EQ(ShortNumber(1234.4), "1234");
  EXPECT_EQ(ShortNumber(std::nan("")), "n/a");
}

TEST(BenchSvg, EscapesTextAndMarksPoints) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  std::vector<ScatterPoint> p = {{"<mlp>", 0.002, 88}, {"cnn & co", 0.004, 91}, {"bad", INFINITY, 50}};
  std::string s = ScatterSvg(p, {.title = "t", .x_label = "energy per inference (mJ)", .y_label = "top-1 (%)"});
  EXPECT_EQ(s.find("<mlp>"), std::string::npos);
  EXPECT_NE(s.find("data-label=\"&lt;mlp&gt;\""), std::string::npos);
  EXPECT_EQ(Count(s, "<circle class=\"point"), 2u);  // the infinite one is not drawn ...
  EXPECT_NE(s.find("not drawn (no finite value): bad"), std::string::npos);  // ... but listed
  EXPECT_EQ(Count(s, "class=\"point front\""), 2u);
  EXPECT_EQ(Count(s, "<polyline class=\"pareto\""), 1u);
  EXPECT_NE(s.find("energy per inference (mJ)"), std::string::npos);
  std::string b = BarsSvg({{"a", 1.5}, {"b", 3}}, {.title = "size", .unit = "MB"});
  EXPECT_EQ(Count(b, "<rect class=\"bar\""), 2u);
  EXPECT_NE(b.find("1.5 MB"), std::string::npos);
}

BenchReport SampleReport() {
  BenchReport r;
  r.created_wall = 1.7e9;
  r.data = "fashion-mnist test, 1000 samples";
  r.sensors = "estimator(cpu,ram)";
  r.machine = "AMD EPYC, 2 threads";
  r.idle = {.duration_s = 5, .energy_j = 40, .power_w = 8, .method = {"estimated", "cpu: estimated (TDP)"}};
  r.carbon_label = "France (FRA, 2023)";
  r.carbon_g_per_kwh = 56;
  r.window_s = 10;
  r.batch = 64;
  const char* names[] = {"mlp", "cnn, small", "lenet<5>"};
  for (int i = 0; i < 3; ++i) {
    ModelResult m;
    m.name = names[i];
    m.path = std::string("/models/") + names[i] + ".onnx";
    m.file_bytes = 1e6 * (i + 1);
    m.top1 = 0.8 + 0.05 * i;
    m.samples = 1000;
    m.correct = static_cast<int64_t>(m.top1 * 1000);
    m.latency_p50_ms = 0.1 * (i + 1);
    m.latency_p99_ms = 0.2 * (i + 1);
    m.batch = 64;
    m.throughput_per_s = 10000.0 / (i + 1);
    m.inferences = 64000;
    m.window_s = 10;
    m.net_j_per_inference = 0.001 * (i + 1);
    m.gross_j_per_inference = 0.002 * (i + 1);
    m.headline_j_per_inference = m.net_j_per_inference;
    m.headline_basis = "net of idle";
    m.energy_method = {"estimated", "cpu: estimated (TDP fallback)"};
    m.g_co2e_per_million = m.net_j_per_inference * 1e6 / 3.6e6 * 56;
    m.has_prediction = i != 2;
    m.predicted_j_per_inference = 1e-5;
    m.prediction_profile = "horowitz-45nm";
    r.models.push_back(m);
  }
  return r;
}

TEST(BenchReport, CsvAndJsonCarryUnitsAndMethods) {
  BenchReport r = SampleReport();
  std::string csv = ReportCsv(r);
  EXPECT_EQ(Count(csv, "\n"), 4u);
  EXPECT_EQ(csv.find("model,path,file_size_bytes,top1_percent,"), 0u);
  EXPECT_NE(csv.find("\"cnn, small\""), std::string::npos);  // a comma in a name is quoted
  EXPECT_NE(csv.find("mlp,/models/mlp.onnx,1000000,80.0000,1000,"), std::string::npos) << csv;
  auto j = nlohmann::json::parse(ReportJson(r));
  ASSERT_EQ(j["models"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["models"][1]["accuracy"]["top1_percent"].get<double>(), 85);
  EXPECT_EQ(j["models"][0]["energy"]["method"], "estimated");
  EXPECT_EQ(j["idle"]["power_w"], 8);
  EXPECT_TRUE(j["models"][2]["predicted"].is_null());
  EXPECT_EQ(j["models"][0]["predicted"]["method"].get<std::string>().rfind("predicted", 0), 0u);
}

TEST(BenchReport, HtmlIsSelfContainedAndLabelsEstimates) {
  std::string h = ReportHtml(SampleReport());
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(h.find("http://"), h.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  EXPECT_EQ(h.find("https://"), std::string::npos);
  EXPECT_EQ(Count(h, "class=\"model-row\""), 3u);
  EXPECT_NE(h.find("id=\"energy-label\">estimated<"), std::string::npos);
  EXPECT_NE(h.find("net energy per inference (mJ, estimated)"), std::string::npos);
  EXPECT_NE(h.find("lenet&lt;5&gt;"), std::string::npos);
}

TEST(BenchReport, FolderRules) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("greenai_bench_report_{}", ::getpid());
  fs::remove_all(dir);
  BenchReport r = SampleReport();
  ASSERT_TRUE(WriteReport(r, (dir / "a" / "b").string(), false).ok());  // parents created
  EXPECT_TRUE(fs::exists(dir / "a" / "b" / "report.html"));
  fs::create_directories(dir / "keep");
  { std::FILE* f = std::fopen((dir / "keep" / "mine.txt").c_str(), "w"); std::fputs("x", f); std::fclose(f); }
  Status st = WriteReport(r, (dir / "keep").string(), false);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("--force"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "keep" / "report.html"));
  ASSERT_TRUE(WriteReport(r, (dir / "keep").string(), true).ok());
  EXPECT_TRUE(fs::exists(dir / "keep" / "report.html"));
  EXPECT_TRUE(fs::exists(dir / "keep" / "mine.txt"));  // --force touches only the report files
  { std::FILE* f = std::fopen((dir / "file").c_str(), "w"); std::fclose(f); }
  EXPECT_FALSE(WriteReport(r, (dir / "file").string(), true).ok());
  fs::remove_all(dir);
}

std::string FindChromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (fs::exists(p)) return p;
  return "";
}

std::string RunCapture(const std::string& cmd) {
  std::string out;
  std::FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

TEST(BenchReport, RendersInHeadlessChromium) {
  const std::string chromium = FindChromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
  const fs::path dir = fs::temp_directory_path() / fmt::format("greenai_bench_dom_{}", ::getpid());
  fs::remove_all(dir);
  ASSERT_TRUE(WriteReport(SampleReport(), dir.string(), false).ok());
  const std::string cmd = fmt::format(
      "timeout 120 {} --headless --no-sandbox --disable-gpu --user-data-dir={} --dump-dom file://{} 2>/dev/null",
      chromium, (dir / "profile").string(), (dir / "report.html").string());
  const std::string dom = RunCapture(cmd);
  fs::remove_all(dir);
  ASSERT_NE(dom.find("<svg"), std::string::npos) << "no DOM from chromium: " << dom.substr(0, 500);
  // One point per model in the Pareto chart, one table row per model, the estimate label.
  EXPECT_EQ(Count(dom, "<circle class=\"point"), 3u);
  EXPECT_EQ(Count(dom, "class=\"model-row\""), 3u);
  EXPECT_EQ(Count(dom, "<rect class=\"bar\""), 6u);  // size and latency bars
  EXPECT_NE(dom.find("chart scatter"), std::string::npos);
  EXPECT_NE(dom.find("id=\"energy-label\">estimated<"), std::string::npos);
  EXPECT_NE(dom.find("data-label=\"lenet&lt;5&gt;\""), std::string::npos);
}

}  // namespace
}  // namespace greenai::bench
