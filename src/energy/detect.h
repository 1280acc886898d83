// Sensor auto-detection: RAPL when readable, NVML when loadable, and the estimator
// for whatever no hardware sensor covers (CPU without RAPL, RAM without a dram zone).
//
// Contract: never fails; what could not be used is explained in `notes` (one line
// each, e.g. the RAPL permission hint). Roots are configurable for tests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy/sensor.h"

namespace greenai::energy {

struct DetectOptions {
  std::string powercap_root = "/sys/class/powercap";
  std::string proc_root = "/proc";
  std::string nvml_library;  // "" = $GREENAI_NVML_LIBRARY or libnvidia-ml.so.1
  std::optional<double> cpu_tdp_w;
  bool use_rapl = true;
  bool use_nvml = true;
};

struct DetectedSensors {
  std::vector<std::unique_ptr<Sensor>> sensors;
  std::vector<std::string> notes;
  std::string summary;  // "rapl(cpu,ram) + estimator(ram) + nvml(1 GPU)"
};

DetectedSensors DetectSensors(const DetectOptions& options);

}  // namespace greenai::energy
