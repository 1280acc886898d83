// EnergyProfiler: one tracker window per Session::Run, node joules split by time share.
// A fake sensor adds exactly 5 J per reading, so each run's window (one reading at its
// start, one at its end) holds 5 J by construction, independent of timing.
#include <gtest/gtest.h>

#include "energy/clock.h"
#include "energy/tracker.h"
#include "runtime/energy_profiler.h"

namespace greenai {
namespace {

class FiveJoulesPerRead : public energy::Sensor {
 public:
  std::string Name() const override { return "fake"; }
  Result<std::vector<energy::ComponentReading>> Read(double) override {
    energy::ComponentReading r;
    r.component = "cpu";
    r.energy_j = 5.0 * static_cast<double>(reads_++);
    r.method = energy::Method::kMeasured;
    r.source = "fake";
    return std::vector<energy::ComponentReading>{r};
  }

 private:
  int reads_ = 0;
};

std::unique_ptr<Model> TwoNodeModel() {
  auto m = std::make_unique<Model>();
  m->opset_imports.push_back({"", 17});
  Graph& g = *m->graph;
  g.inputs.push_back({"x", TensorType::Of(DType::kF32, {4, 8}), ""});
  g.AddNode("Relu", {"x"}, {"r"}, "relu");
  g.AddNode("Neg", {"r"}, {"y"}, "neg");
  g.outputs.push_back({"y", TensorType::Of(DType::kF32, {4, 8}), ""});
  return m;
}

TEST(EnergyProfiler, OneWindowPerRunAndNodeJoulesSumToTheRuns) {
  energy::FakeClock clock;
  std::vector<std::unique_ptr<energy::Sensor>> sensors;
  sensors.push_back(std::make_unique<FiveJoulesPerRead>());
  energy::TrackerOptions topts;
  topts.interval_s = 0;  // readings only at start/stop and window edges
  topts.machine_busy_seconds = [] { return 0.0; };
  energy::Tracker tracker(std::move(sensors), topts, clock);
  ASSERT_TRUE(tracker.Start().ok());

  EnergyProfiler prof(tracker);
  SessionOptions opts;
  opts.profiler = &prof;
  opts.optimize = false;
  auto s = Session::Create(*TwoNodeModel(), opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Tensor x = Tensor::FromVector<float>({4, 8}, std::vector<float>(32, 1.f));
  for (int i = 0; i < 3; ++i) {
    clock.Advance(1.0);
    ASSERT_TRUE((*s)->Run({{"x", x}}).ok());
  }
  EXPECT_EQ(prof.runs(), 3);
  EXPECT_DOUBLE_EQ(prof.JoulesPerRun(), 5.0);
  double sum = prof.NodeJoules(0) + prof.NodeJoules(1);
  EXPECT_NEAR(sum, 15.0, 1e-9);
  EXPECT_EQ(prof.NodeJoules(2), 0.0);
  ASSERT_TRUE(tracker.Stop().ok());
}

}  // namespace
}  // namespace greenai
