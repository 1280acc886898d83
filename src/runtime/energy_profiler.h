// EnergyProfiler: a Session ProfilerHook that measures joules per run with an
// energy::Tracker window around every Session::Run, and times every node.
//
// Per-node joules are *attributed*, not measured: a run's energy is split over its nodes
// by their share of the run's wall time (RAPL and the estimator cannot resolve
// microsecond-long ops). Every figure carries the tracker's method (measured/estimated).
//
// Contract: the Tracker must be started and outlive the profiler; one Session at a time.
#pragma once

#include <string>
#include <vector>

#include "energy/tracker.h"
#include "energy/tracker_hook.h"
#include "runtime/session.h"

namespace greenai {

class EnergyProfiler : public ProfilerHook {
 public:
  explicit EnergyProfiler(energy::Tracker& tracker, std::string window = "inference")
      : hook_(tracker, std::move(window)) {}

  void OnRunBegin() override { hook_.OnRunBegin(); }
  void OnRunEnd() override { hook_.OnRunEnd(); }
  void OnNodeBegin(size_t i, const Node& n, std::string_view k) override { timing_.OnNodeBegin(i, n, k); }
  void OnNodeEnd(size_t i, const Node& n, std::string_view k) override { timing_.OnNodeEnd(i, n, k); }

  int64_t runs() const { return hook_.Stats().count; }
  double JoulesPerRun() const { return hook_.JoulesPerRun(); }
  const TimingProfiler& timing() const { return timing_; }
  // Joules attributed to node i over all runs (by time share).
  double NodeJoules(size_t i) const;

 private:
  energy::TrackerHook hook_;
  TimingProfiler timing_;
};

}  // namespace greenai
