// Tracker integration, attribution and windows with fake sensors and a fake clock.
#include <thread>

#include <gtest/gtest.h>

#include "energy/tracker.h"
#include "energy/tracker_hook.h"

namespace greenai::energy {
namespace {

// Constant power per component, integrated over the fake clock.
class ConstantPowerSensor : public Sensor {
 public:
  ConstantPowerSensor(std::string comp, double watts, Method m, double share = -1)
      : comp_(std::move(comp)), watts_(watts), method_(m), share_(share) {}
  std::string Name() const override { return "const"; }
  Result<std::vector<ComponentReading>> Read(double t) override {
    if (!started_) t0_ = t, started_ = true;
    ComponentReading r;
    r.component = comp_;
    r.energy_j = watts_ * (t - t0_);
    r.method = method_;
    r.process_share = share_;
    return std::vector<ComponentReading>{r};
  }

 private:
  std::string comp_;
  double watts_;
  Method method_;
  double share_;
  bool started_ = false;
  double t0_ = 0;
};

std::vector<std::unique_ptr<Sensor>> Sensors(double cpu_w, double gpu_w, double gpu_share = -1) {
  std::vector<std::unique_ptr<Sensor>> v;
  v.push_back(std::make_unique<ConstantPowerSensor>("cpu", cpu_w, Method::kEstimated));
  v.push_back(std::make_unique<ConstantPowerSensor>("gpu", gpu_w, Method::kMeasured, gpu_share));
  return v;
}

TEST(Tracker, IntegratesAndAttributesByCpuTimeShare) {
  FakeClock clock(100.0, 1.7e9);
  double proc_cpu = 0, busy = 0;
  TrackerOptions o;
  o.interval_s = 0;
  o.process_cpu_seconds = [&] { return proc_cpu; };
  o.machine_busy_seconds = [&] { return busy; };
  Tracker t(Sensors(10.0, 50.0, 0.2), o, clock);
  ASSERT_TRUE(t.Start().ok());
  clock.Advance(2.0);
  proc_cpu = 1.0;  // 1 of 4 busy CPU seconds -> 25 %
  busy = 4.0;
  ASSERT_TRUE(t.SampleNow().ok());
  clock.Advance(2.0);
  proc_cpu = 3.0;  // 2 of 2 -> 100 %
  busy = 6.0;
  auto r = t.Stop();
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->duration_s, 4.0);
  const ComponentReport* cpu = r->Find("cpu");
  const ComponentReport* gpu = r->Find("gpu");
  ASSERT_TRUE(cpu && gpu);
  EXPECT_DOUBLE_EQ(cpu->energy_j, 40.0);
  EXPECT_DOUBLE_EQ(cpu->mean_w, 10.0);
  EXPECT_DOUBLE_EQ(cpu->process_energy_j, 20.0 * 0.25 + 20.0 * 1.0);
  EXPECT_DOUBLE_EQ(gpu->process_energy_j, 200.0 * 0.2);  // sensor's own share wins
  EXPECT_DOUBLE_EQ(r->total_j, 240.0);
  EXPECT_DOUBLE_EQ(r->process_total_j, 25.0 + 40.0);
  EXPECT_DOUBLE_EQ(r->process_cpu_s, 3.0);
  EXPECT_TRUE(r->any_estimated);
  EXPECT_EQ(r->samples, 3);
}

TEST(Tracker, NestedWindowsReportTheirOwnEnergy) {
  FakeClock clock;
  TrackerOptions o;
  o.interval_s = 0;
  Tracker t(Sensors(10.0, 0.0), o, clock);
  ASSERT_TRUE(t.Start().ok());
  clock.Advance(1);
  ASSERT_TRUE(t.BeginWindow("epoch").ok());
  clock.Advance(1);
  ASSERT_TRUE(t.BeginWindow("batch").ok());
  clock.Advance(0.5);
  auto b = t.EndWindow("batch");
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(b->total_j, 5.0);
  EXPECT_DOUBLE_EQ(b->duration_s, 0.5);
  clock.Advance(1.5);
  auto e = t.EndWindow("epoch");
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(e->total_j, 30.0);
  EXPECT_FALSE(t.EndWindow("epoch").ok());  // already closed
  EXPECT_EQ(t.Stats("batch").count, 1);
  ASSERT_TRUE(t.Stop().ok());
  EXPECT_FALSE(t.BeginWindow("late").ok());
}

TEST(Tracker, WindowsAreThreadSafeAndHookCountsRuns) {
  TrackerOptions o;
  o.interval_s = 0.01;  // background sampler runs concurrently with the windows
  std::vector<std::unique_ptr<Sensor>> v;
  v.push_back(std::make_unique<ConstantPowerSensor>("cpu", 5.0, Method::kEstimated));
  Tracker t(std::move(v), o);
  ASSERT_TRUE(t.Start().ok());
  TrackerHook hook(t, "inference");
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        hook.OnRunBegin();
        hook.OnRunEnd();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto r = t.Stop();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(hook.Stats().count, 800);
  EXPECT_EQ(hook.errors(), 0);
  EXPECT_GE(hook.Stats().total_j, 0.0);
  // Up to 4 windows are open at once and overlapping windows each count the shared
  // interval, so their sum is bounded by 4x the whole (not 1x: that flaked when runs overlapped).
  EXPECT_LE(hook.Stats().total_j, 4 * r->total_j + 1e-9);
  EXPECT_GT(r->samples, 800);
}

TEST(Tracker, BackgroundSamplerCallsOnSample) {
  TrackerOptions o;
  o.interval_s = 0.02;
  std::atomic<int> n{0};
  o.on_sample = [&](const Sample& s) {
    EXPECT_EQ(s.components.size(), 2u);
    ++n;
  };
  Tracker t(Sensors(1.0, 1.0), o);
  ASSERT_TRUE(t.Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto r = t.Stop();
  ASSERT_TRUE(r.ok());
  EXPECT_GE(n.load(), 3);
  EXPECT_NEAR(r->Find("cpu")->energy_j, r->duration_s * 1.0, 1e-6);
  EXPECT_GE(r->sampler_cpu_s, 0.0);
}

TEST(Tracker, MisuseIsAnError) {
  TrackerOptions o;
  o.interval_s = 0;
  Tracker none({}, o);
  EXPECT_FALSE(none.Start().ok());
  Tracker t(Sensors(1, 1), o);
  EXPECT_FALSE(t.Stop().ok());
  ASSERT_TRUE(t.Start().ok());
  EXPECT_FALSE(t.Start().ok());
}

}  // namespace
}  // namespace greenai::energy
