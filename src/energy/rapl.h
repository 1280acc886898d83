// RAPL sensor over the Linux powercap tree (/sys/class/powercap/intel-rapl:*),
// which both Intel and AMD (kernel 5.11+) expose.
//
// Contract:
//  - Open() scans the tree once; it fails (NotFound) when there are no RAPL zones and
//    (FailedPrecondition) when a zone exists but energy_uj is unreadable, with a
//    one-line hint on granting read access. Callers then fall back to the estimator.
//  - Components: "cpu" = sum of package zones over sockets; "ram" = sum of dram
//    zones; breakdowns "cpu_core", "uncore", "psys" are reported with in_total=false.
//  - Per-die zones ("package-N-die-M") are used only when package N has no package
//    zone of its own; zones with a repeated name (AMD multi-die listings that expose
//    one package counter several times) are counted once.
//  - Wraparound: a counter lower than the previous reading wrapped at
//    max_energy_range_uj; the sensor must be read at least once per wrap period.
//  - Thread safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "energy/procfs.h"
#include "energy/sensor.h"

namespace greenai::energy {

class RaplSensor : public Sensor {
 public:
  struct Zone {
    std::string path;       // directory of the zone
    std::string name;       // contents of "name"
    std::string component;  // "cpu", "ram", "cpu_core", "uncore", "psys"
    double max_range_uj = 0;
    double last_uj = 0;
    double acc_j = 0;
  };

  // `root` is normally /sys/class/powercap.
  [[nodiscard]] static Result<std::unique_ptr<RaplSensor>> Open(const std::string& root = "/sys/class/powercap",
                                                                ReadFileFn read = ReadFileDefault);

  std::string Name() const override { return "rapl"; }
  Result<std::vector<ComponentReading>> Read(double t) override;
  const std::vector<Zone>& zones() const { return zones_; }

 private:
  RaplSensor(std::vector<Zone> zones, ReadFileFn read) : zones_(std::move(zones)), read_(std::move(read)) {}
  std::vector<Zone> zones_;
  ReadFileFn read_;
};

// The hint printed when energy_uj cannot be read.
std::string RaplPermissionHint(const std::string& path);

}  // namespace greenai::energy
