// Calibration of the local profile: see analyze/calibrate.h.
#include "analyze/calibrate.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <oneapi/dnnl/dnnl.h>

#include "core/file_util.h"
#include "energy/estimator.h"

namespace greenai::analyze {

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<char, FreeDeleter>;

Result<Buffer> Allocate(size_t bytes, const char* what) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) return ResourceExhausted("calibrate: cannot allocate {} bytes for the {} benchmark", bytes, what);
  return Buffer(static_cast<char*>(p));
}

}  // namespace

Result<HardwareProfile> Calibrate(const CalibrationOptions& o) {
  if (o.gemm_n < 16 || o.gemm_reps < 1 || o.copy_reps < 1 || o.copy_bytes < 4096)
    return InvalidArgument("calibrate: sizes too small (gemm_n {} >= 16, reps >= 1, copy_bytes {} >= 4096)", o.gemm_n,
                           o.copy_bytes);
  const int total_steps = (o.gemm_reps + 1) + (o.copy_reps + 1) + 1;  // warm-ups and the final step count
  int step = 0;
  auto tick = [&](std::string_view stage) {
    ++step;
    if (o.progress) o.progress(stage, static_cast<double>(step) / total_steps);
  };

  // GEMM: one untimed warm-up (thread pool start, page faults), then the best repetition.
  const int64_t n = o.gemm_n;
  const size_t mat = static_cast<size_t>(n * n) * sizeof(float);
  GREENAI_ASSIGN_OR_RETURN(Buffer a, Allocate(mat, "gemm"));
  GREENAI_ASSIGN_OR_RETURN(Buffer b, Allocate(mat, "gemm"));
  GREENAI_ASSIGN_OR_RETURN(Buffer c, Allocate(mat, "gemm"));
  float* af = reinterpret_cast<float*>(a.get());
  float* bf = reinterpret_cast<float*>(b.get());
  float* cf = reinterpret_cast<float*>(c.get());
  for (int64_t i = 0; i < n * n; ++i) {
    af[i] = static_cast<float>((i * 7) % 13) * 0.01f;
    bf[i] = static_cast<float>((i * 5) % 11) * 0.01f;
  }
  double best_gemm = 1e300;
  for (int r = 0; r <= o.gemm_reps; ++r) {
    const double t0 = Now();
    if (dnnl_sgemm('N', 'N', n, n, n, 1.0f, af, n, bf, n, 0.0f, cf, n) != dnnl_success)
      return Status(StatusCode::kInternal, fmt::format("calibrate: oneDNN sgemm {}^3 failed", n));
    const double dt = Now() - t0;
    if (r > 0) best_gemm = std::min(best_gemm, dt);
    tick("gemm");
  }
  const double peak = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best_gemm;
  a.reset();
  b.reset();
  c.reset();

  // Copy: each thread copies its own slice; touch both buffers first so page faults are untimed.
  const int threads = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  GREENAI_ASSIGN_OR_RETURN(Buffer src, Allocate(o.copy_bytes, "copy"));
  GREENAI_ASSIGN_OR_RETURN(Buffer dst, Allocate(o.copy_bytes, "copy"));
  std::memset(src.get(), 1, o.copy_bytes);
  std::memset(dst.get(), 0, o.copy_bytes);
  const size_t slice = o.copy_bytes / static_cast<size_t>(threads) / 64 * 64;
  double best_copy = 1e300;
  for (int r = 0; r <= o.copy_reps; ++r) {
    std::vector<std::thread> pool;
    const double t0 = Now();
    for (int t = 0; t < threads; ++t) {
      const size_t off = static_cast<size_t>(t) * slice;
      const size_t len = t == threads - 1 ? o.copy_bytes - off : slice;
      pool.emplace_back([&, off, len] { std::memcpy(dst.get() + off, src.get() + off, len); });
    }
    for (auto& th : pool) th.join();
    const double dt = Now() - t0;
    if (r > 0) best_copy = std::min(best_copy, dt);
    tick("copy");
  }
  const double bandwidth = 2.0 * static_cast<double>(o.copy_bytes) / best_copy;

  const energy::CpuPowerModel power = energy::ResolveCpuPower(energy::EstimatorOptions{});
  HardwareProfile p;
  p.name = "local";
  p.kind = "device";
  p.description = fmt::format("this machine ({}, {} threads), measured by greenai analyze --calibrate",
                              power.cpu_model.empty() ? "unknown CPU" : power.cpu_model,
                              std::thread::hardware_concurrency());
  p.peak_flops_f32 = peak;
  p.bandwidth = bandwidth;
  p.tdp_w = power.tdp_w;
  p.source = fmt::format(
      "measured: best of {} oneDNN sgemm {}^3 runs ({:.4f} s), best of {} memcpy runs of {} MiB over {} threads "
      "({:.4f} s, read+write bytes); TDP {:.1f} W from the energy estimator ({})",
      o.gemm_reps, n, best_gemm, o.copy_reps, o.copy_bytes >> 20, threads, best_copy, power.tdp_w, power.how);
  tick("done");
  return p;
}

Status WriteLocalProfile(const HardwareProfile& profile, const std::string& config_dir) {
  if (config_dir.empty()) return InvalidArgument("calibrate: no config folder (set HOME or XDG_CONFIG_HOME)");
  std::error_code ec;
  std::filesystem::create_directories(config_dir, ec);
  if (ec) return IoError("calibrate: cannot create folder {}: {}", config_dir, ec.message());
  return WriteFileAtomic(config_dir + "/local.json", ProfileToJson(profile));
}

}  // namespace greenai::analyze
