// Sampler overhead: CPU time the Tracker's sampling thread spends per second of wall
// time, with the sensors auto-detected on this machine and process-tree attribution
// on (the `greenai measure` configuration), at 1 s and 0.1 s intervals. Also the cost
// of one BeginWindow/EndWindow pair (the per-inference hook).
//
//   build-energy/bench_energy_overhead [seconds_per_interval=20]
// Target: < 0.5 % of one core at 1 s.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "energy/detect.h"
#include "energy/procfs.h"
#include "energy/tracker.h"

using namespace greenai::energy;

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 20.0;
  int self = static_cast<int>(::getpid());
  for (double interval : {1.0, 0.1}) {
    DetectedSensors det = DetectSensors({});
    TrackerOptions o;
    o.interval_s = interval;
    o.process_cpu_seconds = [self] { return ReadProcessTreeCpu("/proc", self).cpu_seconds; };
    Tracker t(std::move(det.sensors), o);
    if (!t.Start().ok()) return 1;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    auto r = t.Stop();
    if (!r.ok()) return 1;
    std::printf("interval %.1f s: sensors %s; %d samples in %.2f s; sampler CPU %.4f s = %.3f %% of one core "
                "(%.3f ms per sample)\n",
                interval, det.summary.c_str(), r->samples, r->duration_s, r->sampler_cpu_s,
                100.0 * r->sampler_cpu_s / r->duration_s, 1e3 * r->sampler_cpu_s / std::max(1, r->samples - 2));
  }
  {
    DetectedSensors det = DetectSensors({});
    TrackerOptions o;
    o.interval_s = 1.0;
    Tracker t(std::move(det.sensors), o);
    if (!t.Start().ok()) return 1;
    const int n = 20000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      if (!t.BeginWindow("run").ok() || !t.EndWindow("run").ok()) return 1;
    }
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    (void)t.Stop();
    std::printf("window: %.2f us per BeginWindow+EndWindow pair (two sensor readings)\n", us);
  }
  return 0;
}
