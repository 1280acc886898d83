#include "bench/report.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/svg.h"
#include "core/file_util.h"
#include "energy/carbon.h"

namespace greenai::bench {

namespace {

using Json = nlohmann::ordered_json;

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

Json Num(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

std::string Pct(double fraction) { return fmt::format("{:.2f} %", fraction * 100); }

std::string Ms(double ms) { return ms >= 100 ? fmt::format("{:.1f} ms", ms) : fmt::format("{:.3f} ms", ms); }

// The unit the energy axis uses: the largest of J, mJ, uJ that keeps the biggest value >= 1.
std::pair<double, const char*> EnergyScale(const std::vector<ModelResult>& ms) {
  double hi = 0;
  for (const auto& m : ms)
    if (std::isfinite(m.headline_j_per_inference)) hi = std::max(hi, std::fabs(m.headline_j_per_inference));
  if (hi >= 1 || hi == 0) return {1.0, "J"};
  if (hi >= 1e-3) return {1e3, "mJ"};
  return {1e6, "uJ"};
}

constexpr const char* kStyle = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.est{color:#a04000;font-weight:bold}.meas{color:#1b7e3b;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:16px}.note{color:#555;font-size:13px}
dl.method dt{font-weight:bold;margin-top:8px}dl.method dd{margin-left:16px;font-size:14px})";

}  // namespace

std::string EnergyText(double j) {
  if (!std::isfinite(j)) return "n/a";
  const double a = std::fabs(j);
  if (a < 1e-12) return "0 J";  // rounding noise of a difference of equal energies
  if (a >= 1) return fmt::format("{:.3f} J", j);
  if (a >= 1e-3) return fmt::format("{:.3f} mJ", j * 1e3);
  if (a >= 1e-6) return fmt::format("{:.3f} uJ", j * 1e6);
  return fmt::format("{:.3f} nJ", j * 1e9);
}

std::string BytesText(double b) {
  if (b >= 1e6) return fmt::format("{:.2f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{:.0f} B", b);
}

std::string ReportCsv(const BenchReport& r) {
  std::string s =
      "model,path,file_size_bytes,top1_percent,samples,latency_batch,latency_p50_ms,latency_p99_ms,batch,"
      "throughput_inferences_per_s,window_s,inferences,loaded_energy_j,idle_power_w,gross_j_per_inference,"
      "net_j_per_inference,attributed_j_per_inference,headline_j_per_inference,headline_basis,energy_method,"
      "g_co2e_per_million_inferences,predicted_j_per_inference,prediction_profile\n";
  for (const auto& m : r.models) {
    s += fmt::format("{},{},{:.0f},{:.4f},{},{},{:.6f},{:.6f},{},{:.3f},{:.3f},{},{:.6f},{:.4f},{:.9g},{:.9g},{},{:.9g},{},{},{:.6g},{},{}\n",
                     CsvField(m.name), CsvField(m.path), m.file_bytes, m.top1 * 100, m.samples, m.latency_batch,
                     m.latency_p50_ms, m.latency_p99_ms, m.batch, m.throughput_per_s, m.window_s, m.inferences,
                     m.loaded_energy_j, r.idle.power_w, m.gross_j_per_inference, m.net_j_per_inference,
                     m.has_attributed ? fmt::format("{:.9g}", m.attributed_j_per_inference) : std::string(),
                     m.headline_j_per_inference, m.headline_basis, m.energy_method.method, m.g_co2e_per_million,
                     m.has_prediction ? fmt::format("{:.9g}", m.predicted_j_per_inference) : std::string(),
                     CsvField(m.prediction_profile));
  }
  return s;
}

std::string ReportJson(const BenchReport& r) {
  Json j;
  j["tool"] = "greenai bench";
  j["created"] = energy::FormatTimestamp(r.created_wall);
  j["data"] = r.data;
  j["machine"] = r.machine;
  j["requested"] = {{"batch", r.batch}, {"window_s", r.window_s}, {"normalized", r.normalized}};
  j["sensors"] = {{"summary", r.sensors}, {"notes", r.sensor_notes}};
  j["idle"] = {{"duration_s", Num(r.idle.duration_s)},
               {"energy_j", Num(r.idle.energy_j)},
               {"power_w", Num(r.idle.power_w)},
               {"method", r.idle.method.method},
               {"source", r.idle.method.source}};
  j["carbon"] = {{"source", r.carbon_label}, {"g_co2e_per_kwh", Num(r.carbon_g_per_kwh)}, {"pue", r.pue}};
  if (!r.carbon_warning.empty()) j["carbon"]["warning"] = r.carbon_warning;
  Json models = Json::array();
  for (const auto& m : r.models) {
    Json o;
    o["name"] = m.name;
    o["path"] = m.path;
    o["file_size_bytes"] = m.file_bytes;
    o["input"] = {{"name", m.input_name}, {"shape", m.input_shape}, {"fixed_batch", m.fixed_batch}};
    o["output"] = m.output_name;
    o["accuracy"] = {{"top1_percent", Num(m.top1 * 100)}, {"correct", m.correct}, {"samples", m.samples}};
    o["latency"] = {{"batch", m.latency_batch},
                    {"runs", m.latency_runs},
                    {"p50_ms", Num(m.latency_p50_ms)},
                    {"p99_ms", Num(m.latency_p99_ms)},
                    {"mean_ms", Num(m.latency_mean_ms)}};
    o["throughput"] = {{"batch", m.batch}, {"inferences_per_s", Num(m.throughput_per_s)}};
    o["energy"] = {{"window_s", Num(m.window_s)},
                   {"inferences", m.inferences},
                   {"loaded_energy_j", Num(m.loaded_energy_j)},
                   {"idle_power_w", Num(r.idle.power_w)},
                   {"gross_j_per_inference", Num(m.gross_j_per_inference)},
                   {"net_j_per_inference", Num(m.net_j_per_inference)},
                   {"attributed_j_per_inference", m.has_attributed ? Num(m.attributed_j_per_inference) : Json(nullptr)},
                   {"headline_j_per_inference", Num(m.headline_j_per_inference)},
                   {"headline_basis", m.headline_basis},
                   {"method", m.energy_method.method},
                   {"source", m.energy_method.source}};
    o["carbon"] = {{"g_co2e_per_million_inferences", Num(m.g_co2e_per_million)},
                   {"g_co2e_per_million_inferences_gross", Num(m.g_co2e_per_million_gross)},
                   {"method", m.energy_method.method}};
    o["predicted"] = m.has_prediction
                         ? Json{{"j_per_inference", Num(m.predicted_j_per_inference)},
                                {"profile", m.prediction_profile},
                                {"method", m.prediction_method.rfind("predicted", 0) == 0 ? m.prediction_method : "predicted: " + m.prediction_method}}
                         : Json(nullptr);
    o["notes"] = m.notes;
    models.push_back(std::move(o));
  }
  j["models"] = std::move(models);
  return j.dump(2) + "\n";
}

std::string ReportHtml(const BenchReport& r) {
  const auto [scale, unit] = EnergyScale(r.models);
  bool any_estimated = r.idle.method.method != "measured";
  for (const auto& m : r.models) any_estimated = any_estimated || m.energy_method.method != "measured";
  const std::string label = any_estimated ? "estimated" : "measured";
  const std::string cls = any_estimated ? "est" : "meas";

  const std::string basis =
      !r.models.empty() && r.models[0].headline_basis == "process-attributed" ? "process-attributed" : "net";
  std::vector<ScatterPoint> pts;
  std::vector<Bar> sizes, lat;
  for (const auto& m : r.models) {
    pts.push_back({m.name, m.headline_j_per_inference * scale, m.top1 * 100});
    sizes.push_back({m.name, m.file_bytes / 1e6});
    lat.push_back({m.name, m.latency_p50_ms});
  }
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>greenai bench report</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<h1>greenai bench report</h1>\n";
  h += fmt::format("<p class=\"note\">{} · data: {} · machine: {} · sensors: {}</p>\n",
                   XmlEscape(energy::FormatTimestamp(r.created_wall) + " UTC"), XmlEscape(r.data), XmlEscape(r.machine),
                   XmlEscape(r.sensors));
  h += fmt::format(
      "<p>Energy figures below are <span class=\"{}\" id=\"energy-label\">{}</span>: {}.</p>\n", cls, label,
      any_estimated ? "at least one sensor is a model, not a hardware counter (see Method)"
                    : "every component was read from hardware counters");
  h += "<div class=\"charts\">\n<div id=\"pareto\">\n";
  h += ScatterSvg(pts, {.title = fmt::format("Accuracy vs energy per inference ({})", label),
                        .x_label = fmt::format("{} energy per inference ({}, {})", basis, unit, label),
                        .y_label = "top-1 accuracy (%)"});
  h += "</div>\n<div id=\"size\">\n";
  h += BarsSvg(sizes, {.title = "Model file size", .unit = "MB"});
  h += "</div>\n<div id=\"latency\">\n";
  h += BarsSvg(lat, {.title = "Latency p50 at batch 1", .unit = "ms"});
  h += "</div>\n</div>\n";

  h += "<h2>Results</h2>\n<table id=\"results\">\n<thead><tr><th class=\"l\">model</th><th>top-1</th><th>latency p50</th>"
       "<th>latency p99</th><th>throughput</th><th>J / inference (net)</th><th>J / inference (gross)</th>"
       "<th>J / inference (attributed)</th>"
       "<th>gCO2e / 1M inferences</th><th>predicted J / inference</th><th>file size</th><th class=\"l\">energy method</th>"
       "</tr></thead>\n<tbody>\n";
  for (const auto& m : r.models) {
    h += fmt::format(
        "<tr class=\"model-row\" data-model=\"{}\"><td class=\"l\">{}</td><td>{}</td><td>{}{}</td><td>{}</td>"
        "<td>{:.1f} /s (batch {})</td><td>{}</td><td>{}</td><td>{}</td><td>{:.4g} g</td><td>{}</td><td>{}</td>"
        "<td class=\"l\"><span class=\"{}\">{}</span></td></tr>\n",
        XmlEscape(m.name), XmlEscape(m.name), Pct(m.top1), Ms(m.latency_p50_ms),
        m.latency_batch != 1 ? fmt::format(" (batch {})", m.latency_batch) : std::string(), Ms(m.latency_p99_ms),
        m.throughput_per_s, m.batch, EnergyText(m.net_j_per_inference), EnergyText(m.gross_j_per_inference),
        m.has_attributed ? EnergyText(m.attributed_j_per_inference) : std::string("n/a"), m.g_co2e_per_million,
        m.has_prediction ? EnergyText(m.predicted_j_per_inference) + " (" + XmlEscape(m.prediction_profile) + ")"
                         : std::string("n/a"),
        BytesText(m.file_bytes), m.energy_method.method == "measured" ? "meas" : "est",
        XmlEscape(m.energy_method.method));
  }
  h += "</tbody>\n</table>\n";
  for (const auto& m : r.models)
    for (const auto& n : m.notes) h += fmt::format("<p class=\"note\">{}: {}</p>\n", XmlEscape(m.name), XmlEscape(n));

  h += "<h2>Method</h2>\n<dl class=\"method\" id=\"method\">\n";
  h += fmt::format("<dt>top-1 accuracy (%)</dt><dd>Share of the samples ({}) whose highest output score is the label. "
                   "Inputs: pixels scaled to [0, 1]{}.</dd>\n",
                   XmlEscape(r.data),
                   r.normalized ? fmt::format(", then normalized with mean {} and std {}", kInputMean, kInputStd)
                                : std::string(" (not normalized, as greenai train feeds them)"));
  h += "<dt>latency p50 / p99 (ms)</dt><dd>Wall time of one run at batch 1 (or the model's fixed batch), after "
       "warm-up runs; nearest-rank percentiles over the timed runs.</dd>\n";
  h += "<dt>throughput (inferences/s)</dt><dd>Inferences completed per second during the loaded energy window, "
       "batches run back to back.</dd>\n";
  h += fmt::format(
      "<dt>idle power (W, <span class=\"{}\">{}</span>)</dt><dd>{:.3f} W over a {:.1f} s window with no work "
      "({:.3f} J). Source: {}.</dd>\n",
      r.idle.method.method == "measured" ? "meas" : "est", XmlEscape(r.idle.method.method), r.idle.power_w,
      r.idle.duration_s, r.idle.energy_j, XmlEscape(r.idle.method.source));
  h += fmt::format(
      "<dt>energy per inference (J, <span class=\"{}\">{}</span>)</dt><dd>A loaded window of at least {:.1f} s per "
      "model. gross = window energy / inferences; net = (window energy - idle power x window time) / inferences, "
      "the energy the inferences added; attributed = the window energy times this process's share of the "
      "machine's busy CPU time. The chart and the carbon figures use {}.{} Per-model sources:<ul>",
      cls, label, r.window_s, basis,
      r.headline_note.empty() ? std::string()
                              : " <span class=\"note\" id=\"headline-note\">" + XmlEscape(r.headline_note) + ".</span>");
  for (const auto& m : r.models)
    h += fmt::format("<li>{}: {} — {}</li>", XmlEscape(m.name), XmlEscape(m.energy_method.method),
                     XmlEscape(m.energy_method.source));
  h += "</ul></dd>\n";
  h += fmt::format(
      "<dt>gCO2e per million inferences (<span class=\"{}\">{}</span>)</dt><dd>{} J x 10^6 / 3.6e6 J/kWh x {:.1f} "
      "gCO2e/kWh ({}) x PUE {:.2f}.{}</dd>\n",
      cls, label, basis, r.carbon_g_per_kwh, XmlEscape(r.carbon_label), r.pue,
      r.carbon_warning.empty() ? std::string() : " " + XmlEscape(r.carbon_warning));
  std::string pm;
  for (const auto& m : r.models)
    if (m.has_prediction) {
      pm = m.prediction_method;
      break;
    }
  h += fmt::format(
      "<dt>predicted J / inference (predicted)</dt><dd>Static cost model (greenai analyze) at the throughput "
      "batch, divided by the batch: {}.</dd>\n",
      pm.empty() ? std::string("not available") : XmlEscape(pm));
  h += "<dt>file size (MB)</dt><dd>Size of the ONNX file on disk, 10^6 bytes per MB.</dd>\n";
  for (const auto& n : r.sensor_notes) h += fmt::format("<dt>sensor note</dt><dd>{}</dd>\n", XmlEscape(n));
  h += "</dl>\n</body>\n</html>\n";
  return h;
}

Status WriteReport(const BenchReport& r, const std::string& dir, bool force) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!force) return FailedPrecondition("report folder '{}' exists (pass --force to overwrite its report files)", dir);
    if (!fs::is_directory(dir, ec)) return InvalidArgument("report path '{}' exists and is not a folder", dir);
  } else {
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create report folder '{}': {}", dir, ec.message());
  }
  GREENAI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/results.csv", ReportCsv(r)));
  GREENAI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/results.json", ReportJson(r)));
  GREENAI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/report.html", ReportHtml(r)));
  return Status::Ok();
}

}  // namespace greenai::bench
