// Presentation of tracker results: the human summary, the JSON object, per-sample
// timeseries rows and Prometheus text. Every figure from an estimating sensor is
// labelled "estimated" wherever it is shown.
//
// Contract: pure functions of their inputs (no I/O); thread safety: none needed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "energy/carbon.h"
#include "energy/tracker.h"

namespace greenai::energy {

struct ReportContext {
  std::vector<std::string> command;  // empty for monitor / API use
  std::optional<int> exit_code;
  std::string exit_description;      // "exited with code 0", "killed by signal 9 (SIGKILL)"
  bool use_process_share = false;    // carbon and SCI from the process tree's share
  std::optional<double> units;       // SCI functional units
  std::string unit_name = "unit";
  double embodied_g = 0.0;
  std::string sensors;               // DetectSensors summary
};

struct CarbonFigures {
  double energy_kwh = 0.0;  // PUE applied, machine or process per use_process_share
  double intensity = 0.0;   // mean g/kWh over the run
  double grams = 0.0;
  double machine_grams = 0.0;
  double process_grams = 0.0;
  std::optional<double> sci;  // g per unit
};
CarbonFigures ComputeCarbon(const Report& r, const CarbonSource& c, const ReportContext& ctx);

std::string FormatSummary(const Report& r, const CarbonSource& c, const ReportContext& ctx);
nlohmann::json ReportToJson(const Report& r, const CarbonSource& c, const ReportContext& ctx);

// Timeseries CSV (long format, one row per component per sample).
std::string TimeseriesHeader();
std::string TimeseriesRows(const Sample& s);

// Prometheus text exposition format 0.0.4.
std::string PrometheusText(const Report& r, const CarbonSource& c);

}  // namespace greenai::energy
