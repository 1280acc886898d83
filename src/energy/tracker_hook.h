// TrackerHook: opens one Tracker window per model run so the runtime can report
// joules per inference. The energy layer must not depend on the runtime, so this is a
// plain class with the two methods a runtime ProfilerHook adapter forwards to:
//   struct EnergyProfiler : runtime::ProfilerHook {
//     energy::TrackerHook hook;  void OnRunBegin(...) { hook.OnRunBegin(); } ...
//   };
//
// Contract: the Tracker must outlive the hook and be started. Runs may overlap on
// several threads; each OnRunEnd closes the most recent open window of this hook's
// name (windows are LIFO per name), so concurrent runs are summed correctly in
// Stats() even if individual windows pair up differently. Errors from the tracker
// are counted, never thrown: energy accounting must not break inference.
#pragma once

#include <atomic>
#include <string>

#include "energy/tracker.h"

namespace greenai::energy {

class TrackerHook {
 public:
  explicit TrackerHook(Tracker& tracker, std::string window_name = "run")
      : tracker_(tracker), name_(std::move(window_name)) {}

  void OnRunBegin() {
    if (!tracker_.BeginWindow(name_).ok()) ++errors_;
  }
  void OnRunEnd() {
    auto r = tracker_.EndWindow(name_);
    if (!r.ok()) ++errors_;
  }

  // Runs seen, and total and mean joules per run (machine and attributed process).
  WindowStats Stats() const { return tracker_.Stats(name_); }
  double JoulesPerRun() const {
    WindowStats s = Stats();
    return s.count ? s.total_j / static_cast<double>(s.count) : 0.0;
  }
  long errors() const { return errors_.load(); }

 private:
  Tracker& tracker_;
  std::string name_;
  std::atomic<long> errors_{0};
};

}  // namespace greenai::energy
