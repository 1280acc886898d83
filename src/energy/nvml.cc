#include "energy/nvml.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

namespace greenai::energy {
namespace {
constexpr int kNvmlSuccess = 0;
constexpr int kNvmlInsufficientSize = 7;

using nvmlDevice_t = void*;
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlProcessUtilizationSample_t {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil;
  unsigned int memUtil;
  unsigned int encUtil;
  unsigned int decUtil;
};
}  // namespace

struct NvmlSensor::Api {
  int (*init)() = nullptr;
  int (*shutdown)() = nullptr;
  int (*count)(unsigned int*) = nullptr;
  int (*handle)(unsigned int, nvmlDevice_t*) = nullptr;
  int (*name)(nvmlDevice_t, char*, unsigned int) = nullptr;
  int (*energy)(nvmlDevice_t, unsigned long long*) = nullptr;
  int (*power)(nvmlDevice_t, unsigned int*) = nullptr;
  int (*util)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  int (*proc_util)(nvmlDevice_t, nvmlProcessUtilizationSample_t*, unsigned int*, unsigned long long) = nullptr;
};

namespace {
template <typename F>
void Resolve(void* lib, const char* sym, F* out) {
  *out = reinterpret_cast<F>(::dlsym(lib, sym));
}
}  // namespace

Result<std::unique_ptr<NvmlSensor>> NvmlSensor::Open(const std::string& library_path) {
  std::string path = library_path;
  if (path.empty()) {
    const char* env = std::getenv("GREENAI_NVML_LIBRARY");
    path = env && *env ? env : "libnvidia-ml.so.1";
  }
  void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = ::dlerror();
    return NotFound("NVML: cannot load {} ({}); no NVIDIA GPU energy", path, e ? e : "unknown error");
  }
  std::unique_ptr<NvmlSensor> s(new NvmlSensor());
  s->lib_ = lib;
  s->api_ = std::make_unique<Api>();
  Api& a = *s->api_;
  Resolve(lib, "nvmlInit_v2", &a.init);
  Resolve(lib, "nvmlShutdown", &a.shutdown);
  Resolve(lib, "nvmlDeviceGetCount_v2", &a.count);
  Resolve(lib, "nvmlDeviceGetHandleByIndex_v2", &a.handle);
  Resolve(lib, "nvmlDeviceGetName", &a.name);
  Resolve(lib, "nvmlDeviceGetTotalEnergyConsumption", &a.energy);
  Resolve(lib, "nvmlDeviceGetPowerUsage", &a.power);
  Resolve(lib, "nvmlDeviceGetUtilizationRates", &a.util);
  Resolve(lib, "nvmlDeviceGetProcessUtilization", &a.proc_util);
  if (!a.init || !a.shutdown || !a.count || !a.handle || (!a.energy && !a.power)) {
    return NotFound("NVML: {} lacks nvmlInit_v2/nvmlDeviceGetCount_v2/energy or power entry points", path);
  }
  if (int rc = a.init(); rc != kNvmlSuccess) {
    a.shutdown = nullptr;  // not initialised: do not shut down
    return NotFound("NVML: nvmlInit_v2 failed with code {}", rc);
  }
  unsigned int n = 0;
  if (a.count(&n) != kNvmlSuccess || n == 0) return NotFound("NVML: no GPU devices");
  for (unsigned int i = 0; i < n; ++i) {
    Device d;
    if (a.handle(i, &d.handle) != kNvmlSuccess) return IoError("NVML: cannot get handle of GPU {}", i);
    char buf[96] = {0};
    if (a.name && a.name(d.handle, buf, sizeof buf) == kNvmlSuccess) d.name = buf;
    unsigned long long mj = 0;
    d.has_energy_counter = a.energy && a.energy(d.handle, &mj) == kNvmlSuccess;
    d.first_mj = mj;
    s->devices_.push_back(d);
  }
  return s;
}

NvmlSensor::~NvmlSensor() {
  if (api_ && api_->shutdown) api_->shutdown();
  if (lib_) ::dlclose(lib_);
}

Result<std::vector<ComponentReading>> NvmlSensor::Read(double t) {
  Api& a = *api_;
  double dt = started_ ? std::max(0.0, t - last_t_) : 0.0;
  bool all_counter = true;
  double util_sum = 0;
  int util_n = 0;
  double mine = 0, total = 0;
  bool share_known = a.proc_util != nullptr && !pids_.empty();
  for (size_t i = 0; i < devices_.size(); ++i) {
    Device& d = devices_[i];
    if (d.has_energy_counter) {
      unsigned long long mj = 0;
      if (a.energy(d.handle, &mj) != kNvmlSuccess) return IoError("NVML: GPU {} energy counter read failed", i);
      d.acc_j = static_cast<double>(mj - d.first_mj) * 1e-3;
    } else {
      all_counter = false;
      unsigned int mw = 0;
      if (!a.power || a.power(d.handle, &mw) != kNvmlSuccess) return IoError("NVML: GPU {} power read failed", i);
      double w = mw * 1e-3;
      if (started_) d.acc_j += 0.5 * (d.last_power_w + w) * dt;
      d.last_power_w = w;
    }
    if (a.util) {
      nvmlUtilization_t u{};
      if (a.util(d.handle, &u) == kNvmlSuccess) {
        util_sum += u.gpu / 100.0;
        ++util_n;
      }
    }
    if (share_known) {
      unsigned int count = 0;
      int rc = a.proc_util(d.handle, nullptr, &count, d.last_proc_ts);
      if (rc == kNvmlInsufficientSize || (rc == kNvmlSuccess && count > 0)) {
        std::vector<nvmlProcessUtilizationSample_t> buf(count);
        if (a.proc_util(d.handle, buf.data(), &count, d.last_proc_ts) == kNvmlSuccess) {
          for (unsigned int k = 0; k < count && k < buf.size(); ++k) {
            total += buf[k].smUtil;
            if (std::find(pids_.begin(), pids_.end(), static_cast<int>(buf[k].pid)) != pids_.end()) mine += buf[k].smUtil;
            d.last_proc_ts = std::max(d.last_proc_ts, buf[k].timeStamp);
          }
        } else {
          share_known = false;
        }
      } else if (rc != kNvmlSuccess) {
        share_known = false;
      }
    }
  }
  started_ = true;
  last_t_ = t;
  ComponentReading r;
  r.component = "gpu";
  r.method = Method::kMeasured;
  for (const auto& d : devices_) r.energy_j += d.acc_j;
  r.source = fmt::format("nvml {} GPU(s), {}", devices_.size(),
                         all_counter ? "energy counter" : "power sampling (trapezoid)");
  r.utilization = util_n ? util_sum / util_n : -1;
  // No process on the GPU in this interval: none of its energy is the tree's.
  r.process_share = share_known ? (total > 0 ? mine / total : 0.0) : -1.0;
  return std::vector<ComponentReading>{r};
}

}  // namespace greenai::energy
