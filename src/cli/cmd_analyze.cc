// greenai analyze MODEL [--hardware NAME] [--batch N] [--json] [--top K] [--calibrate]
// Static cost of one inference, per node and in total (analyze/cost_model.h), with roofline
// time and energy predicted for a hardware profile (analyze/hardware.h). Every time and energy
// figure is labelled a prediction. --calibrate measures this machine into the "local" profile
// (analyze/calibrate.h) and, with a MODEL, analyzes it on that profile.
// A node whose shapes cannot be inferred is reported by name and the rest is still analyzed
// (exit code 0); load errors and unknown profiles exit 1.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>

#include <nlohmann/json.hpp>

#include "analyze/calibrate.h"
#include "analyze/cost_model.h"
#include "analyze/hardware.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "graph/onnx_io.h"

namespace greenai::cli {

namespace {

using namespace greenai::analyze;

struct AnalyzeArgs {
  std::string model;
  std::string hardware;
  int64_t batch = 1;
  bool json = false;
  int top = 0;
  bool calibrate = false;
};

std::string ShapeText(const NodeCostReport& n) {
  if (!n.output.has_shape) return "?";
  std::string s = "[";
  for (size_t i = 0; i < n.output.dims.size(); ++i)
    s += (i ? "," : "") + (n.output.dims[i] < 0 ? std::string("?") : std::to_string(n.output.dims[i]));
  return s + "]";
}

nlohmann::ordered_json ShapeJson(const TensorType& t) {
  if (!t.has_shape) return nullptr;
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (int64_t d : t.dims) a.push_back(d < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d));
  return a;
}

std::string TimeText(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3f} us", s * 1e6);
  return fmt::format("{:.1f} ns", s * 1e9);
}

std::string EnergyText(double j) {
  if (j >= 1) return fmt::format("{:.3f} J", j);
  if (j >= 1e-3) return fmt::format("{:.3f} mJ", j * 1e3);
  if (j >= 1e-6) return fmt::format("{:.3f} uJ", j * 1e6);
  return fmt::format("{:.3f} nJ", j * 1e9);
}

void ProgressBar(std::string_view stage, double f) {
  const int width = 30, filled = static_cast<int>(f * width + 0.5);
  std::fprintf(stderr, "\rcalibrating [%s%s] %3.0f%% %-5.*s", std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(width - filled), '.').c_str(), f * 100, static_cast<int>(stage.size()),
               stage.data());
  if (f >= 1) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

int RunCalibrate(const AnalyzeArgs& a) {
  CalibrationOptions o;
  o.progress = ProgressBar;
  auto p = Calibrate(o);
  if (!p.ok()) return Fail("analyze", p.status());
  const std::string dir = DefaultConfigDir();
  if (Status st = WriteLocalProfile(*p, dir); !st.ok()) return Fail("analyze", st);
  std::fprintf(stderr, "local profile: peak f32 %.1f GFLOP/s, copy bandwidth %.1f GB/s, TDP %.1f W -> %s/local.json\n",
               p->peak_flops_f32 / 1e9, p->bandwidth / 1e9, p->tdp_w, dir.c_str());
  if (a.model.empty() && a.json) std::printf("%s", ProfileToJson(*p).c_str());
  return 0;
}

int RunAnalyze(AnalyzeArgs a) {
  if (a.calibrate) {
    if (int rc = RunCalibrate(a); rc != 0) return rc;
    if (a.model.empty()) return 0;
    if (a.hardware.empty()) a.hardware = "local";
  }
  if (a.model.empty()) return Fail("analyze", "MODEL is required (or pass --calibrate alone)");
  if (a.top < 0) return Fail("analyze", fmt::format("--top {} must be >= 0", a.top));
  const std::string config_dir = DefaultConfigDir();
  if (a.hardware.empty()) {
    a.hardware = "local";
    if (!FindProfile("local", config_dir).ok()) {
      a.hardware = "horowitz-45nm";
      std::fprintf(stderr, "greenai analyze: no local profile (run `greenai analyze --calibrate`); using %s\n",
                   a.hardware.c_str());
    }
  }
  auto profile = FindProfile(a.hardware, config_dir);
  if (!profile.ok()) return Fail("analyze", profile.status());
  auto model = LoadModel(a.model);
  if (!model.ok()) return Fail("analyze", model.status());
  auto rep = AnalyzeModel(**model, {.batch = a.batch});
  if (!rep.ok()) return Fail("analyze", rep.status());
  const ModelCostReport& r = *rep;
  const ModelPrediction pred = Predict(*profile, r);

  std::vector<size_t> order(r.nodes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return r.nodes[x].flops > r.nodes[y].flops; });
  if (a.top > 0 && order.size() > static_cast<size_t>(a.top)) order.resize(static_cast<size_t>(a.top));

  if (a.json) {
    nlohmann::ordered_json j;
    j["model"] = a.model;
    j["batch"] = r.batch;
    j["batch_substituted"] = r.batch_substituted;
    j["hardware"] = nlohmann::ordered_json::parse(ProfileToJson(*profile));
    j["prediction_method"] = pred.method;
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (size_t i : order) {
      const auto& n = r.nodes[i];
      const auto& p = pred.nodes[i];
      nlohmann::ordered_json o;
      o["name"] = n.name;
      o["op"] = n.domain.empty() || n.domain == "ai.onnx" ? n.op_type : n.domain + "::" + n.op_type;
      o["output_shape"] = ShapeJson(n.output);
      o["dtype"] = std::string(DTypeName(n.compute_dtype));
      o["macs"] = n.macs;
      o["flops"] = n.flops;
      o["params"] = n.params;
      o["param_bytes"] = n.param_bytes;
      o["bytes_read"] = n.bytes_read;
      o["bytes_written"] = n.bytes_written;
      o["intensity_flop_per_byte"] = n.intensity();
      o["bound"] = p.bound.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(p.bound);
      o["predicted_time_s"] = pred.has_time ? nlohmann::ordered_json(p.time_s) : nlohmann::ordered_json(nullptr);
      o["predicted_energy_j"] = pred.has_energy ? nlohmann::ordered_json(p.energy_j) : nlohmann::ordered_json(nullptr);
      o["shapes_known"] = n.known;
      if (!n.error.empty()) o["error"] = n.error;
      nodes.push_back(std::move(o));
    }
    j["nodes"] = nodes;
    nlohmann::ordered_json t;
    t["node_count"] = r.nodes.size();
    t["macs"] = r.macs;
    t["flops"] = r.flops;
    t["params"] = r.params;
    t["param_bytes"] = r.param_bytes;
    t["activation_bytes"] = r.activation_bytes;
    t["bytes_read"] = r.bytes_read;
    t["bytes_written"] = r.bytes_written;
    t["intensity_flop_per_byte"] = r.intensity();
    t["predicted_time_s"] = pred.has_time ? nlohmann::ordered_json(pred.time_s) : nlohmann::ordered_json(nullptr);
    t["predicted_energy_j"] = pred.has_energy ? nlohmann::ordered_json(pred.energy_j) : nlohmann::ordered_json(nullptr);
    j["totals"] = t;
    j["inference_errors"] = r.inference_errors;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf("model: %s   batch: %lld%s   hardware: %s (%s)\n", a.model.c_str(), static_cast<long long>(r.batch),
              r.batch_substituted ? "" : " (no dynamic batch dim; model shapes used)", profile->name.c_str(),
              profile->description.c_str());
  size_t wn = 4, wo = 2, ws = 12;
  for (size_t i : order) {
    wn = std::max(wn, r.nodes[i].name.size());
    wo = std::max(wo, r.nodes[i].op_type.size());
    ws = std::max(ws, ShapeText(r.nodes[i]).size());
  }
  const std::string total_label = fmt::format("total ({} nodes)", r.nodes.size());
  wn = std::max(std::min<size_t>(wn, 40), total_label.size());
  const int n_ = static_cast<int>(wn), o_ = static_cast<int>(wo), s_ = static_cast<int>(ws);
  std::printf("%-*s  %-*s  %-*s  %12s  %12s  %10s  %10s  %8s  %-7s  %12s\n", n_, "node", o_, "op", s_, "output shape",
              "MACs (M)", "FLOPs (M)", "params (k)", "bytes (KiB)", "FLOP/B", "bound", "time (pred.)");
  auto row = [&](const std::string& name, const std::string& op, const std::string& shape, double macs, double flops,
                 double params, double bytes, double intensity, const std::string& bound, const std::string& time) {
    std::printf("%-*s  %-*s  %-*s  %12.3f  %12.3f  %10.3f  %10.1f  %8.2f  %-7s  %12s\n", n_,
                name.substr(0, wn).c_str(), o_, op.c_str(), s_, shape.c_str(), macs / 1e6, flops / 1e6, params / 1e3,
                bytes / 1024, intensity, bound.c_str(), time.c_str());
  };
  for (size_t i : order) {
    const auto& n = r.nodes[i];
    row(n.name, n.op_type, ShapeText(n), n.macs, n.flops, n.params, n.bytes(), n.intensity(),
        pred.nodes[i].bound.empty() ? "-" : pred.nodes[i].bound, pred.has_time ? TimeText(pred.nodes[i].time_s) : "-");
  }
  if (order.size() < r.nodes.size())
    std::printf("(%zu of %zu nodes shown, by FLOPs; --top 0 shows all)\n", order.size(), r.nodes.size());
  row(total_label, "", "", r.macs, r.flops, r.params, r.bytes(), r.intensity(), "",
      pred.has_time ? TimeText(pred.time_s) : "-");

  std::printf("\ntotals per inference (batch %lld):\n", static_cast<long long>(r.batch));
  std::printf("  compute:      %.4f GMACs, %.4f GFLOPs\n", r.macs / 1e9, r.flops / 1e9);
  std::printf("  parameters:   %.0f (%.3f MB)\n", r.params, r.param_bytes / 1e6);
  std::printf("  activations:  %.3f MB\n", r.activation_bytes / 1e6);
  std::printf("  memory moved: %.3f MB (intensity %.2f FLOP/byte)\n", r.bytes() / 1e6, r.intensity());
  if (pred.has_time) std::printf("  predicted time:   %.4f ms per inference on %s\n", pred.time_s * 1e3, profile->name.c_str());
  if (pred.has_energy)
    std::printf("  predicted energy: %s per inference on %s\n", EnergyText(pred.energy_j).c_str(), profile->name.c_str());
  std::printf("  method: %s\n", pred.method.c_str());
  std::printf("  profile source: %s\n", profile->source.c_str());
  if (!r.inference_errors.empty() || std::any_of(r.nodes.begin(), r.nodes.end(), [](auto& n) { return !n.known; })) {
    size_t unknown = 0;
    for (const auto& n : r.nodes) unknown += !n.known;
    std::printf("\nincomplete: %zu node(s) with unknown shapes are counted as 0 where their cost is unknown:\n",
                unknown);
    for (const auto& e : r.inference_errors) std::printf("  %s\n", e.c_str());
  }
  return 0;
}

}  // namespace

void RegisterAnalyze(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<AnalyzeArgs>();
  auto* sub = app.add_subcommand("analyze", "Static cost of a model: MACs, FLOPs, bytes, predicted roofline time and energy");
  sub->add_option("model", args->model, "ONNX model file");
  sub->add_option("--hardware", args->hardware,
                  "hardware profile (default: local if calibrated, else horowitz-45nm); an unknown name lists them");
  sub->add_option("--batch", args->batch, "value for a dynamic batch dimension (default 1)");
  sub->add_flag("--json", args->json, "print one JSON object on stdout");
  sub->add_option("--top", args->top, "show only the K nodes with the most FLOPs (0 = all)");
  sub->add_flag("--calibrate", args->calibrate,
                "measure this machine's peak f32 FLOP/s and memory bandwidth into the 'local' profile");
  sub->callback([args, exit_code] { *exit_code = RunAnalyze(*args); });
}

}  // namespace greenai::cli
