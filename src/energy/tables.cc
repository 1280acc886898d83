#include "energy/tables.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace greenai::energy {
namespace internal {
extern const std::string_view kCountriesCsv;
extern const std::string_view kCloudRegionsCsv;
extern const std::string_view kSourcesCsv;
extern const std::string_view kCpuTdpCsv;
}  // namespace internal

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Rows of an embedded table, header skipped.
std::vector<std::vector<std::string>> Rows(std::string_view csv) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  bool header = true;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    if (nl == std::string_view::npos) nl = csv.size();
    std::string_view line = csv.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (header) {
      header = false;
      continue;
    }
    rows.push_back(SplitCsvLine(line));
  }
  return rows;
}

double ToDouble(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

std::vector<std::string> Tokens(std::string_view name) {
  std::string s = Lower(name);
  if (size_t at = s.find('@'); at != std::string::npos) s.resize(at);
  for (const char* noise : {"(r)", "(tm)", "(c)"}) {
    for (size_t p; (p = s.find(noise)) != std::string::npos;) s.erase(p, std::string_view(noise).size());
  }
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string t;
  while (in >> t) {
    if (t == "cpu" || t == "processor" || t == "apu" || t == "with") continue;
    // "64-core", "8-core": core counts, not part of the model name.
    if (t.size() > 5 && t.ends_with("-core")) continue;
    out.push_back(t);
  }
  return out;
}

bool HasDigit(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

int EditDistance(std::string_view a, std::string_view b) {
  std::string x = Lower(a), y = Lower(b);
  std::vector<int> prev(y.size() + 1), cur(y.size() + 1);
  for (size_t j = 0; j <= y.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= x.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= y.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[y.size()];
}

const std::vector<CountryIntensity>& Countries() {
  static const std::vector<CountryIntensity> table = [] {
    std::vector<CountryIntensity> t;
    for (auto& r : Rows(internal::kCountriesCsv)) {
      if (r.size() < 4) continue;
      t.push_back({r[0], r[1], std::atoi(r[2].c_str()), ToDouble(r[3])});
    }
    return t;
  }();
  return table;
}

const std::vector<CloudRegionIntensity>& CloudRegions() {
  static const std::vector<CloudRegionIntensity> table = [] {
    std::vector<CloudRegionIntensity> t;
    for (auto& r : Rows(internal::kCloudRegionsCsv)) {
      if (r.size() < 5) continue;
      t.push_back({r[0], r[1], r[2], r[3], ToDouble(r[4])});
    }
    return t;
  }();
  return table;
}

double WorldAverageIntensity() {
  static const double v = [] {
    for (auto& r : Rows(internal::kSourcesCsv)) {
      if (r.size() >= 2 && r[0] == "world_average") return ToDouble(r[1]);
    }
    return 475.0;
  }();
  return v;
}

const std::vector<CpuTdp>& CpuTdpTable() {
  static const std::vector<CpuTdp> table = [] {
    std::vector<CpuTdp> t;
    for (auto& r : Rows(internal::kCpuTdpCsv)) {
      if (r.size() < 2) continue;
      t.push_back({r[0], ToDouble(r[1])});
    }
    return t;
  }();
  return table;
}

const CountryIntensity* FindCountry(std::string_view iso3) {
  std::string key = Lower(iso3);
  for (const auto& c : Countries()) {
    if (Lower(c.iso3) == key) return &c;
  }
  return nullptr;
}

const CloudRegionIntensity* FindCloudRegion(std::string_view provider, std::string_view region) {
  std::string p = Lower(provider), r = Lower(region);
  for (const auto& c : CloudRegions()) {
    if (Lower(c.provider) == p && Lower(c.region) == r) return &c;
  }
  return nullptr;
}

std::optional<CpuTdp> LookupCpuTdp(std::string_view model_name) {
  std::vector<std::string> name = Tokens(model_name);
  if (name.empty()) return std::nullopt;
  const CpuTdp* best = nullptr;
  size_t best_len = 0;
  for (const auto& row : CpuTdpTable()) {
    std::vector<std::string> t = Tokens(row.model);
    if (t.empty()) continue;
    if (t == name) return row;
    if (t.size() <= best_len) continue;
    bool all = true, digit = false;
    for (const auto& tok : t) {
      if (std::find(name.begin(), name.end(), tok) == name.end()) {
        all = false;
        break;
      }
      digit = digit || HasDigit(tok);
    }
    if (all && digit) {
      best = &row;
      best_len = t.size();
    }
  }
  if (best) return *best;
  return std::nullopt;
}

}  // namespace greenai::energy
