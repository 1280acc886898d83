// emissions.csv compatibility and crash safety.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "energy/emissions_csv.h"
#include "energy/metrics_server.h"
#include "energy/report.h"
#include "energy/tables.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

// CodeCarbon 3.3.2, codecarbon/output_methods/emissions_data.py, class EmissionsData:
// its dataclass fields in declaration order are the CSV columns (FileOutput writes
// pd.DataFrame of EmissionsData.values). Copied here from that source, independently
// of kCodeCarbonColumns, so a drift in either is caught.
const char* kCodeCarbon332Header =
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,"
    "gpu_model,longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue\n";

Report SampleReport() {
  Report r;
  r.start_wall = 1704067200.0;
  r.end_wall = r.start_wall + 10;
  r.duration_s = 10;
  ComponentReport cpu;
  cpu.component = "cpu";
  cpu.energy_j = 36000;  // 10 Wh
  cpu.process_energy_j = 18000;
  cpu.mean_w = 3600;
  ComponentReport ram;
  ram.component = "ram";
  ram.energy_j = 3600;  // 1 Wh
  ram.mean_w = 360;
  r.components = {cpu, ram};
  r.total_j = 39600;
  r.process_total_j = 18000;
  r.attributed = true;
  r.any_estimated = true;
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(EmissionsCsv, HeaderIsCodeCarbons) { EXPECT_EQ(EmissionsCsvHeader(), kCodeCarbon332Header); }

TEST(EmissionsCsv, RowValuesInCodeCarbonUnits) {
  CarbonOptions o;
  o.country = "FRA";
  o.pue = 1.5;
  CarbonSource c = *ResolveCarbon(o);
  EmissionsRowInput in;
  in.run_id = "run-1";
  std::string row = FormatEmissionsRow(SampleReport(), c, in);
  auto f = SplitCsvLine(row.substr(0, row.size() - 1));
  ASSERT_EQ(f.size(), kCodeCarbonColumns.size());
  auto col = [&](std::string_view name) {
    for (size_t i = 0; i < kCodeCarbonColumns.size(); ++i) {
      if (kCodeCarbonColumns[i] == name) return f[i];
    }
    return std::string("?");
  };
  EXPECT_EQ(col("timestamp"), "2024-01-01T00:00:10");
  EXPECT_EQ(col("run_id"), "run-1");
  // 11 Wh * 1.5 PUE = 0.0165 kWh; * 56.039 g/kWh = 0.9246435 g = 0.0009246435 kg.
  EXPECT_NEAR(std::stod(col("energy_consumed")), 0.0165, 1e-12);
  EXPECT_NEAR(std::stod(col("emissions")), 0.0009246435, 1e-12);
  EXPECT_NEAR(std::stod(col("cpu_energy")), 0.015, 1e-12);
  EXPECT_NEAR(std::stod(col("cpu_power")), 5400.0, 1e-9);
  EXPECT_EQ(col("country_iso_code"), "FRA");
  EXPECT_EQ(col("country_name"), "France");
  EXPECT_EQ(col("pue"), "1.5");
  in.use_process_share = true;
  row = FormatEmissionsRow(SampleReport(), c, in);
  f = SplitCsvLine(row.substr(0, row.size() - 1));
  EXPECT_NEAR(std::stod(col("energy_consumed")), 0.0075, 1e-12);
}

TEST(EmissionsCsv, AppendWritesHeaderOnceAndRepairsTornRow) {
  TempDir d;
  std::string p = d.path() + "/emissions.csv";
  ASSERT_TRUE(AppendEmissionsRow(p, "a\n").ok());
  ASSERT_TRUE(AppendEmissionsRow(p, "b\n").ok());
  EXPECT_EQ(d.Read("emissions.csv"), std::string(kCodeCarbon332Header) + "a\nb\n");
  { std::ofstream(p, std::ios::app) << "torn,ro"; }
  ASSERT_TRUE(AppendEmissionsRow(p, "c\n").ok());
  EXPECT_EQ(d.Read("emissions.csv"), std::string(kCodeCarbon332Header) + "a\nb\nc\n");
  EXPECT_FALSE(AppendEmissionsRow(p, "two\nlines\n").ok());
}

TEST(EmissionsCsv, WriterKilledMidStreamLeavesOnlyCompleteRows) {
  TempDir d;
  std::string p = d.path() + "/emissions.csv";
  CarbonSource c = *ResolveCarbon({});
  std::string row = FormatEmissionsRow(SampleReport(), c, {});
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (;;) {
      if (!AppendEmissionsRow(p, row).ok()) ::_exit(3);
    }
  }
  // Let it write many rows, then kill it at an arbitrary point.
  for (int i = 0; i < 200; ++i) {
    struct stat st{};
    if (::stat(p.c_str(), &st) == 0 && st.st_size > 200000) break;
    ::usleep(5000);
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  std::string text = d.Read("emissions.csv");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  auto lines = Lines(text);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0] + "\n", kCodeCarbon332Header);
  for (size_t i = 1; i < lines.size(); ++i) {
    ASSERT_EQ(SplitCsvLine(lines[i]).size(), kCodeCarbonColumns.size()) << "row " << i;
  }
}

TEST(EmissionsCsv, UnwritableFolderIsReportedUpFront) {
  TempDir d;
  auto s = CheckWritable(d.path() + "/nope");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("does not exist"), std::string::npos);
  d.Write("file", "x");
  EXPECT_NE(CheckWritable(d.path() + "/file").message().find("not a directory"), std::string::npos);
  EXPECT_TRUE(CheckWritable(d.path()).ok());
  EXPECT_FALSE(CheckWritable("/proc/self").ok());  // procfs refuses new files even for root
}

TEST(Report, LabelsEstimatesEverywhere) {
  CarbonOptions o;
  o.intensity = 500;
  CarbonSource c = *ResolveCarbon(o);
  ReportContext ctx;
  ctx.units = 100;
  ctx.unit_name = "inference";
  std::string s = FormatSummary(SampleReport(), c, ctx);
  EXPECT_NE(s.find("estimated"), std::string::npos);
  EXPECT_NE(s.find("per inference"), std::string::npos);
  auto j = ReportToJson(SampleReport(), c, ctx);
  EXPECT_EQ(j["method"], "estimated");
  EXPECT_EQ(j["carbon"]["method"], "estimated");
  // 11 Wh = 0.011 kWh * 500 g/kWh = 5.5 g; SCI = 5.5 / 100.
  EXPECT_NEAR(j["carbon"]["g_co2e"].get<double>(), 5.5, 1e-9);
  EXPECT_NEAR(j["sci"]["g_co2e_per_unit"].get<double>(), 0.055, 1e-12);
  std::string prom = PrometheusText(SampleReport(), c);
  EXPECT_NE(prom.find("greenai_energy_joules_total{component=\"cpu\",method=\"estimated\"} 36000"), std::string::npos);
  EXPECT_NE(prom.find("greenai_emissions_grams_total{method=\"estimated\"} 5.5"), std::string::npos) << prom;
  EXPECT_NE(prom.find("# TYPE greenai_power_watts gauge"), std::string::npos);
}

TEST(MetricsServer, ServesMetricsOnLoopback) {
  MetricsServer server([] { return std::string("greenai_power_watts{component=\"cpu\"} 1\n"); });
  ASSERT_TRUE(server.Start(0).ok());
  ASSERT_GT(server.port(), 0);
  auto body = HttpGetLoopback(server.port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "greenai_power_watts{component=\"cpu\"} 1\n");
  EXPECT_FALSE(HttpGetLoopback(server.port(), "/other").ok());
  server.Stop();
  EXPECT_FALSE(HttpGetLoopback(server.port(), "/metrics").ok());
}

}  // namespace
}  // namespace greenai::energy
