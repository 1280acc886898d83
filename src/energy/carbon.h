// Carbon: turns joules into grams of CO2e. One place resolves the carbon options
// shared by every subcommand (--country, --cloud, --intensity, --intensity-csv, --pue).
//
// Contract:
//  - ResolveCarbon accepts at most one intensity source; with none it uses the world
//    average (475 g/kWh) and sets `warning` to a one-line message for the user.
//  - Grams = kWh x intensity x PUE, where intensity is the time-weighted mean of the
//    source over the interval (constant sources: the constant).
//  - A time series is a step function: each row holds from its timestamp until the
//    next; before the first row the first value applies, after the last the last.
//  - SCI = (E * I + M) / R with E in kWh (PUE included), I in g/kWh, M embodied grams,
//    R functional units (Green Software Foundation SCI specification).
//  - Thread safety: values; no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace greenai::energy {

struct CarbonOptions {
  std::string country;        // ISO3, e.g. "FRA"
  std::string cloud;          // "provider:region", e.g. "gcp:europe-west1"
  std::optional<double> intensity;  // g/kWh
  std::string intensity_csv;  // path to "timestamp,g_co2e_per_kwh"
  double pue = 1.0;
};

struct CarbonSource {
  enum class Kind { kWorldAverage, kCountry, kCloud, kConstant, kTimeSeries };
  Kind kind = Kind::kWorldAverage;
  std::string label;          // human description: "France (FRA, 2023)", "gcp:europe-west1", ...
  std::string country_iso3;   // when known
  std::string country_name;
  std::string cloud_provider;
  std::string cloud_region;
  double g_per_kwh = 0.0;     // constant value, or the series' mean over its rows
  std::vector<std::pair<double, double>> series;  // (unix seconds, g/kWh), ascending
  double pue = 1.0;
  std::string warning;        // non-empty when the user should be told something

  // Time-weighted mean intensity over [t0, t1] (Unix seconds).
  double MeanIntensity(double t0, double t1) const;
  // Grams of CO2e for `joules` spent during [t0, t1], PUE applied.
  double Grams(double joules, double t0, double t1) const;
};

[[nodiscard]] Result<CarbonSource> ResolveCarbon(const CarbonOptions& options);

// Parses "timestamp,g_co2e_per_kwh" (header required; timestamps as Unix seconds or
// ISO 8601 "YYYY-MM-DDTHH:MM[:SS][Z]" in UTC; strictly ascending). `name` is used in
// error messages, which give the line number.
[[nodiscard]] Result<std::vector<std::pair<double, double>>> ParseIntensityCsv(std::string_view text,
                                                                             const std::string& name);
// Parses an ISO 8601 UTC timestamp or Unix seconds.
std::optional<double> ParseTimestamp(std::string_view s);
// Formats Unix seconds as "YYYY-MM-DDTHH:MM:SS" (UTC), CodeCarbon's timestamp style.
std::string FormatTimestamp(double unix_seconds);

// Up to `max` close matches for an unknown country code or name ("FRA (France)").
std::vector<std::string> CloseCountryMatches(std::string_view query, size_t max = 5);

struct SciInput {
  double energy_kwh = 0.0;       // PUE already applied
  double intensity_g_per_kwh = 0.0;
  double embodied_g = 0.0;
  double units = 1.0;
};
// grams CO2e per functional unit; error when units <= 0.
[[nodiscard]] Result<double> Sci(const SciInput& in);

inline constexpr double kJoulesPerKwh = 3.6e6;

}  // namespace greenai::energy
