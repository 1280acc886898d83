// NVML sensor against a fake libnvidia-ml built by cmake/energy.cmake
// (tests/energy/fake_nvml/fake_nvml.c), steered through a control file.
#include <cstdlib>

#include <gtest/gtest.h>

#include "energy/nvml.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

class NvmlTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("FAKE_NVML_CONTROL", (dir_.path() + "/control").c_str(), 1); }
  void TearDown() override { ::unsetenv("FAKE_NVML_CONTROL"); }
  void Control(const std::string& text) { dir_.Write("control", text); }
  TempDir dir_;
};

TEST_F(NvmlTest, EnergyCounterDifferencesAreSummedOverDevices) {
  Control("devices=2\nenergy_mj_0=1000\nenergy_mj_1=50000\n");
  auto s = NvmlSensor::Open(GREENAI_FAKE_NVML_PATH);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ((*s)->devices().size(), 2u);
  EXPECT_TRUE((*s)->devices()[0].has_energy_counter);
  EXPECT_EQ((*s)->devices()[1].name, "Fake GPU 1");
  auto r0 = (*s)->Read(0);
  ASSERT_TRUE(r0.ok());
  EXPECT_DOUBLE_EQ((*r0)[0].energy_j, 0.0);
  Control("devices=2\nenergy_mj_0=11000\nenergy_mj_1=52500\nutil_0=40\nutil_1=60\n");
  auto r1 = (*s)->Read(1);
  ASSERT_TRUE(r1.ok());
  ASSERT_EQ(r1->size(), 1u);
  EXPECT_EQ((*r1)[0].component, "gpu");
  EXPECT_DOUBLE_EQ((*r1)[0].energy_j, 12.5);  // 10 J + 2.5 J
  EXPECT_DOUBLE_EQ((*r1)[0].utilization, 0.5);
  EXPECT_EQ((*r1)[0].method, Method::kMeasured);
  EXPECT_NE((*r1)[0].source.find("energy counter"), std::string::npos);
}

TEST_F(NvmlTest, WithoutCounterPowerIsIntegratedByTrapezoid) {
  Control("energy_supported=0\npower_mw_0=100000\n");
  auto s = NvmlSensor::Open(GREENAI_FAKE_NVML_PATH);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE((*s)->devices()[0].has_energy_counter);
  ASSERT_TRUE((*s)->Read(10.0).ok());
  Control("energy_supported=0\npower_mw_0=300000\n");
  auto r = (*s)->Read(12.0);  // (100 W + 300 W) / 2 * 2 s = 400 J
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ((*r)[0].energy_j, 400.0);
  r = (*s)->Read(13.0);  // + 300 W * 1 s
  EXPECT_DOUBLE_EQ((*r)[0].energy_j, 700.0);
  EXPECT_NE((*r)[0].source.find("trapezoid"), std::string::npos);
}

TEST_F(NvmlTest, ProcessShareFromProcessUtilization) {
  Control("procs_0=100:30,200:10,300:40\n");
  auto s = NvmlSensor::Open(GREENAI_FAKE_NVML_PATH);
  ASSERT_TRUE(s.ok());
  (*s)->SetAttributionPids({100, 300});
  auto r = (*s)->Read(0);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ((*r)[0].process_share, 70.0 / 80.0);
  Control("proc_util_supported=0\n");
  r = (*s)->Read(1);
  EXPECT_DOUBLE_EQ((*r)[0].process_share, -1.0);  // unknown: tracker falls back to CPU-time share
}

TEST_F(NvmlTest, MissingLibraryOrFailedInitIsNotFound) {
  auto s = NvmlSensor::Open(dir_.path() + "/libnope.so.1");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  Control("init_fail=1\n");
  s = NvmlSensor::Open(GREENAI_FAKE_NVML_PATH);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("nvmlInit_v2"), std::string::npos);
  Control("devices=0\n");
  EXPECT_EQ(NvmlSensor::Open(GREENAI_FAKE_NVML_PATH).status().code(), StatusCode::kNotFound);
}

TEST_F(NvmlTest, EnvironmentOverrideSelectsLibrary) {
  Control("energy_mj_0=5\n");
  ::setenv("GREENAI_NVML_LIBRARY", GREENAI_FAKE_NVML_PATH, 1);
  auto s = NvmlSensor::Open();
  ::unsetenv("GREENAI_NVML_LIBRARY");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->devices().size(), 1u);
}

}  // namespace
}  // namespace greenai::energy
