// Estimator: modelled CPU and memory power where no hardware sensor exists (VMs,
// containers, RAPL unreadable). Every reading it returns is marked "estimated".
//
// Model (constants and sources in docs/methodology.md):
//   P_cpu(u) = TDP * (kIdleFraction + (1 - kIdleFraction) * u)
//     u   = machine CPU utilization over the interval, from /proc/stat
//     TDP = --cpu-tdp, else the embedded table matched on /proc/cpuinfo's model name,
//           else kFallbackWattsPerThread per logical CPU
//   P_ram   = kRamWattsPerGiB * MemTotal (GiB)
//   energy  = sum over intervals of P * dt (dt from the caller's clock).
//
// Contract: cumulative energies as in sensor.h; `proc_root` defaults to /proc so
// tests can use a fake tree. Thread safety: one thread at a time.
#pragma once

#include <optional>
#include <string>

#include "energy/procfs.h"
#include "energy/sensor.h"

namespace greenai::energy {

inline constexpr double kIdleFraction = 0.10;
inline constexpr double kFallbackWattsPerThread = 4.0;
inline constexpr double kRamWattsPerGiB = 0.3725;

struct EstimatorOptions {
  std::string proc_root = "/proc";
  std::optional<double> cpu_tdp_w;  // --cpu-tdp
  bool estimate_cpu = true;
  bool estimate_ram = true;
  ReadFileFn read = ReadFileDefault;
};

struct CpuPowerModel {
  double tdp_w = 0.0;
  std::string cpu_model;  // from cpuinfo
  std::string how;        // "--cpu-tdp", "table: AMD EPYC 7763", "fallback 4 W x 2 threads"
};
// Resolves the TDP the estimator will use (exposed for the CLI summary and tests).
CpuPowerModel ResolveCpuPower(const EstimatorOptions& options);

class EstimatorSensor : public Sensor {
 public:
  explicit EstimatorSensor(EstimatorOptions options);
  std::string Name() const override { return "estimator"; }
  Result<std::vector<ComponentReading>> Read(double t) override;

  const CpuPowerModel& cpu_model() const { return cpu_; }
  double ram_watts() const { return ram_w_; }
  double ram_gib() const { return ram_gib_; }
  // The modelled CPU power at utilization u (0..1).
  double CpuWatts(double u) const { return cpu_.tdp_w * (kIdleFraction + (1.0 - kIdleFraction) * u); }

 private:
  EstimatorOptions options_;
  CpuPowerModel cpu_;
  double ram_gib_ = 0.0;
  double ram_w_ = 0.0;
  bool started_ = false;
  double last_t_ = 0.0;
  CpuJiffies last_jiffies_;
  double cpu_j_ = 0.0;
  double ram_j_ = 0.0;
  double last_util_ = -1.0;
};

}  // namespace greenai::energy
