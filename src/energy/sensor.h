// Sensor: one interface over every source of energy figures (RAPL, NVML, the
// estimator, fakes). The Tracker polls sensors; it never knows which kind it holds.
//
// Contract:
//  - Read(t) returns, per component, the energy in joules accumulated since the
//    sensor's first Read (cumulative, never decreasing: counter wraparound is the
//    sensor's job). `t` is the caller's monotonic time in seconds; sensors that
//    integrate power (estimator, NVML without an energy counter) use it as the
//    sample time so a FakeClock drives them deterministically.
//  - Every reading says whether it was measured by hardware or estimated by a model.
//  - Components in `in_total == false` are breakdowns already contained in another
//    component (RAPL core/uncore inside the package, psys containing everything)
//    and must not be added to the machine total.
//  - Thread safety: a Sensor is used by one thread at a time (the Tracker locks).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace greenai::energy {

enum class Method { kMeasured, kEstimated };
inline const char* MethodName(Method m) { return m == Method::kMeasured ? "measured" : "estimated"; }

struct ComponentReading {
  std::string component;   // "cpu", "ram", "gpu", or a breakdown ("cpu_core", "uncore", "psys")
  double energy_j = 0.0;   // cumulative since the first Read
  Method method = Method::kEstimated;
  std::string source;      // e.g. "rapl package-0+package-1", "nvml energy counter", "tdp 8 W (fallback)"
  bool in_total = true;
  double utilization = -1; // 0..1 over the last interval when known, else -1
  // Share (0..1) of this component's energy over the last interval that belongs to
  // the processes passed to SetAttributionPids; -1 when the sensor cannot tell
  // (the Tracker then uses the CPU-time share).
  double process_share = -1;
};

class Sensor {
 public:
  virtual ~Sensor() = default;
  virtual std::string Name() const = 0;
  [[nodiscard]] virtual Result<std::vector<ComponentReading>> Read(double t) = 0;
  // Processes whose share the sensor should report (only NVML can). Default: ignored.
  virtual void SetAttributionPids(const std::vector<int>& /*pids*/) {}
};

}  // namespace greenai::energy
