// Hardware profile tests: embedded profiles carry their datasheet figures, roofline and
// per-op energy arithmetic checked by hand on one node per profile, "local" calibration
// written atomically and read back.
#include "analyze/hardware.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "analyze/calibrate.h"
#include "core/file_util.h"

namespace greenai::analyze {
namespace {

NodeCostReport Node(DType t, double macs, double flops, double bytes_read, double bytes_written) {
  NodeCostReport n;
  n.compute_dtype = t;
  n.macs = macs;
  n.flops = flops;
  n.bytes_read = bytes_read;
  n.bytes_written = bytes_written;
  return n;
}

HardwareProfile Get(const std::string& name) {
  auto p = FindProfile(name, "");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : HardwareProfile{};
}

TEST(Hardware, BuiltinProfilesParseWithSources) {
  auto all = BuiltinProfiles();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> names;
  for (const auto& p : *all) {
    names.push_back(p.name);
    EXPECT_FALSE(p.source.empty()) << p.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a100-sxm-40gb", "epyc-9654", "h100-sxm", "horowitz-45nm", "xeon-8480"}));
  HardwareProfile h = Get("h100-sxm");
  EXPECT_EQ(h.peak_flops_f32, 67e12);
  EXPECT_EQ(h.bandwidth, 3.35e12);
  EXPECT_EQ(h.tdp_w, 700);
  HardwareProfile a = Get("a100-sxm-40gb");
  EXPECT_EQ(a.peak_flops_f32, 19.5e12);
  EXPECT_EQ(a.bandwidth, 1555e9);
  EXPECT_EQ(a.tdp_w, 400);
  HardwareProfile z = Get("horowitz-45nm");
  EXPECT_EQ(z.energy_pj.at("fp32_mul"), 3.7);
  EXPECT_EQ(z.energy_pj.at("fp32_add"), 0.9);
  EXPECT_EQ(z.energy_pj.at("int8_mul"), 0.2);
  EXPECT_EQ(z.energy_pj.at("int8_add"), 0.03);
  EXPECT_EQ(z.energy_pj.at("dram_read_32bit"), 640);
  EXPECT_EQ(z.energy_pj.at("sram_read_32bit_8kb"), 5);
}

TEST(Hardware, UnknownProfileListsTheAvailableOnes) {
  auto p = FindProfile("tpu-v9", "");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("tpu-v9"), std::string::npos);
  EXPECT_NE(p.status().message().find("h100-sxm"), std::string::npos);
  EXPECT_NE(p.status().message().find("horowitz-45nm"), std::string::npos);
}

TEST(Hardware, RooflineByHandOnEveryDeviceProfile) {
  // 1 GFLOP over 1 MB: compute bound everywhere here; 1 MFLOP over 100 MB: memory bound.
  const NodeCostReport compute = Node(DType::kF32, 0.5e9, 1e9, 0.6e6, 0.4e6);
  const NodeCostReport memory = Node(DType::kF32, 0.5e6, 1e6, 60e6, 40e6);
  struct Case { const char* name; double peak, bw, tdp; };
  for (const Case& c : {Case{"h100-sxm", 67e12, 3.35e12, 700}, Case{"a100-sxm-40gb", 19.5e12, 1555e9, 400},
                        Case{"epyc-9654", 96 * 2.4e9 * 32, 460.8e9, 360},
                        Case{"xeon-8480", 56 * 2.0e9 * 64, 307.2e9, 350}}) {
    SCOPED_TRACE(c.name);
    HardwareProfile p = Get(c.name);
    NodePrediction a = PredictNode(p, compute);
    EXPECT_DOUBLE_EQ(a.time_s, 1e9 / c.peak);
    EXPECT_EQ(a.bound, "compute");
    EXPECT_DOUBLE_EQ(a.energy_j, 1e9 / c.peak * c.tdp);
    NodePrediction b = PredictNode(p, memory);
    EXPECT_DOUBLE_EQ(b.time_s, 100e6 / c.bw);
    EXPECT_EQ(b.bound, "memory");
    EXPECT_DOUBLE_EQ(b.energy_j, 100e6 / c.bw * c.tdp);
  }
  // int8 on the H100 runs at the int8 tensor-core rate (1979 TOPS dense).
  NodePrediction q = PredictNode(Get("h100-sxm"), Node(DType::kI8, 0.5e12, 1e12, 1e6, 1e6));
  EXPECT_DOUBLE_EQ(q.time_s, 1e12 / 1979e12);
}

TEST(Hardware, Horowitz45nmPerOpEnergyByHand) {
  HardwareProfile p = Get("horowitz-45nm");
  // f32: 1000 MACs (3.7 + 0.9 pJ), 100 further FLOPs as adds (0.9 pJ), 400 bytes = 100 DRAM words (640 pJ).
  NodePrediction f = PredictNode(p, Node(DType::kF32, 1000, 2100, 300, 100));
  EXPECT_NEAR(f.energy_j, (1000 * 4.6 + 100 * 0.9 + 100 * 640) * 1e-12, 1e-24);
  EXPECT_EQ(f.time_s, 0);
  // int8: 1000 MACs at 0.2 + 0.03 pJ, same bytes.
  NodePrediction i = PredictNode(p, Node(DType::kU8, 1000, 2000, 300, 100));
  EXPECT_NEAR(i.energy_j, (1000 * 0.23 + 100 * 640) * 1e-12, 1e-24);
  ModelCostReport r;
  r.nodes = {Node(DType::kF32, 1000, 2100, 300, 100), Node(DType::kU8, 1000, 2000, 300, 100)};
  ModelPrediction mp = Predict(p, r);
  EXPECT_TRUE(mp.has_energy);
  EXPECT_FALSE(mp.has_time);
  EXPECT_NEAR(mp.energy_j, f.energy_j + i.energy_j, 1e-24);
}

TEST(Hardware, ProfileJsonRoundTripsAndRejectsBadFields) {
  HardwareProfile h = Get("h100-sxm");
  auto back = ParseProfile(ProfileToJson(h), "roundtrip");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->peak_ops_int8, h.peak_ops_int8);
  EXPECT_EQ(back->source, h.source);
  auto bad = ParseProfile(R"({"name":"x","kind":"device","description":"d","source":"s",
                              "peak_flops_f32":-1,"memory_bandwidth_bytes_per_s":1})", "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("peak_flops_f32"), std::string::npos);
  EXPECT_NE(bad.status().message().find("bad.json"), std::string::npos);
  EXPECT_FALSE(ParseProfile("{not json", "broken.json").ok());
  EXPECT_FALSE(ParseProfile(R"({"name":"x","kind":"quantum","description":"d","source":"s"})", "k.json").ok());
}

TEST(Hardware, CalibrateWritesLocalProfileAtomically) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("greenai_analyze_test_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(FindProfile("local", dir).ok());
  CalibrationOptions o;
  o.gemm_n = 128;
  o.gemm_reps = 2;
  o.copy_bytes = size_t{4} << 20;
  o.copy_reps = 2;
  double last = 0;
  int calls = 0;
  o.progress = [&](std::string_view, double f) {
    EXPECT_GE(f, last);
    last = f;
    ++calls;
  };
  auto p = Calibrate(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(calls, 2 + 1 + 2 + 1 + 1);
  EXPECT_DOUBLE_EQ(last, 1.0);
  EXPECT_GT(p->peak_flops_f32, 1e8);  // any machine that runs this does > 0.1 GFLOP/s
  EXPECT_GT(p->bandwidth, 1e8);
  ASSERT_TRUE(WriteLocalProfile(*p, dir).ok());
  auto local = FindProfile("local", dir);
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_DOUBLE_EQ(local->peak_flops_f32, p->peak_flops_f32);
  EXPECT_DOUBLE_EQ(local->bandwidth, p->bandwidth);
  EXPECT_EQ(local->source, p->source);
  // No temp file left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  // A broken local.json is an error naming the file, not a silent fallback.
  ASSERT_TRUE(WriteFileAtomic(dir + "/local.json", "{").ok());
  auto broken = FindProfile("local", dir);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("local.json"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace greenai::analyze
