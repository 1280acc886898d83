// RAPL sensor against fake powercap trees (layouts as the Linux intel_rapl driver
// writes them; AMD Zen uses the same driver and names since kernel 5.11).
#include <cerrno>

#include <gtest/gtest.h>

#include "energy/rapl.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

void Zone(const TempDir& d, const std::string& dir, const std::string& name, uint64_t uj, uint64_t max_uj) {
  d.Write(dir + "/name", name + "\n");
  d.Write(dir + "/energy_uj", std::to_string(uj) + "\n");
  d.Write(dir + "/max_energy_range_uj", std::to_string(max_uj) + "\n");
}

double Energy(const std::vector<ComponentReading>& rs, const std::string& comp) {
  for (const auto& r : rs) {
    if (r.component == comp) return r.energy_j;
  }
  return -1;
}

TEST(Rapl, TwoPackagesAndDramAreSummedPerComponent) {
  TempDir d;
  Zone(d, "intel-rapl:0", "package-0", 1'000'000, 262143328850);
  Zone(d, "intel-rapl:0:0", "core", 500'000, 262143328850);
  Zone(d, "intel-rapl:0:1", "dram", 200'000, 65712999613);
  Zone(d, "intel-rapl:1", "package-1", 3'000'000, 262143328850);
  Zone(d, "intel-rapl:1:0", "dram", 100'000, 65712999613);
  auto s = RaplSensor::Open(d.path());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto r0 = (*s)->Read(0);
  ASSERT_TRUE(r0.ok());
  EXPECT_DOUBLE_EQ(Energy(*r0, "cpu"), 0.0);
  // +10 J on package 0, +5 J on package 1, +2 J and +1 J dram, +4 J core.
  Zone(d, "intel-rapl:0", "package-0", 11'000'000, 262143328850);
  Zone(d, "intel-rapl:1", "package-1", 8'000'000, 262143328850);
  Zone(d, "intel-rapl:0:1", "dram", 2'200'000, 65712999613);
  Zone(d, "intel-rapl:1:0", "dram", 1'100'000, 65712999613);
  Zone(d, "intel-rapl:0:0", "core", 4'500'000, 262143328850);
  auto r1 = (*s)->Read(1);
  ASSERT_TRUE(r1.ok());
  EXPECT_DOUBLE_EQ(Energy(*r1, "cpu"), 15.0);
  EXPECT_DOUBLE_EQ(Energy(*r1, "ram"), 3.0);
  EXPECT_DOUBLE_EQ(Energy(*r1, "cpu_core"), 4.0);
  for (const auto& r : *r1) {
    EXPECT_EQ(r.method, Method::kMeasured);
    EXPECT_EQ(r.in_total, r.component == "cpu" || r.component == "ram") << r.component;
  }
}

TEST(Rapl, WraparoundUsesMaxEnergyRange) {
  TempDir d;
  const uint64_t max = 1'000'000'000;  // 1000 J
  Zone(d, "intel-rapl:0", "package-0", max - 3'000'000, max);
  auto s = RaplSensor::Open(d.path());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Read(0).ok());
  Zone(d, "intel-rapl:0", "package-0", 2'000'000, max);  // wrapped: 3 J to the top + 2 J after
  auto r = (*s)->Read(1);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Energy(*r, "cpu"), 5.0);
  Zone(d, "intel-rapl:0", "package-0", 9'000'000, max);
  r = (*s)->Read(2);
  EXPECT_DOUBLE_EQ(Energy(*r, "cpu"), 12.0);
}

TEST(Rapl, AmdDieZonesAreNotAddedToThePackage) {
  TempDir d;
  // Package zone plus per-die zones of the same package, and the same package
  // listed a second time (one counter exposed twice).
  Zone(d, "intel-rapl:0", "package-0", 0, 262143328850);
  Zone(d, "intel-rapl:1", "package-0-die-0", 0, 262143328850);
  Zone(d, "intel-rapl:2", "package-0-die-1", 0, 262143328850);
  Zone(d, "intel-rapl:3", "package-0", 0, 262143328850);
  auto s = RaplSensor::Open(d.path());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->zones().size(), 1u);
  ASSERT_TRUE((*s)->Read(0).ok());
  for (const char* z : {"intel-rapl:0", "intel-rapl:1", "intel-rapl:2", "intel-rapl:3"}) {
    d.Write(std::string(z) + "/energy_uj", "7000000\n");
  }
  auto r = (*s)->Read(1);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(Energy(*r, "cpu"), 7.0);
}

TEST(Rapl, DieZonesWithoutPackageZoneAreSummed) {
  TempDir d;
  Zone(d, "intel-rapl:0", "package-0-die-0", 0, 262143328850);
  Zone(d, "intel-rapl:1", "package-0-die-1", 0, 262143328850);
  auto s = RaplSensor::Open(d.path());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->Read(0).ok());
  d.Write("intel-rapl:0/energy_uj", "1000000\n");
  d.Write("intel-rapl:1/energy_uj", "2000000\n");
  EXPECT_DOUBLE_EQ(Energy(*(*s)->Read(1), "cpu"), 3.0);
}

TEST(Rapl, UnreadableEnergyGivesPermissionHint) {
  TempDir d;
  Zone(d, "intel-rapl:0", "package-0", 0, 262143328850);
  // Tests may run as root, where chmod cannot deny reads: inject EACCES instead.
  ReadFileFn deny = [](const std::string& path, std::string* out) {
    if (path.ends_with("energy_uj")) return EACCES;
    return ReadFileDefault(path, out);
  };
  auto s = RaplSensor::Open(d.path(), deny);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("chmod"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("intel-rapl:0/energy_uj"), std::string::npos);
  EXPECT_NE(s.status().message().find("estimator"), std::string::npos);
}

TEST(Rapl, NoZonesIsNotFound) {
  TempDir d;
  auto s = RaplSensor::Open(d.path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(RaplSensor::Open(d.path() + "/missing").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace greenai::energy
