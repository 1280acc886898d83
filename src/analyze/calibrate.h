// Calibration of the "local" hardware profile: measures this machine's f32 GEMM rate
// (oneDNN sgemm, all threads) and streaming copy bandwidth (memcpy of a buffer far larger
// than the caches, split over threads), and takes the TDP the energy meter's estimator
// uses (energy/estimator.h: table lookup on the CPU model, else a per-thread fallback).
//
// Both figures are the best of several repetitions: the aim is an achievable peak, and
// other processes can only make a run slower. Copy bandwidth counts bytes read plus bytes
// written (STREAM "copy" convention).
//
// WriteLocalProfile writes <config_dir>/local.json atomically (temp file + rename), creating
// the folder. Errors name the path. Thread safety: Calibrate uses every core; call it alone.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "analyze/hardware.h"
#include "core/status.h"

namespace greenai::analyze {

struct CalibrationOptions {
  int64_t gemm_n = 1024;              // square sgemm size
  int gemm_reps = 6;
  size_t copy_bytes = size_t{256} << 20;  // per buffer (two buffers)
  int copy_reps = 6;
  int threads = 0;                    // copy threads; 0 = hardware concurrency
  // Called after every repetition: stage ("gemm" / "copy") and overall progress in [0, 1].
  std::function<void(std::string_view stage, double fraction)> progress;
};

Result<HardwareProfile> Calibrate(const CalibrationOptions& options);
Status WriteLocalProfile(const HardwareProfile& profile, const std::string& config_dir);

}  // namespace greenai::analyze
