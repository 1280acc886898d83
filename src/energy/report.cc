#include "energy/report.h"

#include <cmath>

namespace greenai::energy {
namespace {
constexpr double kJoulesPerWh = 3600.0;

const char* Label(const ComponentReport& c) { return MethodName(c.method); }
}  // namespace

CarbonFigures ComputeCarbon(const Report& r, const CarbonSource& c, const ReportContext& ctx) {
  CarbonFigures f;
  f.intensity = c.MeanIntensity(r.start_wall, r.end_wall);
  f.machine_grams = c.Grams(r.total_j, r.start_wall, r.end_wall);
  f.process_grams = c.Grams(r.process_total_j, r.start_wall, r.end_wall);
  bool proc = ctx.use_process_share && r.attributed;
  f.energy_kwh = (proc ? r.process_total_j : r.total_j) * c.pue / kJoulesPerKwh;
  f.grams = proc ? f.process_grams : f.machine_grams;
  if (ctx.units) {
    auto sci = Sci({f.energy_kwh, f.intensity, ctx.embodied_g, *ctx.units});
    if (sci.ok()) f.sci = *sci;
  }
  return f;
}

std::string FormatSummary(const Report& r, const CarbonSource& c, const ReportContext& ctx) {
  std::string out;
  if (!ctx.command.empty()) {
    std::string cmd;
    for (const auto& a : ctx.command) cmd += (cmd.empty() ? "" : " ") + a;
    out += fmt::format("greenai measure: '{}' {} after {:.3f} s\n", cmd, ctx.exit_description, r.duration_s);
  } else {
    out += fmt::format("greenai: {:.3f} s measured\n", r.duration_s);
  }
  if (!ctx.sensors.empty()) out += fmt::format("  sensors: {}\n", ctx.sensors);
  out += fmt::format("  {:<9} {:>12} {:>11} {:>9} {:>9}  {:<9}  {}\n", "component", "energy J", "energy Wh", "mean W",
                     "peak W", "method", "source");
  for (const auto& cr : r.components) {
    out += fmt::format("  {:<9} {:>12.3f} {:>11.6f} {:>9.2f} {:>9.2f}  {:<9}  {}{}\n", cr.component, cr.energy_j,
                       cr.energy_j / kJoulesPerWh, cr.mean_w, cr.peak_w, Label(cr), cr.source,
                       cr.in_total ? "" : " (part of another component, not in total)");
  }
  const char* tot_label = r.any_estimated ? "estimated" : "measured";
  out += fmt::format("  {:<9} {:>12.3f} {:>11.6f} {:>9.2f} {:>9}  {}\n", "total", r.total_j, r.total_j / kJoulesPerWh,
                     r.duration_s > 0 ? r.total_j / r.duration_s : 0.0, "", tot_label);
  if (r.attributed) {
    out += fmt::format("  process tree: {:.3f} J ({:.6f} Wh, {}), {:.3f} CPU s, attributed by CPU-time share\n",
                       r.process_total_j, r.process_total_j / kJoulesPerWh, tot_label, r.process_cpu_s);
  }
  CarbonFigures f = ComputeCarbon(r, c, ctx);
  out += fmt::format("  carbon: {:.4f} gCO2e machine{} ({}) at {:.1f} g/kWh, {}, PUE {}\n", f.machine_grams,
                     r.attributed ? fmt::format(", {:.4f} gCO2e process tree", f.process_grams) : std::string(),
                     tot_label, f.intensity, c.label, c.pue);
  if (f.sci) {
    out += fmt::format("  SCI: {:.6g} gCO2e per {} ({} {}s, embodied {} g, {})\n", *f.sci, ctx.unit_name, *ctx.units,
                       ctx.unit_name, ctx.embodied_g, tot_label);
  }
  for (const auto& n : r.notes) out += "  note: " + n + "\n";
  return out;
}

nlohmann::json ReportToJson(const Report& r, const CarbonSource& c, const ReportContext& ctx) {
  using nlohmann::json;
  json j;
  if (!ctx.command.empty()) j["command"] = ctx.command;
  if (ctx.exit_code) j["exit_code"] = *ctx.exit_code;
  if (!ctx.exit_description.empty()) j["exit"] = ctx.exit_description;
  j["start"] = FormatTimestamp(r.start_wall) + "Z";
  j["duration_s"] = r.duration_s;
  j["samples"] = r.samples;
  j["sensors"] = ctx.sensors;
  json comps = json::array();
  for (const auto& cr : r.components) {
    json e = {{"component", cr.component},
              {"method", Label(cr)},
              {"source", cr.source},
              {"in_total", cr.in_total},
              {"energy_j", cr.energy_j},
              {"energy_wh", cr.energy_j / kJoulesPerWh},
              {"mean_w", cr.mean_w},
              {"peak_w", cr.peak_w}};
    if (r.attributed) e["process_energy_j"] = cr.process_energy_j;
    if (cr.mean_utilization >= 0) e["utilization"] = cr.mean_utilization;
    comps.push_back(e);
  }
  j["components"] = comps;
  j["method"] = r.any_estimated ? "estimated" : "measured";
  j["total_j"] = r.total_j;
  j["total_wh"] = r.total_j / kJoulesPerWh;
  if (r.attributed) {
    j["process_j"] = r.process_total_j;
    j["process_cpu_s"] = r.process_cpu_s;
    j["attribution"] = "cpu-time share";
  }
  CarbonFigures f = ComputeCarbon(r, c, ctx);
  json carbon = {{"g_co2e", f.machine_grams},
                 {"intensity_g_per_kwh", f.intensity},
                 {"intensity_source", c.label},
                 {"pue", c.pue},
                 {"method", r.any_estimated ? "estimated" : "measured"}};
  if (r.attributed) carbon["process_g_co2e"] = f.process_grams;
  if (!c.country_iso3.empty()) carbon["country_iso3"] = c.country_iso3;
  if (!c.warning.empty()) carbon["warning"] = c.warning;
  j["carbon"] = carbon;
  if (f.sci) {
    j["sci"] = {{"g_co2e_per_unit", *f.sci},
                {"unit", ctx.unit_name},
                {"units", *ctx.units},
                {"embodied_g", ctx.embodied_g},
                {"energy_kwh", f.energy_kwh},
                {"method", r.any_estimated ? "estimated" : "measured"}};
  }
  j["notes"] = r.notes;
  return j;
}

std::string TimeseriesHeader() {
  return "timestamp,elapsed_s,component,power_w,energy_j,process_energy_j,utilization,method\n";
}

std::string TimeseriesRows(const Sample& s) {
  std::string out;
  for (const auto& c : s.components) {
    out += fmt::format("{:.3f},{:.3f},{},{:.4f},{:.4f},{:.4f},{},{}\n", s.wall, s.t, c.component, c.power_w, c.energy_j,
                       c.process_energy_j, c.utilization >= 0 ? fmt::format("{:.4f}", c.utilization) : "",
                       MethodName(c.method));
  }
  return out;
}

std::string PrometheusText(const Report& r, const CarbonSource& c) {
  std::string out;
  out += "# HELP greenai_energy_joules_total Energy used since the monitor started, per component.\n";
  out += "# TYPE greenai_energy_joules_total counter\n";
  for (const auto& cr : r.components) {
    out += fmt::format("greenai_energy_joules_total{{component=\"{}\",method=\"{}\"}} {:.6f}\n", cr.component,
                       Label(cr), cr.energy_j);
  }
  out += "# HELP greenai_power_watts Mean power over the last sampling interval, per component.\n";
  out += "# TYPE greenai_power_watts gauge\n";
  for (const auto& cr : r.components) {
    out += fmt::format("greenai_power_watts{{component=\"{}\",method=\"{}\"}} {:.6f}\n", cr.component, Label(cr),
                       cr.last_w);
  }
  out += "# HELP greenai_emissions_grams_total CO2e emitted since the monitor started (PUE applied).\n";
  out += "# TYPE greenai_emissions_grams_total counter\n";
  out += fmt::format("greenai_emissions_grams_total{{method=\"{}\"}} {:.9f}\n",
                     r.any_estimated ? "estimated" : "measured", c.Grams(r.total_j, r.start_wall, r.end_wall));
  out += "# HELP greenai_carbon_intensity_grams_per_kwh Grid carbon intensity in use.\n";
  out += "# TYPE greenai_carbon_intensity_grams_per_kwh gauge\n";
  out += fmt::format("greenai_carbon_intensity_grams_per_kwh {:.3f}\n", c.MeanIntensity(r.end_wall, r.end_wall));
  return out;
}

}  // namespace greenai::energy
