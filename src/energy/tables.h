// Reference tables compiled into the binary (data/carbon/*.csv, embedded by
// cmake/energy.cmake): grid carbon intensity per country and cloud region, the
// world average, and CPU TDP per model name. Sources and attribution: docs/methodology.md.
//
// Contract: the tables are parsed once on first use (thread safe, function-local
// statics) and live for the process. Lookups are case-insensitive.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace greenai::energy {

struct CountryIntensity {
  std::string iso3;
  std::string name;
  int year = 0;
  double g_per_kwh = 0.0;
};
struct CloudRegionIntensity {
  std::string provider;
  std::string region;
  std::string iso3;
  std::string city;
  double g_per_kwh = 0.0;
};
struct CpuTdp {
  std::string model;
  double watts = 0.0;
};

const std::vector<CountryIntensity>& Countries();
const std::vector<CloudRegionIntensity>& CloudRegions();
// World average (g/kWh) from carbon_intensity_per_source.csv (475, IEA 2019).
double WorldAverageIntensity();
const std::vector<CpuTdp>& CpuTdpTable();

const CountryIntensity* FindCountry(std::string_view iso3);
const CloudRegionIntensity* FindCloudRegion(std::string_view provider, std::string_view region);

// Matches a /proc/cpuinfo model name against the TDP table: brand noise ("(R)",
// "CPU", "@ 2.9GHz", "64-Core Processor") is dropped, then an exact token match wins,
// else the longest table entry whose tokens all appear in the name and which includes
// a model number (so a bare "AMD EPYC" matches nothing rather than a random EPYC).
std::optional<CpuTdp> LookupCpuTdp(std::string_view model_name);

// Splits one CSV line (RFC 4180 quotes) into fields.
std::vector<std::string> SplitCsvLine(std::string_view line);
// Levenshtein distance, case-insensitive.
int EditDistance(std::string_view a, std::string_view b);

}  // namespace greenai::energy
