// Tracker: polls sensors on a background thread, integrates energy per component,
// attributes a share to a process (tree), and keeps named, nestable windows.
//
// Contract:
//  - Start() takes the baseline reading and, when interval_s > 0, starts the sampler
//    thread; Stop() takes a final reading, joins the thread and returns the report.
//    A stopped tracker can be read (LastReport) but not restarted.
//  - BeginWindow(name)/EndWindow(name) take a reading at each boundary and return the
//    energy in between. Windows nest and may interleave across threads; for a name
//    opened several times, EndWindow closes the most recent one (LIFO per name).
//  - Process attribution: per interval, each component's energy times the share the
//    sensor reports (NVML per-process), else times the CPU-time share
//    d(process CPU s) / d(machine busy CPU s), clamped to [0, 1] (docs/methodology.md).
//  - Thread safety: all public methods are thread safe (one mutex; sensors are only
//    touched under it). on_sample runs on the sampling thread under that mutex and
//    must not call back into the tracker.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "energy/clock.h"
#include "energy/sensor.h"

namespace greenai::energy {

struct ComponentSample {
  std::string component;
  Method method = Method::kEstimated;
  std::string source;
  bool in_total = true;
  double energy_j = 0.0;          // since Start
  double process_energy_j = 0.0;  // share of energy_j attributed to the process (tree)
  double power_w = 0.0;           // mean over the last interval
  double utilization = -1;
};

struct Sample {
  double t = 0.0;      // seconds since Start
  double wall = 0.0;   // Unix time
  double dt = 0.0;     // since the previous sample
  double cpu_share = -1;  // process CPU-time share over the interval (-1: no attribution)
  std::vector<ComponentSample> components;
};

struct ComponentReport {
  std::string component;
  Method method = Method::kEstimated;
  std::string source;
  bool in_total = true;
  double energy_j = 0.0;
  double process_energy_j = 0.0;
  double mean_w = 0.0;
  double peak_w = 0.0;
  double last_w = 0.0;  // mean over the last sampling interval
  double mean_utilization = -1;
};

struct Report {
  double start_wall = 0.0;
  double end_wall = 0.0;
  double duration_s = 0.0;
  int samples = 0;
  std::vector<ComponentReport> components;
  double total_j = 0.0;          // components with in_total
  double process_total_j = 0.0;  // attributed share of total_j
  bool attributed = false;       // process attribution was active
  bool any_estimated = false;
  double process_cpu_s = 0.0;
  double sampler_cpu_s = 0.0;    // CPU time of the sampler thread (overhead)
  std::vector<std::string> notes;  // sensor fallbacks, hints

  const ComponentReport* Find(const std::string& component) const;
};

struct WindowReport {
  std::string name;
  double duration_s = 0.0;
  double total_j = 0.0;
  double process_total_j = 0.0;
  std::vector<ComponentReport> components;  // mean_w over the window; peak_w unused (0)
};

struct WindowStats {
  long count = 0;
  double total_j = 0.0;
  double process_total_j = 0.0;
  double duration_s = 0.0;
};

struct TrackerOptions {
  double interval_s = 1.0;  // 0: no thread; readings only at Start/Stop/windows/SampleNow
  // CPU seconds used so far by the attributed process (tree); empty = no attribution.
  std::function<double()> process_cpu_seconds;
  // Machine busy CPU seconds so far (default: /proc/stat); tests inject their own.
  std::function<double()> machine_busy_seconds;
  // Pids to pass to sensors that attribute per process (NVML); may be empty.
  std::function<std::vector<int>()> attribution_pids;
  std::function<void(const Sample&)> on_sample;
  std::vector<std::string> notes;  // carried into the report (from sensor detection)
};

class Tracker {
 public:
  Tracker(std::vector<std::unique_ptr<Sensor>> sensors, TrackerOptions options, const Clock& clock = SystemClock());
  ~Tracker();
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  [[nodiscard]] Status Start();
  [[nodiscard]] Result<Report> Stop();
  // Takes a reading now (tests with a FakeClock; callers wanting a fresh figure).
  [[nodiscard]] Status SampleNow();
  // Totals up to the last reading.
  Report LastReport() const;

  [[nodiscard]] Status BeginWindow(const std::string& name);
  [[nodiscard]] Result<WindowReport> EndWindow(const std::string& name);
  WindowStats Stats(const std::string& name) const;

  bool running() const;

 private:
  struct CompState {
    ComponentReport report;
    double base = 0.0;   // sensor cumulative value at Start
    double last = 0.0;   // sensor cumulative value at the last reading
    double util_sum = 0.0;
    int util_n = 0;
  };
  struct OpenWindow {
    double t = 0.0;
    std::map<std::string, std::pair<double, double>> energy;  // component -> (energy, process energy)
  };

  Status SampleLocked(bool first);
  Report ReportLocked() const;
  void Loop();
  double MachineBusySeconds() const;

  std::vector<std::unique_ptr<Sensor>> sensors_;
  TrackerOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
  double t0_ = 0.0, wall0_ = 0.0, last_t_ = 0.0, last_wall_ = 0.0;
  double proc_cpu0_ = 0.0, last_proc_cpu_ = 0.0, last_busy_ = 0.0;
  int samples_ = 0;
  double sampler_cpu_s_ = 0.0;
  std::map<std::string, CompState> comps_;
  std::vector<std::string> order_;  // components in first-seen order
  std::map<std::string, std::vector<OpenWindow>> windows_;
  std::map<std::string, WindowStats> stats_;
};

}  // namespace greenai::energy
