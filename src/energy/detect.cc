#include "energy/detect.h"

#include "energy/estimator.h"
#include "energy/nvml.h"
#include "energy/rapl.h"

namespace greenai::energy {

DetectedSensors DetectSensors(const DetectOptions& o) {
  DetectedSensors d;
  bool rapl_cpu = false, rapl_ram = false;
  if (o.use_rapl) {
    auto rapl = RaplSensor::Open(o.powercap_root);
    if (rapl.ok()) {
      for (const auto& z : (*rapl)->zones()) {
        rapl_cpu = rapl_cpu || z.component == "cpu";
        rapl_ram = rapl_ram || z.component == "ram";
      }
      d.summary = fmt::format("rapl({}{})", rapl_cpu ? "cpu" : "", rapl_ram ? ",ram" : "");
      d.sensors.push_back(std::move(*rapl));
    } else if (rapl.status().code() == StatusCode::kFailedPrecondition) {
      d.notes.push_back(rapl.status().message());
    } else {
      d.notes.push_back("no RAPL sensor (" + rapl.status().message() + "); CPU energy is estimated");
    }
  }
  if (!rapl_cpu || !rapl_ram) {
    EstimatorOptions eo;
    eo.proc_root = o.proc_root;
    eo.cpu_tdp_w = o.cpu_tdp_w;
    eo.estimate_cpu = !rapl_cpu;
    eo.estimate_ram = !rapl_ram;
    auto est = std::make_unique<EstimatorSensor>(eo);
    d.summary += fmt::format("{}estimator({}{}{})", d.summary.empty() ? "" : " + ", eo.estimate_cpu ? "cpu" : "",
                             eo.estimate_cpu && eo.estimate_ram ? "," : "", eo.estimate_ram ? "ram" : "");
    d.sensors.push_back(std::move(est));
  }
  if (o.use_nvml) {
    auto nvml = NvmlSensor::Open(o.nvml_library);
    if (nvml.ok()) {
      d.summary += fmt::format(" + nvml({} GPU)", (*nvml)->devices().size());
      d.sensors.push_back(std::move(*nvml));
    }
    // No NVML is the normal case on machines without an NVIDIA GPU: no note.
  }
  return d;
}

}  // namespace greenai::energy
