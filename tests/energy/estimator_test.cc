// Estimator model and TDP lookup, checked against hand-computed values.
#include <gtest/gtest.h>

#include "energy/estimator.h"
#include "energy/tables.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

void FakeProc(const TempDir& d, const std::string& model, int cpus, uint64_t mem_kb) {
  std::string info;
  for (int i = 0; i < cpus; ++i) info += "processor\t: " + std::to_string(i) + "\nmodel name\t: " + model + "\n\n";
  d.Write("cpuinfo", info);
  d.Write("meminfo", "MemTotal:       " + std::to_string(mem_kb) + " kB\nMemFree: 1 kB\n");
}

void Stat(const TempDir& d, uint64_t user, uint64_t idle) {
  // user nice system idle iowait irq softirq steal
  d.Write("stat", "cpu  " + std::to_string(user) + " 0 0 " + std::to_string(idle) + " 0 0 0 0 0 0\ncpu0 1 2 3\n");
}

TEST(TdpTable, MatchesCpuinfoNames) {
  auto epyc = LookupCpuTdp("AMD EPYC 7763 64-Core Processor");
  ASSERT_TRUE(epyc);
  EXPECT_DOUBLE_EQ(epyc->watts, 280.0);  // AMD's published TDP
  auto xeon = LookupCpuTdp("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz");
  ASSERT_TRUE(xeon);
  EXPECT_DOUBLE_EQ(xeon->watts, 300.0);
  auto i7 = LookupCpuTdp("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz");
  ASSERT_TRUE(i7);
  EXPECT_DOUBLE_EQ(i7->watts, 95.0);  // not the 65 W i7-8700
  EXPECT_FALSE(LookupCpuTdp("AMD EPYC"));  // no model number: no guess
  EXPECT_FALSE(LookupCpuTdp(""));
}

TEST(Estimator, CpuAndRamEnergyFollowTheModel) {
  TempDir d;
  FakeProc(d, "AMD EPYC 7763 64-Core Processor", 4, 16 * 1024 * 1024);  // 16 GiB
  Stat(d, 1000, 1000);
  EstimatorOptions o;
  o.proc_root = d.path();
  EstimatorSensor s(o);
  EXPECT_DOUBLE_EQ(s.cpu_model().tdp_w, 280.0);
  EXPECT_DOUBLE_EQ(s.ram_watts(), 0.3725 * 16);
  ASSERT_TRUE(s.Read(0).ok());
  Stat(d, 1300, 1100);  // 300 busy of 400 ticks: u = 0.75
  auto r = s.Read(2.0);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  // 280 W * (0.1 + 0.9 * 0.75) * 2 s = 434 J; RAM 5.96 W * 2 s = 11.92 J
  EXPECT_NEAR((*r)[0].energy_j, 434.0, 1e-9);
  EXPECT_NEAR((*r)[0].utilization, 0.75, 1e-12);
  EXPECT_NEAR((*r)[1].energy_j, 11.92, 1e-9);
  for (const auto& c : *r) EXPECT_EQ(c.method, Method::kEstimated);
}

TEST(Estimator, OverrideAndFallbackTdp) {
  TempDir d;
  FakeProc(d, "AMD EPYC", 2, 1024 * 1024);
  Stat(d, 0, 100);
  EstimatorOptions o;
  o.proc_root = d.path();
  EXPECT_DOUBLE_EQ(ResolveCpuPower(o).tdp_w, 8.0);  // 4 W x 2 threads
  EXPECT_NE(ResolveCpuPower(o).how.find("fallback"), std::string::npos);
  o.cpu_tdp_w = 65.0;
  EXPECT_DOUBLE_EQ(ResolveCpuPower(o).tdp_w, 65.0);
  o.estimate_ram = false;
  EstimatorSensor s(o);
  ASSERT_TRUE(s.Read(0).ok());
  Stat(d, 0, 200);  // fully idle: 65 W * 0.1 * 10 s = 65 J
  auto r = s.Read(10);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_NEAR((*r)[0].energy_j, 65.0, 1e-9);
}

}  // namespace
}  // namespace greenai::energy
