// CodeCarbon-compatible emissions.csv: the same 38 columns in the same order as
// CodeCarbon 3.x's EmissionsData (codecarbon/output_methods/emissions_data.py), so
// its dashboards and scripts read greenai's files. Units follow CodeCarbon: energy in
// kWh, emissions in kg CO2e, power in W, emissions_rate in kg/s, duration in s.
//
// Contract:
//  - AppendEmissionsRow writes the header when the file is new or empty, then the row
//    with ONE write() of a complete line on an O_APPEND descriptor, so a writer killed
//    at any point leaves only complete rows. A file whose last line is incomplete (a
//    crash of another writer) is repaired by dropping that fragment first.
//  - CheckWritable(dir) fails early with a clear message when the folder cannot take
//    the file, before any work is measured.
//  - Thread safety: concurrent appends from separate processes are line-atomic.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "energy/carbon.h"
#include "energy/tracker.h"

namespace greenai::energy {

inline constexpr std::array<std::string_view, 38> kCodeCarbonColumns = {
    "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
    "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
    "water_consumed", "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
    "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude",
    "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
    "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue"};

std::string EmissionsCsvHeader();

struct EmissionsRowInput {
  std::string project_name = "greenai";
  std::string run_id;         // UUID; generated when empty
  std::string experiment_id;  // free text
  std::string tracking_mode = "machine";  // "machine" or "process" (CodeCarbon's values)
  bool use_process_share = false;         // energies from the process attribution
  std::string cpu_model;
  int cpu_count = 0;
  std::string gpu_model;
  int gpu_count = 0;
  double ram_total_gb = 0.0;
};

// One CSV line (with trailing '\n') for a finished run.
std::string FormatEmissionsRow(const Report& report, const CarbonSource& carbon, const EmissionsRowInput& in);

[[nodiscard]] Status AppendEmissionsRow(const std::string& path, const std::string& row);
[[nodiscard]] Status CheckWritable(const std::string& dir);

// RFC 4180 quoting when needed.
std::string CsvField(std::string_view s);
std::string NewRunId();

}  // namespace greenai::energy
