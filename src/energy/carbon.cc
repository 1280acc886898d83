#include "energy/carbon.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "energy/tables.h"

namespace greenai::energy {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool ParseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(*out);
}

}  // namespace

std::optional<double> ParseTimestamp(std::string_view raw) {
  std::string s = Trim(raw);
  double v;
  if (ParseDouble(s, &v)) return v;
  int Y, M, D, h = 0, m = 0;
  double sec = 0;
  char tz[8] = {0};
  int n = std::sscanf(s.c_str(), "%4d-%2d-%2d%*[T ]%2d:%2d", &Y, &M, &D, &h, &m);
  if (n != 5) {
    n = std::sscanf(s.c_str(), "%4d-%2d-%2d", &Y, &M, &D);
    if (n != 3 || s.size() != 10) return std::nullopt;
  } else {
    size_t colon2 = s.find(':', s.find(':') + 1);
    if (colon2 != std::string::npos) {
      if (std::sscanf(s.c_str() + colon2 + 1, "%lf%7s", &sec, tz) < 1) return std::nullopt;
    } else {
      size_t c = s.find(':');
      std::sscanf(s.c_str() + c + 3, "%7s", tz);
    }
    std::string z(tz);
    if (!z.empty() && z != "Z" && z != "+00:00") return std::nullopt;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec >= 61) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  return static_cast<double>(::timegm(&tm)) + sec;
}

std::string FormatTimestamp(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

Result<std::vector<std::pair<double, double>>> ParseIntensityCsv(std::string_view text, const std::string& name) {
  std::vector<std::pair<double, double>> rows;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    auto f = SplitCsvLine(t);
    if (!header_seen) {
      header_seen = true;
      if (f.size() != 2 || Trim(f[0]) != "timestamp" || Trim(f[1]) != "g_co2e_per_kwh") {
        return InvalidArgument("{}: line {}: header is '{}' but must be 'timestamp,g_co2e_per_kwh'", name, lineno, t);
      }
      continue;
    }
    if (f.size() != 2) {
      return InvalidArgument("{}: line {}: expected 2 fields (timestamp,g_co2e_per_kwh), found {}", name, lineno,
                             f.size());
    }
    auto ts = ParseTimestamp(f[0]);
    if (!ts) {
      return InvalidArgument("{}: line {}: timestamp '{}' is neither Unix seconds nor ISO 8601 UTC", name, lineno,
                             Trim(f[0]));
    }
    double g;
    if (!ParseDouble(Trim(f[1]), &g) || g < 0) {
      return InvalidArgument("{}: line {}: intensity '{}' is not a non-negative number", name, lineno, Trim(f[1]));
    }
    if (!rows.empty() && *ts <= rows.back().first) {
      return InvalidArgument("{}: line {}: timestamps must be strictly ascending", name, lineno);
    }
    rows.emplace_back(*ts, g);
  }
  if (!header_seen) return InvalidArgument("{}: empty file (expects header 'timestamp,g_co2e_per_kwh')", name);
  if (rows.empty()) return InvalidArgument("{}: no data rows after the header", name);
  return rows;
}

double CarbonSource::MeanIntensity(double t0, double t1) const {
  if (kind != Kind::kTimeSeries || series.empty()) return g_per_kwh;
  auto value_at = [&](double t) {
    auto it = std::upper_bound(series.begin(), series.end(), t,
                               [](double x, const std::pair<double, double>& p) { return x < p.first; });
    return it == series.begin() ? series.front().second : std::prev(it)->second;
  };
  if (t1 <= t0) return value_at(t0);
  // Integrate the step function over [t0, t1].
  double acc = 0.0, t = t0;
  while (t < t1) {
    auto it = std::upper_bound(series.begin(), series.end(), t,
                               [](double x, const std::pair<double, double>& p) { return x < p.first; });
    double next = it == series.end() ? t1 : std::min(t1, it->first);
    acc += value_at(t) * (next - t);
    t = next;
  }
  return acc / (t1 - t0);
}

double CarbonSource::Grams(double joules, double t0, double t1) const {
  return joules / kJoulesPerKwh * MeanIntensity(t0, t1) * pue;
}

std::vector<std::string> CloseCountryMatches(std::string_view query, size_t max) {
  std::string q = Upper(Trim(query));
  std::vector<std::pair<int, std::string>> scored;
  for (const auto& c : Countries()) {
    int d = EditDistance(q, c.iso3);
    std::string name_up = Upper(c.name);
    // A name or name prefix typed instead of the code is the likeliest mistake.
    if (q.size() >= 3 && name_up.find(q) != std::string::npos) d = 0;
    if (q.size() > 3) d = std::min(d, EditDistance(q, name_up));
    if (d <= 1 || (q.size() > 3 && d <= 2)) scored.emplace_back(d, c.iso3 + " (" + c.name + ")");
  }
  std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& s : scored) {
    if (out.size() >= max) break;
    out.push_back(s.second);
  }
  return out;
}

Result<CarbonSource> ResolveCarbon(const CarbonOptions& o) {
  int sources = !o.country.empty() + !o.cloud.empty() + o.intensity.has_value() + !o.intensity_csv.empty();
  if (sources > 1) {
    return InvalidArgument("carbon options: give at most one of --country, --cloud, --intensity, --intensity-csv "
                           "(got {})", sources);
  }
  if (!(o.pue >= 1.0 && o.pue <= 5.0)) {
    return InvalidArgument("carbon options: --pue {} is outside [1, 5] (1.0 = no datacenter overhead)", o.pue);
  }
  CarbonSource s;
  s.pue = o.pue;
  if (!o.country.empty()) {
    const CountryIntensity* c = FindCountry(Trim(o.country));
    if (!c) {
      auto close = CloseCountryMatches(o.country);
      std::string hint;
      for (size_t i = 0; i < close.size(); ++i) hint += (i ? ", " : "") + close[i];
      return NotFound("carbon options: unknown country code '{}' (ISO 3166 alpha-3 expected){}", o.country,
                      hint.empty() ? std::string() : "; close matches: " + hint);
    }
    s.kind = CarbonSource::Kind::kCountry;
    s.country_iso3 = c->iso3;
    s.country_name = c->name;
    s.g_per_kwh = c->g_per_kwh;
    s.label = fmt::format("{} ({}, {})", c->name, c->iso3, c->year);
  } else if (!o.cloud.empty()) {
    size_t colon = o.cloud.find(':');
    if (colon == std::string::npos) {
      return InvalidArgument("carbon options: --cloud '{}' must be PROVIDER:REGION, e.g. gcp:europe-west1", o.cloud);
    }
    std::string provider = o.cloud.substr(0, colon), region = o.cloud.substr(colon + 1);
    const CloudRegionIntensity* r = FindCloudRegion(provider, region);
    if (!r) {
      std::vector<std::pair<int, std::string>> scored;
      for (const auto& c : CloudRegions()) {
        int d = EditDistance(region, c.region) + EditDistance(provider, c.provider);
        if (d <= 3) scored.emplace_back(d, c.provider + ":" + c.region);
      }
      std::stable_sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first < b.first; });
      std::string hint;
      for (size_t i = 0; i < scored.size() && i < 5; ++i) hint += (i ? ", " : "") + scored[i].second;
      return NotFound("carbon options: unknown cloud region '{}' (known providers in the table: gcp){}", o.cloud,
                      hint.empty() ? std::string() : "; close matches: " + hint);
    }
    s.kind = CarbonSource::Kind::kCloud;
    s.cloud_provider = r->provider;
    s.cloud_region = r->region;
    s.country_iso3 = r->iso3;
    if (const CountryIntensity* c = FindCountry(r->iso3)) s.country_name = c->name;
    s.g_per_kwh = r->g_per_kwh;
    s.label = fmt::format("{}:{} ({})", r->provider, r->region, r->city);
  } else if (o.intensity) {
    if (!(*o.intensity >= 0 && std::isfinite(*o.intensity))) {
      return InvalidArgument("carbon options: --intensity {} must be a non-negative number of g/kWh", *o.intensity);
    }
    s.kind = CarbonSource::Kind::kConstant;
    s.g_per_kwh = *o.intensity;
    s.label = fmt::format("{} g/kWh (given)", *o.intensity);
  } else if (!o.intensity_csv.empty()) {
    std::ifstream f(o.intensity_csv, std::ios::binary);
    if (!f) return IoError("carbon options: cannot open --intensity-csv '{}'", o.intensity_csv);
    std::stringstream ss;
    ss << f.rdbuf();
    GREENAI_ASSIGN_OR_RETURN(s.series, ParseIntensityCsv(ss.str(), o.intensity_csv));
    s.kind = CarbonSource::Kind::kTimeSeries;
    double sum = 0;
    for (auto& p : s.series) sum += p.second;
    s.g_per_kwh = sum / static_cast<double>(s.series.size());
    s.label = fmt::format("time series {} ({} rows)", o.intensity_csv, s.series.size());
  } else {
    s.kind = CarbonSource::Kind::kWorldAverage;
    s.g_per_kwh = WorldAverageIntensity();
    s.label = fmt::format("world average {} g/kWh", s.g_per_kwh);
    s.warning = fmt::format("no carbon intensity given; using the world average {} g/kWh "
                            "(set --country ISO3, --cloud PROVIDER:REGION or --intensity G)", s.g_per_kwh);
  }
  return s;
}

Result<double> Sci(const SciInput& in) {
  if (!(in.units > 0)) return InvalidArgument("SCI: functional units R = {} must be > 0", in.units);
  if (in.embodied_g < 0) return InvalidArgument("SCI: embodied emissions M = {} g must be >= 0", in.embodied_g);
  return (in.energy_kwh * in.intensity_g_per_kwh + in.embodied_g) / in.units;
}

}  // namespace greenai::energy
