#include "energy/estimator.h"

#include <algorithm>
#include <thread>

#include "energy/tables.h"

namespace greenai::energy {

CpuPowerModel ResolveCpuPower(const EstimatorOptions& o) {
  CpuPowerModel m;
  m.cpu_model = ReadCpuModelName(o.proc_root, o.read);
  if (o.cpu_tdp_w) {
    m.tdp_w = *o.cpu_tdp_w;
    m.how = fmt::format("--cpu-tdp {} W", *o.cpu_tdp_w);
    return m;
  }
  if (auto hit = LookupCpuTdp(m.cpu_model)) {
    m.tdp_w = hit->watts;
    m.how = fmt::format("TDP {} W from table ({})", hit->watts, hit->model);
    return m;
  }
  int threads = CountCpuinfoProcessors(o.proc_root, o.read);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  m.tdp_w = kFallbackWattsPerThread * threads;
  m.how = fmt::format("TDP fallback {} W x {} threads = {} W (model '{}' not in table; set --cpu-tdp)",
                      kFallbackWattsPerThread, threads, m.tdp_w, m.cpu_model.empty() ? "unknown" : m.cpu_model);
  return m;
}

EstimatorSensor::EstimatorSensor(EstimatorOptions options) : options_(std::move(options)) {
  cpu_ = ResolveCpuPower(options_);
  ram_gib_ = static_cast<double>(ReadMemTotalBytes(options_.proc_root, options_.read)) / (1024.0 * 1024.0 * 1024.0);
  ram_w_ = kRamWattsPerGiB * ram_gib_;
}

Result<std::vector<ComponentReading>> EstimatorSensor::Read(double t) {
  CpuJiffies j = ReadCpuJiffies(options_.proc_root, options_.read);
  if (!started_) {
    started_ = true;
  } else {
    double dt = std::max(0.0, t - last_t_);
    double u = 0.0;
    if (j.ok && last_jiffies_.ok && j.total > last_jiffies_.total) {
      double dtot = static_cast<double>(j.total - last_jiffies_.total);
      double didle = j.idle >= last_jiffies_.idle ? static_cast<double>(j.idle - last_jiffies_.idle) : 0.0;
      u = std::clamp(1.0 - didle / dtot, 0.0, 1.0);
      last_util_ = u;
    }
    cpu_j_ += CpuWatts(u) * dt;
    ram_j_ += ram_w_ * dt;
  }
  last_t_ = t;
  last_jiffies_ = j;
  std::vector<ComponentReading> out;
  if (options_.estimate_cpu) {
    ComponentReading r;
    r.component = "cpu";
    r.energy_j = cpu_j_;
    r.method = Method::kEstimated;
    r.source = cpu_.how;
    r.utilization = last_util_;
    out.push_back(r);
  }
  if (options_.estimate_ram) {
    ComponentReading r;
    r.component = "ram";
    r.energy_j = ram_j_;
    r.method = Method::kEstimated;
    r.source = fmt::format("{} W/GiB x {:.2f} GiB", kRamWattsPerGiB, ram_gib_);
    out.push_back(r);
  }
  return out;
}

}  // namespace greenai::energy
