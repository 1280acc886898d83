#include "energy/rapl.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

namespace greenai::energy {
namespace {

std::string Strip(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

bool ParseUj(const std::string& s, double* out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (end == s.c_str()) return false;
  *out = static_cast<double>(v);
  return true;
}

// "package-0" -> 0, "package-1-die-0" -> 1, else -1.
int PackageIndex(const std::string& name) {
  if (name.rfind("package-", 0) != 0) return -1;
  return std::atoi(name.c_str() + 8);
}

}  // namespace

std::string RaplPermissionHint(const std::string& path) {
  return fmt::format("RAPL: {} is not readable (root-only since Linux 5.10, CVE-2020-8694); grant read access "
                     "with `sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj /sys/class/powercap/"
                     "intel-rapl:*:*/energy_uj` (until reboot) or a udev rule; falling back to the estimator",
                     path);
}

Result<std::unique_ptr<RaplSensor>> RaplSensor::Open(const std::string& root, ReadFileFn read) {
  std::vector<std::string> dirs;
  if (DIR* d = ::opendir(root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      // intel-rapl:N (package level) and intel-rapl:N:M (subzones); "intel-rapl" alone is the control type.
      if (n.rfind("intel-rapl:", 0) == 0) dirs.push_back(n);
    }
    ::closedir(d);
  }
  if (dirs.empty()) return NotFound("RAPL: no intel-rapl zones under {}", root);
  std::sort(dirs.begin(), dirs.end());

  std::vector<Zone> candidates;
  for (const auto& dname : dirs) {
    Zone z;
    z.path = root + "/" + dname;
    std::string s;
    if (read(z.path + "/name", &s) != 0) continue;
    z.name = Strip(s);
    int err = read(z.path + "/energy_uj", &s);
    if (err == EACCES || err == EPERM) {
      return FailedPrecondition("{}", RaplPermissionHint(z.path + "/energy_uj"));
    }
    if (err != 0 || !ParseUj(s, &z.last_uj)) continue;
    if (read(z.path + "/max_energy_range_uj", &s) == 0) ParseUj(s, &z.max_range_uj);
    if (z.name.rfind("package-", 0) == 0) {
      z.component = "cpu";
    } else if (z.name == "dram") {
      z.component = "ram";
    } else if (z.name == "core") {
      z.component = "cpu_core";
    } else if (z.name == "uncore") {
      z.component = "uncore";
    } else if (z.name == "psys") {
      z.component = "psys";
    } else {
      continue;
    }
    candidates.push_back(z);
  }

  // Packages with a whole-package zone: their die zones are parts of it.
  std::set<int> whole_packages;
  for (const auto& z : candidates) {
    if (z.component == "cpu" && z.name.find("-die-") == std::string::npos) whole_packages.insert(PackageIndex(z.name));
  }
  std::vector<Zone> zones;
  std::set<std::string> seen_cpu_names;
  for (auto& z : candidates) {
    if (z.component == "cpu") {
      if (z.name.find("-die-") != std::string::npos && whole_packages.count(PackageIndex(z.name))) continue;
      if (!seen_cpu_names.insert(z.name).second) continue;  // same package listed twice
    }
    zones.push_back(z);
  }
  if (zones.empty()) return NotFound("RAPL: zones under {} have no readable package or dram counters", root);
  return std::unique_ptr<RaplSensor>(new RaplSensor(std::move(zones), std::move(read)));
}

Result<std::vector<ComponentReading>> RaplSensor::Read(double /*t*/) {
  std::map<std::string, ComponentReading> by_comp;
  std::map<std::string, std::string> names;
  for (auto& z : zones_) {
    std::string s;
    double uj = 0;
    int err = read_(z.path + "/energy_uj", &s);
    if (err == EACCES || err == EPERM) return FailedPrecondition("{}", RaplPermissionHint(z.path + "/energy_uj"));
    if (err != 0 || !ParseUj(s, &uj)) {
      return IoError("RAPL: cannot read {}/energy_uj ({})", z.path, std::strerror(err ? err : EINVAL));
    }
    double delta = uj - z.last_uj;
    if (delta < 0) delta = z.max_range_uj > 0 ? (z.max_range_uj - z.last_uj) + uj : 0.0;
    z.last_uj = uj;
    z.acc_j += delta * 1e-6;
    auto& r = by_comp[z.component];
    r.component = z.component;
    r.energy_j += z.acc_j;
    r.method = Method::kMeasured;
    r.in_total = z.component == "cpu" || z.component == "ram";
    names[z.component] += (names[z.component].empty() ? "" : "+") + z.name;
  }
  std::vector<ComponentReading> out;
  for (auto& [comp, r] : by_comp) {
    r.source = "rapl " + names[comp];
    out.push_back(r);
  }
  return out;
}

}  // namespace greenai::energy
