// NVML sensor: NVIDIA GPU energy via libnvidia-ml, loaded with dlopen at run time
// (no build-time dependency; absent library = no GPU sensor, not an error).
//
// Contract:
//  - Open(path) loads `path`, else $GREENAI_NVML_LIBRARY, else "libnvidia-ml.so.1".
//    NotFound when the library or a GPU is missing; Unavailable symbols that are
//    optional (process utilization) only disable what they provide.
//  - Per device: the total-energy counter (mJ, Volta and later) when it answers,
//    else power (mW) sampled at each Read and integrated by the trapezoid rule.
//  - One component "gpu" summing all devices; method "measured" for the counter and
//    for sampled power (both are hardware readings; the trapezoid error is bounded by
//    the sampling interval, see docs/methodology.md).
//  - process_share: smUtil of the attribution pids over smUtil of all processes from
//    nvmlDeviceGetProcessUtilization when available, else -1.
//  - Thread safety: one thread at a time. The library is unloaded on destruction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "energy/sensor.h"

namespace greenai::energy {

class NvmlSensor : public Sensor {
 public:
  struct Device {
    void* handle = nullptr;
    std::string name;
    bool has_energy_counter = false;
    unsigned long long first_mj = 0;
    double last_power_w = 0.0;
    double acc_j = 0.0;
    unsigned long long last_proc_ts = 0;
  };

  [[nodiscard]] static Result<std::unique_ptr<NvmlSensor>> Open(const std::string& library_path = "");
  ~NvmlSensor() override;
  NvmlSensor(const NvmlSensor&) = delete;
  NvmlSensor& operator=(const NvmlSensor&) = delete;

  std::string Name() const override { return "nvml"; }
  Result<std::vector<ComponentReading>> Read(double t) override;
  void SetAttributionPids(const std::vector<int>& pids) override { pids_ = pids; }
  const std::vector<Device>& devices() const { return devices_; }

  struct Api;  // resolved entry points (nvml.cc)

 private:
  NvmlSensor() = default;
  void* lib_ = nullptr;
  std::unique_ptr<Api> api_;
  std::vector<Device> devices_;
  std::vector<int> pids_;
  bool started_ = false;
  double last_t_ = 0.0;
};

}  // namespace greenai::energy
